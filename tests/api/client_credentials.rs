//! The token endpoint with the `client_credentials` grant (RFC 6749 §4.4),
//! client authentication (§2.3) and the access token format (RFC 9068).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oauth2::basic::BasicErrorResponseType;
use oauth2::{AuthType, RequestTokenError, Scope, TokenResponse};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, assert_error, now};

/// The `error` code of a failed `client_credentials` request made with the `oauth2` crate.
async fn refused_with(app: &TestApp, id: &str, secret: &str, scopes: &[&str]) -> BasicErrorResponseType {
    let client = app.oauth_client(id, secret).await;
    let mut request = client.exchange_client_credentials();
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    match request.request_async(&app.http).await {
        Err(RequestTokenError::ServerResponse(error)) => error.error().clone(),
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// RFC 9068 §2: the access token is a JWT with `typ: at+jwt` and the claims
/// `iss sub aud exp iat jti client_id scope`; for `client_credentials`,
/// `sub` is the client (§2.2).
async fn the_access_token_is_an_rfc_9068_jwt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("orders:read orders:write").await;
    let before = now();
    let token = app.token_for(&id, &secret, &["orders:read"]).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert!(header.kid.is_some());
    let claims = app.verify_offline(&token).await.expect("verifies against the JWKS");
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "orders:read");
    assert!(claims["aud"].is_string() || claims["aud"].is_array(), "{claims}");
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!((before - 1..=before + 60).contains(&iat), "{claims}");
    assert!(exp > iat);
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 16));
    let again = app.verify_offline(&app.token_for(&id, &secret, &[]).await).await.unwrap();
    assert_ne!(again["jti"], claims["jti"], "every token has its own jti");
}

/// RFC 6749 §5.1: the response has `token_type` Bearer, `expires_in` matching
/// the token's lifetime, and `Cache-Control: no-store`.
async fn the_token_response_is_bearer_with_expiry_and_not_cached(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("CASTELLAN_ACCESS_TOKEN_TTL", "600")]).await;
    let response =
        app.post_form("/oauth2/token", "grant_type=client_credentials", Some((ADMIN_ID, ADMIN_SECRET))).await;
    assert_eq!(response.status(), 200);
    let cache = response.headers().get("cache-control").expect("Cache-Control").to_str().unwrap().to_owned();
    assert!(cache.contains("no-store"), "{cache}");
    let body: Value = response.json().await.unwrap();
    assert!(body["token_type"].as_str().unwrap().eq_ignore_ascii_case("bearer"));
    assert_eq!(body["expires_in"], 600);
    let claims = app.verify_offline(body["access_token"].as_str().unwrap()).await.unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
}

/// RFC 6749 §3.3: a subset of the registered scope is granted as asked; an
/// omitted scope means the registered one.
async fn a_subset_is_granted_and_an_omitted_scope_means_the_registered_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("a b c").await;
    let client = app.oauth_client(&id, &secret).await;
    let response = client
        .exchange_client_credentials()
        .add_scope(Scope::new("c".into()))
        .add_scope(Scope::new("a".into()))
        .request_async(&app.http)
        .await
        .unwrap();
    let claims = app.verify_offline(response.access_token().secret()).await.unwrap();
    let mut granted: Vec<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
    granted.sort_unstable();
    assert_eq!(granted, ["a", "c"]);

    let response = client.exchange_client_credentials().request_async(&app.http).await.unwrap();
    let claims = app.verify_offline(response.access_token().secret()).await.unwrap();
    assert_eq!(claims["scope"], "a b c");
}

/// RFC 6749 §5.2: a scope beyond the registered one is `invalid_scope`, so a
/// client cannot grant itself `admin`.
async fn a_scope_beyond_the_registered_one_is_invalid_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, secret) = app.service_client("a b").await;
    assert_eq!(refused_with(&app, &id, &secret, &["a", "d"]).await, BasicErrorResponseType::InvalidScope);
    assert_eq!(refused_with(&app, &id, &secret, &["admin"]).await, BasicErrorResponseType::InvalidScope);
    let response = app
        .post_form("/oauth2/token", "grant_type=client_credentials&scope=a%22b", Some((&id, &secret)))
        .await;
    assert_error(response, 400, "invalid_scope").await;
}

