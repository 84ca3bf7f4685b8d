//! "Your devices": each session named after the device it began on, listed for its user, renamed
//! and revoked by that user only.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use authpulse_server::DEFAULT_CLIENT_ID;

fn names(sessions: &[Value]) -> Vec<(&str, bool)> {
    sessions
        .iter()
        .map(|s| (s["deviceName"].as_str().unwrap(), s["current"].as_bool().unwrap()))
        .collect()
}

fn id_of(sessions: &[Value], device: &str) -> String {
    let session = sessions.iter().find(|s| s["deviceName"] == device).expect(device);
    session["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_device_is_listed_with_its_name_times_and_this_one_marked() {
    let server = TestServer::start().await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    server.advance(MIN);
    let ipad = server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    server.login_from("bob", "bob", Some(CHROME_LINUX)).await;
    server.login("alice", "alice").await; // a client that sends no User-Agent

    let sessions = server.sessions(&laptop.access_token).await;
    assert_eq!(
        names(&sessions),
        [("Chrome on Linux", true), ("Safari on iPad", false), ("Unknown device", false)]
    );
    let this = &sessions[0];
    assert_eq!((this["createdAt"].as_i64(), this["lastUsedAt"].as_i64()), (Some(T0), Some(T0)));
    assert_eq!(this["lastActiveAt"].as_i64(), Some(T0));
    let from_ipad = server.sessions(&ipad.access_token).await;
    assert_eq!(names(&from_ipad)[0], ("Safari on iPad", true));
    assert_eq!(from_ipad[0]["createdAt"].as_i64(), Some(T0 + MIN));

    // Ids are opaque: 128 random bits, the token's `sid`, nothing of the user or the secrets.
    for session in &sessions {
        let id = session["id"].as_str().unwrap();
        assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert!(!laptop.cookie.contains(id) && !laptop.refresh_token.contains(id));
    }
    let keys: Vec<&String> = this.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["createdAt", "current", "deviceName", "id", "lastActiveAt", "lastUsedAt"]);
}

#[tokio::test]
async fn last_used_follows_renewals_and_refresh_grants() {
    let server = TestServer::start().await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let ipad = server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    server.advance(4 * MIN);
    // The laptop's user was last active 30 s ago.
    server.renew_ok(&laptop.cookie, Some(30 * SEC)).await;
    server.advance(MIN);
    let refreshed = server.refresh(&ipad.refresh_token, DEFAULT_CLIENT_ID).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let token: Value = refreshed.json().await.unwrap();

    let sessions = server.sessions(token["access_token"].as_str().unwrap()).await;
    // The most recently used first, after this one.
    assert_eq!(names(&sessions), [("Safari on iPad", true), ("Chrome on Linux", false)]);
    assert_eq!(sessions[0]["lastUsedAt"].as_i64(), Some(T0 + 5 * MIN));
    assert_eq!(sessions[1]["lastUsedAt"].as_i64(), Some(T0 + 4 * MIN));
    assert_eq!(sessions[1]["lastActiveAt"].as_i64(), Some(T0 + 4 * MIN - 30 * SEC));
}

#[tokio::test]
async fn sessions_that_can_no_longer_renew_are_not_listed() {
    let server = TestServer::start().await;
    let idle = server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    server.advance(11 * MIN);
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    server.advance(4 * MIN);
    // The iPad has been idle 15 minutes: it cannot renew, though nobody has asked yet.
    assert_eq!(names(&server.sessions(&laptop.access_token).await), [("Chrome on Linux", true)]);
    server.logout_cookie(&idle.cookie).await;
    assert_eq!(server.sessions(&laptop.access_token).await.len(), 1);
}

