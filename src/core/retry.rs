//! What a response means for the request that got it (rules 5 and 6).

/// What a `WWW-Authenticate` header says about a bearer token (RFC 6750 section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// No header, a `Bearer` challenge without `error`, or `error="invalid_token"`: the token
    /// is missing, expired or revoked; a fresh one may succeed.
    TokenRejected,
    /// Any other challenge (`insufficient_scope`, `invalid_request`, another scheme only):
    /// a new token would not help.
    Other,
}

impl Challenge {
    /// Reads a `WWW-Authenticate` header value, or its absence. Never allocates, never panics:
    /// it walks the bytes (everything it compares is ASCII) with checked indexing only.
    pub fn parse(header: Option<&str>) -> Challenge {
        let Some(header) = header else {
            return Challenge::TokenRejected;
        };
        let mut scanner = Scanner { bytes: header.as_bytes(), at: 0 };
        let mut any_scheme = false;
        let mut in_bearer = false;
        // The verdict of the first Bearer challenge; a later one cannot contradict it.
        let mut bearer: Option<Challenge> = None;
        while scanner.at < scanner.bytes.len() {
            scanner.skip(|b| b == b' ' || b == b'\t' || b == b',');
            let Some(word) = scanner.token() else {
                // Not a token: skip one byte so that garbage cannot stall the loop.
                scanner.at += 1;
                continue;
            };
            scanner.skip(|b| b == b' ' || b == b'\t');
            if scanner.peek() == Some(b'=') {
                // `name=value` belongs to the current challenge, or `word` was token68 ("abc==").
                scanner.skip(|b| b == b' ' || b == b'\t' || b == b'=');
                let value = scanner.quoted().or_else(|| scanner.token()).unwrap_or_default();
                if in_bearer && bearer.is_none() && word.eq_ignore_ascii_case(b"error") {
                    bearer = Some(if value == b"invalid_token" {
                        Challenge::TokenRejected
                    } else {
                        Challenge::Other
                    });
                }
            } else {
                if in_bearer && bearer.is_none() {
                    bearer = Some(Challenge::TokenRejected);
                }
                any_scheme = true;
                in_bearer = word.eq_ignore_ascii_case(b"bearer");
            }
        }
        if in_bearer && bearer.is_none() {
            bearer = Some(Challenge::TokenRejected);
        }
        match bearer {
            Some(verdict) => verdict,
            None if any_scheme => Challenge::Other,
            None => Challenge::TokenRejected,
        }
    }
}

/// A tiny cursor over an RFC 7235 header value.
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip(&mut self, what: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&what) {
            self.at += 1;
        }
    }

    /// An RFC 7230 `token` (tchar+).
    fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        self.skip(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                        | b'/'
                )
        });
        self.bytes.get(start..self.at).filter(|word| !word.is_empty())
    }

    /// A quoted-string's raw content (escapes left in place; none occur in RFC 6750 codes).
    fn quoted(&mut self) -> Option<&'a [u8]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        while let Some(b) = self.peek() {
            match b {
                b'\\' if !escaped => escaped = true,
                b'"' if !escaped => break,
                _ => escaped = false,
            }
            self.at += 1;
        }
        let content = self.bytes.get(start..self.at);
        self.at += 1; // the closing quote, if any
        content
    }
}

/// What an API response tells the client about the request that got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseInfo<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<&'a str>,
    /// Whether the request carried a token the client attached.
    pub carried_token: bool,
    /// Whether this was already the retry.
    pub retried: bool,
    /// Whether the request can be sent again (its body is not a stream).
    pub replayable: bool,
    /// Whether the response's final URL (after redirects) is on an allowed origin: a 401 from
    /// anywhere else says nothing about the token (rule 5).
    pub final_url_allowed: bool,
}

/// The answer for a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Hand the response to the caller as it is.
    Return,
    /// The token was refused: get a valid token (renewing only if the refused one is still the
    /// current one) and send the request once more.
    Retry,
    /// The token was refused but the request cannot be replayed: hand the response back, and
    /// stop using the refused token.
    ReturnAndDropToken,
}

impl RetryDecision {
    /// The only status that can be decided anything but [`RetryDecision::Return`]: adapters
    /// may hand a response with any other status to the caller without asking.
    pub const UNAUTHORIZED: u16 = 401;

