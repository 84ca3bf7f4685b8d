//! Sessions and refresh-token families in SQLite.
//!
//! A file by default, so a revoked session stays revoked across restarts. Secrets (the session
//! cookie, refresh tokens) are stored only as SHA-256 hashes: a copy of the database lets no one
//! sign in. Each statement takes microseconds, so handlers call the store directly under a mutex
//! rather than paying for a thread hop per query.

use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

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
    /// Public identifier, carried in access tokens as `sid`.
    pub id: String,
    /// Who signed in.
    pub username: String,
    /// Sign-in time.
    pub created_ms: Millis,
    /// Last known user activity.
    pub last_activity_ms: Millis,
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
    end_reason       TEXT
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
";

const SESSION_COLUMNS: &str = "id, username, created_ms, last_activity_ms, ended_ms, end_reason";

fn session_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    let ended_ms: Option<Millis> = row.get(4)?;
    let end_reason: Option<String> = row.get(5)?;
    Ok(Session {
        id: row.get(0)?,
        username: row.get(1)?,
        created_ms: row.get(2)?,
        last_activity_ms: row.get(3)?,
        ended: ended_ms.map(|at| (at, end_reason.unwrap_or_default())),
    })
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
        Ok(Self { connection: Mutex::new(connection) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // SQLite rolls back an unfinished transaction when its guard drops during a panic, so
        // the connection is consistent even if the mutex was poisoned.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a new session.
    pub fn create_session(&self, session: &Session, secret_hash: &str) -> Result<()> {
        self.lock().execute(
            "INSERT INTO sessions (id, secret_hash, username, created_ms, last_activity_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                session.id,
                secret_hash,
                session.username,
                session.created_ms,
                session.last_activity_ms
            ],
        )?;
        Ok(())
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

    /// Records user activity.
    pub fn touch_session(&self, id: &str, last_activity_ms: Millis) -> Result<()> {
        self.lock().execute(
            "UPDATE sessions SET last_activity_ms = ?2 WHERE id = ?1 AND ended_ms IS NULL",
            params![id, last_activity_ms],
        )?;
        Ok(())
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

    /// Runs `decide` on the refresh token with hash `token_hash` (and its session) and applies
    /// what it returns, in one transaction, so two concurrent exchanges of the same token
    /// cannot both succeed.
    pub fn exchange_refresh_token<T>(
        &self,
        token_hash: &str,
        decide: impl FnOnce(Option<(&RefreshToken, &Session)>) -> (Exchange, T),
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
        let (exchange, answer) = match (&found, &session) {
            (Some(token), Some(session)) => decide(Some((token, session))),
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
                        "UPDATE sessions SET last_activity_ms = ?2 WHERE id = ?1",
                        params![session.id, last_activity_ms],
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