#[tokio::test]
async fn a_user_renames_a_device_in_place() {
    let server = TestServer::start().await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    let ipad = id_of(&server.sessions(&laptop.access_token).await, "Safari on iPad");
    let path = format!("/account/sessions/{ipad}");

    let renamed = server
        .call(
            Method::PATCH,
            &path,
            Some(&laptop.access_token),
            Some(json!({ "deviceName": "  Maryo's iPad " })),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(
        (renamed["id"].as_str(), renamed["deviceName"].as_str()),
        (Some(&*ipad), Some("Maryo's iPad"))
    );
    assert_eq!(renamed["current"], false);
    assert_eq!(
        names(&server.sessions(&laptop.access_token).await),
        [("Chrome on Linux", true), ("Maryo's iPad", false)]
    );

    for bad in [
        json!({ "deviceName": " " }),
        json!({ "deviceName": "x".repeat(65) }),
        json!({ "deviceName": "a\u{7}b" }),
        json!({ "deviceName": "\u{202E}dapi s'oyraM" }),
        json!({ "deviceName": "Maryo\u{200B}'s iPad" }),
        json!({ "deviceName": "iPad\u{2028}second line" }),
        json!({ "deviceName": "\u{3164}\u{2800}" }),
        json!({ "deviceName": format!("iPad{}", "\u{316}".repeat(30)) }),
        json!({ "name": "x" }),
        json!({ "deviceName": 7 }),
    ] {
        let response =
            server.call(Method::PATCH, &path, Some(&laptop.access_token), Some(bad.clone())).await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    assert_eq!(id_of(&server.sessions(&laptop.access_token).await, "Maryo's iPad"), ipad);
}

#[tokio::test]
async fn revoking_a_device_signs_it_out_at_once_and_only_it() {
    let server = TestServer::start().await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let ipad = server.login_from("alice", "alice", Some(SAFARI_IPAD)).await;
    let id = id_of(&server.sessions(&laptop.access_token).await, "Safari on iPad");
    server.advance(MIN);

    let path = format!("/account/sessions/{id}");
    let revoked = server.call(Method::DELETE, &path, Some(&laptop.access_token), None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    // The iPad's token, still within its lifetime, is 401 at once; its renewal 401; its
    // refresh token dead: whichever strategy its client uses, it signs out.
    let response = server.get("/api/me", Some(&ipad.access_token)).await;
    let challenge = header(response.headers(), "www-authenticate").unwrap();
    assert!(challenge.contains("revoked"), "{challenge}");
    assert_invalid_token(response).await;
    assert_error(
        server.renew(&ipad.cookie, Some(0)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_session",
    )
    .await;
    assert_error(
        server.refresh(&ipad.refresh_token, DEFAULT_CLIENT_ID).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    // The laptop goes on.
    assert_eq!(server.get("/api/me", Some(&laptop.access_token)).await.status(), StatusCode::OK);
    server.renew_ok(&laptop.cookie, Some(0)).await;
    assert_eq!(names(&server.sessions(&laptop.access_token).await), [("Chrome on Linux", true)]);
    // Gone is gone.
    let again = server.call(Method::DELETE, &path, Some(&laptop.access_token), None).await;
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn revoking_this_device_is_signing_out_here() {
    let server = TestServer::start().await;
    let laptop = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let id = id_of(&server.sessions(&laptop.access_token).await, "Chrome on Linux");
    let path = format!("/account/sessions/{id}");
    let revoked = server.call(Method::DELETE, &path, Some(&laptop.access_token), None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_invalid_token(server.get("/account/sessions", Some(&laptop.access_token)).await).await;
    assert_eq!(server.renew(&laptop.cookie, None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_users_sessions_can_be_neither_seen_nor_renamed_nor_revoked() {
    let server = TestServer::start().await;
    let alice = server.login_from("alice", "alice", Some(CHROME_LINUX)).await;
    let bob = server.login_from("bob", "bob", Some(SAFARI_IPAD)).await;
    let alices = id_of(&server.sessions(&alice.access_token).await, "Chrome on Linux");

    // bob's list holds bob's session only.
    let listed = server.sessions(&bob.access_token).await;
    assert_eq!(names(&listed), [("Safari on iPad", true)]);
    assert!(listed.iter().all(|s| s["id"] != alices.as_str()));

    // alice's id, used by bob, answers exactly as an id that does not exist.
    let unknown = "0123456789abcdef0123456789abcdef";
    let mut answers = Vec::new();
    for id in [alices.as_str(), unknown] {
        let path = format!("/account/sessions/{id}");
        let rename = server
            .call(
                Method::PATCH,
                &path,
                Some(&bob.access_token),
                Some(json!({ "deviceName": "bob's now" })),
            )
            .await;
        let revoke = server.call(Method::DELETE, &path, Some(&bob.access_token), None).await;
        for response in [rename, revoke] {
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            answers.push(response.text().await.unwrap());
        }
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]), "{answers:?}");

    // alice's session is untouched: same name, still live, renewing.
    assert_eq!(names(&server.sessions(&alice.access_token).await), [("Chrome on Linux", true)]);
    assert_eq!(server.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
    server.renew_ok(&alice.cookie, None).await;
    // And an admin is no exception: alice (admin) cannot revoke bob's session this way either.
    let bobs = id_of(&server.sessions(&bob.access_token).await, "Safari on iPad");
    let path = format!("/account/sessions/{bobs}");
    let response = server.call(Method::DELETE, &path, Some(&alice.access_token), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.renew_ok(&bob.cookie, None).await;
}

#[tokio::test]
async fn account_routes_need_a_valid_token_and_odd_ids_are_404() {
    let server = TestServer::start().await;
    assert_invalid_token(server.get("/account/sessions", None).await).await;
    assert_invalid_token(server.call(Method::DELETE, "/account/sessions/x", None, None).await)
        .await;
    assert_invalid_token(
        server
            .call(
                Method::PATCH,
                "/account/sessions/x",
                Some("garbage"),
                Some(json!({ "deviceName": "x" })),
            )
            .await,
    )
    .await;
    let alice = server.login("alice", "alice").await;
    for path in [
        "/account/sessions/%FF%FE",
        &format!("/account/sessions/{}", "a".repeat(65)),
        "/account/sessions/' OR 1=1 --",
    ] {
        let response = server.call(Method::DELETE, path, Some(&alice.access_token), None).await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    let response =
        server.call(Method::PUT, "/account/sessions/x", Some(&alice.access_token), None).await;
    assert_error(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    assert_eq!(server.sessions(&alice.access_token).await.len(), 1);
}
