//! The test harness: `TestApp::spawn(backend)` starts Castellan on a random
//! port with a fresh database, and offers one helper per endpoint. Protocol
//! calls go through the `oauth2` crate, as a real client would make them.
//!
//! Postgres tests use `CASTELLAN_TEST_POSTGRES_URL` (a server URL whose
//! database is used only to create and drop one database per test). When it
//! is unset they are skipped, and the run says so on stderr, unless
//! `CASTELLAN_TEST_REQUIRE_POSTGRES=1` makes that a failure (as in CI).

#![allow(dead_code)]

pub mod document_server;
mod endpoints;
mod resources;
mod security_log;
mod tokens;
mod users;

pub use resources::{claims_of, merge};
pub use security_log::{security_events, security_log};
pub use tokens::sign_raw;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Once;

use castellan::app::config::Config;
use castellan::app::server::build_state_with_clock;
use castellan::domain::Clock;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, IntrospectionUrl, RevocationUrl, TokenUrl,
};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot;

pub const ADMIN_ID: &str = "test-admin";
pub const ADMIN_SECRET: &str = "test-admin-secret-with-more-than-32-characters";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn(Backend)` test once per backend:
/// `both_backends!(test_name);` defines `test_name::sqlite` and `test_name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(castellan_postgres_tests),
                ignore = "Postgres: set CASTELLAN_TEST_POSTGRES_URL"
            )]
            async fn postgres() {
                super::$test($crate::helpers::Backend::Postgres).await;
            }
        }
    )+};
}

/// [`both_backends!`] for tests that drive the real browser: ignored, with
/// the reason, where Chromium and ChromeDriver are not installed.
#[macro_export]
macro_rules! both_backends_in_a_browser {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(castellan_browser_tests),
                ignore = "browser: install Debian's chromium and chromium-driver"
            )]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                any(not(castellan_postgres_tests), not(castellan_browser_tests)),
                ignore = "browser on Postgres: set CASTELLAN_TEST_POSTGRES_URL and install chromium"
            )]
            async fn postgres() {
                super::$test($crate::helpers::Backend::Postgres).await;
            }
        }
    )+};
}

/// [`both_backends!`] for tests that run a Node.js program (tests/mcp):
/// ignored, with the reason, where Node.js or its packages are missing.
#[macro_export]
macro_rules! both_backends_with_node {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(castellan_node_tests), ignore = "node: run `npm ci --prefix tests/mcp`")]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                any(not(castellan_postgres_tests), not(castellan_node_tests)),
                ignore = "node on Postgres: set CASTELLAN_TEST_POSTGRES_URL and run `npm ci --prefix tests/mcp`"
            )]
            async fn postgres() {
                super::$test($crate::helpers::Backend::Postgres).await;
            }
        }
    )+};
}

/// Where CI requires a half of the suite, its absence is a failure rather
/// than a list of ignored tests.
#[test]
fn every_required_half_of_the_suite_can_run() {
    let required = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
    if required("CASTELLAN_TEST_REQUIRE_POSTGRES") {
        assert!(
            cfg!(castellan_postgres_tests) && postgres_url().is_some(),
            "CASTELLAN_TEST_REQUIRE_POSTGRES is set but CASTELLAN_TEST_POSTGRES_URL is not"
        );
    }
    if required("CASTELLAN_TEST_REQUIRE_BROWSER") {
        let installed = cfg!(castellan_browser_tests);
        assert!(installed, "CASTELLAN_TEST_REQUIRE_BROWSER is set but Chromium is not installed");
    }
    if required("CASTELLAN_TEST_REQUIRE_NODE") {
        let installed = cfg!(castellan_node_tests);
        assert!(installed, "CASTELLAN_TEST_REQUIRE_NODE is set but `npm ci --prefix tests/mcp` has not run");
    }
}

/// The Postgres server for tests, or `None` (announced once) to skip.
pub fn postgres_url() -> Option<String> {
    static ANNOUNCE: Once = Once::new();
    let url = std::env::var("CASTELLAN_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CASTELLAN_TEST_REQUIRE_POSTGRES").is_err(),
            "CASTELLAN_TEST_REQUIRE_POSTGRES is set but CASTELLAN_TEST_POSTGRES_URL is not"
        );
        ANNOUNCE.call_once(|| {
            // Written past the test harness's capture, so the skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** Postgres tests SKIPPED: set CASTELLAN_TEST_POSTGRES_URL \
                 (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them ***\n"
            );
        });
    }
    url
}

