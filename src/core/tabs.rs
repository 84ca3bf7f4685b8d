//! What the tabs of one app tell each other (`crossTab`, on by default).
//!
//! Each tab runs its own [`Session`](super::Session); they stay in step by telling each other
//! three things over the same-origin channel: real activity (so a user busy in one tab keeps
//! every tab signed in), every new token (so one renewal serves all tabs, and a rotated refresh
//! token is never sent again by a tab that missed the rotation), and every teardown (so signing
//! out, timing out or losing the session happens everywhere at once). Which tab sends the one
//! renewal is the adapter's lock; whether a renewal is still needed once a tab holds it is the
//! session's: a token from another tab ends this tab's renewal.

use alloc::string::String;

use super::session::TeardownReason;
use super::time::SECOND_MS;
use super::token::{is_bearer_token, is_refresh_token};

/// Activity is told to the other tabs at most this often while the user is busy; the last
/// activity before a pause is told this long after it at the latest. The other tabs' idle
/// deadlines lag by no more, a small fraction of any idle timeout.
pub const SHARE_ACTIVITY_EVERY_MS: u64 = 5 * SECOND_MS;

/// An idle teardown drops the tokens at once, but a tab cannot know that it saw all activity:
/// it may have been frozen (a background tab, the back/forward cache) or asleep while the user
/// was busy in another tab whose messages it has not seen yet. So it says hello and ends the
/// session on the server only if no tab answers with a live session within this time.
pub const CONFIRM_IDLE_MS: u64 = 2 * SECOND_MS;

/// How long `start()` waits for another tab to answer its hello when it has no way of its own
/// to resume (the refresh-token strategy: refresh tokens live in memory only).
pub const JOIN_WAIT_MS: u64 = SECOND_MS;

/// A message from one tab's session to the others. Times are wall-clock dates (ms since the
/// Unix epoch), the one clock tabs share; the receiving tab takes a date later than its own now
/// as now ([`Instant::dated`](super::Instant::dated), contract rule 12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TabMessage {
    /// Real user activity in the sending tab, at this date.
    Activity {
        /// When.
        at: u64,
    },
    /// The sending tab got a new token (sign-in, resume or renewal), or a rotated refresh
    /// token: every tab uses them.
    Token(SharedToken),
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

/// A session's tokens as one tab tells the others.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedToken {
    /// The access token.
    pub access_token: String,
    /// When the sending tab received it, and when it expires (dates).
    pub received_at: u64,
    /// See `received_at`.
    pub expires_at: u64,
    /// The newest refresh token the sending tab knows, if any.
    pub refresh_token: Option<String>,
    /// How many rotations of the session's refresh token the sending tab has seen: of two
    /// refresh tokens of one session, the one with more is newer.
    pub refresh_serial: u64,
    /// Names the session: the date of the sign-in by the clock of the tab that signed in,
    /// passed on unchanged.
    pub session_tag: u64,
    /// When the session began, for `maxSessionMs` (a date).
    pub signed_in_at: u64,
    /// The sending tab's last real activity (a date).
    pub last_activity: u64,
}

impl core::fmt::Debug for SharedToken {
    // Tokens are secrets: they never reach logs through Debug.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedToken")
            .field("received_at", &self.received_at)
            .field("expires_at", &self.expires_at)
            .field("refresh_serial", &self.refresh_serial)
            .field("session_tag", &self.session_tag)
            .field("signed_in_at", &self.signed_in_at)
            .field("last_activity", &self.last_activity)
            .finish_non_exhaustive()
    }
}

impl SharedToken {
    /// Whether the message holds what a token response could have: an RFC 6750 access token,
    /// a refresh token of an acceptable size, an expiry not before the receipt. Another tab
    /// may run another version of the app, or a bug: anything else is ignored.
    pub fn is_valid(&self) -> bool {
        is_bearer_token(&self.access_token)
            && self.refresh_token.as_deref().map_or(true, is_refresh_token)
            && self.expires_at >= self.received_at
    }
}
