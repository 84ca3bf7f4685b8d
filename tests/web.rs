//! The Rust driver (`authpulse::web`) in headless Chromium: the contract's scenarios through its
//! public API, with the page's clocks and network faked by a small `World` (below) so that time
//! is driven, never slept: `Date.now` (the wall clock, which a test can move alone, as a system
//! sleep or a clock set back does), `performance.now`, `setTimeout` and `clearTimeout` answer
//! the world's clocks, and `fetch` the world's renew endpoint and API. BroadcastChannel and Web Locks are the
//! browser's own: two clients in this page are two tabs of one app.
//!
//! Real user input (trusted events) cannot be made from a page; here activity is `touch()`, and
//! the trusted path is in `tests/e2e/rust.spec.mjs` (Playwright's mouse in the Rust example app).
#![cfg(all(target_arch = "wasm32", feature = "web"))]

use std::cell::RefCell;
use std::rc::Rc;

use authpulse::web::{AuthClient, Event, Options, Phase, TeardownReason, TokenResponse};
use futures_util::future::join_all;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const real = {
  now: Date.now,
  performanceNow: performance.now,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  fetch: globalThis.fetch,
};
let world = null;
const macrotask = () => new Promise((resolve) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => resolve(channel.port1.close());
  channel.port2.postMessage(0);
});
const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

export class World {
  constructor(t0, lifetimeSeconds) {
    this.t0 = t0;
    this.now = t0; // the monotonic clock, which timers follow, as a date
    this.wallOffset = 0; // how far the wall clock is from it
    this.timers = new Map();
    this.nextTimer = 1;
    this.lifetimeSeconds = lifetimeSeconds;
    this.sessionAlive = true;
    this.tokens = new Map(); // token -> expires at
    this.issued = 0;
    this.requests = [];
    this.inflight = 0;
    this.renewFailures = [];
    this.rejectApi = false;
    world = this;
    Date.now = () => world.now + world.wallOffset;
    performance.now = () => world.now - world.t0 + 1000;
    globalThis.setTimeout = (fn, delay, ...args) => {
      const id = world.nextTimer++;
      world.timers.set(id, { at: world.now + Math.max(0, Number(delay) || 0), fn, args });
      return id;
    };
    globalThis.clearTimeout = (id) => void world.timers.delete(id);
    globalThis.fetch = (input, init) => world.fetch(input, init);
  }

  uninstall() {
    Date.now = real.now;
    delete performance.now; // the prototype's again
    globalThis.setTimeout = real.setTimeout;
    globalThis.clearTimeout = real.clearTimeout;
    globalThis.fetch = real.fetch;
    world = null;
  }

  /** The app's own sign-in: a token response, as the reference server's /auth/login gives. */
  login() {
    this.sessionAlive = true;
    return this.issue();
  }

  /** A sign-in at an identity provider: a token response with refresh token r1. */
  loginWithRefreshToken() {
    this.rotations = 1;
    this.refreshToken = "r1";
    return { ...this.issue(), refresh_token: "r1" };
  }

  issue() {
    const token = `t${++this.issued}`;
    this.tokens.set(token, this.now + this.lifetimeSeconds * 1000);
    return { access_token: token, token_type: "Bearer", expires_in: this.lifetimeSeconds };
  }

  revoke(token) { this.tokens.delete(token); }
  endSession() { this.sessionAlive = false; }
  setRejectApi(reject) { this.rejectApi = reject; }
  failRenewal(status, retryAfter) { this.renewFailures.push({ status, retryAfter }); }

  /** What requests to `where` carried: "credentials keepalive body". */
  details(where) {
    return this.requests.filter((r) => r.where === where)
      .map((r) => `${r.credentials}${r.keepalive ? " keepalive" : ""} ${r.body}`);
  }
  pendingTimers() { return this.timers.size; }
  /** The wall clock alone moves: a system sleep (forward) or a clock set back (backward). */
  jumpWall(ms) { this.wallOffset += ms; }
  at() { return this.now; }

  /** Every request so far: "+240s POST /auth/renew - 200", "+300s GET /api/me t2 200". */
  log() {
    return this.requests.map((r) =>
      `+${(r.at - this.t0) / 1000}s ${r.method} ${r.where} ${r.token ?? "-"} ${r.status}`);
  }

  async fetch(input, init) {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const authorization = request.headers.get("authorization");
    const entry = {
      at: this.now,
      method: request.method,
      where: url.origin === location.origin ? url.pathname : url.origin + url.pathname,
      token: authorization?.startsWith("Bearer ") ? authorization.slice(7) : authorization,
      status: 0,
      credentials: request.credentials,
      keepalive: request.keepalive,
      body: "",
    };
    this.requests.push(entry);
    this.inflight++;
    try {
      if (request.signal.aborted) throw new DOMException("aborted", "AbortError");
      const body = request.method === "GET" ? "" : await request.text();
      entry.body = body;
      const response = this.answer(url, entry, body);
      entry.status = response.status;
      // A redirect to another origin ends there (what window.fetch reports as the final URL).
      const final = url.pathname === "/api/redirected" ? "https://login.example/" : request.url;
      Object.defineProperty(response, "url", { value: final });
      return response;
    } finally {
      this.inflight--;
    }
  }

