//! When to renew, and how long to wait after a failed renewal.

use super::time::{Instant, MINUTE_MS, SECOND_MS};
use super::token::Token;

/// The default proactive renewal margin is the smaller of this and a quarter of the lifetime.
pub const DEFAULT_RENEW_MARGIN_MS: u64 = 60 * SECOND_MS;
/// Renew requests are at least this far apart, whatever a server answers or callers want
/// (contract rule 4): the floor no answer can defeat.
pub const RENEW_FLOOR_MS: u64 = SECOND_MS;
/// The longest `Retry-After` honoured (contract section 2).
pub const RETRY_AFTER_MAX_MS: u64 = 5 * MINUTE_MS;
/// First back-off delay after a failed renewal; it doubles with every further failure.
pub const BACKOFF_INITIAL_MS: u64 = SECOND_MS;
/// Longest back-off delay.
pub const BACKOFF_MAX_MS: u64 = 30 * SECOND_MS;
/// A renewal request that has not answered by then is abandoned and counts as failed.
pub const RENEW_TIMEOUT_MS: u64 = 30 * SECOND_MS;

/// When a token is renewed ahead of its expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenewSchedule {
    margin_ms: Option<u64>,
}

impl RenewSchedule {
    /// A schedule with the `renewBeforeExpiryMs` option, or the default margin when `None`.
    pub const fn new(margin_ms: Option<u64>) -> Self {
        RenewSchedule { margin_ms }
    }

    /// The margin for a token with this lifetime: the option, else min(60 s, lifetime / 4);
    /// never more than half the lifetime, so that a token is renewed at most about once per
    /// half of its lifetime whatever the option says (a 60 s margin with 60 s tokens would
    /// renew on every input event).
    pub fn margin_ms(&self, lifetime_ms: u64) -> u64 {
        self.margin_ms.unwrap_or(DEFAULT_RENEW_MARGIN_MS.min(lifetime_ms / 4)).min(lifetime_ms / 2)
    }

    /// When `token` should be renewed proactively.
    pub fn renew_at(&self, token: &Token) -> Instant {
        token.expires_at.minus_ms(self.margin_ms(token.lifetime_ms()))
    }
}

/// Exponential back-off after failed renewals: 1 s, 2 s, 4 s … at most 30 s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
}

