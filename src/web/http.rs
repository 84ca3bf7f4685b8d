//! The network (`js/http.js`): the app's requests with the bearer token and the one retry
//! after a 401 (rules 5, 8, 9), renew requests, and the end of the server session. What a
//! response means is the session's to say; this file only sends and reports.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

use futures_channel::oneshot;
use js_sys::{Promise, Reflect};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, Request, RequestCredentials, RequestInit, Response};

use crate::core::TokenResponse;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (a window's or a worker's).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_request(request: &Request) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_url(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;

    /// The global `atob` (forgiving base64).
    #[wasm_bindgen(catch)]
    fn atob(data: &str) -> Result<String, JsValue>;
}

/// The only status the session can answer anything but "return it" for (`src/core/retry.rs`):
/// responses with any other go straight back to the caller.
const UNAUTHORIZED: u16 = 401;

/// Where renewals and the end of the session go.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    /// The renew URL (session strategy) or the token endpoint (refresh-token strategy).
    pub(crate) renew: String,
    /// The public client's id: `Some` for the refresh-token strategy.
    pub(crate) client_id: Option<String>,
    pub(crate) revoke_url: Option<String>,
    pub(crate) logout_url: Option<String>,
}

/// A bearer token the session handed out, and which one it is.
#[derive(Clone, Debug)]
pub(crate) struct Bearer {
    pub(crate) token: String,
    pub(crate) generation: u64,
}

/// What a caller gets when it asks for a token.
#[derive(Debug)]
pub(crate) enum Access {
    /// Attach this one.
    Ready(Bearer),
    /// A renewal is in flight: wait for it.
    Wait,
    /// Send without a token.
    Unavailable,
}

/// What sending with the token needs of the client (`AuthClient`, through the session).
pub(crate) trait Tokens {
    /// Whether a request to `url` may carry the token (rule 8).
    fn allows(&self, url: &str) -> bool;
    /// The token for one request now.
    fn access(&self) -> Access;
    /// The token once the renewal in flight (or one it leads to) is settled, or `None`.
    async fn token(&self) -> Option<Bearer>;
    /// A 401 to a request sent with token `generation`: whether to retry once.
    /// `final_url_allowed`: whether the response's final URL (after redirects) is on an
    /// allowed origin.
    fn unauthorized(&self, challenge: Option<&str>, generation: u64, retry: Retry) -> bool;
}

/// What the session needs to know of a 401 besides its challenge and token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retry {
    /// This was the retry already.
    pub(crate) retried: bool,
    /// The request can be sent again.
    pub(crate) replayable: bool,
    /// The response's final URL (after redirects) is on an allowed origin.
    pub(crate) final_url_allowed: bool,
}

/// A request that can carry a bearer token: a `web_sys::Request`, or a reqwest request.
pub(crate) trait Exchange: Sized {
    type Response;
    type Error;
    fn url(&self) -> String;
    fn has_authorization(&self) -> bool;
    /// A copy to send after a 401, taken before the first send; `None` when the body cannot be
    /// sent again (a stream).
    fn spare(&self) -> Option<Self>;
    fn authorize(&mut self, token: &str);
    async fn send(self) -> Result<Self::Response, Self::Error>;
    fn status(response: &Self::Response) -> u16;
    fn challenge(response: &Self::Response) -> Option<String>;
    /// The response's URL after redirects, if it has one.
    fn final_url(response: &Self::Response) -> Option<String>;
    /// `Err` if the caller aborted the request (its `AbortSignal`): nothing is started then.
    fn check_aborted(&self) -> Result<(), Self::Error>;
    /// `future`, or `Err` as soon as the caller aborts the request.
    async fn unless_aborted<T>(&self, future: impl Future<Output = T>) -> Result<T, Self::Error>;
}

