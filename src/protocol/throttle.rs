//! Sign-in throttling, shared by all instances through the database.
//!
//! Failures are counted under several keys, each with a number of free
//! failures; from the first failure past it, the key is locked for 30
//! seconds, doubling with each further failure up to 15 minutes. Failures
//! are remembered for 24 hours after the last one, so while guessing goes
//! on the lock stays at its maximum. While any key of an attempt is locked,
//! the password is not checked and the attempt is not counted.
//!
//! Which keys an attempt counts under depends on who makes it, so that no
//! one can lock out someone else:
//! - from a browser that has signed in to this account before (a *known
//!   device*, see `web::browser::device`): only the device's own small
//!   budget. Strangers' failures never lock it out;
//! - from anyone else: the account *at this address* (5 free; IPv6 also at
//!   this /56), the address (20 free; IPv6 per /64, and per /56 with 100
//!   free), and the account from everywhere (100 free, for guessing spread
//!   over many addresses; each address or /56 adds at most its 5 free
//!   failures to it, so one address alone can never lock an account for the
//!   others).
//!
//! Under the account's own keys attempts are counted before the password is
//! checked (see `admit`), so guesses sent all at once cannot all pass the
//! check before the first failure is recorded; a successful sign-in takes
//! the count back. Under the shared keys only real failures count.

use std::net::IpAddr;

use crate::protocol::Context;
use crate::storage::StorageError;

/// How long failures are remembered after the last one.
pub const WINDOW_SECS: i64 = 86_400;
const FIRST_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 900;

const DEVICE_FREE_FAILURES: i64 = 5;
const PAIR_FREE_FAILURES: i64 = 5;
const ADDRESS_FREE_FAILURES: i64 = 20;
const NETWORK_FREE_FAILURES: i64 = 100;
const ACCOUNT_FREE_FAILURES: i64 = 100;

/// How long a key with `failures` stays locked after the last of them.
fn lock_secs(failures: i64, free_failures: i64) -> i64 {
    if failures < free_failures {
        return 0;
    }
    let doublings = (failures - free_failures).min(10) as u32;
    (FIRST_LOCK_SECS << doublings).min(MAX_LOCK_SECS)
}

/// One sign-in attempt: the account tried (known or not, so that the rule
/// itself reveals nothing), from where, and from which known device.
#[derive(Debug, Clone, Copy)]
pub struct SignInAttempt<'a> {
    pub username_key: &'a str,
    pub address: IpAddr,
    /// The id of a known device of this very account, if the browser is one.
    pub known_device: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Device,
    /// The account at one address.
    Pair,
    /// The account at one IPv6 /56.
    PairNetwork,
    Address,
    /// An IPv6 /56.
    Network,
    /// The account from everywhere.
    Account,
}

#[derive(Debug)]
struct Budget {
    key: String,
    scope: Scope,
    free: i64,
}

fn budgets(attempt: &SignInAttempt<'_>) -> Vec<Budget> {
    let budget = |scope, key: String, free| Budget { key, scope, free };
    if let Some(device) = attempt.known_device {
        return vec![budget(Scope::Device, format!("device:{device}"), DEVICE_FREE_FAILURES)];
    }
    let account = attempt.username_key;
    let address = address_key(attempt.address);
    let network = network_key(attempt.address);
    let mut budgets = vec![budget(Scope::Pair, format!("pair:{address}:{account}"), PAIR_FREE_FAILURES)];
    if let Some(network) = &network {
        budgets.push(budget(Scope::PairNetwork, format!("pairnet:{network}:{account}"), PAIR_FREE_FAILURES));
    }
    budgets.push(budget(Scope::Address, format!("address:{address}"), ADDRESS_FREE_FAILURES));
    if let Some(network) = &network {
        budgets.push(budget(Scope::Network, format!("network:{network}"), NETWORK_FREE_FAILURES));
    }
    // Last: whether it counts depends on the pair counts before it.
    budgets.push(budget(Scope::Account, format!("account:{account}"), ACCOUNT_FREE_FAILURES));
    budgets
}

/// IPv4 addresses one by one; IPv6 per /64 (one host usually has a whole
/// one). An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
fn address_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// IPv6 per /56 as well: what one customer of many providers gets.
fn network_key(address: IpAddr) -> Option<String> {
    match address.to_canonical() {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/56", s[0], s[1], s[2], s[3] & 0xff00))
        }
    }
}

/// Whether a sign-in attempt may check the password.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    Allowed(Admitted),
    Refused { retry_after: i64 },
}

impl Scope {
    /// Keys of one account (at an address, a /56, or on a device) count an
    /// attempt before its password is checked, so that guesses at one
    /// account sent all at once cannot all be checked. Keys of many people
    /// (an address, a network, the account from everywhere) count only real
    /// failures: concurrent sign-ins of different people behind one address
    /// are normal, and what a burst can check is bounded by the hashing
    /// places and the failure budget anyway.
    fn counts_in_advance(self) -> bool {
        matches!(self, Self::Device | Self::Pair | Self::PairNetwork)
    }
}

/// An admitted attempt.
#[derive(Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The lock its failure would start on the keys counted in advance.
    lock_if_wrong: i64,
    /// The keys it was counted under in advance (see `withdraw`).
    counted: Vec<String>,
    /// The keys a failure is still to be counted under (see `failed`).
    on_failure: Vec<(String, i64)>,
}

