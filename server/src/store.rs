//! Sessions, refresh-token families and the users' sign-in state in SQLite.
//!
//! A file by default, so a revoked session stays revoked across restarts, and a changed password
//! stays changed. Secrets (the session cookie, refresh tokens) are stored only as SHA-256 hashes
//! and passwords only as Argon2id hashes: a copy of the database lets no one sign in. Each
//! statement takes microseconds, so handlers call the store directly under a mutex rather than
//! paying for a thread hop per query. This is the server's only state (see the scale-out section
//! of `server/README.md` for how it maps onto PostgreSQL).

use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::clock::Millis;
use crate::policy::EndReason;

/// A database error. Handlers answer it with a 500; it never carries client input.
#[derive(Debug)]
pub struct StoreError(rusqlite::Error);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self(error)
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// A signed-in session, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Public identifier, carried in access tokens as `sid` and listed by `GET /account/sessions`:
    /// 128 random bits, hex encoded, that say nothing about the user or the device.
    pub id: String,
    /// Who signed in.
    pub username: String,
    /// The device it was created on, e.g. "Chrome on Linux" (from the User-Agent), or the name
    /// the user gave it.
    pub device_name: String,
    /// Sign-in time.
    pub created_ms: Millis,
    /// Last known user activity.
    pub last_activity_ms: Millis,
    /// Last time it was used to get tokens: the sign-in, a renewal or a refresh-token exchange.
    pub last_used_ms: Millis,
    /// When and why it ended; `None` while it lives.
    pub ended: Option<(Millis, String)>,
}

impl Session {
    /// Whether the session was ended (signed out, revoked, expired).
    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }
}

/// A refresh token, as stored (by hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    /// The session (and so the token family) it belongs to.
    pub session_id: String,
    /// The OAuth client it was issued to.
    pub client_id: String,
    /// When it stops being accepted.
    pub expires_ms: Millis,
    /// When it was exchanged; a second exchange is reuse.
    pub used_ms: Option<Millis>,
}

/// A user's sign-in state, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserRecord {
    /// The Argon2id hash (PHC string) of the password; `None` for a row made by the
    /// `require-reauth` command before the server first seeded the user.
    pub password_hash: Option<String>,
    /// The user's last sign-in with a password, on any device (OpenID Connect's `auth_time`).
    pub last_sign_in_ms: Option<Millis>,
    /// When an administrator required a fresh sign-in: sessions that began before it can no
    /// longer renew. Cleared by the user's next sign-in.
    pub reauth_required_ms: Option<Millis>,
}

/// The SQLite store.
#[derive(Debug)]
pub struct Store {
    connection: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS sessions (
    id               TEXT PRIMARY KEY,
    secret_hash      TEXT NOT NULL UNIQUE,
    username         TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    last_activity_ms INTEGER NOT NULL,
    ended_ms         INTEGER,
    end_reason       TEXT,
    device_name      TEXT NOT NULL DEFAULT '',
    last_used_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    client_id  TEXT NOT NULL,
    issued_ms  INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms    INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_session ON refresh_tokens(session_id);
CREATE TABLE IF NOT EXISTS users (
    username           TEXT PRIMARY KEY,
    password_hash      TEXT,
    last_sign_in_ms    INTEGER,
    reauth_required_ms INTEGER
);
CREATE TABLE IF NOT EXISTS password_attempts (
    username TEXT NOT NULL,
    at_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS password_attempts_by_user ON password_attempts(username, at_ms);
CREATE TABLE IF NOT EXISTS sign_in_attempts (
    username TEXT NOT NULL,
    at_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_attempts_by_user ON sign_in_attempts(username, at_ms);
";

/// Columns added to `sessions` after the first release, with their definitions: a database file
/// made before them gets them on open (`ALTER TABLE ... ADD COLUMN` keeps every row).
const ADDED_SESSION_COLUMNS: [(&str, &str); 2] =
    [("device_name", "TEXT NOT NULL DEFAULT ''"), ("last_used_ms", "INTEGER NOT NULL DEFAULT 0")];

/// Indexes on columns that may have just been added.
const LATE_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(username);
";

const SESSION_COLUMNS: &str =
    "id, username, device_name, created_ms, last_activity_ms, last_used_ms, ended_ms, end_reason";

fn session_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    let ended_ms: Option<Millis> = row.get(6)?;
    let end_reason: Option<String> = row.get(7)?;
    Ok(Session {
        id: row.get(0)?,
        username: row.get(1)?,
        device_name: row.get(2)?,
        created_ms: row.get(3)?,
        last_activity_ms: row.get(4)?,
        last_used_ms: row.get(5)?,
        ended: ended_ms.map(|at| (at, end_reason.unwrap_or_default())),
    })
}

const USER_COLUMNS: &str = "password_hash, last_sign_in_ms, reauth_required_ms";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        password_hash: row.get(0)?,
        last_sign_in_ms: row.get(1)?,
        reauth_required_ms: row.get(2)?,
    })
}

