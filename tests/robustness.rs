//! Issue 10 and the same rules of issue 11: nothing a page, a clock or a server sends can freeze a
//! deadline, start a renew storm, make a caller wait without bound, or lose a refresh token.
//! The repro inputs of the issue are here as they were reported (the ones that need a browser
//! are in `tests/e2e/hostile.spec.mjs`).

mod sim;

use authpulse::core::options::Raw;
use authpulse::core::{
    BadTokenResponse, Command, ErrorCode, Event, Instant, Phase, RenewalId, RenewalOutcome,
    Session, SharedToken, TabMessage, TeardownReason, TokenAccess, TokenResponse,
};
use sim::*;

fn errors(sim: &Sim) -> Vec<ErrorCode> {
    sim.events
        .iter()
        .filter_map(|(_, event)| match event {
            Event::Error { code } => Some(*code),
            _ => None,
        })
        .collect()
}

// ---- repro 3: the wall clock steps back ----

#[test]
fn repro_3_the_wall_clock_set_back_an_hour_does_not_keep_the_session() {
    // idleTimeoutMs 60 000, setSession, then the system clock set back one hour and no input.
    let mut sim = Sim::with(options(|raw| raw.idle_timeout_ms = ms(60_000)));
    sim.sign_in();
    sim.set_clock_back(HOUR);
    let start = sim.mono;
    let mut seen = Vec::new();
    for minute in [2, 5, 15, 30, 59, 61] {
        sim.run_for(start + minute * MINUTE - sim.mono);
        seen.push((minute, sim.acquire().is_some(), sim.session.phase()));
    }
    // Before: the token and `active` at 2, 5, 15, 30 and 59 minutes; gone only at 61.
    assert!(seen.iter().all(|&(_, token, phase)| !token && phase == Phase::Expired), "{seen:?}");
    // Torn down 60 s after the sign-in, by the monotonic clock, with the timer.
    let expired = sim.expired_events();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].1, TeardownReason::Idle);
    assert_eq!(expired[0].0, T0 - HOUR + MINUTE, "the wall clock read an hour less");
}

#[test]
fn a_sleep_that_stops_the_monotonic_clock_still_ends_the_session() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.activity();
    sim.sleep(20 * MINUTE); // the wall clock moves on, the monotonic one and every timer stop
    assert_eq!(sim.fetch().attempts, [ApiSaw::NoToken]);
    assert_eq!(sim.expired_events().len(), 1);
}

#[test]
fn a_clock_set_back_then_put_right_again_does_not_end_a_session_early() {
    let mut sim = Sim::new();
    sim.sign_in();
    for _ in 0..10 {
        sim.activity();
        sim.run_for(MINUTE);
        sim.set_clock_back(HOUR);
        sim.run_for(MINUTE);
        sim.now += HOUR; // NTP puts it right: the wall clock says 2 minutes, as it should
    }
    assert!(sim.expired_events().is_empty());
    assert_eq!(sim.fetch().attempts, [ApiSaw::Valid]);
    // (Activity while the clock was an hour behind and then the clock put right looks, by the
    // wall clock, like an hour without input: a deadline passes when either clock says so.)
}

// ---- repro 4: a token born expired ----

#[test]
fn repro_4_a_renew_endpoint_answering_expires_in_5_causes_no_storm() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 20;
    sim.sign_in();
    sim.lifetime_s = 5; // from now on the server means minutes and says 5
    sim.activity();
    sim.run_for(4 * MINUTE); // the proactive renewal
    let first = sim.renewals[0];
    // Then the page keeps asking for tokens for 7 s.
    while sim.now < first + 7 * SECOND {
        let before = sim.mono;
        let result = sim.fetch();
        assert!(sim.mono - before <= 2 * SECOND, "fetch settled in {} ms", sim.mono - before);
        assert_eq!(result.attempts, [ApiSaw::Valid], "the current token is kept");
        sim.activity();
        sim.run_for(50);
    }
    let in_7s = sim.renewals.iter().filter(|&&at| at < first + 7 * SECOND).count();
    // Before: 2,300 to 2,800 renew requests in 7 s. Now: 1 s, 2 s, 4 s of back-off.
    assert!(in_7s <= 4, "{in_7s} renew requests in 7 s");
    assert!(errors(&sim)
        .iter()
        .all(|code| { *code == ErrorCode::BadTokenResponse(BadTokenResponse::TooShortLifetime) }));
    // Once the current token has expired, callers get no token rather than wait for ever.
    sim.run_for(MINUTE);
    let before = sim.mono;
    assert_eq!(sim.fetch().attempts, [ApiSaw::NoToken]);
    assert!(sim.mono - before <= 2 * SECOND);
}

