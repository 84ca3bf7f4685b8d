// Parts 4 and 5, in headless Chromium against the reference server (--test-controls), with
// Playwright's fake clock and the server's clock kept in step:
//   renewals  8 simulated hours of active use, 5-minute tokens: 1 tab vs 10 tabs
//   memory    wasm linear memory and JS heap before/after 24 simulated hours
// Usage: node bench/session.mjs SERVER_BINARY OUT.json
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { BENCH_HTML, launch, reason, sdkReadiness } from "./lib.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const [serverBinary, outFile] = process.argv.slice(2);
const TOKEN_SECS = 300;
const RENEW_MARGIN_MS = 60_000; // the contract's default: min(60 s, lifetime / 4)
const STEP_MS = 60_000; // one simulated minute per step, with input in every step
const HOUR_MS = 3_600_000;

const result = {};

async function startServer() {
  const child = spawn(
    serverBinary,
    [
      "--port", "0",
      "--db", ":memory:",
      "--test-controls",
      "--www", join(root, "www"),
      "--pkg", process.env.BENCH_PKG ?? join(root, "pkg"),
      "--access-token-secs", String(TOKEN_SECS),
      "--idle-timeout-secs", "900",
      // Long enough for the 24-hour memory run: the absolute cap is not what is measured.
      "--session-lifetime-secs", String(26 * 3600),
      "--refresh-token-secs", String(26 * 3600),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    child.on("exit", (code) => reject(new Error(`server exited (${code}): ${stderr.trim().split("\n").pop()}`)));
    lines.on("line", (line) => {
      const match = /^listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const call = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
    return res.status === 204 ? null : res.json();
  };
  return { url, call, stop: () => child.kill("SIGTERM") };
}

/**
 * A browser context on the server's origin with the fake clock installed before any page, and
 * `tabs` pages, each with a client started through the session cookie of one sign-in.
 */
async function openTabs(browser, server, tabs, withClient = true) {
  const context = await browser.newContext();
  // The bench page is served by Playwright on the server's origin; the package comes from the
  // server's /pkg/.
  await context.route("**/bench.html", (route) => route.fulfill({ contentType: "text/html", body: BENCH_HTML }));
  const start = Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;
  await server.call("POST", "/test/clock", { nowMs: start, frozen: false });
  await context.clock.install({ time: start });
  // The module's memory, kept as the page instantiates it (init() resolves to nothing).
  await context.addInitScript(() => {
    WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
      construct(target, args) {
        const instance = Reflect.construct(target, args);
        window.wasmMemory = instance.exports.memory;
        return instance;
      },
    });
  });
  // Requests in flight, so that no clock jump lands while one is answered: a real renewal takes
  // milliseconds, not the simulated minute of a jump (which would fire its deadline).
  // Only renewals are tracked, until the server has answered (its response headers are in).
  const pending = new Set();
  const inflight = { get count() { return pending.size; } };
  const isRenewal = (request) => request.method() === "POST" && request.url().endsWith("/auth/renew");
  context.on("request", (request) => isRenewal(request) && pending.add(request));
  context.on("response", (response) => pending.delete(response.request()));
  context.on("requestfailed", (request) => pending.delete(request));
  const pages = [];
  for (let i = 0; i < tabs; i++) {
    const page = await context.newPage();
    await page.goto(`${server.url}/bench.html`);
    pages.push(page);
  }
  // Every tab's clock paused at one time, so that the tabs read the same Date.now() as tabs of a
  // real browser do: a page's running fake clock starts when the page is made, tens of
  // milliseconds apart, and tabs whose clocks disagree date a shared token differently (one then
  // waits for a "newer" token, and the jump that follows times its renewal out). From here on
  // time moves only by the jumps of `simulate`.
  await context.clock.pauseAt(start + 10_000);
  const login = await pages[0].evaluate(async () => {
    const res = await fetch("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "alice" }),
    });
    return res.status;
  });
  if (login !== 200) throw new Error(`sign-in answered ${login}`);
  for (const page of withClient ? pages : []) {
    const signedIn = await page.evaluate(async () => {
      const { createAuthClient } = await import("/pkg/index.js");
      window.auth = await createAuthClient({ renewUrl: "/auth/renew" });
      window.renewed = 0;
      window.expired = [];
      window.auth.on("renewed", () => window.renewed++);
      window.auth.on("expired", ({ reason }) => window.expired.push(reason));
      return window.auth.start();
    });
    if (signedIn !== true) throw new Error(`start() resolved to ${signedIn}`);
  }
  return { context, pages, inflight };
}

/**
 * Simulated use: each step every tab gets a real mouse move, then the clocks jump one minute
 * (the server's first, so a renewal fired by the jump meets a server already at that time).
 * `everyStep` runs after each jump.
 */
async function simulate(server, { context, pages, inflight }, durationMs, everyStep) {
  const steps = Math.round(durationMs / STEP_MS);
  for (let step = 0; step < steps; step++) {
    for (let waited = 0; inflight.count > 0 && waited < 2_000; waited += 5) await sleep(5);
    await Promise.all(pages.map((page, i) => page.mouse.move(50 + ((step + i) % 200), 50 + (step % 3))));
    const pageNow = await pages[0].evaluate(() => Date.now());
    await server.call("POST", "/test/clock", { nowMs: pageNow + STEP_MS, frozen: false });
    await context.clock.fastForward(STEP_MS);
    // A renewal the jump started takes a few real milliseconds (the Web Lock turn) to reach the
    // network; the next step waits for what is in flight by then.
    await sleep(10);
    if (everyStep) await everyStep(step);
  }
  // Renewals started by the last jump finish in real time.
  await sleep(100);
  for (let waited = 0; inflight.count > 0 && waited < 2_000; waited += 5) await sleep(5);
}

