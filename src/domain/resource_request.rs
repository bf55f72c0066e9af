//! A resource as an admin sends it (`POST /admin/resources`), validated
//! into what is stored, and changed by a JSON Merge Patch (RFC 7396)
//! applied to the resource as the admin API shows it.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::resource::{Resource, ResourceIndicator};
use super::{ClientId, ProtocolError, ScopeSet, merge_patch};

/// Bounds on what one resource may list.
const MAX_NAME_CHARS: usize = 200;
const MAX_CLIENT_IDS: usize = 100;

/// The members of a resource as sent; unknown members are refused, so a
/// misspelt one is not silently lost.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequest {
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub client_ids: Option<Vec<String>>,
    pub dynamic_registration: Option<bool>,
    /// Set by the server; a document read, edited and sent back may carry
    /// them, and a patch may not change them (see [`Resource::patched`]).
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub created_at: Option<Value>,
    #[serde(default)]
    pub updated_at: Option<Value>,
}

/// A resource's validated members, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFields {
    pub identifier: ResourceIndicator,
    pub name: Option<String>,
    pub scopes: ScopeSet,
    pub client_ids: Vec<ClientId>,
    pub dynamic_registration: bool,
}

fn invalid(description: impl Into<String>) -> ProtocolError {
    ProtocolError::invalid_request(description.into())
}

impl ResourceRequest {
    pub fn validate(self) -> Result<ResourceFields, ProtocolError> {
        let identifier = self.identifier.ok_or_else(|| invalid("identifier is required"))?;
        let identifier = ResourceIndicator::parse(&identifier)
            .map_err(|e| invalid(format!("identifier is not valid: {e}")))?;
        let name = match self.name {
            Some(name) if name.chars().count() > MAX_NAME_CHARS => return Err(invalid("name is too long")),
            Some(name) if name.chars().any(char::is_control) => {
                return Err(invalid("name must not contain control characters"));
            }
            Some(name) if name.trim().is_empty() => None,
            other => other,
        };
        let scopes = ScopeSet::parse(&self.scopes.unwrap_or_default().join(" "))
            .map_err(|e| invalid(format!("scopes are not valid: {e}")))?;
        let given_ids = self.client_ids.unwrap_or_default();
        if given_ids.len() > MAX_CLIENT_IDS {
            return Err(invalid(format!("at most {MAX_CLIENT_IDS} client_ids")));
        }
        let mut client_ids = Vec::with_capacity(given_ids.len());
        for id in given_ids {
            let id = ClientId::parse(&id).map_err(|e| invalid(format!("client_ids: {e}")))?;
            if !client_ids.contains(&id) {
                client_ids.push(id);
            }
        }
        Ok(ResourceFields {
            identifier,
            name,
            scopes,
            client_ids,
            dynamic_registration: self.dynamic_registration.unwrap_or(false),
        })
    }
}

impl Resource {
    /// The resource as the admin API shows it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id.as_str(),
            "identifier": self.identifier.as_str(),
            "name": self.name,
            "scopes": self.scopes.iter().collect::<Vec<_>>(),
            "client_ids": self.client_ids.iter().map(ClientId::as_str).collect::<Vec<_>>(),
            "dynamic_registration": self.dynamic_registration,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }

    /// This resource's members with `patch` merged in (RFC 7396) and
    /// validated as a new one. The identifier is what tokens and clients
    /// name the resource by, so it cannot change: a patch may repeat it,
    /// not change or remove it; nor the members the server sets.
    pub fn patched(&self, patch: &Value) -> Result<ResourceFields, ProtocolError> {
        let Value::Object(members) = patch else {
            return Err(invalid("a merge patch of a resource must be a JSON object"));
        };
        let shown = self.to_json();
        let mut changes = Map::with_capacity(members.len());
        for (name, value) in members {
            if matches!(name.as_str(), "identifier" | "id" | "created_at" | "updated_at") {
                if shown.get(name) != Some(value) {
                    return Err(invalid(format!("{name} cannot be changed")));
                }
                continue;
            }
            changes.insert(name.clone(), value.clone());
        }
        let mut document = shown;
        merge_patch::apply(&mut document, &Value::Object(changes));
        let request: ResourceRequest = serde_json::from_value(document)
            .map_err(|e| invalid(format!("the patched resource is not valid: {e}")))?;
        request.validate()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::ErrorCode;
    use crate::domain::client::{ClientMetadata, ClientMetadataRequest};
    use crate::domain::resource::ResourceId;

    fn client(json: serde_json::Value) -> Result<ClientMetadata, ProtocolError> {
        serde_json::from_value::<ClientMetadataRequest>(json).unwrap().validate()
    }

    fn fields(json: Value) -> Result<ResourceFields, ProtocolError> {
        serde_json::from_value::<ResourceRequest>(json).map_err(|e| invalid(e.to_string()))?.validate()
    }

    #[test]
    fn a_resource_needs_an_absolute_identifier_without_fragment() {
        assert!(fields(json!({"identifier": "https://api.example.com"})).is_ok());
        for bad in [json!({}), json!({"identifier": "api"}), json!({"identifier": "https://a.example/#f"})] {
            assert!(fields(bad).is_err());
        }
        assert!(fields(json!({"identifier": "https://a.example", "scope": "x"})).is_err(), "unknown member");
    }

    #[test]
    fn a_patch_cannot_change_the_identifier() {
        let request = fields(json!({"identifier": "https://a.example", "scopes": ["read"]})).unwrap();
        let resource = Resource {
            id: ResourceId::parse("r1").unwrap(),
            identifier: request.identifier,
            name: None,
            scopes: request.scopes,
            client_ids: Vec::new(),
            dynamic_registration: false,
            created_at: 1,
            updated_at: 1,
        };
        let patched =
            resource.patched(&json!({"name": "Orders", "identifier": "https://a.example"})).unwrap();
        assert_eq!(patched.name.as_deref(), Some("Orders"));
        assert!(resource.patched(&json!({"identifier": "https://b.example"})).is_err());
        assert!(resource.patched(&json!({"identifier": null})).is_err());
        assert_eq!(resource.patched(&json!({"scopes": null})).unwrap().scopes, ScopeSet::default());
    }

    #[test]
    fn default_resource_must_be_one_of_the_resources_when_both_are_given() {
        let both = client(serde_json::json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "resources": ["https://a.example", "https://b.example"], "default_resource": "https://b.example",
        }))
        .unwrap();
        assert_eq!(both.allowed_resources().count(), 2);
        let only_default = client(serde_json::json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "default_resource": "https://b.example",
        }))
        .unwrap();
        assert_eq!(
            only_default.allowed_resources().map(|r| r.as_str()).collect::<Vec<_>>(),
            ["https://b.example"]
        );
        for json in [
            serde_json::json!({"grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
                "resources": ["https://a.example"], "default_resource": "https://b.example"}),
            serde_json::json!({"grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
                "resources": ["not a uri"]}),
        ] {
            assert_eq!(client(json).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        }
    }
}
