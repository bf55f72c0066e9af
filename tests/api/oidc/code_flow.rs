//! The authorization code flow end to end (OpenID Connect Core 1.0 §3.1,
//! RFC 6749 §4.1): the ID token and access token it yields, and the
//! one-time, client- and redirect-bound code.

use openidconnect::TokenResponse;
use serde_json::json;
use tokio::task::JoinSet;

use super::*;
use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, assert_error, now};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// OIDC Core §3.1.3.7 and RFC 9068: the ID token verifies (signature, iss,
/// aud = client_id, nonce, at_hash) and carries `azp` and `auth_time`; the
/// access token is an `at+jwt` for the user with `client_id`, `scope` and
/// the user's `roles`; the authorization response has `state` and `iss`.
async fn the_code_flow_yields_verified_id_and_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = create_user(&app, "alice", json!({"roles": ["editor", "viewer"]})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let before = now();
    let tokens = sign_in(&app, &rp, &mut ua, "alice", &["profile"]).await;

    let id = &tokens.id_claims;
    assert_eq!(id["iss"], app.address.as_str());
    assert_eq!(id["sub"], user.as_str());
    assert!(id["aud"] == json!(rp.id) || id["aud"] == json!([rp.id]), "{id}");
    assert_eq!(id["azp"], rp.id.as_str(), "{id}");
    let auth_time = tokens.claims.auth_time().expect("auth_time").timestamp();
    assert!((before - 1..=now() + 1).contains(&auth_time), "{id}");
    assert!(id["exp"].as_i64().unwrap() > now());

    let header = jsonwebtoken::decode_header(&tokens.access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let access = app.verify_offline(&tokens.access_token).await.expect("verifies against the JWKS");
    assert_eq!(access["sub"], user.as_str());
    assert_eq!(access["client_id"], rp.id.as_str());
    let mut scope: Vec<&str> = access["scope"].as_str().unwrap().split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, ["openid", "profile"]);
    assert_eq!(access["roles"], json!(["editor", "viewer"]));
    assert_eq!(tokens.refresh_token, None, "no refresh token without offline_access");
    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], true);
}

/// RFC 9068 §2.2.3.1: `roles` is present only for a user who has roles.
async fn a_user_without_roles_gets_no_roles_claim(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "bob", json!({})).await;
    let rp = Rp::confidential(&app).await;
    let tokens = sign_in(&app, &rp, &mut UserAgent::new(&app.address), "bob", &[]).await;
    let access = app.verify_offline(&tokens.access_token).await.unwrap();
    assert!(access.get("roles").is_none_or(|roles| roles == &json!([])), "{access}");
}

/// OIDC Dynamic Client Registration §2: `id_token_signed_response_alg`
/// chooses the ID token's algorithm; RS256 is the default.
async fn the_id_token_is_signed_with_the_clients_algorithm(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let default = Rp::public(&app).await;
    let es256 = Rp::register(
        &app,
        json!({"token_endpoint_auth_method": "none", "id_token_signed_response_alg": "ES256"}),
    )
    .await;
    let mut ua = UserAgent::new(&app.address);
    let tokens = sign_in(&app, &default, &mut ua, "alice", &[]).await;
    let header = jsonwebtoken::decode_header(&tokens.id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let tokens = sign_in(&app, &es256, &mut ua, "alice", &[]).await;
    let header = jsonwebtoken::decode_header(&tokens.id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let kid = header.kid.expect("the ID token names its key");
    assert!(app.jwks().await.find(&kid).is_some(), "the key is published");
}

/// RFC 6749 §4.1.2 and §10.5: a code is used once; a second redemption is
/// `invalid_grant` and revokes the tokens issued for the code.
async fn a_code_redeemed_twice_fails_and_revokes_the_first_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&["offline_access"]);
    let landing = ua.follow(auth.url.as_str()).await;
    let callback = complete(&mut ua, landing, "alice").await;
    let code = code_of(&app, &callback, &auth);
    let first = rp.exchange(&app, &code, &auth.verifier).await.expect("the first redemption works");
    let tokens = rp.verify(&first, &auth.nonce);
    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], true);

    assert_eq!(error_code(rp.exchange(&app, &code, &auth.verifier).await), "invalid_grant");
    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], false);
    let refresh = tokens.refresh_token.expect("offline_access gives a refresh token");
    assert_eq!(error_code(rp.refresh(&app, &refresh, None).await), "invalid_grant");
}

/// RFC 6749 §4.1.2: the one-time code holds under concurrency: of 8
/// simultaneous redemptions exactly one succeeds.
async fn concurrent_redemptions_of_one_code_yield_one_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let landing = ua.follow(auth.url.as_str()).await;
    let code = code_of(&app, &complete(&mut ua, landing, "alice").await, &auth);
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let (http, url) = (app.http.clone(), app.url("/oauth2/token"));
        let (id, secret) = (rp.id.clone(), rp.secret.clone().unwrap());
        let form = [
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", REDIRECT_URI.to_owned()),
            ("code_verifier", auth.verifier.clone()),
        ];
        tasks.spawn(async move {
            let response = http.post(url).basic_auth(id, Some(secret)).form(&form).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap_or_default())
        });
    }
    let answers = tasks.join_all().await;
    let successes = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
}

