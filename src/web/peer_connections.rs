//! Open connections per client address, so that one address cannot hold
//! every place under the connection cap and keep everyone else out. The
//! address is the TCP peer (IPv6 per /64): trusted reverse proxies, which
//! carry everyone's connections, are not limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::domain::TrustedProxies;

/// The share of the connection cap one address may hold.
const PEER_SHARE: usize = 8;
/// ...but never fewer than this (a browser opens about six).
const MIN_PER_PEER: usize = 16;

pub struct PeerConnections {
    open: Mutex<HashMap<IpAddr, usize>>,
    max_per_peer: usize,
    exempt: TrustedProxies,
}

/// One open connection of a peer; dropping it closes the place.
pub struct PeerPlace {
    peers: Arc<PeerConnections>,
    key: Option<IpAddr>,
}

impl PeerConnections {
    pub fn new(max_connections: usize, exempt: TrustedProxies) -> Arc<Self> {
        let max_per_peer = (max_connections / PEER_SHARE).max(MIN_PER_PEER);
        Arc::new(Self { open: Mutex::default(), max_per_peer, exempt })
    }

    /// A place for a connection from `peer`, unless it already holds its share.
    pub fn enter(self: &Arc<Self>, peer: IpAddr) -> Option<PeerPlace> {
        let peer = peer.to_canonical();
        if self.exempt.trusts(peer) {
            return Some(PeerPlace { peers: self.clone(), key: None });
        }
        let key = match peer {
            IpAddr::V4(_) => peer,
            IpAddr::V6(v6) => IpAddr::V6((v6.to_bits() & !((1u128 << 64) - 1)).into()),
        };
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= self.max_per_peer {
            return None;
        }
        *count += 1;
        Some(PeerPlace { peers: self.clone(), key: Some(key) })
    }
}

impl Drop for PeerPlace {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut open = self.peers.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ForwardedHeader;

    #[test]
    fn one_address_holds_at_most_its_share_and_gets_places_back() {
        let peers = PeerConnections::new(160, TrustedProxies::default());
        let address: IpAddr = "203.0.113.1".parse().unwrap();
        let places: Vec<_> = (0..20).map_while(|_| peers.enter(address)).collect();
        assert_eq!(places.len(), 20);
        assert!(peers.enter(address).is_none());
        assert!(peers.enter("203.0.113.2".parse().unwrap()).is_some());
        drop(places);
        assert!(peers.enter(address).is_some());
        assert!(peers.open.lock().unwrap().len() <= 1);
    }

    #[test]
    fn ipv6_peers_share_a_64_and_trusted_proxies_are_not_limited() {
        let proxy = TrustedProxies::parse("10.0.0.1", ForwardedHeader::default()).unwrap();
        let peers = PeerConnections::new(16, proxy);
        let _places: Vec<_> =
            (0..16).map(|n| peers.enter(format!("2001:db8::{n}").parse().unwrap())).collect();
        assert!(peers.enter("2001:db8::ffff".parse().unwrap()).is_none());
        let proxied: Vec<_> = (0..100).filter_map(|_| peers.enter("10.0.0.1".parse().unwrap())).collect();
        assert_eq!(proxied.len(), 100);
    }
}
