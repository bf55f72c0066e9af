//! Key material: generating signing keys, signing JWTs with a parsed key,
//! publishing the public half as a JWK (RFC 7517), and sealing private keys
//! at rest with AES-256-GCM under `CASTELLAN_KEY_ENCRYPTION_KEY`.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Value, json};

use crate::domain::sealing::SealingKey;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generation,
    #[error("stored key {0} cannot be read")]
    Unreadable(String),
    #[error("stored key {0} is encrypted but CASTELLAN_KEY_ENCRYPTION_KEY is not set")]
    EncryptionKeyMissing(String),
    #[error("stored key {0} cannot be decrypted: wrong CASTELLAN_KEY_ENCRYPTION_KEY?")]
    Decryption(String),
    #[error("unsupported key algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("signing failed")]
    Signing,
}

/// The JWS algorithms Castellan signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    Es256,
    Rs256,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 2] = [KeyAlgorithm::Es256, KeyAlgorithm::Rs256];
    /// Access tokens are always ES256: small and fast to sign and check.
    pub const ACCESS_TOKEN: KeyAlgorithm = KeyAlgorithm::Es256;

    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    pub fn parse(name: &str) -> Result<Self, KeyError> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| KeyError::UnsupportedAlgorithm(name.to_owned()))
    }

    pub fn jwt_algorithm(self) -> Algorithm {
        match self {
            Self::Es256 => Algorithm::ES256,
            Self::Rs256 => Algorithm::RS256,
        }
    }

    /// A new private key as PKCS#8 DER.
    pub fn generate(self) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| KeyError::Generation),
            Self::Rs256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
                let der = pair.as_der().map_err(|_| KeyError::Generation)?;
                Ok(der.as_ref().to_vec())
            }
        }
    }
}

enum Signer {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A parsed key pair: signs without re-parsing, verifies, and publishes its JWK.
pub struct KeyMaterial {
    pub kid: String,
    pub algorithm: KeyAlgorithm,
    signer: Signer,
    pub decoding_key: DecodingKey,
    /// The public JWK, with `kid`, `alg` and `use`.
    pub jwk: Value,
}

impl KeyMaterial {
    /// Parses a PKCS#8 private key. The `kid` is the RFC 7638 thumbprint of
    /// the public key, so every instance names the same key the same way.
    pub fn from_pkcs8(algorithm: KeyAlgorithm, der: &[u8]) -> Result<Self, KeyError> {
        let unreadable = || KeyError::Unreadable(algorithm.name().to_owned());
        let (signer, decoding_key, mut jwk) = match algorithm {
            KeyAlgorithm::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| unreadable())?;
                let point = pair.public_key().as_ref();
                // An uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
                if point.len() != 65 || point[0] != 4 {
                    return Err(unreadable());
                }
                let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..]));
                let decoding = DecodingKey::from_ec_components(&x, &y).map_err(|_| unreadable())?;
                (Signer::Ec(pair), decoding, json!({"crv": "P-256", "kty": "EC", "x": x, "y": y}))
            }
            KeyAlgorithm::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| unreadable())?;
                let public = pair.public_key();
                let n = public.modulus().big_endian_without_leading_zero().to_vec();
                let e = public.exponent().big_endian_without_leading_zero().to_vec();
                let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
                let jwk =
                    json!({"e": URL_SAFE_NO_PAD.encode(&e), "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n)});
                (Signer::Rsa(pair), decoding, jwk)
            }
        };
        // RFC 7638 §3: the thumbprint hashes the required members in
        // lexicographic order, which is how serde_json orders a json! map.
        let thumbprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jwk.to_string().as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(thumbprint.as_ref());
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(algorithm.name());
        jwk["use"] = json!("sig");
        Ok(Self { kid, algorithm, signer, decoding_key, jwk })
    }

    /// Signs a JWS signing input (`base64url(header).base64url(payload)`).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Ec(pair) => {
                pair.sign(&rng, message).map(|s| s.as_ref().to_vec()).map_err(|_| KeyError::Signing)
            }
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature).map_err(|_| KeyError::Signing)?;
                Ok(signature)
            }
        }
    }
}

/// The key that seals private signing keys at rest: 32 bytes, given in base64.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(***)")
    }
}

impl KeyEncryptionKey {
    pub fn parse(value: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(value.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(value.trim()))
            .map_err(|_| "must be base64 (e.g. the output of `openssl rand -base64 32`)".to_string())?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| format!("must decode to 32 bytes, not {}", bytes.len()))
    }

    fn sealing_key(&self) -> SealingKey {
        SealingKey::from_bytes(self.0)
    }

    /// The kid is bound in as associated data, so a sealed key cannot be
    /// swapped onto another row.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.sealing_key().seal(kid.as_bytes(), plaintext).map_err(|_| KeyError::Generation)
    }

    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.sealing_key().open(kid.as_bytes(), sealed).ok_or_else(|| KeyError::Decryption(kid.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_sign_and_publish_only_public_parts() {
        for algorithm in KeyAlgorithm::ALL {
            let der = algorithm.generate().unwrap();
            let key = KeyMaterial::from_pkcs8(algorithm, &der).unwrap();
            assert!(!key.sign(b"message").unwrap().is_empty());
            assert_eq!(key.jwk["alg"], algorithm.name());
            assert!(key.jwk.get("d").is_none() && key.jwk.get("p").is_none());
        }
    }

    #[test]
    fn sealed_keys_open_only_with_the_same_key_and_kid() {
        let kek = KeyEncryptionKey::parse(&STANDARD.encode([7u8; 32])).unwrap();
        let sealed = kek.seal("kid-1", b"private").unwrap();
        assert_eq!(kek.open("kid-1", &sealed).unwrap(), b"private");
        assert!(kek.open("kid-2", &sealed).is_err());
        let other = KeyEncryptionKey::parse(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.open("kid-1", &sealed).is_err());
    }

    #[test]
    fn encryption_keys_must_be_32_bytes_of_base64() {
        assert!(KeyEncryptionKey::parse("short").is_err());
        assert!(KeyEncryptionKey::parse(&STANDARD.encode([1u8; 16])).is_err());
    }
}
