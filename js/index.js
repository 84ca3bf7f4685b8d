// authpulse: the browser adapters around the wasm session engine. Every decision — deadlines,
// renewals, what a 401 means, which origins get the token — is the engine's (src/core); this
// file only turns browser events, one timer and fetch into its inputs, and its commands into
// effects. See docs/CONTRACT.md for the API.
import init, { Engine } from "./authpulse.js";

export { init };

const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];
const EVENTS = ["renewed", "idlewarning", "active", "expired", "error"];
const LISTEN = { capture: true, passive: true };
const MAX_DELAY_MS = 2 ** 31 - 1;
const LAST_DATE_MS = 8.64e15; // the latest time a Date can hold
// Engine.access / Engine.response results and Engine.poll command kinds.
const WAIT = -1, RETRY = 1;
// The only status Engine.response can answer anything but "return it" for (src/core/retry.rs):
// responses with any other go straight back to the caller.
const UNAUTHORIZED = 401;
const RENEW = 1, CANCEL_RENEWAL = 2, EMIT = 3, END_SERVER_SESSION = 4, BROADCAST = 5;
const TAB_TOKEN = 2; // a tab message carrying a new token: [2, token, receivedAt, expiresAt, …]
// How long a tab whose turn to renew came waits for another tab's newer token to reach it.
const NEWER_TOKEN_WAIT_MS = 1_000;