/// Sends `request` with the token when its URL is on an allowed origin and it carries no
/// `Authorization` of its own, and once more with a fresh token after a 401 the session says
/// to retry (`js/http.js` `fetchWithToken`).
pub(crate) async fn send_with_token<E: Exchange>(
    client: &impl Tokens,
    mut request: E,
) -> Result<E::Response, E::Error> {
    // Like window.fetch: an aborted call starts nothing (no renewal either).
    request.check_aborted()?;
    let url = request.url();
    if request.has_authorization() || !client.allows(&url) {
        return request.send().await;
    }
    let spare = request.spare();
    let replayable = spare.is_some();
    let first = match client.access() {
        Access::Ready(bearer) => Some(bearer),
        Access::Wait => request.unless_aborted(client.token()).await?,
        Access::Unavailable => None,
    };
    let Some(first) = first else {
        return request.send().await;
    };
    request.authorize(&first.token);
    let response = request.send().await?;
    if E::status(&response) != UNAUTHORIZED {
        return Ok(response);
    }
    // The final URL decides whether the 401 is about the token; a response without one (made
    // by a script) is the request's.
    let final_url_allowed = client.allows(&E::final_url(&response).unwrap_or(url));
    let challenge = E::challenge(&response);
    let retry = Retry { retried: false, replayable, final_url_allowed };
    if !client.unauthorized(challenge.as_deref(), first.generation, retry) {
        return Ok(response);
    }
    let Some(mut spare) = spare else {
        return Ok(response);
    };
    let Some(second) = spare.unless_aborted(client.token()).await? else {
        return Ok(response); // signed out meanwhile: the original 401
    };
    spare.authorize(&second.token);
    let spare_url = spare.url();
    let retried = spare.send().await?;
    if E::status(&retried) == UNAUTHORIZED {
        let challenge = E::challenge(&retried);
        let final_url_allowed = client.allows(&E::final_url(&retried).unwrap_or(spare_url));
        let retry = Retry { retried: true, replayable: false, final_url_allowed };
        client.unauthorized(challenge.as_deref(), second.generation, retry);
    }
    Ok(retried)
}

/// `fetch(request)` on the global scope, as `window.fetch` answers it.
pub(crate) async fn fetch(request: &Request) -> Result<Response, JsValue> {
    JsFuture::from(fetch_request(request)?).await?.dyn_into()
}

impl Exchange for Request {
    type Response = Response;
    type Error = JsValue;

    fn url(&self) -> String {
        Request::url(self)
    }

    fn has_authorization(&self) -> bool {
        self.headers().has("authorization").unwrap_or(false)
    }

    fn spare(&self) -> Option<Self> {
        // `clone` tees a body; it throws for a body already read.
        self.clone().ok()
    }

    fn authorize(&mut self, token: &str) {
        // Throws only for immutable headers, which a request built here does not have; a
        // no-cors request's guard drops the header silently, as `window.fetch` would.
        let _ = self.headers().set("Authorization", &bearer_value(token));
    }

    async fn send(self) -> Result<Response, JsValue> {
        fetch(&self).await
    }

    fn status(response: &Response) -> u16 {
        response.status()
    }

    fn challenge(response: &Response) -> Option<String> {
        response.headers().get("www-authenticate").ok().flatten()
    }

    fn final_url(response: &Response) -> Option<String> {
        Some(response.url()).filter(|url| !url.is_empty())
    }

    fn check_aborted(&self) -> Result<(), JsValue> {
        let signal = self.signal();
        if signal.aborted() {
            return Err(signal.reason());
        }
        Ok(())
    }

    async fn unless_aborted<T>(&self, future: impl Future<Output = T>) -> Result<T, JsValue> {
        let signal = self.signal();
        abortable(future, &signal).await.map_err(|()| signal.reason())
    }
}

/// `future`, or `Err` once `signal` aborts (as `window.fetch` rejects for a caller that stops
/// waiting).
async fn abortable<T>(future: impl Future<Output = T>, signal: &AbortSignal) -> Result<T, ()> {
    if signal.aborted() {
        return Err(());
    }
    let (abort, mut aborted) = oneshot::channel::<()>();
    let abort = Cell::new(Some(abort));
    let on_abort = Closure::<dyn Fn()>::new(move || {
        if let Some(abort) = abort.take() {
            let _ = abort.send(());
        }
    });
    let _ = signal.add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
    // Removed when this future ends or is dropped mid-wait (a caller's `select!` or timeout):
    // a later abort must not call a freed closure.
    let _listening = AbortListener { signal, on_abort };
    let mut future = pin!(future);
    poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(value));
        }
        match Pin::new(&mut aborted).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(())),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// An `abort` listener on a signal, removed on drop.
