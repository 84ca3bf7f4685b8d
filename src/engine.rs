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
//! Nothing here panics on input: values of the wrong type are reported, never unwrapped.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::options::{ParsedOrigin, ParsedUrl, Raw, OPTION_NAMES};
use crate::core::{
    Command, Config, Event, Instant, RawOptions, RenewalId, RenewalOutcome, ResponseInfo,
    RetryDecision, Session, TokenAccess, TokenResponse,
};
use crate::tab_wire::{tab_message, tab_message_value};

/// The session core as the JavaScript adapters drive it. Not part of the public API: apps use
/// `AuthClient`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Engine {
    session: Session,
}

/// `access` results other than a token's generation (which is 1 or more).
const WAIT: f64 = -1.0;
const UNAVAILABLE: f64 = -2.0;

/// `poll` command kinds.
const RENEW: f64 = 1.0;
const CANCEL_RENEWAL: f64 = 2.0;
const EMIT: f64 = 3.0;
const END_SERVER_SESSION: f64 = 4.0;
const BROADCAST: f64 = 5.0;

#[wasm_bindgen]
impl Engine {
    /// Validates `options` (with `allowedOrigins` entries already parsed by the browser's URL
    /// parser into `{protocol, origin, more}` or `null`); throws a `TypeError` naming the option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, page_origin: &str) -> Result<Engine, JsValue> {
        let mut raw = RawOptions::default();
        if !(options.is_undefined() || options.is_null()) {
            if !options.is_object() || Array::is_array(&options) {
                return Err(type_error(
                    "invalid_option",
                    "authpulse: options must be an object like { renewUrl: \"/auth/renew\" }",
                ));
            }
            read_options(&options, &mut raw);
        }
        let config = Config::from_raw(&raw, page_origin).map_err(|error| {
            let exception = type_error("invalid_option", &error.message());
            set(&exception, "option", &JsValue::from_str(&error.option));
            exception
        })?;
        Ok(Engine { session: Session::new(config) })
    }

    /// Real user activity at `at` (ms since the epoch).
    pub fn activity(&mut self, at: f64) {
        self.session.handle_activity(Instant::from_js_millis(at));
    }

    /// Time passed: the timer fired, or the page came back.
    pub fn timeout(&mut self, now: f64) {
        self.session.handle_timeout(Instant::from_js_millis(now));
    }

    /// `setSession(response)`; throws a `TypeError` with code `bad_token_response`.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&mut self, now: f64, response: JsValue) -> Result<(), JsValue> {
        let response = token_response(&response).unwrap_or_default();
        self.session
            .handle_sign_in(Instant::from_js_millis(now), response)
            .map_err(|bad| type_error("bad_token_response", bad.message()))
    }

    /// `start()`: false if a session is already running.
    pub fn resume(&mut self, now: f64) -> bool {
        self.session.handle_resume(Instant::from_js_millis(now))
    }

    /// A caller wants a token: the generation of the token to attach (1 or more) when one is
    /// ready, -1 to wait for the renewal in flight, -2 when none can be had. The token itself
    /// changes only with its generation: read it with [`Engine::token`] when that is new.
    pub fn access(&mut self, now: f64) -> f64 {
        match self.session.access_token(Instant::from_js_millis(now)) {
            TokenAccess::Ready { generation, .. } => generation as f64,
            TokenAccess::Wait => WAIT,
            TokenAccess::Unavailable => UNAVAILABLE,
        }
    }

    /// The token that `access` at the same `now` answered with a generation for; `undefined`
    /// when it answered something else.
    pub fn token(&mut self, now: f64) -> Option<String> {
        match self.session.access_token(Instant::from_js_millis(now)) {
            TokenAccess::Ready { token, .. } => Some(token.into()),
            TokenAccess::Wait | TokenAccess::Unavailable => None,
        }
    }

    /// A response to a request sent with the token of `generation`: 0 return it, 1 retry once
    /// with a fresh token, 2 return it and stop using that token. `www_authenticate` is the
    /// header's value, or `null` without one. Only a 401 can be answered anything but 0
    /// ([`RetryDecision::UNAUTHORIZED`]): the adapters ask about no other status.
    pub fn response(
        &mut self,
        status: u16,
        www_authenticate: JsValue,
        generation: f64,
        retried: bool,
        replayable: bool,
    ) -> u8 {
        let www_authenticate = www_authenticate.as_string();
        let info = ResponseInfo {
            status,
            www_authenticate: www_authenticate.as_deref(),
            carried_token: true,
            retried,
            replayable,
        };
        match self.session.handle_response(&info, Some(generation as u64)) {
            RetryDecision::Return => 0,
            RetryDecision::Retry => 1,
            RetryDecision::ReturnAndDropToken => 2,
        }
    }

    /// The renew endpoint of renewal `id` answered with `status` and `body` (the parsed JSON,
    /// or `undefined` if it was not JSON).
    #[wasm_bindgen(js_name = renewalAnswered)]
    pub fn renewal_answered(&mut self, now: f64, id: f64, status: u16, body: JsValue) {
        let error = read(&body, "error", JsValue::as_string);
        let outcome = RenewalOutcome::from_answer(status, token_response(&body), error.as_deref());
        self.renewal(now, id, outcome);
    }

    /// The renewal request `id` failed before a response.
    #[wasm_bindgen(js_name = renewalFailed)]
    pub fn renewal_failed(&mut self, now: f64, id: f64) {
        self.renewal(now, id, RenewalOutcome::Network);
    }

    /// The page is being hidden or left (it may be frozen next).
    pub fn hidden(&mut self, now: f64) {
        self.session.handle_hidden(Instant::from_js_millis(now));
    }

    /// A message another tab broadcast (see `poll` and `crate::tab_wire`); anything else is
    /// ignored.
    pub fn tab(&mut self, now: f64, message: JsValue) {
        if let Some(message) = tab_message(&message) {
            self.session.handle_tab_message(Instant::from_js_millis(now), message);
        }
    }

    /// `logout()`.
    pub fn logout(&mut self, now: f64) {
        self.session.handle_logout(Instant::from_js_millis(now));
    }

    /// Activity at or after this time must be reported at once; earlier events may wait.
    pub fn threshold(&self) -> f64 {
        self.session.activity_report_threshold().as_millis() as f64
    }

    /// When to call `timeout` next, or -1 for never.
    pub fn deadline(&self) -> f64 {
        self.session.poll_timeout().map_or(-1.0, |at| at.as_millis() as f64)
    }

    /// `state`.
    #[wasm_bindgen(getter)]
    pub fn phase(&self) -> JsValue {
        JsValue::from_str(self.session.phase().as_str())
    }

    /// Whether a renewal is in flight (waiting callers are woken when it is not).
    #[wasm_bindgen(getter, js_name = inFlight)]
    pub fn in_flight(&self) -> bool {
        self.session.renewal_in_flight()
    }

    /// Whether a request to this URL (`URL.protocol` and `URL.origin`) may carry the token
    /// (rule 8); values that are not strings never do.
    pub fn allows(&self, protocol: JsValue, origin: JsValue) -> bool {
        let text = |value: JsValue| value.as_string().unwrap_or_default();
        self.session.config().allowed_origins.allows(&text(protocol), &text(origin))
    }

    /// Where renewals go, and how: `[url, clientId, revokeUrl, logoutUrl, crossTab]`,
    /// `clientId` null for the session strategy.
    #[wasm_bindgen(getter)]
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
        let text = |value: Option<&String>| value.map_or(JsValue::NULL, |v| JsValue::from_str(v));
        Array::of5(
            &JsValue::from_str(renew),
            &text(client_id),
            &text(revoke),
            &text(config.logout_url.as_ref()),
            &JsValue::from_bool(config.cross_tab),
        )
    }

    /// Takes the next command, `undefined` when there is none:
    /// `[1, renewalId, idleMs, refreshToken]` renew, `[2, renewalId]` cancel that renewal,
    /// `[3, eventName, detail]` emit an event, `[4, refreshToken]` end the server session,
    /// `[5, message]` post `message` to the other tabs (for their `tab`).
    pub fn poll(&mut self) -> JsValue {
        let Some(command) = self.session.poll_command() else {
            return JsValue::UNDEFINED;
        };
        let kind = |kind: f64| JsValue::from_f64(kind);
        let refresh =
            |token: Option<String>| token.map_or(JsValue::NULL, |token| JsValue::from_str(&token));
        let (a, b, c, d) = match command {
            Command::Renew { id, idle_ms, refresh_token } => (
                kind(RENEW),
                JsValue::from_f64(id.0 as f64),
                JsValue::from_f64(idle_ms as f64),
                refresh(refresh_token),
            ),
            Command::CancelRenewal(id) => {
                (kind(CANCEL_RENEWAL), JsValue::from_f64(id.0 as f64), JsValue::NULL, JsValue::NULL)
            }
            Command::Emit(event) => {
                let (name, detail) = event_parts(event);
                (kind(EMIT), JsValue::from_str(name), detail, JsValue::NULL)
            }
            Command::EndServerSession { refresh_token } => {
                (kind(END_SERVER_SESSION), refresh(refresh_token), JsValue::NULL, JsValue::NULL)
            }
            Command::Broadcast(message) => {
                (kind(BROADCAST), tab_message_value(message), JsValue::NULL, JsValue::NULL)
            }
        };
        Array::of4(&a, &b, &c, &d).into()
    }
}

