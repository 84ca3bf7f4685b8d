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
import { WAIT, endServerSession, fetchWithToken, requestRenewal, revoke, tokenFields } from "./http.js";
import { init, ready } from "./load.js";
import { Tabs } from "./tabs.js";
import { Timer } from "./timer.js";

export { init };

// Engine.input kinds (IN_* in src/engine.rs).
const CLOCK = 0, ACTIVITY = 1, TIMEOUT = 2, RESUME = 3, HIDDEN = 4, LOGOUT = 5, RENEWAL_FAILED = 6, THRESHOLD = 7,
  DEADLINE = 8, ACCESS = 9, WAITING = 10;
// Engine.call kinds (CALL_* in src/engine.rs), and the flags of RESPONSE.
const SIGN_IN = 0, TOKEN = 1, RESPONSE = 2, RENEWAL_ANSWERED = 3, TAB = 4, QUERY = 5, ALLOWS = 6, ENDPOINTS = 7, POLL = 8;
const RETRIED = 1, REPLAYABLE = 2, ALLOWED = 4;
// Engine.poll command kinds.
const RENEW = 1, CANCEL_RENEWAL = 2, EMIT = 3, END_SERVER_SESSION = 4, BROADCAST = 5, REVOKE = 6, LOG = 7;
// The options in the order Engine takes their values (OPTION_NAMES in src/core/options.rs).
const OPTIONS = ["renewUrl", "tokenEndpoint", "clientId", "revokeUrl", "idleTimeoutMs", "warnBeforeIdleMs",
  "renewBeforeExpiryMs", "maxSessionMs", "allowedOrigins", "crossTab", "logoutUrl", "logger"];

// A logger line (a LOG command: line, at, word), worded by log.js. That file is imported with
// the first line, once for every client, so an app without a logger never downloads it; the
// lines keep their order, each written when the import has resolved.
let words;
const write = (logger, ...line) => (words ??= import("./log.js")).then(({ log }) => log(logger, ...line));

// An input the engine refused — [code, message], or an option's [code, problem, option], thrown by
// `new Engine` and returned by its SIGN_IN call — as the TypeError callers get, worded as OptionError::message words it in
// src/core/options.rs (anything else, a bug, as it is).
const refused = (error) => {
  if (!Array.isArray(error)) return error;
  const [code, message, option] = error;
  // An option's name may be "" (an unknown key).
  return error.length > 2
    ? Object.assign(new TypeError(`authpulse: option "${option}" ${message}`), { code, option })
    : Object.assign(new TypeError(message), { code });
};