    /// Decides on a response; 403 and everything but a token-rejecting 401 pass through.
    pub fn for_response(info: &ResponseInfo<'_>) -> RetryDecision {
        if info.status != Self::UNAUTHORIZED
            || !info.carried_token
            || info.retried
            || !info.final_url_allowed
        {
            return RetryDecision::Return;
        }
        match (Challenge::parse(info.www_authenticate), info.replayable) {
            (Challenge::Other, _) => RetryDecision::Return,
            (Challenge::TokenRejected, true) => RetryDecision::Retry,
            (Challenge::TokenRejected, false) => RetryDecision::ReturnAndDropToken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_that_a_new_token_can_answer() {
        for header in [
            None,
            Some(""),
            Some("Bearer"),
            Some(r#"Bearer realm="api""#),
            Some(r#"Bearer error="invalid_token""#),
            Some(r#"Bearer realm="api", error="invalid_token", error_description="expired""#),
            Some(r#"bearer error=invalid_token"#),
            Some(r#"Basic realm="x", Bearer error="invalid_token""#),
            Some(r#"Bearer realm="a, b=\"c\"", error="invalid_token""#),
            Some(r#"Bearer, Basic realm="x""#),
        ] {
            assert_eq!(Challenge::parse(header), Challenge::TokenRejected, "{header:?}");
        }
    }

    #[test]
    fn challenges_that_a_new_token_cannot_answer() {
        for header in [
            r#"Bearer error="insufficient_scope", scope="admin""#,
            r#"Bearer error="invalid_request""#,
            r#"Basic realm="intranet""#,
            r#"Negotiate abc123=="#,
            r#"Bearer error="insufficient_scope", Bearer error="invalid_token""#,
            r#"DPoP error="invalid_token""#,
        ] {
            assert_eq!(Challenge::parse(Some(header)), Challenge::Other, "{header}");
        }
    }

    #[test]
    fn garbage_headers_terminate_and_do_not_panic() {
        for header in ["\"", "=", "Bearer error=\"", "é,=,\"\\", "Bearer error=", ",,,,", "\u{0}"]
        {
            let _ = Challenge::parse(Some(header));
        }
    }

    fn info(status: u16, header: Option<&str>) -> ResponseInfo<'_> {
        ResponseInfo {
            status,
            www_authenticate: header,
            carried_token: true,
            retried: false,
            replayable: true,
            final_url_allowed: true,
        }
    }

    #[test]
    fn only_a_token_rejecting_401_is_retried() {
        assert_eq!(RetryDecision::for_response(&info(401, None)), RetryDecision::Retry);
        assert_eq!(RetryDecision::for_response(&info(403, None)), RetryDecision::Return);
        assert_eq!(RetryDecision::for_response(&info(200, None)), RetryDecision::Return);
        assert_eq!(
            RetryDecision::for_response(&info(401, Some(r#"Bearer error="insufficient_scope""#))),
            RetryDecision::Return
        );
    }

    #[test]
    fn every_status_but_401_is_returned_as_is_whatever_the_rest() {
        let headers = [None, Some(""), Some("Bearer"), Some(r#"Bearer error="invalid_token""#)];
        for status in (0..=999).filter(|&status| status != RetryDecision::UNAUTHORIZED) {
            for header in headers {
                for bits in 0..16u8 {
                    let info = ResponseInfo {
                        status,
                        www_authenticate: header,
                        carried_token: bits & 1 != 0,
                        retried: bits & 2 != 0,
                        replayable: bits & 4 != 0,
                        final_url_allowed: bits & 8 != 0,
                    };
                    assert_eq!(
                        RetryDecision::for_response(&info),
                        RetryDecision::Return,
                        "{info:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_request_is_retried_once_only() {
        let second = ResponseInfo { retried: true, ..info(401, None) };
        assert_eq!(RetryDecision::for_response(&second), RetryDecision::Return);
    }

    #[test]
    fn a_request_without_our_token_is_never_retried() {
        let foreign = ResponseInfo { carried_token: false, ..info(401, None) };
        assert_eq!(RetryDecision::for_response(&foreign), RetryDecision::Return);
    }

    #[test]
    fn a_401_redirected_from_outside_the_allowed_origins_is_returned_as_is() {
        let redirected = ResponseInfo { final_url_allowed: false, ..info(401, None) };
        assert_eq!(RetryDecision::for_response(&redirected), RetryDecision::Return);
    }

    #[test]
    fn a_streamed_body_is_not_replayed() {
        let stream = ResponseInfo { replayable: false, ..info(401, None) };
        assert_eq!(RetryDecision::for_response(&stream), RetryDecision::ReturnAndDropToken);
    }
}
