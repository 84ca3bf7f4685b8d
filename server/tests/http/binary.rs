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
