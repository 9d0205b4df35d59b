//! The gate and the rate buckets the workers of a bulk run share: a request bucket and a
//! token bucket at a safe fraction of the limits the server reports, one request at a
//! time until the first answer tells them, a gate a 429 closes once for every worker,
//! multiplicative decrease on a 429 and additive recovery on answers, and the token
//! estimate of a request, corrected by reported usage.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::RunOptions;
use crate::http::HeaderMap;
use crate::response::RateLimit;
use crate::types::CreateChatCompletionRequest;

/// Tokens assumed for the answer of a request that sets no `max_completion_tokens` or
/// `max_tokens`, until answers to such requests tell their average.
const DEFAULT_COMPLETION_TOKENS: u64 = 256;

/// The share of the server's limits the runner spends: the rest absorbs the estimate's
/// errors and the jitter between starting a request and its arrival.
const SAFE_FRACTION: f64 = 0.95;

/// A 429 multiplies the rate by this...
const DECREASE: f64 = 0.7;

/// ...and every second of answers since then adds this share of the full rate back.
const RECOVERY_PER_SECOND: f64 = 0.05;

/// The rate never drops below this share of the learned one.
const MIN_FACTOR: f64 = 0.05;

/// Until an answer tells the limits (and without limits of the caller's), a request
/// starts only when none is running or this long after the last one started.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Recent start times kept to measure the rate when a server refuses without saying its
/// limits.
const RECENT_STARTS: usize = 32;

/// A request's prompt tokens, estimated as its messages' JSON length / 4.
fn prompt_tokens(request: &CreateChatCompletionRequest) -> u64 {
    serde_json::to_vec(&request.messages).map_or(0, |v| v.len() as u64) / 4
}

/// The answer's token limit the request sets, per choice.
fn answer_limit(request: &CreateChatCompletionRequest) -> Option<u64> {
    let limit = request.max_completion_tokens.or(request.max_tokens);
    limit.map(u64::from)
}

fn choices(request: &CreateChatCompletionRequest) -> u64 {
    u64::from(request.n.unwrap_or(1).max(1))
}

/// What one limit (requests or tokens per minute) is paced at.
struct Pace {
    /// The caller's `max_*_per_minute`.
    user: Option<f64>,
    /// The limit the server reported (`x-ratelimit-limit-*`), per minute.
    server: Option<f64>,
    /// The rate measured when the server refused without saying its limits.
    observed: Option<f64>,
    /// Multiplicative decrease on a 429, additive increase on answers: in
    /// `[MIN_FACTOR, 1]`.
    factor: f64,
    /// When `factor` last changed.
    since: Instant,
    /// The bucket at the paced rate, once there is one.
    bucket: Option<Bucket>,
}

impl Pace {
    fn new(user: Option<u32>, burst: Duration, now: Instant) -> Pace {
        let mut pace = Pace {
            user: user.map(f64::from),
            server: None,
            observed: None,
            factor: 1.0,
            since: now,
            bucket: None,
        };
        pace.retune(now, burst);
        pace
    }

    /// The rate per minute: the least of the server's limit at the safe fraction and the
    /// caller's, times the factor; `None` while neither is known.
    fn per_minute(&self) -> Option<f64> {
        let server = self.server.map(|s| s * SAFE_FRACTION).or(self.observed);
        let base = match (self.user, server) {
            (Some(user), Some(server)) => user.min(server),
            (user, server) => user.or(server)?,
        };
        Some(base * self.factor)
    }

    /// Makes the bucket match the rate.
    fn retune(&mut self, now: Instant, burst: Duration) {
        match (self.per_minute(), &mut self.bucket) {
            (None, bucket) => *bucket = None,
            (Some(rate), Some(bucket)) => bucket.set_rate(now, rate, burst),
            (Some(rate), bucket) => *bucket = Some(Bucket::new(rate, burst, now)),
        }
    }

    /// The limit the server reported. A bucket made now starts full but for `spent`, what
    /// the answer that told the limit cost at the server: it may not have been refilled
    /// there yet.
    fn learn(&mut self, now: Instant, limit: Option<u64>, spent: f64, burst: Duration) {
        let Some(limit) = limit.filter(|&l| l > 0) else {
            return;
        };
        let new = self.bucket.is_none();
        self.server = Some(limit as f64);
        self.retune(now, burst);
        if let (true, Some(bucket)) = (new, &mut self.bucket) {
            bucket.level = (bucket.capacity - spent).max(0.0);
        }
    }

    fn decrease(&mut self, now: Instant, burst: Duration) {
        self.factor = (self.factor * DECREASE).max(MIN_FACTOR);
        self.since = now;
        self.retune(now, burst);
    }

