//! The network (`js/http.js`): the app's requests with the bearer token and the one retry
//! after a 401 (rules 5, 8, 9), renew requests, and the end of the server session. What a
//! response means is the session's to say; this file only sends and reports.

use js_sys::Promise;
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
    fn unauthorized(
        &self,
        challenge: Option<&str>,
        generation: u64,
        retried: bool,
        replayable: bool,
    ) -> bool;
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
}

/// Sends `request` with the token when its URL is on an allowed origin and it carries no
/// `Authorization` of its own, and once more with a fresh token after a 401 the session says
/// to retry (`js/http.js` `fetchWithToken`).
pub(crate) async fn send_with_token<E: Exchange>(
    client: &impl Tokens,
    mut request: E,
) -> Result<E::Response, E::Error> {
    if request.has_authorization() || !client.allows(&request.url()) {
        return request.send().await;
    }
    let spare = request.spare();
    let replayable = spare.is_some();
    let first = match client.access() {
        Access::Ready(bearer) => Some(bearer),
        Access::Wait => client.token().await,
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
    let challenge = E::challenge(&response);
    if !client.unauthorized(challenge.as_deref(), first.generation, false, replayable) {
        return Ok(response);
    }
    let Some(mut spare) = spare else {
        return Ok(response);
    };
    let Some(second) = client.token().await else {
        return Ok(response); // signed out meanwhile: the original 401
    };
    spare.authorize(&second.token);
    let retried = spare.send().await?;
    if E::status(&retried) == UNAUTHORIZED {
        let challenge = E::challenge(&retried);
        client.unauthorized(challenge.as_deref(), second.generation, true, false);
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
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
}

/// One renew request: the session strategy (contract section 2) without a client id, else the
/// refresh_token grant (RFC 6749 section 6). `Err` when no response arrived (a network error,
/// or `signal` aborted it).
pub(crate) async fn request_renewal(
    endpoints: &Endpoints,
    idle_ms: u64,
    refresh_token: Option<&str>,
    signal: &AbortSignal,
) -> Result<RenewalAnswer, JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(RequestCredentials::Include);
    init.set_signal(Some(signal));
    let headers = Headers::new()?;
    match &endpoints.client_id {
        None => {
            headers.set("X-Requested-With", "authpulse")?;
            headers.set("Content-Type", "application/json")?;
            init.set_body(&JsValue::from_str(&format!("{{\"idleMs\":{idle_ms}}}")));
        }
        Some(client_id) => {
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
    let token = body
        .is_object()
        .then(|| serde_wasm_bindgen::from_value::<TokenResponse>(body.clone()).ok())
        .flatten();
    let error = body
        .is_object()
        .then(|| serde_wasm_bindgen::from_value::<ErrorBody>(body).ok())
        .flatten()
        .and_then(|body| body.error);
    Ok(RenewalAnswer { status: response.status(), token, error })
}

/// Ends the server session (`logoutUrl`, and RFC 7009 revocation of `refresh_token`): best
/// effort, `keepalive` so that it survives the page unloading.
pub(crate) fn end_server_session(endpoints: &Endpoints, refresh_token: Option<&str>) {
    let send = |url: &str, init: RequestInit| {
        init.set_method("POST");
        init.set_credentials(RequestCredentials::Include);
        // Not in web-sys's `RequestInit`.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
        if let Ok(promise) = fetch_url(url, &init) {
            // Awaited only so that a failure is not an unhandled rejection.
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(promise).await;
            });
        }
    };
    if let Some(logout_url) = &endpoints.logout_url {
        let init = RequestInit::new();
        if let Ok(headers) = Headers::new() {
            let _ = headers.set("X-Requested-With", "authpulse");
            init.set_headers(&headers);
        }
        send(logout_url, init);
    }
    if let (Some(revoke_url), Some(token)) = (&endpoints.revoke_url, refresh_token) {
        if let Ok(form) = web_sys::UrlSearchParams::new() {
            form.append("token", token);
            form.append("token_type_hint", "refresh_token");
            form.append("client_id", endpoints.client_id.as_deref().unwrap_or(""));
            let init = RequestInit::new();
            init.set_body(&form);
            send(revoke_url, init);
        }
    }
}
