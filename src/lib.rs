//! Castellan: an OAuth 2.0 / OpenID Connect authorization server.
//!
//! The library holds everything; `main.rs` only calls [`app::cli::main`], so
//! tests and benchmarks drive the same code the binary runs. Five layers, each
//! a folder, with imports pointing one way (checked in `.ci/run`):
//!
//! ```text
//! domain    what things are: parsed once, no I/O; no axum, no sqlx
//!   ^         (clients, users, scopes, redirect URIs, PKCE, secrets, errors, the clock)
//! storage   how they are kept: one trait per aggregate, one implementation per backend
//!   ^         (SQLite and Postgres, the same SQL; the only place sqlx is used)
//! protocol  what the RFCs say happens: plain async functions over storage traits
//!   ^         (one module per grant, endpoint and client authentication method)
//! web       how it is spoken over HTTP: routers, extractors, handlers, pages, sessions
//!   ^         (the only place axum, tower-sessions and askama are used)
//! app       wiring: config, cli, server start-up and upkeep, telemetry
//! ```
//!
//! Where a new piece goes: a grant is a variant of `protocol::token::TokenRequest`
//! and a module in `protocol/token/`; a client authentication method a module in
//! `protocol/client_auth/`; an endpoint a module in `protocol/` for its rules and
//! one in `web/endpoints/` for its handler, with its path in `web::routes`.

pub mod app;
pub mod domain;
pub mod protocol;
pub mod storage;
pub mod web;
