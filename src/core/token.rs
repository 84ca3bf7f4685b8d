//! Token responses (RFC 6749 section 5.1) as real servers send them, and the lifetimes derived
//! from them (contract rule 11).

use super::time::{Instant, MINUTE_MS, SECOND_MS};
use alloc::string::String;
use serde::Deserialize;

/// A token is not handed out within this margin of its expiry: it could expire in flight. A
/// token response whose lifetime is not longer is malformed: it would be born expired.
pub const SKEW_MS: u64 = 5 * SECOND_MS;
/// The longest access or refresh token accepted, in bytes: 16 KiB. A driver never needs to copy
/// more than this (plus one, to tell that it is too long) out of a response.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The lifetime of an access token whose response gives none, neither as `expires_in` nor as
/// the `exp` and `iat` claims of a JWT.
pub const DEFAULT_LIFETIME_MS: u64 = 5 * MINUTE_MS;

/// `expires_in` as the server sent it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ExpiresIn {
    /// A JSON number of seconds (RFC 6749).
    Seconds(f64),
    /// A string, valid when it is decimal digits: some identity providers send `"3599"`.
    Text(String),
}

impl From<f64> for ExpiresIn {
    fn from(seconds: f64) -> Self {
        ExpiresIn::Seconds(seconds)
    }
}

/// A token response as the server sent it, before validation. Every field is optional here so
/// that a missing field is reported as `bad_token_response`, not as a deserializer error.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct TokenResponse {
    /// The access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// Lifetime in seconds from receipt; `null` counts as absent.
    #[serde(default)]
    pub expires_in: Option<ExpiresIn>,
    /// `Bearer` in any case when present; absent means Bearer.
    #[serde(default)]
    pub token_type: Option<String>,
    /// A (possibly rotated) refresh token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The `exp` and `iat` claims (seconds) of the access token's payload when it is a JWT
    /// carrying both as numbers, decoded by the driver (base64url and JSON are the browser's
    /// job, as URLs are). Used only when `expires_in` is absent.
    #[serde(skip)]
    pub jwt_exp_iat: Option<(f64, f64)>,
}

/// Why a token response was refused; the current token is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadTokenResponse {
    /// The body was not a JSON object of the expected shape.
    NotJson,
    /// No `access_token`, or an empty one.
    MissingAccessToken,
    /// An `access_token` that is not an RFC 6750 token: characters other than b64token's, or
    /// longer than [`MAX_TOKEN_LEN`]. It could not be sent in an `Authorization` header.
    InvalidAccessToken,
    /// `expires_in` neither a positive number nor a string of digits.
    BadExpiresIn,
    /// A lifetime not longer than the skew margin: the token would be born expired.
    TooShortLifetime,
    /// A `token_type` other than `Bearer` (such as `DPoP`).
    UnsupportedTokenType,
}

impl BadTokenResponse {
    /// A message for the `error` event.
    pub const fn message(self) -> &'static str {
        match self {
            BadTokenResponse::NotJson => "token response is not a JSON object",
            BadTokenResponse::MissingAccessToken => "token response has no access_token",
            BadTokenResponse::InvalidAccessToken => {
                "token response access_token is not an RFC 6750 token (b64token, at most 16 KiB)"
            }
            BadTokenResponse::BadExpiresIn => {
                "token response expires_in is not a positive number of seconds"
            }
            BadTokenResponse::TooShortLifetime => {
                "token response lifetime is not longer than the 5 s skew margin"
            }
            BadTokenResponse::UnsupportedTokenType => "token response token_type is not Bearer",
        }
    }
}

/// A validated access token with the local time it expires at.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The bearer token.
    pub access_token: String,
    /// Received at, by the local clocks.
    pub received_at: Instant,
    /// Expires at: receipt plus its lifetime, by the local clocks (the `exp` claim is not
    /// compared with a possibly skewed client clock).
    pub expires_at: Instant,
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

    /// Whether the token may still be sent at `now`: not expired and not within the skew margin
    /// by either clock.
    pub fn usable_at(&self, now: Instant) -> bool {
        !now.plus_ms(SKEW_MS).reached(self.expires_at)
    }
}

/// Whether `token` is an RFC 6750 (section 2.1) `b64token` of at most [`MAX_TOKEN_LEN`] bytes:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub fn is_bearer_token(token: &str) -> bool {
    let mut padding = false;
    token.len() <= MAX_TOKEN_LEN
        && !token.is_empty()
        && !token.starts_with('=')
        && token.bytes().all(|b| {
            padding |= b == b'=';
            if padding {
                b == b'='
            } else {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            }
        })
}

