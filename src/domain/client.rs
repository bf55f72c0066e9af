//! Clients and their metadata (RFC 7591 §2), validated for consistency
//! between grant types, response types and the authentication method.

use serde::{Deserialize, Serialize};

pub use super::client_id::ClientId;
use super::secret::{Secret, SecretHash};
use super::{ErrorCode, ProtocolError};
use super::{RedirectUri, RefreshReuseGrace, ResourceIndicator, ScopeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    RefreshToken,
}

impl GrantType {
    /// The RFC 7591 §2 name, as registered and as discovery lists it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Code,
}

/// RFC 7591 §2 `token_endpoint_auth_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// RFC 6749 §2.1 client types: a confidential client can keep a credential
/// secret, a public client cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidentiality {
    Confidential,
    Public,
}

impl TokenEndpointAuthMethod {
    /// The one definition of "confidential": a client that registered a
    /// method that authenticates.
    pub fn confidentiality(self) -> Confidentiality {
        match self {
            Self::ClientSecretBasic | Self::ClientSecretPost => Confidentiality::Confidential,
            Self::None => Confidentiality::Public,
        }
    }

    pub fn is_confidential(self) -> bool {
        self.confidentiality() == Confidentiality::Confidential
    }

    /// The RFC 7591 §2 name, as registered and as discovery lists it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }
}

/// OpenID Connect Dynamic Client Registration §2 `id_token_signed_response_alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum IdTokenAlgorithm {
    #[default]
    RS256,
    ES256,
}

impl IdTokenAlgorithm {
    pub const ALL: [IdTokenAlgorithm; 2] = [Self::RS256, Self::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }
}

/// Validated client metadata, as stored and as shown by the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub response_types: Vec<ResponseType>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub scope: ScopeSet,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    #[serde(default)]
    pub id_token_signed_response_alg: IdTokenAlgorithm,
    /// A client of the same party as this server: users are not asked to
    /// consent to it (set by an admin; Castellan's extension).
    #[serde(default)]
    pub first_party: bool,
    /// Castellan's extension: `None` requires PKCE unless an OpenID request
    /// carries a `nonce`; `true` always; `false` only of public clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pkce: Option<bool>,
    /// RFC 8707: the resources the client may request (with `default_resource`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceIndicator>,
    /// The audience of a request that names no resource; `None` keeps the
    /// issuer as the audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_resource: Option<ResourceIndicator>,
    /// Castellan's extension (see `refresh_policy`); confidential clients only.
    #[serde(default, skip_serializing_if = "RefreshReuseGrace::is_none")]
    pub refresh_token_reuse_grace: RefreshReuseGrace,
}

impl ClientMetadata {
    /// Whether the client may request `resource`: it is one of its
    /// `resources`, or its `default_resource`.
    pub fn allows_resource(&self, resource: &ResourceIndicator) -> bool {
        self.resources.contains(resource) || self.default_resource.as_ref() == Some(resource)
    }

    /// Every resource the client may request.
    pub fn allowed_resources(&self) -> impl Iterator<Item = &ResourceIndicator> {
        let extra = self.default_resource.as_ref().filter(|d| !self.resources.contains(d));
        self.resources.iter().chain(extra)
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether an authorization request must carry a `code_challenge`.
    /// RFC 9700 §2.1.1: PKCE for every client, except that a confidential
    /// client's OpenID request may rely on its `nonce` instead; a public
    /// client has nothing else to bind the code to (RFC 7636 §1), so an
    /// admin's `require_pkce: false` never exempts one.
    pub fn requires_pkce(&self, openid_with_nonce: bool) -> bool {
        let confidential = self.token_endpoint_auth_method.is_confidential();
        match self.require_pkce {
            _ if !confidential => true,
            Some(required) => required,
            None => !openid_with_nonce,
        }
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    /// Present exactly for confidential clients.
    pub secret_hash: Option<SecretHash>,
    /// The secret replaced by the last rotation, while it is still accepted.
    pub previous_secret: Option<PreviousSecret>,
    pub metadata: ClientMetadata,
    pub issued_at: i64,
}

/// A rotated-out secret that keeps working until `expires_at` (unix
/// seconds, exclusive), so a client can be given its new secret without
/// an outage. Only one is kept: the next rotation replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSecret {
    pub hash: SecretHash,
    pub expires_at: i64,
}

impl Client {
    /// Whether `candidate` is this client's secret at `now`: the current one,
    /// or the previous one before it expires. Both are compared every time,
    /// in constant time, so the answer takes as long whichever matched.
    pub fn secret_matches(&self, candidate: &Secret, now: i64) -> bool {
        let Some(current) = &self.secret_hash else { return false };
        let previous = self.previous_secret.as_ref().filter(|p| now < p.expires_at).map(|p| &p.hash);
        current.matches_this_or(previous, candidate)
    }

