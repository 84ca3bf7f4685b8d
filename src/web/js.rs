//! JavaScript values the adapters hand out: errors with a stable `code` (callers branch on the
//! code, never on the message) and plain detail objects.

use js_sys::{Error, Reflect, TypeError};
use wasm_bindgen::{JsCast, JsValue};

/// A `TypeError` (bad input from the caller) with `code`.
pub(crate) fn type_error(code: &str, message: &str) -> JsValue {
    with_code(TypeError::new(message).unchecked_into(), code)
}

/// An `Error` (the call cannot be served) with `code`.
pub(crate) fn error(code: &str, message: &str) -> JsValue {
    with_code(Error::new(message), code)
}

/// What every call on a disposed client rejects or throws with.
pub(crate) fn disposed() -> JsValue {
    error("disposed", "authpulse: this AuthClient was disposed")
}

/// Sets a string property; a failure (a frozen object) only loses the property.
pub(crate) fn set(target: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(name), value);
}

fn with_code(error: Error, code: &str) -> JsValue {
    let error = JsValue::from(error);
    set(&error, "code", &JsValue::from_str(code));
    error
}
