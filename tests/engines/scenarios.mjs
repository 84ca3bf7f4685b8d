// The contract's scenarios that depend on the engine (timers, input, BroadcastChannel and Web
// Locks, the back/forward cache, fetch), one list for every engine: run.mjs runs it in Firefox,
// WebKit and Chromium through the drivers in drivers/. Each scenario gets a fresh reference
// server and browser context (`scene`), opens its windows with `scene.open()`, and asserts on
// what the server saw as well as on the client's events.
//
// Client options are the defaults (15 min idle, warning 1 min before, renewal 1 min before
// expiry); the server issues 5-minute tokens and applies its own 15-minute idle rule unless a
// scenario says otherwise.
import assert from "node:assert/strict";
import { T0, SECOND, MINUTE } from "./harness.mjs";

const renewalsIn = (log) => log.requests.filter((r) => r.path === "/auth/renew");
const summary = (r) => `${r.method} ${r.path} token=${r.token} → ${r.status}`;
const minutes = (at) => (at - T0) / MINUTE;

export const scenarios = [
  {
    title: "the package loads: createAuthClient builds a client, signed out, and fetch sends no token",
    async run(scene) {
      const app = await scene.open(); // fails unless pkg/ loads with the contract's API
      assert.equal(await app.create(), "signedOut");
      const res = await app.fetch("/api/me");
      assert.equal(res.status, 401);
      const [request] = (await scene.server.log()).requests.filter((r) => r.path === "/api/me");
      assert.equal(request.bearer, false, "signed out: no token");
      const env = await app.run(() => ({
        secure: isSecureContext,
        locks: typeof navigator.locks?.request === "function",
        channel: typeof BroadcastChannel === "function",
      }));
      assert.deepEqual(env, { secure: true, locks: true, channel: true }, "the engine has what crossTab uses");
    },
  },

  {
    title: "sign in: fetch carries the token to the app's origin, never to another origin",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      assert.equal(await app.login("alice"), "active");
      const token = await app.run(() => window.auth.getAccessToken());
      assert.equal(typeof token, "string");

      const me = await app.fetch("/api/me");
      assert.equal(me.status, 200);
      assert.equal(me.body.username, "alice");
      // The echo server is another origin (another port).
      const echo = server.echoUrl;
      assert.equal((await app.fetch(`${echo}/data?page=1`)).status, 200);
      const post = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
      assert.equal((await app.fetch(`${echo}/submit`, post)).status, 200);
      assert.equal((await app.fetch(`${echo}/own`, { headers: { Authorization: "Bearer app-own" } })).status, 200);

      const log = await server.log();
      assert.deepEqual(log.requests.filter((r) => r.path === "/api/me").map(summary), ["GET /api/me token=valid → 200"]);
      const received = (await server.echoLog()).requests; // CORS preflights (OPTIONS) included
      assert.deepEqual(
        received.filter((r) => r.method !== "OPTIONS").map((r) => `${r.method} ${r.path}`).sort(),
        ["GET /data", "GET /own", "POST /submit"],
      );
      for (const r of received) {
        assert.ok(!JSON.stringify(r.headers).includes(token), `${r.method} ${r.path} carried the token`);
      }
      assert.deepEqual(
        received.filter((r) => r.authorization).map((r) => [r.path, r.headers.authorization]),
        [["/own", "Bearer app-own"]],
      );
    },
  },

  {
    title: "proactive renewal only for an active user: renewed before expiry after input, left to expire without, renewed at once on input",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      await app.login("alice"); // a 5-minute token, renewal due at 4 min if the user was active
      await scene.advance(MINUTE, { step: MINUTE });
      await app.userInput("key");
      await scene.advance(5 * MINUTE, { step: MINUTE });
      let renewals = renewalsIn(await server.log());
      assert.deepEqual(renewals.map((r) => [minutes(r.atMs), r.status]), [[4, 200]], "renewed at 4 min, before expiry");

      // No input since 1 min: the token of 4 min expires at 9 min and is left to.
      await scene.advance(4 * MINUTE, { step: MINUTE });
      renewals = renewalsIn(await server.log());
      assert.deepEqual(renewals.map((r) => minutes(r.atMs)), [4], "an inactive user's token is left to expire");
      assert.equal(await app.state(), "active", "the session lives on until the idle deadline");

      await app.userInput();
      renewals = renewalsIn(await server.log());
      assert.deepEqual(renewals.map((r) => [minutes(r.atMs), r.status]), [[4, 200], [10, 200]], "input renews at once");
      const res = await app.fetch("/api/me");
      assert.equal(res.status, 200);
      assert.equal((await server.log()).requests.at(-1).token, "valid");
      assert.equal((await app.events("renewed")).length, 3, "the login's token and two renewals");
      assert.equal((await server.log()).counts.expiredBearer, 0);
    },
  },

  {
    title: "no input for 15 min: warning at 14, expired (idle) at 15, no token after, server session ended",
    // Only the client's logout can end the server session within the scenario.
    serverArgs: ["--idle-timeout-secs", "3600"],
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create({ logoutUrl: "/auth/logout" });
      await app.login("alice");
      await scene.advance(14 * MINUTE - SECOND, { step: MINUTE });
      assert.deepEqual(await app.events("idlewarning"), []);

      await scene.advance(SECOND);
      const [warning] = await app.events("idlewarning");
      assert.equal(warning?.at, T0 + 14 * MINUTE, "warned at 14 min");
      assert.equal(warning.detail.expiresAt, T0 + 15 * MINUTE);
      assert.equal(await app.state(), "warning");

      await scene.advance(MINUTE);
      const expired = await app.events("expired");
      assert.deepEqual(expired.map((e) => [e.at, e.detail.reason]), [[T0 + 15 * MINUTE, "idle"]]);
      assert.equal(await app.state(), "expired");
      assert.equal((await app.fetch("/api/me")).status, 401);

      await scene.advance(2 * SECOND, { step: SECOND });
      const log = await server.log();
      assert.deepEqual(renewalsIn(log), [], "an idle user's token is left to expire");
      // Ended once no other tab answered within 2 s that the session is in use (crossTab).
      const logout = log.requests.filter((r) => r.path === "/auth/logout");
      assert.deepEqual(logout.map((r) => [r.method, r.status, r.atMs]), [["POST", 204, T0 + 15 * MINUTE + 2 * SECOND]]);
      assert.equal(log.requests.filter((r) => r.path === "/api/me").at(-1).bearer, false);
      const renewStatus = await app.run(() =>
        fetch("/auth/renew", { method: "POST", headers: { "X-Requested-With": "authpulse" } }).then((r) => r.status),
      );
      assert.equal(renewStatus, 401, "the session is gone on the server");
    },
  },

  {
    title: "synthetic events only, each minute for 16 min: never activity, signed out exactly as if idle",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      await app.login("alice");
      for (let minute = 0; minute < 16; minute++) {
        await app.syntheticInput();
        await scene.advance(MINUTE, { step: MINUTE });
      }
      const events = await app.events();
      assert.deepEqual(events.filter((e) => e.type === "active"), []);
      assert.deepEqual(events.filter((e) => e.type === "idlewarning").map((e) => e.at), [T0 + 14 * MINUTE]);
      assert.deepEqual(
        events.filter((e) => e.type === "expired").map((e) => [e.at, e.detail.reason]),
        [[T0 + 15 * MINUTE, "idle"]],
      );
      assert.equal((await app.fetch("/api/me")).status, 401);
      const log = await server.log();
      assert.deepEqual(renewalsIn(log), [], "synthetic input never renews");
      assert.equal(log.requests.at(-1).bearer, false);
    },
  },

  {
    title: "401 invalid_token: one renewal, one retry of the same request with its body",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      await app.login("alice");
      await scene.advance(MINUTE);
      await app.userInput();
      // The server's clock runs 5 min ahead: the client still trusts its token, the server does not.
      await server.setClock(scene.now + 5 * MINUTE);
      await server.clearLog();

      const body = { order: 42, items: ["apples", "pears"], note: "façade ✓" };
      const res = await app.fetch("/api/echo", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, body);
      assert.deepEqual((await server.log()).requests.map(summary), [
        "POST /api/echo token=expired → 401",
        "POST /auth/renew token=none → 200",
        "POST /api/echo token=valid → 200",
      ]);
      assert.deepEqual(await app.events("expired"), []);
    },
  },

  {
    title: "403: returned untouched, no renewal",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      await app.login("bob");
      await server.clearLog();

      const res = await app.fetch("/api/admin");
      assert.equal(res.status, 403);
      // Untouched: exactly what the same request with the same token gets without the client.
      const direct = await app.run(async () => {
        const token = await window.auth.getAccessToken();
        const response = await fetch("/api/admin", { headers: { Authorization: `Bearer ${token}` } });
        return { status: response.status, body: await response.json(), wwwAuthenticate: response.headers.get("www-authenticate") };
      });
      assert.deepEqual(res, direct);
      assert.deepEqual((await server.log()).requests.map(summary), [
        "GET /api/admin token=valid → 403",
        "GET /api/admin token=valid → 403",
      ]);
      assert.deepEqual((await app.events()).map((e) => e.type), ["renewed"], "only the login's token");
      assert.equal(await app.state(), "active");
    },
  },

  {
    title: "20 concurrent fetches on an expired token: one renewal, all 20 go out with the new token",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      await app.login("alice");
      await scene.advance(6 * MINUTE, { step: MINUTE }); // no input: the token expires, the session does not
      assert.deepEqual(renewalsIn(await server.log()), [], "the token was left to expire");
      // A slow renewal, so that all 20 calls find it in flight.
      await server.fail({ path: "/auth/renew", delayMs: 300, count: 1 });
      await server.clearLog();

      const results = await app.fetchAll(20, "/api/items");
      assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
      const log = await server.log();
      assert.deepEqual(renewalsIn(log).map(summary), ["POST /auth/renew token=none → 200"]);
      const api = log.requests.filter((r) => r.path === "/api/items");
      assert.equal(api.length, 20);
      assert.deepEqual(api.filter((r) => r.token !== "valid" || r.status !== 200).map(summary), []);
      assert.equal((await app.events("renewed")).length, 2, "the login's token and one renewal");
    },
  },

  {
    title: "two windows: input in one keeps both signed in past 15 min on one renewal per token; logout in one signs out both",
    async run(scene) {
      const first = await scene.open();
      const second = await scene.open();
      const { server } = scene;
      // Two pages, not one window loaded twice (MiniBrowser's window.open reuses its window).
      assert.deepEqual([await first.windowNumber(), await second.windowNumber()], [1, 2], "two windows");
      await first.create();
      await second.create();
      assert.equal(await second.state(), "signedOut");
      await first.login("alice");
      assert.equal(await second.state(), "active", "a sign-in in one window signs in the other");

      // 17 minutes of input in the first window only; the second calls the API now and then.
      const failures = [];
      // Steps of 10 s: a renewal must have its answer before its 30 s timeout, and a whole
      // minute in one step fires that timeout before the network can answer.
      for (let minute = 1; minute <= 17; minute++) {
        await scene.advance(MINUTE);
        await first.userInput(minute % 2 ? "pointer" : "key");
        if (minute % 4 === 2) {
          const res = await second.fetch("/api/me");
          if (res.status !== 200) failures.push({ minute, ...res });
        }
      }
      assert.deepEqual(failures, [], "the quiet window's API calls all succeed");
      for (const app of [first, second]) {
        const events = await app.events();
        assert.deepEqual(events.filter((e) => ["expired", "idlewarning", "error"].includes(e.type)), [], `window ${app.number}`);
        assert.equal(await app.state(), "active");
      }
      const log = await server.log();
      const renewals = renewalsIn(log);
      assert.deepEqual(renewals.filter((r) => r.status !== 200).map(summary), []);
      // One window's schedule: a token every (5 min − 1 min) from the login, one request for both.
      assert.deepEqual(renewals.map((r) => minutes(r.atMs)), [4, 8, 12, 16]);
      assert.deepEqual(
        log.requests.filter((r) => r.path === "/api/me").map(summary),
        Array(4).fill("GET /api/me token=valid → 200"),
      );
      assert.equal((await second.events("renewed")).length, renewals.length + 1, "the quiet window took every token");

      // Sign-out in one window is sign-out everywhere, at once.
      await first.run(() => window.auth.logout());
      await scene.settle();
      assert.deepEqual((await first.events("expired")).map((e) => [e.at, e.detail.reason]), [[scene.now, "logout"]]);
      assert.deepEqual((await second.events("expired")).map((e) => [e.at, e.detail.reason]), [[scene.now, "remote"]]);
      assert.equal((await second.fetch("/api/me")).status, 401);
      assert.equal((await server.log()).requests.at(-1).bearer, false);
    },
  },

  {
    title: "back/forward cache: a page restored within the session carries on; restored after the idle deadline, it is signed out on pageshow and sends no token",
    async run(scene) {
      const app = await scene.open();
      const { server } = scene;
      await app.create();
      await app.login("alice");
      await scene.advance(MINUTE, { step: MINUTE });
      await app.userInput();
      assert.equal((await app.fetch("/api/me")).status, 200);

      // Away for 2 minutes: the session is still on when the user comes back.
      await app.leave();
      scene.now += 2 * MINUTE;
      await server.setClock(scene.now);
      assert.deepEqual(await app.back(scene.now), { persisted: true }, "restored from the back/forward cache");
      assert.equal(await app.state(), "active");
      await app.userInput();
      const res = await app.fetch("/api/me");
      assert.equal(res.status, 200);
      assert.equal((await server.log()).requests.at(-1).token, "valid");

      await app.leave();
      // 20 minutes later (the page frozen in the cache meanwhile, no timer running), the user goes back.
      scene.now += 20 * MINUTE;
      await server.setClock(scene.now);
      await server.clearLog();
      const shown = await app.back(scene.now);
      assert.deepEqual(shown, { persisted: true }, "the app's page came back from the back/forward cache");

      const log = await app.clientLog();
      const restored = log.findLastIndex((e) => e.kind === "pageshow");
      const after = log.slice(restored);
      const expired = after.filter((e) => e.kind === "event" && e.type === "expired");
      assert.deepEqual(expired.map((e) => [e.at, e.detail.reason]), [[scene.now, "idle"]], "signed out on pageshow");
      const firstRequest = after.findIndex((e) => e.kind === "request");
      assert.ok(firstRequest < 0 || after.indexOf(expired[0]) < firstRequest, "expired before any request left");

      // The user is back: neither input nor the next call revives the session.
      await app.userInput();
      assert.equal(await app.state(), "expired");
      assert.equal((await app.fetch("/api/me")).status, 401);
      const requests = (await server.log()).requests;
      assert.deepEqual(requests.filter((r) => r.bearer || r.path === "/auth/renew").map(summary), []);
      assert.deepEqual((await app.clientLog()).slice(restored).filter((e) => e.kind === "request" && e.auth), []);
    },
  },
];
