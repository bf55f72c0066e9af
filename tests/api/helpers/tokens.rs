//! Hand-made tokens: signed with the server's own key, for claims Castellan
//! would never issue.

use super::*;

impl TestApp {
    /// The server's active ES256 signing key, read from its database.
    pub async fn server_key(&self) -> std::sync::Arc<castellan::domain::KeyMaterial> {
        use castellan::domain::{Clock, KeyAlgorithm};
        use castellan::protocol::keyring::Keyring;
        let storage =
            castellan::storage::Storage::connect(&self.database_url, 1).await.expect("open the database");
        let keyring =
            Keyring::load(storage.keys.clone(), None, Clock::system()).await.expect("load the signing keys");
        let key = keyring.signing_key(KeyAlgorithm::Es256).expect("an active ES256 key");
        storage.health.close().await;
        key
    }

    /// Signs `claims` with the server's own key under header `typ`: for
    /// tokens Castellan would never issue (expired, foreign issuer, wrong
    /// type) that still carry a good signature.
    pub async fn sign_with_server_key(&self, typ: &str, claims: &Value) -> String {
        let key = self.server_key().await;
        sign_raw(&key, &json!({"alg": "ES256", "typ": typ, "kid": key.kid}), claims)
    }

    /// Claims as Castellan issues them for `client_id`, valid for an hour from now.
    pub fn claims_for(&self, client_id: &str, scope: &str) -> Value {
        let now = now();
        json!({
            "iss": self.address, "sub": client_id, "aud": self.address,
            "exp": now + 3600, "iat": now, "jti": castellan::domain::secret::random_token(16),
            "client_id": client_id, "scope": scope,
        })
    }
}

/// A compact JWS of `header` and `claims` signed by `key`, whatever the header says.
pub fn sign_raw(key: &castellan::domain::KeyMaterial, header: &Value, claims: &Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes()).expect("signing works");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
