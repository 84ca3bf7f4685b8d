//! A plain wasm-bindgen app (no framework) on authpulse's Rust driver: the app's own sign-in,
//! then every API call through `AuthClient` — `fetch` for a `web_sys::Request`, `send` for
//! reqwest — and the client's events for the page. `index.html` is its page; the end-to-end
//! tests drive it beside a tab running the npm package (`tests/e2e/rust.spec.mjs`).
//!
//! ```sh
//! cargo build --release --target wasm32-unknown-unknown -p authpulse-rust-app
//! wasm-bindgen --target web --out-dir examples/rust-app/wasm \
//!   target/wasm32-unknown-unknown/release/authpulse_rust_app.wasm
//! cargo run -p authpulse-server -- --www examples/rust-app --db :memory:
//! ```
//!
//! Then open <http://127.0.0.1:8080/> and sign in as alice/alice.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use authpulse::web::{AuthClient, Event, Options, TokenResponse};
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// The app: one client for the page, and the reqwest client it sends API calls with.
#[wasm_bindgen]
pub struct RustApp {
    inner: Rc<Inner>,
}

struct Inner {
    auth: AuthClient,
    http: reqwest::Client,
    /// `location.origin`: reqwest wants absolute URLs.
    origin: String,
}

#[wasm_bindgen]
impl RustApp {
    /// `new RustApp(options)`: the options as the npm package takes them (`{ renewUrl,
    /// idleTimeoutMs, … }`); an invalid one throws, naming it.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<RustApp, JsError> {
        let options: Options = if options.is_undefined() {
            Options::default()
        } else {
            // Through JSON.stringify, which runs the object's getters in JavaScript (a throwing
            // one is an error here, not an exception unwinding through Rust frames), rather
            // than serde-wasm-bindgen, which reads properties from Rust.
            let json = js_sys::JSON::stringify(&options).map_err(|_| JsError::new("options"))?;
            serde_json::from_str(&String::from(json))?
        };
        let auth = AuthClient::new(options).map_err(|error| JsError::new(&error.message()))?;
        let origin = web_sys::window()
            .and_then(|window| window.location().origin().ok())
            .unwrap_or_default();
        Ok(RustApp { inner: Rc::new(Inner { auth, http: reqwest::Client::new(), origin }) })
    }

    /// Calls `listener(type, detail)` for every event of the client, with the npm package's
    /// names and details (`"expired"`, `{ reason: "idle" }`).
    pub fn on(&self, listener: js_sys::Function) {
        self.inner.auth.on(move |event| {
            let (name, detail) = describe(event);
            // A throwing listener is the page's problem, not the client's.
            let _ = listener.call2(&JsValue::NULL, &name.into(), &detail);
        });
    }

    /// The app's own sign-in: `POST /auth/login`, then the token response handed to the
    /// client. Resolves to the client's state.
    pub fn login(&self, username: String, password: String) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let body = serde_json::json!({ "username": username, "password": password });
            let response = inner
                .http
                .post(format!("{}/auth/login", inner.origin))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(to_js)?;
            if !response.status().is_success() {
                return Err(JsError::new(&format!("login: {}", response.status())).into());
            }
            let text = response.text().await.map_err(to_js)?;
            let token: TokenResponse = serde_json::from_str(&text).map_err(to_js)?;
            inner.auth.set_session(token).map_err(|bad| JsError::new(bad.message()))?;
            Ok(inner.auth.state().as_str().into())
        })
    }

    /// `start()`: resumes through the auth session; resolves to whether it is signed in.
    pub fn start(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move { Ok(inner.auth.start().await.into()) })
    }

    /// `fetch(path)` through the client: `{ status, body, wwwAuthenticate }`.
    pub fn fetch(&self, path: String) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let request = web_sys::Request::new_with_str(&path)?;
            let response = inner.auth.fetch(&request).await?;
            let challenge = response.headers().get("www-authenticate")?;
            let body = wasm_bindgen_futures::JsFuture::from(response.text()?).await?;
            Ok(answer(response.status(), body, challenge))
        })
    }

    /// The same call with reqwest, through `AuthClient::send`.
    pub fn send(&self, path: String) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let url = format!("{}{}", inner.origin, path);
            let response = inner.auth.send(inner.http.get(url)).await.map_err(to_js)?;
            let status = response.status().as_u16();
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|value| value.to_str().ok())
                .map(String::from);
            let body = response.text().await.map_err(to_js)?;
            Ok(answer(status, body.into(), challenge))
        })
    }

    /// A fresh access token, or `null`.
    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move { Ok(inner.auth.access_token().await.into()) })
    }

    /// App-reported activity.
    pub fn touch(&self) {
        self.inner.auth.touch();
    }

    /// Signs out here and in every tab.
    pub fn logout(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            inner.auth.logout().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `"signedOut"`, `"active"`, `"warning"` or `"expired"`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.inner.auth.state().as_str().into()
    }
}

/// An event's name and detail, as the npm package's events have them.
fn describe(event: &Event) -> (&'static str, JsValue) {
    let detail = Object::new();
    let set = |name: &str, value: JsValue| {
        let _ = Reflect::set(&detail, &name.into(), &value);
    };
    let name = match *event {
        Event::Renewed { expires_at } => {
            set("expiresAt", (expires_at.as_millis() as f64).into());
            "renewed"
        }
        Event::IdleWarning { expires_at } => {
            set("expiresAt", (expires_at.as_millis() as f64).into());
            "idlewarning"
        }
        Event::SignedIn { expires_at } => {
            set("expiresAt", (expires_at.as_millis() as f64).into());
            "signedin"
        }
        Event::StateChange { state } => {
            set("state", state.as_str().into());
            "statechange"
        }
        Event::Active => "active",
        Event::Expired { reason } => {
            set("reason", reason.as_str().into());
            "expired"
        }
        Event::Error { code } => {
            set("code", code.code().into());
            set("message", code.message().into());
            "error"
        }
    };
    (name, detail.into())
}

fn answer(status: u16, body: JsValue, challenge: Option<String>) -> JsValue {
    let answer = Object::new();
    let _ = Reflect::set(&answer, &"status".into(), &status.into());
    let parsed = body.as_string().and_then(|text| js_sys::JSON::parse(&text).ok());
    let _ = Reflect::set(&answer, &"body".into(), &parsed.unwrap_or(body));
    let challenge = challenge.map_or(JsValue::NULL, JsValue::from);
    let _ = Reflect::set(&answer, &"wwwAuthenticate".into(), &challenge);
    answer.into()
}

fn to_js(error: impl std::fmt::Display) -> JsValue {
    JsError::new(&error.to_string()).into()
}