const codedError = (Kind, code, message) => Object.assign(new Kind(`authpulse: ${message}`), { code });

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
  #page = globalThis;
  #listeners = new Map(EVENTS.map((name) => [name, new Set()]));
  #pending = 0; // a trusted event's time, not yet reported (below the engine's threshold)
  #threshold = 0;
  #timer = 0;
  #timerAt = -1;
  #renewal = null; // { id, controller }
  #channel = null; // BroadcastChannel to the app's other tabs (crossTab); its name is the lock's
  #expiresAt = 0; // expiry of this tab's token (from `renewed`), 0 for none
  #mark = null; // { release, granted, expiresAt }: the lock `${channel} ${expiresAt}` held for the token this tab got
  #unmarked = 0; // the expiry whose mark was let go as the page may be leaving, to take again
  #settled = null; // { promise, resolve }: callers waiting for the renewal in flight
  #onActivity;
  #onShow;
  #onLeave;
  #disposed = false;
  #current = null; // { token, generation }: the engine's token, read once per generation
  #origins = new Map(); // origin -> whether the engine lets it have the token (config is fixed)

  constructor(options) {
    let given = options;
    if (Array.isArray(options?.allowedOrigins)) {
      const allowedOrigins = options.allowedOrigins.map((o) => (typeof o === "string" ? parseOrigin(o) : null));
      given = { ...options, allowedOrigins };
    }
    this.#engine = new Engine(given, globalThis.location?.origin ?? "null");
    const [renewUrl, , , , crossTab] = this.#engine.endpoints;
    if (crossTab && typeof BroadcastChannel === "function") {
      this.#channel = new BroadcastChannel(`authpulse/1 ${renewUrl}`);
      this.#channel.onmessage = (event) => this.#input((engine, now) => engine.tab(now, event.data));
    }
    this.#onActivity = (event) => {
      if (!event.isTrusted) return;
      if (this.#unmarked) this.#markToken(this.#unmarked); // still here: the page did not leave
      const now = Date.now();
      if (now >= this.#threshold) this.#input((engine) => engine.activity(now));
      else if (this.#pending) this.#pending = now;
      else {
        // Held back until the threshold at the latest: the timer fires by then (signed out,
        // the threshold is "never", beyond any date, and nothing needs it).
        this.#pending = now;
        const at = this.#threshold;
        if (at < LAST_DATE_MS && (this.#timerAt < 0 || at < this.#timerAt)) this.#arm(at);
      }
    };
    // Deadlines first, so that coming back after the deadline never revives the session;
    // then a page the user made visible counts as activity. A page being hidden or left tells
    // the other tabs its last activity at once: it may be frozen next.
    this.#onShow = (event) => {
      const hidden = event.type === "pagehide" || document.visibilityState === "hidden";
      const visible = event.type === "visibilitychange" && event.isTrusted && !hidden;
      this.#input((engine, now) => {
        if (hidden) return engine.hidden(now);
        engine.timeout(now);
        if (visible) engine.activity(now);
      });
      if (event.type === "pageshow" && this.#unmarked) this.#markToken(this.#unmarked);
    };
    // Firefox keeps no page that holds a Web Lock in the back/forward cache, and decides so
    // before `pagehide`: the mark is let go when the page may be leaving, and taken again when
    // it is shown again or the user is still there (the navigation did not happen).
    this.#onLeave = () => {
      if (!this.#mark) return;
      this.#unmarked = this.#mark.expiresAt;
      this.#mark.release();
      this.#mark = null;
    };
    for (const type of ACTIVITY) addEventListener(type, this.#onActivity, LISTEN);
    document.addEventListener("visibilitychange", this.#onShow, LISTEN);
    addEventListener("focus", this.#onShow, LISTEN);
    addEventListener("pageshow", this.#onShow, LISTEN);
    addEventListener("pagehide", this.#onShow, LISTEN);
    addEventListener("beforeunload", this.#onLeave, LISTEN);
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
    const request = new Request(input, init);
    if (request.headers.has("authorization") || !this.#allows(request.url)) return this.#page.fetch(request);
    const replayable = !(init?.body instanceof ReadableStream);
    // fetch consumes a body; a request without one can be sent again as it is.
    const spare = replayable && request.body !== null ? request.clone() : request;
    let first = this.#access();
    if (first === WAIT) first = await this.#token();
    if (!first) return this.#page.fetch(request);
    request.headers.set("Authorization", `Bearer ${first.token}`);
    const response = await this.#page.fetch(request);
    if (response.status !== UNAUTHORIZED) return response;
    const decision = this.#input((engine) =>
      engine.response(response.status, response.headers.get("www-authenticate"), first.generation, false, replayable));
    if (decision !== RETRY) return response;
    const second = await this.#token();
    if (!second) return response; // signed out meanwhile: the original 401
    spare.headers.set("Authorization", `Bearer ${second.token}`);
    const retried = await this.#page.fetch(spare);
    if (retried.status === UNAUTHORIZED) {
      this.#input((engine) =>
        engine.response(retried.status, retried.headers.get("www-authenticate"), second.generation, true, false));
    }
    return retried;
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
    const set = this.#listeners.get(event);
    if (!set) throw codedError(TypeError, "unknown_event", `unknown event "${event}"; one of ${EVENTS.join(", ")}`);
    if (typeof listener !== "function") throw codedError(TypeError, "invalid_listener", "a listener must be a function");
    const entry = (detail) => listener(detail);
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** "signedOut" | "active" | "warning" | "expired", with the deadlines checked first. */
  get state() {
    if (this.#disposed) return "signedOut";
    this.#input((engine, now) => engine.timeout(now));
    return this.#engine.phase;
  }

  /** Removes every listener, the timer and any renewal in flight; drops the tokens. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const type of ACTIVITY) removeEventListener(type, this.#onActivity, LISTEN);
    document.removeEventListener("visibilitychange", this.#onShow, LISTEN);
    removeEventListener("focus", this.#onShow, LISTEN);
    removeEventListener("pageshow", this.#onShow, LISTEN);
    removeEventListener("pagehide", this.#onShow, LISTEN);
    removeEventListener("beforeunload", this.#onLeave, LISTEN);
    clearTimeout(this.#timer);
    this.#renewal?.controller.abort();
    this.#mark?.release();
    this.#channel?.close();
    this.#listeners.forEach((set) => set.clear());
    this.#engine.free();
    this.#settled?.resolve();
  }

  #live() {
    if (this.#disposed) throw codedError(Error, "disposed", "this AuthClient was disposed");
  }

  // Every input goes through here: recorded activity first (the engine sees events in time
  // order), then the input, then its commands, the timer and the waiting callers.
  #input(step) {
    const engine = this.#engine;
    const now = Date.now();
    if (this.#pending) {
      engine.activity(this.#pending);
      this.#pending = 0;
    }
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
        events.push([a, b]);
        if (a === "renewed") this.#expiresAt = b.expiresAt;
        if (a === "expired") this.#markToken(0);
      } else if (kind === END_SERVER_SESSION) this.#endServerSession(a);
      else if (kind === BROADCAST) {
        this.#channel?.postMessage(a);
        if (a[0] === TAB_TOKEN) this.#markToken(a[3]);
      }
    }
    this.#threshold = engine.threshold();
    const at = engine.deadline();
    if (at !== this.#timerAt) this.#arm(at);
    if (!engine.inFlight && this.#settled) {
      this.#settled.resolve();
      this.#settled = null;
    }
    // After the engine is consistent: a listener may call back into the client.
    for (const [name, detail] of events) this.#emit(name, detail);
  }

  // The one timer, re-armed for `at` (-1: none); its callback re-checks the wall clock.
  #arm(at) {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    if (at >= 0) {
      const delay = Math.min(Math.max(at - Date.now(), 0), MAX_DELAY_MS);
      this.#timer = setTimeout(() => {
        this.#timerAt = -1;
        this.#input((engine, now) => engine.timeout(now));
      }, delay);
    }
  }

  #emit(name, detail) {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        listener(detail);
      } catch (error) {
        console.error("authpulse: an event listener threw", error);
      }
    }
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

  // With other tabs, one renewal for all: the tabs take turns under a Web Lock, and a tab whose
  // turn comes after another tab's new token reached it finds its renewal cancelled (the
  // engine cancels it on that token). The message may reach it after its turn came: the lock
  // manager is the one ordered authority, so a tab that got a token holds a second lock named
  // after its expiry, taken before the turn passes on; a tab whose turn comes while a newer
  // token's lock is held waits for that token instead of renewing (a starting tab, with no
  // token, waits for the answers to its hello).
  async #renew(id, idleMs, refreshToken) {
    const controller = new AbortController();
    const { signal } = controller;
    this.#renewal = { id, controller };
    const locks = globalThis.navigator?.locks;
    if (!this.#channel || !locks) return this.#send(id, idleMs, refreshToken, controller);
    try {
      await locks.request(this.#channel.name, { signal }, async () => {
        await nextTask();
        if (!signal.aborted && (await this.#newerTokenElsewhere(locks))) {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, NEWER_TOKEN_WAIT_MS);
            signal.addEventListener("abort", () => resolve(clearTimeout(timer)), { once: true });
          });
        }
        if (signal.aborted) return;
        await this.#send(id, idleMs, refreshToken, controller);
        await this.#mark?.granted;
      });
    } catch {
      // Aborted while waiting for the lock: another tab's token made it needless, or it timed out.
    }
  }

  async #newerTokenElsewhere(locks) {
    const prefix = `${this.#channel.name} `;
    const { held = [] } = await locks.query();
    return held.some(({ name }) => name.startsWith(prefix) && Number(name.slice(prefix.length)) > this.#expiresAt);
  }

  // Holds the lock that tells the tabs this tab got the token expiring at `expiresAt` (0: none).
  #markToken(expiresAt) {
    this.#mark?.release();
    this.#mark = null;
    this.#unmarked = 0;
    const locks = globalThis.navigator?.locks;
    if (!expiresAt || !this.#channel || !locks) return;
    let release, granted;
    const held = new Promise((resolve) => (release = resolve));
    const name = `${this.#channel.name} ${expiresAt}`;
    this.#mark = {
      release,
      granted: new Promise((resolve) => (granted = resolve)),
      expiresAt,
    };
    locks.request(name, { mode: "shared" }, () => (granted(), held)).catch(() => granted());
  }

  async #send(id, idleMs, refreshToken, controller) {
    const [url, clientId] = this.#engine.endpoints;
    const init = { method: "POST", credentials: "include", signal: controller.signal };
    if (clientId === null) {
      init.headers = { "X-Requested-With": "authpulse", "Content-Type": "application/json" };
      init.body = JSON.stringify({ idleMs });
    } else {
      init.body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken ?? "", client_id: clientId });
    }
    let response, body;
    try {
      response = await this.#page.fetch(url, init);
      body = await response.json().catch(() => undefined);
    } catch {
      if (!this.#disposed && !controller.signal.aborted) this.#input((engine, now) => engine.renewalFailed(now, id));
      return;
    }
    if (!this.#disposed) this.#input((engine, now) => engine.renewalAnswered(now, id, response.status, body));
  }

  #cancelRenewal(id) {
    if (this.#renewal?.id === id) {
      this.#renewal.controller.abort();
      this.#renewal = null;
    }
  }

  // Best effort, and it must survive the page unloading: keepalive, no answer awaited.
  #endServerSession(refreshToken) {
    const [, clientId, revokeUrl, logoutUrl] = this.#engine.endpoints;
    const send = (url, init) => this.#page.fetch(url, { method: "POST", credentials: "include", keepalive: true, ...init }).catch(() => {});
    if (logoutUrl !== null) send(logoutUrl, { headers: { "X-Requested-With": "authpulse" } });
    if (revokeUrl !== null && refreshToken != null) {
      send(revokeUrl, { body: new URLSearchParams({ token: refreshToken, token_type_hint: "refresh_token", client_id: clientId }) });
    }
  }
}

// A macrotask turn that the page's fake clocks and timer throttling leave alone.
function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(channel.port1.close());
    channel.port2.postMessage(0);
  });
}

/** Loads the wasm module once, then builds a client. */
export async function createAuthClient(options) {
  await init();
  return new AuthClient(options);
}