    /// From the registered `token_endpoint_auth_method`, and nothing else.
    pub fn confidentiality(&self) -> Confidentiality {
        self.metadata.token_endpoint_auth_method.confidentiality()
    }

    pub fn is_confidential(&self) -> bool {
        self.confidentiality() == Confidentiality::Confidential
    }
}

/// Client metadata as a caller sends it (RFC 7591 §2); unknown fields are
/// ignored as §3.1 requires.
#[derive(Debug, Default, Deserialize)]
pub struct ClientMetadataRequest {
    pub client_name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub scope: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub id_token_signed_response_alg: Option<String>,
    pub first_party: Option<bool>,
    pub require_pkce: Option<bool>,
    pub resources: Option<Vec<String>>,
    pub default_resource: Option<String>,
    pub refresh_token_reuse_grace: Option<i64>,
}

fn invalid(description: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidClientMetadata, description.into())
}

fn invalid_uri(description: String) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidRedirectUri, description)
}

fn parse_enum<T: for<'de> Deserialize<'de>>(field: &str, value: &str) -> Result<T, ProtocolError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| invalid(format!("{field} value {value:?} is not supported")))
}

fn parse_list<T: for<'de> Deserialize<'de> + PartialEq>(
    field: &str,
    values: Vec<String>,
) -> Result<Vec<T>, ProtocolError> {
    let mut parsed = Vec::with_capacity(values.len());
    for value in values {
        let item = parse_enum(field, &value)?;
        if !parsed.contains(&item) {
            parsed.push(item);
        }
    }
    Ok(parsed)
}

fn parse_uris(values: Vec<String>) -> Result<Vec<RedirectUri>, ProtocolError> {
    values.iter().map(|v| RedirectUri::parse_for_registration(v).map_err(invalid_uri)).collect()
}

impl ClientMetadataRequest {
    /// Validates the request into metadata, filling in the RFC 7591 defaults.
    pub fn validate(self) -> Result<ClientMetadata, ProtocolError> {
        let grant_types: Vec<GrantType> = match self.grant_types {
            Some(values) => parse_list("grant_types", values)?,
            None => vec![GrantType::AuthorizationCode],
        };
        let uses_code = grant_types.contains(&GrantType::AuthorizationCode);
        let response_types: Vec<ResponseType> = match self.response_types {
            Some(values) => parse_list("response_types", values)?,
            None if uses_code => vec![ResponseType::Code],
            None => Vec::new(),
        };
        let token_endpoint_auth_method = match self.token_endpoint_auth_method.as_deref() {
            Some(value) => parse_enum("token_endpoint_auth_method", value)?,
            None => TokenEndpointAuthMethod::default(),
        };
        let scope = match self.scope.as_deref() {
            Some(value) => ScopeSet::parse(value).map_err(invalid)?,
            None => ScopeSet::default(),
        };
        let client_name = match self.client_name {
            Some(name) if name.chars().count() > 200 => return Err(invalid("client_name is too long")),
            Some(name) if name.trim().is_empty() => None,
            other => other,
        };
        let (resources, default_resource) =
            super::resource::parse_client_resources(self.resources, self.default_resource)?;
        let metadata = ClientMetadata {
            client_name,
            redirect_uris: parse_uris(self.redirect_uris.unwrap_or_default())?,
            grant_types,
            response_types,
            token_endpoint_auth_method,
            scope,
            post_logout_redirect_uris: parse_uris(self.post_logout_redirect_uris.unwrap_or_default())?,
            id_token_signed_response_alg: match self.id_token_signed_response_alg.as_deref() {
                Some(value) => parse_enum("id_token_signed_response_alg", value)?,
                None => IdTokenAlgorithm::default(),
            },
            first_party: self.first_party.unwrap_or(false),
            require_pkce: self.require_pkce,
            resources,
            default_resource,
            refresh_token_reuse_grace: RefreshReuseGrace::parse(
                self.refresh_token_reuse_grace,
                token_endpoint_auth_method.is_confidential(),
            )?,
        };
        check_consistency(&metadata)?;
        Ok(metadata)
    }
}

