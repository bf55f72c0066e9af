//! The issuer identifier (RFC 8414 §2, OpenID Connect Discovery §3): the
//! value of every token's `iss`, and the base of every endpoint URL.

use std::fmt;

use url::Url;

/// An `http`/`https` URL with a host and no query or fragment, kept exactly
/// as configured (a trailing slash, if given, is part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

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
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The absolute URL of one of our endpoints, `path` starting with `/`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.0.trim_end_matches('/'), path)
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
