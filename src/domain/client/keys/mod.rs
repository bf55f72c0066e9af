//! The public keys of a `private_key_jwt` client (RFC 7523 §2.2, OpenID
//! Connect Core §9): a JWK Set (RFC 7517 §5) registered as `jwks`, or
//! fetched from `jwks_uri`, parsed once into verifying keys, and the JWS
//! algorithms (RFC 7518 §3.1) its assertions may be signed with.
//!
//! Only public asymmetric keys: a symmetric (`oct`) key would be a shared
//! secret stored in the clear, and a key with private members is a key the
//! client has given away.

use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// At most this many keys in a registered set (a new and an old key during
/// a rollover, with room to spare), which also bounds the keys an assertion
/// without `kid` is tried against.
pub const MAX_KEYS: usize = 10;
/// At most this many bytes of registered JWK Set, serialized.
pub const MAX_JWKS_BYTES: usize = 8 * 1024;
const MAX_KID_CHARS: usize = 128;
const MIN_RSA_BITS: usize = 2048;
/// aws-lc verifies RSA signatures of keys up to 8192 bits.
const MAX_RSA_BITS: usize = 8192;
/// Members only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) a client assertion may
/// be signed with: the asymmetric ones aws-lc verifies. `none` and the HMAC
/// algorithms are not among them. Discovery lists exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssertionAlgorithm {
    RS256,
    PS256,
    ES256,
    ES384,
    EdDSA,
}

impl AssertionAlgorithm {
    pub const ALL: [Self; 5] = [Self::RS256, Self::PS256, Self::ES256, Self::ES384, Self::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm named `name`, exactly (RFC 7515 §4.1.1: case-sensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    fn key_type(self) -> KeyType {
        match self {
            Self::RS256 | Self::PS256 => KeyType::Rsa,
            Self::ES256 => KeyType::P256,
            Self::ES384 => KeyType::P384,
            Self::EdDSA => KeyType::Ed25519,
        }
    }

    /// The names of every algorithm, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// One verifying key, parsed once for each algorithm it may be used with.
struct ClientKey {
    kid: Option<String>,
    verifiers: Vec<(AssertionAlgorithm, ParsedPublicKey)>,
}

impl ClientKey {
    fn verifier(&self, alg: AssertionAlgorithm) -> Option<&ParsedPublicKey> {
        self.verifiers.iter().find(|(a, _)| *a == alg).map(|(_, key)| key)
    }
}

/// What checking a signature against a key set found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Verified,
    /// A key for the `kid` and algorithm was found, and the signature is not its.
    Invalid,
    /// No key of the set has the `kid` (or, without one, can use the algorithm).
    NoSuchKey,
}

/// A validated JWK Set of public signing keys: the document as given (what
/// is stored and shown) and its keys, parsed (what verifies).
#[derive(Clone)]
pub struct ClientJwks {
    document: Value,
    keys: Arc<[ClientKey]>,
}

/// How strictly a set is read. A registered set is the client's statement
/// of its keys, so anything unusable in it is refused; a fetched one may
/// carry other keys (encryption keys, other algorithms), which are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Registered,
    Fetched,
}

impl ClientJwks {
    /// Validates `document` as a registered set (`jwks`): at most
    /// [`MAX_KEYS`] keys and [`MAX_JWKS_BYTES`] bytes, every key public,
    /// asymmetric and usable with an [`AssertionAlgorithm`].
    pub fn parse(document: Value) -> Result<Self, String> {
        Self::parse_from(document, Source::Registered)
    }

