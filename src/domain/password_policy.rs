//! What a new password must be (NIST SP 800-63B §5.1.1.2): at least 8
//! characters, and not one of the passwords people use most. No rules on
//! its make-up: any characters, spaces included, are welcome.

use std::fmt;
use std::sync::LazyLock;

/// Longest password accepted (at sign-in too): argon2 hashes any length,
/// but an unbounded one is a cheap way to make the server work.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The shortest password accepted, in characters (Unicode code points, as
/// §5.1.1.2 counts them).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The list shipped with Castellan: SecLists' 10,000 most common passwords,
/// those of at least [`MIN_PASSWORD_CHARS`] (shorter ones fail the length
/// rule anyway), lower-cased and sorted; see the file's header.
static COMMON_PASSWORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt").lines().filter(|line| !line.starts_with('#')).collect()
});

/// Whether `password` is on the list, ignoring case.
fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.binary_search(&password.to_lowercase().as_str()).is_ok()
}

/// A password that meets the policy, in the clear until it is hashed.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(value: String) -> Result<Self, &'static str> {
        if value.chars().count() < MIN_PASSWORD_CHARS {
            return Err("password must be at least 8 characters");
        }
        if value.len() > MAX_PASSWORD_BYTES {
            return Err("password must be at most 1024 bytes");
        }
        if is_common(&value) {
            return Err("password is too common: it is on a list of the most used passwords");
        }
        Ok(Self(value))
    }

    /// The password itself, for hashing.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Never printed.
impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_is_sorted_lower_case_and_long_enough_to_matter() {
        assert!(COMMON_PASSWORDS.len() > 1000);
        assert!(COMMON_PASSWORDS.windows(2).all(|pair| pair[0] < pair[1]), "sorted, no repeats");
        for entry in COMMON_PASSWORDS.iter() {
            assert_eq!(*entry, entry.to_lowercase(), "{entry} is lower-case");
            assert!(entry.chars().count() >= MIN_PASSWORD_CHARS, "{entry} is long enough to matter");
        }
    }

    #[test]
    fn short_passwords_are_refused_by_characters_not_bytes() {
        assert_eq!(
            NewPassword::parse("Tr0ub4!".into()).unwrap_err(),
            "password must be at least 8 characters"
        );
        // Seven characters, more than eight bytes.
        assert!(NewPassword::parse("ééééééé".into()).is_err());
        assert!(NewPassword::parse("éééééééé".into()).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["password", "PassWord1", "iloveyou", "QWERTYUIOP", "12345678"] {
            let error = NewPassword::parse(common.into()).unwrap_err();
            assert!(error.starts_with("password is too common"), "{common}: {error}");
        }
    }

    #[test]
    fn a_long_uncommon_password_is_accepted_and_too_long_a_one_is_not() {
        assert!(NewPassword::parse("correct horse battery staple".into()).is_ok());
        assert!(NewPassword::parse("x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn a_new_password_does_not_print() {
        let password = NewPassword::parse("correct horse battery staple".into()).unwrap();
        assert_eq!(format!("{password:?}"), "NewPassword(***)");
    }
}
