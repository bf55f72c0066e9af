//! Throttling failed client authentication, per client at an address and
//! per address, in each instance's memory. The token path stays free of
//! database writes: a client authentication that succeeds costs one map
//! lookup, and nothing at all while no failures are on record.
//!
//! Client secrets are 256-bit random values, so guessing one is hopeless;
//! what the throttle stops is a caller hammering the endpoints with wrong
//! secrets unnoticed. Like sign-in throttling, it is built so that no one
//! can lock out someone else: a client is locked only at the address its
//! failures came from (a known client id is public, and a lock of the
//! client everywhere would hand anyone a way to stop a service), and an
//! address is locked only for failures of its own. Behind a reverse proxy
//! that means `CASTELLAN_TRUSTED_PROXIES` must be set.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Failures are forgotten this long after the last one.
const WINDOW_SECS: i64 = 3_600;
/// Free failures of one client at one address, and of one address in all.
const CLIENT_AT_ADDRESS_FREE: u32 = 10;
const ADDRESS_FREE: u32 = 100;
/// Locks start at two seconds (time is counted in whole seconds, so a lock
/// of one could end at once) and double with each further failure.
const FIRST_LOCK_SECS: i64 = 2;
const MAX_LOCK_SECS: i64 = 300;
/// At most this many keys are tracked (about 40 bytes each).
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: i64,
    free: u32,
}

impl Entry {
    fn locked_until(&self) -> i64 {
        if self.failures < self.free {
            return self.last;
        }
        let doublings = (self.failures - self.free).min(16);
        self.last + (FIRST_LOCK_SECS << doublings).min(MAX_LOCK_SECS)
    }
}

/// A lock that a failure has just started: for the security log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockStarted {
    pub seconds: i64,
}

#[derive(Default)]
pub struct ClientAuthThrottle {
    /// Keyed by a keyed hash of (client id, address) or (address): no
    /// allocation per lookup, and no one can aim collisions.
    entries: Mutex<HashMap<u64, Entry>>,
    hasher: RandomState,
    /// Whether any failure is on record: the common case skips the lock.
    any: AtomicBool,
}

/// IPv4 addresses one by one, IPv6 per /64.
fn address_bits(address: IpAddr) -> u128 {
    match address.to_canonical() {
        IpAddr::V4(v4) => u128::from(v4.to_bits()),
        IpAddr::V6(v6) => v6.to_bits() & !((1u128 << 64) - 1),
    }
}

impl ClientAuthThrottle {
    fn client_key(&self, client_id: &str, address: IpAddr) -> u64 {
        self.hasher.hash_one((client_id, address_bits(address)))
    }

    fn address_key(&self, address: IpAddr) -> u64 {
        self.hasher.hash_one(address_bits(address))
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Seconds until `client_id` may try again from `address`, if locked.
    pub fn retry_after(&self, client_id: &str, address: IpAddr, now: i64) -> Option<i64> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        let keys = [self.client_key(client_id, address), self.address_key(address)];
        let entries = self.entries();
        let until = keys.iter().filter_map(|key| entries.get(key)).map(Entry::locked_until).max()?;
        (until > now).then_some(until - now)
    }

    /// Records a failure from `address`, for `client_id` if it names a
    /// registered client (unknown ids count only against the address, so
    /// that made-up ids cannot fill the map). Returns the lock it started.
    pub fn failed(&self, client_id: Option<&str>, address: IpAddr, now: i64) -> Option<LockStarted> {
        let mut keys = vec![(self.address_key(address), ADDRESS_FREE)];
        if let Some(client_id) = client_id {
            keys.push((self.client_key(client_id, address), CLIENT_AT_ADDRESS_FREE));
        }
        let mut entries = self.entries();
        if entries.len() + keys.len() > CAPACITY {
            entries.retain(|_, entry| now - entry.last < WINDOW_SECS);
            if entries.len() + keys.len() > CAPACITY {
                // Full of recent failures: forget the ones least recent.
                let mut lasts: Vec<i64> = entries.values().map(|entry| entry.last).collect();
                let (_, median, _) = lasts.select_nth_unstable(entries.len() / 2);
                let median = *median;
                entries.retain(|_, entry| entry.last > median);
            }
        }
        self.any.store(true, Ordering::Relaxed);
        let mut started = None;
        for (key, free) in keys {
            let entry = entries.entry(key).or_insert(Entry { failures: 0, last: now, free });
            if now - entry.last >= WINDOW_SECS {
                entry.failures = 0;
            }
            entry.failures += 1;
            entry.last = now;
            if entry.failures >= free {
                let seconds = entry.locked_until() - now;
                let longest = started.map_or(seconds, |lock: LockStarted| lock.seconds.max(seconds));
                started = Some(LockStarted { seconds: longest });
            }
        }
        started
    }

    /// The client authenticated at `address`: its failures there are forgotten.
    pub fn succeeded(&self, client_id: &str, address: IpAddr) {
        if !self.any.load(Ordering::Relaxed) {
            return;
        }
        let key = self.client_key(client_id, address);
        let mut entries = self.entries();
        entries.remove(&key);
        if entries.is_empty() {
            self.any.store(false, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn ip(value: &str) -> IpAddr {
        value.parse().unwrap()
    }

    #[test]
    fn a_client_is_locked_at_the_address_of_its_failures_only() {
        let throttle = ClientAuthThrottle::default();
        let (attacker, service) = (ip("203.0.113.9"), ip("198.51.100.1"));
        for _ in 0..CLIENT_AT_ADDRESS_FREE - 1 {
            assert_eq!(throttle.failed(Some("svc"), attacker, NOW), None);
        }
        assert_eq!(throttle.failed(Some("svc"), attacker, NOW), Some(LockStarted { seconds: 2 }));
        assert_eq!(throttle.retry_after("svc", attacker, NOW), Some(2));
        assert_eq!(throttle.retry_after("svc", service, NOW), None);
        assert_eq!(throttle.retry_after("other", attacker, NOW), None);
        assert_eq!(throttle.retry_after("svc", attacker, NOW + 2), None);
    }

    #[test]
    fn locks_double_up_to_five_minutes_and_failures_are_forgotten_after_an_hour() {
        let throttle = ClientAuthThrottle::default();
        let address = ip("203.0.113.9");
        for _ in 0..CLIENT_AT_ADDRESS_FREE + 20 {
            throttle.failed(Some("svc"), address, NOW);
        }
        assert_eq!(throttle.retry_after("svc", address, NOW), Some(MAX_LOCK_SECS));
        assert_eq!(throttle.failed(Some("svc"), address, NOW + WINDOW_SECS), None);
    }

    #[test]
    fn an_address_is_locked_after_its_failures_over_all_clients() {
        let throttle = ClientAuthThrottle::default();
        let address = ip("2001:db8::1");
        for _ in 0..ADDRESS_FREE {
            throttle.failed(None, address, NOW);
        }
        assert!(throttle.retry_after("anyone", ip("2001:db8::ffff"), NOW).is_some(), "the same /64");
        assert!(throttle.retry_after("anyone", ip("2001:db8:0:1::1"), NOW).is_none());
    }

    #[test]
    fn success_forgets_the_clients_failures_at_that_address() {
        let throttle = ClientAuthThrottle::default();
        let address = ip("192.0.2.1");
        for _ in 0..CLIENT_AT_ADDRESS_FREE {
            throttle.failed(Some("svc"), address, NOW);
        }
        throttle.succeeded("svc", address);
        assert_eq!(throttle.retry_after("svc", address, NOW), None);
    }
}