    /// Reads a set of keys; see [`Source`] for what is refused.
    pub fn parse_from(document: Value, source: Source) -> Result<Self, String> {
        let registered = source == Source::Registered;
        let size = serde_json::to_vec(&document).map(|bytes| bytes.len()).unwrap_or(usize::MAX);
        if registered && size > MAX_JWKS_BYTES {
            return Err(format!("is larger than {MAX_JWKS_BYTES} bytes"));
        }
        let Some(members) = document.get("keys").and_then(Value::as_array) else {
            return Err("must be a JWK Set: an object with a \"keys\" array (RFC 7517 §5)".into());
        };
        if members.is_empty() {
            return Err("has no keys".into());
        }
        if registered && members.len() > MAX_KEYS {
            return Err(format!("has more than {MAX_KEYS} keys"));
        }
        let mut keys: Vec<ClientKey> = Vec::new();
        for (index, member) in members.iter().enumerate() {
            let parsed = parse_key(member).and_then(|key| {
                // Which key a `kid` names must be certain.
                let taken = key.kid.is_some() && keys.iter().any(|k| k.kid == key.kid);
                if taken { Err("another key has the same kid".to_owned()) } else { Ok(key) }
            });
            match parsed {
                Ok(key) => keys.push(key),
                Err(why) if registered => return Err(format!("key {index}: {why}")),
                Err(_) => {}
            }
            if keys.len() == MAX_KEYS {
                break;
            }
        }
        if keys.is_empty() {
            return Err(format!("has no public signing key usable with {}", AssertionAlgorithm::names()));
        }
        Ok(Self { document, keys: keys.into() })
    }

    /// The set as registered.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Whether some key may be used with `alg`.
    pub fn supports(&self, alg: AssertionAlgorithm) -> bool {
        self.keys.iter().any(|key| key.verifier(alg).is_some())
    }

    /// Checks `signature` over `message` with `alg`, by the key named `kid`.
    /// Keys without a `kid` are tried too when none has it (a `kid` is a
    /// hint, RFC 7515 §4.1.4), as is every key for an assertion without one:
    /// at most [`MAX_KEYS`] verifications.
    pub fn verify(
        &self,
        alg: AssertionAlgorithm,
        kid: Option<&str>,
        message: &[u8],
        signature: &[u8],
    ) -> SignatureCheck {
        let named = kid.and_then(|kid| self.keys.iter().find(|key| key.kid.as_deref() == Some(kid)));
        let candidates: Vec<&ParsedPublicKey> = match named {
            Some(key) => key.verifier(alg).into_iter().collect(),
            None => self
                .keys
                .iter()
                .filter(|key| kid.is_none() || key.kid.is_none())
                .filter_map(|key| key.verifier(alg))
                .collect(),
        };
        if candidates.is_empty() {
            return SignatureCheck::NoSuchKey;
        }
        if candidates.iter().any(|key| key.verify_sig(message, signature).is_ok()) {
            SignatureCheck::Verified
        } else {
            SignatureCheck::Invalid
        }
    }
}

fn string<'a>(key: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match key.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(format!("\"{name}\" must be a string")),
    }
}

fn bytes(key: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let value = string(key, name)?.ok_or_else(|| format!("\"{name}\" is missing"))?;
    URL_SAFE_NO_PAD.decode(value).map_err(|_| format!("\"{name}\" is not base64url without padding"))
}

