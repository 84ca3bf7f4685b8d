// Two devices of one user (issue 13): two browser contexts, each its own cookie jar, clock and
// client, signed in as alice; the second one says it is Safari on an iPad. Revoking a device or
// changing the password from one signs the other out at its next request: 401, one renewal 401,
// `expired` with reason `session`, no token afterwards; the device that acted goes on. A user
// past the server's sign-in rule is signed out at the next renewal while active. Then the demo
// page (www/) does the same through its "Your devices" panel and "Change password" form, and
// leaves screenshots in target/screenshots/.
import { test, expect, T0, SECOND, MINUTE, App, tracePageNetwork } from "./support/harness.mjs";
import { startServer, ROOT } from "./support/server.mjs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const IPAD = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const NEW_PASSWORD = "correct horse battery";
const SHOTS = join(ROOT, "target", "screenshots");

const summary = (r) => `${r.method} ${r.path} token=${r.token} → ${r.status}`;

/**
 * The server's clock and each device's own browser clock (one per context) forward by `ms`, in
 * steps; each device's timers fire and its network settles at every step.
 */
async function advance(server, devices, ms, step = 10 * SECOND) {
  for (let left = ms; left > 0; left -= step) {
    const delta = Math.min(step, left);
    await server.setClock(devices[0].now + delta);
    for (const device of devices) {
      await device.page.clock.runFor(delta);
      device.now += delta;
    }
    for (const device of devices) await device.settle();
  }
}

/** The second device: a new browser context (its own cookies and clock) that says it is an iPad. */
async function openIpad(browser, server) {
  const context = await browser.newContext({ userAgent: IPAD });
  const ipad = new App(await context.newPage(), server);
  expect(await ipad.open(), "pkg/ loads on the iPad").toEqual([]);
  return ipad;
}

/** Requests the device's page sent after `since` (its own log), as "METHOD url [token?]". */
async function requestsAfter(device, since) {
  const log = await device.clientLog();
  return log
    .filter((e) => e.kind === "request" && e.at >= since)
    .map((e) => `${e.method} ${e.url} ${e.auth ? "with token" : "no token"}`);
}

/** Both devices signed in as alice, a minute apart; each one's view of the account. */
async function twoDevices(laptop, ipad, server) {
  await laptop.create();
  await ipad.create();
  await laptop.login("alice");
  await advance(server, [laptop, ipad], MINUTE);
  await ipad.login("alice");
  await advance(server, [laptop, ipad], MINUTE);
  const list = await laptop.fetch("/account/sessions");
  expect(list.status).toBe(200);
  expect(list.body.sessions.map((s) => [s.deviceName, s.current])).toEqual([
    ["Chrome on Linux", true],
    ["Safari on iPad", false],
  ]);
  const fromIpad = await ipad.fetch("/account/sessions");
  expect(fromIpad.body.sessions.map((s) => [s.deviceName, s.current])).toEqual([
    ["Safari on iPad", true],
    ["Chrome on Linux", false],
  ]);
  return list.body.sessions.find((s) => !s.current).id;
}

/**
 * What a signed-out device must show: its next call was 401 after one refused renewal, it
 * emitted `expired` (session) once, and for 10 more minutes of use it sends no token and asks
 * for no renewal, while the other device renews and calls the API with success.
 */
