//! Users through the admin API, as an operator would create them.

use super::*;

impl TestApp {
    /// `POST /admin/users` with `body` as the bootstrap admin; returns status and body.
    pub async fn create_user_with(&self, body: Value) -> (u16, Value) {
        let token = self.admin_token().await;
        self.admin_request(reqwest::Method::POST, "/admin/users", Some(&token), Some(&body)).await
    }

    /// Creates a user with `username` and `password` (panics unless 201); returns the id.
    pub async fn create_user(&self, username: &str, password: &str) -> String {
        let (status, body) = self.create_user_with(json!({"username": username, "password": password})).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().expect("the new user's id").to_owned()
    }

    /// `GET /admin/users/{id}`; returns status and body.
    pub async fn get_user(&self, id: &str) -> (u16, Value) {
        let token = self.admin_token().await;
        self.admin_request(reqwest::Method::GET, &format!("/admin/users/{id}"), Some(&token), None).await
    }

    /// `PATCH /admin/users/{id}` with `patch` as an RFC 7396 merge patch
    /// (`application/merge-patch+json`); returns status and body.
    pub async fn patch_user(&self, id: &str, patch: Value) -> (u16, Value) {
        let token = self.admin_token().await;
        let response = self
            .http
            .patch(self.url(&format!("/admin/users/{id}")))
            .bearer_auth(&token)
            .header("content-type", "application/merge-patch+json")
            .body(patch.to_string())
            .send()
            .await
            .unwrap();
        status_and_json(response).await
    }

    /// `DELETE /admin/users/{id}`; returns the status.
    pub async fn delete_user(&self, id: &str) -> u16 {
        let token = self.admin_token().await;
        self.admin_request(reqwest::Method::DELETE, &format!("/admin/users/{id}"), Some(&token), None).await.0
    }

    /// `GET /admin/users/{id}/consents`; returns status and body.
    pub async fn user_consents(&self, id: &str) -> (u16, Value) {
        let token = self.admin_token().await;
        let path = format!("/admin/users/{id}/consents");
        self.admin_request(reqwest::Method::GET, &path, Some(&token), None).await
    }

    /// `DELETE /admin/users/{id}/consents/{client_id}`; returns the status.
    pub async fn revoke_user_consent(&self, id: &str, client_id: &str) -> u16 {
        let token = self.admin_token().await;
        let path = format!("/admin/users/{id}/consents/{client_id}");
        self.admin_request(reqwest::Method::DELETE, &path, Some(&token), None).await.0
    }
}
