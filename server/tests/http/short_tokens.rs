//! Short tokens only: the API refuses an access token made to live longer than
//! `--max-access-token-secs` (15 minutes by default), whoever signed it, and the server refuses to
//! start with a longer access-token lifetime.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use authpulse_server::{serve, Clock};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// Asserts the `401` of a token made to live too long.
async fn assert_too_long(response: reqwest::Response, max_secs: i64) {
    let challenge = header(response.headers(), "www-authenticate").expect("a challenge");
    assert_eq!(
        challenge,
        format!(
            r#"Bearer error="invalid_token", error_description="token lifetime exceeds {max_secs} s""#
        )
    );
    assert_invalid_token(response).await;
}

/// A token signed with `SECRET`, as any holder of the key could sign it.
fn forge(sid: &str, iat_secs: i64, exp_secs: i64) -> String {
    let claims =
        json!({ "sub": "alice", "sid": sid, "iat": iat_secs, "exp": exp_secs, "jti": "forged" });
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
        .unwrap()
}

#[tokio::test]
async fn a_token_made_to_live_an_hour_is_401_even_with_our_key_and_a_live_session() {
    // Another service sharing the key, configured for hour-long tokens, signs one.
    let mut lax = config();
    lax.jwt_secret = Some(SECRET.into());
    lax.access_token_secs = 3600;
    lax.max_access_token_secs = 3600;
    let clock = Clock::manual(T0);
    let lax = TestServer::start_with(lax, clock.clone()).await;
    let long = lax.login("alice", "alice").await;
    assert_eq!(long.expires_in, 3600);
    assert_eq!(lax.get("/api/me", Some(&long.access_token)).await.status(), StatusCode::OK);

    let mut strict = config();
    strict.jwt_secret = Some(SECRET.into());
    let server = TestServer::start_with(strict, clock).await;
    assert_too_long(server.get("/api/me", Some(&long.access_token)).await, 900).await;

    // Same key, a live session of this server, every claim right but the lifetime.
    let alice = server.login("alice", "alice").await;
    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    let sid = me["sessionId"].as_str().unwrap();
    let now = T0 / 1000;
    let at_most = forge(sid, now, now + 900);
    assert_eq!(server.get("/api/me", Some(&at_most)).await.status(), StatusCode::OK);
    assert_too_long(server.get("/api/items", Some(&forge(sid, now, now + 901))).await, 900).await;
    // Refused whatever its iat: a token issued long ago that lives for a day is still too long.
    assert_too_long(server.get("/api/me", Some(&forge(sid, now - 3600, now + 86_400))).await, 900)
        .await;
    // The same for every bearer-guarded route, the account's included.
    let day = forge(sid, now, now + 86_400);
    assert_too_long(server.get("/account/sessions", Some(&day)).await, 900).await;
    let revoke = server.post_json("/demo/revoke", Some(&day), json!({})).await;
    assert_too_long(revoke, 900).await;
    // The session was not revoked by that attempt.
    assert_eq!(server.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_maximum_is_configurable() {
    let mut short = config();
    short.access_token_secs = 60;
    short.max_access_token_secs = 120;
    short.jwt_secret = Some(SECRET.into());
    let server = TestServer::start_with(short, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    let sid = me["sessionId"].as_str().unwrap();
    let now = T0 / 1000;
    assert_eq!(
        server.get("/api/me", Some(&forge(sid, now, now + 120))).await.status(),
        StatusCode::OK
    );
    assert_too_long(server.get("/api/me", Some(&forge(sid, now, now + 121))).await, 120).await;
}

#[tokio::test]
async fn the_server_refuses_to_start_with_a_longer_access_token_lifetime() {
    let mut config = config();
    config.access_token_secs = 901;
    let error = serve(config.clone(), Clock::manual(T0)).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("--access-token-secs 901"), "{message}");
    assert!(message.contains("--max-access-token-secs 900"), "{message}");
    config.max_access_token_secs = 901;
    serve(config, Clock::manual(T0)).await.expect("starts once the maximum allows it");
}

#[tokio::test]
async fn tokens_issued_mid_second_at_the_maximum_pass_the_check() {
    // The claims are whole seconds: iat rounds down, exp up. A 900 s token issued at .500
    // would span 901 s; the server issues 899 s instead, and its own token passes.
    let mut config = config();
    config.access_token_secs = 900;
    let server = TestServer::start_with(config, Clock::manual(T0 + 500)).await;
    let alice = server.login("alice", "alice").await;
    assert_eq!(alice.expires_in, 899);
    assert_eq!(server.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
    server.advance(SEC / 2);
    let renewed: Value = server.renew(&alice.cookie, None).await.json().await.unwrap();
    assert_eq!(renewed["expires_in"], 900, "on a whole second the full lifetime");
    let token = renewed["access_token"].as_str().unwrap();
    assert_eq!(server.get("/api/me", Some(token)).await.status(), StatusCode::OK);
}

/// A token signed with `SECRET` carrying exactly `claims`.
fn forge_claims(claims: &Value) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes()))
        .unwrap()
}

