// Prints docs/BENCHMARKS.md from the JSON the benchmark scripts wrote: one Markdown table with
// authpulse beside the baseline and each alternative, then the raw medians and the wasm breakdown.
// Usage: node bench/report.mjs RESULTS_DIR COMMAND WALL_SECONDS
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";

const [dir, command, wallSeconds] = process.argv.slice(2);
const load = (name, script) => {
  const file = join(dir, `${name}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  return { failed: `not measured: bench/${script} did not finish (its output is above)` };
};
const size = load("size", "size.mjs");
const wasm = load("wasm", "wasm-size.mjs");
const overhead = load("overhead", "overhead.mjs");
const session = load("session", "session.mjs");
const startup = load("startup", "startup.mjs");

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const us = (v, digits = 2) => `${v.toFixed(digits)} µs`;
const notMeasured = (part, fallback) =>
  part?.notMeasured ? `not measured: ${part.notMeasured}` : (fallback ?? part?.failed ?? "not measured");
const measured = (part) => part && !part.notMeasured && !part.failed;

const ALTS = ["oidc-client-ts", "keycloak-js", "@auth0/auth0-spa-js", "react-idle-timer"];
const alt = (name) => size.alternatives?.find((a) => a.name === name);
const header = [
  "Measure",
  "authpulse",
  "baseline (no library)",
  ...ALTS.map((n) => `${n} ${alt(n)?.version ?? ""}`.trim()),
  "keycloak-js + react-idle-timer",
  "goal (authpulse)",
];
const rows = [];
const row = (cells) => rows.push(cells);
const NO_WRAPPER = "n/a: no fetch wrapper";
const NOT_AUTH = "n/a: not an auth client";

// 1. Size
{
  const a = size.authpulse;
  const cell = a?.gzip
    ? `**${kb(a.gzip)}** (${a.files.map((f) => `${f.file} ${kb(f.gzip)}`).join(" + ")})`
    : notMeasured(a, size.failed);
  row([
    "1. Download size, gzip -9",
    cell,
    "—",
    ...ALTS.map((n) => (alt(n) ? kb(alt(n).gzip) : size.failed ?? "not measured")),
    size.combined ? kb(size.combined.gzip) : "not measured",
    `≤ 17.5 KB (this step), 15 KB beyond${a?.gzip > 17_500 ? ": not met" : ""}`,
  ]);
  row([
    "   uncompressed",
    a?.raw ? kb(a.raw) : "—",
    "—",
    ...ALTS.map((n) => (alt(n) ? `${kb(alt(n).raw)} min` : "—")),
    size.combined ? `${kb(size.combined.raw)} min` : "—",
    "",
  ]);
}

// 2. fetch
{
  const f = overhead.fetchLocalhost;
  row([
    "2a. fetch, localhost, per call (median)",
    measured(f) ? `**×${f.ratio.toFixed(3)}**, ${us(f.sdkUs, 0)}` : notMeasured(f, overhead.failed),
    measured(f) ? `fetch: ${us(f.bareUs, 0)}; hand-built Request + bearer header: ×${f.headerRatio.toFixed(3)}, ${us(f.headerUs, 0)}` : "—",
    NO_WRAPPER,
    NO_WRAPPER,
    NO_WRAPPER,
    NOT_AUTH,
    NO_WRAPPER,
    "ratio ≤ 1.02",
  ]);
  const s = overhead.fetchStubbed;
  row([
    "2b. fetch, network stubbed: SDK cost per call (median)",
    measured(s) ? `**${us(s.overheadUs, 1)}**` : notMeasured(s, overhead.failed),
    measured(s) ? `stub alone: ${us(s.bareUs)}` : "—",
    NO_WRAPPER,
    NO_WRAPPER,
    NO_WRAPPER,
    NOT_AUTH,
    NO_WRAPPER,
    "≤ 20 µs",
  ]);
}

// 3. Activity
{
  // The alternatives' cells of both activity rows: the three auth clients, react-idle-timer, the pair.
  const NOT_TRACKER = "n/a: not an activity tracker";
  const NOT_TRACKERS = [NOT_TRACKER, NOT_TRACKER, NOT_TRACKER, "not measured: needs React in the page (optional)", "—"];
  const a = overhead.activity;
  const ok = measured(a) && !a.sdkNotReady;
  const listener = ok ? (a.authpulse.timedPerMoveUs ?? a.authpulse.timedUs - a.baseline.timedUs) : null;
  row([
    "3. Main-thread time per trusted pointermove (median)",
    ok
      ? `**${us(listener)}** in the listener (timed; called for ${a.authpulse.timedCalls ?? a.authpulse.events} of ${a.authpulse.events} moves); ${us(a.authpulse.listenerUs)} from the CPU profile (${a.authpulse.listenerSamples} samples)`
      : notMeasured(a, a?.sdkNotReady ? `not measured: ${a.sdkNotReady}` : overhead.failed),
    ok ? `no listener: page busy ${us(a.baseline.busyUs, 0)}/event (with authpulse: ${us(a.authpulse.busyUs, 0)})` : "—",
    ...NOT_TRACKERS,
    "≤ 0.5 µs",
  ]);
  const m = overhead.busyMinute;
  const busy = measured(m) && !m.sdkNotReady;
  row([
    "   over a busy minute (60 s, a move per frame), all of authpulse's work / moves",
    busy
      ? `**${us(m.profilePerMoveUs, 3)}** from the CPU profile; ${us(m.timedPerMoveUs, 3)} timed, of which the pointermove listener ${us(m.listenerUs / m.moves, 3)} and the timer's wake-ups ${us(m.timerUs / m.moves, 3)}; ${m.listenerCalls} listener calls and ${m.timerCalls} timer wake-ups for ${m.moves} moves`
      : notMeasured(m, overhead.failed),
    "—",
    ...NOT_TRACKERS,
    "≤ 0.1 µs",
  ]);
}

