//! Cookie names and attributes shared by the browser pages. With an https
//! issuer every cookie is `Secure` and carries the `__Host-` prefix, which
//! browsers honour only for a `Secure`, host-only cookie with `Path=/`: no
//! sibling subdomain can then plant or overwrite one of ours.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use tower_sessions::cookie::{Cookie, SameSite};

use crate::domain::Issuer;

/// `base`, with the `__Host-` prefix when the issuer is https.
pub fn cookie_name(issuer: &Issuer, base: &str) -> String {
    if issuer.is_https() { format!("__Host-{base}") } else { base.to_owned() }
}

/// A host-only, `HttpOnly`, `SameSite=Lax`, `Path=/` cookie (`Secure` when
/// the issuer is https). No `Max-Age`: it ends with the browser session.
pub fn browser_cookie(issuer: &Issuer, base: &str, value: String) -> Cookie<'static> {
    Cookie::build((cookie_name(issuer, base), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(issuer.is_https())
        .path("/")
        .build()
}

/// The value of the first cookie called `name` in the request.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn https_issuers_get_host_prefixed_secure_cookies() {
        let https = Issuer::parse("HTTPS://id.example.com").unwrap();
        let cookie = browser_cookie(&https, "castellan_login", "v".into()).to_string();
        assert!(cookie.starts_with("__Host-castellan_login=v"), "{cookie}");
        assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"));
        let http = Issuer::parse("http://127.0.0.1:8080").unwrap();
        let cookie = browser_cookie(&http, "castellan_login", "v".into()).to_string();
        assert!(cookie.starts_with("castellan_login=v") && !cookie.contains("Secure"), "{cookie}");
        assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"), "{cookie}");
    }

    #[test]
    fn cookies_are_read_by_exact_name_from_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; castellan_login_x=2"));
        headers.append(COOKIE, HeaderValue::from_static("castellan_login=3"));
        assert_eq!(read_cookie(&headers, "castellan_login"), Some("3"));
        assert_eq!(read_cookie(&headers, "a"), Some("1"));
        assert_eq!(read_cookie(&headers, "b"), None);
    }
}
