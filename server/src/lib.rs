//! The authpulse reference auth server.
//!
//! A small, complete server for the authpulse SDK: it signs users in with a session cookie,
//! renews short-lived access tokens under a server-side sliding idle rule and an absolute session
//! lifetime, requires a sign-in with a password at least every 72 hours (and again after an
//! administrator says so), rotates OAuth 2.0 refresh tokens with reuse detection, guards a demo
//! API with bearer tokens no longer-lived than 15 minutes, lets users see, rename and revoke
//! their sessions (one per device) and change their password, and serves the demo page.
//! Sessions, refresh-token families and the users' sign-in state live in SQLite, so a revoked
//! session stays revoked across restarts.
//!
//! All time comes from a [`Clock`], so tests drive hours of session life without sleeping:
//!
//! ```no_run
//! use authpulse_server::{serve, Clock, Config};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = Clock::manual(1_700_000_000_000);
//! let server = serve(Config::for_tests(), clock.clone()).await?;
//! println!("listening on {}", server.url());
//! clock.advance(15 * 60_000); // the session is now idle-expired on the server
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod account;
mod api;
mod app;
mod auth;
mod bearer;
mod clock;
mod config;
mod devices;
mod echo;
mod error;
mod oauth;
mod policy;
mod store;
mod test_controls;
mod tokens;
mod users;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use app::{build_app, App, BuildError, BODY_LIMIT_BYTES};
pub use auth::{CSRF_HEADER, CSRF_HEADER_VALUE, DEFAULT_CLIENT_ID, SESSION_COOKIE};
pub use clock::{Clock, Millis};
pub use config::Config;
pub use users::DEMO_USERS;

/// Sets the "reauth required" flag of `username` in the database at `db` at `now_ms`, as
/// `POST /admin/users/{username}/reauth` does, for the `require-reauth` command: it works with
/// the server stopped or running on the same file. Returns how many live sessions of the user
/// it concerns; `Err` for an unknown user, a database file that does not exist (none is
/// created), is not this server's, or is `:memory:`, or a database error.
pub fn require_reauth(db: &str, username: &str, now_ms: Millis) -> Result<usize, String> {
    if db == ":memory:" {
        return Err(
            "--db :memory: holds no server's sessions: give the server's database file".to_owned()
        );
    }
    if !std::path::Path::new(db).is_file() {
        return Err(format!(
            "no database at {db:?}: give the --db file of the server (it is made when the server \
             first starts)"
        ));
    }
    let store = match store::Store::open_existing(db) {
        Ok(Some(store)) => store,
        Ok(None) => return Err(format!("{db:?} is not a database of authpulse-server")),
        Err(error) => return Err(format!("cannot open {db:?}: {error}")),
    };
    let known = DEMO_USERS.iter().any(|(name, _, _)| *name == username)
        || store.user(username).map_err(|error| error.to_string())?.is_some();
    if !known {
        return Err(format!("no user {username:?}"));
    }
    store.require_reauth(username, now_ms).map_err(|error| error.to_string())
}

/// Why the server could not start.
#[derive(Debug)]
pub enum ServeError {
    /// The configuration could not be turned into an application.
    Build(BuildError),
    /// A listener could not be bound.
    Bind(std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Build(error) => error.fmt(f),
            Self::Bind(error) => write!(f, "cannot listen: {error}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// A server running on the Tokio runtime. Dropping it stops it too; [`RunningServer::shutdown`]
/// also waits until it stopped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    echo_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

/// How long a shutdown waits for open requests before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl RunningServer {
    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The echo origin's base URL (with `--test-controls`).
    pub fn echo_url(&self) -> Option<String> {
        self.echo_addr.map(|addr| format!("http://{addr}"))
    }

    /// Stops accepting connections, lets open requests finish, and waits until it stopped, so
    /// that the database is closed when this returns.
    pub async fn shutdown(mut self) {
        drop(self.stop.take());
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Dropping the sender is the stop signal (see `stopped`).
        drop(self.stop.take());
    }
}

/// Starts the server for `config` on 127.0.0.1 (and the echo origin with `--test-controls`).
pub async fn serve(config: Config, clock: Clock) -> Result<RunningServer, ServeError> {
    let app = build_app(&config, clock).map_err(ServeError::Build)?;
    let listener = bind(config.port).await?;
    let addr = listener.local_addr().map_err(ServeError::Bind)?;
    let echo_listener = match &app.echo {
        Some(_) => Some(bind(config.echo_port).await?),
        None => None,
    };
    let echo_addr = match &echo_listener {
        Some(listener) => Some(listener.local_addr().map_err(ServeError::Bind)?),
        None => None,
    };

    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = futures_shared(stopped);
    let mut tasks = vec![spawn_server(listener, app.router, stopped.clone())];
    if let (Some(listener), Some(router)) = (echo_listener, app.echo) {
        tasks.push(spawn_server(listener, router, stopped));
    }
    Ok(RunningServer { addr, echo_addr, stop: Some(stop), tasks })
}

async fn bind(port: u16) -> Result<TcpListener, ServeError> {
    // Loopback only: this is a reference and demo server, not an internet-facing one.
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await.map_err(ServeError::Bind)
}

fn spawn_server(
    listener: TcpListener,
    router: axum::Router,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut stopped = stopped;
        let signal = async move {
            // Err means the sender is gone, which is also a stop.
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(signal).await {
            tracing::error!(%error, "server stopped with an error");
        }
    })
}

/// Turns the one-shot stop signal into one several servers can wait on.
fn futures_shared(stopped: oneshot::Receiver<()>) -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = stopped.await;
        let _ = tx.send(true);
    });
    rx
}
