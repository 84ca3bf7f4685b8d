//! The real binary: `--port 0` and the URLs on stdout that scripts and end-to-end tests read,
//! static files with the right MIME types.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;

/// Kills the child when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn port_zero_prints_the_urls_and_serves_the_static_directories() {
    let dir = tempfile::tempdir().unwrap();
    let (www, pkg) = (dir.path().join("www"), dir.path().join("pkg"));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>demo</title>").unwrap();
    std::fs::write(pkg.join("authpulse_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(pkg.join("index.js"), "export {};").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_authpulse-server"))
        .args(["--port", "0", "--db", ":memory:", "--test-controls", "--access-token-secs", "60"])
        .arg("--www")
        .arg(&www)
        .arg("--pkg")
        .arg(&pkg)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let _guard = Server(child);
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let second = lines.next().and_then(Result::ok).unwrap_or_default();
        (first, second)
    })
    .await
    .unwrap();
    let url = lines.0.strip_prefix("listening on ").expect(&lines.0).to_owned();
    let echo = lines.1.strip_prefix("echo on ").expect(&lines.1).to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url != "http://127.0.0.1:0", "{url}");
    assert!(echo.starts_with("http://127.0.0.1:") && echo != url, "{echo}");

    let http = reqwest::Client::new();
    let content_type = |response: &reqwest::Response| {
        response.headers()["content-type"].to_str().unwrap().to_owned()
    };
    let index = http.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(content_type(&index).starts_with("text/html"));
    let wasm = http.get(format!("{url}/pkg/authpulse_bg.wasm")).send().await.unwrap();
    assert_eq!(content_type(&wasm), "application/wasm");
    let js = http.get(format!("{url}/pkg/index.js")).send().await.unwrap();
    assert!(content_type(&js).contains("javascript"), "{}", content_type(&js));
    let missing = http.get(format!("{url}/pkg/nothing.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let timings: serde_json::Value =
        http.get(format!("{url}/demo/config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(timings["accessTokenSecs"], 60);
    assert_eq!(timings["testControls"], true);
}

/// Runs the binary with `args` to completion (it must exit by itself): status, stdout, stderr.
async fn run_to_exit(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_authpulse-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let id = child.id();
    let waited = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    let Ok(output) = waited else {
        // Still running: it did not refuse to start. Stop it before failing.
        let _ = Command::new("kill").arg(id.to_string()).status();
        panic!("authpulse-server {args:?} did not exit");
    };
    let output = output.unwrap().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status, text(output.stdout), text(output.stderr))
}

#[tokio::test]
async fn the_binary_refuses_to_start_with_access_tokens_longer_than_the_maximum() {
    let (status, stdout, stderr) =
        run_to_exit(&["--port", "0", "--db", ":memory:", "--access-token-secs", "3600"]).await;
    assert!(!status.success());
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(
        stderr.contains("--access-token-secs 3600")
            && stderr.contains("--max-access-token-secs 900"),
        "{stderr}"
    );
    let (status, _, stderr) = run_to_exit(&["--max-access-token-secs", "1"]).await;
    assert!(!status.success() && stderr.contains("max-access-token-secs"), "{stderr}");
}

#[tokio::test]
async fn the_require_reauth_command_stops_the_running_servers_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    let db = db.to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authpulse-server"))
        .args(["--port", "0", "--db", db, "--www", "/nonexistent", "--pkg", "/nonexistent"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let _guard = Server(child);
    let first = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).lines().next().and_then(Result::ok).unwrap_or_default()
    })
    .await
    .unwrap();
    let url = first.strip_prefix("listening on ").expect(&first).to_owned();

    let http = reqwest::Client::new();
    let login = || async {
        let response = http
            .post(format!("{url}/auth/login"))
            .json(&serde_json::json!({ "username": "bob", "password": "bob" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    };
    let renew = |cookie: String| {
        http.post(format!("{url}/auth/renew"))
            .header("X-Requested-With", "authpulse")
            .header("Cookie", cookie)
            .send()
    };
    let old = login().await;
    assert_eq!(renew(old.clone()).await.unwrap().status(), StatusCode::OK);

    // The operator, on the same database file, while the server runs (the flag after the
    // command works as well as before it).
    let (status, stdout, stderr) = run_to_exit(&["require-reauth", "bob", "--db", db]).await;
    assert!(status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "bob must sign in again; 1 live session(s) will be refused at their next renewal"
    );
    let refused = renew(old.clone()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "login_required", "{body}");

    let fresh = login().await;
    assert_eq!(renew(fresh).await.unwrap().status(), StatusCode::OK);
    assert_eq!(renew(old).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let (status, _, stderr) = run_to_exit(&["--db", db, "require-reauth", "mallory"]).await;
    assert!(!status.success());
    assert!(stderr.contains("no user \"mallory\""), "{stderr}");
}

#[tokio::test]
async fn require_reauth_on_a_missing_database_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.sqlite");
    let missing = missing.to_str().unwrap();
    let (status, stdout, stderr) = run_to_exit(&["require-reauth", "bob", "--db", missing]).await;
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains("no database") && stderr.contains("typo.sqlite"), "{stderr}");
    assert!(!std::path::Path::new(missing).exists(), "an empty database was created");
    // An in-memory database would be thrown away at exit: the flag would reach nobody.
    let (status, _, stderr) = run_to_exit(&["require-reauth", "bob", "--db", ":memory:"]).await;
    assert!(!status.success() && stderr.contains(":memory:"), "{stderr}");
    // A SQLite file that is not this server's is left alone too.
    let foreign = dir.path().join("foreign.sqlite");
    empty_sqlite_file(&foreign);
    let before = std::fs::read(&foreign).unwrap();
    let (status, _, stderr) =
        run_to_exit(&["require-reauth", "bob", "--db", foreign.to_str().unwrap()]).await;
    assert!(!status.success() && stderr.contains("not a database of authpulse-server"), "{stderr}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
}

/// An empty SQLite database file of some other program (an empty file is one: SQLite treats a
/// zero-length file as an empty database).
fn empty_sqlite_file(path: &std::path::Path) {
    std::fs::write(path, b"").unwrap();
}
