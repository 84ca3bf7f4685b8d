//! `AuthClient`, the JavaScript API of contract section 1. It converts JavaScript values and
//! hands everything else to the [`Driver`](crate::web::driver::Driver): no policy lives here.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::BadTokenResponse;
use crate::web::driver::Driver;
use crate::web::events::EventKind;
use crate::web::{http, js, options, promise};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `new AuthClient(options)` and `createAuthClient(options)`. */
export interface AuthClientOptions {
  /** Session strategy (default): POSTed with the auth-session cookie. Default "/auth/renew". */
  renewUrl?: string;
  /** Refresh-token strategy: the OAuth 2.0 token endpoint (needs `clientId`). */
  tokenEndpoint?: string;
  /** Refresh-token strategy: the public client's id. */
  clientId?: string;
  /** Refresh-token strategy: where refresh tokens are revoked on teardown (RFC 7009). */
  revokeUrl?: string | null;
  /** Real-user inactivity before teardown, in ms. Default 15 minutes. */
  idleTimeoutMs?: number;
  /** 'idlewarning' this long before an idle teardown, in ms; 0 turns it off. Default 60 s. */
  warnBeforeIdleMs?: number;
  /** Proactive renewal margin, in ms. Default min(60 s, token lifetime / 4). */
  renewBeforeExpiryMs?: number | null;
  /** Absolute cap from sign-in, in ms, whatever the activity. */
  maxSessionMs?: number | null;
  /** The only origins that ever receive the bearer token. Default: the page's origin. */
  allowedOrigins?: string[];
  /** Share activity, tokens and sign-out between same-origin tabs. Default true. */
  crossTab?: boolean;
  /** POSTed (keepalive) on teardown to end the server session. */
  logoutUrl?: string | null;
}

/** An OAuth 2.0 token response (RFC 6749 section 5.1), as `setSession` takes it. */
export interface TokenResponse {
  access_token: string;
  /** Lifetime in seconds from receipt. */
  expires_in: number;
  token_type?: string;
  refresh_token?: string;
}

/** What `state` reports. */
export type AuthState = "signedOut" | "active" | "warning" | "expired";

/** Why tokens were torn down. */
export type ExpiredReason = "idle" | "session" | "maxSession" | "logout" | "remote";

/** The `code` of an `error` event. */
export type AuthErrorCode = "renew_network_error" | "renew_failed" | "renew_timeout" | "bad_token_response";

/** Every event and the type of its `detail`. */
export interface AuthEventMap {
  /** A new access token was stored. */
  renewed: { expiresAt: number };
  /** `warnBeforeIdleMs` before an idle teardown. */
  idlewarning: { expiresAt: number };
  /** Activity after a warning cancelled it. */
  active: {};
  /** Tokens were torn down. */
  expired: { reason: ExpiredReason };
  /** A renewal failed for a reason other than a rejected session. */
  error: { code: AuthErrorCode; message: string };
}

export interface AuthClient {
  /** Calls `listener` with each `event`'s detail; returns the function that unsubscribes it. */
  on<K extends keyof AuthEventMap>(event: K, listener: (detail: AuthEventMap[K]) => void): () => void;
}
"#;

/// Keeps a user signed in while they really use the app; signs them out after real inactivity.
#[wasm_bindgen]
pub struct AuthClient {
    driver: Rc<Driver>,
}

