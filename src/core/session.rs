//! The session state machine: inputs with a timestamp in, commands and a wake-up time out.
//!
//! The driver (the browser adapter, or a test) calls `handle_*` with the current time by both
//! clocks, then drains [`Session::poll_command`] and arms one timer for
//! [`Session::poll_timeout`]. Nothing here reads a clock, sleeps or performs IO, so hours of use
//! are simulated in microseconds.

use alloc::string::String;
use alloc::vec::Vec;

use super::log::{Line, Log};
use super::options::Config;
use super::renewal::{Backoff, RENEW_FLOOR_MS, RENEW_TIMEOUT_MS};
use super::retry::{ResponseInfo, RetryDecision};
use super::tabs::{
    SharedToken, TabMessage, CONFIRM_IDLE_MS, JOIN_WAIT_MS, SHARE_ACTIVITY_EVERY_MS,
};
use super::time::{Instant, SECOND_MS};
use super::token::{BadTokenResponse, Token, TokenResponse};

/// How long an input may go unheard: a driver may hold back the activity it sees for at most
/// this long (see [`Session::activity_report_threshold`]), so the idle deadline counts from the
/// last real input to within this resolution (0.56 % of the default 15-minute idle timeout).
pub const ACTIVITY_RESOLUTION_MS: u64 = 5 * SECOND_MS;

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
    #[inline(never)] // one copy for the event and the logger
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
    #[inline(never)]
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
    /// A session began in this tab: `setSession`, a successful `start()`, or joining another
    /// tab's session. Its token's `Renewed` follows.
    SignedIn {
        /// When the session's first token expires.
        expires_at: Instant,
    },
    /// `state` changed.
    StateChange {
        /// The new state.
        state: Phase,
    },
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

/// Identifies one renewal request, so that a late answer to an abandoned one is recognised.
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
    /// The session no longer waits for this renewal: abort it if it was not sent yet. A sent
    /// refresh-token grant goes on and its answer is still reported (to `handle_renewal`, with
    /// its id): a refresh token the server issued is never lost (contract section 3).
    CancelRenewal(RenewalId),
    /// Tell the app.
    Emit(Event),
    /// End the session on the server (`logoutUrl`, refresh-token revocation), best effort.
    EndServerSession {
        /// The refresh token to revoke, if any.
        refresh_token: Option<String>,
    },
    /// Revoke a refresh token of a session that has ended (`revokeUrl`, RFC 7009), best effort:
    /// one that a grant's late answer brought.
    Revoke(String),
    /// Tell the app's other tabs (only with `crossTab`); they hand it to
    /// [`Session::handle_tab_message`].
    Broadcast(TabMessage),
    /// Write a decision to the app's `logger` (queued only when there is one).
    Log(Log),
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
    /// Any other status; with 429 or 503, the delay its `Retry-After` asked for, in ms (the
    /// driver reads its delay-seconds or HTTP date).
    Status(u16, Option<u64>),
    /// The request failed before a response.
    Network,
}

impl RenewalOutcome {
    /// What a renew endpoint's answer means (contract sections 2 and 3): 2xx with a token
    /// response; 401, or 400 with `error=invalid_grant`, means the session is gone; anything
    /// else is a transient failure, whose `Retry-After` counts with 429 and 503. `body` is the
    /// parsed JSON body, if it was an object.
    pub fn from_answer(
        status: u16,
        body: Option<TokenResponse>,
        error: Option<&str>,
        retry_after_ms: Option<u64>,
    ) -> Self {
        match (status, body) {
            (200..=299, Some(body)) => RenewalOutcome::Token(body),
            (200..=299, None) => RenewalOutcome::NotJson,
            (401, _) => RenewalOutcome::Rejected,
            (400, _) if error == Some("invalid_grant") => RenewalOutcome::Rejected,
            (429 | 503, _) => RenewalOutcome::Status(status, retry_after_ms),
            (status, _) => RenewalOutcome::Status(status, None),
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
    /// A renewal is in flight, or about to start, or the tab is joining another tab's session:
    /// wait until [`Session::callers_wait`] is false (a bounded time), then ask again.
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
    /// The latest clock readings (see [`Instant::later`]): events handed in late never move
    /// them back.
    now: Instant,
    last_activity: Instant,
    signed_in_at: Instant,
    token: Option<Token>,
    /// The newest refresh token known (refresh-token strategy). After an idle teardown it stays
    /// until the session is ended on the server or found alive in another tab.
    refresh_token: Option<String>,
    /// Rotations of the session's refresh token seen here or in another tab.
    refresh_serial: u64,
    /// Names the session across tabs (see `SharedToken::session_tag`).
    session_tag: u64,
    generation: u64,
    /// The server refused the current token (a 401 carrying it): never hand it out again.
    token_refused: bool,
    /// Real activity was counted since the last successful renewal began (or sign-in): the
    /// condition for a proactive renewal (rule 2).
    active_since_renewal: bool,
    in_flight: Option<InFlight>,
    next_renewal_id: u64,
    /// Renewals with a smaller id belong to a session that has ended.
    session_first_renewal: u64,
    /// When the last renew request was started: the next waits for `RENEW_FLOOR_MS` after it.
    last_renewal: Option<Instant>,
    /// A renewal that callers wait for and the floor holds back for a moment.
    demand: Option<Purpose>,
    /// `start()` without a way of its own to resume waits until then for another tab's answer.
    joining: Option<Instant>,
    backoff: Backoff,
    /// The latest activity the other tabs were told of, and when they were told.
    shared_activity: Instant,
    shared_at: Option<Instant>,
    /// An idle teardown's end of the server session, held until this time for another tab to
    /// show that the session is in use (see `CONFIRM_IDLE_MS`).
    unconfirmed_end: Option<Instant>,
    /// The token generation whose skipped renewal was logged: logged once per token.
    skip_logged: u64,
    /// Oldest first; a few at a time, so taking from the front of a `Vec` costs nothing.
    commands: Vec<Command>,
}

/// Of two deadlines, the one that `now`'s clocks reach first.
fn sooner(now: Instant, a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) if now.ms_until(b) < now.ms_until(a) => Some(b),
        (None, b) => b,
        (a, _) => a,
    }
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
            refresh_token: None,
            refresh_serial: 0,
            session_tag: 0,
            generation: 0,
            token_refused: false,
            active_since_renewal: false,
            in_flight: None,
            next_renewal_id: 0,
            session_first_renewal: 0,
            last_renewal: None,
            demand: None,
            joining: None,
            backoff: Backoff::default(),
            shared_activity: Instant::default(),
            shared_at: None,
            unconfirmed_end: None,
            skip_logged: 0,
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

