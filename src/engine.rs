//! `Engine`: the session core behind a `#[wasm_bindgen]` boundary, for the JavaScript adapters
//! of the package (`js/index.js`).
//!
//! The split is about size and the hot path. Every browser API called from Rust costs a
//! generated JavaScript shim, and Rust futures bring an executor: written that way the package
//! weighed 48 KB gzipped. Here the module imports almost nothing from the browser: the
//! adapters (listeners, the timer, `fetch`, events) are a few lines of JavaScript that feed
//! this engine timestamps and answers, and carry out the commands it hands back. Every
//! decision — options, deadlines, renewals, what a 401 means, which origins get the token,
//! what a token response is worth — stays in [`crate::core`].
//!
//! Nothing here panics on input: values of the wrong type are reported, never unwrapped. And
//! nothing here calls JavaScript that can throw: a JavaScript exception unwinding through wasm
//! frames leaves the module's stack pointer behind and, a few hundred throws later, kills every
//! client on the page. So the adapters hand in plain values only — options and token responses
//! copied out of the app's objects on the JavaScript side, where a throwing getter or Proxy
//! trap is caught — and what is read here are numbers, strings (never more of one than the
//! core could accept, so a 64 MiB token does not grow the module's memory for good), booleans,
//! and elements of plain arrays.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::options::{ParsedOrigin, ParsedUrl, Raw};
use crate::core::token::MAX_TOKEN_LEN;
use crate::core::{
    Command, Config, Event, ExpiresIn, Instant, Log, RawOptions, RenewalId, RenewalOutcome,
    ResponseInfo, RetryDecision, Session, TokenAccess, TokenResponse,
};
use crate::tab_wire::{push_number, push_text, tab_message, tab_message_value, text};

/// The session core as the JavaScript adapters drive it. Not part of the public API: apps use
/// `AuthClient`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Engine {
    session: Session,
    /// The clocks as of the adapter's last [`Engine::clock`]: the `now` of every input.
    now: Instant,
}

/// `access` results other than a token's generation (which is 1 or more).
const WAIT: f64 = -1.0;
const UNAVAILABLE: f64 = -2.0;

/// `input` kinds (`js/index.js` has the same numbers).
pub const IN_CLOCK: u8 = 0;
/// See [`Engine::input`].
pub const IN_ACTIVITY: u8 = 1;
/// See [`Engine::input`].
pub const IN_TIMEOUT: u8 = 2;
/// See [`Engine::input`].
pub const IN_RESUME: u8 = 3;
/// See [`Engine::input`].
pub const IN_HIDDEN: u8 = 4;
/// See [`Engine::input`].
pub const IN_LOGOUT: u8 = 5;
/// See [`Engine::input`].
pub const IN_RENEWAL_FAILED: u8 = 6;
/// See [`Engine::input`].
pub const IN_THRESHOLD: u8 = 7;
/// See [`Engine::input`].
pub const IN_DEADLINE: u8 = 8;
/// See [`Engine::input`].
pub const IN_ACCESS: u8 = 9;
/// See [`Engine::input`].
pub const IN_WAITING: u8 = 10;

/// `call` kinds (`js/index.js` has the same numbers).
pub const CALL_SIGN_IN: u8 = 0;
/// See [`Engine::call`].
pub const CALL_TOKEN: u8 = 1;
/// See [`Engine::call`].
pub const CALL_RESPONSE: u8 = 2;
/// See [`Engine::call`].
pub const CALL_RENEWAL_ANSWERED: u8 = 3;
/// See [`Engine::call`].
pub const CALL_TAB: u8 = 4;
/// See [`Engine::call`].
pub const CALL_QUERY: u8 = 5;
/// See [`Engine::call`].
pub const CALL_ALLOWS: u8 = 6;
/// See [`Engine::call`].
pub const CALL_ENDPOINTS: u8 = 7;
/// See [`Engine::call`].
pub const CALL_POLL: u8 = 8;
/// `CALL_RESPONSE` flag: the request was already retried once.
pub const RESPONSE_RETRIED: u8 = 1;
/// `CALL_RESPONSE` flag: the request can be sent again.
pub const RESPONSE_REPLAYABLE: u8 = 2;
/// `CALL_RESPONSE` flag: the response's final URL is on an allowed origin.
pub const RESPONSE_ALLOWED: u8 = 4;

