// The cross-engine harness: one reference server per scenario, the test app in windows of one
// browser context of whichever engine runs (drivers/), the page's fake clock (page/page.mjs) and
// the server's moved in step. It speaks to a driver through five calls per window — goto, back,
// evaluate, pointerMove, press — so that every engine runs the same scenarios.
//
// Time. Each window's clock starts at the scene's `now` and moves only when the scene advances
// it, in steps: before each step the server's (frozen) clock is set to the step's end; then every
// window runs its clock through the step (firing its timers) and its network is left to settle
// in every window, twice round, so that what one window tells the others is handled too. Between
// steps every clock shows the same time, and a scenario's own calls happen there. (Unlike
// Playwright's clock, which a browser context shares, each window here has its own; within a step
// the windows are at most one step apart.)
import { startServer } from "../e2e/support/server.mjs";
import { timeline } from "../e2e/support/trace.mjs";

/** The fake wall-clock time at which every scenario starts. */
export const T0 = Date.parse("2030-01-07T09:00:00Z");
export const SECOND = 1_000;
export const MINUTE = 60_000;

export class Scene {
  /** A server started with `serverArgs` serving `www`, and a fresh context of `browser`. */
  static async start(browser, { www, serverArgs = [] }) {
    const server = await startServer(serverArgs, { www });
    try {
      return new Scene(await browser.newContext(), server);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  constructor(context, server) {
    this.context = context;
    this.server = server;
    this.now = T0;
    this.apps = [];
  }

  /** A new window with the test app loaded and its clock at `now`; throws if the package did not load. */
  async open() {
    if (this.apps.length === 0) await this.server.setClock(this.now);
    const app = new App(this, await this.context.newWindow(), this.apps.length + 1);
    this.apps.push(app);
    const missing = await app.load();
    if (missing.length > 0) throw new Error(`pkg/ did not load, or lacks the contract's API: ${missing.join(", ")}`);
    return app;
  }

  /**
   * Moves every clock forward by `ms`, in steps of at most `step` ms, firing the pages' timers as
   * they fall due and letting the network settle after each step.
   */
  async advance(ms, { step = 10 * SECOND } = {}) {
    for (let left = ms; left > 0; ) {
      const delta = Math.min(step, left);
      await this.server.setClock(this.now + delta);
      for (const app of this.apps) await app.win.evaluate((d) => window.__e2e.step(d), delta);
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
    for (const app of this.apps) await app.win.evaluate((t) => window.__e2e.jump(t), this.now);
  }

  /** Lets every window's network settle, twice round (a message from one may start a request in another). */
  async settle() {
    for (let round = 0; round < 2; round++) {
      for (const app of this.apps) await app.win.evaluate(() => window.__e2e.settle());
    }
  }

  /** Every window's timeline with the server's, for a failure. */
  async trace() {
    const parts = [];
    for (const app of this.apps) {
      const text = await timeline({ t0: T0, now: this.now, clientLog: () => app.clientLog(), server: this.server });
      parts.push(`---- window ${app.number} (client and server) ----\n${text}`);
    }
    return parts.join("\n");
  }

  async close() {
    try {
      await this.context.close();
    } finally {
      await this.server.stop();
    }
  }
}

/** The test app (tests/e2e/fixtures/app.js) in one window. */
export class App {
  constructor(scene, win, number) {
    this.scene = scene;
    this.win = win;
    this.number = number;
    this.pointer = 0;
  }

  get server() {
    return this.scene.server;
  }

  /** Opens the app with its clock at the scene's time; the names of contract methods the package lacks. */
  async load() {
    await this.win.goto(`${this.server.url}/app.html?now=${this.scene.now}`);
    return this.win.evaluate(async (n) => {
      window.__e2e.window = n;
      await window.__e2e.ready();
      return window.app.load();
    }, this.number);
  }

  /** The number the page was given when this App loaded it: tells one window from another. */
  windowNumber() {
    return this.win.evaluate(() => window.__e2e.window);
  }

  create(options = {}) {
    return this.win.evaluate((o) => window.app.create(o), options);
  }

  async login(username = "alice") {
    const state = await this.win.evaluate((u) => window.app.login(u), username);
    await this.scene.settle();
    return state;
  }

  async start() {
    const resumed = await this.win.evaluate(() => window.app.start());
    await this.scene.settle();
    return resumed;
  }

  /** `authClient.fetch(input, init)` in the page: { status, body, wwwAuthenticate } or { error }. */
  async fetch(input, init = {}) {
    const result = await this.win.evaluate(([i, o]) => window.app.fetch(i, o), [input, init]);
    await this.scene.settle();
    return result;
  }

  async fetchAll(n, input, init = {}) {
    const results = await this.win.evaluate(([k, i, o]) => window.app.fetchAll(k, i, o), [n, input, init]);
    await this.scene.settle();
    return results;
  }

  /** Evaluates `fn(arg)` in the page, then lets the network settle. */
  async run(fn, arg) {
    const result = await this.win.evaluate(fn, arg);
    await this.scene.settle();
    return result;
  }

  state() {
    return this.win.evaluate(() => window.app.state());
  }

  /** SDK events so far (of `type`), each { at, type, detail, state }. */
  events(type) {
    return this.win.evaluate((t) => window.app.events(t ?? undefined), type ?? null);
  }

  /** Everything the page recorded: requests, responses, events, page transitions, notes. */
  clientLog() {
    return this.win.evaluate(() => window.__e2e.log);
  }

  /** Real user input through the driver (trusted): a pointer move, or a key press with kind "key". */
  async userInput(kind = "pointer") {
    if (kind === "key") {
      await this.win.press("Shift");
    } else {
      this.pointer = (this.pointer + 1) % 2;
      await this.win.pointerMove(100 + 200 * this.pointer, 100 + 50 * this.pointer);
    }
    await this.scene.settle();
  }

  /** Input a script makes up: dispatched events (isTrusted false) and a scroll. */
  async syntheticInput() {
    await this.win.evaluate(() => window.__e2e.syntheticInput());
    await this.scene.settle();
  }

  /** Leaves the app for another page of the site (the app's page may enter the back/forward cache). */
  async leave() {
    await this.win.goto(`${this.server.url}/other.html`);
  }

  /**
   * From the other page: leaves the wall-clock time `at` for the app's page to find if it is
   * restored from the back/forward cache, goes back, and waits until the app's page is shown.
   * Resolves to the page's `pageshow` record, { persisted }.
   */
  async back(at) {
    await this.win.evaluate((t) => localStorage.setItem("e2e-clock", String(t)), at);
    await this.win.back();
    const deadline = Date.now() + 15_000;
    for (;;) {
      let shown = null;
      try {
        shown = await this.win.evaluate(() => {
          if (!location.pathname.endsWith("/app.html") || !window.__e2e || document.readyState !== "complete") return null;
          const last = window.__e2e.log.filter((e) => e.kind === "pageshow").at(-1);
          return last ? { persisted: last.text === "persisted=true" } : null;
        });
      } catch {
        // The page is being replaced: ask again.
      }
      if (shown) {
        await this.scene.settle();
        return shown;
      }
      if (Date.now() > deadline) throw new Error("the app's page was not shown again within 15 s of going back");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