/// Whether `token` can be kept as a refresh token: not empty, at most [`MAX_TOKEN_LEN`] bytes.
/// Its characters are the server's business (it goes back form-encoded, never in a header).
pub fn is_refresh_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_LEN
}

impl TokenResponse {
    /// The refresh token of the response, if it carries a usable one: taken even when the rest
    /// of the response is refused, so that a refresh token the server issued is never lost.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref().filter(|token| is_refresh_token(token))
    }

    /// Validates the response received at `now` (rule 11).
    pub fn validate(self, now: Instant) -> Result<Token, BadTokenResponse> {
        let access_token = match self.access_token {
            Some(token) if !token.is_empty() => token,
            _ => return Err(BadTokenResponse::MissingAccessToken),
        };
        if !is_bearer_token(&access_token) {
            return Err(BadTokenResponse::InvalidAccessToken);
        }
        if let Some(kind) = &self.token_type {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(BadTokenResponse::UnsupportedTokenType);
            }
        }
        let lifetime_ms = match (&self.expires_in, self.jwt_exp_iat) {
            (Some(expires_in), _) => seconds_ms(expires_in)?,
            // exp − iat of a JWT that carries both, even if not positive (then born expired).
            (None, Some((exp, iat))) => {
                let lifetime = exp - iat;
                if lifetime.is_finite() && lifetime > 0.0 {
                    (lifetime * SECOND_MS as f64) as u64
                } else {
                    0
                }
            }
            (None, None) => DEFAULT_LIFETIME_MS,
        };
        if lifetime_ms <= SKEW_MS {
            return Err(BadTokenResponse::TooShortLifetime);
        }
        Ok(Token { access_token, received_at: now, expires_at: now.plus_ms(lifetime_ms) })
    }
}

