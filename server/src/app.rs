//! The application: shared state and the router.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post};
use axum::{middleware, Json, Router};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::error::ApiError;
use crate::policy::{SessionPolicy, SignInPolicy};
use crate::store::{Session, Store, StoreError};
use crate::tokens::{self, AccessTokens};
use crate::users::{Users, UsersError, DEMO_USERS};
use crate::{account, api, auth, echo, oauth, test_controls};

/// The largest request body accepted. Every legitimate body here is a few hundred bytes.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// Everything the handlers share.
#[derive(Debug)]
pub struct Shared {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) store: Store,
    pub(crate) tokens: AccessTokens,
    pub(crate) users: Users,
    pub(crate) policy: SessionPolicy,
    pub(crate) sign_in_policy: SignInPolicy,
    pub(crate) test: Option<test_controls::TestState>,
}

/// Cheap to clone handle on [`Shared`].
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Why the application could not be built from its configuration.
#[derive(Debug)]
pub enum BuildError {
    /// The database could not be opened.
    Store(StoreError),
    /// The demo users' password hashes could not be made.
    Users(UsersError),
    /// A flag has a value the server cannot use.
    Config(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Store(error) => error.fmt(f),
            Self::Users(error) => error.fmt(f),
            Self::Config(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BuildError {}

/// The routers a configuration makes.
#[derive(Debug)]
pub struct App {
    /// The auth server, the demo API, the static files and (with `--test-controls`) `/test/*`.
    pub router: Router,
    /// With `--test-controls`: the echo origin, which records every request it gets.
    pub echo: Option<Router>,
}

/// Builds the application for `config`, with all time read from `clock`.
pub fn build_app(config: &Config, clock: Clock) -> Result<App, BuildError> {
    config.check().map_err(BuildError::Config)?;
    let key = match &config.jwt_secret {
        Some(secret) if secret.len() < tokens::MIN_SECRET_BYTES => {
            return Err(BuildError::Config(format!(
                "--jwt-secret must be at least {} bytes",
                tokens::MIN_SECRET_BYTES
            )));
        }
        Some(secret) => secret.as_bytes().to_vec(),
        None => tokens::random_key(),
    };
    // Blank entries (`AUTHPULSE_ADMINS=`, "alice, bob") name nobody.
    let admins: Vec<String> = config
        .admins
        .iter()
        .map(|admin| admin.trim())
        .filter(|admin| !admin.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unknown) =
        admins.iter().find(|admin| !DEMO_USERS.iter().any(|(name, _, _)| name == admin))
    {
        return Err(BuildError::Config(format!(
            "--admin {unknown:?} is not a user of this server"
        )));
    }
    let cors = cors_layer(&config.allowed_origins)?;
    let store = Store::open(&config.db).map_err(BuildError::Store)?;
    let users = Users::demo(
        config.argon2_memory_kib,
        usize::try_from(config.password_hash_concurrency).unwrap_or(1),
        &admins,
    )
    .map_err(BuildError::Users)?;
    for (name, password, _) in DEMO_USERS {
        // Only the first time: a password changed since must survive the restart.
        if store.user(name).map_err(BuildError::Store)?.and_then(|u| u.password_hash).is_none() {
            let hash = users.hash_password_at_start(password).map_err(BuildError::Users)?;
            store.seed_user(name, &hash).map_err(BuildError::Store)?;
        }
    }
    let state = AppState(Arc::new(Shared {
        store,
        tokens: AccessTokens::new(&key, config.max_access_token_lifetime_secs()),
        users,
        policy: SessionPolicy {
            idle_timeout_ms: config.idle_timeout_ms(),
            lifetime_ms: config.session_lifetime_ms(),
        },
        sign_in_policy: SignInPolicy { max_auth_age_ms: config.max_auth_age_ms() },
        test: config.test_controls.then(test_controls::TestState::default),
        config: config.clone(),
        clock,
    }));

    let no_cache = || {
        SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        )
    };
    let mut router = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/renew", post(auth::renew))
        .route("/auth/logout", post(auth::logout))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/api/me", get(api::me))
        .route("/api/items", get(api::items))
        .route("/api/echo", post(api::echo))
        .route("/api/admin", get(api::admin))
        .route("/account/sessions", get(account::list_sessions))
        .route(
            "/account/sessions/{id}",
            patch(account::rename_session).delete(account::revoke_session),
        )
        .route("/account/password", post(account::change_password))
        .route("/admin/users/{username}/reauth", post(account::require_reauth))
        .route("/demo/revoke", post(api::revoke_own_session))
        .route("/demo/permission", post(api::set_own_permission))
        .route("/demo/config", get(api::demo_config));
    for prefix in ["/auth", "/oauth", "/api", "/demo", "/account", "/admin"] {
        router = router.route(&format!("{prefix}/{{*rest}}"), any(not_found));
    }
    if state.test.is_some() {
        router = router.nest("/test", test_controls::router());
    }
    let router = router
        .method_not_allowed_fallback(method_not_allowed)
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new().layer(no_cache()).service(ServeDir::new(&config.pkg)),
        )
        .fallback_service(
            tower::ServiceBuilder::new().layer(no_cache()).service(ServeDir::new(&config.www)),
        );
    // Under the test log, so that the log sees a 408 too.
    let mut router = router.layer(middleware::from_fn_with_state(state.clone(), request_timeout));
    if state.test.is_some() {
        // Inner first: failure injection sits under the log, so the log sees injected statuses.
        router = router
            .layer(middleware::from_fn_with_state(state.clone(), test_controls::inject_failures))
            .layer(middleware::from_fn_with_state(state.clone(), test_controls::record));
    }
    let mut router = router
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    let router = router
        .layer(TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)))
        .with_state(state.clone());

    let echo = state.test.as_ref().map(|_| echo::router(state.clone()));
    Ok(App { router, echo })
}