  answer(url, entry, body) {
    if (url.origin !== location.origin) return json(200, { authorization: entry.token });
    if (url.pathname === "/auth/renew") {
      const failure = this.renewFailures.shift();
      if (failure) {
        const headers = failure.retryAfter ? { "retry-after": failure.retryAfter } : {};
        return json(failure.status, { error: "unavailable" }, headers);
      }
      if (!this.sessionAlive) return json(401, { error: "no_session" });
      return json(200, this.issue());
    }
    if (url.pathname === "/oauth/token") {
      // The refresh_token grant (RFC 6749 section 6), rotating the refresh token each time.
      const form = new URLSearchParams(body);
      if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== this.refreshToken) {
        return json(400, { error: "invalid_grant" });
      }
      this.refreshToken = `r${++this.rotations}`;
      return json(200, { ...this.issue(), refresh_token: this.refreshToken });
    }
    if (url.pathname === "/oauth/revoke") return new Response(null, { status: 200 });
    if (url.pathname === "/auth/logout") {
      this.sessionAlive = false;
      return new Response(null, { status: 204 });
    }
    if (url.pathname.startsWith("/api/")) {
      const token = entry.token;
      const valid = token != null && !this.rejectApi && (this.tokens.get(token) ?? 0) > this.now;
      if (!valid) {
        const challenge = token == null ? 'Bearer realm="api"' : 'Bearer error="invalid_token"';
        return json(401, { error: "invalid_token" }, { "www-authenticate": challenge });
      }
      if (url.pathname === "/api/admin") return json(403, { error: "forbidden" });
      return json(200, { token, body });
    }
    return json(404, { error: "not_found" });
  }

  /**
   * Settles, then moves the clock `ms` forward, firing the timers as they fall due, each
   * followed by a settle.
   */
  async advance(ms) {
    await this.settle(); // what the test just did happens now, not later
    const end = this.now + ms;
    for (;;) {
      let next = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (next === null || timer.at < next[1].at)) next = [id, timer];
      }
      if (next === null) break;
      this.timers.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].fn(...next[1].args);
      await this.settle();
    }
    this.now = end;
    await this.settle();
  }

  /**
   * Waits until no request is in flight, no exclusive Web Lock is held or wanted (a renewal's
   * turn) and nothing new happened for a few rounds of real time; the fake clock stands still.
   */
  async settle() {
    let quiet = 0;
    let seen = -1;
    while (quiet < 3) {
      for (let i = 0; i < 3; i++) await macrotask();
      await new Promise((resolve) => real.setTimeout.call(globalThis, resolve, 3));
      const { held = [], pending = [] } = await navigator.locks.query();
      const busy = this.inflight > 0 || this.requests.length !== seen || pending.length > 0 ||
        held.some((lock) => lock.mode === "exclusive");
      seen = this.requests.length;
      quiet = busy ? 0 : quiet + 1;
    }
  }
}

/** Script-made input: dispatched events are not trusted, and a scroll is not input. */
export function syntheticInput() {
  document.dispatchEvent(new KeyboardEvent("keydown", { key: "a", bubbles: true }));
  document.body.dispatchEvent(new PointerEvent("pointermove", { bubbles: true, clientX: 10, clientY: 10 }));
  document.body.dispatchEvent(new PointerEvent("pointerdown", { bubbles: true }));
  window.dispatchEvent(new WheelEvent("wheel", { deltaY: 100 }));
  document.body.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  window.scrollBy(0, 10);
  document.dispatchEvent(new Event("visibilitychange"));
}

