//! The contract's client rules as scenarios over simulated time (see `sim`).

mod sim;

use authpulse::core::{ErrorCode, Event, Phase, TeardownReason};
use sim::*;

fn is_warning(event: &Event) -> bool {
    matches!(event, Event::IdleWarning { .. })
}

fn is_error(event: &Event) -> bool {
    matches!(event, Event::Error { .. })
}

#[test]
fn active_user_for_8_hours_with_5_minute_tokens_is_renewed_ahead_of_expiry_and_never_sees_401() {
    let mut sim = Sim::new();
    assert!(sim.start());
    let mut fetches = 0;
    for step in 0.. {
        if sim.elapsed() >= 8 * HOUR {
            break;
        }
        sim.activity();
        if step % 2 == 0 {
            let result = sim.fetch();
            assert_eq!(result.status, 200, "at {} ms", sim.elapsed());
            assert_eq!(result.attempts, [ApiSaw::Valid], "one attempt, a valid token");
            fetches += 1;
        }
        sim.run_for(30 * SECOND);
    }
    // One token from start() plus proactive renewals every (lifetime − margin) = 4 minutes.
    let expected = (8 * HOUR).div_ceil(5 * MINUTE - MINUTE) as usize;
    assert_eq!(sim.renewals.len(), expected);
    assert_eq!(expected, 120);
    assert_eq!(fetches, 480);
    assert!(sim.expired_events().is_empty());
    assert_eq!(sim.count_events(is_warning), 0);
    assert_eq!(sim.session.phase(), Phase::Active);
}

#[test]
fn idle_user_is_warned_60_seconds_before_and_torn_down_exactly_15_minutes_after_last_activity() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(2 * MINUTE);
    sim.activity();
    let last_activity = sim.now;
    sim.run_for(HOUR);
    let warnings: Vec<u64> =
        sim.events.iter().filter(|(_, event)| is_warning(event)).map(|(at, _)| *at).collect();
    assert_eq!(warnings, [last_activity + 14 * MINUTE]);
    assert!(sim.events.contains(&(
        last_activity + 14 * MINUTE,
        Event::IdleWarning {
            expires_at: authpulse::core::Instant::from_millis(last_activity + 15 * MINUTE)
        }
    )));
    assert_eq!(sim.expired_events(), [(last_activity + 15 * MINUTE, TeardownReason::Idle)]);
    assert_eq!(sim.session.phase(), Phase::Expired);
    assert_eq!(sim.fetch().attempts, [ApiSaw::NoToken], "after teardown requests carry no token");
    assert_eq!(sim.server_session_ends, 1, "the server session is ended too (logoutUrl)");
}

#[test]
fn activity_during_the_warning_cancels_it_and_the_session_goes_on() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(14 * MINUTE + 10 * SECOND);
    assert_eq!(sim.session.phase(), Phase::Warning);
    sim.activity();
    assert_eq!(sim.session.phase(), Phase::Active);
    assert_eq!(sim.events.last().map(|(_, event)| *event), Some(Event::Active));
    let resumed_at = sim.now;
    sim.run_for(14 * MINUTE);
    assert!(sim.expired_events().is_empty(), "the old deadline passed without teardown");
    sim.run_for(MINUTE);
    assert_eq!(sim.expired_events(), [(resumed_at + 15 * MINUTE, TeardownReason::Idle)]);
}

#[test]
fn inactive_users_token_is_not_renewed_and_activity_before_the_deadline_renews_at_once() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(10 * MINUTE);
    assert!(sim.renewals.is_empty(), "no activity, no proactive renewal");
    assert_eq!(sim.session.phase(), Phase::Active, "still inside the idle timeout");
    sim.activity();
    assert_eq!(sim.renewals, [sim.now], "activity renews the expired token at once");
    sim.run_for(SECOND);
    assert_eq!(sim.fetch().attempts, [ApiSaw::Valid]);
}

#[test]
fn activity_between_renewals_is_enough_even_if_it_stops_before_the_renewal_time() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(MINUTE);
    sim.activity(); // recorded lazily, below the report threshold
    sim.run_for(4 * MINUTE - SECOND);
    assert_eq!(sim.renewals, [T0 + 4 * MINUTE], "renewed at the proactive time, before expiry");
}

#[test]
fn a_20_minute_sleep_tears_down_before_any_request_goes_out() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.activity();
    sim.run_for(MINUTE);
    sim.sleep(20 * MINUTE);
    let result = sim.fetch();
    assert_eq!(result.attempts, [ApiSaw::NoToken]);
    assert_eq!(sim.expired_events(), [(sim.now, TeardownReason::Idle)]);
    assert!(sim.renewals.is_empty(), "no renewal for a session past its deadline");
}

#[test]
fn waking_the_laptop_after_the_deadline_never_revives_the_session() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.sleep(16 * MINUTE);
    sim.activity(); // the user opens the lid and moves the mouse
    assert_eq!(sim.session.phase(), Phase::Expired);
    assert_eq!(sim.expired_events().len(), 1);
    assert!(sim.renewals.is_empty());
}

