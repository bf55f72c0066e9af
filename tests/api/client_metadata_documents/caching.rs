//! Draft §5.2: documents are cached as HTTP caching says (within bounds),
//! and concurrent first requests for one client make one fetch.

use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;

use super::*;
use crate::both_backends;

/// A fresh document is not fetched again; once its `max-age` (120 s) has
/// passed, it is.
async fn a_document_is_fetched_again_only_after_its_max_age(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = publish(&server, "/client.json", json!({}));
    assert_accepted(authorize(&app, &client_id).await).await;
    assert_accepted(authorize(&app, &client_id).await).await;
    assert_eq!(server.hits("/client.json"), 1, "the second authorization used the cached document");
    app.clock.advance(119);
    assert_accepted(authorize(&app, &client_id).await).await;
    assert_eq!(server.hits("/client.json"), 1);
    app.clock.advance(2);
    assert_accepted(authorize(&app, &client_id).await).await;
    assert_eq!(server.hits("/client.json"), 2, "fetched again after max-age");
}

/// Eight simultaneous first authorizations for one client wait for one fetch.
async fn concurrent_first_requests_fetch_the_document_once(backend: Backend) {
    let (app, server) = spawn(backend, &[]).await;
    let client_id = server.url("clients.test", "/client.json");
    let mut slow = Canned::json(&document(&client_id, json!({})));
    slow.delay = Duration::from_millis(300);
    server.serve("/client.json", slow);
    let mut requests = JoinSet::new();
    for _ in 0..8 {
        let (http, url) = (app.http.clone(), authorize_url(&app, &client_id, REDIRECT_URI, "openid"));
        requests.spawn(async move { http.get(url).send().await.unwrap().status().as_u16() });
    }
    assert_eq!(requests.join_all().await, vec![303; 8]);
    assert_eq!(server.hits("/client.json"), 1);
}

both_backends!(
    a_document_is_fetched_again_only_after_its_max_age,
    concurrent_first_requests_fetch_the_document_once,
);
