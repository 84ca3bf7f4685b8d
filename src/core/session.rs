//! The session state machine: inputs with a timestamp in, commands and a wake-up time out.
//!
//! The driver (the browser adapter, or a test) calls `handle_*` with the current wall-clock time,
//! then drains [`Session::poll_command`] and arms one timer for [`Session::poll_timeout`]. Nothing
//! here reads a clock, sleeps or performs IO, so hours of use are simulated in microseconds.

use alloc::string::String;
use alloc::vec::Vec;

use super::options::Config;
use super::renewal::{Backoff, RENEW_TIMEOUT_MS};
use super::retry::{ResponseInfo, RetryDecision};
use super::tabs::{TabMessage, CONFIRM_IDLE_MS, SHARE_ACTIVITY_EVERY_MS};
use super::time::Instant;
use super::token::{BadTokenResponse, Token, TokenResponse};

/// How long activity may go unheard: see [`Session::activity_report_threshold`].
pub const ACTIVITY_RESOLUTION_MS: u64 = 5_000;

/// What `state` reports to the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No session yet, or after `logout()`.
    SignedOut,
    /// Signed in, the user is active.
    Active,
    /// Signed in, the idle warning is showing.
    Warning,
    /// Torn down by idle, max session, the server or another tab.
    Expired,
}

impl Phase {
    /// The name JavaScript sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::SignedOut => "signedOut",
            Phase::Active => "active",
            Phase::Warning => "warning",
            Phase::Expired => "expired",
        }
    }
}

/// Why tokens were torn down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeardownReason {
    /// `idleTimeoutMs` without real activity.
    Idle,
    /// The auth server rejected the renewal: the session is gone.
    Session,
    /// `maxSessionMs` since sign-in.
    MaxSession,
    /// `logout()`.
    Logout,
    /// Another tab signed out or timed out.
    Remote,
}

impl TeardownReason {
    /// The `reason` of the `expired` event.
    pub const fn as_str(self) -> &'static str {
        match self {
            TeardownReason::Idle => "idle",
            TeardownReason::Session => "session",
            TeardownReason::MaxSession => "maxSession",
            TeardownReason::Logout => "logout",
            TeardownReason::Remote => "remote",
        }
    }
}

/// The `code` of an `error` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The renew request failed at the network level.
    Network,
    /// The renew endpoint answered with a status that is neither success nor rejection.
    Status(u16),
    /// The renew endpoint did not answer within the renewal timeout.
    Timeout,
    /// The renew endpoint answered with a malformed token response.
    BadTokenResponse(BadTokenResponse),
}

impl ErrorCode {
    /// The stable `code` string.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorCode::Network => "renew_network_error",
            ErrorCode::Status(_) => "renew_failed",
            ErrorCode::Timeout => "renew_timeout",
            ErrorCode::BadTokenResponse(_) => "bad_token_response",
        }
    }

    /// A human-readable message.
    pub const fn message(self) -> &'static str {
        match self {
            ErrorCode::Network => "the renew request failed before a response arrived",
            ErrorCode::Status(_) => "the renew endpoint answered with an unexpected status",
            ErrorCode::Timeout => "the renew endpoint did not answer in time",
            ErrorCode::BadTokenResponse(bad) => bad.message(),
        }
    }
}

/// An event for the app's listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new access token was stored.
    Renewed {
        /// When it expires.
        expires_at: Instant,
    },
    /// The idle teardown is `warnBeforeIdleMs` away.
    IdleWarning {
        /// When the teardown happens without activity.
        expires_at: Instant,
    },
    /// Activity after a warning cancelled it.
    Active,
    /// Tokens were torn down.
    Expired {
        /// Why.
        reason: TeardownReason,
    },
    /// A renewal failed for a reason other than a rejected session.
    Error {
        /// What failed.
        code: ErrorCode,
    },
}

/// Identifies one renewal request, so that a late answer to an abandoned one is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RenewalId(pub u64);

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Send a renewal request and report its outcome with `handle_renewal`.
    Renew {
        /// Echo this back with the outcome.
        id: RenewalId,
        /// Milliseconds since the last real activity, for the server's own idle rule.
        idle_ms: u64,
        /// The refresh token, for the refresh-token strategy.
        refresh_token: Option<String>,
    },
    /// Abort this renewal request: its answer will be ignored.
    CancelRenewal(RenewalId),
    /// Tell the app.
    Emit(Event),
    /// End the session on the server (`logoutUrl`, refresh-token revocation), best effort.
    EndServerSession {
        /// The refresh token to revoke, if any.
        refresh_token: Option<String>,
    },
    /// Tell the app's other tabs (only with `crossTab`); they hand it to
    /// [`Session::handle_tab_message`].
    Broadcast(TabMessage),
}

