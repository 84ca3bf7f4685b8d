// The network: the app's requests with the bearer token and the one retry after a 401 (rules
// 5, 8, 9), renew requests, and the end of the server session. What a response means is the
// engine's to say; this file only sends and reports.

// Engine.access result while a renewal is in flight; Engine.response's "retry once".
export const WAIT = -1;
const RETRY = 1;
// The only status Engine.response can answer anything but "return it" for (src/core/retry.rs):
// responses with any other go straight back to the caller.
const UNAUTHORIZED = 401;

/**
 * `window.fetch` with the token. `client`: { allows(url), access() (a token, WAIT or null),
 * token() (a promise of a token or null), response(status, challenge, generation, retried,
 * replayable) }, where a token is { token, generation }.
 */
export async function fetchWithToken(page, client, input, init) {
  const request = new Request(input, init);
  if (request.headers.has("authorization") || !client.allows(request.url)) return page.fetch(request);
  const replayable = !(init?.body instanceof ReadableStream);
  // fetch consumes a body; a request without one can be sent again as it is.
  const spare = replayable && request.body !== null ? request.clone() : request;
  let first = client.access();
  if (first === WAIT) first = await client.token();
  if (!first) return page.fetch(request);
  request.headers.set("Authorization", `Bearer ${first.token}`);
  const response = await page.fetch(request);
  if (response.status !== UNAUTHORIZED) return response;
  const challenge = response.headers.get("www-authenticate");
  if (client.response(response.status, challenge, first.generation, false, replayable) !== RETRY) return response;
  const second = await client.token();
  if (!second) return response; // signed out meanwhile: the original 401
  spare.headers.set("Authorization", `Bearer ${second.token}`);
  const retried = await page.fetch(spare);
  if (retried.status === UNAUTHORIZED) {
    client.response(retried.status, retried.headers.get("www-authenticate"), second.generation, true, false);
  }
  return retried;
}

/**
 * One renew request: the session strategy (section 2 of the contract) when `clientId` is null,
 * else the refresh_token grant (RFC 6749 section 6). Resolves to { status, body } (body: the
 * parsed JSON, or undefined); rejects when no response arrived.
 */
export async function requestRenewal(page, [url, clientId], idleMs, refreshToken, signal) {
  const init = { method: "POST", credentials: "include", signal };
  if (clientId === null) {
    init.headers = { "X-Requested-With": "authpulse", "Content-Type": "application/json" };
    init.body = JSON.stringify({ idleMs });
  } else {
    init.body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken ?? "", client_id: clientId });
  }
  const response = await page.fetch(url, init);
  const body = await response.json().catch(() => undefined);
  return { status: response.status, body };
}

/** Ends the server session: best effort, and it must survive the page unloading. */
export function endServerSession(page, [, clientId, revokeUrl, logoutUrl], refreshToken) {
  const send = (url, init) => page.fetch(url, { method: "POST", credentials: "include", keepalive: true, ...init }).catch(() => {});
  if (logoutUrl !== null) send(logoutUrl, { headers: { "X-Requested-With": "authpulse" } });
  if (revokeUrl !== null && refreshToken != null) {
    send(revokeUrl, { body: new URLSearchParams({ token: refreshToken, token_type_hint: "refresh_token", client_id: clientId }) });
  }
}
