// crossTab (on by default): two tabs of the app in one browser, each with its own client, share
// activity, tokens and sign-out over BroadcastChannel, and take turns renewing under a Web Lock
// (the server's origin is 127.0.0.1, a secure context, so both APIs are there).
import { test, expect, T0, SECOND, MINUTE, App } from "./support/harness.mjs";

const renewalsIn = (log) => log.requests.filter((r) => r.path === "/auth/renew");
const summary = (r) => `${r.method} ${r.path} token=${r.token} → ${r.status}`;

/**
 * The browser's clock (one per browser context: both tabs see it) and the server's forward by
 * `ms`, in steps, every tab's timers firing, then the network of both tabs left to settle.
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

test("13. two tabs: input in one keeps both signed in on one renewal per token; logout in one signs out both", async ({ app, server }) => {
  const other = new App(await app.page.context().newPage(), server);
  expect(await other.open({ clock: false }), "pkg/ loads in the second tab").toEqual([]);
  try {
    await app.create();
    await other.create();
    expect(await other.state()).toBe("signedOut");
    await app.login("alice");
    await other.settle();
    expect(await other.state(), "a sign-in in one tab signs in the other").toBe("active");

    // 30 minutes of input in the first tab only; the second tab calls the API now and then.
    const failures = [];
    for (let minute = 1; minute <= 30; minute++) {
      await advance(server, [app, other], MINUTE);
      await app.userInput(minute % 2 ? "pointer" : "key");
      if (minute % 5 === 0) {
        const res = await other.fetch("/api/me");
        if (res.status !== 200) failures.push({ minute, ...res });
      }
    }
    expect(failures, "the quiet tab's API calls all succeed").toEqual([]);
    for (const tab of [app, other]) {
      const events = await tab.events();
      expect(events.filter((e) => ["expired", "idlewarning", "error"].includes(e.type))).toEqual([]);
      expect(await tab.state()).toBe("active");
    }

    const log = await server.log();
    const renewals = renewalsIn(log);
    expect(renewals.filter((r) => r.status !== 200).map(summary)).toEqual([]);
    // One tab's schedule: a token every (5 min − 1 min) from the login, one request for both.
    expect(renewals.map((r) => (r.atMs - T0) / MINUTE)).toEqual([4, 8, 12, 16, 20, 24, 28]);
    const api = log.requests.filter((r) => r.path === "/api/me");
    expect(api.map(summary)).toEqual(Array(6).fill("GET /api/me token=valid → 200"));
    expect((await other.events("renewed")).length, "the quiet tab took every token").toBe(renewals.length + 1);

    // Sign-out in one tab is sign-out everywhere, at once.
    await app.run(() => window.auth.logout());
    await other.settle();
    expect((await app.events("expired")).map((e) => [e.at, e.detail.reason])).toEqual([[app.now, "logout"]]);
    expect((await other.events("expired")).map((e) => [e.at, e.detail.reason])).toEqual([[other.now, "remote"]]);
    const res = await other.fetch("/api/me");
    expect(res.status).toBe(401);
    expect((await server.log()).requests.at(-1)).toMatchObject({ path: "/api/me", bearer: false });
  } catch (error) {
    console.log(`\n---- the second tab's trace ----\n${await other.trace()}\n----`);
    throw error;
  } finally {
    await other.page.close();
  }
});

test("14. two tabs, input in one, then none: both warned 14 min and signed out 15 min after it", async ({ app, server }) => {
  const other = new App(await app.page.context().newPage(), server);
  expect(await other.open({ clock: false })).toEqual([]);
  try {
    await app.create();
    await other.create();
    await app.login("alice");
    await advance(server, [app, other], 2 * MINUTE);
    await other.userInput();
    const last = other.now;
    await advance(server, [app, other], 16 * MINUTE);
    for (const tab of [app, other]) {
      expect((await tab.events("idlewarning")).map((e) => e.at)).toEqual([last + 14 * MINUTE]);
      const [expired] = await tab.events("expired");
      expect(expired?.at).toBe(last + 15 * MINUTE);
      expect(await tab.state()).toBe("expired");
    }
    // The input at 2 min earns one proactive renewal at 4 min, for both tabs; then nothing.
    expect(renewalsIn(await server.log()).map((r) => r.atMs)).toEqual([T0 + 4 * MINUTE]);
  } finally {
    await other.page.close();
  }
});

test("15. a tab opened during the session: start() joins it through the other tab, with no renewal request", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(MINUTE);
  await server.clearLog();

  const other = new App(await app.page.context().newPage(), server);
  other.now = app.now;
  try {
    expect(await other.open({ clock: false })).toEqual([]);
    expect(await other.browserNow(), "one clock for both tabs").toBe(app.now);
    await other.create();
    expect(await other.start(), "signed in").toBe(true);
    expect(await other.state()).toBe("active");
    const res = await other.fetch("/api/me");
    expect(res.status).toBe(200);
    const requests = (await server.log()).requests.filter((r) => r.path.startsWith("/auth/") || r.path.startsWith("/api/"));
    expect(requests.map(summary)).toEqual(["GET /api/me token=valid → 200"]);
  } finally {
    await other.page.close();
  }
});