#[test]
fn a_token_barely_longer_than_the_skew_margin_is_renewed_at_most_once_a_second() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 10;
    sim.sign_in();
    sim.lifetime_s = 6; // usable for 1 s
    sim.run_for(6 * MINUTE);
    let start = sim.now;
    while sim.now < start + MINUTE {
        sim.activity();
        let result = sim.fetch();
        assert_ne!(result.attempts, [ApiSaw::Expired]);
        sim.run_for(100);
    }
    let gaps: Vec<u64> =
        sim.renew_log.windows(2).map(|w| w[1].clocks.ms_since(w[0].clocks)).collect();
    assert!(gaps.iter().all(|&gap| gap >= SECOND), "{gaps:?}");
    assert!(sim.renewals.len() <= 62, "{} renewals in a minute", sim.renewals.len());
}

#[test]
fn an_api_that_refuses_every_token_cannot_drive_renewals_faster_than_the_floor() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 1;
    sim.sign_in();
    for _ in 0..200 {
        let result = sim.fetch_with(|_| 401);
        assert!(result.attempts.len() <= 2);
        sim.run_for(10);
    }
    let gaps: Vec<u64> =
        sim.renew_log.windows(2).map(|w| w[1].clocks.ms_since(w[0].clocks)).collect();
    assert!(gaps.iter().all(|&gap| gap >= SECOND), "{gaps:?}");
    // A 401 right after a renewal waits out the rest of the floor, then retries once.
    assert!(sim.renewals.len() >= 2);
}

// ---- the renewal margin ----

#[test]
fn a_margin_as_long_as_the_lifetime_renews_once_per_half_lifetime_not_on_every_event() {
    // renewBeforeExpiryMs: 60 000 with an identity provider's 60-second tokens.
    let mut sim = Sim::with(options(|raw| raw.renew_before_expiry_ms = ms(60_000)));
    sim.lifetime_s = 60;
    sim.sign_in();
    for _ in 0..(120 * 10) {
        sim.activity(); // mouse movement, 10 events a second
        sim.run_for(100);
    }
    // Before: 120 renewals in 120 s. Now one every 30 s (half the lifetime).
    let gaps: Vec<u64> = sim.renewals.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(sim.renewals[0], T0 + 30 * SECOND);
    let latency = sim.renew_latency_ms;
    assert!(
        sim.renewals.len() >= 3 && gaps.iter().all(|&gap| gap == 30 * SECOND + latency),
        "{gaps:?}"
    );
}

// ---- Retry-After ----

#[test]
fn retry_after_120_on_503_sets_the_next_attempt() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 0;
    sim.sign_in();
    sim.renew_mode = RenewMode::RetryAfter(503, 120);
    sim.activity();
    sim.run_for(4 * MINUTE);
    let first = sim.renewals[0];
    for _ in 0..150 {
        sim.activity();
        sim.run_for(SECOND);
    }
    // Before: eight more attempts inside those 120 s.
    assert_eq!(sim.renewals[1] - first, 120 * SECOND);
    // At most 5 minutes, whatever the header says.
    sim.renew_mode = RenewMode::RetryAfter(429, 86_400);
    let count = sim.renewals.len();
    for _ in 0..400 {
        sim.activity();
        sim.run_for(SECOND);
    }
    let gaps: Vec<u64> = sim.renewals[count..].windows(2).map(|w| w[1] - w[0]).collect();
    assert!(!gaps.is_empty() && gaps.iter().all(|&gap| gap == 5 * MINUTE), "{gaps:?}");
}

#[test]
fn retry_after_0_on_a_429_backs_off_as_without_it() {
    // A Retry-After shorter than the back-off step (0, a past date) cannot shorten the wait:
    // otherwise renewals go at the floor rate and callers wait for one after another.
    let mut sim = Sim::new();
    sim.renew_latency_ms = 0;
    sim.sign_in();
    sim.renew_mode = RenewMode::RetryAfter(429, 0);
    for _ in 0..(4 * 60 + 10) {
        sim.activity();
        sim.run_for(SECOND);
    }
    let gaps: Vec<u64> = sim.renewals.windows(2).map(|w| (w[1] - w[0]) / SECOND).collect();
    assert_eq!(&gaps[..3], [1, 2, 4], "the back-off steps");
}

