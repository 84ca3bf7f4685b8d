// The session strategy with the renew endpoint on another origin (the contract's section 2): the
// app on one origin (a static server on 127.0.0.1), the reference server on another port of the
// same host, so another origin but the same site, as an app at app.example.com with its auth
// server at auth.example.com. The server lists the app's origin with --allowed-origin; the
// renewals go with the session cookie (credentials) after a CORS preflight.
import { test as base, expect, T0, SECOND, MINUTE, App } from "./support/harness.mjs";
import { startStaticOrigin } from "./support/idp.mjs";
import { startServer } from "./support/server.mjs";

const PAGE = "/remote.html";
const renewalsIn = (log) => log.requests.filter((r) => r.path === "/auth/renew");
const summary = (r) => `${r.method} ${r.path} token=${r.token} → ${r.status}`;

const test = base.extend({
  /** Whether the server lists the app's origin in --allowed-origin. */
  listed: [true, { option: true }],
  site: async ({}, use) => {
    const site = await startStaticOrigin();
    await use(site);
    await site.stop();
  },
  server: async ({ site, listed }, use) => {
    const args = listed ? ["--allowed-origin", `http://127.0.0.1:${site.port}`] : [];
    const server = await startServer(args);
    await use(server);
    await server.stop();
  },
  app: async ({ page, server, site }, use, testInfo) => {
    const app = new App(page, server);
    expect(await app.open({ url: `http://127.0.0.1:${site.port}${PAGE}` })).toEqual([]);
    await use(app);
    if (testInfo.status !== testInfo.expectedStatus) {
      const trace = await app.trace();
      await testInfo.attach("trace", { body: trace, contentType: "text/plain" });
      console.log(`\n---- trace of "${testInfo.title}" (client and server) ----\n${trace}\n----`);
    }
  },
});

const options = (server) => ({
  renewUrl: `${server.url}/auth/renew`,
  logoutUrl: `${server.url}/auth/logout`,
  allowedOrigins: [server.url],
});

test("1. renew endpoint on another origin: 20 min of use renewed through the session cookie, a reload resumes, logout ends the server session", async ({ app, server, site }) => {
  expect(new URL(server.url).origin).not.toBe(`http://127.0.0.1:${site.port}`);
  await app.create(options(server));
  expect(await app.run((origin) => window.remote.login(origin, "alice"), server.url)).toBe("active");

  const failures = [];
  for (let minute = 1; minute <= 20; minute++) {
    await app.advance(MINUTE, { step: 30 * SECOND });
    await app.userInput();
    if (minute % 4 === 0) {
      const res = await app.fetch(`${server.url}/api/me`);
      if (res.status !== 200) failures.push({ minute, ...res });
    }
  }
  expect(failures, "the API on the server's origin answers every call").toEqual([]);
  expect((await app.events()).filter((e) => ["expired", "error"].includes(e.type))).toEqual([]);
  let log = await server.log();
  const renewals = renewalsIn(log);
  // 5-minute tokens renewed a minute before expiry, each with the session cookie.
  expect(renewals.map((r) => (r.atMs - T0) / MINUTE)).toEqual([4, 8, 12, 16, 20]);
  expect(renewals.map((r) => r.status)).toEqual(Array(5).fill(200));

  // The session strategy survives a reload: the cookie is the server's, cross-origin.
  await app.reload();
  await app.create(options(server));
  expect(await app.start(), "start() resumes through the renew endpoint on the other origin").toBe(true);
  expect((await app.fetch(`${server.url}/api/me`)).status).toBe(200);
  log = await server.log();
  expect(renewalsIn(log).slice(5).map(summary)).toEqual(["POST /auth/renew token=none → 200"]);

  // Logout reaches the other origin (keepalive, credentials): the server session is over.
  await app.run(() => window.auth.logout());
  await app.advance(SECOND);
  log = await server.log();
  expect(log.requests.filter((r) => r.path === "/auth/logout").map((r) => r.status)).toEqual([204]);
  await app.create(options(server));
  expect(await app.start(), "after logout the renew endpoint answers 401").toBe(false);
  expect(renewalsIn(await server.log()).at(-1).status).toBe(401);
});

test("3. a 503 with Retry-After: 120 from the renew endpoint on another origin: the next attempt comes 120 s later", async ({ app, server }) => {
  await app.create(options(server));
  await app.run((origin) => window.remote.login(origin, "alice"), server.url);
  // The renewal due at 4 min (5-minute token) meets a server down for two minutes that says so.
  await server.fail({ path: "/auth/renew", status: 503, retryAfter: "120", untilMs: T0 + 6 * MINUTE });
  for (let step = 1; step <= 16; step++) {
    await app.advance(30 * SECOND);
    await app.userInput(step % 2 ? "pointer" : "key");
  }
  const renewals = renewalsIn(await server.log());
  expect(renewals.map((r) => [(r.atMs - T0) / SECOND, r.status]), "Retry-After (exposed by CORS) set the next attempt").toEqual([
    [240, 503],
    [360, 200],
  ]);
  expect(await app.state()).toBe("active");
});

test.describe("a server that does not list the app's origin", () => {
  test.use({ listed: false });

  test("2. the browser refuses the cross-origin renewal: start() resolves false, the POST never reaches the server", async ({ app, server }) => {
    await app.create(options(server));
    expect(await app.start()).toBe(false);
    await app.advance(SECOND);
    const errors = await app.events("error");
    expect(errors.map((e) => e.detail.code)).toEqual(["renew_network_error"]);
    const posts = (await server.log()).requests.filter((r) => r.method === "POST");
    expect(posts.map(summary), "the preflight was refused: no renew request went out").toEqual([]);
  });
});
