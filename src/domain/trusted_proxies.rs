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

/// Which header the trusted proxies write. Only that one is read: a proxy
/// passes the other through as the client sent it, so reading it would let
/// any client choose its own address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!("{value:?} is neither x-forwarded-for nor forwarded")),
        }
    }

    /// The header's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }

    /// The address of one comma-separated element of the header.
    fn address_in(self, element: &str) -> Option<IpAddr> {
        match self {
            Self::XForwardedFor => parse_node(element.trim()),
            // RFC 7239 §4: `for=192.0.2.60;proto=http`, `for="[2001:db8::1]:4711"`;
            // an obfuscated or `unknown` node (§6) names no address.
            Self::Forwarded => element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                if !name.trim().eq_ignore_ascii_case("for") {
                    return None;
                }
                parse_node(value.trim().trim_matches('"'))
            }),
        }
    }
}

/// Addresses and networks (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`), and
/// the header they write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

/// At most this many forwarded hops are read from a request.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Comma- or space-separated addresses and CIDR networks.
    pub fn parse(value: &str, header: ForwardedHeader) -> Result<Self, String> {
        let mut networks = Vec::new();
        for item in value.split([',', ' ']).map(str::trim).filter(|item| !item.is_empty()) {
            let network = IpNet::from_str(item)
                .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR network"))?;
            networks.push(network);
        }
        Ok(Self { networks, header })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// The header whose values [`client_address`](Self::client_address) reads.
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks.iter().any(|network| network.contains(&address))
    }

    /// The client's address: `peer` itself unless it is a trusted proxy;
    /// then, walking the header's values (`header_values`, in order) from the
    /// right, the first address that is not a trusted proxy. Everything right
    /// of it was written by trusted proxies; nothing left of it (what the
    /// client wrote) is even parsed. An element that does not parse leaves
    /// the last trusted hop as the address.
    pub fn client_address(&self, peer: IpAddr, header_values: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let elements = header_values.iter().rev().flat_map(|value| value.rsplit(','));
        for element in elements.take(MAX_HOPS) {
            let Some(address) = self.header.address_in(element) else { break };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
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

    fn proxies(header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::parse("10.0.0.0/8, 192.0.2.1 2001:db8:ffff::/48", header).unwrap()
    }

    fn xff() -> TrustedProxies {
        proxies(ForwardedHeader::XForwardedFor)
    }

    #[test]
    fn settings_are_addresses_and_networks() {
        assert_eq!(xff().networks.len(), 3);
        assert!(TrustedProxies::parse("", ForwardedHeader::default()).unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33", ForwardedHeader::default()).is_err());
        assert!(TrustedProxies::parse("proxy.example", ForwardedHeader::default()).is_err());
        assert_eq!(ForwardedHeader::parse("Forwarded"), Ok(ForwardedHeader::Forwarded));
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer = ip("198.51.100.9");
        assert_eq!(xff().client_address(peer, &["203.0.113.5"]), peer);
        assert_eq!(TrustedProxies::default().client_address(peer, &["203.0.113.5"]), peer);
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_forwarded_address() {
        let peer = ip("10.1.1.1");
        assert_eq!(xff().client_address(peer, &["6.6.6.6, 203.0.113.5", "10.2.2.2"]), ip("203.0.113.5"));
        assert_eq!(xff().client_address(peer, &["10.3.3.3, 10.2.2.2"]), ip("10.3.3.3"));
        assert_eq!(xff().client_address(peer, &[]), peer);
    }

    #[test]
    fn what_the_client_wrote_left_of_its_address_is_never_read() {
        let peer = ip("10.1.1.1");
        assert_eq!(xff().client_address(peer, &["garbage, 203.0.113.5"]), ip("203.0.113.5"));
        // A misconfigured proxy's unparsable element: the last trusted hop stands.
        assert_eq!(xff().client_address(peer, &["203.0.113.5, garbage"]), peer);
        assert_eq!(xff().client_address(peer, &["203.0.113.5, garbage, 10.2.2.2"]), ip("10.2.2.2"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let forwarded = proxies(ForwardedHeader::Forwarded);
        let peer = ip("192.0.2.1");
        let values = ["for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https", "For=10.9.9.9"];
        assert_eq!(forwarded.client_address(peer, &values), ip("2001:db8::7"));
        assert_eq!(forwarded.client_address(peer, &["for=unknown"]), peer);
        assert_eq!(forwarded.client_address(peer, &["for=198.51.100.1:80"]), ip("198.51.100.1"));
        assert_eq!(ForwardedHeader::XForwardedFor.name(), "x-forwarded-for");
    }

    #[test]
    fn ipv4_mapped_peers_are_matched_as_ipv4() {
        assert_eq!(xff().client_address(ip("::ffff:10.1.1.1"), &["203.0.113.5"]), ip("203.0.113.5"));
    }
}