/// RFC 6749 §2.3.1: `client_secret_post` (credentials in the body) works.
async fn client_secret_post_authenticates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app
        .register_client(json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "token_endpoint_auth_method": "client_secret_post", "scope": "a",
        }))
        .await;
    assert_eq!(status, 201, "{body}");
    let (id, secret) = (body["client_id"].as_str().unwrap(), body["client_secret"].as_str().unwrap());
    let client = app.oauth_client(id, secret).await.set_auth_type(AuthType::RequestBody);
    let response = client.exchange_client_credentials().request_async(&app.http).await.expect("a token");
    let claims = app.verify_offline(response.access_token().secret()).await.unwrap();
    assert_eq!(claims["client_id"], id);
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64, so
/// an id or secret with `%`, `:`, `+` or a space works when encoded.
async fn basic_credentials_are_form_urlencoded(backend: Backend) {
    let (id, secret) = ("ops:admin+1", "p%40ss:w+rd with spaces and 100% more characters");
    let app = TestApp::spawn_with(
        backend,
        &[("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID", id), ("CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_SECRET", secret)],
    )
    .await;
    // The oauth2 crate encodes as the RFC says.
    let token = app.token_for(id, secret, &["admin"]).await;
    assert_eq!(app.verify_offline(&token).await.unwrap()["client_id"], id);
    // By hand: `+` must be %2B, `%` must be %25, `:` may be %3A.
    let encoded = "ops%3Aadmin%2B1:p%2540ss%3Aw%2Brd+with+spaces+and+100%25+more+characters";
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", format!("Basic {}", STANDARD.encode(encoded)))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Sent unencoded, `%40` means `@` and `+` a space, so this secret is wrong.
    let raw = format!("Basic {}", STANDARD.encode(format!("ops%3Aadmin%2B1:{secret}")));
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .header("authorization", raw)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// RFC 6749 §5.2: a wrong secret or an unknown client is 401
/// `invalid_client`, with a `WWW-Authenticate: Basic` challenge for Basic.
async fn failed_client_authentication_is_401_invalid_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (id, secret) in [(ADMIN_ID, "wrong-secret"), ("no-such-client", "whatever"), (ADMIN_ID, "")] {
        let response =
            app.post_form("/oauth2/token", "grant_type=client_credentials", Some((id, secret))).await;
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        assert!(challenge.is_some_and(|c| c.starts_with("Basic")), "{id}/{secret}");
        assert_error(response, 401, "invalid_client").await;
    }
    let body = format!("grant_type=client_credentials&client_id={ADMIN_ID}&client_secret=wrong");
    assert_error(app.post_form("/oauth2/token", &body, None).await, 401, "invalid_client").await;
    // A confidential client cannot leave its secret out.
    let body = format!("grant_type=client_credentials&client_id={ADMIN_ID}");
    assert_error(app.post_form("/oauth2/token", &body, None).await, 401, "invalid_client").await;
    assert_eq!(
        refused_with(&app, ADMIN_ID, "wrong", &["admin"]).await,
        BasicErrorResponseType::InvalidClient
    );
}

/// RFC 6749 §2.3: a client uses one authentication method per request; Basic
/// together with `client_secret` in the body is `invalid_request`.
async fn two_authentication_methods_at_once_are_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = format!("grant_type=client_credentials&client_id={ADMIN_ID}&client_secret={ADMIN_SECRET}");
    let response = app.post_form("/oauth2/token", &body, Some((ADMIN_ID, ADMIN_SECRET))).await;
    assert_error(response, 400, "invalid_request").await;
    // A body client_id naming another client than Basic does is refused too.
    let (other, _) = app.service_client("a").await;
    let body = format!("grant_type=client_credentials&client_id={other}");
    let response = app.post_form("/oauth2/token", &body, Some((ADMIN_ID, ADMIN_SECRET))).await;
    let (status, answer) = crate::helpers::status_and_json(response).await;
    assert!(matches!(status, 400 | 401) && answer.get("access_token").is_none(), "{status} {answer}");
}

/// RFC 6749 §5.2: a client not registered for `client_credentials` gets
/// `unauthorized_client`.
async fn a_client_without_the_grant_is_unauthorized_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.register_client(json!({"redirect_uris": ["https://app.example.com/cb"]})).await;
    assert_eq!(status, 201);
    let (id, secret) = (body["client_id"].as_str().unwrap(), body["client_secret"].as_str().unwrap());
    assert_eq!(refused_with(&app, id, secret, &[]).await, BasicErrorResponseType::UnauthorizedClient);
}

/// RFC 6749 §4.4: public clients cannot use `client_credentials`.
async fn a_public_client_cannot_use_client_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = &app.public_client().await;
    let response =
        app.post_form("/oauth2/token", &format!("grant_type=client_credentials&client_id={id}"), None).await;
    let (status, body) = crate::helpers::status_and_json(response).await;
    assert!(
        matches!(
            (status, body["error"].as_str()),
            (400, Some("unauthorized_client")) | (401, Some("invalid_client"))
        ),
        "{status} {body}"
    );
}

/// RFC 6749 §5.2: an unknown grant type is `unsupported_grant_type`; a
/// missing one is `invalid_request`.
async fn unknown_or_missing_grant_types_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = Some((ADMIN_ID, ADMIN_SECRET));
    for grant in ["password", "urn:ietf:params:oauth:grant-type:device_code", "CLIENT_CREDENTIALS"] {
        let body = format!(
            "grant_type={}",
            url::form_urlencoded::byte_serialize(grant.as_bytes()).collect::<String>()
        );
        assert_error(app.post_form("/oauth2/token", &body, admin).await, 400, "unsupported_grant_type").await;
    }
    assert_error(app.post_form("/oauth2/token", "scope=admin", admin).await, 400, "invalid_request").await;
    assert_error(app.post_form("/oauth2/token", "grant_type=", admin).await, 400, "invalid_request").await;
}

both_backends!(
    the_access_token_is_an_rfc_9068_jwt,
    the_token_response_is_bearer_with_expiry_and_not_cached,
    a_subset_is_granted_and_an_omitted_scope_means_the_registered_one,
    a_scope_beyond_the_registered_one_is_invalid_scope,
    client_secret_post_authenticates,
    basic_credentials_are_form_urlencoded,
    failed_client_authentication_is_401_invalid_client,
    two_authentication_methods_at_once_are_invalid_request,
    a_client_without_the_grant_is_unauthorized_client,
    a_public_client_cannot_use_client_credentials,
    unknown_or_missing_grant_types_are_refused,
);