export function pageOrigin() { return location.origin; }
export function dispatch(type) { window.dispatchEvent(new Event(type)); }
export async function heldLocks(prefix) {
  const { held = [] } = await navigator.locks.query();
  return held.map((lock) => lock.name).filter((name) => name.startsWith(prefix));
}
export function bodyText(response) { return response.text(); }
"#)]
extern "C" {
    type World;
    #[wasm_bindgen(constructor)]
    fn new(t0: f64, lifetime_seconds: f64) -> World;
    #[wasm_bindgen(method)]
    fn uninstall(this: &World);
    #[wasm_bindgen(method)]
    fn login(this: &World) -> JsValue;
    #[wasm_bindgen(method)]
    fn revoke(this: &World, token: &str);
    #[wasm_bindgen(method, js_name = endSession)]
    fn end_session(this: &World);
    #[wasm_bindgen(method, js_name = setRejectApi)]
    fn set_reject_api(this: &World, reject: bool);
    #[wasm_bindgen(method, js_name = failRenewal)]
    fn fail_renewal(this: &World, status: u16, retry_after: Option<String>);
    #[wasm_bindgen(method, js_name = loginWithRefreshToken)]
    fn login_with_refresh_token(this: &World) -> JsValue;
    #[wasm_bindgen(method)]
    fn details(this: &World, where_: &str) -> Array;
    #[wasm_bindgen(method, js_name = pendingTimers)]
    fn pending_timers(this: &World) -> u32;
    #[wasm_bindgen(method, js_name = jumpWall)]
    fn jump_wall(this: &World, ms: f64);
    #[wasm_bindgen(method)]
    fn at(this: &World) -> f64;
    #[wasm_bindgen(method)]
    fn log(this: &World) -> Array;
    #[wasm_bindgen(method, js_name = advance)]
    fn advance_promise(this: &World, ms: f64) -> Promise;
    #[wasm_bindgen(method, js_name = settle)]
    fn settle_promise(this: &World) -> Promise;

    #[wasm_bindgen(js_name = syntheticInput)]
    fn synthetic_input();
    #[wasm_bindgen(js_name = pageOrigin)]
    fn page_origin() -> String;
    fn dispatch(kind: &str);
    #[wasm_bindgen(js_name = heldLocks)]
    fn held_locks(prefix: &str) -> Promise;
    #[wasm_bindgen(js_name = bodyText)]
    fn body_text(response: &web_sys::Response) -> Promise;
}

const T0: f64 = 1_893_920_400_000.0; // 2030-01-07T09:00:00Z
const SECOND: f64 = 1_000.0;
const MINUTE: f64 = 60_000.0;

/// The fake world for one test; dropping it gives the page its real clock and network back.
struct Fixture {
    world: World,
}

impl Fixture {
    /// Tokens of `lifetime_seconds` from the world's renew endpoint and login.
    fn new(lifetime_seconds: f64) -> Fixture {
        Fixture { world: World::new(T0, lifetime_seconds) }
    }

    async fn advance(&self, ms: f64) {
        JsFuture::from(self.world.advance_promise(ms)).await.expect("advance");
    }

    async fn settle(&self) {
        JsFuture::from(self.world.settle_promise()).await.expect("settle");
    }

    /// `future` while the clocks move `ms` forward (a wait that ends by a deadline).
    async fn while_advancing<T>(&self, ms: f64, future: impl std::future::Future<Output = T>) -> T {
        futures_util::future::join(future, self.advance(ms)).await.0
    }

    fn login(&self) -> TokenResponse {
        serde_wasm_bindgen::from_value(self.world.login()).expect("a token response")
    }

    /// The requests so far, as `+240s POST /auth/renew - 200`.
    fn log(&self) -> Vec<String> {
        self.world.log().iter().filter_map(|entry| entry.as_string()).collect()
    }

    /// The requests to `where_` (`/auth/renew`, `/api/me`, …).
    fn requests_to(&self, where_: &str) -> Vec<String> {
        let needle = format!(" {where_} ");
        self.log().into_iter().filter(|entry| entry.contains(&needle)).collect()
    }

    /// Seconds since T0 on the world's clock.
    fn elapsed_s(&self) -> f64 {
        (self.world.at() - T0) / SECOND
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.world.uninstall();
    }
}

/// Options for one test: its own renew URL, so that its channel and locks are its own.
fn options(test: &str) -> Options {
    Options { renew_url: Some(format!("/auth/renew?test={test}")), ..Options::default() }
}

fn client(options: Options) -> AuthClient {
    AuthClient::new(options).unwrap_or_else(|error| panic!("options refused: {}", error.message()))
}

/// The events these scenarios are about (others, such as a state change, are left out).
fn observed(event: &Event) -> bool {
    matches!(
        event,
        Event::Renewed { .. }
            | Event::IdleWarning { .. }
            | Event::Active
            | Event::Expired { .. }
            | Event::Error { .. }
    )
}

/// Records the [`observed`] events with the fake time (seconds since T0) they came at.
fn record(auth: &AuthClient) -> Rc<RefCell<Vec<(f64, Event)>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let into = Rc::clone(&seen);
    // `Date.now()` is the world's clock.
    auth.on(move |event| {
        if observed(event) {
            into.borrow_mut().push(((js_sys::Date::now() - T0) / SECOND, *event));
        }
    });
    seen
}

fn get(path: &str) -> web_sys::Request {
    web_sys::Request::new_with_str(path).expect("a request")
}

async fn status_of(auth: &AuthClient, path: &str) -> u16 {
    auth.fetch(&get(path)).await.expect("fetch").status()
}

