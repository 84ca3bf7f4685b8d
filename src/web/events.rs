//! The app's listeners (`js/events.js`): callbacks registered with [`AuthClient::on`], and
//! streams from [`AuthClient::events`].
//!
//! [`AuthClient::on`]: super::AuthClient::on
//! [`AuthClient::events`]: super::AuthClient::events

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_channel::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::core::Event;

/// Identifies a listener registered with [`AuthClient::on`](super::AuthClient::on), to remove it
/// with [`AuthClient::off`](super::AuthClient::off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

type Listener = Rc<dyn Fn(&Event)>;

/// Every listener and stream of one client.
#[derive(Default)]
pub(crate) struct Events {
    listeners: RefCell<Vec<(ListenerId, Listener)>>,
    streams: RefCell<Vec<UnboundedSender<Event>>>,
    next_id: Cell<u64>,
}

impl Events {
    pub(crate) fn on(&self, listener: impl Fn(&Event) + 'static) -> ListenerId {
        let id = ListenerId(self.next_id.get());
        self.next_id.set(id.0 + 1);
        self.listeners.borrow_mut().push((id, Rc::new(listener)));
        id
    }

    pub(crate) fn off(&self, id: ListenerId) -> bool {
        let mut listeners = self.listeners.borrow_mut();
        let before = listeners.len();
        listeners.retain(|(listener, _)| *listener != id);
        listeners.len() != before
    }

    pub(crate) fn stream(&self) -> EventStream {
        let (sender, receiver) = mpsc::unbounded();
        self.streams.borrow_mut().push(sender);
        EventStream(receiver)
    }

    /// Calls every listener registered now, in order. A listener may call back into the
    /// client, register or remove listeners: it runs on a snapshot, with nothing borrowed.
    pub(crate) fn emit(&self, event: &Event) {
        let listeners: Vec<Listener> =
            self.listeners.borrow().iter().map(|(_, listener)| Rc::clone(listener)).collect();
        for listener in listeners {
            listener(event);
        }
        // A dropped stream is forgotten here.
        self.streams.borrow_mut().retain(|sender| sender.unbounded_send(*event).is_ok());
    }

    /// Removes every listener and ends every stream.
    pub(crate) fn clear(&self) {
        self.listeners.borrow_mut().clear();
        self.streams.borrow_mut().clear();
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("listeners", &self.listeners.borrow().len())
            .field("streams", &self.streams.borrow().len())
            .finish()
    }
}

/// The client's events as a [`futures_core::Stream`], from
/// [`AuthClient::events`](super::AuthClient::events): every event from then on, in order; it
/// ends when the client is dropped. Unbounded: read it, or drop it.
#[derive(Debug)]
#[must_use = "a stream does nothing unless polled"]
pub struct EventStream(UnboundedReceiver<Event>);

impl futures_core::Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}
