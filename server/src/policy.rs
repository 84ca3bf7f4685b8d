//! The server's own session rules: a sliding idle timeout and an absolute lifetime per session,
//! and per user, a sign-in with a password at least every so often and the "reauth required"
//! flag.
//!
//! The client tears its tokens down after real inactivity, but a server cannot trust a client to
//! do so; it keeps the same rule on its side, fed by the `idleMs` the client reports. The user
//! rules are checked where a session gets new tokens (renewal, refresh-token grant), not on every
//! API call: that is where a lookup of the user can be paid for.

use crate::clock::Millis;
use crate::store::{Session, UserRecord};

/// Why a session ended. Stored with the session so an operator can see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// No user activity for the idle timeout.
    Idle,
    /// The absolute lifetime from sign-in passed.
    Lifetime,
    /// The user signed out.
    Logout,
    /// Revoked on the server (an operator, or the demo's button).
    Revoked,
    /// A refresh token was used twice: the family is presumed stolen (RFC 9700 section 4.14.2).
    RefreshTokenReuse,
    /// The same browser signed in again; the old session must not live on beside the new one.
    Replaced,
    /// The user changed the password from another session.
    PasswordChanged,
    /// The user's last sign-in with a password is older than the server's maximum
    /// authentication age.
    LoginRequired,
    /// An administrator required a fresh sign-in after the session began.
    ReauthRequired,
}

impl EndReason {
    /// The name stored in the database and shown in error descriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Lifetime => "lifetime",
            Self::Logout => "logout",
            Self::Revoked => "revoked",
            Self::RefreshTokenReuse => "refresh_token_reuse",
            Self::Replaced => "replaced",
            Self::PasswordChanged => "password_changed",
            Self::LoginRequired => "login_required",
            Self::ReauthRequired => "reauth_required",
        }
    }
}

/// The idle and absolute limits of a session.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Longest allowed time without user activity.
    pub idle_timeout_ms: Millis,
    /// Longest allowed time from sign-in.
    pub lifetime_ms: Millis,
}

impl SessionPolicy {
    /// Whether a session created at `created_ms`, whose user was last active at
    /// `last_activity_ms`, may be renewed at `now_ms`; `Err` says why not.
    pub fn check(
        &self,
        now_ms: Millis,
        created_ms: Millis,
        last_activity_ms: Millis,
    ) -> Result<(), EndReason> {
        // The deadline itself is already too late, as on the client: it tears down *at* it.
        if now_ms >= created_ms.saturating_add(self.lifetime_ms) {
            return Err(EndReason::Lifetime);
        }
        if now_ms >= last_activity_ms.saturating_add(self.idle_timeout_ms) {
            return Err(EndReason::Idle);
        }
        Ok(())
    }

    /// The last activity a renewal at `now_ms` records: what the client reported (`idleMs` ago),
    /// never earlier than what is already known. Without a report the renewal itself is the
    /// evidence of activity, because the client renews only for an active user.
    pub fn last_activity(
        &self,
        now_ms: Millis,
        known_ms: Millis,
        reported_idle_ms: Option<Millis>,
    ) -> Millis {
        match reported_idle_ms {
            Some(idle_ms) => now_ms.saturating_sub(idle_ms).clamp(known_ms, now_ms.max(known_ms)),
            None => now_ms.max(known_ms),
        }
    }

    /// When a session created at `created_ms` ends whatever happens.
    pub fn absolute_end(&self, created_ms: Millis) -> Millis {
        created_ms.saturating_add(self.lifetime_ms)
    }
}

/// The per-user rules, checked at every renewal and refresh-token grant.
#[derive(Clone, Copy, Debug)]
pub struct SignInPolicy {
    /// Longest allowed time since the user's last sign-in with a password, on any device
    /// (OpenID Connect's `max_age` against `auth_time`).
    pub max_auth_age_ms: Millis,
}