/// RFC 7591 §2.1: grant types and response types must agree; a client that
/// redirects needs a redirect URI; a public client has no secret to use
/// `client_credentials` with.
fn check_consistency(metadata: &ClientMetadata) -> Result<(), ProtocolError> {
    let uses_code = metadata.allows_grant(GrantType::AuthorizationCode);
    let has_code_response = metadata.response_types.contains(&ResponseType::Code);
    if uses_code != has_code_response {
        return Err(invalid(
            "response_types must include \"code\" exactly when grant_types includes \"authorization_code\"",
        ));
    }
    if uses_code && metadata.redirect_uris.is_empty() {
        return Err(invalid_uri("the authorization_code grant needs at least one redirect URI".into()));
    }
    if metadata.grant_types.is_empty() {
        return Err(invalid("grant_types must not be empty"));
    }
    if metadata.allows_grant(GrantType::RefreshToken) && !uses_code {
        return Err(invalid("the refresh_token grant is only issued with authorization_code"));
    }
    let confidential = metadata.token_endpoint_auth_method.is_confidential();
    if !confidential && metadata.allows_grant(GrantType::ClientCredentials) {
        return Err(invalid(
            "a public client (token_endpoint_auth_method \"none\") cannot use client_credentials",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> Result<ClientMetadata, ProtocolError> {
        serde_json::from_value::<ClientMetadataRequest>(json).unwrap().validate()
    }

    #[test]
    fn defaults_follow_rfc_7591() {
        let metadata = request(serde_json::json!({"redirect_uris": ["https://a.example/cb"]})).unwrap();
        assert_eq!(metadata.grant_types, vec![GrantType::AuthorizationCode]);
        assert_eq!(metadata.response_types, vec![ResponseType::Code]);
        assert_eq!(metadata.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
    }

    #[test]
    fn a_service_client_needs_no_redirect_uri() {
        let metadata = request(serde_json::json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": []
        }))
        .unwrap();
        assert!(metadata.redirect_uris.is_empty());
    }

    #[test]
    fn code_grant_without_redirect_uri_is_an_invalid_redirect_uri() {
        let error = request(serde_json::json!({})).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRedirectUri);
    }

    #[test]
    fn pkce_is_required_unless_a_confidential_clients_openid_request_has_a_nonce() {
        let redirect = serde_json::json!(["https://a.example/cb"]);
        let client = |method: &str, require: serde_json::Value| {
            request(serde_json::json!({
                "redirect_uris": redirect, "token_endpoint_auth_method": method, "require_pkce": require,
            }))
            .unwrap()
        };
        let confidential = client("client_secret_basic", serde_json::Value::Null);
        assert!(confidential.requires_pkce(false) && !confidential.requires_pkce(true));
        let always = client("client_secret_post", true.into());
        assert!(always.requires_pkce(false) && always.requires_pkce(true));
        let legacy = client("client_secret_basic", false.into());
        assert!(!legacy.requires_pkce(false) && !legacy.requires_pkce(true));
        for require in [serde_json::Value::Null, false.into(), true.into()] {
            let public = client("none", require);
            assert!(public.requires_pkce(false) && public.requires_pkce(true));
        }
    }

    #[test]
    fn inconsistent_metadata_is_refused() {
        for json in [
            serde_json::json!({"grant_types": ["client_credentials"], "response_types": ["code"]}),
            serde_json::json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
            serde_json::json!({"grant_types": ["implicit"]}),
            serde_json::json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
        ] {
            assert_eq!(request(json).unwrap_err().code, ErrorCode::InvalidClientMetadata);
        }
    }
}
