// The refresh-token strategy against a real identity provider nobody here wrote: panva's
// oidc-provider (support/idp-process.mjs) on its own origin (127.0.0.1), the app on another site
// (localhost; on the same site in the last test), signed in through the provider's authorization code + PKCE flow in Chromium
// (fixtures/remote.js), with 2-minute access tokens and refresh-token rotation. The provider's
// clock follows the page's (app.advance); what it did is read from its events and its store.
//
// The provider revokes the whole grant when a rotated refresh token comes back (reuse, RFC 9700
// section 4.14.2), so one refresh token lost by the client shows up here as a grant error and a
// revoked grant, and the user signed out.
import { test as base, expect, T0, SECOND, MINUTE, App } from "./support/harness.mjs";
import { startIdp, startStaticOrigin } from "./support/idp.mjs";

const CLIENT_ID = "authpulse-spa";
const PAGE = "/remote.html";

const test = base.extend({
  /** The app's host: `localhost`, another site than the provider's 127.0.0.1, or 127.0.0.1. */
  appHost: ["localhost", { option: true }],
  site: async ({}, use) => {
    const site = await startStaticOrigin();
    await use(site);
    await site.stop();
  },
  idp: async ({ site, appHost }, use) => {
    const appOrigin = `http://${appHost}:${site.port}`;
    const idp = await startIdp({ appOrigin, clientId: CLIENT_ID, redirectUri: `${appOrigin}${PAGE}` });
    idp.appOrigin = appOrigin;
    await idp.setClock(T0);
    idp.config = await idp.discovery();
    await use(idp);
    await idp.stop();
  },
  app: async ({ page, idp }, use, testInfo) => {
    const app = new App(page, idp);
    expect(await app.open({ url: `${idp.appOrigin}${PAGE}` }), "pkg/ loads and has the contract's API").toEqual([]);
    await use(app);
    if (testInfo.status !== testInfo.expectedStatus) {
      const trace = `${await app.trace()}\nprovider events:\n${await eventTrace(idp)}`;
      await testInfo.attach("trace", { body: trace, contentType: "text/plain" });
      console.log(`\n---- trace of "${testInfo.title}" (client and provider) ----\n${trace}\n----`);
    }
  },
});

const short = (value) => (typeof value === "string" && value.length > 16 ? `${value.slice(0, 6)}…${value.slice(-6)}` : value);

async function eventTrace(idp) {
  try {
    const events = await idp.events();
    return events
      .map((e) => {
        const { atMs, name, presented, issued, accessToken, ...rest } = e;
        const tokens = [presented && `presented ${short(presented)}`, issued && `issued ${short(issued)}`].filter(Boolean).join(", ");
        return `+${((atMs - T0) / 1000).toFixed(3).padStart(9)}s  ${name} ${tokens} ${JSON.stringify(rest)}`;
      })
      .join("\n");
  } catch (error) {
    return `(unavailable: ${error.message})`;
  }
}

/** The client's options for the provider, from its discovery document. */
function clientOptions(idp, extra = {}) {
  return {
    tokenEndpoint: idp.config.token_endpoint,
    clientId: CLIENT_ID,
    revokeUrl: idp.config.revocation_endpoint,
    allowedOrigins: [idp.url],
    ...extra,
  };
}

/**
 * The user signs in at the provider: the app redirects to its authorization endpoint, the user
 * fills the provider's login form and consents, the provider redirects back with a code, and the
 * app exchanges it (PKCE) and calls `setSession`. Resolves to the token response.
 */
