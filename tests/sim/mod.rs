//! A simulated browser and auth server around the sans-IO core, driven by two fake clocks.
//!
//! `Sim` plays the browser adapter's part exactly as the real one does (one timer armed for
//! `poll_timeout`, activity recorded lazily below `activity_report_threshold` and flushed before
//! every other input, callers waiting on the in-flight renewal) and an auth server that issues
//! tokens with a lifetime, answers renewals after a latency, and checks every token an API call
//! carries. Time jumps straight to the next deadline, so hours of use take microseconds.
//!
//! The page has a wall clock (`now`, which tests may set back or forward, as users and NTP do)
//! and a monotonic clock (`mono`, which stops while the machine sleeps). Timers and the
//! network run on the monotonic clock, as a browser's do.
#![allow(dead_code)]

use std::collections::VecDeque;

use authpulse::core::options::{Raw, RawOptions};
use authpulse::core::{
    Command, Config, Event, Instant, RenewalId, RenewalOutcome, ResponseInfo, RetryDecision,
    Session, TabMessage, TeardownReason, TokenAccess, TokenResponse,
};

pub const SECOND: u64 = 1_000;
pub const MINUTE: u64 = 60 * SECOND;
pub const HOUR: u64 = 60 * MINUTE;
/// Simulations start at a realistic wall-clock time.
pub const T0: u64 = 1_800_000_000_000;

/// How the simulated server answers renewals.
#[derive(Clone, Debug, PartialEq)]
pub enum RenewMode {
    /// 200 with a fresh token.
    Ok,
    /// This status (500, 503 …).
    Status(u16),
    /// This status (429, 503) with `Retry-After` in seconds.
    RetryAfter(u16, u64),
    /// 401: the session is gone.
    Reject,
    /// The request fails before a response.
    Network,
    /// 200 with a malformed body.
    Malformed,
    /// No answer at all (the renewal times out).
    Silent,
}

/// What an API request saw at the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiSaw {
    /// No Authorization header.
    NoToken,
    /// A valid, unexpired token.
    Valid,
    /// An expired token: must never happen.
    Expired,
    /// A token of a revoked session.
    Revoked,
}

/// The result of one simulated `authClient.fetch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchResult {
    /// Status the app got.
    pub status: u16,
    /// What the server saw, per attempt.
    pub attempts: Vec<ApiSaw>,
    /// When each attempt was sent (wall clock).
    pub sent_at: Vec<u64>,
    /// The same by both clocks.
    pub sent_clocks: Vec<Instant>,
}

#[derive(Clone, Debug)]
struct Issued {
    token: String,
    /// Expiry by the page's two clocks at receipt (what the contract promises to keep).
    expires_at: Instant,
    session_epoch: u64,
}

/// A renewal the server has received and not answered yet (`answer_at` by the monotonic clock).
#[derive(Clone, Debug)]
struct PendingRenewal {
    id: RenewalId,
    sent_at: Instant,
    answer_at: u64,
}

/// One renew request as the server saw it, with what the simulation knew at the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenewRecord {
    pub at: u64,
    /// The page's clocks when it was sent.
    pub clocks: Instant,
    /// A caller (`fetch`, `getAccessToken`, `start()`) was waiting for a token.
    pub caller_waiting: bool,
    /// The user was active since the last successful renewal began (or sign-in).
    pub active_since_renewal: bool,
}

/// The simulation.
pub struct Sim {
    pub session: Session,
    /// The page's wall clock.
    pub now: u64,
    /// The page's monotonic clock.
    pub mono: u64,
    /// Token lifetime the server grants, in seconds.
    pub lifetime_s: u64,
    pub renew_mode: RenewMode,
    pub renew_latency_ms: u64,
    /// Whether activity goes through the adapter's lazy path (as in the browser).
    pub lazy_activity: bool,
    pending_activity: Option<Instant>,
    /// The adapter's timer for held-back activity: the report threshold when it was held back.
    flush_at: Option<u64>,
    pending_renewals: VecDeque<PendingRenewal>,
    issued: Vec<Issued>,
    session_epoch: u64,
    /// Times at which renew requests reached the server.
    pub renewals: Vec<u64>,
    /// Idle ms the client reported with each renewal.
    pub renewal_idle_ms: Vec<u64>,
    pub cancelled: Vec<RenewalId>,
    pub events: Vec<(u64, Event)>,
    pub server_session_ends: usize,
    /// Set by the property tests: called on every renew command with the sim's state.
    pub on_renew: Option<fn(&Sim)>,
    /// A caller is asking for a token right now (renewals it causes are on demand).
    pub on_demand: bool,
    pub renew_log: Vec<RenewRecord>,
    /// Renewals sent and neither answered nor cancelled.
    pub outstanding: Vec<RenewalId>,
    /// Time of the last activity input, lazy or not.
    pub last_activity_input: Option<u64>,
    /// The same by both clocks.
    pub last_activity_clocks: Option<Instant>,
    /// Start of the last successful renewal, or the sign-in.
    pub renewal_basis: Instant,
    /// What the session told other tabs (a single tab: nobody listens).
    pub broadcasts: Vec<TabMessage>,
}