// 4. Renewals
{
  const one = session.renewals1;
  const ten = session.renewals10;
  const noServer = "not measured: needs its own identity provider";
  const cell = (r) =>
    measured(r)
      ? `**${r.renewals}** at the server (${r.ok} ok${r.rejected ? `, ${r.rejected} rejected` : ""}${r.failed ? `, ${r.failed} failed` : ""}); 'renewed' per tab: ${summarize(r.perTab)}; end state ${r.states.join("/")}`
      : notMeasured(r, session.failed);
  row([
    "4. Renewals, 8 simulated h active, 5-min tokens: 1 tab",
    cell(one),
    session.expectedRenewals ? `expected ⌈8 h / (5 min − 60 s)⌉ = ${session.expectedRenewals}` : "—",
    noServer,
    noServer,
    noServer,
    NOT_AUTH,
    noServer,
    `= ${session.expectedRenewals ?? 120}`,
  ]);
  row([
    "   10 tabs, one browser context",
    cell(ten),
    "—",
    noServer,
    noServer,
    noServer,
    NOT_AUTH,
    noServer,
    "same as 1 tab",
  ]);
}

// 5. Memory
{
  const m = session.memory;
  const ok = measured(m);
  row([
    "5. wasm linear memory, after 1 h → after 24 more simulated h",
    ok ? `**${kb(m.before.wasmBytes)} → ${kb(m.after.wasmBytes)}**` : notMeasured(m, session.failed),
    "—",
    "not measured",
    "not measured",
    "not measured",
    "not measured",
    "—",
    "no growth",
  ]);
  const b = session.memoryBaseline;
  row([
    "   JS heap used (after GC), same page",
    ok
      ? `**${kb(m.before.jsHeapBytes)} → ${kb(m.after.jsHeapBytes)}**${m.after.codeBytes !== undefined ? `; of the snapshot's growth, compiled code ${delta(m, "codeBytes")}, objects ${delta(m, "objectBytes")}` : ""}`
      : notMeasured(m, session.failed),
    measured(b)
      ? `same page, no client: ${kb(b.before.jsHeapBytes)} → ${kb(b.after.jsHeapBytes)}${b.after.codeBytes !== undefined ? `; code ${delta(b, "codeBytes")}, objects ${delta(b, "objectBytes")}` : ""}`
      : "—",
    "not measured",
    "not measured",
    "not measured",
    "not measured",
    "—",
    "no growth",
  ]);
}

