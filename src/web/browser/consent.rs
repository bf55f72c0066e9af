//! The consent page: the signed-in user allows or denies what a client asks
//! for. `Allow` is remembered per user and client, so the same request is
//! not asked about again; `Deny` returns `access_denied` (RFC 6749 §4.1.2.1).

use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;

use super::authorize::{self, response};
use super::page_error::PageError;
use super::page_form::{PageForm, PageQuery};
use super::pages::{self, ConsentForm, MetadataDocumentNotice, ScopeLine};
use super::session::{self, PendingAuthorization, SignedIn};
use crate::domain::Params;
use crate::domain::client_metadata_document::ClientIdUrl;
use crate::domain::{Client, ErrorCode, RedirectUri, ResourceSet, ScopeSet};
use crate::protocol::authorize::AuthorizeError;
use crate::storage::Consent;
use crate::web::AppState;

pub async fn show(State(state): State<AppState>, session: Session, PageQuery(params): PageQuery) -> Response {
    let request_id = params.get("rid").unwrap_or_default();
    render(&state, &session, request_id).await.unwrap_or_else(|error| error.render(&state.settings.issuer))
}

pub async fn submit(State(state): State<AppState>, session: Session, PageForm(params): PageForm) -> Response {
    decide(&state, &session, &params).await.unwrap_or_else(|error| error.render(&state.settings.issuer))
}

/// The pending request, the signed-in user and the client it is for.
async fn context(
    state: &AppState,
    session: &Session,
    request_id: &str,
) -> Result<(PendingAuthorization, SignedIn, Client), PageError> {
    let pending = session::get_pending(state, session, request_id).await?;
    // Only a request that has passed sign-in (`prompt=login`, `max_age`…).
    let pending = pending.filter(|p| p.awaiting_consent).ok_or_else(PageError::expired_request)?;
    let user = session::signed_in(state, session).await?.ok_or_else(PageError::expired_request)?;
    let client = state.clients.get(&pending.request.client_id).await?.ok_or_else(|| {
        PageError::bad_request(
            "Unknown application",
            "The application that sent you here is no longer registered.",
        )
    })?;
    Ok((pending, user, (*client).clone()))
}

async fn render(state: &AppState, session: &Session, request_id: &str) -> Result<Response, PageError> {
    let (pending, signed_in, client) = context(state, session, request_id).await?;
    let user =
        state.storage.users.get_user(&signed_in.user_id).await?.ok_or_else(PageError::expired_request)?;
    let form = ConsentForm {
        request_id: request_id.to_owned(),
        csrf_token: session::csrf_token(session).await?,
        client_name: client.metadata.client_name.clone().unwrap_or_else(|| client.id.as_str().to_owned()),
        username: user.username.as_str().to_owned(),
        scopes: pending.request.scope.iter().map(describe).collect(),
        resources: resource_names(state, &pending.request.resources).await?,
        metadata_document: metadata_document_notice(&client, &pending.request.redirect_uri),
    };
    Ok(pages::consent_page(&state.settings.issuer, &form))
}

async fn decide(state: &AppState, session: &Session, params: &Params) -> Result<Response, PageError> {
    if !session::csrf_matches(session, params.get("csrf_token")).await? {
        return Err(PageError::Forbidden);
    }
    let request_id = params.get("rid").unwrap_or_default();
    let (pending, user, client) = context(state, session, request_id).await?;
    let allow = match params.get("decision").map(str::to_ascii_lowercase).as_deref() {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(PageError::bad_request("Invalid form", "Choose Allow or Deny.")),
    };
    session::remove_pending(state, session, request_id).await?;
    let request = &pending.request;
    if !allow {
        let error =
            AuthorizeError::new(&request.target(), ErrorCode::AccessDenied, "the user denied the request");
        return Ok(response::error_redirect(&state.settings.issuer, &error));
    }
    state.clients.store_for_grant(&client).await?;
    let previous = state.storage.consents.get_consent(&user.user_id, &client.id).await?;
    let scope = union(previous.map(|c| c.scope), &request.scope);
    let consent = Consent { client_id: client.id.clone(), scope, granted_at: state.clock.now() };
    state.storage.consents.save_consent(&user.user_id, &consent).await?;
    Ok(authorize::issue_code(state, request, &user)
        .await
        .unwrap_or_else(|failure| failure.into_response(&state.settings.issuer)))
}

/// What the page says of a client known by its metadata document
/// (draft-ietf-oauth-client-id-metadata-document-02 §8.5): its name is its
/// own claim, so the host of its `client_id` URL is shown beside it, with
/// where the browser will be sent; a loopback redirect URI is flagged, as
/// any document may name one, and whatever listens there gets the code.
fn metadata_document_notice(client: &Client, redirect_uri: &RedirectUri) -> Option<MetadataDocumentNotice> {
    // RFC 7591 §5: a self-registered client's name proves nothing either.
    if !client.is_self_registered() {
        return None;
    }
    let client_host = match client.is_from_metadata_document() {
        true => Some(ClientIdUrl::parse(&client.id).ok()?.host()),
        false => None,
    };
    Some(MetadataDocumentNotice {
        client_host,
        redirect_host: redirect_uri.display_host(),
        loopback_redirect: redirect_uri.is_loopback(),
    })
}

/// How the consent page names each resource: its name, else its identifier.
async fn resource_names(state: &AppState, resources: &ResourceSet) -> Result<Vec<String>, PageError> {
    let mut names = Vec::with_capacity(resources.len());
    for identifier in resources.iter() {
        let resource = state.resources.get(identifier).await?;
        names.push(resource.map_or_else(|| identifier.to_string(), |r| r.display_name().to_owned()));
    }
    Ok(names)
}

fn union(previous: Option<ScopeSet>, requested: &ScopeSet) -> ScopeSet {
    let mut joined = previous.map(|s| s.to_string()).unwrap_or_default();
    joined.push(' ');
    joined.push_str(&requested.to_string());
    ScopeSet::parse(&joined).unwrap_or_else(|_| requested.clone())
}

/// A scope in plain words for the consent page.
pub fn describe(scope: &str) -> ScopeLine {
    let description = match scope {
        "openid" => "Sign you in and know who you are".to_owned(),
        "profile" => "See your name and username".to_owned(),
        "email" => "See your email address".to_owned(),
        "offline_access" => "Stay connected when you are not using it".to_owned(),
        other => format!("Access “{other}” on your behalf"),
    };
    ScopeLine { scope: scope.to_owned(), description }
}
