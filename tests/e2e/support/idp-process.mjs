// A real OpenID Connect provider for the end-to-end tests: panva's oidc-provider (certified, from
// npm) in a process of its own, on its own loopback origin, with a clock the tests move. Started
// by support/idp.mjs, which talks to it over the IPC channel of `child_process.fork`.
//
// The provider is configured as an identity provider is for a single-page app: one public client
// (`token_endpoint_auth_method: none`), authorization code with PKCE (S256), `offline_access`
// for a refresh token, refresh-token rotation, 2-minute access tokens, CORS for the app's origin
// only, the RFC 7009 revocation endpoint, and the userinfo endpoint as the protected resource the
// app calls. The provider's code is used as published: what the tests read comes from its events
// and its token store, and from a log of the requests its HTTP server answered. A test may steer
// it: hold an answer back (a slow network), issue short-lived access tokens (its `ttl` setting),
// or rewrite `expires_in` as a string, as some other providers send it.
//
// Time. oidc-provider reads time through `Date` (its `epochTime()` is `Date.now() / 1000`), so
// `Date` is replaced, before the provider is loaded, by one whose "now" stands still until the
// test sets it (`clock`), as the reference server's `/test/clock` does. Node's timers are left
// alone: nothing here waits on the clock.
import { createServer } from "node:http";

const RealDate = Date;
let nowMs = RealDate.now();
function FrozenDate(...args) {
  if (!new.target) return new RealDate(nowMs).toString();
  return args.length === 0 ? new RealDate(nowMs) : new RealDate(...args);
}
FrozenDate.now = () => nowMs;
FrozenDate.parse = RealDate.parse;
FrozenDate.UTC = RealDate.UTC;
FrozenDate.prototype = RealDate.prototype;
globalThis.Date = FrozenDate;

const { default: Provider } = await import("oidc-provider");

const { appOrigin, clientId, redirectUri, accessTokenSecs } = JSON.parse(process.argv[2]);

// What the tests read back: the requests answered, and the provider's events.
const requests = [];
const events = [];
const errors = [];
// Test steering: answers to a path held back until released (a slow network: the provider has
// handled the request); token responses written the way some other providers send them.
const held = []; // { path, count, waiting: [send], released }
let tokenResponseShim = null; // "expires_in-as-string"
let shortAccessTokens = { secs: 0, count: 0 }; // the next `count` access tokens live `secs` seconds

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      application_type: "web",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [redirectUri],
    },
  ],
  // The browser-based app's origin may call the token, revocation and userinfo endpoints.
  clientBasedCORS: (ctx, origin, client) => origin === appOrigin && client.clientId === clientId,
  pkce: { methods: ["S256"], required: () => true },
  // A public client's refresh token is rotated on every use (also the default for public clients).
  rotateRefreshToken: true,
  scopes: ["openid", "offline_access", "profile"],
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: sub }) }),
  features: {
    devInteractions: { enabled: true }, // the provider's own login and consent pages
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  ttl: {
    AccessToken: () => {
      if (shortAccessTokens.count <= 0) return accessTokenSecs;
      shortAccessTokens.count--;
      return shortAccessTokens.secs;
    },
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
  },
  cookies: { keys: ["authpulse-e2e-cookie-key-not-secret"] },
});

const record = (name, detail = {}) => events.push({ atMs: Date.now(), name, ...detail });
const grantDetail = (ctx) => ({
  grantType: ctx.oidc?.params?.grant_type,
  presented: ctx.oidc?.params?.refresh_token,
});

