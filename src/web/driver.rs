//! Drives the [`Session`]: every input reaches it through [`Driver::input`] (pending activity
//! first, so the core sees events in time order), and after every input its commands are
//! carried out, the timer is re-armed for its next deadline, and callers waiting for a renewal
//! are woken once none is in flight.
//!
//! No JavaScript runs while the session is borrowed: commands are taken one at a time and
//! executed after the borrow ends, so a listener may call back into the client.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Date, Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Url, Window};

use crate::core::{
    Command, Config, Instant, Phase, RenewalId, ResponseInfo, RetryDecision, Session, TokenAccess,
};

use super::activity::{ActivityGate, ActivityListeners};
use super::events::Listeners;
use super::http::{self, Endpoints};
use super::js;
use super::timer::Timer;

/// The browser resources the client holds; dropping them is `dispose()`.
struct Adapters {
    _activity: ActivityListeners,
    timer: Timer,
}

/// The renewal request in flight, so that the core can cancel it.
struct RenewalRequest {
    id: RenewalId,
    controller: Option<AbortController>,
}

/// One promise shared by every caller waiting for the renewal in flight (rule 4).
struct Waiter {
    promise: Promise,
    resolve: Function,
}

/// A token for one request, owned (the session's is borrowed).
enum Access {
    Ready(String, u64),
    Wait,
    Unavailable,
}

/// The session and the adapters around it.
pub(crate) struct Driver {
    window: Window,
    session: RefCell<Session>,
    gate: ActivityGate,
    endpoints: Endpoints,
    adapters: RefCell<Option<Adapters>>,
    renewal: RefCell<Option<RenewalRequest>>,
    waiter: RefCell<Option<Waiter>>,
    pub(crate) listeners: Listeners,
    disposed: Cell<bool>,
}

impl Driver {
    /// A signed-out client listening for activity.
    pub(crate) fn new(window: Window, config: Config) -> Rc<Driver> {
        let endpoints =
            Endpoints { strategy: config.strategy.clone(), logout_url: config.logout_url.clone() };
        let driver = Rc::new(Driver {
            window,
            session: RefCell::new(Session::new(config)),
            gate: ActivityGate::default(),
            endpoints,
            adapters: RefCell::new(None),
            renewal: RefCell::new(None),
            waiter: RefCell::new(None),
            listeners: Listeners::default(),
            disposed: Cell::new(false),
        });
        let activity = ActivityListeners::new(&driver.window, Rc::downgrade(&driver));
        *driver.adapters.borrow_mut() =
            Some(Adapters { _activity: activity, timer: Timer::default() });
        driver.settle();
        driver
    }

    /// The window requests go through.
    pub(crate) fn window(&self) -> &Window {
        &self.window
    }

    /// Fails with the `disposed` error after `dispose()`.
    pub(crate) fn ensure_live(&self) -> Result<(), JsValue> {
        if self.disposed.get() {
            Err(js::disposed())
        } else {
            Ok(())
        }
    }

    /// Feeds the session one input at the current wall-clock time, then carries out what it
    /// asks for.
    pub(crate) fn input<R>(self: &Rc<Self>, input: impl FnOnce(&mut Session, Instant) -> R) -> R {
        let now = Instant::from_js_millis(Date::now());
        let result = {
            let mut session = self.session.borrow_mut();
            if let Some(at) = self.gate.take_pending() {
                session.handle_activity(at);
            }
            input(&mut session, now)
        };
        self.drive();
        result
    }

    /// The per-event path of a trusted activity event.
    #[inline]
    pub(crate) fn user_activity(self: &Rc<Self>, at: f64) {
        if self.gate.record(at) {
            self.input(|session, _| session.handle_activity(Instant::from_js_millis(at)));
        }
    }

    /// `visibilitychange`, `focus`, `pageshow`: deadlines first, so that coming back after the
    /// deadline never revives the session; then a page the user made visible is activity.
    pub(crate) fn page_shown(self: &Rc<Self>, by_user: bool) {
        let visible = by_user && self.window.document().is_some_and(|document| !document.hidden());
        self.input(|session, now| {
            session.handle_timeout(now);
            if visible {
                session.handle_activity(now);
            }
        });
    }

    /// `touch()`.
    pub(crate) fn touch(self: &Rc<Self>) {
        self.input(|session, now| session.handle_activity(now));
    }

    /// The phase, after a deadline check (the timer may not have fired yet after a sleep).
    pub(crate) fn phase(self: &Rc<Self>) -> Phase {
        if !self.disposed.get() {
            self.input(|session, now| session.handle_timeout(now));
        }
        self.session.borrow().phase()
    }

    /// Whether the session holds tokens.
    pub(crate) fn signed_in(&self) -> bool {
        self.session.borrow().signed_in()
    }

    /// Whether the token may go to `url` (absolute, as `Request.url` gives it).
    pub(crate) fn allows(&self, url: &str) -> bool {
        let Ok(url) = Url::new(url) else {
            return false;
        };
        self.session.borrow().config().allowed_origins.allows(&url.protocol(), &url.origin())
    }

    /// A token for a request, renewing (or waiting for the renewal in flight) when needed;
    /// `None` when none can be had. Returns the token's generation with it.
    pub(crate) async fn token(self: &Rc<Self>) -> Result<Option<(String, u64)>, JsValue> {
        loop {
            self.ensure_live()?;
            let access = self.input(|session, now| match session.access_token(now) {
                TokenAccess::Ready { token, generation } => {
                    Access::Ready(token.to_owned(), generation)
                }
                TokenAccess::Wait => Access::Wait,
                TokenAccess::Unavailable => Access::Unavailable,
            });
            match access {
                Access::Ready(token, generation) => return Ok(Some((token, generation))),
                Access::Unavailable => return Ok(None),
                Access::Wait => self.renewal_settled().await,
            }
        }
    }