impl SignInPolicy {
    /// Whether `session` of a user in state `user` may get new tokens at `now_ms`; `Err` is
    /// [`EndReason::ReauthRequired`] when an administrator required a fresh sign-in after the
    /// session began, [`EndReason::LoginRequired`] when the user's last sign-in is
    /// `max_auth_age_ms` old or more. Without a stored user (a session from before users were
    /// stored) the session's own sign-in counts.
    pub fn check(
        &self,
        now_ms: Millis,
        session: &Session,
        user: Option<&UserRecord>,
    ) -> Result<(), EndReason> {
        let user = user.cloned().unwrap_or_default();
        if user.reauth_required_ms.is_some_and(|required_ms| session.created_ms < required_ms) {
            return Err(EndReason::ReauthRequired);
        }
        let auth_time_ms =
            user.last_sign_in_ms.unwrap_or(session.created_ms).max(session.created_ms);
        if now_ms >= auth_time_ms.saturating_add(self.max_auth_age_ms) {
            return Err(EndReason::LoginRequired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;
    const HOUR: Millis = 60 * MIN;

    fn session(created_ms: Millis) -> Session {
        Session {
            id: "s".into(),
            username: "alice".into(),
            device_name: String::new(),
            created_ms,
            last_activity_ms: created_ms,
            last_used_ms: created_ms,
            ended: None,
        }
    }

    fn user(last_sign_in_ms: Millis, reauth_required_ms: Option<Millis>) -> UserRecord {
        UserRecord {
            password_hash: None,
            last_sign_in_ms: Some(last_sign_in_ms),
            reauth_required_ms,
        }
    }

    const SEVENTY_TWO_HOURS: SignInPolicy = SignInPolicy { max_auth_age_ms: 72 * HOUR };

    #[test]
    fn a_sign_in_is_good_for_72_hours_and_not_at_the_72nd() {
        let rule = SEVENTY_TWO_HOURS;
        assert_eq!(rule.check(72 * HOUR - 1, &session(0), Some(&user(0, None))), Ok(()));
        assert_eq!(
            rule.check(72 * HOUR, &session(0), Some(&user(0, None))),
            Err(EndReason::LoginRequired)
        );
    }

    #[test]
    fn a_sign_in_on_another_device_counts_for_every_session_of_the_user() {
        let rule = SEVENTY_TWO_HOURS;
        // Signed in on this device at 0, on another at 70 h.
        assert_eq!(rule.check(100 * HOUR, &session(0), Some(&user(70 * HOUR, None))), Ok(()));
        assert_eq!(
            rule.check(142 * HOUR, &session(0), Some(&user(70 * HOUR, None))),
            Err(EndReason::LoginRequired)
        );
    }

    #[test]
    fn without_a_stored_user_the_session_sign_in_counts() {
        let rule = SEVENTY_TWO_HOURS;
        assert_eq!(rule.check(71 * HOUR, &session(0), None), Ok(()));
        assert_eq!(rule.check(72 * HOUR, &session(0), None), Err(EndReason::LoginRequired));
    }

    #[test]
    fn reauth_required_stops_only_sessions_older_than_the_flag() {
        let rule = SEVENTY_TWO_HOURS;
        let flagged = user(0, Some(HOUR));
        assert_eq!(
            rule.check(2 * HOUR, &session(0), Some(&flagged)),
            Err(EndReason::ReauthRequired)
        );
        assert_eq!(rule.check(2 * HOUR, &session(HOUR), Some(&flagged)), Ok(()));
    }

    fn policy() -> SessionPolicy {
        SessionPolicy { idle_timeout_ms: 15 * MIN, lifetime_ms: 8 * 60 * MIN }
    }

    #[test]
    fn active_within_the_idle_timeout_may_renew() {
        assert_eq!(policy().check(14 * MIN, 0, 0), Ok(()));
    }

    #[test]
    fn idle_deadline_itself_is_too_late() {
        assert_eq!(policy().check(15 * MIN, 0, 0), Err(EndReason::Idle));
    }

    #[test]
    fn absolute_lifetime_wins_over_activity() {
        let eight_hours = 8 * 60 * MIN;
        assert_eq!(policy().check(eight_hours, 0, eight_hours - 1), Err(EndReason::Lifetime));
    }

    #[test]
    fn reported_idle_time_moves_last_activity_back_but_not_before_what_is_known() {
        let p = policy();
        assert_eq!(p.last_activity(20 * MIN, 0, Some(2 * MIN)), 18 * MIN);
        assert_eq!(p.last_activity(20 * MIN, 19 * MIN, Some(5 * MIN)), 19 * MIN);
        assert_eq!(p.last_activity(20 * MIN, 19 * MIN, None), 20 * MIN);
    }

    #[test]
    fn reported_idle_time_is_bounded() {
        let p = policy();
        assert_eq!(p.last_activity(20 * MIN, 0, Some(Millis::MAX)), 0);
        assert_eq!(p.last_activity(20 * MIN, 0, Some(0)), 20 * MIN);
    }
}
