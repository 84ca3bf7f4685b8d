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
//! `wasm32` two drivers of it: the `#[wasm_bindgen]` `engine::Engine` through which the
//! npm package's JavaScript adapters (`js/index.js`: listeners, one timer, `fetch`, events) drive
//! it, and, with the cargo feature `web`, `authpulse::web`, the same adapters in Rust for Rust
//! front-ends (Leptos, Yew, Dioxus, plain wasm-bindgen):
//!
//! ```toml
//! authpulse = { version = "0.1", features = ["web", "reqwest"] }
//! ```
//!
//! Both drivers speak one tab protocol, so a tab running either shares the session.
//! The public contract is `docs/CONTRACT.md`.
#![deny(missing_docs, missing_debug_implementations)]
// The shipped module is no_std (see `bundle` below); the core is written against `alloc` so that
// it compiles either way.
#![cfg_attr(feature = "bundle", no_std)]

extern crate alloc;

pub mod core;
// Not with `web`: a Rust app would ship the npm package's `Engine` class and its glue unused.
#[cfg(all(target_arch = "wasm32", not(feature = "web")))]
pub mod engine;
#[cfg(target_arch = "wasm32")]
mod tab_wire;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;

#[cfg(all(feature = "web", feature = "bundle"))]
compile_error!(
    "the features `web` (the Rust driver, with std) and `bundle` (the npm package's no_std \
     module) do not go together"
);

/// What only the shipped module has: std's allocator and panic machinery pull in `core::fmt`
/// and dlmalloc, half the module's size; here a panic (a bug: nothing that input controls
/// panics) traps, and talc allocates.
#[cfg(all(feature = "bundle", target_arch = "wasm32"))]
mod bundle {
    #[global_allocator]
    static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

    #[panic_handler]
    fn panic(_: &::core::panic::PanicInfo<'_>) -> ! {
        ::core::arch::wasm32::unreachable()
    }
}
