//! The session strategy's endpoints (the contract's section 2): sign in, renew, sign out.
//!
//! The session lives in an HttpOnly cookie scoped to `/auth`, so page scripts never see it and
//! the browser sends it to nothing but these endpoints.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use crate::app::AppState;
use crate::bearer;
use crate::clock::Millis;
use crate::devices::device_name;
use crate::error::{ApiError, JsonBody, RawBody};
use crate::policy::EndReason;
use crate::store::{RefreshToken, Session};
use crate::tokens::{hash_secret, random_token, Verified};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "authpulse_session";
/// The only path the browser sends the session cookie to.
pub const SESSION_COOKIE_PATH: &str = "/auth";
/// The header (and value) a renewal must carry: a cross-site request cannot set it without a
/// CORS preflight, which the server does not grant to unknown origins.
pub const CSRF_HEADER: &str = "x-requested-with";
/// The value of [`CSRF_HEADER`].
pub const CSRF_HEADER_VALUE: &str = "authpulse";
/// `client_id` of refresh tokens issued at login when the request names none.
pub const DEFAULT_CLIENT_ID: &str = "authpulse-demo";

/// Failed sign-ins allowed per username (known or not) within [`SIGN_IN_FAILURE_WINDOW_MS`]:
/// enough for a user who mistypes, too few to guess a password. An attacker can use them up and
/// keep a user from signing in for the window; a deployment facing the internet adds limits per
/// client address in front.
pub const SIGN_IN_FAILURES_PER_WINDOW: usize = 5;
/// The window of [`SIGN_IN_FAILURES_PER_WINDOW`]: 15 minutes.
pub const SIGN_IN_FAILURE_WINDOW_MS: Millis = 15 * 60_000;

/// `POST /auth/login` body.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    username: String,
    password: String,
    /// The OAuth client the refresh token is bound to.
    #[serde(default)]
    client_id: Option<String>,
}

/// `POST /auth/login`: checks the password, starts a session (cookie) named after the device
/// (from the User-Agent) and answers with a token response that also carries a refresh token,
/// for apps using the refresh-token strategy. After [`SIGN_IN_FAILURES_PER_WINDOW`] failures for
/// a username within 15 minutes, `429 too_many_requests` with `Retry-After` (seconds), before
/// the password is checked. The sign-in is the user's new `auth_time` and
/// clears a "reauth required" flag (ending the sessions that began before the flag).
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if request.username.len() > 128 || request.password.len() > 1024 {
        return Err(ApiError::bad_request("username or password too long"));
    }
    let LoginRequest { username, password, client_id } = request;
    // Counted before Argon2 runs, taken back if the password is right: at most
    // SIGN_IN_FAILURES_PER_WINDOW guesses per user, however many arrive at once.
    let attempt_ms = state.clock.now_ms();
    let attempt = match state.store.count_sign_in_attempt(
        &username,
        attempt_ms,
        SIGN_IN_FAILURE_WINDOW_MS,
        SIGN_IN_FAILURES_PER_WINDOW,
    )? {
        Ok(attempt) => attempt,
        Err(allowed_at_ms) => {
            let wait_secs = (allowed_at_ms - attempt_ms + 999) / 1000;
            return Err(ApiError::too_many_requests(
                format!("too many failed sign-ins for this user: try again in {wait_secs} s"),
                wait_secs,
            ));
        }
    };
    let stored = state.store.user(&username)?.and_then(|user| user.password_hash);
    // Argon2 takes tens of milliseconds of CPU and 19 MiB on purpose: off the async workers, a
    // bounded number at once.
    let accepted =
        state.users.check_password(stored, password).await.map_err(ApiError::internal)?;
    if !accepted {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "unknown user or wrong password",
        ));
    }
    state.store.forget_sign_in_attempt(attempt)?;

    let now_ms = state.clock.now_ms();
    // A browser signing in again must not keep its previous session alive beside the new one.
    if let Some(old) = session_from_cookie(&state, &jar)? {
        state.store.end_session(&old.id, now_ms, EndReason::Replaced)?;
    }
    let secret = random_token(32);
    let user_agent = headers.get(header::USER_AGENT).and_then(|value| value.to_str().ok());
    let session = Session {
        id: random_token(16),
        username,
        device_name: device_name(user_agent),
        created_ms: now_ms,
        last_activity_ms: now_ms,
        last_used_ms: now_ms,
        ended: None,
    };
    let cleared = state.store.sign_in(&session, &hash_secret(&secret))?;
    if cleared > 0 {
        tracing::info!(user = %session.username, ended = cleared, "fresh sign-in: reauth flag cleared");
    }
    let refresh_token = new_refresh_token(
        &state,
        &session,
        client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID),
        now_ms,
    )?;
    let tokens = state.issue_access_token(&session, now_ms, Some(refresh_token))?;
    let cookie = session_cookie(&state, &headers, secret);
    tracing::info!(user = %session.username, session = %session.id, "signed in");
    Ok((jar.add(cookie), tokens).into_response())
}

/// Stores and returns a new refresh token for `session`, expiring with the refresh-token
/// lifetime or the session's absolute end, whichever comes first.
pub(crate) fn new_refresh_token(
    state: &AppState,
    session: &Session,
    client_id: &str,
    now_ms: Millis,
) -> Result<String, ApiError> {
    let token = random_token(32);
    let expires_ms = now_ms
        .saturating_add(state.config.refresh_token_ms())
        .min(state.policy.absolute_end(session.created_ms));
    let stored = RefreshToken {
        session_id: session.id.clone(),
        client_id: client_id.to_owned(),
        expires_ms,
        used_ms: None,
    };
    state.store.insert_refresh_token(&hash_secret(&token), &stored, now_ms)?;
    Ok(token)
}