/// RFC 6749 §4.1.3: the `redirect_uri` of the token request must be the one
/// of the authorization request, or the grant is invalid.
async fn a_code_is_bound_to_its_redirect_uri(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    for redirect in [Some(OTHER_REDIRECT_URI), None] {
        let auth = rp.authorize(&[]);
        let code = code_of(&app, &ua.follow(auth.url.as_str()).await.callback(), &auth);
        let mut form =
            vec![("grant_type", "authorization_code"), ("code", &code), ("code_verifier", &auth.verifier)];
        form.extend(redirect.map(|uri| ("redirect_uri", uri)));
        let response = raw_exchange(&app, &form, Some(rp.credentials())).await;
        let (status, body) = crate::helpers::status_and_json(response).await;
        assert_eq!(status, 400, "{body}");
        let expected =
            if redirect.is_some() { &["invalid_grant"][..] } else { &["invalid_grant", "invalid_request"] };
        assert!(expected.contains(&body["error"].as_str().unwrap_or_default()), "{redirect:?}: {body}");
    }
}

/// RFC 6749 §4.1.3: a code issued to one client is `invalid_grant` for another.
async fn a_code_is_bound_to_its_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let owner = Rp::public(&app).await;
    let thief = Rp::confidential(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = owner.authorize(&[]);
    let landing = ua.follow(auth.url.as_str()).await;
    let code = code_of(&app, &complete(&mut ua, landing, "alice").await, &auth);
    assert_eq!(error_code(thief.exchange(&app, &code, &auth.verifier).await), "invalid_grant");
}

/// RFC 6749 §3.2.1 and §5.2: a confidential client authenticates to redeem
/// its code; a wrong secret is 401 `invalid_client`.
async fn a_confidential_client_must_authenticate_to_redeem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::confidential(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let landing = ua.follow(auth.url.as_str()).await;
    let code = code_of(&app, &complete(&mut ua, landing, "alice").await, &auth);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &auth.verifier),
    ];
    assert_error(raw_exchange(&app, &form, Some((&rp.id, "wrong-secret"))).await, 401, "invalid_client")
        .await;
    let mut unauthenticated = form.to_vec();
    unauthenticated.push(("client_id", &rp.id));
    assert_error(raw_exchange(&app, &unauthenticated, None).await, 401, "invalid_client").await;
}

/// OIDC Core §3.1.2.1: the authorization endpoint supports POST (form
/// serialization) as well as GET.
async fn the_authorization_endpoint_accepts_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    sign_in(&app, &rp, &mut ua, "alice", &[]).await;
    let auth = rp.authorize(&[]);
    let mut endpoint = auth.url.clone();
    endpoint.set_query(None);
    let params: Vec<(String, String)> = auth.url.query_pairs().into_owned().collect();
    let response = ua.http.post(endpoint.clone()).form(&params).send().await.unwrap();
    // Answered with the same request as a GET, which carries the
    // SameSite=Lax session cookie even when the POST came cross-site.
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    let again = endpoint.join(location).unwrap();
    assert_eq!(again[..url::Position::AfterPath], endpoint[..url::Position::AfterPath]);
    let callback = ua.follow(again.as_str()).await.callback();
    rp.redeem(&app, &callback, &auth).await;
}

/// RFC 6749 §3.1.2 and §4.1.2: a registered redirect URI's query is kept
/// when the code is added, and `state` comes back exactly as sent.
async fn the_redirect_keeps_the_registered_query_and_the_exact_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let with_query_uri = "https://rp.example.com/cb?tenant=7";
    let rp =
        Rp::register(&app, json!({"token_endpoint_auth_method": "none", "redirect_uris": [with_query_uri]}))
            .await;
    let mut ua = UserAgent::new(&app.address);
    let mut auth = rp.authorize(&[]);
    auth.state = "a b&c=d/é+%20?#x".to_owned();
    auth.url = with_query(&auth.url, &[("state", Some(&auth.state))]);
    let landing = ua.follow(auth.url.as_str()).await;
    let callback = complete(&mut ua, landing, "alice").await;
    assert_eq!(param(&callback, "tenant").as_deref(), Some("7"), "{callback}");
    assert_eq!(callback.query_pairs().filter(|(name, _)| name == "tenant").count(), 1, "{callback}");
    rp.redeem(&app, &callback, &auth).await;
}

/// OIDC Core §3.1.2.1 and §2: `nonce` is optional in the code flow; without
/// one, the ID token carries none.
async fn without_a_nonce_the_id_token_has_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::public(&app).await;
    let mut ua = UserAgent::new(&app.address);
    let auth = rp.authorize(&[]);
    let url = with_query(&auth.url, &[("nonce", None)]);
    let landing = ua.follow(url.as_str()).await;
    let code = code_of(&app, &complete(&mut ua, landing, "alice").await, &auth);
    let response = rp.exchange(&app, &code, &auth.verifier).await.expect("the code is redeemed");
    let id_token = response.id_token().expect("an ID token");
    let verifier = rp.oidc.id_token_verifier();
    let no_nonce = |nonce: Option<&openidconnect::Nonce>| match nonce {
        None => Ok(()),
        Some(nonce) => Err(format!("unexpected nonce {}", nonce.secret())),
    };
    id_token.claims(&verifier, no_nonce).expect("the ID token verifies");
}

both_backends!(
    the_code_flow_yields_verified_id_and_access_tokens,
    a_user_without_roles_gets_no_roles_claim,
    the_id_token_is_signed_with_the_clients_algorithm,
    a_code_redeemed_twice_fails_and_revokes_the_first_tokens,
    concurrent_redemptions_of_one_code_yield_one_token,
    a_code_is_bound_to_its_redirect_uri,
    a_code_is_bound_to_its_client,
    a_confidential_client_must_authenticate_to_redeem,
    the_authorization_endpoint_accepts_post,
    the_redirect_keeps_the_registered_query_and_the_exact_state,
    without_a_nonce_the_id_token_has_none,
);
