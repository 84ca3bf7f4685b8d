// Part 6, start-up: the time from `import()` to a client ready for use, in headless Chromium
// against a static server on 127.0.0.1 that lets the browser cache the files.
//   authpulse       import pkg/index.js, `init()` (fetch, compile and instantiate the wasm module,
//                   streamed), `new AuthClient(options)`
//   oidc-client-ts  import its bundle (bench/size.mjs made it), `new UserManager(settings)`
// cold:   a new browser context for each load (empty HTTP and code caches)
// cached: later loads in one context whose first load filled the caches
// Usage: node bench/startup.mjs OUT.json
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, median, reason, startStaticServer } from "./lib.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ROUNDS = 15; // per library, cold and cached each

const server = await startStaticServer(join(root, "pkg"), { altDir: join(root, "target", "bench", "bundles"), cache: true });
const browser = await launch();
const result = { chromium: browser.version(), rounds: ROUNDS };

// Each runs in a fresh page: import, then build a client; times in ms from performance.now().
const LIBRARIES = {
  authpulse: async () => {
    const t0 = performance.now();
    const mod = await import("/pkg/index.js");
    const t1 = performance.now();
    await mod.init();
    const t2 = performance.now();
    const client = new mod.AuthClient({ renewUrl: "/auth/renew" });
    const t3 = performance.now();
    client.dispose();
    return { importMs: t1 - t0, wasmMs: t2 - t1, clientMs: t3 - t2, totalMs: t3 - t0 };
  },
  "oidc-client-ts": async () => {
    const t0 = performance.now();
    const mod = await import("/alt/oidc-client-ts.min.js");
    const t1 = performance.now();
    const client = new mod.UserManager({
      authority: `${location.origin}/idp`,
      client_id: "spa",
      redirect_uri: `${location.origin}/callback`,
    });
    const t2 = performance.now();
    client.stopSilentRenew?.();
    return { importMs: t1 - t0, wasmMs: 0, clientMs: t2 - t1, totalMs: t2 - t0 };
  },
};

async function load(context, name) {
  const page = await context.newPage();
  await page.goto(`${server.url}/bench.html`);
  const times = await page.evaluate(`(${LIBRARIES[name]})()`);
  await page.close();
  return times;
}

const summary = (runs) =>
  Object.fromEntries(["importMs", "wasmMs", "clientMs", "totalMs"].map((k) => [k, median(runs.map((r) => r[k]))]));

try {
  const runs = Object.fromEntries(Object.keys(LIBRARIES).map((n) => [n, { cold: [], cached: [] }]));
  // Cold: the libraries take turns, each load in a new context.
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of Object.keys(LIBRARIES)) {
      const context = await browser.newContext();
      runs[name].cold.push(await load(context, name));
      await context.close();
    }
  }
  // Cached: one context per library, its first load not counted.
  for (const name of Object.keys(LIBRARIES)) {
    const context = await browser.newContext();
    await load(context, name);
    for (let r = 0; r < ROUNDS; r++) runs[name].cached.push(await load(context, name));
    await context.close();
  }
  for (const [name, { cold, cached }] of Object.entries(runs)) {
    result[name] = { cold: summary(cold), cached: summary(cached), coldTotals: cold.map((r) => r.totalMs), cachedTotals: cached.map((r) => r.totalMs) };
  }
} catch (error) {
  result.failed = `not measured: ${reason(error)}`;
} finally {
  await browser.close();
  await server.close();
}
writeFileSync(process.argv[2], JSON.stringify(result, null, 2));
console.error(`startup: ${JSON.stringify(result).slice(0, 600)}`);