/// How a renewal request ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RenewalOutcome {
    /// 200 with a body that parsed as a token response (validated here).
    Token(TokenResponse),
    /// 200 with a body that is not a JSON object.
    NotJson,
    /// 401 (or `invalid_grant`): there is no session any more.
    Rejected,
    /// Any other status.
    Status(u16),
    /// The request failed before a response.
    Network,
}

impl RenewalOutcome {
    /// What a renew endpoint's answer means (contract sections 2 and 3): 2xx with a token
    /// response; 401, or 400 with `error=invalid_grant`, means the session is gone; anything
    /// else is a transient failure. `body` is the parsed JSON body, if it was an object.
    pub fn from_answer(status: u16, body: Option<TokenResponse>, error: Option<&str>) -> Self {
        match (status, body) {
            (200..=299, Some(body)) => RenewalOutcome::Token(body),
            (200..=299, None) => RenewalOutcome::NotJson,
            (401, _) => RenewalOutcome::Rejected,
            (400, _) if error == Some("invalid_grant") => RenewalOutcome::Rejected,
            (status, _) => RenewalOutcome::Status(status),
        }
    }
}

/// What a caller that wants to send a request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAccess<'a> {
    /// Attach this token; report responses with this generation.
    Ready {
        /// The bearer token.
        token: &'a str,
        /// Which token this is, to tell "refused" from "already replaced" on a 401.
        generation: u64,
    },
    /// A renewal is in flight: wait for it, then ask again.
    Wait,
    /// No token can be had now (signed out, or renewals are failing): send without one.
    Unavailable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// `start()`: find out whether the auth session exists.
    Resume,
    /// Replace the token of a running session.
    Renew,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    id: RenewalId,
    started: Instant,
    purpose: Purpose,
    /// `active_since_renewal` when it started, given back if it fails.
    was_active: bool,
}

/// The client's whole decision state.
#[derive(Debug)]
pub struct Session {
    config: Config,
    phase: Phase,
    /// Latest time seen; wall clocks can step back, decisions never do.
    now: Instant,
    last_activity: Instant,
    signed_in_at: Instant,
    token: Option<Token>,
    generation: u64,
    /// The server refused the current token (a 401 carrying it): never hand it out again.
    token_refused: bool,
    /// Real activity was counted since the last successful renewal began (or sign-in): the
    /// condition for a proactive renewal (rule 2).
    active_since_renewal: bool,
    in_flight: Option<InFlight>,
    next_renewal_id: u64,
    backoff: Backoff,
    /// The latest activity the other tabs were told of, and when they were told.
    shared_activity: Instant,
    shared_at: Option<Instant>,
    /// An idle teardown's end of the server session, held until this time for another tab to
    /// show that the session is in use (see `CONFIRM_IDLE_MS`).
    unconfirmed_end: Option<UnconfirmedEnd>,
    /// Oldest first; a few at a time, so taking from the front of a `Vec` costs nothing.
    commands: Vec<Command>,
}

#[derive(Debug)]
struct UnconfirmedEnd {
    due: Instant,
    refresh_token: Option<String>,
}

impl Session {
    /// A signed-out session with this configuration.
    pub fn new(config: Config) -> Self {
        Session {
            config,
            phase: Phase::SignedOut,
            now: Instant::default(),
            last_activity: Instant::default(),
            signed_in_at: Instant::default(),
            token: None,
            generation: 0,
            token_refused: false,
            active_since_renewal: false,
            in_flight: None,
            next_renewal_id: 0,
            backoff: Backoff::default(),
            shared_activity: Instant::default(),
            shared_at: None,
            unconfirmed_end: None,
            commands: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What `state` reports.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether tokens may exist: active or warning.
    pub fn signed_in(&self) -> bool {
        matches!(self.phase, Phase::Active | Phase::Warning)
    }

    /// Whether a renewal request is in flight (callers that need a token wait for it).
    pub fn renewal_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The next thing the driver must do, if any.
    pub fn poll_command(&mut self) -> Option<Command> {
        if self.commands.is_empty() {
            None
        } else {
            Some(self.commands.remove(0))
        }
    }

    /// When the driver must call [`Session::handle_timeout`] next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let renewal = match self.in_flight {
            Some(flight) => Some(flight.started.plus_ms(RENEW_TIMEOUT_MS)),
            // A due time already passed means the renewal waits for activity: no wake-up.
            None if self.signed_in() => self.renewal_due_at().filter(|&due| due > self.now),
            None => None,
        };
        let session = self.signed_in().then(|| {
            let idle = self.idle_deadline();
            let warn = match self.phase {
                Phase::Active => self.config.idle.warn_at(self.last_activity),
                _ => None,
            };
            let cap = self.max_session_deadline();
            [Some(idle), warn, cap, self.share_activity_at()].into_iter().flatten().min()
        });
        let unconfirmed = self.unconfirmed_end.as_ref().map(|end| end.due);
        [renewal, session.flatten(), unconfirmed].into_iter().flatten().min()
    }