pub fn options(edit: impl FnOnce(&mut RawOptions)) -> Config {
    let mut raw = RawOptions::default();
    edit(&mut raw);
    match Config::from_raw(&raw, "https://app.example") {
        Ok(config) => config,
        Err(error) => panic!("{}", error.message()),
    }
}

pub fn ms(value: u64) -> Raw<f64> {
    Raw::Given(value as f64)
}

impl Sim {
    /// Default options, 5-minute tokens, renewals answered in 100 ms.
    pub fn new() -> Self {
        Sim::with(options(|_| {}))
    }

    pub fn with(config: Config) -> Self {
        Sim {
            session: Session::new(config),
            now: T0,
            mono: T0,
            lifetime_s: 300,
            renew_mode: RenewMode::Ok,
            renew_latency_ms: 100,
            lazy_activity: true,
            pending_activity: None,
            flush_at: None,
            pending_renewals: VecDeque::new(),
            issued: Vec::new(),
            session_epoch: 0,
            renewals: Vec::new(),
            renewal_idle_ms: Vec::new(),
            cancelled: Vec::new(),
            events: Vec::new(),
            server_session_ends: 0,
            on_renew: None,
            on_demand: false,
            renew_log: Vec::new(),
            outstanding: Vec::new(),
            last_activity_input: None,
            last_activity_clocks: None,
            renewal_basis: Instant::from_millis(T0),
            broadcasts: Vec::new(),
        }
    }

    pub fn at(&self) -> Instant {
        Instant::from_clocks(self.now, self.mono)
    }

    /// Milliseconds since the simulation started.
    pub fn elapsed(&self) -> u64 {
        self.now.saturating_sub(T0)
    }

    fn issue(&mut self) -> TokenResponse {
        let token = format!("tok-{}", self.issued.len());
        self.issued.push(Issued {
            token: token.clone(),
            expires_at: self.at().plus_ms(self.lifetime_s * SECOND),
            session_epoch: self.session_epoch,
        });
        TokenResponse {
            access_token: Some(token),
            expires_in: Some((self.lifetime_s as f64).into()),
            token_type: Some("Bearer".into()),
            ..TokenResponse::default()
        }
    }

    /// The app signs in with its own login (`setSession`).
    pub fn sign_in(&mut self) {
        self.flush_activity();
        let response = self.issue();
        let result = self.session.handle_sign_in(self.at(), response);
        assert!(result.is_ok());
        self.renewal_basis = self.at();
        self.drain();
    }

    /// `start()`: resume through the auth session; runs until the renewal is answered.
    pub fn start(&mut self) -> bool {
        self.flush_activity();
        let was_signed_in = self.session.signed_in();
        self.on_demand = true;
        self.session.handle_resume(self.at());
        self.drain();
        self.settle();
        self.on_demand = false;
        if self.session.signed_in() && !was_signed_in {
            self.renewal_basis = self.at();
        }
        self.session.signed_in()
    }

    /// Real user activity now.
    pub fn activity(&mut self) {
        self.last_activity_input = Some(self.now);
        self.last_activity_clocks = Some(self.at());
        let threshold = self.session.activity_report_threshold();
        if self.lazy_activity && !self.at().reached(threshold) {
            if self.pending_activity.is_none() {
                self.flush_at = Some(self.mono + self.at().ms_until(threshold));
            }
            self.pending_activity = Some(self.at());
            return;
        }
        self.flush_activity();
        self.session.handle_activity(self.at());
        self.drain();
    }

    fn flush_activity(&mut self) {
        self.flush_at = None;
        if let Some(at) = self.pending_activity.take() {
            self.session.handle_activity(at);
            self.drain();
        }
    }

    /// The server revokes the session: its tokens and renewals are refused from now on.
    pub fn revoke_server_session(&mut self) {
        self.session_epoch += 1;
        self.renew_mode = RenewMode::Reject;
    }

    pub fn logout(&mut self) {
        self.flush_activity();
        self.session.handle_logout(self.at());
        self.drain();
    }