    /// Waits until no renewal is in flight (`start()`).
    pub(crate) async fn renewals_settled(self: &Rc<Self>) -> Result<(), JsValue> {
        while self.session.borrow().renewal_in_flight() {
            self.renewal_settled().await;
            self.ensure_live()?;
        }
        Ok(())
    }

    /// A response arrived for a request that carried the token of `generation`.
    pub(crate) fn response(
        self: &Rc<Self>,
        info: &ResponseInfo<'_>,
        generation: u64,
    ) -> RetryDecision {
        self.input(|session, _| session.handle_response(info, Some(generation)))
    }

    /// Drops every adapter: listeners, timer, the renewal in flight, the app's listeners, and
    /// the tokens. Callers waiting for a renewal are woken to find the client disposed.
    pub(crate) fn dispose(&self) {
        if self.disposed.replace(true) {
            return;
        }
        let adapters = self.adapters.borrow_mut().take();
        drop(adapters);
        self.abort_renewal(None);
        self.listeners.clear();
        {
            let mut session = self.session.borrow_mut();
            let config = session.config().clone();
            *session = Session::new(config);
        }
        self.wake_waiters();
    }

    async fn renewal_settled(&self) {
        let promise = {
            let mut waiter = self.waiter.borrow_mut();
            match waiter.as_ref() {
                Some(waiter) => waiter.promise.clone(),
                None if self.disposed.get() || !self.session.borrow().renewal_in_flight() => return,
                None => {
                    let mut resolve = None;
                    let promise = Promise::new(&mut |resolve_fn, _| resolve = Some(resolve_fn));
                    let Some(resolve) = resolve else {
                        return;
                    };
                    *waiter = Some(Waiter { promise: promise.clone(), resolve });
                    promise
                }
            }
        };
        let _ = JsFuture::from(promise).await;
    }

    fn wake_waiters(&self) {
        let waiter = self.waiter.borrow_mut().take();
        if let Some(waiter) = waiter {
            let _ = waiter.resolve.call0(&JsValue::UNDEFINED);
        }
    }

    fn drive(self: &Rc<Self>) {
        loop {
            let command = self.session.borrow_mut().poll_command();
            let Some(command) = command else {
                break;
            };
            self.execute(command);
        }
        self.settle();
    }

    fn execute(self: &Rc<Self>, command: Command) {
        match command {
            Command::Renew { id, idle_ms, refresh_token } => {
                self.start_renewal(id, idle_ms, refresh_token)
            }
            Command::CancelRenewal(id) => self.abort_renewal(Some(id)),
            Command::Emit(event) => self.listeners.emit(&event),
            Command::EndServerSession { refresh_token } => {
                http::end_server_session(&self.window, &self.endpoints, refresh_token)
            }
        }
    }

    /// Threshold, timer and waiters follow the session's new state.
    fn settle(self: &Rc<Self>) {
        let (deadline, threshold, in_flight) = {
            let session = self.session.borrow();
            (
                session.poll_timeout(),
                session.activity_report_threshold(),
                session.renewal_in_flight(),
            )
        };
        self.gate.set_threshold(threshold);
        if let Some(adapters) = self.adapters.borrow_mut().as_mut() {
            let driver = Rc::downgrade(self);
            adapters.timer.arm(deadline, Date::now(), || {
                move || {
                    if let Some(driver) = driver.upgrade() {
                        driver.timer_fired();
                    }
                }
            });
        }
        if !in_flight {
            self.wake_waiters();
        }
    }

    fn timer_fired(self: &Rc<Self>) {
        if let Some(adapters) = self.adapters.borrow_mut().as_mut() {
            adapters.timer.fired();
        }
        self.input(|session, now| session.handle_timeout(now));
    }

    fn start_renewal(self: &Rc<Self>, id: RenewalId, idle_ms: u64, refresh_token: Option<String>) {
        self.abort_renewal(None);
        if self.disposed.get() {
            return;
        }
        let controller = AbortController::new().ok();
        let signal = controller.as_ref().map(AbortController::signal);
        *self.renewal.borrow_mut() = Some(RenewalRequest { id, controller });
        let driver = Rc::clone(self);
        super::spawn(Box::pin(async move {
            let outcome = http::renew(
                &driver.window,
                &driver.endpoints,
                idle_ms,
                refresh_token,
                signal.as_ref(),
            )
            .await;
            let finished = {
                let mut renewal = driver.renewal.borrow_mut();
                let ours = renewal.as_ref().is_some_and(|renewal| renewal.id == id);
                ours.then(|| renewal.take())
            };
            drop(finished);
            driver.input(|session, now| session.handle_renewal(now, id, outcome));
        }));
    }

    /// Aborts the renewal request `id` (or whichever is in flight); its answer is ignored.
    fn abort_renewal(&self, id: Option<RenewalId>) {
        let renewal = {
            let mut slot = self.renewal.borrow_mut();
            match (slot.as_ref(), id) {
                (Some(renewal), Some(id)) if renewal.id != id => None,
                _ => slot.take(),
            }
        };
        if let Some(controller) = renewal.and_then(|renewal| renewal.controller) {
            controller.abort();
        }
    }
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("session", &self.session).finish_non_exhaustive()
    }
}