#[wasm_bindgen_test]
fn options_have_the_javascript_defaults_names_and_errors() {
    let fixture = Fixture::new(300.0);
    let parsed: Options = serde_json::from_str(
        r#"{"renewUrl":"/auth/renew","idleTimeoutMs":600000,"allowedOrigins":["https://api.example"]}"#,
    )
    .expect("camelCase options");
    assert_eq!(parsed.idle_timeout_ms, Some(600_000));
    assert!(parsed.cross_tab, "crossTab defaults to true");
    let unknown = serde_json::from_str::<Options>(r#"{"idleTimeout":60000}"#).unwrap_err();
    assert!(unknown.to_string().contains("idleTimeout"), "{unknown}");

    let refused = |options: Options| match AuthClient::new(options) {
        Ok(_) => panic!("accepted"),
        Err(error) => (error.option.clone(), error.message()),
    };
    let base = options("options");
    for (options, option) in [
        (Options { idle_timeout_ms: Some(0), ..base.clone() }, "idleTimeoutMs"),
        (Options { idle_timeout_ms: Some(1 << 40), ..base.clone() }, "idleTimeoutMs"),
        (Options { warn_before_idle_ms: Some(900_000), ..base.clone() }, "warnBeforeIdleMs"),
        (
            Options { token_endpoint: Some("https://idp.example/token".into()), ..base.clone() },
            "clientId",
        ),
        (Options { allowed_origins: Some(vec![]), ..base.clone() }, "allowedOrigins"),
        (
            Options {
                allowed_origins: Some(vec!["https://api.example/v1".into()]),
                ..base.clone()
            },
            "allowedOrigins",
        ),
        (
            Options { allowed_origins: Some(vec!["not a url".into()]), ..base.clone() },
            "allowedOrigins",
        ),
        (Options { logout_url: Some(" ".into()), ..base.clone() }, "logoutUrl"),
    ] {
        let (named, message) = refused(options);
        assert_eq!(named, option);
        assert!(message.starts_with(&format!("authpulse: option \"{option}\" ")), "{message}");
    }
    let error = AuthClient::new(Options { idle_timeout_ms: Some(0), ..base.clone() }).unwrap_err();
    let error: Box<dyn std::error::Error> = Box::new(error);
    assert!(error.to_string().starts_with("authpulse: option \"idleTimeoutMs\""), "{error}");
    let auth = client(Options::default());
    assert_eq!(auth.state(), Phase::SignedOut);
    assert_eq!(auth.idle_expires_at(), None);
    drop(auth);
    assert_eq!(fixture.world.pending_timers(), 0, "a signed-out client arms no timer");
}

#[wasm_bindgen_test]
async fn an_active_user_is_renewed_before_expiry_an_inactive_one_is_not() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("active"));
    let events = record(&auth);
    auth.set_session(fixture.login()).expect("a good token response");
    for _ in 0..3 {
        fixture.advance(MINUTE).await;
        auth.touch();
    }
    fixture.advance(2.0 * MINUTE).await; // 5 min: renewed at 4 min (expiry 5 min − 1 min)
    assert_eq!(fixture.requests_to("/auth/renew"), ["+240s POST /auth/renew - 200"]);
    // No activity since that renewal: the token of 4 min is left to expire at 9 min.
    fixture.advance(5.0 * MINUTE).await;
    assert_eq!(fixture.requests_to("/auth/renew").len(), 1, "{:?}", fixture.log());
    assert_eq!(auth.state(), Phase::Active, "idle deadline is 3 + 15 min");
    assert_eq!(status_of(&auth, "https://other.example/x").await, 200);
    // Activity before the idle deadline renews at once.
    auth.touch();
    fixture.settle().await;
    assert_eq!(fixture.requests_to("/auth/renew")[1], "+600s POST /auth/renew - 200");
    assert_eq!(status_of(&auth, "/api/me").await, 200);
    assert_eq!(fixture.log().last().map(String::as_str), Some("+600s GET /api/me t3 200"));
    let renewed: Vec<f64> = events
        .borrow()
        .iter()
        .filter(|(_, event)| matches!(event, Event::Renewed { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(renewed, [0.0, 240.0, 600.0]);
}

#[wasm_bindgen_test]
async fn synthetic_events_are_not_activity() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("synthetic"));
    let events = record(&auth);
    auth.set_session(fixture.login()).expect("a good token response");
    for _ in 0..30 {
        fixture.advance(30.0 * SECOND).await;
        synthetic_input();
    }
    fixture.settle().await;
    assert_eq!(fixture.requests_to("/auth/renew"), Vec::<String>::new(), "no renewal");
    let seen: Vec<(f64, Event)> = events.borrow().clone();
    assert!(
        matches!(
            seen.as_slice(),
            [
                (_, Event::Renewed { .. }),
                (840.0, Event::IdleWarning { .. }),
                (900.0, Event::Expired { reason: TeardownReason::Idle })
            ]
        ),
        "{seen:?}"
    );
}

