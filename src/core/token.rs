//! Token responses (RFC 6749 section 5.1) and the lifetimes derived from them.

use super::time::{Instant, SECOND_MS};
use alloc::string::String;
use serde::Deserialize;

/// A token is not handed out within this margin of its expiry: it could expire in flight.
pub const SKEW_MS: u64 = 5 * SECOND_MS;

/// A token response as the server sent it, before validation. Every field is optional here so
/// that a missing field is reported as `bad_token_response`, not as a deserializer error.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TokenResponse {
    /// The access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// Lifetime in seconds from receipt.
    #[serde(default)]
    pub expires_in: Option<f64>,
    /// `Bearer` (any case) when present.
    #[serde(default)]
    pub token_type: Option<String>,
    /// A (possibly rotated) refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Why a token response was refused; the current token is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadTokenResponse {
    /// The body was not a JSON object of the expected shape.
    NotJson,
    /// No `access_token`, or an empty one.
    MissingAccessToken,
    /// `expires_in` missing, not a number, or not positive.
    BadExpiresIn,
    /// A `token_type` other than `Bearer`.
    UnsupportedTokenType,
}

impl BadTokenResponse {
    /// A message for the `error` event.
    pub const fn message(self) -> &'static str {
        match self {
            BadTokenResponse::NotJson => "token response is not a JSON object",
            BadTokenResponse::MissingAccessToken => "token response has no access_token",
            BadTokenResponse::BadExpiresIn => "token response expires_in is not a positive number",
            BadTokenResponse::UnsupportedTokenType => "token response token_type is not Bearer",
        }
    }
}

/// A validated access token with the local time it expires at.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The bearer token.
    pub access_token: String,
    /// Received at, by the local clock.
    pub received_at: Instant,
    /// Expires at: receipt plus `expires_in`, by the local clock (the `exp` claim is not
    /// compared with a possibly skewed client clock).
    pub expires_at: Instant,
    /// The refresh token that came with it, for the refresh-token strategy.
    pub refresh_token: Option<String>,
}

impl core::fmt::Debug for Token {
    // Tokens are secrets: they never reach logs through Debug.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Token")
            .field("received_at", &self.received_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Lifetime in milliseconds, as granted.
    pub fn lifetime_ms(&self) -> u64 {
        self.expires_at.ms_since(self.received_at)
    }

    /// Whether the token may still be sent at `now`: not expired and not within the skew margin.
    pub fn usable_at(&self, now: Instant) -> bool {
        now.plus_ms(SKEW_MS) < self.expires_at
    }
}

impl TokenResponse {
    /// Validates the response received at `now` (rule 11).
    pub fn validate(self, now: Instant) -> Result<Token, BadTokenResponse> {
        let access_token = match self.access_token {
            Some(token) if !token.is_empty() => token,
            _ => return Err(BadTokenResponse::MissingAccessToken),
        };
        if let Some(kind) = &self.token_type {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(BadTokenResponse::UnsupportedTokenType);
            }
        }
        let expires_in = match self.expires_in {
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => seconds,
            _ => return Err(BadTokenResponse::BadExpiresIn),
        };
        // Saturating float-to-int cast: an absurd lifetime cannot overflow.
        let lifetime_ms = (expires_in * SECOND_MS as f64) as u64;
        Ok(Token {
            access_token,
            received_at: now,
            expires_at: now.plus_ms(lifetime_ms),
            refresh_token: self.refresh_token.filter(|token| !token.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Token, BadTokenResponse> {
        let response: TokenResponse =
            serde_json::from_str(json).map_err(|_| BadTokenResponse::NotJson)?;
        response.validate(Instant::from_millis(1_000))
    }

    #[test]
    fn a_standard_response_expires_at_receipt_plus_expires_in() {
        let token =
            parse(r#"{"access_token":"abc","token_type":"Bearer","expires_in":300}"#).unwrap();
        assert_eq!(token.access_token, "abc");
        assert_eq!(token.expires_at.as_millis(), 301_000);
        assert_eq!(token.lifetime_ms(), 300_000);
        assert!(token.usable_at(Instant::from_millis(295_999)));
        assert!(!token.usable_at(Instant::from_millis(296_000)), "inside the 5 s skew margin");
    }

    #[test]
    fn malformed_responses_are_refused_with_a_reason() {
        assert_eq!(parse("not json").unwrap_err(), BadTokenResponse::NotJson);
        assert_eq!(
            parse(r#"{"expires_in":300}"#).unwrap_err(),
            BadTokenResponse::MissingAccessToken
        );
        assert_eq!(
            parse(r#"{"access_token":"","expires_in":300}"#).unwrap_err(),
            BadTokenResponse::MissingAccessToken
        );
        assert_eq!(parse(r#"{"access_token":"a"}"#).unwrap_err(), BadTokenResponse::BadExpiresIn);
        assert_eq!(
            parse(r#"{"access_token":"a","expires_in":0}"#).unwrap_err(),
            BadTokenResponse::BadExpiresIn
        );
        assert_eq!(
            parse(r#"{"access_token":"a","expires_in":-3}"#).unwrap_err(),
            BadTokenResponse::BadExpiresIn
        );
        assert_eq!(
            parse(r#"{"access_token":"a","expires_in":"300"}"#).unwrap_err(),
            BadTokenResponse::NotJson,
            "a string lifetime is not a number"
        );
        assert_eq!(
            parse(r#"{"access_token":"a","expires_in":60,"token_type":"DPoP"}"#).unwrap_err(),
            BadTokenResponse::UnsupportedTokenType
        );
    }

    #[test]
    fn lowercase_bearer_and_rotated_refresh_tokens_are_accepted() {
        let token = parse(
            r#"{"access_token":"a","expires_in":60,"token_type":"bearer","refresh_token":"r2"}"#,
        )
        .unwrap();
        assert_eq!(token.refresh_token.as_deref(), Some("r2"));
    }

    #[test]
    fn a_huge_lifetime_saturates_instead_of_overflowing() {
        let token = parse(r#"{"access_token":"a","expires_in":1e300}"#).unwrap();
        assert_eq!(token.expires_at.as_millis(), u64::MAX);
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = parse(r#"{"access_token":"secret-value","expires_in":60}"#).unwrap();
        assert!(!format!("{token:?}").contains("secret-value"));
    }
}
