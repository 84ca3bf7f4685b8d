//! `--test-controls`: what end-to-end tests need to watch and steer the server. None of it exists
//! without the flag.
//!
//! - `GET/POST /test/clock`: read or move the server's clock (it follows the browser's fake one).
//! - `GET /test/log`, `POST /test/log/clear`: every request the server saw, with whether it
//!   carried a bearer token and what that token was.
//! - `POST /test/fail`, `POST /test/fail/clear`: make the next requests to a path fail (with a
//!   `Retry-After` if asked).
//! - `GET /test/echo`, `POST /test/echo/clear`: what the echo origin received.
//! - `POST /test/reset`: all of the above cleared (the clock is left alone).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::bearer;
use crate::clock::Millis;
use crate::error::{ApiError, JsonBody};

/// The most requests kept in each log; older ones are dropped, so a long test cannot exhaust
/// memory.
pub const LOG_CAPACITY: usize = 10_000;

/// The logs and the failure rules.
#[derive(Debug, Default)]
pub struct TestState {
    requests: Mutex<Log<RequestRecord>>,
    echo: Mutex<Log<EchoRecord>>,
    failures: Mutex<Vec<FailureRule>>,
}

#[derive(Debug)]
struct Log<T> {
    next_seq: u64,
    entries: std::collections::VecDeque<T>,
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Self { next_seq: 1, entries: Default::default() }
    }
}

impl<T> Log<T> {
    fn push(&mut self, make: impl FnOnce(u64) -> T) {
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push_back(make(seq));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Logs and rules are plain data, valid whatever a panicking holder was doing.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One request the main server answered.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestRecord {
    seq: u64,
    /// Server clock when the request arrived.
    at_ms: Millis,
    method: String,
    path: String,
    /// Whether it carried `Authorization: Bearer`.
    bearer: bool,
    /// `none`, `valid`, `expired`, `revoked` or `invalid`, judged when the request arrived.
    token: &'static str,
    status: u16,
    /// Whether the status came from a `/test/fail` rule.
    injected: bool,
}

/// One request the echo origin received.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EchoRecord {
    seq: u64,
    at_ms: Millis,
    method: String,
    path: String,
    /// Lower-case header names; repeated headers joined with ", ".
    headers: serde_json::Map<String, Value>,
    /// Whether an `Authorization` header of any scheme arrived.
    authorization: bool,
}

/// A rule of `POST /test/fail`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct FailureRule {
    /// Exact request path, e.g. `/auth/renew`.
    path: String,
    /// Status to answer with instead of handling; without it the request is only delayed.
    #[serde(default)]
    status: Option<u16>,
    /// How many matching requests it applies to (default 1 unless `untilMs` is given).
    #[serde(default)]
    count: Option<u32>,
    /// Applies while the server clock is before this time.
    #[serde(default)]
    until_ms: Option<Millis>,
    /// Real milliseconds to hold the request before answering (to test in-flight sharing).
    #[serde(default)]
    delay_ms: Option<u64>,
    /// A `Retry-After` header for the injected status (seconds or an HTTP date, as given).
    #[serde(default)]
    retry_after: Option<String>,
}

impl TestState {
    /// Records a request the echo origin received.
    pub fn record_echo(&self, at_ms: Millis, method: &str, path: &str, headers: &HeaderMap) {
        let mut map = serde_json::Map::new();
        for name in headers.keys() {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .map(|value| value.to_str().unwrap_or("<binary>"))
                .collect();
            map.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
        }
        let authorization = headers.contains_key(axum::http::header::AUTHORIZATION);
        lock(&self.echo).push(|seq| EchoRecord {
            seq,
            at_ms,
            method: method.to_owned(),
            path: path.to_owned(),
            headers: map,
            authorization,
        });
    }

