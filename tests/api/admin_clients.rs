//! The admin client API of interface.md: authentication, RFC 7591 metadata
//! in and out, and the lifecycle of a client.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, Backend, TestApp};

fn service_metadata(scope: &str) -> Value {
    json!({
        "client_name": "billing",
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "response_types": [],
        "scope": scope,
    })
}

/// interface.md, RFC 6750 §3.1: the admin API answers 401 with a Bearer
/// challenge without a token, with a bad token, or with another scheme.
async fn the_admin_api_needs_a_bearer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for authorization in [None, Some("Bearer not-a-token"), Some("Basic dGVzdC1hZG1pbjp4")] {
        let mut request = app.http.get(app.url("/admin/clients"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        let challenge = response.headers().get("www-authenticate").expect("a challenge").to_str().unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
}

/// interface.md, RFC 6750 §3.1: a valid token without the `admin` scope is
/// 403 `insufficient_scope`, on reads as well as writes.
async fn a_token_without_the_admin_scope_is_forbidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read").await;
    let token = app.token_for(&id, &secret, &[]).await;
    let (status, body) = app.admin_request(Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")), "{body}");
    let metadata = service_metadata("admin");
    let (status, _) = app.admin_request(Method::POST, "/admin/clients", Some(&token), Some(&metadata)).await;
    assert_eq!(status, 403);
}

/// RFC 7591 §3.2.1: a confidential client is answered 201 with its
/// metadata, `client_id`, `client_id_issued_at` and a `client_secret`.
async fn creating_a_confidential_client_returns_its_id_and_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = crate::helpers::now();
    let (status, body) = app.register_client(service_metadata("orders:read orders:write")).await;
    assert_eq!(status, 201, "{body}");
    assert!(!body["client_id"].as_str().unwrap().is_empty());
    let issued_at = body["client_id_issued_at"].as_i64().expect("client_id_issued_at");
    assert!((before - 1..=before + 60).contains(&issued_at));
    assert!(body["client_secret"].as_str().unwrap().len() >= 32);
    assert_eq!(body["client_name"], "billing");
    assert_eq!(body["scope"], "orders:read orders:write");
    assert_eq!(body["grant_types"], json!(["client_credentials"]));
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    // Two registrations never share an id.
    let (_, other) = app.register_client(service_metadata("orders:read")).await;
    assert_ne!(other["client_id"], body["client_id"]);
}

/// RFC 7591 §2, §3.2.1: metadata the server does not understand is ignored,
/// and the server alone chooses `client_id` and `client_secret`.
async fn the_server_chooses_id_and_secret_and_ignores_unknown_metadata(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut metadata = service_metadata("orders:read");
    metadata["client_id"] = json!("chosen-by-caller");
    metadata["client_secret"] = json!("chosen-by-caller-secret");
    metadata["logo_uri"] = json!("https://app.example.com/logo.png");
    metadata["x-custom"] = json!({"nested": [1, 2]});
    let (status, body) = app.register_client(metadata).await;
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["client_id"], "chosen-by-caller");
    assert_ne!(body["client_secret"], "chosen-by-caller-secret");
    let response = app
        .post_form(
            "/oauth2/token",
            "grant_type=client_credentials",
            Some(("chosen-by-caller", "chosen-by-caller-secret")),
        )
        .await;
    assert_eq!(response.status(), 401);
}

/// RFC 7591 §2: a public client (`none`) gets no secret.
async fn a_public_client_gets_no_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .register_client(json!({
            "redirect_uris": ["http://127.0.0.1:8400/callback"],
            "token_endpoint_auth_method": "none",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("client_secret").is_none(), "{body}");
    assert_eq!(body["token_endpoint_auth_method"], "none");
}

/// RFC 7591 §2: omitted metadata takes the defaults: `authorization_code`,
/// `code`, `client_secret_basic`.
async fn omitted_metadata_takes_the_rfc_7591_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.register_client(json!({"redirect_uris": ["https://app.example.com/cb"]})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["grant_types"], json!(["authorization_code"]));
    assert_eq!(body["response_types"], json!(["code"]));
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["redirect_uris"], json!(["https://app.example.com/cb"]));
    assert!(body["client_secret"].is_string());
}

/// interface.md: GET lists and shows clients with their metadata, and never
/// a secret; an unknown id is 404.
async fn clients_can_be_listed_and_read_without_their_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let (_, created) = app.register_client(service_metadata("orders:read")).await;
    let id = created["client_id"].as_str().unwrap();

    let (status, list) = app.admin_request(Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!(status, 200);
    let list = list.as_array().expect("a JSON array");
    assert!(list.iter().any(|c| c["client_id"] == id));
    assert!(list.iter().any(|c| c["client_id"] == ADMIN_ID));
    assert!(list.iter().all(|c| c.get("client_secret").is_none()), "{list:?}");

    let (status, shown) =
        app.admin_request(Method::GET, &format!("/admin/clients/{id}"), Some(&token), None).await;
    assert_eq!(status, 200);
    assert!(shown.get("client_secret").is_none(), "{shown}");
    assert_eq!(shown["scope"], "orders:read");
    assert_eq!(shown["client_id_issued_at"], created["client_id_issued_at"]);

    let (status, body) =
        app.admin_request(Method::GET, "/admin/clients/no-such-client", Some(&token), None).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
}

