//! Sessions live in SQLite: a revoked session stays revoked after a restart.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;
use authpulse_server::{Clock, DEFAULT_CLIENT_ID};

#[tokio::test]
async fn revocation_survives_a_restart_on_the_same_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.sqlite");
    let mut config = config();
    config.db = db.to_str().unwrap().to_owned();
    let clock = Clock::manual(T0);

    let mut first = TestServer::start_with(config.clone(), clock.clone()).await;
    let alice = first.login("alice", "alice").await;
    let bob = first.login("bob", "bob").await;
    let revoked = first.post_json("/demo/revoke", Some(&alice.access_token), json!({})).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    first.stop().await;

    let second = TestServer::start_with(config, clock).await;
    assert_eq!(second.renew(&alice.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_error(
        second.refresh(&alice.refresh_token, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // The live session is still live.
    let token = second.renew_ok(&bob.cookie, None).await;
    assert_eq!(second.get("/api/me", Some(&token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn access_tokens_survive_a_restart_only_with_a_configured_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config();
    config.db = dir.path().join("db.sqlite").to_str().unwrap().to_owned();
    config.jwt_secret = Some("0123456789abcdef0123456789abcdef".into());
    let clock = Clock::manual(T0);

    let mut first = TestServer::start_with(config.clone(), clock.clone()).await;
    let alice = first.login("alice", "alice").await;
    first.stop().await;
    let mut second = TestServer::start_with(config.clone(), clock.clone()).await;
    assert_eq!(second.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
    second.stop().await;

    config.jwt_secret = None;
    let third = TestServer::start_with(config, clock).await;
    assert_invalid_token(third.get("/api/me", Some(&alice.access_token)).await).await;
}

#[tokio::test]
async fn a_short_jwt_secret_is_refused() {
    let mut config = config();
    config.jwt_secret = Some("short".into());
    let error = authpulse_server::serve(config, Clock::manual(T0)).await.unwrap_err();
    assert!(error.to_string().contains("--jwt-secret"), "{error}");
}
