//! Just enough of the W3C WebDriver protocol, spoken to ChromeDriver with
//! raw JSON calls, to drive one headless Chromium session.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long any one wait in the browser may take (a cold Chromium start is slow).
const WAIT: Duration = Duration::from_secs(30);
/// Pause between two polls of a wait.
const POLL: Duration = Duration::from_millis(50);
/// The W3C WebDriver key under which an element reference comes back.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A ChromeDriver process with one headless Chromium session. Dropping it
/// ends the session and the driver, also when the test fails.
pub struct Browser {
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
    pub async fn start() -> Self {
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
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
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
    pub async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let session = self.session.as_deref().expect("a live session");
        let (status, answer) = self.call(method.clone(), &format!("/session/{session}{path}"), body).await;
        assert_eq!(status, 200, "WebDriver {method} {path}: {answer}");
        answer["value"].clone()
    }

    pub async fn go(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn url(&self) -> String {
        self.command(Method::GET, "/url", None).await.as_str().expect("the URL is a string").to_owned()
    }

    /// The current URL and page source, for failure messages.
    pub async fn page(&self) -> String {
        let url = self.url().await;
        let source = self.command(Method::GET, "/source", None).await;
        let source = source.as_str().unwrap_or_default();
        let cut = source.char_indices().nth(4000).map_or(source.len(), |(i, _)| i);
        format!("at {url}:\n{}", &source[..cut])
    }

    /// Every element matching `selector` by `strategy` now (perhaps none).
    pub async fn find_all(&self, strategy: &str, selector: &str) -> Vec<String> {
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
    pub async fn wait_for(&self, selector: &str) -> String {
        self.wait_for_by("css selector", selector).await
    }

    /// Waits for an element matching `selector` by `strategy` (`css selector`, `xpath`).
    pub async fn wait_for_by(&self, strategy: &str, selector: &str) -> String {
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
    pub async fn wait_for_url(&self, wanted: impl Fn(&str) -> bool) -> String {
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

    pub async fn type_into(&self, element: &str, text: &str) {
        self.command(Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, element: &str) {
        self.command(Method::POST, &format!("/element/{element}/click"), None).await;
    }

    /// Runs `script` in the current page as an async function (WebDriver
    /// "Execute Async Script"): `args` come first in `arguments`, and the
    /// script calls the last argument with its result, which is returned.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(Method::POST, "/execute/async", Some(json!({"script": script, "args": args}))).await
    }

    /// Ends the session, which closes Chromium.
    pub async fn quit(&mut self) {
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