/// interface.md: PUT replaces the metadata and answers 200 with it, never
/// with the secret, and the client keeps its secret.
async fn put_replaces_metadata_and_keeps_the_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let (_, created) = app.register_client(service_metadata("orders:read")).await;
    let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let mut replacement = service_metadata("orders:read orders:write");
    replacement["client_name"] = json!("billing v2");
    let path = format!("/admin/clients/{id}");

    let (status, body) = app.admin_request(Method::PUT, &path, Some(&token), Some(&replacement)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("client_secret").is_none(), "{body}");
    assert_eq!(body["client_name"], "billing v2");
    assert_eq!(body["client_id"], id);

    let (_, shown) = app.admin_request(Method::GET, &path, Some(&token), None).await;
    assert_eq!(shown["scope"], "orders:read orders:write");
    let access = app.token_for(id, secret, &["orders:write"]).await;
    assert!(app.verify_offline(&access).await.is_ok());

    let (status, body) = app
        .admin_request(Method::PUT, "/admin/clients/no-such-client", Some(&token), Some(&replacement))
        .await;
    assert_eq!(status, 404, "{body}");
}

/// interface.md: DELETE answers 204; afterwards GET is 404, the client
/// cannot authenticate, and its tokens are no longer active.
async fn a_deleted_client_is_gone_and_its_tokens_stop_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_token().await;
    let (id, secret) = app.service_client("orders:read").await;
    let token = app.token_for(&id, &secret, &[]).await;
    let path = format!("/admin/clients/{id}");

    let response = app.http.delete(app.url(&path)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let (status, _) = app.admin_request(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, 404);
    let (status, _) = app.admin_request(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 404, "deleting twice");

    let answer = app.introspect((crate::helpers::ADMIN_ID, crate::helpers::ADMIN_SECRET), &token).await;
    assert_eq!(answer, json!({"active": false}));
    let response =
        app.post_form("/oauth2/token", "grant_type=client_credentials", Some((&id, &secret))).await;
    assert_eq!(response.status(), 401);
}

/// interface.md: an admin may create another `admin`-scoped client, which
/// can then use the admin API, until it is deleted (then 401).
async fn an_admin_created_admin_client_can_use_the_admin_api_until_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("admin").await;
    let token = app.token_for(&id, &secret, &["admin"]).await;
    let (status, body) = app.admin_request(Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, created) = app
        .admin_request(Method::POST, "/admin/clients", Some(&token), Some(&service_metadata("reports")))
        .await;
    assert_eq!(status, 201, "{created}");

    let admin = app.admin_token().await;
    let (status, _) =
        app.admin_request(Method::DELETE, &format!("/admin/clients/{id}"), Some(&admin), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.admin_request(Method::GET, "/admin/clients", Some(&token), None).await;
    assert_eq!(status, 401);
}

/// A client deleted through one instance stops working on another sharing
/// the database within that instance's `CASTELLAN_CLIENT_CACHE_TTL`.
async fn a_client_deleted_on_one_instance_stops_working_on_the_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let second = app.second_instance(&[("CASTELLAN_CLIENT_CACHE_TTL", "1")]).await;
    let (id, secret) = app.service_client("orders:read").await;
    let token = app.token_for(&id, &secret, &[]).await;
    let introspect_on_second = async || {
        let response = app
            .http
            .post(second.url("/oauth2/introspect"))
            .basic_auth(crate::helpers::ADMIN_ID, Some(crate::helpers::ADMIN_SECRET))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["active"] == true
    };
    assert!(introspect_on_second().await, "the second instance now has the client cached");
    let admin = app.admin_token().await;
    let (status, _) =
        app.admin_request(Method::DELETE, &format!("/admin/clients/{id}"), Some(&admin), None).await;
    assert_eq!(status, 204);
    let deleted_at = std::time::Instant::now();
    while introspect_on_second().await {
        assert!(deleted_at.elapsed().as_secs() < 4, "the second instance still trusts the deleted client");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// RFC 7591 §2.1, §3.2.2: grant and response types that disagree,
/// unsupported values, a public client with `client_credentials`, and
/// malformed scopes are `invalid_client_metadata`.
async fn inconsistent_or_unsupported_metadata_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cb = json!(["https://app.example.com/cb"]);
    for metadata in [
        json!({"redirect_uris": cb, "response_types": []}),
        json!({"grant_types": ["client_credentials"], "response_types": ["code"], "redirect_uris": cb}),
        json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
        json!({"grant_types": ["implicit"], "redirect_uris": cb}),
        json!({"grant_types": [], "response_types": []}),
        json!({"grant_types": ["refresh_token"], "response_types": []}),
        json!({"redirect_uris": cb, "response_types": ["token"]}),
        json!({"redirect_uris": cb, "token_endpoint_auth_method": "private_key_jwt"}),
        json!({"grant_types": ["client_credentials"], "response_types": [], "scope": "a\"b"}),
        json!({"grant_types": ["client_credentials"], "response_types": [], "scope": "caf\u{e9}"}),
    ] {
        let (status, body) = app.register_client(metadata.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{metadata}: {body}"
        );
        assert!(body["error_description"].is_string());
    }
}