    /// Runs commands the session has queued, as the adapter does.
    pub fn drain(&mut self) {
        while let Some(command) = self.session.poll_command() {
            match command {
                Command::Renew { id, idle_ms, .. } => {
                    if let Some(check) = self.on_renew {
                        check(self);
                    }
                    self.renewals.push(self.now);
                    self.renewal_idle_ms.push(idle_ms);
                    self.renew_log.push(RenewRecord {
                        at: self.now,
                        clocks: self.at(),
                        caller_waiting: self.on_demand,
                        active_since_renewal: self
                            .last_activity_clocks
                            .is_some_and(|at| !self.renewal_basis.is_after(at)),
                    });
                    self.outstanding.push(id);
                    if self.renew_mode != RenewMode::Silent {
                        let answer_at = self.mono + self.renew_latency_ms;
                        self.pending_renewals.push_back(PendingRenewal {
                            id,
                            sent_at: self.at(),
                            answer_at,
                        });
                    }
                }
                Command::CancelRenewal(id) => {
                    self.cancelled.push(id);
                    self.outstanding.retain(|&outstanding| outstanding != id);
                    self.pending_renewals.retain(|pending| pending.id != id);
                }
                Command::Emit(event) => self.events.push((self.now, event)),
                Command::EndServerSession { .. } => {
                    self.server_session_ends += 1;
                    self.session_epoch += 1;
                }
                Command::Revoke(_) => {}
                Command::Broadcast(message) => self.broadcasts.push(message),
            }
        }
    }

    /// Renewals in flight at the server (sent, neither answered nor cancelled).
    pub fn renewals_in_flight(&self) -> usize {
        self.pending_renewals.len()
    }

    fn answer_renewal(&mut self, pending: PendingRenewal) {
        self.flush_activity();
        self.outstanding.retain(|&outstanding| outstanding != pending.id);
        let outcome = match self.renew_mode {
            RenewMode::Ok => {
                if self.session.signed_in() {
                    self.renewal_basis = pending.sent_at;
                }
                RenewalOutcome::Token(self.issue())
            }
            RenewMode::Status(status) => RenewalOutcome::Status(status, None),
            RenewMode::RetryAfter(status, seconds) => {
                // As a driver reports it: whether it counts is the core's to say.
                RenewalOutcome::from_answer(status, None, None, Some(seconds * SECOND))
            }
            RenewMode::Reject => RenewalOutcome::Rejected,
            RenewMode::Network => RenewalOutcome::Network,
            RenewMode::Malformed => RenewalOutcome::Token(TokenResponse {
                access_token: None,
                expires_in: Some(300.0.into()),
                ..TokenResponse::default()
            }),
            RenewMode::Silent => return,
        };
        self.session.handle_renewal(self.at(), pending.id, outcome);
        self.drain();
    }

    /// The next moment something happens by itself, by the monotonic clock: a timer (armed
    /// for as long as the first of the two clocks takes to reach the deadline) or an answer.
    fn next_wakeup(&self) -> Option<u64> {
        let timer = self.session.poll_timeout().map(|at| self.mono + self.at().ms_until(at));
        let answer = self.pending_renewals.iter().map(|p| p.answer_at).min();
        [timer, answer, self.flush_at].into_iter().flatten().min()
    }

    /// Both clocks move on to `mono` (by the monotonic clock).
    fn tick_to(&mut self, mono: u64) {
        if mono > self.mono {
            self.now += mono - self.mono;
            self.mono = mono;
        }
    }

    /// Lets time pass until the monotonic clock reads `until`, waking at every deadline on the
    /// way (a foreground tab).
    fn run_until(&mut self, until: u64) {
        while let Some(next) = self.next_wakeup().filter(|&next| next <= until) {
            self.tick_to(next);
            if let Some(index) = self.pending_renewals.iter().position(|p| p.answer_at <= self.mono)
            {
                if let Some(pending) = self.pending_renewals.remove(index) {
                    self.answer_renewal(pending);
                }
                continue;
            }
            self.flush_activity();
            self.session.handle_timeout(self.at());
            self.drain();
        }
        self.tick_to(until);
    }

    pub fn run_for(&mut self, ms: u64) {
        self.run_until(self.mono + ms);
    }

    /// Until no caller waits any more (or a minute passed).
    pub fn settle(&mut self) {
        let limit = self.mono + MINUTE;
        while self.session.callers_wait() && self.mono < limit {
            let next = self.next_wakeup().unwrap_or(limit);
            self.run_until(next.min(limit));
        }
    }

