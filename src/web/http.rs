//! Requests: the app's own (`fetch` with the bearer token and one replay), the renewals of
//! contract sections 2 and 3, and the best-effort requests that end a server session.

use std::rc::Rc;

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, Headers, ReadableStream, Request, RequestCredentials, RequestInit, Response,
    UrlSearchParams, Window,
};

use crate::core::options::Strategy;
use crate::core::{RenewalOutcome, ResponseInfo, RetryDecision, TokenResponse};

use super::driver::Driver;

#[wasm_bindgen]
extern "C" {
    /// `Request`, built from whatever `fetch` accepts: a string, a `URL` or a `Request`, with
    /// an optional init dictionary. The browser normalises it exactly as `fetch` would.
    #[wasm_bindgen(extends = Request, js_name = Request)]
    type CallerRequest;

    #[wasm_bindgen(catch, constructor, js_class = Request)]
    fn new(input: &JsValue, init: &JsValue) -> Result<CallerRequest, JsValue>;
}

/// Where renewals and sign-outs go, from the configuration.
#[derive(Debug)]
pub(crate) struct Endpoints {
    /// How tokens are renewed.
    pub(crate) strategy: Strategy,
    /// POSTed on teardown, if set.
    pub(crate) logout_url: Option<String>,
}

/// `authClient.fetch(input, init)`: `window.fetch` with the bearer token for allowed origins,
/// and one replay with a fresh token when the token was refused. Network errors reject with the
/// browser's own error, as `fetch` does.
pub(crate) async fn fetch(
    driver: Rc<Driver>,
    input: JsValue,
    init: JsValue,
) -> Result<JsValue, JsValue> {
    driver.ensure_live()?;
    let request: Request = CallerRequest::new(&input, &init)?.unchecked_into();
    let headers = request.headers();
    // The caller's own Authorization header is never replaced.
    let wants_token =
        !headers.has("Authorization").unwrap_or(true) && driver.allows(&request.url());
    if !wants_token {
        return send(driver.window(), &request).await;
    }
    let Some((token, generation)) = driver.token().await? else {
        return send(driver.window(), &request).await;
    };
    // A stream is read once: replaying it would need the whole upload buffered. (A `Request`
    // input built on a stream cannot be told apart; `clone()` tees it.)
    let replayable = !has_stream_body(&init);
    // Copied before the first send consumes the body; the copy has no token yet.
    let spare = if replayable { Some(request.clone()?) } else { None };
    headers.set("Authorization", &bearer(&token))?;
    let response = send(driver.window(), &request).await?;
    let Some(answer) = response.dyn_ref::<Response>() else {
        return Ok(response);
    };
    let www_authenticate = answer.headers().get("WWW-Authenticate").ok().flatten();
    let info = ResponseInfo {
        status: answer.status(),
        www_authenticate: www_authenticate.as_deref(),
        carried_token: true,
        retried: false,
        replayable,
    };
    if driver.response(&info, generation) != RetryDecision::Retry {
        return Ok(response);
    }
    let Some(spare) = spare else {
        return Ok(response);
    };
    // No token to be had (signed out, renewals failing): the caller gets the original 401.
    let Some((token, _)) = driver.token().await? else {
        return Ok(response);
    };
    spare.headers().set("Authorization", &bearer(&token))?;
    send(driver.window(), &spare).await
}

async fn send(window: &Window, request: &Request) -> Result<JsValue, JsValue> {
    JsFuture::from(window.fetch_with_request(request)).await
}

fn bearer(token: &str) -> String {
    ["Bearer ", token].concat()
}

fn has_stream_body(init: &JsValue) -> bool {
    init.is_object()
        && Reflect::get(init, &JsValue::from_str("body"))
            .is_ok_and(|body| body.is_instance_of::<ReadableStream>())
}