#[test]
fn activity_just_before_a_short_sleep_keeps_the_session() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(14 * MINUTE - SECOND);
    sim.activity(); // lazily recorded
    sim.sleep(2 * MINUTE); // the timer could not fire at the old deadline
    sim.activity(); // on wake: the recorded activity is flushed first
    assert_eq!(sim.session.phase(), Phase::Active);
    assert!(sim.expired_events().is_empty());
}

#[test]
fn hundred_concurrent_requests_on_an_expired_token_cause_one_renewal() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(6 * MINUTE); // idle: the token expired unrenewed
    let mut generations = Vec::new();
    for _ in 0..100 {
        match sim.session.access_token(sim.at()) {
            authpulse::core::TokenAccess::Wait => {}
            other => panic!("expected to wait for the renewal, got {other:?}"),
        }
        sim.drain();
    }
    assert_eq!(sim.renewals.len(), 1);
    sim.settle();
    for _ in 0..100 {
        let (_, generation) = sim.acquire().expect("a token after the renewal");
        generations.push(generation);
    }
    assert_eq!(sim.renewals.len(), 1, "everyone shares the one renewal");
    assert!(generations.iter().all(|&g| g == generations[0]));
}

#[test]
fn a_401_from_the_renew_endpoint_signs_out_with_reason_session() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.revoke_server_session();
    let result = sim.fetch();
    assert_eq!(result.status, 401, "the app gets the original 401");
    assert_eq!(result.attempts, [ApiSaw::Revoked], "no retry without a new token");
    assert_eq!(sim.renewals.len(), 1, "one renewal was tried");
    assert_eq!(sim.expired_events(), [(sim.now, TeardownReason::Session)]);
    assert_eq!(sim.session.phase(), Phase::Expired);
    assert_eq!(sim.server_session_ends, 0, "the server already ended it");
}

#[test]
fn proactive_renewal_rejected_signs_out() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.renew_mode = RenewMode::Reject;
    for _ in 0..5 {
        sim.activity();
        sim.run_for(MINUTE);
    }
    assert_eq!(sim.expired_events(), [(T0 + 4 * MINUTE + 100, TeardownReason::Session)]);
}

#[test]
fn server_errors_back_off_1_2_4_up_to_30_seconds_and_keep_the_token_until_it_expires() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 0;
    sim.sign_in();
    sim.renew_mode = RenewMode::Status(500);
    let mut still_valid = 0;
    for _ in 0..(8 * 60) {
        sim.activity();
        sim.run_for(SECOND);
        if sim.now < T0 + 5 * MINUTE - 5 * SECOND {
            assert_eq!(sim.fetch().attempts, [ApiSaw::Valid], "the current token is kept");
            still_valid += 1;
        }
    }
    assert!(still_valid > 0);
    let gaps: Vec<u64> = sim.renewals.windows(2).map(|pair| (pair[1] - pair[0]) / SECOND).collect();
    assert_eq!(sim.renewals[0], T0 + 4 * MINUTE);
    assert_eq!(&gaps[..7], [1, 2, 4, 8, 16, 30, 30]);
    assert!(gaps.iter().all(|&gap| gap <= 30));
    assert_eq!(sim.count_events(is_error), sim.renewals.len());
    assert!(sim.expired_events().is_empty(), "a failing renew endpoint is not a sign-out");
    assert!(sim.events.iter().any(|(_, e)| *e == Event::Error { code: ErrorCode::Status(500) }));
    // The server recovers: the next attempt succeeds and back-off is forgotten.
    sim.renew_mode = RenewMode::Ok;
    sim.activity();
    sim.run_for(31 * SECOND);
    assert_eq!(sim.fetch().attempts, [ApiSaw::Valid]);
}

#[test]
fn requests_during_back_off_with_an_expired_token_go_out_without_it() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.renew_mode = RenewMode::Network;
    sim.run_for(6 * MINUTE);
    let result = sim.fetch();
    assert_eq!(result.attempts, [ApiSaw::NoToken], "never an expired token");
    assert_eq!(sim.renewals.len(), 1, "the on-demand renewal failed; back-off holds the rest");
}

#[test]
fn a_request_is_retried_once_only() {
    let mut sim = Sim::new();
    sim.sign_in();
    let result = sim.fetch_with(|_| 401);
    assert_eq!(result.status, 401);
    assert_eq!(result.attempts.len(), 2, "one retry");
    assert_eq!(sim.renewals.len(), 1, "one renewal for the refused token");
}

