//! OpenID Connect Core 1.0 with a browser: the authorization code flow with
//! PKCE (RFC 6749 §4.1, RFC 7636), login and consent pages, `prompt` and
//! `max_age`, refresh tokens, userinfo and RP-initiated logout. The relying
//! party is the `openidconnect` crate, configured through discovery; the
//! browser is [`user_agent::UserAgent`].

mod anonymous_requests;
mod audiences;
mod authorize_errors;
mod busy_sign_in;
mod code_flow;
mod consent;
mod discovery;
mod html;
mod login_security;
mod logout;
mod pkce;
mod prompt;
mod redirect_uris;
mod refresh;
mod security_events;
mod throttling;
mod user_agent;
mod userinfo;
mod withdrawn_scopes;
mod wrong_host;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreErrorResponseType,
    CoreIdTokenClaims, CoreProviderMetadata, CoreResponseType, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, AuthorizationRequest, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardErrorResponse, TokenResponse,
};
use serde_json::{Value, json};
use url::Url;

use crate::helpers::TestApp;
pub use user_agent::{Landing, Page, UserAgent, param};

pub const REDIRECT_URI: &str = "https://rp.example.com/callback";
pub const OTHER_REDIRECT_URI: &str = "https://rp.example.com/other-callback";
pub const POST_LOGOUT_URI: &str = "https://rp.example.com/signed-out";
pub const PASSWORD: &str = "correct horse battery staple";
/// A PKCE pair for requests made by hand (RFC 7636 Appendix B).
pub const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;
pub type TokenError =
    RequestTokenError<HttpClientError<reqwest::Error>, StandardErrorResponse<CoreErrorResponseType>>;
type AuthRequest<'a> = AuthorizationRequest<'a, CoreAuthDisplay, CoreAuthPrompt, CoreResponseType>;

/// A relying party registered at the test server.
pub struct Rp {
    pub id: String,
    pub secret: Option<String>,
    pub oidc: OidcClient,
}

/// An authorization request as the relying party sent it, and what it must remember.
pub struct Authorization {
    pub url: Url,
    pub state: String,
    pub nonce: Nonce,
    pub verifier: String,
}

/// What a completed authorization gives the relying party, all verified.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: String,
    pub claims: CoreIdTokenClaims,
    /// The ID token's payload as JSON.
    pub id_claims: Value,
}

impl Authorization {
    /// The redirect URI the request names.
    pub fn redirect_uri(&self) -> String {
        param(&self.url, "redirect_uri").expect("the request names its redirect URI")
    }
}

