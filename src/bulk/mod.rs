//! [`ChatApi::run_many`](crate::ChatApi::run_many): many chat requests over worker threads sharing one client,
//! paced to what the server says its limits are, and to the caller's.
//!
//! The workers share one `Limiter`: a token bucket for requests and one for tokens,
//! each refilled at a safe fraction (`SAFE_FRACTION`) of the limit the server reports in
//! `x-ratelimit-limit-*` (and at most the caller's `max_*_per_minute`), and a gate that a
//! 429 closes for every worker at once. Until the first answer tells the limits, one
//! request runs at a time. A 429 lowers the rate (multiplicative decrease) and leaves
//! the buckets empty when the gate opens, so that the workers resume one by one at the
//! lower rate; answers raise it again (additive increase) up to the safe fraction. The
//! client's own retry loop is off for these calls (`max_retries(0)`): the runner retries,
//! a 429 (or a 503 with `retry-after`) for as long as the run has time.
//!
//! For a run over JSONL files in the Batch API's shapes (what `examples/bulk.rs` does):
//! [`read_requests`] reads `{"custom_id", "body"}` lines or bare requests, [`result_line`]
//! makes the output line of a result, and [`resume_output`] keeps what an earlier run on
//! the same output finished, so that a rerun runs only the rest.

// One job per file: the options, progress and result types (`mod.rs`); the runner, its
// workers and their retries (`run.rs`); the limiter, its pacing and token estimates
// (`limiter.rs`, its unit tests in `limiter/tests.rs`); JSONL in and out in the Batch
// API's shapes (`jsonl.rs`, its unit tests in `jsonl/tests.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::response::ApiResponse;
use crate::types::CreateChatCompletionResponse;

mod jsonl;
mod limiter;
mod run;

pub use jsonl::{read_requests, result_line, resume_output, JsonlError};

/// One request's result in a bulk run: the answer with its status and headers, or why not.
pub type BulkResult = Result<ApiResponse<CreateChatCompletionResponse>, Error>;

/// A handle that stops a bulk run from any thread; clones share the flag.
///
/// Once cancelled, no new request is started; running ones finish (or are abandoned, see
/// [`RunOptions::abandon_running`]).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Cancels the runs that hold this token (or a clone of it).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](CancelToken::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How [`ChatApi::run_many`](crate::ChatApi::run_many) runs: threads, rate limits, retries, time limit, cancellation.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sync_openai::bulk::RunOptions;
///
/// let options = RunOptions::new()
///     .threads(8)
///     .max_requests_per_minute(500)
///     .max_tokens_per_minute(200_000)
///     .time_limit(Duration::from_secs(3600));
/// # drop(options);
/// ```
#[derive(Clone)]
pub struct RunOptions {
    threads: usize,
    max_requests_per_minute: Option<u32>,
    max_tokens_per_minute: Option<u32>,
    max_retries: u32,
    burst: Duration,
    time_limit: Option<Duration>,
    cancel: CancelToken,
    abandon_running: bool,
    clock: Arc<dyn Clock>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: 4,
            max_requests_per_minute: None,
            max_tokens_per_minute: None,
            max_retries: 6,
            burst: Duration::from_secs(1),
            time_limit: None,
            cancel: CancelToken::new(),
            abandon_running: false,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("threads", &self.threads)
            .field("max_requests_per_minute", &self.max_requests_per_minute)
            .field("max_tokens_per_minute", &self.max_tokens_per_minute)
            .field("max_retries", &self.max_retries)
            .field("burst", &self.burst)
            .field("time_limit", &self.time_limit)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("abandon_running", &self.abandon_running)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    /// The defaults: 4 threads, no limits of its own (the server's apply), 6 retries per
    /// request for failures other than rate limits, bursts of one second.
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    /// Worker threads, all sharing the client's connection pool; 0 counts as 1, and no
    /// more threads than requests are started. Defaults to 4.
    pub fn threads(mut self, threads: usize) -> RunOptions {
        self.threads = threads.max(1);
        self
    }

    /// Starts at most this many requests per minute, with bursts of up to
    /// [`burst`](RunOptions::burst)'s share of it (at least one request). Defaults to no
    /// limit of its own: the run is paced to 95 % of the limit the server reports in
    /// `x-ratelimit-limit-requests`, and this caps it further.
    pub fn max_requests_per_minute(mut self, limit: u32) -> RunOptions {
        self.max_requests_per_minute = Some(limit.max(1));
        self
    }