    /// The first rule for `path` that is live at `now_ms`, used up by one.
    fn take_failure(&self, path: &str, now_ms: Millis) -> Option<FailureRule> {
        let mut rules = lock(&self.failures);
        rules.retain(|rule| {
            rule.until_ms.is_none_or(|until| now_ms < until) && rule.count != Some(0)
        });
        let rule = rules.iter_mut().find(|rule| rule.path == path)?;
        if let Some(count) = rule.count.as_mut() {
            *count -= 1;
        }
        Some(rule.clone())
    }
}

fn test_state(state: &AppState) -> Result<&TestState, ApiError> {
    state.test.as_ref().ok_or_else(|| ApiError::internal("test controls are off"))
}

/// Middleware: appends every request outside `/test/` to the request log.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(test) = state.test.as_ref().filter(|_| !path.starts_with("/test/")) else {
        return next.run(request).await;
    };
    let at_ms = state.clock.now_ms();
    let method = request.method().to_string();
    let bearer = bearer::bearer_token(request.headers()).is_some();
    let token = match bearer::classify(&state, request.headers()) {
        Ok(token) => token.as_str(),
        Err(_) => "unknown",
    };
    let response = next.run(request).await;
    let injected = response.extensions().get::<Injected>().is_some();
    let status = response.status().as_u16();
    lock(&test.requests).push(|seq| RequestRecord {
        seq,
        at_ms,
        method,
        path,
        bearer,
        token,
        status,
        injected,
    });
    response
}

/// Marks a response made by a failure rule.
#[derive(Clone, Copy, Debug)]
struct Injected;

/// Middleware: applies `POST /test/fail` rules.
pub async fn inject_failures(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let Some(test) = state.test.as_ref().filter(|_| !path.starts_with("/test/")) else {
        return next.run(request).await;
    };
    let Some(rule) = test.take_failure(path, state.clock.now_ms()) else {
        return next.run(request).await;
    };
    if let Some(delay_ms) = rule.delay_ms {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    let Some(status) = rule.status.and_then(|status| StatusCode::from_u16(status).ok()) else {
        return next.run(request).await;
    };
    let mut response =
        ApiError::new(status, "injected_failure", "failure injected by /test/fail").into_response();
    if let Some(value) = rule.retry_after.and_then(|value| HeaderValue::from_str(&value).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response.extensions_mut().insert(Injected);
    response
}

/// The `/test` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clock", get(clock_now).post(set_clock))
        .route("/log", get(request_log))
        .route("/log/clear", post(clear_request_log))
        .route("/fail", get(failure_rules).post(add_failure))
        .route("/fail/clear", post(clear_failures))
        .route("/echo", get(echo_log))
        .route("/echo/clear", post(clear_echo_log))
        .route("/reset", post(reset))
}

/// `POST /test/clock` body: any of the fields, applied in this order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockRequest {
    now_ms: Option<Millis>,
    advance_ms: Option<Millis>,
    frozen: Option<bool>,
}

async fn clock_now(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "nowMs": state.clock.now_ms(), "frozen": state.clock.is_frozen() }))
}

async fn set_clock(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<ClockRequest>,
) -> Json<Value> {
    if let Some(frozen) = request.frozen {
        state.clock.set_frozen(frozen);
    }
    if let Some(now_ms) = request.now_ms {
        state.clock.set(now_ms);
    }
    if let Some(advance_ms) = request.advance_ms {
        state.clock.advance(advance_ms);
    }
    Json(json!({ "nowMs": state.clock.now_ms(), "frozen": state.clock.is_frozen() }))
}