/// An event's name and `detail` object.
fn event_parts(event: Event) -> (&'static str, JsValue) {
    let detail: JsValue = Object::new().into();
    let name = match event {
        Event::Renewed { expires_at } | Event::IdleWarning { expires_at } => {
            set(&detail, "expiresAt", &JsValue::from_f64(expires_at.as_millis() as f64));
            if matches!(event, Event::Renewed { .. }) {
                "renewed"
            } else {
                "idlewarning"
            }
        }
        Event::Active => "active",
        Event::Expired { reason } => {
            set(&detail, "reason", &JsValue::from_str(reason.as_str()));
            "expired"
        }
        Event::Error { code } => {
            set(&detail, "code", &JsValue::from_str(code.code()));
            set(&detail, "message", &JsValue::from_str(code.message()));
            if let crate::core::ErrorCode::Status(status) = code {
                set(&detail, "status", &JsValue::from_f64(status.into()));
            }
            "error"
        }
    };
    (name, detail)
}

impl Engine {
    fn renewal(&mut self, now: f64, id: f64, outcome: RenewalOutcome) {
        self.session.handle_renewal(Instant::from_js_millis(now), RenewalId(id as u64), outcome);
    }
}

/// A `TypeError` with a stable `code`: callers branch on the code, never on the message.
fn type_error(code: &str, message: &str) -> JsValue {
    let error: JsValue = js_sys::TypeError::new(message).into();
    set(&error, "code", &JsValue::from_str(code));
    error
}

