use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaKeyPair,
};
use serde_json::json;

use super::*;

/// A key pair made for the test, its public JWK, and a way to sign.
enum TestKey {
    Ec(EcdsaKeyPair, &'static str),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    fn ec(curve: &'static str) -> Self {
        let alg = if curve == "P-256" {
            &ECDSA_P256_SHA256_FIXED_SIGNING
        } else {
            &ECDSA_P384_SHA384_FIXED_SIGNING
        };
        Self::Ec(EcdsaKeyPair::generate(alg).unwrap(), curve)
    }

    fn rsa() -> Self {
        Self::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
    }

    fn ed() -> Self {
        Self::Ed(Ed25519KeyPair::generate().unwrap())
    }

    fn jwk(&self) -> Value {
        match self {
            Self::Ec(pair, curve) => {
                let point = pair.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                json!({"kty": "EC", "crv": curve, "x": b64(&point[1..=half]), "y": b64(&point[1 + half..])})
            }
            Self::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Self::Ed(pair) => json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())}),
        }
    }

    fn sign(&self, alg: AssertionAlgorithm, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Ec(pair, _) => pair.sign(&rng, message).unwrap().as_ref().to_vec(),
            Self::Rsa(pair) => {
                let padding =
                    if alg == AssertionAlgorithm::PS256 { &RSA_PSS_SHA256 } else { &RSA_PKCS1_SHA256 };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut signature).unwrap();
                signature
            }
            Self::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }
}

fn set(keys: Vec<Value>) -> Value {
    json!({ "keys": keys })
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk[member] = value;
    jwk
}

#[test]
fn every_accepted_algorithm_verifies_with_its_key_and_nothing_else() {
    let cases = [
        (TestKey::rsa(), AssertionAlgorithm::RS256),
        (TestKey::rsa(), AssertionAlgorithm::PS256),
        (TestKey::ec("P-256"), AssertionAlgorithm::ES256),
        (TestKey::ec("P-384"), AssertionAlgorithm::ES384),
        (TestKey::ed(), AssertionAlgorithm::EdDSA),
    ];
    for (key, alg) in &cases {
        let jwks = ClientJwks::parse(set(vec![key.jwk()])).unwrap();
        let signature = key.sign(*alg, b"header.payload");
        assert_eq!(
            jwks.verify(*alg, None, b"header.payload", &signature),
            SignatureCheck::Verified,
            "{alg:?}"
        );
        assert_eq!(
            jwks.verify(*alg, None, b"header.payloaD", &signature),
            SignatureCheck::Invalid,
            "{alg:?}"
        );
        let other = AssertionAlgorithm::ALL.into_iter().find(|a| a.key_type() != alg.key_type()).unwrap();
        assert_eq!(jwks.verify(other, None, b"header.payload", &signature), SignatureCheck::NoSuchKey);
    }
}

#[test]
fn a_key_registered_with_an_alg_verifies_only_that_alg() {
    let key = TestKey::rsa();
    let jwks = ClientJwks::parse(set(vec![with(key.jwk(), "alg", json!("PS256"))])).unwrap();
    let rs = key.sign(AssertionAlgorithm::RS256, b"m");
    assert_eq!(jwks.verify(AssertionAlgorithm::RS256, None, b"m", &rs), SignatureCheck::NoSuchKey);
    let ps = key.sign(AssertionAlgorithm::PS256, b"m");
    assert_eq!(jwks.verify(AssertionAlgorithm::PS256, None, b"m", &ps), SignatureCheck::Verified);
    assert!(jwks.supports(AssertionAlgorithm::PS256) && !jwks.supports(AssertionAlgorithm::RS256));
}

#[test]
fn the_kid_picks_the_key_and_an_unknown_kid_finds_none() {
    let (old, new) = (TestKey::ec("P-256"), TestKey::ec("P-256"));
    let jwks = ClientJwks::parse(set(vec![
        with(old.jwk(), "kid", json!("old")),
        with(new.jwk(), "kid", json!("new")),
    ]))
    .unwrap();
    let signature = new.sign(AssertionAlgorithm::ES256, b"m");
    let es256 = AssertionAlgorithm::ES256;
    assert_eq!(jwks.verify(es256, Some("new"), b"m", &signature), SignatureCheck::Verified);
    assert_eq!(jwks.verify(es256, Some("old"), b"m", &signature), SignatureCheck::Invalid);
    assert_eq!(jwks.verify(es256, Some("other"), b"m", &signature), SignatureCheck::NoSuchKey);
    assert_eq!(jwks.verify(es256, None, b"m", &signature), SignatureCheck::Verified, "every key is tried");
    let unnamed = ClientJwks::parse(set(vec![new.jwk()])).unwrap();
    assert_eq!(unnamed.verify(es256, Some("any"), b"m", &signature), SignatureCheck::Verified);
}

