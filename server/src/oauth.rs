//! The refresh-token strategy (the contract's section 3): `POST /oauth/token` with
//! `grant_type=refresh_token` (RFC 6749 section 6), rotating refresh tokens and revoking the
//! whole family when a used one comes back (RFC 9700 section 4.14.2), and `POST /oauth/revoke`
//! (RFC 7009).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{ApiError, FormBody};
use crate::policy::EndReason;
use crate::store::{Exchange, Session};
use crate::tokens::{hash_secret, random_token};

/// `POST /oauth/token` form fields. All optional here so that a missing one is an OAuth
/// `invalid_request`, not a deserialisation error.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
}

/// What the exchange decided, computed inside the store's transaction.
enum Outcome {
    Rotated {
        new_token: String,
        session: Session,
    },
    Rejected(&'static str),
    /// Refused by a sign-in rule: the user must sign in again with a password.
    LoginRequired(EndReason),
}

/// `POST /oauth/token`.
pub async fn token(
    State(state): State<AppState>,
    FormBody(request): FormBody<TokenRequest>,
) -> Result<Response, ApiError> {
    let grant_type = request.grant_type.as_deref().unwrap_or_default();
    if grant_type.is_empty() {
        return Err(ApiError::bad_request("grant_type is required"));
    }
    if grant_type != "refresh_token" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=refresh_token is supported",
        ));
    }
    let (Some(presented), Some(client_id)) = (request.refresh_token, request.client_id) else {
        return Err(ApiError::bad_request("refresh_token and client_id are required"));
    };

    let now_ms = state.clock.now_ms();
    let policy = state.policy;
    let sign_in_policy = state.sign_in_policy;
    let new_token = random_token(32);
    let new_hash = hash_secret(&new_token);
    let outcome = state.store.exchange_refresh_token(&hash_secret(&presented), |found| {
        let Some((stored, session, user)) = found else {
            return (Exchange::Nothing, Outcome::Rejected("unknown refresh token"));
        };
        let end = |reason| Exchange::EndSession { now_ms, reason };
        if stored.client_id != client_id {
            return (
                Exchange::Nothing,
                Outcome::Rejected("the token was issued to another client"),
            );
        }
        if stored.used_ms.is_some() {
            // A rotated token came back: either the client or a thief holds a stale copy, and the
            // server cannot tell which, so the whole family goes.
            return (end(EndReason::RefreshTokenReuse), Outcome::Rejected("refresh token reused"));
        }
        if session.is_ended() {
            return (Exchange::Nothing, Outcome::Rejected("the session ended"));
        }
        if now_ms >= stored.expires_ms {
            return (Exchange::Nothing, Outcome::Rejected("the refresh token expired"));
        }
        // A refresh is the client's evidence of activity, as a renewal without idleMs is.
        if let Err(reason) = policy.check(now_ms, session.created_ms, session.last_activity_ms) {
            return (end(reason), Outcome::Rejected("the session expired"));
        }
        if let Err(reason) = sign_in_policy.check(now_ms, session, user) {
            return (end(reason), Outcome::LoginRequired(reason));
        }
        let new_expires_ms = now_ms
            .saturating_add(state.config.refresh_token_ms())
            .min(policy.absolute_end(session.created_ms));
        let exchange = Exchange::Rotate {
            now_ms,
            new_hash: new_hash.clone(),
            new_expires_ms,
            last_activity_ms: now_ms,
        };
        (exchange, Outcome::Rotated { new_token: new_token.clone(), session: session.clone() })
    })?;
    match outcome {
        Outcome::Rotated { new_token, session } => {
            Ok(state.issue_access_token(&session, now_ms, Some(new_token))?.into_response())
        }
        Outcome::Rejected(why) => {
            tracing::info!(why, "refresh token rejected");
            Err(ApiError::invalid_grant(why))
        }
        Outcome::LoginRequired(reason) => {
            // RFC 6749 has one code for a grant that no longer holds; the description says why,
            // with the same `login_required` the renew endpoint answers.
            let (code, description) = crate::auth::refusal(&state, reason);
            tracing::info!(reason = reason.as_str(), "refresh token rejected");
            Err(ApiError::invalid_grant(format!("{code}: {description}")))
        }
    }
}

/// `POST /oauth/revoke` form fields (RFC 7009 section 2.1).
#[derive(Debug, Deserialize)]
pub struct RevokeRequest {
    token: Option<String>,
}

/// `POST /oauth/revoke`: revoking a refresh token ends its session, and so its family and its
/// access tokens. Unknown tokens get the same `200` (RFC 7009 section 2.2).
pub async fn revoke(
    State(state): State<AppState>,
    FormBody(request): FormBody<RevokeRequest>,
) -> Result<Response, ApiError> {
    let Some(token) = request.token else {
        return Err(ApiError::bad_request("token is required"));
    };
    state.store.revoke_refresh_token(&hash_secret(&token), state.clock.now_ms())?;
    Ok(StatusCode::OK.into_response())
}
