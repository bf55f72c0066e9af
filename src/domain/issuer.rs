//! The issuer identifier (RFC 8414 §2, OpenID Connect Discovery §3): the
//! value of every token's `iss`, and the base of every endpoint URL.

use std::fmt;

use url::{Host, Url};

/// An `http`/`https` URL with a host and no query or fragment, kept exactly
/// as configured (a trailing slash, if given, is part of it). What the
/// scheme and host mean is decided from the parsed URL, never from the
/// spelling (`HTTPS://` is https).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    value: String,
    https: bool,
    loopback: bool,
}

impl Issuer {
    /// RFC 8414 §2: https (http is allowed here for local use), no query or
    /// fragment.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let url = Url::parse(value).map_err(|_| "is not a URL")?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err("must be an http or https URL with a host");
        }
        if url.query().is_some() || url.fragment().is_some() || value.contains('?') || value.contains('#') {
            return Err("must not have a query or fragment (RFC 8414 §2)");
        }
        let loopback = match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(address)) => address.is_loopback(),
            Some(Host::Ipv6(address)) => address.is_loopback(),
            None => false,
        };
        Ok(Self { value: value.to_owned(), https: url.scheme() == "https", loopback })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Served on this machine only (`localhost`, 127.0.0.0/8, `::1`):
    /// plain http is then acceptable.
    pub fn is_loopback(&self) -> bool {
        self.loopback
    }

    /// The absolute URL of one of our endpoints, `path` starting with `/`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.value.trim_end_matches('/'), path)
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_decided_from_the_parsed_scheme_not_its_spelling() {
        assert!(Issuer::parse("HTTPS://id.example.com").unwrap().is_https());
        assert!(Issuer::parse("https://id.example.com/").unwrap().is_https());
        assert!(!Issuer::parse("http://id.example.com").unwrap().is_https());
    }

    #[test]
    fn loopback_issuers_are_localhost_and_loopback_addresses() {
        for loopback in ["http://127.0.0.1:8080", "http://LOCALHOST:1", "http://[::1]:80", "http://127.9.9.9"]
        {
            assert!(Issuer::parse(loopback).unwrap().is_loopback(), "{loopback}");
        }
        for remote in ["http://id.example.com", "http://10.0.0.1", "http://localhost.example.com"] {
            assert!(!Issuer::parse(remote).unwrap().is_loopback(), "{remote}");
        }
    }
}