async function signIn(app, idp, { username = "alice", options = {} } = {}) {
  const { page } = app;
  await page.evaluate((c) => window.remote.authorize(c), {
    authorizationEndpoint: idp.config.authorization_endpoint,
    clientId: CLIENT_ID,
    redirectUri: `${idp.appOrigin}${PAGE}`,
    scope: "openid offline_access",
  });
  await page.waitForURL(`${idp.url}/interaction/**`);
  await page.fill("input[name=login]", username);
  await page.fill("input[name=password]", "any password");
  await page.click("button[type=submit]");
  await page.waitForURL(`${idp.url}/interaction/**`); // consent
  await expect(page.locator("input[name=prompt]")).toHaveValue("consent");
  await page.click("button[type=submit]");
  await page.waitForURL(`${idp.appOrigin}${PAGE}?**`);
  expect(await page.evaluate(() => window.app.load()), "pkg/ loads on the redirect back").toEqual([]);
  await app.create(clientOptions(idp, options));
  const result = await app.run(
    (c) => window.remote.complete(c),
    { tokenEndpoint: idp.config.token_endpoint, clientId: CLIENT_ID, redirectUri: `${idp.appOrigin}${PAGE}` },
  );
  expect(result.state, "signed in with the provider's token response").toBe("active");
  expect(result.fields, "a refresh token (offline_access) and an ID token came with it").toEqual(
    expect.arrayContaining(["access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"]),
  );
  expect(result.tokens.expires_in).toBe(120);
  return result.tokens;
}

/**
 * The provider's view of the refresh token chain: every refresh_token grant, in order, with the
 * token it was presented and whether that was the newest one the provider had issued.
 */
async function rotation(idp) {
  const events = await idp.events();
  let newest = null;
  const grants = [];
  for (const e of events) {
    if (e.name === "grant.success" && e.grantType === "authorization_code") newest = e.issued;
    if ((e.name === "grant.success" || e.name === "grant.error") && e.grantType === "refresh_token") {
      grants.push({ at: (e.atMs - T0) / SECOND, ok: e.name === "grant.success", newest: e.presented === newest, error: e.error, description: e.description });
      if (e.name === "grant.success" && e.issued) newest = e.issued;
    }
  }
  return {
    grants,
    renewals: grants.filter((g) => g.ok).length,
    grantErrors: events.filter((e) => e.name === "grant.error").length,
    notNewest: grants.filter((g) => !g.newest),
    grantsRevoked: events.filter((e) => e.name === "grant.revoked"),
    newest,
    lastAccessToken: events.filter((e) => e.name === "grant.success").at(-1)?.accessToken,
  };
}

const tokenRequests = (log) => log.requests.filter((r) => r.method === "POST" && r.path === "/token");
const report = (testInfo, text) => {
  testInfo.annotations.push({ type: "provider", description: text });
  console.log(`      oidc-provider: ${text}`);
};

test("1. sign-in by code + PKCE, then 60 min of use on 2-minute tokens: each renewal rotates the newest refresh token; 0 grant errors", async ({ app, idp }, testInfo) => {
  await signIn(app, idp);
  const failures = [];
  for (let minute = 1; minute <= 60; minute++) {
    await app.advance(MINUTE, { step: 30 * SECOND });
    await app.userInput(minute % 2 ? "pointer" : "key");
    if (minute % 3 === 0) {
      // The provider's own protected resource (userinfo), on its origin, through allowedOrigins.
      const res = await app.fetch(idp.config.userinfo_endpoint);
      if (res.status !== 200 || res.body?.sub !== "alice") failures.push({ minute, ...res });
    }
  }
  const chain = await rotation(idp);
  report(testInfo, `${chain.renewals} renewals over 60 min, ${chain.grantErrors} grant errors, ${chain.grantsRevoked.length} grants revoked`);

  expect(chain.grantErrors, "the provider records no grant error").toBe(0);
  expect(chain.notNewest, "every refresh_token grant presents the newest refresh token").toEqual([]);
  expect(chain.grantsRevoked, "no reuse detected, no grant revoked").toEqual([]);
  // A 2-minute token renewed 30 s before expiry: one renewal per 90 s of use.
  expect(chain.renewals).toBeGreaterThanOrEqual(38);
  expect(failures, "every call to the provider's userinfo succeeds").toEqual([]);

  const events = await app.events();
  expect(events.filter((e) => ["expired", "error", "idlewarning"].includes(e.type))).toEqual([]);
  expect(events.filter((e) => e.type === "renewed").length, "one renewed event per token").toBe(chain.renewals + 1);
  expect(await app.state()).toBe("active");

  const log = await idp.log();
  const userinfo = log.requests.filter((r) => r.path === "/me" && r.method === "GET");
  expect(userinfo.map((r) => `${r.token} → ${r.status}`)).toEqual(Array(20).fill("valid → 200"));
  const grants = tokenRequests(log);
  expect(grants.filter((r) => r.status !== 200).map((r) => `${(r.atMs - T0) / SECOND}s → ${r.status}`)).toEqual([]);
});