#[wasm_bindgen]
impl AuthClient {
    /// Validates `options` (a `TypeError` names the offending one) and starts listening for
    /// activity, signed out.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "AuthClientOptions")] options: Option<
            JsValue,
        >,
    ) -> Result<AuthClient, JsValue> {
        let window = web_sys::window().ok_or_else(|| {
            js::error("no_window", "authpulse: AuthClient needs a browser window")
        })?;
        let page_origin = window.location().origin().unwrap_or_default();
        let config = options::config(options.as_ref(), &page_origin)?;
        Ok(AuthClient { driver: Driver::new(window, config) })
    }

    /// Resumes through the auth session: one renewal; resolves to `true` if signed in.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn start(&self) -> Promise {
        let driver = Rc::clone(&self.driver);
        promise(Box::pin(async move {
            driver.ensure_live()?;
            if driver.input(|session, now| session.handle_resume(now)) {
                driver.renewals_settled().await?;
            }
            Ok(JsValue::from_bool(driver.signed_in()))
        }))
    }

    /// Signs in with the token response of the app's own login. A malformed one throws a
    /// `TypeError` with code `bad_token_response` and changes nothing.
    #[wasm_bindgen(js_name = setSession)]
    pub fn set_session(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TokenResponse")] response: JsValue,
    ) -> Result<(), JsValue> {
        self.driver.ensure_live()?;
        let bad = |bad: BadTokenResponse| js::type_error("bad_token_response", bad.message());
        let response =
            http::token_response(&response).ok_or_else(|| bad(BadTokenResponse::NotJson))?;
        self.driver.input(|session, now| session.handle_sign_in(now, response)).map_err(bad)
    }

    /// `window.fetch` with the bearer token for allowed origins, renewed when needed, and one
    /// retry when the token is refused.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<JsValue>,
    ) -> Promise {
        let driver = Rc::clone(&self.driver);
        promise(Box::pin(http::fetch(driver, input, init.unwrap_or(JsValue::UNDEFINED))))
    }

    /// A fresh access token (renewed first if near expiry), or `null` when signed out.
    #[wasm_bindgen(js_name = getAccessToken, unchecked_return_type = "Promise<string | null>")]
    pub fn get_access_token(&self) -> Promise {
        let driver = Rc::clone(&self.driver);
        promise(Box::pin(async move {
            Ok(match driver.token().await? {
                Some((token, _)) => JsValue::from_str(&token),
                None => JsValue::NULL,
            })
        }))
    }

    /// App-reported activity: counts like a user event.
    pub fn touch(&self) {
        if self.driver.ensure_live().is_ok() {
            self.driver.touch();
        }
    }

    /// Tears down now (reason `logout`) and ends the server session; resolves once the
    /// keepalive request is sent.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(&self) -> Promise {
        if let Err(disposed) = self.driver.ensure_live() {
            return Promise::reject(&disposed);
        }
        self.driver.input(|session, now| session.handle_logout(now));
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Subscribes `listener` to `event`; returns the function that unsubscribes it.
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: JsValue, listener: JsValue) -> Result<Function, JsValue> {
        let kind = event.as_string().and_then(|name| EventKind::from_name(&name)).ok_or_else(|| {
            js::type_error(
                "unknown_event",
                "authpulse: events are \"renewed\", \"idlewarning\", \"active\", \"expired\" and \"error\"",
            )
        })?;
        let listener = listener.dyn_into::<Function>().map_err(|_| {
            js::type_error("invalid_listener", "authpulse: an event listener must be a function")
        })?;
        self.driver.ensure_live()?;
        let id = self.driver.listeners.add(kind, listener);
        let driver = Rc::downgrade(&self.driver);
        let off = Closure::<dyn Fn()>::new(move || {
            if let Some(driver) = driver.upgrade() {
                driver.listeners.remove(id);
            }
        });
        Ok(off.into_js_value().unchecked_into())
    }

    /// `"signedOut"`, `"active"`, `"warning"` or `"expired"`, deadlines checked first.
    #[wasm_bindgen(getter, unchecked_return_type = "AuthState")]
    pub fn state(&self) -> String {
        self.driver.phase().as_str().into()
    }

    /// Removes every listener, timer and request of this client and forgets its tokens; later
    /// calls reject (or throw) with code `disposed`.
    pub fn dispose(&self) {
        self.driver.dispose();
    }
}

impl Drop for AuthClient {
    fn drop(&mut self) {
        self.driver.dispose();
    }
}

impl std::fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthClient").field("driver", &self.driver).finish()
    }
}
