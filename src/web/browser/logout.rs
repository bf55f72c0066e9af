//! RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0): the client
//! sends the browser here, the session ends, and the browser goes back to a
//! registered `post_logout_redirect_uri` or sees a confirmation.
//!
//! With a valid `id_token_hint` for the signed-in user (or no one signed
//! in) the session ends at once (§2). Without one, the user is asked first,
//! so that a stray link cannot sign anyone out.

use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;
use url::Url;

use super::authorize::response::see_other;
use super::page_error::PageError;
use super::page_form::{PageForm, PageQuery};
use super::pages::{self, LogoutForm};
use super::session;
use crate::domain::Params;
use crate::domain::{Client, ClientId};
use crate::protocol::id_token;
use crate::web::AppState;

pub async fn logout_get(
    State(state): State<AppState>,
    session: Session,
    PageQuery(params): PageQuery,
) -> Response {
    logout(&state, &session, &params, false)
        .await
        .unwrap_or_else(|error| error.render(&state.settings.issuer))
}

/// §2: the request may also be a form POST; the confirmation page posts here too.
pub async fn logout_post(
    State(state): State<AppState>,
    session: Session,
    PageForm(params): PageForm,
) -> Response {
    logout(&state, &session, &params, true).await.unwrap_or_else(|error| error.render(&state.settings.issuer))
}

async fn logout(
    state: &AppState,
    session: &Session,
    params: &Params,
    posted: bool,
) -> Result<Response, PageError> {
    let hint = match params.get("id_token_hint") {
        Some(token) => Some(id_token::verify_hint(state, token).await.ok_or_else(|| {
            PageError::bad_request(
                "Invalid sign-out request",
                "The sign-out request names a token not issued here.",
            )
        })?),
        None => None,
    };
    let client = client(state, params.get("client_id"), hint.as_ref().map(|h| h.aud.as_str())).await?;
    let redirect = post_logout_redirect(client.as_ref(), params.get("post_logout_redirect_uri"))?
        // A client that registered itself names any address it likes: sent
        // there only with proof the request comes from it (its ID token),
        // or the logout endpoint would be an open redirector.
        .filter(|_| hint.is_some() || !client.as_ref().is_some_and(|c| c.is_self_registered()));
    let signed_in = session::signed_in(state, session).await?;
    let confirmed = match (&hint, &signed_in) {
        (_, None) => true,
        (Some(hint), Some(user)) => hint.sub == user.user_id.as_str(),
        (None, Some(_)) => posted && session::csrf_matches(session, params.get("csrf_token")).await?,
    };
    if !confirmed {
        let form = LogoutForm {
            csrf_token: session::csrf_token(session).await?,
            client_name: client
                .as_ref()
                .map(|c| c.metadata.client_name.clone().unwrap_or_else(|| c.id.to_string())),
            post_logout_redirect_uri: redirect
                .as_ref()
                .map(|_| params.get("post_logout_redirect_uri").unwrap_or_default().to_owned()),
            state: params.get("state").map(str::to_owned),
            client_id: client.as_ref().map(|c| c.id.to_string()),
        };
        return Ok(pages::logout_confirm_page(&state.settings.issuer, &form));
    }
    session::sign_out(session).await?;
    Ok(match redirect {
        Some(mut url) => {
            if let Some(value) = params.get("state") {
                url.query_pairs_mut().append_pair("state", value);
            }
            see_other(url.as_str())
        }
        None => pages::logged_out_page(&state.settings.issuer),
    })
}

/// The client the request is for: from `client_id`, the hint's audience, or
/// both (which must agree, §2).
async fn client(
    state: &AppState,
    client_id: Option<&str>,
    audience: Option<&str>,
) -> Result<Option<Client>, PageError> {
    let id = match (client_id, audience) {
        (Some(given), Some(aud)) if given != aud => {
            return Err(PageError::bad_request(
                "Invalid sign-out request",
                "client_id does not match the ID token.",
            ));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Ok(None),
    };
    let Ok(id) = ClientId::parse(id) else { return Ok(None) };
    Ok(state.clients.get(&id).await?.map(|client| (*client).clone()))
}

/// §3: only a URI registered for the client, compared exactly, and only
/// when the client is known.
fn post_logout_redirect(client: Option<&Client>, uri: Option<&str>) -> Result<Option<Url>, PageError> {
    let Some(uri) = uri else { return Ok(None) };
    let unregistered = || {
        PageError::bad_request(
            "Invalid sign-out request",
            "The application asked to send you to an address it has not registered.",
        )
    };
    let client = client.ok_or_else(unregistered)?;
    let registered = client.metadata.post_logout_redirect_uris.iter().any(|r| r.as_str() == uri);
    if !registered {
        return Err(unregistered());
    }
    Url::parse(uri).map(Some).map_err(|_| unregistered())
}