    fn recover(&mut self, now: Instant, burst: Duration) {
        if self.factor < 1.0 {
            let secs = now.saturating_duration_since(self.since).as_secs_f64();
            self.factor = (self.factor + secs * RECOVERY_PER_SECOND).min(1.0);
            self.retune(now, burst);
        }
        self.since = now;
    }

    /// Waits for `cost` to fit (zero: it fits now).
    fn wait(&mut self, now: Instant, cost: f64) -> Duration {
        self.bucket
            .as_mut()
            .map_or(Duration::ZERO, |b| b.wait(now, cost))
    }

    fn give(&mut self, now: Instant, amount: f64) {
        if let Some(bucket) = &mut self.bucket {
            bucket.give(now, amount);
        }
    }

    /// What the server says is left of its budget bounds what the bucket may spend.
    fn at_most(&mut self, now: Instant, left: Option<u64>) {
        if let (Some(bucket), Some(left)) = (&mut self.bucket, left) {
            bucket.refill(now);
            bucket.level = bucket.level.min(left as f64);
        }
    }
}

/// The gate and the rate buckets the workers share.
pub(super) struct Limiter {
    /// No request starts before this instant.
    paused_until: Option<Instant>,
    requests: Pace,
    tokens: Pace,
    burst: Duration,
    /// No answer yet, and no limit of the caller's: one request at a time, or one per
    /// [`PROBE_INTERVAL`] while the first ones are slow.
    probing: bool,
    running: usize,
    /// Average completion tokens (per choice) of answers to requests that set no limit.
    answer_tokens: Option<f64>,
    answers_seen: u64,
    recent: VecDeque<Instant>,
    pub(super) pauses: u64,
}

impl Limiter {
    pub(super) fn new(options: &RunOptions, now: Instant) -> Limiter {
        let user = options
            .max_requests_per_minute
            .or(options.max_tokens_per_minute);
        Limiter {
            paused_until: None,
            requests: Pace::new(options.max_requests_per_minute, options.burst, now),
            tokens: Pace::new(options.max_tokens_per_minute, options.burst, now),
            burst: options.burst,
            probing: user.is_none(),
            running: 0,
            answer_tokens: None,
            answers_seen: 0,
            recent: VecDeque::with_capacity(RECENT_STARTS),
            pauses: 0,
        }
    }

    /// The tokens a request may use: its prompt, plus its answer limit times `n` (or, for
    /// a request without one, the average answer so far, 256 before any).
    pub(super) fn estimate(&self, request: &CreateChatCompletionRequest) -> f64 {
        let answer = answer_limit(request).map(|l| l as f64);
        let answer = answer.or(self.answer_tokens);
        let answer = answer.unwrap_or(DEFAULT_COMPLETION_TOKENS as f64);
        prompt_tokens(request) as f64 + answer * choices(request) as f64
    }

    /// Takes one request and `cost` tokens if the gate is open and both buckets allow it;
    /// otherwise how long to wait before asking again.
    pub(super) fn try_take(&mut self, now: Instant, cost: f64) -> Result<(), Duration> {
        let gate = self
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let last = self
            .recent
            .back()
            .filter(|_| self.probing && self.running > 0);
        let probe = last.map_or(Duration::ZERO, |&at| {
            (at + PROBE_INTERVAL).saturating_duration_since(now)
        });
        let wait = gate
            .max(probe)
            .max(self.requests.wait(now, 1.0))
            .max(self.tokens.wait(now, cost));
        if !wait.is_zero() {
            return Err(wait);
        }
        self.requests.give(now, -1.0);
        self.tokens.give(now, -cost);
        self.running += 1;
        if self.recent.len() == RECENT_STARTS {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        Ok(())
    }

    /// Closes the gate for every worker until `until`; counts a pause when that moves
    /// the reopening later.
    fn pause_until(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|p| until > p) {
            self.paused_until = Some(until);
            self.pauses += 1;
        }
    }

    /// A request was answered: correct the token estimate by the usage, learn the limits,
    /// and let the rate recover.
    pub(super) fn answered(
        &mut self,
        now: Instant,
        request: &CreateChatCompletionRequest,
        cost: f64,
        used: Option<(u64, u64)>,
        headers: &HeaderMap,
    ) {
        self.running = self.running.saturating_sub(1);
        if let Some((total, completion)) = used {
            self.tokens.give(now, cost - total as f64);
            if answer_limit(request).is_none() {
                let per_choice = completion as f64 / choices(request) as f64;
                self.answers_seen += 1;
                let average = self.answer_tokens.unwrap_or(per_choice);
                let average = average + (per_choice - average) / self.answers_seen as f64;
                self.answer_tokens = Some(average);
            }
        }
        self.learn(now, cost, headers);
        self.requests.recover(now, self.burst);
        self.tokens.recover(now, self.burst);
    }

