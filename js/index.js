// authpulse: the browser driver around the wasm session engine. Every decision — deadlines,
// renewals, what a 401 means, which origins get the token — is the engine's (src/core); the
// adapters here only turn browser events, one timer, fetch and the other tabs into its inputs,
// and its commands into effects. One file per adapter: activity.js, timer.js, http.js, tabs.js,
// events.js; this file composes them. log.js, the words of the logger's lines, is imported with
// the first line: it is not part of this bundle. See docs/CONTRACT.md for the API.
import { Engine } from "./authpulse.js";
import { Activity } from "./activity.js";
import { codedError } from "./errors.js";
import { Events } from "./events.js";
import { WAIT, endServerSession, fetchWithToken, requestRenewal } from "./http.js";
import { init, ready } from "./load.js";
import { Tabs } from "./tabs.js";
import { Timer } from "./timer.js";

export { init };

// Engine.poll command kinds.
const RENEW = 1, CANCEL_RENEWAL = 2, EMIT = 3, END_SERVER_SESSION = 4, BROADCAST = 5, LOG = 6;

// A logger line (a LOG command: line, at, word), worded by log.js. That file is imported with
// the first line, once for every client, so an app without a logger never downloads it; the
// lines keep their order, each written when the import has resolved.
let words;
const write = (logger, ...line) => (words ??= import("./log.js")).then(({ log }) => log(logger, ...line));

