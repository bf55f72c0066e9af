//! Validating an authorization request (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2.1), in the order the RFCs require: the client and its redirect URI
//! first (failures there are shown to the user, never redirected), then
//! everything else (failures go back to the client).

use super::{AuthorizationRequest, AuthorizeError, Prompt, Rejection, ResponseTarget, Unredirectable};
use crate::domain::{
    Client, ClientId, CodeChallenge, ErrorCode as Code, Params, RedirectUri, ResourceSet, ScopeSet,
};
use crate::protocol::Context;
use crate::protocol::audience::Audience;
use crate::protocol::clients::ClientLookup;
use crate::protocol::id_token;
use crate::protocol::scope_policy::ScopePolicy;

/// Every parameter that is kept while the user signs in has a bound, checked
/// before anything else is done with the request. `state` is opaque to us;
/// 2 KiB is far above what clients send (usually a random value or a hash).
pub const MAX_STATE_LEN: usize = 2048;
const BOUNDS: [(&str, usize); 6] = [
    ("nonce", 512),
    ("scope", 2048),
    ("login_hint", 256),
    ("id_token_hint", 8192),
    ("prompt", 64),
    ("max_age", 10),
];

/// `repeated` names a parameter the request carried more than once: a page
/// if it is the client or redirect URI, else `invalid_request` (§4.1.2.1).
pub async fn validate(
    ctx: &Context,
    params: &Params,
    repeated: Option<&str>,
) -> Result<AuthorizationRequest, Rejection> {
    for name in ["client_id", "redirect_uri"] {
        if repeated == Some(name) {
            return Err(Unredirectable::RepeatedParameter(name).into());
        }
    }
    let client = client(ctx, params).await?;
    let self_registered = client.is_self_registered();
    match checked(ctx, params, repeated, client).await {
        // RFC 9700 §4.11.2: a redirect URI that anyone could register makes
        // an error redirect, sent before any user has seen anything, an open
        // redirector on the issuer's name; such clients are told on a page.
        Err(Rejection::Redirect(error)) if self_registered => {
            Err(Unredirectable::SelfRegisteredClientError(error.description).into())
        }
        other => other,
    }
}

/// The checks after the client is known; errors go to its redirect URI.
async fn checked(
    ctx: &Context,
    params: &Params,
    repeated: Option<&str>,
    client: Client,
) -> Result<AuthorizationRequest, Rejection> {
    let state = params.get("state");
    let state_problem = state.and_then(state_problem);
    let target = ResponseTarget {
        redirect_uri: redirect_uri(&client, params)?,
        // A state that is not one is not echoed back: an over-long one would
        // only make the error redirect as large as the request.
        state: state.filter(|_| state_problem.is_none()).map(str::to_owned),
    };
    let fail = |code: Code, description: &str| AuthorizeError::new(&target, code, description);
    if let Some(problem) = state_problem {
        return Err(fail(Code::InvalidRequest, problem).into());
    }
    if let Some((name, _)) =
        BOUNDS.iter().find(|(name, max)| params.get(name).is_some_and(|v| v.len() > *max))
    {
        return Err(fail(Code::InvalidRequest, &format!("{name} is too long")).into());
    }
    if repeated.is_some() {
        // The name is not echoed: error_description is limited to printable
        // ASCII without quotes (RFC 6749 §4.1.2.1).
        return Err(fail(Code::InvalidRequest, "a parameter is repeated").into());
    }
    // OpenID Connect Core §6: request objects are not supported.
    if params.get("request").is_some() {
        return Err(fail(Code::RequestNotSupported, "request objects are not supported").into());
    }
    if params.get("request_uri").is_some() {
        return Err(fail(Code::RequestUriNotSupported, "request_uri is not supported").into());
    }
    match params.get("response_type") {
        None => return Err(fail(Code::InvalidRequest, "response_type is required").into()),
        Some("code") => {}
        Some(_) => {
            return Err(fail(Code::UnsupportedResponseType, "only response_type=code is supported").into());
        }
    }
    let Some(policy) = ScopePolicy::for_user(&client) else {
        return Err(
            fail(Code::UnauthorizedClient, "this client may not use the authorization code grant").into()
        );
    };
    if params.get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(fail(Code::InvalidRequest, "only response_mode=query is supported").into());
    }
    // RFC 8707 §2: checked after the redirect URI, so sent back as any error.
    let audience = audience(ctx, &client, params).await.map_err(|e| fail(e.code, &e.description))?;
    let scope = scope(&policy, params.get("scope"), &audience).map_err(|d| fail(Code::InvalidScope, d))?;
    let code_challenge = pkce(&client, &scope, params).map_err(|d| fail(Code::InvalidRequest, d))?;
    let prompt = prompt(params.get("prompt")).map_err(|d| fail(Code::InvalidRequest, d))?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(value) => Some(
            value
                .parse::<u32>()
                .map_err(|_| fail(Code::InvalidRequest, "max_age must be a number of seconds"))?
                as i64,
        ),
    };
    let nonce = params.get("nonce").map(str::to_owned);
    let login_hint = params.get("login_hint").map(str::to_owned);
    let expected_subject = match params.get("id_token_hint") {
        None => None,
        Some(hint) => Some(
            id_token::verify_hint(ctx, hint)
                .await
                .ok_or_else(|| fail(Code::InvalidRequest, "id_token_hint is not an ID token issued here"))?
                .sub,
        ),
    };
    Ok(AuthorizationRequest {
        client_id: client.id,
        redirect_uri: target.redirect_uri.clone(),
        redirect_uri_named: params.get("redirect_uri").is_some(),
        scope,
        resources: audience.indicators(),
        state: target.state.clone(),
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        expected_subject,
    })
}