/// `expires_in` in milliseconds: a positive finite number, or decimal digits.
fn seconds_ms(expires_in: &ExpiresIn) -> Result<u64, BadTokenResponse> {
    match expires_in {
        // Saturating float-to-int cast: an absurd lifetime cannot overflow.
        ExpiresIn::Seconds(seconds) if seconds.is_finite() && *seconds > 0.0 => {
            Ok((seconds * SECOND_MS as f64) as u64)
        }
        ExpiresIn::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            // In a float: no overflow, and a saturating cast at the end.
            let seconds = text.bytes().fold(0.0, |sum, digit| sum * 10.0 + f64::from(digit - b'0'));
            if seconds > 0.0 {
                Ok((seconds * SECOND_MS as f64) as u64)
            } else {
                Err(BadTokenResponse::BadExpiresIn)
            }
        }
        _ => Err(BadTokenResponse::BadExpiresIn),
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

    fn with_jwt(json: &str, exp_iat: Option<(f64, f64)>) -> Result<Token, BadTokenResponse> {
        let mut response: TokenResponse =
            serde_json::from_str(json).map_err(|_| BadTokenResponse::NotJson)?;
        response.jwt_exp_iat = exp_iat;
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
        for bad in
            ["0", "-3", "\"\"", "\"-5\"", "\"3599.5\"", "\" 60\"", "\"0\"", "\"1e3\"", "true"]
        {
            let json = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            let expected = if bad == "true" {
                BadTokenResponse::NotJson // not a number nor a string: not a token response
            } else {
                BadTokenResponse::BadExpiresIn
            };
            assert_eq!(parse(&json).unwrap_err(), expected, "{bad}");
        }
        assert_eq!(
            parse(r#"{"access_token":"a","expires_in":60,"token_type":"DPoP"}"#).unwrap_err(),
            BadTokenResponse::UnsupportedTokenType
        );
    }

    #[test]
    fn responses_as_real_servers_send_them() {
        // expires_in as a string of digits.
        let token = parse(r#"{"access_token":"a","expires_in":"3599"}"#).unwrap();
        assert_eq!(token.lifetime_ms(), 3_599_000);
        // No expires_in: a JWT's exp − iat ...
        let token =
            with_jwt(r#"{"access_token":"h.p.s"}"#, Some((1_700_000_120.0, 1_700_000_000.0)))
                .unwrap();
        assert_eq!(token.lifetime_ms(), 120_000);
        // ... else 5 minutes; expires_in wins over the claims; null is absent.
        assert_eq!(parse(r#"{"access_token":"opaque"}"#).unwrap().lifetime_ms(), 300_000);
        assert_eq!(
            parse(r#"{"access_token":"opaque","expires_in":null}"#).unwrap().lifetime_ms(),
            300_000
        );
        let token = with_jwt(r#"{"access_token":"h.p.s","expires_in":60}"#, Some((10.0, 0.0)));
        assert_eq!(token.unwrap().lifetime_ms(), 60_000);
        // A JWT whose claims give no usable lifetime is born expired.
        for claims in [(100.0, 100.0), (100.0, 200.0), (f64::NAN, 0.0), (105.0, 100.0)] {
            assert_eq!(
                with_jwt(r#"{"access_token":"h.p.s"}"#, Some(claims)).unwrap_err(),
                BadTokenResponse::TooShortLifetime,
                "{claims:?}"
            );
        }
        // token_type in any case, absent means Bearer.
        for kind in [r#""bearer""#, r#""BEARER""#, r#""Bearer""#] {
            let json = format!(r#"{{"access_token":"a","expires_in":60,"token_type":{kind}}}"#);
            assert!(parse(&json).is_ok(), "{kind}");
        }
        // Extra fields (OpenID Connect) are ignored.
        let token = parse(
            r#"{"access_token":"a","expires_in":60,"id_token":"x.y.z","scope":"openid offline_access","refresh_token":"r2"}"#,
        )
        .unwrap();
        assert_eq!(token.lifetime_ms(), 60_000);
    }

    #[test]
    fn a_lifetime_within_the_skew_margin_is_refused() {
        for expires_in in ["5", "1", "0.5", "5.0", "\"5\""] {
            let json = format!(r#"{{"access_token":"a","expires_in":{expires_in}}}"#);
            assert_eq!(
                parse(&json).unwrap_err(),
                BadTokenResponse::TooShortLifetime,
                "{expires_in}"
            );
        }
        assert!(parse(r#"{"access_token":"a","expires_in":5.001}"#).is_ok());
        assert!(parse(r#"{"access_token":"a","expires_in":6}"#).is_ok());
    }

    #[test]
    fn access_tokens_are_rfc_6750_tokens() {
        for good in ["a", "abc.DEF-123_~+/", "eyJhbGciOiJIUzI1NiJ9.e30.sig==", "x="] {
            assert!(is_bearer_token(good), "{good}");
        }
        let longest = "a".repeat(MAX_TOKEN_LEN);
        assert!(is_bearer_token(&longest));
        for bad in ["", "=", "a b", "a\r\nX-Evil: 1", "a\0", "tök", "a=b", "\"a\"", "a,b", "a\t"] {
            assert!(!is_bearer_token(bad), "{bad:?}");
            let response = TokenResponse {
                access_token: Some(bad.into()),
                expires_in: Some(60.0.into()),
                ..TokenResponse::default()
            };
            let refused = response.validate(Instant::from_millis(0)).unwrap_err();
            assert!(
                matches!(
                    refused,
                    BadTokenResponse::InvalidAccessToken | BadTokenResponse::MissingAccessToken
                ),
                "{bad:?}"
            );
        }
        assert!(!is_bearer_token(&"a".repeat(MAX_TOKEN_LEN + 1)));
    }

    #[test]
    fn a_refresh_token_is_readable_even_from_a_refused_response() {
        let response: TokenResponse = serde_json::from_str(
            r#"{"access_token":"a","token_type":"DPoP","refresh_token":"R2","expires_in":60}"#,
        )
        .unwrap();
        assert_eq!(response.refresh_token(), Some("R2"));
        assert!(response.validate(Instant::from_millis(0)).is_err());
        let empty =
            TokenResponse { refresh_token: Some(String::new()), ..TokenResponse::default() };
        assert_eq!(empty.refresh_token(), None);
    }

    #[test]
    fn a_huge_lifetime_saturates_instead_of_overflowing() {
        let token = parse(r#"{"access_token":"a","expires_in":1e300}"#).unwrap();
        assert_eq!(token.expires_at.as_millis(), u64::MAX);
        let token = parse(r#"{"access_token":"a","expires_in":"99999999999999999999999999"}"#);
        assert_eq!(token.unwrap().expires_at.as_millis(), u64::MAX);
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = parse(r#"{"access_token":"secret-value","expires_in":60}"#).unwrap();
        assert!(!format!("{token:?}").contains("secret-value"));
    }
}
