//! The fetcher for client-named documents refuses what could reach
//! Castellan's own network or tie it up (SSRF): non-public addresses after
//! resolution and as literals, redirects, large and slow answers; and its
//! cache coalesces concurrent fetches and honours `Cache-Control` within
//! bounds. Driven against a real HTTPS server the test controls.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use castellan::domain::{Clock, HttpsUrl};
use castellan::protocol::fetch::{
    CachePolicy, CachedDocuments, DocumentError, FetchError, FetchSettings, Fetcher,
};
use serde_json::json;

use crate::helpers::document_server::{Canned, DocumentServer, test_ca_path};

fn fetcher(allow: &[&str], resolve: &[(&str, &str)]) -> Fetcher {
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let mut fixed: HashMap<String, Vec<IpAddr>> =
        resolve.iter().map(|(host, ip)| (host.to_string(), vec![ip.parse().unwrap()])).collect();
    fixed.entry("docs.test".into()).or_insert(vec![loopback]);
    let settings = FetchSettings {
        allow_hosts: allow.iter().map(|h| h.to_string()).collect::<HashSet<_>>(),
        resolve: fixed,
        extra_ca_pem: Some(std::fs::read(test_ca_path()).unwrap()),
        timeout: Duration::from_secs(2),
        max_bytes: 4096,
    };
    Fetcher::new(settings).expect("a fetcher")
}

fn url(text: &str) -> HttpsUrl {
    HttpsUrl::parse(text).expect("an https URL")
}

