//! Bearer-protected API routes: 401 with the right challenge versus 403, and the demo controls.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use authpulse_server::{serve, Clock, Config};

#[tokio::test]
async fn missing_malformed_and_foreign_tokens_are_401_invalid_token() {
    let server = TestServer::start().await;
    assert_invalid_token(server.get("/api/me", None).await).await;
    assert_invalid_token(server.get("/api/me", Some("garbage")).await).await;
    let basic = server.http.get(server.url("/api/me")).basic_auth("alice", Some("alice")).send();
    assert_invalid_token(basic.await.unwrap()).await;

    // Signed by another server (another key): not ours.
    let other = TestServer::start().await;
    let foreign = other.login("alice", "alice").await;
    assert_invalid_token(server.get("/api/me", Some(&foreign.access_token)).await).await;
}

#[tokio::test]
async fn an_expired_token_is_401_at_its_expiry_and_not_before() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    server.advance(5 * MIN - 1);
    assert_eq!(server.get("/api/items", Some(&alice.access_token)).await.status(), StatusCode::OK);
    server.advance(1);
    let response = server.get("/api/items", Some(&alice.access_token)).await;
    let challenge = header(response.headers(), "www-authenticate").unwrap();
    assert!(challenge.contains("expired"), "{challenge}");
    assert_invalid_token(response).await;
}

#[tokio::test]
async fn revoking_the_session_revokes_its_tokens_and_renewal() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let bob = server.login("bob", "bob").await;
    let revoked = server.post_json("/demo/revoke", Some(&alice.access_token), json!({})).await;
    assert_eq!(revoked.status(), StatusCode::OK);

    // What the client sees next: 401, its renewal 401 too, so it signs out.
    assert_invalid_token(server.get("/api/me", Some(&alice.access_token)).await).await;
    assert_error(
        server.renew(&alice.cookie, Some(0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
    // Only that session.
    assert_eq!(server.get("/api/me", Some(&bob.access_token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_user_without_permission_gets_403_not_401() {
    let server = TestServer::start().await;
    let bob = server.login("bob", "bob").await;
    let response = server.get("/api/admin", Some(&bob.access_token)).await;
    let challenge = header(response.headers(), "www-authenticate").unwrap();
    assert!(challenge.starts_with(r#"Bearer error="insufficient_scope""#), "{challenge}");
    assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // bob is still signed in: the 403 is about permission, not authentication.
    assert_eq!(server.get("/api/me", Some(&bob.access_token)).await.status(), StatusCode::OK);

    let alice = server.login("alice", "alice").await;
    assert_eq!(server.get("/api/admin", Some(&alice.access_token)).await.status(), StatusCode::OK);
    let removed = server
        .post_json("/demo/permission", Some(&alice.access_token), json!({ "allowed": false }))
        .await;
    assert_eq!(removed.json::<Value>().await.unwrap()["adminAllowed"], false);
    assert_eq!(
        server.get("/api/admin", Some(&alice.access_token)).await.status(),
        StatusCode::FORBIDDEN
    );
    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    assert_eq!(me["adminAllowed"], false);
    server
        .post_json("/demo/permission", Some(&alice.access_token), json!({ "allowed": true }))
        .await;
    assert_eq!(server.get("/api/admin", Some(&alice.access_token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn demo_controls_need_a_valid_token() {
    let server = TestServer::start().await;
    assert_invalid_token(server.post_json("/demo/revoke", None, json!({})).await).await;
    assert_invalid_token(
        server.post_json("/demo/permission", None, json!({ "allowed": false })).await,
    )
    .await;
}

#[tokio::test]
async fn echo_returns_the_body_and_items_list() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let sent = json!({ "greeting": "hello", "n": [1, 2, 3] });
    let echoed: Value = server
        .post_json("/api/echo", Some(&alice.access_token), sent.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(echoed, sent);
    let items: Value =
        server.get("/api/items", Some(&alice.access_token)).await.json().await.unwrap();
    assert!(items["items"].as_array().is_some_and(|items| !items.is_empty()));
}

#[tokio::test]
async fn cors_is_off_by_default_and_lists_configured_origins() {
    let server = TestServer::start().await;
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/auth/renew"))
        .header("Origin", "http://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "x-requested-with")
        .send()
        .await
        .unwrap();
    assert!(header(preflight.headers(), "access-control-allow-origin").is_none());

    let mut config = Config::for_tests();
    config.allowed_origins = vec!["http://app.example:3000".into()];
    let running = serve(config, Clock::manual(T0)).await.unwrap();
    let ask = |origin: &'static str| {
        server
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/auth/renew", running.url()))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "x-requested-with")
            .send()
    };
    let allowed = ask("http://app.example:3000").await.unwrap();
    assert_eq!(
        header(allowed.headers(), "access-control-allow-origin").as_deref(),
        Some("http://app.example:3000")
    );
    assert_eq!(
        header(allowed.headers(), "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let other = ask("http://evil.example").await.unwrap();
    assert!(header(other.headers(), "access-control-allow-origin").is_none());
}
