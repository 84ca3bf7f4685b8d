//! What the tabs of one app tell each other (`crossTab`, on by default).
//!
//! Each tab runs its own [`Session`](super::Session); they stay in step by telling each other
//! three things over the same-origin channel: real activity (so a user busy in one tab keeps
//! every tab signed in), every new token (so one renewal serves all tabs, and a rotated refresh
//! token is never sent again by a tab that missed the rotation), and every teardown (so signing
//! out, timing out or losing the session happens everywhere at once). Which tab sends the one
//! renewal is the adapter's lock; whether a renewal is still needed once a tab holds it is the
//! session's: a token from another tab ends this tab's renewal.

use super::session::TeardownReason;
use super::time::{Instant, SECOND_MS};
use super::token::Token;

/// Activity is told to the other tabs at most this often while the user is busy; the last
/// activity before a pause is told this long after it at the latest. The other tabs' idle
/// deadlines lag by no more, a small fraction of any idle timeout.
pub const SHARE_ACTIVITY_EVERY_MS: u64 = 5 * SECOND_MS;

/// An idle teardown drops the tokens at once, but a tab cannot know that it saw all activity:
/// it may have been frozen (a background tab, the back/forward cache) or asleep while the user
/// was busy in another tab whose messages it has not seen yet. So it says hello and ends the
/// session on the server only if no tab answers with a live session within this time.
pub const CONFIRM_IDLE_MS: u64 = 2 * SECOND_MS;

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
    /// The sending tab tore down its tokens. A logout or a rejected session is followed
    /// everywhere (reason `remote`); an idle or capped session only makes the others check
    /// their own deadlines, which are the same unless they know of later activity.
    Teardown {
        /// Why the sending tab tore down.
        reason: TeardownReason,
    },
    /// The sending tab is starting (`start()`): a tab that is signed in answers with its token,
    /// so that a new tab joins the session without a renewal of its own where it can.
    Hello,
}
