//! `--test-controls`: the clock, the request log, failure injection and the echo origin.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use authpulse_server::Clock;

async fn start() -> TestServer {
    let mut config = config();
    config.test_controls = true;
    TestServer::start_with(config, Clock::manual(T0)).await
}

async fn log(server: &TestServer) -> Value {
    server.get("/test/log", None).await.json().await.unwrap()
}

#[tokio::test]
async fn the_clock_can_be_set_and_moved() {
    let server = start().await;
    let now: Value = server.get("/test/clock", None).await.json().await.unwrap();
    assert_eq!(now, json!({ "nowMs": T0, "frozen": true }));
    let set: Value = server
        .post_json("/test/clock", None, json!({ "nowMs": T0 + 5 * MIN }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["nowMs"], T0 + 5 * MIN);
    let moved: Value = server
        .post_json("/test/clock", None, json!({ "advanceMs": 1000 }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["nowMs"], T0 + 5 * MIN + 1000);
    assert_error(
        server.post_json("/test/clock", None, json!({ "nowMS": 1 })).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn a_running_clock_set_forward_keeps_running() {
    let mut config = config();
    config.test_controls = true;
    let server = TestServer::start_with(config, Clock::system()).await;
    let target = T0 + 3_600_000;
    let set: Value = server
        .post_json("/test/clock", None, json!({ "nowMs": target }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["frozen"], false);
    let now = set["nowMs"].as_i64().unwrap();
    assert!((target..target + MIN).contains(&now), "{now}");
}

#[tokio::test]
async fn the_log_records_bearer_tokens_and_what_they_were() {
    let server = start().await;
    let alice = server.login("alice", "alice").await;
    server.get("/api/me", None).await;
    server.get("/api/me", Some(&alice.access_token)).await;
    server.post_json("/test/clock", None, json!({ "advanceMs": 5 * MIN })).await;
    server.get("/api/me", Some(&alice.access_token)).await;
    server.renew_ok(&alice.cookie, Some(0)).await;
    server.get("/api/me", Some("forged")).await;

    let log = log(&server).await;
    let requests = log["requests"].as_array().unwrap();
    let summary: Vec<(String, bool, String, u64)> = requests
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_owned(),
                r["bearer"].as_bool().unwrap(),
                r["token"].as_str().unwrap().to_owned(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("/auth/login", false, "none", 200),
        ("/api/me", false, "none", 401),
        ("/api/me", true, "valid", 200),
        ("/api/me", true, "expired", 401),
        ("/auth/renew", false, "none", 200),
        ("/api/me", true, "invalid", 401),
    ];
    let expected: Vec<_> =
        expected.iter().map(|(p, b, t, s)| (p.to_string(), *b, t.to_string(), *s)).collect();
    assert_eq!(summary, expected);
    assert_eq!(requests[3]["atMs"], T0 + 5 * MIN);
    assert_eq!(log["counts"]["expiredBearer"], 1);
    assert_eq!(log["renewals"], json!({ "total": 1, "ok": 1, "rejected": 0, "failed": 0 }));

    // Revoked: the token is unexpired but its session ended.
    let bob = server.login("bob", "bob").await;
    server.post_json("/demo/revoke", Some(&bob.access_token), json!({})).await;
    server.get("/api/me", Some(&bob.access_token)).await;
    let last = log_last(&server).await;
    assert_eq!((last["token"].as_str(), last["status"].as_u64()), (Some("revoked"), Some(401)));

    assert_eq!(
        server.post_json("/test/log/clear", None, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(crate::test_controls::log(&server).await["requests"], json!([]));
}

async fn log_last(server: &TestServer) -> Value {
    log(server).await["requests"].as_array().unwrap().last().unwrap().clone()
}

#[tokio::test]
async fn failures_can_be_injected_by_count_and_by_time() {
    let server = start().await;
    let alice = server.login("alice", "alice").await;
    let rule = server
        .post_json("/test/fail", None, json!({ "path": "/auth/renew", "status": 500, "count": 2 }))
        .await;
    assert_eq!(rule.status(), StatusCode::OK);
    for _ in 0..2 {
        assert_error(
            server.renew(&alice.cookie, None).await,
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected_failure",
        )
        .await;
    }
    server.renew_ok(&alice.cookie, None).await;

    server
        .post_json(
            "/test/fail",
            None,
            json!({ "path": "/auth/renew", "status": 503, "untilMs": T0 + MIN }),
        )
        .await;
    assert_eq!(server.renew(&alice.cookie, None).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    server.advance(MIN);
    server.renew_ok(&alice.cookie, None).await;

    let log = log(&server).await;
    assert_eq!(log["renewals"], json!({ "total": 5, "ok": 2, "rejected": 0, "failed": 3 }));
    assert_eq!(log["requests"][1]["injected"], true);

    // The controls themselves never fail.
    server.post_json("/test/fail", None, json!({ "path": "/test/log", "status": 500 })).await;
    assert_eq!(server.get("/test/log", None).await.status(), StatusCode::OK);
    server.post_json("/test/fail", None, json!({ "path": "/api/me", "status": 401 })).await;
    server.post_json("/test/fail/clear", None, json!({})).await;
    let token = server.renew_ok(&alice.cookie, None).await;
    assert_eq!(server.get("/api/me", Some(&token)).await.status(), StatusCode::OK);

    assert_error(
        server.post_json("/test/fail", None, json!({ "path": "/x" })).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_error(
        server.post_json("/test/fail", None, json!({ "path": "/x", "status": 42 })).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn the_echo_origin_records_every_request_and_preflight() {
    let server = start().await;
    let echo = server.server.as_ref().unwrap().echo_url().expect("an echo origin");
    assert_ne!(echo, server.url);

    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{echo}/data"))
        .header("Origin", server.url.as_str())
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(preflight.headers(), "access-control-allow-origin").as_deref(),
        Some(server.url.as_str())
    );
    assert_eq!(
        header(preflight.headers(), "access-control-allow-headers").as_deref(),
        Some("authorization")
    );

    let get =
        server.http.get(format!("{echo}/data?x=1")).header("X-Custom", "1").send().await.unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    server.http.post(format!("{echo}/leak")).bearer_auth("secret-token").send().await.unwrap();

    let seen: Value = server.get("/test/echo", None).await.json().await.unwrap();
    let requests = seen["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0]["method"], "OPTIONS");
    assert_eq!(requests[0]["headers"]["access-control-request-headers"], "authorization");
    assert_eq!(requests[1]["path"], "/data");
    assert_eq!(requests[1]["headers"]["x-custom"], "1");
    assert_eq!(requests[1]["authorization"], false);
    assert_eq!(requests[2]["headers"]["authorization"], "Bearer secret-token");
    assert_eq!(seen["withAuthorization"], 1);

    server.post_json("/test/reset", None, json!({})).await;
    let seen: Value = server.get("/test/echo", None).await.json().await.unwrap();
    assert_eq!(seen["requests"], json!([]));
}

#[tokio::test]
async fn without_the_flag_there_is_no_echo_origin() {
    let server = TestServer::start().await;
    assert!(server.server.as_ref().unwrap().echo_url().is_none());
}
