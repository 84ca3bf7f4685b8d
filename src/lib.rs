//! authpulse keeps a user signed in while they really use the app, and signs them out after
//! real inactivity (15 minutes by default), in every tab at once.
//!
//! ```js
//! import { createAuthClient } from "authpulse";
//! const auth = await createAuthClient({ renewUrl: "/auth/renew" });
//! await auth.start();                          // resume through the auth session
//! const res = await auth.fetch("/api/me");     // bearer token attached, renewed when needed
//! auth.on("expired", ({ reason }) => showSignIn(reason));
//! ```
//!
//! The crate is a pure, sans-IO [`core`] that makes every decision with time as an input, and on
//! `wasm32` thin browser adapters plus the `#[wasm_bindgen]` facade that is the JavaScript API.
//! The public contract is `docs/CONTRACT.md`.
#![deny(missing_docs, missing_debug_implementations)]

#[cfg(target_arch = "wasm32")]
mod client;
pub mod core;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use client::AuthClient;
