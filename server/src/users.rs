//! The demo's user directory: two users, their roles, a permission the demo can flip, the
//! server's administrators, and the password hashing.
//!
//! A real deployment has its own user store. Here the roles, the permission and the
//! administrators (`--admin`, fixed at start: no request grants it) live in memory;
//! the password hashes live in the store (`store::UserRecord`), seeded with the demo passwords
//! the first time, so that a changed password survives a restart. Passwords are hashed with
//! Argon2id and checked in constant time, as a real directory must do.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Semaphore;

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
    hasher: Arc<Hasher>,
    /// One permit per Argon2 computation allowed at once: each takes `memory_kib` of memory.
    argon2_slots: Arc<Semaphore>,
}

/// Argon2id with the server's parameters. Every call is slow and takes `memory_kib` of memory
/// on purpose: requests reach it only through [`Users::run_argon2`].
#[derive(Debug)]
struct Hasher {
    argon2: Argon2<'static>,
    /// Checked when the user is unknown, so a wrong name costs as much time as a wrong password.
    decoy_hash: String,
}

impl Hasher {
    fn hash(&self, password: &str) -> Result<String, UsersError> {
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| UsersError(e.to_string()))
    }

    fn check(&self, stored: Option<&str>, password: &str) -> bool {
        let (hash, known) = match stored {
            Some(hash) => (hash, true),
            None => (self.decoy_hash.as_str(), false),
        };
        let matches = PasswordHash::new(hash)
            .map(|hash| self.argon2.verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false);
        matches && known
    }
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
    /// The demo directory, hashing with Argon2id at `memory_kib` KiB, t = 2, p = 1, at most
    /// `max_concurrent_hashes` (at least 1) at once, with `administrators` as the server's
    /// administrators.
    pub fn demo(
        memory_kib: u32,
        max_concurrent_hashes: usize,
        administrators: &[String],
    ) -> Result<Self, UsersError> {
        let params = Params::new(memory_kib, 2, 1, None).map_err(|e| UsersError(e.to_string()))?;
        let mut hasher = Hasher {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            decoy_hash: String::new(),
        };
        hasher.decoy_hash = hasher.hash("decoy password, never matches a login")?;
        let mut roles = HashMap::new();
        let mut admin_allowed = HashMap::new();
        for (name, _, role) in DEMO_USERS {
            roles.insert(name, role);
            admin_allowed.insert(name.to_owned(), role == Role::Full);
        }
        Ok(Self {
            roles,
            admin_allowed: Mutex::new(admin_allowed),
            administrators: administrators.iter().cloned().collect(),
            hasher: Arc::new(hasher),
            argon2_slots: Arc::new(Semaphore::new(max_concurrent_hashes.max(1))),
        })
    }

    /// An Argon2id hash of `password`, as a PHC string, computed on this thread without waiting
    /// for a slot: for the start (seeding the demo passwords) only. Requests use
    /// [`Users::check_password`] and [`Users::check_and_hash`].
    pub fn hash_password_at_start(&self, password: &str) -> Result<String, UsersError> {
        self.hasher.hash(password)
    }

    /// Whether `password` matches `stored`, the user's hash (`None`: unknown user, always
    /// `false` after the same work as a known one, so a wrong name costs as much time as a wrong
    /// password). Argon2, in a slot (see [`Users::run_argon2`]).
    pub async fn check_password(
        &self,
        stored: Option<String>,
        password: String,
    ) -> Result<bool, UsersError> {
        self.run_argon2(move |hasher| hasher.check(stored.as_deref(), &password)).await
    }

    /// `Some(hash of new_password)` if `current_password` matches `stored`, else `None`: the
    /// check and the new hash in one slot.
    pub async fn check_and_hash(
        &self,
        stored: Option<String>,
        current_password: String,
        new_password: String,
    ) -> Result<Option<String>, UsersError> {
        self.run_argon2(move |hasher| {
            if !hasher.check(stored.as_deref(), &current_password) {
                return Ok(None);
            }
            hasher.hash(&new_password).map(Some)
        })
        .await?
    }

    /// Runs `work` on the blocking pool once one of the `max_concurrent_hashes` slots is free,
    /// waiting for one otherwise: however many sign-ins arrive at once, Argon2 never holds more
    /// than that many times its memory cost. The slot is held until `work` ends, even if the
    /// request that asked for it gave up meanwhile (a blocking task cannot be stopped).
    async fn run_argon2<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Hasher) -> T + Send + 'static,
    ) -> Result<T, UsersError> {
        let slot = Arc::clone(&self.argon2_slots)
            .acquire_owned()
            .await
            .map_err(|_| UsersError("the password hashing slots are closed".into()))?;
        let hasher = Arc::clone(&self.hasher);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            work(&hasher)
        })
        .await
        .map_err(|error| UsersError(format!("the hashing task failed: {error}")))
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

    #[tokio::test]
    async fn passwords_check_against_their_hash_and_wrong_ones_do_not() {
        let users = Users::demo(64, 2, &[]).unwrap();
        let alice = users.hash_password_at_start("alice").unwrap();
        assert!(alice.starts_with("$argon2id$"), "{alice}");
        let check = |stored: Option<&str>, password: &str| {
            users.check_password(stored.map(str::to_owned), password.to_owned())
        };
        assert!(check(Some(&alice), "alice").await.unwrap());
        assert!(!check(Some(&alice), "bob").await.unwrap());
        assert!(!check(Some("not a PHC string"), "alice").await.unwrap());
        // An unknown user never matches, not even the decoy's own password.
        assert!(!check(None, "decoy password, never matches a login").await.unwrap());
        let changed = users
            .check_and_hash(Some(alice.clone()), "alice".into(), "new password".into())
            .await
            .unwrap()
            .expect("the current password matches");
        assert!(check(Some(&changed), "new password").await.unwrap());
        let refused =
            users.check_and_hash(Some(alice), "wrong".into(), "new password".into()).await;
        assert_eq!(refused.unwrap(), None);
        assert_eq!(users.role("bob"), Some(Role::Restricted));
        assert!(users.is_known("bob") && !users.is_known("mallory"));
    }

    /// Work that counts how many run at once, and blocks until the test opens the gate.
    struct Gate {
        running: std::sync::atomic::AtomicUsize,
        peak: std::sync::atomic::AtomicUsize,
        open: Mutex<bool>,
        opened: std::sync::Condvar,
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn argon2_work_runs_in_at_most_the_configured_number_of_slots() {
        use std::sync::atomic::Ordering::SeqCst;
        let users = Arc::new(Users::demo(64, 2, &[]).unwrap());
        let gate = Arc::new(Gate {
            running: 0.into(),
            peak: 0.into(),
            open: Mutex::new(false),
            opened: std::sync::Condvar::new(),
        });
        // Eight sign-ins at once.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (users, gate) = (Arc::clone(&users), Arc::clone(&gate));
                tokio::spawn(async move {
                    users
                        .run_argon2(move |_| {
                            let now = gate.running.fetch_add(1, SeqCst) + 1;
                            gate.peak.fetch_max(now, SeqCst);
                            let mut open = gate.open.lock().unwrap();
                            while !*open {
                                open = gate.opened.wait(open).unwrap();
                            }
                            gate.running.fetch_sub(1, SeqCst);
                        })
                        .await
                })
            })
            .collect();
        // Two start; give the others every chance to start too (a wrong limiter lets them).
        while gate.running.load(SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let peak_while_closed = gate.peak.load(SeqCst);
        // Opened before asserting, so that a failure does not leave blocking threads waiting.
        *gate.open.lock().unwrap() = true;
        gate.opened.notify_all();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(peak_while_closed, 2);
        assert_eq!(gate.peak.load(SeqCst), 2);
        assert_eq!(users.argon2_slots.available_permits(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slot_is_held_until_the_work_ends_even_if_its_request_is_dropped() {
        let users = Arc::new(Users::demo(64, 1, &[]).unwrap());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
        let request = tokio::spawn({
            let users = Arc::clone(&users);
            async move {
                users
                    .run_argon2(move |_| {
                        started_tx.send(()).unwrap();
                        finish_rx.recv().unwrap();
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap()).await.unwrap();
        request.abort(); // the request timed out, say
        assert!(request.await.unwrap_err().is_cancelled());
        let free_while_running = users.argon2_slots.available_permits();
        finish_tx.send(()).unwrap();
        assert_eq!(free_while_running, 0, "the work still runs: its slot is taken");
        // Once the work ends, the slot is free again.
        let _slot = users.argon2_slots.acquire().await.unwrap();
    }

    #[test]
    fn permission_flips_only_for_known_users() {
        let users = Users::demo(64, 2, &[]).unwrap();
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
        let users = Users::demo(64, 2, &["alice".to_owned()]).unwrap();
        assert!(users.is_administrator("alice") && !users.is_administrator("bob"));
        users.set_admin_allowed("alice", false);
        assert!(users.is_administrator("alice"));
        users.set_admin_allowed("bob", true);
        assert!(!users.is_administrator("bob"));
    }
}