/// Admits an attempt or refuses it. Under the keys of the account (see
/// `Scope::counts_in_advance`) an admitted attempt is counted as a failure
/// in advance: if others were counted between the check and this attempt's
/// count, only the free failures are admitted. `succeeded` takes the count
/// back; `failed` counts the failure under the other keys.
pub async fn admit(ctx: &Context, attempt: &SignInAttempt<'_>) -> Result<Admission, StorageError> {
    let now = ctx.clock.now();
    let store = &ctx.storage.login_throttle;
    let budgets = budgets(attempt);
    let mut seen = Vec::with_capacity(budgets.len());
    let mut wait = 0;
    for budget in &budgets {
        let recent = store.login_failures(&budget.key).await?.filter(|(_, last)| now - last < WINDOW_SECS);
        if let Some((failures, last)) = recent {
            wait = wait.max(last + lock_secs(failures, budget.free) - now);
        }
        seen.push(recent.map_or(0, |(failures, _)| failures));
    }
    if wait > 0 {
        return Ok(Admission::Refused { retry_after: wait });
    }
    let mut admitted = Admitted { lock_if_wrong: 0, counted: Vec::new(), on_failure: Vec::new() };
    let mut pair_failures = 0;
    for (budget, before) in budgets.into_iter().zip(seen) {
        if !budget.scope.counts_in_advance() {
            // An address (or /56) adds only its free failures to the account's count.
            if budget.scope != Scope::Account || pair_failures <= PAIR_FREE_FAILURES {
                admitted.on_failure.push((budget.key, budget.free));
            }
            continue;
        }
        let counted = store.record_login_failure(&budget.key, now, now - WINDOW_SECS).await?;
        admitted.counted.push(budget.key);
        pair_failures = pair_failures.max(counted);
        if counted != before + 1 && counted > budget.free {
            let retry_after = lock_secs(counted - 1, budget.free).max(FIRST_LOCK_SECS);
            return Ok(Admission::Refused { retry_after });
        }
        admitted.lock_if_wrong = admitted.lock_if_wrong.max(lock_secs(counted, budget.free));
    }
    Ok(Admission::Allowed(admitted))
}

/// The password was wrong: the failure is counted under the remaining keys.
/// Returns the seconds of the lock it started (0 for none).
pub async fn failed(ctx: &Context, admitted: &Admitted) -> Result<i64, StorageError> {
    let now = ctx.clock.now();
    let mut lock = admitted.lock_if_wrong;
    for (key, free) in &admitted.on_failure {
        let counted = ctx.storage.login_throttle.record_login_failure(key, now, now - WINDOW_SECS).await?;
        lock = lock.max(lock_secs(counted, *free));
    }
    Ok(lock)
}

/// The attempt will not check the password after all (no hashing place was
/// free): its advance count is taken back, so a refusal for load is never a
/// failed guess.
pub async fn withdraw(ctx: &Context, admitted: &Admitted) -> Result<(), StorageError> {
    for key in &admitted.counted {
        ctx.storage.login_throttle.forgive_login_failure(key).await?;
    }
    Ok(())
}

/// The password was right: the account's and the device's failures are
/// forgotten (the address's were never counted for this attempt).
pub async fn succeeded(ctx: &Context, attempt: &SignInAttempt<'_>) -> Result<(), StorageError> {
    let store = &ctx.storage.login_throttle;
    for budget in budgets(attempt) {
        match budget.scope {
            Scope::Device | Scope::Pair | Scope::PairNetwork | Scope::Account => {
                store.clear_login_failures(&budget.key).await?
            }
            Scope::Address | Scope::Network => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(attempt: &SignInAttempt<'_>) -> Vec<String> {
        budgets(attempt).into_iter().map(|b| b.key).collect()
    }

    #[test]
    fn locks_start_past_the_free_failures_and_double_up_to_fifteen_minutes() {
        assert_eq!(lock_secs(4, 5), 0);
        assert_eq!(lock_secs(5, 5), 30);
        assert_eq!(lock_secs(6, 5), 60);
        assert_eq!(lock_secs(9, 5), 480);
        assert_eq!(lock_secs(10, 5), 900);
        assert_eq!(lock_secs(1000, 5), 900);
    }

    #[test]
    fn a_known_device_counts_only_against_its_own_budget() {
        let attempt = SignInAttempt {
            username_key: "alice",
            address: "192.0.2.7".parse().unwrap(),
            known_device: Some("d1"),
        };
        assert_eq!(keys(&attempt), ["device:d1"]);
    }

    #[test]
    fn strangers_count_per_account_at_the_address_per_address_and_per_account() {
        let attempt = SignInAttempt {
            username_key: "alice",
            address: "192.0.2.7".parse().unwrap(),
            known_device: None,
        };
        assert_eq!(keys(&attempt), ["pair:192.0.2.7:alice", "address:192.0.2.7", "account:alice"]);
        let v6 = SignInAttempt { address: "2001:db8:1:2::1".parse().unwrap(), ..attempt };
        let expected = [
            "pair:2001:db8:1:2::/64:alice",
            "pairnet:2001:db8:1:0::/56:alice",
            "address:2001:db8:1:2::/64",
            "network:2001:db8:1:0::/56",
            "account:alice",
        ];
        assert_eq!(keys(&v6), expected);
    }

    #[test]
    fn ipv4_clients_of_a_dual_stack_listener_are_counted_by_their_ipv4_address() {
        assert_eq!(address_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(network_key("::ffff:192.0.2.7".parse().unwrap()), None);
    }

    #[test]
    fn ipv6_addresses_are_counted_per_64_and_per_56() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:2f::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(network_key(a), network_key(c));
        assert_eq!(network_key(a).unwrap(), "2001:db8:1:0::/56");
    }
}
