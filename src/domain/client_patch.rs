//! Changing a client's metadata by a JSON Merge Patch (RFC 7396). The patch
//! applies to the metadata exactly as the admin API shows it, and the result
//! goes through the same validation as a registration
//! ([`ClientMetadataRequest::validate`]), so a patch can reach no metadata
//! that a POST or PUT could not. `null` removes a member, which then takes
//! its RFC 7591 default as it would in a registration.

use serde_json::{Map, Value};

use super::client::{Client, ClientMetadata, ClientMetadataRequest};
use super::{ErrorCode, ProtocolError, merge_patch};

/// Members the server sets (RFC 7591 §3.2.1), which a caller may echo back
/// unchanged (a document read, edited and sent whole) but not change.
const FIXED: [&str; 2] = ["client_id", "client_id_issued_at"];

/// Members about the secret, which changes only by rotation: a patch that
/// names them is refused, whatever their value.
const SECRET: [&str; 3] = ["client_secret", "client_secret_expires_at", "previous_secret_expires_at"];

fn invalid(description: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidClientMetadata, description.into())
}

impl Client {
    /// This client's metadata with `patch` merged in and validated.
    pub fn patched_metadata(&self, patch: &Value) -> Result<ClientMetadata, ProtocolError> {
        let Value::Object(members) = patch else {
            return Err(invalid("a merge patch of client metadata must be a JSON object"));
        };
        let mut changes = Map::with_capacity(members.len());
        for (name, value) in members {
            if SECRET.contains(&name.as_str()) {
                return Err(invalid(format!(
                    "{name} cannot be patched; the secret changes only by rotating it"
                )));
            }
            if FIXED.contains(&name.as_str()) {
                if *value != self.fixed_member(name) {
                    return Err(invalid(format!("{name} is set by the server and cannot be changed")));
                }
                continue;
            }
            changes.insert(name.clone(), value.clone());
        }
        let mut document = serde_json::to_value(&self.metadata).map_err(|e| ProtocolError::internal(&e))?;
        merge_patch::apply(&mut document, &Value::Object(changes));
        let request: ClientMetadataRequest = serde_json::from_value(document)
            .map_err(|e| invalid(format!("the patched metadata is not valid: {e}")))?;
        request.validate()
    }

    fn fixed_member(&self, name: &str) -> Value {
        match name {
            "client_id" => Value::from(self.id.as_str()),
            "client_id_issued_at" => Value::from(self.issued_at),
            _ => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::client::{GrantType, TokenEndpointAuthMethod};
    use crate::domain::{ClientId, ErrorCode};

    fn client() -> Client {
        let request: ClientMetadataRequest = serde_json::from_value(json!({
            "client_name": "web app",
            "redirect_uris": ["https://app.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "orders:read",
            "require_pkce": true,
        }))
        .unwrap();
        Client {
            id: ClientId::parse("app").unwrap(),
            origin: Default::default(),
            secret_hash: None,
            previous_secret: None,
            metadata: request.validate().unwrap(),
            issued_at: 1_000,
            metadata_document_fetched_at: None,
        }
    }

    #[test]
    fn a_patch_changes_what_it_names_and_keeps_the_rest() {
        let client = client();
        let patched = client.patched_metadata(&json!({"client_name": "renamed"})).unwrap();
        assert_eq!(patched.client_name.as_deref(), Some("renamed"));
        assert_eq!(
            ClientMetadata { client_name: client.metadata.client_name.clone(), ..patched },
            client.metadata
        );
        assert_eq!(client.patched_metadata(&json!({})).unwrap(), client.metadata);
    }

    #[test]
    fn null_removes_a_member_which_takes_its_default() {
        let client = client();
        let patched = client
            .patched_metadata(&json!({"client_name": null, "require_pkce": null, "grant_types": null}))
            .unwrap();
        assert_eq!(patched.client_name, None);
        assert_eq!(patched.require_pkce, None);
        assert_eq!(patched.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(patched.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
    }

    #[test]
    fn the_result_is_validated_as_a_registration_is() {
        let client = client();
        let no_uris = client.patched_metadata(&json!({"redirect_uris": []})).unwrap_err();
        assert_eq!(no_uris.code, ErrorCode::InvalidRedirectUri);
        let wildcard = client.patched_metadata(&json!({"redirect_uris": ["https://*.app.example/cb"]}));
        assert_eq!(wildcard.unwrap_err().code, ErrorCode::InvalidRedirectUri);
        for bad in [
            json!({"grant_types": ["client_credentials"]}),
            json!({"grant_types": "authorization_code"}),
            json!({"scope": 7}),
            json!(["client_name", "x"]),
            json!(null),
        ] {
            assert_eq!(
                client.patched_metadata(&bad).unwrap_err().code,
                ErrorCode::InvalidClientMetadata,
                "{bad}"
            );
        }
    }

    #[test]
    fn server_set_members_may_be_echoed_but_not_changed() {
        let client = client();
        let echoed = json!({"client_id": "app", "client_id_issued_at": 1_000, "client_name": "x"});
        assert_eq!(client.patched_metadata(&echoed).unwrap().client_name.as_deref(), Some("x"));
        for bad in [
            json!({"client_id": "other"}),
            json!({"client_id": null}),
            json!({"client_id_issued_at": 2_000}),
            json!({"client_secret": "chosen"}),
            json!({"client_secret": null}),
            json!({"client_secret_expires_at": 0}),
        ] {
            assert_eq!(
                client.patched_metadata(&bad).unwrap_err().code,
                ErrorCode::InvalidClientMetadata,
                "{bad}"
            );
        }
    }
}
