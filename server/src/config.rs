//! Command-line flags and environment variables. Every lifetime is configurable so the demo and
//! the tests can run with short timings; the defaults are the ones a real deployment would use.

use std::path::PathBuf;

use clap::Parser;

/// The server's configuration: `authpulse-server --help` lists it.
#[derive(Clone, Debug, Parser)]
// A flag given twice takes its last value, so a wrapper can pass defaults and callers override them.
#[command(name = "authpulse-server", version, about, args_override_self = true)]
pub struct Config {
    /// TCP port on 127.0.0.1; 0 picks a free one (the bound URL is the first line on stdout).
    #[arg(long, env = "AUTHPULSE_PORT", default_value_t = 8080)]
    pub port: u16,

    /// SQLite database file for sessions and refresh tokens, or `:memory:`.
    #[arg(long, env = "AUTHPULSE_DB", default_value = "authpulse.sqlite", global = true)]
    pub db: String,

    /// Directory served at `/` (the demo page).
    #[arg(long, env = "AUTHPULSE_WWW", default_value = "www")]
    pub www: PathBuf,

    /// Directory served at `/pkg/` (the built npm package).
    #[arg(long, env = "AUTHPULSE_PKG", default_value = "pkg")]
    pub pkg: PathBuf,

    /// Access token lifetime, in seconds. The server refuses to start with one above
    /// `--max-access-token-secs`.
    #[arg(long, env = "AUTHPULSE_ACCESS_TOKEN_SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub access_token_secs: u64,

    /// The longest access-token lifetime (`exp - iat`) the API accepts, in seconds, whoever
    /// signed the token: a longer-lived one is answered `401 invalid_token`. At least 2 (claims
    /// are whole seconds, so a token issued mid-second spans one more).
    #[arg(long, env = "AUTHPULSE_MAX_ACCESS_TOKEN_SECS", default_value_t = DEFAULT_MAX_ACCESS_TOKEN_SECS,
          value_parser = clap::value_parser!(u64).range(2..))]
    pub max_access_token_secs: u64,

    /// Server-side idle timeout, in seconds: a session with no user activity for this long
    /// can no longer be renewed.
    #[arg(long, env = "AUTHPULSE_IDLE_TIMEOUT_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,

    /// Absolute session lifetime from sign-in, in seconds, whatever the activity.
    #[arg(long, env = "AUTHPULSE_SESSION_LIFETIME_SECS", default_value_t = 8 * 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_lifetime_secs: u64,

    /// A user must sign in with a password at least this often, in seconds (72 h by default),
    /// on any device: a renewal or refresh-token grant later than that after the user's last
    /// sign-in is refused (`login_required`), whatever the session's own lifetime.
    #[arg(long, env = "AUTHPULSE_MAX_AUTH_AGE_SECS", default_value_t = DEFAULT_MAX_AUTH_AGE_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_auth_age_secs: u64,

    /// Refresh token lifetime, in seconds (never beyond the session's absolute lifetime).
    #[arg(long, env = "AUTHPULSE_REFRESH_TOKEN_SECS", default_value_t = 8 * 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub refresh_token_secs: u64,

    /// HS256 signing key for access tokens (at least 32 bytes). Without it, a random key is made
    /// at start, so access tokens do not survive a restart (sessions and refresh tokens do).
    #[arg(long, env = "AUTHPULSE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Always mark the session cookie `Secure`. It is also marked so when a proxy in front says
    /// the request came over https (`X-Forwarded-Proto: https`).
    #[arg(long, env = "AUTHPULSE_SECURE_COOKIE")]
    pub secure_cookie: bool,

    /// An origin allowed to call the server with credentials (CORS), e.g. a front end on
    /// another port: `scheme://host[:port]`, as browsers send it in `Origin`. The session cookie
    /// is `SameSite=Lax`, so such a front end must be on the server's site (another port of the
    /// same host, or app.example.com beside auth.example.com). Repeat the flag, or separate with
    /// commas in the variable.
    #[arg(long = "allowed-origin", env = "AUTHPULSE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// A user who administers this server: may call `POST /admin/users/{username}/reauth`.
    /// Repeat the flag, or separate with commas in the variable (blank entries name nobody); none
    /// by default. A user the
    /// server does not know is refused at start. Fixed for the life of the process: no request
    /// can grant it (the demo's `/demo/permission` toggle gates only `GET /api/admin`).
    #[arg(long = "admin", value_name = "USER", env = "AUTHPULSE_ADMINS", value_delimiter = ',')]
    pub admins: Vec<String>,

    /// Enable the `/test/*` endpoints (clock, request log, failure injection) and the echo
    /// origin. Never in production.
    #[arg(long, env = "AUTHPULSE_TEST_CONTROLS")]
    pub test_controls: bool,

    /// Port of the echo origin (with `--test-controls`); 0 picks a free one, printed as the
    /// second stdout line.
    #[arg(long, env = "AUTHPULSE_ECHO_PORT", default_value_t = 0)]
    pub echo_port: u16,

    /// How long a request may take, in seconds, from its headers to the answer: one whose body
    /// has not arrived by then (or that is not answered by then) gets `408 request_timeout` and
    /// its connection is closed, so that no connection hangs forever.
    #[arg(long, env = "AUTHPULSE_REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub request_timeout_secs: u64,

    /// How many password hashes (Argon2, 19 MiB of memory each) may run at once, for sign-ins and password changes together; more wait their turn, so
    /// that a burst of sign-ins cannot take the server's memory.
    #[arg(long, env = "AUTHPULSE_PASSWORD_HASH_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub password_hash_concurrency: u32,

    /// Argon2 memory cost of the demo users' password hashes, in KiB (OWASP's 19 MiB minimum by
    /// default). Tests lower it: the cost only slows them down, it does not change behaviour.
    #[arg(skip = DEFAULT_ARGON2_MEMORY_KIB)]
    pub argon2_memory_kib: u32,
}