async function expectSignedOutWhileTheOtherGoesOn(server, signedOut, other) {
  await server.clearLog();
  const res = await signedOut.fetch("/api/me");
  expect(res.status).toBe(401);
  expect(res.wwwAuthenticate).toContain('error="invalid_token"');
  expect((await signedOut.events("expired")).map((e) => e.detail)).toEqual([{ reason: "session" }]);
  expect(await signedOut.state()).toBe("expired");
  expect((await server.log()).requests.map(summary)).toEqual([
    "GET /api/me token=revoked → 401",
    "POST /auth/renew token=none → 401",
  ]);

  const after = signedOut.now;
  await server.clearLog();
  const failures = [];
  for (let minute = 1; minute <= 10; minute++) {
    await advance(server, [other, signedOut], MINUTE);
    await other.userInput();
    await signedOut.userInput();
    const mine = await other.fetch("/api/me");
    if (mine.status !== 200) failures.push({ minute, ...mine });
    expect((await signedOut.fetch("/api/me")).status).toBe(401);
  }
  expect(failures, "the other device's calls all succeed").toEqual([]);
  expect(await other.state()).toBe("active");
  expect((await other.events("expired")).length).toBe(0);
  expect(await requestsAfter(signedOut, after + 1)).toEqual(Array(10).fill("GET /api/me no token"));
  const log = await server.log();
  const renewals = log.requests.filter((r) => r.path === "/auth/renew");
  expect(renewals.length, "the other device renews").toBeGreaterThanOrEqual(2);
  expect(renewals.map(summary).filter((s) => !s.endsWith("→ 200"))).toEqual([]);
  const api = log.requests.filter((r) => r.path === "/api/me").map((r) => `token=${r.token} → ${r.status}`);
  expect(api.filter((s) => s === "token=valid → 200")).toHaveLength(10);
  expect(api.filter((s) => s === "token=none → 401")).toHaveLength(10);
}

test("revoking device B from device A: B's next call 401, its renewal 401, expired (session), no token after; A goes on", async ({ app: laptop, server, browser }) => {
  const ipad = await openIpad(browser, server);
  try {
    const ipadId = await twoDevices(laptop, ipad, server);
    const revoked = await laptop.fetch(`/account/sessions/${ipadId}`, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    const left = await laptop.fetch("/account/sessions");
    expect(left.body.sessions.map((s) => s.deviceName)).toEqual(["Chrome on Linux"]);
    await expectSignedOutWhileTheOtherGoesOn(server, ipad, laptop);
  } catch (error) {
    console.log(`\n---- the iPad's trace ----\n${await ipad.trace()}\n----`);
    throw error;
  } finally {
    await ipad.page.context().close();
  }
});

test("a password change on device A signs B out the same way, and not A; the old password no longer signs in", async ({ app: laptop, server, browser }) => {
  const ipad = await openIpad(browser, server);
  try {
    await twoDevices(laptop, ipad, server);
    const changed = await laptop.fetch("/account/password", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ current_password: "alice", new_password: NEW_PASSWORD }),
    });
    expect(changed).toMatchObject({ status: 200, body: { changed: true, sessionsEnded: 1 } });
    await expectSignedOutWhileTheOtherGoesOn(server, ipad, laptop);

    const signIn = (password) =>
      ipad.run(async (p) => {
        const response = await fetch("/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "alice", password: p }),
        });
        return response.status;
      }, password);
    expect(await signIn("alice")).toBe(401);
    expect(await signIn(NEW_PASSWORD)).toBe(200);
  } catch (error) {
    console.log(`\n---- the iPad's trace ----\n${await ipad.trace()}\n----`);
    throw error;
  } finally {
    await ipad.page.context().close();
  }
});

test.describe("with a server whose sign-in rule is 30 minutes (the default is 72 h)", () => {
  test.use({ serverArgs: ["--max-auth-age-secs", "1800"] });

  test("an active user past the rule is signed out at the next renewal: 401 login_required, expired (session)", async ({ app, server }) => {
    const renewals = [];
    app.page.on("response", async (response) => {
      if (!response.url().endsWith("/auth/renew")) return;
      renewals.push({ status: response.status(), body: await response.json().catch(() => null) });
    });
    await app.create();
    await app.login("alice");
    for (let minute = 1; minute <= 34; minute++) {
      await app.advance(MINUTE, { step: MINUTE });
      await app.userInput(minute % 2 ? "pointer" : "key");
      if (minute % 5 === 0 && minute < 30) expect((await app.fetch("/api/me")).status).toBe(200);
    }
    const log = await server.log();
    const renew = log.requests.filter((r) => r.path === "/auth/renew");
    // Every 4 minutes while active; the one at 32 minutes is past the rule.
    expect(renew.map((r) => [(r.atMs - T0) / MINUTE, r.status])).toEqual([
      [4, 200], [8, 200], [12, 200], [16, 200], [20, 200], [24, 200], [28, 200], [32, 401],
    ]);
    expect(renewals.at(-1).body).toMatchObject({ error: "login_required" });
    expect(renewals.at(-1).body.error_description).toContain("0.5 h");
    const expired = await app.events("expired");
    expect(expired.map((e) => [e.at, e.detail.reason])).toEqual([[T0 + 32 * MINUTE, "session"]]);
    expect(await app.state()).toBe("expired");
    // Active, but signed out: no token, no renewal.
    const since = app.now;
    await app.advance(5 * MINUTE);
    await app.userInput();
    expect((await app.fetch("/api/me")).status).toBe(401);
    expect(await requestsAfter(app, since + 1)).toEqual(["GET /api/me no token"]);
  });
});

