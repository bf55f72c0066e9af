//! The userinfo endpoint (OpenID Connect Core §5.3): the claims of the user
//! an access token is about, released by scope (§5.4).

use serde_json::{Value, json};

use crate::domain::{ProtocolError, ScopeSet, Subject};
use crate::protocol::Context;
use crate::protocol::access_token;
use crate::protocol::bearer;
use crate::protocol::id_token::UserClaims;

pub async fn userinfo(ctx: &Context, token: &str) -> Result<Value, ProtocolError> {
    let claims = access_token::validate(ctx, token).await?.ok_or_else(bearer::invalid_token)?;
    // RFC 9068 §4: userinfo is the issuer's own resource; a token only for
    // other resources is not meant for it (an OpenID one for resources names
    // userinfo itself).
    let settings = &ctx.settings;
    if !claims.aud.contains(settings.issuer.as_str()) && !claims.aud.contains(&settings.userinfo_audience) {
        return Err(bearer::invalid_token());
    }
    let scope = ScopeSet::parse(&claims.scope).map_err(|_| bearer::invalid_token())?;
    let Some(Subject::User(user_id)) = claims.subject().filter(|_| scope.contains("openid")) else {
        return Err(bearer::insufficient_scope("openid"));
    };
    // Disabling revokes the user's tokens; the record is read here anyway.
    let user = ctx.storage.users.get_user(&user_id).await?;
    let user = user.filter(|user| !user.is_disabled()).ok_or_else(bearer::invalid_token)?;
    let mut body = serde_json::to_value(UserClaims::for_scope(&user, &scope))
        .map_err(|e| ProtocolError::internal(&e))?;
    body["sub"] = json!(user.id.as_str());
    Ok(body)
}
