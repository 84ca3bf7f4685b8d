// What a scenario's failure prints, shared by the Playwright harness (support/harness.mjs) and
// the cross-engine suite (tests/engines): the page's record of its requests and the client's
// events, and the server's request log, as one timeline.

// Installed before any page script: records the page's requests and keeps a count of those in
// flight, so the harness knows when the network has settled. Self-contained: Playwright's
// addInitScript sends its source to the page, and the cross-engine suite bundles it.
export function tracePageNetwork() {
  const e2e = (window.__e2e = { log: [], inflight: 0 });
  const realFetch = window.fetch;
  const short = (value) => (value && value.length > 24 ? `${value.slice(0, 7)}…${value.slice(-8)}` : value);
  let next = 1;
  window.fetch = function fetch(input, init) {
    const id = next++;
    const entry = { at: Date.now(), kind: "request", id, method: "GET", url: "", auth: null };
    try {
      if (input instanceof Request) {
        entry.method = input.method;
        entry.url = input.url;
        entry.auth = input.headers.get("authorization");
        entry.keepalive = input.keepalive || undefined;
      } else {
        entry.url = new URL(String(input), location.href).href;
      }
      if (init?.method) entry.method = init.method.toUpperCase();
      if (init?.headers) entry.auth = new Headers(init.headers).get("authorization") ?? entry.auth;
      if (init?.keepalive) entry.keepalive = true;
      if (entry.url.startsWith(location.origin)) entry.url = entry.url.slice(location.origin.length);
      entry.auth = short(entry.auth);
    } catch (error) {
      entry.note = `could not read the request: ${error}`;
    }
    e2e.log.push(entry);
    e2e.inflight++;
    let pending;
    try {
      pending = realFetch.call(window, input, init);
    } catch (error) {
      e2e.inflight--;
      throw error;
    }
    return pending.then(
      (response) => {
        e2e.inflight--;
        e2e.log.push({ at: Date.now(), kind: "response", id, status: response.status });
        return response;
      },
      (error) => {
        e2e.inflight--;
        e2e.log.push({ at: Date.now(), kind: "response", id, error: String(error) });
        throw error;
      },
    );
  };
  const realBeacon = navigator.sendBeacon?.bind(navigator);
  if (realBeacon) {
    navigator.sendBeacon = (url, data) => {
      e2e.log.push({ at: Date.now(), kind: "beacon", url: String(url) });
      return realBeacon(url, data);
    };
  }
}

/**
 * Client and server, one timeline, times relative to `t0`: `clientLog` resolves to the page's
 * `window.__e2e.log`, `server` is a support/server.mjs Server, `now` stands in for a time that
 * cannot be read.
 */
export async function timeline({ t0, now, clientLog, server }) {
  const rel = (at) => `+${((at - t0) / 1000).toFixed(3).padStart(9)}s`;
  const rows = [];
  try {
    for (const e of await clientLog()) {
      let text;
      if (e.kind === "request") {
        text = `client  → #${e.id} ${e.method} ${e.url}${e.auth ? ` [${e.auth}]` : " [no token]"}${e.keepalive ? " keepalive" : ""}${e.note ? ` (${e.note})` : ""}`;
      } else if (e.kind === "response") {
        text = `client  ← #${e.id} ${e.error ?? e.status}`;
      } else if (e.kind === "event") {
        text = `client  event ${e.type} ${JSON.stringify(e.detail)} state=${e.state}`;
      } else {
        text = `client  ${e.kind} ${e.text ?? e.url ?? ""}`;
      }
      rows.push([e.at, 0, text]);
    }
  } catch (error) {
    rows.push([now, 0, `client  (log unavailable: ${error.message})`]);
  }
  try {
    const log = await server.log();
    for (const r of log.requests) {
      rows.push([r.atMs, 1, `server  ${r.method} ${r.path} token=${r.token} → ${r.status}${r.injected ? " (injected)" : ""}`]);
    }
    const echo = await server.echoLog();
    for (const r of echo.requests) {
      rows.push([r.atMs, 1, `echo    ${r.method} ${r.path} authorization=${r.headers.authorization ?? "-"}`]);
    }
    rows.push([log.nowMs, 2, `server  clock now (renewals ${JSON.stringify(log.renewals)})`]);
  } catch (error) {
    rows.push([now, 2, `server  (log unavailable: ${error.message})`]);
  }
  rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const stderr = server.stderr.join("").trim();
  return [
    ...rows.map(([at, , text]) => `${rel(at)}  ${text}`),
    ...(stderr ? ["server stderr:", stderr] : []),
  ].join("\n");
}
