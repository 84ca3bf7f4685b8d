//! The signed-in user's own account: their sessions, one per device ("Your devices"), which they
//! can rename and revoke, and their password; and the administrator's "reauth required" flag.
//!
//! Every route takes the caller from the bearer token. A session id names a session only within
//! its user's account: another user's id answers exactly as an unknown one does (`404`), so ids
//! can be neither used nor probed across accounts.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::bearer::Caller;
use crate::clock::Millis;
use crate::devices::clean_device_name;
use crate::error::{ApiError, JsonBody};
use crate::policy::EndReason;
use crate::store::{self, Session};
use crate::users::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};

/// Password-change attempts allowed per user within [`PASSWORD_ATTEMPT_WINDOW_MS`]: enough for a
/// user who mistypes, too few for someone holding a stolen token to guess the current password.
pub const PASSWORD_ATTEMPTS_PER_WINDOW: usize = 5;
/// The window of [`PASSWORD_ATTEMPTS_PER_WINDOW`]: 15 minutes.
pub const PASSWORD_ATTEMPT_WINDOW_MS: Millis = 15 * 60_000;

/// A session as `GET /account/sessions` lists it.
fn session_json(session: &Session, current_id: &str) -> Value {
    json!({
        "id": session.id,
        "deviceName": session.device_name,
        "createdAt": session.created_ms,
        "lastActiveAt": session.last_activity_ms,
        "lastUsedAt": session.last_used_ms,
        "current": session.id == current_id,
    })
}

/// `GET /account/sessions`: the caller's live sessions, this one first, then the most recently
/// used: `{"sessions": [{"id", "deviceName", "createdAt", "lastActiveAt", "lastUsedAt",
/// "current"}]}` (times in ms since the epoch). Sessions past a deadline that nobody has asked
/// about yet (idle, lifetime, sign-in rules) are left out: they can no longer renew.
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let now_ms = state.clock.now_ms();
    let username = &caller.session.username;
    let user = state.store.user(username)?;
    let mut sessions: Vec<Session> = state
        .store
        .sessions_of(username)?
        .into_iter()
        .filter(|session| {
            state.policy.check(now_ms, session.created_ms, session.last_activity_ms).is_ok()
                && state.sign_in_policy.check(now_ms, session, user.as_ref()).is_ok()
        })
        .collect();
    // Stable: the store's order (most recently used first) is kept after the current one.
    sessions.sort_by_key(|session| session.id != caller.session.id);
    let sessions: Vec<Value> =
        sessions.iter().map(|session| session_json(session, &caller.session.id)).collect();
    Ok(Json(json!({ "sessions": sessions })))
}

/// `PATCH /account/sessions/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    #[serde(rename = "deviceName")]
    device_name: String,
}

const NO_SUCH_SESSION: &str = "no such session in this account";

/// The `{id}` of the path; one that cannot be read names no session.
fn session_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    match path {
        Ok(Path(id)) if !id.is_empty() && id.len() <= 64 => Ok(id),
        _ => Err(ApiError::not_found(NO_SUCH_SESSION)),
    }
}

/// `PATCH /account/sessions/{id}` with `{"deviceName": "Maryo's iPad"}` (1 to 64 characters,
/// trimmed): renames one of the caller's live sessions and answers it as listed. `404` for an
/// unknown session or another user's.
pub async fn rename_session(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    JsonBody(request): JsonBody<RenameRequest>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(path)?;
    let name = clean_device_name(&request.device_name).map_err(ApiError::bad_request)?;
    if !state.store.rename_session(&id, &caller.session.username, &name)? {
        return Err(ApiError::not_found(NO_SUCH_SESSION));
    }
    let session =
        state.store.session_by_id(&id)?.ok_or_else(|| ApiError::not_found(NO_SUCH_SESSION))?;
    Ok(Json(session_json(&session, &caller.session.id)))
}

/// `DELETE /account/sessions/{id}`: ends one of the caller's sessions (the caller's own
/// included): its access tokens are `401` at once and its next renewal `401`, so its client
/// signs out. `204`; `404` for an unknown, ended or another user's session.
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = session_id(path)?;
    let now_ms = state.clock.now_ms();
    if !state.store.end_session_of(&id, &caller.session.username, now_ms, EndReason::Revoked)? {
        return Err(ApiError::not_found(NO_SUCH_SESSION));
    }
    tracing::info!(user = %caller.session.username, session = %id, "session revoked by its user");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /account/password` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /account/password` with `{"current_password", "new_password"}`: replaces the caller's
