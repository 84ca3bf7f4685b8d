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
    let array = Array::new();
    match message {
        TabMessage::Activity { at } => {
            push_number(&array, TAB_ACTIVITY);
            push_number(&array, at as f64);
        }
        TabMessage::Token(shared) => {
            push_number(&array, TAB_TOKEN);
            push_text(&array, Some(&shared.access_token));
            push_number(&array, shared.received_at as f64);
            push_number(&array, shared.expires_at as f64);
            push_text(&array, shared.refresh_token.as_deref());
            push_number(&array, shared.refresh_serial as f64);
            push_number(&array, shared.session_tag as f64);
            push_number(&array, shared.signed_in_at as f64);
            push_number(&array, shared.last_activity as f64);
        }
        TabMessage::Teardown { reason } => {
            push_number(&array, TAB_TEARDOWN);
            push_number(&array, reason_code(reason));
        }
        TabMessage::Hello => {
            push_number(&array, TAB_HELLO);
        }
    }
    array.into()
}

/// Reads what `tab_message_value` wrote; `None` for anything else (another version of the
/// package, a bug, or a stray message on the channel): dates that are not numbers between 0
/// and the latest `Date`, tokens that are not strings.
pub(crate) fn tab_message(value: &JsValue) -> Option<TabMessage> {
    let array = value.dyn_ref::<Array>()?;
    let date = |index: u32| date(array, index);
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
        // Reason `code` is element `code - 1` of TEARDOWN_REASONS (a whole number only).
        let code = array.get(1).as_f64()?;
        let whole = code as usize;
        let reason =
            *TEARDOWN_REASONS.get(whole.wrapping_sub(1)).filter(|_| whole as f64 == code)?;
        Some(TabMessage::Teardown { reason })
    } else if kind == TAB_HELLO {
        Some(TabMessage::Hello)
    } else {
        None
    }
}

/// Element `index` of `array` as a date: a number between 0 and the latest `Date`. One copy of
/// the check for the seven dates of a message.
#[inline(never)]
fn date(array: &Array, index: u32) -> Option<u64> {
    array.get(index).as_f64().filter(|&at| (0.0..=LAST_DATE_MS).contains(&at)).map(|at| at as u64)
}

/// The teardown reasons in the order of their codes (`reason_code`), from 1. A static, not a
/// const: the array is read in place rather than built on the stack.
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

/// Appends a number to `array`: one copy of the conversion for every element written.
#[inline(never)]
pub(crate) fn push_number(array: &Array, value: f64) {
    array.push(&JsValue::from_f64(value));
}

/// Appends a string to `array`, or `null` for `None`.
#[inline(never)]
pub(crate) fn push_text(array: &Array, value: Option<&str>) {
    array.push(&value.map_or(JsValue::NULL, JsValue::from_str));
}

/// A string, if `value` is one of at most `max` UTF-16 units; a longer one is copied only up
/// to `max + 1` units, enough for the core to see that it is too long.
#[inline(never)]
pub(crate) fn text(value: &JsValue, max: u32) -> Option<String> {
    let string = value.dyn_ref::<JsString>()?;
    // `slice` is looked up on `String.prototype`, which a page can replace: called only for a
    // string too long anyway, as `length` is not. (`as_string`, not `String::from`: no
    // `unwrap_throw` should it give something else.)
    if string.length() > max {
        string.slice(0, max + 1).as_string()
    } else {
        value.as_string()
    }
}
