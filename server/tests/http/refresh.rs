//! The refresh-token strategy: rotation, and a reused token revoking its whole family.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;
use authpulse_server::DEFAULT_CLIENT_ID;

async fn rotate(server: &TestServer, refresh_token: &str) -> (String, String) {
    let response = server.refresh(refresh_token, DEFAULT_CLIENT_ID).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(response.headers(), "cache-control").as_deref(), Some("no-store"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    (access, refresh)
}

#[tokio::test]
async fn each_refresh_rotates_the_refresh_token() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let mut refresh_token = alice.refresh_token.clone();
    for _ in 0..3 {
        server.advance(4 * MIN);
        let (access, next) = rotate(&server, &refresh_token).await;
        assert_ne!(next, refresh_token);
        assert_eq!(server.get("/api/me", Some(&access)).await.status(), StatusCode::OK);
        refresh_token = next;
    }
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_whole_family() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let (_, second) = rotate(&server, &alice.refresh_token).await;
    let (access, third) = rotate(&server, &second).await;

    // An attacker replays the first token: refused, and everything descended from it dies.
    assert_error(
        server.refresh(&alice.refresh_token, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_error(
        server.refresh(&third, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_invalid_token(server.get("/api/me", Some(&access)).await).await;
    assert_eq!(server.renew(&alice.cookie, None).await.status(), StatusCode::UNAUTHORIZED);

    // Other users' sessions are untouched.
    let bob = server.login("bob", "bob").await;
    rotate(&server, &bob.refresh_token).await;
}

#[tokio::test]
async fn bad_refresh_requests_get_oauth_errors() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    assert_error(
        server.refresh("no-such-token", DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_error(
        server.refresh(&alice.refresh_token, "another-client").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    let form = |pairs: &'static [(&'static str, &'static str)]| {
        server.http.post(server.url("/oauth/token")).form(pairs).send()
    };
    let password =
        form(&[("grant_type", "password"), ("username", "alice"), ("password", "alice")]);
    assert_error(password.await.unwrap(), StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    let no_grant = form(&[("refresh_token", "x"), ("client_id", "c")]);
    assert_error(no_grant.await.unwrap(), StatusCode::BAD_REQUEST, "invalid_request").await;
    let no_token = form(&[("grant_type", "refresh_token"), ("client_id", "c")]);
    assert_error(no_token.await.unwrap(), StatusCode::BAD_REQUEST, "invalid_request").await;

    // JSON is not a token request (RFC 6749 section 3.2 says form encoding).
    let json = server
        .http
        .post(server.url("/oauth/token"))
        .json(&serde_json::json!({ "grant_type": "refresh_token" }))
        .send()
        .await
        .unwrap();
    assert_error(json, StatusCode::BAD_REQUEST, "invalid_request").await;

    // None of that harmed the real token.
    rotate(&server, &alice.refresh_token).await;
}

#[tokio::test]
async fn refresh_tokens_follow_the_idle_rule_and_their_own_lifetime() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    server.advance(15 * MIN);
    assert_error(
        server.refresh(&alice.refresh_token, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    let mut config = config();
    config.refresh_token_secs = 600;
    config.idle_timeout_secs = 3600;
    let server = TestServer::start_with(config, authpulse_server::Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    server.advance(9 * MIN);
    let (_, next) = rotate(&server, &alice.refresh_token).await;
    server.advance(10 * MIN);
    assert_error(
        server.refresh(&next, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_session() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let revoke = |token: String| {
        server.http.post(server.url("/oauth/revoke")).form(&[("token", token)]).send()
    };
    assert_eq!(revoke(alice.refresh_token.clone()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(revoke("unknown".into()).await.unwrap().status(), StatusCode::OK);
    assert_error(
        server.refresh(&alice.refresh_token, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_invalid_token(server.get("/api/me", Some(&alice.access_token)).await).await;
}