impl Rp {
    /// Registers a client with `metadata` over these defaults: redirect URIs
    /// [`REDIRECT_URI`], [`OTHER_REDIRECT_URI`], the code and refresh grants,
    /// and [`POST_LOGOUT_URI`]. Its first redirect URI is the one it uses.
    pub async fn register(app: &TestApp, metadata: Value) -> Self {
        let mut body = json!({
            "client_name": "Test RP",
            "redirect_uris": [REDIRECT_URI, OTHER_REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
        });
        for (key, value) in metadata.as_object().expect("metadata is an object") {
            body[key] = value.clone();
        }
        let (status, registered) = app.register_client(body).await;
        assert_eq!(status, 201, "{registered}");
        let id = registered["client_id"].as_str().unwrap().to_owned();
        let secret = registered["client_secret"].as_str().map(str::to_owned);
        let redirect_uri = registered["redirect_uris"][0].as_str().unwrap().to_owned();
        let issuer = IssuerUrl::new(app.address.clone()).unwrap();
        let provider =
            CoreProviderMetadata::discover_async(issuer, &app.http).await.expect("OpenID discovery works");
        let oidc = CoreClient::from_provider_metadata(
            provider,
            ClientId::new(id.clone()),
            secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(redirect_uri).unwrap());
        Self { id, secret, oidc }
    }

    /// A public client (`token_endpoint_auth_method: none`).
    pub async fn public(app: &TestApp) -> Self {
        Self::register(app, json!({"token_endpoint_auth_method": "none"})).await
    }

    /// A confidential client (`client_secret_basic`).
    pub async fn confidential(app: &TestApp) -> Self {
        Self::register(app, json!({})).await
    }

    /// The client's id and secret; panics for a public client.
    pub fn credentials(&self) -> (&str, &str) {
        (&self.id, self.secret.as_deref().expect("a confidential client"))
    }

    /// An authorization request for `openid` plus `scopes`, with state, nonce and S256 PKCE.
    pub fn authorize(&self, scopes: &[&str]) -> Authorization {
        self.authorize_with(scopes, |request| request)
    }

    /// As [`Rp::authorize`], with `customize` adding to the request (prompt, max_age, …).
    pub fn authorize_with(
        &self,
        scopes: &[&str],
        customize: impl FnOnce(AuthRequest) -> AuthRequest,
    ) -> Authorization {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .oidc
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in scopes {
            request = request.add_scope(Scope::new((*scope).to_owned()));
        }
        let (url, state, nonce) = customize(request).url();
        Authorization { url, state: state.secret().clone(), nonce, verifier: verifier.secret().clone() }
    }

    /// Exchanges `code` with `verifier` at the token endpoint.
    pub async fn exchange(
        &self,
        app: &TestApp,
        code: &str,
        verifier: &str,
    ) -> Result<CoreTokenResponse, TokenError> {
        self.oidc
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .unwrap()
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&app.http)
            .await
    }

    /// Checks the authorization response (RFC 6749 §4.1.2, RFC 9207 `iss`),
    /// redeems its code and verifies the tokens.
    pub async fn redeem(&self, app: &TestApp, callback: &Url, auth: &Authorization) -> Tokens {
        let code = code_of(app, callback, auth);
        let response = self.exchange(app, &code, &auth.verifier).await.expect("the code is redeemed");
        self.verify(&response, &auth.nonce)
    }

