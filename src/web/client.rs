//! [`AuthClient`]: the adapters composed around the session (`js/index.js`). This is the only
//! file of the driver that talks to [`Session`]: every input goes through `Inner::input`, every
//! command comes out of `Inner::drive`.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use futures_channel::oneshot;
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use web_sys::{AbortController, Request, Response};

use super::activity::{Activity, Reports};
use super::events::{EventStream, Events, ListenerId};
use super::http::{self, Access, Bearer, Endpoints, Retry, Tokens};
use super::options::Options;
use super::tabs::Tabs;
use super::timer::{now, Timer};
use crate::core::options::Strategy;
use crate::core::{
    BadTokenResponse, Command, Event, Instant, OptionError, Phase, RenewalId, RenewalOutcome,
    ResponseInfo, RetryDecision, Session, TabMessage, TokenAccess, TokenResponse,
};
use crate::tab_wire::{channel_name, tab_message, tab_message_value};

/// The client for Rust front-ends: keeps the user signed in while they really use the app,
/// renews tokens only for an active user, tears them down after real inactivity, and shares all
/// of it with the app's other tabs, whichever driver they run (contract sections 1 and 4).
///
/// Build it once per app with [`AuthClient::new`]; it is not `Clone` (share it in an `Rc` or
/// your framework's context). Dropping it is `dispose()`: every listener, timer, lock and
/// channel is released and the tokens are dropped.
///
/// ```no_run
/// # async fn demo() -> Result<(), wasm_bindgen::JsValue> {
/// use authpulse::web::{AuthClient, Event, Options, TokenResponse};
///
/// let options = Options { idle_timeout_ms: Some(30 * 60_000), ..Options::default() };
/// let auth = AuthClient::new(options).expect("valid options");
/// auth.on(|event| match event {
///     Event::IdleWarning { .. } => show_still_there_dialog(),
///     Event::Expired { reason } => show_sign_in(reason.as_str()),
///     _ => {}
/// });
/// // After the app's own sign-in, with the server's token response:
/// let response: TokenResponse = serde_json::from_str(r#"{"access_token":"abc","expires_in":300}"#)
///     .expect("a token response");
/// auth.set_session(response).expect("accepted");
/// let token: Option<String> = auth.access_token().await; // fresh, or None when signed out
/// # Ok(()) }
/// # fn show_still_there_dialog() {}
/// # fn show_sign_in(_: &str) {}
/// ```
pub struct AuthClient {
    inner: Rc<Inner>,
}

/// What the adapters' callbacks reach through a `Weak`: once the client is dropped they do
/// nothing.
struct Inner {
    session: RefCell<Session>,
    endpoints: Endpoints,
    timer: RefCell<Timer>,
    activity: RefCell<Option<Activity>>,
    tabs: Option<Rc<Tabs>>,
    events: Events,
    me: Weak<Inner>,
    /// The renewal the session waits for, to abort when it stops waiting.
    renewal: RefCell<Option<Renewal>>,
    /// Renew requests go one after another: a refresh-token grant waits for the answer to the
    /// one before it, which may rotate the refresh token.
    requests: Rc<Sequence>,
    /// Callers waiting for the renewal in flight; woken when there is none.
    settled: RefCell<Vec<oneshot::Sender<()>>>,
    disposed: Cell<bool>,
}