#[test]
fn private_symmetric_and_weak_keys_are_refused() {
    let rsa = TestKey::rsa().jwk();
    let ec = TestKey::ec("P-256").jwk();
    let small_rsa = json!({"kty": "RSA", "n": b64(&[0xc1; 128]), "e": "AQAB"});
    for (bad, why) in [
        (with(ec.clone(), "d", json!("AAAA")), "private member"),
        (with(rsa.clone(), "p", json!("AAAA")), "private member"),
        (json!({"kty": "oct", "k": "c2VjcmV0"}), "private member"),
        (json!({"kty": "oct", "alg": "HS256"}), "symmetric key"),
        (small_rsa, "2048 to 8192 bits"),
        (with(ec.clone(), "crv", json!("P-521")), "curve"),
        (json!({"kty": "OKP", "crv": "X25519", "x": b64(&[9; 32])}), "curve"),
        (json!({"kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])}), "not a point"),
        (with(ec.clone(), "alg", json!("RS256")), "does not fit"),
        (with(ec.clone(), "alg", json!("HS256")), "not accepted"),
        (with(ec.clone(), "alg", json!("none")), "not accepted"),
        (with(ec.clone(), "use", json!("enc")), "not a signing key"),
        (with(ec.clone(), "key_ops", json!(["encrypt"])), "key_ops"),
        (with(ec.clone(), "x", json!("AAAA=")), "base64url"),
        (with(ec.clone(), "kid", json!("")), "kid"),
        (with(rsa, "e", json!(65537)), "must be a string"),
        (json!({"kty": "PQ"}), "not supported"),
        (json!("a key"), "not a JSON object"),
    ] {
        let error = ClientJwks::parse(set(vec![bad.clone()])).unwrap_err();
        assert!(error.contains(why), "{bad}: {error}");
    }
}

#[test]
fn the_set_is_bounded_and_unambiguous() {
    let key = || TestKey::ec("P-256").jwk();
    let many: Vec<Value> = (0..=MAX_KEYS).map(|_| key()).collect();
    assert!(ClientJwks::parse(set(many)).unwrap_err().contains("more than 10 keys"));
    let padded = with(key(), "x5c", json!(["A".repeat(MAX_JWKS_BYTES)]));
    assert!(ClientJwks::parse(set(vec![padded])).unwrap_err().contains("larger than"));
    assert!(ClientJwks::parse(set(vec![])).unwrap_err().contains("no keys"));
    assert!(ClientJwks::parse(json!([key()])).unwrap_err().contains("JWK Set"));
    let twins = set(vec![with(key(), "kid", json!("k")), with(key(), "kid", json!("k"))]);
    assert!(ClientJwks::parse(twins).unwrap_err().contains("same kid"));
}

#[test]
fn a_fetched_set_skips_the_keys_it_cannot_use() {
    let signing = TestKey::ed();
    let document = set(vec![
        json!({"kty": "oct", "k": "c2VjcmV0"}),
        with(TestKey::ec("P-256").jwk(), "use", json!("enc")),
        json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        signing.jwk(),
    ]);
    assert!(ClientJwks::parse(document.clone()).is_err(), "registered, the set is refused whole");
    let jwks = ClientJwks::parse_from(document, Source::Fetched).unwrap();
    let signature = signing.sign(AssertionAlgorithm::EdDSA, b"m");
    assert_eq!(jwks.verify(AssertionAlgorithm::EdDSA, None, b"m", &signature), SignatureCheck::Verified);
    let unusable = set(vec![json!({"kty": "oct", "k": "c2VjcmV0"})]);
    assert!(ClientJwks::parse_from(unusable, Source::Fetched).is_err());
}

#[test]
fn a_set_round_trips_through_its_json_as_given() {
    let document = set(vec![with(TestKey::ec("P-384").jwk(), "kid", json!("k1"))]);
    let jwks = ClientJwks::parse(document.clone()).unwrap();
    assert_eq!(serde_json::to_value(&jwks).unwrap(), document);
    let back: ClientJwks = serde_json::from_value(document).unwrap();
    assert_eq!(back, jwks);
    assert!(serde_json::from_value::<ClientJwks>(json!({"keys": [{"kty": "oct"}]})).is_err());
    assert_eq!(format!("{jwks:?}"), "ClientJwks { kids: [Some(\"k1\")] }");
}

#[test]
fn algorithm_names_are_exact() {
    for alg in AssertionAlgorithm::ALL {
        assert_eq!(AssertionAlgorithm::parse(alg.as_str()), Some(alg));
        assert_eq!(serde_json::to_value(alg).unwrap(), json!(alg.as_str()));
    }
    assert_eq!(AssertionAlgorithm::parse("rs256"), None);
    assert_eq!(AssertionAlgorithm::parse("none"), None);
    assert_eq!(AssertionAlgorithm::parse("HS256"), None);
}
