//! Real user activity (`js/activity.js`): trusted input events in the page and in its
//! same-origin frames, and the page becoming visible (rule 1). Between two reports the listener
//! only records the time: the session needs activity once per threshold, so a `pointermove`
//! costs a comparison and a store.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AddEventListenerOptions, Document, Event, EventTarget, VisibilityState, Window};

use super::timer::now;
use crate::core::Instant;

/// Heard on each document, in the capture phase: what counts as the user (`scroll` does not:
/// scripts scroll pages; nor does any event a script dispatched, `isTrusted` false), and `load`
/// for a frame (re)loaded.
const INPUT: [&str; 6] = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart", "load"];
/// The page shown, focused, restored from the back/forward cache, or hidden.
const SHOW: [&str; 3] = ["focus", "pageshow", "pagehide"];

/// What the listeners tell the client.
pub(crate) struct Reports {
    /// Activity at this time, to hand to the session now.
    pub(crate) activity: Box<dyn Fn(Instant)>,
    /// An event was held back: the timer must fire by this time.
    pub(crate) wake_by: Box<dyn Fn(Instant)>,
    /// The page was shown, focused or hidden: `(hidden, visible)`, visible meaning the user
    /// made it visible (a trusted `visibilitychange`).
    pub(crate) show: Box<dyn Fn(bool, bool)>,
}

/// The listeners; dropping this removes them.
pub(crate) struct Activity {
    held: Rc<Held>,
    window: Window,
    document: Document,
    on_input: Closure<dyn Fn(Event)>,
    on_show: Closure<dyn Fn(Event)>,
}

/// Shared by the listener and the client.
#[derive(Default)]
struct Held {
    /// A trusted event's time not yet reported (it came before the threshold).
    pending: Cell<Option<Instant>>,
    /// Events whose clocks have reached this time are reported at once.
    threshold: Cell<Instant>,
}

impl Activity {
    /// Listens on the page's window and documents; `None` where there is none (a worker):
    /// there, only `touch()` counts.
    pub(crate) fn listen(reports: Reports) -> Option<Activity> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let held = Rc::new(Held::default());
        let Reports { activity, wake_by, show } = reports;
        // The input listener itself, for the frames that load later.
        let listener = Rc::new(OnceCell::<js_sys::Function>::new());
        let on_input = {
            let (held, listener) = (Rc::clone(&held), Rc::clone(&listener));
            Closure::<dyn Fn(Event)>::new(move |event: Event| {
                if !event.is_trusted() {
                    return;
                }
                if event.type_() == "load" {
                    // `load` does not bubble, but the capture phase of the document of a frame's
                    // parent has it (an image's too: it has no window, and is skipped).
                    if let (Some(target), Some(listener)) = (event.target(), listener.get()) {
                        let window = Reflect::get(&target, &"contentWindow".into());
                        if let Ok(window) = window {
                            each_document(&window, &mut |document| add(document, "", listener));
                        }
                    }
                    return;
                }
                let now = now();
                // Either clock: after a sleep the wall clock has moved on, the monotonic not.
                if now.reached(held.threshold.get()) {
                    activity(now);
                } else if held.pending.replace(Some(now)).is_none() {
                    // Held back until the threshold at the latest: the timer fires by then
                    // (signed out, the threshold is "never", and nothing needs it).
                    let threshold = held.threshold.get();
                    if threshold != Instant::from_millis(u64::MAX) {
                        wake_by(threshold);
                    }
                }
            })
        };
        let _ = listener.set(on_input.as_ref().unchecked_ref::<js_sys::Function>().clone());
        let on_show = {
            let document = document.clone();
            Closure::<dyn Fn(Event)>::new(move |event: Event| {
                let kind = event.type_();
                let hidden =
                    kind == "pagehide" || document.visibility_state() == VisibilityState::Hidden;
                show(hidden, kind == "visibilitychange" && event.is_trusted() && !hidden);
            })
        };
        let activity = Activity { held, window, document, on_input, on_show };
        activity.each_listener(add);
        Some(activity)
    }

    /// The held-back activity time, forgetting it.
    pub(crate) fn take(&self) -> Option<Instant> {
        self.held.pending.take()
    }

    /// Events whose clocks have reached `at` are reported at once; earlier ones may wait.
    pub(crate) fn set_threshold(&self, at: Instant) {
        self.held.threshold.set(at);
    }

    /// Each listener: `kind` "" means every kind of input on that document.
    fn each_listener(&self, mut each: impl FnMut(&EventTarget, &str, &js_sys::Function)) {
        let on_input = self.on_input.as_ref().unchecked_ref();
        let on_show = self.on_show.as_ref().unchecked_ref();
        each_document(&self.window, &mut |document| each(document, "", on_input));
        each(&self.document, "visibilitychange", on_show);
        let window: &EventTarget = &self.window;
        for kind in SHOW {
            each(window, kind, on_show);
        }
    }
}

/// Calls `each` with the document of `window` and of every same-origin frame below it: a user
/// typing in an embedded editor is active. A cross-origin frame's document cannot be read (the
/// read fails here, caught by `Reflect`) and is skipped: the page can relay its activity with
/// `touch()`.
fn each_document(window: &JsValue, each: &mut impl FnMut(&EventTarget)) {
    let Ok(document) = Reflect::get(window, &"document".into()) else {
        return;
    };
    if !document.is_object() {
        return;
    }
    // A frame's document belongs to another realm: `instanceof EventTarget` would say no.
    each(document.unchecked_ref());
    let frames = Reflect::get(window, &"length".into()).ok().and_then(|n| n.as_f64());
    for index in 0..frames.unwrap_or(0.0) as u32 {
        if let Ok(frame) = Reflect::get_u32(window, index) {
            each_document(&frame, each);
        }
    }
}

/// Adds `listener` for `kind` ("" for every kind of input), capturing and passive. Adding does
/// not throw for these arguments; if it did, that event would not count, and nothing else would
/// change.
fn add(target: &EventTarget, kind: &str, listener: &js_sys::Function) {
    let options = AddEventListenerOptions::new();
    options.set_capture(true);
    options.set_passive(true);
    let kinds: &[&str] = if kind.is_empty() { &INPUT } else { &[kind] };
    for kind in kinds {
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            kind, listener, &options,
        );
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        self.each_listener(|target, kind, listener| {
            let kinds: &[&str] = if kind.is_empty() { &INPUT } else { &[kind] };
            for kind in kinds {
                let _ = target.remove_event_listener_with_callback_and_bool(kind, listener, true);
            }
        });
    }
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity")
            .field("pending", &self.held.pending.get())
            .field("threshold", &self.held.threshold.get())
            .finish_non_exhaustive()
    }
}