    /// Spends at most this many tokens per minute, with bursts of up to
    /// [`burst`](RunOptions::burst)'s share of it.
    ///
    /// A request's tokens are estimated before it is sent (its messages' JSON length / 4,
    /// plus `max_completion_tokens` or `max_tokens` times `n`; for a request that sets
    /// neither, the average answer so far, 256 before the first) and corrected by the
    /// `usage` the answer reports. Defaults to no limit of its own: the run is paced to
    /// 95 % of the limit the server reports in `x-ratelimit-limit-tokens`, and this caps it
    /// further.
    pub fn max_tokens_per_minute(mut self, limit: u32) -> RunOptions {
        self.max_tokens_per_minute = Some(limit.max(1));
        self
    }

    /// Retries per request for overload (5xx), 408, 409 and connection failures, by the
    /// client's policy (`retry-after` first, else exponential backoff); the client's own
    /// `max_retries` is not used. Defaults to 6.
    ///
    /// Rate limits are not counted here: a 429 (unless `insufficient_quota`) and a 503 with
    /// `retry-after` are retried for as long as the run has time
    /// ([`time_limit`](RunOptions::time_limit), [`cancel_token`](RunOptions::cancel_token)),
    /// waiting what the server asks (at most a minute at a time).
    pub fn max_retries(mut self, retries: u32) -> RunOptions {
        self.max_retries = retries;
        self
    }

    /// The longest burst: the rate buckets hold this long's share of their limits, so
    /// after a quiet spell at most that many requests (and tokens) start at once.
    ///
    /// OpenAI enforces its per-minute limits in one-second slices (600 requests per minute
    /// admit 10 at once); a server that enforces in shorter slices needs a shorter burst.
    /// Defaults to 1 s.
    pub fn burst(mut self, burst: Duration) -> RunOptions {
        self.burst = burst;
        self
    }

    /// Starts no request once this long has passed since the run began; requests not
    /// started end as [`Error::Stopped`], and a request still rate limited then ends with
    /// its 429. Defaults to no limit.
    pub fn time_limit(mut self, limit: Duration) -> RunOptions {
        self.time_limit = Some(limit);
        self
    }

    /// Stops the run when this token is cancelled. Defaults to a token nobody holds.
    pub fn cancel_token(mut self, token: CancelToken) -> RunOptions {
        self.cancel = token;
        self
    }

    /// When the run is cancelled or reaches its time limit: `false` waits for the
    /// requests already sent, `true` returns at once and reports them as
    /// [`Error::Stopped`] (their threads finish in the background and their answers are
    /// dropped). Defaults to `false`.
    pub fn abandon_running(mut self, abandon: bool) -> RunOptions {
        self.abandon_running = abandon;
        self
    }

    /// The clock and sleeper the run uses for throttling, backoff and its time limit.
    /// Defaults to [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> RunOptions {
        self.clock = Arc::new(clock);
        self
    }
}

/// How far a bulk run is, given to the callback of [`ChatApi::run_many_with`](crate::ChatApi::run_many_with) after each
/// request and returned at the end in [`RunReport::progress`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Requests finished, successfully or not.
    pub done: usize,
    /// Of the finished requests, those that failed.
    pub failed: usize,
    /// Requests in the run.
    pub total: usize,
    /// Finished requests per minute since the run began.
    pub requests_per_minute: f64,
    /// Tokens per minute since the run began, from the answers' reported usage.
    pub tokens_per_minute: f64,
    /// Tokens the answers reported (`usage.total_tokens`), summed.
    pub tokens: u64,
    /// 429 answers received (each retried request counts once per 429).
    pub rate_limited: u64,
    /// Times the shared gate was closed (or its reopening pushed later) for every worker:
    /// once per 429 (or 503 with `retry-after`) that extends it, and once per answer of a
    /// server without `x-ratelimit-limit-*` saying its budget is spent.
    pub pauses: u64,
    /// Time since the run began.
    pub elapsed: Duration,
}

impl Progress {
    /// The time left at the rate so far, once at least one request finished.
    pub fn eta(&self) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let per_request = self.elapsed.as_secs_f64() / self.done as f64;
        Duration::try_from_secs_f64(per_request * self.total.saturating_sub(self.done) as f64).ok()
    }
}

/// What [`ChatApi::run_many`](crate::ChatApi::run_many) returns: one result per request, in input order.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunReport {
    /// `results[i]` is the answer to (or the error of) request `i`.
    pub results: Vec<BulkResult>,
    /// The counts and rates at the end of the run.
    pub progress: Progress,
}