    /// When activity the other tabs have not heard of is due to be told, if there is any.
    fn share_activity_at(&self) -> Option<Instant> {
        let unshared = self.config.cross_tab && self.last_activity > self.shared_activity;
        unshared.then(|| self.next_share_at())
    }

    fn next_share_at(&self) -> Instant {
        self.shared_at.map_or(Instant::default(), |at| at.plus_ms(SHARE_ACTIVITY_EVERY_MS))
    }

    /// The earliest time at which an activity event must reach [`Session::handle_activity`] at
    /// once; earlier ones may be recorded and handed over with the next input, by this time at
    /// the latest. Until then the adapter may stop listening for frequent events (pointermove,
    /// wheel) once it holds one, so it is at most [`ACTIVITY_RESOLUTION_MS`] (or 1 % of the idle
    /// timeout, if less) after the latest input: the idle deadline counts from an event at most
    /// that much earlier than the last real one.
    pub fn activity_report_threshold(&self) -> Instant {
        if !self.signed_in() {
            return Instant::from_millis(u64::MAX);
        }
        if self.phase == Phase::Warning || self.renewal_waits_for_activity() {
            return Instant::default();
        }
        let idle = self.config.idle;
        let resolution = ACTIVITY_RESOLUTION_MS.min(idle.timeout_ms() / 100);
        let own = idle
            .warn_at(self.last_activity)
            .unwrap_or(idle.deadline(self.last_activity))
            .min(self.now.max(self.last_activity).plus_ms(resolution));
        // With other tabs, activity is shared every few seconds, so that their deadlines move
        // too; the adapter reports the last event it held back by this time at the latest.
        if self.config.cross_tab {
            own.min(self.next_share_at())
        } else {
            own
        }
    }

    /// The idle deadline of the signed-in session.
    pub fn idle_deadline(&self) -> Instant {
        self.config.idle.deadline(self.last_activity)
    }

    /// Time of the last real activity counted.
    pub fn last_activity(&self) -> Instant {
        self.last_activity
    }

    /// When the current token expires, if there is one.
    pub fn token_expires_at(&self) -> Option<Instant> {
        self.token.as_ref().map(|token| token.expires_at)
    }

    fn max_session_deadline(&self) -> Option<Instant> {
        self.config.max_session_ms.map(|ms| self.signed_in_at.plus_ms(ms))
    }

    fn advance(&mut self, now: Instant) -> Instant {
        self.now = self.now.max(now);
        self.now
    }

    // ---- inputs ----