impl AuthClient {
    /// Validates `options` (the same rules and messages as the JavaScript options) and starts
    /// listening for activity and to the app's other tabs. Signed out until [`start`] or
    /// [`set_session`].
    ///
    /// Outside a window (a worker) there are no activity listeners: only [`touch`] counts.
    ///
    /// # Errors
    /// An [`OptionError`] naming the option (by its JavaScript name) and the problem.
    ///
    /// [`start`]: AuthClient::start
    /// [`set_session`]: AuthClient::set_session
    /// [`touch`]: AuthClient::touch
    pub fn new(options: Options) -> Result<AuthClient, OptionError> {
        let config = options.config(&page_origin())?;
        let (renew, client_id, revoke_url) = match &config.strategy {
            Strategy::Session { renew_url } => (renew_url.clone(), None, None),
            Strategy::RefreshToken { token_endpoint, client_id, revoke_url } => {
                (token_endpoint.clone(), Some(client_id.clone()), revoke_url.clone())
            }
        };
        let endpoints =
            Endpoints { renew, client_id, revoke_url, logout_url: config.logout_url.clone() };
        let cross_tab = config.cross_tab;
        let inner = Rc::new_cyclic(|me: &Weak<Inner>| {
            let timer = Timer::new({
                let me = me.clone();
                move || {
                    if let Some(inner) = me.upgrade() {
                        inner.timer.borrow_mut().fired();
                        inner.input(|session, now| session.handle_timeout(now));
                    }
                }
            });
            let tabs = if cross_tab {
                let me = me.clone();
                let receive = move |data: JsValue| {
                    if let (Some(inner), Some(message)) = (me.upgrade(), tab_message(&data)) {
                        inner.input(|session, now| session.handle_tab_message(now, message));
                    }
                };
                Tabs::open(&channel_name(&endpoints.renew), receive).map(Rc::new)
            } else {
                None
            };
            Inner {
                session: RefCell::new(Session::new(config)),
                endpoints,
                timer: RefCell::new(timer),
                activity: RefCell::new(None),
                tabs,
                events: Events::default(),
                me: me.clone(),
                renewal: RefCell::new(None),
                requests: Rc::default(),
                settled: RefCell::new(Vec::new()),
                disposed: Cell::new(false),
            }
        });
        *inner.activity.borrow_mut() = Activity::listen(reports(Rc::downgrade(&inner)));
        Ok(AuthClient { inner })
    }

    /// Resumes the session (`start()` in JavaScript): through the auth session's renew
    /// endpoint, or another tab's session. Resolves to `true` if signed in. Every wait is
    /// bounded (a renewal is abandoned after 30 s).
    pub async fn start(&self) -> bool {
        let inner = &self.inner;
        inner.input(|session, now| {
            session.handle_resume(now);
        });
        while inner.session.borrow().callers_wait() && !inner.disposed.get() {
            inner.settled().await;
        }
        matches!(self.state(), Phase::Active | Phase::Warning)
    }

    /// Stores the app's own token response after its sign-in (`setSession`):
    /// `{ access_token, expires_in?, refresh_token? }` (RFC 6749 section 5.1; without
    /// `expires_in`, a JWT access token's `exp − iat`, else 5 minutes), and tells the other
    /// tabs.
    ///
    /// # Errors
    /// [`BadTokenResponse`] (code `bad_token_response`) for a malformed response; the current
    /// session is kept.
    pub fn set_session(&self, response: TokenResponse) -> Result<(), BadTokenResponse> {
        let response = http::with_jwt_claims(response);
        self.inner.input(|session, now| session.handle_sign_in(now, response))
    }

    /// `window.fetch(request)` with the bearer token for allowed origins, renewing first when
    /// the token is expired or about to be, and renewing and retrying once on a 401 the
    /// contract says to retry (rules 3, 5, 6, 8, 9). The request's body is used, as
    /// `window.fetch` uses it; `request`'s headers are not changed.
    ///
    /// # Errors
    /// What `window.fetch` rejects with (a `TypeError` for a network error; the signal's
    /// reason, at once, when the request's `AbortSignal` aborts, even while it waits for a
    /// renewal), or the `TypeError` of `new Request(request)` for a request whose body was
    /// already used.
    pub async fn fetch(&self, request: &Request) -> Result<Response, JsValue> {
        let request = Request::new_with_request(request)?;
        http::send_with_token(&*self.inner, request).await
    }

