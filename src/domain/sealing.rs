//! Sealing small values with AES-256-GCM: private keys at rest (under the
//! key encryption key) and what the browser carries for us between pages
//! (under a key only the server knows). A sealed value is
//! `nonce || ciphertext || tag`; the context is bound in as associated
//! data, so a value sealed for one purpose never opens for another.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

pub const SEALING_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomSourceFailed;

/// A 256-bit AES-GCM key; never printed.
#[derive(Clone)]
pub struct SealingKey([u8; SEALING_KEY_BYTES]);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

impl SealingKey {
    pub fn from_bytes(bytes: [u8; SEALING_KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Result<Self, RandomSourceFailed> {
        let mut bytes = [0u8; SEALING_KEY_BYTES];
        SystemRandom::new().fill(&mut bytes).map_err(|_| RandomSourceFailed)?;
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; SEALING_KEY_BYTES] {
        &self.0
    }

    fn aead(&self) -> LessSafeKey {
        // A 32-byte key is always valid for AES-256-GCM.
        #[allow(clippy::expect_used)]
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("32-byte AES key"))
    }

    /// Encrypts and authenticates `plaintext` for `context`, under a fresh
    /// random nonce (96 bits: safe for far more values than a key seals).
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, RandomSourceFailed> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| RandomSourceFailed)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let mut body = sealed.split_off(NONCE_LEN);
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut body)
            .map_err(|_| RandomSourceFailed)?;
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// The plaintext, if `sealed` was sealed by this key for `context` and
    /// not altered since.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self.aead().open_in_place(nonce, Aad::from(context), &mut buffer).ok()?;
        Some(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_the_same_key_and_context() {
        let key = SealingKey::generate().unwrap();
        let sealed = key.seal(b"login", b"pending request").unwrap();
        assert_eq!(key.open(b"login", &sealed).unwrap(), b"pending request");
        assert!(key.open(b"device", &sealed).is_none());
        assert!(SealingKey::generate().unwrap().open(b"login", &sealed).is_none());
    }

    #[test]
    fn an_altered_or_truncated_value_does_not_open() {
        let key = SealingKey::generate().unwrap();
        let mut sealed = key.seal(b"c", b"value").unwrap();
        assert!(key.open(b"c", &sealed[..5]).is_none());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(key.open(b"c", &sealed).is_none());
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let key = SealingKey::generate().unwrap();
        assert_ne!(key.seal(b"c", b"v").unwrap(), key.seal(b"c", b"v").unwrap());
    }
}
