//! Access tokens (HS256 JWTs) and the random secrets behind cookies and refresh tokens.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Millis;

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The session that issued it: revoking the session revokes the token.
    pub sid: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch (RFC 7519 section 4.1.5): optional, honoured when
    /// present. This server never sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Unique id, so two tokens issued in the same second differ.
    pub jti: String,
}

/// What a presented bearer token turned out to be, before any permission check.
#[derive(Clone, Debug)]
pub enum Verified {
    /// Well signed and unexpired (its session may still be revoked: the caller checks).
    Valid(Claims),
    /// Well signed, past its expiry.
    Expired(Claims),
    /// Well signed, but its time claims are refused: whether or not it expired, whoever signed
    /// it (a leaked key, another service sharing it, or this server under a laxer
    /// configuration).
    Refused(Refusal),
    /// Not a token this server signed.
    Invalid,
}

/// Why the time claims of a well-signed token are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Made to live longer (`exp - iat`) than the longest lifetime accepted.
    TooLong,
    /// `iat` later than now plus [`CLOCK_SKEW_SECS`]: a signer cannot make a long-lived token
    /// look short by dating it ahead.
    IssuedInFuture,
    /// `exp` at or before `iat`: no lifetime at all, not a short one.
    ExpiresBeforeIssued,
    /// `nbf` later than now plus [`CLOCK_SKEW_SECS`] (RFC 7519 section 4.1.5).
    NotYetValid,
}

impl Refusal {
    /// The `error_description` of the `401` (plain ASCII, no quotes).
    pub fn description(self, max_lifetime_secs: i64) -> String {
        match self {
            Self::TooLong => format!("token lifetime exceeds {max_lifetime_secs} s"),
            Self::IssuedInFuture => "token issued in the future (iat)".into(),
            Self::ExpiresBeforeIssued => "token expires before it is issued (exp <= iat)".into(),
            Self::NotYetValid => "token not valid before its nbf".into(),
        }
    }
}

/// How far ahead of this server's clock a token's `iat` or `nbf` may be, in seconds: the clock
/// skew tolerated between the signer and this server.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// Signs and verifies access tokens.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    max_lifetime_secs: i64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessTokens { .. }")
    }
}

/// The smallest accepted `--jwt-secret`, the size of the HS256 output (RFC 7518 section 3.2).
pub const MIN_SECRET_BYTES: usize = 32;

impl AccessTokens {
    /// Uses `secret` as the HS256 key, and accepts tokens whose `exp - iat` is at most
    /// `max_lifetime_secs`.
    pub fn new(secret: &[u8], max_lifetime_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the server's Clock, not the library's system-time read.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            max_lifetime_secs,
        }
    }

    /// The longest `exp - iat` accepted, in seconds.
    pub fn max_lifetime_secs(&self) -> i64 {
        self.max_lifetime_secs
    }

    /// Signs a token for `username` in session `session_id`, valid until `expires_ms`.
    pub fn issue(
        &self,
        username: &str,
        session_id: &str,
        now_ms: Millis,
        expires_ms: Millis,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: username.to_owned(),
            sid: session_id.to_owned(),
            iat: now_ms.div_euclid(1000),
            // Rounded up: the token never dies before the `expires_in` the client was told.
            exp: expires_ms.saturating_add(999).div_euclid(1000),
            nbf: None,
            jti: random_token(12),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks the signature, the time claims and the expiry of `token` at `now_ms`: `iat` at
    /// most [`CLOCK_SKEW_SECS`] ahead of now, `exp` after `iat`, `exp - iat` at most the
    /// longest lifetime, `nbf` (if present) at most [`CLOCK_SKEW_SECS`] ahead of now; then
    /// expired from `exp` on.
    pub fn verify(&self, token: &str, now_ms: Millis) -> Verified {
        let Ok(data) = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
        else {
            return Verified::Invalid;
        };
        let claims = data.claims;
        if let Some(refusal) = self.refusal(&claims, now_ms) {
            return Verified::Refused(refusal);
        }
        if now_ms >= claims.exp.saturating_mul(1000) {
            Verified::Expired(claims)
        } else {
            Verified::Valid(claims)
        }
    }

    /// What is wrong with the time claims of `claims` at `now_ms`, if anything.
    fn refusal(&self, claims: &Claims, now_ms: Millis) -> Option<Refusal> {
        // Compared in seconds, so that no claim, however large, overflows.
        let latest_secs = now_ms.div_euclid(1000).saturating_add(CLOCK_SKEW_SECS);
        if claims.iat > latest_secs {
            return Some(Refusal::IssuedInFuture);
        }
        if claims.exp <= claims.iat {
            return Some(Refusal::ExpiresBeforeIssued);
        }
        if claims.exp.saturating_sub(claims.iat) > self.max_lifetime_secs {
            return Some(Refusal::TooLong);
        }
        if claims.nbf.is_some_and(|nbf| nbf > latest_secs) {
            return Some(Refusal::NotYetValid);
        }
        None
    }
}

