//! Invariants over random sequences of user activity, requests, server behaviour and clock
//! steps: the wall clock set back and forward, sleeps that stop the monotonic clock and every
//! timer, frozen tabs whose timers do not run. Deadlines are checked by both clocks, as the
//! contract states them: no token after the idle deadline, past its expiry or past
//! `maxSessionMs` by either clock; renew requests at least 1 s apart; no wait without bound.

mod sim;

use authpulse::core::Instant;
use proptest::prelude::*;
use sim::*;

#[derive(Clone, Debug)]
enum Step {
    Activity,
    /// Time passes in a foreground tab: every timer fires on time.
    Wait(u64),
    /// The laptop sleeps: the wall clock jumps, the monotonic one stops, no timer fires.
    Sleep(u64),
    /// A frozen or throttled tab: both clocks run, no timer fires.
    Freeze(u64),
    /// The wall clock is set back (a user, NTP, a resumed VM).
    ClockBack(u64),
    /// The wall clock is set forward.
    ClockForward(u64),
    Fetch,
    /// The API refuses every token (revoked server-side, clock skew …).
    FetchRefused,
    SignIn,
    Start,
    Logout,
    Server(RenewMode),
    Latency(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => Just(Step::Activity),
        4 => (0..10 * SECOND).prop_map(Step::Wait),
        4 => (0..5 * MINUTE).prop_map(Step::Wait),
        2 => (0..20 * MINUTE).prop_map(Step::Wait),
        1 => (0..40 * MINUTE).prop_map(Step::Sleep),
        1 => (0..40 * MINUTE).prop_map(Step::Freeze),
        1 => prop_oneof![(0..10 * SECOND), (0..2 * HOUR)].prop_map(Step::ClockBack),
        1 => prop_oneof![(0..10 * SECOND), (0..2 * HOUR)].prop_map(Step::ClockForward),
        4 => Just(Step::Fetch),
        1 => Just(Step::FetchRefused),
        1 => Just(Step::SignIn),
        1 => Just(Step::Start),
        1 => Just(Step::Logout),
        2 => prop_oneof![
            3 => Just(RenewMode::Ok),
            1 => Just(RenewMode::Status(503)),
            1 => Just(RenewMode::Reject),
            1 => Just(RenewMode::Network),
            1 => Just(RenewMode::Malformed),
            1 => Just(RenewMode::Silent),
            1 => Just(RenewMode::RetryAfter(503, 120)),
        ]
        .prop_map(Step::Server),
        1 => (0..3 * SECOND).prop_map(Step::Latency),
    ]
}

/// Options from short to default timings, with and without a session cap.
fn config() -> impl Strategy<Value = (u64, u64, Option<u64>, u64)> {
    (
        prop_oneof![Just(15 * MINUTE), (2 * MINUTE..30 * MINUTE)],
        prop_oneof![Just(MINUTE), Just(0), (0..MINUTE)],
        prop_oneof![Just(None), (30 * MINUTE..4 * HOUR).prop_map(Some)],
        prop_oneof![Just(300), (30u64..1_800)],
    )
}

/// The latest moment a token may still be handed out, by what the simulation fed in, by both
/// clocks.
struct Oracle {
    idle_timeout: u64,
    max_session: Option<u64>,
    signed_in_at: Option<Instant>,
}

impl Oracle {
    fn check_token_use(&self, sim: &Sim, result: &FetchResult) {
        for (saw, &at) in result.attempts.iter().zip(&result.sent_clocks) {
            if *saw == ApiSaw::NoToken {
                continue;
            }
            // The server judges expiry by both clocks of the page at receipt.
            assert_ne!(*saw, ApiSaw::Expired, "an expired token was sent at {at:?}");
            let signed_in_at = self.signed_in_at.expect("a token without a sign-in");
            // The client may know of less activity than was fed in, never of more.
            let last_activity =
                sim.last_activity_clocks.map_or(signed_in_at, |at| signed_in_at.later(at));
            let idle_deadline = last_activity.plus_ms(self.idle_timeout);
            assert!(
                !at.reached(idle_deadline),
                "token sent at {at:?} after the idle deadline {idle_deadline:?} by a clock",
            );
            if let Some(cap) = self.max_session {
                assert!(!at.reached(signed_in_at.plus_ms(cap)), "token sent after maxSessionMs");
            }
        }
    }
}

/// Random sequences run per property (each up to 80 steps).
const CASES: u32 = 512;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn tokens_renewals_and_deadlines_stay_within_the_rules(
        (idle, warn, cap, lifetime) in config(),
        steps in prop::collection::vec(step(), 1..80),
    ) {
        let warn = warn.min(idle / 2);
        let mut sim = Sim::with(options(|raw| {
            raw.idle_timeout_ms = ms(idle);
            raw.warn_before_idle_ms = ms(warn);
            if let Some(cap) = cap {
                raw.max_session_ms = ms(cap);
            }
        }));
        sim.lifetime_s = lifetime;
        let mut oracle = Oracle { idle_timeout: idle, max_session: cap, signed_in_at: None };
        for step in steps {
            let was_signed_in = sim.session.signed_in();
            let teardowns = sim.expired_events().len();
            match step.clone() {
                Step::Activity => sim.activity(),
                Step::Wait(ms) => sim.run_for(ms),
                Step::Sleep(ms) => sim.sleep(ms),
                Step::Freeze(ms) => sim.freeze(ms),
                Step::ClockBack(ms) => sim.set_clock_back(ms),
                Step::ClockForward(ms) => sim.now += ms,
                Step::Fetch => {
                    let result = sim.fetch();
                    oracle.check_token_use(&sim, &result);
                }
                Step::FetchRefused => {
                    let result = sim.fetch_with(|_| 401);
                    prop_assert!(result.attempts.len() <= 2, "retried more than once");
                    oracle.check_token_use(&sim, &result);
                }
                Step::SignIn => {
                    sim.sign_in();
                    sim.last_activity_input = None;
                    sim.last_activity_clocks = None;
                }
                Step::Start => {
                    sim.start();
                }
                Step::Logout => sim.logout(),
                Step::Server(mode) => sim.renew_mode = mode,
                Step::Latency(ms) => sim.renew_latency_ms = ms,
            }
            let new_session =
                !was_signed_in || matches!(step, Step::SignIn) || sim.expired_events().len() > teardowns;
            if sim.session.signed_in() && new_session {
                oracle.signed_in_at = Some(sim.at());
                if matches!(step, Step::Start) {
                    sim.last_activity_input = None;
                    sim.last_activity_clocks = None;
                }
            }
            prop_assert!(sim.outstanding.len() <= 1, "more than one renewal in flight");
            for pair in sim.renew_log.windows(2) {
                prop_assert!(
                    pair[1].clocks.ms_since(pair[0].clocks) >= SECOND,
                    "renew requests less than 1 s apart: {:?}", pair
                );
            }
            prop_assert!(!sim.session.callers_wait() || sim.session.poll_timeout().is_some(),
                "callers wait with no deadline to wake them");
            for record in &sim.renew_log {
                prop_assert!(
                    record.caller_waiting || record.active_since_renewal,
                    "a proactive renewal at {:?} without activity since the last renewal",
                    record.clocks
                );
            }
            if !sim.session.signed_in() {
                prop_assert!(sim.session.token_expires_at().is_none(), "a token outlived its session");
            }
        }
    }
}