#[wasm_bindgen_test]
async fn the_idle_warning_comes_then_the_teardown_and_no_token_after_it() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("idle"));
    let events = record(&auth);
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.advance(14.0 * MINUTE).await;
    assert_eq!(auth.state(), Phase::Warning);
    auth.touch(); // at 14 min: the warning is cancelled
    assert_eq!(auth.state(), Phase::Active);
    fixture.advance(14.0 * MINUTE).await;
    assert_eq!(auth.state(), Phase::Warning);
    fixture.advance(MINUTE).await;
    assert_eq!(auth.state(), Phase::Expired);
    assert_eq!(auth.access_token().await, None);
    assert_eq!(status_of(&auth, "/api/me").await, 401);
    assert_eq!(fixture.log().last().map(String::as_str), Some("+1740s GET /api/me - 401"));
    let names: Vec<(f64, &str)> = events
        .borrow()
        .iter()
        .map(|(at, event)| {
            let name = match event {
                Event::Renewed { .. } => "renewed",
                Event::IdleWarning { .. } => "idlewarning",
                Event::Active => "active",
                Event::Expired { reason: TeardownReason::Idle } => "expired idle",
                other => panic!("unexpected {other:?}"),
            };
            (*at, name)
        })
        .filter(|(_, name)| *name != "renewed")
        .collect();
    assert_eq!(
        names,
        [
            (840.0, "idlewarning"),
            (840.0, "active"),
            (1680.0, "idlewarning"),
            (1740.0, "expired idle")
        ]
    );
    // The warning's deadline is the teardown's: 15 min after the last activity.
    let warned_until = events.borrow().iter().find_map(|(_, event)| match event {
        Event::IdleWarning { expires_at } => Some(expires_at.as_millis() as f64),
        _ => None,
    });
    assert_eq!(warned_until, Some(T0 + 15.0 * MINUTE));
}

#[wasm_bindgen_test]
async fn a_401_renews_once_and_retries_once_with_the_new_token() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("retry"));
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.world.revoke("t1");
    fixture.advance(10.0 * SECOND).await;
    let response = auth.fetch(&get("/api/me")).await.expect("fetch");
    assert_eq!(response.status(), 200);
    assert_eq!(
        fixture.log(),
        ["+10s GET /api/me t1 401", "+10s POST /auth/renew - 200", "+10s GET /api/me t2 200"]
    );
    // A second 401 is returned as it is, after one renewal (renew requests are a second apart
    // at least, whatever the server answers).
    fixture.world.set_reject_api(true);
    let response = fixture.while_advancing(2.0 * SECOND, auth.fetch(&get("/api/me"))).await;
    assert_eq!(response.expect("fetch").status(), 401);
    assert_eq!(
        fixture.log()[3..],
        ["+10s GET /api/me t2 401", "+11s POST /auth/renew - 200", "+11s GET /api/me t3 401"]
    );
    fixture.settle().await;
    assert_eq!(fixture.requests_to("/auth/renew").len(), 2, "no storm: {:?}", fixture.log());
}

#[wasm_bindgen_test]
async fn a_posted_body_is_sent_again_on_the_retry() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("body"));
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.world.revoke("t1");
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(r#"{"n":1}"#));
    let request = web_sys::Request::new_with_str_and_init("/api/echo", &init).expect("request");
    let response = auth.fetch(&request).await.expect("fetch");
    assert_eq!(response.status(), 200);
    let text = JsFuture::from(body_text(&response)).await.expect("body").as_string();
    assert_eq!(text.as_deref(), Some(r#"{"token":"t2","body":"{\"n\":1}"}"#));
}

#[wasm_bindgen_test]
async fn a_403_is_returned_untouched_without_a_renewal() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("forbidden"));
    auth.set_session(fixture.login()).expect("a good token response");
    assert_eq!(status_of(&auth, "/api/admin").await, 403);
    fixture.settle().await;
    assert_eq!(fixture.log(), ["+0s GET /api/admin t1 403"]);
}

#[wasm_bindgen_test]
async fn concurrent_calls_share_one_renewal() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("concurrent"));
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.advance(6.0 * MINUTE).await; // no activity: t1 expired at 5 min
    assert_eq!(fixture.requests_to("/auth/renew"), Vec::<String>::new());
    let statuses = join_all((0..5).map(|_| status_of(&auth, "/api/me"))).await;
    assert_eq!(statuses, [200; 5]);
    let tokens = join_all((0..3).map(|_| auth.access_token())).await;
    assert_eq!(tokens, [Some("t2".to_string()), Some("t2".into()), Some("t2".into())]);
    assert_eq!(fixture.requests_to("/auth/renew"), ["+360s POST /auth/renew - 200"]);
    assert_eq!(fixture.requests_to("/api/me"), vec!["+360s GET /api/me t2 200"; 5]);
}

