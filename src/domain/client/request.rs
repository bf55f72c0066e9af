//! Client metadata as a caller sends it (RFC 7591 §2), validated into
//! [`ClientMetadata`].

use serde::Deserialize;

use super::{
    AssertionAlgorithm, ClientJwks, ClientMetadata, GrantType, IdTokenAlgorithm, ResponseType,
    TokenEndpointAuthMethod,
};
use crate::domain::{
    ApplicationType, ErrorCode, HttpsUrl, ProtocolError, RedirectUri, RefreshReuseGrace, ScopeSet,
};

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
    pub application_type: Option<String>,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub token_endpoint_auth_signing_alg: Option<String>,
}

pub(super) fn invalid(description: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidClientMetadata, description.into())
}

pub(super) fn invalid_uri(description: String) -> ProtocolError {
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
        let ClientKeys { jwks, jwks_uri, signing_alg: token_endpoint_auth_signing_alg } = client_keys(
            token_endpoint_auth_method,
            self.jwks,
            self.jwks_uri,
            self.token_endpoint_auth_signing_alg,
        )?;
        let (resources, default_resource) =
            crate::domain::resource::parse_client_resources(self.resources, self.default_resource)?;
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
            application_type: self
                .application_type
                .as_deref()
                .map(|value| parse_enum::<ApplicationType>("application_type", value))
                .transpose()?,
            jwks,
            jwks_uri,
            token_endpoint_auth_signing_alg,
        };
        check_consistency(&metadata)?;
        check_application_type(&metadata)?;
        Ok(metadata)
    }
}

/// OpenID Registration §2: a client that names its `application_type`
/// registers only the redirect URIs that suit it (post-logout ones too:
/// they are redirects of the same app). One that does not name it (an
/// admin's client from before the field) keeps the general rules.
fn check_application_type(metadata: &ClientMetadata) -> Result<(), ProtocolError> {
    let Some(kind) = metadata.application_type else { return Ok(()) };
    for uri in metadata.redirect_uris.iter().chain(&metadata.post_logout_redirect_uris) {
        kind.check_redirect_uri(uri).map_err(invalid_uri)?;
    }
    Ok(())
}

/// The key metadata of a client, validated.
struct ClientKeys {
    jwks: Option<ClientJwks>,
    jwks_uri: Option<HttpsUrl>,
    signing_alg: Option<AssertionAlgorithm>,
}

/// RFC 7591 §2: a `private_key_jwt` client registers its public keys,
/// either `jwks` or `jwks_uri` ("MUST NOT both be present"), and may name
/// the one algorithm it signs with; no other client registers any of them,
/// as nothing else here would use them.
fn client_keys(
    method: TokenEndpointAuthMethod,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    signing_alg: Option<String>,
) -> Result<ClientKeys, ProtocolError> {
    if method != TokenEndpointAuthMethod::PrivateKeyJwt {
        let given = [
            ("jwks", jwks.is_some()),
            ("jwks_uri", jwks_uri.is_some()),
            ("token_endpoint_auth_signing_alg", signing_alg.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(_, present)| *present) {
            return Err(invalid(format!(
                "{name} is registered only with token_endpoint_auth_method \"private_key_jwt\""
            )));
        }
        return Ok(ClientKeys { jwks: None, jwks_uri: None, signing_alg: None });
    }
    let (jwks, jwks_uri) = match (jwks, jwks_uri) {
        (Some(_), Some(_)) => return Err(invalid("register jwks or jwks_uri, not both (RFC 7591 §2)")),
        (None, None) => {
            return Err(invalid("a private_key_jwt client must register its public keys: jwks or jwks_uri"));
        }
        (Some(document), None) => {
            (Some(ClientJwks::parse(document).map_err(|why| invalid(format!("jwks {why}")))?), None)
        }
        (None, Some(uri)) => {
            (None, Some(HttpsUrl::parse(&uri).map_err(|why| invalid(format!("jwks_uri {why}")))?))
        }
    };
    let signing_alg = match signing_alg.as_deref() {
        None => None,
        Some(name) => {
            // OpenID Connect Registration §2: "none" MUST NOT be used; nor may HMAC here.
            let alg = AssertionAlgorithm::parse(name).ok_or_else(|| {
                invalid(format!(
                    "token_endpoint_auth_signing_alg {name:?} is not supported ({})",
                    AssertionAlgorithm::names()
                ))
            })?;
            // Keys at a jwks_uri are checked when fetched.
            if jwks.as_ref().is_some_and(|jwks| !jwks.supports(alg)) {
                return Err(invalid(format!("jwks has no key for token_endpoint_auth_signing_alg {name}")));
            }
            Some(alg)
        }
    };
    Ok(ClientKeys { jwks, jwks_uri, signing_alg })
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
