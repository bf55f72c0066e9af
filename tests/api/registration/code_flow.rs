//! A native app registers itself with the `openidconnect` crate (as a
//! real relying party would, through discovery) and signs a user in with
//! the authorization code flow and PKCE; the user is asked to consent
//! every time; deleting the registration ends its tokens.

use openidconnect::core::{
    CoreApplicationType, CoreAuthPrompt, CoreClient, CoreClientAuthMethod, CoreClientRegistrationRequest,
    CoreGrantType, CoreProviderMetadata,
};
use openidconnect::registration::EmptyAdditionalClientMetadata;
use openidconnect::{IssuerUrl, RedirectUrl};
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::oidc::{Rp, UserAgent, complete, create_user, oidc_endpoint, sign_in};

both_backends!(a_self_registered_native_app_signs_a_user_in_and_consent_is_asked_every_time);

const CALLBACK: &str = "http://127.0.0.1/callback";

/// Registers a public native client through discovery; returns it with its
/// registration access token and configuration endpoint.
async fn register_native_app(app: &TestApp) -> (Rp, String, String) {
    let issuer = IssuerUrl::new(app.address.clone()).unwrap();
    let provider = CoreProviderMetadata::discover_async(issuer, &app.http).await.expect("discovery");
    let endpoint =
        provider.registration_endpoint().expect("discovery names the registration endpoint").clone();
    let redirect = RedirectUrl::new(CALLBACK.to_owned()).unwrap();
    let registered =
        CoreClientRegistrationRequest::new(vec![redirect.clone()], EmptyAdditionalClientMetadata {})
            .set_application_type(Some(CoreApplicationType::Native))
            .set_token_endpoint_auth_method(Some(CoreClientAuthMethod::None))
            .set_grant_types(Some(vec![CoreGrantType::AuthorizationCode]))
            .register_async(&endpoint, &app.http)
            .await
            .expect("the registration succeeds");
    assert!(registered.client_secret().is_none(), "a public client has no secret");
    let token = registered.registration_access_token().expect("a registration access token").secret().clone();
    let uri = registered.registration_client_uri().expect("a registration client URI").to_string();
    let id = registered.client_id().clone();
    let oidc = CoreClient::from_provider_metadata(provider, id.clone(), None).set_redirect_uri(redirect);
    (Rp { id: id.to_string(), secret: None, oidc }, token, uri)
}

async fn userinfo_status(app: &TestApp, access_token: &str) -> u16 {
    let endpoint = oidc_endpoint(app, "userinfo_endpoint").await;
    app.http.get(endpoint).bearer_auth(access_token).send().await.unwrap().status().as_u16()
}

async fn a_self_registered_native_app_signs_a_user_in_and_consent_is_asked_every_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, OPEN).await;
    create_user(&app, "alice", json!({})).await;
    let (rp, registration_token, registration_uri) = register_native_app(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let tokens = sign_in(&app, &rp, &mut ua, "alice", &["profile"]).await;
    assert!(!tokens.claims.subject().as_str().is_empty());
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, 200);

    // Signed in, and the same scopes allowed before: still asked.
    let auth = rp.authorize(&["profile"]);
    let page = ua.follow(auth.url.as_str()).await.page();
    assert!(page.consent_form().is_some(), "consent is asked again: {}", page.body);
    let callback = complete(&mut ua, crate::oidc::Landing::Page(page), "alice").await;
    rp.redeem(&app, &callback, &auth).await;
    // So a request that may not show a page cannot be answered with a code;
    // and as nobody vetted its redirect URI, the error is told on a page,
    // not redirected there unseen (RFC 9700 §4.11.2: no open redirector).
    let auth = rp.authorize_with(&["profile"], |r| r.add_prompt(CoreAuthPrompt::None));
    let page = ua.follow(auth.url.as_str()).await.page();
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("the user has not consented"), "{}", page.body);

    // RFC 7592 §2.3: deleting the registration ends what the client holds.
    let response =
        manage(&app, reqwest::Method::DELETE, &registration_uri, Some(&registration_token), None).await;
    assert_eq!(response.status(), 204);
    assert_eq!(userinfo_status(&app, &tokens.access_token).await, 401);
}
