//! One re-armable timeout for the core's next deadline.
//!
//! The timeout only says "look at the clock now": the core compares deadlines with `Date.now()`
//! when it fires, so a timer that fires late (a throttled background tab, a sleeping laptop)
//! still tears down on time, and one that fires early does nothing and is armed again.

use gloo_timers::callback::Timeout;

use crate::core::Instant;

/// Browsers run a longer delay at once (it overflows a signed 32-bit integer).
const MAX_DELAY_MS: f64 = i32::MAX as f64;

/// The armed timeout; dropping it cancels it.
#[must_use = "dropping the timer cancels it"]
#[derive(Default)]
pub(crate) struct Timer {
    timeout: Option<Timeout>,
    armed_for: Option<Instant>,
}

impl Timer {
    /// Arms the timer for `deadline` (none: disarms it) at `now_ms`, unless it is armed for
    /// that deadline already; `on_fire` makes the callback only when a new timeout is needed.
    pub(crate) fn arm<F: FnOnce() + 'static>(
        &mut self,
        deadline: Option<Instant>,
        now_ms: f64,
        on_fire: impl FnOnce() -> F,
    ) {
        if deadline == self.armed_for {
            return;
        }
        self.armed_for = deadline;
        // Replacing the old timeout cancels it (gloo's Drop clears it).
        self.timeout = deadline.map(|deadline| {
            let delay = (deadline.as_millis() as f64 - now_ms).clamp(0.0, MAX_DELAY_MS);
            Timeout::new(delay as u32, on_fire())
        });
    }

    /// The timeout fired: the next `arm` sets a new one, even for the same deadline.
    pub(crate) fn fired(&mut self) {
        self.armed_for = None;
    }
}
