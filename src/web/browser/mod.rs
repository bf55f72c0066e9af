//! What people see in a browser: the authorization endpoint, the login,
//! consent and sign-out pages, their sessions, and HTML error pages.

pub mod authorize;
pub mod consent;
pub mod cookies;
pub mod device;
pub mod login;
pub mod login_request;
pub mod logout;
pub mod page_error;
pub mod page_form;
pub mod pages;
pub mod session;
