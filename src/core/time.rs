//! Time by two clocks, in milliseconds. Nothing in the core reads a clock: every input carries
//! `now`, read from both.
//!
//! The wall clock (`Date.now()`) counts system sleep and the time a background tab was throttled
//! or frozen, which the idle rule is about; but it can be set back (by a user, NTP, a VM resumed
//! with a stale clock). A monotonic clock (`performance.now()`) never goes back, but may stop
//! while the system sleeps. An [`Instant`] carries both readings, and a deadline has passed when
//! *either* clock says so (contract rule 1): neither a sleep nor a clock set back extends a
//! session.

/// A moment as both clocks read it: the wall clock in milliseconds since the Unix epoch, the
/// monotonic clock in milliseconds since an origin of the driver's (a page's time origin).
///
/// Deliberately not `Ord`: "has this deadline passed" ([`Instant::reached`]) and "which of two
/// events came later" ([`Instant::is_after`]) are different questions with two clocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Instant {
    wall: u64,
    mono: u64,
}

// The operations on two clocks are out of line (`#[inline(never)]`, all but the constructors and
// the readings): inlined, each call site repeats the pair of saturating operations and the
// choice between the clocks. Out of line the shipped module is 280 bytes smaller gzipped
// (bench/size-notes.md), for a call per use.
impl Instant {
    /// The instant at which both clocks read `ms` (tests and single-clock drivers).
    pub const fn from_millis(ms: u64) -> Self {
        Instant { wall: ms, mono: ms }
    }

    /// The instant at which the wall clock reads `wall_ms` and the monotonic one `mono_ms`.
    pub const fn from_clocks(wall_ms: u64, mono_ms: u64) -> Self {
        Instant { wall: wall_ms, mono: mono_ms }
    }

    /// From JavaScript readings (`Date.now()`, `performance.now()`, floats); negative or NaN
    /// becomes 0, infinity the far future.
    pub fn from_js(wall_ms: f64, mono_ms: f64) -> Self {
        // `as` saturates and maps NaN to 0: no panic on any input.
        Instant { wall: wall_ms as u64, mono: mono_ms as u64 }
    }

