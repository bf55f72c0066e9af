//! A client assertion (RFC 7523 §2.2) split and decoded, before anything
//! about it is trusted: its header names the algorithm and key, its claims
//! name the client (RFC 7521 §4.2: `client_id` is optional, the assertion
//! says who it is), and nothing is believed until the signature verifies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::domain::client::AssertionAlgorithm;

/// Far above any assertion a client needs (a few hundred bytes with an
/// ES256 signature, about 1 KiB with RSA-4096).
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// RFC 7515 §4.1 members this server reads.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// §4.1.11: extensions the recipient must understand; none is.
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// `aud` is one string or an array of them (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// RFC 7523 §3 claims. NumericDates may carry fractions (RFC 7519 §2).
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: Option<String>,
    sub: String,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    iat: Option<f64>,
    #[serde(default)]
    jti: Option<String>,
}

/// A decoded, unverified client assertion.
pub struct ClientAssertion {
    pub alg: AssertionAlgorithm,
    pub kid: Option<String>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    signing_input: String,
    signature: Vec<u8>,
    claims: Claims,
}

/// The members are claims the caller made up: only their presence is shown.
impl std::fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAssertion").field("alg", &self.alg).finish_non_exhaustive()
    }
}

fn decode_part(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part).ok()
}

/// A NumericDate in whole seconds; `None` for one that is not a number of
/// seconds a clock could show.
fn seconds(value: f64) -> Option<i64> {
    (value.is_finite() && value.abs() < 1e15).then(|| value.floor() as i64)
}

impl ClientAssertion {
    /// Splits and decodes a compact JWS (RFC 7515 §7.1). The algorithm is
    /// checked here, before any key is looked up: `none`, HMAC and anything
    /// not in [`AssertionAlgorithm::ALL`] are refused.
    pub fn parse(assertion: &str) -> Result<Self, String> {
        if assertion.len() > MAX_ASSERTION_BYTES {
            return Err(format!("client_assertion is longer than {MAX_ASSERTION_BYTES} bytes"));
        }
        let malformed = || "client_assertion is not a signed JWT (RFC 7515 compact serialization)".to_owned();
        let mut parts = assertion.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let header: Header =
            decode_part(header).and_then(|json| serde_json::from_slice(&json).ok()).ok_or_else(malformed)?;
        let alg = AssertionAlgorithm::parse(&header.alg).ok_or_else(|| {
            format!(
                "client_assertion alg {:?} is not accepted; use one of {}",
                header.alg.chars().take(20).collect::<String>(),
                AssertionAlgorithm::names()
            )
        })?;
        if header.crit.is_some() {
            return Err(
                "client_assertion has critical header extensions (crit) this server does not know".into()
            );
        }
        let claims: Claims =
            decode_part(payload).and_then(|json| serde_json::from_slice(&json).ok()).ok_or_else(|| {
                "client_assertion claims are not valid JSON with a sub (RFC 7523 §3)".to_owned()
            })?;
        let signature = decode_part(signature).ok_or_else(malformed)?;
        let signing_input =
            assertion.rsplit_once('.').map(|(input, _)| input.to_owned()).ok_or_else(malformed)?;
        Ok(Self { alg, kid: header.kid, signing_input, signature, claims })
    }

    /// The client the assertion claims to be (`sub`, RFC 7523 §3 item B);
    /// unverified until [`Self::signing_input`] checks out.
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    pub fn issuer(&self) -> Option<&str> {
        self.claims.iss.as_deref()
    }

    /// Whether `aud` contains one of `accepted`.
    pub fn has_audience(&self, accepted: &[&str]) -> bool {
        match &self.claims.aud {
            None => false,
            Some(Audience::One(aud)) => accepted.contains(&aud.as_str()),
            Some(Audience::Many(auds)) => auds.iter().any(|aud| accepted.contains(&aud.as_str())),
        }
    }

    /// `exp` in whole seconds; `None` if absent or not a date.
    pub fn expires_at(&self) -> Option<i64> {
        self.claims.exp.and_then(seconds)
    }

    /// `nbf` and `iat`: `Some(None)` if absent, `None` if not a date.
    pub fn not_before(&self) -> Option<Option<i64>> {
        optional_seconds(self.claims.nbf)
    }

    pub fn issued_at(&self) -> Option<Option<i64>> {
        optional_seconds(self.claims.iat)
    }

    pub fn jti(&self) -> Option<&str> {
        self.claims.jti.as_deref()
    }
}

fn optional_seconds(value: Option<f64>) -> Option<Option<i64>> {
    match value {
        None => Some(None),
        Some(value) => seconds(value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jwt(header: serde_json::Value, claims: serde_json::Value) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(b"signature")
        )
    }

    #[test]
    fn the_parts_are_decoded_and_the_signing_input_is_header_dot_payload() {
        let token = jwt(
            json!({"alg": "ES256", "kid": "k1"}),
            json!({"iss": "c", "sub": "c", "aud": ["x", "y"], "exp": 1.5e9, "jti": "j"}),
        );
        let assertion = ClientAssertion::parse(&token).unwrap();
        assert_eq!((assertion.alg, assertion.kid.as_deref()), (AssertionAlgorithm::ES256, Some("k1")));
        assert_eq!(assertion.subject(), "c");
        assert!(assertion.has_audience(&["y"]) && !assertion.has_audience(&["z"]));
        assert_eq!(assertion.expires_at(), Some(1_500_000_000));
        assert_eq!(assertion.not_before(), Some(None));
        assert_eq!(assertion.signature(), b"signature");
        assert_eq!(assertion.signing_input(), token.rsplit_once('.').unwrap().0.as_bytes());
    }

    #[test]
    fn none_hmac_and_unlisted_algorithms_are_refused_before_anything_else() {
        for alg in ["none", "HS256", "HS512", "RS512", "es256", ""] {
            let token = jwt(json!({"alg": alg}), json!({"sub": "c"}));
            let error = ClientAssertion::parse(&token).unwrap_err();
            assert!(error.contains("is not accepted"), "{alg}: {error}");
        }
    }

    #[test]
    fn malformed_assertions_are_refused() {
        let good_header = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256"}).to_string());
        let claims = URL_SAFE_NO_PAD.encode(json!({"sub": "c"}).to_string());
        for bad in [
            String::new(),
            "a.b".to_owned(),
            format!("{good_header}.{claims}"),
            format!("{good_header}.{claims}.sig.extra.part"),
            format!("{good_header}.{claims}.not*base64"),
            format!("{good_header}.{}.", URL_SAFE_NO_PAD.encode(json!({"iss": "c"}).to_string())),
            jwt(json!({"alg": "ES256", "crit": ["b64"], "b64": false}), json!({"sub": "c"})),
            "x".repeat(MAX_ASSERTION_BYTES + 1),
        ] {
            assert!(ClientAssertion::parse(&bad).is_err(), "{bad}");
        }
    }
}
