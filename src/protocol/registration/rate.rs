//! Registrations per client address: at most `CASTELLAN_REGISTRATION_RATE`
//! an hour from one IPv4 address or one IPv6 /64 (what one subscriber
//! usually holds, RFC 6177), and ten times that from one IPv4 /24 or IPv6
//! /48 (a site: one party holding many /64s must not fill the global cap
//! within the hour), counted in the database so the bound holds across
//! instances. With `CASTELLAN_DYNAMIC_CLIENTS_MAX` and the pruning of
//! unused clients, this bounds what anyone can make the server store.

use std::net::IpAddr;

use crate::domain::{ErrorCode, ProtocolError};
use crate::protocol::Context;

/// The counts run over windows of this many seconds.
pub const WINDOW_SECS: i64 = 3_600;

/// Counts one registration from `address`; RFC 6585 §4 429 with
/// `Retry-After` (the end of the window) past the rate.
pub(super) async fn count(ctx: &Context, address: IpAddr, now: i64) -> Result<(), ProtocolError> {
    let window_start = now - now.rem_euclid(WINDOW_SECS);
    let rate = i64::from(ctx.settings.registration.rate_per_hour);
    let registrations = &ctx.storage.registrations;
    let count = registrations.count_registration(&rate_key(address), window_start).await?;
    let site_count = registrations.count_registration(&site_key(address), window_start).await?;
    if count <= rate && site_count <= rate.saturating_mul(SITE_FACTOR) {
        return Ok(());
    }
    let wait = (window_start + WINDOW_SECS - now).max(1) as u64;
    Err(ProtocolError::new(
        ErrorCode::TemporarilyUnavailable,
        "too many registrations from this address; try again later",
    )
    .with_retry_after(wait))
}

/// How many times the rate a whole site (IPv4 /24, IPv6 /48) may register.
const SITE_FACTOR: i64 = 10;

/// The key of the site an address belongs to: its IPv4 /24 or IPv6 /48.
fn site_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("register-site:{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let [a, b, c, ..] = v6.segments();
            format!("register-site:{a:x}:{b:x}:{c:x}::/48")
        }
    }
}

/// The key an address counts under: itself, or its /64 for IPv6.
fn rate_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => format!("register:{v4}"),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("register:{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_address_counts_under_its_64_and_ipv4_alone() {
        let key = |a: &str| rate_key(a.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("192.0.2.7"), "register:192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "register:192.0.2.7");
    }

    #[test]
    fn a_site_is_an_ipv4_24_or_an_ipv6_48() {
        let key = |a: &str| site_key(a.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:ffff::1"));
        assert_ne!(key("2001:db8:1::1"), key("2001:db8:2::1"));
        assert_eq!(key("192.0.2.7"), key("192.0.2.200"));
        assert_ne!(key("192.0.2.7"), key("192.0.3.7"));
        assert_ne!(key("192.0.2.7"), rate_key("192.0.2.7".parse().unwrap()));
    }
}
