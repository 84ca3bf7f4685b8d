// The contract's promises about time, tabs and networks, in real Chromium against the reference
// server (issue 5). Each scenario asserts on what the server saw as well as on the client's
// events; a failure prints both as one timeline (support/harness.mjs).
//
// Client options are the defaults (15 min idle, warning 1 min before, renewal 1 min before
// expiry); the server issues 5-minute tokens and applies its own 15-minute idle rule unless a
// scenario says otherwise.
import { test, expect, T0, SECOND, MINUTE } from "./support/harness.mjs";

const renewalsIn = (log) => log.requests.filter((r) => r.path === "/auth/renew");
const apiCallsIn = (log) => log.requests.filter((r) => r.path.startsWith("/api/"));
const summary = (r) => `${r.method} ${r.path} token=${r.token} → ${r.status}`;

test("1. an active user for 2 h with 5-minute tokens: renewed before expiry, no expired token, no 401", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  const failures = [];
  for (let minute = 1; minute <= 120; minute++) {
    await app.advance(MINUTE, { step: MINUTE });
    if (minute % 3 === 0) await app.userInput(minute % 2 ? "key" : "pointer");
    if (minute % 2 === 0) {
      const res = await app.fetch("/api/me");
      if (res.status !== 200) failures.push({ minute, ...res });
    }
  }
  expect(failures, "every API call succeeds").toEqual([]);

  const events = await app.events();
  expect(events.filter((e) => ["expired", "error", "idlewarning"].includes(e.type))).toEqual([]);
  const renewed = events.filter((e) => e.type === "renewed");
  // Each new token arrives before the previous one expires: the login's at T0 + 5 min.
  let expiresAt = T0 + 5 * MINUTE;
  for (const e of renewed) {
    expect(e.at, `renewal at +${(e.at - T0) / SECOND}s`).toBeLessThan(expiresAt);
    expiresAt = e.detail.expiresAt;
  }
  expect(expiresAt).toBeGreaterThan(app.now);

  const log = await server.log();
  const api = apiCallsIn(log);
  expect(api).toHaveLength(60);
  expect(api.filter((r) => r.token !== "valid" || r.status !== 200).map(summary)).toEqual([]);
  expect(log.counts.expiredBearer).toBe(0);
  const renewals = renewalsIn(log);
  expect(renewals.filter((r) => r.status !== 200).map(summary)).toEqual([]);
  expect(renewals.length).toBeGreaterThanOrEqual(24); // at least one per 5-minute token
  expect(renewed.length, "one renewed event per token: the login's and each renewal's").toBe(renewals.length + 1);
  // Server side too: never more than a token's lifetime between two tokens.
  const issued = [T0, ...renewals.map((r) => r.atMs)];
  for (let i = 1; i < issued.length; i++) expect(issued[i] - issued[i - 1]).toBeLessThan(5 * MINUTE);
});

test.describe("with a server whose own idle rule is an hour", () => {
  // Only the client's logout can end the server session within the test.
  test.use({ serverArgs: ["--idle-timeout-secs", "3600"] });

  test("2. no input for 15 min: warning at 14, expired (idle) at 15, no token after, server session ended", async ({ app, server }) => {
    await app.create({ logoutUrl: "/auth/logout" });
    await app.login("alice");
    await app.advance(14 * MINUTE - SECOND);
    expect(await app.events("idlewarning")).toEqual([]);

    await app.advance(SECOND);
    const [warning] = await app.events("idlewarning");
    expect(warning?.at).toBe(T0 + 14 * MINUTE);
    expect(warning.detail.expiresAt).toBe(T0 + 15 * MINUTE);
    expect(await app.state()).toBe("warning");

    await app.advance(MINUTE);
    const expired = await app.events("expired");
    expect(expired.map((e) => e.detail)).toEqual([{ reason: "idle" }]);
    expect(expired[0].at).toBe(T0 + 15 * MINUTE);
    expect(await app.state()).toBe("expired");

    const res = await app.fetch("/api/me");
    expect(res.status).toBe(401);

    await app.advance(2 * SECOND, { step: SECOND });
    const log = await server.log();
    expect(renewalsIn(log), "an idle user's token is left to expire").toEqual([]);
    const logout = log.requests.filter((r) => r.path === "/auth/logout");
    // Ended once no other tab answered within 2 s that the session is in use (crossTab).
    expect(logout.map((r) => [r.method, r.status, r.atMs])).toEqual([["POST", 204, T0 + 15 * MINUTE + 2 * SECOND]]);
    expect(log.requests.filter((r) => r.path === "/api/me").at(-1)).toMatchObject({ bearer: false, status: 401 });

    // The session cookie no longer renews anything: the session is gone on the server.
    const renewStatus = await app.run(() =>
      fetch("/auth/renew", { method: "POST", headers: { "X-Requested-With": "authpulse" } }).then((r) => r.status),
    );
    expect(renewStatus).toBe(401);
  });
});

