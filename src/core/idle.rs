//! The idle rule: when a user who stopped interacting is warned, and when they are signed out.

use super::time::Instant;

/// Default real-user inactivity before teardown: 15 minutes.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 15 * 60_000;
/// Default warning ahead of an idle teardown: 60 seconds.
pub const DEFAULT_WARN_BEFORE_IDLE_MS: u64 = 60_000;

/// The sliding idle timeout with an optional warning ahead of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdlePolicy {
    timeout_ms: u64,
    warn_before_ms: u64,
}

impl IdlePolicy {
    /// A policy; `warn_before_ms` 0 means no warning. Options validation guarantees
    /// `warn_before_ms < timeout_ms`; a larger value warns at the last activity itself.
    pub const fn new(timeout_ms: u64, warn_before_ms: u64) -> Self {
        IdlePolicy { timeout_ms, warn_before_ms }
    }

    /// When a user whose last real activity was at `last_activity` is signed out.
    pub const fn deadline(&self, last_activity: Instant) -> Instant {
        last_activity.plus_ms(self.timeout_ms)
    }

    /// When that user is warned, if warnings are on.
    pub fn warn_at(&self, last_activity: Instant) -> Option<Instant> {
        (self.warn_before_ms > 0)
            .then(|| self.deadline(last_activity).minus_ms(self.warn_before_ms))
    }

    /// The idle timeout in milliseconds.
    pub const fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }
}

impl Default for IdlePolicy {
    fn default() -> Self {
        IdlePolicy::new(DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_WARN_BEFORE_IDLE_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_warns_a_minute_before_fifteen_idle_minutes() {
        let policy = IdlePolicy::default();
        let last = Instant::from_millis(1_000_000);
        assert_eq!(policy.deadline(last).as_millis(), 1_000_000 + 900_000);
        assert_eq!(policy.warn_at(last).map(Instant::as_millis), Some(1_000_000 + 840_000));
    }

    #[test]
    fn zero_warning_means_no_warning() {
        let policy = IdlePolicy::new(60_000, 0);
        assert_eq!(policy.warn_at(Instant::from_millis(5)), None);
    }
}
