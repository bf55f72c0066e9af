//! Extractors for the parameters of a page request (query or form body):
//! the same strict parsing as the protocol endpoints, but a request that
//! fails it gets an HTML error page, since a person is looking.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::Response;

use super::page_error::PageError;
use crate::domain::Params;
use crate::web::AppState;
use crate::web::form::Form;

fn invalid(error: crate::domain::ProtocolError, state: &AppState) -> Response {
    PageError::bad_request("Invalid request", error.description.into_owned()).render(&state.settings.issuer)
}

/// A form POST from one of our pages (or a client, for logout).
pub struct PageForm(pub Params);

impl FromRequest<AppState> for PageForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Form::from_request(request, state).await {
            Ok(Form(params)) => Ok(Self(params)),
            Err(error) => Err(invalid(error, state)),
        }
    }
}

/// The query string of a page GET.
pub struct PageQuery(pub Params);

impl FromRequestParts<AppState> for PageQuery {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        Params::parse(query.as_bytes()).map(Self).map_err(|error| invalid(error, state))
    }
}
