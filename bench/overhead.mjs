// Parts 2 and 3, in headless Chromium against a static server on 127.0.0.1:0:
//   fetch    authClient.fetch vs bare fetch, token cached: (a) a localhost endpoint, ratio per
//            call; (b) window.fetch stubbed to resolve at once, microseconds of SDK cost per call
//   activity trusted pointermoves sent through the DevTools protocol under the CPU profiler:
//            main-thread time per event in authpulse's listener, and the page without it
// Usage: node bench/overhead.mjs OUT.json
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, median, reason, sdkReadiness, startStaticServer } from "./lib.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const FETCH_CALLS = 2_000; // sequential calls per arm and round, against localhost
const FETCH_ROUNDS = 3;
const FETCH_BLOCK = 250; // arms take turns every this many calls, so load bursts fall on all alike
const STUB_CALLS = 5_000;
const STUB_ROUNDS = 7;
const MOVE_BATCH = 2_000; // trusted pointermoves per profiled batch
const MOVE_BATCHES = 5; // per page, alternating between the pages: >= 10,000 moves each
const SAMPLING_INTERVAL_US = 25;
const BUSY_MS = 60_000; // the busy minute: real time, moves one after the other

// BENCH_PKG: another build of the package (say, main's) for a before/after comparison.
const server = await startStaticServer(process.env.BENCH_PKG ?? join(root, "pkg"));
const browser = await launch();
const result = { chromium: browser.version() };

