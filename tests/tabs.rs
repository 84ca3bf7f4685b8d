//! Several tabs of one app (`crossTab`), each with its own session, over simulated time: the
//! channel delivers each tab's messages to the others, and renewals take turns under one lock
//! as the browser adapter's Web Lock makes them, against one auth server.

use std::collections::{HashSet, VecDeque};

use authpulse::core::options::{Raw, RawOptions};
use authpulse::core::tabs::CONFIRM_IDLE_MS;
use authpulse::core::{
    Command, Config, Event, Instant, Phase, RenewalId, RenewalOutcome, Session, TabMessage,
    TeardownReason, TokenAccess, TokenResponse,
};

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const T0: u64 = 1_800_000_000_000;
const LATENCY: u64 = 100;

struct Tab {
    session: Session,
    /// Activity the adapter held back, and its timer for it.
    pending: Option<u64>,
    flush_at: Option<u64>,
    events: Vec<(u64, Event)>,
    /// Frozen (a background tab, the back/forward cache): no timer fires, messages wait.
    frozen: bool,
    backlog: Vec<TabMessage>,
}

/// A renewal waiting for the lock or holding it.
struct Turn {
    tab: usize,
    id: RenewalId,
    refresh_token: Option<String>,
    answer_at: Option<u64>,
}

struct Tabs {
    tabs: Vec<Tab>,
    now: u64,
    /// FIFO of renewals under the lock; the first one holds it.
    lock: VecDeque<Turn>,
    /// Times renew requests reached the server.
    renewals: Vec<u64>,
    server_session_ends: usize,
    server_session_end_times: Vec<u64>,
    reject_renewals: bool,
    /// Refresh-token strategy: the server rotates on every use and remembers used ones.
    refresh_tokens: bool,
    /// Refresh tokens the server rotated: sending one again means a tab missed a rotation. (Every
    /// answer reaches its tab, even one the tab stopped waiting for.)
    used_refresh_tokens: HashSet<String>,
    reused_refresh_tokens: usize,
    /// Refresh tokens revoked one by one (from answers that came after their session ended).
    revocations: usize,
    issued: usize,
    /// When each issued token expires at the server.
    issue_times: Vec<u64>,
    /// Messages posted and not delivered yet (only when `delay_messages`): they arrive at the
    /// next wake-up or input, before the lock passes on.
    delay_messages: bool,
    in_transit: VecDeque<(usize, TabMessage)>,
}

fn config(cross_tab: bool, refresh: bool) -> Config {
    let mut raw = RawOptions { cross_tab: Raw::Given(cross_tab), ..RawOptions::default() };
    if refresh {
        raw.token_endpoint = Raw::Given("https://idp.example/token".into());
        raw.client_id = Raw::Given("spa".into());
    }
    match Config::from_raw(&raw, "https://app.example") {
        Ok(config) => config,
        Err(error) => panic!("{}", error.message()),
    }
}

impl Tabs {
    fn new(count: usize, cross_tab: bool, refresh_tokens: bool) -> Self {
        let tabs = (0..count)
            .map(|_| Tab {
                session: Session::new(config(cross_tab, refresh_tokens)),
                pending: None,
                flush_at: None,
                events: Vec::new(),
                frozen: false,
                backlog: Vec::new(),
            })
            .collect();
        Tabs {
            tabs,
            now: T0,
            lock: VecDeque::new(),
            renewals: Vec::new(),
            server_session_ends: 0,
            server_session_end_times: Vec::new(),
            reject_renewals: false,
            refresh_tokens,
            used_refresh_tokens: HashSet::new(),
            reused_refresh_tokens: 0,
            revocations: 0,
            issued: 0,
            issue_times: Vec::new(),
            delay_messages: false,
            in_transit: VecDeque::new(),
        }
    }

