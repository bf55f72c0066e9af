//! Malformed requests, as no OAuth library would send them: every one is
//! answered with a 4xx and a JSON `error`, never a 5xx, and the server keeps
//! working afterwards.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, status_and_json};

const FORM: &str = "application/x-www-form-urlencoded";
const FORM_ENDPOINTS: [&str; 3] = ["/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"];

/// Sends `body` to `path` with `content_type` and admin Basic credentials,
/// and asserts a 4xx JSON error answer; returns the status.
async fn assert_rejected(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> u16 {
    let mut request = app.http.post(app.url(path)).basic_auth(ADMIN_ID, Some(ADMIN_SECRET)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let (status, answer) =
        status_and_json(request.send().await.expect("an answer, not a dropped connection")).await;
    assert!((400..500).contains(&status), "{path} answered {status}: {answer}");
    assert!(answer["error"].is_string(), "{path} answered {status} without a JSON error: {answer}");
    status
}

/// Sends a JSON-ish `body` to the admin API with an admin token, and asserts
/// a 400 JSON error answer.
async fn assert_admin_rejected(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) {
    let response = app
        .http
        .post(app.url("/admin/clients"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("an answer, not a dropped connection");
    let (status, answer) = status_and_json(response).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
}

/// RFC 6749 §3.2, §5.2: an empty body is `invalid_request` (the client did
/// authenticate, but sent no parameters).
async fn an_empty_form_body_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in FORM_ENDPOINTS {
        assert_eq!(assert_rejected(&app, path, Some(FORM), Vec::new()).await, 400, "{path}");
    }
}

/// A body far larger than any real request (1 MB) is refused with a 4xx,
/// not read into memory without bound, and the server stays healthy.
async fn a_huge_body_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = format!("grant_type=client_credentials&token={}", "a".repeat(1 << 20)).into_bytes();
    for path in FORM_ENDPOINTS {
        assert_rejected(&app, path, Some(FORM), huge.clone()).await;
    }
    let token = app.admin_token().await;
    let mut metadata = json!({"grant_types": ["client_credentials"], "response_types": []});
    metadata["client_name"] = json!("x".repeat(1 << 20));
    assert_admin_rejected(&app, &token, "application/json", metadata.to_string().into_bytes()).await;
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}

/// RFC 6749 Appendix B: a body that is not UTF-8, raw or percent-encoded,
/// is `invalid_request`.
async fn a_non_utf8_body_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let raw = [b"grant_type=client_credentials&token=\xff\xfe".as_slice(), b"&scope=\xc3"].concat();
    let bodies: [&[u8]; 4] =
        [&raw, b"grant_type=client_credentials&token=%ff%fe", b"token=%c3%28", b"token=%zz"];
    for path in FORM_ENDPOINTS {
        for body in bodies {
            let status = assert_rejected(&app, path, Some(FORM), body.to_vec()).await;
            assert_eq!(status, 400, "{path} {body:?}");
        }
    }
    let token = app.admin_token().await;
    assert_admin_rejected(&app, &token, "application/json", b"{\"client_name\": \"\xff\"}".to_vec()).await;
}

/// RFC 6749 §3.2: the endpoints take `application/x-www-form-urlencoded`
/// only; JSON, plain text, multipart or no content type is `invalid_request`.
async fn a_wrong_content_type_is_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = b"grant_type=client_credentials&token=x".to_vec();
    for path in FORM_ENDPOINTS {
        for content_type in [Some("application/json"), Some("text/plain"), Some("multipart/form-data"), None]
        {
            let status = assert_rejected(&app, path, content_type, body.clone()).await;
            assert_eq!(status, 400, "{path} {content_type:?}");
        }
        let json = br#"{"grant_type": "client_credentials", "token": "x"}"#.to_vec();
        assert_rejected(&app, path, Some("application/json"), json).await;
    }
    let token = app.admin_token().await;
    let metadata = json!({"grant_types": ["client_credentials"], "response_types": []}).to_string();
    assert_admin_rejected(&app, &token, FORM, metadata.clone().into_bytes()).await;
    assert_admin_rejected(&app, &token, "text/plain", metadata.into_bytes()).await;
}

/// RFC 6749 §3.1, §3.2: a parameter sent twice is `invalid_request`, even
/// when both values agree or one is empty; in JSON a repeated member too.
async fn duplicated_parameters_are_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    for (path, body) in [
        ("/oauth2/token", "grant_type=client_credentials&grant_type=client_credentials".to_owned()),
        ("/oauth2/token", "grant_type=client_credentials&scope=admin&scope=other".to_owned()),
        ("/oauth2/token", "grant_type=&grant_type=client_credentials".to_owned()),
        ("/oauth2/introspect", format!("token={token}&token=garbage")),
        ("/oauth2/revoke", format!("token={token}&token={token}")),
    ] {
        let response = app.post_form(path, &body, Some((ADMIN_ID, ADMIN_SECRET))).await;
        let (status, answer) = status_and_json(response).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")), "{path} {body}");
    }
    // The revocation above must not have happened.
    assert_eq!(app.introspect((ADMIN_ID, ADMIN_SECRET), &token).await["active"], true);
    let json =
        br#"{"grant_types": ["client_credentials"], "response_types": [], "scope": "a", "scope": "admin"}"#;
    assert_admin_rejected(&app, &token, "application/json", json.to_vec()).await;
}