    /// The wall clock's reading: milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.wall
    }

    /// The monotonic clock's reading.
    pub const fn mono_millis(self) -> u64 {
        self.mono
    }

    /// `ms` milliseconds later by both clocks, saturating at the far future.
    #[inline(never)]
    pub const fn plus_ms(self, ms: u64) -> Self {
        Instant { wall: self.wall.saturating_add(ms), mono: self.mono.saturating_add(ms) }
    }

    /// `ms` milliseconds earlier by both clocks, saturating at 0.
    #[inline(never)]
    pub const fn minus_ms(self, ms: u64) -> Self {
        Instant { wall: self.wall.saturating_sub(ms), mono: self.mono.saturating_sub(ms) }
    }

    /// Whether `deadline` has passed at `self`: either clock has reached it.
    #[inline(never)]
    pub const fn reached(self, deadline: Instant) -> bool {
        self.wall >= deadline.wall || self.mono >= deadline.mono
    }

    /// Milliseconds from `earlier` to `self` by the clock that measured more (0 if neither
    /// moved forward): the time elapsed as far as any deadline is concerned.
    #[inline(never)]
    pub const fn ms_since(self, earlier: Instant) -> u64 {
        let wall = self.wall.saturating_sub(earlier.wall);
        let mono = self.mono.saturating_sub(earlier.mono);
        if wall > mono {
            wall
        } else {
            mono
        }
    }

    /// Milliseconds from `self` until `deadline` is reached, by the clock that gets there
    /// first (0 if it has passed): how long a driver's timer may wait.
    #[inline(never)]
    pub const fn ms_until(self, deadline: Instant) -> u64 {
        let wall = deadline.wall.saturating_sub(self.wall);
        let mono = deadline.mono.saturating_sub(self.mono);
        if wall < mono {
            wall
        } else {
            mono
        }
    }

    /// Whether `self` came after `other` as events of one tab: by the monotonic clock, which
    /// never goes back (readings it cannot tell apart are simultaneous).
    #[inline(never)]
    pub const fn is_after(self, other: Instant) -> bool {
        self.mono > other.mono
    }

    /// The later of two events (see [`Instant::is_after`]), `other` if the monotonic clock
    /// cannot tell them apart. Also the clocks' latest readings after `self` and then
    /// `other`: the wall clock's reading is taken as it is, back or forward, so that a deadline
    /// it passes is seen at once, unless the monotonic clock says `other` is older (an event
    /// handed in late).
    #[inline(never)]
    pub const fn later(self, other: Instant) -> Instant {
        if self.is_after(other) {
            self
        } else {
            other
        }
    }

    /// An event another tab dated `wall_ms` by the (shared) wall clock, as an instant of this
    /// tab at `self`: as many milliseconds before now by both clocks as the wall clock says,
    /// and never later than now (contract rule 12).
    #[inline(never)]
    pub const fn dated(self, wall_ms: u64) -> Instant {
        self.minus_ms(self.wall.saturating_sub(wall_ms))
    }

    /// The wall-clock date to tell another tab for an event at `event`, as of `self`: now by the
    /// wall clock, minus the time elapsed since by either clock, so that the other tab, which
    /// dates it with [`Instant::dated`], never sees it later than this tab does.
    #[inline(never)]
    pub const fn wall_date_of(self, event: Instant) -> u64 {
        self.wall.saturating_sub(self.ms_since(event))
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
    fn js_readings_never_panic() {
        assert_eq!(Instant::from_js(f64::NAN, -5.0), Instant::from_millis(0));
        assert_eq!(
            Instant::from_js(1_700_000_000_123.9, 12.7),
            Instant::from_clocks(1_700_000_000_123, 12)
        );
        assert_eq!(Instant::from_js(f64::INFINITY, 0.0).as_millis(), u64::MAX);
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(10);
        assert_eq!(t.minus_ms(20), Instant::from_millis(0));
        assert_eq!(Instant::from_millis(u64::MAX).plus_ms(1), Instant::from_millis(u64::MAX));
        assert_eq!(t.ms_since(Instant::from_millis(30)), 0);
        assert_eq!(Instant::from_millis(30).ms_since(t), 20);
    }

    #[test]
    fn a_deadline_passes_when_either_clock_reaches_it() {
        let start = Instant::from_clocks(10_000_000, 50);
        let deadline = start.plus_ms(60_000);
        // The wall clock set back an hour: the monotonic clock still counts.
        let set_back = Instant::from_clocks(10_000_000 - 3_600_000 + 60_000, 50 + 60_000);
        assert!(set_back.reached(deadline));
        assert_eq!(set_back.ms_since(start), 60_000);
        // Asleep for two minutes: the monotonic clock stopped, the wall clock did not.
        let woke = Instant::from_clocks(10_000_000 + 120_000, 50);
        assert!(woke.reached(deadline));
        assert_eq!(woke.ms_since(start), 120_000);
        let before = Instant::from_clocks(10_000_000 + 59_999, 50 + 59_999);
        assert!(!before.reached(deadline));
        assert_eq!(before.ms_until(deadline), 1);
        assert_eq!(Instant::from_clocks(10_000_000 + 10, 50 + 30).ms_until(deadline), 59_970);
    }

    #[test]
    fn events_are_ordered_by_the_monotonic_clock() {
        let before = Instant::from_clocks(2_000, 10);
        let after_set_back = Instant::from_clocks(1_000, 11);
        assert!(after_set_back.is_after(before));
        assert_eq!(before.later(after_set_back), after_set_back);
        assert!(!Instant::from_clocks(3, 10).is_after(Instant::from_clocks(2, 10)));
        // The latest readings: a wall clock stepping while the monotonic one stands still
        // (asleep) is taken; an event handed in late is not.
        assert_eq!(before.later(Instant::from_clocks(9_000, 10)), Instant::from_clocks(9_000, 10));
        assert_eq!(before.later(Instant::from_clocks(1_500, 10)), Instant::from_clocks(1_500, 10));
        assert_eq!(before.later(Instant::from_clocks(9_000, 9)), before);
    }

    #[test]
    fn another_tabs_dates_are_never_later_than_now() {
        let now = Instant::from_clocks(10_000_000, 500);
        assert_eq!(now.dated(9_999_900), Instant::from_clocks(9_999_900, 400));
        assert_eq!(now.dated(u64::MAX), now, "a date in the future is now");
        assert_eq!(now.dated(0), Instant::from_clocks(0, 0));
        // And what this tab tells: the event as long ago as either clock says.
        let event = Instant::from_clocks(10_000_000 + 3_600_000, 400); // before a set-back
        assert_eq!(now.wall_date_of(event), 10_000_000 - 100);
    }
}
