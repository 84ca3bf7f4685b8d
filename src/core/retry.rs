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
    /// Reads a `WWW-Authenticate` header value, or its absence. Never allocates.
    pub fn parse(header: Option<&str>) -> Challenge {
        let Some(header) = header else {
            return Challenge::TokenRejected;
        };
        let mut scanner = Scanner { rest: header };
        let mut any_scheme = false;
        let mut in_bearer = false;
        // The verdict of the first Bearer challenge; a later one cannot contradict it.
        let mut bearer: Option<Challenge> = None;
        loop {
            scanner.skip(|c| c == ' ' || c == '\t' || c == ',');
            let Some(word) = scanner.token() else {
                // Not a token: skip one character so that garbage cannot stall the loop.
                if scanner.bump().is_none() {
                    break;
                }
                continue;
            };
            scanner.skip(|c| c == ' ' || c == '\t');
            if scanner.eat('=') {
                // `name=value` belongs to the current challenge, or `word` was token68 ("abc==").
                scanner.skip(|c| c == ' ' || c == '\t' || c == '=');
                let value = scanner.quoted().or_else(|| scanner.token()).unwrap_or("");
                if in_bearer && bearer.is_none() && word.eq_ignore_ascii_case("error") {
                    bearer = Some(if value == "invalid_token" {
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
                in_bearer = word.eq_ignore_ascii_case("bearer");
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
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    fn skip(&mut self, what: impl Fn(char) -> bool) {
        self.rest = self.rest.trim_start_matches(what);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        self.rest = chars.as_str();
        Some(c)
    }

    /// An RFC 7230 `token` (tchar+).
    fn token(&mut self) -> Option<&'a str> {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~/".contains(c)))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return None;
        }
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(word)
    }

    /// A quoted-string's raw content (escapes left in place; none occur in RFC 6750 codes).
    fn quoted(&mut self) -> Option<&'a str> {
        let body = self.rest.strip_prefix('"')?;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    self.rest = &body[i + 1..];
                    return Some(&body[..i]);
                }
                _ => escaped = false,
            }
        }
        self.rest = "";
        Some(body)
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
    /// Decides on a response; 403 and everything but a token-rejecting 401 pass through.
    pub fn for_response(info: &ResponseInfo<'_>) -> RetryDecision {
        if info.status != 401 || !info.carried_token || info.retried {
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
    fn a_streamed_body_is_not_replayed() {
        let stream = ResponseInfo { replayable: false, ..info(401, None) };
        assert_eq!(RetryDecision::for_response(&stream), RetryDecision::ReturnAndDropToken);
    }
}