/// One renewal request and what its answer means.
pub(crate) async fn renew(
    window: &Window,
    endpoints: &Endpoints,
    idle_ms: u64,
    refresh_token: Option<String>,
    signal: Option<&AbortSignal>,
) -> RenewalOutcome {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_signal(signal);
    let (url, refresh_grant) = match &endpoints.strategy {
        Strategy::Session { renew_url } => {
            // The cookie is the session; the custom header forces a CORS preflight cross-site.
            init.set_credentials(RequestCredentials::Include);
            let Some(headers) = csrf_headers() else {
                return RenewalOutcome::Network;
            };
            let _ = headers.append("Content-Type", "application/json");
            init.set_headers(&headers);
            init.set_body(&JsValue::from_str(&idle_body(idle_ms)));
            (renew_url, false)
        }
        Strategy::RefreshToken { token_endpoint, client_id, .. } => {
            // Without a refresh token there is no session to renew.
            let Some(refresh_token) = refresh_token else {
                return RenewalOutcome::Rejected;
            };
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
                ("client_id", client_id),
            ];
            let Some(body) = form_body(&form) else {
                return RenewalOutcome::Network;
            };
            init.set_body(&body);
            (token_endpoint, true)
        }
    };
    let Ok(response) = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await else {
        return RenewalOutcome::Network;
    };
    let Ok(response) = response.dyn_into::<Response>() else {
        return RenewalOutcome::Network;
    };
    match response.status() {
        200..=299 => match json(&response).await.as_ref().and_then(token_response) {
            Some(token) => RenewalOutcome::Token(token),
            None => RenewalOutcome::NotJson,
        },
        401 => RenewalOutcome::Rejected,
        // RFC 6749 section 5.2: the refresh token is invalid, expired or revoked.
        400 if refresh_grant
            && oauth_error(&response).await.as_deref() == Some("invalid_grant") =>
        {
            RenewalOutcome::Rejected
        }
        status => RenewalOutcome::Status(status),
    }
}

/// Ends the session on the server, best effort: `keepalive` lets the request outlive the page.
pub(crate) fn end_server_session(
    window: &Window,
    endpoints: &Endpoints,
    refresh_token: Option<String>,
) {
    if let Some(url) = &endpoints.logout_url {
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_credentials(RequestCredentials::Include);
        if let Some(headers) = csrf_headers() {
            init.set_headers(&headers);
        }
        keepalive(&init);
        forget(window.fetch_with_str_and_init(url, &init));
    }
    if let (Strategy::RefreshToken { revoke_url: Some(url), client_id, .. }, Some(token)) =
        (&endpoints.strategy, refresh_token)
    {
        // RFC 7009 revocation for a public client.
        let form = [
            ("token", token.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", client_id),
        ];
        if let Some(body) = form_body(&form) {
            let init = RequestInit::new();
            init.set_method("POST");
            init.set_body(&body);
            keepalive(&init);
            forget(window.fetch_with_str_and_init(url, &init));
        }
    }
}

fn csrf_headers() -> Option<Headers> {
    let headers = Headers::new().ok()?;
    headers.append("X-Requested-With", "authpulse").ok()?;
    Some(headers)
}

/// web-sys has no setter for `keepalive`.
fn keepalive(init: &RequestInit) {
    let _ = Reflect::set(init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
}

/// Nobody awaits it; this only keeps a failure from surfacing as an unhandled rejection.
fn forget(request: Promise) {
    super::spawn(Box::pin(async move {
        let _ = JsFuture::from(request).await;
    }));
}

/// `application/x-www-form-urlencoded`, encoded by the browser (the body sets the content type).
fn form_body(pairs: &[(&str, &str)]) -> Option<UrlSearchParams> {
    let form = UrlSearchParams::new().ok()?;
    for (name, value) in pairs {
        form.append(name, value);
    }
    Some(form)
}

/// `{"idleMs":<n>}` without the formatting machinery.
fn idle_body(idle_ms: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = idle_ms;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut body = String::with_capacity(32);
    body.push_str("{\"idleMs\":");
    body.extend(digits[at..].iter().map(|&digit| char::from(digit)));
    body.push('}');
    body
}

async fn json(response: &Response) -> Option<JsValue> {
    JsFuture::from(response.json().ok()?).await.ok()
}

async fn oauth_error(response: &Response) -> Option<String> {
    let body = json(response).await?;
    Reflect::get(&body, &JsValue::from_str("error")).ok()?.as_string()
}

/// A token response object as JSON gave it, or `None` if it is not one: not an object, or a
/// field of the wrong type (`"expires_in": "300"`). Missing fields are the core's to judge.
pub(crate) fn token_response(value: &JsValue) -> Option<TokenResponse> {
    if !value.is_object() || Array::is_array(value) {
        return None;
    }
    Some(TokenResponse {
        access_token: field(value, "access_token", JsValue::as_string)?,
        expires_in: field(value, "expires_in", JsValue::as_f64)?,
        token_type: field(value, "token_type", JsValue::as_string)?,
        refresh_token: field(value, "refresh_token", JsValue::as_string)?,
    })
}

/// `Some(None)` for an absent or null field, `None` for one of the wrong type.
fn field<T>(
    object: &JsValue,
    name: &str,
    read: impl Fn(&JsValue) -> Option<T>,
) -> Option<Option<T>> {
    let value = Reflect::get(object, &JsValue::from_str(name)).ok()?;
    if value.is_undefined() || value.is_null() {
        Some(None)
    } else {
        read(&value).map(Some)
    }
}
