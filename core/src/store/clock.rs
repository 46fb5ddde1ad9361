//! Time as the shared stores see it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A source of the current time, in microseconds since the Unix epoch.
///
/// Token buckets and cache TTLs read time only through this trait, so that tests can move time
/// by hand instead of sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Microseconds since the Unix epoch.
    fn now_micros(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}

/// A clock that moves only when told: for tests and simulations. Clones share one time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    micros: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock that reads `start_micros`.
    pub fn new(start_micros: u64) -> Self {
        Self {
            micros: Arc::new(AtomicU64::new(start_micros)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the time.
    pub fn set(&self, micros: u64) {
        self.micros.store(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> u64 {
        self.micros.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clocks_move_only_when_told_and_clones_share_the_time() {
        let clock = ManualClock::new(1_000);
        let other = clock.clone();
        assert_eq!(clock.now_micros(), 1_000);
        other.advance(Duration::from_millis(2));
        assert_eq!(clock.now_micros(), 3_000);
        clock.set(7);
        assert_eq!(other.now_micros(), 7);
    }

    #[test]
    fn the_system_clock_is_after_2020() {
        assert!(SystemClock.now_micros() > 1_577_836_800_000_000);
    }
}
