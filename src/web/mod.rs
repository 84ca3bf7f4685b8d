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
