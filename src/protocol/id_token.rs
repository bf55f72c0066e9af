//! ID tokens (OpenID Connect Core §2, §3.1.3.6) and the user claims they
//! and the userinfo endpoint share (§5.1, §5.4).

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Validation, decode, decode_header};
use serde::{Deserialize, Serialize};

use crate::domain::KeyAlgorithm;
use crate::domain::ProtocolError;
use crate::domain::{Client, IdTokenAlgorithm, ScopeSet, User};
use crate::protocol::Context;
use crate::protocol::access_token::{ACCESS_TOKEN_TYPE, sign_jwt};

/// Every claim an ID token or userinfo answer may carry (Discovery §3
/// `claims_supported`).
pub const CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    "name",
    "preferred_username",
    "email",
    "email_verified",
];

/// The claims the `profile` and `email` scopes release (§5.4).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    pub fn for_scope(user: &User, scope: &ScopeSet) -> Self {
        let mut claims = Self::default();
        if scope.contains("profile") {
            claims.name = user.name.clone();
            claims.preferred_username = Some(user.username.as_str().to_owned());
        }
        if scope.contains("email") && user.email.is_some() {
            claims.email = user.email.clone();
            claims.email_verified = Some(user.email_verified);
        }
        claims
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    pub azp: String,
    #[serde(flatten)]
    pub user: UserClaims,
}

/// What an ID token says about one authorization.
pub struct IdTokenGrant<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub scope: &'a ScopeSet,
    pub auth_time: i64,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
}

/// An ID token when `openid` was granted (OpenID Connect Core §3.1.3.3), else none.
pub fn issue_if_openid(ctx: &Context, grant: &IdTokenGrant<'_>) -> Result<Option<String>, ProtocolError> {
    match grant.scope.contains("openid") {
        true => issue(ctx, grant).map(Some),
        false => Ok(None),
    }
}

/// Signs an ID token with the client's `id_token_signed_response_alg`.
pub fn issue(ctx: &Context, grant: &IdTokenGrant<'_>) -> Result<String, ProtocolError> {
    let now = ctx.clock.now();
    let claims = IdTokenClaims {
        iss: ctx.settings.issuer.to_string(),
        sub: grant.user.id.as_str().to_owned(),
        aud: grant.client.id.as_str().to_owned(),
        exp: now + ctx.settings.access_token_ttl.as_secs() as i64,
        iat: now,
        auth_time: grant.auth_time,
        nonce: grant.nonce.map(str::to_owned),
        at_hash: Some(at_hash(grant.access_token)),
        azp: grant.client.id.as_str().to_owned(),
        user: UserClaims::for_scope(grant.user, grant.scope),
    };
    let algorithm = match grant.client.metadata.id_token_signed_response_alg {
        IdTokenAlgorithm::RS256 => KeyAlgorithm::Rs256,
        IdTokenAlgorithm::ES256 => KeyAlgorithm::Es256,
    };
    let key = ctx
        .keys
        .signing_key(algorithm)
        .ok_or_else(|| ProtocolError::internal(&crate::domain::KeyError::Signing))?;
    sign_jwt(&key, "JWT", &claims)
}

/// §3.1.3.6: the base64url of the left half of the SHA-256 of the access
/// token (both RS256 and ES256 use SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = digest::digest(&digest::SHA256, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// The parts of an `id_token_hint` that matter.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenHint {
    pub sub: String,
    pub aud: String,
}

/// Checks an `id_token_hint` (§3.1.2.1, RP-Initiated Logout §2): one of our
/// ID tokens, by signature and issuer. An expired one is still a good hint.
pub async fn verify_hint(ctx: &Context, token: &str) -> Option<IdTokenHint> {
    if token.len() > 16 * 1024 {
        return None;
    }
    let header = decode_header(token).ok()?;
    if header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)) {
        return None;
    }
    let key = ctx.keys.verification_key(header.kid.as_deref()?).await?;
    let mut validation = Validation::new(key.algorithm.jwt_algorithm());
    validation.set_issuer(&[ctx.settings.issuer.as_str()]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    decode::<IdTokenHint>(token, &key.decoding_key, &validation).ok().map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_openid_connect_example() {
        // OpenID Connect Core, Appendix A.3/A.4 use this access token.
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
