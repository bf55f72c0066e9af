//! Sign-in throttling, per account and per client address, shared by all
//! instances through the database.
//!
//! The rule: failures are counted per account (known or not, so that the
//! rule itself reveals nothing) and per address, over a window of 15 minutes
//! from the last failure. From the 5th consecutive failure for an account
//! (the 20th for an address), sign-in is refused for 30 seconds, doubling
//! with each further failure up to 15 minutes. While refused, the password
//! is not checked and the attempt is not counted. Attempts are counted
//! before the password is checked (see `admit`); a successful sign-in
//! clears the account's count.

use std::net::IpAddr;

use crate::protocol::Context;
use crate::storage::StorageError;

pub const WINDOW_SECS: i64 = 900;
const ACCOUNT_FREE_FAILURES: i64 = 5;
const ADDRESS_FREE_FAILURES: i64 = 20;
const FIRST_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 900;

/// How long a key with `failures` (the last at `last_failure_at`) stays
/// locked after that last failure.
fn lock_secs(failures: i64, free_failures: i64) -> i64 {
    if failures < free_failures {
        return 0;
    }
    let doublings = (failures - free_failures).min(10) as u32;
    (FIRST_LOCK_SECS << doublings).min(MAX_LOCK_SECS)
}

fn account_key(username_key: &str) -> String {
    format!("account:{username_key}")
}

fn address_key(address: IpAddr) -> String {
    // IPv6 clients are counted per /64: one host usually has a whole one. An
    // IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
    match address.to_canonical() {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Whether a sign-in attempt may check the password.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    Refused { retry_after: i64 },
}

/// Admits an attempt or refuses it. An admitted attempt is counted as a
/// failure in advance, so that guesses sent all at once cannot all pass the
/// check before the first failure is recorded: if others were counted
/// between the check and this attempt's count, only the free failures are
/// admitted. `succeeded` takes the count back.
pub async fn admit(ctx: &Context, username_key: &str, address: IpAddr) -> Result<Admission, StorageError> {
    let now = ctx.clock.now();
    let store = &ctx.storage.login_throttle;
    let keys =
        [(account_key(username_key), ACCOUNT_FREE_FAILURES), (address_key(address), ADDRESS_FREE_FAILURES)];
    let mut seen = Vec::with_capacity(keys.len());
    let mut wait = 0;
    for (key, free) in &keys {
        let recent = store.login_failures(key).await?.filter(|(_, last)| now - last < WINDOW_SECS);
        if let Some((failures, last)) = recent {
            wait = wait.max(last + lock_secs(failures, *free) - now);
        }
        seen.push(recent.map_or(0, |(failures, _)| failures));
    }
    if wait > 0 {
        return Ok(Admission::Refused { retry_after: wait });
    }
    for ((key, free), before) in keys.iter().zip(seen) {
        let counted = store.record_login_failure(key, now, now - WINDOW_SECS).await?;
        let raced = counted != before + 1;
        if raced && counted > *free {
            return Ok(Admission::Refused {
                retry_after: lock_secs(counted - 1, *free).max(FIRST_LOCK_SECS),
            });
        }
    }
    Ok(Admission::Allowed)
}

/// The password was right: the account's failures are forgotten, and the
/// address's advance count is taken back.
pub async fn succeeded(ctx: &Context, username_key: &str, address: IpAddr) -> Result<(), StorageError> {
    let store = &ctx.storage.login_throttle;
    store.clear_login_failures(&account_key(username_key)).await?;
    store.forgive_login_failure(&address_key(address)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_fifth_failure_and_double_up_to_fifteen_minutes() {
        assert_eq!(lock_secs(4, ACCOUNT_FREE_FAILURES), 0);
        assert_eq!(lock_secs(5, ACCOUNT_FREE_FAILURES), 30);
        assert_eq!(lock_secs(6, ACCOUNT_FREE_FAILURES), 60);
        assert_eq!(lock_secs(9, ACCOUNT_FREE_FAILURES), 480);
        assert_eq!(lock_secs(10, ACCOUNT_FREE_FAILURES), 900);
        assert_eq!(lock_secs(1000, ACCOUNT_FREE_FAILURES), 900);
    }

    #[test]
    fn ipv4_clients_of_a_dual_stack_listener_are_counted_by_their_ipv4_address() {
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "address:192.0.2.7");
    }

    #[test]
    fn ipv6_addresses_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
    }
}
