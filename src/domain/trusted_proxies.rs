//! The client's address behind reverse proxies. Castellan speaks plain HTTP
//! and runs behind a proxy in production, where every TCP peer is the proxy.
//! Only a peer in `CASTELLAN_TRUSTED_PROXIES` is believed about who its
//! client is (RFC 7239 `Forwarded`, or `X-Forwarded-For`), and then only as
//! far as the chain of trusted proxies goes: the client is the rightmost
//! address not in the list, since everything left of it could have been
//! written by the client itself.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// Addresses and networks (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// At most this many forwarded hops are read from a request.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Comma- or space-separated addresses and CIDR networks.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for item in value.split([',', ' ']).map(str::trim).filter(|item| !item.is_empty()) {
            let network = IpNet::from_str(item)
                .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR network"))?;
            networks.push(network);
        }
        Ok(Self(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address: `peer` itself unless it is a trusted proxy;
    /// then the rightmost forwarded address that is not a trusted proxy
    /// (`Forwarded` if present, else `X-Forwarded-For`). A header that does
    /// not parse is not believed at all.
    pub fn client_address(&self, peer: IpAddr, forwarded: &[&str], x_forwarded_for: &[&str]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let chain = if forwarded.is_empty() {
            parse_x_forwarded_for(x_forwarded_for)
        } else {
            parse_forwarded(forwarded)
        };
        let Some(chain) = chain else { return peer };
        let mut client = peer;
        for address in chain.into_iter().rev().take(MAX_HOPS) {
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// `X-Forwarded-For: client, proxy1, proxy2` (over one or more headers).
fn parse_x_forwarded_for(values: &[&str]) -> Option<Vec<IpAddr>> {
    let items = values.iter().flat_map(|value| value.split(','));
    items.map(|item| parse_node(item.trim())).collect()
}

/// RFC 7239 §4: `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`.
/// Only `for` matters; an element without one, or an obfuscated or
/// `unknown` node (§6), makes the chain unusable.
fn parse_forwarded(values: &[&str]) -> Option<Vec<IpAddr>> {
    let elements = values.iter().flat_map(|value| value.split(','));
    elements
        .map(|element| {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
            })?;
            parse_node(node)
        })
        .collect()
}

/// An address, possibly with a port: `192.0.2.7`, `192.0.2.7:80`,
/// `[2001:db8::1]`, `[2001:db8::1]:80`, or a bare IPv6 address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(address, _)| address.parse().ok());
    }
    node.parse().ok().or_else(|| node.rsplit_once(':').and_then(|(address, _)| address.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(value: &str) -> IpAddr {
        value.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse("10.0.0.0/8, 192.0.2.1 2001:db8:ffff::/48").unwrap()
    }

    #[test]
    fn settings_are_addresses_and_networks() {
        assert_eq!(proxies().0.len(), 3);
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer = ip("198.51.100.9");
        assert_eq!(proxies().client_address(peer, &[], &["203.0.113.5"]), peer);
        assert_eq!(TrustedProxies::default().client_address(peer, &["for=203.0.113.5"], &[]), peer);
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let peer = ip("10.1.1.1");
        let chain = ["6.6.6.6, 203.0.113.5", "10.2.2.2"];
        assert_eq!(proxies().client_address(peer, &[], &chain), ip("203.0.113.5"));
        assert_eq!(proxies().client_address(peer, &[], &["10.3.3.3, 10.2.2.2"]), ip("10.3.3.3"));
        assert_eq!(proxies().client_address(peer, &[], &[]), peer);
    }

    #[test]
    fn forwarded_is_preferred_and_read_per_rfc_7239() {
        let peer = ip("192.0.2.1");
        let forwarded = ["for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https", "For=10.9.9.9"];
        assert_eq!(proxies().client_address(peer, &forwarded, &["203.0.113.5"]), ip("2001:db8::7"));
        assert_eq!(proxies().client_address(peer, &["for=unknown"], &["203.0.113.5"]), peer);
        assert_eq!(proxies().client_address(peer, &["for=198.51.100.1:80"], &[]), ip("198.51.100.1"));
    }

    #[test]
    fn a_forwarded_header_that_does_not_parse_is_not_believed() {
        let peer = ip("10.1.1.1");
        assert_eq!(proxies().client_address(peer, &[], &["203.0.113.5, garbage"]), peer);
    }

    #[test]
    fn ipv4_mapped_peers_are_matched_as_ipv4() {
        let peer = ip("::ffff:10.1.1.1");
        assert_eq!(proxies().client_address(peer, &[], &["203.0.113.5"]), ip("203.0.113.5"));
    }
}
