//! Refresh tokens (RFC 6749 §6, OIDC Core §11-12): issued with
//! `offline_access` to a client registered with the `refresh_token` grant,
//! rotated on every use, with reuse detection that revokes the whole
//! family (RFC 9700 §4.14.2), and described by introspection only to
//! their own client.

use openidconnect::core::CoreTokenResponse;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::json;

use super::*;
use crate::both_backends;
use crate::helpers::{ADMIN_ID, ADMIN_SECRET, Backend, TestApp, status_and_json};

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

/// A user `alice` (returned id) signed in to `rp` with `openid profile offline_access`.
async fn offline_tokens(app: &TestApp, rp: &Rp) -> (String, Tokens) {
    let user = create_user(app, "alice", json!({"name": "Alice"})).await;
    let tokens =
        sign_in(app, rp, &mut UserAgent::new(&app.address), "alice", &["profile", "offline_access"]).await;
    assert!(tokens.refresh_token.is_some(), "offline_access gives a refresh token");
    (user, tokens)
}

fn refresh_token(response: &CoreTokenResponse) -> String {
    response.refresh_token().expect("a new refresh token").secret().clone()
}

fn access_token(response: &CoreTokenResponse) -> String {
    response.access_token().secret().clone()
}

/// RFC 9700 §4.14.2: each refresh returns a new refresh token and a new
/// access token for the same user; the ID token, if any, keeps `sub`,
/// `aud` and `auth_time` (OIDC Core §12.2).
async fn each_refresh_rotates_the_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let (user, tokens) = offline_tokens(&app, &rp).await;
    let mut current = tokens.refresh_token.clone().unwrap();
    for _ in 0..2 {
        let response = rp.refresh(&app, &current, None).await.expect("the refresh token works");
        let next = refresh_token(&response);
        assert_ne!(next, current, "the refresh token rotates");
        let access = app.verify_offline(&access_token(&response)).await.unwrap();
        assert_eq!(access["sub"], user.as_str());
        assert_eq!(access["client_id"], rp.id.as_str());
        if let Some(id_token) = response.id_token() {
            let claims = jwt_payload(&id_token.to_string());
            for claim in ["iss", "sub", "aud", "auth_time"] {
                assert_eq!(claims[claim], tokens.id_claims[claim], "{claim}");
            }
        }
        current = next;
    }
}

/// RFC 9700 §4.14.2: a rotated-out refresh token is `invalid_grant`, and
/// its reuse revokes the family: the newest refresh token fails too and its
/// access token is inactive.
async fn reusing_a_rotated_refresh_token_revokes_the_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let first = tokens.refresh_token.unwrap();
    let response = rp.refresh(&app, &first, None).await.unwrap();
    let (second, access) = (refresh_token(&response), access_token(&response));
    assert_eq!(app.introspect(ADMIN, &access).await["active"], true);

    assert_eq!(error_code(rp.refresh(&app, &first, None).await), "invalid_grant");
    assert_eq!(error_code(rp.refresh(&app, &second, None).await), "invalid_grant");
    assert_eq!(app.introspect(ADMIN, &access).await["active"], false);
}

/// RFC 6749 §6: a refresh may ask for a narrower scope, which the new access
/// token carries; a scope beyond the original grant is `invalid_scope`.
async fn a_refresh_may_narrow_the_scope_but_not_widen_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let narrow = ["offline_access", "openid"];
    let response = rp.refresh(&app, tokens.refresh_token.as_ref().unwrap(), Some(&narrow)).await.unwrap();
    let access = app.verify_offline(&access_token(&response)).await.unwrap();
    let mut scope: Vec<&str> = access["scope"].as_str().unwrap().split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, narrow);

    let wider = ["openid", "profile", "email", "offline_access"];
    assert_eq!(error_code(rp.refresh(&app, &refresh_token(&response), Some(&wider)).await), "invalid_scope");
}

/// RFC 7009 §2.1: a refresh token revoked at the revocation endpoint (with
/// `token_type_hint=refresh_token`) no longer works.
async fn a_revoked_refresh_token_fails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let refresh = tokens.refresh_token.unwrap();
    let body = format!("token={refresh}&token_type_hint=refresh_token");
    assert_eq!(app.post_form("/oauth2/revoke", &body, Some(rp.credentials())).await.status(), 200);
    assert_eq!(error_code(rp.refresh(&app, &refresh, None).await), "invalid_grant");
    assert_eq!(app.introspect(rp.credentials(), &refresh).await["active"], false);
}

/// RFC 6749 §6: the refresh token is bound to the client it was issued to;
/// another client presenting it gets `invalid_grant`.
async fn a_refresh_token_is_bound_to_its_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let thief = Rp::confidential(&app).await;
    let refresh = tokens.refresh_token.unwrap();
    assert_eq!(error_code(thief.refresh(&app, &refresh, None).await), "invalid_grant");
}

/// RFC 6749 §10.4 (the grant ends with the user): after the user is
/// deleted, their refresh token is `invalid_grant`.
async fn deleting_the_user_stops_the_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (user, tokens) = offline_tokens(&app, &rp).await;
    assert_eq!(app.delete_user(&user).await, 204);
    assert_eq!(
        error_code(rp.refresh(&app, tokens.refresh_token.as_ref().unwrap(), None).await),
        "invalid_grant"
    );
}

