//! Tab messages as they travel on the app's BroadcastChannel: structured-clonable arrays, the one
//! encoding both drivers speak (the npm package's `Engine` and the Rust driver `web`), so that a
//! tab running either shares one session with a tab running the other.
//!
//! The channel is named `authpulse/1 {renewUrl}` (or `{tokenEndpoint}`, as configured, not
//! resolved), where `1` is the version of this encoding; `js/index.js` builds the same name. The
//! Web Locks a driver takes are named after the channel (`js/tabs.js`, `src/web/tabs.rs`).

use alloc::string::String;

use js_sys::{Array, JsString};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::token::MAX_TOKEN_LEN;
use crate::core::{SharedToken, TabMessage, TeardownReason};

/// Tab message kinds, the first element of a message array.
const TAB_ACTIVITY: f64 = 1.0;
const TAB_TOKEN: f64 = 2.0;
const TAB_TEARDOWN: f64 = 3.0;
const TAB_HELLO: f64 = 4.0;

/// The latest date a JavaScript `Date` can hold: a tab message's dates beyond it (or
/// negative, or not numbers) make the message malformed.
const LAST_DATE_MS: f64 = 8.64e15;

/// The channel of the tabs that renew at `endpoint` (the configured renew URL or token
/// endpoint).
#[cfg(feature = "web")]
pub(crate) fn channel_name(endpoint: &str) -> String {
    alloc::format!("authpulse/1 {endpoint}")
}

/// A tab message as structured-clonable data: `[1, at]`, `[2, accessToken, receivedAt,
/// expiresAt, refreshToken | null, refreshSerial, sessionTag, signedInAt, lastActivity]`,
/// `[3, reason]` teardown (reason codes: `reason_code`), `[4]` hello. Times are wall-clock
/// dates.
pub(crate) fn tab_message_value(message: TabMessage) -> JsValue {
    let number = |value: u64| JsValue::from_f64(value as f64);
    let array = Array::new();
    match message {
        TabMessage::Activity { at } => {
            array.push(&JsValue::from_f64(TAB_ACTIVITY));
            array.push(&number(at));
        }
        TabMessage::Token(shared) => {
            array.push(&JsValue::from_f64(TAB_TOKEN));
            array.push(&JsValue::from_str(&shared.access_token));
            array.push(&number(shared.received_at));
            array.push(&number(shared.expires_at));
            array.push(&shared.refresh_token.as_deref().map_or(JsValue::NULL, JsValue::from_str));
            array.push(&number(shared.refresh_serial));
            array.push(&number(shared.session_tag));
            array.push(&number(shared.signed_in_at));
            array.push(&number(shared.last_activity));
        }
        TabMessage::Teardown { reason } => {
            array.push(&JsValue::from_f64(TAB_TEARDOWN));
            array.push(&JsValue::from_f64(reason_code(reason)));
        }
        TabMessage::Hello => {
            array.push(&JsValue::from_f64(TAB_HELLO));
        }
    }
    array.into()
}

/// Reads what `tab_message_value` wrote; `None` for anything else (another version of the
/// package, a bug, or a stray message on the channel): dates that are not numbers between 0
/// and the latest `Date`, tokens that are not strings.
pub(crate) fn tab_message(value: &JsValue) -> Option<TabMessage> {
    let array = value.dyn_ref::<Array>()?;
    let date = |index: u32| {
        array
            .get(index)
            .as_f64()
            .filter(|&at| (0.0..=LAST_DATE_MS).contains(&at))
            .map(|at| at as u64)
    };
    let kind = array.get(0).as_f64()?;
    if kind == TAB_ACTIVITY {
        Some(TabMessage::Activity { at: date(1)? })
    } else if kind == TAB_TOKEN {
        let refresh_token = array.get(4);
        let refresh_token = if refresh_token.is_null() {
            None
        } else {
            Some(text(&refresh_token, MAX_TOKEN_LEN as u32)?)
        };
        Some(TabMessage::Token(SharedToken {
            access_token: text(&array.get(1), MAX_TOKEN_LEN as u32)?,
            received_at: date(2)?,
            expires_at: date(3)?,
            refresh_token,
            refresh_serial: date(5)?,
            session_tag: date(6)?,
            signed_in_at: date(7)?,
            last_activity: date(8)?,
        }))
    } else if kind == TAB_TEARDOWN {
        let code = array.get(1).as_f64()?;
        TEARDOWN_REASONS
            .iter()
            .copied()
            .find(|&reason| reason_code(reason) == code)
            .map(|reason| TabMessage::Teardown { reason })
    } else if kind == TAB_HELLO {
        Some(TabMessage::Hello)
    } else {
        None
    }
}

/// A static, not a const: the array is read in place rather than built on the stack.
static TEARDOWN_REASONS: [TeardownReason; 5] = [
    TeardownReason::Idle,
    TeardownReason::Session,
    TeardownReason::MaxSession,
    TeardownReason::Logout,
    TeardownReason::Remote,
];

fn reason_code(reason: TeardownReason) -> f64 {
    match reason {
        TeardownReason::Idle => 1.0,
        TeardownReason::Session => 2.0,
        TeardownReason::MaxSession => 3.0,
        TeardownReason::Logout => 4.0,
        TeardownReason::Remote => 5.0,
    }
}

/// A string, if `value` is one of at most `max` UTF-16 units; a longer one is copied only up
/// to `max + 1` units, enough for the core to see that it is too long.
#[inline(never)]
pub(crate) fn text(value: &JsValue, max: u32) -> Option<String> {
    let string = value.dyn_ref::<JsString>()?;
    if string.length() > max {
        String::from(string.slice(0, max + 1)).into()
    } else {
        value.as_string()
    }
}
