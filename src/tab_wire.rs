//! Tab messages as they travel on the app's BroadcastChannel: structured-clonable arrays, the one
//! encoding both drivers speak (the npm package's `Engine` and the Rust driver `web`), so that a
//! tab running either shares one session with a tab running the other.
//!
//! The channel is named `authpulse/1 {renewUrl}` (or `{tokenEndpoint}`, as configured, not
//! resolved), where `1` is the version of this encoding; `js/index.js` builds the same name. The
//! Web Locks a driver takes are named after the channel (`js/tabs.js`, `src/web/tabs.rs`).

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::{Instant, TabMessage, TeardownReason, Token};

/// Tab message kinds, the first element of a message array.
const TAB_ACTIVITY: f64 = 1.0;
const TAB_TOKEN: f64 = 2.0;
const TAB_TEARDOWN: f64 = 3.0;
const TAB_HELLO: f64 = 4.0;

/// The channel of the tabs that renew at `endpoint` (the configured renew URL or token
/// endpoint).
#[cfg(feature = "web")]
pub(crate) fn channel_name(endpoint: &str) -> alloc::string::String {
    alloc::format!("authpulse/1 {endpoint}")
}

/// A tab message as structured-clonable data: `[1, at]`, `[2, accessToken, receivedAt,
/// expiresAt, refreshToken | null, signedInAt, lastActivity]`, `[3, reason]` teardown (reason
/// codes: `reason_code`), `[4]` hello. Times are ms since the epoch.
pub(crate) fn tab_message_value(message: TabMessage) -> JsValue {
    let time = |at: Instant| JsValue::from_f64(at.as_millis() as f64);
    let array = Array::new();
    match message {
        TabMessage::Activity { at } => {
            array.push(&JsValue::from_f64(TAB_ACTIVITY));
            array.push(&time(at));
        }
        TabMessage::Token { token, signed_in_at, last_activity } => {
            array.push(&JsValue::from_f64(TAB_TOKEN));
            array.push(&JsValue::from_str(&token.access_token));
            array.push(&time(token.received_at));
            array.push(&time(token.expires_at));
            array.push(&token.refresh_token.as_deref().map_or(JsValue::NULL, JsValue::from_str));
            array.push(&time(signed_in_at));
            array.push(&time(last_activity));
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
/// package, or a stray message on the channel).
pub(crate) fn tab_message(value: &JsValue) -> Option<TabMessage> {
    let array = value.dyn_ref::<Array>()?;
    let time = |index: u32| array.get(index).as_f64().map(Instant::from_js_millis);
    let kind = array.get(0).as_f64()?;
    if kind == TAB_ACTIVITY {
        Some(TabMessage::Activity { at: time(1)? })
    } else if kind == TAB_TOKEN {
        let access_token = array.get(1).as_string().filter(|token| !token.is_empty())?;
        let token = Token {
            access_token,
            received_at: time(2)?,
            expires_at: time(3)?,
            refresh_token: array.get(4).as_string(),
        };
        Some(TabMessage::Token { token, signed_in_at: time(5)?, last_activity: time(6)? })
    } else if kind == TAB_TEARDOWN {
        let code = array.get(1).as_f64()?;
        TEARDOWN_REASONS
            .into_iter()
            .find(|&reason| reason_code(reason) == code)
            .map(|reason| TabMessage::Teardown { reason })
    } else if kind == TAB_HELLO {
        Some(TabMessage::Hello)
    } else {
        None
    }
}

const TEARDOWN_REASONS: [TeardownReason; 5] = [
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
