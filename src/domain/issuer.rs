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
    /// `host[:port]`, lower case, the port only when not the scheme's default.
    authority: String,
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
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        Ok(Self { value: value.to_owned(), https: url.scheme() == "https", loopback, authority })
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

    /// Whether a request's `Host` header names the issuer's host and port.
    /// Browsers keep cookies per host, so one that reached us under another
    /// name cannot bring a cookie set there back to the issuer's pages.
    pub fn is_host(&self, host_header: &str) -> bool {
        let default_port = if self.https { ":443" } else { ":80" };
        let host = host_header.trim();
        let host = host.strip_suffix(default_port).unwrap_or(host);
        host.eq_ignore_ascii_case(&self.authority)
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
    fn the_host_header_matches_the_issuers_host_and_port_in_any_case() {
        let issuer = Issuer::parse("http://127.0.0.1:8080").unwrap();
        assert!(issuer.is_host("127.0.0.1:8080"));
        assert!(!issuer.is_host("localhost:8080"));
        assert!(!issuer.is_host("127.0.0.1"));
        let issuer = Issuer::parse("https://ID.example.com/").unwrap();
        assert!(issuer.is_host("id.example.com"));
        assert!(issuer.is_host("id.EXAMPLE.com:443"));
        assert!(!issuer.is_host("id.example.com:8443"));
        assert!(Issuer::parse("http://[::1]:8080").unwrap().is_host("[::1]:8080"));
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