provider.on("grant.success", (ctx) => {
  const body = ctx.body ?? {};
  record("grant.success", { ...grantDetail(ctx), issued: body.refresh_token, accessToken: body.access_token, expiresIn: body.expires_in });
});
provider.on("grant.error", (ctx, error) => {
  record("grant.error", { ...grantDetail(ctx), error: error.error, description: error.error_detail ?? error.error_description });
});
provider.on("grant.revoked", (ctx, grantId) => record("grant.revoked", { grantId, route: ctx.oidc?.route }));
provider.on("refresh_token.consumed", (token) => record("refresh_token.consumed", { grantId: token.grantId }));
provider.on("refresh_token.destroyed", (token) => record("refresh_token.destroyed", { grantId: token.grantId }));
provider.on("revocation.error", (ctx, error) => record("revocation.error", { error: error.error, description: error.error_description }));
provider.on("userinfo.error", (ctx, error) => record("userinfo.error", { error: error.error, description: error.error_description }));
provider.on("authorization.error", (ctx, error) => record("authorization.error", { error: error.error, description: error.error_description }));
provider.on("server_error", (ctx, error) => {
  record("server_error", { error: String(error) });
  errors.push(String(error?.stack ?? error));
});

// Some providers send `expires_in` as a string of digits; this one sends a number. The shim
// rewrites only that field of a successful token response, after the provider made it.
provider.use(async (ctx, next) => {
  await next();
  if (tokenResponseShim === "expires_in-as-string" && ctx.path === "/token" && ctx.status === 200 && typeof ctx.body?.expires_in === "number") {
    ctx.body = { ...ctx.body, expires_in: String(ctx.body.expires_in) };
  }
});

// How the provider would judge a bearer token at the moment it arrives.
async function judge(authorization) {
  const match = /^Bearer (\S+)$/i.exec(authorization ?? "");
  if (!match) return "none";
  const token = await provider.AccessToken.find(match[1], { ignoreExpiration: true });
  if (!token) return "unknown";
  return token.isExpired ? "expired" : "valid";
}

const callback = provider.callback();
server.on("request", async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  const entry = { atMs: Date.now(), method: req.method, path, token: await judge(req.headers.authorization) };
  if (req.headers.origin) entry.origin = req.headers.origin;
  if (req.method === "POST" && req.headers.cookie && ["/token", "/token/revocation"].includes(path)) entry.cookies = true;
  requests.push(entry);
  res.on("finish", () => (entry.status = res.statusCode));
  res.on("close", () => (entry.status ??= "closed"));
  const rule = req.method === "POST" && held.find((h) => h.path === path && h.count > 0);
  if (rule) {
    // The provider handles the request now; its answer leaves when the test releases it.
    rule.count--;
    entry.held = true;
    const end = res.end.bind(res);
    res.end = (...args) => {
      const send = () => {
        entry.releasedAtMs = Date.now();
        end(...args);
      };
      if (rule.released) send();
      else rule.waiting.push(send);
      return res;
    };
  }
  callback(req, res);
});

async function inspectRefreshToken(value) {
  const token = await provider.RefreshToken.find(value, { ignoreExpiration: true });
  if (!token) return { found: false };
  const grant = await provider.Grant.find(token.grantId, { ignoreExpiration: true });
  return { found: true, consumed: Boolean(token.consumed), expired: token.isExpired, grant: Boolean(grant) };
}

const operations = {
  clock: ({ nowMs: to }) => {
    nowMs = to;
    return { nowMs };
  },
  log: () => ({ nowMs, requests, events, errors }),
  clearLog: () => {
    requests.length = 0;
    events.length = 0;
    return null;
  },
  refreshToken: ({ value }) => inspectRefreshToken(value),
  accessToken: async ({ value }) => {
    const token = await provider.AccessToken.find(value, { ignoreExpiration: true });
    return token ? { found: true, expired: token.isExpired } : { found: false };
  },
  hold: ({ path, count = 1 }) => {
    held.push({ path, count, waiting: [], released: false });
    return null;
  },
  release: () => {
    let released = 0;
    for (const rule of held) {
      rule.released = true;
      rule.count = 0;
      for (const send of rule.waiting.splice(0)) {
        send();
        released++;
      }
    }
    return { released };
  },
  shortAccessTokens: ({ secs, count = 1 }) => {
    shortAccessTokens = { secs, count };
    return null;
  },
  shim: ({ name }) => {
    tokenResponseShim = name;
    return null;
  },
};

process.on("message", async ({ id, op, args }) => {
  try {
    const result = await operations[op](args ?? {});
    process.send({ id, ok: true, result });
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) });
  }
});

process.send({ ready: true, issuer });
