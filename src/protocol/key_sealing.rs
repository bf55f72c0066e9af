//! Keys and server secrets at rest: sealed (AES-256-GCM, the kid or the
//! secret's name as associated data) under `CASTELLAN_KEY_ENCRYPTION_KEY`.
//! A database whose keys are in plaintext is sealed when a key encryption key
//! is first set; `castellan keys rewrap` moves everything to a new one.
//!
//! Both write with one transaction that only replaces the bytes it read, so
//! they are safe while instances serve: those hold their keys parsed, and
//! open keys under either the current or the previous key encryption key.

use super::keyring::{Keyring, KeyringError};
use crate::domain::sealing::SEALING_KEY_BYTES;
use crate::domain::{KeyError, SealingKey};
use crate::storage::{Resealed, StoredSecret};

/// What `keys rewrap` changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RewrapReport {
    /// Rows sealed anew under the current key encryption key.
    pub resealed: u64,
    /// Rows that were sealed under it already.
    pub unchanged: usize,
}

impl Keyring {
    /// The plaintext of a stored key or secret named `name`.
    pub(super) fn open_stored(&self, name: &str, bytes: &[u8], encrypted: bool) -> Result<Vec<u8>, KeyError> {
        if !encrypted {
            return Ok(bytes.to_vec());
        }
        let mut keks = self.encryption_key.iter().chain(&self.previous_encryption_key).peekable();
        if keks.peek().is_none() {
            return Err(KeyError::EncryptionKeyMissing(name.to_owned()));
        }
        keks.find_map(|kek| kek.open(name, bytes).ok()).ok_or_else(|| KeyError::Decryption(name.to_owned()))
    }

    /// The secret `name` all instances share, made by whichever starts
    /// first; sealed under the key encryption key when there is one.
    pub(super) async fn shared_secret(&self, name: &str) -> Result<SealingKey, KeyringError> {
        let fresh = SealingKey::generate().map_err(|_| KeyError::Generation)?;
        let (secret, encrypted) = match &self.encryption_key {
            Some(kek) => (kek.seal(name, fresh.as_bytes())?, true),
            None => (fresh.as_bytes().to_vec(), false),
        };
        let candidate =
            StoredSecret { name: name.to_owned(), secret, encrypted, created_at: self.clock.now() };
        let stored = self.store.secret_or_insert(&candidate).await?;
        let bytes = self.open_stored(name, &stored.secret, stored.encrypted)?;
        let bytes = <[u8; SEALING_KEY_BYTES]>::try_from(bytes.as_slice())
            .map_err(|_| KeyError::Unreadable(name.to_owned()))?;
        Ok(SealingKey::from_bytes(bytes))
    }

    /// Seals every key and secret stored in plaintext under the current key
    /// encryption key; returns how many. Without one, does nothing.
    pub(super) async fn seal_plaintext(&self) -> Result<u64, KeyringError> {
        let Some(kek) = &self.encryption_key else { return Ok(0) };
        let (keys, secrets) = self.store.all_sealable().await?;
        let seal = |name: &str, bytes: &[u8]| -> Result<Resealed, KeyError> {
            Ok(Resealed { name: name.to_owned(), old: bytes.to_vec(), new: kek.seal(name, bytes)? })
        };
        let keys: Vec<Resealed> = keys
            .iter()
            .filter(|k| !k.encrypted)
            .map(|k| seal(&k.kid, &k.private_key))
            .collect::<Result<_, _>>()?;
        let secrets: Vec<Resealed> = secrets
            .iter()
            .filter(|s| !s.encrypted)
            .map(|s| seal(&s.name, &s.secret))
            .collect::<Result<_, _>>()?;
        if keys.is_empty() && secrets.is_empty() {
            return Ok(0);
        }
        Ok(self.store.reseal(&keys, &secrets).await?)
    }

    /// Re-seals every stored key and secret under the current key
    /// encryption key: those sealed under the previous one, and those in
    /// plaintext. All or nothing: a row neither key opens stops it before
    /// anything is written.
    pub async fn rewrap(&self) -> Result<RewrapReport, KeyringError> {
        let Some(current) = &self.encryption_key else {
            return Err(KeyringError::Sealing(
                "keys rewrap needs CASTELLAN_KEY_ENCRYPTION_KEY (the new key)".into(),
            ));
        };
        let (keys, secrets) = self.store.all_sealable().await?;
        let rows = keys
            .iter()
            .map(|k| (true, k.kid.as_str(), k.private_key.as_slice(), k.encrypted))
            .chain(secrets.iter().map(|s| (false, s.name.as_str(), s.secret.as_slice(), s.encrypted)));
        let mut report = RewrapReport::default();
        let (mut resealed_keys, mut resealed_secrets) = (Vec::new(), Vec::new());
        for (is_key, name, bytes, encrypted) in rows {
            if encrypted && current.open(name, bytes).is_ok() {
                report.unchanged += 1;
                continue;
            }
            let plaintext = match (encrypted, &self.previous_encryption_key) {
                (false, _) => bytes.to_vec(),
                (true, Some(previous)) => previous.open(name, bytes)?,
                (true, None) => {
                    return Err(KeyringError::Sealing(format!(
                        "{name} is sealed under another key: set CASTELLAN_PREVIOUS_KEY_ENCRYPTION_KEY to it"
                    )));
                }
            };
            let resealed =
                Resealed { name: name.to_owned(), old: bytes.to_vec(), new: current.seal(name, &plaintext)? };
            if is_key { resealed_keys.push(resealed) } else { resealed_secrets.push(resealed) }
        }
        report.resealed = self.store.reseal(&resealed_keys, &resealed_secrets).await?;
        Ok(report)
    }
}
