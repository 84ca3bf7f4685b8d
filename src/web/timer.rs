//! The one timer (`js/timer.js`): re-armed for the session's next deadline. Its callback only
//! says "time passed": the client reads both clocks then, so a late or throttled timer changes
//! nothing.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;

use crate::core::Instant;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: the monotonic clock (a window's or a worker's).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The longest delay a browser timer takes (about 24.8 days); a later deadline is re-armed
/// when this fires.
const MAX_DELAY_MS: u64 = i32::MAX as u64;

/// Both clocks now (contract rule 1): the wall clock (`Date.now()`), which counts system sleep
/// and a throttled tab's time but can be set back, and the monotonic one (`performance.now()`),
/// which never goes back but may stop while the system sleeps. A deadline has passed when
/// either says so.
pub(crate) fn now() -> Instant {
    Instant::from_js(js_sys::Date::now(), performance_now())
}

/// One re-armable `setTimeout` (which follows the monotonic clock). Dropping it cancels it.
pub(crate) struct Timer {
    armed: Option<(Instant, Timeout)>,
    fire: Rc<dyn Fn()>,
}

impl Timer {
    /// A disarmed timer that calls `fire` when it goes off.
    pub(crate) fn new(fire: impl Fn() + 'static) -> Self {
        Timer { armed: None, fire: Rc::new(fire) }
    }

    /// The deadline it fires for, if it is armed.
    pub(crate) fn at(&self) -> Option<Instant> {
        self.armed.as_ref().map(|(at, _)| *at)
    }

    /// Fires when the first clock reaches `at` (`None`: never), replacing what was armed.
    pub(crate) fn arm(&mut self, at: Option<Instant>, now: Instant) {
        // Dropping a gloo `Timeout` clears it.
        self.armed = at.map(|at| {
            let delay = now.ms_until(at).min(MAX_DELAY_MS) as u32;
            let fire = Rc::clone(&self.fire);
            (at, Timeout::new(delay, move || fire()))
        });
    }

    /// Fires by `at` at the latest: re-armed only if it is not armed for sooner.
    pub(crate) fn arm_by(&mut self, at: Instant, now: Instant) {
        if self.at().map_or(true, |armed| now.ms_until(at) < now.ms_until(armed)) {
            self.arm(Some(at), now);
        }
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
