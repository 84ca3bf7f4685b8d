//! Validated configuration. Every error names the JavaScript option it is about.
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::idle::{IdlePolicy, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_WARN_BEFORE_IDLE_MS};
use super::origin::AllowedOrigins;
use super::owned;
use super::renewal::RenewSchedule;

/// The default renew endpoint of the session strategy.
pub const DEFAULT_RENEW_URL: &str = "/auth/renew";
/// Longest accepted duration option: about 24.8 days, the longest browser timer delay.
pub const MAX_DURATION_MS: u64 = i32::MAX as u64;

/// An option as read from the JavaScript options object.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Raw<T> {
    /// `undefined` or not present.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value of the right JavaScript type.
    Given(T),
    /// A value of another type.
    WrongType,
}

/// The options object as the facade read it, before validation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawOptions {
    /// `renewUrl`
    pub renew_url: Raw<String>,
    /// `tokenEndpoint`
    pub token_endpoint: Raw<String>,
    /// `clientId`
    pub client_id: Raw<String>,
    /// `revokeUrl`
    pub revoke_url: Raw<String>,
    /// `idleTimeoutMs`
    pub idle_timeout_ms: Raw<f64>,
    /// `warnBeforeIdleMs`
    pub warn_before_idle_ms: Raw<f64>,
    /// `renewBeforeExpiryMs`
    pub renew_before_expiry_ms: Raw<f64>,
    /// `maxSessionMs`
    pub max_session_ms: Raw<f64>,
    /// `allowedOrigins`, each entry already parsed by the browser's URL parser.
    pub allowed_origins: Raw<Vec<ParsedOrigin>>,
    /// `crossTab`
    pub cross_tab: Raw<bool>,
    /// `logoutUrl`
    pub logout_url: Raw<String>,
    /// `logger`: `Given(true)` for an object (the driver calls its `debug`, `info` and `warn`
    /// methods); anything else is `WrongType` (`Given(false)` is refused too).
    pub logger: Raw<bool>,
    /// The first option name that the client does not know, if any (a typo is an error).
    pub unknown: Option<String>,
}

/// An `allowedOrigins` entry after the browser's URL parser: `None` if it is not a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedOrigin(pub Option<ParsedUrl>);

/// The parts of a parsed URL that decide whether it names an origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    /// `URL.protocol`, e.g. `"https:"`.
    pub protocol: String,
    /// `URL.origin`, e.g. `"https://api.example.com"`.
    pub origin: String,
    /// Whether the entry had anything beyond the origin: a path other than `/`, a query, a
    /// fragment or credentials.
    pub has_more_than_origin: bool,
}

/// The option names the client knows, as JavaScript spells them.
pub const OPTION_NAMES: [&str; 12] = [
    "renewUrl",
    "tokenEndpoint",
    "clientId",
    "revokeUrl",
    "idleTimeoutMs",
    "warnBeforeIdleMs",
    "renewBeforeExpiryMs",
    "maxSessionMs",
    "allowedOrigins",
    "crossTab",
    "logoutUrl",
    "logger",
];

/// An invalid option: which one, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The JavaScript name of the option.
    pub option: String,
    /// What is wrong, as the end of a sentence.
    pub problem: &'static str,
}

/// An invalid option while validating: its name (borrowed from the raw options or static) and
/// the problem. Copied around instead of an `OptionError`, which owns the name.
type Invalid<'a> = (&'a str, &'static str);

impl OptionError {
    /// `authpulse: option "idleTimeoutMs" must be a positive number of milliseconds`.
    pub fn message(&self) -> String {
        let mut message = String::from("authpulse: option \"");
        message.push_str(&self.option);
        message.push_str("\" ");
        message.push_str(self.problem);
        message
    }
}

/// How tokens are renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `POST {renewUrl}` with the auth-session cookie (contract section 2).
    Session {
        /// The renew endpoint.
        renew_url: String,
    },
    /// OAuth 2.0 refresh-token grant (contract section 3).
    RefreshToken {
        /// The token endpoint.
        token_endpoint: String,
        /// The public client's id.
        client_id: String,
        /// Where refresh tokens are revoked on teardown (RFC 7009), if anywhere.
        revoke_url: Option<String>,
    },
}