/// `poll` command kinds.
const RENEW: f64 = 1.0;
const CANCEL_RENEWAL: f64 = 2.0;
const EMIT: f64 = 3.0;
const END_SERVER_SESSION: f64 = 4.0;
const BROADCAST: f64 = 5.0;
const REVOKE: f64 = 6.0;
const LOG: f64 = 7.0;

/// Longest URL option or short token-response field read (a URL longer than this is refused
/// as not a URL string).
const MAX_TEXT_LEN: u32 = 8 * 1024;

#[wasm_bindgen]
impl Engine {
    /// Validates the options: `values` the option values in the order of
    /// [`OPTION_NAMES`](crate::core::options::OPTION_NAMES) (with `allowedOrigins` entries
    /// already parsed by the browser's URL parser into `[protocol, origin, more]` or `null`),
    /// or `undefined` for none; `unknown` the first option name that is not one. Throws
    /// `["invalid_option", problem, option]` (see [`refusal`]).
    #[wasm_bindgen(constructor)]
    pub fn new(values: JsValue, unknown: JsValue, page_origin: &str) -> Result<Engine, JsValue> {
        let mut raw = RawOptions::default();
        if let Some(values) = values.dyn_ref::<Array>() {
            read_options(values, &mut raw);
        }
        raw.unknown = text(&unknown, MAX_TEXT_LEN);
        let config = Config::from_raw(&raw, page_origin).map_err(|error| {
            // The problem only: js/index.js words the message (`OptionError::message`).
            let refused = refusal("invalid_option", error.problem);
            push_text(&refused, Some(&error.option));
            JsValue::from(refused)
        })?;
        Ok(Engine { session: Session::new(config), now: Instant::default() })
    }

    /// The inputs and readings that take at most two numbers and give one, as one export (each
    /// export costs its own glue in both files): `kind` one of the `IN_*` constants, `a` and `b`
    /// its arguments — [`IN_CLOCK`] (`wall`, `mono`): [`Engine::clock`]; [`IN_ACTIVITY`]
    /// (`wall`, `mono`): [`Engine::activity`]; [`IN_TIMEOUT`]: [`Engine::timeout`];
    /// [`IN_RESUME`]: [`Engine::resume`]; [`IN_HIDDEN`]: [`Engine::hidden`]; [`IN_LOGOUT`]:
    /// [`Engine::logout`]; [`IN_RENEWAL_FAILED`] (`id`): [`Engine::renewal_failed`];
    /// [`IN_THRESHOLD`]: [`Engine::threshold`]; [`IN_DEADLINE`]: [`Engine::deadline`];
    /// [`IN_ACCESS`]: [`Engine::access`]; [`IN_WAITING`]: [`Engine::waiting`] as 1 or 0. Returns
    /// the reading, 0 for an input; an unknown `kind` does nothing.
    pub fn input(&mut self, kind: u8, a: f64, b: f64) -> f64 {
        match kind {
            IN_CLOCK => self.clock(a, b),
            IN_ACTIVITY => self.activity(a, b),
            IN_TIMEOUT => self.timeout(),
            IN_RESUME => self.resume(),
            IN_HIDDEN => self.hidden(),
            IN_LOGOUT => self.logout(),
            IN_RENEWAL_FAILED => self.renewal_failed(a),
            IN_THRESHOLD => return self.threshold(),
            IN_DEADLINE => return self.deadline(),
            IN_ACCESS => return self.access(),
            IN_WAITING => return self.waiting() as u8 as f64,
            _ => {}
        }
        0.0
    }

