//! A renew endpoint on another origin than the app's (the contract's section 2): with
//! `--allowed-origin`, the preflight the SDK's renewal causes is answered for that origin with
//! credentials, the headers it sends are allowed, and every answer — `200`, `401`, an injected
//! `503` — carries CORS, so the client can read it; the headers it reads are exposed.

use authpulse_server::{build_app, BuildError, Clock, Config};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

const APP: &str = "http://app.example:3000";

async fn start() -> TestServer {
    let mut config = config();
    config.allowed_origins = vec![format!("{APP}/")];
    config.test_controls = true;
    TestServer::start_with(config, Clock::manual(T0)).await
}

fn list(value: Option<String>) -> Vec<String> {
    value.unwrap_or_default().split(',').map(|item| item.trim().to_ascii_lowercase()).collect()
}

/// The preflight a browser sends before the SDK's renewal from `origin`.
async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    server
        .http
        .request(Method::OPTIONS, server.url("/auth/renew"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,x-requested-with")
        .send()
        .await
        .unwrap()
}

/// `POST /auth/renew` from `origin`, as the SDK sends it.
async fn renew_from(server: &TestServer, origin: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = server
        .http
        .post(server.url("/auth/renew"))
        .header("Origin", origin)
        .header("X-Requested-With", "authpulse")
        .json(&json!({ "idleMs": 0 }));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    request.send().await.unwrap()
}

fn assert_cors_for_app(response: &reqwest::Response) {
    let headers = response.headers();
    assert_eq!(header(headers, "access-control-allow-origin").as_deref(), Some(APP));
    assert_eq!(header(headers, "access-control-allow-credentials").as_deref(), Some("true"));
    let exposed = list(header(headers, "access-control-expose-headers"));
    assert!(exposed.contains(&"www-authenticate".into()), "{exposed:?}");
    assert!(exposed.contains(&"retry-after".into()), "{exposed:?}");
    assert!(list(header(headers, "vary")).contains(&"origin".into()));
}

#[tokio::test]
async fn the_preflight_of_a_renewal_is_granted_to_a_listed_origin_with_credentials() {
    let server = start().await;
    let answer = preflight(&server, APP).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let headers = answer.headers();
    assert_eq!(header(headers, "access-control-allow-origin").as_deref(), Some(APP));
    assert_eq!(header(headers, "access-control-allow-credentials").as_deref(), Some("true"));
    assert!(list(header(headers, "access-control-allow-methods")).contains(&"post".into()));
    let allowed = list(header(headers, "access-control-allow-headers"));
    for name in ["x-requested-with", "content-type", "authorization"] {
        assert!(allowed.contains(&name.into()), "{name} not in {allowed:?}");
    }
    assert_eq!(header(headers, "access-control-max-age").as_deref(), Some("600"));
    assert!(list(header(headers, "vary")).contains(&"origin".into()));

    // Without Access-Control-Allow-Origin the browser refuses, whatever else is sent.
    for other in ["http://evil.example", "http://app.example:3001", "https://app.example:3000"] {
        let refused = preflight(&server, other).await;
        assert!(header(refused.headers(), "access-control-allow-origin").is_none(), "{other}");
    }
}

#[tokio::test]
async fn renewals_from_the_app_origin_carry_cors_when_granted_and_when_rejected() {
    let server = start().await;
    let alice = server.login("alice", "alice").await;

    let granted = renew_from(&server, APP, Some(&alice.cookie)).await;
    assert_eq!(granted.status(), StatusCode::OK);
    assert_cors_for_app(&granted);

    // The 401 that signs the client out must be readable cross-origin, not a network error.
    let rejected = renew_from(&server, APP, None).await;
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    assert_cors_for_app(&rejected);

    // The CSRF rule is unchanged: no X-Requested-With, no renewal, whatever the origin.
    let forged = server
        .http
        .post(server.url("/auth/renew"))
        .header("Origin", APP)
        .header("Cookie", &alice.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // The API and the token endpoint answer the app's origin too.
    let api = server
        .http
        .get(server.url("/api/me"))
        .header("Origin", APP)
        .bearer_auth(&alice.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert_cors_for_app(&api);
    let token = server
        .http
        .post(server.url("/oauth/token"))
        .header("Origin", APP)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", alice.refresh_token.as_str()),
            ("client_id", "authpulse-demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    assert_cors_for_app(&token);
}

#[tokio::test]
async fn a_503_with_retry_after_is_readable_from_the_app_origin() {
    let server = start().await;
    let alice = server.login("alice", "alice").await;
    let rule = json!({ "path": "/auth/renew", "status": 503, "retryAfter": "120" });
    assert_eq!(server.post_json("/test/fail", None, rule).await.status(), StatusCode::OK);

    let answer = renew_from(&server, APP, Some(&alice.cookie)).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(answer.headers(), "retry-after").as_deref(), Some("120"));
    assert_cors_for_app(&answer);

    let bad = json!({ "path": "/auth/renew", "status": 503, "retryAfter": "1\n2" });
    assert_error(
        server.post_json("/test/fail", None, bad).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    let without_status = json!({ "path": "/auth/renew", "delayMs": 1, "retryAfter": "5" });
    assert_error(
        server.post_json("/test/fail", None, without_status).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[test]
fn an_allowed_origin_that_could_never_match_is_refused_at_start() {
    for origin in ["*", "null", "http://app.example:3000/app", "app.example:3000", "http://a:99999"]
    {
        let mut config = Config::for_tests();
        config.allowed_origins = vec![origin.to_owned()];
        match build_app(&config, Clock::manual(T0)) {
            Err(BuildError::Config(message)) => {
                assert!(message.starts_with("--allowed-origin"), "{message}");
                assert!(message.contains(origin), "{message}");
            }
            other => panic!("{origin:?} was accepted: {:?}", other.map(|_| ())),
        }
    }
}
