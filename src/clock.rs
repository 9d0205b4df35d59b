//! The clock and sleeper that bulk runs and batch waits use, replaceable in tests.

use std::time::{Duration, Instant};

/// The time source and sleeper of a bulk run ([`RunOptions::clock`](crate::bulk::RunOptions::clock))
/// and of waiting for a batch ([`WaitOptions::clock`](crate::batch::WaitOptions::clock)).
///
/// [`SystemClock`] is the real one. Tests substitute a clock whose `sleep` only moves its
/// `now` forward, so that a run throttled to minutes takes milliseconds.
pub trait Clock: Send + Sync {
    /// The current instant; must never go backwards.
    fn now(&self) -> Instant;
    /// Waits for `d` (or, for a fake clock, moves time forward by `d`).
    fn sleep(&self, d: Duration);
}

/// The real clock: [`Instant::now`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}