    /// The calls that take or give JavaScript values, as one export (each export costs its own
    /// glue in both files): `kind` one of the `CALL_*` constants, `x`, `y`, `a`, `b`, `c` its
    /// arguments (unused ones `undefined` or 0) —
    /// [`CALL_SIGN_IN`] (`x` the fields): [`Engine::sign_in`], `undefined` or the refusal
    /// (returned, for `js/index.js` to throw: no export but `new` throws); [`CALL_TOKEN`]: [`Engine::token`]; [`CALL_RESPONSE`] (`x`
    /// `WWW-Authenticate`, `a` status, `b` generation, `c` the flags [`RESPONSE_RETRIED`] |
    /// [`RESPONSE_REPLAYABLE`] | [`RESPONSE_ALLOWED`]): [`Engine::response`];
    /// [`CALL_RENEWAL_ANSWERED`] (`x` the fields, `a` id, `b` status, `c` Retry-After in ms):
    /// [`Engine::renewal_answered`]; [`CALL_TAB`] (`x` the message): [`Engine::tab`];
    /// [`CALL_QUERY`] (`a` what): [`Engine::query`]; [`CALL_ALLOWS`] (`x` protocol, `y`
    /// origin): [`Engine::allows`]; [`CALL_ENDPOINTS`]: [`Engine::endpoints`]; [`CALL_POLL`]:
    /// [`Engine::poll`]. Inputs give `undefined`, and so does an unknown `kind`.
    pub fn call(&mut self, kind: u8, x: JsValue, y: JsValue, a: f64, b: f64, c: f64) -> JsValue {
        match kind {
            CALL_SIGN_IN => self.sign_in(x).err().unwrap_or(JsValue::UNDEFINED),
            // Copied straight from the session (`token()` makes a String first).
            CALL_TOKEN => match self.session.access_token(self.now) {
                TokenAccess::Ready { token, .. } => JsValue::from_str(token),
                TokenAccess::Wait | TokenAccess::Unavailable => JsValue::UNDEFINED,
            },
            CALL_RESPONSE => {
                let flag = |bit: u8| c as u8 & bit != 0;
                let decision = self.response(
                    a as u16,
                    x,
                    b,
                    flag(RESPONSE_RETRIED),
                    flag(RESPONSE_REPLAYABLE),
                    flag(RESPONSE_ALLOWED),
                );
                JsValue::from_f64(decision.into())
            }
            CALL_RENEWAL_ANSWERED => {
                self.renewal_answered(a, b as u16, x, c);
                JsValue::UNDEFINED
            }
            CALL_TAB => {
                self.tab(x);
                JsValue::UNDEFINED
            }
            CALL_QUERY => self.query(a as u8),
            CALL_ALLOWS => JsValue::from_bool(self.allows(x, y)),
            CALL_ENDPOINTS => self.endpoints().into(),
            CALL_POLL => self.poll(),
            _ => JsValue::UNDEFINED,
        }
    }
}

/// An event's name and `detail` as `[name, value]` pairs, which `js/index.js` makes the object
/// with `Object.fromEntries`: that defines the properties without calling a setter a page may
/// have put on `Object.prototype`, and the module needs no property-setting import (which can
/// throw, so it would come with the glue's exception handling).
fn event_parts(event: Event) -> (&'static str, Array) {
    let detail = Array::new();
    let name = match event {
        Event::Renewed { expires_at }
        | Event::IdleWarning { expires_at }
        | Event::SignedIn { expires_at } => {
            field(&detail, "expiresAt", JsValue::from_f64(expires_at.as_millis() as f64));
            match event {
                Event::Renewed { .. } => "renewed",
                Event::SignedIn { .. } => "signedin",
                _ => "idlewarning",
            }
        }
        Event::StateChange { state } => {
            field(&detail, "state", JsValue::from_str(state.as_str()));
            "statechange"
        }
        Event::Active => "active",
        Event::Expired { reason } => {
            field(&detail, "reason", JsValue::from_str(reason.as_str()));
            "expired"
        }
        Event::Error { code } => {
            field(&detail, "code", JsValue::from_str(code.code()));
            field(&detail, "message", JsValue::from_str(code.message()));
            if let crate::core::ErrorCode::Status(status) = code {
                field(&detail, "status", JsValue::from_f64(status.into()));
            }
            "error"
        }
    };
    (name, detail)
}

