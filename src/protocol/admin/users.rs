//! User management by admins: a password goes in once and is stored as an
//! argon2id hash; disabling or deleting a user, changing their password or
//! withdrawing a consent revokes what it granted, on this instance at once
//! (and on the others within the revocation sync interval).

use super::Actor;
use crate::domain::user::NewUser;
use crate::domain::{ClientId, Page, PageRequest, ProtocolError, User, UserId, UserPatch};
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
        disabled_at: None,
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

/// Applies a merge patch to a user; the id (the `sub` of their tokens) and
/// username never change. Disabling ends everything the user holds (their
/// sessions, refresh token families, codes and access tokens) and keeps
/// them from signing in; enabling lets them sign in again but revives
/// nothing. A new password also ends everything they hold: an admin resets
/// a password because it may be known to someone else, who may be signed in
/// with it. Returns the user as stored afterwards.
pub async fn update(
    ctx: &Context,
    actor: &Actor,
    id: &UserId,
    mut patch: UserPatch,
) -> Result<User, ProtocolError> {
    let mut user = get(ctx, id).await?;
    if patch.is_empty() {
        return Ok(user);
    }
    let what = change_detail(&patch);
    // Disabling comes first: whatever fails after it, the user is locked out.
    if patch.disabled == Some(true) && !ctx.revoker().disable_user(id).await? {
        return Err(no_such_user());
    }
    let new_password = patch.password.is_some();
    if let Some(password) = patch.password.take() {
        let hash = ctx.passwords.hash(password.into_string()).await?;
        if !ctx.storage.users.set_password_hash(id, &hash).await? {
            return Err(no_such_user());
        }
    }
    if patch.changes_profile() {
        patch.apply_profile(&mut user);
        if !ctx.storage.users.update_user(&user).await? {
            return Err(no_such_user());
        }
    }
    // After the new password is stored, so that a session signed in with
    // the old one meanwhile ends too.
    if new_password && patch.disabled != Some(true) && !ctx.revoker().user_grants(id).await? {
        return Err(no_such_user());
    }
    // Last, so that a re-enabled user signs in with the patch applied.
    if patch.disabled == Some(false) && !ctx.storage.users.enable_user(id).await? {
        return Err(no_such_user());
    }
    actor.changed(&what, Some(id.as_str()));
    get(ctx, id).await
}

/// What a patch does, for the audit record: "changed a user's name, roles;
/// disabled the user".
fn change_detail(patch: &UserPatch) -> String {
    let mut parts = Vec::new();
    let fields = patch.changed_fields();
    if !fields.is_empty() {
        parts.push(format!("changed a user's {}", fields.join(", ")));
    }
    match patch.disabled {
        Some(true) => parts.push("disabled the user".to_owned()),
        Some(false) => parts.push("enabled the user".to_owned()),
        None => {}
    }
    parts.join("; ")
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
