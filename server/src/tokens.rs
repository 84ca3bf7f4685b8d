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
    /// Well signed, but made to live longer (`exp - iat`) than the longest lifetime accepted:
    /// refused whether or not it expired, whoever signed it (a leaked key, another service
    /// sharing it, or this server under a laxer configuration).
    TooLong,
    /// Not a token this server signed.
    Invalid,
}

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
            jti: random_token(12),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Checks the signature, the lifetime and the expiry of `token` at `now_ms`.
    pub fn verify(&self, token: &str, now_ms: Millis) -> Verified {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data)
                if data.claims.exp.saturating_sub(data.claims.iat) > self.max_lifetime_secs =>
            {
                Verified::TooLong
            }
            Ok(data) if now_ms >= data.claims.exp.saturating_mul(1000) => {
                Verified::Expired(data.claims)
            }
            Ok(data) => Verified::Valid(data.claims),
            Err(_) => Verified::Invalid,
        }
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
        assert!(matches!(strict.verify(&longer, 0), Verified::TooLong));
        assert!(matches!(strict.verify(&longer, 902_000), Verified::TooLong));
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 64);
        assert_eq!(hash_secret("x"), hash_secret("x"));
        assert_ne!(hash_secret("x"), hash_secret("y"));
    }
}
