//! [`Options`]: the JavaScript client's options as a Rust struct, validated by the core.

use serde::Deserialize;

use crate::core::options::{ParsedOrigin, ParsedUrl, Raw};
use crate::core::{Config, OptionError, RawOptions};

/// The client's configuration: the same fields, defaults and validation as the options of the
/// npm package's `createAuthClient` (contract section 1). `Options::default()` is the session
/// strategy at `/auth/renew` with every default.
///
/// It deserializes from the JavaScript option names (`renewUrl`, `idleTimeoutMs`, …), so one
/// JSON configuration serves both drivers; an unknown name is an error, as in JavaScript.
/// Durations are milliseconds, at most 2147483647 (the longest browser timer).
///
/// ```no_run
/// # use authpulse::web::Options;
/// let options: Options = serde_json::from_str(
///     r#"{ "renewUrl": "/auth/renew", "idleTimeoutMs": 600000 }"#,
/// ).unwrap();
/// assert_eq!(options.idle_timeout_ms, Some(600_000));
/// assert!(options.cross_tab);
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// Session strategy (the default): `POST` here with the auth-session cookie (contract
    /// section 2). `None` is `/auth/renew`. Not with `token_endpoint`.
    pub renew_url: Option<String>,
    /// Refresh-token strategy: the OAuth 2.0 token endpoint (RFC 6749 section 6); needs
    /// `client_id`.
    pub token_endpoint: Option<String>,
    /// The public client's id, with `token_endpoint`.
    pub client_id: Option<String>,
    /// Where refresh tokens are revoked on teardown (RFC 7009), with `token_endpoint`.
    pub revoke_url: Option<String>,
    /// Real-user inactivity before teardown, in ms. `None` is 15 minutes.
    pub idle_timeout_ms: Option<u64>,
    /// The idle warning this long before teardown, in ms; 0 turns it off. `None` is
    /// min(60 s, idle timeout / 2).
    pub warn_before_idle_ms: Option<u64>,
    /// Proactive renewal this long before expiry, in ms. `None` is min(60 s, lifetime / 4).
    pub renew_before_expiry_ms: Option<u64>,
    /// An absolute cap from sign-in, in ms, whatever the activity. `None`: no cap.
    pub max_session_ms: Option<u64>,
    /// The only origins (`https://api.example.com`) that ever receive the bearer token.
    /// `None` is the page's own origin.
    pub allowed_origins: Option<Vec<String>>,
    /// Share activity, tokens and sign-out with the app's other tabs, whichever driver they run
    /// (default `true`).
    pub cross_tab: bool,
    /// `POST`ed (keepalive) on teardown to end the server session.
    pub logout_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            renew_url: None,
            token_endpoint: None,
            client_id: None,
            revoke_url: None,
            idle_timeout_ms: None,
            warn_before_idle_ms: None,
            renew_before_expiry_ms: None,
            max_session_ms: None,
            allowed_origins: None,
            cross_tab: true,
            logout_url: None,
        }
    }
}

impl Options {
    /// Validates these options with the core's rules (`allowedOrigins` entries through the
    /// browser's URL parser); `page_origin` is the default allowed origin.
    pub(crate) fn config(&self, page_origin: &str) -> Result<Config, OptionError> {
        let text = |value: &Option<String>| value.clone().map_or(Raw::Absent, Raw::Given);
        // A u64 beyond f64's exact range is beyond the limit too: the core refuses it.
        let ms = |value: Option<u64>| value.map_or(Raw::Absent, |ms| Raw::Given(ms as f64));
        let raw = RawOptions {
            renew_url: text(&self.renew_url),
            token_endpoint: text(&self.token_endpoint),
            client_id: text(&self.client_id),
            revoke_url: text(&self.revoke_url),
            idle_timeout_ms: ms(self.idle_timeout_ms),
            warn_before_idle_ms: ms(self.warn_before_idle_ms),
            renew_before_expiry_ms: ms(self.renew_before_expiry_ms),
            max_session_ms: ms(self.max_session_ms),
            allowed_origins: self.allowed_origins.as_ref().map_or(Raw::Absent, |origins| {
                Raw::Given(origins.iter().map(|origin| parse_origin(origin)).collect())
            }),
            cross_tab: Raw::Given(self.cross_tab),
            logout_url: text(&self.logout_url),
            // The Rust driver has no logger yet: the core then says no decision.
            logger: Raw::Absent,
            unknown: None,
        };
        Config::from_raw(&raw, page_origin)
    }
}

/// An `allowedOrigins` entry through the browser's URL parser (as `js/index.js` does); the core
/// decides what is valid.
fn parse_origin(text: &str) -> ParsedOrigin {
    let Ok(url) = web_sys::Url::new(text) else {
        return ParsedOrigin(None);
    };
    let has_more_than_origin = url.pathname() != "/"
        || !url.search().is_empty()
        || !url.hash().is_empty()
        || !url.username().is_empty()
        || !url.password().is_empty()
        || text.contains(['?', '#']);
    ParsedOrigin(Some(ParsedUrl {
        protocol: url.protocol(),
        origin: url.origin(),
        has_more_than_origin,
    }))
}
