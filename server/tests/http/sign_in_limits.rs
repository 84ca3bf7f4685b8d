//! `POST /auth/login` under attack: failed sign-ins are limited per username, and Argon2 runs a
//! bounded number of times at once (the bound itself is tested in `users.rs`).

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

/// Asserts the `429` of a username with too many failed sign-ins, and its `Retry-After`.
async fn assert_limited(response: reqwest::Response, retry_after_secs: i64) {
    assert_eq!(
        header(response.headers(), "retry-after").as_deref(),
        Some(retry_after_secs.to_string().as_str())
    );
    assert!(header(response.headers(), "set-cookie").is_none());
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}

#[tokio::test]
async fn failed_sign_ins_are_limited_to_5_per_user_in_15_minutes() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    for guess in 0..5 {
        server.advance(SEC);
        let response = server.login_response("alice", &format!("guess {guess}")).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    server.advance(SEC);
    // The sixth is refused before the password is checked, right or not.
    assert_limited(server.login_response("alice", "alice").await, 15 * 60 - 5).await;
    assert_limited(server.login_response("alice", "guess 5").await, 15 * 60 - 5).await;
    // Signed-in sessions are not touched, and other users sign in.
    server.renew_ok(&alice.cookie, None).await;
    server.login("bob", "bob").await;
    // Unknown names are limited the same way, so guessing cannot tell them apart.
    for _ in 0..5 {
        assert_eq!(server.login_response("mallory", "x").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(server.login_response("mallory", "x").await, 15 * 60).await;

    // When the first failure leaves the window, one more attempt is allowed.
    server.advance(15 * MIN - 6 * SEC);
    assert_limited(server.login_response("alice", "alice").await, 1).await;
    server.advance(SEC);
    server.login("alice", "alice").await;
    assert_error(
        server.login_response("alice", "wrong").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_limited(server.login_response("alice", "alice").await, 1).await;
}

#[tokio::test]
async fn successful_sign_ins_are_not_counted() {
    let server = TestServer::start().await;
    for _ in 0..20 {
        server.login("bob", "bob").await;
    }
    for _ in 0..4 {
        assert_eq!(server.login_response("bob", "wrong").await.status(), StatusCode::UNAUTHORIZED);
    }
    // Four failures and any number of successes: still allowed.
    server.login("bob", "bob").await;
    server.login("bob", "bob").await;
    assert_eq!(server.login_response("bob", "wrong").await.status(), StatusCode::UNAUTHORIZED);
    assert_limited(server.login_response("bob", "bob").await, 15 * 60).await;
}

#[tokio::test]
async fn concurrent_guesses_cannot_pass_the_limit() {
    // Twenty guesses at once: each is counted before Argon2 runs, so at most 5 are checked.
    let server = TestServer::start().await;
    let mut guesses = tokio::task::JoinSet::new();
    for guess in 0..20 {
        let (http, url) = (server.http.clone(), server.url("/auth/login"));
        guesses.spawn(async move {
            let body = json!({ "username": "alice", "password": format!("guess {guess}") });
            http.post(url).json(&body).send().await.unwrap().status()
        });
    }
    let statuses = guesses.join_all().await;
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (count(StatusCode::UNAUTHORIZED), count(StatusCode::TOO_MANY_REQUESTS)),
        (5, 15),
        "{statuses:?}"
    );
}
