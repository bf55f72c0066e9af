//! An `https` URL that Castellan may fetch (`jwks_uri`, a client ID
//! metadata document): absolute, `https`, with a host, without user
//! information or fragment, and bounded in length.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// Longer URLs are refused: they are stored and sent back to clients.
pub const MAX_LEN: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpsUrl(Url);

impl HttpsUrl {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() > MAX_LEN {
            return Err(format!("is longer than {MAX_LEN} characters"));
        }
        let url = Url::parse(value).map_err(|_| "is not an absolute URL".to_owned())?;
        if url.scheme() != "https" {
            return Err("must be an https URL".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("has no host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry user information".into());
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment".into());
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The host, lower case, without brackets for IPv6.
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(url::Host::Ipv6(address)) => address.to_string(),
            Some(host) => host.to_string().to_ascii_lowercase(),
            None => String::new(),
        }
    }
}

impl fmt::Display for HttpsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HttpsUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpsUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_https_urls_are_accepted() {
        assert!(HttpsUrl::parse("https://app.example/client.json").is_ok());
        for bad in [
            "http://app.example/",
            "https://user:pw@app.example/",
            "https://app.example/#x",
            "/relative",
            "file:///etc/passwd",
        ] {
            assert!(HttpsUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(HttpsUrl::parse(&format!("https://a.example/{}", "x".repeat(MAX_LEN))).is_err());
    }

    #[test]
    fn the_host_is_lower_case_and_unbracketed() {
        assert_eq!(HttpsUrl::parse("https://APP.Example/").unwrap().host(), "app.example");
        assert_eq!(HttpsUrl::parse("https://[::1]:8443/").unwrap().host(), "::1");
    }
}
