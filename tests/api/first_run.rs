//! What a newcomer meets first: `castellan --version`, a ready line with the
//! version and, without any admin client, how to get one; and a page, not a
//! JSON 404, at the issuer URL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// `castellan --version` prints the crate's version and exits 0.
#[test]
fn the_version_is_printed_by_castellan_version() {
    for flag in ["--version", "-V"] {
        let output =
            Command::new(env!("CARGO_BIN_EXE_castellan")).arg(flag).output().expect("castellan runs");
        assert!(output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout.trim(), format!("castellan {}", env!("CARGO_PKG_VERSION")));
    }
}

/// A first start with no admin client: the ready line carries the version,
/// and the next line says how to get an admin client.
#[test]
fn a_first_start_without_an_admin_client_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/castellan.db", dir.path().display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_castellan"))
        .env("DATABASE_URL", &database_url)
        .env("CASTELLAN_LISTEN", "127.0.0.1:0")
        .env("CASTELLAN_LOG_FORMAT", "json")
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID")
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .expect("castellan starts");
    let stdout = BufReader::new(server.stdout.take().unwrap());
    let mut lines = stdout.lines().map_while(Result::ok);
    let ready = lines.by_ref().find(|line| line.contains("castellan is ready")).expect("a ready line");
    let hint = lines.next().unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    assert!(ready.contains(&format!("\"version\":\"{}\"", env!("CARGO_PKG_VERSION"))), "{ready}");
    assert!(hint.contains("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID"), "{hint}");
}

/// The issuer URL opened in a browser is a small HTML page linking the
/// discovery document.
async fn the_issuer_url_shows_a_page_with_the_discovery_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("href=\"{}/.well-known/openid-configuration\"", app.address)), "{html}");
}

both_backends!(the_issuer_url_shows_a_page_with_the_discovery_link);
