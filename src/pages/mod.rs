//! The HTML pages people see (login, consent, logout, errors), rendered with
//! askama from `templates/`. STUB: being written.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::config::Config;

/// One scope on the consent page, in plain words.
pub struct ScopeLine {
    pub scope: String,
    pub description: String,
}

/// The login form: posts `csrf_token`, `rid`, `username`, `password` to `routes::LOGIN`.
pub struct LoginForm {
    pub request_id: String,
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
}

/// The sign-out confirmation: posts `csrf_token` and the non-empty optional fields to `routes::END_SESSION`.
pub struct LogoutForm {
    pub csrf_token: String,
    pub client_name: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

pub fn login_page(_config: &Config, _form: &LoginForm, status: StatusCode) -> Response {
    (status, Html("<form method=post><input name=username><input name=password type=password><button>Sign in</button></form>")).into_response()
}

pub fn consent_page(_config: &Config, _form: &ConsentForm) -> Response {
    Html("consent").into_response()
}

pub fn error_page(_config: &Config, status: StatusCode, _title: &str, message: &str) -> Response {
    (status, Html(message.to_owned())).into_response()
}

pub fn logout_confirm_page(_config: &Config, _form: &LogoutForm) -> Response {
    Html("logout?").into_response()
}

pub fn logged_out_page(_config: &Config) -> Response {
    Html("signed out").into_response()
}

pub async fn stylesheet() -> Response {
    ([("content-type", "text/css")], "").into_response()
}