    /// Sends a reqwest request with the bearer token for allowed origins (rule 8), renewing
    /// first when needed, and on a 401 the contract says to retry, renews once and sends a
    /// clone once (`RequestBuilder::try_clone`; a streaming body is not retried).
    ///
    /// # Errors
    /// What `RequestBuilder::send` returns: the builder's own error, or the request's.
    #[cfg(feature = "reqwest")]
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let (client, request) = request.build_split();
        http::send_with_token(&*self.inner, http::Reqwest { client, request: request? }).await
    }

    /// A fresh access token (`getAccessToken`), renewing first when it is expired or within
    /// the skew margin; `None` when signed out or when no token can be had now.
    pub async fn access_token(&self) -> Option<String> {
        self.inner.token().await.map(|bearer| bearer.token)
    }

    /// App-reported activity: counts like a user event (rule 1).
    pub fn touch(&self) {
        self.inner.input(|session, now| session.handle_activity(now));
    }

    /// Tears down now, reason [`TeardownReason::Logout`](crate::core::TeardownReason), in every
    /// tab, and ends the server session (`logoutUrl`, refresh-token revocation).
    pub async fn logout(&self) {
        self.inner.input(|session, now| session.handle_logout(now));
    }

    /// Calls `listener` with every event from now on, until [`off`](AuthClient::off) or the
    /// client is dropped. Listeners run after the client's state is updated, so they may call
    /// the client; a listener must not panic (on wasm32 a panic aborts the module).
    pub fn on(&self, listener: impl Fn(&Event) + 'static) -> ListenerId {
        self.inner.events.on(listener)
    }

    /// Removes a listener; `false` if it was already removed.
    pub fn off(&self, listener: ListenerId) -> bool {
        self.inner.events.off(listener)
    }

    /// Every event from now on, as a stream; it ends when the client is dropped.
    pub fn events(&self) -> EventStream {
        self.inner.events.stream()
    }

    /// Signed out, active, warning or expired, with the deadlines checked first.
    pub fn state(&self) -> Phase {
        self.inner.input(|session, now| {
            session.handle_timeout(now);
            session.phase()
        })
    }

    /// When the idle teardown happens without further activity, or `None` when not signed in
    /// ([`Instant::as_millis`]: ms since the epoch, projected from now, so a wall clock set
    /// back does not move it).
    pub fn idle_expires_at(&self) -> Option<Instant> {
        self.inner.input(|session, now| {
            session.handle_timeout(now);
            session.signed_in().then(|| session.projected(session.idle_deadline()))
        })
    }

    /// When the current access token expires (as [`AuthClient::idle_expires_at`]), or `None`.
    pub fn token_expires_at(&self) -> Option<Instant> {
        self.inner.input(|session, now| {
            session.handle_timeout(now);
            session.token_expires_at().map(|at| session.projected(at))
        })
    }
}

impl Drop for AuthClient {
    /// `dispose()`: removes every listener, the timer and any renewal in flight, closes the
    /// channel to the other tabs and drops the tokens.
    fn drop(&mut self) {
        self.inner.dispose();
    }
}

impl std::fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the session itself: it holds the tokens.
        f.debug_struct("AuthClient")
            .field("state", &self.inner.session.borrow().phase())
            .field("renew", &self.inner.endpoints.renew)
            .field("timer", &self.inner.timer.borrow())
            .field("tabs", &self.inner.tabs)
            .field("events", &self.inner.events)
            .finish_non_exhaustive()
    }
}

/// The activity listeners' reports, into the client behind `me`. Deadlines first, so that
/// coming back after the deadline never revives the session; then a page the user made visible
/// counts as activity. A page being hidden tells the other tabs its last activity at once.
fn reports(me: Weak<Inner>) -> Reports {
    let (wake, show) = (me.clone(), me.clone());
    Reports {
        activity: Box::new(move |at| {
            if let Some(inner) = me.upgrade() {
                inner.input(|session, _| session.handle_activity(at));
            }
        }),
        wake_by: Box::new(move |at| {
            if let Some(inner) = wake.upgrade() {
                inner.timer.borrow_mut().arm_by(at, now());
            }
        }),
        show: Box::new(move |hidden, visible| {
            if let Some(inner) = show.upgrade() {
                inner.input(|session, now| {
                    if hidden {
                        return session.handle_hidden(now);
                    }
                    session.handle_timeout(now);
                    if visible {
                        session.handle_activity(now);
                    }
                });
            }
        }),
    }
}

/// `location.origin` of the page (or worker): the default allowed origin.
fn page_origin() -> String {
    Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
        .and_then(|location| Reflect::get(&location, &JsValue::from_str("origin")))
        .ok()
        .and_then(|origin| origin.as_string())
        .unwrap_or_else(|| "null".into())
}

impl Inner {
    /// Every input goes through here: held-back activity first (the session sees events in
    /// time order), then the input, then its commands, the timer and the waiting callers.
    fn input<R>(&self, step: impl FnOnce(&mut Session, Instant) -> R) -> R {
        let now = now();
        let result = {
            let mut session = self.session.borrow_mut();
            let held = self.activity.borrow().as_ref().and_then(Activity::take);
            if let Some(at) = held {
                session.handle_activity(at);
            }
            step(&mut session, now)
        };
        self.drive();
        result
    }