/// `POST /auth/renew` body; every field optional, the body too.
#[derive(Debug, Default, Deserialize)]
struct RenewRequest {
    /// Milliseconds since the user's last activity, as the client saw it.
    #[serde(rename = "idleMs", default)]
    idle_ms: Option<f64>,
}

/// `POST /auth/renew`: a new access token for the session in the cookie, if the session is
/// still within its idle timeout and absolute lifetime, and its user signed in with a password
/// recently enough and is not required to sign in again (else `401 login_required`).
pub async fn renew(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let csrf_ok = headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case(CSRF_HEADER_VALUE));
    if !csrf_ok {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_header_required",
            "renewals must carry the header X-Requested-With: authpulse",
        ));
    }
    let reported_idle_ms = parse_renew_body(&headers, &body)?;

    let now_ms = state.clock.now_ms();
    let Some(session) = session_from_cookie(&state, &jar)? else {
        return Ok(rejected(jar, "invalid_session", "no session: sign in first"));
    };
    if let Some((_, reason)) = &session.ended {
        // A session ended by a sign-in rule stays `login_required`: the user must sign in.
        let code = if reason == EndReason::LoginRequired.as_str()
            || reason == EndReason::ReauthRequired.as_str()
        {
            "login_required"
        } else {
            "invalid_session"
        };
        return Ok(rejected(jar, code, &format!("the session ended ({reason})")));
    }
    // First the session as the server knew it (a report of fresh activity cannot revive a
    // session that already timed out), then with what the client reports.
    let last_activity_ms =
        state.policy.last_activity(now_ms, session.last_activity_ms, reported_idle_ms);
    let verdict = state
        .session_verdict(now_ms, &session)?
        .and_then(|()| state.policy.check(now_ms, session.created_ms, last_activity_ms));
    if let Err(reason) = verdict {
        state.store.end_session(&session.id, now_ms, reason)?;
        tracing::info!(session = %session.id, reason = reason.as_str(), "session refused");
        let (code, description) = refusal(&state, reason);
        return Ok(rejected(jar, code, &description));
    }
    state.store.touch_session(&session.id, last_activity_ms, now_ms)?;
    Ok(state.issue_access_token(&session, now_ms, None)?.into_response())
}

/// The error code and description of a renewal refused for `reason`: `login_required` (the
/// OpenID Connect code for "the user must authenticate") when the user must sign in again with
/// a password, `invalid_session` when the session itself is over.
pub(crate) fn refusal(state: &AppState, reason: EndReason) -> (&'static str, String) {
    match reason {
        EndReason::LoginRequired => (
            "login_required",
            format!(
                "sign in again: the last sign-in with a password was {} h ago or more",
                state.config.max_auth_age_secs as f64 / 3600.0
            ),
        ),
        EndReason::ReauthRequired => (
            "login_required",
            "sign in again: a fresh sign-in with a password is required for this account".into(),
        ),
        _ => ("invalid_session", format!("the session ended ({})", reason.as_str())),
    }
}

/// The optional renew body: empty, or JSON `{"idleMs": n}` sent as JSON or as text (a string
/// body given to `fetch` goes out as `text/plain`).
fn parse_renew_body(headers: &HeaderMap, body: &Bytes) -> Result<Option<Millis>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if !matches!(content_type.as_deref(), None | Some("application/json" | "text/plain")) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the renew body must be JSON",
        ));
    }
    let request: RenewRequest = serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("malformed renew body: {error}")))?;
    match request.idle_ms {
        None => Ok(None),
        Some(idle_ms) if idle_ms >= 0.0 => Ok(Some(idle_ms as Millis)), // saturating cast
        Some(_) => Err(ApiError::bad_request("idleMs must be a non-negative number")),
    }
}

/// `401` for a renewal without a live session; the stale cookie is removed.
fn rejected(jar: CookieJar, code: &'static str, description: &str) -> Response {
    let error = ApiError::new(StatusCode::UNAUTHORIZED, code, description);
    (jar.remove(removal_cookie()), error).into_response()
}

/// `POST /auth/logout`: ends the session named by the cookie or by a bearer token of this server
/// (even an expired one: it still proves which session to end). Idempotent, and it takes any
/// body, so `navigator.sendBeacon` and `fetch(..., {keepalive: true})` work.
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now_ms = state.clock.now_ms();
    if let Some(session) = session_from_cookie(&state, &jar)? {
        state.store.end_session(&session.id, now_ms, EndReason::Logout)?;
    }
    if let Some(token) = bearer::bearer_token(&headers) {
        if let Verified::Valid(claims) | Verified::Expired(claims) =
            state.tokens.verify(token, now_ms)
        {
            // Only the session of the token's own user (`sub`).
            state.store.end_session_of(&claims.sid, &claims.sub, now_ms, EndReason::Logout)?;
        }
    }
    Ok((StatusCode::NO_CONTENT, jar.remove(removal_cookie())).into_response())
}

fn session_from_cookie(state: &AppState, jar: &CookieJar) -> Result<Option<Session>, ApiError> {
    match jar.get(SESSION_COOKIE) {
        Some(cookie) => Ok(state.store.session_by_secret(&hash_secret(cookie.value()))?),
        None => Ok(None),
    }
}

fn session_cookie(state: &AppState, headers: &HeaderMap, secret: String) -> Cookie<'static> {
    let behind_https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    Cookie::build((SESSION_COOKIE, secret))
        .path(SESSION_COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookie || behind_https)
        // The browser may keep it as long as the session could live; the server decides sooner.
        .max_age(time::Duration::seconds(
            i64::try_from(state.config.session_lifetime_secs).unwrap_or(i64::MAX),
        ))
        .build()
}

fn removal_cookie() -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, "")).path(SESSION_COOKIE_PATH).build()
}
