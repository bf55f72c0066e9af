//! Redirect URIs, validated once when a client is registered (RFC 6749
//! §3.1.2, RFC 8252 §7, RFC 9700 §2.1). Matching is exact string comparison
//! against the registered value, so the original text is kept as given.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

const MAX_URI_LEN: usize = 2000;

impl RedirectUri {
    /// A redirect URI as a client registers it: [`parse`](Self::parse), and
    /// no `*`. RFC 9700 §2.1 and §4.1.3: redirect URIs are compared as exact
    /// strings, never as patterns. A `*` would be matched literally, so an
    /// admin who wrote one meaning "any" would get a URI that never matches
    /// (or, elsewhere, an open redirector): refused outright. Only here, at
    /// registration: a URI stored before this rule still reads back.
    pub fn parse_for_registration(value: &str) -> Result<Self, String> {
        if value.contains('*') {
            return Err(format!(
                "redirect URI {value:?} contains \"*\"; wildcards are not supported, register each URI exactly"
            ));
        }
        Self::parse(value)
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() > MAX_URI_LEN {
            return Err("redirect URI is too long".into());
        }
        // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment.
        if value.contains('#') {
            return Err(format!("redirect URI {value:?} has a fragment"));
        }
        let url = Url::parse(value).map_err(|_| format!("redirect URI {value:?} is not an absolute URI"))?;
        match url.scheme() {
            "https" => {
                if url.host().is_none() {
                    return Err(format!("redirect URI {value:?} has no host"));
                }
            }
            // RFC 8252 §7.3: plain http only for loopback redirects of native apps.
            "http" => {
                if !is_loopback(&url) {
                    return Err(format!(
                        "redirect URI {value:?} uses http on a non-loopback host; use https"
                    ));
                }
            }
            // RFC 8252 §7.1: private-use schemes are reverse domain names, so
            // they contain a period; this also excludes javascript:, data:, file:.
            scheme if scheme.contains('.') => {}
            _ => {
                return Err(format!(
                    "redirect URI {value:?} must use https, loopback http, or a private-use scheme such as com.example.app"
                ));
            }
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a redirect URI given in a request is this registered one:
    /// the exact string (RFC 9700 §2.1), except that a loopback IP literal
    /// may come with any port (RFC 8252 §7.3: native apps bind one at run time).
    pub fn matches(&self, given: &str) -> bool {
        self.0 == given || self.matches_on_another_loopback_port(given)
    }

    /// The web origin (RFC 6454 §4) of this redirect URI in its ASCII
    /// serialisation (§6.2: `scheme://host[:port]`, the default port left
    /// out), as a browser sends it in `Origin`; `None` for a private-use
    /// scheme, whose origin is opaque and is never a page's origin.
    pub fn web_origin(&self) -> Option<String> {
        let url = Url::parse(&self.0).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        match url.origin() {
            origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
            url::Origin::Opaque(_) => None,
        }
    }

    /// Where the browser goes, for people: the host of an `http(s)` URI,
    /// else the private-use scheme (an app on the device).
    pub fn display_host(&self) -> String {
        match Url::parse(&self.0) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => match url.host() {
                Some(Host::Ipv6(ip)) => format!("[{ip}]"),
                Some(host) => host.to_string(),
                None => String::new(),
            },
            Ok(url) => format!("{}:", url.scheme()),
            Err(_) => self.0.clone(),
        }
    }

    /// Whether the browser is sent back to this device: a loopback IP
    /// literal or `localhost` (RFC 8252 §7.3, §8.3).
    pub fn is_loopback(&self) -> bool {
        Url::parse(&self.0).is_ok_and(|url| is_loopback(&url))
    }

    fn matches_on_another_loopback_port(&self, given: &str) -> bool {
        let (Ok(registered), Ok(given)) = (Url::parse(&self.0), Url::parse(given)) else { return false };
        let loopback_ip = match registered.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        loopback_ip
            && registered.scheme() == "http"
            && given.scheme() == "http"
            && given.host() == registered.host()
            && given.path() == registered.path()
            && given.query() == registered.query()
            && given.username().is_empty()
            && given.password().is_none()
            && given.fragment().is_none()
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RedirectUri> for String {
    fn from(value: RedirectUri) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_ip_redirect_may_use_any_port_and_nothing_else_differs() {
        let registered = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert!(registered.matches("http://127.0.0.1:53211/cb"));
        assert!(!registered.matches("http://127.0.0.1:53211/other"));
        assert!(!registered.matches("http://localhost:53211/cb"));
        let named = RedirectUri::parse("http://localhost:8080/cb").unwrap();
        assert!(!named.matches("http://localhost:9090/cb"), "only IP literals (RFC 8252 §8.3)");
        let https = RedirectUri::parse("https://app.example/cb").unwrap();
        assert!(!https.matches("https://app.example:444/cb"));
    }

    #[test]
    fn https_loopback_http_and_private_use_schemes_are_accepted() {
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1:8400/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn fragments_plain_http_relative_and_script_uris_are_refused() {
        for bad in [
            "https://app.example.com/cb#x",
            "http://app.example.com/cb",
            "/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_web_origin_is_scheme_host_and_port_as_a_browser_sends_it() {
        let origin = |uri: &str| RedirectUri::parse(uri).unwrap().web_origin();
        assert_eq!(origin("https://App.Example.com/cb?x=1").as_deref(), Some("https://app.example.com"));
        assert_eq!(origin("https://app.example.com:443/cb").as_deref(), Some("https://app.example.com"));
        assert_eq!(
            origin("https://app.example.com:8443/cb").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(origin("http://localhost:3000/cb").as_deref(), Some("http://localhost:3000"));
        assert_eq!(origin("http://[::1]:8400/cb").as_deref(), Some("http://[::1]:8400"));
        assert_eq!(origin("com.example.app:/oauth2redirect"), None);
    }

    #[test]
    fn a_wildcard_anywhere_is_refused() {
        for bad in [
            "https://*.example.com/cb",
            "https://app.example.com/*",
            "https://app.example.com/cb?state=*",
            "http://127.0.0.1:*/cb",
            "com.example.*:/cb",
            "*",
        ] {
            let error = RedirectUri::parse_for_registration(bad).unwrap_err();
            assert!(error.contains("wildcard"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_displayed_host_and_loopback_are_what_the_browser_reaches() {
        let uri = |s: &str| RedirectUri::parse(s).unwrap();
        assert_eq!(uri("https://App.example.com:8443/cb").display_host(), "app.example.com");
        assert_eq!(uri("http://[::1]:8400/cb").display_host(), "[::1]");
        assert_eq!(uri("com.example.app:/cb").display_host(), "com.example.app:");
        for loopback in
            ["http://127.0.0.1:3000/cb", "http://127.9.9.9/cb", "http://[::1]/cb", "http://LocalHost/cb"]
        {
            assert!(uri(loopback).is_loopback(), "{loopback}");
        }
        assert!(!uri("https://app.example.com/cb").is_loopback());
        assert!(!uri("com.example.app:/cb").is_loopback());
    }

    #[test]
    fn the_registered_text_is_kept_exactly() {
        let uri = RedirectUri::parse("https://App.example.com").unwrap();
        assert_eq!(uri.as_str(), "https://App.example.com");
    }
}