    fn drive(&self) {
        let mut events = Vec::new();
        // One command at a time, with the session not borrowed while it is carried out.
        while let Some(command) = self.poll_command() {
            match command {
                Command::Renew { id, idle_ms, refresh_token } => {
                    self.renew(id, idle_ms, refresh_token)
                }
                Command::CancelRenewal(id) => self.cancel_renewal(id),
                Command::Revoke(refresh_token) => http::revoke(&self.endpoints, &refresh_token),
                // Only with a logger, which the Rust driver does not configure.
                Command::Log(_) => {}
                Command::Emit(event) => {
                    if let Some(tabs) = &self.tabs {
                        match event {
                            Event::Renewed { expires_at } => tabs.stored(Some(millis(expires_at))),
                            Event::Expired { .. } => tabs.stored(None),
                            _ => {}
                        }
                    }
                    events.push(event);
                }
                Command::EndServerSession { refresh_token } => {
                    http::end_server_session(&self.endpoints, refresh_token.as_deref())
                }
                Command::Broadcast(message) => {
                    if let Some(tabs) = &self.tabs {
                        let token_expires_at = match &message {
                            TabMessage::Token(shared) => Some(shared.expires_at as f64),
                            _ => None,
                        };
                        tabs.post(&tab_message_value(message), token_expires_at);
                    }
                }
            }
        }
        let (threshold, deadline, waiting) = {
            let session = self.session.borrow();
            (session.activity_report_threshold(), session.poll_timeout(), session.callers_wait())
        };
        if let Some(activity) = &*self.activity.borrow() {
            activity.set_threshold(threshold);
        }
        {
            let mut timer = self.timer.borrow_mut();
            if timer.at() != deadline && !self.disposed.get() {
                timer.arm(deadline, now());
            }
        }
        if !waiting {
            for waiter in self.settled.take() {
                let _ = waiter.send(());
            }
        }
        // After the session is consistent: a listener may call back into the client.
        for event in events {
            self.events.emit(&event);
        }
    }

    fn poll_command(&self) -> Option<Command> {
        self.session.borrow_mut().poll_command()
    }

    /// Waits until callers need not wait any more (the renewal in flight settled, or the
    /// client was dropped).
    async fn settled(&self) {
        let (waiter, settled) = oneshot::channel();
        self.settled.borrow_mut().push(waiter);
        let _ = settled.await;
    }

    /// A renewal the session asked for: after the renew request before it has settled, and
    /// with other tabs in this tab's turn (`tabs.rs`).
    fn renew(&self, id: RenewalId, idle_ms: u64, refresh_token: Option<String>) {
        let me = self.me.clone();
        let endpoints = self.endpoints.clone();
        let tabs = self.tabs.clone();
        let requests = Rc::clone(&self.requests);
        let Ok(controller) = AbortController::new() else {
            // No AbortController: a failed renewal, reported as the network's.
            return wasm_bindgen_futures::spawn_local(async move {
                if let Some(inner) = me.upgrade() {
                    inner.input(|session, now| {
                        session.handle_renewal(now, id, RenewalOutcome::Network)
                    });
                }
            });
        };
        let signal = controller.signal();
        let sent = Rc::new(Cell::new(false));
        *self.renewal.borrow_mut() = Some(Renewal { id, controller, sent: Rc::clone(&sent) });
        wasm_bindgen_futures::spawn_local(async move {
            let _turn = requests.enter().await;
            let send = async {
                if signal.aborted() {
                    return;
                }
                sent.set(true);
                let answer =
                    http::request_renewal(&endpoints, idle_ms, refresh_token.as_deref(), &signal)
                        .await;
                // An answer is reported even when the session stopped waiting for it: it
                // takes a rotated refresh token.
                let outcome = match answer {
                    Ok(answer) => RenewalOutcome::from_answer(
                        answer.status,
                        answer.token,
                        answer.error.as_deref(),
                        answer.retry_after_ms,
                    ),
                    Err(_) if signal.aborted() => return,
                    Err(_) => RenewalOutcome::Network,
                };
                if let Some(inner) = me.upgrade().filter(|inner| !inner.disposed.get()) {
                    inner.input(|session, now| session.handle_renewal(now, id, outcome));
                }
            };
            match tabs {
                Some(tabs) => tabs.turn(&signal, send).await,
                None => send.await,
            }
        });
    }