test("3. warning then a key press: the warning is cancelled and the session continues", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(14 * MINUTE);
  expect((await app.events("idlewarning")).map((e) => e.at)).toEqual([T0 + 14 * MINUTE]);

  await app.userInput("key");
  expect((await app.events("active")).map((e) => e.at)).toEqual([T0 + 14 * MINUTE]);
  expect(await app.state()).toBe("active");
  // The token expired at 5 min and was left to; activity before the deadline renews at once.
  const renewedAt = (await server.log()).requests.filter((r) => r.path === "/auth/renew").map((r) => [r.atMs, r.status]);
  expect(renewedAt).toEqual([[T0 + 14 * MINUTE, 200]]);

  // Past the first deadline: still signed in, and the API takes the token.
  await app.advance(10 * MINUTE);
  expect(await app.events("expired")).toEqual([]);
  const res = await app.fetch("/api/me");
  expect(res.status).toBe(200);
  expect(res.body.username).toBe("alice");
  expect((await server.log()).requests.at(-1)).toMatchObject({ path: "/api/me", token: "valid", status: 200 });

  // The deadline slid to 15 min after the key press: the next warning comes at 28 min.
  await app.advance(4 * MINUTE);
  expect((await app.events("idlewarning")).map((e) => e.at)).toEqual([T0 + 14 * MINUTE, T0 + 28 * MINUTE]);
});

test("4. only synthetic events for 20 min: signed out exactly as if idle", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  for (let t = 0; t < 20 * MINUTE; t += 30 * SECOND) {
    await app.syntheticInput();
    await app.advance(30 * SECOND);
  }
  const events = await app.events();
  expect(events.filter((e) => e.type === "active")).toEqual([]);
  expect(events.filter((e) => e.type === "idlewarning").map((e) => e.at)).toEqual([T0 + 14 * MINUTE]);
  const expired = events.filter((e) => e.type === "expired");
  expect(expired.map((e) => [e.at, e.detail.reason])).toEqual([[T0 + 15 * MINUTE, "idle"]]);
  expect(await app.state()).toBe("expired");

  const res = await app.fetch("/api/me");
  expect(res.status).toBe(401);
  const log = await server.log();
  expect(renewalsIn(log), "synthetic input never renews").toEqual([]);
  expect(log.requests.at(-1)).toMatchObject({ path: "/api/me", bearer: false, status: 401 });
});

test("5. the server revokes the session: 401, one renewal rejected, the app gets the original 401, expired (session)", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(MINUTE);
  await app.userInput();
  expect((await app.fetch("/demo/revoke", { method: "POST" })).status).toBe(200);
  await server.clearLog();

  const res = await app.fetch("/api/me");
  expect(res.status).toBe(401);
  expect(res.wwwAuthenticate).toContain('error="invalid_token"');
  expect(res.body.error).toBe("invalid_token");
  const expired = await app.events("expired");
  expect(expired.map((e) => e.detail)).toEqual([{ reason: "session" }]);
  expect(await app.state()).toBe("expired");

  const log = await server.log();
  expect(log.requests.map(summary)).toEqual([
    "GET /api/me token=revoked → 401",
    "POST /auth/renew token=none → 401",
  ]);
});

