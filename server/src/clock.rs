//! Wall-clock time for every decision the server makes.
//!
//! Nothing else in the server reads the system clock: sessions, tokens and the request log all
//! ask a [`Clock`]. Tests build a [`Clock::manual`] and move it themselves, so a 15-minute idle
//! timeout is checked in microseconds; with `--test-controls`, end-to-end tests move the real
//! server's clock along with the browser's fake one (`POST /test/clock`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// A shared, adjustable clock. Clones share the same time.
#[derive(Clone, Debug)]
pub struct Clock {
    state: Arc<Mutex<ClockState>>,
}

#[derive(Clone, Copy, Debug)]
enum ClockState {
    /// Follows the system clock, shifted by `offset_ms` (zero unless a test moved it).
    Running { offset_ms: Millis },
    /// Stands still at `now_ms` until moved.
    Frozen { now_ms: Millis },
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::with_state(ClockState::Running { offset_ms: 0 })
    }

    /// A clock that stands still at `now_ms` until [`Clock::advance`] or [`Clock::set`] moves it.
    pub fn manual(now_ms: Millis) -> Self {
        Self::with_state(ClockState::Frozen { now_ms })
    }

    fn with_state(state: ClockState) -> Self {
        Self { state: Arc::new(Mutex::new(state)) }
    }

    /// The current time.
    pub fn now_ms(&self) -> Millis {
        match *self.lock() {
            ClockState::Running { offset_ms } => system_now_ms().saturating_add(offset_ms),
            ClockState::Frozen { now_ms } => now_ms,
        }
    }

    /// Whether the clock stands still between moves.
    pub fn is_frozen(&self) -> bool {
        matches!(*self.lock(), ClockState::Frozen { .. })
    }

    /// Makes the current time `now_ms`; a running clock keeps running from there.
    pub fn set(&self, now_ms: Millis) {
        let mut state = self.lock();
        *state = match *state {
            ClockState::Running { .. } => {
                ClockState::Running { offset_ms: now_ms.saturating_sub(system_now_ms()) }
            }
            ClockState::Frozen { .. } => ClockState::Frozen { now_ms },
        };
    }

    /// Moves the clock by `delta_ms` (negative moves it back).
    pub fn advance(&self, delta_ms: Millis) {
        let mut state = self.lock();
        *state = match *state {
            ClockState::Running { offset_ms } => {
                ClockState::Running { offset_ms: offset_ms.saturating_add(delta_ms) }
            }
            ClockState::Frozen { now_ms } => {
                ClockState::Frozen { now_ms: now_ms.saturating_add(delta_ms) }
            }
        };
    }

    /// Stops the clock at the current time, or lets it run on from the current time.
    pub fn set_frozen(&self, frozen: bool) {
        let now_ms = self.now_ms();
        let mut state = self.lock();
        *state = if frozen {
            ClockState::Frozen { now_ms }
        } else {
            ClockState::Running { offset_ms: now_ms.saturating_sub(system_now_ms()) }
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

fn system_now_ms() -> Millis {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => Millis::try_from(elapsed.as_millis()).unwrap_or(Millis::MAX),
        // A system clock before 1970 is broken; time zero keeps arithmetic defined.
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(10_000);
        assert_eq!(clock.now_ms(), 10_000);
        assert!(clock.is_frozen());
    }

    #[test]
    fn running_clock_set_to_the_future_keeps_running_from_there() {
        let clock = Clock::system();
        let target = system_now_ms() + 3_600_000;
        clock.set(target);
        let now = clock.now_ms();
        assert!(now >= target && now < target + 60_000, "{now} vs {target}");
        assert!(!clock.is_frozen());
    }

    #[test]
    fn clones_share_time() {
        let clock = Clock::manual(0);
        let other = clock.clone();
        other.advance(42);
        assert_eq!(clock.now_ms(), 42);
    }

    #[test]
    fn freezing_keeps_the_current_time() {
        let clock = Clock::manual(5_000);
        clock.set_frozen(false);
        clock.set_frozen(true);
        let now = clock.now_ms();
        assert!((5_000..65_000).contains(&now));
    }
}
