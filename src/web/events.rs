//! The app's event listeners (`on()`): each event is handed to every listener of its kind, each
//! in its own try/catch, so a throwing listener stops neither the others nor the client.

use std::cell::{Cell, RefCell};

use js_sys::{Function, Object};
use wasm_bindgen::JsValue;

use crate::core::Event;

use super::js;

/// The event names of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    Renewed,
    IdleWarning,
    Active,
    Expired,
    Error,
}

impl EventKind {
    /// The kind JavaScript calls `name`, if it is one.
    pub(crate) fn from_name(name: &str) -> Option<EventKind> {
        Some(match name {
            "renewed" => EventKind::Renewed,
            "idlewarning" => EventKind::IdleWarning,
            "active" => EventKind::Active,
            "expired" => EventKind::Expired,
            "error" => EventKind::Error,
            _ => return None,
        })
    }

    fn of(event: &Event) -> EventKind {
        match event {
            Event::Renewed { .. } => EventKind::Renewed,
            Event::IdleWarning { .. } => EventKind::IdleWarning,
            Event::Active => EventKind::Active,
            Event::Expired { .. } => EventKind::Expired,
            Event::Error { .. } => EventKind::Error,
        }
    }
}

struct Subscription {
    id: u32,
    kind: EventKind,
    callback: Function,
}

/// Listeners by kind, in subscription order.
#[derive(Default)]
pub(crate) struct Listeners {
    subscriptions: RefCell<Vec<Subscription>>,
    next_id: Cell<u32>,
}

impl Listeners {
    /// Adds a listener; the id unsubscribes it.
    pub(crate) fn add(&self, kind: EventKind, callback: Function) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        self.subscriptions.borrow_mut().push(Subscription { id, kind, callback });
        id
    }

    /// Removes the listener `id`; removing it twice is harmless.
    pub(crate) fn remove(&self, id: u32) {
        self.subscriptions.borrow_mut().retain(|subscription| subscription.id != id);
    }

    /// Removes every listener (`dispose()`).
    pub(crate) fn clear(&self) {
        self.subscriptions.borrow_mut().clear();
    }

    /// Calls the listeners of `event`'s kind with its detail.
    pub(crate) fn emit(&self, event: &Event) {
        let kind = EventKind::of(event);
        // A snapshot: listeners may subscribe, unsubscribe or emit again while being called.
        let callbacks: Vec<Function> = self
            .subscriptions
            .borrow()
            .iter()
            .filter(|subscription| subscription.kind == kind)
            .map(|subscription| subscription.callback.clone())
            .collect();
        if callbacks.is_empty() {
            return;
        }
        let detail = detail(event);
        for callback in callbacks {
            if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, &detail) {
                web_sys::console::error_2(
                    &JsValue::from_str("authpulse: an event listener threw"),
                    &thrown,
                );
            }
        }
    }
}

/// The `detail` object of the contract's event table.
fn detail(event: &Event) -> JsValue {
    let detail = JsValue::from(Object::new());
    match *event {
        Event::Renewed { expires_at } | Event::IdleWarning { expires_at } => {
            js::set(&detail, "expiresAt", &JsValue::from_f64(expires_at.as_millis() as f64));
        }
        Event::Active => {}
        Event::Expired { reason } => {
            js::set(&detail, "reason", &JsValue::from_str(reason.as_str()))
        }
        Event::Error { code } => {
            js::set(&detail, "code", &JsValue::from_str(code.code()));
            js::set(&detail, "message", &JsValue::from_str(code.message()));
        }
    }
    detail
}