#[wasm_bindgen_test]
async fn the_token_goes_to_allowed_origins_only() {
    let fixture = Fixture::new(300.0);
    let allowed = Some(vec![page_origin(), "https://api.example".into()]);
    let auth = client(Options { allowed_origins: allowed, ..options("origins") });
    auth.set_session(fixture.login()).expect("a good token response");
    for url in [
        "https://api.example/v1",
        "https://other.example/v1",
        "https://api.example:8443/v1",
        "http://api.example/v1",
        "https://other.example/v1?to=https://api.example",
    ] {
        assert_eq!(status_of(&auth, url).await, 200, "{url}");
    }
    let own = get("https://api.example/v2");
    own.headers().set("Authorization", "Bearer mine").expect("header");
    assert_eq!(auth.fetch(&own).await.expect("fetch").status(), 200);
    assert_eq!(
        fixture.log(),
        [
            "+0s GET https://api.example/v1 t1 200",
            "+0s GET https://other.example/v1 - 200",
            "+0s GET https://api.example:8443/v1 - 200",
            "+0s GET http://api.example/v1 - 200",
            "+0s GET https://other.example/v1 - 200",
            "+0s GET https://api.example/v2 mine 200",
        ]
    );
}

#[wasm_bindgen_test]
async fn start_resumes_through_the_session_and_reports_a_missing_one() {
    let fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("start") });
    assert!(auth.start().await, "the session answers with a token");
    assert_eq!(auth.state(), Phase::Active);
    assert_eq!(auth.access_token().await.as_deref(), Some("t1"));
    drop(auth);
    fixture.world.end_session();
    let auth = client(Options { cross_tab: false, ..options("start") });
    assert!(!auth.start().await, "no session: signed out");
    assert_eq!(auth.state(), Phase::SignedOut);
    assert_eq!(
        fixture.requests_to("/auth/renew"),
        ["+0s POST /auth/renew - 200", "+0s POST /auth/renew - 401"]
    );
}

#[wasm_bindgen_test]
async fn a_failing_renew_endpoint_keeps_the_token_and_backs_off() {
    let fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("backoff") });
    let events = record(&auth);
    auth.set_session(fixture.login()).expect("a good token response");
    auth.touch();
    for status in [503, 500, 502] {
        fixture.world.fail_renewal(status, None);
    }
    // A 429 or 503 with Retry-After sets the next attempt instead of the back-off step.
    fixture.world.fail_renewal(503, Some("20".into()));
    fixture.advance(4.0 * MINUTE + 30.0 * SECOND).await;
    assert_eq!(
        fixture.requests_to("/auth/renew"),
        [
            "+240s POST /auth/renew - 503",
            "+241s POST /auth/renew - 500",
            "+243s POST /auth/renew - 502",
            "+247s POST /auth/renew - 503",
            "+267s POST /auth/renew - 200"
        ]
    );
    let errors: Vec<&str> = events
        .borrow()
        .iter()
        .filter_map(|(_, event)| match event {
            Event::Error { code } => Some(code.code()),
            _ => None,
        })
        .collect();
    assert_eq!(errors, ["renew_failed"; 4]);
    assert_eq!(auth.state(), Phase::Active);
}

#[wasm_bindgen_test]
async fn a_logout_in_one_tab_signs_out_the_other() {
    let fixture = Fixture::new(300.0);
    let first = client(options("tabs"));
    let second = client(options("tabs"));
    let second_events = record(&second);
    first.set_session(fixture.login()).expect("a good token response");
    fixture.settle().await;
    assert_eq!(second.state(), Phase::Active, "a sign-in in one tab signs in the other");
    assert_eq!(second.access_token().await.as_deref(), Some("t1"));
    // Activity in the first tab keeps the second one signed in, on one renewal per token.
    for _ in 0..8 {
        fixture.advance(MINUTE).await;
        first.touch();
    }
    fixture.advance(MINUTE).await;
    assert_eq!(
        fixture.requests_to("/auth/renew"),
        ["+240s POST /auth/renew - 200", "+480s POST /auth/renew - 200"]
    );
    assert_eq!(second.access_token().await.as_deref(), Some("t3"));
    first.logout().await;
    fixture.settle().await;
    assert_eq!(first.state(), Phase::SignedOut);
    assert_eq!(second.state(), Phase::Expired);
    assert!(
        matches!(
            second_events.borrow().last(),
            Some((_, Event::Expired { reason: TeardownReason::Remote }))
        ),
        "{:?}",
        second_events.borrow()
    );
    assert_eq!(status_of(&second, "/api/me").await, 401);
    assert_eq!(fixture.log().last().map(String::as_str), Some("+540s GET /api/me - 401"));
}