fn user_in(connection: &Connection, username: &str) -> rusqlite::Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
    connection.query_row(&sql, [username], user_from_row).optional()
}

/// Brings a database made by an earlier version up to this schema.
fn migrate(connection: &Connection) -> rusqlite::Result<()> {
    for (column, definition) in ADDED_SESSION_COLUMNS {
        let present: bool = connection.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('sessions') WHERE name = ?1",
            [column],
            |row| row.get(0),
        )?;
        if !present {
            connection
                .execute_batch(&format!("ALTER TABLE sessions ADD COLUMN {column} {definition}"))?;
            if column == "last_used_ms" {
                // The best estimate for sessions that never recorded it.
                connection.execute_batch("UPDATE sessions SET last_used_ms = last_activity_ms")?;
            }
        }
    }
    connection.execute_batch(LATE_INDEXES)
}

impl Store {
    /// Opens (and creates) the database at `path`, or an in-memory one for `:memory:`.
    pub fn open(path: &str) -> Result<Self> {
        let connection = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            Connection::open(path)?
        };
        // Another process may hold the file briefly (a restarting server); wait rather than fail.
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(SCHEMA)?;
        migrate(&connection)?;
        Ok(Self { connection: Mutex::new(connection) })
    }

    /// Opens the database file at `path` that a server made, for a command run beside it (the
    /// server may be running on it): never creates a file. `Ok(None)` when the file is not a
    /// database of this server (it has no `sessions` table), and then nothing was written to it;
    /// `Err` when it cannot be opened (a missing file included).
    pub fn open_existing(path: &str) -> Result<Option<Self>> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let ours: bool = connection.query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'",
            [],
            |row| row.get(0),
        )?;
        if !ours {
            return Ok(None);
        }
        // A file of an earlier version gets the tables and columns added since.
        connection.execute_batch(SCHEMA)?;
        migrate(&connection)?;
        Ok(Some(Self { connection: Mutex::new(connection) }))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // SQLite rolls back an unfinished transaction when its guard drops during a panic, so
        // the connection is consistent even if the mutex was poisoned.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a new session, made by a sign-in with a password at `session.created_ms`, and
    /// records that sign-in for its user, in one transaction: it is the user's new `auth_time`,
    /// and it clears a "reauth required" flag after ending the sessions that began before the
    /// flag (they must never renew again). Returns how many sessions that ended.
    pub fn sign_in(&self, session: &Session, secret_hash: &str) -> Result<usize> {
        let now_ms = session.created_ms;
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ended = 0;
        if let Some(required_ms) =
            user_in(&tx, &session.username)?.and_then(|user| user.reauth_required_ms)
        {
            ended = tx.execute(
                "UPDATE sessions SET ended_ms = ?3, end_reason = ?4
                 WHERE username = ?1 AND created_ms < ?2 AND ended_ms IS NULL",
                params![session.username, required_ms, now_ms, EndReason::ReauthRequired.as_str()],
            )?;
        }
        tx.execute(
            "INSERT INTO users (username, last_sign_in_ms) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE
             SET last_sign_in_ms = excluded.last_sign_in_ms, reauth_required_ms = NULL",
            params![session.username, now_ms],
        )?;
        tx.execute(
            "INSERT INTO sessions
             (id, secret_hash, username, device_name, created_ms, last_activity_ms, last_used_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                session.id,
                secret_hash,
                session.username,
                session.device_name,
                session.created_ms,
                session.last_activity_ms,
                session.last_used_ms,
            ],
        )?;
        tx.commit()?;
        Ok(ended)
    }

    /// The session whose cookie secret hashes to `secret_hash`.
    pub fn session_by_secret(&self, secret_hash: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE secret_hash = ?1");
        Ok(self.lock().query_row(&sql, [secret_hash], session_from_row).optional()?)
    }

    /// The session with public id `id`.
    pub fn session_by_id(&self, id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        Ok(self.lock().query_row(&sql, [id], session_from_row).optional()?)
    }

    /// The live (not ended) sessions of `username`, most recently used first. Some may have
    /// passed a deadline without anyone asking yet: the caller applies the rules.
    pub fn sessions_of(&self, username: &str) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE username = ?1 AND ended_ms IS NULL
             ORDER BY last_used_ms DESC, created_ms DESC"
        );
        let connection = self.lock();
        let mut statement = connection.prepare(&sql)?;
        let sessions = statement.query_map([username], session_from_row)?;
        Ok(sessions.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a renewal: the user's last activity, and that the session was used at `now_ms`.
    pub fn touch_session(&self, id: &str, last_activity_ms: Millis, now_ms: Millis) -> Result<()> {
        self.lock().execute(
            "UPDATE sessions SET last_activity_ms = ?2, last_used_ms = ?3
             WHERE id = ?1 AND ended_ms IS NULL",
            params![id, last_activity_ms, now_ms],
        )?;
        Ok(())
    }

    /// Renames the live session `id` of `username`; `false` when there is no such session (or
    /// it is another user's: the caller cannot tell the two apart).
    pub fn rename_session(&self, id: &str, username: &str, device_name: &str) -> Result<bool> {
        let changed = self.lock().execute(
            "UPDATE sessions SET device_name = ?3
             WHERE id = ?1 AND username = ?2 AND ended_ms IS NULL",
            params![id, username, device_name],
        )?;
        Ok(changed == 1)
    }

    /// Ends the live session `id` of `username`; `false` when there is no such session (or it is
    /// another user's). Checked and ended in one statement, so the check cannot go stale.
    pub fn end_session_of(
        &self,
        id: &str,
        username: &str,
        now_ms: Millis,
        reason: EndReason,
    ) -> Result<bool> {
        let changed = self.lock().execute(
            "UPDATE sessions SET ended_ms = ?3, end_reason = ?4
             WHERE id = ?1 AND username = ?2 AND ended_ms IS NULL",
            params![id, username, now_ms, reason.as_str()],
        )?;
        Ok(changed == 1)
    }

    /// Ends a session, and so every access and refresh token it issued. Ending an ended
    /// session keeps the first reason.
    pub fn end_session(&self, id: &str, now_ms: Millis, reason: EndReason) -> Result<()> {
        self.lock().execute(
            "UPDATE sessions SET ended_ms = ?2, end_reason = ?3 WHERE id = ?1 AND ended_ms IS NULL",
            params![id, now_ms, reason.as_str()],
        )?;
        Ok(())
    }

    /// The sign-in state of `username`, if the store knows the user.
    pub fn user(&self, username: &str) -> Result<Option<UserRecord>> {
        Ok(user_in(&self.lock(), username)?)
    }

    /// Makes sure the store knows `username`, with `password_hash` unless it already has a
    /// password (a changed one must survive a restart).
    pub fn seed_user(&self, username: &str, password_hash: &str) -> Result<()> {
        self.lock().execute(
            "INSERT INTO users (username, password_hash) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE
             SET password_hash = COALESCE(users.password_hash, excluded.password_hash)",
            params![username, password_hash],
        )?;
        Ok(())
    }

    /// Replaces the password of `username` and ends every other live session of the user (reason
    /// `password_changed`), keeping `keep_session_id`, in one transaction, provided that, inside
    /// it, `keep_session_id` is still a live session of the user and the stored password hash is
    /// still `checked_hash`, the one the caller checked the current password against: of two
    /// concurrent changes, the second finds one or the other no longer true and changes nothing.
    pub fn change_password(
        &self,
        username: &str,
        checked_hash: Option<&str>,
        password_hash: &str,
        keep_session_id: &str,
        now_ms: Millis,
    ) -> Result<PasswordChange> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: bool = tx.query_row(
            "SELECT COUNT(*) > 0 FROM sessions WHERE id = ?1 AND username = ?2 AND ended_ms IS NULL",
            params![keep_session_id, username],
            |row| row.get(0),
        )?;
        if !live {
            return Ok(PasswordChange::SessionEnded);
        }
        let stored = user_in(&tx, username)?.and_then(|user| user.password_hash);
        if stored.as_deref() != checked_hash {
            return Ok(PasswordChange::PasswordChanged);
        }
        tx.execute(
            "INSERT INTO users (username, password_hash) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash",
            params![username, password_hash],
        )?;
        let ended = tx.execute(
            "UPDATE sessions SET ended_ms = ?3, end_reason = ?4
             WHERE username = ?1 AND id <> ?2 AND ended_ms IS NULL",
            params![username, keep_session_id, now_ms, EndReason::PasswordChanged.as_str()],
        )?;
        tx.commit()?;
        Ok(PasswordChange::Changed { sessions_ended: ended })
    }

    /// Sets the "reauth required" flag of `username` at `now_ms`: from now on, no session of
    /// the user that began before it can renew, until the user signs in again with a password.
    /// Returns how many live sessions that concerns.
    pub fn require_reauth(&self, username: &str, now_ms: Millis) -> Result<usize> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO users (username, reauth_required_ms) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE SET reauth_required_ms = excluded.reauth_required_ms",
            params![username, now_ms],
        )?;
        let live: i64 = tx.query_row(
            "SELECT COUNT(*) FROM sessions
             WHERE username = ?1 AND created_ms < ?2 AND ended_ms IS NULL",
            params![username, now_ms],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(usize::try_from(live).unwrap_or(0))
    }

    /// Counts a password-change attempt of `username` at `now_ms`, unless `limit` attempts were
    /// already counted within the `window_ms` before it: then nothing is counted and the answer
    /// is `Err(ms)`, when the next attempt will be allowed.
    pub fn count_password_attempt(
        &self,
        username: &str,
        now_ms: Millis,
        window_ms: Millis,
        limit: usize,
    ) -> Result<std::result::Result<(), Millis>> {
        let counted =
            self.count_attempt("password_attempts", username, now_ms, window_ms, limit)?;
        Ok(counted.map(|_| ()))
    }

    /// Counts a sign-in attempt of `username` (known or not) at `now_ms`, as
    /// [`Store::count_password_attempt`] does, before its password is checked: `Ok(id)` of the
    /// attempt, which a successful sign-in takes back with [`Store::forget_sign_in_attempt`], so
    /// that only failures stay counted; `Err(ms)` when `limit` attempts are already counted within
    /// `window_ms`. Counting first bounds concurrent guesses too.
    pub fn count_sign_in_attempt(
        &self,
        username: &str,
        now_ms: Millis,
        window_ms: Millis,
        limit: usize,
    ) -> Result<std::result::Result<i64, Millis>> {
        self.count_attempt("sign_in_attempts", username, now_ms, window_ms, limit)
    }

    /// Takes back the sign-in attempt `id` (the password was right).
    pub fn forget_sign_in_attempt(&self, id: i64) -> Result<()> {
        self.lock().execute("DELETE FROM sign_in_attempts WHERE rowid = ?1", [id])?;
        Ok(())
    }

    /// The attempts limit of `table` (`username`, `at_ms`): old rows go, and a new one is added
    /// (its rowid answered) unless `limit` are left for `username`.
    fn count_attempt(
        &self,
        table: &'static str,
        username: &str,
        now_ms: Millis,
        window_ms: Millis,
        limit: usize,
    ) -> Result<std::result::Result<i64, Millis>> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let since_ms = now_ms.saturating_sub(window_ms);
        tx.execute(&format!("DELETE FROM {table} WHERE at_ms <= ?1"), [since_ms])?;
        let (count, oldest): (i64, Option<Millis>) = tx.query_row(
            &format!("SELECT COUNT(*), MIN(at_ms) FROM {table} WHERE username = ?1"),
            [username],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let answer = if usize::try_from(count).unwrap_or(usize::MAX) >= limit {
            Err(oldest.unwrap_or(now_ms).saturating_add(window_ms))
        } else {
            tx.execute(
                &format!("INSERT INTO {table} (username, at_ms) VALUES (?1, ?2)"),
                params![username, now_ms],
            )?;
            Ok(tx.last_insert_rowid())
        };
        tx.commit()?;
        Ok(answer)
    }

    /// Stores a new refresh token for `session_id`.
    pub fn insert_refresh_token(
        &self,
        token_hash: &str,
        token: &RefreshToken,
        now_ms: Millis,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, client_id, issued_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, token.session_id, token.client_id, now_ms, token.expires_ms],
        )?;
        Ok(())
    }

    /// Runs `decide` on the refresh token with hash `token_hash` (with its session and the
    /// session's user) and applies what it returns, in one transaction, so two concurrent
    /// exchanges of the same token cannot both succeed.
    pub fn exchange_refresh_token<T>(
        &self,
        token_hash: &str,
        decide: impl FnOnce(Option<(&RefreshToken, &Session, Option<&UserRecord>)>) -> (Exchange, T),
    ) -> Result<T> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .query_row(
                "SELECT session_id, client_id, expires_ms, used_ms
                 FROM refresh_tokens WHERE token_hash = ?1",
                [token_hash],
                |row| {
                    Ok(RefreshToken {
                        session_id: row.get(0)?,
                        client_id: row.get(1)?,
                        expires_ms: row.get(2)?,
                        used_ms: row.get(3)?,
                    })
                },
            )
            .optional()?;
        let session = match &found {
            Some(token) => {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
                tx.query_row(&sql, [&token.session_id], session_from_row).optional()?
            }
            None => None,
        };
        let user = match &session {
            Some(session) => user_in(&tx, &session.username)?,
            None => None,
        };
        let (exchange, answer) = match (&found, &session) {
            (Some(token), Some(session)) => decide(Some((token, session, user.as_ref()))),
            _ => decide(None),
        };
        match exchange {
            Exchange::Nothing => {}
            Exchange::EndSession { now_ms, reason } => {
                if let Some(session) = &session {
                    tx.execute(
                        "UPDATE sessions SET ended_ms = ?2, end_reason = ?3
                         WHERE id = ?1 AND ended_ms IS NULL",
                        params![session.id, now_ms, reason.as_str()],
                    )?;
                }
            }
            Exchange::Rotate { now_ms, new_hash, new_expires_ms, last_activity_ms } => {
                if let (Some(token), Some(session)) = (&found, &session) {
                    tx.execute(
                        "UPDATE refresh_tokens SET used_ms = ?2 WHERE token_hash = ?1",
                        params![token_hash, now_ms],
                    )?;
                    tx.execute(
                        "INSERT INTO refresh_tokens
                         (token_hash, session_id, client_id, issued_ms, expires_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![new_hash, session.id, token.client_id, now_ms, new_expires_ms],
                    )?;
                    tx.execute(
                        "UPDATE sessions SET last_activity_ms = ?2, last_used_ms = ?3 WHERE id = ?1",
                        params![session.id, last_activity_ms, now_ms],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(answer)
    }

    /// Ends the session that the refresh token with hash `token_hash` belongs to (RFC 7009
    /// revocation of a refresh token revokes its family). Unknown tokens are ignored.
    pub fn revoke_refresh_token(&self, token_hash: &str, now_ms: Millis) -> Result<()> {
        self.lock().execute(
            "UPDATE sessions SET ended_ms = ?2, end_reason = 'revoked'
             WHERE ended_ms IS NULL
               AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?1)",
            params![token_hash, now_ms],
        )?;
        Ok(())
    }
}

/// What [`Store::change_password`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordChange {
    /// The password was replaced and this many other sessions ended.
    Changed {
        /// How many other sessions of the user ended.
        sessions_ended: usize,
    },
    /// Nothing changed: the caller's session ended meanwhile (another change ended it, say).
    SessionEnded,
    /// Nothing changed: the stored password is no longer the one the caller checked.
    PasswordChanged,
}

/// What a refresh-token exchange writes, decided inside its transaction.
#[derive(Debug)]
pub enum Exchange {
    /// Nothing: an unknown, expired or foreign token changes no state.
    Nothing,
    /// End the token's session, and so its whole token family (reuse, idle, lifetime).
    EndSession {
        /// When the session ends.
        now_ms: Millis,
        /// Why it ends.
        reason: EndReason,
    },
    /// Mark the presented token used and store its successor in the same family.
    Rotate {
        /// When the exchange happens.
        now_ms: Millis,
        /// SHA-256 of the successor (see `tokens::hash_secret`).
        new_hash: String,
        /// When the successor stops being accepted.
        new_expires_ms: Millis,
        /// The session's last activity after this exchange.
        last_activity_ms: Millis,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, username: &str, created_ms: Millis) -> Session {
        Session {
            id: id.into(),
            username: username.into(),
            device_name: format!("device of {id}"),
            created_ms,
            last_activity_ms: created_ms,
            last_used_ms: created_ms,
            ended: None,
        }
    }

    #[test]
    fn a_database_made_before_devices_is_migrated_and_keeps_its_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let path = path.to_str().unwrap();
        {
            let old = Connection::open(path).unwrap();
            old.execute_batch(
                "CREATE TABLE sessions (
                    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE,
                    username TEXT NOT NULL, created_ms INTEGER NOT NULL,
                    last_activity_ms INTEGER NOT NULL, ended_ms INTEGER, end_reason TEXT);
                 INSERT INTO sessions VALUES ('s1', 'h1', 'alice', 1000, 5000, NULL, NULL);",
            )
            .unwrap();
        }
        let store = Store::open(path).unwrap();
        let found = store.session_by_secret("h1").unwrap().unwrap();
        assert_eq!((found.device_name.as_str(), found.last_used_ms), ("", 5000));
        assert_eq!(store.sessions_of("alice").unwrap(), vec![found]);
        drop(store);
        // Opening again changes nothing.
        assert!(Store::open(path).unwrap().session_by_id("s1").unwrap().is_some());
    }

    #[test]
    fn a_sign_in_clears_the_reauth_flag_and_ends_the_sessions_older_than_it() {
        let store = Store::open(":memory:").unwrap();
        store.sign_in(&session("old", "alice", 1_000), "h-old").unwrap();
        store.sign_in(&session("bob", "bob", 1_000), "h-bob").unwrap();
        assert_eq!(store.require_reauth("alice", 2_000).unwrap(), 1);
        assert_eq!(store.user("alice").unwrap().unwrap().reauth_required_ms, Some(2_000));

        assert_eq!(store.sign_in(&session("new", "alice", 3_000), "h-new").unwrap(), 1);
        let alice = store.user("alice").unwrap().unwrap();
        assert_eq!((alice.reauth_required_ms, alice.last_sign_in_ms), (None, Some(3_000)));
        let old = store.session_by_id("old").unwrap().unwrap();
        assert_eq!(old.ended, Some((3_000, "reauth_required".to_owned())));
        assert!(store.session_by_id("bob").unwrap().unwrap().ended.is_none());
    }

    #[test]
    fn only_the_owner_renames_or_ends_a_session() {
        let store = Store::open(":memory:").unwrap();
        store.sign_in(&session("a1", "alice", 1_000), "h1").unwrap();
        assert!(!store.rename_session("a1", "bob", "mine now").unwrap());
        assert!(!store.end_session_of("a1", "bob", 2_000, EndReason::Revoked).unwrap());
        assert!(store.rename_session("a1", "alice", "Laptop").unwrap());
        assert!(store.end_session_of("a1", "alice", 2_000, EndReason::Revoked).unwrap());
        assert!(!store.end_session_of("a1", "alice", 3_000, EndReason::Revoked).unwrap());
        let ended = store.session_by_id("a1").unwrap().unwrap();
        assert_eq!(
            (ended.device_name.as_str(), ended.ended),
            ("Laptop", Some((2_000, "revoked".into())))
        );
    }

    #[test]
    fn password_attempts_are_limited_within_the_window() {
        let store = Store::open(":memory:").unwrap();
        for at in 0..3 {
            assert_eq!(store.count_password_attempt("alice", at * 10, 1_000, 3).unwrap(), Ok(()));
        }
        // Full: the next attempt is allowed when the first leaves the window.
        assert_eq!(store.count_password_attempt("alice", 500, 1_000, 3).unwrap(), Err(1_000));
        assert_eq!(store.count_password_attempt("bob", 500, 1_000, 3).unwrap(), Ok(()));
        assert_eq!(store.count_password_attempt("alice", 1_000, 1_000, 3).unwrap(), Ok(()));
    }

    #[test]
    fn a_password_change_checked_against_a_stale_hash_or_from_an_ended_session_changes_nothing() {
        // Two changes that both checked the current password "seed" before either stored its own:
        // whichever reaches the store second must not overwrite the first.
        let store = Store::open(":memory:").unwrap();
        store.seed_user("alice", "seed").unwrap();
        store.sign_in(&session("a1", "alice", 1_000), "h1").unwrap();
        store.sign_in(&session("a2", "alice", 1_000), "h2").unwrap();
        store.sign_in(&session("b1", "bob", 1_000), "h3").unwrap();
        assert_eq!(
            store.change_password("alice", Some("seed"), "first", "a1", 2_000).unwrap(),
            PasswordChange::Changed { sessions_ended: 1 }
        );
        // From the session the first change ended.
        assert_eq!(
            store.change_password("alice", Some("seed"), "second", "a2", 2_000).unwrap(),
            PasswordChange::SessionEnded
        );
        // From the same, still live, session, against the hash it replaced.
        assert_eq!(
            store.change_password("alice", Some("seed"), "second", "a1", 2_000).unwrap(),
            PasswordChange::PasswordChanged
        );
        // From a session of another user.
        assert_eq!(
            store.change_password("alice", Some("first"), "second", "b1", 2_000).unwrap(),
            PasswordChange::SessionEnded
        );
        assert_eq!(store.user("alice").unwrap().unwrap().password_hash.as_deref(), Some("first"));
        assert!(store.session_by_id("a1").unwrap().unwrap().ended.is_none());
        assert!(store.session_by_id("b1").unwrap().unwrap().ended.is_none());
    }

    #[test]
    fn only_failed_sign_ins_stay_counted() {
        let store = Store::open(":memory:").unwrap();
        let failed = store.count_sign_in_attempt("alice", 0, 1_000, 2).unwrap().unwrap();
        let succeeded = store.count_sign_in_attempt("alice", 10, 1_000, 2).unwrap().unwrap();
        assert_ne!(failed, succeeded);
        store.forget_sign_in_attempt(succeeded).unwrap();
        store.count_sign_in_attempt("alice", 20, 1_000, 2).unwrap().unwrap();
        // Two failures counted: full until the first leaves the window.
        assert_eq!(store.count_sign_in_attempt("alice", 30, 1_000, 2).unwrap(), Err(1_000));
        // The password-change attempts are a separate count.
        assert_eq!(store.count_password_attempt("alice", 30, 1_000, 2).unwrap(), Ok(()));
        assert!(store.count_sign_in_attempt("alice", 1_000, 1_000, 2).unwrap().is_ok());
    }

    #[test]
    fn seeding_keeps_a_changed_password() {
        let store = Store::open(":memory:").unwrap();
        store.seed_user("alice", "seed").unwrap();
        store.sign_in(&session("a1", "alice", 1_000), "h1").unwrap();
        store.sign_in(&session("a2", "alice", 1_000), "h2").unwrap();
        assert_eq!(
            store.change_password("alice", Some("seed"), "changed", "a1", 2_000).unwrap(),
            PasswordChange::Changed { sessions_ended: 1 }
        );
        store.seed_user("alice", "seed").unwrap();
        assert_eq!(store.user("alice").unwrap().unwrap().password_hash.as_deref(), Some("changed"));
        assert!(store.session_by_id("a1").unwrap().unwrap().ended.is_none());
        let other = store.session_by_id("a2").unwrap().unwrap();
        assert_eq!(other.ended, Some((2_000, "password_changed".into())));
    }
}
