//! Which addresses Castellan may fetch documents from (`jwks_uri`, client
//! metadata documents): only public unicast ones. A URL that a client
//! controls must not make the server reach its own network (SSRF, RFC 9700
//! §4.5 ... and the client ID metadata document draft's security
//! considerations): loopback, private, link-local, shared (CGNAT),
//! documentation, benchmarking, multicast and reserved ranges are refused,
//! as are IPv6 forms that embed such an IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `address` is a public unicast address.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, c, _] = address.octets();
    let refused = a == 0 // "this network" (RFC 791)
        || a == 10 // private (RFC 1918)
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 169 && b == 254) // link-local (RFC 3927)
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments (RFC 6890)
        || (a == 192 && b == 0 && c == 2) // documentation (RFC 5737)
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (RFC 7526)
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking (RFC 2544)
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved (RFC 1112), broadcast
    !refused
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(address) {
        return is_public_v4(v4);
    }
    let segments = address.segments();
    let first = segments[0];
    let refused = address.is_unspecified()
        || address.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local (RFC 4193)
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated, RFC 3879)
        || (first & 0xff00) == 0xff00 // multicast
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation (RFC 3849)
        // IETF protocol assignments 2001::/23 (RFC 2928): Teredo 2001::/32
        // carries an IPv4 address, ORCHID and benchmarking ranges are no hosts.
        || (first == 0x2001 && segments[1] < 0x0200)
        || (first == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only (RFC 6666)
        || (first & 0xe000) != 0x2000; // outside global unicast 2000::/3
    !refused
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, RFC 6052) or 6to4
/// (`2002::/16`, RFC 3056) address: reaching it reaches that IPv4 address.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = address.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[0..5] == [0, 0, 0, 0, 0]
        && (s[5] == 0xffff || (s[5] == 0 && !address.is_loopback() && !address.is_unspecified()))
    {
        return Some(low);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().expect("an address"))
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "fec0::1",
            "2001::5efe:7f00:1",
            "2001:2::1",
            "2001:10::1",
        ] {
            assert!(!public(address), "{address} must not be public");
        }
    }

    #[test]
    fn public_unicast_addresses_are_public() {
        for address in
            ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]
        {
            assert!(public(address), "{address} is public");
        }
    }
}