/// `bytes` random bytes from the operating system, hex encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    // Without OS randomness no secret this server makes would be safe: stop rather than go on.
    getrandom::fill(&mut buffer).expect("the operating system's random number generator failed");
    to_hex(&buffer)
}

/// Random key material for HS256.
pub fn random_key() -> Vec<u8> {
    random_token(MIN_SECRET_BYTES).into_bytes()
}

/// SHA-256 of a secret, hex encoded: what the store keeps instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    to_hex(&Sha256::digest(secret.as_bytes()))
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIFTEEN_MIN: i64 = 900;

    #[test]
    fn a_token_is_valid_until_its_expiry_and_expired_at_it() {
        let tokens = AccessTokens::new(&random_key(), FIFTEEN_MIN);
        let token = tokens.issue("alice", "s1", 1_000_000, 1_300_000).unwrap();
        assert!(matches!(tokens.verify(&token, 1_299_999), Verified::Valid(c) if c.sid == "s1"));
        assert!(matches!(tokens.verify(&token, 1_300_000), Verified::Expired(_)));
    }

    #[test]
    fn a_token_from_another_key_is_invalid() {
        let token =
            AccessTokens::new(&random_key(), FIFTEEN_MIN).issue("alice", "s1", 0, 60_000).unwrap();
        let other = AccessTokens::new(&random_key(), FIFTEEN_MIN);
        assert!(matches!(other.verify(&token, 0), Verified::Invalid));
        assert!(matches!(other.verify("not a jwt", 0), Verified::Invalid));
    }

    #[test]
    fn a_token_longer_than_the_maximum_is_refused_expired_or_not() {
        let key = random_key();
        let (strict, lax) = (AccessTokens::new(&key, FIFTEEN_MIN), AccessTokens::new(&key, 3600));
        let at_most = strict.issue("alice", "s1", 0, 900_000).unwrap();
        assert!(matches!(strict.verify(&at_most, 0), Verified::Valid(_)));
        let longer = lax.issue("alice", "s1", 0, 901_000).unwrap();
        assert!(matches!(lax.verify(&longer, 0), Verified::Valid(_)));
        assert!(matches!(strict.verify(&longer, 0), Verified::Refused(Refusal::TooLong)));
        assert!(matches!(strict.verify(&longer, 902_000), Verified::Refused(Refusal::TooLong)));
    }

    fn signed(key: &[u8], claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key))
            .unwrap()
    }

    #[test]
    fn time_claims_are_checked_with_a_minute_of_skew() {
        let key = random_key();
        let tokens = AccessTokens::new(&key, FIFTEEN_MIN);
        let now_ms = 1_000_000_500; // mid-second
        let now = now_ms / 1000;
        let verify = |iat: i64, exp: i64, nbf: Option<i64>| {
            let mut claims =
                serde_json::json!({ "sub": "a", "sid": "s", "iat": iat, "exp": exp, "jti": "j" });
            if let Some(nbf) = nbf {
                claims["nbf"] = nbf.into();
            }
            match tokens.verify(&signed(&key, &claims), now_ms) {
                Verified::Valid(_) => Ok("valid"),
                Verified::Expired(_) => Ok("expired"),
                Verified::Refused(refusal) => Err(refusal),
                Verified::Invalid => Ok("invalid"),
            }
        };
        assert_eq!(verify(now, now + 900, None), Ok("valid"));
        assert_eq!(verify(now + 60, now + 960, None), Ok("valid"));
        assert_eq!(verify(now + 61, now + 961, None), Err(Refusal::IssuedInFuture));
        assert_eq!(verify(i64::MAX - 1, i64::MAX, None), Err(Refusal::IssuedInFuture));
        assert_eq!(verify(now, now, None), Err(Refusal::ExpiresBeforeIssued));
        assert_eq!(verify(now, now - 1, None), Err(Refusal::ExpiresBeforeIssued));
        assert_eq!(verify(i64::MIN, now + 1, None), Err(Refusal::TooLong));
        assert_eq!(verify(now - 900, now, None), Ok("expired"));
        assert_eq!(verify(now - 901, now, None), Err(Refusal::TooLong));
        assert_eq!(verify(now, now + 300, Some(now + 60)), Ok("valid"));
        assert_eq!(verify(now, now + 300, Some(now + 61)), Err(Refusal::NotYetValid));
        assert_eq!(verify(now, now + 300, Some(i64::MIN)), Ok("valid"));
        // A claim of the wrong type is not a token of this server.
        let claims = serde_json::json!({ "sub": "a", "sid": "s", "iat": now, "exp": now + 1, "nbf": "soon", "jti": "j" });
        assert!(matches!(tokens.verify(&signed(&key, &claims), now_ms), Verified::Invalid));
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 64);
        assert_eq!(hash_secret("x"), hash_secret("x"));
        assert_ne!(hash_secret("x"), hash_secret("y"));
    }
}
