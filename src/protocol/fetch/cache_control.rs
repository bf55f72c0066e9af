//! The parts of `Cache-Control` (RFC 9111 §5.2.2) a fetched document's
//! reuse depends on. Bounds are applied by the caller.

use std::time::Duration;

use reqwest::header::{CACHE_CONTROL, HeaderMap};

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Caching {
    pub(super) max_age: Option<Duration>,
    pub(super) no_store: bool,
}

pub(super) fn parse(headers: &HeaderMap) -> Caching {
    let mut caching = Caching::default();
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" || directive == "no-cache" {
                caching.no_store = true;
            } else if let Some(seconds) = directive.strip_prefix("max-age=")
                && let Ok(seconds) = seconds.trim_matches('"').parse::<u64>()
            {
                caching.max_age = Some(Duration::from_secs(seconds));
            }
        }
    }
    caching
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caching(value: &str) -> Caching {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, value.parse().unwrap());
        parse(&headers)
    }

    #[test]
    fn max_age_and_no_store_are_read() {
        assert_eq!(caching("public, max-age=600").max_age, Some(Duration::from_secs(600)));
        assert!(caching("no-store").no_store);
        assert!(caching("No-Cache").no_store);
        assert_eq!(caching("max-age=x"), Caching::default());
    }
}
