//! Random values and secret handling: generation, hashing for storage and
//! constant-time comparison. Client secrets are 256-bit random values made by
//! the server, so a single SHA-256 is a sound storage hash for them (a slow
//! password hash buys nothing against a value nobody can guess, and would cap
//! the token endpoint at tens of requests a second).

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::{Choice, ConstantTimeEq};

/// `bytes` random bytes from the system CSPRNG, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The system RNG only fails if the OS cannot provide entropy at all, and
    // then no secure token can be made: stopping is the only safe answer.
    #[allow(clippy::expect_used)]
    SystemRandom::new().fill(&mut buffer).expect("the operating system's random source failed");
    URL_SAFE_NO_PAD.encode(buffer)
}

/// A secret value received or generated; never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// A new 256-bit random secret.
    pub fn generate() -> Self {
        Self(random_token(32))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The SHA-256 digest under which a secret is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn of(secret: &Secret) -> Self {
        Self::of_bytes(secret.expose().as_bytes())
    }

    pub fn of_bytes(value: &[u8]) -> Self {
        let digest = digest::digest(&digest::SHA256, value);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Self(bytes)
    }

    pub fn from_stored(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether `candidate` hashes to this value, compared in constant time.
    pub fn matches(&self, candidate: &Secret) -> bool {
        Self::of(candidate).0.ct_eq(&self.0).into()
    }

    /// Whether `candidate` hashes to this value or to `other`. Both
    /// comparisons always run, in constant time, and are combined without a
    /// branch, so the time taken tells neither which one matched nor whether
    /// `other` was given.
    pub fn matches_this_or(&self, other: Option<&SecretHash>, candidate: &Secret) -> bool {
        let unused = SecretHash([0; 32]);
        let (other, in_use) = match other {
            Some(hash) => (hash, Choice::from(1)),
            None => (&unused, Choice::from(0)),
        };
        let hash = Self::of(candidate);
        (hash.0.ct_eq(&self.0) | (hash.0.ct_eq(&other.0) & in_use)).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_carry_256_bits_and_differ() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn a_hash_matches_only_its_own_secret() {
        let secret = Secret::new("s3cret");
        let hash = SecretHash::of(&secret);
        assert!(hash.matches(&secret));
        assert!(!hash.matches(&Secret::new("s3cres")));
    }

    #[test]
    fn a_hash_or_another_matches_either_secret_and_nothing_else() {
        let (current, previous) = (Secret::new("current"), Secret::new("previous"));
        let hash = SecretHash::of(&current);
        let other = SecretHash::of(&previous);
        assert!(hash.matches_this_or(Some(&other), &current));
        assert!(hash.matches_this_or(Some(&other), &previous));
        assert!(!hash.matches_this_or(Some(&other), &Secret::new("neither")));
        assert!(hash.matches_this_or(None, &current));
        assert!(!hash.matches_this_or(None, &previous));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}
