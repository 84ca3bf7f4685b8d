//! The sans-IO core: every decision the client makes, with time as an input.
//!
//! Nothing here reads a clock, touches the DOM or the network, or depends on wasm-bindgen,
//! web-sys, js-sys or gloo: it compiles and is tested on any target.

pub mod idle;
pub mod log;
pub mod options;
pub mod origin;
pub mod renewal;
pub mod retry;
pub mod session;
pub mod tabs;
pub mod time;
pub mod token;

pub use idle::IdlePolicy;
pub use log::{Line, Log};
pub use options::{Config, OptionError, RawOptions};
pub use origin::AllowedOrigins;
pub use renewal::{Backoff, RenewSchedule};
pub use retry::{Challenge, ResponseInfo, RetryDecision};
pub use session::{
    Command, ErrorCode, Event, Phase, RenewalId, RenewalOutcome, Session, TeardownReason,
    TokenAccess,
};
pub use tabs::{SharedToken, TabMessage};
pub use time::Instant;
pub use token::{BadTokenResponse, ExpiresIn, Token, TokenResponse};

/// A copy of `text`: one copy of the allocation and the copying for the strings the core keeps
/// (inlined, `String::from` repeats them at every call site).
#[inline(never)]
pub(crate) fn owned(text: &str) -> alloc::string::String {
    text.into()
}
