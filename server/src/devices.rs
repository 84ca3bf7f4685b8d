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

/// The most combining marks (general category M) allowed in a row: enough for the marks of real
/// scripts (Vietnamese stacks two, Indic scripts three), too few to stack "Zalgo" text over the
/// lines around the name.
pub const MAX_COMBINING_MARKS_IN_A_ROW: usize = 4;

/// Characters that take a place but show nothing: Hangul fillers, the braille blank.
const BLANK_LOOKING: [char; 5] = ['\u{115F}', '\u{1160}', '\u{3164}', '\u{FFA0}', '\u{2800}'];

/// A name the user gave a device, trimmed; `Err` says what is wrong with it. Refused: no
/// visible character, more than [`MAX_DEVICE_NAME_CHARS`], control characters (Cc), invisible
/// formatting characters (Cf: zero-width spaces and joiners, bidirectional marks, embeddings,
/// overrides and isolates, the BOM, tag characters…), line and paragraph separators (Zl, Zp),
/// a leading combining mark, or more than [`MAX_COMBINING_MARKS_IN_A_ROW`] marks in a row. The
/// name is shown to the user among others: it must not hide, reorder or overrun its neighbours.
pub fn clean_device_name(name: &str) -> Result<String, String> {
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

    let name = name.trim();
    if name.is_empty() {
        return Err("deviceName must not be empty".into());
    }
    if name.chars().count() > MAX_DEVICE_NAME_CHARS {
        return Err(format!("deviceName must be at most {MAX_DEVICE_NAME_CHARS} characters"));
    }
    let mut marks_in_a_row = 0;
    let mut visible = false;
    for (index, c) in name.chars().enumerate() {
        let refused = match c.general_category() {
            GeneralCategory::Control => Some("control characters"),
            GeneralCategory::Format => Some("invisible formatting or bidirectional characters"),
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
                Some("line or paragraph separators")
            }
            _ => None,
        };
        if let Some(what) = refused {
            return Err(format!("deviceName must not contain {what} (U+{:04X})", c as u32));
        }
        if c.general_category_group() == GeneralCategoryGroup::Mark {
            if index == 0 {
                return Err("deviceName must not begin with a combining mark".into());
            }
            marks_in_a_row += 1;
            if marks_in_a_row > MAX_COMBINING_MARKS_IN_A_ROW {
                return Err(format!(
                    "deviceName must not have more than {MAX_COMBINING_MARKS_IN_A_ROW} \
                     combining marks in a row"
                ));
            }
        } else {
            marks_in_a_row = 0;
            visible |= !c.is_whitespace() && !BLANK_LOOKING.contains(&c);
        }
    }
    if !visible {
        return Err("deviceName must have a visible character".into());
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

    #[test]
    fn invisible_formatting_bidi_and_separator_characters_are_refused() {
        // Format (Cf), line (Zl) and paragraph (Zp) separators: zero-width characters, bidi
        // embeddings, overrides and isolates, invisible operators, the BOM, tag characters.
        for c in [
            '\u{AD}',
            '\u{61C}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2060}',
            '\u{2061}',
            '\u{2062}',
            '\u{2063}',
            '\u{2064}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{206F}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{2028}',
            '\u{2029}',
        ] {
            let name = format!("My{c}Laptop");
            let error = clean_device_name(&name).expect_err(&format!("U+{:04X}", c as u32));
            assert!(error.contains(&format!("U+{:04X}", c as u32)), "{error}");
        }
        // "Laptop" shown as "potpaL" by a right-to-left override.
        assert!(clean_device_name("\u{202E}potpaL").is_err());
    }

    #[test]
    fn a_name_needs_a_visible_character() {
        for blank in [
            "\u{3164}",         // Hangul filler
            "\u{115F}\u{1160}", // Hangul choseong and jungseong fillers
            "\u{FFA0}",         // halfwidth Hangul filler
            "\u{2800}\u{2800}", // braille blank
            "\u{3000}\u{2800}", // ideographic space, braille blank
            "\u{34F}",          // combining grapheme joiner
            "\u{FE0F}",         // variation selector 16
        ] {
            assert!(clean_device_name(blank).is_err(), "{blank:?}");
        }
        assert_eq!(clean_device_name("\u{2800}x"), Ok("\u{2800}x".to_owned()));
    }

    #[test]
    fn combining_marks_are_capped() {
        // Real text keeps its marks: Vietnamese, Hindi, Thai, an emoji with its presentation
        // selector, a keycap.
        for name in [
            "Điện thoại của Mỹ",
            "मेरा फ़ोन",
            "โทรศัพท์ของฉัน",
            "Laptop \u{2764}\u{FE0F}",
            "1\u{FE0F}\u{20E3}",
            "e\u{301}\u{302}\u{303}\u{304}",
        ] {
            assert_eq!(clean_device_name(name), Ok(name.to_owned()), "{name}");
        }
        // Text stacked with marks ("Zalgo") spills over the lines above and below it.
        let error = clean_device_name("e\u{301}\u{302}\u{303}\u{304}\u{305}").unwrap_err();
        assert!(error.contains("combining marks"), "{error}");
        assert!(clean_device_name(&format!("x{}", "\u{36B}".repeat(40))).is_err());
        // A name cannot begin with a mark: it would combine with what is shown before it.
        assert!(clean_device_name("\u{301}Laptop").is_err());
    }
}
