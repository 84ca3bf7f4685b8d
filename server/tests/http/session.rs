//! The session strategy: sign in, renew under the server's idle and lifetime rules, sign out.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn login_renew_api_logout() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    assert_eq!(alice.expires_in, 300);
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/auth"] {
        assert!(alice.set_cookie.contains(attribute), "{attribute} in {}", alice.set_cookie);
    }
    assert!(!alice.set_cookie.contains("Secure"), "plain http: {}", alice.set_cookie);

    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");

    server.advance(4 * MIN);
    let renewed = server.renew_ok(&alice.cookie, Some(0)).await;
    assert_ne!(renewed, alice.access_token);
    let response = server.get("/api/me", Some(&renewed)).await;
    assert_eq!(response.status(), StatusCode::OK);

    let logout = server
        .http
        .post(server.url("/auth/logout"))
        .header("Cookie", &alice.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let cleared = header(logout.headers(), "set-cookie").expect("the cookie is cleared");
    assert!(cleared.contains("Path=/auth") && cleared.contains("Max-Age=0"), "{cleared}");

    assert_error(
        server.renew(&alice.cookie, None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
    // Signing out revokes the access tokens still within their lifetime.
    assert_invalid_token(server.get("/api/me", Some(&renewed)).await).await;

    // Idempotent, with or without a session, and from a beacon (text body, no CSRF header).
    for _ in 0..2 {
        let again = server
            .http
            .post(server.url("/auth/logout"))
            .header("Cookie", &alice.cookie)
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body("bye")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NO_CONTENT);
    }
}

#[tokio::test]
async fn logout_by_bearer_token_ends_the_session() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let logout = server
        .http
        .post(server.url("/auth/logout"))
        .bearer_auth(&alice.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.renew(&alice.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_is_secure_behind_an_https_proxy() {
    let server = TestServer::start().await;
    let response = server
        .http
        .post(server.url("/auth/login"))
        .header("X-Forwarded-Proto", "https")
        .json(&serde_json::json!({ "username": "alice", "password": "alice" }))
        .send()
        .await
        .unwrap();
    let set_cookie = header(response.headers(), "set-cookie").unwrap();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}

#[tokio::test]
async fn renew_without_the_csrf_header_is_rejected() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let bare = server
        .http
        .post(server.url("/auth/renew"))
        .header("Cookie", &alice.cookie)
        .send()
        .await
        .unwrap();
    assert_error(bare, StatusCode::FORBIDDEN, "csrf_header_required").await;
    let wrong = server
        .http
        .post(server.url("/auth/renew"))
        .header("Cookie", &alice.cookie)
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .unwrap();
    assert_error(wrong, StatusCode::FORBIDDEN, "csrf_header_required").await;
    // A forged request does not end the session.
    server.renew_ok(&alice.cookie, None).await;
}

#[tokio::test]
async fn renew_without_a_session_is_401() {
    let server = TestServer::start().await;
    assert_error(server.renew("", None).await, StatusCode::UNAUTHORIZED, "invalid_session").await;
    let forged = format!("{}=not-a-session", authpulse_server::SESSION_COOKIE);
    assert_error(server.renew(&forged, None).await, StatusCode::UNAUTHORIZED, "invalid_session")
        .await;
}

#[tokio::test]
async fn wrong_password_is_401_with_a_json_error() {
    let server = TestServer::start().await;
    let response = server.login_response("alice", "bob").await;
    assert!(header(response.headers(), "set-cookie").is_none());
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_error(
        server.login_response("mallory", "x").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn signing_in_again_ends_the_previous_session() {
    let server = TestServer::start().await;
    let first = server.login("alice", "alice").await;
    let second = server
        .http
        .post(server.url("/auth/login"))
        .header("Cookie", &first.cookie)
        .json(&serde_json::json!({ "username": "alice", "password": "alice" }))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(server.renew(&first.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server_and_stays_expired() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    // Back just before the 15-minute deadline: the renewal succeeds and restarts the clock.
    server.advance(15 * MIN - SEC);
    server.renew_ok(&alice.cookie, Some(0)).await;
    server.advance(15 * MIN);
    assert_error(
        server.renew(&alice.cookie, Some(0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
    // Fresh activity reported afterwards cannot revive it.
    assert_eq!(server.renew(&alice.cookie, Some(0)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reported_idle_time_keeps_the_deadline_at_the_real_last_activity() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    server.advance(10 * MIN);
    // The client renews but reports the user has been idle since sign-in.
    server.renew_ok(&alice.cookie, Some(10 * MIN)).await;
    server.advance(5 * MIN);
    assert_eq!(server.renew(&alice.cookie, Some(0)).await.status(), StatusCode::UNAUTHORIZED);

    // Without idleMs, the renewal itself counts as activity.
    let bob = server.login("bob", "bob").await;
    server.advance(10 * MIN);
    server.renew_ok(&bob.cookie, None).await;
    server.advance(5 * MIN);
    server.renew_ok(&bob.cookie, None).await;
}

#[tokio::test]
async fn an_active_session_ends_at_its_absolute_lifetime() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    // An active user renews every 4 minutes for 8 hours: 119 renewals succeed.
    for renewal in 1..=119 {
        server.advance(4 * MIN);
        let response = server.renew(&alice.cookie, Some(30 * SEC)).await;
        assert_eq!(response.status(), StatusCode::OK, "renewal {renewal}");
        let body: Value = response.json().await.unwrap();
        // No token outlives the session: the last ones are cut short.
        let session_left_secs = (8 * 60 * MIN - renewal * 4 * MIN) / SEC;
        assert_eq!(body["expires_in"].as_i64().unwrap(), 300.min(session_left_secs));
    }
    server.advance(4 * MIN);
    assert_eq!(server.renew(&alice.cookie, Some(0)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn timings_come_from_the_configuration() {
    let mut config = config();
    config.access_token_secs = 60;
    config.idle_timeout_secs = 180;
    let server = TestServer::start_with(config, authpulse_server::Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    assert_eq!(alice.expires_in, 60);
    server.advance(3 * MIN);
    assert_eq!(server.renew(&alice.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
    let timings: Value = server.get("/demo/config", None).await.json().await.unwrap();
    assert_eq!(timings["accessTokenSecs"], 60);
    assert_eq!(timings["idleTimeoutSecs"], 180);
}