// `allowedOrigins` entries through the browser's URL parser; the engine decides what is valid.
const parseOrigin = (text) => {
  try {
    const url = new URL(text);
    const more = url.pathname !== "/" || url.search !== "" || url.hash !== "" ||
      url.username !== "" || url.password !== "" || /[?#]/.test(text);
    return { protocol: url.protocol, origin: url.origin, more };
  } catch {
    return null;
  }
};

export class AuthClient {
  #engine;
  #endpoints; // [url, clientId, revokeUrl, logoutUrl, crossTab]
  #page = globalThis;
  #events = new Events();
  #logger; // the `logger` option (the engine checked it)
  #timer = new Timer(() => this.#input((engine, now) => engine.timeout(now)));
  #activity;
  #tabs = null;
  #renewal = null; // { id, controller }
  #settled = null; // { promise, resolve }: callers waiting for the renewal in flight
  #disposed = false;
  #current = null; // { token, generation }: the engine's token, read once per generation
  #origins = new Map(); // origin -> whether the engine lets it have the token (config is fixed)
  // What fetchWithToken needs of the client.
  #http = {
    allows: (url) => this.#allows(url),
    access: () => this.#access(),
    token: () => this.#token(),
    response: (status, challenge, generation, retried, replayable) =>
      this.#input((engine) => engine.response(status, challenge, generation, retried, replayable)),
  };

  constructor(options) {
    supported();
    if (!ready) throw codedError(Error, "not_initialized", "the WebAssembly module is not loaded: `await init()` before `new AuthClient()`, or use `await createAuthClient()`");
    let given = options;
    if (Array.isArray(options?.allowedOrigins)) {
      const allowedOrigins = options.allowedOrigins.map((o) => (typeof o === "string" ? parseOrigin(o) : null));
      given = { ...options, allowedOrigins };
    }
    this.#engine = new Engine(given, globalThis.location?.origin ?? "null");
    this.#logger = options?.logger;
    this.#endpoints = this.#engine.endpoints;
    if (this.#endpoints[4] && typeof BroadcastChannel === "function") {
      this.#tabs = new Tabs(`authpulse/1 ${this.#endpoints[0]}`, (data) => this.#input((engine, now) => engine.tab(now, data)));
    }
    // Deadlines first, so that coming back after the deadline never revives the session; then
    // a page the user made visible counts as activity. A page being hidden tells the other tabs
    // its last activity at once.
    this.#activity = new Activity(
      (at) => this.#input((engine) => engine.activity(at)),
      (at) => {
        if (this.#timer.at < 0 || at < this.#timer.at) this.#timer.arm(at);
      },
      (hidden, visible) =>
        this.#input((engine, now) => {
          if (hidden) return engine.hidden(now);
          engine.timeout(now);
          if (visible) engine.activity(now);
        }),
    );
  }

  /** Resumes through the auth session; resolves to true if signed in. */
  async start() {
    this.#live();
    this.#input((engine, now) => engine.resume(now));
    while (this.#engine.inFlight) {
      await this.#renewalSettled();
      this.#live();
    }
    return this.state === "active" || this.state === "warning";
  }

  /** Stores the app's own token response ({ access_token, expires_in, refresh_token? }). */
  setSession(tokenResponse) {
    this.#live();
    this.#input((engine, now) => engine.signIn(now, tokenResponse));
  }

  /** `window.fetch` with the bearer token for allowed origins, renewing and retrying once on 401. */
  async fetch(input, init) {
    this.#live();
    return fetchWithToken(this.#page, this.#http, input, init);
  }

  /** A fresh access token, or null when signed out. */
  async getAccessToken() {
    this.#live();
    return (await this.#token())?.token ?? null;
  }

  /** App-reported activity: counts like a user event. */
  touch() {
    if (!this.#disposed) this.#input((engine, now) => engine.activity(now));
  }

  /** Tears down now, reason "logout", and ends the server session. */
  async logout() {
    this.#live();
    this.#input((engine, now) => engine.logout(now));
  }

  /** Calls `listener(detail)` on each `event`; returns the function that unsubscribes it. */
  on(event, listener) {
    this.#live();
    return this.#events.on(event, listener);
  }

  /** "signedOut" | "active" | "warning" | "expired", with the deadlines checked first. */
  get state() {
    return this.#disposed ? "signedOut" : this.#query(0);
  }

  /** When the idle teardown happens without activity (ms since the epoch), null when signed out. */
  get idleExpiresAt() {
    return this.#disposed ? null : this.#query(1);
  }

  /** When the current access token expires (ms since the epoch), null without one. */
  get tokenExpiresAt() {
    return this.#disposed ? null : this.#query(2);
  }

  /** Removes every listener, the timer and any renewal in flight; drops the tokens. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#activity.stop();
    this.#timer.cancel();
    this.#renewal?.controller.abort();
    this.#tabs?.close();
    this.#events.clear();
    this.#engine.free();
    this.#settled?.resolve();
  }

  // What a getter reports (Engine.query), with the deadlines checked first.
  #query(what) {
    return this.#input((engine, now) => engine.query(now, what));
  }

  #live() {
    if (this.#disposed) throw codedError(Error, "disposed", "this AuthClient was disposed");
  }

  // Every input goes through here: held-back activity first (the engine sees events in time
  // order), then the input, then its commands, the timer and the waiting callers.
  #input(step) {
    const engine = this.#engine;
    const now = Date.now();
    const held = this.#activity?.take();
    if (held) engine.activity(held);
    const result = step(engine, now);
    this.#drive();
    return result;
  }

  #drive() {
    const engine = this.#engine;
    const events = [];
    for (let command; (command = engine.poll());) {
      const [kind, a, b, c] = command;
      if (kind === RENEW) this.#renew(a, b, c);
      else if (kind === CANCEL_RENEWAL) this.#cancelRenewal(a);
      else if (kind === EMIT) {
        events.push(() => this.#events.emit(a, b));
        if (a === "renewed") this.#tabs?.stored(b.expiresAt);
        if (a === "expired") this.#tabs?.stored(0);
      } else if (kind === END_SERVER_SESSION) endServerSession(this.#page, this.#endpoints, a);
      else if (kind === BROADCAST) this.#tabs?.post(a);
      else if (kind === LOG) events.push(() => write(this.#logger, a, b, c));
    }
    if (this.#activity) this.#activity.threshold = engine.threshold();
    const at = engine.deadline();
    if (at !== this.#timer.at) this.#timer.arm(at);
    if (!engine.inFlight && this.#settled) {
      this.#settled.resolve();
      this.#settled = null;
    }
    // After the engine is consistent: a listener (or the logger) may call back into the client.
    for (const dispatch of events) dispatch();
  }

  #renewalSettled() {
    if (!this.#settled) {
      let resolve;
      const promise = new Promise((r) => (resolve = r));
      this.#settled = { promise, resolve };
    }
    return this.#settled.promise;
  }

  // Whether a request to `url` (a Request's: parsed, without credentials) may carry the token,
  // asked of the engine once per origin. For http(s) the origin is the URL up to its path.
  #allows(url) {
    const http = url.startsWith("https://") || url.startsWith("http://");
    const key = http ? url.slice(0, url.indexOf("/", 8)) : null;
    let allowed = this.#origins.get(key);
    if (allowed === undefined) {
      const { protocol, origin } = new URL(url);
      allowed = this.#engine.allows(protocol, origin);
      if (http && this.#origins.size < 64) this.#origins.set(key, allowed);
    }
    return allowed;
  }

  // The token for one request as { token, generation } when one is ready, WAIT while a renewal
  // is in flight, null when none can be had.
  #access() {
    return this.#input((engine, now) => {
      const generation = engine.access(now);
      if (generation === WAIT) return WAIT;
      if (generation < 1) return (this.#current = null); // none: keep no copy of the old one
      if (this.#current?.generation !== generation) this.#current = { token: engine.token(now), generation };
      return this.#current;
    });
  }

  // The token once the renewal in flight (or one it leads to) is settled, or null.
  async #token() {
    for (;;) {
      const access = this.#access();
      if (access !== WAIT) return access;
      await this.#renewalSettled();
      this.#live();
    }
  }

  // A renewal the engine asked for: with other tabs, in this tab's turn (tabs.js).
  #renew(id, idleMs, refreshToken) {
    const controller = new AbortController();
    this.#renewal = { id, controller };
    const send = () => this.#send(id, idleMs, refreshToken, controller.signal);
    return this.#tabs ? this.#tabs.turn(controller.signal, send) : send();
  }

  async #send(id, idleMs, refreshToken, signal) {
    let answer;
    try {
      answer = await requestRenewal(this.#page, this.#endpoints, idleMs, refreshToken, signal);
    } catch {
      if (!this.#disposed && !signal.aborted) this.#input((engine, now) => engine.renewalFailed(now, id));
      return;
    }
    if (!this.#disposed) this.#input((engine, now) => engine.renewalAnswered(now, id, answer.status, answer.body));
  }

  #cancelRenewal(id) {
    if (this.#renewal?.id === id) {
      this.#renewal.controller.abort();
      this.#renewal = null;
    }
  }
}

// A client needs a page: on a server (SSR) or in Node it throws before it opens anything. Jest's
// jsdom environment lacks TextEncoder and TextDecoder, which the module's glue needs.
function supported() {
  for (const name of ["window", "document", "TextEncoder", "TextDecoder"]) {
    if (!(name in globalThis)) {
      throw codedError(Error, "unsupported_environment", `no ${name} here: an AuthClient needs a browser page (in unit tests, a DOM: see https://github.com/authpulse/authpulse#testing)`);
    }
  }
}

/** Loads the wasm module once, then builds a client. */
export async function createAuthClient(options) {
  supported();
  await init();
  return new AuthClient(options);
}
