//! The admins' domain policy for clients known by a Client ID Metadata
//! Document (draft-ietf-oauth-client-id-metadata-document-02 §8.9): which
//! domains may name clients by URL. Stored, so every instance follows it
//! (within `CASTELLAN_CLIENT_CACHE_TTL`; this one at once). It may be set
//! while such clients are off, and applies once they are on.

use serde::Deserialize;

use super::Actor;
use crate::domain::client_metadata_document::DomainPolicy;
use crate::domain::{ErrorCode, ProtocolError};
use crate::protocol::Context;

/// The policy as an admin sends it; a list left out is empty.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainPolicyRequest {
    #[serde(default)]
    pub allow_domains: Vec<String>,
    #[serde(default)]
    pub deny_domains: Vec<String>,
}

pub async fn domain_policy(ctx: &Context) -> Result<DomainPolicy, ProtocolError> {
    Ok(ctx.storage.client_metadata_documents.domain_policy().await?)
}

/// Replaces the policy.
pub async fn set_domain_policy(
    ctx: &Context,
    actor: &Actor,
    request: DomainPolicyRequest,
) -> Result<DomainPolicy, ProtocolError> {
    let policy = DomainPolicy::parse(&request.allow_domains, &request.deny_domains)
        .map_err(|problem| ProtocolError::new(ErrorCode::InvalidRequest, problem))?;
    match ctx.clients.metadata_documents() {
        Some(documents) => documents.set_domain_policy(policy.clone()).await?,
        None => ctx.storage.client_metadata_documents.set_domain_policy(&policy, ctx.clock.now()).await?,
    }
    actor.changed(
        &format!(
            "set the client metadata document domains: allow {:?}, deny {:?}",
            policy.allow_domains, policy.deny_domains
        ),
        None,
    );
    Ok(policy)
}