test("6. the API answers 403: returned untouched, no renewal reaches the server", async ({ app, server }) => {
  await app.create();
  await app.login("bob");
  await server.clearLog();

  const res = await app.fetch("/api/admin");
  expect(res.status).toBe(403);
  // Untouched: exactly what the same request with the same token gets without the client.
  const direct = await app.run(async () => {
    const token = await window.auth.getAccessToken();
    const response = await fetch("/api/admin", { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json(), wwwAuthenticate: response.headers.get("www-authenticate") };
  });
  expect(res).toEqual(direct);

  const log = await server.log();
  expect(log.requests.map(summary)).toEqual(["GET /api/admin token=valid → 403", "GET /api/admin token=valid → 403"]);
  const events = await app.events();
  expect(events.map((e) => e.type), "only the login's token").toEqual(["renewed"]);
  expect(await app.state()).toBe("active");
  expect((await app.fetch("/api/me")).status).toBe(200);
});

test("7. 20 concurrent fetches on an expired token: one renewal on the server, all 20 succeed", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(6 * MINUTE); // no input: the 5-minute token expires, the session does not
  expect(renewalsIn(await server.log()), "the token was left to expire").toEqual([]);
  // A slow renewal, so that all 20 calls find it in flight.
  await server.fail({ path: "/auth/renew", delayMs: 300, count: 1 });
  await server.clearLog();

  const results = await app.fetchAll(20, "/api/items");
  expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));

  const log = await server.log();
  expect(renewalsIn(log).map(summary)).toEqual(["POST /auth/renew token=none → 200"]);
  const api = apiCallsIn(log);
  expect(api).toHaveLength(20);
  expect(api.filter((r) => r.token !== "valid" || r.status !== 200).map(summary)).toEqual([]);
  expect((await app.events("renewed")).length, "the login's token and one renewal").toBe(2);
});

test("8. a JSON POST meets a token the server considers expired: retried once with the same body", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(MINUTE);
  await app.userInput();
  // The server's clock runs 5 min ahead: the client still trusts its token, the server does not.
  await server.setClock(app.now + 5 * MINUTE);
  await server.clearLog();

  const body = { order: 42, items: ["apples", "pears"], note: "façade ✓" };
  const res = await app.fetch("/api/echo", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  expect(res.body).toEqual(body);

  const log = await server.log();
  expect(log.requests.map(summary)).toEqual([
    "POST /api/echo token=expired → 401",
    "POST /auth/renew token=none → 200",
    "POST /api/echo token=valid → 200",
  ]);
  expect(await app.events("expired")).toEqual([]);
});

test("9. a request to another origin never carries the token", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  const token = await app.run(() => window.auth.getAccessToken());
  expect(token).toEqual(expect.any(String));

  // Same origin: the token goes.
  expect((await app.fetch("/api/me")).status).toBe(200);
  // The echo server is another origin (another port).
  const echo = server.echoUrl;
  expect((await app.fetch(`${echo}/data?page=1`)).status).toBe(200);
  expect(
    (await app.fetch(`${echo}/submit`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status,
  ).toBe(200);
  expect((await app.fetch(new URL("/own", echo).href, { headers: { Authorization: "Bearer app-own" } })).status).toBe(200);

  const log = await server.log();
  expect(log.requests.filter((r) => r.path === "/api/me").map(summary)).toEqual(["GET /api/me token=valid → 200"]);
  const received = (await server.echoLog()).requests;
  expect(received.map((r) => `${r.method} ${r.path}`)).toEqual(
    expect.arrayContaining(["GET /data", "POST /submit", "GET /own"]),
  );
  for (const r of received) {
    expect(JSON.stringify(r.headers), `${r.method} ${r.path} carried the token`).not.toContain(token);
  }
  expect(received.filter((r) => r.authorization).map((r) => [r.path, r.headers.authorization])).toEqual([
    ["/own", "Bearer app-own"],
  ]);
});

test("10. hidden tab, clock jumps 30 min (sleep): signed out on becoming visible, before any request", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(2 * MINUTE);
  await app.userInput();
  await app.setVisible(false);
  await app.sleep(30 * MINUTE); // no timer runs meanwhile
  await server.clearLog();
  const before = (await app.clientLog()).length;

  await app.setVisible(true);
  expect((await app.events("expired")).map((e) => [e.at, e.detail.reason])).toEqual([[app.now, "idle"]]);
  // The user is back: neither input nor the next call revives the session.
  await app.userInput();
  await app.userInput("key");
  expect(await app.state()).toBe("expired");
  const res = await app.fetch("/api/me");
  expect(res.status).toBe(401);

  const after = (await app.clientLog()).slice(before);
  const firstExpired = after.findIndex((e) => e.kind === "event" && e.type === "expired");
  const firstRequest = after.findIndex((e) => e.kind === "request");
  expect(firstExpired).toBeGreaterThanOrEqual(0);
  expect(firstExpired, "expired before any request left").toBeLessThan(firstRequest);
  expect(after.filter((e) => e.kind === "request" && e.auth)).toEqual([]);
  const log = await server.log();
  expect(log.requests.filter((r) => r.bearer || r.path === "/auth/renew").map(summary)).toEqual([]);
});