impl Engine {
    /// `setSession(response)` with the response's fields (see [`Engine::renewal_answered`]);
    /// fails with `["bad_token_response", message]` (see [`refusal`]).
    pub fn sign_in(&mut self, fields: JsValue) -> Result<(), JsValue> {
        let response = token_response(&fields).unwrap_or_default();
        self.session
            .handle_sign_in(self.now, response)
            .map_err(|bad| refusal("bad_token_response", bad.message()).into())
    }

    /// The token that `access` answered with a generation for; `undefined` when it answered
    /// something else.
    pub fn token(&mut self) -> Option<String> {
        match self.session.access_token(self.now) {
            TokenAccess::Ready { token, .. } => Some(token.into()),
            TokenAccess::Wait | TokenAccess::Unavailable => None,
        }
    }

    /// A response to a request sent with the token of `generation`: 0 return it, 1 retry once
    /// with a fresh token, 2 return it and stop using that token. `www_authenticate` is the
    /// header's value, or `null` without one; `allowed` whether the response's final URL is on
    /// an allowed origin. Only a 401 can be answered anything but 0
    /// ([`RetryDecision::UNAUTHORIZED`]): the adapters ask about no other status.
    pub fn response(
        &mut self,
        status: u16,
        www_authenticate: JsValue,
        generation: f64,
        retried: bool,
        replayable: bool,
        allowed: bool,
    ) -> u8 {
        let www_authenticate = text(&www_authenticate, MAX_TEXT_LEN);
        let info = ResponseInfo {
            status,
            www_authenticate: www_authenticate.as_deref(),
            carried_token: true,
            retried,
            replayable,
            final_url_allowed: allowed,
        };
        match self.session.handle_response(&info, Some(generation as u64)) {
            RetryDecision::Return => 0,
            RetryDecision::Retry => 1,
            RetryDecision::ReturnAndDropToken => 2,
        }
    }

    /// The renew endpoint of renewal `id` answered with `status`, the body's token-response
    /// `fields` — `[access_token, expires_in, token_type, refresh_token, exp, iat, error]` as
    /// plain values (`exp` and `iat` the claims of a JWT access token), or `null` when the body
    /// was not a JSON object — and the delay its `Retry-After` header asked for in ms (NaN
    /// without one).
    pub fn renewal_answered(&mut self, id: f64, status: u16, fields: JsValue, retry_after_ms: f64) {
        let error = fields.dyn_ref::<Array>().and_then(|fields| text(&fields.get(6), 64));
        // NaN: none; a date in the past: at once.
        let retry_after = (!retry_after_ms.is_nan()).then_some(retry_after_ms as u64);
        let outcome = RenewalOutcome::from_answer(
            status,
            token_response(&fields),
            error.as_deref(),
            retry_after,
        );
        self.renewal(id, outcome);
    }

    /// A message another tab's engine broadcast (see `poll`); anything else is ignored.
    pub fn tab(&mut self, message: JsValue) {
        if let Some(message) = tab_message(&message) {
            self.session.handle_tab_message(self.now, message);
        }
    }

    /// What the client's getters report at the last `clock`, deadlines checked first: `state`
    /// (`what` 0), or in ms since the epoch (`null` for none) `idleExpiresAt` (1) or
    /// `tokenExpiresAt` (2). One export for the three: each export costs its own glue.
    pub fn query(&mut self, what: u8) -> JsValue {
        self.session.handle_timeout(self.now);
        let at = match what {
            0 => return JsValue::from_str(self.session.phase().as_str()),
            1 => self.session.idle_expires_at(),
            _ => self.session.token_expires_at(),
        };
        // As far away as the clock that reaches it first says, dated by the wall clock now: a
        // wall clock set back does not push the date out (as the events' `expiresAt`).
        at.map_or(JsValue::NULL, |at| {
            JsValue::from_f64(self.session.projected(at).as_millis() as f64)
        })
    }