/// RFC 7591 §3.2.2: JSON of the wrong shape, or a body that is not JSON at
/// all, is `invalid_client_metadata`.
async fn malformed_metadata_bodies_are_invalid_client_metadata(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    for metadata in [
        json!({"redirect_uris": "https://app.example.com/cb"}),
        json!({"redirect_uris": [1, 2]}),
        json!({"grant_types": "client_credentials"}),
        json!({"scope": ["a", "b"], "grant_types": ["client_credentials"], "response_types": []}),
        json!({"client_name": 42, "grant_types": ["client_credentials"], "response_types": []}),
        json!(["not", "an", "object"]),
        json!(null),
    ] {
        let (status, body) = app.register_client(metadata.clone()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{metadata}: {body}"
        );
    }
    for (content_type, body) in
        [("application/json", "{not json"), ("text/plain", "{}"), ("application/json", "")]
    {
        let response = app
            .http
            .post(app.url("/admin/clients"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        crate::helpers::assert_error(response, 400, "invalid_client_metadata").await;
    }
}

/// The list is paged (`?limit=&after=`): each page links the next with
/// `Link: <…>; rel="next"` (RFC 8288) until the last, and following the
/// links yields every client once, in id order.
async fn the_client_list_is_paged_with_a_link_to_the_next_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let mut expected = vec![ADMIN_ID.to_owned()];
    for _ in 0..4 {
        expected.push(app.service_client("reports").await.0);
    }
    expected.sort();
    let (mut seen, mut pages) = (Vec::new(), 0);
    let mut next = Some("/admin/clients?limit=2".to_owned());
    while let Some(path) = next.take() {
        let response = app.http.get(app.url(&path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_owned()
        });
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2 && !page.is_empty(), "{path}: {page:?}");
        seen.extend(page.iter().map(|c| c["client_id"].as_str().unwrap().to_owned()));
        pages += 1;
    }
    assert_eq!((seen, pages), (expected, 3));
    let (status, body) = app.admin_request(Method::GET, "/admin/clients?limit=0", Some(&token), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
}

/// A public client cannot be turned confidential by PUT (it has no secret to
/// keep); the answer is `invalid_client_metadata` and the client is unchanged.
async fn put_cannot_make_a_public_client_confidential(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.admin_token().await;
    let cb = json!(["https://app.example.com/cb"]);
    let (_, created) =
        app.register_client(json!({"redirect_uris": cb, "token_endpoint_auth_method": "none"})).await;
    let path = format!("/admin/clients/{}", created["client_id"].as_str().unwrap());
    let replacement = json!({"redirect_uris": cb, "token_endpoint_auth_method": "client_secret_basic"});
    let (status, body) = app.admin_request(Method::PUT, &path, Some(&token), Some(&replacement)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")), "{body}");
    let (_, shown) = app.admin_request(Method::GET, &path, Some(&token), None).await;
    assert_eq!(shown["token_endpoint_auth_method"], "none");
}

both_backends!(
    the_admin_api_needs_a_bearer_token,
    a_token_without_the_admin_scope_is_forbidden,
    creating_a_confidential_client_returns_its_id_and_secret,
    the_server_chooses_id_and_secret_and_ignores_unknown_metadata,
    a_public_client_gets_no_secret,
    omitted_metadata_takes_the_rfc_7591_defaults,
    clients_can_be_listed_and_read_without_their_secret,
    put_replaces_metadata_and_keeps_the_secret,
    a_deleted_client_is_gone_and_its_tokens_stop_working,
    an_admin_created_admin_client_can_use_the_admin_api_until_deleted,
    a_client_deleted_on_one_instance_stops_working_on_the_others,
    inconsistent_or_unsupported_metadata_is_refused,
    malformed_metadata_bodies_are_invalid_client_metadata,
    put_cannot_make_a_public_client_confidential,
    the_client_list_is_paged_with_a_link_to_the_next_page,
);
