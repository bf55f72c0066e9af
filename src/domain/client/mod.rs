//! Clients and their metadata (RFC 7591 §2), validated for consistency
//! between grant types, response types and the authentication method.

use serde::{Deserialize, Serialize};

pub use super::client_id::ClientId;
mod dynamic;
pub mod keys;
mod request;

pub use dynamic::MAX_DYNAMIC_LIST_LEN;
pub use keys::{AssertionAlgorithm, ClientJwks};
pub use request::ClientMetadataRequest;

use super::secret::{Secret, SecretHash};
use super::{ApplicationType, HttpsUrl, RedirectUri, RefreshReuseGrace, ResourceIndicator, ScopeSet};

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
    /// RFC 7523 §2.2, OpenID Connect Core §9: a JWT signed with the
    /// client's private key, checked with its registered public keys.
    PrivateKeyJwt,
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
            Self::ClientSecretBasic | Self::ClientSecretPost | Self::PrivateKeyJwt => {
                Confidentiality::Confidential
            }
            Self::None => Confidentiality::Public,
        }
    }

    pub fn is_confidential(self) -> bool {
        self.confidentiality() == Confidentiality::Confidential
    }

    /// Whether the client authenticates with a secret we issue (and keep a
    /// hash of); a `private_key_jwt` client is confidential without one.
    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }

    /// The RFC 7591 §2 name, as registered and as discovery lists it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
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
    /// OpenID Registration §2; decides which redirect URIs are allowed.
    /// Always set for a dynamically registered client (`web` by default);
    /// `None` for an admin's client that never named one, whose redirect
    /// URIs keep the general rules (`RedirectUri::parse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_type: Option<ApplicationType>,
    /// RFC 7591 §2: the public keys of a `private_key_jwt` client, given
    /// by value (`jwks`) or by reference (`jwks_uri`), never both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<ClientJwks>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<HttpsUrl>,
    /// RFC 7591 §2, OpenID Connect Registration §2: the one algorithm the
    /// client's assertions use; `None` allows any of [`AssertionAlgorithm::ALL`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<AssertionAlgorithm>,
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

/// Who registered a client: an admin (the admin API, the bootstrap client),
/// the client itself at the registration endpoint (RFC 7591), or its
/// Client ID Metadata Document (stored once a user first allows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientOrigin {
    #[default]
    Admin,
    Dynamic,
    MetadataDocument,
}

impl ClientOrigin {
    /// The name stored and shown by the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Dynamic => "dynamic",
            Self::MetadataDocument => "metadata_document",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Self::Admin),
            "dynamic" => Some(Self::Dynamic),
            "metadata_document" => Some(Self::MetadataDocument),
            _ => None,
        }
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub origin: ClientOrigin,
    /// Present exactly for clients whose method uses a secret
    /// ([`TokenEndpointAuthMethod::uses_secret`]).
    pub secret_hash: Option<SecretHash>,
    /// The secret replaced by the last rotation, while it is still accepted.
    pub previous_secret: Option<PreviousSecret>,
    pub metadata: ClientMetadata,
    pub issued_at: i64,
    /// For a client whose metadata comes from its Client ID Metadata
    /// Document (its id is the document's URL): when the stored metadata
    /// was fetched. `None` for every other client.
    pub metadata_document_fetched_at: Option<i64>,
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

    /// Whether the metadata is the client's own, from its Client ID
    /// Metadata Document, rather than an admin's.
    pub fn is_from_metadata_document(&self) -> bool {
        self.metadata_document_fetched_at.is_some()
    }

    /// Whether the client speaks for itself: it registered itself, or its
    /// metadata is its own document. Such a client gets only what admins
    /// opened to such clients, and consent is always asked.
    pub fn is_self_registered(&self) -> bool {
        self.origin == ClientOrigin::Dynamic || self.is_from_metadata_document()
    }

    /// Whether the user is asked to consent even when they already allowed
    /// everything requested. A client that registered itself is anyone's
    /// app: its name and logo prove nothing, so the user is shown who asks
    /// every time (RFC 7591 §5, RFC 6819 §4.2.3); a metadata document's
    /// client speaks for itself too, and its document may change between
    /// requests (draft-ietf-oauth-client-id-metadata-document-02 §8.4).
    pub fn consent_always_asked(&self) -> bool {
        self.is_self_registered()
    }

    /// Whether the user is never asked (an admin's first-party client).
    pub fn consent_skipped(&self) -> bool {
        self.metadata.first_party && !self.consent_always_asked()
    }
}

#[cfg(test)]
mod tests;