/// One JWK (RFC 7517 §4) of a signing key, public and asymmetric.
fn parse_key(member: &Value) -> Result<ClientKey, String> {
    let Value::Object(key) = member else { return Err("is not a JSON object".into()) };
    if let Some(private) = PRIVATE_MEMBERS.iter().find(|name| key.contains_key(**name)) {
        return Err(format!("has the private member \"{private}\": register only public keys"));
    }
    let key_type = match (string(key, "kty")?, string(key, "crv")?) {
        (Some("RSA"), _) => KeyType::Rsa,
        (Some("EC"), Some("P-256")) => KeyType::P256,
        (Some("EC"), Some("P-384")) => KeyType::P384,
        (Some("OKP"), Some("Ed25519")) => KeyType::Ed25519,
        (Some("oct"), _) => {
            return Err("is a symmetric key (kty \"oct\"); only public keys are accepted".into());
        }
        (Some("EC" | "OKP"), crv) => return Err(format!("curve {crv:?} is not supported")),
        (kty, _) => return Err(format!("key type {kty:?} is not supported (RSA, EC or OKP)")),
    };
    if string(key, "use")?.is_some_and(|value| value != "sig") {
        return Err("is not a signing key (\"use\" is not \"sig\")".into());
    }
    if let Some(ops) = key.get("key_ops") {
        let verifies = ops.as_array().is_some_and(|ops| ops.iter().any(|op| op == "verify"));
        if !verifies {
            return Err("\"key_ops\" does not include \"verify\"".into());
        }
    }
    let kid = string(key, "kid")?.map(str::to_owned);
    if kid.as_ref().is_some_and(|kid| kid.is_empty() || kid.chars().count() > MAX_KID_CHARS) {
        return Err(format!("\"kid\" must have 1 to {MAX_KID_CHARS} characters"));
    }
    let algorithms: Vec<AssertionAlgorithm> = match string(key, "alg")? {
        Some(name) => {
            let alg = AssertionAlgorithm::parse(name).ok_or_else(|| {
                format!(
                    "\"alg\" {name:?} is not accepted for client assertions ({})",
                    AssertionAlgorithm::names()
                )
            })?;
            if alg.key_type() != key_type {
                return Err(format!("\"alg\" {name} does not fit the key type"));
            }
            vec![alg]
        }
        None => AssertionAlgorithm::ALL.into_iter().filter(|alg| alg.key_type() == key_type).collect(),
    };
    let verifiers = match key_type {
        KeyType::Rsa => rsa_verifiers(key, &algorithms)?,
        KeyType::P256 | KeyType::P384 => {
            let size = if key_type == KeyType::P256 { 32 } else { 48 };
            let (x, y) = (bytes(key, "x")?, bytes(key, "y")?);
            if x.len() != size || y.len() != size {
                return Err(format!("\"x\" and \"y\" must be {size} bytes each"));
            }
            // SEC 1 §2.3.3 uncompressed point: 0x04 || x || y.
            let point = [&[4u8][..], &x, &y].concat();
            let verification =
                if key_type == KeyType::P256 { &ECDSA_P256_SHA256_FIXED } else { &ECDSA_P384_SHA384_FIXED };
            let parsed = ParsedPublicKey::new(verification, point)
                .map_err(|_| "is not a point on its curve".to_owned())?;
            vec![(algorithms[0], parsed)]
        }
        KeyType::Ed25519 => {
            let x = bytes(key, "x")?;
            let parsed =
                ParsedPublicKey::new(&ED25519, x).map_err(|_| "is not an Ed25519 public key".to_owned())?;
            vec![(AssertionAlgorithm::EdDSA, parsed)]
        }
    };
    Ok(ClientKey { kid, verifiers })
}

/// An RSA public key (RFC 7518 §6.3.1) of 2048 to 8192 bits, parsed for
/// each of `algorithms`.
fn rsa_verifiers(
    key: &Map<String, Value>,
    algorithms: &[AssertionAlgorithm],
) -> Result<Vec<(AssertionAlgorithm, ParsedPublicKey)>, String> {
    let (n, e) = (bytes(key, "n")?, bytes(key, "e")?);
    // Some encoders keep a leading zero octet; aws-lc wants none.
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let bits = n.first().map_or(0, |first| n.len() * 8 - first.leading_zeros() as usize);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!("an RSA modulus must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits"));
    }
    let components = RsaPublicKeyComponents { n, e };
    algorithms
        .iter()
        .map(|&alg| {
            let parameters = if alg == AssertionAlgorithm::PS256 {
                &RSA_PSS_2048_8192_SHA256
            } else {
                &RSA_PKCS1_2048_8192_SHA256
            };
            let parsed = components
                .to_parsed_public_key(parameters)
                .map_err(|_| "is not a valid RSA public key".to_owned())?;
            Ok((alg, parsed))
        })
        .collect()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

impl PartialEq for ClientJwks {
    fn eq(&self, other: &Self) -> bool {
        self.document == other.document
    }
}

impl Eq for ClientJwks {}

/// The key ids only: the document is long, and says nothing a log needs.
impl std::fmt::Debug for ClientJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<Option<&str>> = self.keys.iter().map(|key| key.kid.as_deref()).collect();
        f.debug_struct("ClientJwks").field("kids", &kids).finish()
    }
}

impl Serialize for ClientJwks {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.document.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClientJwks {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let document = Value::deserialize(deserializer)?;
        Self::parse(document).map_err(|why| serde::de::Error::custom(format!("jwks {why}")))
    }
}

#[cfg(test)]
mod tests;
