//! User passwords: argon2id with OWASP's minimum parameters (19 MiB, two
//! passes, one lane), stored as PHC strings. Hashing takes tens of
//! milliseconds of CPU and 19 MiB, so it runs on a few threads of its own
//! (`hashing_threads`), never on the async threads, and a sign-in that finds
//! them saturated is told to come back instead of queueing without bound.
//! Failed checks also spend a process-wide budget (`failure_budget`).

mod failure_budget;
mod hashing_threads;

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{self, PasswordHasher};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::domain::ProtocolError;
use failure_budget::{Credit, FailureBudget};
use hashing_threads::{HashMemory, HashingThreads, Place};

/// How many hashes run at once, and how many failed checks a minute one
/// instance allows.
#[derive(Debug, Clone)]
pub struct PasswordSettings {
    pub hashing_slots: usize,
    pub failures_per_minute: u32,
}

/// The default number of hashing slots: one per CPU, at most four (each
/// slot is 19 MiB while it hashes; more than the CPUs only queue inside).
pub fn default_hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from).clamp(1, 4)
}

/// No password check can start now: try again in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub retry_after: u64,
}

/// Password hashing and checking for one server.
pub struct Passwords {
    threads: HashingThreads,
    failures: Arc<FailureBudget>,
}

/// A password check that has its place at the hashing threads and its
/// credit in the failure budget, and may run.
pub struct AdmittedCheck {
    place: Place,
    credit: Credit,
}

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

impl Passwords {
    /// Starts the hashing threads.
    pub fn start(settings: &PasswordSettings) -> std::io::Result<Self> {
        Ok(Self {
            threads: HashingThreads::start(settings.hashing_slots)?,
            failures: Arc::new(FailureBudget::new(settings.failures_per_minute)),
        })
    }

    /// Hashes `password` into a PHC string (argon2id). Waits for a hashing
    /// place however long it takes: only admins set passwords, and their
    /// request's own deadline bounds the wait.
    pub async fn hash(&self, password: String) -> Result<String, ProtocolError> {
        let failed = || ProtocolError::internal(&password_hash::Error::Algorithm);
        let place = self.threads.place().await.ok_or_else(failed)?;
        let hashed = place
            .run(move |_| {
                let mut salt = [0u8; SALT_BYTES];
                SystemRandom::new().fill(&mut salt).map_err(|_| password_hash::Error::RngFailure)?;
                hash_with_salt(password.as_bytes(), &salt)
            })
            .await;
        match hashed {
            Some(Ok(phc)) => Ok(phc),
            Some(Err(error)) => Err(ProtocolError::internal(&error)),
            None => Err(failed()),
        }
    }

    /// Admits one password check, or refuses it at once: when every hashing
    /// place is taken, or the failure budget is spent. Nothing is counted
    /// against the user for a refusal.
    pub fn admit_check(&self) -> Result<AdmittedCheck, Busy> {
        // A second's wait: places free up within a few hashes' time.
        let place = self.threads.try_place().ok_or(Busy { retry_after: 1 })?;
        let credit = self.failures.take().map_err(|retry_after| Busy { retry_after })?;
        Ok(AdmittedCheck { place, credit })
    }

    /// [`Self::admit_check`], then [`AdmittedCheck::verify`].
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, Busy> {
        Ok(self.admit_check()?.verify(stored, password).await)
    }
}

impl AdmittedCheck {
    /// Whether `password` matches `stored` (a PHC string). With no stored
    /// hash (an unknown user) the same work is done against a dummy hash,
    /// and the answer is false: the time taken does not reveal whether the
    /// user exists.
    pub async fn verify(self, stored: Option<String>, password: String) -> bool {
        let matched = self
            .place
            .run(move |memory| verify_blocking(stored.as_deref(), password.as_bytes(), memory))
            .await
            .unwrap_or(false);
        if !matched {
            self.credit.spend();
        }
        matched
    }
}

fn verify_blocking(stored: Option<&str>, password: &[u8], memory: &mut HashMemory) -> bool {
    let parsed = match stored.map(PasswordHash::new) {
        Some(Ok(parsed)) => parsed,
        Some(Err(error)) => {
            // The hash itself is not logged: it is as good as an offline guess target.
            tracing::warn!(error = %error, "a stored password hash does not parse; refusing the sign-in");
            burn_dummy_verification(password, memory);
            return false;
        }
        None => {
            burn_dummy_verification(password, memory);
            return false;
        }
    };
    matches(&parsed, password, memory).unwrap_or(false)
}

