//! TEMPORARY stub of the retry policy interface.
#![allow(dead_code, missing_docs)]
use crate::http::HeaderMap;
use std::time::{Duration, SystemTime};
pub(crate) enum Outcome<'a> {
    Transport {
        is_timeout: bool,
        is_connect: bool,
    },
    Response {
        status: u16,
        headers: &'a HeaderMap,
        error_code: Option<&'a str>,
        error_type: Option<&'a str>,
    },
}
pub(crate) enum Decision {
    Retry(Duration),
    GiveUp { retry_after: Option<Duration> },
}
pub(crate) fn is_retryable(_o: &Outcome<'_>) -> bool {
    false
}
pub(crate) fn server_delay(_h: &HeaderMap, _now: SystemTime) -> Option<Duration> {
    None
}
pub(crate) fn decide(
    _o: &Outcome<'_>,
    _r: u32,
    _m: u32,
    _rem: Option<Duration>,
    _now: SystemTime,
    _j: &mut dyn Jitter,
) -> Decision {
    Decision::GiveUp { retry_after: None }
}
pub(crate) trait Jitter {
    fn next_f64(&mut self) -> f64;
}
pub(crate) struct SeededJitter(u64);
impl SeededJitter {
    pub(crate) fn from_entropy() -> Self {
        SeededJitter(1)
    }
}
impl Jitter for SeededJitter {
    fn next_f64(&mut self) -> f64 {
        0.5
    }
}
pub(crate) trait Sleeper: Send + Sync {
    fn sleep(&self, d: Duration);
}
pub(crate) struct ThreadSleeper;
impl Sleeper for ThreadSleeper {
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}
