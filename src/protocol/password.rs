//! User passwords: argon2id with OWASP's minimum parameters (19 MiB, two
//! passes, one lane), stored as PHC strings. Hashing takes tens of
//! milliseconds of CPU, so it runs on the blocking pool, never on the async
//! threads.

use std::sync::OnceLock;

use argon2::password_hash::{self, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::domain::ProtocolError;

/// OWASP Password Storage Cheat Sheet, argon2id minimum: m=19456 KiB, t=2, p=1.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
const SALT_BYTES: usize = 16;

fn hasher() -> Result<Argon2<'static>, password_hash::Error> {
    let params =
        Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|_| password_hash::Error::ParamsInvalid)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_with_salt(password: &[u8], salt: &[u8]) -> Result<String, password_hash::Error> {
    Ok(hasher()?.hash_password_with_salt(password, salt)?.to_string())
}

/// At most this many hashes run at once: each holds 19 MiB, and a burst of
/// sign-ins must queue rather than take the blocking pool's 512 threads.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Hashes `password` into a PHC string (argon2id), off the async threads.
pub async fn hash(password: String) -> Result<String, ProtocolError> {
    let Ok(_permit) = HASHING.acquire().await else {
        return Err(ProtocolError::internal(&password_hash::Error::RngFailure));
    };
    let hashed = tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; SALT_BYTES];
        SystemRandom::new().fill(&mut salt).map_err(|_| password_hash::Error::RngFailure)?;
        hash_with_salt(password.as_bytes(), &salt)
    })
    .await;
    match hashed {
        Ok(Ok(phc)) => Ok(phc),
        Ok(Err(error)) => Err(ProtocolError::internal(&error)),
        Err(join) => Err(ProtocolError::internal(&join)),
    }
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash
/// (an unknown user) the same work is done against a dummy hash, and the
/// answer is false: the time taken does not reveal whether the user exists.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    let Ok(_permit) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || verify_blocking(stored.as_deref(), password.as_bytes()))
        .await
        .unwrap_or(false)
}

fn verify_blocking(stored: Option<&str>, password: &[u8]) -> bool {
    let parsed = match stored.map(PasswordHash::new) {
        Some(Ok(parsed)) => parsed,
        Some(Err(error)) => {
            // The hash itself is not logged: it is as good as an offline guess target.
            tracing::warn!(error = %error, "a stored password hash does not parse; refusing the sign-in");
            burn_dummy_verification(password);
            return false;
        }
        None => {
            burn_dummy_verification(password);
            return false;
        }
    };
    let Ok(hasher) = hasher() else { return false };
    hasher.verify_password(password, &parsed).is_ok()
}

/// Verifies `password` against a dummy hash with the real parameters, so a
/// refusal without a usable hash costs what a wrong password costs.
fn burn_dummy_verification(password: &[u8]) {
    let Some(dummy) = dummy_hash() else { return };
    if let (Ok(hasher), Ok(parsed)) = (hasher(), PasswordHash::new(dummy)) {
        let _ = hasher.verify_password(password, &parsed);
    }
}

/// A hash made once per process with the current parameters; nobody knows
/// its password (random), and its answer is thrown away anyway.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let mut bytes = [0u8; 32];
            SystemRandom::new().fill(&mut bytes).ok()?;
            match hash_with_salt(&bytes, &bytes[..SALT_BYTES]) {
                Ok(phc) => Some(phc),
                Err(error) => {
                    tracing::error!(error = %error, "cannot make the dummy password hash");
                    None
                }
            }
        })
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let phc = hash("correct horse".to_owned()).await.unwrap();
        assert!(verify(Some(phc.clone()), "correct horse".to_owned()).await);
        assert!(!verify(Some(phc), "correct horse ".to_owned()).await);
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_with_the_owasp_parameters() {
        let phc = hash("pw".to_owned()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("pw$"));
    }

    #[tokio::test]
    async fn the_same_password_gets_a_different_salt_each_time() {
        let a = hash("pw".to_owned()).await.unwrap();
        let b = hash("pw".to_owned()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify(None, "anything".to_owned()).await);
        assert!(!verify(None, String::new()).await);
    }

    #[test]
    fn the_dummy_hash_uses_the_real_parameters() {
        let dummy = dummy_hash().expect("a dummy hash");
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{dummy}");
    }

    #[tokio::test]
    async fn a_stored_hash_that_does_not_parse_never_verifies() {
        for stored in ["", "pw", "$argon2id$v=19$garbage", "$2b$12$abcdefghijklmnopqrstuv"] {
            assert!(!verify(Some(stored.to_owned()), "pw".to_owned()).await, "{stored}");
            assert!(!verify(Some(stored.to_owned()), stored.to_owned()).await, "{stored}");
        }
    }
}