async function freshPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/bench.html`);
  return page;
}

/**
 * Times every `pointermove` listener registered from now on: each call is wrapped in two
 * `performance.now()` reads (5 us resolution with jitter when cross-origin isolated, unbiased
 * over thousands of events); the wrapper's own cost is measured on a no-op listener. A listener
 * removed (authpulse parks its pointermove listener between reports) takes its wrapper with it.
 * Timer callbacks are timed too (`timerMs`, `timerCalls`): on the bench page only the client
 * sets timers.
 */
async function timeListeners(page) {
  await page.evaluate(() => {
    const add = EventTarget.prototype.addEventListener;
    const remove = EventTarget.prototype.removeEventListener;
    const wrappers = new WeakMap(); // listener -> { capture flag -> wrapper }
    const capture = (options) => Boolean(typeof options === "object" ? options?.capture : options);
    window.listenerMs = 0;
    window.listenerCalls = 0;
    window.timerMs = 0;
    window.timerCalls = 0;
    EventTarget.prototype.addEventListener = function (type, listener, options) {
      if (type !== "pointermove" || typeof listener !== "function") {
        return add.call(this, type, listener, options);
      }
      const byCapture = wrappers.get(listener) ?? {};
      wrappers.set(listener, byCapture);
      const timed = (byCapture[capture(options)] ??= function (event) {
        const t0 = performance.now();
        try {
          return listener.call(this, event);
        } finally {
          window.listenerMs += performance.now() - t0;
          window.listenerCalls++;
        }
      });
      return add.call(this, type, timed, options);
    };
    EventTarget.prototype.removeEventListener = function (type, listener, options) {
      const timed = type === "pointermove" && wrappers.get(listener)?.[capture(options)];
      return remove.call(this, type, timed || listener, options);
    };
    const setTimeout = window.setTimeout;
    window.setTimeout = function (callback, delay, ...args) {
      if (typeof callback !== "function") return setTimeout(callback, delay, ...args);
      return setTimeout(function () {
        const t0 = performance.now();
        try {
          return callback.apply(this, args);
        } finally {
          window.timerMs += performance.now() - t0;
          window.timerCalls++;
        }
      }, delay);
    };
  });
}

/** Creates `window.auth`, signed in with a long-lived token, so every call has it cached. */
async function signIn(page) {
  await page.evaluate(async () => {
    const { createAuthClient } = await import("/pkg/index.js");
    window.auth = await createAuthClient({ renewUrl: "/auth/renew" });
    window.auth.setSession({ access_token: "bench-token", token_type: "Bearer", expires_in: 86_400 });
  });
}

async function fetchLocalhost() {
  const page = await freshPage();
  await signIn(page);
  const before = { ...server.stats };
  const rounds = await page.evaluate(
    async ({ calls, rounds, block }) => {
      const bare = async (n) => {
        for (let i = 0; i < n; i++) await (await fetch("/ping")).arrayBuffer();
      };
      const sdk = async (n) => {
        for (let i = 0; i < n; i++) await (await window.auth.fetch("/ping")).arrayBuffer();
      };
      // What the SDK sends, built by hand: a Request with the bearer header.
      const header = async (n) => {
        for (let i = 0; i < n; i++) {
          const request = new Request("/ping", { headers: { Authorization: "Bearer bench-token" } });
          await (await fetch(request)).arrayBuffer();
        }
      };
      await bare(200);
      await sdk(200);
      await header(200);
      const arms = [["bare", bare], ["sdk", sdk], ["header", header]];
      const out = [];
      for (let r = 0; r < rounds; r++) {
        const time = { bare: 0, sdk: 0, header: 0 };
        // Arms take turns in short blocks, in an order that rotates, so drift and other processes'
        // bursts fall on every arm alike.
        for (let b = 0; b < calls / block; b++) {
          for (let a = 0; a < arms.length; a++) {
            const [name, run] = arms[(a + b + r) % arms.length];
            const t0 = performance.now();
            await run(block);
            time[name] += performance.now() - t0;
          }
        }
        out.push({
          bareUs: (time.bare * 1000) / calls,
          sdkUs: (time.sdk * 1000) / calls,
          headerUs: (time.header * 1000) / calls,
          ratio: time.sdk / time.bare,
          headerRatio: time.header / time.bare,
        });
      }
      return out;
    },
    { calls: FETCH_CALLS, rounds: FETCH_ROUNDS, block: FETCH_BLOCK },
  );
  const sdkCalls = (FETCH_ROUNDS * FETCH_CALLS) + 200;
  // The hand-built arm carries the header too, as many times as the SDK arm.
  const withToken = server.stats.pingWithAuthorization - before.pingWithAuthorization - sdkCalls;
  await page.context().close();
  return {
    calls: FETCH_CALLS,
    block: FETCH_BLOCK,
    rounds: rounds.length,
    bareUs: median(rounds.map((r) => r.bareUs)),
    sdkUs: median(rounds.map((r) => r.sdkUs)),
    headerUs: median(rounds.map((r) => r.headerUs)),
    ratio: median(rounds.map((r) => r.ratio)),
    headerRatio: median(rounds.map((r) => r.headerRatio)),
    ratios: rounds.map((r) => r.ratio),
    tokenAttached: `${withToken}/${sdkCalls}`,
  };
}

async function fetchStubbed() {
  const page = await freshPage();
  // The wasm module is loaded with the real fetch; the stub is in place before the client is
  // built, so whatever fetch the client holds is the stub.
  await page.evaluate(async () => {
    await (await import("/pkg/index.js")).init();
    const response = new Response(null, { status: 204 });
    window.stubbed = { calls: 0, input: null, init: null };
    window.fetch = function stubFetch(input, init) {
      window.stubbed.calls++;
      window.stubbed.input = input;
      window.stubbed.init = init;
      return Promise.resolve(response);
    };
  });
  await signIn(page);
  const out = await page.evaluate(
    async ({ calls, rounds }) => {
      const bare = async (n) => {
        for (let i = 0; i < n; i++) await fetch("/ping");
      };
      const sdk = async (n) => {
        for (let i = 0; i < n; i++) await window.auth.fetch("/ping");
      };
      await bare(500);
      await sdk(500);
      const { input, init } = window.stubbed;
      const headers = input instanceof Request ? input.headers : new Headers(init?.headers);
      const tokenAttached = headers.get("authorization") === "Bearer bench-token";
      const stubCallsBefore = window.stubbed.calls;
      const results = [];
      for (let r = 0; r < rounds; r++) {
        const time = {};
        for (const [name, run] of r % 2 ? [["sdk", sdk], ["bare", bare]] : [["bare", bare], ["sdk", sdk]]) {
          const t0 = performance.now();
          await run(calls);
          time[name] = performance.now() - t0;
        }
        results.push({ bareUs: (time.bare * 1000) / calls, sdkUs: (time.sdk * 1000) / calls });
      }
      const stubCalls = window.stubbed.calls - stubCallsBefore;
      return { results, tokenAttached, stubCalls, resolution: crossOriginIsolated };
    },
    { calls: STUB_CALLS, rounds: STUB_ROUNDS },
  );
  await page.context().close();
  const extra = out.results.map((r) => r.sdkUs - r.bareUs);
  return {
    calls: STUB_CALLS,
    rounds: out.results.length,
    bareUs: median(out.results.map((r) => r.bareUs)),
    sdkUs: median(out.results.map((r) => r.sdkUs)),
    overheadUs: median(extra),
    overheadsUs: extra,
    tokenAttached: out.tokenAttached,
    // Each SDK call should reach the stub exactly once (bare calls too): 2 x calls x rounds.
    stubCallsPerCall: out.stubCalls / (2 * STUB_CALLS * STUB_ROUNDS),
    crossOriginIsolated: out.resolution,
  };
}

/** Splits a CPU profile's time into authpulse (glue or wasm on the stack), idle and the rest. */
function attribute(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const kind = new Map();
  const classify = (id) => {
    if (kind.has(id)) return kind.get(id);
    const { functionName, url } = nodes.get(id).callFrame;
    let k;
    // The package's JavaScript (pkg/index.js, with the glue bundled in) and its wasm module.
    if (url.includes("/pkg/") || url.startsWith("wasm://")) k = "authpulse";
    else if (functionName === "(idle)") k = "idle";
    else if (parent.has(id)) k = classify(parent.get(id)) === "authpulse" ? "authpulse" : "other";
    else k = "other";
    kind.set(id, k);
    return k;
  };
  const us = { authpulse: 0, idle: 0, other: 0 };
  let authpulseSamples = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length - 1; i++) {
    const k = classify(samples[i]);
    us[k] += timeDeltas[i + 1];
    if (k === "authpulse") authpulseSamples++;
  }
  return { ...us, samples: samples.length, authpulseSamples };
}

/**
 * Sends `count` trusted mouse moves. They are pipelined (the protocol acknowledges a move only at
 * the next frame) and alternate the Shift modifier, so Chromium cannot coalesce two into one event.
 */
async function moveMouse(cdp, count) {
  let pending = [];
  for (let i = 0; i < count; i++) {
    const move = { type: "mouseMoved", x: 20 + (i % 400), y: 20 + (i % 7), modifiers: i % 2 ? 8 : 0 };
    pending.push(cdp.send("Input.dispatchMouseEvent", move));
    if (pending.length === 100) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}

async function activity() {
  const pages = {};
  for (const mode of ["baseline", "authpulse"]) {
    const page = await freshPage();
    // The same counting listener on both pages (not timed), to check that every move became
    // an event.
    await page.evaluate(() => {
      window.moves = 0;
      addEventListener("pointermove", (e) => e.isTrusted && window.moves++, { passive: true });
    });
    await timeListeners(page);
    if (mode === "authpulse") await signIn(page);
    // The baseline's only timed listener does nothing: its time is the wrapper's own cost.
    else await page.evaluate(() => addEventListener("pointermove", () => {}, { passive: true, capture: true }));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    pages[mode] = { page, cdp, batches: [] };
    await moveMouse(cdp, 500); // warm-up, not profiled
  }
  for (let b = 0; b < MOVE_BATCHES; b++) {
    for (const mode of b % 2 ? ["authpulse", "baseline"] : ["baseline", "authpulse"]) {
      const { page, cdp, batches } = pages[mode];
      await page.bringToFront();
      const before = await page.evaluate(() => [window.moves, window.listenerMs, window.listenerCalls]);
      await cdp.send("Profiler.start");
      await moveMouse(cdp, MOVE_BATCH);
      const { profile } = await cdp.send("Profiler.stop");
      const after = await page.evaluate(() => [window.moves, window.listenerMs, window.listenerCalls]);
      const events = after[0] - before[0];
      const us = attribute(profile);
      const timedCalls = after[2] - before[2];
      batches.push({
        events,
        // Per call of a timed listener; authpulse's listener, parked between reports, is called
        // for few of the moves (timedCalls).
        timedUs: timedCalls ? ((after[1] - before[1]) * 1000) / timedCalls : null,
        timedTotalUs: (after[1] - before[1]) * 1000,
        timedCalls,
        listenerUs: us.authpulse / events,
        busyUs: (us.authpulse + us.other) / events,
        samples: us.samples,
        listenerSamples: us.authpulseSamples,
      });
    }
  }
  const summary = {};
  // The wrapper's own cost per call: the baseline page's no-op listener.
  const wrapperUs = median(pages.baseline.batches.map((b) => b.timedUs));
  for (const [mode, { page, batches }] of Object.entries(pages)) {
    summary[mode] = {
      events: batches.reduce((s, b) => s + b.events, 0),
      listenerUs: median(batches.map((b) => b.listenerUs)),
      timedUs: median(batches.map((b) => b.timedUs ?? 0)),
      // Listener time per move, the wrapper's cost taken off each call.
      timedPerMoveUs: median(batches.map((b) => (b.timedTotalUs - wrapperUs * b.timedCalls) / b.events)),
      timedCalls: batches.reduce((s, b) => s + b.timedCalls, 0),
      listenerSamples: batches.reduce((s, b) => s + b.listenerSamples, 0),
      busyUs: median(batches.map((b) => b.busyUs)),
      samples: batches.reduce((s, b) => s + b.samples, 0),
      batches,
    };
    await page.context().close();
  }
  return { samplingIntervalUs: SAMPLING_INTERVAL_US, ...summary };
}

/**
 * A busy minute: trusted moves for 60 s of real time, each sent once the previous one is
 * acknowledged (the protocol answers at the next frame: about one move per frame, the rate at
 * which Chromium delivers a moving mouse), on the signed-in page with the default options, under
 * the CPU profiler. Everything authpulse runs in that minute (its listeners, its timer's wake-ups
 * and what they do, its re-arming) divided by the moves. `wrapperUs`: the timing wrapper's own
 * cost per call (from `activity`), subtracted from the timed reading.
 */
async function busyMinute(wrapperUs) {
  const page = await freshPage();
  await page.evaluate(() => {
    window.moves = 0;
    addEventListener("pointermove", (e) => e.isTrusted && window.moves++, { passive: true });
  });
  await timeListeners(page);
  await signIn(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  const move = (i) => cdp.send("Input.dispatchMouseEvent", { type: "mouseMoved", x: 20 + (i % 400), y: 20 + (i % 7), modifiers: i % 2 ? 8 : 0 });
  for (let i = 0; i < 100; i++) await move(i); // warm-up, not profiled
  const read = () => page.evaluate(() => [window.moves, window.listenerMs, window.listenerCalls, window.timerMs, window.timerCalls]);
  const before = await read();
  await cdp.send("Profiler.start");
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < BUSY_MS) await move(sent++);
  const { profile } = await cdp.send("Profiler.stop");
  const seconds = (Date.now() - t0) / 1000;
  const [moves, listenerMs, listenerCalls, timerMs, timerCalls] = (await read()).map((v, i) => v - before[i]);
  await page.context().close();
  const us = attribute(profile);
  const timedUs = listenerMs * 1000 - (wrapperUs ?? 0) * listenerCalls + timerMs * 1000;
  return {
    seconds,
    sent,
    moves,
    profileUs: us.authpulse,
    profileSamples: us.authpulseSamples,
    profilePerMoveUs: us.authpulse / moves,
    listenerCalls,
    listenerUs: listenerMs * 1000 - (wrapperUs ?? 0) * listenerCalls,
    timerCalls,
    timerUs: timerMs * 1000,
    timedUs,
    timedPerMoveUs: timedUs / moves,
    wrapperUs,
  };
}

try {
  const probe = await freshPage();
  const notReady = await sdkReadiness(probe);
  await probe.context().close();
  const only = process.env.BENCH_ONLY?.split(",");
  for (const [name, run] of [
    ["fetchLocalhost", fetchLocalhost],
    ["fetchStubbed", fetchStubbed],
    ["activity", activity],
    ["busyMinute", () => busyMinute(result.activity?.baseline?.timedUs)],
  ]) {
    if (only && !only.includes(name)) continue;
    if (notReady && name !== "activity" && name !== "busyMinute") {
      result[name] = { notMeasured: notReady };
      continue;
    }
    const t0 = Date.now();
    try {
      result[name] = await run();
      if (notReady) result[name].sdkNotReady = notReady;
    } catch (error) {
      result[name] = { notMeasured: reason(error) };
    }
    console.error(`overhead: ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(result[name]).slice(0, 400)}`);
  }
} finally {
  await browser.close();
  await server.close();
}
writeFileSync(process.argv[2], JSON.stringify(result, null, 2));
