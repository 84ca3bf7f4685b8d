//! The echo origin (`--test-controls` only): a second listener, so a second origin, that records
//! every request it gets, preflights included, and lets any page call it. End-to-end tests point
//! `auth.fetch` at it to check that the bearer token never leaves the allowed origins.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

/// The echo origin's router: one fallback handler for every method and path.
pub fn router(state: AppState) -> Router {
    Router::new().fallback(echo).with_state(state)
}

async fn echo(State(state): State<AppState>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    if let Some(test) = &state.test {
        test.record_echo(state.clock.now_ms(), method.as_str(), &path, request.headers());
    }
    let mut response = if method == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(json!({ "echo": true, "method": method.as_str(), "path": path })).into_response()
    };
    allow_everything(request.headers(), response.headers_mut());
    response
}

/// Permissive CORS that mirrors what the request asks for, credentials included: the echo origin
/// must never be the reason a request fails, only a witness of what was sent.
fn allow_everything(request: &HeaderMap, response: &mut HeaderMap) {
    let mirror = |name: header::HeaderName, fallback: &'static str| {
        request.get(name).cloned().unwrap_or(HeaderValue::from_static(fallback))
    };
    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, mirror(header::ORIGIN, "*"));
    response.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    response.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        mirror(header::ACCESS_CONTROL_REQUEST_METHOD, "GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    if let Some(headers) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        response.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, headers.clone());
    }
    response.insert(header::VARY, HeaderValue::from_static("Origin"));
}
