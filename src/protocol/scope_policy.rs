//! Which scopes a token may carry (RFC 6749 §3.3): what the client may have
//! *now*, intersected with what was granted. The one owner of that rule, used
//! at every issue (authorize, client_credentials, code, refresh) and every
//! validation (introspection, userinfo, admin), so an admin who narrows a
//! client's `scope` narrows every token and refresh token it holds.

use crate::domain::scope::OIDC_SCOPES;
use crate::domain::{Client, GrantType, ScopeSet, Subject};
use crate::protocol::audience::Audience;

/// The scopes a client may hold for one kind of subject.
pub struct ScopePolicy<'a> {
    client: &'a Client,
    for_user: bool,
}

impl<'a> ScopePolicy<'a> {
    /// Tokens the client gets for itself (`client_credentials`): its
    /// registered scope. `None` if it may no longer use that grant.
    pub fn for_client(client: &'a Client) -> Option<Self> {
        client.metadata.allows_grant(GrantType::ClientCredentials).then_some(Self { client, for_user: false })
    }

    /// Tokens the client gets for a user (the code grant and its refresh
    /// tokens): its registered scope and the OpenID Connect scopes. `None`
    /// if it may no longer use the code grant.
    pub fn for_user(client: &'a Client) -> Option<Self> {
        client.metadata.allows_grant(GrantType::AuthorizationCode).then_some(Self { client, for_user: true })
    }

    /// The policy for tokens about `subject`.
    pub fn for_subject(client: &'a Client, subject: &Subject) -> Option<Self> {
        match subject {
            Subject::Client(_) => Self::for_client(client),
            Subject::User(_) => Self::for_user(client),
        }
    }

    pub fn allows(&self, scope: &str) -> bool {
        self.client.metadata.scope.contains(scope) || (self.for_user && OIDC_SCOPES.contains(&scope))
    }

    /// OpenID Connect Core §11: `offline_access` asks for a refresh token,
    /// which only a client registered with the `refresh_token` grant gets
    /// (RFC 7591 §2). Any other client may ask; the scope is left out of
    /// what it is given (RFC 6749 §3.3 lets the server narrow it).
    fn left_out(&self, scope: &str) -> bool {
        scope == "offline_access" && !self.client.metadata.allows_grant(GrantType::RefreshToken)
    }

    /// The scope of a new grant: `requested`, or the registered scope when
    /// omitted (§3.3); every scope must be allowed.
    pub fn grant(&self, requested: Option<ScopeSet>) -> Result<ScopeSet, &'static str> {
        let scope = requested.unwrap_or_else(|| self.client.metadata.scope.clone());
        if !scope.iter().all(|s| self.allows(s)) {
            return Err("the requested scope exceeds what this client may ask for");
        }
        Ok(scope.filter(|s| !self.left_out(s)))
    }

    /// What is left of an earlier grant now: its scopes still allowed.
    pub fn narrow(&self, granted: &ScopeSet) -> ScopeSet {
        granted.filter(|s| self.allows(s) && !self.left_out(s))
    }

    /// [`Self::grant`] for a token for `audience` (RFC 8707): the scopes
    /// asked for must also belong to its resources; omitted, the
    /// registered scope is narrowed to those that do.
    pub fn grant_for(
        &self,
        requested: Option<ScopeSet>,
        audience: &Audience,
    ) -> Result<ScopeSet, &'static str> {
        if audience.is_plain_issuer() {
            return self.grant(requested);
        }
        match requested {
            None => Ok(self.narrow(&self.client.metadata.scope).filter(|s| audience.covers(s))),
            Some(requested) if !requested.iter().all(|s| audience.covers(s)) => {
                Err(match audience.is_issuer() {
                    true => "a requested scope belongs to a resource: name it with the resource parameter",
                    false => "a requested scope does not belong to the requested resources",
                })
            }
            Some(requested) => self.grant(Some(requested)),
        }
    }

    /// [`Self::narrow`] for a token for `audience`: of an earlier grant,
    /// what is still allowed and belongs to the (possibly narrowed) resources.
    pub fn narrow_for(&self, granted: &ScopeSet, audience: &Audience) -> ScopeSet {
        granted.filter(|s| self.allows(s) && !self.left_out(s) && audience.covers(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::ClientMetadataRequest;
    use crate::domain::{Client, ClientId};

    fn client(json: serde_json::Value) -> Client {
        let metadata = serde_json::from_value::<ClientMetadataRequest>(json).unwrap().validate().unwrap();
        Client {
            id: ClientId::parse("c").unwrap(),
            origin: Default::default(),
            secret_hash: None,
            previous_secret: None,
            metadata,
            issued_at: 0,
            metadata_document_fetched_at: None,
        }
    }

    fn scopes(value: &str) -> ScopeSet {
        ScopeSet::parse(value).unwrap()
    }

    #[test]
    fn a_users_token_may_carry_the_openid_scopes_and_a_clients_own_may_not() {
        let both = client(serde_json::json!({
            "grant_types": ["authorization_code", "client_credentials"],
            "redirect_uris": ["https://a.example/cb"], "scope": "orders:read",
        }));
        let user = ScopePolicy::for_user(&both).unwrap();
        assert!(user.allows("openid") && user.allows("orders:read") && !user.allows("orders:write"));
        let own = ScopePolicy::for_client(&both).unwrap();
        assert!(!own.allows("openid") && own.allows("orders:read"));
    }

    #[test]
    fn a_grant_without_a_scope_gets_the_registered_one_and_no_more() {
        let service = client(serde_json::json!({
            "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
            "scope": "a b",
        }));
        let policy = ScopePolicy::for_client(&service).unwrap();
        assert_eq!(policy.grant(None).unwrap(), scopes("a b"));
        assert_eq!(policy.grant(Some(scopes("b"))).unwrap(), scopes("b"));
        assert!(policy.grant(Some(scopes("a c"))).is_err());
        assert!(ScopePolicy::for_user(&service).is_none(), "no code grant, no user tokens");
    }

    #[test]
    fn narrowing_keeps_only_what_is_still_allowed_in_the_granted_order() {
        let app = client(serde_json::json!({
            "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": ["https://a.example/cb"], "scope": "b",
        }));
        let policy = ScopePolicy::for_user(&app).unwrap();
        assert_eq!(policy.narrow(&scopes("a openid b offline_access")), scopes("openid b offline_access"));
    }

    #[test]
    fn offline_access_is_left_out_for_a_client_without_the_refresh_token_grant() {
        let app = client(serde_json::json!({"redirect_uris": ["https://a.example/cb"], "scope": "b"}));
        let policy = ScopePolicy::for_user(&app).unwrap();
        assert_eq!(policy.grant(Some(scopes("openid offline_access b"))).unwrap(), scopes("openid b"));
        assert_eq!(policy.narrow(&scopes("openid offline_access")), scopes("openid"));
    }
}