#[tokio::test]
async fn an_allowed_host_is_fetched_over_https_with_the_extra_ca() {
    let server = DocumentServer::start().await;
    server.serve("/jwks.json", Canned::json(&json!({"keys": []})).header("cache-control", "max-age=600"));
    let fetched =
        fetcher(&["docs.test"], &[]).get(&url(&server.url("docs.test", "/jwks.json"))).await.unwrap();
    assert_eq!(fetched.body, br#"{"keys":[]}"#);
    assert_eq!(fetched.max_age, Some(Duration::from_secs(600)));
}

#[tokio::test]
async fn a_host_that_resolves_to_loopback_is_refused_before_connecting() {
    let server = DocumentServer::start().await;
    server.serve("/jwks.json", Canned::json(&json!({"keys": []})));
    let fetcher = fetcher(&[], &[("evil.test", "127.0.0.1")]);
    let refused = fetcher.get(&url(&server.url("evil.test", "/jwks.json"))).await;
    assert_eq!(refused.unwrap_err(), FetchError::NotPublic);
    let refused = fetcher.get(&url(&server.url("localhost", "/jwks.json"))).await;
    assert_eq!(refused.unwrap_err(), FetchError::NotPublic);
    assert_eq!(server.connections(), 0, "nothing reached the server");
}

#[tokio::test]
async fn private_and_link_local_answers_are_refused() {
    let fetcher = fetcher(
        &[],
        &[("metadata.test", "169.254.169.254"), ("intranet.test", "10.0.0.7"), ("v6.test", "::1")],
    );
    for host in ["metadata.test", "intranet.test", "v6.test"] {
        let refused = fetcher.get(&url(&format!("https://{host}/x"))).await;
        assert_eq!(refused.unwrap_err(), FetchError::NotPublic, "{host}");
    }
}

#[tokio::test]
async fn a_non_public_ip_literal_is_refused() {
    let server = DocumentServer::start().await;
    let fetcher = fetcher(&[], &[]);
    for literal in ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254"] {
        let refused = fetcher.get(&url(&server.url(literal, "/x"))).await;
        assert_eq!(refused.unwrap_err(), FetchError::NotPublic, "{literal}");
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let server = DocumentServer::start().await;
    server.serve("/moved", Canned::redirect("https://169.254.169.254/latest/meta-data/"));
    let refused = fetcher(&["docs.test"], &[]).get(&url(&server.url("docs.test", "/moved"))).await;
    assert_eq!(refused.unwrap_err(), FetchError::Redirect);
}

#[tokio::test]
async fn an_oversized_document_is_refused_with_or_without_a_length() {
    let server = DocumentServer::start().await;
    let big = json!({"keys": [], "padding": "x".repeat(10_000)});
    server.serve("/big", Canned::json(&big));
    let mut unannounced = Canned::json(&big);
    unannounced.without_length = true;
    server.serve("/big-unannounced", unannounced);
    let fetcher = fetcher(&["docs.test"], &[]);
    for path in ["/big", "/big-unannounced"] {
        let refused = fetcher.get(&url(&server.url("docs.test", path))).await;
        assert_eq!(refused.unwrap_err(), FetchError::TooLarge(4096), "{path}");
    }
}

#[tokio::test]
async fn a_slow_document_times_out() {
    let server = DocumentServer::start().await;
    let mut slow = Canned::json(&json!({"keys": []}));
    slow.delay = Duration::from_secs(10);
    server.serve("/slow", slow);
    let started = std::time::Instant::now();
    let refused = fetcher(&["docs.test"], &[]).get(&url(&server.url("docs.test", "/slow"))).await;
    assert_eq!(refused.unwrap_err(), FetchError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let server = DocumentServer::start().await;
    server.serve("/jwks.json", Canned::json(&json!({"keys": []})));
    let mut settings =
        FetchSettings { allow_hosts: ["docs.test".to_owned()].into(), ..FetchSettings::default() };
    settings.resolve.insert("docs.test".into(), vec!["127.0.0.1".parse().unwrap()]);
    let refused = Fetcher::new(settings).unwrap().get(&url(&server.url("docs.test", "/jwks.json"))).await;
    assert_eq!(refused.unwrap_err(), FetchError::Transport);
}

#[tokio::test]
async fn concurrent_requests_for_one_document_make_one_fetch_and_the_cache_honours_max_age_within_bounds() {
    let server = DocumentServer::start().await;
    let mut slow = Canned::json(&json!({"n": 1})).header("cache-control", "max-age=5");
    slow.delay = Duration::from_millis(300);
    server.serve("/doc", slow);
    let clock = Clock::system();
    let cache = Arc::new(CachedDocuments::new(
        Arc::new(fetcher(&["docs.test"], &[])),
        clock.clone(),
        CachePolicy::default(),
    ));
    let target = url(&server.url("docs.test", "/doc"));
    let parse = |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).map_err(|e| e.to_string());
    let waits = (0..20).map(|_| {
        let cache = cache.clone();
        let target = target.clone();
        tokio::spawn(async move { cache.get(&target, parse).await })
    });
    for wait in waits {
        assert_eq!(*wait.await.unwrap().unwrap(), json!({"n": 1}));
    }
    assert_eq!(server.hits("/doc"), 1, "one fetch for twenty requests");
    // max-age=5 is below the one-minute floor: still cached after 30 s.
    clock.advance(30);
    cache.get(&target, parse).await.unwrap();
    assert_eq!(server.hits("/doc"), 1);
    clock.advance(31);
    cache.get(&target, parse).await.unwrap();
    assert_eq!(server.hits("/doc"), 2);
}

#[tokio::test]
async fn a_failed_fetch_is_remembered_briefly_and_an_invalid_document_is_an_error() {
    let server = DocumentServer::start().await;
    server.serve("/not-json", Canned::json(&json!("x")));
    let clock = Clock::system();
    let cache =
        CachedDocuments::new(Arc::new(fetcher(&["docs.test"], &[])), clock.clone(), CachePolicy::default());
    let parse =
        |body: &[u8]| serde_json::from_slice::<HashMap<String, String>>(body).map_err(|e| e.to_string());
    let target = url(&server.url("docs.test", "/not-json"));
    assert!(matches!(cache.get(&target, parse).await, Err(DocumentError::Invalid(_))));
    assert!(matches!(cache.get(&target, parse).await, Err(DocumentError::Invalid(_))));
    assert_eq!(server.hits("/not-json"), 1);
    clock.advance(11);
    let _ = cache.get(&target, parse).await;
    assert_eq!(server.hits("/not-json"), 2);
    let missing = url(&server.url("docs.test", "/missing"));
    assert_eq!(cache.get(&missing, parse).await.unwrap_err(), DocumentError::Fetch(FetchError::Status(404)));
}

#[tokio::test]
async fn a_forced_refresh_is_rate_limited_and_a_failed_one_keeps_the_fresh_copy() {
    let server = DocumentServer::start().await;
    server.serve("/jwks", Canned::json(&json!({"n": 1})).header("cache-control", "max-age=3600"));
    let clock = Clock::system();
    let cache =
        CachedDocuments::new(Arc::new(fetcher(&["docs.test"], &[])), clock.clone(), CachePolicy::default());
    let parse = |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).map_err(|e| e.to_string());
    let target = url(&server.url("docs.test", "/jwks"));
    cache.get(&target, parse).await.unwrap();
    let every = Duration::from_secs(10);
    cache.refresh(&target, every, parse).await.unwrap();
    assert_eq!(server.hits("/jwks"), 1, "fetched less than 10 s ago: not again");
    clock.advance(11);
    server.serve("/jwks", Canned::json(&json!({"n": 2})));
    assert_eq!(*cache.refresh(&target, every, parse).await.unwrap(), json!({"n": 2}));
    assert_eq!(server.hits("/jwks"), 2);
    clock.advance(11);
    server.serve("/jwks", Canned::redirect("https://docs.test/elsewhere"));
    assert_eq!(*cache.refresh(&target, every, parse).await.unwrap(), json!({"n": 2}), "kept");
    assert_eq!(server.hits("/jwks"), 3);
}