struct AbortListener<'a> {
    signal: &'a AbortSignal,
    on_abort: Closure<dyn Fn()>,
}

impl Drop for AbortListener<'_> {
    fn drop(&mut self) {
        let listener = self.on_abort.as_ref().unchecked_ref();
        let _ = self.signal.remove_event_listener_with_callback("abort", listener);
    }
}

/// A reqwest request and the client that sends it.
#[cfg(feature = "reqwest")]
pub(crate) struct Reqwest {
    pub(crate) client: reqwest::Client,
    pub(crate) request: reqwest::Request,
}

#[cfg(feature = "reqwest")]
impl Exchange for Reqwest {
    type Response = reqwest::Response;
    type Error = reqwest::Error;

    fn url(&self) -> String {
        self.request.url().as_str().into()
    }

    fn has_authorization(&self) -> bool {
        self.request.headers().contains_key(reqwest::header::AUTHORIZATION)
    }

    fn spare(&self) -> Option<Self> {
        // `None` for a streaming body (contract rule 5: it is not retried).
        let request = self.request.try_clone()?;
        Some(Reqwest { client: self.client.clone(), request })
    }

    fn authorize(&mut self, token: &str) {
        // A token with characters a header cannot carry is not attached.
        if let Ok(mut value) = reqwest::header::HeaderValue::from_str(&bearer_value(token)) {
            value.set_sensitive(true);
            self.request.headers_mut().insert(reqwest::header::AUTHORIZATION, value);
        }
    }

    async fn send(self) -> Result<reqwest::Response, reqwest::Error> {
        self.client.execute(self.request).await
    }

    fn status(response: &reqwest::Response) -> u16 {
        response.status().as_u16()
    }

    fn challenge(response: &reqwest::Response) -> Option<String> {
        let value = response.headers().get(reqwest::header::WWW_AUTHENTICATE)?;
        value.to_str().ok().map(String::from)
    }

    fn final_url(response: &reqwest::Response) -> Option<String> {
        Some(response.url().as_str().into())
    }

    // A reqwest request has no AbortSignal: the caller drops its future instead.
    fn check_aborted(&self) -> Result<(), reqwest::Error> {
        Ok(())
    }

    async fn unless_aborted<T>(
        &self,
        future: impl Future<Output = T>,
    ) -> Result<T, reqwest::Error> {
        Ok(future.await)
    }
}

fn bearer_value(token: &str) -> String {
    let mut value = String::with_capacity(7 + token.len());
    value.push_str("Bearer ");
    value.push_str(token);
    value
}

