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
import { tracePageNetwork, timeline } from "./trace.mjs";

export { tracePageNetwork };

/** The fake wall-clock time at which every test starts. */
export const T0 = Date.parse("2030-01-07T09:00:00Z");
export const SECOND = 1_000;
export const MINUTE = 60_000;

export class App {
  constructor(page, server) {
    this.page = page;
    this.server = server;
    this.now = T0;
    this.pointer = 0;
  }

  /**
   * Installs the clock, opens the test app (`url`, by default the server's `path`, `/app.html`)
   * and loads the package. Another tab of a browser context whose clock runs already
   * (`{ clock: false }`) shares that clock. `path`: another test app with the same `window.app`
   * (`/rust-app.html`, the Rust driver).
   */
  async open({ clock = true, path = "/app.html", url = `${this.server.url}${path}` } = {}) {
    await this.page.addInitScript(tracePageNetwork);
    if (clock) {
      await this.page.clock.install({ time: T0 - SECOND });
      await this.page.clock.pauseAt(T0);
      await this.server.setClock(T0);
    }
    await this.page.goto(url);
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
  trace() {
    return timeline({ t0: T0, now: this.now, clientLog: () => this.clientLog(), server: this.server });
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
