//! What the tabs of one app tell each other (`crossTab`, on by default).
//!
//! Each tab runs its own [`Session`](super::Session); they stay in step by telling each other
//! three things over the same-origin channel: real activity (so a user busy in one tab keeps
//! every tab signed in), every new token (so one renewal serves all tabs, and a rotated refresh
//! token is never sent again by a tab that missed the rotation), and every teardown (so signing
//! out, timing out or losing the session happens everywhere at once). Which tab sends the one
//! renewal is the adapter's lock; whether a renewal is still needed once a tab holds it is the
//! session's: a token from another tab ends this tab's renewal.

use super::time::{Instant, SECOND_MS};
use super::token::Token;

/// Activity is told to the other tabs at most this often while the user is busy; the last
/// activity before a pause is told this long after it at the latest. The other tabs' idle
/// deadlines lag by no more, a small fraction of any idle timeout.
pub const SHARE_ACTIVITY_EVERY_MS: u64 = 5 * SECOND_MS;

/// A message from one tab's session to the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TabMessage {
    /// Real user activity in the sending tab, at this time.
    Activity {
        /// When.
        at: Instant,
    },
    /// The sending tab got a new token (sign-in, resume or renewal): every tab uses it.
    Token {
        /// The token, with the times it was received and expires at by the (shared) local clock.
        token: Token,
        /// When the session began, for `maxSessionMs`.
        signed_in_at: Instant,
        /// The sending tab's last real activity.
        last_activity: Instant,
    },
    /// The sending tab tore down its tokens (idle, logout, rejected session, session cap):
    /// the others follow with reason `remote`.
    Teardown,
    /// The sending tab is starting (`start()`): a tab that is signed in answers with its token,
    /// so that a new tab joins the session without a renewal of its own where it can.
    Hello,
}
