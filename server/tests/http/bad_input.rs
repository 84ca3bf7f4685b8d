//! Bad input gets a 4xx with a JSON error body, never a panic or a 5xx.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;
use authpulse_server::BODY_LIMIT_BYTES;

async fn post_raw(
    server: &TestServer,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    server
        .http
        .post(server.url(path))
        .header("Content-Type", content_type)
        .header("X-Requested-With", "authpulse")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_rejects_malformed_json_wrong_types_and_missing_fields() {
    let server = TestServer::start().await;
    let cases: [(&str, &str, StatusCode, &str); 5] = [
        ("application/json", "{not json", StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "application/json",
            r#"{"username": "alice"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "application/json",
            r#"{"username": 1, "password": []}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("application/json", "[]", StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "text/plain",
            r#"{"username":"alice","password":"alice"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (content_type, body, status, code) in cases {
        assert_error(post_raw(&server, "/auth/login", content_type, body).await, status, code)
            .await;
    }
}

#[tokio::test]
async fn huge_bodies_are_413() {
    let server = TestServer::start().await;
    let huge = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(BODY_LIMIT_BYTES));
    for path in ["/auth/login", "/auth/renew", "/api/echo"] {
        let response = post_raw(&server, path, "application/json", huge.clone()).await;
        // /api/echo checks the token first; the others read the body.
        if path == "/api/echo" {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        } else {
            assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        }
    }
    let alice = server.login("alice", "alice").await;
    let echo = server
        .http
        .post(server.url("/api/echo"))
        .bearer_auth(&alice.access_token)
        .header("Content-Type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_error(echo, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let form = post_raw(
        &server,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        format!("grant_type={}", "a".repeat(BODY_LIMIT_BYTES)),
    )
    .await;
    assert_error(form, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn renew_rejects_a_malformed_body_but_accepts_text_json() {
    let server = TestServer::start().await;
    let alice = server.login("alice", "alice").await;
    let renew = |content_type: &'static str, body: &'static str| {
        server
            .http
            .post(server.url("/auth/renew"))
            .header("X-Requested-With", "authpulse")
            .header("Cookie", &alice.cookie)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    assert_error(
        renew("application/json", "{oops").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_error(
        renew("application/json", r#"{"idleMs": -5}"#).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_error(
        renew("application/json", r#"{"idleMs": "soon"}"#).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_error(
        renew("application/xml", "<idle/>").await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // A string body given to fetch goes out as text/plain; huge numbers saturate.
    assert_eq!(
        renew("text/plain;charset=UTF-8", r#"{"idleMs": 1000}"#).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        renew("application/json", r#"{"idleMs": 1e308}"#).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(renew("application/json", "").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let server = TestServer::start().await;
    assert_error(server.get("/api/nothing-here", None).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    assert_error(
        server.get("/auth/login", None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    assert_error(
        server.post_json("/oauth/nope", None, json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Nothing under /test/ without --test-controls.
    assert_eq!(server.get("/test/log", None).await.status(), StatusCode::NOT_FOUND);
    // (a POST there reaches the static files, which answer 405)
    let clock = server.post_json("/test/clock", None, json!({ "advanceMs": 1 })).await;
    assert!(matches!(clock.status().as_u16(), 404 | 405), "{}", clock.status());
}

/// Sends `head` (request line and headers, announcing a body) and `partial` of the body over a
/// raw connection, then waits: what comes back before the connection closes.
async fn send_and_stall(server: &TestServer, head: &str, partial: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream =
        tokio::net::TcpStream::connect(server.url.trim_start_matches("http://")).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(partial.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // Read to the end: the server must answer and close, not wait for the rest of the body.
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(3600), stream.read_to_end(&mut answer));
    read.await.expect("the server closed the connection").unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

// Tokio's clock is paused and moves on by itself whenever every task waits, so the request
// timeout passes at once, without sleeping.
#[tokio::test(start_paused = true)]
async fn a_body_that_never_arrives_gets_408_and_the_connection_closes() {
    let mut config = config();
    config.request_timeout_secs = 30;
    let server = TestServer::start_with(config, authpulse_server::Clock::manual(T0)).await;
    let head = "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n";
    let answer = send_and_stall(&server, head, r#"{"username": "alice", "#).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error":"request_timeout""#), "{answer}");
    // Same for an endpoint that reads its body leniently, with a session.
    let alice = server.login("alice", "alice").await;
    let head = format!(
        "POST /auth/renew HTTP/1.1\r\nHost: x\r\nX-Requested-With: authpulse\r\n\
         Cookie: {}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n",
        alice.cookie
    );
    let answer = send_and_stall(&server, &head, "{").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The server goes on serving.
    server.renew_ok(&alice.cookie, None).await;
}