/// Validated client configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// How tokens are renewed.
    pub strategy: Strategy,
    /// The idle rule.
    pub idle: IdlePolicy,
    /// When tokens are renewed ahead of expiry.
    pub schedule: RenewSchedule,
    /// Absolute cap from sign-in, whatever the activity.
    pub max_session_ms: Option<u64>,
    /// The only origins that receive the token.
    pub allowed_origins: AllowedOrigins,
    /// Share activity, tokens and sign-out between same-origin tabs.
    pub cross_tab: bool,
    /// POSTed on teardown to end the server session.
    pub logout_url: Option<String>,
    /// Whether the app's `logger` hears of each decision.
    pub log: bool,
}

impl Config {
    /// Whether renewals are refresh-token grants (contract section 3).
    pub fn grants_refresh_tokens(&self) -> bool {
        matches!(self.strategy, Strategy::RefreshToken { .. })
    }

    /// Validates `raw`. `page_origin` is the default for `allowedOrigins`.
    pub fn from_raw(raw: &RawOptions, page_origin: &str) -> Result<Config, OptionError> {
        validate(raw, page_origin)
            .map_err(|(option, problem)| OptionError { option: owned(option), problem })
    }
}

fn validate<'a>(raw: &'a RawOptions, page_origin: &str) -> Result<Config, Invalid<'a>> {
    if let Some(name) = &raw.unknown {
        return Err((name, "is not an authpulse option"));
    }
    let idle_timeout_ms =
        duration("idleTimeoutMs", &raw.idle_timeout_ms, false)?.unwrap_or(DEFAULT_IDLE_TIMEOUT_MS);
    let warn_before_idle_ms = duration("warnBeforeIdleMs", &raw.warn_before_idle_ms, true)?
        .unwrap_or(DEFAULT_WARN_BEFORE_IDLE_MS.min(idle_timeout_ms / 2));
    if warn_before_idle_ms >= idle_timeout_ms {
        return Err(("warnBeforeIdleMs", "must be shorter than idleTimeoutMs"));
    }
    let cross_tab = match raw.cross_tab {
        Raw::Absent => true,
        Raw::Given(value) => value,
        Raw::Null | Raw::WrongType => return Err(("crossTab", "must be a boolean")),
    };
    let strategy = strategy(raw)?;
    let renew_before_expiry_ms =
        duration("renewBeforeExpiryMs", &raw.renew_before_expiry_ms, true)?;
    let max_session_ms = duration("maxSessionMs", &raw.max_session_ms, false)?;
    let allowed_origins = allowed_origins(&raw.allowed_origins, page_origin)?;
    let logout_url = url("logoutUrl", &raw.logout_url)?;
    let log = match raw.logger {
        Raw::Absent | Raw::Null => false,
        Raw::Given(true) => true,
        Raw::Given(false) | Raw::WrongType => {
            return Err(("logger", "must be an object with debug, info and warn methods"))
        }
    };
    Ok(Config {
        strategy,
        idle: IdlePolicy::new(idle_timeout_ms, warn_before_idle_ms),
        schedule: RenewSchedule::new(renew_before_expiry_ms),
        max_session_ms,
        allowed_origins,
        cross_tab,
        logout_url: logout_url.map(owned),
        log,
    })
}

/// A duration option in milliseconds: absent or `null` is `None`. A fraction of a millisecond
/// is rounded up (never down to 0: `maxSessionMs: 0.5` is 1 ms, not "expire at once").
fn duration(
    option: &'static str,
    raw: &Raw<f64>,
    zero_ok: bool,
) -> Result<Option<u64>, Invalid<'static>> {
    let problem = if zero_ok {
        "must be a number of milliseconds, 0 or more, at most 2147483647"
    } else {
        "must be a positive number of milliseconds, at most 2147483647"
    };
    match *raw {
        Raw::Absent | Raw::Null => Ok(None),
        Raw::WrongType => Err((option, problem)),
        Raw::Given(ms) => {
            let in_range = ms.is_finite() && ms <= MAX_DURATION_MS as f64;
            if in_range && (ms > 0.0 || (zero_ok && ms == 0.0)) {
                Ok(Some(ceil(ms) as u64))
            } else {
                Err((option, problem))
            }
        }
    }
}

