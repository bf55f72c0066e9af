//! Castellan: an OAuth 2.0 / OpenID Connect authorization server.
//!
//! The library holds everything; `main.rs` only calls [`cli::main`], so tests
//! and benchmarks drive the same code the binary runs.

pub mod access_token;
pub mod admin;
pub mod authorize;
pub mod bearer;
pub mod bootstrap;
pub mod cli;
pub mod client_auth;
pub mod client_registry;
pub mod clock;
pub mod config;
pub mod consent;
pub mod discovery;
pub mod domain;
pub mod error;
pub mod form;
pub mod health;
pub mod id_token;
pub mod introspect;
pub mod json_body;
pub mod jwks;
pub mod keys;
pub mod login;
pub mod logout;
pub mod page_error;
pub mod page_form;
pub mod pages;
pub mod password;
pub mod revocation;
pub mod revoke;
pub mod routes;
pub mod secret;
pub mod server;
pub mod session;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod throttle;
pub mod token;
pub mod userinfo;
pub mod verified_tokens;
