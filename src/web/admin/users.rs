//! The admin API's user resources: create, list, show, change (RFC 7396
//! merge patch), disable and delete users, and see or withdraw what they
//! consented to (`protocol::admin::users` holds the rules). A password goes
//! in once; neither it nor its hash comes back out.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Serialize;

use crate::domain::user::NewUserRequest;
use crate::domain::{ClientId, ProtocolError, User, UserId, UserPatch};
use crate::protocol::admin::Actor;
use crate::protocol::admin::users;
use crate::storage::Consent;
use crate::web::AppState;
use crate::web::admin::paging::ListQuery;
use crate::web::json_body::JsonBody;

/// A user as the admin API shows it: never the password or its hash.
/// Absent `email` and `name` are left out, as absent client metadata is.
#[derive(Serialize)]
pub struct UserView {
    id: String,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    roles: Vec<String>,
    created_at: i64,
    disabled: bool,
    /// Since when, while disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_at: Option<i64>,
}

impl UserView {
    fn of(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.as_str().to_owned(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            name: user.name.clone(),
            roles: user.roles.clone(),
            created_at: user.created_at,
            disabled: user.is_disabled(),
            disabled_at: user.disabled_at,
        }
    }
}

/// A consent as the admin API shows it; `scope` is space-separated.
#[derive(Serialize)]
pub struct ConsentView {
    client_id: String,
    scope: String,
    granted_at: i64,
}

impl ConsentView {
    fn of(consent: &Consent) -> Self {
        Self {
            client_id: consent.client_id.to_string(),
            scope: consent.scope.to_string(),
            granted_at: consent.granted_at,
        }
    }
}

fn no_such_user() -> ProtocolError {
    ProtocolError::not_found("no such user")
}

/// The `{user_id}` path segment, parsed once here; anything that is not a
/// user id is JSON `not_found`.
pub struct UserPath(UserId);

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = ProtocolError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| no_such_user())?;
        UserId::parse(&raw).map(Self).map_err(|_| no_such_user())
    }
}

/// The `{user_id}/consents/{client_id}` path segments, parsed once here.
pub struct ConsentPath(UserId, ClientId);

impl<S: Send + Sync> FromRequestParts<S> for ConsentPath {
    type Rejection = ProtocolError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let no_such_consent = || ProtocolError::not_found("no such consent");
        let Path((user, client)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| no_such_consent())?;
        let user = UserId::parse(&user).map_err(|_| no_such_consent())?;
        let client = ClientId::parse(&client).map_err(|_| no_such_consent())?;
        Ok(Self(user, client))
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    body: Result<JsonBody<NewUserRequest>, ProtocolError>,
) -> Result<(StatusCode, Json<UserView>), ProtocolError> {
    let JsonBody(request) = body?;
    let user = users::create(&state, &actor, request.validate()?).await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&user))))
}

pub async fn list(State(state): State<AppState>, query: ListQuery) -> Result<Response, ProtocolError> {
    let page = users::list(&state, &query.page, query.search.as_deref()).await?;
    Ok(query.respond(page, UserView::of))
}

pub async fn show(
    State(state): State<AppState>,
    UserPath(id): UserPath,
) -> Result<Json<UserView>, ProtocolError> {
    Ok(Json(UserView::of(&users::get(&state, &id).await?)))
}

/// RFC 7396: `application/merge-patch+json`, or `application/json`.
pub async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    UserPath(id): UserPath,
    body: Result<JsonBody<serde_json::Value>, ProtocolError>,
) -> Result<Json<UserView>, ProtocolError> {
    let JsonBody(document) = body?;
    let user = users::update(&state, &actor, &id, UserPatch::parse(document)?).await?;
    Ok(Json(UserView::of(&user)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    UserPath(id): UserPath,
) -> Result<StatusCode, ProtocolError> {
    users::delete(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn consents(
    State(state): State<AppState>,
    UserPath(id): UserPath,
) -> Result<Json<Vec<ConsentView>>, ProtocolError> {
    Ok(Json(users::consents(&state, &id).await?.iter().map(ConsentView::of).collect()))
}

pub async fn revoke_consent(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ConsentPath(user, client): ConsentPath,
) -> Result<StatusCode, ProtocolError> {
    users::withdraw_consent(&state, &actor, &user, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
