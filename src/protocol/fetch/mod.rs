//! Fetching documents that clients point Castellan at (`jwks_uri`, client
//! ID metadata documents), safely: the URL is the client's, so the fetch
//! must not become a way into Castellan's own network (SSRF) or a way to
//! tie up its connections and memory.
//!
//! - `https` only, through no proxy, never following a redirect;
//! - every address a host name resolves to must be public
//!   (`domain::public_address`), checked after resolution by the resolver
//!   the HTTP client connects through, so the address checked is the
//!   address connected to (no second lookup that DNS rebinding could
//!   answer differently); an IP literal in the URL is checked the same way;
//!   host names an operator lists in `CASTELLAN_FETCH_ALLOW_HOSTS` are
//!   exempt (closed networks, tests);
//! - a few seconds for the whole fetch and a small body limit;
//! - answers cached as HTTP caching says, within bounds, and concurrent
//!   fetches of one URL coalesced (see `documents`).

mod cache_control;
mod documents;
mod resolver;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

pub use documents::{CachePolicy, CachedDocuments, DocumentError};

use crate::domain::HttpsUrl;
use crate::domain::public_address::is_public;

/// How fetching behaves; from `CASTELLAN_FETCH_*` and `CASTELLAN_EXTRA_CA_CERTS`.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Host names (lower case) that may resolve to non-public addresses.
    pub allow_hosts: HashSet<String>,
    /// Fixed answers for host names, as curl's `--resolve`: for tests and
    /// closed networks. The addresses are checked like any other.
    pub resolve: HashMap<String, Vec<IpAddr>>,
    /// PEM certificates trusted besides the system's.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// The whole fetch, connection included.
    pub timeout: Duration,
    /// The largest body accepted.
    pub max_bytes: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            allow_hosts: HashSet::new(),
            resolve: HashMap::new(),
            extra_ca_pem: None,
            timeout: Duration::from_secs(5),
            max_bytes: 64 * 1024,
        }
    }
}

/// Why a document could not be fetched. The text is safe to show the
/// client that registered the URL (it names no internal detail beyond the
/// class of failure).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error(
        "the host resolves to an address Castellan does not fetch from (private, loopback or link-local)"
    )]
    NotPublic,
    #[error("the host name could not be resolved")]
    Unresolved,
    #[error("the server answered with a redirect, which is not followed")]
    Redirect,
    #[error("the server answered with HTTP status {0}")]
    Status(u16),
    #[error("the document is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the server did not answer in time")]
    Timeout,
    #[error("the document could not be fetched (connection or TLS failure)")]
    Transport,
    #[error("too many documents are being fetched; try again shortly")]
    Busy,
}

/// A fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// How long the server lets it be reused (`Cache-Control`), unbounded here.
    pub max_age: Option<Duration>,
    pub no_store: bool,
}

/// The one HTTP client for client-controlled URLs.
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    /// Fetches in flight at most, so that anonymous requests naming new
    /// URLs cannot use up the process's connections and files.
    in_flight: tokio::sync::Semaphore,
}

/// See [`Fetcher::in_flight`].
pub const MAX_FETCHES_IN_FLIGHT: usize = 32;

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Self, String> {
        // Other HTTP clients in the process (tests, later the OTLP exporter)
        // build their TLS from the process default: make it aws-lc-rs, as
        // here. An error means one was installed already, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let tls = tls_config(settings.extra_ca_pem.as_deref())?;
        let resolver = resolver::CheckedResolver::new(settings.allow_hosts.clone(), settings.resolve.clone());
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .https_only(true)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // Hosts are anyone's: no connection is kept open after a fetch.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("castellan/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(|error| format!("the HTTP client for fetching documents: {error}"))?;
        Ok(Self { client, settings, in_flight: tokio::sync::Semaphore::new(MAX_FETCHES_IN_FLIGHT) })
    }

    /// Fetches `url` once, with every check. No caching here.
    pub async fn get(&self, url: &HttpsUrl) -> Result<Fetched, FetchError> {
        self.check_literal_host(url)?;
        let Ok(_permit) = self.in_flight.try_acquire() else { return Err(FetchError::Busy) };
        let request = self.client.get(url.url().clone()).header("accept", "application/json");
        let fetch = async {
            let mut response = request.send().await.map_err(classify)?;
            let status = response.status();
            if status.is_redirection() {
                return Err(FetchError::Redirect);
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let max = self.settings.max_bytes;
            if response.content_length().is_some_and(|length| length > max as u64) {
                return Err(FetchError::TooLarge(max));
            }
            let caching = cache_control::parse(response.headers());
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched { body, max_age: caching.max_age, no_store: caching.no_store })
        };
        // reqwest's timeout covers the body too; this one also bounds a
        // resolver that never answers.
        tokio::time::timeout(self.settings.timeout, fetch).await.map_err(|_| FetchError::Timeout)?
    }

    /// The resolver never sees an IP literal, so it is checked here.
    fn check_literal_host(&self, url: &HttpsUrl) -> Result<(), FetchError> {
        let literal: Option<IpAddr> = match url.url().host() {
            Some(url::Host::Ipv4(v4)) => Some(v4.into()),
            Some(url::Host::Ipv6(v6)) => Some(v6.into()),
            _ => None,
        };
        match literal {
            Some(address) if !is_public(address) && !self.settings.allow_hosts.contains(&url.host()) => {
                Err(FetchError::NotPublic)
            }
            _ => Ok(()),
        }
    }
}

fn classify(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    if error.is_redirect() {
        return FetchError::Redirect;
    }
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<resolver::Refused>() {
            return refused.0.clone();
        }
        source = current.source();
    }
    FetchError::Transport
}

/// TLS with the system's roots (Mozilla's where the system has none, as in
/// a minimal container image) and the operator's extra CA certificates.
fn tls_config(extra_ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(pem) = extra_ca_pem {
        let mut count = 0;
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|error| format!("CASTELLAN_EXTRA_CA_CERTS: {error}"))?;
            roots.add(certificate).map_err(|error| format!("CASTELLAN_EXTRA_CA_CERTS: {error}"))?;
            count += 1;
        }
        if count == 0 {
            return Err("CASTELLAN_EXTRA_CA_CERTS holds no PEM certificate".into());
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}