/// How long a browser may keep a preflight's answer: a renewal every few minutes then costs one
/// request, not two. (Chromium caps this at 2 h, Firefox at 24 h.)
pub const CORS_MAX_AGE_SECS: u64 = 600;

/// CORS for the configured origins, for an app on another origin (the contract's section 2):
/// credentials allowed, so each origin is listed, never `*`; the headers the SDK sends
/// (`X-Requested-With`, `Content-Type`, `Authorization`) allowed; and the response headers it
/// reads (`WWW-Authenticate`, `Retry-After`) exposed. Every response carries it, errors included,
/// so a cross-origin client can read a `401` as "signed out" rather than as a network error.
fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, BuildError> {
    if origins.is_empty() {
        return Ok(None);
    }
    let origins = origins
        .iter()
        .map(|origin| {
            serialized_origin(origin).map_err(|problem| {
                BuildError::Config(format!("--allowed-origin {origin:?}: {problem}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-requested-with"),
            ])
            .expose_headers([header::WWW_AUTHENTICATE, header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(CORS_MAX_AGE_SECS)),
    ))
}

/// `scheme://host[:port]` as a browser sends it in `Origin` (RFC 6454 section 6.1): http or
/// https, the host in lower case, the scheme's default port left out, no path, query, fragment
/// or credentials; a trailing `/` is dropped. Anything else could never match a request's
/// `Origin`, so it is refused at start.
fn serialized_origin(text: &str) -> Result<HeaderValue, &'static str> {
    let text = text.trim();
    let text = text.strip_suffix('/').unwrap_or(text);
    if text == "*" || text.eq_ignore_ascii_case("null") {
        return Err(
            "list each origin: with credentials a wildcard or null origin is never allowed",
        );
    }
    let (scheme, rest) = text.split_once("://").ok_or("not an origin: scheme://host[:port]")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return Err("the scheme must be http or https"),
    };
    if rest.contains(['/', '?', '#', '@', '\\']) || rest.chars().any(char::is_whitespace) {
        return Err("an origin has no path, query, fragment or credentials");
    }
    // An IPv6 literal is bracketed: `[::1]:8080`.
    let (host, port) = match rest.strip_prefix('[') {
        Some(inner) => {
            let (address, after) = inner.split_once(']').ok_or("an unclosed [ in the host")?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or("the port must follow a :")?),
            };
            (&rest[..address.len() + 2], port)
        }
        None => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    if host.is_empty() || host == "[]" {
        return Err("the host is missing");
    }
    let port = match port {
        None => None,
        Some(port)
            if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            match port.parse::<u32>() {
                Ok(number) if number <= 65_535 => Some(number.to_string()),
                _ => return Err("the port must be at most 65535"),
            }
        }
        Some(_) => return Err("the port must be a number"),
    };
    let host = host.to_ascii_lowercase();
    let origin = match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    };
    HeaderValue::from_str(&origin).map_err(|_| "not a valid header value")
}

