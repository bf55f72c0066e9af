//! Client Identifier URLs (draft-ietf-oauth-client-id-metadata-document-02
//! §3): a `client_id` that is the `https` URL of the client's own metadata
//! document.

use super::super::{ClientId, HttpsUrl};

/// The prefix that makes a `client_id` a candidate Client Identifier URL.
/// Castellan's own ids are base64url and never contain `:` (§7.1 asks that
/// generated ids never begin with `https://`).
const PREFIX: &str = "https://";

/// A `client_id` that is a Client Identifier URL (§3):
/// - `https`, no user information, no fragment (§3 MUST NOTs);
/// - a path other than `/` (§3: MUST contain a path; `/` is NOT RECOMMENDED,
///   and the root of a site is not the client's to claim);
/// - no `.` or `..` segments (§3 MUST NOT);
/// - no query (§3 SHOULD NOT: refused, so one document cannot be fetched
///   under endless names);
/// - in the URL's normal form, so that the URL fetched is byte for byte the
///   `client_id` (§3: compared as simple strings, RFC 3986 §6.2.1);
/// - at most 255 characters, as every client id (a short URL is RECOMMENDED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdUrl {
    id: ClientId,
    url: HttpsUrl,
}

impl ClientIdUrl {
    /// Whether `id` is meant as a URL at all (else it is an ordinary id).
    pub fn is_url_shaped(id: &ClientId) -> bool {
        id.as_str().get(..PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
    }

    pub fn parse(id: &ClientId) -> Result<Self, String> {
        let text = id.as_str();
        if !text.starts_with(PREFIX) {
            return Err("a Client Identifier URL begins with https:// (lower case)".into());
        }
        let url = HttpsUrl::parse(text).map_err(|problem| format!("the client_id URL {problem}"))?;
        let parsed = url.url();
        if parsed.query().is_some() {
            return Err("the client_id URL must not have a query".into());
        }
        // A trailing dot names the same host (the resolver drops it) but
        // would not match the admins' domain policy.
        if parsed.host_str().is_some_and(|host| host.ends_with('.')) {
            return Err("the client_id URL's host must not end with a dot".into());
        }
        if parsed.path() == "/" {
            return Err("the client_id URL needs a path other than /".into());
        }
        // The parser removes dot segments, so a URL that had any is not in
        // normal form below; this names the reason.
        if text.split('/').skip(3).any(|segment| {
            let lower = segment.to_ascii_lowercase();
            matches!(lower.as_str(), "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e.")
        }) {
            return Err("the client_id URL must not contain . or .. path segments".into());
        }
        if parsed.as_str() != text {
            return Err(format!(
                "the client_id URL is not in normal form (it would be fetched as {:?})",
                parsed.as_str()
            ));
        }
        Ok(Self { id: id.clone(), url })
    }

    pub fn client_id(&self) -> &ClientId {
        &self.id
    }

    pub fn url(&self) -> &HttpsUrl {
        &self.url
    }

    /// The host, lower case: what the consent page shows (§8.5) and the
    /// domain policy matches.
    pub fn host(&self) -> String {
        self.url.host()
    }

    pub fn as_str(&self) -> &str {
        self.id.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClientIdUrl, String> {
        ClientIdUrl::parse(&ClientId::parse(text).map_err(str::to_owned)?)
    }

    #[test]
    fn an_https_url_with_a_path_is_a_client_identifier_url() {
        let url = parse("https://app.example/oauth/client.json").unwrap();
        assert_eq!(url.host(), "app.example");
        assert!(parse("https://app.example:8443/client").is_ok(), "a port is allowed (§3)");
    }

    #[test]
    fn what_section_3_forbids_is_refused() {
        for bad in [
            "http://app.example/client.json",
            "https://user@app.example/client.json",
            "https://app.example/client.json#x",
            "https://app.example/",
            "https://app.example./client.json",
            "https://app.example",
            "https://app.example/a/../client.json",
            "https://app.example/./client.json",
            "https://app.example/%2e%2e/client.json",
            "https://app.example/client.json?v=1",
            "https://APP.example/client.json",
            "https://app.example:443/client.json",
            "HTTPS://app.example/client.json",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_ids_beginning_with_https_are_url_shaped() {
        let shaped = |s: &str| ClientIdUrl::is_url_shaped(&ClientId::parse(s).unwrap());
        assert!(shaped("https://app.example/c"));
        assert!(shaped("HTTPS://app.example/c"));
        assert!(!shaped("abc123"));
        assert!(!shaped("https:"));
    }
}
