//! The settings of fetching client-named documents (`protocol::fetch`):
//! `CASTELLAN_FETCH_ALLOW_HOSTS`, `CASTELLAN_EXTRA_CA_CERTS` and
//! `CASTELLAN_FETCH_RESOLVE`.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::protocol::fetch::FetchSettings;

/// At most this many entries in each list: they are configuration, not data.
const MAX_ENTRIES: usize = 1000;

/// The settings, or the variable at fault and why.
pub fn fetch_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<FetchSettings, (&'static str, String)> {
    let mut settings = FetchSettings::default();
    if let Some(list) = get("CASTELLAN_FETCH_ALLOW_HOSTS") {
        settings.allow_hosts =
            host_list(&list).map_err(|message| ("CASTELLAN_FETCH_ALLOW_HOSTS", message))?;
    }
    if let Some(path) = get("CASTELLAN_EXTRA_CA_CERTS") {
        let pem = std::fs::read(&path)
            .map_err(|e| ("CASTELLAN_EXTRA_CA_CERTS", format!("cannot read {path:?}: {e}")))?;
        settings.extra_ca_pem = Some(pem);
    }
    if let Some(list) = get("CASTELLAN_FETCH_RESOLVE") {
        settings.resolve = resolve_list(&list).map_err(|message| ("CASTELLAN_FETCH_RESOLVE", message))?;
    }
    Ok(settings)
}

fn host_list(list: &str) -> Result<HashSet<String>, String> {
    let hosts: HashSet<String> = list
        .split(',')
        .map(|host| host.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
        .filter(|host| !host.is_empty())
        .collect();
    if hosts.len() > MAX_ENTRIES {
        return Err(format!("lists more than {MAX_ENTRIES} hosts"));
    }
    if let Some(bad) = hosts.iter().find(|h| h.contains(['/', ':', ' ']) && h.parse::<IpAddr>().is_err()) {
        return Err(format!("{bad:?} is not a host name (no scheme, port or path)"));
    }
    Ok(hosts)
}

/// `host=address[|address...],host=address`: fixed answers, as curl's `--resolve`.
fn resolve_list(list: &str) -> Result<HashMap<String, Vec<IpAddr>>, String> {
    let mut resolve = HashMap::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (host, addresses) =
            entry.split_once('=').ok_or_else(|| format!("{entry:?} is not host=address"))?;
        let addresses = addresses
            .split('|')
            .map(|a| a.trim().parse::<IpAddr>().map_err(|_| format!("{a:?} is not an IP address")))
            .collect::<Result<Vec<_>, _>>()?;
        resolve.insert(host.trim().to_ascii_lowercase(), addresses);
    }
    if resolve.len() > MAX_ENTRIES {
        return Err(format!("lists more than {MAX_ENTRIES} hosts"));
    }
    Ok(resolve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_lists_are_lower_case_names() {
        assert!(host_list("Docs.Example, localhost").unwrap().contains("docs.example"));
        assert!(host_list("https://docs.example").is_err());
        assert!(host_list("127.0.0.1,[::1]").unwrap().contains("::1"));
    }

    #[test]
    fn resolve_lists_map_hosts_to_addresses() {
        let map = resolve_list("docs.test=127.0.0.1|::1, evil.test=10.0.0.1").unwrap();
        assert_eq!(map["docs.test"].len(), 2);
        assert!(resolve_list("docs.test").is_err());
        assert!(resolve_list("docs.test=nowhere").is_err());
    }
}