    /// Time passed: tear down, warn, renew or give up on a renewal, as deadlines say.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.advance(now);
        self.check_deadlines(now);
        self.share_activity();
        // By timer only: messages that waited while the tab was frozen may still cancel it.
        if self.unconfirmed_end.as_ref().is_some_and(|end| now >= end.due) {
            if let Some(end) = self.unconfirmed_end.take() {
                self.end_server_session(end.refresh_token, TeardownReason::Idle);
            }
        }
    }

    /// Real user activity at `at` (a trusted event, the page becoming visible, or `touch()`).
    /// An event at or after the idle deadline never revives the session: the deadline is
    /// checked first.
    pub fn handle_activity(&mut self, at: Instant) {
        self.count_activity(at);
        self.share_activity();
    }

    fn count_activity(&mut self, at: Instant) {
        let counts =
            at >= self.signed_in_at && at < self.idle_deadline() && !self.past_max_session(at);
        if self.signed_in() && counts {
            self.last_activity = self.last_activity.max(at);
            self.active_since_renewal = true;
            if self.phase == Phase::Warning {
                self.phase = Phase::Active;
                self.emit(Event::Active);
            }
        }
        let now = self.advance(at);
        self.check_deadlines(now);
    }

    /// The app signed in itself (`setSession`). A malformed response changes nothing.
    pub fn handle_sign_in(
        &mut self,
        now: Instant,
        response: TokenResponse,
    ) -> Result<(), BadTokenResponse> {
        let now = self.advance(now);
        let token = response.validate(now)?;
        self.cancel_renewal();
        self.unconfirmed_end = None;
        self.token = None; // a new sign-in inherits nothing, not even a refresh token
        self.phase = Phase::Active;
        self.signed_in_at = now;
        self.last_activity = now;
        self.active_since_renewal = false;
        self.backoff.reset();
        self.store(token);
        self.share_token();
        Ok(())
    }

    /// `start()`: ask the auth session for a token. Returns false when a session is already
    /// running (nothing to resume) — the caller then reports the current state.
    pub fn handle_resume(&mut self, now: Instant) -> bool {
        let now = self.advance(now);
        self.check_deadlines(now);
        if self.signed_in() {
            return false;
        }
        if self.in_flight.is_none() {
            self.backoff.reset();
            self.start_renewal(now, Purpose::Resume);
            self.broadcast(TabMessage::Hello);
        }
        true
    }

    /// A caller wants a token for a request (`fetch`, `getAccessToken`). Deadlines are checked
    /// first, so a token is never handed out after the idle deadline or the session cap.
    pub fn access_token(&mut self, now: Instant) -> TokenAccess<'_> {
        let now = self.advance(now);
        self.check_deadlines(now);
        if self.in_flight.is_some_and(|flight| flight.purpose == Purpose::Resume) {
            return TokenAccess::Wait;
        }
        if !self.signed_in() {
            return TokenAccess::Unavailable;
        }
        let usable =
            self.token.as_ref().is_some_and(|token| token.usable_at(now)) && !self.token_refused;
        if usable {
            return match &self.token {
                Some(token) => {
                    TokenAccess::Ready { token: &token.access_token, generation: self.generation }
                }
                None => TokenAccess::Unavailable,
            };
        }
        // On demand: the caller needs a token now, activity or not (the idle rule still bounds
        // the session); but not while backing off from failures.
        if self.in_flight.is_none() && !self.backoff.waiting_at(now) {
            self.start_renewal(now, Purpose::Renew);
        }
        if self.in_flight.is_some() {
            TokenAccess::Wait
        } else {
            TokenAccess::Unavailable
        }
    }

    /// A response arrived for a request sent with token `generation` (None: sent without one).
    pub fn handle_response(
        &mut self,
        info: &ResponseInfo<'_>,
        generation: Option<u64>,
    ) -> RetryDecision {
        let info =
            ResponseInfo { carried_token: info.carried_token && generation.is_some(), ..*info };
        let decision = RetryDecision::for_response(&info);
        if decision != RetryDecision::Return && generation == Some(self.generation) {
            self.token_refused = true;
        }
        decision
    }

    /// The renewal `id` ended with `outcome` at `now`.
    pub fn handle_renewal(&mut self, now: Instant, id: RenewalId, outcome: RenewalOutcome) {
        let now = self.advance(now);
        // Deadlines first: an answer after the idle deadline or the renewal timeout is too late.
        self.check_deadlines(now);
        let Some(flight) = self.in_flight.filter(|flight| flight.id == id) else {
            return; // abandoned: timed out, superseded, or the session ended meanwhile
        };
        self.in_flight = None;
        let response = match outcome {
            RenewalOutcome::Token(response) => response.validate(now),
            RenewalOutcome::NotJson => Err(BadTokenResponse::NotJson),
            RenewalOutcome::Rejected => {
                match flight.purpose {
                    Purpose::Renew => self.teardown(TeardownReason::Session),
                    Purpose::Resume => self.backoff.reset(),
                }
                return;
            }
            RenewalOutcome::Status(status) => {
                return self.renewal_failed(now, flight, ErrorCode::Status(status))
            }
            RenewalOutcome::Network => return self.renewal_failed(now, flight, ErrorCode::Network),
        };
        match response {
            Err(bad) => self.renewal_failed(now, flight, ErrorCode::BadTokenResponse(bad)),
            Ok(token) => {
                if flight.purpose == Purpose::Resume {
                    if self.signed_in() {
                        return; // the app signed in meanwhile; its token wins
                    }
                    self.phase = Phase::Active;
                    self.signed_in_at = now;
                    self.last_activity = now;
                    self.active_since_renewal = false;
                    // The server session is in use again: an idle teardown's end is off.
                    self.unconfirmed_end = None;
                }
                self.backoff.reset();
                self.store(token);
                self.share_token();
            }
        }
    }

    /// `logout()`: tear down now. The server session is ended even if this client was not
    /// signed in (another page may have signed in with the same cookie).
    pub fn handle_logout(&mut self, now: Instant) {
        self.advance(now);
        self.unconfirmed_end = None; // ended now in any case
        if self.signed_in() {
            self.teardown(TeardownReason::Logout);
        } else {
            self.cancel_renewal();
            self.commands.push(Command::EndServerSession { refresh_token: None });
            // Signing out means everywhere, even from a tab that was not signed in.
            self.broadcast(TabMessage::Teardown { reason: TeardownReason::Logout });
        }
        self.phase = Phase::SignedOut;
    }

    /// Another tab signed out or timed out: follow it, reason `remote`. A resume in flight
    /// here is abandoned too (its answer would revive a session being ended).
    pub fn handle_remote_teardown(&mut self, now: Instant) {
        self.advance(now);
        self.cancel_renewal();
        if self.signed_in() {
            self.teardown(TeardownReason::Remote);
        }
    }

    /// The page is being hidden or left: a hidden tab may be frozen at any time, so the other
    /// tabs are told of its last activity now rather than within a few seconds.
    pub fn handle_hidden(&mut self, now: Instant) {
        let now = self.advance(now);
        self.check_deadlines(now);
        self.share_activity_now();
    }

    /// A message from another tab of the app (`crossTab`; ignored without it).
    pub fn handle_tab_message(&mut self, now: Instant, message: TabMessage) {
        if !self.config.cross_tab {
            return;
        }
        match message {
            TabMessage::Activity { at } => {
                self.count_remote_activity(at);
                let now = self.advance(now);
                if self.config.idle.deadline(at) > now {
                    // The session is in use elsewhere: an idle teardown here was this tab's
                    // stale view, not the user's idleness. Its token comes with the answers
                    // to the hello sent then.
                    self.unconfirmed_end = None;
                }
                self.check_deadlines(now);
            }
            TabMessage::Token { token, signed_in_at, last_activity } => {
                self.adopt(now, token, signed_in_at, last_activity)
            }
            TabMessage::Teardown { reason: TeardownReason::Logout | TeardownReason::Session } => {
                self.handle_remote_teardown(now)
            }
            TabMessage::Teardown { .. } => {
                let now = self.advance(now);
                self.check_deadlines(now);
            }
            TabMessage::Hello => {
                let now = self.advance(now);
                self.check_deadlines(now);
                if self.signed_in() {
                    self.share_token();
                }
            }
        }
    }

    /// Activity another tab told of: not to be told again, and counted like this tab's own
    /// (the idle deadline is checked first, so a late message never revives a session).
    fn count_remote_activity(&mut self, at: Instant) {
        self.shared_activity = self.shared_activity.max(at);
        self.count_activity(at);
    }

    /// Another tab's new token: this tab's renewal (if any) is no longer needed, callers
    /// waiting for it get this token, and a tab that was not signed in is signed in.
    fn adopt(&mut self, now: Instant, token: Token, signed_in_at: Instant, last_activity: Instant) {
        let now = self.advance(now);
        let alive = self.config.idle.deadline(last_activity) > now
            && !self.config.max_session_ms.is_some_and(|ms| signed_in_at.plus_ms(ms) <= now);
        if !alive {
            // A stale message: never a way around a deadline.
            return self.check_deadlines(now);
        }
        // This tab's own view may have passed its deadline (it did not run, or it missed
        // messages) while the session lived on in the sending tab, or was begun again there:
        // that session replaces this one, without a teardown that would end it on the server.
        let own_is_current = self.signed_in()
            && now < self.idle_deadline()
            && !self.past_max_session(now)
            && self.token.is_some();
        if own_is_current {
            // A sign-in after this tab's, or a later token of the same session.
            let begun_later = signed_in_at > self.signed_in_at;
            let newer = begun_later
                || self.token.as_ref().is_some_and(|current| token.expires_at > current.expires_at);
            if !newer {
                // Crossed with this tab's own, newer token; its activity still counts here.
                self.count_remote_activity(last_activity);
                return self.check_deadlines(now);
            }
            self.signed_in_at =
                if begun_later { signed_in_at } else { self.signed_in_at.min(signed_in_at) };
        } else {
            self.phase = Phase::Active;
            self.signed_in_at = signed_in_at;
            self.token = None;
        }
        // A token too close to expiry to be handed out still brings the session: this tab
        // renews it as its own when needed.
        self.shared_activity = self.shared_activity.max(last_activity);
        self.last_activity = self.last_activity.max(last_activity).max(signed_in_at);
        self.cancel_renewal();
        self.unconfirmed_end = None;
        self.token_refused = false;
        // The renewal that produced it used up the activity before it.
        self.active_since_renewal = false;
        self.backoff.reset();
        self.store(token);
        self.check_deadlines(now);
    }

    // ---- decisions ----

    fn past_max_session(&self, at: Instant) -> bool {
        self.max_session_deadline().is_some_and(|cap| at >= cap)
    }

    fn check_deadlines(&mut self, now: Instant) {
        if let Some(flight) = self.in_flight {
            if now >= flight.started.plus_ms(RENEW_TIMEOUT_MS) {
                self.commands.push(Command::CancelRenewal(flight.id));
                self.in_flight = None;
                self.renewal_failed(now, flight, ErrorCode::Timeout);
            }
        }
        if !self.signed_in() {
            return;
        }
        // After a long sleep both may have passed: the earlier one is the reason.
        let idle = self.idle_deadline();
        match self.max_session_deadline() {
            Some(cap) if now >= cap && cap <= idle => {
                return self.teardown(TeardownReason::MaxSession)
            }
            _ if now >= idle => {
                let ask_first = self.config.cross_tab.then_some(now);
                return self.teardown_at(TeardownReason::Idle, ask_first);
            }
            _ => {}
        }
        if self.phase == Phase::Active
            && self.config.idle.warn_at(self.last_activity).is_some_and(|at| now >= at)
        {
            self.phase = Phase::Warning;
            self.emit(Event::IdleWarning { expires_at: idle });
        }
        let due = self.renewal_due_at().is_some_and(|at| now >= at);
        if self.in_flight.is_none() && due && self.renewal_wanted() {
            self.start_renewal(now, Purpose::Renew);
        }
    }

    /// When the token should be replaced, by the clock alone: the proactive renewal time, at
    /// once if the server refused it, and never before a back-off delay ends.
    fn renewal_due_at(&self) -> Option<Instant> {
        let token = self.token.as_ref()?;
        let due = if self.token_refused { self.now } else { self.config.schedule.renew_at(token) };
        Some(self.backoff.retry_at().map_or(due, |retry| due.max(retry)))
    }

    /// Rule 2: a proactive renewal needs real activity since the last successful renewal began
    /// (a failed one gives its activity back, so its retries go on). Callers that need a token
    /// renew on demand through `access_token` instead.
    fn renewal_wanted(&self) -> bool {
        self.active_since_renewal
    }

    /// Whether a renewal is due by the clock and only activity is missing.
    fn renewal_waits_for_activity(&self) -> bool {
        self.in_flight.is_none()
            && !self.renewal_wanted()
            && self.renewal_due_at().is_some_and(|due| self.now >= due)
    }

    fn start_renewal(&mut self, now: Instant, purpose: Purpose) {
        let id = RenewalId(self.next_renewal_id);
        self.next_renewal_id += 1;
        self.in_flight =
            Some(InFlight { id, started: now, purpose, was_active: self.active_since_renewal });
        self.active_since_renewal = false;
        let refresh_token = self.token.as_ref().and_then(|token| token.refresh_token.clone());
        self.commands.push(Command::Renew {
            id,
            idle_ms: now.ms_since(self.last_activity),
            refresh_token,
        });
    }

    fn renewal_failed(&mut self, now: Instant, flight: InFlight, code: ErrorCode) {
        // A failed resume leaves the client signed out: `start()` resolves false, no back-off.
        if flight.purpose == Purpose::Renew {
            self.backoff.record_failure(now);
            self.active_since_renewal |= flight.was_active;
        }
        self.emit(Event::Error { code });
    }

    fn store(&mut self, mut token: Token) {
        // Rotation keeps the old refresh token when the server sends none (RFC 6749 6).
        if token.refresh_token.is_none() {
            token.refresh_token = self.token.take().and_then(|old| old.refresh_token);
        }
        let expires_at = token.expires_at;
        self.token = Some(token);
        self.generation += 1;
        self.token_refused = false;
        self.emit(Event::Renewed { expires_at });
    }

    /// Tells the other tabs of the token just stored here.
    fn share_token(&mut self) {
        if let Some(token) = &self.token {
            let message = TabMessage::Token {
                token: token.clone(),
                signed_in_at: self.signed_in_at,
                last_activity: self.last_activity,
            };
            self.shared_activity = self.shared_activity.max(self.last_activity);
            self.shared_at = Some(self.now);
            self.broadcast(message);
        }
    }

    /// Tells the other tabs of activity they have not heard of, at most every few seconds.
    fn share_activity(&mut self) {
        if self.share_activity_at().is_some_and(|due| self.now >= due) {
            self.share_activity_now();
        }
    }

    fn share_activity_now(&mut self) {
        if self.signed_in() && self.config.cross_tab && self.last_activity > self.shared_activity {
            self.shared_activity = self.last_activity;
            self.shared_at = Some(self.now);
            self.broadcast(TabMessage::Activity { at: self.last_activity });
        }
    }

    fn broadcast(&mut self, message: TabMessage) {
        if self.config.cross_tab {
            self.commands.push(Command::Broadcast(message));
        }
    }

    fn cancel_renewal(&mut self) {
        if let Some(flight) = self.in_flight.take() {
            self.commands.push(Command::CancelRenewal(flight.id));
        }
    }

    fn teardown(&mut self, reason: TeardownReason) {
        self.teardown_at(reason, None);
    }

    /// Drops the tokens now. `ask_first`: the time of an idle teardown whose end of the server
    /// session waits for the other tabs' answers (see `CONFIRM_IDLE_MS`).
    fn teardown_at(&mut self, reason: TeardownReason, ask_first: Option<Instant>) {
        self.cancel_renewal();
        let refresh_token = self.token.take().and_then(|token| token.refresh_token);
        self.token_refused = false;
        self.backoff.reset();
        self.phase =
            if reason == TeardownReason::Logout { Phase::SignedOut } else { Phase::Expired };
        match ask_first {
            Some(now) => {
                let due = now.plus_ms(CONFIRM_IDLE_MS);
                self.unconfirmed_end = Some(UnconfirmedEnd { due, refresh_token });
                self.broadcast(TabMessage::Hello);
            }
            None => self.end_server_session(refresh_token, reason),
        }
        self.emit(Event::Expired { reason });
    }

    /// Ends the session on the server where the reason calls for it, and tells the other tabs.
    fn end_server_session(&mut self, refresh_token: Option<String>, reason: TeardownReason) {
        if matches!(
            reason,
            TeardownReason::Idle | TeardownReason::MaxSession | TeardownReason::Logout
        ) {
            self.commands.push(Command::EndServerSession { refresh_token });
        }
        if reason != TeardownReason::Remote {
            self.broadcast(TabMessage::Teardown { reason });
        }
    }

    fn emit(&mut self, event: Event) {
        self.commands.push(Command::Emit(event));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::options::RawOptions;

    fn session() -> Session {
        Session::new(Config::from_raw(&RawOptions::default(), "https://app.example").unwrap())
    }

    fn token(expires_in: f64) -> TokenResponse {
        TokenResponse {
            access_token: Some("t".into()),
            expires_in: Some(expires_in),
            ..TokenResponse::default()
        }
    }

    fn renew_id(session: &mut Session) -> RenewalId {
        std::iter::from_fn(|| session.poll_command())
            .find_map(|command| match command {
                Command::Renew { id, .. } => Some(id),
                _ => None,
            })
            .expect("a renew command")
    }

    #[test]
    fn renew_answers_map_to_outcomes() {
        let body = || Some(token(60.0));
        assert_eq!(
            RenewalOutcome::from_answer(200, body(), None),
            RenewalOutcome::Token(token(60.0))
        );
        assert_eq!(RenewalOutcome::from_answer(200, None, None), RenewalOutcome::NotJson);
        assert_eq!(RenewalOutcome::from_answer(401, None, None), RenewalOutcome::Rejected);
        assert_eq!(
            RenewalOutcome::from_answer(400, None, Some("invalid_grant")),
            RenewalOutcome::Rejected
        );
        assert_eq!(
            RenewalOutcome::from_answer(400, None, Some("invalid_request")),
            RenewalOutcome::Status(400)
        );
        assert_eq!(RenewalOutcome::from_answer(503, body(), None), RenewalOutcome::Status(503));
        assert_eq!(RenewalOutcome::from_answer(403, None, None), RenewalOutcome::Status(403));
    }

    #[test]
    fn an_answer_that_arrives_after_the_idle_deadline_is_ignored() {
        let mut session = session();
        let t0 = Instant::from_millis(1_000_000);
        session.handle_sign_in(t0, token(300.0)).unwrap();
        let near_deadline = t0.plus_ms(15 * 60_000 - 1_000);
        assert_eq!(session.access_token(near_deadline), TokenAccess::Wait);
        let id = renew_id(&mut session);
        // The tab slept: no timer fired before the answer was processed.
        session.handle_renewal(t0.plus_ms(16 * 60_000), id, RenewalOutcome::Token(token(300.0)));
        assert_eq!(session.phase(), Phase::Expired);
        assert_eq!(session.token_expires_at(), None);
    }

    #[test]
    fn activity_below_the_report_threshold_may_wait_but_not_once_a_renewal_needs_it() {
        let raw = RawOptions {
            cross_tab: crate::core::options::Raw::Given(false),
            ..RawOptions::default()
        };
        let mut session = Session::new(Config::from_raw(&raw, "https://app.example").unwrap());
        let t0 = Instant::from_millis(1_000_000);
        session.handle_sign_in(t0, token(300.0)).unwrap();
        let resolution = t0.plus_ms(ACTIVITY_RESOLUTION_MS);
        assert_eq!(session.activity_report_threshold(), resolution, "not the warning 14 min on");
        session.handle_timeout(t0.plus_ms(4 * 60_000)); // renewal due, no activity yet
        assert_eq!(session.activity_report_threshold(), Instant::default(), "report at once");
        session.handle_activity(t0.plus_ms(4 * 60_000 + 1));
        assert!(session.renewal_in_flight());
    }

    #[test]
    fn activity_is_never_left_unheard_longer_than_the_resolution() {
        use crate::core::options::Raw;
        // (idle timeout, the resolution it gets): 5 s, or 1 % of a short idle timeout.
        for (idle_ms, resolution) in [(15 * 60_000, ACTIVITY_RESOLUTION_MS), (60_000, 600)] {
            for cross_tab in [false, true] {
                let raw = RawOptions {
                    cross_tab: Raw::Given(cross_tab),
                    idle_timeout_ms: Raw::Given(idle_ms as f64),
                    ..RawOptions::default()
                };
                let mut session =
                    Session::new(Config::from_raw(&raw, "https://app.example").unwrap());
                let t0 = Instant::from_millis(1_000_000);
                session.handle_sign_in(t0, token(300.0)).unwrap();
                while session.poll_command().is_some() {}
                let case = (idle_ms, cross_tab);
                assert!(session.activity_report_threshold() <= t0.plus_ms(resolution), "{case:?}");
                // Activity reported at once (at the threshold), then an input later on.
                let at = t0.plus_ms(resolution);
                session.handle_activity(at);
                let threshold = session.activity_report_threshold();
                assert!(threshold > at && threshold <= at.plus_ms(resolution), "{case:?}");
                let later = at.plus_ms(resolution / 2);
                session.handle_timeout(later);
                let threshold = session.activity_report_threshold();
                assert!(threshold > later && threshold <= later.plus_ms(resolution), "{case:?}");
                assert_eq!(session.phase(), Phase::Active);
            }
        }
    }

    #[test]
    fn with_other_tabs_activity_is_reported_and_shared_every_few_seconds() {
        let mut session = session();
        let t0 = Instant::from_millis(1_000_000);
        session.handle_sign_in(t0, token(300.0)).unwrap();
        let shared = |session: &mut Session| {
            std::iter::from_fn(|| session.poll_command())
                .filter_map(|command| match command {
                    Command::Broadcast(TabMessage::Activity { at }) => Some(at),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        shared(&mut session);
        assert_eq!(session.activity_report_threshold(), t0.plus_ms(SHARE_ACTIVITY_EVERY_MS));
        session.handle_activity(t0.plus_ms(1_000));
        assert_eq!(shared(&mut session), [], "told with the token a second ago");
        assert_eq!(session.poll_timeout(), Some(t0.plus_ms(SHARE_ACTIVITY_EVERY_MS)));
        session.handle_timeout(t0.plus_ms(SHARE_ACTIVITY_EVERY_MS));
        assert_eq!(shared(&mut session), [t0.plus_ms(1_000)]);
        assert_eq!(
            session.poll_timeout(),
            Some(t0.plus_ms(4 * 60_000)),
            "the renewal: nothing unshared"
        );
    }

    #[test]
    fn a_late_answer_to_a_cancelled_resume_does_not_sign_in() {
        let mut session = session();
        let t0 = Instant::from_millis(1_000_000);
        assert!(session.handle_resume(t0));
        let id = renew_id(&mut session);
        session.handle_logout(t0.plus_ms(10));
        session.handle_renewal(t0.plus_ms(20), id, RenewalOutcome::Token(token(300.0)));
        assert_eq!(session.phase(), Phase::SignedOut);
    }
}
