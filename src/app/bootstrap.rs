//! The bootstrap admin client of interface.md: created or updated at start
//! from `CASTELLAN_BOOTSTRAP_ADMIN_CLIENT_ID` / `_SECRET`, so a fresh
//! deployment has a way into the admin API.

use super::config::BootstrapAdmin;
use crate::domain::scope::ADMIN_SCOPE;
use crate::domain::secret::SecretHash;
use crate::domain::{Client, ClientMetadata, ClientOrigin, GrantType, ScopeSet, TokenEndpointAuthMethod};
use crate::storage::{ClientStore, StorageError};

pub async fn ensure_admin_client(
    store: &dyn ClientStore,
    admin: &BootstrapAdmin,
    now: i64,
) -> Result<(), StorageError> {
    let client = Client {
        id: admin.client_id.clone(),
        origin: ClientOrigin::Admin,
        secret_hash: Some(SecretHash::of(&admin.client_secret)),
        // The configured secret alone: a restart ends any rotation's grace period.
        previous_secret: None,
        metadata: ClientMetadata {
            client_name: Some("Bootstrap admin".to_owned()),
            redirect_uris: Vec::new(),
            grant_types: vec![GrantType::ClientCredentials],
            response_types: Vec::new(),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            scope: ScopeSet::parse(ADMIN_SCOPE).unwrap_or_default(),
            post_logout_redirect_uris: Vec::new(),
            id_token_signed_response_alg: Default::default(),
            first_party: true,
            require_pkce: None,
            resources: Vec::new(),
            default_resource: None,
            refresh_token_reuse_grace: Default::default(),
            application_type: None,
            jwks: None,
            jwks_uri: None,
            token_endpoint_auth_signing_alg: None,
        },
        issued_at: now,
        metadata_document_fetched_at: None,
    };
    store.upsert_client(&client).await?;
    tracing::info!(client_id = %client.id, "bootstrap admin client ready");
    Ok(())
}
