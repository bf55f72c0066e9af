//! Time as an input. Every stored time and JWT claim is unix seconds read
//! from a [`Clock`] that the application hands down; tests move it forward
//! instead of sleeping until something expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The system's time, plus an offset that only tests change.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, in unix seconds.
    pub fn now(&self) -> i64 {
        system_now() + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every copy of it) forward by `seconds`. For
    /// tests: nothing in the server calls it.
    pub fn advance(&self, seconds: i64) {
        self.offset_secs.fetch_add(seconds, Ordering::Relaxed);
    }
}

fn system_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_every_copy() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(3600);
        assert!(copy.now() >= before + 3600);
    }
}
