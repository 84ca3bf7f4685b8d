//! Changing the password: the other sessions end, this one stays, and attempts are limited.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use authpulse_server::{Clock, DEFAULT_CLIENT_ID};

const NEW: &str = "correct horse battery";

#[tokio::test]
async fn a_password_change_signs_out_the_other_sessions_and_keeps_this_one() {
    let server = TestServer::start().await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let ipad = server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    let phone = server.login("alice", "alice").await;
    let bob = server.login("bob", "bob").await;
    server.advance(MIN);

    let changed = server.change_password(&laptop.access_token, "alice", NEW).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body, json!({ "changed": true, "sessionsEnded": 2 }));

    // Every other session of alice: token 401 at once, renewal 401, refresh grant refused.
    for other in [&ipad, &phone] {
        assert_invalid_token(server.get("/api/me", Some(&other.access_token)).await).await;
        assert_error(
            server.renew(&other.cookie, Some(0)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_session",
        )
        .await;
        assert_error(
            server.refresh(&other.refresh_token, DEFAULT_CLIENT_ID).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
    // This one goes on, and bob is untouched.
    assert_eq!(server.get("/api/me", Some(&laptop.access_token)).await.status(), StatusCode::OK);
    server.renew_ok(&laptop.cookie, Some(0)).await;
    assert_eq!(server.sessions(&laptop.access_token).await.len(), 1);
    assert_eq!(server.get("/api/me", Some(&bob.access_token)).await.status(), StatusCode::OK);
    server.renew_ok(&bob.cookie, None).await;

    // The old password no longer signs in; the new one does.
    assert_error(
        server.login_response("alice", "alice").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    server.login("alice", NEW).await;
    server.login("bob", "bob").await;
}

#[tokio::test]
async fn a_wrong_current_password_is_403_and_changes_nothing() {
    let server = TestServer::start().await;
    let laptop = server.login("alice", "alice").await;
    let ipad = server.login("alice", "alice").await;
    let response = server.change_password(&laptop.access_token, "not alice", NEW).await;
    // Not 401: the token is good, and a 401 would make the client renew and retry.
    assert!(header(response.headers(), "www-authenticate").is_none());
    assert_error(response, StatusCode::FORBIDDEN, "invalid_credentials").await;
    server.renew_ok(&ipad.cookie, None).await;
    server.login("alice", "alice").await;
}

#[tokio::test]
async fn bad_new_passwords_are_400_and_need_a_token() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let long = "x".repeat(1025);
    for (current, new) in
        [("alice", "short"), ("alice", "alice"), ("alice", long.as_str()), (long.as_str(), NEW)]
    {
        let response = server.change_password(&alice.access_token, current, new).await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let missing = server
        .post_json("/account/password", Some(&alice.access_token), json!({ "new_password": NEW }))
        .await;
    assert_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Eight characters, not bytes: "pässwörd" is fine.
    assert_eq!(
        server.change_password(&alice.access_token, "alice", "pässwörd").await.status(),
        StatusCode::OK
    );
    assert_invalid_token(
        server
            .post_json(
                "/account/password",
                None,
                json!({ "current_password": "pässwörd", "new_password": NEW }),
            )
            .await,
    )
    .await;
}

#[tokio::test]
async fn password_changes_are_limited_to_5_attempts_in_15_minutes() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let ipad = server.login("alice", "alice").await;
    // Someone holding a stolen token guesses the current password.
    for guess in 0..5 {
        server.advance(SEC);
        let response =
            server.change_password(&alice.access_token, &format!("guess {guess}"), NEW).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "guess {guess}");
    }
    server.advance(SEC);
    // The sixth attempt is refused before the password is even checked, right or not.
    let refused = server.change_password(&alice.access_token, "alice", NEW).await;
    assert_eq!(header(refused.headers(), "retry-after").as_deref(), Some("895"));
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // A 429 is not a sign-out: both sessions live.
    server.renew_ok(&ipad.cookie, None).await;
    assert_eq!(server.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
    // bob's attempts are his own.
    let bob = server.login("bob", "bob").await;
    assert_eq!(
        server.change_password(&bob.access_token, "bob", NEW).await.status(),
        StatusCode::OK
    );

    // When the first attempt leaves the 15-minute window, one more is allowed.
    server.advance(15 * MIN - 5 * SEC);
    let alice = server.login("alice", "alice").await;
    assert_eq!(
        server.change_password(&alice.access_token, "alice", NEW).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.change_password(&alice.access_token, NEW, "yet another one").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_changed_password_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config();
    config.db = dir.path().join("db.sqlite").to_str().unwrap().to_owned();
    let clock = Clock::manual(T0);
    let mut first = TestServer::start_with(config.clone(), clock.clone()).await;
    let alice = first.login("alice", "alice").await;
    assert_eq!(
        first.change_password(&alice.access_token, "alice", NEW).await.status(),
        StatusCode::OK
    );
    first.stop().await;

    let second = TestServer::start_with(config, clock).await;
    assert_eq!(second.login_response("alice", "alice").await.status(), StatusCode::UNAUTHORIZED);
    second.login("alice", NEW).await;
    second.login("bob", "bob").await;
}

#[tokio::test]
async fn of_two_concurrent_password_changes_exactly_one_wins() {
    // The production Argon2 cost, so that both requests check the old password before either
    // stores its new one: the race the store must settle.
    let mut config = config();
    config.argon2_memory_kib = 19 * 1024;
    let server = TestServer::start_with(config, Clock::manual(T0)).await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let ipad = server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    let (from_laptop, from_ipad) = tokio::join!(
        server.change_password(&laptop.access_token, "alice", "laptop's new password"),
        server.change_password(&ipad.access_token, "alice", "ipad's new password"),
    );
    let statuses = [from_laptop.status(), from_ipad.status()];
    let (winner, loser, winning, losing, loser_response) = match statuses {
        [StatusCode::OK, _] => {
            (&laptop, &ipad, "laptop's new password", "ipad's new password", from_ipad)
        }
        [_, StatusCode::OK] => {
            (&ipad, &laptop, "ipad's new password", "laptop's new password", from_laptop)
        }
        _ => panic!("neither change went through: {statuses:?}"),
    };
    // The loser is told: its session was ended by the winner (401), or the password it checked
    // is no longer the stored one (409; 403 if it arrived after the change, when "alice" is
    // simply the wrong current password). Never two 200s.
    let status = loser_response.status();
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&status),
        "the changes answered {statuses:?}"
    );
    // Exactly one new password is in force, the winner's; the winner's session lives on.
    assert_eq!(server.login_response("alice", losing).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.login_response("alice", "alice").await.status(), StatusCode::UNAUTHORIZED);
    server.renew_ok(&winner.cookie, None).await;
    assert_eq!(server.renew(&loser.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
    server.login("alice", winning).await;
}

#[tokio::test]
async fn of_two_concurrent_changes_from_one_session_the_one_that_answered_ok_is_in_force() {
    let mut config = config();
    config.argon2_memory_kib = 19 * 1024;
    let server = TestServer::start_with(config, Clock::manual(T0)).await;
    let laptop = server.login("alice", "alice").await;
    let (first, second) = tokio::join!(
        server.change_password(&laptop.access_token, "alice", "first new password"),
        server.change_password(&laptop.access_token, "alice", "second new password"),
    );
    let statuses = [first.status(), second.status()];
    let (winning, losing, loser_response) = match statuses {
        [StatusCode::OK, _] => ("first new password", "second new password", second),
        [_, StatusCode::OK] => ("second new password", "first new password", first),
        _ => panic!("neither change went through: {statuses:?}"),
    };
    // 409 when both checked "alice" before either stored its password (the race; 403 had the
    // second only started after the first was stored). Never two 200s.
    let status = loser_response.status();
    assert!(
        [StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&status),
        "the changes answered {statuses:?}"
    );
    if status == StatusCode::CONFLICT {
        assert_error(loser_response, StatusCode::CONFLICT, "conflict").await;
    }
    assert_eq!(server.login_response("alice", losing).await.status(), StatusCode::UNAUTHORIZED);
    server.renew_ok(&laptop.cookie, None).await;
    server.login("alice", winning).await;
}
