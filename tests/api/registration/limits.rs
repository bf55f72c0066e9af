//! What bounds open registration: a rate per address, a cap on the number
//! of dynamic clients, and the deletion of those nobody uses.

use reqwest::Method;
use serde_json::{Value, json};

use super::*;
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

both_backends!(
    registrations_from_one_address_are_limited_per_hour,
    registrations_from_one_site_are_limited_too,
    the_number_of_dynamic_clients_is_capped,
    dynamic_clients_unused_for_the_ttl_are_deleted_and_used_ones_kept,
);

async fn registrations_from_one_address_are_limited_per_hour(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[OPEN[0], ("CASTELLAN_REGISTRATION_RATE", "2")]).await;
    // At the start of an hour's window, so the three requests share one.
    app.clock.advance(3_600 - app.clock.now().rem_euclid(3_600));
    registered(&app, &web_app()).await;
    registered(&app, &native_app()).await;
    let endpoint = app.endpoint("registration_endpoint").await;
    let response = app.http.post(&endpoint).json(&web_app()).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3_600).contains(&retry_after), "{retry_after}");
    let (_, body) = status_and_json(response).await;
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    app.clock.advance(retry_after);
    registered(&app, &web_app()).await;
}

/// One party holding many /64s (a /48 is a site) cannot fill the cap on
/// all dynamic clients: a site may register ten times the address rate.
async fn registrations_from_one_site_are_limited_too(backend: Backend) {
    let settings =
        [OPEN[0], ("CASTELLAN_REGISTRATION_RATE", "1"), ("CASTELLAN_TRUSTED_PROXIES", "127.0.0.1")];
    let app = TestApp::spawn_with(backend, &settings).await;
    app.clock.advance(3_600 - app.clock.now().rem_euclid(3_600));
    let endpoint = app.endpoint("registration_endpoint").await;
    let from = |subnet: u32| {
        let forwarded = format!("2001:db8:1:{subnet:x}::7");
        app.http.post(&endpoint).header("x-forwarded-for", forwarded).json(&web_app()).send()
    };
    for subnet in 0..10 {
        assert_eq!(from(subnet).await.unwrap().status(), 201, "a new /64 of the site");
    }
    assert_eq!(from(10).await.unwrap().status(), 429, "the site's tenth was its last this hour");
    let elsewhere = app.http.post(&endpoint).header("x-forwarded-for", "2001:db8:2::7").json(&web_app());
    assert_eq!(elsewhere.send().await.unwrap().status(), 201, "another site is not held back");
}

async fn the_number_of_dynamic_clients_is_capped(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[OPEN[0], ("CASTELLAN_DYNAMIC_CLIENTS_MAX", "2")]).await;
    let first = registered(&app, &web_app()).await;
    registered(&app, &web_app()).await;
    let (status, body) = register(&app, None, &web_app()).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("temporarily_unavailable")), "{body}");
    // An admin's clients do not count, and are not capped.
    let (status, _) = app.register_client(web_app()).await;
    assert_eq!(status, 201);
    let uri = first["registration_client_uri"].as_str().unwrap();
    let response = manage(&app, Method::DELETE, uri, first["registration_access_token"].as_str(), None).await;
    assert_eq!(response.status(), 204);
    registered(&app, &web_app()).await;
}

async fn admin_sees(app: &TestApp, client: &Value) -> u16 {
    let id = client["client_id"].as_str().unwrap();
    let admin = app.admin_token().await;
    app.admin_request(Method::GET, &format!("/admin/clients/{id}"), Some(&admin), None).await.0
}

/// A client authenticating at the token endpoint is noted in memory and
/// written by the upkeep; the upkeep deletes dynamic clients neither used
/// nor registered within the TTL. Admin clients are never pruned.
async fn dynamic_clients_unused_for_the_ttl_are_deleted_and_used_ones_kept(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, &[OPEN[0], ("CASTELLAN_DYNAMIC_CLIENT_UNUSED_TTL", "86400")]).await;
    let service = json!({"grant_types": ["client_credentials"], "redirect_uris": [], "response_types": []});
    let used = registered(&app, &service).await;
    let unused = registered(&app, &service).await;
    let (admins_id, admins_secret) = app.service_client_with("", json!({})).await;
    app.clock.advance(20 * 3_600);
    let credentials = (used["client_id"].as_str().unwrap(), used["client_secret"].as_str().unwrap());
    app.token_for(credentials.0, credentials.1, &[]).await;
    castellan::app::server::prune(&app.state).await;
    assert_eq!(
        (admin_sees(&app, &used).await, admin_sees(&app, &unused).await),
        (200, 200),
        "within the TTL"
    );

    app.clock.advance(5 * 3_600);
    castellan::app::server::prune(&app.state).await;
    assert_eq!(admin_sees(&app, &unused).await, 404, "registered 25 h ago and never used");
    assert_eq!(admin_sees(&app, &used).await, 200, "used 5 h ago");
    app.token_for(&admins_id, &admins_secret, &[]).await;

    app.clock.advance(25 * 3_600);
    castellan::app::server::prune(&app.state).await;
    assert_eq!(admin_sees(&app, &used).await, 404, "unused since");
    let (status, _) = app.client_credentials(credentials, &[]).await;
    assert_eq!(status, 401, "a deleted client cannot authenticate");
}