/// A fresh database: a temporary SQLite file, or a new Postgres database
/// that is dropped when the test ends.
pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl TestDatabase {
    /// Creates the database; returns it (keep it alive for the test) and its URL.
    pub async fn create(backend: Backend) -> (Self, String) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}/castellan.db", dir.path().display());
                (Self::Sqlite(dir), url)
            }
            Backend::Postgres => {
                let server_url = postgres_url().expect("Postgres tests need CASTELLAN_TEST_POSTGRES_URL");
                let name = format!(
                    "castellan_test_{}",
                    castellan::domain::secret::random_token(9).to_lowercase().replace('-', "_")
                );
                let mut connection =
                    sqlx::PgConnection::connect(&server_url).await.expect("connect to the test Postgres");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut connection)
                    .await
                    .expect("create the test database");
                let url = database_url(&server_url, &name);
                (Self::Postgres { server_url, name }, url)
            }
        }
    }
}

/// The storage of a fresh database with migrations applied, opened with a
/// pool of 8 connections (so concurrent calls really race), for tests that
/// call the storage traits directly. Keep the `TestDatabase` alive meanwhile.
pub async fn fresh_storage(backend: Backend) -> (TestDatabase, castellan::storage::Storage) {
    let (database, url) = TestDatabase::create(backend).await;
    let storage = castellan::storage::Storage::connect(&url, 8).await.expect("open the test storage");
    (database, storage)
}

/// `server_url` with its database path replaced by `name`.
fn database_url(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("CASTELLAN_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres { server_url, name } = self else { return };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut connection = sqlx::PgConnection::connect(&server_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut connection)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A running Castellan with a fresh database.
pub struct TestApp {
    pub backend: Backend,
    /// The base URL, which is also the issuer.
    pub address: String,
    pub database_url: String,
    /// An HTTP client that never follows redirects.
    pub http: reqwest::Client,
    /// The server's clock (shared with its other instances): a test moves it
    /// forward instead of sleeping until something expires.
    pub clock: Clock,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    // Dropped last: the server must stop before its database goes.
    database: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts a server with extra environment settings (`("CASTELLAN_ACCESS_TOKEN_TTL", "10")`).
    pub async fn spawn_with(backend: Backend, settings: &[(&str, &str)]) -> Self {
        let (database, database_url) = TestDatabase::create(backend).await;
        Self::spawn_on(backend, database, database_url, settings).await
    }

    async fn spawn_on(
        backend: Backend,
        database: TestDatabase,
        database_url: String,
        settings: &[(&str, &str)],
    ) -> Self {
        security_log::capture_security_events();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let config = test_config(&address, &database_url, settings);
        let clock = Clock::system();
        let state = build_state_with_clock(config, clock.clone()).await.expect("the server starts");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = castellan::app::server::run(state, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            backend,
            address,
            database_url,
            http,
            clock,
            shutdown: Some(shutdown),
            server: Some(server),
            database,
        }
    }

    /// A second instance on the same database (several instances behind a load balancer).
    pub async fn second_instance(&self, settings: &[(&str, &str)]) -> SecondInstance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        // Same issuer: the instances are one authorization server.
        let config = test_config(&self.address, &self.database_url, settings);
        let state =
            build_state_with_clock(config, self.clock.clone()).await.expect("the second instance starts");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = castellan::app::server::run(state, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        SecondInstance { address, _shutdown: shutdown }
    }

    /// Stops the server and waits until it has finished.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Stops the server and starts a new one on the same address and
    /// database (a restart, or a new release being deployed).
    pub async fn restart(&mut self, settings: &[(&str, &str)]) {
        self.stop().await;
        let bound = self.address.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind(&bound).await.expect("bind the same port again");
        let config = test_config(&self.address, &self.database_url, settings);
        let state = build_state_with_clock(config, self.clock.clone()).await.expect("the server restarts");
        let (shutdown, stopped) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(async move {
            let _ = castellan::app::server::run(state, listener, async {
                let _ = stopped.await;
            })
            .await;
        }));
        self.shutdown = Some(shutdown);
        // Pooled connections went with the old server.
        self.http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
    }
}

/// Another instance sharing a `TestApp`'s database; stops when dropped.
pub struct SecondInstance {
    pub address: String,
    _shutdown: oneshot::Sender<()>,
}

impl SecondInstance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

fn test_config(issuer: &str, database_url: &str, settings: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = [
        ("CASTELLAN_ISSUER", issuer),
        ("DATABASE_URL", database_url),
        ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID", ADMIN_ID),
        ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET", ADMIN_SECRET),
        ("CASTELLAN_DATABASE_MAX_CONNECTIONS", "4"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (name, value) in settings {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid test configuration")
}

/// The current time in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// A response's status and JSON body (`Value::Null` when the body is not JSON).
pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Asserts an RFC 6749 §5.2 error answer: `status` and JSON with `error` = `code`.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    let (actual, body) = status_and_json(response).await;
    assert_eq!((actual, body["error"].as_str()), (status, Some(code)), "{body}");
    body
}