/// Middleware: a request not answered within `--request-timeout-secs` (a body that never
/// arrives, say) gets `408 request_timeout`, with `Connection: close` since its body may be half
/// read, so that no connection hangs forever.
async fn request_timeout(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let limit = std::time::Duration::from_secs(state.config.request_timeout_secs);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let description = format!(
                "the request was not complete within {} s",
                state.config.request_timeout_secs
            );
            let mut response =
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", description)
                    .into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
}

/// A successful token response (RFC 6749 section 5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// A new refresh token, for the login and the refresh-token grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        // RFC 6749 section 5.1: token responses must not be cached.
        ([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(self))
            .into_response()
    }
}

impl AppState {
    /// Issues an access token for `session` at `now_ms`: the configured lifetime, cut short by the
    /// session's absolute end so no token outlives its session.
    pub(crate) fn issue_access_token(
        &self,
        session: &Session,
        now_ms: Millis,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse, ApiError> {
        let remaining_ms = self.policy.absolute_end(session.created_ms).saturating_sub(now_ms);
        let lifetime_ms = self.config.access_token_ms().min(remaining_ms);
        // The claims are whole seconds, `iat` rounded down and `exp` up: a token issued
        // mid-second spans one second more than `expires_in`, and must still pass the
        // verifier's lifetime check (`Config::check` keeps the maximum at 2 s or more).
        let rounding = i64::from(now_ms.rem_euclid(1000) != 0);
        let longest = self.config.max_access_token_lifetime_secs().saturating_sub(rounding);
        // `expires_in` must be a positive number of seconds (the contract's rule 11).
        let expires_in = (lifetime_ms / 1000).min(longest).max(1);
        let expires_ms = now_ms.saturating_add(expires_in * 1000);
        let access_token = self
            .tokens
            .issue(&session.username, &session.id, now_ms, expires_ms)
            .map_err(ApiError::internal)?;
        Ok(TokenResponse { access_token, token_type: "Bearer", expires_in, refresh_token })
    }

    /// Whether `session` may get new tokens at `now_ms` under the idle and lifetime rules and its
    /// user's sign-in rules, read from the store (the lookup a renewal pays, an API call does
    /// not). The session is not ended here.
    pub(crate) fn session_verdict(
        &self,
        now_ms: Millis,
        session: &Session,
    ) -> Result<Result<(), crate::policy::EndReason>, StoreError> {
        if let Err(reason) = self.policy.check(now_ms, session.created_ms, session.last_activity_ms)
        {
            return Ok(Err(reason));
        }
        let user = self.store.user(&session.username)?;
        Ok(self.sign_in_policy.check(now_ms, session, user.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::serialized_origin;

    #[test]
    fn allowed_origins_are_serialized_as_browsers_send_them() {
        let ok =
            |text: &str| serialized_origin(text).map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(ok("http://app.example:3000").unwrap(), "http://app.example:3000");
        assert_eq!(ok("http://app.example:3000/").unwrap(), "http://app.example:3000");
        assert_eq!(ok(" HTTPS://App.Example ").unwrap(), "https://app.example");
        assert_eq!(ok("https://app.example:443").unwrap(), "https://app.example");
        assert_eq!(ok("http://app.example:80").unwrap(), "http://app.example");
        assert_eq!(ok("http://app.example:0443").unwrap(), "http://app.example:443");
        assert_eq!(ok("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        assert_eq!(ok("http://[::1]").unwrap(), "http://[::1]");
        assert_eq!(ok("http://127.0.0.1:5173").unwrap(), "http://127.0.0.1:5173");
    }

    #[test]
    fn what_could_never_match_an_origin_is_refused() {
        for text in [
            "*",
            "null",
            "app.example",
            "ftp://app.example",
            "http://",
            "http://app.example/path",
            "http://app.example?x",
            "http://app.example#x",
            "http://user@app.example",
            "http://app.example:",
            "http://app.example:http",
            "http://app.example:65536",
            "http://app.example:123456",
            "http://[::1",
            "http://[::1]8080",
            "http://[]",
            "http://app example",
        ] {
            assert!(serialized_origin(text).is_err(), "{text:?} was accepted");
        }
    }
}