/// RFC 6749 §3.2: the token endpoint takes parameters from the POST body;
/// parameters only in the query string are not used, and credentials there
/// are never accepted.
async fn query_string_parameters_are_not_used(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let credentials = format!("client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}");
    for path in FORM_ENDPOINTS {
        let url = app.url(&format!("{path}?grant_type=client_credentials&token=x&{credentials}"));
        let response = app.http.post(url).header("content-type", FORM).body("").send().await.unwrap();
        let (status, answer) = status_and_json(response).await;
        assert!((400..500).contains(&status) && answer["error"].is_string(), "{path}: {status} {answer}");
    }
    let token = app.admin_token().await;
    let url = app.url("/admin/clients?client_name=x&grant_types=client_credentials");
    let (status, answer) = status_and_json(app.http.post(url).bearer_auth(token).send().await.unwrap()).await;
    assert!(status == 400 && answer["error"].is_string(), "{status} {answer}");
    // An admin token in the query is not a credential (RFC 6750 §2.3 is not supported).
    let token = app.admin_token().await;
    let url = app.url(&format!("/admin/clients?access_token={token}"));
    assert_eq!(app.http.get(url).send().await.unwrap().status(), 401);
}

/// An unknown path is 404 and a wrong method 405, both with a JSON error;
/// the 405 names the allowed methods (RFC 9110 §15.5.6).
async fn unknown_paths_and_methods_answer_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (method, path) in
        [(Method::GET, "/no/such/path"), (Method::POST, "/oauth2/tokens"), (Method::GET, "/admin")]
    {
        let (status, answer) =
            status_and_json(app.http.request(method, app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, 404, "{path}");
        assert!(answer["error"].is_string(), "{path}: {answer}");
    }
    for (method, path) in [
        (Method::GET, "/oauth2/token"),
        (Method::PUT, "/oauth2/introspect"),
        (Method::DELETE, "/oauth2/jwks"),
        (Method::POST, "/.well-known/openid-configuration"),
    ] {
        let response = app.http.request(method.clone(), app.url(path)).send().await.unwrap();
        let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
        let (status, answer) = status_and_json(response).await;
        assert_eq!(status, 405, "{method} {path}");
        assert!(answer["error"].is_string(), "{method} {path}: {answer}");
        assert!(allow.is_some(), "{method} {path}: no Allow header");
    }
}

/// The admin API answers its own wrong methods and malformed path segments
/// (not UTF-8 once decoded) with a JSON error too, never plain text.
async fn admin_api_routing_errors_answer_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    for (method, path, expected) in [
        (Method::PATCH, "/admin/clients", 405),
        (Method::POST, "/admin/clients/some-client", 405),
        (Method::GET, "/admin/clients/%FF", 404),
        (Method::DELETE, "/admin/clients/%C3%28", 404),
    ] {
        let response =
            app.http.request(method.clone(), app.url(path)).bearer_auth(&token).send().await.unwrap();
        let (status, answer) = status_and_json(response).await;
        assert!(status == expected || status == 400, "{method} {path}: {status}");
        assert!(answer["error"].is_string(), "{method} {path}: {status} without a JSON error");
    }
}

/// Malformed `Authorization` headers on every endpoint are 401 (or 400), never 5xx.
async fn malformed_authorization_headers_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for value in
        ["Basic", "Basic !!!notbase64", "Basic dGVzdA==", "Basic Og==", "Bearer", "Digest x", "Basic  "]
    {
        for path in FORM_ENDPOINTS {
            let response = app
                .http
                .post(app.url(path))
                .header("authorization", value)
                .header("content-type", FORM)
                .body("grant_type=client_credentials&token=x")
                .send()
                .await
                .unwrap();
            let (status, answer) = status_and_json(response).await;
            assert!(matches!(status, 400 | 401) && answer["error"].is_string(), "{path} {value}: {status}");
        }
        let response =
            app.http.get(app.url("/admin/clients")).header("authorization", value).send().await.unwrap();
        assert_eq!(response.status(), 401, "{value}");
    }
}

both_backends!(
    an_empty_form_body_is_invalid_request,
    a_huge_body_is_refused,
    a_non_utf8_body_is_invalid_request,
    a_wrong_content_type_is_invalid_request,
    duplicated_parameters_are_invalid_request,
    query_string_parameters_are_not_used,
    unknown_paths_and_methods_answer_json,
    admin_api_routing_errors_answer_json,
    malformed_authorization_headers_are_refused,
);
