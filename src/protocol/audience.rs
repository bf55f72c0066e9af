//! Which resources a token is for (RFC 8707), beside `scope_policy`'s
//! rule of which scopes: the one owner of "may this client have a token for
//! these resources, and which scopes belong to them", used at every issue
//! (authorize, client_credentials, code, refresh) and every validation.
//!
//! - A new grant (authorize, client_credentials) is for the resources the
//!   request names, else the client's `default_resource`, else the issuer
//!   alone (today's audience, so clients without resources keep working).
//! - Each named resource must be a valid indicator, one the client may
//!   request (`resources`, `default_resource`) and registered; otherwise
//!   `invalid_target` (§2), never silently dropped.
//! - A code exchange and a refresh may narrow the resources granted, never
//!   widen them (§2.2).
//! - With resources, the scopes must belong to them, or be the OpenID or
//!   Castellan scopes, which every audience understands.
//! - A client that speaks for itself (registered itself, RFC 7591, or known
//!   by its metadata document) and names no resources in its metadata may
//!   ask for any resource an admin opened to such clients
//!   (`dynamic_registration`), as MCP clients do: they learn the resource
//!   from the resource server (RFC 9728), not at registration. Its tokens
//!   for the issuer carry the OpenID scopes only: a resource's scope goes
//!   only into a token for that resource.

use std::sync::Arc;

use crate::domain::resource::invalid_target;
use crate::domain::scope::OIDC_SCOPES;
use crate::domain::{AudienceClaim, Client, ProtocolError, Resource, ResourceIndicator, ResourceSet};
use crate::protocol::{Context, Settings};

/// The resources a token is for; none means the issuer's own audience.
#[derive(Debug, Default)]
pub struct Audience {
    resources: Vec<Arc<Resource>>,
    /// For the issuer's audience, the resources the client may ask for by
    /// name: their scopes are theirs, and a token any server trusting the
    /// issuer accepts must not carry them.
    withheld: Vec<Arc<Resource>>,
    /// For the issuer's audience of a self-registered client: no scope but
    /// the OpenID ones.
    oidc_only: bool,
}

impl Audience {
    /// The audience of a new grant: the resources `requested`, else the
    /// client's default resource, else the issuer.
    pub async fn for_new_grant(
        ctx: &Context,
        client: &Client,
        requested: &ResourceSet,
    ) -> Result<Self, ProtocolError> {
        if requested.is_empty() {
            return match &client.metadata.default_resource {
                Some(default) => Self::resolve(ctx, client, std::iter::once(default)).await,
                None => Self::issuer_for(ctx, client).await,
            };
        }
        Self::resolve(ctx, client, requested.iter()).await
    }

    /// The audience of a token issued from an earlier grant (a code, a
    /// refresh token): `requested` if it is within `granted` (RFC 8707
    /// §2.2), all of `granted` if none is named.
    pub async fn within_grant(
        ctx: &Context,
        client: &Client,
        granted: &ResourceSet,
        requested: &ResourceSet,
    ) -> Result<Self, ProtocolError> {
        if requested.is_empty() {
            return Self::resolve(ctx, client, granted.iter()).await;
        }
        if !requested.is_subset_of(granted) {
            return Err(invalid_target("a resource was not part of the grant"));
        }
        Self::resolve(ctx, client, requested.iter()).await
    }

    /// The issuer's audience for `client`, withholding the scopes of the
    /// resources it may name (read from the cache; none for most clients).
    async fn issuer_for(ctx: &Context, client: &Client) -> Result<Self, ProtocolError> {
        if client.is_self_registered() {
            return Ok(Self { oidc_only: true, ..Self::default() });
        }
        let mut withheld = Vec::new();
        for identifier in client.metadata.allowed_resources() {
            withheld.extend(ctx.resources.get(identifier).await?);
        }
        Ok(Self { resources: Vec::new(), withheld, oidc_only: false })
    }

    /// Each of `identifiers`, if the client may ask for it and it is registered.
    async fn resolve(
        ctx: &Context,
        client: &Client,
        identifiers: impl Iterator<Item = &ResourceIndicator>,
    ) -> Result<Self, ProtocolError> {
        let mut resources = Vec::new();
        let any_open = client.is_self_registered() && client.metadata.allowed_resources().next().is_none();
        for identifier in identifiers {
            if !any_open && !client.metadata.allows_resource(identifier) {
                return Err(invalid_target("this client may not request one of the resources"));
            }
            let resource = ctx.resources.get(identifier).await?;
            let resource = resource.ok_or_else(|| invalid_target("a resource is not registered"))?;
            // A self-registered client keeps a resource only while the admin
            // keeps it open to dynamic clients (`protocol::registration`).
            if client.is_self_registered() && !resource.dynamic_registration {
                return Err(invalid_target(
                    "this resource is no longer open to dynamically registered clients",
                ));
            }
            resources.push(resource);
        }
        Ok(Self { resources, withheld: Vec::new(), oidc_only: false })
    }

    /// Whether this is the issuer's own audience (no resource).
    pub fn is_issuer(&self) -> bool {
        self.resources.is_empty()
    }

    /// Whether a token for this audience may carry `scope`: for the issuer,
    /// any scope no withheld resource defines; for resources, one they
    /// define, or an OpenID scope. Castellan's own `admin` is for the issuer
    /// only: a resource never defined it, and the admin API refuses a token
    /// without the issuer.
    pub fn covers(&self, scope: &str) -> bool {
        if self.is_issuer() && self.oidc_only {
            return OIDC_SCOPES.contains(&scope);
        }
        if self.is_issuer() {
            return !self.withheld.iter().any(|r| r.scopes.contains(scope));
        }
        OIDC_SCOPES.contains(&scope) || self.resources.iter().any(|r| r.scopes.contains(scope))
    }

    /// Whether this is the issuer's audience with nothing withheld: today's
    /// rules, untouched.
    pub fn is_plain_issuer(&self) -> bool {
        self.is_issuer() && self.withheld.is_empty() && !self.oidc_only
    }

    /// The resource indicators, as a grant records them.
    pub fn indicators(&self) -> ResourceSet {
        self.resources.iter().map(|r| r.identifier.clone()).collect()
    }

    pub fn resources(&self) -> &[Arc<Resource>] {
        &self.resources
    }
}

/// Whether the client, as registered now, may still have a token for each
/// resource the token names: an admin who takes a resource from a client
/// cuts the tokens it holds for it.
///
/// A self-registered client that names no resources was allowed whichever
/// were open when the token was issued; closing one refuses new tokens.
pub fn resources_still_allowed(aud: &AudienceClaim, client: &Client, settings: &Settings) -> bool {
    if client.is_self_registered() && client.metadata.allowed_resources().next().is_none() {
        return true;
    }
    aud.iter()
        .filter(|aud| !is_own_audience(settings, aud))
        .all(|aud| client.metadata.allowed_resources().any(|r| r.as_str() == aud))
}

/// Whether `aud` is one of Castellan's own: the issuer, or userinfo.
pub fn is_own_audience(settings: &Settings, aud: &str) -> bool {
    aud == settings.issuer.as_str() || aud == settings.userinfo_audience
}