#[wasm_bindgen_test]
async fn dropping_the_client_leaves_no_timer_listener_or_channel() {
    let fixture = Fixture::new(300.0);
    let other = client(options("dispose"));
    let other_events = record(&other);
    {
        let auth = client(options("dispose"));
        auth.set_session(fixture.login()).expect("a good token response");
        fixture.settle().await;
        let mut stream = auth.events();
        auth.touch();
        drop(auth);
        use futures_util::StreamExt;
        assert_eq!(stream.next().await, None, "the stream ends with the client");
    }
    drop(other);
    assert_eq!(fixture.world.pending_timers(), 0);
    fixture.advance(20.0 * MINUTE).await;
    assert_eq!(fixture.log(), Vec::<String>::new(), "nothing sent after the drop");
    // The other tab saw the sign-in before it was dropped, and nothing after.
    assert_eq!(other_events.borrow().len(), 1);
}

#[wasm_bindgen_test]
async fn events_arrive_as_a_stream_too() {
    use futures_util::StreamExt;
    let fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("stream") });
    let mut events = auth.events().filter(|event| std::future::ready(observed(event)));
    auth.set_session(fixture.login()).expect("a good token response");
    auth.logout().await;
    let first = events.next().await;
    assert!(
        matches!(first, Some(Event::Renewed { expires_at }) if expires_at.as_millis() as f64 == T0 + 300.0 * SECOND)
    );
    assert_eq!(events.next().await, Some(Event::Expired { reason: TeardownReason::Logout }));
    assert!(auth.set_session(TokenResponse::default()).is_err(), "bad_token_response");
    assert_eq!(auth.state(), Phase::SignedOut, "a refused response changes nothing");
    let _ = fixture.elapsed_s();
}

#[cfg(feature = "reqwest")]
#[wasm_bindgen_test]
async fn reqwest_requests_get_the_token_and_one_retry() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("reqwest"));
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.world.revoke("t1");
    let http = reqwest::Client::new();
    let origin = page_origin();
    let response = auth.send(http.get(format!("{origin}/api/me"))).await.expect("send");
    assert_eq!(response.status(), 200);
    let response = auth.send(http.get("https://other.example/v1")).await.expect("send");
    assert_eq!(response.status(), 200);
    let response = auth.send(http.get(format!("{origin}/api/admin"))).await.expect("send");
    assert_eq!(response.status(), 403);
    let response = auth
        .send(http.post(format!("{origin}/api/echo")).body("posted").bearer_auth("mine"))
        .await
        .expect("send");
    assert_eq!(response.status(), 401, "a caller's own Authorization is never replaced");
    assert_eq!(
        fixture.log(),
        [
            "+0s GET /api/me t1 401",
            "+0s POST /auth/renew - 200",
            "+0s GET /api/me t2 200",
            "+0s GET https://other.example/v1 - 200",
            "+0s GET /api/admin t2 403",
            "+0s POST /api/echo mine 401",
        ]
    );
    // A body is sent again on the retry (after the renewal floor of a second).
    fixture.world.revoke("t2");
    let again = auth.send(http.post(format!("{origin}/api/echo")).body("again"));
    let response = fixture.while_advancing(2.0 * SECOND, again).await.expect("send");
    assert_eq!(response.text().await.expect("body"), r#"{"token":"t3","body":"again"}"#);
}

#[wasm_bindgen_test]
async fn a_sleep_past_the_idle_deadline_signs_out_before_any_request() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("sleep"));
    let events = record(&auth);
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.advance(MINUTE).await;
    auth.touch();
    // The laptop sleeps 30 min: the wall clock moves on, the monotonic one and the timers not.
    fixture.world.jump_wall(30.0 * MINUTE);
    assert_eq!(status_of(&auth, "/api/me").await, 401);
    assert_eq!(fixture.log(), ["+60s GET /api/me - 401"], "no token, no renewal");
    assert_eq!(auth.state(), Phase::Expired);
    let seen: Vec<Event> = events.borrow().iter().map(|(_, event)| *event).collect();
    assert!(
        matches!(
            seen.as_slice(),
            [Event::Renewed { .. }, Event::Expired { reason: TeardownReason::Idle }]
        ),
        "{seen:?}"
    );
}

#[wasm_bindgen_test]
async fn a_wall_clock_set_back_does_not_extend_the_session() {
    let fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("setback") });
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.world.jump_wall(-10.0 * MINUTE);
    fixture.advance(14.0 * MINUTE).await;
    assert_eq!(auth.state(), Phase::Warning, "14 min by the monotonic clock");
    fixture.advance(MINUTE).await;
    assert_eq!(auth.state(), Phase::Expired);
    assert_eq!(auth.access_token().await, None);
}

