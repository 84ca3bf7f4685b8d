//! `authpulse-server`: see `authpulse-server --help` and `server/README.md`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use authpulse_server::{serve, Clock, Config};
use clap::Parser;
use tracing_subscriber::EnvFilter;

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
    let config = Config::parse();
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