// 6. Start-up
{
  const ms = (v) => `${v.toFixed(1)} ms`;
  const ok = measured(startup) && startup.authpulse;
  const a = startup.authpulse;
  const o = startup["oidc-client-ts"];
  row([
    "6. `import()` to a ready client, localhost (median): cold / cached",
    ok
      ? `**${ms(a.cold.totalMs)} / ${ms(a.cached.totalMs)}** (of which wasm fetch + compile + instantiate ${ms(a.cold.wasmMs)} / ${ms(a.cached.wasmMs)})`
      : notMeasured(startup, startup.failed),
    "—",
    ok && o ? `${ms(o.cold.totalMs)} / ${ms(o.cached.totalMs)}` : "not measured",
    "not measured",
    "not measured",
    "n/a: not an auth client",
    "—",
    "",
  ]);
}

function delta(run, key) {
  const d = run.after[key] - run.before[key];
  return `${d >= 0 ? "+" : "−"}${kb(Math.abs(d))}`;
}

function summarize(values) {
  if (!values?.length) return "—";
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? `${min}` : `${min}–${max}`;
}

const escape = (cell) => String(cell).replace(/\|/g, "\\|");
const table = [
  `| ${header.map(escape).join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${r.map(escape).join(" | ")} |`),
].join("\n");

const chromium = overhead.chromium ?? "unknown";
// The load when the benchmarks ended (scripts/bench.sh saves it), else now.
const saved = existsSync(join(dir, "loadavg")) ? readFileSync(join(dir, "loadavg"), "utf8").split(" ").slice(0, 3).map(Number) : null;
const loads = (saved ?? loadavg()).map((v) => v.toFixed(1));
const machine = `${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores (shared; load average ${loads[2]} over the last 15 min, ${loads[0]} at the end: timings stretch with it), Chromium ${chromium} headless, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;

const lines = [];
lines.push("# Benchmarks", "");
lines.push(
  "authpulse beside what an app would use instead, measured in one run on one machine. Figures are",
  "medians of the rounds described below; they are printed, never checked: a benchmark does not fail.",
  "",
);
lines.push(`Made by \`${command}\` in ${wallSeconds} s on ${machine}.`, "");
lines.push(table, "");