test("2. the idle teardown revokes the newest refresh token at the provider (RFC 7009)", async ({ app, idp }) => {
  await signIn(app, idp);
  await app.advance(MINUTE);
  await app.userInput();
  const last = app.now;
  // The input earns one renewal (at 90 s); then nothing until the idle teardown at +15 min.
  await app.advance(16 * MINUTE, { step: 30 * SECOND });
  const expired = await app.events("expired");
  expect(expired.map((e) => [e.at, e.detail.reason])).toEqual([[last + 15 * MINUTE, "idle"]]);

  const chain = await rotation(idp);
  expect(chain.renewals).toBe(1);
  expect(chain.grantErrors).toBe(0);
  const log = await idp.log();
  const revocations = log.requests.filter((r) => r.path === "/token/revocation" && r.method === "POST");
  expect(revocations.map((r) => r.status), "one revocation request").toEqual([200]);
  // Sent at the teardown; the provider's clock is at the end of the 30 s step it was sent in.
  expect(revocations[0].atMs).toBeGreaterThanOrEqual(last + 15 * MINUTE);
  expect(revocations[0].atMs).toBeLessThanOrEqual(last + 15 * MINUTE + 30 * SECOND);
  expect(await idp.refreshToken(chain.newest), "the newest refresh token is gone").toEqual({ found: false });
  expect(chain.grantsRevoked.map((e) => e.route), "its grant is revoked with it").toEqual(["revocation"]);
  expect(await idp.accessToken(chain.lastAccessToken), "and the grant's access tokens").toEqual({ found: false });
});

test("3. logout revokes the newest refresh token at the provider", async ({ app, idp }) => {
  await signIn(app, idp);
  for (let minute = 1; minute <= 4; minute++) {
    await app.advance(MINUTE, { step: 30 * SECOND });
    await app.userInput();
  }
  const before = await rotation(idp);
  expect(before.renewals).toBeGreaterThanOrEqual(2);
  await app.run(() => window.auth.logout());
  expect((await app.events("expired")).map((e) => e.detail.reason)).toEqual(["logout"]);

  const chain = await rotation(idp);
  expect(chain.grantErrors).toBe(0);
  const revocations = (await idp.log()).requests.filter((r) => r.path === "/token/revocation");
  expect(revocations.map((r) => r.status)).toEqual([200]);
  expect(await idp.refreshToken(chain.newest)).toEqual({ found: false });
  expect(chain.grantsRevoked.map((e) => e.route)).toEqual(["revocation"]);
  // Signed out, the request still goes, with no token (oidc-provider answers 400 invalid_request).
  const res = await app.fetch(idp.config.userinfo_endpoint);
  expect(res.status).not.toBe(200);
  expect((await idp.log()).requests.at(-1)).toMatchObject({ method: "GET", path: "/me", token: "none" });
});

/** Both tabs' clock (one per browser context) and the provider's forward, every tab settling. */
async function advanceTabs(idp, tabs, ms, step = 30 * SECOND) {
  for (let left = ms; left > 0; left -= step) {
    const delta = Math.min(step, left);
    await idp.setClock(tabs[0].now + delta);
    await tabs[0].page.clock.runFor(delta);
    for (const tab of tabs) tab.now += delta;
    for (const tab of tabs) await tab.settle();
    for (const tab of tabs) await tab.settle();
  }
}

