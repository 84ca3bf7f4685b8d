//! A test server and a small client for it.

use authpulse_server::{serve, Clock, Config, RunningServer, SESSION_COOKIE};
use reqwest::header::{HeaderMap, AUTHORIZATION, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

/// An arbitrary fixed start time (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000_000;
pub const SEC: i64 = 1_000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;

/// Desktop Chromium on Linux, as the end-to-end tests' browser sends it.
pub const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
/// Safari on an iPad.
pub const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub clock: Clock,
    pub url: String,
    pub http: reqwest::Client,
}

/// A signed-in browser: its session cookie and the tokens from the login.
pub struct SignedIn {
    /// `authpulse_session=...`, ready for a `Cookie` header.
    pub cookie: String,
    /// The whole `Set-Cookie` header of the login.
    pub set_cookie: String,
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// Test defaults, with the demo's 5-minute tokens, 15-minute idle timeout and 8-hour sessions.
pub fn config() -> Config {
    Config::for_tests()
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(config(), Clock::manual(T0)).await
    }

    pub async fn start_with(config: Config, clock: Clock) -> Self {
        let server = serve(config, clock.clone()).await.expect("server starts");
        let url = server.url();
        Self { server: Some(server), clock, url, http: reqwest::Client::new() }
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    pub async fn login_response(&self, username: &str, password: &str) -> Response {
        self.http
            .post(self.url("/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    pub async fn login(&self, username: &str, password: &str) -> SignedIn {
        self.login_from(username, password, None).await
    }

    /// Signs in from a device with this `User-Agent` (none: reqwest sends none).
    pub async fn login_from(
        &self,
        username: &str,
        password: &str,
        user_agent: Option<&str>,
    ) -> SignedIn {
        let mut request = self
            .http
            .post(self.url("/auth/login"))
            .json(&json!({ "username": username, "password": password }));
        if let Some(user_agent) = user_agent {
            request = request.header("User-Agent", user_agent);
        }
        let response = request.send().await.expect("login request");
        assert_eq!(response.status(), StatusCode::OK, "login of {username}");
        let set_cookie = header(response.headers(), SET_COOKIE.as_str()).expect("a session cookie");
        let cookie = set_cookie.split(';').next().unwrap().trim().to_owned();
        assert!(cookie.starts_with(&format!("{SESSION_COOKIE}=")), "{set_cookie}");
        let body: Value = response.json().await.unwrap();
        SignedIn {
            cookie,
            set_cookie,
            access_token: body["access_token"].as_str().expect("access_token").to_owned(),
            refresh_token: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
            expires_in: body["expires_in"].as_i64().expect("expires_in"),
        }
    }

    /// `POST /auth/renew` as the SDK sends it: the CSRF header, the cookie, maybe `idleMs`.
    pub async fn renew(&self, cookie: &str, idle_ms: Option<i64>) -> Response {
        let mut request = self
            .http
            .post(self.url("/auth/renew"))
            .header("X-Requested-With", "authpulse")
            .header("Cookie", cookie);
        if let Some(idle_ms) = idle_ms {
            request = request.json(&json!({ "idleMs": idle_ms }));
        }
        request.send().await.expect("renew request")
    }

    /// Renews and returns the new access token, asserting success.
    pub async fn renew_ok(&self, cookie: &str, idle_ms: Option<i64>) -> String {
        let response = self.renew(cookie, idle_ms).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request.send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut request = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request.send().await.expect("POST")
    }

    /// A request with `method`, a bearer token and maybe a JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// `GET /account/sessions` with `token`, asserting a 200: the list.
    pub async fn sessions(&self, token: &str) -> Vec<Value> {
        let response = self.get("/account/sessions", Some(token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["sessions"].as_array().expect("a sessions array").clone()
    }

    /// `POST /auth/logout` with a session cookie.
    pub async fn logout_cookie(&self, cookie: &str) {
        let response =
            self.http.post(self.url("/auth/logout")).header("Cookie", cookie).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// `POST /account/password` with `token`.
    pub async fn change_password(&self, token: &str, current: &str, new: &str) -> Response {
        self.post_json(
            "/account/password",
            Some(token),
            json!({ "current_password": current, "new_password": new }),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str, client_id: &str) -> Response {
        self.http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", client_id),
            ])
            .send()
            .await
            .expect("token request")
    }
}

pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|value| value.to_str().unwrap().to_owned())
}

/// Asserts a `401` with `WWW-Authenticate: Bearer error="invalid_token"` and a JSON error.
pub async fn assert_invalid_token(response: Response) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = header(response.headers(), WWW_AUTHENTICATE.as_str()).expect("a challenge");
    assert!(challenge.starts_with(r#"Bearer error="invalid_token""#), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
}

/// Asserts a status and a JSON body with `error` equal to `code`.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}