    /// Whether a request to this URL (`URL.protocol` and `URL.origin`) may carry the token
    /// (rule 8); values that are not strings never do.
    pub fn allows(&self, protocol: JsValue, origin: JsValue) -> bool {
        let text = |value: JsValue| text(&value, MAX_TEXT_LEN).unwrap_or_default();
        self.session.config().allowed_origins.allows(&text(protocol), &text(origin))
    }

    /// Where renewals go, and how: `[url, clientId, revokeUrl, logoutUrl, crossTab]`,
    /// `clientId` null for the session strategy.
    pub fn endpoints(&self) -> Array {
        let config = self.session.config();
        let (renew, client_id, revoke) = match &config.strategy {
            crate::core::options::Strategy::Session { renew_url } => (renew_url, None, None),
            crate::core::options::Strategy::RefreshToken {
                token_endpoint,
                client_id,
                revoke_url,
            } => (token_endpoint, Some(client_id), revoke_url.as_ref()),
        };
        let out = Array::new();
        push_text(&out, Some(renew));
        push_text(&out, client_id.map(String::as_str));
        push_text(&out, revoke.map(String::as_str));
        push_text(&out, config.logout_url.as_deref());
        out.push(&JsValue::from_bool(config.cross_tab));
        out
    }

    /// Takes the next command, `undefined` when there is none:
    /// `[1, renewalId, idleMs, refreshToken]` renew, `[2, renewalId, keepSent]` stop waiting
    /// for that renewal (abort it, unless `keepSent` and its request went out: a refresh-token
    /// grant's answer is still reported), `[3, eventName, detailPairs]` emit an event
    /// (`detailPairs` the `[name, value]` pairs of its `detail`),
    /// `[4, refreshToken]` end the server session, `[5, message]` post `message` to the other
    /// tabs (for their `tab`), `[6, refreshToken]` revoke that refresh token, `[7, line, at, word]`
    /// a decision for the logger (see `core::log`: `line` is a `Line` as a number).
    pub fn poll(&mut self) -> JsValue {
        let Some(command) = self.session.poll_command() else {
            return JsValue::UNDEFINED;
        };
        // Built by appending, each value through one shared helper: a conversion and a drop
        // written out at every field cost more.
        let out = Array::new();
        match command {
            Command::Renew { id, idle_ms, refresh_token } => {
                push_number(&out, RENEW);
                push_number(&out, id.0 as f64);
                push_number(&out, idle_ms as f64);
                push_text(&out, refresh_token.as_deref());
            }
            Command::CancelRenewal(id) => {
                push_number(&out, CANCEL_RENEWAL);
                push_number(&out, id.0 as f64);
                out.push(&JsValue::from_bool(self.session.config().grants_refresh_tokens()));
            }
            Command::Emit(event) => {
                push_number(&out, EMIT);
                let (name, detail) = event_parts(event);
                push_text(&out, Some(name));
                out.push(&detail);
            }
            Command::EndServerSession { refresh_token } => {
                push_number(&out, END_SERVER_SESSION);
                push_text(&out, refresh_token.as_deref());
            }
            Command::Revoke(refresh_token) => {
                push_number(&out, REVOKE);
                push_text(&out, Some(&refresh_token));
            }
            Command::Broadcast(message) => {
                push_number(&out, BROADCAST);
                out.push(&tab_message_value(message));
            }
            Command::Log(Log { line, at, word }) => {
                push_number(&out, LOG);
                push_number(&out, line as u8 as f64);
                push_number(&out, at.as_millis() as f64);
                push_text(&out, Some(word));
            }
        }
        // Always four elements: null for the ones a kind does not use.
        for _ in out.length()..4 {
            push_text(&out, None);
        }
        out.into()
    }

    /// The clocks now: `Date.now()` and `performance.now()`. Every other input happens at the
    /// time of the last call.
    pub fn clock(&mut self, wall: f64, mono: f64) {
        self.now = Instant::from_js(wall, mono);
    }

    /// Real user activity at `wall`/`mono` (when the event happened, by both clocks).
    pub fn activity(&mut self, wall: f64, mono: f64) {
        self.session.handle_activity(Instant::from_js(wall, mono));
    }

