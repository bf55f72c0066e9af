//! CORS over plain HTTP (the browser itself is in `browser::cross_origin`):
//! discovery and the JWKS for any origin; the token, userinfo and revocation
//! endpoints, errors included, for the origins of registered redirect URIs
//! only; nothing anywhere else; `Access-Control-Allow-Credentials` never.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

both_backends!(
    discovery_and_the_jwks_are_readable_from_any_origin,
    token_userinfo_and_revocation_answer_preflights_from_a_registered_origin,
    unknown_origins_null_and_other_ports_or_schemes_are_not_allowed,
    error_answers_to_a_registered_origin_carry_cors_headers,
    authorize_pages_admin_and_introspection_send_no_cors_headers,
    credentials_are_never_allowed_so_never_with_a_wildcard,
    a_newly_registered_clients_origin_is_allowed_at_once_on_this_instance,
    another_instance_allows_a_new_origin_within_its_client_cache_ttl,
);

const SPA: &str = "https://spa.example";
const CLIENT_ORIGIN_PATHS: [&str; 3] = ["/oauth2/token", "/oauth2/userinfo", "/oauth2/revoke"];
const PUBLIC_PATHS: [&str; 3] =
    ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth2/jwks"];

/// Registers a public client whose redirect URI is on `origin`; returns its id.
async fn spa_client(app: &TestApp, origin: &str) -> String {
    let (status, body) = app
        .register_client(json!({
            "redirect_uris": [format!("{origin}/callback")], "token_endpoint_auth_method": "none",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    body["client_id"].as_str().unwrap().to_owned()
}

/// A preflight (Fetch §4.8) from `origin` for a `POST` with `Authorization`.
async fn preflight(app: &TestApp, base: &str, path: &str, origin: &str) -> HeaderMap {
    let response = app
        .http
        .request(Method::OPTIONS, format!("{base}{path}"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    response.headers().clone()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// The comma-separated values of `name`, lowercased.
fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    header(headers, name)
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn allowed_origin(headers: &HeaderMap) -> Option<&str> {
    header(headers, "access-control-allow-origin")
}

async fn discovery_and_the_jwks_are_readable_from_any_origin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in PUBLIC_PATHS {
        let response =
            app.http.get(app.url(path)).header("origin", "https://anyone.example").send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(allowed_origin(response.headers()), Some("*"), "{path}");
        assert!(!list(response.headers(), "vary").contains(&"origin".to_owned()), "the same for all: {path}");
        let headers = preflight(&app, &app.address, path, "https://anyone.example").await;
        assert_eq!(allowed_origin(&headers), Some("*"), "{path}");
        assert_eq!(header(&headers, "access-control-max-age"), Some("600"), "{path}");
    }
}

async fn token_userinfo_and_revocation_answer_preflights_from_a_registered_origin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    spa_client(&app, SPA).await;
    for path in CLIENT_ORIGIN_PATHS {
        let headers = preflight(&app, &app.address, path, SPA).await;
        assert_eq!(allowed_origin(&headers), Some(SPA), "{path}: {headers:?}");
        assert!(list(&headers, "access-control-allow-methods").contains(&"post".to_owned()), "{path}");
        let allowed_headers = list(&headers, "access-control-allow-headers");
        for name in ["authorization", "content-type"] {
            assert!(allowed_headers.contains(&name.to_owned()), "{path} allows {name}: {headers:?}");
        }
        assert_eq!(header(&headers, "access-control-max-age"), Some("600"), "{path}");
        assert!(list(&headers, "vary").contains(&"origin".to_owned()), "{path}: {headers:?}");
        assert_eq!(header(&headers, "access-control-allow-credentials"), None, "{path}");
    }
}

async fn unknown_origins_null_and_other_ports_or_schemes_are_not_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    spa_client(&app, SPA).await;
    let (status, body) = app
        .register_client(json!({
            "redirect_uris": ["com.example.app:/callback"], "token_endpoint_auth_method": "none",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let others = [
        "https://evil.example",
        "null",
        "https://spa.example:8443",
        "http://spa.example",
        "com.example.app://",
    ];
    for path in CLIENT_ORIGIN_PATHS {
        for origin in others {
            let headers = preflight(&app, &app.address, path, origin).await;
            assert_eq!(allowed_origin(&headers), None, "{path} from {origin}");
        }
    }
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .header("origin", "https://evil.example")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed_origin(response.headers()), None);
    assert!(list(response.headers(), "vary").contains(&"origin".to_owned()), "the answer depends on Origin");
}

/// A browser app can read an error (and the headers that come with it)
/// only if the error carries the CORS headers too.
async fn error_answers_to_a_registered_origin_carry_cors_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) =
        app.register_client(json!({"redirect_uris": [format!("{SPA}/callback")], "scope": "openid"})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_id"].as_str().unwrap();
    let readable = |headers: &HeaderMap, what: &str| {
        assert_eq!(allowed_origin(headers), Some(SPA), "{what}: {headers:?}");
        let exposed = list(headers, "access-control-expose-headers");
        for name in ["www-authenticate", "retry-after"] {
            assert!(exposed.contains(&name.to_owned()), "{what} exposes {name}: {headers:?}");
        }
    };
    let token_request = || {
        app.http
            .post(app.url("/oauth2/token"))
            .header("origin", SPA)
            .basic_auth(id, Some("wrong secret"))
            .form(&[("grant_type", "client_credentials")])
    };

    let response = token_request().send().await.unwrap();
    readable(response.headers(), "invalid_client");
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(response.status(), 401);

    let response = app.http.get(app.url("/oauth2/userinfo")).header("origin", SPA).send().await.unwrap();
    readable(response.headers(), "userinfo without a token");
    assert_eq!(response.status(), 401);

    let response = app.http.post(app.url("/oauth2/revoke")).header("origin", SPA).send().await.unwrap();
    readable(response.headers(), "a revocation without a body");
    assert!(response.status().is_client_error());

    // Failures past the free ones lock the client at this address: 429.
    let mut locked = None;
    for _ in 0..20 {
        let response = token_request().send().await.unwrap();
        if response.status() == 429 {
            locked = Some(response);
            break;
        }
    }
    let response = locked.expect("repeated wrong secrets end in 429");
    readable(response.headers(), "429");
    assert!(response.headers().contains_key("retry-after"));
}

async fn authorize_pages_admin_and_introspection_send_no_cors_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = spa_client(&app, SPA).await;
    let admin = app.admin_token().await;
    let authorize =
        format!("/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={SPA}/callback");
    let requests = [
        app.http.get(app.url(&authorize)),
        app.http.get(app.url("/login")),
        app.http.get(app.url("/consent")),
        app.http.get(app.url("/oauth2/logout")),
        app.http.get(app.url("/admin/clients")).bearer_auth(&admin),
        app.http.get(app.url("/admin/clients")),
        app.http.post(app.url("/oauth2/introspect")).form(&[("token", "x")]),
        app.http.get(app.url("/healthz")),
        app.http.get(app.url("/")),
    ];
    for request in requests {
        let response = request.header("origin", SPA).send().await.unwrap();
        let url = response.url().path().to_owned();
        assert_eq!(allowed_origin(response.headers()), None, "{url}");
        assert_eq!(header(response.headers(), "access-control-allow-credentials"), None, "{url}");
    }
    for path in ["/oauth2/authorize", "/login", "/admin/clients", "/oauth2/introspect", "/healthz"] {
        let headers = preflight(&app, &app.address, path, SPA).await;
        assert_eq!(allowed_origin(&headers), None, "{path}: {headers:?}");
    }
}

/// Fetch §3.2.5: `*` with credentials is refused by browsers; Castellan never
/// allows credentials at all, on any CORS answer, preflight or not.
async fn credentials_are_never_allowed_so_never_with_a_wildcard(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    spa_client(&app, SPA).await;
    for path in PUBLIC_PATHS.into_iter().chain(CLIENT_ORIGIN_PATHS) {
        for origin in [SPA, "https://anyone.example"] {
            let preflight = preflight(&app, &app.address, path, origin).await;
            let get = app.http.get(app.url(path)).header("origin", origin).send().await.unwrap();
            let post = app.http.post(app.url(path)).header("origin", origin).send().await.unwrap();
            for headers in [&preflight, get.headers(), post.headers()] {
                assert_eq!(header(headers, "access-control-allow-credentials"), None, "{path} {origin}");
            }
        }
    }
}

async fn a_newly_registered_clients_origin_is_allowed_at_once_on_this_instance(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let new = "https://new.example";
    let allowed = async |origin: &str| {
        allowed_origin(&preflight(&app, &app.address, "/oauth2/token", origin).await).is_some()
    };
    assert!(!allowed(new).await, "not registered yet (and the origins are now cached)");
    let id = spa_client(&app, new).await;
    assert!(allowed(new).await, "registered through this instance: allowed at once");

    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{id}");
    let moved = json!({"redirect_uris": ["https://moved.example/cb"], "token_endpoint_auth_method": "none"});
    let (status, body) = app.admin_request(Method::PUT, &path, Some(&admin), Some(&moved)).await;
    assert_eq!(status, 200, "{body}");
    assert!(!allowed(new).await, "its old origin is gone at once");
    assert!(allowed("https://moved.example").await);

    let (status, _) = app.admin_request(Method::DELETE, &path, Some(&admin), None::<&Value>).await;
    assert_eq!(status, 204);
    assert!(!allowed("https://moved.example").await, "a deleted client's origin is gone at once");
}

/// Another instance learns of the new client within its
/// `CASTELLAN_CLIENT_CACHE_TTL`, as it learns of the client itself.
async fn another_instance_allows_a_new_origin_within_its_client_cache_ttl(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[("CASTELLAN_CLIENT_CACHE_TTL", "30")]).await;
    let new = "https://new.example";
    let allowed_on_second =
        async || allowed_origin(&preflight(&app, &second.address, "/oauth2/token", new).await).is_some();
    assert!(!allowed_on_second().await, "not registered yet (and now cached there)");
    spa_client(&app, new).await;
    assert!(!allowed_on_second().await, "the second instance still has its cached origins");
    app.clock.advance(30);
    assert!(allowed_on_second().await, "after the TTL the second instance reloads them");
}
