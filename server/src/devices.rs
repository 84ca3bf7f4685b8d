//! Device names for sessions: "Chrome on Linux", "Safari on iPad", made from the `User-Agent` at
//! sign-in, so that a user looking at their sessions recognises each one; the user may rename it
//! ("Maryo's iPad").
//!
//! The names are for people, not for decisions: nothing in the server trusts them, and a client
//! can send any User-Agent it likes.

/// The longest device name, in characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 64;

/// The name given to a session whose sign-in carried no User-Agent.
pub const UNKNOWN_DEVICE: &str = "Unknown device";

/// Browser tokens of the User-Agent, most specific first: Edge, Opera and Samsung Internet also
/// say "Chrome" and "Safari"; Chrome also says "Safari".
const BROWSERS: [(&str, &str); 11] = [
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chrome"),
    ("Version/", "Safari"),
];

/// Platform tokens, most specific first: an iPad's Safari says "Mac OS X", Android says "Linux".
const PLATFORMS: [(&str, &str); 9] = [
    ("iPad", "iPad"),
    ("iPhone", "iPhone"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("X11", "Linux"),
];

/// A device name for a `User-Agent` header value: "<browser> on <platform>", the browser alone
/// when the platform is unknown, the client's product name for non-browsers (`curl/8.5.0`:
/// "curl"), or [`UNKNOWN_DEVICE`].
pub fn device_name(user_agent: Option<&str>) -> String {
    let Some(user_agent) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return UNKNOWN_DEVICE.to_owned();
    };
    let found = |table: &[(&str, &'static str)]| {
        table.iter().find(|(token, _)| user_agent.contains(token)).map(|(_, name)| *name)
    };
    // Safari's "Version/" only counts beside "Safari/" (other WebKit clients carry neither).
    let browser = found(&BROWSERS)
        .filter(|name| *name != "Safari" || user_agent.contains("Safari/"))
        .map(str::to_owned)
        .or_else(|| product_name(user_agent));
    match (browser, found(&PLATFORMS)) {
        (Some(browser), Some(platform)) => format!("{browser} on {platform}"),
        (Some(browser), None) => browser,
        (None, Some(platform)) => format!("Browser on {platform}"),
        (None, None) => UNKNOWN_DEVICE.to_owned(),
    }
}

/// The product of a non-browser User-Agent (`curl/8.5.0` → `curl`), if it looks like one.
fn product_name(user_agent: &str) -> Option<String> {
    let (product, _) = user_agent.split_once('/')?;
    let plain = !product.is_empty()
        && product.len() <= 32
        && product != "Mozilla"
        && product.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plain.then(|| product.to_owned())
}

/// A name the user gave a device, trimmed; `Err` says what is wrong with it.
pub fn clean_device_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("deviceName must not be empty".into());
    }
    if name.chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(format!("deviceName must be at most {MAX_DEVICE_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("deviceName must not contain control characters".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_and_platforms_of_real_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/126.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPad",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
                "Chrome on iPhone",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.56",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 \
                 Firefox/127.0",
                "Firefox on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.6478.71 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
        ];
        for (user_agent, name) in cases {
            assert_eq!(device_name(Some(user_agent)), name, "{user_agent}");
        }
    }

    #[test]
    fn other_clients_and_no_user_agent() {
        assert_eq!(device_name(Some("curl/8.5.0")), "curl");
        assert_eq!(device_name(None), UNKNOWN_DEVICE);
        assert_eq!(device_name(Some("   ")), UNKNOWN_DEVICE);
        assert_eq!(device_name(Some("Mozilla/5.0 (compatible)")), UNKNOWN_DEVICE);
        assert_eq!(device_name(Some("Mozilla/5.0 (Windows NT 10.0)")), "Browser on Windows");
        assert_eq!(device_name(Some("<script>alert(1)</script>/1")), UNKNOWN_DEVICE);
    }

    #[test]
    fn a_given_name_is_trimmed_and_bounded() {
        assert_eq!(clean_device_name("  Maryo's iPad "), Ok("Maryo's iPad".to_owned()));
        assert!(clean_device_name(" ").is_err());
        assert!(clean_device_name("a\nb").is_err());
        assert_eq!(clean_device_name(&"é".repeat(64)).map(|n| n.chars().count()), Ok(64));
        assert!(clean_device_name(&"é".repeat(65)).is_err());
    }
}