lines.push("## How each row was measured", "");
if (size.authpulse?.gzip) {
  lines.push(
    `1. **Size**: \`gzip -9\` of pkg/'s ${size.authpulse.files.map((f) => `\`${f.file}\``).join(" + ")} (what a browser downloads), against`,
    "   `esbuild --bundle --minify --format=esm` of each alternative's public entry (react and react-dom",
    "   external), also `gzip -9`. The last column adds the two bundles: the pair that covers both of",
    "   authpulse's jobs (sign-in tokens and idle sign-out). Versions are pinned in `bench/package.json`.",
  );
}
const f = overhead.fetchLocalhost;
if (measured(f)) {
  lines.push(
    `2. **fetch**: (a) ${f.calls} sequential calls per arm and round, ${f.rounds} rounds; the three arms take turns every`,
    `   ${f.block} calls in a rotating order, so other processes' bursts fall on all of them alike;`,
    `   \`GET /ping\` on a Node server on 127.0.0.1 (body read each time); token cached with \`setSession\`.`,
    `   Ratios per round: ${f.ratios.map((r) => r.toFixed(3)).join(", ")} (the ratios in row 2a are the medians of the`,
    `   rounds' ratios, not ratios of the medians); median per call: fetch ${us(f.bareUs, 1)},`,
    `   authClient.fetch ${us(f.sdkUs, 1)}, a hand-built \`Request\` with the same header ${us(f.headerUs, 1)}`,
    `   (what an app does by hand with the alternatives). Bearer token seen by the server on ${f.tokenAttached} SDK calls`,
    "   (the rounds' calls and 200 warm-up calls). On localhost a call is mostly the browser's own network",
    "   path, and the rounds' ratios move by several percent from run to run; row 2b is the SDK's own cost.",
  );
}
const s = overhead.fetchStubbed;
if (measured(s)) {
  lines.push(
    `   (b) \`window.fetch\` replaced, before the client is built, by a function resolving at once with one`,
    `   constant \`Response\`; ${s.calls} calls per arm, ${s.rounds} rounds; SDK cost per round (µs):`,
    `   ${s.overheadsUs.map((v) => v.toFixed(1)).join(", ")}. Token attached: ${s.tokenAttached ? "yes" : "NO"};`,
    `   stub calls per call: ${s.stubCallsPerCall}; cross-origin isolated timers: ${s.crossOriginIsolated}.`,
  );
}
const a = overhead.activity;
if (measured(a) && !a.sdkNotReady) {
  lines.push(
    `3. **Activity**: ${a.authpulse.events} trusted pointermoves on the signed-in page and ${a.baseline.events} on the same page`,
    "   without a client, sent with `Input.dispatchMouseEvent` in batches of 2,000 that alternate between",
    "   the pages (Shift toggled on every move so Chromium cannot coalesce them; a counting listener",
    "   confirms one event per move). Two readings per batch, medians of the batches:",
    `   - *timed*: every \`pointermove\` listener wrapped in two \`performance.now()\` reads; the wrapper's`,
    `     own cost, read on a no-op listener on the baseline page (${us(a.baseline.timedUs)} per call), is subtracted from each`,
    `     call of authpulse's (${us(a.authpulse.timedUs)} per call), and the rest divided by the moves. Per batch: ${a.authpulse.batches.map((b) => ((b.timedTotalUs ?? b.timedUs * b.timedCalls) / b.events - a.baseline.timedUs * b.timedCalls / b.events).toFixed(3)).join(", ")} µs.`,
    `   - *CPU profile*: \`Profiler\` at a ${a.samplingIntervalUs} µs interval; the time of samples with authpulse's glue or`,
    "     wasm on the stack, per event. Per batch: " + a.authpulse.batches.map((b) => b.listenerUs.toFixed(2)).join(", ") + " µs.",
    "   - *page busy*: all non-idle main-thread time per event, mostly Chromium's own input handling",
    "     for a protocol-driven move; the difference between the pages is within its noise.",
  );
}
const b = overhead.busyMinute;
if (measured(b) && !b.sdkNotReady) {
  lines.push(
    `   - *busy minute*: ${b.moves} trusted moves in ${b.seconds.toFixed(0)} s on a signed-in page with the default options, each sent`,
    "     once the previous one was acknowledged (about one per frame), under the profiler: every sample with",
    `     authpulse on the stack (listeners, timer wake-ups and what they run), ${(b.profileUs / 1000).toFixed(2)} ms in ${b.profileSamples} samples (each counts`,
    "     the time since the profile's previous sample, which on a busy machine is often longer than the 25 µs asked for), divided by the",
    `     moves; *timed*: the listeners (wrapper cost subtracted) and the timer callbacks, ${(b.timedUs / 1000).toFixed(2)} ms. Between two`,
    "     reports the pointer listeners are parked (js/activity.js), so only the first move of each report",
    "     interval reaches authpulse; what remains is that call and the timer's wake-up (with `crossTab`, the",
    "     tab message sharing the activity).",
  );
}
const one = session.renewals1;
if (measured(one)) {
  lines.push(
    "4. **Renewals**: the reference server (`--test-controls`, `--access-token-secs 300`) and pages on its",
    "   origin with Playwright's fake clock (paused: every tab reads the same time); each simulated minute every tab gets a real mouse move, then",
    "   the server's clock and the pages' clock jump one minute (`clock.fastForward`), once the renewals in",
    "   flight have been answered (a jump must not land on a real request's own deadline). Counted at the server",
    "   (`/test/log`), after sign-in and each tab's `start()`. In the 10-tab run every tab gets input each",
    "   minute, and `crossTab` (the default) shares each renewal among them: tabs take turns under a Web Lock",
    `   and the new token reaches every tab over a BroadcastChannel. Real time: ${one.realSeconds.toFixed(0)} s for 1 tab${measured(session.renewals10) ? `, ${session.renewals10.realSeconds.toFixed(0)} s for 10` : ""}.`,
  );
}
const m = session.memory;
if (measured(m)) {
  lines.push(
    "5. **Memory**: one tab, same set-up as 4, a mouse move every simulated minute and `authClient.fetch(\"/api/me\")`",
    `   every fifth (${Object.entries(m.apiStatuses).map(([k, v]) => `${v} × ${k}`).join(", ")}); ${m.renewals} renewals in the 24 h.`,
    "   Read after `HeapProfiler.collectGarbage`: `Runtime.getHeapUsage` (the whole page's JS heap) and the",
    "   byte length of the module's `WebAssembly.Memory` (kept as the page instantiates the module).",
    `   Exact bytes: wasm ${m.before.wasmBytes} → ${m.after.wasmBytes}; JS heap ${m.before.jsHeapBytes} → ${m.after.jsHeapBytes}. End state: ${m.state}.`,
    "   The baseline column is the same run without a client (bare `fetch`, same clock and input): the",
    "   heap growth the page, the fake clock and the protocol cause on their own. A heap snapshot at both",
    "   points splits V8's part of it: *compiled code* (bytecode and the machine code of functions V8 optimized)",
    "   and *objects* (everything else: objects, strings, closures, arrays); Blink's own nodes are left out.",
    "   The growth is code: functions called once a simulated minute reach V8's optimization thresholds",
    "   only after hours, the client's (about 27 KB of it when investigated) and the fake clock's, which",
    "   handles more timers with a client on the page. No object the client holds grows; a further 24 h",
    "   added 39 KB, again code only (see \"The JS heap over 24 hours\" below).",
  );
}
if (measured(startup) && startup.authpulse) {
  const a = startup.authpulse;
  const o = startup["oidc-client-ts"];
  const ms = (v) => v.toFixed(1);
  lines.push(
    `6. **Start-up**: in a fresh page on 127.0.0.1, \`performance.now()\` around \`import("/pkg/index.js")\`, \`init()\``,
    "   (wasm-bindgen's streaming fetch, compile and instantiate of the module) and `new AuthClient({ renewUrl })`;",
    "   for oidc-client-ts, the import of its bundle (row 1's) and `new UserManager({ authority, client_id, redirect_uri })`.",
    `   *cold*: a new browser context per load (empty HTTP and code caches), ${startup.rounds} loads each, the libraries`,
    `   taking turns; *cached*: ${startup.rounds} loads in one context after a first one, files served with \`max-age\`.`,
    `   authpulse, cold: import ${ms(a.cold.importMs)} ms, wasm ${ms(a.cold.wasmMs)} ms, client ${ms(a.cold.clientMs)} ms; cached: import ${ms(a.cached.importMs)} ms,`,
    `   wasm ${ms(a.cached.wasmMs)} ms, client ${ms(a.cached.clientMs)} ms (medians of each part).${o ? ` oidc-client-ts, cold: import ${ms(o.cold.importMs)} ms, client ${ms(o.cold.clientMs)} ms;` : ""}`,
    o ? `   cached: import ${ms(o.cached.importMs)} ms, client ${ms(o.cached.clientMs)} ms. Localhost: a real network adds its round trips to both.` : "",
  );
}
lines.push("");

