//! The token endpoint (RFC 6749 §3.2): a [`TokenRequest`] parsed from the
//! form, dispatched to its grant's module. A new grant is a new variant, a
//! new module, and a new entry in [`GRANT_TYPES`].

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use std::net::IpAddr;

use serde::Serialize;

use crate::domain::{Client, ErrorCode, GrantType, Params, ProtocolError, ResourceSet};
use crate::protocol::Context;
use crate::protocol::access_token::IssuedToken;

/// The grants the token endpoint dispatches on, as discovery lists them.
pub const GRANT_TYPES: [GrantType; 3] =
    [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials];

/// A token request, each variant with exactly its grant's parameters.
pub enum TokenRequest {
    AuthorizationCode(authorization_code::Request),
    RefreshToken(refresh_token::Request),
    ClientCredentials(client_credentials::Request),
}

impl TryFrom<&Params> for TokenRequest {
    type Error = ProtocolError;

    /// Dispatches on `grant_type` through [`GRANT_TYPES`], so a grant is
    /// served exactly when discovery lists it.
    fn try_from(params: &Params) -> Result<Self, ProtocolError> {
        let name = params.require("grant_type")?;
        let grant = GRANT_TYPES.into_iter().find(|grant| grant.as_str() == name).ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type {name:?} is not supported"),
            )
        })?;
        // RFC 8707 §2: every grant may name resources, parsed once here.
        let resources = ResourceSet::from_request(params.resources())?;
        Ok(match grant {
            GrantType::AuthorizationCode => {
                Self::AuthorizationCode(authorization_code::Request::parse(params, resources))
            }
            GrantType::RefreshToken => Self::RefreshToken(refresh_token::Request::parse(params, resources)),
            GrantType::ClientCredentials => {
                Self::ClientCredentials(client_credentials::Request::parse(params, resources))
            }
        })
    }
}

/// A parameter the grant requires (RFC 6749 §5.2 `invalid_request`), checked
/// after the client's right to the grant.
fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, ProtocolError> {
    value.ok_or_else(|| ProtocolError::invalid_request(format!("the {name} parameter is missing")))
}

/// Codes and token families are kept this long after they end, while access
/// tokens issued from them may still live: a replayed code or a deleted user
/// must still be able to revoke those. Storage prunes what ended before.
pub fn grants_ended_before(now: i64) -> i64 {
    now - super::MAX_ACCESS_TOKEN_TTL_SECS as i64
}

/// RFC 6749 §5.1 successful response. No `Debug`: it holds tokens.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl TokenResponse {
    pub fn bearer(issued: IssuedToken) -> Self {
        Self {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            scope: issued.claims.scope,
            refresh_token: None,
            id_token: None,
        }
    }
}

/// Runs `request` for the authenticated `client`, calling from `address`
/// (for the security events of replayed codes and refresh tokens).
pub async fn exchange(
    ctx: &Context,
    client: &Client,
    address: IpAddr,
    request: TokenRequest,
) -> Result<TokenResponse, ProtocolError> {
    match request {
        TokenRequest::AuthorizationCode(request) => {
            authorization_code::grant(ctx, client, address, request).await
        }
        TokenRequest::RefreshToken(request) => refresh_token::grant(ctx, client, address, request).await,
        TokenRequest::ClientCredentials(request) => client_credentials::grant(ctx, client, request).await,
    }
}