    /// Verifies the ID token of `response` (signature, iss, aud, exp, nonce,
    /// at_hash) as the `openidconnect` crate does.
    pub fn verify(&self, response: &CoreTokenResponse, nonce: &Nonce) -> Tokens {
        let id_token = response.id_token().expect("an ID token");
        let verifier = self.oidc.id_token_verifier();
        let claims = id_token.claims(&verifier, nonce).expect("the ID token verifies").clone();
        let expected = claims.access_token_hash().expect("the ID token has at_hash");
        let actual = AccessTokenHash::from_token(
            response.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(&actual, expected, "at_hash matches the access token");
        let raw = id_token.to_string();
        Tokens {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            id_claims: jwt_payload(&raw),
            id_token: raw,
            claims,
        }
    }

    /// The `refresh_token` grant, optionally with a narrower `scope`.
    pub async fn refresh(
        &self,
        app: &TestApp,
        refresh_token: &str,
        scopes: Option<&[&str]>,
    ) -> Result<CoreTokenResponse, TokenError> {
        let token = RefreshToken::new(refresh_token.to_owned());
        let mut request = self.oidc.exchange_refresh_token(&token).unwrap();
        for scope in scopes.unwrap_or_default() {
            request = request.add_scope(Scope::new((*scope).to_owned()));
        }
        request.request_async(&app.http).await
    }
}

/// The code of a successful authorization response, after checking that it
/// carries the request's `state` and the issuer as `iss` (RFC 9207 §2).
pub fn code_of(app: &TestApp, callback: &Url, auth: &Authorization) -> String {
    assert!(callback.as_str().starts_with(&auth.redirect_uri()), "{callback}");
    assert_eq!(param(callback, "error"), None, "{callback}");
    assert_eq!(param(callback, "state").as_deref(), Some(auth.state.as_str()), "{callback}");
    assert_eq!(param(callback, "iss").as_deref(), Some(app.address.as_str()), "{callback}");
    param(callback, "code").unwrap_or_else(|| panic!("no code in {callback}"))
}

/// Asserts an authorization error response (RFC 6749 §4.1.2.1): a redirect
/// to the client with `error` = `code`, the request's `state` and `iss`.
pub fn assert_redirected_error(app: &TestApp, landing: Landing, auth: &Authorization, code: &str) {
    let callback = landing.callback();
    assert!(callback.as_str().starts_with(&auth.redirect_uri()), "{callback}");
    assert_eq!(param(&callback, "error").as_deref(), Some(code), "{callback}");
    assert_eq!(param(&callback, "code"), None, "{callback}");
    assert_eq!(param(&callback, "state").as_deref(), Some(auth.state.as_str()), "{callback}");
    assert_eq!(param(&callback, "iss").as_deref(), Some(app.address.as_str()), "{callback}");
}

/// The `error` code of a refused token request.
pub fn error_code<T: std::fmt::Debug>(result: Result<T, TokenError>) -> String {
    match result {
        Err(RequestTokenError::ServerResponse(error)) => error.error().as_ref().to_owned(),
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// Drives the browser from `landing` through the login page (as
/// `username`) and the consent page (allowing) to the client's redirect URI.
pub async fn complete(ua: &mut UserAgent, mut landing: Landing, username: &str) -> Url {
    for _ in 0..3 {
        let page = match landing {
            Landing::Callback(url) => return url,
            Landing::Page(page) => page,
        };
        landing = if page.login_form().is_some() {
            ua.sign_in(username, PASSWORD).await
        } else if page.consent_form().is_some() {
            ua.consent("Allow").await
        } else {
            panic!("neither login nor consent: {} {}\n{}", page.status, page.url, page.body);
        };
    }
    landing.callback()
}

/// A whole sign-in: authorize for `scopes`, sign in as `username` if asked,
/// allow if asked, redeem the code and verify the tokens.
pub async fn sign_in(app: &TestApp, rp: &Rp, ua: &mut UserAgent, username: &str, scopes: &[&str]) -> Tokens {
    let auth = rp.authorize(scopes);
    let landing = ua.follow(auth.url.as_str()).await;
    let callback = complete(ua, landing, username).await;
    rp.redeem(app, &callback, &auth).await
}

/// Creates a user `username` with [`PASSWORD`] and the extra `fields`; returns the id.
pub async fn create_user(app: &TestApp, username: &str, fields: Value) -> String {
    let mut body = json!({"username": username, "password": PASSWORD});
    for (key, value) in fields.as_object().expect("fields are an object") {
        body[key] = value.clone();
    }
    let (status, created) = app.create_user_with(body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("the user's id").to_owned()
}

/// The endpoint named `field` in the OpenID Provider metadata (`/.well-known/openid-configuration`).
pub async fn oidc_endpoint(app: &TestApp, field: &str) -> String {
    let response = app.http.get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let metadata: Value = response.json().await.unwrap();
    metadata[field].as_str().unwrap_or_else(|| panic!("discovery lists {field}: {metadata}")).to_owned()
}

/// `url` with the query parameters in `changes` set (`Some`) or removed (`None`).
pub fn with_query(url: &Url, changes: &[(&str, Option<&str>)]) -> Url {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !changes.iter().any(|(n, _)| n == name))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    for (name, value) in changes {
        if let Some(value) = value {
            pairs.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let mut changed = url.clone();
    changed.query_pairs_mut().clear().extend_pairs(pairs);
    changed
}

/// The (unverified) payload of a compact JWT.
pub fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a compact JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("a JSON payload")
}

/// The authorization code grant by hand, for requests `openidconnect` would not make.
pub async fn raw_exchange(
    app: &TestApp,
    params: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut request = app.http.post(app.url("/oauth2/token")).form(params);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}