/// `f64::ceil` for a finite, non-negative `ms` (not in `core` before Rust 1.85; the shipped
/// module is `no_std`).
fn ceil(ms: f64) -> f64 {
    let whole = ms as u64 as f64;
    if whole < ms {
        whole + 1.0
    } else {
        whole
    }
}

/// A URL option: absent or `null` is `None`; an empty string is an error.
fn url<'a>(
    option: &'static str,
    raw: &'a Raw<String>,
) -> Result<Option<&'a str>, Invalid<'static>> {
    match raw {
        Raw::Absent | Raw::Null => Ok(None),
        Raw::Given(url) if !url.chars().all(is_white_space) => Ok(Some(url)),
        Raw::Given(_) | Raw::WrongType => Err((option, "must be a non-empty URL string")),
    }
}

/// `char::is_whitespace` (Unicode `White_Space`, what `trim` removes) spelled out: the 25 code
/// points as one match instead of the standard library's table lookup.
fn is_white_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

fn strategy(raw: &RawOptions) -> Result<Strategy, Invalid<'static>> {
    let token_endpoint = url("tokenEndpoint", &raw.token_endpoint)?;
    let client_id = match &raw.client_id {
        Raw::Absent | Raw::Null => None,
        Raw::Given(id) if !id.is_empty() => Some(id),
        Raw::Given(_) | Raw::WrongType => return Err(("clientId", "must be a non-empty string")),
    };
    let revoke_url = url("revokeUrl", &raw.revoke_url)?;
    let renew_url = url("renewUrl", &raw.renew_url)?;
    match (token_endpoint, client_id) {
        (None, None) => {
            if revoke_url.is_some() {
                return Err(("revokeUrl", "needs tokenEndpoint and clientId"));
            }
            Ok(Strategy::Session { renew_url: owned(renew_url.unwrap_or(DEFAULT_RENEW_URL)) })
        }
        (Some(_), None) => Err(("clientId", "is required with tokenEndpoint")),
        (None, Some(_)) => Err(("tokenEndpoint", "is required with clientId")),
        (Some(token_endpoint), Some(client_id)) => {
            if renew_url.is_some() {
                return Err((
                    "renewUrl",
                    "cannot be combined with tokenEndpoint: choose one strategy",
                ));
            }
            Ok(Strategy::RefreshToken {
                token_endpoint: owned(token_endpoint),
                client_id: owned(client_id),
                revoke_url: revoke_url.map(owned),
            })
        }
    }
}