impl Backoff {
    /// Records a failure at `now`; returns the delay before the next attempt.
    pub fn record_failure(&mut self, now: Instant) -> u64 {
        // Doubling by a power of two that saturates: shifting the step itself would drop its high
        // bits after about 55 failures (`checked_shl` only checks the shift amount) and wrap it to
        // a few milliseconds or 0, a burst of immediate retries.
        let doubling = 1u64.checked_shl(self.failures).unwrap_or(u64::MAX);
        let delay = BACKOFF_INITIAL_MS.saturating_mul(doubling).min(BACKOFF_MAX_MS);
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now.plus_ms(delay));
        delay
    }

    /// Records a failure at `now` whose answer said when to try again (`Retry-After` on a 429
    /// or 503): that time, at most [`RETRY_AFTER_MAX_MS`] away, instead of the next step — but
    /// never sooner than the step: a server may lengthen the wait, not shorten it (a
    /// `Retry-After: 0` would otherwise renew at the floor rate and keep callers waiting).
    pub fn record_retry_after(&mut self, now: Instant, delay_ms: u64) {
        let step = self.record_failure(now);
        self.retry_at = Some(now.plus_ms(delay_ms.min(RETRY_AFTER_MAX_MS).max(step)));
    }

    /// Forgets past failures (after a success, or when the session ends).
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }

    /// Whether a renewal must wait at `now`.
    pub fn waiting_at(&self, now: Instant) -> bool {
        self.retry_at.is_some_and(|at| !now.reached(at))
    }

    /// When the next attempt may start, while backing off.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::MINUTE_MS;

    fn token(lifetime_ms: u64) -> Token {
        Token {
            access_token: "t".into(),
            received_at: Instant::from_millis(0),
            expires_at: Instant::from_millis(lifetime_ms),
        }
    }

    #[test]
    fn default_margin_is_a_minute_or_a_quarter_of_short_lifetimes() {
        let schedule = RenewSchedule::default();
        assert_eq!(schedule.renew_at(&token(5 * MINUTE_MS)).as_millis(), 4 * MINUTE_MS);
        assert_eq!(schedule.renew_at(&token(2 * MINUTE_MS)).as_millis(), 90 * SECOND_MS);
        assert_eq!(schedule.renew_at(&token(60 * MINUTE_MS)).as_millis(), 59 * MINUTE_MS);
    }

    #[test]
    fn the_backoff_step_never_shrinks_however_many_failures() {
        let mut backoff = Backoff::default();
        let now = Instant::from_millis(1_000_000);
        let mut previous = 0;
        for failures in 0..300 {
            let delay = backoff.record_failure(now);
            assert!(delay >= previous, "failure {failures}: {delay} ms after {previous} ms");
            assert!((BACKOFF_INITIAL_MS..=BACKOFF_MAX_MS).contains(&delay), "failure {failures}");
            assert_eq!(backoff.retry_at(), Some(now.plus_ms(delay)));
            previous = delay;
        }
        assert_eq!(previous, BACKOFF_MAX_MS);
    }

    #[test]
    fn a_margin_is_at_most_half_the_lifetime() {
        let schedule = RenewSchedule::new(Some(10 * MINUTE_MS));
        assert_eq!(schedule.renew_at(&token(5 * MINUTE_MS)).as_millis(), 150 * SECOND_MS);
        // The contract's example margin with an identity provider's 60 s tokens.
        let schedule = RenewSchedule::new(Some(60 * SECOND_MS));
        assert_eq!(schedule.renew_at(&token(60 * SECOND_MS)).as_millis(), 30 * SECOND_MS);
        assert_eq!(schedule.renew_at(&token(10 * MINUTE_MS)).as_millis(), 9 * MINUTE_MS);
    }

    #[test]
    fn retry_after_replaces_the_step_up_to_five_minutes() {
        let mut backoff = Backoff::default();
        backoff.record_retry_after(Instant::from_millis(0), 120 * SECOND_MS);
        assert_eq!(backoff.retry_at(), Some(Instant::from_millis(120 * SECOND_MS)));
        backoff.record_retry_after(Instant::from_millis(0), 3_600 * SECOND_MS);
        assert_eq!(backoff.retry_at(), Some(Instant::from_millis(5 * MINUTE_MS)));
        // The steps go on from the failures counted.
        assert_eq!(backoff.record_failure(Instant::from_millis(0)), 4 * SECOND_MS);
    }

    #[test]
    fn retry_after_lengthens_the_wait_but_never_shortens_it() {
        let mut backoff = Backoff::default();
        let now = Instant::from_millis(0);
        backoff.record_retry_after(now, 0);
        assert_eq!(backoff.retry_at(), Some(now.plus_ms(BACKOFF_INITIAL_MS)), "0: the first step");
        backoff.record_retry_after(now, 500);
        assert_eq!(
            backoff.retry_at(),
            Some(now.plus_ms(2 * SECOND_MS)),
            "shorter: the second step"
        );
        backoff.record_retry_after(now, 120 * SECOND_MS);
        assert_eq!(
            backoff.retry_at(),
            Some(now.plus_ms(120 * SECOND_MS)),
            "longer: as the server says"
        );
        backoff.record_retry_after(now, u64::MAX);
        assert_eq!(backoff.retry_at(), Some(now.plus_ms(RETRY_AFTER_MAX_MS)), "at most 5 minutes");
    }

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> =
            (0..8).map(|_| backoff.record_failure(Instant::from_millis(0)) / SECOND_MS).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        for _ in 0..100 {
            backoff.record_failure(Instant::from_millis(0));
        }
        assert_eq!(backoff.retry_at(), Some(Instant::from_millis(BACKOFF_MAX_MS)));
        backoff.reset();
        assert!(!backoff.waiting_at(Instant::from_millis(0)));
    }
}
