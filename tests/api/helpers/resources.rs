//! Resources (RFC 8707) and clients that use them.

use super::*;

impl TestApp {
    /// `POST /admin/resources` with `body`; returns status and body.
    pub async fn create_resource_with(&self, body: Value) -> (u16, Value) {
        let token = self.admin_token().await;
        self.admin_request(reqwest::Method::POST, "/admin/resources", Some(&token), Some(&body)).await
    }

    /// Registers a resource `identifier` defining `scopes` (space-separated),
    /// introspected by `client_ids`; returns its id.
    pub async fn create_resource(&self, identifier: &str, scopes: &str, client_ids: &[&str]) -> String {
        let scopes: Vec<&str> = scopes.split(' ').filter(|s| !s.is_empty()).collect();
        let (status, body) = self
            .create_resource_with(json!({
                "identifier": identifier, "name": format!("API {identifier}"),
                "scopes": scopes, "client_ids": client_ids,
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// Registers a `client_credentials` client with `scope` and `extra`
    /// metadata (e.g. `resources`); returns (id, secret).
    pub async fn service_client_with(&self, scope: &str, extra: Value) -> (String, String) {
        let mut metadata = json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "scope": scope,
        });
        merge(&mut metadata, extra);
        let (status, body) = self.register_client(metadata).await;
        assert_eq!(status, 201, "{body}");
        (body["client_id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap().to_owned())
    }

    /// A raw `client_credentials` request as `client` with extra form `params`
    /// (`resource` may repeat); returns status and body.
    pub async fn client_credentials(&self, client: (&str, &str), params: &[(&str, &str)]) -> (u16, Value) {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(params);
        let response = self
            .http
            .post(self.url("/oauth2/token"))
            .basic_auth(client.0, Some(client.1))
            .form(&form)
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }
}

/// Adds `extra`'s members to `target` (both objects).
pub fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

/// The claims of a JWT, unverified (for tests that only read them).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
