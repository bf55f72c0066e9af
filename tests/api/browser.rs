//! End to end in a real headless browser: Debian's Chromium, driven through
//! ChromeDriver with raw W3C WebDriver calls, signs a user in, grants consent,
//! lands on the client's redirect URI, and the client exchanges the code.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium`
//! and `chromium-driver`). Without them the test is skipped, and the run says
//! so on stderr, unless `CASTELLAN_TEST_REQUIRE_BROWSER=1` makes that a
//! failure (as in CI).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::PkceCodeChallenge;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long any one wait in the browser may take (a cold Chromium start is slow).
const WAIT: Duration = Duration::from_secs(30);
/// The test user's password.
const PASSWORD: &str = "correct horse battery staple";
/// Pause between two polls of a wait.
const POLL: Duration = Duration::from_millis(50);
/// The W3C WebDriver key under which an element reference comes back.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A user signs in and consents in a real browser, which lands on the
/// client's redirect URI with `code`, `state` and `iss`; the code then
/// buys an ID token at the token endpoint.
async fn a_user_signs_in_and_consents_in_a_real_browser(backend: Backend) {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let redirect_uri = serve_redirect_target().await;

    let (status, client) = app
        .register_client(json!({
            "client_name": "Browser Test App",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": "openid profile",
        }))
        .await;
    assert_eq!(status, 201, "{client}");
    let client_id = client["client_id"].as_str().expect("a client_id").to_owned();
    let client_secret = client["client_secret"].as_str().expect("a confidential client's secret").to_owned();

    let user_id = app.create_user("ada", PASSWORD).await;

    let discovery = app.discovery().await;
    let issuer = discovery["issuer"].as_str().expect("discovery names the issuer").to_owned();
    let authorization_endpoint =
        discovery["authorization_endpoint"].as_str().expect("discovery lists authorization_endpoint");
    let token_endpoint = discovery["token_endpoint"].as_str().expect("discovery lists token_endpoint");

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = castellan::secret::random_token(16);
    let nonce = castellan::secret::random_token(16);
    let mut authorize = url::Url::parse(authorization_endpoint).expect("the authorization endpoint is a URL");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");

    let mut browser = Browser::start().await;
    browser.go(authorize.as_str()).await;

    // The login page.
    let username = browser.wait_for("input[name=username]").await;
    let origin = format!("{issuer}/");
    let url = browser.url().await;
    assert!(url.starts_with(&origin), "the login page is the issuer's, not {url}");
    browser.type_into(&username, "ada").await;
    let password = browser.wait_for("input[name=password]").await;
    browser.type_into(&password, PASSWORD).await;
    let submits = browser
        .find_all(
            "css selector",
            "form button:not([type]), form button[type=submit], form input[type=submit]",
        )
        .await;
    assert_eq!(submits.len(), 1, "the login form has one submit button\n{}", browser.page().await);
    browser.click(&submits[0]).await;

    // The consent page.
    let allow = browser
        .wait_for_by(
            "xpath",
            "//button[normalize-space(.)='Allow'] | //input[@type='submit' and @value='Allow']",
        )
        .await;
    browser.click(&allow).await;

    // Back at the client.
    let landed = browser.wait_for_url(|url| url.starts_with(&redirect_uri)).await;
    browser.quit().await;
    let landed = url::Url::parse(&landed).expect("the browser is on a URL");
    assert_eq!(landed[..url::Position::AfterPath], redirect_uri, "the browser is at the redirect URI");
    let query =
        |name: &str| landed.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
    assert_eq!(query("error"), None, "no error at {landed}");
    assert_eq!(query("state").as_deref(), Some(state.as_str()), "the state comes back in {landed}");
    assert_eq!(query("iss").as_deref(), Some(issuer.as_str()), "the issuer is named in {landed}");
    let code = query("code").unwrap_or_else(|| panic!("a code in {landed}"));

    // The client exchanges the code.
    let response = app
        .http
        .post(token_endpoint)
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.secret().as_str()),
        ])
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    let tokens: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap_or_else(|| panic!("an id_token in {tokens}"));
    let claims = jwt_claims(id_token);
    assert_eq!(claims["iss"], issuer.as_str(), "{claims}");
    assert_eq!(claims["sub"], user_id.as_str(), "{claims}");
    let aud = &claims["aud"];
    let for_client = aud == client_id.as_str()
        || aud.as_array().is_some_and(|list| list.iter().any(|one| one == client_id.as_str()));
    assert!(for_client, "the ID token is for the client: {claims}");
    assert_eq!(claims["nonce"], nonce.as_str(), "{claims}");
}

both_backends!(a_user_signs_in_and_consents_in_a_real_browser);

/// Whether Chromium and ChromeDriver are installed; `false` (announced once) to skip.
fn browser_available() -> bool {
    static ANNOUNCE: Once = Once::new();
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let required = std::env::var("CASTELLAN_TEST_REQUIRE_BROWSER").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(!required, "CASTELLAN_TEST_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing");
    ANNOUNCE.call_once(|| {
        // Written past the test harness's capture, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** Browser tests SKIPPED: install Debian's chromium and chromium-driver \
             ({CHROMIUM}, {CHROMEDRIVER}) to run them ***\n"
        );
    });
    false
}

/// The claims of a compact JWT, unverified (the signature is other tests' business).
fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or_else(|| panic!("{token} is a JWT"));
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

