//! Real user activity and the page coming back, as core inputs.
//!
//! Activity events arrive at pointer-move rates, so their path is a trusted-check, a clock read
//! and a comparison: an event earlier than the core's [`activity_report_threshold`] is only
//! recorded in a cell and handed to the core, in time order, before its next input. Only an event
//! the core must hear about at once (it cancels a warning, or starts a renewal that waits for
//! activity) crosses into the session.
//!
//! [`activity_report_threshold`]: crate::core::Session::activity_report_threshold

use std::cell::Cell;
use std::rc::Weak;

use js_sys::{Date, Function};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{AddEventListenerOptions, Event, EventTarget, Window};

use crate::core::Instant;

use super::driver::Driver;

/// The contract's user-activity events. `scroll` is not one: scripts scroll pages too.
const ACTIVITY_EVENTS: [&str; 5] = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];

/// Activity seen but not yet handed to the core, and the time from which it must be.
#[derive(Debug)]
pub(crate) struct ActivityGate {
    /// Latest unreported activity (ms since the epoch), 0 when none.
    pending: Cell<f64>,
    /// Activity at or after this must reach the core at once.
    threshold: Cell<f64>,
}

impl Default for ActivityGate {
    fn default() -> Self {
        ActivityGate { pending: Cell::new(0.0), threshold: Cell::new(f64::INFINITY) }
    }
}

impl ActivityGate {
    /// Records activity at `at`; true when the core must hear about it now.
    #[inline]
    pub(crate) fn record(&self, at: f64) -> bool {
        if at >= self.threshold.get() {
            return true;
        }
        if at > self.pending.get() {
            self.pending.set(at);
        }
        false
    }

    /// The unreported activity, cleared.
    pub(crate) fn take_pending(&self) -> Option<Instant> {
        let at = self.pending.replace(0.0);
        (at > 0.0).then(|| Instant::from_js_millis(at))
    }

    /// The core's current threshold.
    pub(crate) fn set_threshold(&self, threshold: Instant) {
        self.threshold.set(threshold.as_millis() as f64);
    }
}

/// The DOM listeners; dropping this removes every one of them.
#[must_use = "dropping the listeners removes them"]
pub(crate) struct ActivityListeners {
    registrations: Vec<Registration>,
    // The Rust side of the callbacks, alive for as long as they are registered.
    _closures: [Closure<dyn FnMut(Event)>; 3],
}

struct Registration {
    target: EventTarget,
    kind: &'static str,
    callback: Function,
    capture: bool,
}

impl ActivityListeners {
    /// Listens on `window` and its document, feeding `driver` while it lives.
    pub(crate) fn new(window: &Window, driver: Weak<Driver>) -> ActivityListeners {
        let on_activity = driver.clone();
        let activity = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // Scripts can dispatch any event; only the browser's own ones are the user.
            if event.is_trusted() {
                if let Some(driver) = on_activity.upgrade() {
                    driver.user_activity(Date::now());
                }
            }
        });
        let on_visibility = driver.clone();
        let visibility = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if let Some(driver) = on_visibility.upgrade() {
                driver.page_shown(event.is_trusted());
            }
        });
        let wake = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            if let Some(driver) = driver.upgrade() {
                driver.page_shown(false);
            }
        });

        let target: &EventTarget = window.as_ref();
        let activity_fn: &Function = activity.as_ref().unchecked_ref();
        let wake_fn: &Function = wake.as_ref().unchecked_ref();
        let mut registrations = Vec::with_capacity(ACTIVITY_EVENTS.len() + 3);
        for kind in ACTIVITY_EVENTS {
            // Capture phase on the window: seen before any handler can stop propagation.
            registrations.extend(register(target, kind, activity_fn, true));
        }
        if let Some(document) = window.document() {
            registrations.extend(register(
                &document,
                "visibilitychange",
                visibility.as_ref().unchecked_ref(),
                false,
            ));
        }
        // Not capture: the window's own focus, not every element's.
        registrations.extend(register(target, "focus", wake_fn, false));
        // Also fires on restores from the back/forward cache, where no script ran meanwhile.
        registrations.extend(register(target, "pageshow", wake_fn, false));
        ActivityListeners { registrations, _closures: [activity, visibility, wake] }
    }
}

fn register(
    target: &EventTarget,
    kind: &'static str,
    callback: &Function,
    capture: bool,
) -> Option<Registration> {
    let options = AddEventListenerOptions::new();
    options.set_passive(true);
    options.set_capture(capture);
    target
        .add_event_listener_with_callback_and_add_event_listener_options(kind, callback, &options)
        .ok()?;
    Some(Registration { target: target.clone(), kind, callback: callback.clone(), capture })
}

impl Drop for ActivityListeners {
    fn drop(&mut self) {
        for registration in self.registrations.drain(..) {
            let Registration { target, kind, callback, capture } = registration;
            let _ = target.remove_event_listener_with_callback_and_bool(kind, &callback, capture);
        }
    }
}
