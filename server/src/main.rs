//! `authpulse-server`: see `authpulse-server --help` and `server/README.md`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use authpulse_server::{require_reauth, serve, Clock, Config};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The server's flags, and its one offline command.
#[derive(Debug, Parser)]
#[command(name = "authpulse-server", version, about, args_override_self = true)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Require USERNAME to sign in again with a password (after a password reset, say): the
    /// user's sessions that began before now are refused at their next renewal or refresh grant
    /// (`login_required`) until the user signs in, which clears the flag. Works on the `--db`
    /// file whether or not a server is running on it.
    RequireReauth {
        /// The user.
        username: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout carries only the URLs, which scripts and tests read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let Cli { config, command } = Cli::parse();
    if let Some(Command::RequireReauth { username }) = command {
        return match require_reauth(&config.db, &username, Clock::system().now_ms()) {
            Ok(sessions) => {
                println!(
                    "{username} must sign in again; {sessions} live session(s) will be refused \
                     at their next renewal"
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("authpulse-server: require-reauth: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let server = match serve(config.clone(), Clock::system()).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("authpulse-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", server.url());
    if let Some(echo) = server.echo_url() {
        let _ = writeln!(stdout, "echo on {echo}");
    }
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(
        access_token_secs = config.access_token_secs,
        max_access_token_secs = config.max_access_token_secs,
        max_auth_age_secs = config.max_auth_age_secs,
        idle_timeout_secs = config.idle_timeout_secs,
        session_lifetime_secs = config.session_lifetime_secs,
        refresh_token_secs = config.refresh_token_secs,
        db = %config.db,
        test_controls = config.test_controls,
        "authpulse-server started"
    );
    wait_for_stop().await;
    tracing::info!("stopping");
    server.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_stop() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
