//! The [`AuthenticatedClient`] extractor of the token, introspection and
//! revocation endpoints: the strict form body, and the client authenticated
//! by the method it registered (`protocol::client_auth`).

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::header;

use super::AppState;
use super::client_address::ClientAddress;
use super::form::Form;
use crate::domain::{Client, Params, ProtocolError};
use crate::protocol::client_auth::{self, Credentials};

pub struct AuthenticatedClient {
    pub client: Arc<Client>,
    /// The rest of the form: the endpoint's own parameters.
    pub params: Params,
    /// Where the request came from, after trusted proxies.
    pub address: ClientAddress,
}

impl FromRequest<AppState> for AuthenticatedClient {
    type Rejection = ProtocolError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // A header that is not even ASCII is refused as invalid Basic.
        let authorization =
            request.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default().to_owned());
        let (mut parts, body) = request.into_parts();
        let Ok(address) = ClientAddress::from_request_parts(&mut parts, state).await;
        // The endpoint's own URL is an audience a client assertion may name
        // (RFC 7523 §3); routes are matched exactly, so this is one of ours.
        let path = parts.extensions.get::<MatchedPath>().map_or(parts.uri.path(), MatchedPath::as_str);
        let endpoint_url = state.settings.issuer.endpoint(path);
        let request = Request::from_parts(parts, body);
        let Form(params) = Form::from_request(request, state).await?;
        let credentials = Credentials::from_request(authorization.as_deref(), &params)?;
        let client = client_auth::authenticate(state, &credentials, address.0, &endpoint_url).await?;
        Ok(Self { client, params, address })
    }
}
