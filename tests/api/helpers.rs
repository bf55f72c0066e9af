//! The test harness: `TestApp::spawn(backend)` starts Castellan on a random
//! port with a fresh database, and offers one helper per endpoint. Protocol
//! calls go through the `oauth2` crate, as a real client would make them.
//!
//! Postgres tests use `CASTELLAN_TEST_POSTGRES_URL` (a server URL whose
//! database is used only to create and drop one database per test). When it
//! is unset they are skipped, and the run says so on stderr, unless
//! `CASTELLAN_TEST_REQUIRE_POSTGRES=1` makes that a failure (as in CI).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::Once;

use castellan::config::Config;
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
            async fn postgres() {
                if $crate::helpers::postgres_url().is_some() {
                    super::$test($crate::helpers::Backend::Postgres).await;
                }
            }
        }
    )+};
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
enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl TestDatabase {
    async fn create(backend: Backend) -> (Self, String) {
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
                    castellan::secret::random_token(9).to_lowercase().replace('-', "_")
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let config = test_config(&address, &database_url, settings);
        let state = castellan::server::build_state(config).await.expect("the server starts");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = castellan::server::run(state, listener, async {
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
        let state = castellan::server::build_state(config).await.expect("the second instance starts");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = castellan::server::run(state, listener, async {
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
        let state = castellan::server::build_state(config).await.expect("the server restarts");
        let (shutdown, stopped) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(async move {
            let _ = castellan::server::run(state, listener, async {
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

    /// The server's active ES256 signing key, read from its database.
    pub async fn server_key(&self) -> std::sync::Arc<castellan::keys::KeyMaterial> {
        use castellan::keys::{KeyAlgorithm, Keyring};
        let storage =
            castellan::storage::Storage::connect(&self.database_url, 1).await.expect("open the database");
        let keyring = Keyring::load(storage.keys.clone(), None).await.expect("load the signing keys");
        let key = keyring.signing_key(KeyAlgorithm::Es256).expect("an active ES256 key");
        storage.health.close().await;
        key
    }

    /// Signs `claims` with the server's own key under header `typ`: for
    /// tokens Castellan would never issue (expired, foreign issuer, wrong
    /// type) that still carry a good signature.
    pub async fn sign_with_server_key(&self, typ: &str, claims: &Value) -> String {
        let key = self.server_key().await;
        sign_raw(&key, &json!({"alg": "ES256", "typ": typ, "kid": key.kid}), claims)
    }

    /// Claims as Castellan issues them for `client_id`, valid for an hour from now.
    pub fn claims_for(&self, client_id: &str, scope: &str) -> Value {
        let now = now();
        json!({
            "iss": self.address, "sub": client_id, "aud": self.address,
            "exp": now + 3600, "iat": now, "jti": castellan::secret::random_token(16),
            "client_id": client_id, "scope": scope,
        })
    }

    /// An admin API request with `token` (none if `None`) and an optional JSON body.
    pub async fn admin_request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        status_and_json(request.send().await.unwrap()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn discovery(&self) -> Value {
        let response =
            self.http.get(self.url("/.well-known/oauth-authorization-server")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The endpoint named `field` in the discovery document.
    pub async fn endpoint(&self, field: &str) -> String {
        self.discovery().await[field].as_str().unwrap_or_else(|| panic!("discovery lists {field}")).to_owned()
    }

    /// An `oauth2` client for `id`/`secret`, with the token, introspection
    /// and revocation endpoints found through discovery.
    pub async fn oauth_client(&self, id: &str, secret: &str) -> OAuthClient {
        let metadata = self.discovery().await;
        let url = |field: &str| metadata[field].as_str().unwrap().to_owned();
        BasicClient::new(ClientId::new(id.to_owned()))
            .set_client_secret(ClientSecret::new(secret.to_owned()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::new(url("token_endpoint")).unwrap())
            .set_introspection_url(IntrospectionUrl::new(url("introspection_endpoint")).unwrap())
            .set_revocation_url(RevocationUrl::new(url("revocation_endpoint")).unwrap())
    }

    /// A `client_credentials` access token for `id`/`secret` (panics on error).
    pub async fn token_for(&self, id: &str, secret: &str, scopes: &[&str]) -> String {
        use oauth2::TokenResponse;
        let client = self.oauth_client(id, secret).await;
        let mut request = client.exchange_client_credentials();
        for scope in scopes {
            request = request.add_scope(oauth2::Scope::new((*scope).to_owned()));
        }
        let response = request.request_async(&self.http).await.expect("client_credentials succeeds");
        response.access_token().secret().clone()
    }

    /// An admin-scoped token of the bootstrap admin client.
    pub async fn admin_token(&self) -> String {
        self.token_for(ADMIN_ID, ADMIN_SECRET, &["admin"]).await
    }

    /// `POST /admin/clients` with `metadata`; returns status and body.
    pub async fn register_client(&self, metadata: Value) -> (u16, Value) {
        let token = self.admin_token().await;
        let response = self
            .http
            .post(self.url("/admin/clients"))
            .bearer_auth(token)
            .json(&metadata)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers a `client_credentials` client with `scope`; returns (id, secret).
    pub async fn service_client(&self, scope: &str) -> (String, String) {
        let (status, body) = self
            .register_client(json!({
                "client_name": "test service",
                "grant_types": ["client_credentials"],
                "redirect_uris": [],
                "response_types": [],
                "scope": scope,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        (body["client_id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap().to_owned())
    }

    /// Introspects `token` as `caller` (id, secret) and returns the JSON answer.
    pub async fn introspect(&self, caller: (&str, &str), token: &str) -> Value {
        let response = self
            .http
            .post(self.url("/oauth2/introspect"))
            .basic_auth(caller.0, Some(caller.1))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Revokes `token` as `caller` (id, secret); returns the status. (The
    /// `oauth2` crate refuses a plain-http revocation URL, so this is raw HTTP.)
    pub async fn revoke(&self, caller: (&str, &str), token: &str) -> u16 {
        let response = self
            .http
            .post(self.url("/oauth2/revoke"))
            .basic_auth(caller.0, Some(caller.1))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    /// Sends a raw form body to `path` with optional Basic credentials.
    pub async fn post_form(&self, path: &str, body: &str, basic: Option<(&str, &str)>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    pub async fn jwks(&self) -> JwkSet {
        let uri = self.endpoint("jwks_uri").await;
        self.http.get(uri).send().await.unwrap().json().await.unwrap()
    }

    /// Verifies an access token offline, as a resource server would: with
    /// the JWKS, the issuer, and `typ: at+jwt`.
    pub async fn verify_offline(&self, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let jwks = self.jwks().await;
        let kid = header.kid.expect("access tokens carry a kid");
        let jwk = jwks.find(&kid).expect("the token's key is in the JWKS");
        let key = DecodingKey::from_jwk(jwk)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.address.as_str()]);
        validation.validate_aud = false;
        Ok(jsonwebtoken::decode::<Value>(token, &key, &validation)?.claims)
    }
}

pub type OAuthClient = BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

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

/// A compact JWS of `header` and `claims` signed by `key`, whatever the header says.
pub fn sign_raw(key: &castellan::keys::KeyMaterial, header: &Value, claims: &Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes()).expect("signing works");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