/// A renew endpoint's answer, read but not judged.
#[derive(Debug)]
pub(crate) struct RenewalAnswer {
    pub(crate) status: u16,
    /// The body as a token response, if it was a JSON object of that shape.
    pub(crate) token: Option<TokenResponse>,
    /// The body's OAuth `error` code (RFC 6749 section 5.2), if any.
    pub(crate) error: Option<String>,
    /// The delay a `Retry-After` header asked for (RFC 9110 section 10.2.3), in ms.
    pub(crate) retry_after_ms: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

/// One renew request: the session strategy (contract section 2: the auth-session cookie, so
/// with credentials) without a client id, else the refresh_token grant (RFC 6749 section 6;
/// cookies play no part, so without credentials, as an identity provider's CORS expects).
/// `Err` when no response arrived (a network error, or `signal` aborted it).
pub(crate) async fn request_renewal(
    endpoints: &Endpoints,
    idle_ms: u64,
    refresh_token: Option<&str>,
    signal: &AbortSignal,
) -> Result<RenewalAnswer, JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_signal(Some(signal));
    let headers = Headers::new()?;
    match &endpoints.client_id {
        None => {
            init.set_credentials(RequestCredentials::Include);
            headers.set("X-Requested-With", "authpulse")?;
            headers.set("Content-Type", "application/json")?;
            init.set_body(&JsValue::from_str(&format!("{{\"idleMs\":{idle_ms}}}")));
        }
        Some(client_id) => {
            init.set_credentials(RequestCredentials::Omit);
            let form = web_sys::UrlSearchParams::new()?;
            form.append("grant_type", "refresh_token");
            form.append("refresh_token", refresh_token.unwrap_or(""));
            form.append("client_id", client_id);
            init.set_body(&form);
        }
    }
    init.set_headers(&headers);
    let response: Response =
        JsFuture::from(fetch_url(&endpoints.renew, &init)?).await?.dyn_into()?;
    let body = match response.json() {
        Ok(json) => JsFuture::from(json).await.unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    let (token, error) = if body.is_object() {
        let token = serde_wasm_bindgen::from_value::<TokenResponse>(body.clone()).ok();
        let error = serde_wasm_bindgen::from_value::<ErrorBody>(body).ok();
        (token.map(with_jwt_claims), error.and_then(|body| body.error))
    } else {
        (None, None)
    };
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let retry_after_ms = retry_after.as_deref().and_then(retry_after_ms);
    Ok(RenewalAnswer { status: response.status(), token, error, retry_after_ms })
}

/// `Retry-After`: delay-seconds or an HTTP date, as ms from now (0 for a date past); `None`
/// for anything else. The session bounds it.
fn retry_after_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    let ms = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<f64>().ok()? * 1e3
    } else {
        js_sys::Date::parse(value) - js_sys::Date::now()
    };
    // NaN (not a date) is none; `as` saturates a date in the past to 0.
    (!ms.is_nan()).then_some(ms as u64)
}

/// A token response with the `exp` and `iat` claims of its access token when `expires_in` is
/// absent and the token is a JWT carrying both as numbers (the core then takes `exp − iat` as
/// the lifetime). Decoded by the browser (`atob`, `JSON.parse`), as the npm package does.
pub(crate) fn with_jwt_claims(mut response: TokenResponse) -> TokenResponse {
    if response.expires_in.is_none() && response.jwt_exp_iat.is_none() {
        response.jwt_exp_iat = response.access_token.as_deref().and_then(jwt_exp_iat);
    }
    response
}

fn jwt_exp_iat(access_token: &str) -> Option<(f64, f64)> {
    let payload = access_token.split('.').nth(1)?.replace('-', "+").replace('_', "/");
    let claims = js_sys::JSON::parse(&atob(&payload).ok()?).ok()?;
    let claim = |name: &str| Reflect::get(&claims, &JsValue::from_str(name)).ok()?.as_f64();
    Some((claim("exp")?, claim("iat")?))
}

/// A best-effort `POST` that must survive the page unloading (`keepalive`).
fn send_keepalive(url: &str, init: RequestInit) {
    init.set_method("POST");
    // Not in web-sys's `RequestInit`.
    let _ = Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    if let Ok(promise) = fetch_url(url, &init) {
        // Awaited only so that a failure is not an unhandled rejection.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}

/// Revokes a refresh token (RFC 7009) at `revokeUrl`, without credentials; best effort.
pub(crate) fn revoke(endpoints: &Endpoints, refresh_token: &str) {
    let (Some(revoke_url), Ok(form)) = (&endpoints.revoke_url, web_sys::UrlSearchParams::new())
    else {
        return;
    };
    form.append("token", refresh_token);
    form.append("token_type_hint", "refresh_token");
    form.append("client_id", endpoints.client_id.as_deref().unwrap_or(""));
    let init = RequestInit::new();
    init.set_credentials(RequestCredentials::Omit);
    init.set_body(&form);
    send_keepalive(revoke_url, init);
}

/// Ends the server session: `logoutUrl` with the session cookie, and the revocation of
/// `refresh_token`.
pub(crate) fn end_server_session(endpoints: &Endpoints, refresh_token: Option<&str>) {
    if let Some(logout_url) = &endpoints.logout_url {
        let init = RequestInit::new();
        init.set_credentials(RequestCredentials::Include);
        if let Ok(headers) = Headers::new() {
            let _ = headers.set("X-Requested-With", "authpulse");
            init.set_headers(&headers);
        }
        send_keepalive(logout_url, init);
    }
    if let Some(refresh_token) = refresh_token {
        revoke(endpoints, refresh_token);
    }
}
