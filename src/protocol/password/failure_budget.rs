//! A process-wide budget of failed password checks, in front of argon2.
//!
//! The per-account and per-address throttle cannot see a guesser who spreads
//! guesses over many accounts and many addresses; this budget caps what such
//! a guesser gets from one instance: `per_minute` failed checks a minute
//! (a token bucket holding at most one minute's worth, refilled evenly).
//! A check takes a credit before argon2 runs and gives it back when the
//! password was right, so correct sign-ins never spend the budget. When it is
//! spent, every check is refused before argon2 with a wait of about one
//! refill (a second or so): it recovers the moment failures slow down, which
//! is as little as a global budget can lock out correct sign-ins. While a
//! guesser keeps it spent they are refused too; `0` turns it off.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct FailureBudget {
    bucket: Option<Mutex<Bucket>>,
}

/// A credit taken for one password check: spent if the check fails, given
/// back otherwise (also when the check never ran).
pub struct Credit {
    budget: Option<Arc<FailureBudget>>,
}

struct Bucket {
    credits: f64,
    capacity: f64,
    per_second: f64,
    updated: Instant,
}

impl Bucket {
    fn new(per_minute: u32, now: Instant) -> Self {
        let capacity = f64::from(per_minute);
        Self { credits: capacity, capacity, per_second: capacity / 60.0, updated: now }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.credits = (self.credits + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// Takes a credit, or says how long until one is back.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.credits >= 1.0 {
            self.credits -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.credits) / self.per_second))
        }
    }

    fn give_back(&mut self, now: Instant) {
        self.refill(now);
        self.credits = (self.credits + 1.0).min(self.capacity);
    }
}

impl FailureBudget {
    pub fn new(per_minute: u32) -> Self {
        Self { bucket: (per_minute > 0).then(|| Mutex::new(Bucket::new(per_minute, Instant::now()))) }
    }

    /// A credit for one check, or the whole seconds to wait for one.
    pub fn take(self: &Arc<Self>) -> Result<Credit, u64> {
        let Some(bucket) = &self.bucket else { return Ok(Credit { budget: None }) };
        let Ok(mut bucket) = bucket.lock() else { return Ok(Credit { budget: None }) };
        match bucket.take(Instant::now()) {
            Ok(()) => Ok(Credit { budget: Some(self.clone()) }),
            Err(wait) => Err(wait.as_secs_f64().ceil().max(1.0) as u64),
        }
    }
}

impl Credit {
    /// The check failed: the credit stays spent.
    pub fn spend(mut self) {
        self.budget = None;
    }
}

impl Drop for Credit {
    fn drop(&mut self) {
        let Some(budget) = self.budget.take() else { return };
        if let Some(Ok(mut bucket)) = budget.bucket.as_ref().map(Mutex::lock) {
            bucket.give_back(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_allows_a_minute_of_failures_at_once_then_one_per_refill() {
        let start = Instant::now();
        let mut bucket = Bucket::new(60, start);
        for _ in 0..60 {
            assert!(bucket.take(start).is_ok());
        }
        let wait = bucket.take(start).unwrap_err();
        assert_eq!(wait.as_secs_f64().round(), 1.0);
        assert!(bucket.take(start + Duration::from_millis(500)).is_err());
        assert!(bucket.take(start + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn the_bucket_never_holds_more_than_a_minute_of_credits() {
        let start = Instant::now();
        let mut bucket = Bucket::new(6, start);
        bucket.refill(start + Duration::from_secs(3600));
        assert_eq!(bucket.credits, 6.0);
        bucket.give_back(start + Duration::from_secs(3600));
        assert_eq!(bucket.credits, 6.0);
    }

    #[test]
    fn correct_passwords_give_their_credit_back_and_failures_spend_it() {
        let budget = Arc::new(FailureBudget::new(2));
        for _ in 0..10 {
            drop(budget.take().expect("a credit"));
        }
        budget.take().expect("a credit").spend();
        budget.take().expect("a credit").spend();
        let retry_after = budget.take().err().expect("the budget is spent");
        assert!((1..=30).contains(&retry_after), "{retry_after}");
    }

    #[test]
    fn a_budget_of_zero_is_no_budget() {
        let budget = Arc::new(FailureBudget::new(0));
        for _ in 0..1000 {
            budget.take().expect("a credit").spend();
        }
    }
}