#[test]
fn a_401_for_a_token_already_replaced_retries_with_the_new_one_without_renewing() {
    let mut sim = Sim::new();
    sim.sign_in();
    let (_, old_generation) = sim.acquire().expect("token");
    sim.activity();
    sim.run_for(4 * MINUTE + SECOND); // proactive renewal replaced the token
    assert_eq!(sim.renewals.len(), 1);
    let info = authpulse::core::ResponseInfo {
        status: 401,
        www_authenticate: None,
        carried_token: true,
        retried: false,
        replayable: true,
        final_url_allowed: true,
    };
    let decision = sim.session.handle_response(&info, Some(old_generation));
    assert_eq!(decision, authpulse::core::RetryDecision::Retry);
    let (_, generation) = sim.acquire().expect("the newer token");
    assert_eq!(generation, old_generation + 1);
    assert_eq!(sim.renewals.len(), 1, "no renewal: the token had already been replaced");
}

#[test]
fn a_403_is_returned_untouched_without_renewal() {
    let mut sim = Sim::new();
    sim.sign_in();
    let result = sim.fetch_with(|_| 403);
    assert_eq!((result.status, result.attempts), (403, vec![ApiSaw::Valid]));
    assert!(sim.renewals.is_empty());
}

#[test]
fn max_session_caps_an_active_user() {
    let mut sim = Sim::with(options(|raw| raw.max_session_ms = ms(HOUR)));
    sim.sign_in();
    while sim.elapsed() < 2 * HOUR {
        sim.activity();
        sim.run_for(20 * SECOND);
    }
    assert_eq!(sim.expired_events(), [(T0 + HOUR, TeardownReason::MaxSession)]);
    assert_eq!(sim.fetch().attempts, [ApiSaw::NoToken]);
}

#[test]
fn logout_during_a_renewal_ignores_its_late_answer() {
    let mut sim = Sim::new();
    sim.renew_latency_ms = 2 * SECOND;
    sim.sign_in();
    sim.activity();
    sim.run_for(4 * MINUTE + SECOND); // renewal in flight
    assert_eq!(sim.renewals_in_flight(), 1);
    sim.logout();
    assert_eq!(sim.cancelled.len(), 1, "the request is aborted");
    sim.run_for(MINUTE);
    assert_eq!(sim.session.phase(), Phase::SignedOut);
    assert_eq!(sim.expired_events(), [(T0 + 4 * MINUTE + SECOND, TeardownReason::Logout)]);
    assert_eq!(sim.fetch().attempts, [ApiSaw::NoToken]);
}

#[test]
fn a_renewal_that_never_answers_times_out_and_backs_off() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.renew_mode = RenewMode::Silent;
    sim.activity();
    sim.run_for(4 * MINUTE + 31 * SECOND);
    assert_eq!(sim.cancelled.len(), 1);
    assert!(sim.events.iter().any(|(_, e)| *e == Event::Error { code: ErrorCode::Timeout }));
}

#[test]
fn a_malformed_token_response_keeps_the_current_token() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.renew_mode = RenewMode::Malformed;
    sim.activity();
    sim.run_for(4 * MINUTE + SECOND);
    assert!(sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::Error { code: ErrorCode::BadTokenResponse(_) })));
    assert_eq!(sim.fetch().attempts, [ApiSaw::Valid]);
}

#[test]
fn start_without_a_session_stays_signed_out_quietly() {
    let mut sim = Sim::new();
    sim.renew_mode = RenewMode::Reject;
    assert!(!sim.start());
    assert_eq!(sim.session.phase(), Phase::SignedOut);
    assert!(sim.events.is_empty());
}

#[test]
fn the_server_learns_how_long_the_user_has_been_idle() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(MINUTE);
    sim.activity();
    sim.run_for(5 * MINUTE); // the proactive renewal at 4 min reports 3 idle minutes
    assert_eq!(sim.renewal_idle_ms, [3 * MINUTE]);
}

#[test]
fn a_wall_clock_stepping_back_does_not_extend_the_session() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(10 * MINUTE);
    sim.now -= 30 * MINUTE; // the user sets the clock back
    sim.run_for(10 * MINUTE);
    sim.now = T0 + 16 * MINUTE;
    sim.run_for(SECOND);
    assert_eq!(sim.expired_events().len(), 1);
}

#[test]
fn a_renewal_still_in_flight_at_the_idle_deadline_is_abandoned() {
    let mut sim = Sim::new();
    sim.sign_in();
    sim.run_for(15 * MINUTE - 5 * SECOND); // idle; the token expired unrenewed
    sim.renew_latency_ms = 20 * SECOND;
    let result = sim.fetch(); // on-demand renewal, answered 15 s after the deadline
    assert_eq!(result.attempts, [ApiSaw::NoToken]);
    assert_eq!(sim.renewals.len(), 1);
    assert_eq!(sim.expired_events(), [(T0 + 15 * MINUTE, TeardownReason::Idle)]);
    assert_eq!(sim.cancelled.len(), 1, "the request is aborted at the deadline");
    let renewed = sim.count_events(|event| matches!(event, Event::Renewed { .. }));
    assert_eq!(renewed, 1, "only the sign-in stored a token");
}
