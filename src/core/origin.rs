//! Which URLs may carry the bearer token (rule 8).
//!
//! Parsing URLs is the browser's job (`URL` resolves relative, protocol-relative and userinfo
//! URLs exactly as `fetch` will); this module decides on the parts the browser hands back.

use alloc::string::String;
use alloc::vec::Vec;

/// The serialized origins (`https://api.example.com`, `http://localhost:8080`) that may receive
/// the token. Nothing else ever does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Origins as the browser serializes them (`URL.origin`); validated by `options`.
    pub fn new(origins: Vec<String>) -> Self {
        AllowedOrigins(origins)
    }

    /// Whether a request to a URL with this `protocol` (`"https:"`) and serialized `origin` may
    /// carry the token. Only http(s) URLs qualify: `data:`, `blob:` and `file:` URLs never leave
    /// for a server that could check a token, and opaque origins serialize as `"null"`.
    pub fn allows(&self, protocol: &str, origin: &str) -> bool {
        matches!(protocol, "https:" | "http:")
            && origin != "null"
            && self.0.iter().any(|allowed| allowed == origin)
    }

    /// The origins, in the order given.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> AllowedOrigins {
        AllowedOrigins::new(vec!["https://app.example".into(), "http://localhost:8080".into()])
    }

    #[test]
    fn only_listed_http_origins_carry_the_token() {
        let allowed = app();
        assert!(allowed.allows("https:", "https://app.example"));
        assert!(allowed.allows("http:", "http://localhost:8080"));
        assert!(!allowed.allows("https:", "https://app.example:8443"), "other port");
        assert!(!allowed.allows("http:", "http://app.example"), "other scheme");
        assert!(!allowed.allows("https:", "https://api.app.example"), "subdomain");
        assert!(!allowed.allows("https:", "https://evil.example"), "userinfo trick resolves here");
        assert!(!allowed.allows("data:", "null"), "data: URL");
        assert!(!allowed.allows("blob:", "https://app.example"), "blob: URL of the app itself");
    }

    #[test]
    fn an_opaque_origin_is_never_allowed_even_if_listed() {
        let allowed = AllowedOrigins::new(vec!["null".into()]);
        assert!(!allowed.allows("https:", "null"));
    }
}
