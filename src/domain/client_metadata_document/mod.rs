//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-02,
//! "the draft" below): a client names itself by the `https` URL of a JSON
//! document holding its RFC 7591 metadata, which the authorization server
//! fetches. This module decides what a fetched document means, with no I/O:
//! the URL form (`url`), the document's validation (here) and the admins'
//! domain policy (`policy`).

mod policy;
mod url;

use serde_json::{Map, Value};

pub use policy::{DomainPolicy, MAX_DOMAINS};
pub use url::ClientIdUrl;

use super::client::ClientMetadataRequest;
use super::scope::ADMIN_SCOPE;
use super::{ClientMetadata, GrantType, TokenEndpointAuthMethod};

/// §8.7: the authorization server SHOULD stop reading at a bound; the draft
/// recommends 5 kilobytes, far above what a client's metadata needs.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;

/// The methods a metadata-document client may use at the token endpoint, in
/// Castellan's order of preference. §4.1: no method based on a shared secret
/// (there is no way to establish one); §8.2: key-based methods are how such a
/// client becomes confidential.
const ACCEPTED_METHODS: [TokenEndpointAuthMethod; 2] =
    [TokenEndpointAuthMethod::PrivateKeyJwt, TokenEndpointAuthMethod::None];

/// The members that register a `private_key_jwt` client's keys.
const KEY_FIELDS: [&str; 3] = ["jwks", "jwks_uri", "token_endpoint_auth_signing_alg"];

/// §4.1: methods based on a shared symmetric secret.
const SHARED_SECRET_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];

/// Castellan's own metadata extensions, which only an admin may set: a
/// document may not make its client first-party (no consent), exempt from
/// PKCE or lenient about refresh token reuse.
const ADMIN_ONLY_FIELDS: [&str; 3] = ["first_party", "require_pkce", "refresh_token_reuse_grace"];

/// The client metadata that the document `body`, fetched from `url`, gives,
/// or why it gives none (a sentence safe to show the client's developer).
pub fn validate(url: &ClientIdUrl, body: &[u8]) -> Result<ClientMetadata, String> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"));
    }
    let document: Value = serde_json::from_slice(body).map_err(|_| "the document is not JSON".to_owned())?;
    let Value::Object(mut document) = document else {
        return Err("the document is not a JSON object".into());
    };
    // §4: `client_id` MUST equal the URL it was fetched from, compared as
    // simple strings (RFC 3986 §6.2.1).
    match document.get("client_id") {
        Some(Value::String(id)) if id == url.as_str() => {}
        Some(Value::String(_)) => {
            return Err("the document's client_id is not the URL it was fetched from".into());
        }
        _ => return Err("the document has no client_id".into()),
    }
    // §4.1: no shared secrets.
    for field in ["client_secret", "client_secret_expires_at"] {
        if document.contains_key(field) {
            return Err(format!("the document must not contain {field} (section 4.1)"));
        }
    }
    let method = auth_method(&document)?;
    for field in ADMIN_ONLY_FIELDS {
        document.remove(field);
    }
    if method != TokenEndpointAuthMethod::PrivateKeyJwt {
        // Keys a public client does not use are not kept.
        for field in KEY_FIELDS {
            document.remove(field);
        }
    }
    document.insert("token_endpoint_auth_method".into(), Value::String(method.as_str().into()));
    let request: ClientMetadataRequest = serde_json::from_value(Value::Object(document))
        .map_err(|error| format!("the document's metadata is not valid: {error}"))?;
    let metadata = request.validate().map_err(|error| error.description.into_owned())?;
    if metadata.scope.contains(ADMIN_SCOPE) {
        return Err("the document's scope must not include admin".into());
    }
    // Anyone with a web server can publish a document: it may send users to
    // sign in and consent, never get tokens of its own with no one asked.
    if metadata.allows_grant(GrantType::ClientCredentials) {
        return Err("client_credentials is not available to clients known by a metadata document".into());
    }
    Ok(metadata)
}

/// The client's method: the first of [`ACCEPTED_METHODS`] that
/// `token_endpoint_auth_methods_supported` lists, when the document has that
/// list (it names every method the client can use, and so says more than
/// the single `token_endpoint_auth_method`); else the single method, which
/// must be accepted; else `none` (a public client: §4.1 leaves a document no
/// secret, so RFC 7591's default `client_secret_basic` cannot apply).
fn auth_method(document: &Map<String, Value>) -> Result<TokenEndpointAuthMethod, String> {
    if let Some(list) = document.get("token_endpoint_auth_methods_supported") {
        let names = list
            .as_array()
            .filter(|names| names.len() <= 32)
            .and_then(|names| names.iter().map(Value::as_str).collect::<Option<Vec<&str>>>())
            .ok_or("token_endpoint_auth_methods_supported must be a short array of strings")?;
        // private_key_jwt only with keys to check assertions against.
        let has_keys = document.contains_key("jwks") || document.contains_key("jwks_uri");
        let usable = |method: &TokenEndpointAuthMethod| {
            names.contains(&method.as_str())
                && (has_keys || *method != TokenEndpointAuthMethod::PrivateKeyJwt)
        };
        return ACCEPTED_METHODS.into_iter().find(usable).ok_or_else(|| {
            format!(
                "token_endpoint_auth_methods_supported names none of the methods accepted here ({})",
                accepted_names()
            )
        });
    }
    match document.get("token_endpoint_auth_method") {
        None => Ok(TokenEndpointAuthMethod::None),
        Some(Value::String(name)) if SHARED_SECRET_METHODS.contains(&name.as_str()) => Err(format!(
            "token_endpoint_auth_method {name:?} needs a shared secret, which a metadata document cannot have (section 4.1)"
        )),
        Some(Value::String(name)) => {
            ACCEPTED_METHODS.into_iter().find(|method| method.as_str() == name).ok_or_else(|| {
                format!("token_endpoint_auth_method {name:?} is not accepted here ({})", accepted_names())
            })
        }
        Some(_) => Err("token_endpoint_auth_method must be a string".into()),
    }
}

fn accepted_names() -> String {
    ACCEPTED_METHODS.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