    /// The laptop sleeps: the wall clock jumps, the monotonic clock stops, no timer fires.
    pub fn sleep(&mut self, ms: u64) {
        self.now += ms;
    }

    /// A frozen or throttled background tab: both clocks run on, no timer fires.
    pub fn freeze(&mut self, ms: u64) {
        self.now += ms;
        self.mono += ms;
    }

    /// The wall clock is set back (a user, NTP, a VM resumed with a stale clock).
    pub fn set_clock_back(&mut self, ms: u64) {
        self.now = self.now.saturating_sub(ms);
    }

    /// What the server thinks of a token at this moment.
    fn server_check(&self, token: Option<&str>) -> ApiSaw {
        let Some(token) = token else {
            return ApiSaw::NoToken;
        };
        match self.issued.iter().find(|issued| issued.token == token) {
            Some(issued) if issued.session_epoch != self.session_epoch => ApiSaw::Revoked,
            Some(issued) if self.at().reached(issued.expires_at) => ApiSaw::Expired,
            Some(_) => ApiSaw::Valid,
            None => ApiSaw::Revoked,
        }
    }

    /// Asks for a token as `fetch`/`getAccessToken` do, waiting for renewals like the adapter.
    pub fn acquire(&mut self) -> Option<(String, u64)> {
        self.flush_activity();
        let result = self.acquire_waiting();
        self.on_demand = false;
        result
    }

    fn acquire_waiting(&mut self) -> Option<(String, u64)> {
        for _ in 0..10 {
            self.on_demand = true;
            let access = match self.session.access_token(self.at()) {
                TokenAccess::Ready { token, generation } => {
                    Some(Some((token.to_owned(), generation)))
                }
                TokenAccess::Wait => None,
                TokenAccess::Unavailable => Some(None),
            };
            self.drain();
            match access {
                Some(result) => return result,
                None => {
                    // Wait for the in-flight renewal (a silent server ends by the renewal
                    // timeout) or the floor interval before it.
                    let before = self.mono;
                    while self.session.callers_wait() {
                        let Some(next) = self.next_wakeup() else {
                            break;
                        };
                        self.run_until(next);
                    }
                    assert!(!self.session.callers_wait(), "callers wait with nothing to wake them");
                    assert!(self.mono - before <= 31 * SECOND, "a wait without a deadline");
                }
            }
        }
        panic!("a caller asked for a token ten times without an answer");
    }

    /// `authClient.fetch` of an API on an allowed origin, with a replayable body.
    pub fn fetch(&mut self) -> FetchResult {
        self.fetch_with(|saw| if saw == ApiSaw::Valid { 200 } else { 401 })
    }

    /// `fetch` against an API whose answer depends on what it saw.
    pub fn fetch_with(&mut self, api: impl Fn(ApiSaw) -> u16) -> FetchResult {
        let mut attempts = Vec::new();
        let mut sent_at = vec![];
        let mut sent_clocks = vec![];
        let first = self.acquire();
        sent_at.push(self.now);
        sent_clocks.push(self.at());
        let saw = self.server_check(first.as_ref().map(|(token, _)| token.as_str()));
        attempts.push(saw);
        let status = api(saw);
        let info = ResponseInfo {
            status,
            www_authenticate: (status == 401).then_some(r#"Bearer error="invalid_token""#),
            carried_token: first.is_some(),
            retried: false,
            replayable: true,
            final_url_allowed: true,
        };
        let decision =
            self.session.handle_response(&info, first.as_ref().map(|(_, generation)| *generation));
        if decision != RetryDecision::Retry {
            return FetchResult { status, attempts, sent_at, sent_clocks };
        }
        let Some((token, generation)) = self.acquire() else {
            return FetchResult { status, attempts, sent_at, sent_clocks }; // the original 401
        };
        sent_at.push(self.now);
        sent_clocks.push(self.at());
        let saw = self.server_check(Some(&token));
        attempts.push(saw);
        let retry_status = api(saw);
        let info = ResponseInfo { status: retry_status, retried: true, ..info };
        let again = self.session.handle_response(&info, Some(generation));
        assert_eq!(again, RetryDecision::Return, "a request is retried once only");
        FetchResult { status: retry_status, attempts, sent_at, sent_clocks }
    }

    pub fn expired_events(&self) -> Vec<(u64, TeardownReason)> {
        self.events
            .iter()
            .filter_map(|(at, event)| match event {
                Event::Expired { reason } => Some((*at, *reason)),
                _ => None,
            })
            .collect()
    }

    pub fn count_events(&self, wanted: fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|(_, event)| wanted(event)).count()
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}