/// Listens on a loopback port and answers every request `200 ok`, so the
/// browser lands on the redirect URI cleanly. Returns that redirect URI.
async fn serve_redirect_target() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer_ok(stream));
        }
    });
    format!("http://{address}/callback")
}

/// Reads one request's head and answers `200 ok`, closing the connection.
async fn answer_ok(stream: TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.try_read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
    let answer =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
    let mut written = 0;
    while written < answer.len() {
        if stream.writable().await.is_err() {
            return;
        }
        match stream.try_write(&answer[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

/// A ChromeDriver process with one headless Chromium session. Dropping it
/// ends the session and the driver, also when the test fails.
struct Browser {
    driver: Child,
    /// The ChromeDriver base URL.
    base: String,
    /// The WebDriver session, until it is ended.
    session: Option<String>,
    http: reqwest::Client,
    // Dropped after `drop` has stopped Chromium, which writes into it.
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            // Its own process group, which Chromium's processes join: one
            // signal ends them all, whatever state the session is in.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("a temporary Chromium profile");
        let http = reqwest::Client::builder().timeout(2 * WAIT).build().expect("an HTTP client");
        let mut browser =
            Self { driver, base: format!("http://127.0.0.1:{port}"), session: None, http, _profile: profile };

        let started = Instant::now();
        loop {
            let status = browser.http.get(format!("{}/status", browser.base)).send().await;
            if let Ok(response) = status
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            if let Ok(Some(exit)) = browser.driver.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            assert!(started.elapsed() < WAIT, "chromedriver was not ready within {WAIT:?}");
            tokio::time::sleep(POLL).await;
        }

        let user_data_dir = format!("--user-data-dir={}", browser._profile.path().display());
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": 0, "pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", user_data_dir,
                ],
            },
        }}});
        let (status, body) = browser.call(Method::POST, "/session", Some(capabilities)).await;
        assert_eq!(status, 200, "chromedriver starts a Chromium session: {body}");
        let session = body["value"]["sessionId"].as_str().expect("a session id").to_owned();
        browser.session = Some(session);
        browser
    }

    /// A WebDriver call on the driver (`path` from the root); the status and JSON answer.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == Method::POST {
            request = request.json(&json!({}));
        }
        let response =
            request.send().await.unwrap_or_else(|e| panic!("WebDriver {method} {path} got no answer: {e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A WebDriver call within the session that must succeed; its `value`.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let session = self.session.as_deref().expect("a live session");
        let (status, answer) = self.call(method.clone(), &format!("/session/{session}{path}"), body).await;
        assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
        answer["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn url(&self) -> String {
        self.command(Method::GET, "/url", None).await.as_str().expect("the URL is a string").to_owned()
    }

    /// The current URL and page source, for failure messages.
    async fn page(&self) -> String {
        let url = self.url().await;
        let source = self.command(Method::GET, "/source", None).await;
        let source = source.as_str().unwrap_or_default();
        let cut = source.char_indices().nth(4000).map_or(source.len(), |(i, _)| i);
        format!("at {url}:\n{}", &source[..cut])
    }

    /// Every element matching `selector` by `strategy` now (perhaps none).
    async fn find_all(&self, strategy: &str, selector: &str) -> Vec<String> {
        let found = self
            .command(Method::POST, "/elements", Some(json!({"using": strategy, "value": selector})))
            .await;
        found
            .as_array()
            .expect("a list of elements")
            .iter()
            .map(|element| element[ELEMENT_KEY].as_str().expect("an element reference").to_owned())
            .collect()
    }

    /// Waits for an element matching the CSS `selector`.
    async fn wait_for(&self, selector: &str) -> String {
        self.wait_for_by("css selector", selector).await
    }

    /// Waits for an element matching `selector` by `strategy` (`css selector`, `xpath`).
    async fn wait_for_by(&self, strategy: &str, selector: &str) -> String {
        let session = self.session.as_deref().expect("a live session");
        let body = json!({"using": strategy, "value": selector});
        let started = Instant::now();
        loop {
            let (status, answer) =
                self.call(Method::POST, &format!("/session/{session}/element"), Some(body.clone())).await;
            if status == 200 {
                return answer["value"][ELEMENT_KEY].as_str().expect("an element reference").to_owned();
            }
            assert_eq!(answer["value"]["error"], "no such element", "WebDriver find {selector}: {answer}");
            if started.elapsed() > WAIT {
                panic!("no {selector} within {WAIT:?}, {}", self.page().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the browser's URL satisfies `wanted`; returns that URL.
    async fn wait_for_url(&self, wanted: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            if wanted(&url) {
                return url;
            }
            if started.elapsed() > WAIT {
                panic!("the browser did not get where it should within {WAIT:?}, {}", self.page().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.command(Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text}))).await;
    }

    async fn click(&self, element: &str) {
        self.command(Method::POST, &format!("/element/{element}/click"), None).await;
    }

    /// Ends the session, which closes Chromium.
    async fn quit(&mut self) {
        if let Some(session) = self.session.take() {
            self.call(Method::DELETE, &format!("/session/{session}"), None).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            // A failed test: end the session so the driver closes Chromium.
            // Drop runs outside async; a short-lived runtime on its own thread does it.
            let url = format!("{}/session/{session}", self.base);
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                runtime.block_on(async {
                    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().ok()?;
                    http.delete(url).send().await.ok()
                })
            })
            .join();
        }
        // Whatever the session left behind (a hung driver, a crashed test).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