/// The longest access-token lifetime accepted by default: 15 minutes.
pub const DEFAULT_MAX_ACCESS_TOKEN_SECS: u64 = 15 * 60;

/// How often a user must sign in with a password by default: every 72 hours.
pub const DEFAULT_MAX_AUTH_AGE_SECS: u64 = 72 * 3600;

/// Argon2id memory cost recommended by OWASP's password storage cheat sheet (with t = 2, p = 1).
pub const DEFAULT_ARGON2_MEMORY_KIB: u32 = 19 * 1024;

impl Config {
    /// The defaults with an in-memory database, a random free port and no static directories
    /// that exist: the starting point for tests.
    pub fn for_tests() -> Self {
        let mut config = Self::parse_from(["authpulse-server", "--port", "0", "--db", ":memory:"]);
        config.www = PathBuf::from("/nonexistent/www");
        config.pkg = PathBuf::from("/nonexistent/pkg");
        config.argon2_memory_kib = 64;
        config
    }

    pub(crate) fn access_token_ms(&self) -> i64 {
        secs_to_ms(self.access_token_secs)
    }

    pub(crate) fn idle_timeout_ms(&self) -> i64 {
        secs_to_ms(self.idle_timeout_secs)
    }

    pub(crate) fn session_lifetime_ms(&self) -> i64 {
        secs_to_ms(self.session_lifetime_secs)
    }

    pub(crate) fn refresh_token_ms(&self) -> i64 {
        secs_to_ms(self.refresh_token_secs)
    }

    pub(crate) fn max_auth_age_ms(&self) -> i64 {
        secs_to_ms(self.max_auth_age_secs)
    }

    /// `--max-access-token-secs` as a number of seconds to compare with `exp - iat`.
    pub(crate) fn max_access_token_lifetime_secs(&self) -> i64 {
        i64::try_from(self.max_access_token_secs).unwrap_or(i64::MAX)
    }

    /// Why the server cannot run with this configuration, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.max_access_token_secs < 2 {
            return Err("--max-access-token-secs must be at least 2".into());
        }
        if self.access_token_secs > self.max_access_token_secs {
            return Err(format!(
                "--access-token-secs {} exceeds the longest access-token lifetime the API \
                 accepts (--max-access-token-secs {}): tokens would be refused",
                self.access_token_secs, self.max_access_token_secs
            ));
        }
        Ok(())
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_production_timings() {
        let config = Config::parse_from(["authpulse-server"]);
        assert_eq!(config.port, 8080);
        assert_eq!(config.access_token_ms(), 300_000);
        assert_eq!(config.idle_timeout_ms(), 900_000);
        assert_eq!(config.session_lifetime_ms(), 8 * 3_600_000);
        assert_eq!(config.max_access_token_secs, 900);
        assert_eq!(config.max_auth_age_ms(), 72 * 3_600_000);
        assert!(!config.test_controls);
    }

    #[test]
    fn a_repeated_flag_takes_its_last_value() {
        let config = Config::parse_from(["authpulse-server", "--www", "a", "--www", "b"]);
        assert_eq!(config.www, PathBuf::from("b"));
        let config = Config::parse_from([
            "authpulse-server",
            "--allowed-origin",
            "http://a",
            "--allowed-origin",
            "http://b",
        ]);
        assert_eq!(config.allowed_origins, ["http://a", "http://b"]);
    }

    #[test]
    fn zero_lifetimes_are_refused() {
        assert!(Config::try_parse_from(["authpulse-server", "--idle-timeout-secs", "0"]).is_err());
        assert!(Config::try_parse_from(["authpulse-server", "--max-auth-age-secs", "0"]).is_err());
        assert!(
            Config::try_parse_from(["authpulse-server", "--max-access-token-secs", "1"]).is_err()
        );
    }

    #[test]
    fn an_access_token_lifetime_above_the_maximum_is_refused() {
        let parse = |args: &[&str]| {
            Config::parse_from(std::iter::once("authpulse-server").chain(args.iter().copied()))
        };
        assert_eq!(parse(&["--access-token-secs", "900"]).check(), Ok(()));
        let error = parse(&["--access-token-secs", "901"]).check().unwrap_err();
        assert!(error.contains("--access-token-secs 901") && error.contains("900"), "{error}");
        let raised = parse(&["--access-token-secs", "3600", "--max-access-token-secs", "3600"]);
        assert_eq!(raised.check(), Ok(()));
    }
}