// ---- the demo page -------------------------------------------------------------------------

/** A device with the demo page, signed in as alice through its form. */
async function demoDevice(browser, server, options, password = "alice") {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(String(error)));
  await page.goto(server.url + "/");
  await signInOnDemo(page, password);
  return page;
}

async function signInOnDemo(page, password) {
  await page.locator("#signin-form input[name=password]").fill(password);
  await page.locator("#signin-form button[type=submit]").click();
  await expect(page.locator("#state")).toHaveText("active");
}

const deviceNames = (page) => page.locator("#device-list .device-name, #device-list .rename");

test("the demo: Your devices lists both, renames in place, revokes; Change password signs the other out", async ({ browser }) => {
  const server = await startServer(["--www", join(ROOT, "www"), "--access-token-secs", "60", "--idle-timeout-secs", "180"]);
  const pages = [];
  try {
    const laptop = await demoDevice(browser, server, {});
    pages.push(laptop);
    const ipad = await demoDevice(browser, server, { userAgent: IPAD });
    pages.push(ipad);

    await laptop.locator("#devices-refresh").click();
    await expect(deviceNames(laptop)).toHaveText(["Chrome on Linux", "Safari on iPad"]);
    await expect(laptop.locator("#device-list .device.current .this-device")).toHaveText("This device");
    await expect(laptop.locator("#device-list .device.current .revoke")).toHaveCount(0);
    await expect(ipad.locator("#device-list .device.current .device-name")).toHaveText("Safari on iPad");

    // Rename in place: click the name, type, Enter.
    await laptop.locator("#device-list .device:not(.current) .device-name").click();
    await laptop.locator("#device-list .rename").fill("Maryo's iPad");
    await laptop.locator("#device-list .rename").press("Enter");
    await expect(deviceNames(laptop)).toHaveText(["Chrome on Linux", "Maryo's iPad"]);
    await expect(laptop.locator("#timeline")).toContainText('"Safari on iPad" is now "Maryo\'s iPad"');
    await ipad.locator("#devices-refresh").click();
    await expect(ipad.locator("#device-list .device.current .device-name")).toHaveText("Maryo's iPad");

    // The chart has drawn the session so far: the sign-in's token, the API calls, the deadline.
    const counts = () => laptop.evaluate(() => {
      const n = (selector) => document.querySelectorAll(`#chart ${selector}`).length;
      return { tokens: n(".token"), requests: n(".request"), deadline: n(".deadline"), idle: n(".idle-window") };
    });
    await laptop.mouse.move(200, 200);
    await laptop.mouse.move(300, 220);
    await expect.poll(counts).toMatchObject({ tokens: 1, deadline: 1, idle: 1 });
    expect((await counts()).requests).toBeGreaterThanOrEqual(2);
    await expect.poll(() => laptop.locator("#chart .tick").count()).toBeGreaterThanOrEqual(1);

    mkdirSync(SHOTS, { recursive: true });
    await laptop.locator("#devices").screenshot({ path: join(SHOTS, "devices-panel.png") });
    await laptop.screenshot({ path: join(SHOTS, "demo-two-devices.png"), fullPage: true });

    // Revoke the iPad from the laptop; the iPad finds out at its next call.
    await server.clearLog();
    await laptop.locator("#device-list .device:not(.current) .revoke").click();
    await expect(deviceNames(laptop)).toHaveText(["Chrome on Linux"]);
    await expect(laptop.locator("#timeline")).toContainText("is signed out on the server");
    await ipad.locator("#call-api").click();
    await expect(ipad.locator("#signin")).toBeVisible();
    await expect(ipad.locator("#timeline")).toContainText("Tokens torn down (session)");
    await expect(ipad.locator("#timeline")).toContainText("401");
    // Its chart shows the 401, the refused renewal and the sign-out.
    await expect(ipad.locator("#chart .request.s401")).not.toHaveCount(0);
    await expect(ipad.locator("#chart .renewal.refused")).toHaveCount(1);
    await expect(ipad.locator("#chart .expired")).toHaveCount(1);
    await ipad.screenshot({ path: join(SHOTS, "demo-revoked-device.png"), fullPage: true });
    const afterRevoke = (await server.log()).requests;
    expect(afterRevoke.filter((r) => r.method === "DELETE").map((r) => `token=${r.token} → ${r.status}`)).toEqual(["token=valid → 204"]);
    // (The laptop may renew meanwhile, in real time: its renewals are 200.)
    expect(afterRevoke.filter((r) => r.path === "/api/me" || (r.path === "/auth/renew" && r.status !== 200)).map(summary)).toEqual([
      "GET /api/me token=revoked → 401",
      "POST /auth/renew token=none → 401",
    ]);

    // The iPad signs in again; the laptop changes the password: the iPad is signed out at its
    // next call, the laptop is not.
    await signInOnDemo(ipad, "alice");
    await laptop.locator("#devices-refresh").click();
    await expect(deviceNames(laptop)).toHaveCount(2);
    await laptop.locator("#password-form input[name=current]").fill("alice");
    await laptop.locator("#password-form input[name=new]").fill(NEW_PASSWORD);
    await laptop.locator("#password-form button[type=submit]").click();
    await expect(laptop.locator("#password-message")).toHaveText("Password changed. 1 other device signed out; this one stays signed in.");
    await expect(deviceNames(laptop)).toHaveText(["Chrome on Linux"]);
    await ipad.locator("#call-api").click();
    await expect(ipad.locator("#signin")).toBeVisible();
    await expect(ipad.locator("#timeline")).toContainText("Tokens torn down (session)");
    const hello = laptop.locator("#timeline li", { hasText: "200 hello alice" });
    const before = await hello.count();
    await laptop.locator("#call-api").click();
    await expect(hello).toHaveCount(before + 1);
    await expect(laptop.locator("#state")).toHaveText("active");

    // A wrong current password is refused on the form, and signs nobody out.
    await laptop.locator("#password-form input[name=current]").fill("alice");
    await laptop.locator("#password-form input[name=new]").fill("another password");
    await laptop.locator("#password-form button[type=submit]").click();
    await expect(laptop.locator("#password-message")).toHaveText("the current password is wrong");
    await expect(laptop.locator("#state")).toHaveText("active");

    // The old password no longer signs in on the iPad; the new one does.
    await ipad.locator("#signin-form input[name=password]").fill("alice");
    await ipad.locator("#signin-form button[type=submit]").click();
    await expect(ipad.locator("#signin-message")).toHaveText("unknown user or wrong password");
    await signInOnDemo(ipad, NEW_PASSWORD);

    // A long name without a break point wraps inside the panel and the timeline, not past them.
    const long = "W".repeat(64);
    await laptop.locator("#device-list .device.current .device-name").click();
    await laptop.locator("#device-list .rename").fill(long);
    await laptop.locator("#device-list .rename").press("Enter");
    await expect(laptop.locator("#device-list .device.current .device-name")).toHaveText(long);
    await expect(laptop.locator("#timeline")).toContainText(`is now "${long}"`);
    const overflow = await laptop.evaluate(() => {
      const main = document.querySelector("main").getBoundingClientRect();
      const right = (selector) => document.querySelector(selector).getBoundingClientRect().right;
      return {
        pageScrollsSideways: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        devicesWiderThanPage: right("#devices") > main.right + 0.5,
        nameOutsideItsPanel: right("#device-list .device.current .device-name") > right("#devices") + 0.5,
        timelineWiderThanPage: right("#timeline") > main.right + 0.5,
      };
    });
    expect(overflow).toEqual({ pageScrollsSideways: false, devicesWiderThanPage: false, nameOutsideItsPanel: false, timelineWiderThanPage: false });

    for (const page of pages) expect(page.errors).toEqual([]);
  } finally {
    for (const page of pages) await page.context().close();
    await server.stop();
  }
});