/// RFC 7662 §2.2: a live refresh token introspects as active with
/// `token_type` `refresh_token`; a rotated-out one as inactive.
async fn a_refresh_token_introspects_as_a_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (user, tokens) = offline_tokens(&app, &rp).await;
    let refresh = tokens.refresh_token.unwrap();
    let answer = app.introspect(rp.credentials(), &refresh).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["token_type"], "refresh_token", "{answer}");
    if let Some(sub) = answer.get("sub") {
        assert_eq!(sub, user.as_str());
    }
    rp.refresh(&app, &refresh, None).await.unwrap();
    assert_eq!(app.introspect(rp.credentials(), &refresh).await["active"], false);
}

/// RFC 9700 §4.14.2: rotation holds under concurrency: of 8 simultaneous
/// refreshes with one token exactly one succeeds.
async fn concurrent_refreshes_of_one_token_yield_one_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let refresh = tokens.refresh_token.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url) = (app.http.clone(), app.url("/oauth2/token"));
        let (id, secret) = (rp.id.clone(), rp.secret.clone().unwrap());
        let form = [("grant_type", "refresh_token".to_owned()), ("refresh_token", refresh.clone())];
        tasks.spawn(async move {
            let response = http.post(url).basic_auth(id, Some(secret)).form(&form).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap_or_default())
        });
    }
    let answers = tasks.join_all().await;
    assert_eq!(answers.iter().filter(|(status, _)| *status == 200).count(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }
}

/// interface.md (a deleted client's tokens stop working) and RFC 6749 §6:
/// after the client is deleted its refresh token is refused.
async fn deleting_the_client_stops_its_refresh_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::public(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{}", rp.id);
    let (status, _) = app.admin_request(reqwest::Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 204);
    let code = error_code(rp.refresh(&app, tokens.refresh_token.as_ref().unwrap(), None).await);
    assert!(matches!(code.as_str(), "invalid_grant" | "invalid_client"), "{code}");
    assert_eq!(app.introspect(ADMIN, &tokens.access_token).await["active"], false);
}

/// RFC 7591 §2: refresh tokens only for a client registered with the
/// `refresh_token` grant. Without it, `offline_access` is left out of the
/// granted scope and no refresh token comes (RFC 6749 §5.1), and the
/// refresh grant is `unauthorized_client` (§5.2), whatever token is sent.
async fn a_client_without_the_refresh_token_grant_gets_no_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "alice", json!({})).await;
    let rp = Rp::register(&app, json!({"grant_types": ["authorization_code"]})).await;
    let tokens =
        sign_in(&app, &rp, &mut UserAgent::new(&app.address), "alice", &["profile", "offline_access"]).await;
    assert!(tokens.refresh_token.is_none(), "no refresh token without the refresh_token grant");
    let scope = jwt_payload(&tokens.access_token)["scope"].as_str().unwrap().to_owned();
    assert!(scope.contains("profile") && !scope.contains("offline_access"), "{scope}");
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", "a-refresh-token-this-client-cannot-have")];
    let (status, body) = status_and_json(raw_exchange(&app, &form, Some(rp.credentials())).await).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")), "{body}");
}

/// RFC 7591 §2: a client whose `refresh_token` grant is taken away (by
/// `PUT`) can no longer use the refresh tokens it holds
/// (`unauthorized_client`), and they introspect as inactive.
async fn removing_the_refresh_token_grant_stops_the_clients_refresh_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let refresh = tokens.refresh_token.unwrap();
    let admin = app.admin_token().await;
    let path = format!("/admin/clients/{}", rp.id);
    let metadata = json!({"redirect_uris": [REDIRECT_URI], "grant_types": ["authorization_code"]});
    let (status, body) = app.admin_request(reqwest::Method::PUT, &path, Some(&admin), Some(&metadata)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(rp.refresh(&app, &refresh, None).await), "unauthorized_client");
    assert_eq!(app.introspect(rp.credentials(), &refresh).await, json!({"active": false}));
}

/// RFC 6749 §1.5: refresh tokens are never for resource servers. Another
/// confidential client (the admin client included) that introspects one is
/// told `{"active": false}` and nothing more; the client it was issued to
/// is told it is active.
async fn a_refresh_token_is_described_only_to_the_client_it_was_issued_to(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = Rp::confidential(&app).await;
    let (_, tokens) = offline_tokens(&app, &rp).await;
    let refresh = tokens.refresh_token.unwrap();
    let (id, secret) = app.service_client("orders:read").await;
    let other_rp = Rp::confidential(&app).await;
    for caller in [(id.as_str(), secret.as_str()), ADMIN, other_rp.credentials()] {
        assert_eq!(app.introspect(caller, &refresh).await, json!({"active": false}), "as {}", caller.0);
    }
    let answer = app.introspect(rp.credentials(), &refresh).await;
    assert_eq!((&answer["active"], &answer["client_id"]), (&json!(true), &json!(rp.id)), "{answer}");
}

both_backends!(
    each_refresh_rotates_the_refresh_token,
    reusing_a_rotated_refresh_token_revokes_the_family,
    a_refresh_may_narrow_the_scope_but_not_widen_it,
    a_revoked_refresh_token_fails,
    a_refresh_token_is_bound_to_its_client,
    deleting_the_user_stops_the_refresh_token,
    a_refresh_token_introspects_as_a_refresh_token,
    concurrent_refreshes_of_one_token_yield_one_answer,
    deleting_the_client_stops_its_refresh_tokens,
    a_client_without_the_refresh_token_grant_gets_no_refresh_token,
    removing_the_refresh_token_grant_stops_the_clients_refresh_tokens,
    a_refresh_token_is_described_only_to_the_client_it_was_issued_to,
);
