//! Why the session did what it did, for the app's `logger` option: one record per decision.
//!
//! The session says each decision where it makes it — which [`Line`], the time that explains it
//! and, for two of them, a word (a reason, an error code) — and queues the record only when a
//! logger is configured, so a client without one pays nothing for them at run time. The driver
//! words the records (js/log.js); it loads the words with the first record, so an app without a
//! logger never downloads them.

use super::time::Instant;

/// A decision, as the driver words it (in this order: the driver's lines are indexed by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Line {
    /// A token was stored: its proactive renewal is due at `at`, if the user is active by then.
    RenewalScheduled,
    /// The renewal came due, but there was no activity since `at` (rule 2): the token is left to
    /// expire, and activity before the idle deadline renews at once.
    RenewalSkipped,
    /// `idlewarning`: without activity, signed out at `at`.
    IdleWarning,
    /// Torn down, for the reason `word` (that of `expired`); the last activity was at `at`.
    SignedOut,
    /// A 401 refused the current token: one renewal (shared with other callers), one retry.
    RetryAfterRenewal,
    /// A 401 refused a token replaced since: one retry with the newer one, no renewal.
    RetryWithNewerToken,
    /// A 401 not retried: its challenge is not `invalid_token` (RFC 6750 3.1), so a new token
    /// would not help.
    NotRetriedChallenge,
    /// A 401 not retried: it answered the retry.
    NotRetriedSecond,
    /// A 401 not retried: the request's body is a stream and cannot be sent again.
    NotRetriedStream,
    /// A renewal failed (`word`: the `code` of the `error` event); the next attempt waits until
    /// `at` (back-off).
    RenewalFailed,
}

/// One decision for the logger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Log {
    /// Which decision.
    pub line: Line,
    /// The time that explains it (see [`Line`]; the epoch where none does).
    pub at: Instant,
    /// The word that explains it (see [`Line`]), or "".
    pub word: &'static str,
}