#[test]
fn retry_after_on_a_500_is_not_honoured() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 0;
    sim.sign_in();
    sim.renew_mode = RenewMode::RetryAfter(500, 120);
    for _ in 0..(4 * 60 + 10) {
        sim.activity();
        sim.run_for(SECOND);
    }
    let gaps: Vec<u64> = sim.renewals.windows(2).map(|w| (w[1] - w[0]) / SECOND).collect();
    assert_eq!(&gaps[..3], [1, 2, 4], "the back-off steps");
}

// ---- the refresh-token strategy ----

const T: u64 = 1_800_000_000_000;

fn refresh_session(cross_tab: bool) -> Session {
    Session::new(options(|raw| {
        raw.token_endpoint = Raw::Given("https://idp.example/token".into());
        raw.client_id = Raw::Given("spa".into());
        raw.revoke_url = Raw::Given("https://idp.example/revoke".into());
        raw.cross_tab = Raw::Given(cross_tab);
    }))
}

fn grant(access: &str, refresh: Option<&str>, expires_in: Option<f64>) -> TokenResponse {
    TokenResponse {
        access_token: Some(access.into()),
        expires_in: expires_in.map(Into::into),
        token_type: Some("Bearer".into()),
        refresh_token: refresh.map(Into::into),
        ..TokenResponse::default()
    }
}

fn commands(session: &mut Session) -> Vec<Command> {
    std::iter::from_fn(|| session.poll_command()).collect()
}

/// The grant the session sends: its id and refresh token.
fn sent(commands: &[Command]) -> Option<(RenewalId, Option<String>)> {
    commands.iter().find_map(|command| match command {
        Command::Renew { id, refresh_token, .. } => Some((*id, refresh_token.clone())),
        _ => None,
    })
}

fn revoked(commands: &[Command]) -> Vec<String> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Revoke(token) => Some(token.clone()),
            Command::EndServerSession { refresh_token: Some(token) } => Some(token.clone()),
            _ => None,
        })
        .collect()
}

/// Signed in with R1, then a renewal on demand: its id.
fn renewing(session: &mut Session) -> RenewalId {
    let t = Instant::from_millis(T);
    session.handle_sign_in(t, grant("a1", Some("R1"), Some(60.0))).unwrap();
    commands(session);
    let later = t.plus_ms(56 * 1_000);
    assert_eq!(session.access_token(later), TokenAccess::Wait);
    let (id, refresh) = sent(&commands(session)).expect("a grant");
    assert_eq!(refresh.as_deref(), Some("R1"));
    id
}

#[test]
fn a_rotated_refresh_token_is_taken_from_an_answer_refused_for_anything_else() {
    // The report's answer: expires_in as a string (now valid), or a DPoP token (still refused).
    let mut session = refresh_session(false);
    let id = renewing(&mut session);
    let now = Instant::from_millis(T + 57_000);
    let mut dpop = grant("a2", Some("R2"), Some(60.0));
    dpop.token_type = Some("DPoP".into());
    session.handle_renewal(now, id, RenewalOutcome::Token(dpop));
    assert!(commands(&mut session).iter().any(|c| matches!(
        c,
        Command::Emit(Event::Error {
            code: ErrorCode::BadTokenResponse(BadTokenResponse::UnsupportedTokenType)
        })
    )));
    assert_eq!(session.refresh_token(), Some("R2"), "R2 is kept although the rest was refused");
    // The next grant (after the back-off) sends R2, never R1 again.
    let later = now.plus_ms(2_000);
    assert_eq!(session.access_token(later), TokenAccess::Wait);
    assert_eq!(sent(&commands(&mut session)).and_then(|(_, r)| r).as_deref(), Some("R2"));
}

