//! Access tokens: self-contained JWTs per RFC 9068, so issuing one writes
//! nothing and a resource server can check one with the JWKS alone.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use crate::authorize::OIDC_SCOPES;
use crate::clock;
use crate::domain::{Client, ClientId, GrantType, ScopeSet, User};
use crate::error::ProtocolError;
use crate::keys::{KeyAlgorithm, KeyMaterial};
use crate::secret::random_token;
use crate::state::AppState;

/// RFC 9068 §2.1: the `typ` header of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Longer than any token we issue; anything larger is not ours.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// RFC 9068 §2.2 claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

/// A token just issued, and how long it lives.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
    pub claims: AccessTokenClaims,
}

/// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
pub fn sign_jwt(key: &KeyMaterial, typ: &str, claims: &impl Serialize) -> Result<String, ProtocolError> {
    let header = serde_json::json!({"alg": key.algorithm.name(), "typ": typ, "kid": key.kid});
    let payload = serde_json::to_vec(claims).map_err(|e| ProtocolError::internal(&e))?;
    let mut jwt = URL_SAFE_NO_PAD.encode(header.to_string());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(jwt.as_bytes()).map_err(|e| ProtocolError::internal(&e))?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jwt)
}

/// Issues an access token for `subject`, acting for `client_id`.
pub fn issue(
    state: &AppState,
    client_id: &ClientId,
    subject: &str,
    scope: &ScopeSet,
    roles: Option<Vec<String>>,
) -> Result<IssuedToken, ProtocolError> {
    issue_with_auth_time(state, client_id, subject, scope, roles, None)
}

/// A user's access token: the user is the subject, and `auth_time` says
/// when they signed in (RFC 9068 §2.2.1).
pub fn issue_for_user(
    state: &AppState,
    client_id: &ClientId,
    user: &User,
    scope: &ScopeSet,
    auth_time: i64,
) -> Result<IssuedToken, ProtocolError> {
    let roles = (!user.roles.is_empty()).then(|| user.roles.clone());
    issue_with_auth_time(state, client_id, user.id.as_str(), scope, roles, Some(auth_time))
}

fn issue_with_auth_time(
    state: &AppState,
    client_id: &ClientId,
    subject: &str,
    scope: &ScopeSet,
    roles: Option<Vec<String>>,
    auth_time: Option<i64>,
) -> Result<IssuedToken, ProtocolError> {
    let now = clock::now();
    let ttl = state.config.access_token_ttl.as_secs() as i64;
    let claims = AccessTokenClaims {
        iss: state.config.issuer.clone(),
        sub: subject.to_owned(),
        // The audience is this issuer's resource servers as a whole; RFC 8707
        // resource indicators may narrow it later.
        aud: state.config.issuer.clone(),
        exp: now + ttl,
        iat: now,
        jti: random_token(16),
        client_id: client_id.as_str().to_owned(),
        scope: scope.to_string(),
        auth_time,
        roles,
    };
    let key = state
        .keys
        .signing_key(KeyAlgorithm::Es256)
        .ok_or_else(|| ProtocolError::internal(&crate::keys::KeyError::Signing))?;
    let token = sign_jwt(&key, ACCESS_TOKEN_TYPE, &claims)?;
    Ok(IssuedToken { token, expires_in: ttl, claims })
}

/// Checks signature, type, issuer and expiry (the latter at the first
/// check only: `validate` checks it again). Revocation and the client's
/// existence are checked by `validate`.
pub async fn verify(state: &AppState, token: &str) -> Option<Arc<AccessTokenClaims>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    if let Some(claims) = state.verified_tokens.get(token) {
        return Some(claims);
    }
    let claims = Arc::new(verify_signature(state, token).await?);
    state.verified_tokens.insert(token, claims.clone());
    Some(claims)
}

async fn verify_signature(state: &AppState, token: &str) -> Option<AccessTokenClaims> {
    let header = decode_header(token).ok()?;
    // RFC 9068 §4: the resource server MUST check typ is at+jwt.
    let typ = header.typ.as_deref()?;
    if !typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return None;
    }
    let key = state.keys.verification_key(header.kid.as_deref()?).await?;
    // Only the key's own algorithm: no `none`, no algorithm confusion.
    let mut validation = Validation::new(key.algorithm.jwt_algorithm());
    validation.set_issuer(&[state.config.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 0;
    decode::<AccessTokenClaims>(token, &key.decoding_key, &validation).ok().map(|data| data.claims)
}

/// Whether `token` is an access token in good standing: `verify`, and not
/// revoked, and its client still registered.
pub async fn validate(
    state: &AppState,
    token: &str,
) -> Result<Option<Arc<AccessTokenClaims>>, ProtocolError> {
    let Some(claims) = verify(state, token).await else { return Ok(None) };
    if claims.exp <= clock::now() || state.revocations.is_revoked(&claims.jti) {
        return Ok(None);
    }
    let Ok(client_id) = ClientId::parse(&claims.client_id) else { return Ok(None) };
    let Some(client) = state.clients.get(&client_id).await? else { return Ok(None) };
    Ok(still_granted(&claims, &client).then_some(claims))
}

/// Clocks of instances may differ by this much (client creation vs token issue).
const CLOCK_SKEW_SECS: i64 = 30;

/// Whether the client, as registered now, would still be given this token:
/// a change to the client (scope narrowed, grant removed) cuts the tokens it
/// already holds, and a token older than its client belongs to a deleted
/// namesake.
fn still_granted(claims: &AccessTokenClaims, client: &Client) -> bool {
    if claims.iat + CLOCK_SKEW_SECS < client.issued_at {
        return false;
    }
    // A token a client got for itself needs the grant it came from; a
    // user's token the code grant, which also allows the OpenID scopes.
    let (grant, implied): (GrantType, &[&str]) = if claims.sub == claims.client_id {
        (GrantType::ClientCredentials, &[])
    } else {
        (GrantType::AuthorizationCode, &OIDC_SCOPES)
    };
    client.metadata.allows_grant(grant)
        && claims.scopes().all(|scope| client.metadata.scope.contains(scope) || implied.contains(&scope))
}