    fn at(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    fn issue(&mut self) -> TokenResponse {
        self.issued += 1;
        self.issue_times.push(self.now + 300 * SECOND);
        TokenResponse {
            access_token: Some(format!("tok-{}", self.issued)),
            expires_in: Some(300.0.into()),
            token_type: Some("Bearer".into()),
            refresh_token: self.refresh_tokens.then(|| format!("rt-{}", self.issued)),
            ..TokenResponse::default()
        }
    }

    /// The app signs in with its own login in `tab`.
    fn sign_in(&mut self, tab: usize) {
        let response = self.issue();
        self.input(tab, |session, now| {
            assert!(session.handle_sign_in(now, response).is_ok());
        });
    }

    /// Real user input in `tab`, through the adapter's lazy path.
    fn activity(&mut self, tab: usize) {
        let now = self.at();
        let threshold = self.tabs[tab].session.activity_report_threshold();
        let state = &mut self.tabs[tab];
        if !now.reached(threshold) {
            if state.pending.is_none() {
                state.flush_at = Some(threshold.as_millis());
            }
            state.pending = Some(self.now);
            return;
        }
        self.input(tab, |session, now| session.handle_activity(now));
    }

    /// `start()` in `tab`.
    fn start(&mut self, tab: usize) {
        self.input(tab, |session, now| {
            session.handle_resume(now);
        });
    }

    fn logout(&mut self, tab: usize) {
        self.input(tab, |session, now| session.handle_logout(now));
    }

    fn token(&mut self, tab: usize) -> Option<String> {
        let mut token = None;
        self.input(tab, |session, now| {
            if let TokenAccess::Ready { token: ready, .. } = session.access_token(now) {
                token = Some(ready.to_owned());
            }
        });
        token
    }

    /// One input to one tab, as the adapter does it: held-back activity first, then the
    /// input, then the commands (which may reach the other tabs and the lock).
    fn input(&mut self, tab: usize, step: impl FnOnce(&mut Session, Instant)) {
        self.deliver();
        let now = self.at();
        let state = &mut self.tabs[tab];
        state.flush_at = None;
        if let Some(at) = state.pending.take() {
            state.session.handle_activity(Instant::from_millis(at));
        }
        step(&mut state.session, now);
        self.drain(tab);
        // The lock passes on only once the holder's messages reached every tab.
        self.grant();
    }

    fn drain(&mut self, tab: usize) {
        let mut messages = Vec::new();
        while let Some(command) = self.tabs[tab].session.poll_command() {
            match command {
                Command::Renew { id, refresh_token, .. } => {
                    self.lock.push_back(Turn { tab, id, refresh_token, answer_at: None })
                }
                Command::CancelRenewal(id) => {
                    // A grant already sent goes on, holding the lock, and is answered (as the
                    // adapter does it): its rotated refresh token must reach the session.
                    let refresh_tokens = self.refresh_tokens;
                    self.lock.retain(|turn| {
                        !(turn.tab == tab && turn.id == id)
                            || (refresh_tokens && turn.answer_at.is_some())
                    });
                }
                Command::Revoke(_) => self.revocations += 1,
                Command::Emit(event) => self.tabs[tab].events.push((self.now, event)),
                Command::EndServerSession { .. } => {
                    self.server_session_ends += 1;
                    self.server_session_end_times.push(self.now);
                }
                Command::Broadcast(message) => messages.push(message),
                Command::Log(_) => {} // no logger in these tests
            }
        }
        self.in_transit.extend(messages.into_iter().map(|message| (tab, message)));
        if !self.delay_messages {
            self.deliver();
        }
    }

    fn deliver(&mut self) {
        while let Some((from, message)) = self.in_transit.pop_front() {
            for other in (0..self.tabs.len()).filter(|&other| other != from) {
                if self.tabs[other].frozen {
                    self.tabs[other].backlog.push(message.clone());
                    continue;
                }
                let now = self.at();
                self.tabs[other].session.handle_tab_message(now, message.clone());
                self.drain(other);
            }
        }
    }

    /// The first renewal in line holds the lock: its request goes out now.
    /// The adapter's lock named after the newest token makes a tab whose turn came before that
    /// token's message wait for it: here, a tab with messages still waiting for it.
    fn grant(&mut self) {
        if !self.in_transit.is_empty() {
            return;
        }
        if self.lock.front().is_some_and(|turn| !self.tabs[turn.tab].backlog.is_empty()) {
            return;
        }
        if let Some(turn) = self.lock.front_mut().filter(|turn| turn.answer_at.is_none()) {
            turn.answer_at = Some(self.now + LATENCY);
            self.renewals.push(self.now);
            if let Some(refresh) = turn.refresh_token.clone() {
                if self.used_refresh_tokens.contains(&refresh) {
                    self.reused_refresh_tokens += 1;
                }
            }
        }
    }

    fn answer(&mut self) {
        let Some(turn) = self.lock.pop_front() else {
            return;
        };
        let outcome = if self.reject_renewals {
            RenewalOutcome::Rejected
        } else {
            RenewalOutcome::Token(self.issue())
        };
        // The server rotates as it answers, whatever becomes of the answer at the client.
        if let (Some(refresh), false) = (turn.refresh_token.clone(), self.reject_renewals) {
            self.used_refresh_tokens.insert(refresh);
        }
        self.input(turn.tab, |session, now| session.handle_renewal(now, turn.id, outcome));
    }

    fn next_wakeup(&self) -> Option<u64> {
        let timers = self
            .tabs
            .iter()
            .filter(|tab| !tab.frozen)
            .flat_map(|tab| [tab.session.poll_timeout().map(Instant::as_millis), tab.flush_at]);
        let answer = self.lock.front().and_then(|turn| turn.answer_at);
        // Messages in transit arrive at the next turn of the event loop.
        let message = (!self.in_transit.is_empty()).then_some(self.now);
        timers.chain([answer, message]).flatten().min()
    }

    fn run_until(&mut self, until: u64) {
        while let Some(next) = self.next_wakeup().filter(|&next| next <= until) {
            self.now = self.now.max(next);
            self.deliver();
            self.grant();
            if self.lock.front().and_then(|turn| turn.answer_at).is_some_and(|at| at <= self.now) {
                self.answer();
                continue;
            }
            for tab in 0..self.tabs.len() {
                if self.tabs[tab].frozen {
                    continue;
                }
                let due = [self.tabs[tab].session.poll_timeout().map(Instant::as_millis)]
                    .into_iter()
                    .chain([self.tabs[tab].flush_at])
                    .flatten()
                    .any(|at| at <= self.now);
                if due {
                    self.input(tab, |session, now| session.handle_timeout(now));
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// The tab is hidden (the adapter reports it), then frozen.
    fn freeze(&mut self, tab: usize) {
        if self.tabs[tab].frozen {
            return;
        }
        self.input(tab, |session, now| session.handle_hidden(now));
        self.tabs[tab].frozen = true;
    }

    /// The tab runs again: in the worst order, its `pageshow` (a deadline check) before the
    /// messages that waited for it.
    fn thaw(&mut self, tab: usize) {
        self.tabs[tab].frozen = false;
        self.input(tab, |session, now| session.handle_timeout(now));
        self.take_backlog(tab);
    }

    /// The tab runs again, the messages that waited for it first.
    fn thaw_messages_first(&mut self, tab: usize) {
        self.tabs[tab].frozen = false;
        self.take_backlog(tab);
        self.input(tab, |session, now| session.handle_timeout(now));
    }

    fn take_backlog(&mut self, tab: usize) {
        while !self.tabs[tab].backlog.is_empty() {
            let message = self.tabs[tab].backlog.remove(0);
            self.input(tab, |session, now| session.handle_tab_message(now, message));
        }
    }

    fn thaw_all(&mut self) {
        for tab in 0..self.tabs.len() {
            if self.tabs[tab].frozen {
                self.thaw_messages_first(tab);
            }
        }
    }

    fn run_for(&mut self, ms: u64) {
        self.run_until(self.now + ms);
    }

    fn phases(&self) -> Vec<Phase> {
        self.tabs.iter().map(|tab| tab.session.phase()).collect()
    }

    fn expired(&self, tab: usize) -> Vec<(u64, TeardownReason)> {
        self.tabs[tab]
            .events
            .iter()
            .filter_map(|(at, event)| match event {
                Event::Expired { reason } => Some((*at, *reason)),
                _ => None,
            })
            .collect()
    }

    fn warnings(&self, tab: usize) -> usize {
        self.tabs[tab].events.iter().filter(|(_, e)| matches!(e, Event::IdleWarning { .. })).count()
    }
}

#[test]
fn a_user_busy_in_one_tab_keeps_three_tabs_signed_in_with_one_renewal_each_time() {
    let mut tabs = Tabs::new(3, true, false);
    tabs.sign_in(0);
    while tabs.now - T0 < 2 * HOUR {
        tabs.activity(0);
        tabs.run_for(30 * SECOND);
    }
    assert_eq!(tabs.phases(), [Phase::Active; 3]);
    assert_eq!((0..3).map(|tab| tabs.warnings(tab)).sum::<usize>(), 0, "no tab ever warned");
    // As for one tab: a token every (5 min − 60 s), the sign-in's first, one request each time
    // for all three tabs.
    assert_eq!(tabs.renewals.len() + 1, (2 * HOUR).div_ceil(4 * MINUTE) as usize);
    let tokens: Vec<_> = (0..3).map(|tab| tabs.token(tab)).collect();
    assert!(tokens[0].is_some());
    assert!(tokens.iter().all(|token| *token == tokens[0]), "one token everywhere: {tokens:?}");
}

#[test]
fn without_cross_tab_each_tab_keeps_its_own_session() {
    let mut tabs = Tabs::new(2, false, false);
    tabs.sign_in(0);
    tabs.sign_in(1);
    while tabs.now - T0 < HOUR {
        tabs.activity(0);
        tabs.run_for(30 * SECOND);
    }
    assert_eq!(tabs.phases(), [Phase::Active, Phase::Expired]);
    assert_eq!(tabs.expired(1), [(T0 + 15 * MINUTE, TeardownReason::Idle)]);
    tabs.logout(0);
    assert_eq!(tabs.expired(1).len(), 1, "a logout elsewhere is not heard");
}

#[test]
fn an_idle_user_is_signed_out_of_every_tab_at_last_activity_plus_15_minutes() {
    let mut tabs = Tabs::new(3, true, false);
    tabs.sign_in(0);
    tabs.run_for(10 * MINUTE);
    for _ in 0..7 {
        tabs.activity(2);
        tabs.run_for(500);
    }
    let last = tabs.now - 500;
    tabs.run_for(HOUR);
    for tab in 0..3 {
        let expired = tabs.expired(tab);
        assert_eq!(expired.len(), 1, "tab {tab}: {expired:?}");
        assert_eq!(expired[0].0, last + 15 * MINUTE, "tab {tab} at the shared deadline");
        assert_eq!(tabs.warnings(tab), 1, "tab {tab} warned once");
        assert_eq!(tabs.token(tab), None);
    }
    assert!(tabs.server_session_ends >= 1);
}

#[test]
fn logout_in_one_tab_signs_out_every_tab_at_once() {
    let mut tabs = Tabs::new(3, true, false);
    tabs.sign_in(1);
    tabs.run_for(3 * MINUTE);
    tabs.logout(1);
    assert_eq!(tabs.phases(), [Phase::Expired, Phase::SignedOut, Phase::Expired]);
    assert_eq!(tabs.expired(0), [(T0 + 3 * MINUTE, TeardownReason::Remote)]);
    assert_eq!(tabs.expired(1), [(T0 + 3 * MINUTE, TeardownReason::Logout)]);
    assert_eq!(tabs.server_session_ends, 1, "the server session is ended once");
    assert_eq!(tabs.token(2), None);
}

#[test]
fn a_rejected_renewal_signs_out_every_tab() {
    let mut tabs = Tabs::new(2, true, false);
    tabs.sign_in(0);
    tabs.activity(1);
    tabs.reject_renewals = true;
    tabs.run_for(5 * MINUTE);
    let reasons: Vec<_> = (0..2).flat_map(|tab| tabs.expired(tab)).map(|(_, r)| r).collect();
    assert!(reasons.contains(&TeardownReason::Session), "{reasons:?}");
    assert!(reasons.contains(&TeardownReason::Remote), "{reasons:?}");
    assert_eq!(tabs.renewals.len(), 1, "one renewal tried, for both tabs");
}

#[test]
fn rotated_refresh_tokens_are_shared_so_no_tab_ever_sends_a_used_one() {
    let mut tabs = Tabs::new(4, true, true);
    tabs.sign_in(3);
    while tabs.now - T0 < 8 * HOUR {
        let busy = ((tabs.now - T0) / (7 * MINUTE)) as usize % 4;
        tabs.activity(busy);
        tabs.run_for(20 * SECOND);
    }
    assert_eq!(tabs.reused_refresh_tokens, 0);
    assert_eq!(tabs.renewals.len() + 1, 120, "a token every 4 minutes, the sign-in's first");
    assert_eq!(tabs.phases(), [Phase::Active; 4]);
}

#[test]
fn a_tab_that_was_not_signed_in_takes_the_session_another_tab_signs_in_with() {
    let mut tabs = Tabs::new(2, true, false);
    tabs.sign_in(0);
    assert_eq!(tabs.phases(), [Phase::Active, Phase::Active]);
    assert_eq!(tabs.token(1), tabs.token(0));
}

#[test]
fn a_tab_opened_later_joins_the_session_of_the_others_without_a_renewal() {
    let mut tabs = Tabs::new(3, true, true);
    tabs.sign_in(0);
    tabs.run_for(MINUTE);
    // A new tab: its engine starts signed out, and start() says hello as it resumes.
    tabs.tabs[2].session = Session::new(config(true, true));
    tabs.start(2);
    tabs.run_for(SECOND);
    assert_eq!(tabs.phases(), [Phase::Active; 3]);
    assert_eq!(tabs.renewals, [], "the resume was answered by the other tabs");
    assert_eq!(tabs.token(2), tabs.token(0));
}

#[test]
fn a_tab_back_from_the_cache_after_20_minutes_does_not_end_the_session_in_use_elsewhere() {
    let mut tabs = Tabs::new(2, true, false);
    tabs.sign_in(0);
    tabs.freeze(1);
    while tabs.now - T0 < 20 * MINUTE {
        tabs.activity(0);
        tabs.run_for(30 * SECOND);
    }
    tabs.thaw(1);
    // Its own stale view passed the deadline: the tokens go at once, as rule 1 wants ...
    assert_eq!(tabs.expired(1), [(tabs.now, TeardownReason::Idle)]);
    // ... but the server session, which the other tab uses, is not ended.
    tabs.run_for(5 * SECOND);
    assert_eq!(tabs.server_session_ends, 0);
    assert_eq!(tabs.phases(), [Phase::Active, Phase::Active], "back in with the other's token");
    assert_eq!(tabs.token(1), tabs.token(0));
    assert!(tabs.token(1).is_some());
}

#[test]
fn an_idle_teardown_with_nobody_else_ends_the_server_session_after_asking() {
    let mut tabs = Tabs::new(2, true, false);
    tabs.sign_in(0);
    tabs.freeze(0);
    tabs.freeze(1);
    tabs.now += 30 * MINUTE; // the machine slept
    tabs.thaw(0);
    tabs.thaw(1);
    assert_eq!(tabs.phases(), [Phase::Expired, Phase::Expired]);
    assert_eq!(tabs.server_session_ends, 0, "not yet: the other tabs are asked first");
    tabs.run_for(CONFIRM_IDLE_MS);
    assert!(tabs.server_session_ends >= 1, "nobody answered: the server session ends");
    assert_eq!(tabs.token(0), None);
}

#[test]
fn a_token_that_arrives_after_the_shared_deadline_revives_nothing() {
    let mut tabs = Tabs::new(2, true, false);
    tabs.sign_in(0);
    let message = tabs.tabs[0].session.token_expires_at();
    assert!(message.is_some());
    // The other tab slept through the deadline; a token told late (before it slept) arrives.
    let stale = TabMessage::Activity { at: tabs.now };
    tabs.now += 20 * MINUTE;
    let now = tabs.at();
    tabs.tabs[1].session.handle_tab_message(now, stale);
    assert_eq!(tabs.tabs[1].session.phase(), Phase::Expired);
    assert_eq!(tabs.token(1), None);
}

/// Random sequences per property: three tabs (up to 80 steps each), and forged messages (up to
/// 20 each).
const TAB_CASES: u32 = 256;
const FORGED_CASES: u32 = 1_024;

mod properties {
    //! Random interleavings of input, sign-in, sign-out, requests and time across three tabs.
    use super::*;
    use authpulse::core::SharedToken;
    use proptest::prelude::*;

    /// A date another tab (another version of the app, or a bug) might send: any time around
    /// now, in the far past or future, up to the latest JavaScript `Date` (the engine ignores
    /// messages with dates beyond it).
    fn date(now: u64) -> impl Strategy<Value = u64> {
        prop_oneof![
            (now - HOUR..now + HOUR),
            Just(now),
            (now..now + 400 * 24 * HOUR),
            (0..now),
            Just(8_640_000_000_000_000u64),
        ]
    }

    fn forged(now: u64) -> impl Strategy<Value = TabMessage> {
        let token = (date(now), date(now), date(now), date(now), any::<bool>(), 0..3u64, 0..3u64)
            .prop_map(move |(a, b, signed_in_at, last_activity, refresh, serial, tag)| {
                TabMessage::Token(SharedToken {
                    access_token: "forged".into(),
                    received_at: a.min(b),
                    expires_at: a.max(b),
                    refresh_token: refresh.then(|| "forged-refresh".into()),
                    refresh_serial: serial,
                    session_tag: now + tag,
                    signed_in_at,
                    last_activity,
                })
            });
        prop_oneof![
            3 => date(now).prop_map(|at| TabMessage::Activity { at }),
            3 => token,
            1 => Just(TabMessage::Hello),
            1 => prop_oneof![
                Just(TeardownReason::Idle),
                Just(TeardownReason::MaxSession),
                Just(TeardownReason::Remote),
            ]
            .prop_map(|reason| TabMessage::Teardown { reason }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: FORGED_CASES, ..ProptestConfig::default() })]

        /// Rule 12: whatever another tab sends, with dates anywhere, no deadline moves past what
        /// this tab's own clocks allow: no activity, sign-in or token receipt later than now,
        /// so the idle deadline is at most the idle timeout away and the session cap at most
        /// maxSessionMs; a token's expiry at most the lifetime the message gave it.
        #[test]
        fn messages_from_other_tabs_never_move_a_deadline_past_this_tabs_clocks(
            signed_in in any::<bool>(),
            steps in prop::collection::vec((0..20 * MINUTE, forged(T0 + 10 * MINUTE)), 1..20),
            mono_origin in prop_oneof![Just(0u64), 0..HOUR],
        ) {
            let raw = RawOptions {
                max_session_ms: Raw::Given((2 * HOUR) as f64),
                ..RawOptions::default()
            };
            let mut session = Session::new(Config::from_raw(&raw, "https://app.example").unwrap());
            let mut now = Instant::from_clocks(T0, mono_origin);
            if signed_in {
                let response = TokenResponse {
                    access_token: Some("own".into()),
                    expires_in: Some(300.0.into()),
                    ..TokenResponse::default()
                };
                session.handle_sign_in(now, response).unwrap();
            }
            // The longest lifetime any token here was given.
            let mut lifetime = 300_000;
            for (elapsed, message) in steps {
                now = now.plus_ms(elapsed);
                if let TabMessage::Token(shared) = &message {
                    lifetime = lifetime.max(shared.expires_at - shared.received_at);
                }
                session.handle_tab_message(now, message);
                while session.poll_command().is_some() {}
                if session.signed_in() {
                    prop_assert!(!session.last_activity().is_after(now), "activity in the future");
                    prop_assert!(!session.signed_in_at().is_after(now), "a sign-in in the future");
                    prop_assert!(now.ms_until(session.idle_deadline()) <= 15 * MINUTE);
                    let cap = session.signed_in_at().plus_ms(2 * HOUR);
                    prop_assert!(now.ms_until(cap) <= 2 * HOUR);
                    if let Some(expires_at) = session.token_expires_at() {
                        prop_assert!(now.ms_until(expires_at) <= lifetime);
                    }
                }
            }
        }
    }

    #[derive(Clone, Debug)]
    enum Step {
        Activity(usize),
        Wait(u64),
        /// The machine sleeps: the clock jumps, no timer fires, no answer arrives meanwhile.
        Sleep(u64),
        Token(usize),
        SignIn(usize),
        Start(usize),
        Logout(usize),
        Freeze(usize),
        Thaw(usize),
        Reject(bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0..3usize).prop_map(Step::Activity),
            4 => (0..20 * SECOND).prop_map(Step::Wait),
            4 => (0..5 * MINUTE).prop_map(Step::Wait),
            2 => (0..20 * MINUTE).prop_map(Step::Wait),
            1 => (0..40 * MINUTE).prop_map(Step::Sleep),
            4 => (0..3usize).prop_map(Step::Token),
            1 => (0..3usize).prop_map(Step::SignIn),
            1 => (0..3usize).prop_map(Step::Start),
            1 => (0..3usize).prop_map(Step::Freeze),
            1 => (0..3usize).prop_map(Step::Thaw),
            1 => (0..3usize).prop_map(Step::Logout),
            1 => prop::bool::weighted(0.2).prop_map(Step::Reject),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: TAB_CASES, ..ProptestConfig::default() })]

        /// Whatever happens in whichever tab: no tab hands out a token after the idle deadline
        /// of the user's latest input anywhere, nor an expired one; no refresh token is sent
        /// twice; and no tab signs in again without a sign-in.
        #[test]
        fn tabs_never_outlive_the_shared_deadline_nor_reuse_a_refresh_token(
            steps in prop::collection::vec(step(), 1..80),
            delay_messages in any::<bool>(),
        ) {
            let mut tabs = Tabs::new(3, true, true);
            tabs.delay_messages = delay_messages;
            let mut last_input = None::<u64>;
            let mut expiry = std::collections::HashMap::new();
            for step in steps {
                // A frozen tab runs nothing until it thaws.
                let frozen = |tab: usize| tabs.tabs[tab].frozen;
                let step = match step {
                    Step::SignIn(tab) | Step::Start(tab) if frozen(tab) => Step::Thaw(tab),
                    step => step,
                };
                // A session a step ends on the server is judged by the input before the step.
                let input_before = last_input;
                match step {
                    Step::Activity(tab) => {
                        if !tabs.tabs[tab].frozen {
                            // Input counts for the live session, before its deadline (rule 1),
                            // in a tab that holds it or is about to hear of it.
                            let holds = matches!(
                                tabs.tabs[tab].session.phase(),
                                Phase::Active | Phase::Warning
                            ) || !tabs.in_transit.is_empty();
                            if holds && last_input.is_some_and(|at| tabs.now < at + 15 * MINUTE) {
                                last_input = Some(tabs.now);
                            }
                            tabs.activity(tab);
                        }
                    }
                    Step::Freeze(tab) => tabs.freeze(tab),
                    Step::Thaw(tab) => {
                        // (A tab that runs its deadline check before the messages that
                        // waited while it was frozen is tested on its own above; one frozen
                        // within its own CONFIRM_IDLE_MS window that thaws timer first, just
                        // as a new sign-in happened elsewhere, can still end the new session.)
                        if tabs.tabs[tab].frozen {
                            tabs.thaw_messages_first(tab);
                        }
                    }
                    Step::Wait(ms) => tabs.run_for(ms),
                    Step::Sleep(ms) => {
                        tabs.now += ms;
                        if let Some(turn) = tabs.lock.front_mut() {
                            turn.answer_at = turn.answer_at.map(|at| at.max(tabs.now));
                        }
                    }
                    Step::Token(tab) if tabs.tabs[tab].frozen => {}
                    Step::Token(tab) => {
                        if let Some(token) = tabs.token(tab) {
                            prop_assert!(last_input.is_some(), "a token with no sign-in");
                            let input = last_input.unwrap_or_default();
                            prop_assert!(tabs.now < input + 15 * MINUTE,
                                "tab {} handed out a token at +{} ms, last input at +{} ms",
                                tab, tabs.now - T0, input - T0);
                            let expires = expiry.get(&token).copied().unwrap_or(u64::MAX);
                            prop_assert!(tabs.now < expires, "an expired token");
                        }
                    }
                    Step::SignIn(tab) => {
                        last_input = Some(tabs.now);
                        tabs.sign_in(tab);
                    }
                    Step::Start(tab) => {
                        // start() runs until its resume is answered, as the adapter's does. A
                        // resume that signs in begins a session then, unless it joined the
                        // session of a tab that was signed in.
                        let live = last_input.is_some_and(|at| tabs.now < at + 15 * MINUTE)
                            && tabs.phases().iter().any(|p| matches!(p, Phase::Active | Phase::Warning));
                        tabs.start(tab);
                        tabs.run_for(LATENCY);
                        if !live && matches!(tabs.tabs[tab].session.phase(), Phase::Active | Phase::Warning) {
                            last_input = Some(tabs.now);
                        }
                    }
                    Step::Logout(tab) => {
                        tabs.thaw_all();
                        tabs.logout(tab);
                        tabs.server_session_end_times.clear();
                        tabs.deliver();
                        last_input = None;
                        prop_assert!(tabs.phases().iter().all(|phase| *phase != Phase::Active
                            && *phase != Phase::Warning), "signed out everywhere");
                    }
                    Step::Reject(reject) => tabs.reject_renewals = reject,
                }
                for index in 1..=tabs.issued {
                    expiry.entry(format!("tok-{index}")).or_insert(tabs.issue_times[index - 1]);
                }
                prop_assert_eq!(tabs.reused_refresh_tokens, 0);
                for at in tabs.server_session_end_times.drain(..) {
                    let input = input_before.unwrap_or_default();
                    prop_assert!(at >= input + 15 * MINUTE,
                        "the server session ended at +{} ms, the user's last input was at +{} ms",
                        at - T0, input - T0);
                }
            }
        }
    }
}