test("4. a reload with another tab open joins its session: no grant sent, and the rotation goes on unbroken", async ({ app, idp }, testInfo) => {
  await signIn(app, idp);
  const other = new App(await app.page.context().newPage(), idp);
  other.now = app.now;
  try {
    expect(await other.open({ clock: false, url: `${idp.appOrigin}${PAGE}` })).toEqual([]);
    await other.create(clientOptions(idp));
    expect(await other.start(), "the second tab joins the first one's session").toBe(true);
    for (let minute = 1; minute <= 4; minute++) {
      await advanceTabs(idp, [app, other], MINUTE);
      await app.userInput();
    }
    const grantsBefore = tokenRequests(await idp.log()).length;

    await app.reload();
    await app.create(clientOptions(idp));
    expect(await app.start(), "the reloaded tab joins the other tab's session").toBe(true);
    await other.settle();
    expect(tokenRequests(await idp.log()).length, "joining sends no grant").toBe(grantsBefore);
    const res = await app.fetch(idp.config.userinfo_endpoint);
    expect(res.status).toBe(200);

    for (let minute = 1; minute <= 6; minute++) {
      await advanceTabs(idp, [app, other], MINUTE);
      await app.userInput();
    }
    const chain = await rotation(idp);
    report(testInfo, `${chain.renewals} renewals across two tabs and a reload, ${chain.grantErrors} grant errors`);
    expect(chain.grantErrors).toBe(0);
    expect(chain.notNewest).toEqual([]);
    expect(chain.renewals).toBeGreaterThanOrEqual(6);
    for (const tab of [app, other]) {
      expect(await tab.state()).toBe("active");
      expect((await tab.events()).filter((e) => ["expired", "error"].includes(e.type))).toEqual([]);
    }
  } catch (error) {
    console.log(`\n---- the second tab's trace ----\n${await other.trace()}\n----`);
    throw error;
  } finally {
    await other.page.close();
  }
});

test("5. a reload with no other tab open: start() resolves false and sends no grant", async ({ app, idp }) => {
  await signIn(app, idp);
  await app.advance(MINUTE);
  await app.userInput();
  await app.advance(MINUTE); // one renewal at 90 s
  const grantsBefore = tokenRequests(await idp.log()).length;
  expect(grantsBefore).toBe(2);

  await app.reload();
  await app.create(clientOptions(idp));
  // start() asks the other tabs and waits a moment for an answer: in the page's time.
  await app.page.evaluate(() => {
    window.__resumed = window.app.start();
  });
  await app.advance(10 * SECOND, { step: SECOND });
  const resumed = await app.page.evaluate(() => window.__resumed);
  expect(resumed, "refresh tokens live in memory only: the reload signed the user out").toBe(false);
  expect(await app.state()).toBe("signedOut");
  const after = tokenRequests(await idp.log()).slice(grantsBefore);
  expect(after.map((r) => `${r.method} ${r.path} → ${r.status}`), "no grant, not even one with an empty refresh token").toEqual([]);
  expect(await idp.events("grant.error")).toEqual([]);
});

/** Moves both clocks by `ms` in steps without waiting for the page's network to settle. */
async function advanceUnsettled(app, ms, step = SECOND) {
  for (let left = ms; left > 0; left -= step) {
    const delta = Math.min(step, left);
    await app.server.setClock(app.now + delta);
    await app.page.clock.runFor(delta);
    app.now += delta;
  }
}

test("6. a renewal answered after the client stopped waiting: its rotated refresh token is still the one used next", async ({ app, idp }, testInfo) => {
  await signIn(app, idp);
  await app.advance(MINUTE);
  await app.userInput();
  // The next grant's answer is held back (the provider has rotated; the answer is slow).
  await idp.hold("/token");
  await advanceUnsettled(app, 30 * SECOND, 30 * SECOND); // the renewal goes out at 90 s
  await expect
    .poll(async () => tokenRequests(await idp.log()).filter((r) => r.held).map((r) => (r.atMs - T0) / SECOND))
    .toEqual([90]);
  // 45 s more, past the client's wait for an answer, and the answer is still on its way.
  await advanceUnsettled(app, 45 * SECOND);
  await idp.release();
  await app.settle();

  for (let minute = 1; minute <= 6; minute++) {
    await app.advance(MINUTE, { step: 30 * SECOND });
    await app.userInput();
  }
  const chain = await rotation(idp);
  report(testInfo, `late answer: ${chain.renewals} renewals, ${chain.grantErrors} grant errors`);
  expect(chain.grants.filter((g) => !g.ok || !g.newest), "the refresh token of the late answer is the one presented next").toEqual([]);
  expect(chain.grantsRevoked).toEqual([]);
  expect(await app.state()).toBe("active");
  const res = await app.fetch(idp.config.userinfo_endpoint);
  expect(res.status).toBe(200);
});