test("the demo's strip chart draws the session from the SDK's events: tokens, renewals, a 401 retry, input, the idle warning and sign-out", async ({ browser }) => {
  const server = await startServer(["--www", join(ROOT, "www"), "--access-token-secs", "60", "--idle-timeout-secs", "180"]);
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  try {
    // The demo page on the harness's clocks: the browser's fake one, the server's moved with it.
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    const demo = new App(page, server);
    await page.addInitScript(tracePageNetwork);
    await page.clock.install({ time: T0 - SECOND });
    await page.clock.pauseAt(T0);
    await server.setClock(T0);
    await page.goto(server.url + "/");
    await demo.settle();
    await page.locator("#signin-form button[type=submit]").click();
    await demo.settle();
    await demo.advance(SECOND); // the page redraws every 250 ms of its (paused) clock
    await expect(page.locator("#state")).toHaveText("active");

    // 4 minutes of use: input every 20 s, the API now and then, one 401 that the SDK answers
    // with a renewal and a retry (the server's answer is injected: no challenge, as a server
    // that restarted with a new key might answer).
    for (let step = 1; step <= 12; step++) {
      await demo.advance(20 * SECOND);
      await demo.userInput();
      if (step === 3) {
        await page.locator("#call-api").click();
        await demo.settle();
      }
      if (step === 8) {
        await server.fail({ path: "/api/me", status: 401, count: 1 });
        await page.locator("#call-api").click();
        await demo.settle();
      }
    }
    // Then nothing: the warning 150 s after the last input, the sign-out at 180 s.
    await demo.advance(2 * MINUTE + 25 * SECOND);
    const count = (selector) => page.locator(`#chart ${selector}`).count();
    const tokensReceived = Number(await page.locator("#renewals").textContent());
    const log = await server.log();
    const renewals = log.requests.filter((r) => r.path === "/auth/renew" && r.atMs > T0);
    expect(renewals.map((r) => r.status).every((s) => s === 200)).toBe(true);
    expect(tokensReceived, "the sign-in's token and one per renewal").toBe(renewals.length + 1);
    expect(await count(".token"), "a bar per token").toBe(tokensReceived);
    expect(await count(".renewal"), "a diamond per renewal").toBe(renewals.length);
    expect(await count(".request.s401"), "the one 401").toBe(1);
    const api = log.requests.filter((r) => r.path === "/api/me");
    expect(api.map((r) => r.status)).toEqual([...api.slice(0, -2).map(() => 200), 401, 200]);
    // A dot per API answer within the chart's window (the last 2 × 180 s): the devices panel's
    // own calls (it reloads after each renewal) are API calls too; the sign-in's are older.
    const shown = (r) => r.atMs >= demo.now - 360 * SECOND;
    const calls = log.requests.filter((r) => /^\/(api|account|demo)\//.test(r.path) && r.path !== "/demo/config");
    expect(calls.filter(shown).length).toBeGreaterThan(api.filter(shown).length);
    expect(calls.filter(shown).length).toBeLessThan(calls.length);
    expect(await count(".request"), "a dot per API answer").toBe(calls.filter(shown).length);
    expect(await count(".tick")).toBeGreaterThanOrEqual(10);
    expect(await count(".deadline")).toBe(1);
    expect(await count(".warning-mark")).toBe(0);
    mkdirSync(SHOTS, { recursive: true });
    await page.locator("#chart-card").screenshot({ path: join(SHOTS, "demo-chart.png") });

    await demo.advance(10 * SECOND);
    expect(await count(".warning-mark"), "the idle warning").toBe(1);
    await demo.advance(30 * SECOND);
    expect(await count(".expired")).toBe(1);
    await expect(page.locator("#timeline")).toContainText("Tokens torn down (idle)");
    expect(await count(".idle-window"), "no idle window once signed out").toBe(0);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
    await server.stop();
  }
});
