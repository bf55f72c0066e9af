//! Which domains may name clients by metadata document: an admin's allow
//! and deny lists (draft-ietf-oauth-client-id-metadata-document-02 §8.9
//! leaves the trust of domains to the authorization server's policy).

use std::net::IpAddr;

use serde::Serialize;

/// At most this many entries in each list: it is policy, not data.
pub const MAX_DOMAINS: usize = 1000;
const MAX_DOMAIN_LEN: usize = 253;

/// Domains, lower case. An entry covers itself and every name below it
/// (`example.com` covers `example.com` and `app.example.com`, not
/// `badexample.com`); an IP literal covers only itself. A denied host is
/// refused whatever the allow list says; an empty allow list allows every
/// host not denied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DomainPolicy {
    pub allow_domains: Vec<String>,
    pub deny_domains: Vec<String>,
}

impl DomainPolicy {
    /// The policy an admin sent; every entry must be a host name or an IP address.
    pub fn parse(allow: &[String], deny: &[String]) -> Result<Self, String> {
        Ok(Self {
            allow_domains: domains("allow_domains", allow)?,
            deny_domains: domains("deny_domains", deny)?,
        })
    }

    /// Whether a client whose URL has `host` (lower case) may be used.
    pub fn permits(&self, host: &str) -> bool {
        let covers = |domain: &String| {
            host == domain
                || (domain.parse::<IpAddr>().is_err()
                    && host.strip_suffix(domain.as_str()).is_some_and(|rest| rest.ends_with('.')))
        };
        if self.deny_domains.iter().any(covers) {
            return false;
        }
        self.allow_domains.is_empty() || self.allow_domains.iter().any(covers)
    }
}

fn domains(field: &str, entries: &[String]) -> Result<Vec<String>, String> {
    if entries.len() > MAX_DOMAINS {
        return Err(format!("{field} has more than {MAX_DOMAINS} entries"));
    }
    let mut parsed: Vec<String> = Vec::with_capacity(entries.len());
    for entry in entries {
        let domain = entry.trim().trim_end_matches('.').trim_start_matches('[').trim_end_matches(']');
        let domain = domain.to_ascii_lowercase();
        let is_name = !domain.is_empty()
            && domain.len() <= MAX_DOMAIN_LEN
            && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !domain.starts_with('.')
            && !domain.contains("..");
        if !is_name && domain.parse::<IpAddr>().is_err() {
            return Err(format!(
                "{field}: {entry:?} is not a domain name (no scheme, port, path or wildcard)"
            ));
        }
        if !parsed.contains(&domain) {
            parsed.push(domain);
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str], deny: &[&str]) -> DomainPolicy {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        DomainPolicy::parse(&list(allow), &list(deny)).unwrap()
    }

    #[test]
    fn a_domain_covers_itself_and_its_subdomains_only() {
        let allow = policy(&["Example.com."], &[]);
        assert!(allow.permits("example.com"));
        assert!(allow.permits("app.example.com"));
        assert!(!allow.permits("badexample.com"));
        assert!(!allow.permits("example.org"));
    }

    #[test]
    fn deny_wins_and_an_empty_allow_list_allows_the_rest() {
        let open = policy(&[], &["evil.example"]);
        assert!(open.permits("anything.test"));
        assert!(!open.permits("www.evil.example"));
        let both = policy(&["example.com"], &["bad.example.com"]);
        assert!(both.permits("good.example.com"));
        assert!(!both.permits("x.bad.example.com"));
    }

    #[test]
    fn an_ip_address_covers_only_itself() {
        let deny = policy(&[], &["10.0.0.1", "[::1]"]);
        assert!(!deny.permits("10.0.0.1"));
        assert!(!deny.permits("::1"));
        assert!(deny.permits("110.0.0.1"));
    }

    #[test]
    fn patterns_urls_and_long_lists_are_refused() {
        for bad in ["*.example.com", "https://example.com", "example.com:443", "", "a..b", "ex ample.com"] {
            assert!(DomainPolicy::parse(&[bad.to_string()], &[]).is_err(), "{bad:?}");
        }
        let many = vec!["example.com".to_string(); MAX_DOMAINS + 1];
        assert!(DomainPolicy::parse(&[], &many).is_err());
    }
}
