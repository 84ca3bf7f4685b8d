//! Browser adapters: each turns one kind of browser resource into core inputs, or core commands
//! into effects, and holds no policy. Every resource is owned by a value whose `Drop` releases it.
//!
//! Cross-tab sharing (BroadcastChannel and Web Locks) will be one more adapter here, feeding
//! [`crate::core::Session::handle_remote_teardown`] and shared activity through
//! [`driver::Driver::input`] like every other source of inputs.

pub(crate) mod activity;
pub(crate) mod driver;
pub(crate) mod events;
pub(crate) mod http;
pub(crate) mod js;
pub(crate) mod options;
pub(crate) mod timer;

use std::future::Future;
use std::pin::Pin;

use js_sys::Promise;
use wasm_bindgen::JsValue;

/// Runs `task` to completion in the background. Every background task goes through this one
/// instantiation of the executor's generic code, which is a large part of the module's size.
pub(crate) fn spawn(task: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task);
}

/// A promise for `task`, through one instantiation of the promise machinery (see [`spawn`]).
pub(crate) fn promise(task: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(task)
}
