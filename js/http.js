// The network: the app's requests with the bearer token and the one retry after a 401 (rules
// 5, 8, 9), renew requests, and the end of the server session. What a response means is the
// engine's to say; this file only sends and reports.

// Engine.access result while callers wait; Engine.response's "retry once".
export const WAIT = -1;
const RETRY = 1;
// The only status Engine.response can answer anything but "return it" for (src/core/retry.rs):
// responses with any other go straight back to the caller.
const UNAUTHORIZED = 401;

// Settles with `promise`, or rejects with `signal.reason` as soon as the signal aborts, as
// window.fetch does for a caller that stops waiting.
function abortable(promise, signal) {
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort);
    if (signal.aborted) abort();
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/**
 * `window.fetch` with the token. `client`: { allows(url), access() (a token, WAIT or null),
 * token() (a promise of a token or null), response(status, challenge, generation, retried,
 * replayable, url) }, where a token is { token, generation }.
 */
export async function fetchWithToken(page, client, input, init) {
  const request = new Request(input, init);
  const { signal } = request;
  // Like window.fetch: an aborted call starts nothing (no renewal either).
  if (signal.aborted) throw signal.reason;
  if (request.headers.has("authorization") || !client.allows(request.url)) return page.fetch(request);
  const replayable = !(init?.body instanceof ReadableStream);
  // fetch consumes a body; a request without one can be sent again as it is.
  const spare = replayable && request.body !== null ? request.clone() : request;
  let first = client.access();
  if (first === WAIT) first = await abortable(client.token(), signal);
  if (!first) return page.fetch(request);
  request.headers.set("Authorization", `Bearer ${first.token}`);
  const response = await page.fetch(request);
  if (response.status !== UNAUTHORIZED) return response;
  // The final URL (after redirects) decides whether the 401 is about the token; a response
  // without one (made by a script) is the request's.
  const url = response.url || request.url;
  const challenge = response.headers.get("www-authenticate");
  if (client.response(response.status, challenge, first.generation, false, replayable, url) !== RETRY) return response;
  const second = await abortable(client.token(), signal);
  if (!second) return response; // signed out meanwhile: the original 401
  spare.headers.set("Authorization", `Bearer ${second.token}`);
  const retried = await page.fetch(spare);
  if (retried.status === UNAUTHORIZED) {
    client.response(retried.status, retried.headers.get("www-authenticate"), second.generation, true, false, retried.url || spare.url);
  }
  return retried;
}

/**
 * A token response's fields as plain values for Engine (signIn, renewalAnswered):
 * [access_token, expires_in, token_type, refresh_token, exp, iat, error], `exp` and `iat` the
 * claims of a JWT access token (decoded here, by the browser, when `expires_in` is absent);
 * null when `response` is not an object or reading it threw (a getter, a Proxy trap).
 */
export function tokenFields(response) {
  if (response === null || typeof response !== "object") return null;
  try {
    const { access_token, expires_in, token_type, refresh_token, error } = response;
    let claims;
    if (expires_in == null) {
      try {
        const payload = access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
        claims = JSON.parse(atob(payload));
      } catch {}
    }
    return [access_token, expires_in, token_type, refresh_token, claims?.exp, claims?.iat, error];
  } catch {
    return null;
  }
}

/**
 * One renew request: the session strategy (section 2 of the contract: the auth-session cookie,
 * so with credentials) when `clientId` is null, else the refresh_token grant (RFC 6749 section
 * 6; cookies play no part, so without credentials, as an identity provider's CORS expects).
 * Resolves to { status, fields, retryAfter } (fields: see tokenFields, from the JSON body;
 * retryAfter: ms, NaN without the header);
 * rejects when no response arrived.
 */
export async function requestRenewal(page, [url, clientId], idleMs, refreshToken, signal) {
  const init = { method: "POST", credentials: "include", signal };
  if (clientId === null) {
    init.headers = { "X-Requested-With": "authpulse", "Content-Type": "application/json" };
    init.body = JSON.stringify({ idleMs });
  } else {
    init.credentials = "omit";
    init.body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken ?? "", client_id: clientId });
  }
  const response = await page.fetch(url, init);
  const body = await response.json().catch(() => undefined);
  // Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP date, as ms from now.
  const after = response.headers.get("retry-after") ?? "";
  const retryAfter = /^\d+$/.test(after) ? after * 1e3 : Date.parse(after) - Date.now();
  return { status: response.status, fields: tokenFields(body), retryAfter };
}

const send = (page, url, init) => page.fetch(url, { method: "POST", keepalive: true, ...init }).catch(() => {});

/** Revokes a refresh token (RFC 7009), without credentials; best effort. */
export function revoke(page, [, clientId, revokeUrl], refreshToken) {
  if (revokeUrl !== null && refreshToken != null) {
    const body = new URLSearchParams({ token: refreshToken, token_type_hint: "refresh_token", client_id: clientId });
    send(page, revokeUrl, { credentials: "omit", body });
  }
}

/** Ends the server session: best effort, and it must survive the page unloading. */
export function endServerSession(page, endpoints, refreshToken) {
  const logoutUrl = endpoints[3];
  if (logoutUrl !== null) send(page, logoutUrl, { credentials: "include", headers: { "X-Requested-With": "authpulse" } });
  revoke(page, endpoints, refreshToken);
}
