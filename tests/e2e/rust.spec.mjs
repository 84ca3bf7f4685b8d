// The Rust driver (authpulse::web, cargo feature "web") in Chromium against the reference server:
// examples/rust-app, built here with cargo and wasm-bindgen --target web, in a tab beside the npm
// package's test app. Both drivers speak one tab protocol (BroadcastChannel messages and Web Lock
// names), so a JS-driver tab and a Rust-driver tab of the same app share one session.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { test, expect, T0, SECOND, MINUTE, App } from "./support/harness.mjs";
import { ROOT } from "./support/server.mjs";

const WASM = join(ROOT, "target", "rust-app", "wasm");
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm" };

const renewalsIn = (log) => log.requests.filter((r) => r.path === "/auth/renew");
const summary = (r) => `${r.method} ${r.path} token=${r.token} → ${r.status}`;

test.beforeAll(() => {
  // A debug build: the test needs the driver, not the size (docs/RUST.md reports the release).
  test.setTimeout(15 * 60_000);
  const target = "wasm32-unknown-unknown";
  execFileSync("cargo", ["build", "--quiet", "-p", "authpulse-rust-app", "--target", target], { cwd: ROOT, stdio: "inherit" });
  const module = join(ROOT, "target", target, "debug", "authpulse_rust_app.wasm");
  execFileSync("wasm-bindgen", ["--target", "web", "--out-dir", WASM, module], { cwd: ROOT, stdio: "inherit" });
});

/** A tab of the Rust app in the browser context of `app` (same origin, same fake clock). */
async function openRustTab(app, server) {
  const page = await app.page.context().newPage();
  await page.route(`${server.url}/rust-app/wasm/**`, async (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.slice("/rust-app/wasm/".length));
    const file = normalize(join(WASM, name));
    if (!file.startsWith(WASM)) return route.fulfill({ status: 404, body: "not found" });
    try {
      return route.fulfill({ contentType: TYPES[extname(file)] ?? "application/octet-stream", body: await readFile(file) });
    } catch {
      return route.fulfill({ status: 404, body: "not found" });
    }
  });
  const tab = new App(page, server);
  tab.now = app.now;
  expect(await tab.open({ clock: false, path: "/rust-app.html" }), "the Rust app loads").toEqual([]);
  return tab;
}

/**
 * Both clocks forward by `ms` in steps, every tab's timers firing (Playwright's clock is the
 * context's: one run moves all tabs), then every tab's network left to settle.
 */
async function advance(server, tabs, ms, step = 10 * SECOND) {
  for (let left = ms; left > 0; left -= step) {
    const delta = Math.min(step, left);
    await server.setClock(tabs[0].now + delta);
    await tabs[0].page.clock.runFor(delta);
    for (const tab of tabs) tab.now += delta;
    for (const tab of tabs) await tab.settle();
    for (const tab of tabs) await tab.settle();
  }
}

async function withTrace(tab, name, body) {
  try {
    await body();
  } catch (error) {
    console.log(`\n---- the ${name} tab's trace ----\n${await tab.trace()}\n----`);
    throw error;
  } finally {
    await tab.page.close();
  }
}

test("R1. a JS tab and a Rust tab share one session: input in the Rust tab keeps both signed in on one renewal per token; logout there signs out the JS tab", async ({ app, server }) => {
  const rust = await openRustTab(app, server);
  await withTrace(rust, "Rust", async () => {
    await app.create();
    await rust.create();
    expect(await rust.state()).toBe("signedOut");
    await app.login("alice");
    await rust.settle();
    expect(await rust.state(), "a sign-in in the JS tab signs in the Rust tab").toBe("active");
    expect((await rust.fetch("/api/me")).status, "with the JS tab's token").toBe(200);

    // 20 minutes of real input in the Rust tab only; the JS tab calls the API now and then.
    // Steps of 10 s, as in tabs.spec.mjs: Playwright runs the pages' clocks one after the other,
    // so within a step one tab can be a step behind the other, and a tab dates the other's
    // messages by its own clock (rule 12).
    test.setTimeout(240_000);
    const failures = [];
    for (let minute = 1; minute <= 20; minute++) {
      await advance(server, [app, rust], MINUTE);
      await rust.userInput(minute % 2 ? "pointer" : "key");
      if (minute % 5 === 0) {
        const res = await app.fetch("/api/me");
        if (res.status !== 200) failures.push({ minute, ...res });
      }
    }
    expect(failures, "the quiet JS tab's API calls all succeed").toEqual([]);
    for (const tab of [app, rust]) {
      const events = await tab.events();
      expect(events.filter((e) => ["expired", "idlewarning", "error"].includes(e.type))).toEqual([]);
      expect(await tab.state()).toBe("active");
    }
    const renewals = renewalsIn(await server.log());
    expect(renewals.filter((r) => r.status !== 200).map(summary)).toEqual([]);
    // One schedule for both tabs: a token every (5 min − 1 min) from the login, one request each.
    expect(renewals.map((r) => (r.atMs - T0) / MINUTE)).toEqual([4, 8, 12, 16, 20]);
    expect((await rust.events("renewed")).length, "the Rust tab took every token").toBe(renewals.length + 1);
    expect((await app.events("renewed")).length, "and the JS tab too").toBe(renewals.length + 1);
    expect((await rust.fetch("/api/me")).status).toBe(200);

    // Sign-out in the Rust tab is sign-out in the JS tab, at once.
    await rust.run(() => window.rustApp.logout());
    await app.settle();
    expect((await rust.events("expired")).map((e) => [e.at, e.detail.reason])).toEqual([[rust.now, "logout"]]);
    expect((await app.events("expired")).map((e) => [e.at, e.detail.reason])).toEqual([[app.now, "remote"]]);
    expect(await app.state()).toBe("expired");
    const res = await app.fetch("/api/me");
    expect(res.status).toBe(401);
    expect((await server.log()).requests.at(-1)).toMatchObject({ path: "/api/me", bearer: false });
  });
});

