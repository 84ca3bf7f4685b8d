//! The server's own session rules: a sliding idle timeout and an absolute lifetime.
//!
//! The client tears its tokens down after real inactivity, but a server cannot trust a client to
//! do so; it keeps the same rule on its side, fed by the `idleMs` the client reports.

use crate::clock::Millis;

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

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

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
