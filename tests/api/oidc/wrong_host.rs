//! A browser that reaches Castellan under a host name other than the
//! issuer's loses the sign-in cookie on the way to the login page (cookies
//! are kept per host). The login page says so, and the log says how to fix
//! it, instead of calling the sign-in expired.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::header::{HOST, LOCATION};

use super::Rp;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// A client that follows no redirects and keeps no cookies, as a browser
/// arriving at the login page under the issuer's name without the cookie
/// that was set under the other name.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The login URL an authorization request sent with `host` redirects to.
async fn login_url_for_request_under(client: &reqwest::Client, url: &str, host: &str) -> String {
    let response = client.get(url).header(HOST, host).send().await.unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Started under `localhost` while the issuer is `127.0.0.1`: the login
/// page explains the wrong address; started under the issuer's own name,
/// a lost cookie is still just an expired sign-in.
async fn a_sign_in_started_under_another_host_name_is_explained_on_the_login_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let port = url::Url::parse(&app.address).unwrap().port().unwrap();
    let client = no_redirects();

    let login =
        login_url_for_request_under(&client, rp.authorize(&[]).url.as_str(), &format!("localhost:{port}"))
            .await;
    assert!(login.starts_with(&app.url("/")), "the login page is at the issuer: {login}");
    let page = client.get(&login).send().await.unwrap();
    assert_eq!(page.status(), 400);
    let body = page.text().await.unwrap();
    assert!(body.contains("Wrong address for this sign-in"), "{body}");
    assert!(body.contains(&app.address), "the page names the issuer's address: {body}");

    let login =
        login_url_for_request_under(&client, rp.authorize(&[]).url.as_str(), &format!("127.0.0.1:{port}"))
            .await;
    let body = client.get(&login).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("This sign-in has expired"), "{body}");
}

both_backends!(a_sign_in_started_under_another_host_name_is_explained_on_the_login_page);

/// The same, seen by the operator: the log says why the sign-in failed and
/// what to change.
#[tokio::test]
async fn a_sign_in_started_under_another_host_name_is_explained_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}");
    let mut server = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_castellan"))
            .env("DATABASE_URL", format!("sqlite://{}/castellan.db", dir.path().display()))
            .env("CASTELLAN_LISTEN", format!("127.0.0.1:{port}"))
            .env("CASTELLAN_ISSUER", &issuer)
            .env("CASTELLAN_LOG_FORMAT", "json")
            .env("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID", "admin")
            .env("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET", "a-bootstrap-secret-of-at-least-32-bytes")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .expect("castellan starts"),
    );
    let (lines_tx, lines) = mpsc::channel();
    let stdout = BufReader::new(server.0.stdout.take().unwrap());
    std::thread::spawn(move || {
        stdout.lines().map_while(Result::ok).for_each(|line| drop(lines_tx.send(line)))
    });
    let ready = |line: &String| line.contains("castellan is ready");
    assert!(lines.iter().take(50).any(|line| ready(&line)), "the server starts");

    let client = no_redirects();
    let token: serde_json::Value = client
        .post(format!("{issuer}/oauth2/token"))
        .basic_auth("admin", Some("a-bootstrap-secret-of-at-least-32-bytes"))
        .form(&[("grant_type", "client_credentials"), ("scope", "admin")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let registered: serde_json::Value = client
        .post(format!("{issuer}/admin/clients"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&serde_json::json!({"redirect_uris": ["https://app.example/callback"], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let authorize = format!(
        "{issuer}/oauth2/authorize?response_type=code&client_id={}&redirect_uri=https://app.example/callback\
         &scope=openid&nonce=n-0S6&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        registered["client_id"].as_str().unwrap()
    );
    let login = login_url_for_request_under(&client, &authorize, &format!("localhost:{port}")).await;
    assert_eq!(client.get(&login).send().await.unwrap().status(), 400);

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut warning = None;
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains("host name other than the issuer's") {
            warning = Some(line);
            break;
        }
    }
    drop(server);
    let warning = warning.expect("a warning in the log");
    assert!(warning.contains("CASTELLAN_ISSUER") && warning.contains(&issuer), "{warning}");
}

/// The server process, stopped however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
