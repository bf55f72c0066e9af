//! User management by admins: a password goes in once and is stored as an
//! argon2id hash; deleting a user or withdrawing a consent revokes what it
//! granted, on this instance at once.

use super::Actor;
use crate::domain::user::NewUser;
use crate::domain::{ClientId, Page, PageRequest, ProtocolError, User, UserId};
use crate::protocol::Context;
use crate::storage::Consent;

fn no_such_user() -> ProtocolError {
    ProtocolError::not_found("no such user")
}

#[tracing::instrument(skip_all)]
pub async fn create(ctx: &Context, actor: &Actor, new: NewUser) -> Result<User, ProtocolError> {
    let user = User {
        id: UserId::generate(),
        password_hash: ctx.passwords.hash(new.password.into_string()).await?,
        username: new.username,
        email: new.email,
        email_verified: new.email_verified,
        name: new.name,
        roles: new.roles,
        created_at: ctx.clock.now(),
    };
    ctx.storage.users.insert_user(&user).await?;
    actor.changed("created a user", Some(user.id.as_str()));
    Ok(user)
}

/// One page of the users in id order, only those matching `search` if given
/// (see [`crate::domain::page::parse_search`]).
pub async fn list(
    ctx: &Context,
    page: &PageRequest,
    search: Option<&str>,
) -> Result<Page<User>, ProtocolError> {
    let fetched = ctx.storage.users.list_users(page, search).await?;
    Ok(Page::from_fetched(fetched, page, |user| user.id.to_string()))
}

pub async fn get(ctx: &Context, id: &UserId) -> Result<User, ProtocolError> {
    ctx.storage.users.get_user(id).await?.ok_or_else(no_such_user)
}

/// Deletes the user with their consents and grants.
pub async fn delete(ctx: &Context, actor: &Actor, id: &UserId) -> Result<(), ProtocolError> {
    if !ctx.revoker().user(id).await? {
        return Err(no_such_user());
    }
    actor.changed("deleted a user", Some(id.as_str()));
    Ok(())
}

pub async fn consents(ctx: &Context, id: &UserId) -> Result<Vec<Consent>, ProtocolError> {
    get(ctx, id).await?;
    Ok(ctx.storage.consents.list_consents(id).await?)
}

/// Withdraws a consent: the client must ask again, and the tokens issued
/// under it stop working.
pub async fn withdraw_consent(
    ctx: &Context,
    actor: &Actor,
    user: &UserId,
    client: &ClientId,
) -> Result<(), ProtocolError> {
    if !ctx.revoker().consent(user, client).await? {
        return Err(ProtocolError::not_found("no such consent"));
    }
    actor.changed(&format!("withdrew the user's consent to client {client}"), Some(user.as_str()));
    Ok(())
}