    /// Time passed: the timer fired, or the page came back.
    pub fn timeout(&mut self) {
        self.session.handle_timeout(self.now);
    }

    /// `start()`.
    pub fn resume(&mut self) {
        self.session.handle_resume(self.now);
    }

    /// A caller wants a token: the generation of the token to attach (1 or more) when one is
    /// ready, -1 to wait while [`Engine::waiting`], -2 when none can be had. The token itself changes
    /// only with its generation: read it with [`Engine::token`] when that is new.
    pub fn access(&mut self) -> f64 {
        match self.session.access_token(self.now) {
            TokenAccess::Ready { generation, .. } => generation as f64,
            TokenAccess::Wait => WAIT,
            TokenAccess::Unavailable => UNAVAILABLE,
        }
    }

    /// The renewal request `id` failed before a response.
    pub fn renewal_failed(&mut self, id: f64) {
        self.renewal(id, RenewalOutcome::Network);
    }

    /// The page is being hidden or left (it may be frozen next).
    pub fn hidden(&mut self) {
        self.session.handle_hidden(self.now);
    }

    /// `logout()`.
    pub fn logout(&mut self) {
        self.session.handle_logout(self.now);
    }

    /// Activity an event reports at once when it happens at or after this reading of the
    /// monotonic clock (or as many milliseconds after the last `clock` by the wall clock);
    /// earlier events may wait. Infinity: none need to.
    pub fn threshold(&self) -> f64 {
        self.mono_time(Some(self.session.activity_report_threshold()))
    }

    /// When to call `timeout` next, as a reading of the monotonic clock (the deadline may be
    /// the wall clock's: it is as far away), or -1 for never.
    pub fn deadline(&self) -> f64 {
        match self.session.poll_timeout() {
            Some(at) => self.mono_time(Some(at)),
            None => -1.0,
        }
    }

    /// Whether callers that got "wait" (and `start()`) must go on waiting; a bounded time.
    pub fn waiting(&self) -> bool {
        self.session.callers_wait()
    }

    /// `state`, for Rust callers (the browser tests); JavaScript asks [`Engine::query`].
    pub fn phase(&self) -> JsValue {
        JsValue::from_str(self.session.phase().as_str())
    }

    fn renewal(&mut self, id: f64, outcome: RenewalOutcome) {
        self.session.handle_renewal(self.now, RenewalId(id as u64), outcome);
    }

    /// A deadline as the monotonic clock will read when the first clock reaches it.
    fn mono_time(&self, at: Option<Instant>) -> f64 {
        match at {
            Some(at) if at != Instant::from_millis(u64::MAX) => {
                self.now.mono_millis().saturating_add(self.now.ms_until(at)) as f64
            }
            _ => f64::INFINITY,
        }
    }
}

/// A refused input as thrown: `[code, message]`, which `js/index.js` throws on as a `TypeError`
/// with that message and `code` (a stable value callers branch on); or `[code, problem,
/// option]` for an option, which it throws with `option` and the message
/// [`OptionError::message`](crate::core::OptionError::message) words (`authpulse: option
/// "{option}" {problem}`). Plain data, like an event's detail (see [`event_parts`]).
fn refusal(code: &str, message: &str) -> Array {
    let refused = Array::new();
    push_text(&refused, Some(code));
    push_text(&refused, Some(message));
    refused
}

/// Appends `[name, value]` to an event's `detail` pairs.
#[inline(never)]
fn field(detail: &Array, name: &str, value: JsValue) {
    let pair = Array::new();
    push_text(&pair, Some(name));
    pair.push(&value);
    detail.push(&pair);
}

/// An option value: absent, null, of the right type (`convert` says), or of another.
fn raw_value<T>(value: JsValue, convert: impl Fn(&JsValue) -> Option<T>) -> Raw<T> {
    if value.is_undefined() {
        Raw::Absent
    } else if value.is_null() {
        Raw::Null
    } else {
        convert(&value).map_or(Raw::WrongType, Raw::Given)
    }
}

