//! A fake `Clock` for every test that waits: its `sleep` only moves its time forward and
//! records the wait, so retries, throttled runs and batch polls take no real time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sync_openai::clock::Clock;

/// Sleeps only on paper: `now()` is the start plus every wait so far; clones share it.
#[derive(Clone)]
pub struct FakeClock {
    base: Instant,
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl FakeClock {
    pub fn new() -> FakeClock {
        FakeClock {
            base: Instant::now(),
            slept: Arc::default(),
        }
    }

    /// Every wait asked for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }

    /// The time the clock moved forward: the sum of the waits.
    pub fn elapsed(&self) -> Duration {
        self.slept.lock().unwrap().iter().sum()
    }
}

impl Default for FakeClock {
    fn default() -> FakeClock {
        FakeClock::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.base + self.elapsed()
    }

    fn sleep(&self, d: Duration) {
        self.slept.lock().unwrap().push(d);
        std::thread::yield_now();
    }
}
