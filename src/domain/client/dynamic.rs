//! What a client registering itself may ask for (RFC 7591 §3.1): the same
//! metadata an admin sends, within tighter bounds, without Castellan's
//! admin-only extensions, and with an `application_type` always (given,
//! or inferred from the redirect URIs). Which
//! scopes and resources it may name depends on the registered resources,
//! and is `protocol::registration`'s to check.

use super::request::invalid;
use super::{ClientMetadata, ClientMetadataRequest};
use crate::domain::scope::ADMIN_SCOPE;
use crate::domain::{ApplicationType, ProtocolError};

/// The most entries a self-registered client may send in one list
/// (`redirect_uris`, `post_logout_redirect_uris`, `grant_types`,
/// `response_types`): far above what an app needs, and a bound on what
/// anyone on the internet may make every instance store and match.
pub const MAX_DYNAMIC_LIST_LEN: usize = 20;

impl ClientMetadataRequest {
    /// Validates a self-registration. Admin-only values are replaced, as
    /// RFC 7591 §3.2.1 lets a server replace requested values (the answer
    /// shows what was registered): `first_party` is false (consent is
    /// always asked), no `refresh_token_reuse_grace`, and `require_pkce:
    /// false` does not lift the PKCE requirement. The `admin` scope is
    /// refused outright: it is no value to replace, but an attempt.
    pub fn validate_dynamic(mut self) -> Result<ClientMetadata, ProtocolError> {
        let lists = [
            ("redirect_uris", self.redirect_uris.as_ref()),
            ("post_logout_redirect_uris", self.post_logout_redirect_uris.as_ref()),
            ("grant_types", self.grant_types.as_ref()),
            ("response_types", self.response_types.as_ref()),
        ];
        for (name, list) in lists {
            if list.is_some_and(|list| list.len() > MAX_DYNAMIC_LIST_LEN) {
                return Err(invalid(format!("{name} may have at most {MAX_DYNAMIC_LIST_LEN} entries")));
            }
        }
        self.first_party = None;
        self.refresh_token_reuse_grace = None;
        if self.require_pkce == Some(false) {
            self.require_pkce = None;
        }
        if self.application_type.is_none() {
            let inferred = ApplicationType::inferred(self.redirect_uris.as_deref().unwrap_or_default());
            self.application_type = Some(inferred.as_str().to_owned());
        }
        let metadata = self.validate()?;
        if metadata.scope.contains(ADMIN_SCOPE) {
            return Err(invalid("the admin scope cannot be registered here; ask an administrator"));
        }
        Ok(metadata)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::ErrorCode;

    fn dynamic(value: serde_json::Value) -> Result<ClientMetadata, ProtocolError> {
        serde_json::from_value::<ClientMetadataRequest>(value).unwrap().validate_dynamic()
    }

    #[test]
    fn admin_only_values_are_replaced_and_the_admin_scope_refused() {
        let metadata = dynamic(json!({
            "redirect_uris": ["https://app.example/cb"], "first_party": true,
            "refresh_token_reuse_grace": 30, "require_pkce": false, "logo_uri": "https://x.example/l.png",
        }))
        .unwrap();
        assert!(!metadata.first_party);
        assert!(metadata.refresh_token_reuse_grace.is_none());
        assert_eq!(metadata.require_pkce, None);
        assert_eq!(metadata.application_type, Some(ApplicationType::Web));
        let error = dynamic(json!({"redirect_uris": ["https://app.example/cb"], "scope": "openid admin"}));
        assert_eq!(error.unwrap_err().code, ErrorCode::InvalidClientMetadata);
    }

    #[test]
    fn a_dynamic_client_is_a_web_client_unless_it_says_native_or_only_a_native_app_could_be() {
        let loopback =
            json!({"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"});
        assert_eq!(dynamic(loopback.clone()).unwrap().application_type, Some(ApplicationType::Native));
        let mut web = loopback.clone();
        web["application_type"] = json!("web");
        assert_eq!(dynamic(web).unwrap_err().code, ErrorCode::InvalidRedirectUri);
        let https = json!({"redirect_uris": ["https://a.example/cb"]});
        assert_eq!(dynamic(https).unwrap().application_type, Some(ApplicationType::Web));
        let mut native = loopback;
        native["application_type"] = json!("native");
        assert_eq!(dynamic(native).unwrap().application_type, Some(ApplicationType::Native));
        let unknown = json!({"redirect_uris": ["https://a.example/cb"], "application_type": "tv"});
        assert_eq!(dynamic(unknown).unwrap_err().code, ErrorCode::InvalidClientMetadata);
    }

    #[test]
    fn long_lists_are_refused() {
        let uris: Vec<String> = (0..21).map(|n| format!("https://app.example/cb{n}")).collect();
        let error = dynamic(json!({"redirect_uris": uris})).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidClientMetadata);
    }
}
