//! Wall-clock time in milliseconds. Nothing in the core reads a clock: every input carries `now`.
//!
//! Wall-clock (`Date.now()`) rather than monotonic time on purpose: the idle rule is about how long
//! the user was away, system sleep and throttled background tabs included, and browsers stop or
//! slow the monotonic clock during sleep.

/// A point in wall-clock time, in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Converts a JavaScript timestamp (`Date.now()`, a float); negative or NaN becomes the epoch.
    pub fn from_js_millis(ms: f64) -> Self {
        // `as` saturates and maps NaN to 0: no panic on any input.
        Instant(ms as u64)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This instant plus `ms` milliseconds, saturating at the far future.
    pub const fn plus_ms(self, ms: u64) -> Self {
        Instant(self.0.saturating_add(ms))
    }

    /// This instant minus `ms` milliseconds, saturating at the epoch.
    pub const fn minus_ms(self, ms: u64) -> Self {
        Instant(self.0.saturating_sub(ms))
    }

    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    pub const fn ms_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// One second, in milliseconds.
pub const SECOND_MS: u64 = 1_000;
/// One minute, in milliseconds.
pub const MINUTE_MS: u64 = 60 * SECOND_MS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_timestamps_never_panic() {
        assert_eq!(Instant::from_js_millis(f64::NAN).as_millis(), 0);
        assert_eq!(Instant::from_js_millis(-5.0).as_millis(), 0);
        assert_eq!(Instant::from_js_millis(1_700_000_000_123.9).as_millis(), 1_700_000_000_123);
        assert_eq!(Instant::from_js_millis(f64::INFINITY).as_millis(), u64::MAX);
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(10);
        assert_eq!(t.minus_ms(20).as_millis(), 0);
        assert_eq!(Instant::from_millis(u64::MAX).plus_ms(1).as_millis(), u64::MAX);
        assert_eq!(t.ms_since(Instant::from_millis(30)), 0);
        assert_eq!(Instant::from_millis(30).ms_since(t), 20);
    }
}
