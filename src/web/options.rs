//! Reads the JavaScript options object into [`RawOptions`]; validation is the core's
//! ([`Config::from_raw`]). URLs are parsed by the browser's own parser, as `fetch` will.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Url;

use crate::core::options::{ParsedOrigin, ParsedUrl, Raw, OPTION_NAMES};
use crate::core::{Config, RawOptions};

use super::js;

/// The validated configuration, or the `TypeError` that names the offending option.
pub(crate) fn config(options: Option<&JsValue>, page_origin: &str) -> Result<Config, JsValue> {
    let raw = match options {
        None => RawOptions::default(),
        Some(options) if options.is_object() && !Array::is_array(options) => read(options),
        Some(_) => {
            return Err(js::type_error(
                "invalid_option",
                "authpulse: options must be an object like { renewUrl: \"/auth/renew\" }",
            ))
        }
    };
    Config::from_raw(raw, page_origin).map_err(|error| {
        let exception = js::type_error("invalid_option", &error.message());
        js::set(&exception, "option", &JsValue::from_str(&error.option));
        exception
    })
}

fn read(options: &JsValue) -> RawOptions {
    RawOptions {
        renew_url: raw(options, "renewUrl", JsValue::as_string),
        token_endpoint: raw(options, "tokenEndpoint", JsValue::as_string),
        client_id: raw(options, "clientId", JsValue::as_string),
        revoke_url: raw(options, "revokeUrl", JsValue::as_string),
        idle_timeout_ms: raw(options, "idleTimeoutMs", JsValue::as_f64),
        warn_before_idle_ms: raw(options, "warnBeforeIdleMs", JsValue::as_f64),
        renew_before_expiry_ms: raw(options, "renewBeforeExpiryMs", JsValue::as_f64),
        max_session_ms: raw(options, "maxSessionMs", JsValue::as_f64),
        allowed_origins: raw(options, "allowedOrigins", origins),
        cross_tab: raw(options, "crossTab", JsValue::as_bool),
        logout_url: raw(options, "logoutUrl", JsValue::as_string),
        unknown: unknown_option(options),
    }
}

fn raw<T>(options: &JsValue, name: &str, read: impl Fn(&JsValue) -> Option<T>) -> Raw<T> {
    // A throwing getter (a Proxy) is a value of the wrong kind, not a crash.
    let Ok(value) = Reflect::get(options, &JsValue::from_str(name)) else {
        return Raw::WrongType;
    };
    if value.is_undefined() {
        Raw::Absent
    } else if value.is_null() {
        Raw::Null
    } else {
        read(&value).map_or(Raw::WrongType, Raw::Given)
    }
}

fn origins(value: &JsValue) -> Option<Vec<ParsedOrigin>> {
    let entries = value.dyn_ref::<Array>()?;
    Some(
        entries
            .iter()
            .map(|entry| ParsedOrigin(entry.as_string().and_then(|text| parse(&text))))
            .collect(),
    )
}

fn parse(text: &str) -> Option<ParsedUrl> {
    let url = Url::new(text).ok()?;
    let has_more_than_origin = url.pathname() != "/"
        || !url.search().is_empty()
        || !url.hash().is_empty()
        || !url.username().is_empty()
        || !url.password().is_empty()
        // `new URL("https://a.example?")` keeps an empty query that `search` hides.
        || text.bytes().any(|byte| byte == b'?' || byte == b'#');
    Some(ParsedUrl { protocol: url.protocol(), origin: url.origin(), has_more_than_origin })
}

fn unknown_option(options: &JsValue) -> Option<String> {
    let object = options.dyn_ref::<Object>()?;
    Object::keys(object)
        .iter()
        .filter_map(|key| key.as_string())
        .find(|key| !OPTION_NAMES.contains(&key.as_str()))
}