test("7. a provider that sends expires_in as a string of digits: renewals go on, no refresh token lost", async ({ app, idp }, testInfo) => {
  await signIn(app, idp);
  await idp.shim("expires_in-as-string");
  for (let minute = 1; minute <= 10; minute++) {
    await app.advance(MINUTE, { step: 30 * SECOND });
    await app.userInput();
  }
  const grants = (await idp.events("grant.success")).filter((e) => e.grantType === "refresh_token");
  expect(grants.length).toBeGreaterThanOrEqual(6);
  const chain = await rotation(idp);
  report(testInfo, `expires_in as a string: ${chain.renewals} renewals, ${chain.grantErrors} grant errors`);
  expect(chain.grantErrors).toBe(0);
  expect(chain.notNewest).toEqual([]);
  expect((await app.events()).filter((e) => ["expired", "error"].includes(e.type))).toEqual([]);
  const res = await app.fetch(idp.config.userinfo_endpoint);
  expect(res.status).toBe(200);
});

test("9. an answer the client refuses (a 4-second access token) still hands over its rotated refresh token", async ({ app, idp }, testInfo) => {
  await signIn(app, idp);
  await app.advance(MINUTE);
  await app.userInput();
  // The renewal at 90 s gets an access token not longer than the client's 5 s skew margin:
  // malformed (rule 11), but its new refresh token is the provider's word and must be kept.
  await idp.shortAccessTokens(4);
  for (let minute = 1; minute <= 6; minute++) {
    await app.advance(MINUTE, { step: 30 * SECOND });
    await app.userInput();
  }
  const refused = (await idp.events("grant.success")).filter((e) => e.expiresIn === 4);
  expect(refused.map((e) => (e.atMs - T0) / SECOND), "the provider answered the 90 s renewal with a 4 s token").toEqual([90]);
  expect((await app.events("error")).map((e) => e.detail.code)).toEqual(["bad_token_response"]);
  const chain = await rotation(idp);
  report(testInfo, `refused answer: ${chain.renewals} renewals, ${chain.grantErrors} grant errors`);
  expect(chain.grants.filter((g) => !g.ok || !g.newest), "the refused answer's refresh token is the one presented next").toEqual([]);
  expect(chain.grantsRevoked).toEqual([]);
  expect(chain.renewals).toBeGreaterThanOrEqual(5);
  expect(await app.state()).toBe("active");
  expect((await app.fetch(idp.config.userinfo_endpoint)).status).toBe(200);
});

test.describe("the provider on the app's site (as on a custom domain beside the app)", () => {
  // Another origin, the same site: the browser would send the provider's SameSite=Lax session
  // cookie with a request made with credentials.
  test.use({ appHost: "127.0.0.1" });

  test("8. grants and the revocation go without the provider's cookies", async ({ app, idp }) => {
    await signIn(app, idp);
    const cookies = await app.page.context().cookies(idp.url);
    // Over http Chromium keeps the provider's `_session.legacy` cookies (no SameSite attribute: Lax).
    expect(cookies.map((c) => c.name), "the browser holds the provider's session cookies").toContain("_session.legacy");
    for (let minute = 1; minute <= 4; minute++) {
      await app.advance(MINUTE, { step: 30 * SECOND });
      await app.userInput();
    }
    await app.run(() => window.auth.logout());
    const log = await idp.log();
    const posts = log.requests.filter((r) => r.method === "POST" && ["/token", "/token/revocation"].includes(r.path));
    expect(posts.filter((r) => r.path === "/token").length, "the code exchange and the renewals").toBeGreaterThanOrEqual(3);
    expect(posts.filter((r) => r.path === "/token/revocation").map((r) => r.status)).toEqual([200]);
    expect(posts.filter((r) => r.cookies).map((r) => `${(r.atMs - T0) / SECOND}s ${r.path}`), "no cookies sent").toEqual([]);
    expect((await rotation(idp)).grantErrors).toBe(0);
  });
});
