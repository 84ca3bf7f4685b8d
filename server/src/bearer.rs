//! Reading and checking `Authorization: Bearer` tokens (RFC 6750), and the `Caller` extractor
//! that API handlers use to require one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use crate::app::AppState;
use crate::error::ApiError;
use crate::store::{Session, StoreError};
use crate::tokens::{Claims, Refusal, Verified};

/// What the bearer token of a request turned out to be.
#[derive(Clone, Debug)]
pub enum BearerState {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a token this server signed (or not a JWT at all).
    Invalid,
    /// Signed here, past its expiry.
    Expired,
    /// Signed with this server's key, but its time claims are refused: made to live longer than
    /// `--max-access-token-secs`, issued in the future, expiring before it is issued, or not
    /// valid yet (`nbf`).
    Refused(Refusal),
    /// Signed here and unexpired, but its `sub` is not the user of its session (`sid`).
    WrongSubject,
    /// Signed here and unexpired, but its session ended.
    Revoked,
    /// Signed here, unexpired, session alive.
    Valid(Claims, Box<Session>),
}

impl BearerState {
    /// The name used in the test log: `none`, `invalid` (a token with refused time claims
    /// included), `expired`, `revoked` or `valid`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Missing => "none",
            Self::Invalid | Self::Refused(_) | Self::WrongSubject => "invalid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Valid(..) => "valid",
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks the bearer token of `headers`: signature, time claims (lifetime, `iat`, `nbf`),
/// expiry, then whether its session is the token's user's (`sub`) and lives.
pub fn classify(state: &AppState, headers: &HeaderMap) -> Result<BearerState, StoreError> {
    let Some(token) = bearer_token(headers) else {
        return Ok(BearerState::Missing);
    };
    match state.tokens.verify(token, state.clock.now_ms()) {
        Verified::Invalid => Ok(BearerState::Invalid),
        Verified::Refused(refusal) => Ok(BearerState::Refused(refusal)),
        Verified::Expired(_) => Ok(BearerState::Expired),
        Verified::Valid(claims) => match state.store.session_by_id(&claims.sid)? {
            Some(session) if session.username != claims.sub => Ok(BearerState::WrongSubject),
            Some(session) if !session.is_ended() => {
                Ok(BearerState::Valid(claims, Box::new(session)))
            }
            _ => Ok(BearerState::Revoked),
        },
    }
}

/// An authenticated API caller. As an extractor it answers `401` with
/// `WWW-Authenticate: Bearer error="invalid_token"` unless the request carries a valid token of
/// a live session of the token's user (`sub`), no longer-lived than `--max-access-token-secs`, issued no later than now (a
/// minute of clock skew allowed) and valid already (`nbf`).
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's claims.
    pub claims: Claims,
    /// The session it belongs to.
    pub session: Session,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match classify(state, &parts.headers)? {
            BearerState::Valid(claims, session) => Ok(Self { claims, session: *session }),
            BearerState::Missing => Err(ApiError::invalid_token("no bearer token")),
            BearerState::Invalid => Err(ApiError::invalid_token("the token is not valid")),
            BearerState::Refused(refusal) => {
                Err(ApiError::invalid_token(refusal.description(state.tokens.max_lifetime_secs())))
            }
            BearerState::Expired => Err(ApiError::invalid_token("the token expired")),
            BearerState::WrongSubject => {
                Err(ApiError::invalid_token("the token does not match its session"))
            }
            BearerState::Revoked => Err(ApiError::invalid_token("the session was revoked")),
        }
    }
}
