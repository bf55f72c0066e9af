//! The resolver the fetcher's HTTP client connects through: it answers
//! only with addresses that may be fetched from, so the connection goes
//! to an address that was checked.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::FetchError;
use crate::domain::public_address::is_public;

/// At most this many addresses are kept from one answer.
const MAX_ADDRESSES: usize = 8;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Refused(pub(super) FetchError);

fn refused(error: FetchError) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(Refused(error))
}

pub(super) struct CheckedResolver {
    allow_hosts: HashSet<String>,
    fixed: HashMap<String, Vec<IpAddr>>,
}

impl CheckedResolver {
    pub(super) fn new(allow_hosts: HashSet<String>, fixed: HashMap<String, Vec<IpAddr>>) -> Self {
        Self { allow_hosts, fixed }
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let allowed = self.allow_hosts.contains(&host);
        let fixed = self.fixed.get(&host).cloned();
        Box::pin(async move {
            let addresses: Vec<IpAddr> = match fixed {
                Some(addresses) => addresses,
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await
                    .map_err(|_| refused(FetchError::Unresolved))?
                    .map(|address| address.ip())
                    .take(MAX_ADDRESSES)
                    .collect(),
            };
            if addresses.is_empty() {
                return Err(refused(FetchError::Unresolved));
            }
            // One non-public address refuses the host: connecting to the
            // public ones only would still let a name point at both.
            if !allowed && !addresses.iter().all(|address| is_public(*address)) {
                return Err(refused(FetchError::NotPublic));
            }
            let addresses: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addresses)
        })
    }
}
