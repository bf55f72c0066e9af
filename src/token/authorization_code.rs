//! The `authorization_code` grant (RFC 6749 §4.1.3, OpenID Connect Core
//! §3.1.3): a code is redeemed once, by the client it was issued to, with
//! the same redirect URI and the PKCE verifier (RFC 7636 §4.6).

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use super::TokenResponse;
use super::refresh_token;
use crate::access_token;
use crate::clock;
use crate::domain::{Client, GrantType};
use crate::error::{ErrorCode, ProtocolError};
use crate::form::Params;
use crate::id_token::{self, IdTokenGrant};
use crate::secret::{SecretHash, random_token};
use crate::state::AppState;
use crate::storage::{AuthorizationCodeRecord, CodeRedemption, TokenFamily};

fn invalid_grant(description: &'static str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidGrant, description)
}

pub async fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, ProtocolError> {
    if !client.metadata.allows_grant(GrantType::AuthorizationCode) {
        return Err(ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization_code grant",
        ));
    }
    let code = params.require("code")?;
    let code_hash = SecretHash::of_bytes(code.as_bytes()).as_bytes().to_vec();
    let now = clock::now();
    let record = state.storage.grants.get_code(&code_hash).await?;
    let record = record.ok_or_else(|| invalid_grant("the code is invalid or has expired"))?;
    // Another client's code is refused without touching it: it may still
    // be redeemed by its own client.
    if record.client_id != client.id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if record.redeemed {
        return Err(replayed(state, &code_hash, now).await);
    }
    if record.expires_at <= now {
        return Err(invalid_grant("the code is invalid or has expired"));
    }
    // §4.1.3: the redirect URI must be identical to the authorization
    // request's, if that named one (the record's is empty if not).
    let redirect_uri_matches = match (record.redirect_uri.as_str(), params.get("redirect_uri")) {
        ("", None) => true,
        ("", Some(given)) => client.metadata.redirect_uris.iter().any(|uri| uri.as_str() == given),
        (named, given) => given == Some(named),
    };
    if !redirect_uri_matches {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    verify_pkce(record.code_challenge.as_deref(), params.get("code_verifier"))?;
    redeem(state, client, &record, &code_hash, now).await
}

async fn redeem(
    state: &AppState,
    client: &Client,
    record: &AuthorizationCodeRecord,
    code_hash: &[u8],
    now: i64,
) -> Result<TokenResponse, ProtocolError> {
    let user = state.storage.users.get_user(&record.user_id).await?;
    let user = user.ok_or_else(|| invalid_grant("the user no longer exists"))?;
    let issued = access_token::issue_for_user(state, &client.id, &user, &record.scope, record.auth_time)?;
    let family = record.scope.contains("offline_access").then(|| TokenFamily {
        family_id: random_token(16),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        scope: record.scope.clone(),
        auth_time: record.auth_time,
        created_at: now,
        expires_at: now + state.config.refresh_token_ttl.as_secs() as i64,
        revoked: false,
    });
    let redemption = CodeRedemption {
        access_jti: issued.claims.jti.clone(),
        access_expires_at: issued.claims.exp,
        family: family.clone(),
    };
    // Exactly one of several concurrent redemptions gets past this point.
    if !state.storage.grants.redeem_code(code_hash, now, &redemption).await? {
        return Err(replayed(state, code_hash, now).await);
    }
    let id_token = id_token::issue_if_openid(
        state,
        &IdTokenGrant {
            client,
            user: &user,
            scope: &record.scope,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
            access_token: &issued.token,
        },
    )?;
    let refresh_token = match &family {
        Some(family) => Some(refresh_token::issue(state, family, &issued, now).await?),
        None => None,
    };
    Ok(TokenResponse { refresh_token, id_token, ..TokenResponse::bearer(issued) })
}

/// RFC 6749 §4.1.2: a code used twice is an attack (or a bug); the tokens
/// issued for it are revoked.
async fn replayed(state: &AppState, code_hash: &[u8], now: i64) -> ProtocolError {
    match state.storage.grants.revoke_code_grant(code_hash, now).await {
        Ok(revoked) => {
            tracing::warn!(revoked = revoked.len(), "authorization code replayed; its tokens are revoked");
            state.revocations.remember(revoked);
        }
        Err(error) => tracing::error!(%error, "revoking the tokens of a replayed code failed"),
    }
    invalid_grant("the code has already been used")
}

/// RFC 7636 §4.6. A verifier without a challenge is refused too: RFC 9700
/// §2.1.1 (PKCE downgrade).
fn verify_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), ProtocolError> {
    let (challenge, verifier) = match (challenge, verifier) {
        (None, None) => return Ok(()),
        (None, Some(_)) => {
            return Err(invalid_grant("code_verifier was sent but the request had no code_challenge"));
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
        (Some(challenge), Some(verifier)) => (challenge, verifier),
    };
    // §4.1: 43 to 128 unreserved characters.
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    if !well_formed || !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
        return Err(invalid_grant("code_verifier does not match the code_challenge"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_pkce(Some(challenge), Some(verifier)).is_ok());
        assert!(verify_pkce(Some(challenge), Some(&verifier.replace('d', "e"))).is_err());
        assert!(verify_pkce(Some(challenge), None).is_err());
        assert!(verify_pkce(None, Some(verifier)).is_err());
    }
}
