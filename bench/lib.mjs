// Shared by the browser benchmarks (and Chromium's path and flags by playwright.config.mjs and tests/engines): Chromium,
// a small static server, statistics.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// The flags every Chromium run here takes (tests/engines/drivers/chromium.mjs too, whose driver
// sets headless itself).
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
export const CHROMIUM_ARGS = ["--headless=new", ...CHROMIUM_FLAGS];

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** An empty page: every benchmark runs its code through `page.evaluate`. */
export const BENCH_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>authpulse bench</title></head>' +
  '<body style="margin:0;height:100vh">authpulse bench</body></html>';

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/**
 * A static server on 127.0.0.1:0: `/bench.html`, `/pkg/*` from `pkgDir`, `/alt/*` from `altDir`
 * (the alternatives' bundles), `GET /ping` (a constant JSON body, counting the requests that
 * carried `Authorization`) and a stub `POST /auth/renew`. Cross-origin isolated (COOP/COEP), so
 * `performance.now()` has its fine resolution. Nothing is cached unless `cache` is set: then
 * `/pkg/*` and `/alt/*` may be kept for an hour, as a CDN would serve a versioned package.
 */
export async function startStaticServer(pkgDir, { altDir = null, cache = false } = {}) {
  const stats = { ping: 0, pingWithAuthorization: 0, renew: 0 };
  const isolation = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
  const files = { ...isolation, "Cache-Control": cache ? "public, max-age=3600" : "no-store" };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/ping") {
      stats.ping++;
      if (req.headers.authorization) stats.pingWithAuthorization++;
      res.writeHead(200, { ...isolation, "Content-Type": "application/json" });
      res.end('{"ok":true}');
    } else if (path === "/auth/renew" && req.method === "POST") {
      stats.renew++;
      res.writeHead(200, { ...isolation, "Content-Type": "application/json" });
      res.end(JSON.stringify({ access_token: `renewed-${stats.renew}`, token_type: "Bearer", expires_in: 86400 }));
    } else if (path === "/bench.html") {
      res.writeHead(200, { ...isolation, "Content-Type": "text/html" });
      res.end(BENCH_HTML);
    } else if (path.startsWith("/pkg/") || (altDir && path.startsWith("/alt/"))) {
      const dir = path.startsWith("/pkg/") ? pkgDir : altDir;
      const file = normalize(join(dir, path.slice(5)));
      if (!file.startsWith(dir)) return void res.writeHead(403).end();
      try {
        const body = await readFile(file);
        res.writeHead(200, { ...files, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
        res.end(body);
      } catch {
        res.writeHead(404, isolation).end();
      }
    } else {
      res.writeHead(404, isolation).end();
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, stats, close: () => new Promise((r) => server.close(r)) };
}

/** The SDK's public API as the contract names it, or the reason it cannot be used yet. */
export async function sdkReadiness(page) {
  return page.evaluate(async () => {
    let mod;
    try {
      mod = await import("/pkg/index.js");
    } catch (error) {
      return `pkg/index.js does not load (${error.message})`;
    }
    if (typeof mod.createAuthClient !== "function") return "pkg/ has no createAuthClient";
    let auth;
    try {
      auth = await mod.createAuthClient({ renewUrl: "/auth/renew" });
    } catch (error) {
      return `createAuthClient throws (${error.message})`;
    }
    const missing = ["fetch", "setSession", "start", "on", "dispose"].filter((m) => typeof auth[m] !== "function");
    auth.dispose?.();
    return missing.length ? `AuthClient lacks ${missing.join(", ")}` : null;
  });
}

/** First line of an error, for "not measured: <reason>". */
export const reason = (error) => String(error?.message ?? error).split("\n")[0].slice(0, 160);
