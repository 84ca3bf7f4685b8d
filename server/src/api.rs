//! The demo API behind bearer tokens, and the demo's controls over the caller's own session.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::bearer::Caller;
use crate::error::{ApiError, JsonBody};
use crate::policy::EndReason;
use crate::users::Role;

/// `GET /api/me`: who the token belongs to.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let username = &caller.session.username;
    Json(json!({
        "username": username,
        "role": state.users.role(username).map(Role::as_str),
        "adminAllowed": state.users.admin_allowed(username),
        "sessionId": caller.session.id,
        "sessionStartedAt": caller.session.created_ms,
        "tokenExpiresAt": caller.claims.exp.saturating_mul(1000),
        "serverTime": state.clock.now_ms(),
    }))
}

/// `GET /api/items`: a small list, any signed-in user.
pub async fn items(_caller: Caller) -> Json<Value> {
    Json(json!({
        "items": [
            { "id": 1, "name": "Quarterly report" },
            { "id": 2, "name": "Team roster" },
            { "id": 3, "name": "Release checklist" },
        ]
    }))
}

/// `POST /api/echo`: answers with the JSON body it got (shows a body survives a retry).
pub async fn echo(_caller: Caller, JsonBody(body): JsonBody<Value>) -> Json<Value> {
    Json(body)
}

/// `GET /api/admin`: needs the admin permission; without it a `403`, which clients must pass
/// through untouched.
pub async fn admin(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    if !state.users.admin_allowed(&caller.session.username) {
        return Err(ApiError::forbidden("the admin permission is required"));
    }
    Ok(Json(json!({ "message": "welcome to the admin area", "username": caller.session.username })))
}

/// `POST /demo/revoke`: ends the caller's own session on the server, as an operator would.
/// The bearer token names the session (the session cookie is scoped to `/auth`).
pub async fn revoke_own_session(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let now_ms = state.clock.now_ms();
    state.store.end_session(&caller.session.id, now_ms, EndReason::Revoked)?;
    tracing::info!(session = %caller.session.id, "session revoked on request");
    Ok(Json(json!({ "revoked": true, "sessionId": caller.session.id })))
}

/// `POST /demo/permission` body.
#[derive(Debug, Deserialize)]
pub struct PermissionRequest {
    allowed: bool,
}

/// `POST /demo/permission`: removes or restores the caller's permission for `GET /api/admin`,
/// within the caller's role (a restricted user stays without it). It gates nothing else: the
/// server's administrators are fixed at start (`--admin`).
pub async fn set_own_permission(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<PermissionRequest>,
) -> Json<Value> {
    let allowed = state.users.set_admin_allowed(&caller.session.username, request.allowed);
    Json(json!({ "username": caller.session.username, "adminAllowed": allowed }))
}

/// `GET /demo/config`: the server's timings, so the demo page can show them. Public.
pub async fn demo_config(State(state): State<AppState>) -> Json<Value> {
    let config = &state.config;
    Json(json!({
        "accessTokenSecs": config.access_token_secs,
        "idleTimeoutSecs": config.idle_timeout_secs,
        "sessionLifetimeSecs": config.session_lifetime_secs,
        "refreshTokenSecs": config.refresh_token_secs,
        "maxAccessTokenSecs": config.max_access_token_secs,
        "maxAuthAgeSecs": config.max_auth_age_secs,
        "testControls": config.test_controls,
    }))
}
