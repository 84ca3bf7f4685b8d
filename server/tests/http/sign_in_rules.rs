//! The per-user sign-in rules, checked at every renewal and refresh-token grant: a sign-in with a
//! password at least every 72 hours (`--max-auth-age-secs`), and the "reauth required" flag set
//! by an administrator (endpoint) or an operator (the binary's `require-reauth`, in binary.rs).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use authpulse_server::{Clock, Config, DEFAULT_CLIENT_ID};

/// Sessions that may last a week, so that only the 72-hour rule ends them.
fn week_long_sessions() -> Config {
    let mut config = config();
    config.session_lifetime_secs = 7 * 24 * 3600;
    config.refresh_token_secs = 7 * 24 * 3600;
    config
}

/// Asserts the renew endpoint's `401 login_required`, with the reason in the description.
async fn assert_login_required(response: reqwest::Response, reason: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "login_required", "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains(reason), "{description}");
}

/// Asserts the token endpoint's `400 invalid_grant` for a sign-in rule (RFC 6749 has no other
/// code for it; the description starts with `login_required`).
async fn assert_grant_login_required(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body["error_description"].as_str().unwrap().starts_with("login_required: "), "{body}");
}

#[tokio::test]
async fn an_active_user_must_sign_in_again_72_hours_after_the_last_sign_in() {
    let server = TestServer::start_with(week_long_sessions(), Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    // Active the whole time: a renewal every 4 minutes for 72 hours, all granted but the last.
    let mut token = alice.access_token.clone();
    for renewal in 1..72 * 15 {
        server.advance(4 * MIN);
        let response = server.renew(&alice.cookie, Some(30 * SEC)).await;
        assert_eq!(response.status(), StatusCode::OK, "renewal {renewal}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["expires_in"], 300, "no token is cut short by the rule");
        token = body["access_token"].as_str().unwrap().to_owned();
    }
    server.advance(4 * MIN - 1);
    server.renew_ok(&alice.cookie, Some(0)).await;
    server.advance(1);
    assert_eq!(server.clock.now_ms(), T0 + 72 * HOUR);
    assert_login_required(server.renew(&alice.cookie, Some(0)).await, "72 h").await;
    // The session ended with it: its tokens are 401 at once, later renewals refused the same way.
    assert_invalid_token(server.get("/api/me", Some(&token)).await).await;
    assert_login_required(server.renew(&alice.cookie, Some(0)).await, "login_required").await;
    // A fresh sign-in starts anew.
    let again = server.login("alice", "alice").await;
    server.advance(MIN);
    server.renew_ok(&again.cookie, None).await;
}

#[tokio::test]
async fn the_refresh_grant_keeps_the_72_hour_rule_too() {
    let mut config = week_long_sessions();
    config.idle_timeout_secs = 100 * 3600; // only the sign-in rule is in play here
    let server = TestServer::start_with(config, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    server.advance(72 * HOUR - 1);
    let granted = server.refresh(&alice.refresh_token, DEFAULT_CLIENT_ID).await;
    assert_eq!(granted.status(), StatusCode::OK);
    let next: Value = granted.json().await.unwrap();
    server.advance(1);
    let refused = server.refresh(next["refresh_token"].as_str().unwrap(), DEFAULT_CLIENT_ID).await;
    assert_grant_login_required(refused).await;
    assert_login_required(server.renew(&alice.cookie, None).await, "login_required").await;
}

#[tokio::test]
async fn a_sign_in_on_any_device_counts_for_all_of_the_users_sessions() {
    let mut config = week_long_sessions();
    config.idle_timeout_secs = 100 * 3600;
    let server = TestServer::start_with(config, Clock::manual(T0)).await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let bob = server.login("bob", "bob").await;
    server.advance(70 * HOUR);
    server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    server.advance(3 * HOUR);
    // 73 h after the laptop's sign-in, 3 h after alice's last: the laptop may renew.
    server.renew_ok(&laptop.cookie, None).await;
    // bob has not signed in for 73 h.
    assert_login_required(server.renew(&bob.cookie, None).await, "72 h").await;
    server.advance(69 * HOUR);
    assert_login_required(server.renew(&laptop.cookie, None).await, "72 h").await;
}

#[tokio::test]
async fn the_rule_is_independent_of_the_session_lifetime_and_configurable() {
    // Shorter than the 8-hour sessions: the sign-in rule ends them first.
    let mut one_hour = config();
    one_hour.max_auth_age_secs = 3600;
    one_hour.idle_timeout_secs = 2 * 3600;
    let server = TestServer::start_with(one_hour, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    server.advance(HOUR - 1);
    server.renew_ok(&alice.cookie, None).await;
    server.advance(1);
    assert_login_required(server.renew(&alice.cookie, None).await, "1 h").await;
    let timings: Value = server.get("/demo/config", None).await.json().await.unwrap();
    assert_eq!(timings["maxAuthAgeSecs"], 3600);

    // Longer than the sessions (the default 72 h against 8 h): the session's own lifetime ends
    // them, as before.
    let mut eight_hours = config();
    eight_hours.idle_timeout_secs = 9 * 3600;
    let server = TestServer::start_with(eight_hours, Clock::manual(T0)).await;
    let bob = server.login("bob", "bob").await;
    server.advance(8 * HOUR);
    assert_error(
        server.renew(&bob.cookie, None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
}

/// The defaults, with alice as the server's administrator (`--admin alice`).
fn alice_administers() -> Config {
    let mut config = config();
    config.admins = vec!["alice".into()];
    config
}

#[tokio::test]
async fn an_admin_requires_a_fresh_sign_in_until_the_user_signs_in_again() {
    let server = TestServer::start_with(alice_administers(), Clock::manual(T0)).await;
    let admin = server.login("alice", "alice").await;
    let bob_laptop = server.login_from("bob", "bob", Some(CHROME_LINUX)).await;
    let bob_ipad = server.login_from("bob", "bob", Some(SAFARI_IPAD)).await;
    server.advance(MIN);

    let set =
        server.post_json("/admin/users/bob/reauth", Some(&admin.access_token), json!({})).await;
    assert_eq!(set.status(), StatusCode::OK);
    let set: Value = set.json().await.unwrap();
    assert_eq!(
        set,
        json!({ "username": "bob", "reauthRequired": true, "since": T0 + MIN, "sessions": 2 })
    );

    // Every renewal and refresh grant of bob's sessions is refused; alice goes on.
    server.advance(MIN);
    assert_login_required(server.renew(&bob_laptop.cookie, None).await, "fresh sign-in").await;
    assert_grant_login_required(server.refresh(&bob_ipad.refresh_token, DEFAULT_CLIENT_ID).await)
        .await;
    server.renew_ok(&admin.cookie, None).await;

    // bob signs in again with his password: the new session renews; the old ones never again,
    // even one that did not try to renew while the flag was set.
    let fresh = server.login("bob", "bob").await;
    server.advance(MIN);
    server.renew_ok(&fresh.cookie, None).await;
    let listed = server.sessions(&fresh.access_token).await;
    assert_eq!(listed.len(), 1);
    for old in [&bob_laptop, &bob_ipad] {
        assert_eq!(server.renew(&old.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
        assert_invalid_token(server.get("/api/me", Some(&old.access_token)).await).await;
    }
}

#[tokio::test]
async fn a_session_that_waited_out_the_flag_does_not_come_back() {
    let server = TestServer::start_with(alice_administers(), Clock::manual(T0)).await;
    let admin = server.login("alice", "alice").await;
    let quiet = server.login("bob", "bob").await;
    server.advance(MIN);
    server.post_json("/admin/users/bob/reauth", Some(&admin.access_token), json!({})).await;
    server.advance(MIN);
    server.login("bob", "bob").await; // clears the flag
    server.advance(MIN);
    // The quiet session never asked while the flag was up; the sign-in ended it all the same.
    assert_error(
        server.renew(&quiet.cookie, None).await,
        StatusCode::UNAUTHORIZED,
        "login_required",
    )
    .await;
    assert_invalid_token(server.get("/api/me", Some(&quiet.access_token)).await).await;
}

#[tokio::test]
async fn only_an_admin_may_require_a_fresh_sign_in() {
    let server = TestServer::start_with(alice_administers(), Clock::manual(T0)).await;
    let bob = server.login("bob", "bob").await;
    let alice = server.login("alice", "alice").await;
    // bob is restricted: 403 (not 401, his token is fine), and alice is untouched.
    let response =
        server.post_json("/admin/users/alice/reauth", Some(&bob.access_token), json!({})).await;
    assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    server.renew_ok(&alice.cookie, None).await;
    assert_invalid_token(server.post_json("/admin/users/alice/reauth", None, json!({})).await)
        .await;
    let unknown =
        server.post_json("/admin/users/mallory/reauth", Some(&alice.access_token), json!({})).await;
    assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
    server.renew_ok(&bob.cookie, None).await;
}

/// `POST /admin/users/{username}/reauth` with `token`.
async fn flag(server: &TestServer, username: &str, token: &str) -> reqwest::Response {
    server.post_json(&format!("/admin/users/{username}/reauth"), Some(token), json!({})).await
}

#[tokio::test]
async fn bob_cannot_flag_alice_by_any_sequence_of_calls() {
    let server = TestServer::start_with(alice_administers(), Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let mut bob = server.login("bob", "bob").await;
    let forbidden = |response: reqwest::Response| async move {
        assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    };
    // Everything bob can do to himself: the demo's permission toggle both ways, a device name,
    // a new password, a new sign-in; after each, the admin endpoint is still closed to him.
    for allowed in [true, false, true] {
        let toggled = server
            .post_json("/demo/permission", Some(&bob.access_token), json!({ "allowed": allowed }))
            .await;
        assert_eq!(toggled.status(), StatusCode::OK);
        forbidden(flag(&server, "alice", &bob.access_token).await).await;
    }
    // The toggle restores no more than the role gives: bob stays out of /api/admin too.
    forbidden(server.get("/api/admin", Some(&bob.access_token)).await).await;
    let me: Value = server.get("/api/me", Some(&bob.access_token)).await.json().await.unwrap();
    assert_eq!(me["adminAllowed"], false);
    let id = server.sessions(&bob.access_token).await[0]["id"].as_str().unwrap().to_owned();
    let renamed = server
        .call(
            reqwest::Method::PATCH,
            &format!("/account/sessions/{id}"),
            Some(&bob.access_token),
            Some(json!({ "deviceName": "alice" })),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    forbidden(flag(&server, "alice", &bob.access_token).await).await;
    let changed = server.change_password(&bob.access_token, "bob", "bob is admin now").await;
    assert_eq!(changed.status(), StatusCode::OK);
    bob = server.login("bob", "bob is admin now").await;
    for target in ["alice", "bob", "Alice", "mallory", "alice%20"] {
        forbidden(flag(&server, target, &bob.access_token).await).await;
    }
    // Nothing reached alice: no flag, her sessions renew.
    server.advance(MIN);
    server.renew_ok(&alice.cookie, None).await;
    assert_eq!(server.sessions(&alice.access_token).await.len(), 1);
}

#[tokio::test]
async fn the_demo_permission_gates_only_the_demo_api_not_the_administrator() {
    let server = TestServer::start_with(alice_administers(), Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let bob = server.login("bob", "bob").await;
    let removed = server
        .post_json("/demo/permission", Some(&alice.access_token), json!({ "allowed": false }))
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let admin_api = server.get("/api/admin", Some(&alice.access_token)).await;
    assert_error(admin_api, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // alice is the server's administrator whatever the demo's toggle says.
    server.advance(MIN);
    assert_eq!(flag(&server, "bob", &alice.access_token).await.status(), StatusCode::OK);
    assert_error(server.renew(&bob.cookie, None).await, StatusCode::UNAUTHORIZED, "login_required")
        .await;
}

#[tokio::test]
async fn without_an_administrator_nobody_may_flag_anyone() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let response = flag(&server, "bob", &alice.access_token).await;
    assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // A blank entry (`AUTHPULSE_ADMINS=`) names nobody.
    let mut blank = config();
    blank.admins = vec![String::new()];
    let server = TestServer::start_with(blank, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let response = flag(&server, "bob", &alice.access_token).await;
    assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // " alice" from "bob, alice" is alice.
    let mut spaced = config();
    spaced.admins = vec!["bob".into(), " alice".into()];
    let server = TestServer::start_with(spaced, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    assert_eq!(flag(&server, "bob", &alice.access_token).await.status(), StatusCode::OK);
    // An administrator must be a user the server knows.
    let mut unknown = config();
    unknown.admins = vec!["mallory".into()];
    let error = authpulse_server::serve(unknown, Clock::manual(T0)).await.unwrap_err();
    assert!(error.to_string().contains("--admin \"mallory\""), "{error}");
}
