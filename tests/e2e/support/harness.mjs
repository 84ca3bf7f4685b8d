// The end-to-end harness: one reference server per test, the test app in Chromium with
// Playwright's fake clock, and the server's clock moved in step with the browser's.
//
// Time. The browser clock is installed before the SDK loads and paused: it moves only when a
// test calls `app.advance(ms)`, which runs it forward in steps. Before each step the server's
// (frozen) clock is set to the step's end, so whatever the client sends during the step is judged
// at a time no earlier than the client's own; after each step the page's network is left to
// settle, so responses are handled at the step's end on both sides. Between steps both clocks show
// the same time, and a test's own calls (`app.fetch`) happen there.
//
// Trace. Every request the page makes (the SDK's and the app's) and every SDK event is recorded
// in the page; when a test fails, that and the server's request log are printed as one timeline.
import { test as base, expect } from "@playwright/test";
import { startServer } from "./server.mjs";

/** The fake wall-clock time at which every test starts. */
export const T0 = Date.parse("2030-01-07T09:00:00Z");
export const SECOND = 1_000;
export const MINUTE = 60_000;

// Installed before any page script: records the page's requests and keeps a count of those in
// flight, so the harness knows when the network has settled.
function tracePageNetwork() {
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

export class App {
  constructor(page, server) {
    this.page = page;
    this.server = server;
    this.now = T0;
    this.pointer = 0;
  }

  /**
   * Installs the clock, opens the test app and loads the package. Another tab of a browser
   * context whose clock runs already (`{ clock: false }`) shares that clock. `path`: another
   * test app with the same `window.app` (`/rust-app.html`, the Rust driver).
   */
  async open({ clock = true, path = "/app.html" } = {}) {
    await this.page.addInitScript(tracePageNetwork);
    if (clock) {
      await this.page.clock.install({ time: T0 - SECOND });
      await this.page.clock.pauseAt(T0);
      await this.server.setClock(T0);
    }
    await this.page.goto(`${this.server.url}${path}`);
    return this.page.evaluate(() => window.app.load());
  }

  /** Reloads the page: the clock keeps its time, the SDK starts from nothing. */
  async reload() {
    await this.page.reload();
    const missing = await this.page.evaluate(() => window.app.load());
    expect(missing, "the package loads again after the reload").toEqual([]);
    expect(await this.browserNow(), "the clock keeps its time across the reload").toBe(this.now);
  }

  browserNow() {
    return this.page.evaluate(() => Date.now());
  }

  create(options = {}) {
    return this.page.evaluate((o) => window.app.create(o), options);
  }

  login(username = "alice") {
    return this.page.evaluate((u) => window.app.login(u), username);
  }

  start() {
    return this.page.evaluate(() => window.app.start());
  }

  /** `authClient.fetch(input, init)` in the page: { status, body, wwwAuthenticate } or { error }. */
  async fetch(input, init) {
    const result = await this.page.evaluate(([i, o]) => window.app.fetch(i, o), [input, init]);
    await this.settle();
    return result;
  }

  async fetchAll(n, input, init) {
    const results = await this.page.evaluate(([k, i, o]) => window.app.fetchAll(k, i, o), [n, input, init]);
    await this.settle();
    return results;
  }

  /** Evaluates `fn` in the page, then lets the network settle. */
  async run(fn, arg) {
    const result = await this.page.evaluate(fn, arg);
    await this.settle();
    return result;
  }

  state() {
    return this.page.evaluate(() => window.app.state());
  }

  /** SDK events so far (of `type`), each { at, type, detail, state }. */
  events(type) {
    return this.page.evaluate((t) => window.app.events(t), type);
  }

  /** Everything the page recorded: requests, responses, events, notes. */
  clientLog() {
    return this.page.evaluate(() => window.__e2e.log);
  }

  /** Real user input: a trusted pointer move (or a key press with kind "key"). */
  async userInput(kind = "pointer") {
    if (kind === "key") {
      await this.page.keyboard.press("Shift");
    } else {
      this.pointer = (this.pointer + 1) % 2;
      await this.page.mouse.move(100 + 200 * this.pointer, 100 + 50 * this.pointer);
    }
    await this.settle();
  }

  /** Input a script makes up: dispatched events (isTrusted false) and a scroll. */
  async syntheticInput() {
    await this.run(() => {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
      document.body.dispatchEvent(new PointerEvent("pointermove", { bubbles: true, clientX: 10, clientY: 10 }));
      document.body.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
      window.dispatchEvent(new WheelEvent("wheel", { deltaY: 100 }));
      document.body.dispatchEvent(new TouchEvent("touchstart", { bubbles: true }));
      document.body.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      window.scrollBy(0, 10);
    });
  }

  /**
   * Moves both clocks forward by `ms`, in steps of at most `step` ms, firing the page's timers
   * as they fall due and waiting for the network after each step.
   */
  async advance(ms, { step = 10 * SECOND } = {}) {
    let left = ms;
    while (left > 0) {
      const delta = Math.min(step, left);
      await this.server.setClock(this.now + delta);
      await this.page.clock.runFor(delta);
      this.now += delta;
      left -= delta;
      await this.settle();
    }
  }

  /**
   * A wall-clock jump with no timer firing, as when the machine sleeps or a background tab is
   * throttled. The server, awake meanwhile, jumps too.
   */
  async sleep(ms) {
    this.now += ms;
    await this.server.setClock(this.now);
    await this.page.clock.setSystemTime(this.now);
  }

  /**
   * The page hidden or shown: headless Chromium keeps every page visible, so the document's
   * visibility is overridden and `visibilitychange` dispatched (an untrusted event; the client
   * checks its deadline on it all the same and counts only trusted input as the user).
   */
  async setVisible(visible) {
    await this.run((v) => {
      const state = v ? "visible" : "hidden";
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
      Object.defineProperty(document, "hidden", { configurable: true, get: () => !v });
      document.dispatchEvent(new Event("visibilitychange"));
    }, visible);
  }

  /**
   * Waits until the page has no request in flight and has had a few turns of its event loop to
   * handle what came back; fires timers that fell due meanwhile (the clock stays paused).
   */
  async settle() {
    const deadline = Date.now() + 10_000;
    let quiet = 0;
    while (quiet < 2) {
      await this.page.clock.runFor(0);
      const inflight = await this.page.evaluate(async () => {
        for (let i = 0; i < 3; i++) {
          // A macrotask turn that the fake clock does not control.
          await new Promise((resolve) => {
            const channel = new MessageChannel();
            channel.port1.onmessage = resolve;
            channel.port2.postMessage(0);
          });
        }
        return window.__e2e.inflight;
      });
      quiet = inflight === 0 ? quiet + 1 : 0;
      if (inflight !== 0) {
        if (Date.now() > deadline) throw new Error(`${inflight} request(s) still in flight after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  /** Client and server, one timeline, times relative to T0. */
  async trace() {
    const rel = (at) => `+${((at - T0) / 1000).toFixed(3).padStart(9)}s`;
    const rows = [];
    try {
      for (const e of await this.clientLog()) {
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
      rows.push([this.now, 0, `client  (log unavailable: ${error.message})`]);
    }
    try {
      const log = await this.server.log();
      for (const r of log.requests) {
        rows.push([r.atMs, 1, `server  ${r.method} ${r.path} token=${r.token} → ${r.status}${r.injected ? " (injected)" : ""}`]);
      }
      const echo = await this.server.echoLog();
      for (const r of echo.requests) {
        rows.push([r.atMs, 1, `echo    ${r.method} ${r.path} authorization=${r.headers.authorization ?? "-"}`]);
      }
      rows.push([log.nowMs, 2, `server  clock now (renewals ${JSON.stringify(log.renewals)})`]);
    } catch (error) {
      rows.push([this.now, 2, `server  (log unavailable: ${error.message})`]);
    }
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const stderr = this.server.stderr.join("").trim();
    return [
      ...rows.map(([at, , text]) => `${rel(at)}  ${text}`),
      ...(stderr ? ["server stderr:", stderr] : []),
    ].join("\n");
  }
}

export const test = base.extend({
  /** Extra flags for the server, e.g. ["--idle-timeout-secs", "3600"]. */
  serverArgs: [[], { option: true }],

  server: async ({ serverArgs }, use) => {
    const server = await startServer(serverArgs);
    await use(server);
    await server.stop();
  },

  app: async ({ page, server }, use, testInfo) => {
    const app = new App(page, server);
    const missing = await app.open();
    expect(missing, "pkg/ loads and has the contract's API").toEqual([]);
    await use(app);
    if (testInfo.status !== testInfo.expectedStatus) {
      const trace = await app.trace();
      await testInfo.attach("trace", { body: trace, contentType: "text/plain" });
      console.log(`\n---- trace of "${testInfo.title}" (client and server) ----\n${trace}\n----`);
    }
  },
});

export { expect };