fn allowed_origins(
    raw: &Raw<Vec<ParsedOrigin>>,
    page_origin: &str,
) -> Result<AllowedOrigins, Invalid<'static>> {
    const OPTION: &str = "allowedOrigins";
    let entries = match raw {
        Raw::Absent => return Ok(AllowedOrigins::new(vec![owned(page_origin)])),
        Raw::Given(entries) if !entries.is_empty() => entries,
        Raw::Given(_) => return Err((OPTION, "must list at least one origin")),
        Raw::Null | Raw::WrongType => return Err((OPTION, "must be an array of origin strings")),
    };
    let mut origins = Vec::with_capacity(entries.len());
    for ParsedOrigin(parsed) in entries {
        let Some(url) = parsed else {
            return Err((OPTION, "must contain absolute URLs like https://api.example.com"));
        };
        if !matches!(url.protocol.as_str(), "https:" | "http:") || url.origin == "null" {
            return Err((OPTION, "must contain http(s) origins only"));
        }
        if url.has_more_than_origin {
            return Err((
                OPTION,
                "must contain origins only (scheme, host, port), without path, query or credentials",
            ));
        }
        origins.push(owned(&url.origin));
    }
    Ok(AllowedOrigins::new(origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "https://app.example";

    fn origin(origin: &str) -> ParsedOrigin {
        ParsedOrigin(Some(ParsedUrl {
            protocol: origin.split(':').next().unwrap_or("").to_owned() + ":",
            origin: origin.into(),
            has_more_than_origin: false,
        }))
    }

    fn error(raw: RawOptions) -> OptionError {
        Config::from_raw(&raw, PAGE).unwrap_err()
    }

    #[test]
    fn no_options_give_the_contract_defaults() {
        let config = Config::from_raw(&RawOptions::default(), PAGE).unwrap();
        assert_eq!(config.strategy, Strategy::Session { renew_url: "/auth/renew".into() });
        assert_eq!(config.idle, IdlePolicy::new(900_000, 60_000));
        assert_eq!(config.allowed_origins.as_slice(), [PAGE.to_string()]);
        assert!(config.cross_tab);
        assert_eq!(config.max_session_ms, None);
        assert_eq!(config.logout_url, None);
    }

    #[test]
    fn bad_durations_name_the_option() {
        for bad in [
            Raw::Given(0.0),
            Raw::Given(-1.0),
            Raw::Given(f64::NAN),
            Raw::Given(1e12),
            Raw::WrongType,
        ] {
            let raw = RawOptions { idle_timeout_ms: bad.clone(), ..RawOptions::default() };
            let err = error(raw);
            assert_eq!(err.option, "idleTimeoutMs", "{bad:?}");
            assert!(err.message().starts_with("authpulse: option \"idleTimeoutMs\" must be"));
        }
        let raw = RawOptions { max_session_ms: Raw::Given(-5.0), ..RawOptions::default() };
        assert_eq!(error(raw).option, "maxSessionMs");
    }

    #[test]
    fn fractions_of_a_millisecond_round_up() {
        let raw = RawOptions { idle_timeout_ms: Raw::Given(0.5), ..RawOptions::default() };
        let config = Config::from_raw(&raw, PAGE).expect("half a millisecond is a timeout");
        assert_eq!(config.idle, IdlePolicy::new(1, 0), "1 ms, no room for a warning");
        let raw = RawOptions { max_session_ms: Raw::Given(0.5), ..RawOptions::default() };
        assert_eq!(Config::from_raw(&raw, PAGE).unwrap().max_session_ms, Some(1));
        let raw = RawOptions { idle_timeout_ms: Raw::Given(60_000.25), ..RawOptions::default() };
        assert_eq!(Config::from_raw(&raw, PAGE).unwrap().idle.timeout_ms(), 60_001);
        let raw = RawOptions {
            renew_before_expiry_ms: Raw::Given(2_147_483_646.5),
            ..RawOptions::default()
        };
        assert_eq!(
            Config::from_raw(&raw, PAGE).unwrap().schedule.margin_ms(u64::MAX),
            2_147_483_647
        );
        let raw =
            RawOptions { max_session_ms: Raw::Given(2_147_483_647.5), ..RawOptions::default() };
        assert_eq!(error(raw).option, "maxSessionMs");
    }

    #[test]
    fn the_warning_must_come_before_the_timeout() {
        let raw = RawOptions {
            idle_timeout_ms: Raw::Given(60_000.0),
            warn_before_idle_ms: Raw::Given(60_000.0),
            ..RawOptions::default()
        };
        assert_eq!(error(raw).option, "warnBeforeIdleMs");
        let off = RawOptions { warn_before_idle_ms: Raw::Given(0.0), ..RawOptions::default() };
        assert_eq!(
            Config::from_raw(&off, PAGE)
                .unwrap()
                .idle
                .warn_at(crate::core::time::Instant::from_millis(0)),
            None
        );
    }

    #[test]
    fn a_short_idle_timeout_gets_a_proportionate_default_warning() {
        let raw = RawOptions { idle_timeout_ms: Raw::Given(30_000.0), ..RawOptions::default() };
        assert_eq!(Config::from_raw(&raw, PAGE).unwrap().idle, IdlePolicy::new(30_000, 15_000));
    }

    #[test]
    fn the_refresh_token_strategy_needs_both_endpoint_and_client() {
        let only_endpoint = RawOptions {
            token_endpoint: Raw::Given("https://idp.example/token".into()),
            ..RawOptions::default()
        };
        assert_eq!(error(only_endpoint.clone()).option, "clientId");
        let both = RawOptions { client_id: Raw::Given("spa".into()), ..only_endpoint.clone() };
        assert!(matches!(
            Config::from_raw(&both, PAGE).unwrap().strategy,
            Strategy::RefreshToken { .. }
        ));
        let mixed = RawOptions { renew_url: Raw::Given("/auth/renew".into()), ..both };
        assert_eq!(error(mixed).option, "renewUrl");
        let revoke_alone =
            RawOptions { revoke_url: Raw::Given("/revoke".into()), ..RawOptions::default() };
        assert_eq!(error(revoke_alone).option, "revokeUrl");
    }

    #[test]
    fn allowed_origins_must_be_origins() {
        let with = |entries: Vec<ParsedOrigin>| RawOptions {
            allowed_origins: Raw::Given(entries),
            ..RawOptions::default()
        };
        let ok = Config::from_raw(
            &with(vec![origin("https://api.example"), origin("http://localhost:3000")]),
            PAGE,
        )
        .unwrap();
        assert_eq!(ok.allowed_origins.as_slice().len(), 2);
        assert_eq!(error(with(vec![])).option, "allowedOrigins");
        assert_eq!(error(with(vec![ParsedOrigin(None)])).option, "allowedOrigins");
        assert_eq!(error(with(vec![origin("data:text/plain")])).option, "allowedOrigins");
        let with_path = ParsedOrigin(Some(ParsedUrl {
            protocol: "https:".into(),
            origin: "https://api.example".into(),
            has_more_than_origin: true,
        }));
        assert_eq!(error(with(vec![with_path])).option, "allowedOrigins");
        let not_array = RawOptions { allowed_origins: Raw::WrongType, ..RawOptions::default() };
        assert_eq!(error(not_array).option, "allowedOrigins");
    }

    #[test]
    fn a_logger_is_an_object_or_nothing() {
        let with = |logger| RawOptions { logger, ..RawOptions::default() };
        assert!(!Config::from_raw(&with(Raw::Absent), PAGE).unwrap().log);
        assert!(!Config::from_raw(&with(Raw::Null), PAGE).unwrap().log);
        assert!(Config::from_raw(&with(Raw::Given(true)), PAGE).unwrap().log);
        for bad in [Raw::Given(false), Raw::WrongType] {
            let err = error(with(bad));
            assert_eq!(err.option, "logger");
            assert_eq!(
                err.message(),
                "authpulse: option \"logger\" must be an object with debug, info and warn methods"
            );
        }
    }

    #[test]
    fn a_misspelt_option_is_an_error_not_a_silent_default() {
        let raw = RawOptions { unknown: Some("idleTimeout".into()), ..RawOptions::default() };
        let err = error(raw);
        assert_eq!(err.message(), "authpulse: option \"idleTimeout\" is not an authpulse option");
    }

    #[test]
    fn white_space_is_what_trim_removes() {
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            assert_eq!(is_white_space(c), c.is_whitespace(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn other_types_are_refused() {
        let raw = RawOptions { cross_tab: Raw::WrongType, ..RawOptions::default() };
        assert_eq!(error(raw).option, "crossTab");
        let raw = RawOptions { logout_url: Raw::Given(" ".into()), ..RawOptions::default() };
        assert_eq!(error(raw).option, "logoutUrl");
        let raw = RawOptions { renew_url: Raw::WrongType, ..RawOptions::default() };
        assert_eq!(error(raw).option, "renewUrl");
    }
}