async fn request_log(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let test = test_state(&state)?;
    let requests: Vec<RequestRecord> = lock(&test.requests).entries.iter().cloned().collect();
    let is_renewal = |r: &&RequestRecord| {
        r.method == "POST" && (r.path == "/auth/renew" || r.path == "/oauth/token")
    };
    let renewals: Vec<&RequestRecord> = requests.iter().filter(is_renewal).collect();
    let count = |pred: &dyn Fn(&RequestRecord) -> bool| requests.iter().filter(|r| pred(r)).count();
    Ok(Json(json!({
        "nowMs": state.clock.now_ms(),
        "counts": {
            "requests": requests.len(),
            "withBearer": count(&|r| r.bearer),
            "validBearer": count(&|r| r.token == "valid"),
            "expiredBearer": count(&|r| r.token == "expired"),
            "revokedBearer": count(&|r| r.token == "revoked"),
            "invalidBearer": count(&|r| r.token == "invalid"),
        },
        "renewals": {
            "total": renewals.len(),
            "ok": renewals.iter().filter(|r| (200..300).contains(&r.status)).count(),
            "rejected": renewals.iter().filter(|r| !r.injected && matches!(r.status, 400 | 401)).count(),
            "failed": renewals.iter().filter(|r| r.injected || !matches!(r.status, 200..=299 | 400 | 401)).count(),
        },
        "requests": requests,
    })))
}

async fn clear_request_log(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    lock(&test_state(&state)?.requests).entries.clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn failure_rules(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rules = lock(&test_state(&state)?.failures).clone();
    Ok(Json(json!({ "rules": rules })))
}

async fn add_failure(
    State(state): State<AppState>,
    JsonBody(mut rule): JsonBody<FailureRule>,
) -> Result<Json<Value>, ApiError> {
    if let Some(status) = rule.status {
        if StatusCode::from_u16(status).is_err() || status < 200 {
            return Err(ApiError::bad_request("status must be an HTTP status from 200 to 999"));
        }
    }
    if rule.retry_after.as_deref().is_some_and(|value| HeaderValue::from_str(value).is_err()) {
        return Err(ApiError::bad_request("retryAfter must be a header value"));
    }
    if rule.retry_after.is_some() && rule.status.is_none() {
        return Err(ApiError::bad_request("retryAfter goes with a status"));
    }
    if rule.status.is_none() && rule.delay_ms.is_none() {
        return Err(ApiError::bad_request("give a status, a delayMs, or both"));
    }
    if !rule.path.starts_with('/') {
        return Err(ApiError::bad_request("path must start with /"));
    }
    if rule.count.is_none() && rule.until_ms.is_none() {
        rule.count = Some(1);
    }
    let mut rules = lock(&test_state(&state)?.failures);
    rules.push(rule);
    Ok(Json(json!({ "rules": rules.clone() })))
}

async fn clear_failures(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    lock(&test_state(&state)?.failures).clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn echo_log(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let test = test_state(&state)?;
    let requests: Vec<EchoRecord> = lock(&test.echo).entries.iter().cloned().collect();
    let with_authorization = requests.iter().filter(|r| r.authorization).count();
    Ok(Json(json!({ "withAuthorization": with_authorization, "requests": requests })))
}

async fn clear_echo_log(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    lock(&test_state(&state)?.echo).entries.clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn reset(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    let test = test_state(&state)?;
    lock(&test.requests).entries.clear();
    lock(&test.echo).entries.clear();
    lock(&test.failures).clear();
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(count: Option<u32>, until_ms: Option<Millis>) -> FailureRule {
        FailureRule {
            path: "/auth/renew".into(),
            status: Some(500),
            count,
            until_ms,
            delay_ms: None,
            retry_after: None,
        }
    }

    #[test]
    fn a_counted_rule_is_used_up() {
        let test = TestState::default();
        lock(&test.failures).push(rule(Some(2), None));
        assert!(test.take_failure("/auth/renew", 0).is_some());
        assert!(test.take_failure("/api/me", 0).is_none());
        assert!(test.take_failure("/auth/renew", 0).is_some());
        assert!(test.take_failure("/auth/renew", 0).is_none());
    }

    #[test]
    fn a_timed_rule_ends_at_its_time() {
        let test = TestState::default();
        lock(&test.failures).push(rule(None, Some(1_000)));
        assert!(test.take_failure("/auth/renew", 999).is_some());
        assert!(test.take_failure("/auth/renew", 999).is_some());
        assert!(test.take_failure("/auth/renew", 1_000).is_none());
    }
}
