//! A grant is durable once answered: a server process killed (SIGKILL, no
//! shutdown) right after it redeemed a code leaves the code redeemed and
//! the refresh token it issued working, on both backends. (SQLite's WAL
//! with `synchronous=NORMAL` survives a crash of the process; a power cut
//! may lose the last commits, as the README says.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use openidconnect::OAuth2TokenResponse;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, assert_error, status_and_json};
use crate::oidc::{Rp, UserAgent, code_of, complete, create_user, raw_exchange};

/// Starts the `castellan` binary on `app`'s database and issuer, and
/// returns it with its address (from its ready line).
fn start_server_process(app: &TestApp) -> (Child, String) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_castellan"))
        .env("DATABASE_URL", &app.database_url)
        .env("CASTELLAN_ISSUER", &app.address)
        .env("CASTELLAN_LISTEN", "127.0.0.1:0")
        .env("CASTELLAN_LOG_FORMAT", "json")
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID")
        .env_remove("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET")
        .env_remove("CASTELLAN_KEY_ENCRYPTION_KEY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .expect("castellan starts");
    let stdout = BufReader::new(server.stdout.take().expect("its stdout"));
    let ready = stdout
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("castellan is ready"))
        .expect("a ready line");
    let line: Value = serde_json::from_str(&ready).expect("a JSON log line");
    let address = line["fields"]["address"].as_str().or(line["address"].as_str()).expect("the address");
    (server, format!("http://{address}"))
}

async fn a_code_redeemed_just_before_a_crash_stays_redeemed_and_its_refresh_token_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&["offline_access"]);
    let landing = ua.follow(auth.url.as_str()).await;
    let callback = complete(&mut ua, landing, "alice").await;
    let code = code_of(&app, &callback, &auth);
    let redirect_uri = auth.redirect_uri();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", auth.verifier.as_str()),
    ];

    // Another server process redeems the code and is killed as soon as it answered.
    let (mut server, address) = start_server_process(&app);
    let (id, secret) = rp.credentials();
    let response = app
        .http
        .post(format!("{address}/oauth2/token"))
        .form(&exchange)
        .basic_auth(id, Some(secret))
        .send()
        .await;
    server.kill().expect("the server is killed");
    server.wait().expect("the server is gone");
    let (status, tokens) = status_and_json(response.expect("an answer")).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token");

    // The family it started is there: its refresh token works ...
    let refreshed =
        rp.refresh(&app, refresh_token, None).await.expect("the refresh token works after the crash");
    assert!(refreshed.refresh_token().is_some());
    // ... and the code is redeemed: using it again is a replay.
    let replay = raw_exchange(&app, &exchange, Some(rp.credentials())).await;
    let body = assert_error(replay, 400, "invalid_grant").await;
    assert!(body["error_description"].as_str().unwrap_or_default().contains("already been used"), "{body}");
}

both_backends!(a_code_redeemed_just_before_a_crash_stays_redeemed_and_its_refresh_token_works);
