//! The settings of dynamic client registration (RFC 7591, RFC 7592).

use super::{ConfigError, error, number, seconds};
use crate::protocol::registration::{RegistrationPolicy, RegistrationSettings};

pub(super) fn registration(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<RegistrationSettings, ConfigError> {
    let policy = match get("CASTELLAN_REGISTRATION") {
        None => RegistrationPolicy::Off,
        Some(value) => RegistrationPolicy::parse(&value)
            .ok_or_else(|| error("CASTELLAN_REGISTRATION", format!("{value:?} is not off, token or open")))?,
    };
    Ok(RegistrationSettings {
        policy,
        rate_per_hour: number(get, "CASTELLAN_REGISTRATION_RATE", 10, 1..=1_000_000)? as u32,
        max_clients: number(get, "CASTELLAN_DYNAMIC_CLIENTS_MAX", 10_000, 1..=1_000_000)? as u32,
        // At least an hour: the upkeep records uses once a minute.
        unused_ttl: seconds(get, "CASTELLAN_DYNAMIC_CLIENT_UNUSED_TTL", 2_592_000, 3_600..=315_360_000)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_off_by_default_and_takes_only_the_three_policies() {
        let none = |_: &str| None;
        let settings = registration(&none).unwrap();
        assert_eq!(settings.policy, RegistrationPolicy::Off);
        assert_eq!((settings.rate_per_hour, settings.max_clients), (10, 10_000));
        assert_eq!(settings.unused_ttl.as_secs(), 30 * 86_400);
        for (value, policy) in [("token", RegistrationPolicy::Token), ("open", RegistrationPolicy::Open)] {
            let get = |name: &str| (name == "CASTELLAN_REGISTRATION").then(|| value.to_owned());
            assert_eq!(registration(&get).unwrap().policy, policy);
        }
        let bad = |name: &str| (name == "CASTELLAN_REGISTRATION").then(|| "on".to_owned());
        assert_eq!(registration(&bad).unwrap_err().variable, "CASTELLAN_REGISTRATION");
    }
}
