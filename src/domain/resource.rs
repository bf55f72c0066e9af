//! Resources (APIs) and resource indicators (RFC 8707): a resource is named
//! by an absolute URI without a fragment (§2), which becomes the `aud` of
//! the access tokens issued for it. A request may name several (`resource`
//! is the one parameter that may be repeated), within bounds.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::client_id::ClientId;
use super::{ErrorCode, ProtocolError, ScopeSet};

/// RFC 8707 §2: at most this many `resource` parameters in one request.
pub const MAX_RESOURCES_PER_REQUEST: usize = 10;
/// The longest resource indicator accepted.
pub const MAX_INDICATOR_LEN: usize = 2048;

/// RFC 8707 §2 `invalid_target`.
pub fn invalid_target(description: impl Into<std::borrow::Cow<'static, str>>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidTarget, description)
}

/// A resource indicator: an absolute URI (RFC 3986 §4.3) without a
/// fragment, compared as the exact string given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceIndicator(String);

impl ResourceIndicator {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.is_empty() || value.len() > MAX_INDICATOR_LEN {
            return Err("a resource indicator is 1 to 2048 bytes");
        }
        // Only the printable ASCII that a URI is made of: no spaces, no controls.
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("a resource indicator must be a URI (printable ASCII without spaces)");
        }
        if value.contains('#') {
            return Err("a resource indicator must not contain a fragment (RFC 8707 section 2)");
        }
        match url::Url::parse(value) {
            Ok(_) => Ok(Self(value.to_owned())),
            Err(_) => Err("a resource indicator must be an absolute URI (RFC 8707 section 2)"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceIndicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ResourceIndicator {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ResourceIndicator> for String {
    fn from(value: ResourceIndicator) -> Self {
        value.0
    }
}

/// The resources of one request or grant, in the order first given,
/// without repeats; empty when none was named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSet(Vec<ResourceIndicator>);

impl ResourceSet {
    /// No resource: the token's audience is the issuer.
    pub const NONE: ResourceSet = ResourceSet(Vec::new());

    /// The `resource` parameters of a request (RFC 8707 §2): at most
    /// [`MAX_RESOURCES_PER_REQUEST`], each a valid indicator, or `invalid_target`.
    pub fn from_request<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, ProtocolError> {
        let mut set = Vec::new();
        for (sent, value) in values.into_iter().enumerate() {
            // Every parameter counts, repeats too: the bound is on the request.
            if sent == MAX_RESOURCES_PER_REQUEST {
                return Err(invalid_target("at most 10 resource parameters may be sent"));
            }
            let indicator = ResourceIndicator::parse(value).map_err(invalid_target)?;
            if !set.contains(&indicator) {
                set.push(indicator);
            }
        }
        Ok(Self(set))
    }

    /// A stored set: indicators separated by spaces (they contain none).
    pub fn from_stored(value: &str) -> Result<Self, &'static str> {
        let mut set = Vec::new();
        for indicator in value.split(' ').filter(|v| !v.is_empty()) {
            set.push(ResourceIndicator::parse(indicator)?);
        }
        Ok(Self(set))
    }

    /// The stored form read by [`Self::from_stored`].
    pub fn to_stored(&self) -> String {
        self.iter().map(ResourceIndicator::as_str).collect::<Vec<_>>().join(" ")
    }

    pub fn single(indicator: ResourceIndicator) -> Self {
        Self(vec![indicator])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, indicator: &ResourceIndicator) -> bool {
        self.0.contains(indicator)
    }

    pub fn is_subset_of(&self, other: &ResourceSet) -> bool {
        self.0.iter().all(|r| other.contains(r))
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ResourceIndicator> {
        self.0.iter()
    }
}

impl FromIterator<ResourceIndicator> for ResourceSet {
    fn from_iter<I: IntoIterator<Item = ResourceIndicator>>(iter: I) -> Self {
        let mut set = Vec::new();
        for indicator in iter {
            if !set.contains(&indicator) {
                set.push(indicator);
            }
        }
        Self(set)
    }
}

/// The `aud` claim (RFC 7519 §4.1.3): one audience as a string, several as
/// an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AudienceClaim {
    One(String),
    Many(Vec<String>),
}

impl AudienceClaim {
    /// `audiences` as the claim: a string for one, an array for several.
    pub fn of(mut audiences: Vec<String>) -> Self {
        if audiences.len() == 1 { Self::One(audiences.remove(0)) } else { Self::Many(audiences) }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Self::One(audience) => (Some(audience.as_str()), &[][..]),
            Self::Many(audiences) => (None, audiences.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|a| a == audience)
    }

    /// Whether the token is bound to resources: it names an audience other
    /// than `issuer`.
    pub fn names_other_than(&self, issuer: &str) -> bool {
        self.iter().any(|a| a != issuer)
    }
}

/// More is a misconfiguration: a client acts with a handful of APIs.
const MAX_CLIENT_RESOURCES: usize = 100;

/// RFC 8707 `resources` and `default_resource`: valid indicators; the
/// default one of `resources` when both are given.
pub(super) fn parse_client_resources(
    resources: Option<Vec<String>>,
    default: Option<String>,
) -> Result<(Vec<ResourceIndicator>, Option<ResourceIndicator>), ProtocolError> {
    let invalid = |d: String| ProtocolError::new(ErrorCode::InvalidClientMetadata, d);
    let given = resources.unwrap_or_default();
    if given.len() > MAX_CLIENT_RESOURCES {
        return Err(invalid(format!("at most {MAX_CLIENT_RESOURCES} resources")));
    }
    let parse = |field: &str, value: &str| {
        ResourceIndicator::parse(value).map_err(|e| invalid(format!("{field}: {e}")))
    };
    let mut parsed: Vec<ResourceIndicator> = Vec::with_capacity(given.len());
    for value in &given {
        let indicator = parse("resources", value)?;
        if !parsed.contains(&indicator) {
            parsed.push(indicator);
        }
    }
    let default = default.map(|value| parse("default_resource", &value)).transpose()?;
    if let Some(default) = &default
        && !parsed.is_empty()
        && !parsed.contains(default)
    {
        return Err(invalid("default_resource must be one of resources".to_owned()));
    }
    Ok((parsed, default))
}

/// A resource's id in the admin API: 1 to 64 characters of A-Z, a-z, 0-9, '-', '_'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(String);

impl ResourceId {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let visible = value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if value.is_empty() || value.len() > 64 || !visible {
            return Err("a resource id is 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn generate() -> Self {
        Self(super::secret::random_token(16))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ResourceId {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ResourceId> for String {
    fn from(value: ResourceId) -> Self {
        value.0
    }
}

/// A registered resource (an API that accepts Castellan's access tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub id: ResourceId,
    /// The RFC 8707 `resource` value and the `aud` of its tokens; never changes.
    pub identifier: ResourceIndicator,
    pub name: Option<String>,
    /// The scopes this resource defines: a token for it carries only these
    /// (and the OpenID and Castellan scopes).
    pub scopes: ScopeSet,
    /// The clients that act for the resource: they may introspect its tokens.
    pub client_ids: Vec<ClientId>,
    /// Whether dynamically registered clients may request it.
    pub dynamic_registration: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Resource {
    /// How the consent page names it.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.identifier.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indicator_is_an_absolute_uri_without_a_fragment() {
        assert!(ResourceIndicator::parse("https://api.example.com/orders").is_ok());
        assert!(ResourceIndicator::parse("urn:example:orders").is_ok());
        for bad in ["", "/orders", "api.example.com", "https://a.example/#x", "https://a.example/ x"] {
            assert!(ResourceIndicator::parse(bad).is_err(), "{bad}");
        }
        assert!(ResourceIndicator::parse(&format!("https://a.example/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn a_request_names_at_most_ten_resources_and_repeats_fold() {
        let many: Vec<String> = (0..11).map(|n| format!("https://a.example/{n}")).collect();
        let error = ResourceSet::from_request(many.iter().map(String::as_str)).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidTarget);
        let set = ResourceSet::from_request(["https://a.example/", "https://a.example/"]).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(ResourceSet::from_stored(&set.to_stored()).unwrap(), set);
    }

    #[test]
    fn one_audience_is_a_string_and_several_an_array() {
        let one = AudienceClaim::of(vec!["https://a".into()]);
        assert_eq!(serde_json::to_value(&one).unwrap(), serde_json::json!("https://a"));
        let two = AudienceClaim::of(vec!["https://a".into(), "https://b".into()]);
        assert_eq!(serde_json::to_value(&two).unwrap(), serde_json::json!(["https://a", "https://b"]));
        assert!(two.contains("https://b") && two.names_other_than("https://a"));
        assert!(!one.names_other_than("https://a"));
    }
}
