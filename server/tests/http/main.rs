//! End-to-end tests of the reference server over real HTTP: the server runs in-process on an
//! ephemeral loopback port with an in-memory database (or a temporary file) and a manual clock
//! that each test moves itself, so hours of session life take microseconds and nothing sleeps.

mod bad_input;
mod bearer;
mod binary;
mod common;
mod cors;
mod devices;
mod password;
mod persistence;
mod refresh;
mod session;
mod short_tokens;
mod sign_in_limits;
mod sign_in_rules;
mod test_controls;