/// Whether `password` hashes to `phc`'s output with `phc`'s algorithm,
/// version, parameters and salt: argon2's `verify_password`, but run in
/// `memory` (kept by the hashing thread) instead of a fresh allocation.
fn matches(
    phc: &PasswordHash,
    password: &[u8],
    memory: &mut HashMemory,
) -> Result<bool, password_hash::Error> {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return Ok(false) };
    let algorithm = Algorithm::try_from(phc.algorithm.as_str())?;
    let version = match phc.version {
        Some(version) => Version::try_from(version).map_err(|_| password_hash::Error::Version)?,
        None => Version::default(),
    };
    let params = Params::try_from(phc)?;
    memory.resize(params.block_count(), Block::new());
    let mut output = [0u8; 64];
    let output = output.get_mut(..expected.len()).ok_or(password_hash::Error::OutputSize)?;
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        &mut *output,
        &mut memory[..],
    )?;
    Ok(bool::from(output.ct_eq(expected.as_bytes())))
}

/// Verifies `password` against a dummy hash with the real parameters, so a
/// refusal without a usable hash costs what a wrong password costs.
fn burn_dummy_verification(password: &[u8], memory: &mut HashMemory) {
    let Some(dummy) = dummy_hash() else { return };
    if let Ok(parsed) = PasswordHash::new(dummy) {
        let _ = matches(&parsed, password, memory);
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

    fn passwords(hashing_slots: usize, failures_per_minute: u32) -> Passwords {
        Passwords::start(&PasswordSettings { hashing_slots, failures_per_minute }).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let passwords = passwords(2, 600);
        let phc = passwords.hash("correct horse".to_owned()).await.unwrap();
        assert_eq!(passwords.verify(Some(phc.clone()), "correct horse".to_owned()).await, Ok(true));
        assert_eq!(passwords.verify(Some(phc), "correct horse ".to_owned()).await, Ok(false));
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_with_the_owasp_parameters() {
        let phc = passwords(1, 600).hash("pw".to_owned()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("pw$"));
    }

    #[tokio::test]
    async fn the_same_password_gets_a_different_salt_each_time() {
        let passwords = passwords(1, 600);
        let a = passwords.hash("pw".to_owned()).await.unwrap();
        let b = passwords.hash("pw".to_owned()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let passwords = passwords(1, 600);
        assert_eq!(passwords.verify(None, "anything".to_owned()).await, Ok(false));
        assert_eq!(passwords.verify(None, String::new()).await, Ok(false));
    }

    #[test]
    fn the_dummy_hash_uses_the_real_parameters() {
        let dummy = dummy_hash().expect("a dummy hash");
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{dummy}");
    }

    #[tokio::test]
    async fn a_stored_hash_that_does_not_parse_never_verifies() {
        let passwords = passwords(1, 600);
        for stored in ["", "pw", "$argon2id$v=19$garbage", "$2b$12$abcdefghijklmnopqrstuv"] {
            assert_eq!(
                passwords.verify(Some(stored.to_owned()), "pw".to_owned()).await,
                Ok(false),
                "{stored}"
            );
            assert_eq!(
                passwords.verify(Some(stored.to_owned()), stored.to_owned()).await,
                Ok(false),
                "{stored}"
            );
        }
    }

    #[test]
    fn checking_in_kept_memory_agrees_with_argon2s_own_verification() {
        use argon2::password_hash::PasswordVerifier;
        let mut memory = HashMemory::new();
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, None).unwrap());
        let small_phc = small.hash_password_with_salt(b"pw", b"saltsaltsalt").unwrap().to_string();
        let owasp_phc = hash_with_salt(b"pw", b"saltsaltsalt").unwrap();
        // Memory kept from a bigger hash serves a smaller one and back.
        for phc in [&owasp_phc, &small_phc, &owasp_phc] {
            let parsed = PasswordHash::new(phc).unwrap();
            for password in [&b"pw"[..], b"pw ", b""] {
                let theirs = hasher().unwrap().verify_password(password, &parsed).is_ok();
                assert_eq!(matches(&parsed, password, &mut memory), Ok(theirs), "{phc}");
            }
        }
    }

    #[tokio::test]
    async fn checks_beyond_the_slots_and_their_queue_are_refused_at_once_not_queued() {
        let passwords = passwords(1, 600);
        let admitted: Vec<AdmittedCheck> =
            (0..1 + hashing_threads::QUEUE_PER_SLOT).map(|_| passwords.admit_check().unwrap()).collect();
        assert_eq!(passwords.verify(None, "pw".to_owned()).await, Err(Busy { retry_after: 1 }));
        drop(admitted);
        assert_eq!(passwords.verify(None, "pw".to_owned()).await, Ok(false));
    }

    #[tokio::test]
    async fn a_spent_failure_budget_refuses_checks_before_argon2_but_right_passwords_do_not_spend_it() {
        let passwords = passwords(1, 2);
        let phc = passwords.hash("right".to_owned()).await.unwrap();
        for _ in 0..3 {
            assert_eq!(passwords.verify(Some(phc.clone()), "right".to_owned()).await, Ok(true));
        }
        for _ in 0..2 {
            assert_eq!(passwords.verify(Some(phc.clone()), "wrong".to_owned()).await, Ok(false));
        }
        let refused = passwords.verify(Some(phc.clone()), "right".to_owned()).await;
        assert!(matches!(refused, Err(Busy { retry_after }) if retry_after >= 1), "{refused:?}");
    }
}