// `allowedOrigins` entries through the browser's URL parser; the engine decides what is valid.
const parseOrigin = (text) => {
  try {
    const url = new URL(text);
    const more = url.pathname !== "/" || url.search !== "" || url.hash !== "" ||
      url.username !== "" || url.password !== "" || /[?#]/.test(text);
    return [url.protocol, url.origin, more];
  } catch {
    return null;
  }
};

// The options' values copied into plain values, here where a throwing getter or Proxy trap can
// be caught: the engine must never call anything that throws (an exception unwinding through
// wasm frames breaks the module for every client on the page). Throws a TypeError naming the
// option that could not be read. Returns [values, unknown option name].
function readOptions(options) {
  let name;
  try {
    if (options == null) return [];
    if (typeof options !== "object" || Array.isArray(options)) {
      throw codedError(TypeError, "invalid_option", 'options must be an object like { renewUrl: "/auth/renew" }');
    }
    const unknown = Object.keys(options).find((key) => !OPTIONS.includes(key));
    const values = [];
    for (name of OPTIONS) {
      let value = options[name];
      if (name === "allowedOrigins" && Array.isArray(value)) {
        value = Array.from(value, (o) => (typeof o === "string" ? parseOrigin(o) : null));
      }
      values.push(value);
    }
    return [values, unknown];
  } catch (error) {
    if (error?.code === "invalid_option") throw error;
    const what = name ? `option "${name}"` : "the options object";
    throw Object.assign(codedError(TypeError, "invalid_option", `${what} could not be read (a getter or Proxy threw)`), { option: name, cause: error });
  }
}

export class AuthClient {
  #engine;
  #endpoints; // [url, clientId, revokeUrl, logoutUrl, crossTab]
  #page = globalThis;
  #events = new Events();
  #logger; // the `logger` option (the engine checked it)
  #timer = new Timer(() => this.#input((engine) => engine.input(TIMEOUT)));
  #activity;
  #tabs = null;
  #renewal = null; // { id, controller, sent }: the renewal the engine waits for
  #requests = Promise.resolve(); // renew requests, one after another (a grant waits for the last answer)
  #settled = null; // { promise, resolve }: callers waiting for the renewal in flight
  #disposed = false;
  #current = null; // { token, generation }: the engine's token, read once per generation
  #origins = new Map(); // origin -> whether the engine lets it have the token (config is fixed)
  // What fetchWithToken needs of the client.
  #http = {
    allows: (url) => this.#allows(url),
    access: () => this.#access(),
    token: () => this.#token(),
    response: (status, challenge, generation, retried, replayable, url) =>
      this.#input((engine) =>
        engine.call(RESPONSE, challenge, undefined, status, generation,
          (retried && RETRIED) | (replayable && REPLAYABLE) | (this.#allows(url) && ALLOWED))),
  };

  constructor(options) {
    supported();
    if (!ready) throw codedError(Error, "not_initialized", "the WebAssembly module is not loaded: `await init()` before `new AuthClient()`, or use `await createAuthClient()`");
    const [values, unknown] = readOptions(options);
    try {
      this.#engine = new Engine(values, unknown, globalThis.location?.origin ?? "null");
    } catch (error) {
      throw refused(error);
    }
    this.#logger = values?.[11];
    this.#endpoints = this.#engine.call(ENDPOINTS);
    if (this.#endpoints[4] && typeof BroadcastChannel === "function") {
      this.#tabs = new Tabs(`authpulse/1 ${this.#endpoints[0]}`, (data) => this.#input((engine) => engine.call(TAB, data)));
    }
    // Deadlines first, so that coming back after the deadline never revives the session; then
    // a page the user made visible counts as activity. A page being hidden tells the other tabs
    // its last activity at once.
    this.#activity = new Activity(
      (wall, mono) => this.#input((engine) => engine.input(ACTIVITY, wall, mono)),
      (at) => {
        if (this.#timer.at < 0 || at < this.#timer.at) this.#timer.arm(at);
      },
      (hidden, visible, wall, mono) =>
        this.#input((engine) => {
          if (hidden) return engine.input(HIDDEN);
          engine.input(TIMEOUT);
          if (visible) engine.input(ACTIVITY, wall, mono);
        }),
    );
  }

  /**
   * Resumes the session (the auth session's renew endpoint, or another tab's session); resolves
   * to true if signed in. Every wait is bounded.
   */
  async start() {
    this.#live();
    this.#input((engine) => engine.input(RESUME));
    while (this.#engine.input(WAITING)) {
      await this.#renewalSettled();
      this.#live();
    }
    const state = this.state;
    return state === "active" || state === "warning";
  }

  /** Stores the app's own token response ({ access_token, expires_in?, refresh_token? }). */
  setSession(tokenResponse) {
    this.#live();
    const fields = tokenFields(tokenResponse);
    this.#input((engine) => {
      const refusal = engine.call(SIGN_IN, fields);
      if (refusal) throw refused(refusal);
    });
  }

  /**
   * `window.fetch` with the bearer token for allowed origins, renewing and retrying once on
   * 401; like it, never throws (it rejects), and rejects at once with `signal.reason` on abort.
   */
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
    if (!this.#disposed) this.#input((engine, wall, mono) => engine.input(ACTIVITY, wall, mono));
  }

  /** Tears down now, reason "logout", and ends the server session. */
  async logout() {
    this.#live();
    this.#input((engine) => engine.input(LOGOUT));
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
    return this.#input((engine) => engine.call(QUERY, undefined, undefined, what));
  }

  #live() {
    if (this.#disposed) throw codedError(Error, "disposed", "this AuthClient was disposed");
  }

  // Every input goes through here: the clocks (both: the engine's deadlines pass when either
  // says so), held-back activity (the engine sees events in time order), the input, then its
  // commands, the timer and the waiting callers.
  #input(step) {
    const engine = this.#engine;
    const wall = Date.now();
    const mono = performance.now();
    engine.input(CLOCK, wall, mono);
    this.#activity?.flush((wall, mono) => engine.input(ACTIVITY, wall, mono));
    const result = step(engine, wall, mono);
    this.#drive(wall, mono);
    return result;
  }

  #drive(wall, mono) {
    const engine = this.#engine;
    const events = [];
    for (let command; (command = engine.call(POLL));) {
      const [kind, a, b, c] = command;
      if (kind === RENEW) this.#renew(a, b, c);
      else if (kind === CANCEL_RENEWAL) this.#cancelRenewal(a, b);
      else if (kind === EMIT) {
        const detail = Object.fromEntries(b);
        events.push(() => this.#events.emit(a, detail));
        if (a === "renewed") this.#tabs?.stored(detail.expiresAt);
        if (a === "expired") this.#tabs?.stored(0);
      } else if (kind === END_SERVER_SESSION) endServerSession(this.#page, this.#endpoints, a);
      else if (kind === BROADCAST) this.#tabs?.post(a);
      else if (kind === REVOKE) revoke(this.#page, this.#endpoints, a);
      else if (kind === LOG) events.push(() => write(this.#logger, a, b, c));
    }
    if (this.#activity) this.#activity.setThreshold(engine.input(THRESHOLD), wall - mono);
    const at = engine.input(DEADLINE);
    if (at !== this.#timer.at) this.#timer.arm(at);
    if (!engine.input(WAITING) && this.#settled) {
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
      allowed = this.#engine.call(ALLOWS, protocol, origin);
      if (http && this.#origins.size < 64) this.#origins.set(key, allowed);
    }
    return allowed;
  }

  // The token for one request as { token, generation } when one is ready, WAIT while a renewal
  // is in flight, null when none can be had.
  #access() {
    return this.#input((engine) => {
      const generation = engine.input(ACCESS);
      if (generation === WAIT) return WAIT;
      if (generation < 1) return (this.#current = null); // none: keep no copy of the old one
      if (this.#current?.generation !== generation) this.#current = { token: engine.call(TOKEN), generation };
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

  // A renewal the engine asked for: after the renew request before it has settled, and with
  // other tabs in this tab's turn (tabs.js).
  #renew(id, idleMs, refreshToken) {
    const controller = new AbortController();
    const renewal = (this.#renewal = { id, controller, sent: false });
    const send = () => {
      if (controller.signal.aborted) return;
      renewal.sent = true;
      return this.#send(id, idleMs, refreshToken, controller.signal);
    };
    const turn = () => (this.#tabs ? this.#tabs.turn(controller.signal, send) : send());
    this.#requests = this.#requests.then(turn, turn);
  }

  async #send(id, idleMs, refreshToken, signal) {
    let answer;
    try {
      answer = await requestRenewal(this.#page, this.#endpoints, idleMs, refreshToken, signal);
    } catch {
      if (!this.#disposed && !signal.aborted) this.#input((engine) => engine.input(RENEWAL_FAILED, id));
      return;
    }
    // Reported even when the engine stopped waiting for it: it takes a rotated refresh token.
    if (!this.#disposed) this.#input((engine) => engine.call(RENEWAL_ANSWERED, answer.fields, undefined, id, answer.status, answer.retryAfter));
  }

  // The engine stopped waiting for renewal `id`: abort it, unless its grant went out (keepSent).
  #cancelRenewal(id, keepSent) {
    const renewal = this.#renewal;
    if (renewal?.id === id) {
      if (!(keepSent && renewal.sent)) renewal.controller.abort();
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
