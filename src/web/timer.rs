//! The one timer (`js/timer.js`): re-armed for the session's next deadline. Its callback only
//! says "time passed": the client reads the clocks then, so a late or throttled timer changes
//! nothing.

use std::rc::Rc;

use gloo_timers::callback::Timeout;

use crate::core::Instant;

/// The longest delay a browser timer takes (about 24.8 days); a later deadline is re-armed
/// when this fires.
const MAX_DELAY_MS: u64 = i32::MAX as u64;

/// One re-armable `setTimeout`. Dropping it cancels it.
pub(crate) struct Timer {
    armed: Option<(Instant, Timeout)>,
    fire: Rc<dyn Fn()>,
}

impl Timer {
    /// A disarmed timer that calls `fire` when it goes off.
    pub(crate) fn new(fire: impl Fn() + 'static) -> Self {
        Timer { armed: None, fire: Rc::new(fire) }
    }

    /// When it fires, if it is armed.
    pub(crate) fn at(&self) -> Option<Instant> {
        self.armed.as_ref().map(|(at, _)| *at)
    }

    /// Fires at `at` (`None`: never), replacing what was armed.
    pub(crate) fn arm(&mut self, at: Option<Instant>, now: Instant) {
        // Dropping a gloo `Timeout` clears it.
        self.armed = at.map(|at| {
            let delay = at.ms_since(now).min(MAX_DELAY_MS) as u32;
            let fire = Rc::clone(&self.fire);
            (at, Timeout::new(delay, move || fire()))
        });
    }

    /// The timer went off: it is no longer armed. (This drops the `Timeout` from inside its
    /// own callback; wasm-bindgen frees a closure dropped while it runs once it returns.)
    pub(crate) fn fired(&mut self) {
        self.armed = None;
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer").field("at", &self.at()).finish_non_exhaustive()
    }
}

/// The wall clock (`Date.now()`), the time every input to the session carries.
pub(crate) fn now() -> Instant {
    Instant::from_js_millis(js_sys::Date::now())
}
