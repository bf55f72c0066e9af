//! Assembling and running the server: storage, keys and caches into the
//! shared state; background upkeep; graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::config::Config;
use super::{bootstrap, process};
use crate::domain::page::MAX_PAGE_SIZE;
use crate::domain::scope::ADMIN_SCOPE;
use crate::domain::{Clock, PageRequest};
use crate::protocol::client_auth::private_key_jwt;
use crate::protocol::client_metadata_documents::ClientMetadataDocuments;
use crate::protocol::clients::ClientRegistry;
use crate::protocol::cors_origins::CorsOrigins;
use crate::protocol::fetch::Fetcher;
use crate::protocol::keyring::{KEY_REFRESH_INTERVAL, Keyring, KeyringError};
use crate::protocol::password::Passwords;
use crate::protocol::resources::ResourceRegistry;
use crate::protocol::revocation_list::RevocationList;
use crate::protocol::{Context, registration, revocation, throttle, token};
use crate::storage::{Storage, StorageError};
use crate::web::{self, AppState};

const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Storage(#[from] StorageError),
    #[error("cannot load the signing keys: {0}")]
    Keys(#[from] KeyringError),
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
    #[error("cannot start the password hashing threads: {0}")]
    HashingThreads(std::io::Error),
    #[error("cannot set up fetching documents: {0}")]
    Fetcher(String),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Connects storage, loads keys and caches, and creates the bootstrap client.
pub async fn build_state(config: Config) -> Result<AppState, StartError> {
    build_state_with_clock(config, Clock::system()).await
}

/// [`build_state`] with a clock a test may move forward.
pub async fn build_state_with_clock(config: Config, clock: Clock) -> Result<AppState, StartError> {
    let storage = Storage::connect(&config.database_url, config.database_max_connections).await?;
    if config.key_encryption_key.is_none() {
        tracing::warn!(
            "CASTELLAN_KEY_ENCRYPTION_KEY is unset: signing keys are stored unencrypted, and anyone who can \
             read the database can sign tokens"
        );
    }
    if !config.issuer().is_https() && !config.issuer().is_loopback() {
        tracing::warn!(
            issuer = %config.issuer(),
            "the issuer is plain http (CASTELLAN_ALLOW_HTTP_ISSUER=true): passwords and tokens cross the network unencrypted"
        );
    }
    let keys = Keyring::load_with_previous(
        storage.keys.clone(),
        config.key_encryption_key.clone(),
        config.previous_key_encryption_key.clone(),
        clock.clone(),
    )
    .await?;
    let revocations =
        RevocationList::load(storage.revocations.clone(), config.sync_interval, clock.clone()).await?;
    if let Some(admin) = &config.bootstrap_admin {
        bootstrap::ensure_admin_client(storage.clients.as_ref(), admin, clock.now()).await?;
    }
    let fetcher = Arc::new(Fetcher::new(config.fetch.clone()).map_err(StartError::Fetcher)?);
    let resources = Arc::new(ResourceRegistry::new(storage.resources.clone(), config.client_cache_ttl));
    let mut clients = ClientRegistry::new(storage.clients.clone(), config.client_cache_ttl);
    if config.client_metadata_documents {
        clients = clients.with_metadata_documents(Arc::new(ClientMetadataDocuments::new(
            fetcher.clone(),
            storage.client_metadata_documents.clone(),
            resources.clone(),
            clock.clone(),
            config.client_cache_ttl,
        )));
    }
    let clients = Arc::new(clients);
    let cors_origins = Arc::new(CorsOrigins::new(
        storage.clients.clone(),
        clients.clone(),
        config.client_cache_ttl,
        clock.clone(),
    ));
    let client_key_sets = Arc::new(private_key_jwt::key_set_cache(fetcher.clone(), clock.clone()));
    let protocol = Context {
        clients,
        resources,
        cors_origins,
        settings: Arc::new(config.protocol.clone()),
        storage,
        keys: Arc::new(keys),
        fetcher,
        client_key_sets,
        revocations: Arc::new(revocations),
        verified_tokens: Arc::default(),
        client_auth_throttle: Arc::default(),
        passwords: Arc::new(Passwords::start(&config.passwords).map_err(StartError::HashingThreads)?),
        client_usage: Arc::default(),
        clock,
    };
    Ok(AppState::new(
        protocol,
        config.sessions.clone(),
        config.limits.clone(),
        config.trusted_proxies.clone(),
    ))
}

/// Periodic upkeep: fetch other instances' revocations and key changes
/// (a revoked key), pick up rotated keys, and prune what has expired.
fn spawn_upkeep(state: &AppState) -> Vec<JoinHandle<()>> {
    let (revocations, keys) = (state.revocations.clone(), state.keys.clone());
    let sync = every(state.revocations.sync_interval(), move || {
        let (revocations, keys) = (revocations.clone(), keys.clone());
        async move {
            if let Err(error) = revocations.sync().await {
                tracing::warn!(%error, "syncing revocations failed");
            }
            if let Err(error) = keys.sync().await {
                tracing::warn!(%error, "syncing signing keys failed");
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
    let upkept = state.clone();
    let prune = every(PRUNE_INTERVAL, move || {
        let state = upkept.clone();
        async move { prune(&state).await }
    });
    vec![sync, refresh, prune]
}

/// One pass of the periodic pruning (public so tests can run it at once):
/// expired records, revocations and retired keys go; the uses of dynamic
/// clients are recorded, and those unused too long are deleted.
pub async fn prune(state: &AppState) {
    let now = state.clock.now();
    prune_expired(&state.storage, now).await;
    if let Err(error) = state.revocations.prune(now - revocation::RATE_WINDOW_SECS).await {
        tracing::warn!(%error, "pruning revocations failed");
    }
    if let Err(error) = state.keys.prune().await {
        tracing::warn!(%error, "pruning retired keys failed");
    }
    if let Err(error) = registration::usage::upkeep(state).await {
        tracing::warn!(%error, "recording client use or pruning unused dynamic clients failed");
    }
}

/// Deletes expired sessions, codes, token families, throttling counters
/// and client assertion `jti`s.
/// How long past its expiry an assertion's `jti` is still kept.
const ASSERTION_JTI_PRUNE_MARGIN_SECS: i64 = 300;

async fn prune_expired(storage: &Storage, now: i64) {
    let results = [
        storage.sessions.prune_sessions(now).await,
        storage.grants.prune_grants(token::grants_ended_before(now)).await,
        storage.login_throttle.prune_login_failures(now - throttle::WINDOW_SECS).await,
        // With a margin: an instance whose clock lags must still find the
        // jti of an assertion it would take as unexpired.
        storage.assertions.prune_assertion_jtis(now - ASSERTION_JTI_PRUNE_MARGIN_SECS).await,
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
    let version = env!("CARGO_PKG_VERSION");
    tracing::info!(%address, issuer = %state.settings.issuer, version, "castellan is ready");
    if !has_admin_client(&state).await {
        tracing::info!(
            "no client may use the admin API yet: set CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID and \
             CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET (32+ characters, e.g. `openssl rand -hex 32`) and start \
             again; the README's walk-through goes on from there"
        );
    }
    let served = web::serve(state, listener, shutdown).await;
    upkeep.iter().for_each(JoinHandle::abort);
    storage.health.close().await;
    tracing::info!("castellan stopped");
    served.map_err(StartError::Serve)
}

/// Whether some client may ask for the `admin` scope (else the first run
/// says how to get one).
async fn has_admin_client(state: &AppState) -> bool {
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        match state.storage.clients.list_clients(&page).await {
            Ok(clients) if clients.iter().any(|client| client.metadata.scope.contains(ADMIN_SCOPE)) => {
                return true;
            }
            Ok(clients) if clients.len() == page.fetch_limit() => {
                page.after = clients.last().map(|client| client.id.to_string());
            }
            Ok(_) => return false,
            // Not worth a warning of its own: the database will say more.
            Err(_) => return true,
        }
    }
}

/// `castellan serve`: everything, bound to the configured address, until
/// SIGTERM or SIGINT.
pub async fn serve(mut config: Config) -> Result<(), StartError> {
    process::fit_connections_to_open_file_limit(&mut config.limits);
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