    /// The session stopped waiting for renewal `id`: abort it, unless it is a refresh-token
    /// grant that went out (its answer may carry a rotated refresh token, and is reported).
    fn cancel_renewal(&self, id: RenewalId) {
        let keep_sent = self.session.borrow().config().grants_refresh_tokens();
        let mut renewal = self.renewal.borrow_mut();
        if renewal.as_ref().is_some_and(|renewal| renewal.id == id) {
            if let Some(renewal) = renewal.take() {
                if !(keep_sent && renewal.sent.get()) {
                    renewal.controller.abort();
                }
            }
        }
    }

    fn dispose(&self) {
        if self.disposed.replace(true) {
            return;
        }
        self.activity.borrow_mut().take(); // removes the listeners
        self.timer.borrow_mut().arm(None, now());
        if let Some(renewal) = self.renewal.borrow_mut().take() {
            renewal.controller.abort();
        }
        if let Some(tabs) = &self.tabs {
            tabs.close();
        }
        self.events.clear();
        self.settled.borrow_mut().clear(); // wakes the callers waiting for a renewal
    }
}

impl Tokens for Inner {
    fn allows(&self, url: &str) -> bool {
        let Ok(url) = web_sys::Url::new(url) else {
            return false;
        };
        let session = self.session.borrow();
        session.config().allowed_origins.allows(&url.protocol(), &url.origin())
    }

    fn access(&self) -> Access {
        if self.disposed.get() {
            return Access::Unavailable;
        }
        self.input(|session, now| match session.access_token(now) {
            TokenAccess::Ready { token, generation } => {
                Access::Ready(Bearer { token: token.into(), generation })
            }
            TokenAccess::Wait => Access::Wait,
            TokenAccess::Unavailable => Access::Unavailable,
        })
    }

    async fn token(&self) -> Option<Bearer> {
        loop {
            match self.access() {
                Access::Ready(bearer) => return Some(bearer),
                Access::Unavailable => return None,
                Access::Wait => self.settled().await,
            }
        }
    }

    fn unauthorized(&self, challenge: Option<&str>, generation: u64, retry: Retry) -> bool {
        let info = ResponseInfo {
            status: 401,
            www_authenticate: challenge,
            carried_token: true,
            retried: retry.retried,
            replayable: retry.replayable,
            final_url_allowed: retry.final_url_allowed,
        };
        let decision = self.input(|session, _| session.handle_response(&info, Some(generation)));
        decision == RetryDecision::Retry
    }
}

/// An instant as JavaScript's milliseconds since the epoch (by the wall clock, which the tabs
/// share).
fn millis(at: Instant) -> f64 {
    at.as_millis() as f64
}

/// A renewal the session waits for.
struct Renewal {
    id: RenewalId,
    controller: AbortController,
    /// Its request went out.
    sent: Rc<Cell<bool>>,
}

/// Renew requests one after another, in the order they were asked for.
#[derive(Default)]
struct Sequence {
    busy: Cell<bool>,
    queue: RefCell<std::collections::VecDeque<oneshot::Sender<()>>>,
}

impl Sequence {
    /// Waits for the requests before this one; the turn lasts until the guard is dropped.
    async fn enter(self: &Rc<Self>) -> SequenceTurn {
        if self.busy.replace(true) {
            let (turn, granted) = oneshot::channel();
            self.queue.borrow_mut().push_back(turn);
            // The sender is used or dropped only by the turn before this one.
            let _ = granted.await;
        }
        SequenceTurn(Rc::clone(self))
    }
}

/// The current turn of a [`Sequence`]; dropping it passes the turn on.
struct SequenceTurn(Rc<Sequence>);

impl Drop for SequenceTurn {
    fn drop(&mut self) {
        // The next request still waiting gets the turn; with none, the sequence is free.
        loop {
            let next = self.0.queue.borrow_mut().pop_front();
            match next {
                Some(turn) => {
                    if turn.send(()).is_ok() {
                        return;
                    }
                }
                None => return self.0.busy.set(false),
            }
        }
    }
}