#[test]
fn a_rotated_refresh_token_is_taken_from_an_answer_that_comes_after_the_timeout() {
    let mut session = refresh_session(false);
    let id = renewing(&mut session);
    // The grant hangs: the session stops waiting after 30 s (the request goes on).
    let late = Instant::from_millis(T + 56_000 + 31_000);
    session.handle_timeout(late);
    assert!(commands(&mut session).contains(&Command::CancelRenewal(id)));
    session.handle_renewal(
        late.plus_ms(1),
        id,
        RenewalOutcome::Token(grant("a2", Some("R2"), Some(60.0))),
    );
    assert_eq!(session.refresh_token(), Some("R2"));
    // ... and its access token, valid and newer, with the session still running.
    match session.access_token(late.plus_ms(2)) {
        TokenAccess::Ready { token, .. } => assert_eq!(token, "a2"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn logout_during_a_rotation_revokes_the_refresh_token_that_arrives_after_it() {
    let mut session = refresh_session(false);
    let id = renewing(&mut session);
    let now = Instant::from_millis(T + 56_100);
    session.handle_logout(now);
    let at_logout = commands(&mut session);
    assert!(at_logout.contains(&Command::CancelRenewal(id)));
    assert_eq!(revoked(&at_logout), ["R1"], "the newest known at the logout");
    // The grant was on its way: the server rotated R1 to R2 and answers after the logout.
    session.handle_renewal(
        now.plus_ms(200),
        id,
        RenewalOutcome::Token(grant("a2", Some("R2"), Some(60.0))),
    );
    assert_eq!(revoked(&commands(&mut session)), ["R2"]);
    assert_eq!(session.phase(), Phase::SignedOut, "and nothing signs in again");
    assert_eq!(session.access_token(now.plus_ms(300)), TokenAccess::Unavailable);
}

#[test]
fn an_answer_of_a_session_replaced_by_a_new_sign_in_is_revoked_not_taken() {
    let mut session = refresh_session(false);
    let id = renewing(&mut session);
    let now = Instant::from_millis(T + 56_100);
    session.handle_sign_in(now, grant("b1", Some("S1"), Some(60.0))).unwrap();
    commands(&mut session);
    session.handle_renewal(
        now.plus_ms(100),
        id,
        RenewalOutcome::Token(grant("a2", Some("R2"), Some(60.0))),
    );
    assert_eq!(revoked(&commands(&mut session)), ["R2"]);
    assert_eq!(session.refresh_token(), Some("S1"));
}

#[test]
fn a_non_rotating_server_keeps_the_refresh_token() {
    let mut session = refresh_session(false);
    let id = renewing(&mut session);
    let now = Instant::from_millis(T + 56_100);
    session.handle_renewal(now, id, RenewalOutcome::Token(grant("a2", None, Some(60.0))));
    assert_eq!(session.refresh_token(), Some("R1"));
}

#[test]
fn token_response_variants_as_real_servers_send_them() {
    let t = Instant::from_millis(T);
    let lifetime = |response: TokenResponse| {
        let mut session = refresh_session(false);
        session
            .handle_sign_in(t, response)
            .map(|()| session.token_expires_at().map(|at| at.ms_since(t)).unwrap_or_default())
    };
    let mut digits = grant("a", Some("R"), None);
    digits.expires_in = Some(authpulse::core::ExpiresIn::Text("3599".into()));
    assert_eq!(lifetime(digits), Ok(3_599_000));
    let mut jwt = grant("h.p.s", None, None);
    jwt.jwt_exp_iat = Some((1_700_000_120.0, 1_700_000_000.0));
    assert_eq!(lifetime(jwt), Ok(120_000));
    assert_eq!(lifetime(grant("opaque", None, None)), Ok(300_000));
    let mut lower = grant("a", None, Some(60.0));
    lower.token_type = Some("bearer".into());
    assert_eq!(lifetime(lower), Ok(60_000));
    let mut dpop = grant("a", None, Some(60.0));
    dpop.token_type = Some("DPoP".into());
    assert_eq!(lifetime(dpop), Err(BadTokenResponse::UnsupportedTokenType));
    let mut untyped = grant("a", None, Some(60.0));
    untyped.token_type = None;
    assert_eq!(lifetime(untyped), Ok(60_000));
}

#[test]
fn start_without_a_refresh_token_sends_no_grant_and_asks_the_other_tabs() {
    let t = Instant::from_millis(T);
    let mut alone = refresh_session(false);
    assert!(!alone.handle_resume(t), "nothing to try: start() resolves false at once");
    assert!(!alone.callers_wait());
    assert!(sent(&commands(&mut alone)).is_none(), "no grant with an empty refresh token");

    let mut tab = refresh_session(true);
    assert!(tab.handle_resume(t));
    let said = commands(&mut tab);
    assert!(sent(&said).is_none());
    assert!(said.contains(&Command::Broadcast(TabMessage::Hello)));
    assert!(tab.callers_wait(), "start() waits for an answer ...");
    assert_eq!(tab.access_token(t.plus_ms(10)), TokenAccess::Wait);
    let deadline = tab.poll_timeout().expect("... for a bounded time");
    assert_eq!(deadline, t.plus_ms(1_000));
    tab.handle_timeout(deadline);
    assert!(!tab.callers_wait());
    assert_eq!(tab.phase(), Phase::SignedOut, "nobody answered: start() resolves false");
    assert!(sent(&commands(&mut tab)).is_none());
}

// ---- tab messages: repro 2 ----

fn tab_session() -> Session {
    Session::new(options(|raw| raw.idle_timeout_ms = ms(15 * MINUTE)))
}

fn shared(now: u64, received: u64, expires: u64, activity: u64) -> TabMessage {
    TabMessage::Token(SharedToken {
        access_token: "injected".into(),
        received_at: received,
        expires_at: expires,
        refresh_token: None,
        refresh_serial: 0,
        session_tag: now,
        signed_in_at: received,
        last_activity: activity,
    })
}

#[test]
fn repro_2_an_activity_message_an_hour_ahead_does_not_make_the_next_sign_in_immune() {
    let mut session = tab_session();
    let t = Instant::from_millis(T);
    session.handle_sign_in(t, grant("a", None, Some(3_600.0))).unwrap();
    // [1, Date.now() + 3600000] on the channel.
    session.handle_tab_message(t, TabMessage::Activity { at: T + HOUR });
    assert_eq!(session.last_activity(), t, "taken as now");
    assert_eq!(session.idle_deadline(), t.plus_ms(15 * MINUTE));
    session.handle_logout(t.plus_ms(1));
    let next = t.plus_ms(2);
    session.handle_sign_in(next, grant("b", None, Some(3_600.0))).unwrap();
    session.handle_timeout(next.plus_ms(15 * MINUTE));
    assert_eq!(session.phase(), Phase::Expired, "the next sign-in times out as it should");
}

#[test]
fn repro_2_a_token_message_dated_a_day_ahead_keeps_nothing_alive_past_the_local_clocks() {
    let mut session = tab_session();
    let t = Instant::from_millis(T);
    // An injected token whose expiry and activity are a day in the future.
    session.handle_tab_message(t, shared(T, T + DAY, T + 2 * DAY, T + 2 * DAY));
    assert_eq!(session.phase(), Phase::Active, "other tabs are trusted to share a session ...");
    assert_eq!(session.last_activity(), t, "... but only as far as this tab's clocks");
    assert_eq!(session.token_expires_at(), Some(t.plus_ms(DAY)), "its lifetime from now");
    session.handle_timeout(t.plus_ms(15 * MINUTE));
    assert_eq!(session.phase(), Phase::Expired, "no input: the idle deadline holds");
    assert_eq!(session.access_token(t.plus_ms(15 * MINUTE)), TokenAccess::Unavailable);
}

#[test]
fn a_token_message_that_is_not_a_token_is_ignored() {
    let t = Instant::from_millis(T);
    for bad in [
        SharedToken { access_token: "a\r\nX: 1".into(), ..token_fields(T) },
        SharedToken { access_token: String::new(), ..token_fields(T) },
        SharedToken { access_token: "a".repeat(16 * 1024 + 1), ..token_fields(T) },
        SharedToken { expires_at: T - 1, ..token_fields(T) },
        SharedToken { refresh_token: Some(String::new()), ..token_fields(T) },
    ] {
        let mut session = tab_session();
        session.handle_tab_message(t, TabMessage::Token(bad));
        assert_eq!(session.phase(), Phase::SignedOut);
    }
    let mut session = tab_session();
    session.handle_tab_message(t, TabMessage::Token(token_fields(T)));
    assert_eq!(session.phase(), Phase::Active, "the same message, well formed");
}

fn token_fields(now: u64) -> SharedToken {
    SharedToken {
        access_token: "a".into(),
        received_at: now,
        expires_at: now + 300_000,
        refresh_token: None,
        refresh_serial: 0,
        session_tag: now,
        signed_in_at: now,
        last_activity: now,
    }
}

const DAY: u64 = 24 * HOUR;