/// Asserts a `401 invalid_token` whose description contains `why`.
async fn assert_refused(response: reqwest::Response, why: &str) {
    let challenge = header(response.headers(), "www-authenticate").expect("a challenge");
    assert!(challenge.contains(why), "{challenge}");
    assert_invalid_token(response).await;
}

#[tokio::test]
async fn a_token_issued_in_the_future_or_ending_before_it_begins_is_401() {
    // The lifetime rule reads `exp - iat`; a key holder must not get round it by moving `iat`.
    let mut strict = config();
    strict.jwt_secret = Some(SECRET.into());
    let server = TestServer::start_with(strict, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    let sid = me["sessionId"].as_str().unwrap();
    let now = T0 / 1000;
    let claims = |iat: i64, exp: i64| json!({ "sub": "alice", "sid": sid, "iat": iat, "exp": exp, "jti": "forged" });

    // A day-long token whose `iat` is set a day ahead, so that `exp - iat` looks short.
    let ahead = forge_claims(&claims(now + 86_400 - 600, now + 86_400));
    assert_refused(server.get("/api/me", Some(&ahead)).await, "issued in the future").await;
    // Both claims at the far end of the range.
    let far = forge_claims(&claims(i64::MAX - 600, i64::MAX));
    assert_refused(server.get("/api/me", Some(&far)).await, "issued in the future").await;
    // `exp` before or at `iat`: a negative lifetime is not a short one.
    let backwards = forge_claims(&claims(now + 30, now + 10));
    assert_refused(server.get("/api/me", Some(&backwards)).await, "expires before it is issued")
        .await;
    let instant = forge_claims(&claims(now + 30, now + 30));
    assert_refused(server.get("/api/me", Some(&instant)).await, "expires before it is issued")
        .await;
    // `iat` far in the past and `exp` in the future: too long, as before.
    assert_too_long(server.get("/api/me", Some(&forge(sid, i64::MIN, now + 60))).await, 900).await;
    // A minute of clock skew between the signer and this server is allowed, not more.
    let skewed = forge_claims(&claims(now + 60, now + 360));
    assert_eq!(server.get("/api/me", Some(&skewed)).await.status(), StatusCode::OK);
    let skewed_more = forge_claims(&claims(now + 61, now + 361));
    assert_refused(server.get("/api/me", Some(&skewed_more)).await, "issued in the future").await;
    // The refusals hold for logout too: a refused token ends no session.
    server.http.post(server.url("/auth/logout")).bearer_auth(&ahead).send().await.unwrap();
    assert_eq!(server.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_is_not_accepted_before_its_nbf() {
    let mut strict = config();
    strict.jwt_secret = Some(SECRET.into());
    let server = TestServer::start_with(strict, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    let sid = me["sessionId"].as_str().unwrap();
    let now = T0 / 1000;
    let token = |nbf: i64| {
        forge_claims(&json!({
            "sub": "alice", "sid": sid, "iat": now, "exp": now + 300, "nbf": nbf, "jti": "forged"
        }))
    };
    let later = token(now + 120);
    assert_refused(server.get("/api/me", Some(&later)).await, "not valid before").await;
    assert_eq!(server.get("/api/me", Some(&token(now + 60))).await.status(), StatusCode::OK);
    assert_eq!(server.get("/api/me", Some(&token(now))).await.status(), StatusCode::OK);
    server.advance(61 * SEC);
    assert_eq!(server.get("/api/me", Some(&later)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_whose_sub_is_not_its_sessions_user_is_401() {
    let mut strict = config();
    strict.jwt_secret = Some(SECRET.into());
    let server = TestServer::start_with(strict, Clock::manual(T0)).await;
    let alice = server.login("alice", "alice").await;
    let bob = server.login("bob", "bob").await;
    let me: Value = server.get("/api/me", Some(&alice.access_token)).await.json().await.unwrap();
    let sid = me["sessionId"].as_str().unwrap();
    let now = T0 / 1000;
    // alice's live session, but the token says bob.
    let mixed = forge_claims(
        &json!({ "sub": "bob", "sid": sid, "iat": now, "exp": now + 300, "jti": "forged" }),
    );
    assert_refused(server.get("/api/me", Some(&mixed)).await, "does not match its session").await;
    assert_refused(server.get("/account/sessions", Some(&mixed)).await, "does not match").await;
    let changed = server.change_password(&mixed, "bob", "a new password").await;
    assert_invalid_token(changed).await;
    // Nor does it end the session it names.
    let logout =
        server.http.post(server.url("/auth/logout")).bearer_auth(&mixed).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.get("/api/me", Some(&alice.access_token)).await.status(), StatusCode::OK);
    server.renew_ok(&bob.cookie, None).await;
    server.login("bob", "bob").await;
}
