// The first script of the test app's page in every engine (bundled by run.mjs with esbuild into
// page.js, a classic script that runs before the app's module): the page's fake clock and its
// network trace. Playwright's `page.clock` exists only for its own browser builds; this is the
// library it is built on (@sinonjs/fake-timers), installed by the page itself.
//
// `?now=<ms>` in the page's URL is where the clock starts; it is paused there and moves only by
// `__e2e.step(ms)`. A page restored from the back/forward cache finds the wall-clock time the
// harness left in localStorage (`e2e-clock`) and jumps there, with no timer firing, before any
// of the app's own `pageshow` listeners runs: as a real page finds the time moved on when it
// comes back.
import { withGlobal } from "@sinonjs/fake-timers";
import { tracePageNetwork } from "../../e2e/support/trace.mjs";

const fakeTimers = withGlobal(window);
// The browser's own clock and setTimeout, for the harness's waits that the fake clock must not hold.
const realNow = () => fakeTimers.timers.Date.now();
const realDelay = (ms) => new Promise((resolve) => fakeTimers.timers.setTimeout.call(window, resolve, ms));
const start = Number(new URLSearchParams(location.search).get("now"));
const clock = fakeTimers.install({
  now: Number.isFinite(start) && start > 0 ? start : Date.now(),
  toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
  loopLimit: 100_000,
});

tracePageNetwork();
const e2e = window.__e2e;
const note = (kind, text) => e2e.log.push({ at: Date.now(), kind, text });

addEventListener(
  "pageshow",
  (event) => {
    if (event.persisted) {
      const wall = Number(localStorage.getItem("e2e-clock"));
      if (wall > clock.now) clock.setSystemTime(wall);
    }
    note("pageshow", `persisted=${event.persisted}`);
  },
  { capture: true },
);
addEventListener("error", (event) => note("error", `${event.message ?? ""} ${event.target?.src ?? ""}`), { capture: true });
addEventListener("pagehide", (event) => note("pagehide", `persisted=${event.persisted}`), { capture: true });
document.addEventListener(
  "visibilitychange",
  (event) => note("visibilitychange", `${document.visibilityState} trusted=${event.isTrusted}`),
  { capture: true },
);

/** A macrotask turn that the fake clock does not control. */
const nextTask = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(channel.port1.close());
    channel.port2.postMessage(0);
  });

/**
 * Resolves once the app's module has defined `window.app` (it runs before DOMContentLoaded,
 * which a driver's navigation may not have waited for); rejects after 5 s without it, naming
 * the document's state. Once seen in WebKit under a heavily loaded machine: app.js served, the
 * page loaded, and no `window.app` when the first script ran.
 */
e2e.ready = async () => {
  if (document.readyState === "loading") {
    await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  }
  const since = realNow();
  while (!window.app && realNow() - since < 5_000) await realDelay(10);
  if (realNow() - since > 20) note("note", `app.js ran ${realNow() - since} ms after DOMContentLoaded (${document.readyState})`);
  if (!window.app) throw new Error(`the test app (app.js) did not run (${document.readyState})`);
};

/** The page's fake time now (ms since the epoch). */
e2e.now = () => clock.now;

/** Moves the page's clock to `ms` since the epoch with no timer firing (a sleep). */
e2e.jump = (ms) => clock.setSystemTime(ms);

/**
 * Waits until the page has no request in flight and has had a few turns of its event loop to
 * handle what came back, firing the timers that fell due meanwhile (the clock stays paused);
 * resolves to whether anything was in flight. Rejects after 10 s of real time.
 */
e2e.settle = async () => {
  const deadline = realNow() + 10_000;
  let busy = false;
  for (let quiet = 0; quiet < 2; ) {
    await clock.tickAsync(0);
    for (let i = 0; i < 3; i++) await nextTask();
    if (e2e.inflight === 0) {
      quiet++;
      continue;
    }
    busy = true;
    quiet = 0;
    if (realNow() > deadline) throw new Error(`${e2e.inflight} request(s) still in flight after 10 s`);
    await realDelay(5);
  }
  return busy;
};

/** Runs the clock `ms` forward, firing timers as they fall due, then lets the network settle. */
e2e.step = async (ms) => {
  await clock.tickAsync(ms);
  return e2e.settle();
};

/**
 * Input a script makes up: dispatched events (`isTrusted` false) of every kind the client
 * listens to, and a scroll. An engine without a constructor for one (Firefox on the desktop has
 * no TouchEvent) gets a plain Event of that type, untrusted all the same.
 */
e2e.syntheticInput = () => {
  const make = (Kind, type, init) => (typeof window[Kind] === "function" ? new window[Kind](type, init) : new Event(type, init));
  document.dispatchEvent(make("KeyboardEvent", "keydown", { key: "a", bubbles: true }));
  document.body.dispatchEvent(make("PointerEvent", "pointermove", { bubbles: true, clientX: 10, clientY: 10 }));
  document.body.dispatchEvent(make("PointerEvent", "pointerdown", { bubbles: true }));
  window.dispatchEvent(make("WheelEvent", "wheel", { deltaY: 100 }));
  document.body.dispatchEvent(make("TouchEvent", "touchstart", { bubbles: true }));
  document.body.dispatchEvent(make("MouseEvent", "click", { bubbles: true }));
  document.dispatchEvent(new Event("visibilitychange"));
  window.scrollBy(0, 10);
};