test("11. the renew endpoint answers 500 for 3 min during active use: back-off, no sign-out, recovery", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(3 * MINUTE);
  const outageEnd = T0 + 6 * MINUTE;
  await server.fail({ path: "/auth/renew", status: 500, untilMs: outageEnd });
  // The user keeps working (input each minute, at :45) through the outage and after it.
  for (let t = 3 * MINUTE; t < 10 * MINUTE; t += MINUTE) {
    await app.advance(45 * SECOND, { step: SECOND });
    await app.userInput();
    await app.advance(15 * SECOND, { step: SECOND });
  }

  const events = await app.events();
  expect(events.filter((e) => e.type === "expired")).toEqual([]);
  expect(await app.state()).toBe("active");
  const errors = events.filter((e) => e.type === "error");
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) expect(e.detail.code).toEqual(expect.any(String));

  const log = await server.log();
  const renewals = renewalsIn(log);
  const failed = renewals.filter((r) => r.atMs < outageEnd);
  expect(failed.every((r) => r.injected && r.status === 500)).toBe(true);
  // Back-off: 1 s, 2 s, 4 s … (the first attempt is the proactive one at 4 min), never a storm.
  expect(failed[0]?.atMs).toBe(T0 + 4 * MINUTE);
  const gaps = failed.slice(1).map((r, i) => r.atMs - failed[i].atMs);
  expect(gaps.length).toBeGreaterThanOrEqual(4);
  expect(gaps[0]).toBeLessThanOrEqual(2 * SECOND);
  for (let i = 1; i < 5 && i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(1.5 * gaps[i - 1]);
  for (const gap of gaps) expect(gap).toBeLessThanOrEqual(31 * SECOND);
  expect(failed.length).toBeLessThanOrEqual(15);
  // Recovery: a renewal succeeds within one capped back-off of the endpoint coming back.
  const recovered = renewals.find((r) => r.atMs >= outageEnd);
  expect(recovered?.status).toBe(200);
  expect(recovered.atMs - outageEnd).toBeLessThanOrEqual(31 * SECOND);

  const res = await app.fetch("/api/me");
  expect(res.status).toBe(200);
  expect((await server.log()).counts.expiredBearer).toBe(0);
});

test("12. a page reload within the session: start() resumes through the auth session, no login", async ({ app, server }) => {
  await app.create();
  await app.login("alice");
  await app.advance(2 * MINUTE);
  await app.userInput();
  expect((await app.fetch("/api/me")).status).toBe(200);

  await app.reload();
  expect(await app.create()).toBe("signedOut");
  await server.clearLog();
  expect(await app.start()).toBe(true);
  expect(await app.state()).toBe("active");
  expect((await app.events("renewed")).length).toBe(1);

  const res = await app.fetch("/api/me");
  expect(res.status).toBe(200);
  expect(res.body.username).toBe("alice");
  const log = await server.log();
  expect(log.requests.map(summary)).toEqual([
    "POST /auth/renew token=none → 200",
    "GET /api/me token=valid → 200",
  ]);
});