if (measured(wasm) && wasm.top) {
  lines.push(
    "## Where the wasm bytes go",
    "",
    `\`twiggy top\` of the same release artifact through wasm-bindgen and \`wasm-opt -Oz -g\` (names kept;`,
    `${wasm.codeBytes} bytes without the name section, against pkg/'s ${size.authpulse?.files?.[0]?.raw ?? "?"}). Shares of the uncompressed module.`,
    "",
    "| Group | Bytes | Share |",
    "|---|---:|---:|",
    ...wasm.groups.filter((g) => g.bytes > 0).map((g) => `| ${g.name} | ${g.bytes} | ${(g.share * 100).toFixed(1)} % |`),
    "",
    `The three largest groups: ${wasm.groups.slice(0, 3).map((g) => `${g.name} (${(g.share * 100).toFixed(0)} %)`).join(", ")}.`,
    "",
    "Largest items:",
    "",
    "| Item | Bytes | Share |",
    "|---|---:|---:|",
    ...wasm.top.map((i) => `| \`${escape(i.name)}\` | ${i.bytes} | ${(i.share * 100).toFixed(1)} % |`),
    "",
  );
} else {
  lines.push("## Where the wasm bytes go", "", notMeasured(wasm, wasm.failed), "");
}
// Hand-written: what each size step did, measured when it was made.
lines.push(readFileSync(new URL("./size-notes.md", import.meta.url), "utf8"));
// Hand-written: activity between reports, the heap investigation, the size budget.
lines.push(readFileSync(new URL("./perf-notes.md", import.meta.url), "utf8"));
process.stdout.write(lines.join("\n"));