    /// An attempt failed: nothing of it was spent at the server (give its request and
    /// tokens back), and an error answer still tells the limits.
    pub(super) fn failed(&mut self, now: Instant, cost: f64, headers: Option<&HeaderMap>) {
        self.running = self.running.saturating_sub(1);
        self.requests.give(now, 1.0);
        self.tokens.give(now, cost);
        if let Some(headers) = headers {
            self.learn(now, cost, headers);
        }
    }

    /// The limits and budgets an answer's `x-ratelimit-*` headers tell.
    fn learn(&mut self, now: Instant, cost: f64, headers: &HeaderMap) {
        self.probing = false;
        let limit = RateLimit::from_headers(headers);
        self.requests
            .learn(now, limit.limit_requests, 1.0, self.burst);
        self.tokens.learn(now, limit.limit_tokens, cost, self.burst);
        self.requests.at_most(now, limit.remaining_requests);
        self.tokens.at_most(now, limit.remaining_tokens);
        // A server that tells only what is left, not its limit: wait for its reset.
        let spent_requests = self.requests.bucket.is_none() && limit.remaining_requests == Some(0);
        let short_tokens = self.tokens.bucket.is_none()
            && limit
                .remaining_tokens
                .is_some_and(|left| (left as f64) < cost);
        for (spent, reset) in [
            (spent_requests, limit.reset_requests),
            (short_tokens, limit.reset_tokens),
        ] {
            if let (true, Some(reset)) = (spent, reset) {
                self.pause_until(now + reset);
            }
        }
    }

    /// The server asked to slow down: close the gate until `until`, lower the rate of the
    /// limit it names (`kind`, the error's `type`: `requests` or `tokens`) once per pause,
    /// and leave the buckets empty when the gate opens so that the workers resume spread
    /// out, at the lower rate.
    pub(super) fn slow_down(&mut self, now: Instant, until: Instant, kind: Option<&str>) {
        let paused = self.paused_until.is_some_and(|p| now < p);
        self.pause_until(until);
        if !paused {
            let burst = self.burst;
            if kind == Some("tokens") && self.tokens.bucket.is_some() {
                self.tokens.decrease(now, burst);
            } else {
                if self.requests.bucket.is_none() {
                    self.requests.observed = self.recent_rate(now);
                }
                self.requests.decrease(now, burst);
            }
        }
        for pace in [&mut self.requests, &mut self.tokens] {
            if let Some(bucket) = &mut pace.bucket {
                bucket.hold_until(now, until);
            }
        }
    }

    /// Requests started per minute, over the recent starts.
    fn recent_rate(&self, now: Instant) -> Option<f64> {
        let first = *self.recent.front()?;
        let secs = now.saturating_duration_since(first).as_secs_f64();
        (secs > 0.0).then(|| self.recent.len() as f64 / secs * 60.0)
    }
}

/// A token bucket refilled continuously at a rate per minute, holding a burst's worth
/// (at least one request).
///
/// A cost larger than the bucket is let through once the bucket is full, leaving it in
/// debt, so that one big request is delayed rather than refused forever.
struct Bucket {
    per_second: f64,
    capacity: f64,
    level: f64,
    at: Instant,
}

impl Bucket {
    fn new(per_minute: f64, burst: Duration, now: Instant) -> Bucket {
        let per_second = per_minute / 60.0;
        let capacity = (per_second * burst.as_secs_f64()).max(1.0);
        Bucket {
            per_second,
            capacity,
            level: capacity,
            at: now,
        }
    }

    fn set_rate(&mut self, now: Instant, per_minute: f64, burst: Duration) {
        self.refill(now);
        self.per_second = per_minute / 60.0;
        self.capacity = (self.per_second * burst.as_secs_f64()).max(1.0);
        self.level = self.level.min(self.capacity);
    }

    fn refill(&mut self, now: Instant) {
        let secs = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + secs * self.per_second).min(self.capacity);
        self.at = self.at.max(now);
    }

    /// How long until `cost` can be taken (zero: now).
    fn wait(&mut self, now: Instant, cost: f64) -> Duration {
        self.refill(now);
        let need = cost.min(self.capacity);
        if self.level >= need {
            return Duration::ZERO;
        }
        let until_refilled = self.at.saturating_duration_since(now);
        // At least a millisecond, so rounding never spins.
        let refill = Duration::try_from_secs_f64((need - self.level) / self.per_second)
            .unwrap_or(Duration::MAX)
            .max(Duration::from_millis(1));
        until_refilled.saturating_add(refill)
    }

    fn give(&mut self, now: Instant, amount: f64) {
        self.refill(now);
        self.level = (self.level + amount).min(self.capacity);
    }

    /// Empty (or in debt) at `until`, refilling only from then on.
    fn hold_until(&mut self, now: Instant, until: Instant) {
        self.refill(now);
        self.level = self.level.min(0.0);
        self.at = self.at.max(until);
    }
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