async function resetCounts(server, pages) {
  await server.call("POST", "/test/log/clear");
  await Promise.all(pages.map((page) => page.evaluate(() => (window.renewed = 0))));
}

async function tabState(pages) {
  return Promise.all(
    pages.map((page) => page.evaluate(() => ({ state: window.auth.state, renewed: window.renewed, expired: window.expired }))),
  );
}

async function renewals(browser, server, tabs) {
  const tabsOpen = await openTabs(browser, server, tabs);
  const { context, pages } = tabsOpen;
  await resetCounts(server, pages);
  const t0 = Date.now();
  await simulate(server, tabsOpen, 8 * HOUR_MS);
  const log = await server.call("GET", "/test/log");
  const states = await tabState(pages);
  await context.close();
  return {
    tabs,
    simulatedHours: 8,
    renewals: log.renewals.total,
    ok: log.renewals.ok,
    rejected: log.renewals.rejected,
    failed: log.renewals.failed,
    perTab: states.map((s) => s.renewed),
    states: [...new Set(states.map((s) => s.state))],
    expired: states.flatMap((s) => s.expired),
    realSeconds: (Date.now() - t0) / 1000,
  };
}

/**
 * What the page's JS heap holds, from a heap snapshot: compiled code (V8's "code" nodes: bytecode
 * and the machine code of functions it optimized) and everything else V8 allocates (objects,
 * strings, closures, arrays), in bytes of self size; Blink's own ("native") nodes are left out.
 */
async function heapBreakdown(cdp) {
  const chunks = [];
  const collect = ({ chunk }) => chunks.push(chunk);
  cdp.on("HeapProfiler.addHeapSnapshotChunk", collect);
  await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  cdp.off("HeapProfiler.addHeapSnapshotChunk", collect);
  const { snapshot, nodes } = JSON.parse(chunks.join(""));
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const [type, size] = [fields.indexOf("type"), fields.indexOf("self_size")];
  const out = { codeBytes: 0, objectBytes: 0 };
  for (let i = 0; i < nodes.length; i += fields.length) {
    const kind = types[nodes[i + type]];
    if (kind === "code") out.codeBytes += nodes[i + size];
    else if (kind !== "native" && kind !== "synthetic") out.objectBytes += nodes[i + size];
  }
  return out;
}

/**
 * With `withClient` false, the same page, clock, input and requests (bare `fetch`) without an
 * authpulse client: what the page's heap does on its own (the fake clock, the protocol).
 */
async function memory(browser, server, withClient = true) {
  const tabsOpen = await openTabs(browser, server, 1, withClient);
  const { context, pages } = tabsOpen;
  const [page] = pages;
  const cdp = await context.newCDPSession(page);
  const measure = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const { usedSize } = await cdp.send("Runtime.getHeapUsage");
    const breakdown = await heapBreakdown(cdp);
    const wasmBytes = withClient ? await page.evaluate(() => window.wasmMemory.buffer.byteLength) : 0;
    return { jsHeapBytes: usedSize, wasmBytes, ...breakdown };
  };
  // "Before" is after one simulated hour, so that first-use allocations are not counted as growth.
  const statuses = {};
  const fetchEvery = async (step) => {
    if (step % 5) return;
    const status = await page.evaluate(async () => (await (window.auth ?? window).fetch("/api/me")).status);
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  await simulate(server, tabsOpen, HOUR_MS, fetchEvery);
  const before = await measure();
  await resetCounts(server, pages);
  await simulate(server, tabsOpen, 24 * HOUR_MS, fetchEvery);
  const after = await measure();
  const log = await server.call("GET", "/test/log");
  const [state] = withClient ? await tabState(pages) : [{ state: "no client" }];
  await context.close();
  return { simulatedHours: 24, before, after, renewals: log.renewals.total, apiStatuses: statuses, state: state.state };
}

let server;
const browser = await launch();
try {
  server = await startServer();
  const probe = await browser.newPage();
  await probe.goto(`${server.url}/pkg/index.js`);
  const notReady = await sdkReadiness(probe);
  await probe.close();
  const only = process.env.BENCH_ONLY?.split(",");
  for (const [name, run] of [
    ["renewals1", () => renewals(browser, server, 1)],
    ["renewals10", () => renewals(browser, server, 10)],
    ["memory", () => memory(browser, server)],
    ["memoryBaseline", () => memory(browser, server, false)],
  ]) {
    if (only && !only.includes(name)) continue;
    if (notReady) {
      result[name] = { notMeasured: notReady };
      continue;
    }
    const t0 = Date.now();
    try {
      await server.call("POST", "/test/reset");
      result[name] = await run();
    } catch (error) {
      result[name] = { notMeasured: reason(error) };
    }
    console.error(`session: ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(result[name]).slice(0, 400)}`);
  }
  result.expectedRenewals = Math.ceil((8 * HOUR_MS) / (TOKEN_SECS * 1000 - RENEW_MARGIN_MS));
} catch (error) {
  for (const name of ["renewals1", "renewals10", "memory", "memoryBaseline"]) result[name] ??= { notMeasured: reason(error) };
} finally {
  server?.stop();
  await browser.close();
}
writeFileSync(outFile, JSON.stringify(result, null, 2));