#[wasm_bindgen_test]
async fn the_refresh_token_strategy_rotates_without_credentials_and_revokes_the_newest() {
    let fixture = Fixture::new(300.0);
    let auth = client(Options {
        token_endpoint: Some("/oauth/token".into()),
        client_id: Some("spa".into()),
        revoke_url: Some("/oauth/revoke".into()),
        cross_tab: false,
        ..Options::default()
    });
    let response = serde_wasm_bindgen::from_value(fixture.world.login_with_refresh_token())
        .expect("a token response");
    auth.set_session(response).expect("a good token response");
    auth.touch();
    fixture.advance(4.0 * MINUTE).await; // renewed with r1, which rotates to r2
    auth.touch();
    fixture.advance(4.0 * MINUTE).await; // renewed with r2 → r3
    auth.logout().await;
    fixture.settle().await;
    let details = |where_: &str| -> Vec<String> {
        fixture.world.details(where_).iter().filter_map(|entry| entry.as_string()).collect()
    };
    assert_eq!(
        details("/oauth/token"),
        [
            "omit grant_type=refresh_token&refresh_token=r1&client_id=spa",
            "omit grant_type=refresh_token&refresh_token=r2&client_id=spa",
        ]
    );
    assert_eq!(
        details("/oauth/revoke"),
        ["omit keepalive token=r3&token_type_hint=refresh_token&client_id=spa"]
    );
}

#[wasm_bindgen_test]
async fn a_jwt_without_expires_in_lives_exp_minus_iat() {
    let _fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("jwt") });
    // {"alg":"none"} . {"sub":"alice","iat":1000,"exp":1600} . (no signature)
    let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSIsImlhdCI6MTAwMCwiZXhwIjoxNjAwfQ.";
    let response = TokenResponse { access_token: Some(jwt.into()), ..TokenResponse::default() };
    auth.set_session(response).expect("a JWT with exp and iat");
    let expires = auth.token_expires_at().map(|at| at.as_millis() as f64);
    assert_eq!(expires, Some(T0 + 600.0 * SECOND), "exp − iat = 600 s from receipt");
    // Without claims, 5 minutes.
    let response =
        TokenResponse { access_token: Some("opaque".into()), ..TokenResponse::default() };
    auth.set_session(response).expect("an opaque token without expires_in");
    let expires = auth.token_expires_at().map(|at| at.as_millis() as f64);
    assert_eq!(expires, Some(T0 + 300.0 * SECOND));
}

#[wasm_bindgen_test]
async fn an_aborted_request_is_not_sent_and_starts_no_renewal() {
    let fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("abort") });
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.advance(6.0 * MINUTE).await; // the token expired: a fetch would renew first
    let controller = web_sys::AbortController::new().expect("AbortController");
    controller.abort();
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    let request = web_sys::Request::new_with_str_and_init("/api/me", &init).expect("request");
    let error = auth.fetch(&request).await.expect_err("aborted");
    let name = js_sys::Reflect::get(&error, &"name".into()).ok().and_then(|name| name.as_string());
    assert_eq!(name.as_deref(), Some("AbortError"));
    fixture.settle().await;
    assert_eq!(fixture.log(), Vec::<String>::new(), "nothing sent");
}

#[wasm_bindgen_test]
async fn a_401_from_a_final_url_on_another_origin_is_not_about_the_token() {
    let fixture = Fixture::new(300.0);
    let auth = client(Options { cross_tab: false, ..options("redirect") });
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.world.set_reject_api(true);
    assert_eq!(status_of(&auth, "/api/redirected").await, 401);
    fixture.settle().await;
    assert_eq!(fixture.log(), ["+0s GET /api/redirected t1 401"], "no renewal, no retry");
    assert_eq!(auth.access_token().await.as_deref(), Some("t1"), "the token is kept");
}

/// The names of the Web Locks held now that start with `prefix`.
async fn locks_held(prefix: &str) -> Vec<String> {
    let names = JsFuture::from(held_locks(prefix)).await.expect("locks.query");
    Array::from(&names).iter().filter_map(|name| name.as_string()).collect()
}

#[wasm_bindgen_test]
async fn the_token_mark_is_let_go_when_the_page_may_leave_and_taken_again_when_it_stays() {
    let fixture = Fixture::new(300.0);
    let auth = client(options("bfcache"));
    auth.set_session(fixture.login()).expect("a good token response");
    fixture.settle().await;
    // The lock that tells the other tabs (of either driver) which token this tab got.
    let prefix = "authpulse/1 /auth/renew?test=bfcache ";
    let mark = format!("{prefix}{}", T0 + 300.0 * SECOND);
    assert_eq!(locks_held(prefix).await, std::slice::from_ref(&mark));
    // Firefox keeps no page holding a Web Lock in the back/forward cache.
    dispatch("beforeunload");
    fixture.settle().await;
    assert_eq!(locks_held(prefix).await, Vec::<String>::new());
    dispatch("pageshow"); // back, or the navigation did not happen
    fixture.settle().await;
    assert_eq!(locks_held(prefix).await, [mark]);
    drop(auth);
    fixture.settle().await;
    assert_eq!(locks_held(prefix).await, Vec::<String>::new(), "nothing held after a drop");
}
