//! Error responses: always JSON, `{"error": "...", "error_description": "..."}`, in the shape of
//! RFC 6749 section 5.2, and extractors that turn bad input into such errors instead of axum's
//! plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FormRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    description: String,
    challenge: Option<HeaderValue>,
    retry_after_secs: Option<i64>,
}

impl ApiError {
    /// An error with `status`, an `error` code and a human description.
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            challenge: None,
            retry_after_secs: None,
        }
    }

    /// `400 invalid_request`.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// `400 invalid_grant` (RFC 6749 section 5.2): the refresh token is unknown, expired, reused,
    /// or its session is gone.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    /// `401` with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 section 3.1): the
    /// bearer token is missing, malformed, expired, revoked or made to live too long.
    /// `description` is the server's own text: plain ASCII, no quotes.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        let description = description.into();
        let challenge =
            format!(r#"Bearer error="invalid_token", error_description="{description}""#);
        Self {
            challenge: HeaderValue::from_str(&challenge).ok(),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
        }
    }

    /// `403` with `WWW-Authenticate: Bearer error="insufficient_scope"`: authenticated, but not
    /// allowed. Not an authentication problem, so clients must not renew and retry.
    pub fn forbidden(description: &'static str) -> Self {
        let challenge =
            format!(r#"Bearer error="insufficient_scope", error_description="{description}""#);
        Self {
            challenge: HeaderValue::from_str(&challenge).ok(),
            ..Self::new(StatusCode::FORBIDDEN, "insufficient_scope", description)
        }
    }

    /// `429 too_many_requests` (RFC 6585 section 4) with `Retry-After` in seconds.
    pub fn too_many_requests(description: impl Into<String>, retry_after_secs: i64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", description)
        }
    }

    /// `404 not_found`.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// `500`: a fault of the server, logged; the client learns nothing more.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal server error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::internal(error)
    }
}

/// A JSON request body; bad input is a JSON `ApiError` with axum's status (400, 413, 415, 422).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid_request",
    };
    // Keep the status axum chose; 422 (well-formed JSON, wrong fields) becomes a plain 400.
    let status =
        if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    ApiError::new(status, code, rejection.body_text())
}

/// A form request body (`application/x-www-form-urlencoded`), with OAuth-style errors.
#[derive(Debug)]
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(rejection) => Err(form_rejection(rejection)),
        }
    }
}

fn form_rejection(rejection: FormRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            rejection.body_text(),
        );
    }
    // RFC 6749 section 5.2 has one code for every malformed token request.
    ApiError::bad_request(rejection.body_text())
}

/// A raw request body, for endpoints that parse leniently; too large a body is a JSON `413`.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S> FromRequest<S> for RawBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) => Err(bytes_rejection(rejection)),
        }
    }
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "payload_too_large"
    } else {
        "invalid_request"
    };
    ApiError::new(status, code, rejection.body_text())
}
