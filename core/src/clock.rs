//! Time, as every part of the engine reads it: the [`Clock`] seam, the real [`SystemClock`] and
//! the [`ManualClock`] that tests and simulations move by hand.
//!
//! One clock serves two readings: the monotonic [`Clock::now`] of retry backoff and
//! circuit-breaker timers, and the wall-clock [`Clock::now_micros`] that token buckets and cache
//! TTLs share with other instances through Redis. A simulation moves both with one call.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;

/// A source of the current time and a sleeper.
#[async_trait]
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current monotonic instant (timers, backoff, breaker cool-downs).
    fn now(&self) -> Instant;

    /// The current wall-clock time in microseconds since the Unix epoch (rate-limit buckets and
    /// cache TTLs, which other instances read too).
    fn now_micros(&self) -> u64;

    /// Waits for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn now_micros(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A clock that moves only when told: [`advance`](Self::advance), [`set`](Self::set) or a
/// [`sleep`](Clock::sleep), which returns at once and moves the clock by its duration. Clones
/// share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    /// Monotonic time since `start`.
    elapsed: Duration,
    /// Wall-clock time, in microseconds since the Unix epoch.
    wall_micros: u64,
    sleeps: Vec<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock standing at the present instant and wall-clock time.
    pub fn new() -> Self {
        Self::at(SystemClock.now_micros())
    }

    /// A clock whose wall-clock time is `wall_micros` microseconds after the Unix epoch.
    pub fn at(wall_micros: u64) -> Self {
        Self {
            start: Instant::now(),
            state: Arc::new(Mutex::new(ManualState {
                elapsed: Duration::ZERO,
                wall_micros,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        state.move_by(by);
    }

    /// Sets the wall-clock time. Monotonic time moves forward by the same amount when this moves
    /// the clock forward, and stays when it moves it back (as a real wall clock can jump back).
    pub fn set(&self, wall_micros: u64) {
        let mut state = self.lock();
        let forward = wall_micros.saturating_sub(state.wall_micros);
        state.elapsed += Duration::from_micros(forward);
        state.wall_micros = wall_micros;
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.lock().sleeps.clone()
    }

    /// The time slept so far in total.
    pub fn slept(&self) -> Duration {
        self.lock().sleeps.iter().sum()
    }

    fn lock(&self) -> MutexGuard<'_, ManualState> {
        // A panic while holding this lock cannot leave the state inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ManualState {
    fn move_by(&mut self, by: Duration) {
        self.elapsed += by;
        let micros = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.wall_micros = self.wall_micros.saturating_add(micros);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.lock().elapsed
    }

    fn now_micros(&self) -> u64 {
        self.lock().wall_micros
    }

    async fn sleep(&self, duration: Duration) {
        let mut state = self.lock();
        state.move_by(duration);
        state.sleeps.push(duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_both_readings_only_when_told() {
        let clock = ManualClock::at(1_000);
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        assert_eq!(clock.now_micros(), 1_000);
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now() - t0, Duration::from_secs(5));
        assert_eq!(clock.now_micros(), 5_001_000);
        clock.sleep(Duration::from_millis(250)).await;
        assert_eq!(clock.now() - t0, Duration::from_millis(5250));
        assert_eq!(clock.now_micros(), 5_251_000);
        assert_eq!(clock.sleeps(), vec![Duration::from_millis(250)]);
        assert_eq!(clock.slept(), Duration::from_millis(250));
    }

    #[test]
    fn clones_share_the_time_and_setting_back_keeps_monotonic_time() {
        let clock = ManualClock::at(1_000);
        let other = clock.clone();
        let t0 = clock.now();
        other.advance(Duration::from_millis(2));
        assert_eq!(clock.now_micros(), 3_000);
        clock.set(10_000);
        assert_eq!(other.now() - t0, Duration::from_micros(9_000));
        clock.set(7);
        assert_eq!(other.now_micros(), 7);
        assert_eq!(other.now() - t0, Duration::from_micros(9_000));
    }

    #[test]
    fn the_system_clock_is_after_2020() {
        assert!(SystemClock.now_micros() > 1_577_836_800_000_000);
    }
}
