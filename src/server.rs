//! Assembling and running the server: storage, keys and caches into the
//! shared state; the public and admin routers; background upkeep; graceful
//! shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::client_registry::ClientRegistry;
use crate::config::Config;
use crate::error::ProtocolError;
use crate::keys::{Keyring, KeyringError};
use crate::revocation::RevocationList;
use crate::state::AppState;
use crate::storage::{Storage, StorageError};
use crate::{
    admin, authorize, bootstrap, consent, discovery, health, introspect, jwks, login, logout, pages, revoke,
    routes, session, token, userinfo,
};

/// How often each instance re-reads the signing keys (to pick up a rotation).
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot load the signing keys: {0}")]
    Keys(#[from] KeyringError),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Until when a key retired now must stay in the JWKS: past the expiry of
/// the last token any instance may still sign with it. The longest allowed
/// token lifetime is used, not this process's: `keys rotate` may run with
/// other settings than the servers.
pub fn retired_key_publish_until() -> i64 {
    let margin = KEY_REFRESH_INTERVAL.as_secs() + 60;
    crate::clock::now() + (crate::config::MAX_ACCESS_TOKEN_TTL_SECS + margin) as i64
}

/// Connects storage, loads keys and caches, and creates the bootstrap client.
pub async fn build_state(config: Config) -> Result<AppState, StartError> {
    let storage = Storage::connect(&config.database_url, config.database_max_connections).await?;
    if config.issuer_is_https() && config.key_encryption_key.is_none() {
        tracing::warn!("CASTELLAN_KEY_ENCRYPTION_KEY is unset: signing keys are stored unencrypted");
    }
    let keys = Keyring::load(storage.keys.clone(), config.key_encryption_key.clone()).await?;
    let revocations = RevocationList::load(storage.revocations.clone()).await?;
    if let Some(admin) = &config.bootstrap_admin {
        bootstrap::ensure_admin_client(storage.clients.as_ref(), admin).await?;
    }
    Ok(AppState {
        clients: Arc::new(ClientRegistry::new(storage.clients.clone(), config.client_cache_ttl)),
        config: Arc::new(config),
        storage,
        keys: Arc::new(keys),
        revocations: Arc::new(revocations),
        verified_tokens: Arc::default(),
    })
}

pub fn router(state: AppState) -> Router {
    let public = Router::new()
        .route(routes::OPENID_CONFIGURATION, get(discovery::discovery))
        .route(routes::OAUTH_AUTHORIZATION_SERVER, get(discovery::discovery))
        .route(routes::JWKS, get(jwks::jwks))
        .route(routes::TOKEN, post(token::token))
        .route(routes::INTROSPECTION, post(introspect::introspect))
        .route(routes::REVOCATION, post(revoke::revoke))
        .route(routes::HEALTHZ, get(health::healthz))
        .route(routes::READYZ, get(health::readyz))
        .route(routes::USERINFO, get(userinfo::userinfo).post(userinfo::userinfo))
        .route(routes::STYLESHEET, get(pages::stylesheet));
    // Only the pages a browser visits carry the session cookie.
    let browser = Router::new()
        .route(routes::AUTHORIZATION, get(authorize::authorize_get).post(authorize::authorize_post))
        .route(routes::LOGIN, get(login::show).post(login::submit))
        .route(routes::CONSENT, get(consent::show).post(consent::submit))
        .route(routes::END_SESSION, get(logout::logout_get).post(logout::logout_post))
        .layer(session::layer(&state.config, &state.storage));
    public
        .merge(browser)
        .merge(admin::router(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(response_defaults))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn not_found() -> ProtocolError {
    ProtocolError::not_found("no such endpoint")
}

async fn method_not_allowed() -> Response {
    use axum::response::IntoResponse;
    let mut response = ProtocolError::invalid_request("this method is not allowed here").into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// One debug line per request: method, path (never the query, which may
/// carry codes or tokens), status and time taken.
async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    response
}

/// Headers every answer carries unless its handler chose otherwise:
/// nothing is cached by default (admin answers carry secrets, RFC 6749 §5.1
/// answers carry tokens), and no body is content-sniffed.
async fn response_defaults(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Periodic upkeep: fetch other instances' revocations, pick up rotated
/// keys, and prune what has expired.
fn spawn_upkeep(state: &AppState) -> Vec<JoinHandle<()>> {
    let revocations = state.revocations.clone();
    let sync = every(state.config.sync_interval, move || {
        let revocations = revocations.clone();
        async move {
            if let Err(error) = revocations.sync().await {
                tracing::warn!(%error, "syncing revocations failed");
            }
        }
    });
    let keys = state.keys.clone();
    let refresh = every(KEY_REFRESH_INTERVAL, move || {
        let keys = keys.clone();
        async move {
            if let Err(error) = keys.reload().await {
                tracing::warn!(%error, "reloading signing keys failed");
            }
        }
    });
    let (keys, revocations, storage) = (state.keys.clone(), state.revocations.clone(), state.storage.clone());
    let prune = every(PRUNE_INTERVAL, move || {
        let (keys, revocations, storage) = (keys.clone(), revocations.clone(), storage.clone());
        async move {
            prune_expired(&storage).await;
            if let Err(error) = revocations.prune().await {
                tracing::warn!(%error, "pruning revocations failed");
            }
            if let Err(error) = keys.prune().await {
                tracing::warn!(%error, "pruning retired keys failed");
            }
        }
    });
    vec![sync, refresh, prune]
}

/// Deletes expired sessions, codes, token families and throttling counters.
async fn prune_expired(storage: &Storage) {
    let now = crate::clock::now();
    let results = [
        storage.sessions.prune_sessions(now).await,
        storage.grants.prune_grants(now).await,
        storage.login_throttle.prune_login_failures(now - crate::throttle::WINDOW_SECS).await,
    ];
    for error in results.into_iter().filter_map(Result::err) {
        tracing::warn!(%error, "pruning expired records failed");
    }
}

fn every<F, Fut>(period: Duration, task: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            task().await;
        }
    })
}

/// Serves `state` on `listener` until `shutdown` completes; requests in
/// flight then finish before this returns.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let upkeep = spawn_upkeep(&state);
    let storage = state.storage.clone();
    let address = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(%address, issuer = %state.config.issuer, "castellan is ready");
    // The peer address is needed for sign-in throttling.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    upkeep.iter().for_each(JoinHandle::abort);
    storage.health.close().await;
    tracing::info!("castellan stopped");
    served.map_err(StartError::Serve)
}

/// `castellan serve`: everything, bound to the configured address, until
/// SIGTERM or SIGINT.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let listen = config.listen;
    let state = build_state(config).await?;
    let listener = TcpListener::bind(listen).await.map_err(|e| StartError::Bind(listen, e))?;
    run(state, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let interrupt = async {
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
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