/// At most 2 KiB, and no control characters (RFC 6749 Appendix A.5 allows
/// only printable ASCII; other printable Unicode is accepted, as clients do
/// send it, and costs nothing to carry).
fn state_problem(state: &str) -> Option<&'static str> {
    if state.len() > MAX_STATE_LEN {
        Some("state is longer than 2048 bytes")
    } else if state.chars().any(char::is_control) {
        Some("state must not contain control characters (RFC 6749 Appendix A.5)")
    } else {
        None
    }
}

async fn client(ctx: &Context, params: &Params) -> Result<Client, Rejection> {
    let unknown = || Rejection::from(Unredirectable::UnknownClient);
    let id = params.get("client_id").ok_or_else(|| Rejection::from(Unredirectable::MissingClientId))?;
    let id = ClientId::parse(id).map_err(|_| unknown())?;
    match ctx.clients.lookup(&id).await? {
        ClientLookup::Found(client) => Ok((*client).clone()),
        ClientLookup::Unknown => Err(unknown()),
        // Draft-ietf-oauth-client-id-metadata-document-02 §5.1: the request
        // is aborted, and nothing is redirected (no redirect URI is trusted).
        ClientLookup::Refused(reason) => Err(Unredirectable::MetadataDocumentRefused(reason).into()),
    }
}

/// RFC 6749 §3.1.2.3, RFC 9700 §2.1: exact string match against a
/// registered URI. It may be omitted only by a client with exactly one,
/// and not in an OpenID Connect request (Core §3.1.2.1 requires it).
fn redirect_uri(client: &Client, params: &Params) -> Result<RedirectUri, Rejection> {
    let registered = &client.metadata.redirect_uris;
    match params.get("redirect_uri") {
        Some(given) => registered
            .iter()
            .find(|uri| uri.matches(given))
            .and_then(|_| RedirectUri::parse(given).ok())
            .ok_or_else(|| Rejection::from(Unredirectable::UnregisteredRedirectUri)),
        None => {
            let oidc = params.get("scope").is_some_and(|s| s.split(' ').any(|t| t == "openid"));
            match registered.as_slice() {
                [only] if !oidc => Ok(only.clone()),
                _ => Err(Unredirectable::MissingRedirectUri.into()),
            }
        }
    }
}

/// RFC 8707 §2: the resources named (or the client's default), each valid,
/// allowed for the client and registered; else `invalid_target`.
async fn audience(
    ctx: &Context,
    client: &Client,
    params: &Params,
) -> Result<Audience, crate::domain::ProtocolError> {
    let requested = ResourceSet::from_request(params.resources())?;
    Audience::for_new_grant(ctx, client, &requested).await
}

/// RFC 6749 §3.3: the requested scope, or the registered one if omitted;
/// OpenID Connect needs one. With resources, the scopes must belong to them.
fn scope(
    policy: &ScopePolicy<'_>,
    requested: Option<&str>,
    audience: &Audience,
) -> Result<ScopeSet, &'static str> {
    let requested = requested.map(ScopeSet::parse).transpose()?;
    let scope = policy.grant_for(requested, audience).map_err(|error| match audience.is_issuer() {
        true => "this client may not ask for one of the requested scopes",
        false => error,
    })?;
    if scope.is_empty() {
        return Err("scope is required");
    }
    Ok(scope)
}

/// RFC 7636 §4.3 and RFC 9700 §2.1.1: only S256 (a missing method means
/// `plain`, which is refused). Whether the client must use it at all is
/// its registration's rule; an OpenID request's `nonce` is what may stand
/// in for it (RFC 9700 §2.1.1, OpenID Connect Core §3.1.2.1).
fn pkce(client: &Client, scope: &ScopeSet, params: &Params) -> Result<Option<CodeChallenge>, &'static str> {
    let Some(challenge) = params.get("code_challenge") else {
        if params.get("code_challenge_method").is_some() {
            return Err("code_challenge_method without code_challenge");
        }
        // Empty parameters count as absent, so a nonce here is not empty.
        let openid_with_nonce = scope.contains("openid") && params.get("nonce").is_some();
        if client.metadata.requires_pkce(openid_with_nonce) {
            return Err("this client must use PKCE (code_challenge with code_challenge_method=S256)");
        }
        return Ok(None);
    };
    if params.get("code_challenge_method") != Some("S256") {
        return Err("code_challenge_method must be S256; plain is not supported");
    }
    CodeChallenge::parse(challenge).map(Some)
}

fn prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    for token in value.unwrap_or_default().split(' ').filter(|t| !t.is_empty()) {
        match token {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // One account per session: choosing one needs no page of its own.
            "select_account" => {}
            _ => return Err("prompt has an unsupported value"),
        }
    }
    // OpenID Connect Core §3.1.2.1: none with any other value is an error.
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with other values");
    }
    Ok(prompt)
}