/// password and ends every other session of the user (their access tokens `401` at once, their
/// next renewal `401`), keeping the caller's. Answers `{"changed": true, "sessionsEnded": n}`.
///
/// Errors: `400 invalid_request` for a new password under 8 characters or over 1024 bytes, or
/// equal to the current one; `429 too_many_requests` with `Retry-After` after 5 attempts within
/// 15 minutes; `403 invalid_credentials` for a wrong current password (not `401`: the caller's
/// token is good, and a `401` would make the SDK renew and retry).
/// Of two concurrent changes, one goes through; the other changes nothing and answers `401
/// invalid_token` when the first ended its session, `409 conflict` when the first came from the
/// same session.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<PasswordChange>,
) -> Result<Json<Value>, ApiError> {
    let PasswordChange { current_password, new_password } = request;
    if current_password.len() > MAX_PASSWORD_BYTES || new_password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(format!(
            "passwords must be at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if new_password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "the new password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if new_password == current_password {
        return Err(ApiError::bad_request("the new password must differ from the current one"));
    }
    let username = caller.session.username.clone();
    let now_ms = state.clock.now_ms();
    // Counted before Argon2 runs: the limit bounds both the guesses and the CPU they cost.
    if let Err(allowed_at_ms) = state.store.count_password_attempt(
        &username,
        now_ms,
        PASSWORD_ATTEMPT_WINDOW_MS,
        PASSWORD_ATTEMPTS_PER_WINDOW,
    )? {
        let wait_secs = (allowed_at_ms - now_ms + 999) / 1000;
        return Err(ApiError::too_many_requests(
            format!("too many password changes: try again in {wait_secs} s"),
            wait_secs,
        ));
    }
    let stored = state.store.user(&username)?.and_then(|user| user.password_hash);
    let new_hash = state
        .users
        .check_and_hash(stored.clone(), current_password, new_password)
        .await
        .map_err(ApiError::internal)?;
    let Some(new_hash) = new_hash else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_credentials",
            "the current password is wrong",
        ));
    };
    // Argon2 took a while: another change may have gone through meanwhile. The store settles it
    // in its transaction, so that exactly one new password is in force.
    let change = state.store.change_password(
        &username,
        stored.as_deref(),
        &new_hash,
        &caller.session.id,
        now_ms,
    )?;
    match change {
        store::PasswordChange::Changed { sessions_ended } => {
            tracing::info!(user = %username, sessions_ended, "password changed; other sessions ended");
            Ok(Json(json!({ "changed": true, "sessionsEnded": sessions_ended })))
        }
        store::PasswordChange::SessionEnded => {
            Err(ApiError::invalid_token("the session was revoked"))
        }
        store::PasswordChange::PasswordChanged => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the password was changed by another request meanwhile; nothing was changed",
        )),
    }
}

/// `POST /admin/users/{username}/reauth`: sets the user's "reauth required" flag (after a
/// password reset, say): every renewal or refresh grant of a session that began before it is
/// `401 login_required` / `400 invalid_grant` until the user signs in again with a password,
/// which clears it. Only for an administrator of the server (`--admin`, fixed at start; not the
/// demo's admin permission): `403` otherwise, checked before anything else; `404` for an unknown
/// user.
/// Answers `{"username", "reauthRequired": true, "since": <ms>, "sessions": <live sessions
/// concerned>}`. The `require-reauth` command of the binary does the same offline.
pub async fn require_reauth(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    if !state.users.is_administrator(&caller.session.username) {
        return Err(ApiError::forbidden("only an administrator of this server may do this"));
    }
    let username = match path {
        Ok(Path(username)) if state.users.is_known(&username) => username,
        _ => return Err(ApiError::not_found("no such user")),
    };
    let now_ms = state.clock.now_ms();
    let sessions = state.store.require_reauth(&username, now_ms)?;
    tracing::info!(admin = %caller.session.username, user = %username, sessions, "reauth required");
    Ok(Json(json!({
        "username": username,
        "reauthRequired": true,
        "since": now_ms,
        "sessions": sessions,
    })))
}