    /// Whether a renewal request is in flight.
    pub fn renewal_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether callers that got [`TokenAccess::Wait`] (and `start()`) must go on waiting: a
    /// renewal is in flight, about to start once the floor interval has passed, or the tab
    /// is waiting for another tab's session. Each of these ends by a deadline in
    /// [`Session::poll_timeout`], so every wait is bounded (contract rule 4).
    pub fn callers_wait(&self) -> bool {
        self.in_flight.is_some() || self.demand.is_some() || self.joining.is_some()
    }

    /// The newest refresh token known, if any.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The next thing the driver must do, if any.
    pub fn poll_command(&mut self) -> Option<Command> {
        if self.commands.is_empty() {
            return None;
        }
        // `remove(0)` without its bounds check, which is not optimised out: that panic's
        // message, location and formatting cost the shipped module about 200 bytes gzipped.
        self.commands.rotate_left(1);
        self.commands.pop()
    }

    /// When the driver must call [`Session::handle_timeout`] next, if ever: a deadline that
    /// passes when either clock reaches it (a driver's timer waits `now.ms_until(deadline)`).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let renewal = match self.in_flight {
            Some(flight) => Some(flight.started.plus_ms(RENEW_TIMEOUT_MS)),
            // A due time already passed means the renewal waits for activity: no wake-up.
            None => self.renewal_due_at().filter(|&due| !self.now.reached(due)),
        };
        let session = self.signed_in().then(|| {
            let warn = match self.phase {
                Phase::Active => self.config.idle.warn_at(self.last_activity),
                _ => None,
            };
            let now = self.now;
            let cap = sooner(now, self.max_session_deadline(), self.share_activity_at());
            sooner(now, sooner(now, Some(self.idle_deadline()), warn), cap)
        });
        let now = self.now;
        let ends = sooner(now, self.unconfirmed_end, self.joining);
        sooner(now, sooner(now, renewal, session.flatten()), ends)
    }

    /// When activity the other tabs have not heard of is due to be told, if there is any.
    fn share_activity_at(&self) -> Option<Instant> {
        let unshared = self.config.cross_tab && self.last_activity.is_after(self.shared_activity);
        unshared.then(|| self.next_share_at())
    }

    fn next_share_at(&self) -> Instant {
        self.shared_at.map_or(Instant::default(), |at| at.plus_ms(SHARE_ACTIVITY_EVERY_MS))
    }

    /// The earliest time at which an activity event must reach [`Session::handle_activity`] at
    /// once (an event whose clocks have reached it, [`Instant::reached`]); earlier ones may be
    /// recorded and handed over by this time at the latest. Until then a driver may stop
    /// listening for frequent events (`pointermove`, `wheel`) once it holds one, so the
    /// threshold is at most [`ACTIVITY_RESOLUTION_MS`] (or 1 % of a shorter idle timeout) after
    /// the latest input: the idle deadline counts from an event at most that much earlier than
    /// the last real one.
    pub fn activity_report_threshold(&self) -> Instant {
        if !self.signed_in() {
            return Instant::from_millis(u64::MAX);
        }
        if self.phase == Phase::Warning || self.renewal_waits_for_activity() {
            return Instant::default();
        }
        let idle = self.config.idle;
        let resolution = ACTIVITY_RESOLUTION_MS.min(idle.timeout_ms() / 100);
        let own = idle.warn_at(self.last_activity).unwrap_or(idle.deadline(self.last_activity));
        let own = sooner(self.now, Some(own), Some(self.now.plus_ms(resolution))).unwrap_or(own);
        // With other tabs, activity is shared every few seconds, so that their deadlines move
        // too; the adapter reports the last event it held back by this time at the latest.
        let share = self.config.cross_tab.then(|| self.next_share_at());
        sooner(self.now, Some(own), share).unwrap_or(own)
    }

    /// The idle deadline of the signed-in session.
    pub fn idle_deadline(&self) -> Instant {
        self.config.idle.deadline(self.last_activity)
    }

    /// When the session began (sign-in, resume, or the session another tab shared).
    pub fn signed_in_at(&self) -> Instant {
        self.signed_in_at
    }

    /// Time of the last real activity counted.
    pub fn last_activity(&self) -> Instant {
        self.last_activity
    }

    /// When the session is torn down without activity (`idleExpiresAt`), if signed in.
    pub fn idle_expires_at(&self) -> Option<Instant> {
        self.signed_in().then(|| self.idle_deadline())
    }

    /// When the current token expires, if there is one.
    #[inline(never)]
    pub fn token_expires_at(&self) -> Option<Instant> {
        self.token.as_ref().map(|token| token.expires_at)
    }

    /// A future deadline as both clocks would read it if they ran on together from now: what
    /// the app is told (an `expiresAt` after the wall clock was set back is still the right
    /// number of milliseconds away).
    pub fn projected(&self, deadline: Instant) -> Instant {
        self.now.plus_ms(self.now.ms_until(deadline))
    }

    fn max_session_deadline(&self) -> Option<Instant> {
        self.config.max_session_ms.map(|ms| self.signed_in_at.plus_ms(ms))
    }

    fn advance(&mut self, now: Instant) -> Instant {
        self.now = self.now.later(now);
        self.now
    }

    // ---- inputs ----

    /// Time passed: tear down, warn, renew or give up on a renewal, as deadlines say.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.advance(now);
        self.check_deadlines(now);
        self.share_activity();
        // By timer only: messages that waited while the tab was frozen may still cancel it.
        if self.unconfirmed_end.is_some_and(|due| now.reached(due)) {
            self.unconfirmed_end = None;
            let refresh_token = self.refresh_token.take();
            self.session_first_renewal = self.next_renewal_id;
            self.end_server_session(refresh_token, TeardownReason::Idle);
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
        let counts = !self.signed_in_at.is_after(at)
            && !at.reached(self.idle_deadline())
            && !self.past_max_session(at);
        if self.signed_in() && counts {
            self.last_activity = self.last_activity.later(at);
            self.active_since_renewal = true;
            if self.phase == Phase::Warning {
                self.set_phase(Phase::Active);
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
        let refresh_token = copied(response.refresh_token());
        let token = response.validate(now)?;
        self.cancel_renewal();
        // A new sign-in inherits nothing, not even a refresh token.
        self.begin_session(now);
        self.set_refresh_token(refresh_token);
        self.store(token, true);
        self.share_token();
        Ok(())
    }

    /// A session begins in this tab at `now` (sign-in, resume).
    fn begin_session(&mut self, now: Instant) {
        self.unconfirmed_end = None;
        self.joining = None;
        self.demand = None;
        self.token = None;
        self.set_refresh_token(None);
        self.refresh_serial = 0;
        self.session_tag = now.as_millis();
        self.session_first_renewal = self.next_renewal_id;
        self.set_phase(Phase::Active);
        self.signed_in_at = now;
        self.last_activity = now;
        self.active_since_renewal = false;
        self.backoff.reset();
    }

    /// `start()`: resume the session. With the session strategy, one renew request through the
    /// auth session (and a hello: a tab that is signed in answers first); with the
    /// refresh-token strategy, which has no refresh token on a fresh page, no grant: the other
    /// tabs are asked for 1 s. Returns whether a resume is under way ([`Session::callers_wait`]);
    /// false when a session is already running or nothing can be tried.
    pub fn handle_resume(&mut self, now: Instant) -> bool {
        let now = self.advance(now);
        self.check_deadlines(now);
        if self.signed_in() {
            return false;
        }
        if self.resuming() {
            return true;
        }
        self.backoff.reset();
        if self.config.grants_refresh_tokens() {
            if !self.config.cross_tab {
                return false;
            }
            self.joining = Some(now.plus_ms(JOIN_WAIT_MS));
        } else {
            self.demand = Some(Purpose::Resume);
            self.start_due_renewal(now);
        }
        self.broadcast(TabMessage::Hello);
        true
    }

    #[inline(never)]
    fn resuming(&self) -> bool {
        self.joining.is_some()
            || self.demand == Some(Purpose::Resume)
            || self.in_flight.is_some_and(|flight| flight.purpose == Purpose::Resume)
    }

    /// A caller wants a token for a request (`fetch`, `getAccessToken`). Deadlines are checked
    /// first, so a token is never handed out after the idle deadline or the session cap.
    pub fn access_token(&mut self, now: Instant) -> TokenAccess<'_> {
        let now = self.advance(now);
        self.check_deadlines(now);
        if self.resuming() {
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
        // the session); but not while backing off from failures. The floor interval may hold
        // it back for a moment (a 401 right after a renewal waits out the rest of it).
        if !self.callers_wait() && !self.backoff.waiting_at(now) && self.can_renew() {
            self.demand = Some(Purpose::Renew);
            self.start_due_renewal(now);
        }
        if self.callers_wait() {
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
        let current = generation == Some(self.generation);
        if decision != RetryDecision::Return && current {
            self.token_refused = true;
        }
        if self.config.log && info.status == RetryDecision::UNAUTHORIZED && info.carried_token {
            let line = match decision {
                RetryDecision::Retry if current => Line::RetryAfterRenewal,
                RetryDecision::Retry => Line::RetryWithNewerToken,
                RetryDecision::ReturnAndDropToken => Line::NotRetriedStream,
                RetryDecision::Return if info.retried => Line::NotRetriedSecond,
                RetryDecision::Return => Line::NotRetriedChallenge,
            };
            self.log(line, self.now, "");
        }
        decision
    }

    /// The renewal `id` ended with `outcome` at `now`. The answer may come after the session
    /// stopped waiting for it (it timed out, was superseded, or the session ended): a rotated
    /// refresh token in it is taken all the same — or revoked if its session has ended — and
    /// its access token is stored if it is valid, newer, and the session still runs.
    pub fn handle_renewal(&mut self, now: Instant, id: RenewalId, outcome: RenewalOutcome) {
        let now = self.advance(now);
        // Deadlines first: an answer after the idle deadline or the renewal timeout is late.
        self.check_deadlines(now);
        let current = self.in_flight.filter(|flight| flight.id == id);
        let (rotated, answer, retry_after_ms) = match outcome {
            RenewalOutcome::Token(response) => {
                let rotated = copied(response.refresh_token());
                (rotated, response.validate(now).map_err(ErrorCode::BadTokenResponse), None)
            }
            RenewalOutcome::NotJson => {
                (None, Err(ErrorCode::BadTokenResponse(BadTokenResponse::NotJson)), None)
            }
            RenewalOutcome::Rejected => {
                if let Some(flight) = current {
                    self.in_flight = None;
                    match flight.purpose {
                        Purpose::Renew => self.teardown(TeardownReason::Session),
                        Purpose::Resume => self.backoff.reset(),
                    }
                }
                return;
            }
            RenewalOutcome::Status(status, retry_after_ms) => {
                (None, Err(ErrorCode::Status(status)), retry_after_ms)
            }
            RenewalOutcome::Network => (None, Err(ErrorCode::Network), None),
        };
        if id.0 < self.session_first_renewal {
            // Its session has ended: the refresh token it brought is revoked.
            if let Some(refresh_token) = rotated {
                self.command(Command::Revoke(refresh_token));
            }
            return;
        }
        if current.is_some() {
            self.in_flight = None;
        }
        // A renewal started after this one carries the refresh token this answer rotated out: sent,
        // it would be a reuse, and the server would revoke the grant (RFC 9700 section 4.14.2).
        // The driver sends renew requests one after another, so it has not gone out yet: it is
        // cancelled, and started again with the new refresh token if it is still needed.
        let superseded =
            if current.is_none() && rotated.is_some() { self.in_flight.take() } else { None };
        if let Some(flight) = superseded {
            self.command(Command::CancelRenewal(flight.id));
        }
        match (answer, current) {
            (Ok(token), Some(flight)) if flight.purpose == Purpose::Resume => {
                if !self.signed_in() {
                    self.begin_session(now);
                    self.store_renewed(token, rotated, true);
                }
                // (else the app signed in meanwhile: its token wins)
            }
            (Ok(token), flight) => {
                let newer = self
                    .token
                    .as_ref()
                    .map_or(true, |current| token.expires_at.is_after(current.expires_at));
                if self.signed_in() && (flight.is_some() || newer) {
                    self.store_renewed(token, rotated, false);
                } else {
                    self.take_refresh_token(rotated);
                }
            }
            (Err(code), flight) => {
                self.take_refresh_token(rotated);
                if let Some(flight) = flight {
                    self.renewal_failed(now, flight, code, retry_after_ms);
                }
            }
        }
        if let Some(flight) = superseded {
            self.active_since_renewal |= flight.was_active;
            self.start_due_renewal(now);
        }
    }

    /// Stores a renewed token with the refresh token that came with it (a response without
    /// one keeps the old one, RFC 6749 section 6), and tells the other tabs.
    fn store_renewed(&mut self, token: Token, rotated: Option<String>, begins: bool) {
        if rotated.is_some() {
            self.set_refresh_token(rotated);
            self.refresh_serial += 1;
        }
        self.backoff.reset();
        self.store(token, begins);
        self.share_token();
    }

    /// A refresh token that came with an answer the session cannot otherwise use (refused, or
    /// late): it replaces the old one, which the server has rotated out, and the other tabs
    /// are told; with the session gone, it is revoked.
    fn take_refresh_token(&mut self, refresh_token: Option<String>) {
        let Some(refresh_token) = refresh_token else {
            return;
        };
        if self.signed_in() || self.unconfirmed_end.is_some() {
            self.set_refresh_token(Some(refresh_token));
            self.refresh_serial += 1;
            self.share_token();
        } else {
            self.command(Command::Revoke(refresh_token));
        }
    }

    /// `logout()`: tear down now. The server session is ended even if this client was not
    /// signed in (another page may have signed in with the same cookie).
    pub fn handle_logout(&mut self, now: Instant) {
        self.advance(now);
        self.unconfirmed_end = None; // ended now in any case
        self.joining = None;
        if self.signed_in() {
            self.teardown(TeardownReason::Logout);
        } else {
            self.cancel_renewal();
            self.demand = None;
            self.session_first_renewal = self.next_renewal_id;
            let refresh_token = self.refresh_token.take();
            self.command(Command::EndServerSession { refresh_token });
            // Signing out means everywhere, even from a tab that was not signed in.
            self.broadcast(TabMessage::Teardown { reason: TeardownReason::Logout });
        }
        self.set_phase(Phase::SignedOut);
    }

    /// Another tab signed out or timed out: follow it, reason `remote`. A resume in flight
    /// here is abandoned too (its answer would revive a session being ended).
    pub fn handle_remote_teardown(&mut self, now: Instant) {
        self.advance(now);
        self.cancel_renewal();
        self.demand = None;
        self.joining = None;
        self.session_first_renewal = self.next_renewal_id;
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

    /// A message from another tab of the app (`crossTab`; ignored without it). Its dates are
    /// taken as this tab's instants no later than now; an invalid token message is ignored.
    pub fn handle_tab_message(&mut self, now: Instant, message: TabMessage) {
        if !self.config.cross_tab {
            return;
        }
        match message {
            TabMessage::Activity { at } => {
                let now = self.advance(now);
                let at = now.dated(at);
                self.count_remote_activity(at);
                if !now.reached(self.config.idle.deadline(at)) {
                    // The session is in use elsewhere: an idle teardown here was this tab's
                    // stale view, not the user's idleness. Its token comes with the answers
                    // to the hello sent then.
                    self.unconfirmed_end = None;
                }
                self.check_deadlines(now);
            }
            TabMessage::Token(shared) if shared.is_valid() => self.adopt(now, shared),
            TabMessage::Token(_) => {}
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
        self.shared_activity = self.shared_activity.later(at);
        self.count_activity(at);
    }

    /// Another tab's token: this tab's renewal (if any) is no longer needed, callers waiting
    /// for it get this token, and a tab that was not signed in is signed in. Its dates are no
    /// later than now here, so it moves no deadline past what this tab could have reached.
    fn adopt(&mut self, now: Instant, shared: SharedToken) {
        let now = self.advance(now);
        let received_at = now.dated(shared.received_at);
        let signed_in_at = now.dated(shared.signed_in_at);
        let last_activity = now.dated(shared.last_activity).later(signed_in_at);
        let alive = !now.reached(self.config.idle.deadline(last_activity))
            && !self.config.max_session_ms.is_some_and(|ms| now.reached(signed_in_at.plus_ms(ms)));
        if !alive {
            // A stale message: never a way around a deadline.
            return self.check_deadlines(now);
        }
        let same_session = shared.session_tag == self.session_tag;
        // Of one session, the refresh token with more rotations behind it is the newer: one
        // rotated since (even with no new access token) is taken, the old never sent again.
        let serial = shared.refresh_serial;
        if same_session && serial > self.refresh_serial {
            self.set_refresh_token(copied(shared.refresh_token.as_deref()));
            self.refresh_serial = serial;
        }
        let token = Token {
            access_token: shared.access_token,
            received_at,
            expires_at: received_at.plus_ms(shared.expires_at - shared.received_at),
        };
        // This tab's own view may have passed its deadline (it did not run, or it missed
        // messages) while the session lived on in the sending tab, or was begun again there:
        // that session replaces this one, without a teardown that would end it on the server.
        let own_is_current = self.signed_in()
            && !now.reached(self.idle_deadline())
            && !self.past_max_session(now)
            && self.token.is_some();
        // A session begins here unless this tab is in it already (`signedin`).
        let joins = !own_is_current || !same_session;
        // Else: a sign-in after this tab's, or a later token of the same session.
        let newer = !own_is_current
            || if same_session {
                self.token
                    .as_ref()
                    .is_some_and(|current| token.expires_at.is_after(current.expires_at))
            } else {
                signed_in_at.is_after(self.signed_in_at)
            };
        if !newer {
            // Crossed with this tab's own, newer token; its activity still counts here.
            self.count_remote_activity(last_activity);
            return self.check_deadlines(now);
        }
        if !same_session {
            // Another session: all of it.
            self.session_tag = shared.session_tag;
            self.set_refresh_token(shared.refresh_token);
            self.refresh_serial = serial;
            self.session_first_renewal = self.next_renewal_id;
        }
        if !own_is_current || !same_session {
            self.signed_in_at = signed_in_at;
        }
        if !own_is_current {
            self.set_phase(Phase::Active);
            self.token = None;
        }
        // A token too close to expiry to be handed out still brings the session: this tab
        // renews it as its own when needed.
        self.shared_activity = self.shared_activity.later(last_activity);
        self.last_activity = self.last_activity.later(last_activity).later(signed_in_at);
        self.cancel_renewal();
        self.unconfirmed_end = None;
        self.joining = None;
        self.demand = None;
        // The renewal that produced it used up the activity before it.
        self.active_since_renewal = false;
        self.backoff.reset();
        self.store(token, joins);
        if serial < self.refresh_serial {
            // This tab knows a newer refresh token than the sender: tell the tabs.
            self.share_token();
        }
        self.check_deadlines(now);
    }

    // ---- decisions ----

    fn past_max_session(&self, at: Instant) -> bool {
        self.max_session_deadline().is_some_and(|cap| at.reached(cap))
    }

    fn check_deadlines(&mut self, now: Instant) {
        if let Some(flight) = self.in_flight {
            if now.reached(flight.started.plus_ms(RENEW_TIMEOUT_MS)) {
                self.command(Command::CancelRenewal(flight.id));
                self.in_flight = None;
                self.renewal_failed(now, flight, ErrorCode::Timeout, None);
            }
        }
        if self.joining.is_some_and(|until| now.reached(until)) {
            self.joining = None; // no tab answered: start() resolves false
        }
        if self.signed_in() {
            // After a long sleep both may have passed: the earlier one is the reason.
            let idle = self.idle_deadline();
            match self.max_session_deadline() {
                Some(cap) if now.reached(cap) && now.ms_since(cap) >= now.ms_since(idle) => {
                    return self.teardown(TeardownReason::MaxSession)
                }
                _ if now.reached(idle) => {
                    let ask_first = self.config.cross_tab.then_some(now);
                    return self.teardown_at(TeardownReason::Idle, ask_first);
                }
                _ => {}
            }
            if self.phase == Phase::Active
                && self.config.idle.warn_at(self.last_activity).is_some_and(|at| now.reached(at))
            {
                self.set_phase(Phase::Warning);
                let expires_at = self.projected(idle);
                self.emit(Event::IdleWarning { expires_at });
                self.log(Line::IdleWarning, idle, "");
            }
        }
        self.start_due_renewal(now);
    }

    /// Starts the renewal that is due, if any: one callers wait for, or a proactive one for an
    /// active user (rule 2).
    fn start_due_renewal(&mut self, now: Instant) {
        if self.in_flight.is_some() || !self.renewal_due_at().is_some_and(|at| now.reached(at)) {
            return;
        }
        match self.demand {
            Some(purpose) => self.start_renewal(now, purpose),
            None if self.signed_in() && self.renewal_wanted() => {
                self.start_renewal(now, Purpose::Renew)
            }
            // Said once per token. (A refused token is replaced on demand, for the request it
            // failed: that renewal is not skipped.)
            None if self.signed_in()
                && self.config.log
                && !self.token_refused
                && self.skip_logged != self.generation =>
            {
                self.skip_logged = self.generation;
                let at = self.last_activity;
                self.log(Line::RenewalSkipped, at, "");
            }
            None => {}
        }
    }

    /// When the next renewal may start, by the clocks alone: at once for waiting callers or a
    /// token the server refused, else the proactive renewal time; never before a back-off
    /// delay ends, nor within the floor interval after the last renew request.
    fn renewal_due_at(&self) -> Option<Instant> {
        let due = match self.demand {
            Some(_) => self.now,
            None if self.signed_in() && self.can_renew() => {
                let token = self.token.as_ref()?;
                if self.token_refused {
                    self.now
                } else {
                    self.config.schedule.renew_at(token)
                }
            }
            None => return None,
        };
        // Each condition may be met by either clock: the one the clocks reach last decides.
        let due = match self.backoff.retry_at() {
            Some(retry) if self.demand != Some(Purpose::Resume) => self.last_of(due, retry),
            _ => due,
        };
        Some(match self.last_renewal {
            Some(last) => self.last_of(due, last.plus_ms(RENEW_FLOOR_MS)),
            None => due,
        })
    }

    /// Of two deadlines, the one that the clocks reach last from now.
    fn last_of(&self, a: Instant, b: Instant) -> Instant {
        if self.now.ms_until(b) > self.now.ms_until(a) {
            b
        } else {
            a
        }
    }

    /// Whether a renewal can be asked for: a refresh-token grant needs a refresh token (a
    /// session signed in without one lasts as long as its access token, unless another tab
    /// shares one).
    fn can_renew(&self) -> bool {
        !self.config.grants_refresh_tokens() || self.refresh_token.is_some()
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
            && self.demand.is_none()
            && !self.renewal_wanted()
            && self.renewal_due_at().is_some_and(|due| self.now.reached(due))
    }

    fn start_renewal(&mut self, now: Instant, purpose: Purpose) {
        let id = RenewalId(self.next_renewal_id);
        self.next_renewal_id += 1;
        self.demand = None;
        self.last_renewal = Some(now);
        self.in_flight =
            Some(InFlight { id, started: now, purpose, was_active: self.active_since_renewal });
        self.active_since_renewal = false;
        self.command(Command::Renew {
            id,
            idle_ms: now.ms_since(self.last_activity),
            refresh_token: copied(self.refresh_token.as_deref()),
        });
    }

    fn renewal_failed(
        &mut self,
        now: Instant,
        flight: InFlight,
        code: ErrorCode,
        retry_after_ms: Option<u64>,
    ) {
        // A failed resume leaves the client signed out: `start()` resolves false, no back-off.
        if flight.purpose == Purpose::Renew {
            match retry_after_ms {
                Some(delay_ms) => self.backoff.record_retry_after(now, delay_ms),
                None => {
                    self.backoff.record_failure(now);
                }
            }
            let retry_at = self.backoff.retry_at().unwrap_or(now);
            self.active_since_renewal |= flight.was_active;
            self.log(Line::RenewalFailed, retry_at, code.code());
        }
        self.emit(Event::Error { code });
    }

    /// Keeps `token`; `begins`: it is the first of a session in this tab (`SignedIn`).
    fn store(&mut self, token: Token, begins: bool) {
        let expires_at = self.projected(token.expires_at);
        if begins {
            self.emit(Event::SignedIn { expires_at });
        }
        self.token = Some(token);
        self.generation += 1;
        self.token_refused = false;
        self.emit(Event::Renewed { expires_at });
        if self.config.log {
            // Failures were forgotten, and the new token is not refused: the schedule's time.
            let renew_at = self.renewal_due_at().unwrap_or_default();
            self.log(Line::RenewalScheduled, renew_at, "");
        }
    }

    /// Tells the other tabs of the token (and refresh token) held here.
    fn share_token(&mut self) {
        let Some(token) = &self.token else {
            return;
        };
        let now = self.now;
        let received_at = now.wall_date_of(token.received_at);
        let shared = SharedToken {
            access_token: super::owned(&token.access_token),
            received_at,
            expires_at: received_at.saturating_add(token.lifetime_ms()),
            refresh_token: copied(self.refresh_token.as_deref()),
            refresh_serial: self.refresh_serial,
            session_tag: self.session_tag,
            signed_in_at: now.wall_date_of(self.signed_in_at),
            last_activity: now.wall_date_of(self.last_activity),
        };
        self.shared_activity = self.shared_activity.later(self.last_activity);
        self.shared_at = Some(now);
        self.broadcast(TabMessage::Token(shared));
    }

    /// Tells the other tabs of activity they have not heard of, at most every few seconds.
    fn share_activity(&mut self) {
        if self.share_activity_at().is_some_and(|due| self.now.reached(due)) {
            self.share_activity_now();
        }
    }

    fn share_activity_now(&mut self) {
        if self.signed_in()
            && self.config.cross_tab
            && self.last_activity.is_after(self.shared_activity)
        {
            self.shared_activity = self.last_activity;
            self.shared_at = Some(self.now);
            let at = self.now.wall_date_of(self.last_activity);
            self.broadcast(TabMessage::Activity { at });
        }
    }

    fn broadcast(&mut self, message: TabMessage) {
        if self.config.cross_tab {
            self.command(Command::Broadcast(message));
        }
    }

    fn cancel_renewal(&mut self) {
        if let Some(flight) = self.in_flight.take() {
            self.command(Command::CancelRenewal(flight.id));
        }
    }

    fn teardown(&mut self, reason: TeardownReason) {
        self.teardown_at(reason, None);
    }

    /// Drops the tokens now. `ask_first`: the time of an idle teardown whose end of the server
    /// session waits for the other tabs' answers (see `CONFIRM_IDLE_MS`); the refresh token
    /// stays until then.
    fn teardown_at(&mut self, reason: TeardownReason, ask_first: Option<Instant>) {
        self.cancel_renewal();
        self.demand = None;
        self.token = None;
        self.token_refused = false;
        self.backoff.reset();
        self.set_phase(if reason == TeardownReason::Logout {
            Phase::SignedOut
        } else {
            Phase::Expired
        });
        self.log(Line::SignedOut, self.last_activity, reason.as_str());
        match ask_first {
            Some(now) => {
                self.unconfirmed_end = Some(now.plus_ms(CONFIRM_IDLE_MS));
                self.broadcast(TabMessage::Hello);
            }
            None => {
                // A grant's answer still to come belongs to an ended session: revoked.
                self.session_first_renewal = self.next_renewal_id;
                let refresh_token = self.refresh_token.take();
                self.end_server_session(refresh_token, reason);
            }
        }
        self.emit(Event::Expired { reason });
    }

    /// Ends the session on the server where the reason calls for it, and tells the other tabs.
    fn end_server_session(&mut self, refresh_token: Option<String>, reason: TeardownReason) {
        if matches!(
            reason,
            TeardownReason::Idle | TeardownReason::MaxSession | TeardownReason::Logout
        ) {
            self.command(Command::EndServerSession { refresh_token });
        }
        if reason != TeardownReason::Remote {
            self.broadcast(TabMessage::Teardown { reason });
        }
    }

    /// Replaces the refresh token: one copy of dropping the old one.
    #[inline(never)]
    fn set_refresh_token(&mut self, token: Option<String>) {
        self.refresh_token = token;
    }

    /// Queues `command` for `poll_command`: one copy of `Vec::push` for every command.
    #[inline(never)]
    fn command(&mut self, command: Command) {
        self.commands.push(command);
    }

    fn emit(&mut self, event: Event) {
        self.command(Command::Emit(event));
    }

    /// A decision for the app's `logger`, if it has one (see [`Line`] for `at` and `word`).
    fn log(&mut self, line: Line, at: Instant, word: &'static str) {
        if self.config.log {
            self.command(Command::Log(Log { line, at, word }));
        }
    }

    /// The one place `state` changes: the app hears of every change, once, before the event
    /// that goes with it.
    fn set_phase(&mut self, phase: Phase) {
        if self.phase != phase {
            self.phase = phase;
            self.emit(Event::StateChange { state: phase });
        }
    }
}

/// A copy of a token, if any: one copy of the allocation and the copying for every token
/// the session keeps or hands on.
#[inline(never)]
fn copied(token: Option<&str>) -> Option<String> {
    token.map(super::owned)
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
            expires_in: Some(expires_in.into()),
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
        let later = Some(120_000);
        assert_eq!(
            RenewalOutcome::from_answer(200, body(), None, None),
            RenewalOutcome::Token(token(60.0))
        );
        assert_eq!(RenewalOutcome::from_answer(200, None, None, None), RenewalOutcome::NotJson);
        assert_eq!(RenewalOutcome::from_answer(401, None, None, later), RenewalOutcome::Rejected);
        assert_eq!(
            RenewalOutcome::from_answer(400, None, Some("invalid_grant"), None),
            RenewalOutcome::Rejected
        );
        assert_eq!(
            RenewalOutcome::from_answer(400, None, Some("invalid_request"), None),
            RenewalOutcome::Status(400, None)
        );
        assert_eq!(
            RenewalOutcome::from_answer(503, body(), None, later),
            RenewalOutcome::Status(503, later)
        );
        assert_eq!(
            RenewalOutcome::from_answer(429, None, None, later),
            RenewalOutcome::Status(429, later)
        );
        assert_eq!(
            RenewalOutcome::from_answer(500, None, None, later),
            RenewalOutcome::Status(500, None),
            "Retry-After counts with 429 and 503 only"
        );
        assert_eq!(
            RenewalOutcome::from_answer(403, None, None, None),
            RenewalOutcome::Status(403, None)
        );
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
                let mut session = session_with(|raw| {
                    raw.cross_tab = Raw::Given(cross_tab);
                    raw.idle_timeout_ms = Raw::Given(idle_ms as f64);
                    raw.warn_before_idle_ms = Raw::Given(10_000.0);
                });
                let t0 = Instant::from_millis(1_000_000);
                session.handle_sign_in(t0, token(300.0)).unwrap();
                while session.poll_command().is_some() {}
                let case = (idle_ms, cross_tab);
                let threshold = session.activity_report_threshold();
                assert!(t0.ms_until(threshold) <= resolution, "{case:?}");
                // Activity reported at once (at the threshold), then a timer's wake-up later on.
                let at = t0.plus_ms(resolution);
                session.handle_activity(at);
                let threshold = session.activity_report_threshold();
                assert!(threshold.is_after(at), "{case:?}");
                assert!(at.ms_until(threshold) <= resolution, "{case:?}");
                let later = at.plus_ms(resolution / 2);
                session.handle_timeout(later);
                let threshold = session.activity_report_threshold();
                assert!(threshold.is_after(later), "{case:?}");
                assert!(later.ms_until(threshold) <= resolution, "{case:?}");
                assert_eq!(session.phase(), Phase::Active);
                // Signed out, nothing needs activity: the threshold is the far future.
                session.handle_logout(later);
                assert_eq!(session.activity_report_threshold(), Instant::from_millis(u64::MAX));
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
                    Command::Broadcast(TabMessage::Activity { at }) => {
                        Some(Instant::from_millis(at))
                    }
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

    // ---- signedin and statechange ----

    fn session_with(edit: impl FnOnce(&mut RawOptions)) -> Session {
        let mut raw = RawOptions::default();
        edit(&mut raw);
        Session::new(Config::from_raw(&raw, "https://app.example").unwrap())
    }

    fn logged() -> Session {
        session_with(|raw| raw.logger = crate::core::options::Raw::Given(true))
    }

    fn logs(session: &mut Session) -> Vec<Log> {
        std::iter::from_fn(|| session.poll_command())
            .filter_map(|command| match command {
                Command::Log(log) => Some(log),
                _ => None,
            })
            .collect()
    }

    fn lines(session: &mut Session) -> Vec<Line> {
        logs(session).into_iter().map(|log| log.line).collect()
    }

    fn events(session: &mut Session) -> Vec<Event> {
        std::iter::from_fn(|| session.poll_command())
            .filter_map(|command| match command {
                Command::Emit(event) => Some(event),
                _ => None,
            })
            .collect()
    }

    fn state_changes(events: &[Event]) -> Vec<Phase> {
        events
            .iter()
            .filter_map(|event| match event {
                Event::StateChange { state } => Some(*state),
                _ => None,
            })
            .collect()
    }

    const T0: Instant = Instant::from_millis(1_000_000);
    const MINUTE: u64 = 60_000;

    #[test]
    fn set_session_signs_in_then_stores_the_token_and_a_new_one_signs_in_again() {
        let mut session = session();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        let expires_at = T0.plus_ms(300_000);
        assert_eq!(
            events(&mut session),
            [
                Event::StateChange { state: Phase::Active },
                Event::SignedIn { expires_at },
                Event::Renewed { expires_at },
            ]
        );
        // The app's own login again (another user, say): a new session, the state unchanged.
        session.handle_sign_in(T0.plus_ms(1_000), token(300.0)).unwrap();
        let expires_at = T0.plus_ms(301_000);
        assert_eq!(
            events(&mut session),
            [Event::SignedIn { expires_at }, Event::Renewed { expires_at }]
        );
        // A malformed response changes nothing and says nothing.
        assert!(session.handle_sign_in(T0.plus_ms(2_000), token(-1.0)).is_err());
        assert_eq!(events(&mut session), []);
    }

    #[test]
    fn a_renewal_is_not_a_sign_in() {
        let mut session = session();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        events(&mut session);
        session.handle_activity(T0.plus_ms(MINUTE));
        session.handle_timeout(T0.plus_ms(4 * MINUTE));
        let id = renew_id(&mut session);
        session.handle_renewal(
            T0.plus_ms(4 * MINUTE + 100),
            id,
            RenewalOutcome::Token(token(300.0)),
        );
        let expires_at = T0.plus_ms(4 * MINUTE + 100 + 300_000);
        assert_eq!(events(&mut session), [Event::Renewed { expires_at }]);
    }

    #[test]
    fn a_successful_start_signs_in_and_a_rejected_one_stays_signed_out_silently() {
        let mut resumed = session();
        assert!(resumed.handle_resume(T0));
        let id = renew_id(&mut resumed);
        resumed.handle_renewal(T0.plus_ms(50), id, RenewalOutcome::Token(token(300.0)));
        let expires_at = T0.plus_ms(50 + 300_000);
        assert_eq!(
            events(&mut resumed),
            [
                Event::StateChange { state: Phase::Active },
                Event::SignedIn { expires_at },
                Event::Renewed { expires_at },
            ]
        );

        let mut rejected = session();
        assert!(rejected.handle_resume(T0));
        let id = renew_id(&mut rejected);
        rejected.handle_renewal(T0.plus_ms(50), id, RenewalOutcome::Rejected);
        assert_eq!(rejected.phase(), Phase::SignedOut);
        assert_eq!(events(&mut rejected), []);
    }

    fn tab_token(at: Instant, signed_in_at: Instant) -> TabMessage {
        TabMessage::Token(SharedToken {
            access_token: "other".into(),
            received_at: at.as_millis(),
            expires_at: at.as_millis() + 300_000,
            refresh_token: None,
            refresh_serial: 0,
            session_tag: signed_in_at.as_millis(),
            signed_in_at: signed_in_at.as_millis(),
            last_activity: at.as_millis(),
        })
    }

    #[test]
    fn joining_another_tabs_session_signs_in_but_its_renewals_do_not() {
        let mut session = session();
        session.handle_tab_message(T0, tab_token(T0, T0));
        let expires_at = T0.plus_ms(300_000);
        assert_eq!(
            events(&mut session),
            [
                Event::StateChange { state: Phase::Active },
                Event::SignedIn { expires_at },
                Event::Renewed { expires_at },
            ]
        );
        // The same session's next token (renewed in the other tab): no new session here.
        let later = T0.plus_ms(4 * MINUTE);
        session.handle_tab_message(later, tab_token(later, T0));
        assert_eq!(events(&mut session), [Event::Renewed { expires_at: later.plus_ms(300_000) }]);
        // A sign-in in the other tab after this tab's: a new session.
        let again = T0.plus_ms(5 * MINUTE);
        session.handle_tab_message(again, tab_token(again, again));
        let expires_at = again.plus_ms(300_000);
        assert_eq!(
            events(&mut session),
            [Event::SignedIn { expires_at }, Event::Renewed { expires_at }]
        );
        // A tab that timed out and joins the session again: signed in once more.
        session.handle_timeout(again.plus_ms(16 * MINUTE));
        assert_eq!(session.phase(), Phase::Expired);
        events(&mut session);
        let back = again.plus_ms(17 * MINUTE);
        session.handle_tab_message(back, tab_token(back, again.plus_ms(16 * MINUTE + 30_000)));
        let expires_at = back.plus_ms(300_000);
        assert_eq!(
            events(&mut session),
            [
                Event::StateChange { state: Phase::Active },
                Event::SignedIn { expires_at },
                Event::Renewed { expires_at },
            ]
        );
    }

    #[test]
    fn every_state_change_is_told_once_in_order() {
        let mut session =
            session_with(|raw| raw.cross_tab = crate::core::options::Raw::Given(false));
        session.handle_sign_in(T0, token(3600.0)).unwrap();
        session.handle_timeout(T0.plus_ms(14 * MINUTE)); // the warning
        session.handle_timeout(T0.plus_ms(14 * MINUTE + 10)); // nothing changes
        session.handle_activity(T0.plus_ms(14 * MINUTE + 20)); // active again
        session.handle_timeout(T0.plus_ms(30 * MINUTE)); // idle teardown
        session.handle_logout(T0.plus_ms(31 * MINUTE)); // expired -> signed out
        session.handle_logout(T0.plus_ms(32 * MINUTE)); // nothing changes
        let all = events(&mut session);
        assert_eq!(
            state_changes(&all),
            [Phase::Active, Phase::Warning, Phase::Active, Phase::Expired, Phase::SignedOut]
        );
        // Each change comes before the event it goes with, so a listener of either sees `state`.
        let position = |wanted: Event| all.iter().position(|event| *event == wanted).unwrap();
        assert!(
            position(Event::StateChange { state: Phase::Warning })
                < position(Event::IdleWarning { expires_at: T0.plus_ms(15 * MINUTE) })
        );
        assert!(
            position(Event::StateChange { state: Phase::Expired })
                < position(Event::Expired { reason: TeardownReason::Idle })
        );
    }

    #[test]
    fn the_getters_deadlines_follow_activity_and_are_none_when_signed_out() {
        let mut session =
            session_with(|raw| raw.cross_tab = crate::core::options::Raw::Given(false));
        assert_eq!(session.idle_expires_at(), None);
        assert_eq!(session.token_expires_at(), None);
        session.handle_sign_in(T0, token(300.0)).unwrap();
        assert_eq!(session.idle_expires_at(), Some(T0.plus_ms(15 * MINUTE)));
        assert_eq!(session.token_expires_at(), Some(T0.plus_ms(5 * MINUTE)));
        session.handle_activity(T0.plus_ms(2 * MINUTE));
        assert_eq!(session.idle_expires_at(), Some(T0.plus_ms(17 * MINUTE)));
        session.handle_timeout(T0.plus_ms(17 * MINUTE));
        assert_eq!(session.phase(), Phase::Expired);
        assert_eq!(session.idle_expires_at(), None);
        assert_eq!(session.token_expires_at(), None);
    }

    #[test]
    fn without_a_logger_nothing_is_logged() {
        let mut session = session();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        session.handle_timeout(T0.plus_ms(20 * MINUTE));
        assert_eq!(logs(&mut session), []);
    }

    #[test]
    fn the_logger_hears_the_schedule_the_skip_once_the_warning_and_the_teardown() {
        let mut session = logged();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        let scheduled = Log { line: Line::RenewalScheduled, at: T0.plus_ms(4 * MINUTE), word: "" };
        assert_eq!(logs(&mut session), [scheduled]);
        // No activity: the renewal is skipped, said once however often the deadlines are checked.
        session.handle_timeout(T0.plus_ms(4 * MINUTE));
        session.handle_timeout(T0.plus_ms(4 * MINUTE + 1_000));
        let skipped = Log { line: Line::RenewalSkipped, at: T0, word: "" };
        assert_eq!(logs(&mut session), [skipped]);
        session.handle_timeout(T0.plus_ms(14 * MINUTE));
        let warning = Log { line: Line::IdleWarning, at: T0.plus_ms(15 * MINUTE), word: "" };
        assert_eq!(logs(&mut session), [warning]);
        session.handle_timeout(T0.plus_ms(15 * MINUTE));
        let signed_out = Log { line: Line::SignedOut, at: T0, word: "idle" };
        assert_eq!(logs(&mut session), [signed_out]);
    }

    #[test]
    fn the_logger_hears_why_a_session_ended() {
        for (reason, word) in
            [(TeardownReason::Logout, "logout"), (TeardownReason::Remote, "remote")]
        {
            let mut session = logged();
            session.handle_sign_in(T0, token(300.0)).unwrap();
            session.handle_activity(T0.plus_ms(MINUTE));
            logs(&mut session);
            match reason {
                TeardownReason::Logout => session.handle_logout(T0.plus_ms(2 * MINUTE)),
                _ => session.handle_remote_teardown(T0.plus_ms(2 * MINUTE)),
            }
            let last_activity = T0.plus_ms(MINUTE);
            assert_eq!(
                logs(&mut session),
                [Log { line: Line::SignedOut, at: last_activity, word }]
            );
        }
        let mut session = logged();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        session.handle_activity(T0.plus_ms(MINUTE));
        session.handle_timeout(T0.plus_ms(4 * MINUTE));
        let id = renew_id(&mut session);
        session.handle_renewal(T0.plus_ms(4 * MINUTE + 10), id, RenewalOutcome::Rejected);
        assert_eq!(lines(&mut session), [Line::SignedOut]);
        assert_eq!(session.phase(), Phase::Expired);
    }

    #[test]
    fn the_logger_hears_a_failed_renewal_and_when_the_next_attempt_is() {
        let mut session = logged();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        session.handle_activity(T0.plus_ms(MINUTE));
        session.handle_timeout(T0.plus_ms(4 * MINUTE));
        let id = renew_id(&mut session);
        let failed_at = T0.plus_ms(4 * MINUTE + 10);
        session.handle_renewal(failed_at, id, RenewalOutcome::Status(503, None));
        assert_eq!(
            logs(&mut session),
            [Log { line: Line::RenewalFailed, at: failed_at.plus_ms(1_000), word: "renew_failed" }]
        );
        session.handle_timeout(failed_at.plus_ms(1_000));
        let id = renew_id(&mut session);
        session.handle_renewal(failed_at.plus_ms(1_010), id, RenewalOutcome::Network);
        let second = logs(&mut session);
        assert_eq!(second.len(), 1);
        assert_eq!(
            (second[0].at, second[0].word),
            (failed_at.plus_ms(3_010), "renew_network_error")
        );
    }

    #[test]
    fn the_logger_hears_what_is_done_about_each_401() {
        let unauthorized = |challenge, retried, replayable| ResponseInfo {
            status: 401,
            www_authenticate: challenge,
            carried_token: true,
            retried,
            replayable,
            final_url_allowed: true,
        };
        let invalid = Some(r#"Bearer error="invalid_token""#);
        let scope = Some(r#"Bearer error="insufficient_scope""#);
        let cases = [
            (unauthorized(invalid, false, true), Some(1), Line::RetryAfterRenewal),
            (unauthorized(None, false, true), Some(0), Line::RetryWithNewerToken),
            (unauthorized(scope, false, true), Some(1), Line::NotRetriedChallenge),
            (unauthorized(invalid, true, false), Some(1), Line::NotRetriedSecond),
            (unauthorized(invalid, false, false), Some(1), Line::NotRetriedStream),
        ];
        for (info, generation, line) in cases {
            let mut session = logged();
            session.handle_sign_in(T0, token(300.0)).unwrap();
            logs(&mut session);
            session.handle_response(&info, generation);
            // The retry asks for a token: renewed on demand, whether or not the user is active.
            let _ = session.access_token(T0.plus_ms(10));
            assert_eq!(lines(&mut session), [line], "{info:?}");
        }
        // A 403, or a 401 to a request sent without the token, is no decision to explain.
        let mut session = logged();
        session.handle_sign_in(T0, token(300.0)).unwrap();
        logs(&mut session);
        session.handle_response(
            &ResponseInfo { status: 403, ..unauthorized(None, false, true) },
            Some(1),
        );
        session.handle_response(&unauthorized(None, false, true), None);
        assert_eq!(logs(&mut session), []);
    }
}
