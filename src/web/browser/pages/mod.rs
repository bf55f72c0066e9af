//! The HTML pages people see (login, consent, sign-out, errors), rendered with
//! askama from `templates/`, and the one stylesheet they share.
//!
//! Every value that reaches a page (client names, usernames, error messages)
//! is escaped by askama; the pages carry no script, and every response gets the
//! same security headers from [`with_page_headers`].

use askama::Template;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::domain::Issuer;
use crate::web::routes;

#[cfg(test)]
mod tests;

/// The stylesheet, compiled into the binary so the server needs no files at run time.
pub const STYLESHEET_CSS: &str = include_str!("../../../../static/castellan.css");

/// The policy for every page: no script at all, styles only from this server,
/// and never framed (against clickjacking of the consent buttons). There is no
/// `form-action`, because Chromium applies it to the redirect that follows a
/// form post, and that redirect goes to the client's redirect URI.
pub const CONTENT_SECURITY_POLICY_VALUE: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// One scope on the consent page, in plain words.
pub struct ScopeLine {
    pub scope: String,
    pub description: String,
}

/// The login form: posts `csrf_token`, `request`, `username`, `password` to `routes::LOGIN`.
pub struct LoginForm {
    /// The pending authorization request, sealed (see `login_request`).
    pub sealed_request: String,
    pub csrf_token: String,
    pub client_name: String,
    pub username: String,
    pub error: Option<String>,
}

/// The consent form: posts `csrf_token`, `rid` and `decision` (`Allow` or `Deny`) to `routes::CONSENT`.
pub struct ConsentForm {
    pub request_id: String,
    pub csrf_token: String,
    pub client_name: String,
    pub username: String,
    pub scopes: Vec<ScopeLine>,
    /// The names (else identifiers) of the resources (RFC 8707) asked for.
    pub resources: Vec<String>,
    /// For a client known by its metadata document: where it comes from.
    pub metadata_document: Option<MetadataDocumentNotice>,
}

/// The consent page's facts about a metadata-document client.
pub struct MetadataDocumentNotice {
    /// The host of its `client_id` URL.
    /// The host of a metadata document's URL; `None` for a client that
    /// registered itself (RFC 7591), which has no address to show.
    pub client_host: Option<String>,
    /// Where the browser will be sent with the code.
    pub redirect_host: String,
    /// Whether that is this device (loopback): any document may name it.
    pub loopback_redirect: bool,
}

/// The sign-out confirmation: posts `csrf_token` and the non-empty optional fields to `routes::END_SESSION`.
pub struct LogoutForm {
    pub csrf_token: String,
    pub client_name: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate<'a> {
    stylesheet: String,
    action: String,
    form: &'a LoginForm,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentTemplate<'a> {
    stylesheet: String,
    action: String,
    form: &'a ConsentForm,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    stylesheet: String,
    status_code: u16,
    reason: Option<&'static str>,
    title: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate<'a> {
    stylesheet: String,
    issuer: &'a str,
    discovery: String,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct LogoutConfirmTemplate<'a> {
    stylesheet: String,
    action: String,
    form: &'a LogoutForm,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutTemplate {
    stylesheet: String,
}

/// The login page, with `status` (200 at first, 401 after a failed attempt, say).
pub fn login_page(issuer: &Issuer, form: &LoginForm, status: StatusCode) -> Response {
    let page =
        LoginTemplate { stylesheet: stylesheet_url(issuer), action: issuer.endpoint(routes::LOGIN), form };
    render(&page, status)
}

/// The consent page: names the client, the signed-in user and each scope asked for.
pub fn consent_page(issuer: &Issuer, form: &ConsentForm) -> Response {
    let page = ConsentTemplate {
        stylesheet: stylesheet_url(issuer),
        action: issuer.endpoint(routes::CONSENT),
        form,
    };
    render(&page, StatusCode::OK)
}

/// An error page that links nowhere: used where redirecting to the client
/// would be unsafe (unknown client, unregistered redirect URI).
pub fn error_page(issuer: &Issuer, status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorTemplate {
        stylesheet: stylesheet_url(issuer),
        status_code: status.as_u16(),
        reason: status.canonical_reason(),
        title,
        message,
    };
    render(&page, status)
}

/// What a person who opens the issuer URL in a browser sees: what this is,
/// and the discovery document for developers.
pub fn home_page(issuer: &Issuer) -> Response {
    let page = HomeTemplate {
        stylesheet: stylesheet_url(issuer),
        issuer: issuer.as_str(),
        discovery: issuer.endpoint(routes::OPENID_CONFIGURATION),
    };
    render(&page, StatusCode::OK)
}

/// "Sign out of Castellan?", posted back to the end-session endpoint.
pub fn logout_confirm_page(issuer: &Issuer, form: &LogoutForm) -> Response {
    let page = LogoutConfirmTemplate {
        stylesheet: stylesheet_url(issuer),
        action: issuer.endpoint(routes::END_SESSION),
        form,
    };
    render(&page, StatusCode::OK)
}

/// Shown after signing out when there is no (valid) place to send the browser back to.
pub fn logged_out_page(issuer: &Issuer) -> Response {
    render(&LoggedOutTemplate { stylesheet: stylesheet_url(issuer) }, StatusCode::OK)
}

/// `GET routes::STYLESHEET`.
pub async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        STYLESHEET_CSS,
    )
        .into_response()
}

/// Sets the headers every HTML page carries: the content type, the content
/// security policy, no framing, no referrer, no caching (pages hold CSRF
/// tokens and names), no sniffing. Replaces any earlier value of these headers.
pub fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn stylesheet_url(issuer: &Issuer) -> String {
    issuer.endpoint(routes::STYLESHEET)
}

fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => with_page_headers((status, html).into_response()),
        Err(err) => {
            tracing::error!(error = %err, "rendering a page failed");
            let mut response = with_page_headers(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            *response.body_mut() = "Internal Server Error".into();
            response
        }
    }
}
