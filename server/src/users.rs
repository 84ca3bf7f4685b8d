//! The demo's user directory: two users, their roles, a permission the demo can flip, the
//! server's administrators, and the password hashing.
//!
//! A real deployment has its own user store. Here the roles, the permission and the
//! administrators (`--admin`, fixed at start: no request grants it) live in memory;
//! the password hashes live in the store (`store::UserRecord`), seeded with the demo passwords
//! the first time, so that a changed password survives a restart. Passwords are hashed with
//! Argon2id and checked in constant time, as a real directory must do.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything, including `GET /api/admin`.
    Full,
    /// Everything but the admin route.
    Restricted,
}

impl Role {
    /// The role's name in API responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Restricted => "restricted",
        }
    }
}

/// The demo users, their current admin permission, the administrators, and the password hasher.
#[derive(Debug)]
pub struct Users {
    roles: HashMap<&'static str, Role>,
    admin_allowed: Mutex<HashMap<String, bool>>,
    administrators: HashSet<String>,
    argon2: Argon2<'static>,
    /// Checked when the user is unknown, so a wrong name costs as much time as a wrong password.
    decoy_hash: String,
}

/// Why the directory could not be built.
#[derive(Debug)]
pub struct UsersError(String);

impl std::fmt::Display for UsersError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "password hashing: {}", self.0)
    }
}

impl std::error::Error for UsersError {}

/// The demo users: `(username, password, role)`.
pub const DEMO_USERS: [(&str, &str, Role); 2] =
    [("alice", "alice", Role::Full), ("bob", "bob", Role::Restricted)];

/// The shortest new password accepted (NIST SP 800-63B section 5.1.1.2: at least 8 characters).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted, in bytes: Argon2 would hash more, but nobody types it.
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl Users {
    /// The demo directory, hashing with Argon2id at `memory_kib` KiB, t = 2, p = 1, with
    /// `administrators` as the server's administrators.
    pub fn demo(memory_kib: u32, administrators: &[String]) -> Result<Self, UsersError> {
        let params = Params::new(memory_kib, 2, 1, None).map_err(|e| UsersError(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut roles = HashMap::new();
        let mut admin_allowed = HashMap::new();
        for (name, _, role) in DEMO_USERS {
            roles.insert(name, role);
            admin_allowed.insert(name.to_owned(), role == Role::Full);
        }
        let mut users = Self {
            roles,
            admin_allowed: Mutex::new(admin_allowed),
            administrators: administrators.iter().cloned().collect(),
            argon2,
            decoy_hash: String::new(),
        };
        users.decoy_hash = users.hash_password("decoy password, never matches a login")?;
        Ok(users)
    }

    /// An Argon2id hash of `password`, as a PHC string. Slow on purpose: call it off the runtime.
    pub fn hash_password(&self, password: &str) -> Result<String, UsersError> {
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| UsersError(e.to_string()))
    }

    /// Whether `password` matches `stored`, the user's hash (`None`: unknown user, always
    /// `false` after the same work as a known one, so a wrong name costs as much time as a wrong
    /// password). Slow on purpose (Argon2): call it off the runtime.
    pub fn check_password(&self, stored: Option<&str>, password: &str) -> bool {
        let (hash, known) = match stored {
            Some(hash) => (hash, true),
            None => (self.decoy_hash.as_str(), false),
        };
        let matches = PasswordHash::new(hash)
            .map(|hash| self.argon2.verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false);
        matches && known
    }

    /// The user's role, if the user exists.
    pub fn role(&self, username: &str) -> Option<Role> {
        self.roles.get(username).copied()
    }

    /// Whether the directory has `username`.
    pub fn is_known(&self, username: &str) -> bool {
        self.roles.contains_key(username)
    }

    /// Whether the user may call `GET /api/admin` right now.
    pub fn admin_allowed(&self, username: &str) -> bool {
        let allowed = self.admin_allowed.lock().unwrap_or_else(PoisonError::into_inner);
        allowed.get(username).copied().unwrap_or(false)
    }

    /// Removes or restores the admin permission (the demo's "remove my permission"); restoring
    /// gives no more than the user's role: a restricted user never gets it. Returns the
    /// permission now in force.
    pub fn set_admin_allowed(&self, username: &str, allowed: bool) -> bool {
        let allowed = allowed && self.role(username) == Some(Role::Full);
        let mut table = self.admin_allowed.lock().unwrap_or_else(PoisonError::into_inner);
        match table.get_mut(username) {
            Some(entry) => {
                *entry = allowed;
                allowed
            }
            None => false,
        }
    }

    /// Whether `username` administers this server (`--admin`): fixed at start, independent of
    /// the demo's admin permission, grantable by no request.
    pub fn is_administrator(&self, username: &str) -> bool {
        self.administrators.contains(username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_check_against_their_hash_and_wrong_ones_do_not() {
        let users = Users::demo(64, &[]).unwrap();
        let alice = users.hash_password("alice").unwrap();
        assert!(alice.starts_with("$argon2id$"), "{alice}");
        assert!(users.check_password(Some(&alice), "alice"));
        assert!(!users.check_password(Some(&alice), "bob"));
        assert!(!users.check_password(Some("not a PHC string"), "alice"));
        // An unknown user never matches, not even the decoy's own password.
        assert!(!users.check_password(None, "decoy password, never matches a login"));
        assert_eq!(users.role("bob"), Some(Role::Restricted));
        assert!(users.is_known("bob") && !users.is_known("mallory"));
    }

    #[test]
    fn permission_flips_only_for_known_users() {
        let users = Users::demo(64, &[]).unwrap();
        assert!(users.admin_allowed("alice"));
        assert!(!users.admin_allowed("bob"));
        users.set_admin_allowed("alice", false);
        assert!(!users.admin_allowed("alice"));
        users.set_admin_allowed("mallory", true);
        assert!(!users.admin_allowed("mallory"));
        // A restricted user cannot give himself what his role does not.
        assert!(!users.set_admin_allowed("bob", true));
        assert!(!users.admin_allowed("bob"));
        assert!(users.set_admin_allowed("alice", true));
    }

    #[test]
    fn administrators_are_fixed_at_start() {
        let users = Users::demo(64, &["alice".to_owned()]).unwrap();
        assert!(users.is_administrator("alice") && !users.is_administrator("bob"));
        users.set_admin_allowed("alice", false);
        assert!(users.is_administrator("alice"));
        users.set_admin_allowed("bob", true);
        assert!(!users.is_administrator("bob"));
    }
}