/// Reads option `index` of `values` into `field` as a URL string. The callee reads, converts
/// and stores: each option costs its caller a call only.
#[inline(never)]
fn url_option(values: &Array, index: u32, field: &mut Raw<String>) {
    // A URL longer than MAX_TEXT_LEN is not taken for one (and is not copied in).
    *field = raw_value(values.get(index), |value| {
        text(value, MAX_TEXT_LEN).filter(|url| url.len() <= MAX_TEXT_LEN as usize)
    });
}

/// Reads option `index` of `values` into `field` as a number (see [`url_option`]).
#[inline(never)]
fn number_option(values: &Array, index: u32, field: &mut Raw<f64>) {
    *field = raw_value(values.get(index), JsValue::as_f64);
}

/// Reads the option values in the order of `OPTION_NAMES`.
#[inline(never)]
fn read_options(values: &Array, raw: &mut RawOptions) {
    url_option(values, 0, &mut raw.renew_url);
    url_option(values, 1, &mut raw.token_endpoint);
    url_option(values, 2, &mut raw.client_id);
    url_option(values, 3, &mut raw.revoke_url);
    number_option(values, 4, &mut raw.idle_timeout_ms);
    number_option(values, 5, &mut raw.warn_before_idle_ms);
    number_option(values, 6, &mut raw.renew_before_expiry_ms);
    number_option(values, 7, &mut raw.max_session_ms);
    raw.allowed_origins = raw_value(values.get(8), origins);
    raw.cross_tab = raw_value(values.get(9), JsValue::as_bool);
    url_option(values, 10, &mut raw.logout_url);
    // `logger`: an object, or of the wrong type. Its methods are not looked up here (each lookup
    // costs bytes in every app): one that lacks one is reported by the driver when it is used.
    raw.logger = raw_value(values.get(11), |logger| logger.is_object().then_some(true));
}

/// `allowedOrigins` as the adapter parsed it: an array of `[protocol, origin, more]` or `null`.
fn origins(value: &JsValue) -> Option<Vec<ParsedOrigin>> {
    let entries = value.dyn_ref::<Array>()?;
    // A loop rather than `collect`: the iterator adapters cost more code than they save.
    let mut parsed = Vec::new();
    // Indexed: `iter()` would import a second element getter.
    for index in 0..entries.length() {
        let url = entries.get(index).dyn_ref::<Array>().map(|parts| ParsedUrl {
            protocol: text(&parts.get(0), MAX_TEXT_LEN).unwrap_or_default(),
            origin: text(&parts.get(1), MAX_TEXT_LEN).unwrap_or_default(),
            has_more_than_origin: parts.get(2).as_bool().unwrap_or(true),
        });
        parsed.push(ParsedOrigin(url));
    }
    Some(parsed)
}

/// A token response from its fields (see [`Engine::renewal_answered`]); `None` if the body was
/// not an object.
fn token_response(fields: &JsValue) -> Option<TokenResponse> {
    let fields = fields.dyn_ref::<Array>()?;
    let expires_in = fields.get(1);
    let expires_in = if let Some(seconds) = expires_in.as_f64() {
        Some(ExpiresIn::Seconds(seconds))
    } else if expires_in.is_undefined() || expires_in.is_null() {
        None
    } else {
        // A string of digits is read; any other value is not one.
        Some(ExpiresIn::Text(text(&expires_in, 64).unwrap_or_default()))
    };
    let token_type = fields.get(2);
    let token_type = if token_type.is_undefined() || token_type.is_null() {
        None
    } else {
        Some(text(&token_type, 64).unwrap_or_default())
    };
    let (exp, iat) = (fields.get(4).as_f64(), fields.get(5).as_f64());
    Some(TokenResponse {
        access_token: text(&fields.get(0), MAX_TOKEN_LEN as u32),
        expires_in,
        token_type,
        refresh_token: text(&fields.get(3), MAX_TOKEN_LEN as u32),
        jwt_exp_iat: exp.zip(iat),
    })
}