/// Sets a property; a failure (a frozen object) only loses the property.
fn set(target: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(name), value);
}

/// A property as an option: absent, null, of the right type (`convert` says), or of another.
/// Not generic: one copy of the reading code serves every option.
#[inline(never)]
fn property(object: &JsValue, name: &str) -> Raw<JsValue> {
    // A throwing getter (a Proxy) is a value of the wrong kind, not a crash.
    match Reflect::get(object, &JsValue::from_str(name)) {
        Err(_) => Raw::WrongType,
        Ok(value) if value.is_undefined() => Raw::Absent,
        Ok(value) if value.is_null() => Raw::Null,
        Ok(value) => Raw::Given(value),
    }
}

fn raw_value<T>(object: &JsValue, name: &str, convert: fn(&JsValue) -> Option<T>) -> Raw<T> {
    match property(object, name) {
        Raw::Given(value) => convert(&value).map_or(Raw::WrongType, Raw::Given),
        Raw::Absent => Raw::Absent,
        Raw::Null => Raw::Null,
        Raw::WrongType => Raw::WrongType,
    }
}

#[inline(never)]
fn text(object: &JsValue, name: &str) -> Raw<String> {
    raw_value(object, name, JsValue::as_string)
}

#[inline(never)]
fn number(object: &JsValue, name: &str) -> Raw<f64> {
    raw_value(object, name, JsValue::as_f64)
}

/// A property of the right type, or `None`.
fn read<T>(object: &JsValue, name: &str, convert: fn(&JsValue) -> Option<T>) -> Option<T> {
    match raw_value(object, name, convert) {
        Raw::Given(value) => Some(value),
        _ => None,
    }
}

fn read_options(options: &JsValue, raw: &mut RawOptions) {
    raw.renew_url = text(options, "renewUrl");
    raw.token_endpoint = text(options, "tokenEndpoint");
    raw.client_id = text(options, "clientId");
    raw.revoke_url = text(options, "revokeUrl");
    raw.idle_timeout_ms = number(options, "idleTimeoutMs");
    raw.warn_before_idle_ms = number(options, "warnBeforeIdleMs");
    raw.renew_before_expiry_ms = number(options, "renewBeforeExpiryMs");
    raw.max_session_ms = number(options, "maxSessionMs");
    raw.allowed_origins = raw_value(options, "allowedOrigins", origins);
    raw.cross_tab = raw_value(options, "crossTab", JsValue::as_bool);
    raw.logout_url = text(options, "logoutUrl");
    raw.unknown = options.dyn_ref::<Object>().and_then(|object| {
        Object::keys(object)
            .iter()
            .filter_map(|key| key.as_string())
            .find(|key| !OPTION_NAMES.contains(&key.as_str()))
    });
}

/// `allowedOrigins` as the adapter parsed it: an array of `{protocol, origin, more}` or `null`.
fn origins(value: &JsValue) -> Option<Vec<ParsedOrigin>> {
    let entries = value.dyn_ref::<Array>()?;
    // A loop rather than `collect`: the iterator adapters cost more code than they save.
    let mut parsed = Vec::new();
    for entry in entries.iter() {
        parsed.push(ParsedOrigin(entry.is_object().then(|| ParsedUrl {
            protocol: read(&entry, "protocol", JsValue::as_string).unwrap_or_default(),
            origin: read(&entry, "origin", JsValue::as_string).unwrap_or_default(),
            has_more_than_origin: read(&entry, "more", JsValue::as_bool).unwrap_or(true),
        })));
    }
    Some(parsed)
}

/// A token response read from a parsed JSON body; `None` if it is not an object.
fn token_response(body: &JsValue) -> Option<TokenResponse> {
    if !body.is_object() {
        return None;
    }
    Some(TokenResponse {
        access_token: read(body, "access_token", JsValue::as_string),
        expires_in: read(body, "expires_in", JsValue::as_f64),
        token_type: read(body, "token_type", JsValue::as_string),
        refresh_token: read(body, "refresh_token", JsValue::as_string),
    })
}