test("R2. a JS tab opened after the Rust tab signed in joins through start() with no renewal; no input: both warned at 14 min, signed out at 15", async ({ app, server }) => {
  test.setTimeout(120_000); // 16 minutes of two tabs, the Rust one a debug build
  const rust = await openRustTab(app, server);
  await withTrace(rust, "Rust", async () => {
    await rust.create();
    await rust.login("alice");
    await advance(server, [app, rust], MINUTE);
    await server.clearLog();
    await app.create();
    expect(await app.start(), "the JS tab joins the Rust tab's session").toBe(true);
    expect((await app.fetch("/api/me")).status).toBe(200);
    const requests = (await server.log()).requests.filter((r) => r.path.startsWith("/auth/") || r.path.startsWith("/api/"));
    expect(requests.map(summary)).toEqual([
      "GET /api/me token=valid → 200",
    ]);

    await advance(server, [app, rust], 15 * MINUTE, 30 * SECOND);
    for (const tab of [app, rust]) {
      expect((await tab.events("idlewarning")).map((e) => e.at)).toEqual([T0 + 14 * MINUTE]);
      expect((await tab.events("expired")).map((e) => [e.at, e.detail.reason])).toEqual([[T0 + 15 * MINUTE, "idle"]]);
      expect(await tab.state()).toBe("expired");
    }
    expect(renewalsIn(await server.log()), "an idle user is never renewed").toEqual([]);
  });
});

test("R3. the Rust tab alone: a 401 is retried once with a new token through fetch and reqwest; a 403 is returned untouched", async ({ app, server }) => {
  const rust = await openRustTab(app, server);
  await withTrace(rust, "Rust", async () => {
    await rust.create();
    await rust.login("alice");
    await advance(server, [app, rust], MINUTE);
    await rust.userInput();
    for (const [i, call] of ["fetch", "send"].entries()) {
      // The server's clock runs ahead (past the last token's expiry): the client still trusts its
      // token, the server does not.
      await server.setClock(rust.now + 5 * MINUTE * (i + 1));
      await server.clearLog();
      const res = await rust.run((how) => window.app[how]("/api/me"), call);
      expect(res.status, call).toBe(200);
      expect(res.body.username, call).toBe("alice");
      expect((await server.log()).requests.map(summary), call).toEqual([
        "GET /api/me token=expired → 401",
        "POST /auth/renew token=none → 200",
        "GET /api/me token=valid → 200",
      ]);
      await server.setClock(rust.now);
      await advance(server, [app, rust], MINUTE);
      await rust.userInput();
    }

    await rust.run(() => window.rustApp.logout());
    await rust.create();
    await rust.login("bob");
    await server.clearLog();
    for (const call of ["fetch", "send"]) {
      const res = await rust.run((how) => window.app[how]("/api/admin"), call);
      expect(res.status, call).toBe(403);
    }
    expect((await server.log()).requests.map(summary)).toEqual([
      "GET /api/admin token=valid → 403",
      "GET /api/admin token=valid → 403",
    ]);
    expect(await rust.state()).toBe("active");
  });
});

test("R4. the Rust tab alone: real input in a same-origin frame loaded after the client counts, as in the page", async ({ app, server }) => {
  test.setTimeout(120_000);
  const rust = await openRustTab(app, server);
  await withTrace(rust, "Rust", async () => {
    await rust.create();
    await rust.login("alice");
    // An editor's frame over the whole page: every mouse move lands in its document.
    await rust.run(() => new Promise((resolve) => {
      const frame = document.createElement("iframe");
      frame.srcdoc = "<!doctype html><body style='margin:0;height:100vh'>editor</body>";
      frame.style.cssText = "position:fixed;inset:0;width:100%;height:100%;border:0";
      frame.onload = resolve;
      document.body.append(frame);
    }));
    for (let minute = 1; minute <= 16; minute++) {
      await advance(server, [app, rust], MINUTE, 30 * SECOND);
      await rust.userInput("pointer"); // keys would go to the page's own document
    }
    const events = await rust.events();
    expect(events.filter((e) => ["expired", "idlewarning", "error"].includes(e.type))).toEqual([]);
    expect(await rust.state()).toBe("active");
    expect(renewalsIn(await server.log()).map((r) => (r.atMs - T0) / MINUTE)).toEqual([4, 8, 12, 16]);
  });
});
