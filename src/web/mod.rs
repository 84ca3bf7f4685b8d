//! The Rust driver (cargo feature `web`, wasm32 only): the npm package's browser adapters
//! written in Rust over web-sys, gloo-timers, wasm-bindgen-futures and serde-wasm-bindgen, for
//! Rust front-ends (Leptos, Yew, Dioxus, Sycamore, plain wasm-bindgen) that link those crates
//! already. It drives the same sans-IO [`core`](crate::core) and keeps every rule of the
//! contract; it speaks the npm package's tab protocol, so a tab running either driver shares
//! the session.
//!
//! ```no_run
//! use authpulse::web::{AuthClient, Event, Options};
//!
//! # async fn app() -> Result<(), wasm_bindgen::JsValue> {
//! let auth = AuthClient::new(Options::default()).expect("valid options"); // POST /auth/renew
//! auth.on(|event| if let Event::Expired { reason } = event { show_sign_in(reason.as_str()) });
//! if !auth.start().await {
//!     show_sign_in("signed out");
//! }
//! let request = web_sys::Request::new_with_str("/api/me")?;
//! let me = auth.fetch(&request).await?; // Bearer token attached, renewed and retried as needed
//! # Ok(()) }
//! # fn show_sign_in(_: &str) {}
//! ```
//!
//! With the `reqwest` feature, `AuthClient::send` does the same for a
//! `reqwest::RequestBuilder`. One module per adapter, as in `js/`: `activity` (trusted input
//! events), `timer` (one re-armable timeout), `http` (renewals, `fetch`, reqwest), `tabs`
//! (BroadcastChannel and Web Locks), `events` (callbacks and a stream), composed by `client`.

mod activity;
mod client;
mod events;
mod http;
mod options;
mod tabs;
mod timer;

pub use self::client::AuthClient;
pub use self::events::{EventStream, ListenerId};
pub use self::options::Options;
pub use crate::core::{
    BadTokenResponse, ErrorCode, Event, Instant, OptionError, Phase, TeardownReason, TokenResponse,
};

// The core's error types as Rust errors (the core itself is `no_std` and formats nothing).

impl std::fmt::Display for OptionError {
    /// `authpulse: option "idleTimeoutMs" must be a positive number of milliseconds, …`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for OptionError {}

impl std::fmt::Display for BadTokenResponse {
    /// `authpulse: token response has no access_token` (code `bad_token_response`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "authpulse: {}", self.message())
    }
}

impl std::error::Error for BadTokenResponse {}
