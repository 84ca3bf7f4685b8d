//! The demo's user directory: two users, their roles, and a permission the demo can flip.
//!
//! A real deployment has its own user store; this one lives in memory and is made at start.
//! Passwords are still hashed with Argon2id and checked in constant time, as a real one must be.

use std::collections::HashMap;
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

/// A demo user.
#[derive(Debug)]
struct User {
    password_hash: String,
    role: Role,
}

/// The demo users and their current admin permission.
#[derive(Debug)]
pub struct Users {
    users: HashMap<&'static str, User>,
    admin_allowed: Mutex<HashMap<String, bool>>,
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

impl Users {
    /// Hashes the demo users' passwords with Argon2id at `memory_kib` KiB, t = 2, p = 1.
    pub fn demo(memory_kib: u32) -> Result<Self, UsersError> {
        let params = Params::new(memory_kib, 2, 1, None).map_err(|e| UsersError(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let hash = |password: &str| {
            argon2
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| UsersError(e.to_string()))
        };
        let mut users = HashMap::new();
        let mut admin_allowed = HashMap::new();
        for (name, password, role) in DEMO_USERS {
            users.insert(name, User { password_hash: hash(password)?, role });
            admin_allowed.insert(name.to_owned(), role == Role::Full);
        }
        let decoy_hash = hash("decoy password, never matches a login")?;
        Ok(Self { users, admin_allowed: Mutex::new(admin_allowed), argon2, decoy_hash })
    }

    /// Whether `password` is `username`'s. Slow on purpose (Argon2): call it off the runtime.
    pub fn check_password(&self, username: &str, password: &str) -> bool {
        let (stored, known) = match self.users.get(username) {
            Some(user) => (user.password_hash.as_str(), true),
            None => (self.decoy_hash.as_str(), false),
        };
        let matches = PasswordHash::new(stored)
            .map(|hash| self.argon2.verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false);
        matches && known
    }

    /// The user's role, if the user exists.
    pub fn role(&self, username: &str) -> Option<Role> {
        self.users.get(username).map(|user| user.role)
    }

    /// Whether the user may call `GET /api/admin` right now.
    pub fn admin_allowed(&self, username: &str) -> bool {
        let allowed = self.admin_allowed.lock().unwrap_or_else(PoisonError::into_inner);
        allowed.get(username).copied().unwrap_or(false)
    }

    /// Grants or removes the admin permission (the demo's "remove my permission").
    pub fn set_admin_allowed(&self, username: &str, allowed: bool) {
        let mut table = self.admin_allowed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = table.get_mut(username) {
            *entry = allowed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_check_and_wrong_ones_do_not() {
        let users = Users::demo(64).unwrap();
        assert!(users.check_password("alice", "alice"));
        assert!(users.check_password("bob", "bob"));
        assert!(!users.check_password("alice", "bob"));
        assert!(!users.check_password("mallory", "alice"));
        assert_eq!(users.role("bob"), Some(Role::Restricted));
    }

    #[test]
    fn permission_flips_only_for_known_users() {
        let users = Users::demo(64).unwrap();
        assert!(users.admin_allowed("alice"));
        assert!(!users.admin_allowed("bob"));
        users.set_admin_allowed("alice", false);
        assert!(!users.admin_allowed("alice"));
        users.set_admin_allowed("mallory", true);
        assert!(!users.admin_allowed("mallory"));
    }
}
