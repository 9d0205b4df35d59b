//! [`ChatApi::run_many`]: many chat requests over worker threads sharing one client,
//! throttled to the caller's limits and to what the server says.
//!
//! The workers share one `Limiter`: a gate that a 429 (or an exhausted
//! `x-ratelimit-remaining-*`) closes for every worker at once, and a token bucket each for
//! requests and tokens per minute. The client's own retry loop is off for these calls
//! (`max_retries(0)`): a 429 is retried by the runner, after the shared gate opens, so one
//! 429 pauses the run once instead of every worker sleeping on its own.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::api::ChatApi;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, StoppedError};
use crate::http::HeaderMap;
use crate::options::RequestOptions;
use crate::response::{ApiResponse, RateLimit};
use crate::retry::{self, Decision, Jitter, SeededJitter};
use crate::types::{CreateChatCompletionRequest, CreateChatCompletionResponse};

/// The longest a waiting worker sleeps before it looks at cancellation again.
const SLICE: Duration = Duration::from_millis(100);

/// Tokens assumed for the answer of a request that sets no `max_completion_tokens` or
/// `max_tokens`, until the reported usage corrects the estimate.
const DEFAULT_COMPLETION_TOKENS: u64 = 256;

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

/// How [`ChatApi::run_many`] runs: threads, rate limits, retries, time limit, cancellation.
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
            .field("time_limit", &self.time_limit)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("abandon_running", &self.abandon_running)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    /// The defaults: 4 threads, no limits of its own, 6 retries per request.
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    /// Worker threads, all sharing the client's connection pool; 0 counts as 1, and no
    /// more threads than requests are started. Defaults to 4.
    pub fn threads(mut self, threads: usize) -> RunOptions {
        self.threads = threads.max(1);
        self
    }

    /// Starts at most this many requests per minute, with bursts of up to a tenth of it
    /// (at least one). Defaults to no limit of its own (the server's limits always apply).
    pub fn max_requests_per_minute(mut self, limit: u32) -> RunOptions {
        self.max_requests_per_minute = Some(limit.max(1));
        self
    }

    /// Spends at most this many tokens per minute, with bursts of up to a tenth of it.
    ///
    /// A request's tokens are estimated before it is sent (its messages' length / 4, plus
    /// `max_completion_tokens` or `max_tokens` times `n`, or 256 when neither is set) and
    /// corrected by the `usage` the answer reports. Defaults to no limit of its own.
    pub fn max_tokens_per_minute(mut self, limit: u32) -> RunOptions {
        self.max_tokens_per_minute = Some(limit.max(1));
        self
    }

    /// Retries per request for rate limits (429), overload (5xx) and connection failures,
    /// by the client's policy (`retry-after` first, else exponential backoff); the client's
    /// own `max_retries` is not used. Defaults to 6.
    pub fn max_retries(mut self, retries: u32) -> RunOptions {
        self.max_retries = retries;
        self
    }

    /// Starts no request once this long has passed since the run began; requests not
    /// started end as [`Error::Stopped`]. Defaults to no limit.
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

/// How far a bulk run is, given to the callback of [`ChatApi::run_many_with`] after each
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
    /// once per 429, and once per answer saying a rate-limit budget is spent.
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

/// What [`ChatApi::run_many`] returns: one result per request, in input order.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunReport {
    /// `results[i]` is the answer to (or the error of) request `i`.
    pub results: Vec<BulkResult>,
    /// The counts and rates at the end of the run.
    pub progress: Progress,
}

impl ChatApi {
    /// Runs many chat requests over [`RunOptions::threads`] worker threads sharing this
    /// client, and returns one result per request, in input order.
    ///
    /// One failure never stops the others. The run is throttled to the options' requests
    /// and tokens per minute, and always to what the server says: a 429 closes a gate
    /// shared by every worker until its `retry-after` has passed (one pause, not one per
    /// worker) and the request is retried, and an answer whose `x-ratelimit-remaining-*`
    /// is spent closes the gate until its `x-ratelimit-reset-*`. Once cancelled or past
    /// its time limit, the run starts no new request; the ones not started end as
    /// [`Error::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::bulk::RunOptions;
    /// use sync_openai::{ChatApi, Config};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// # let server = httpmock::MockServer::start();
    /// # server.mock(|when, then| {
    /// #     when.method("POST").path("/v1/chat/completions");
    /// #     then.status(200).body(r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#);
    /// # });
    /// # let base_url = server.url("/v1");
    ///
    /// let api = ChatApi::new(Config::new().api_key("sk-...").base_url(base_url));
    /// let requests: Vec<_> = ["red", "green", "blue"]
    ///     .iter()
    ///     .map(|c| CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user(format!("Name a {c} fruit"))]))
    ///     .collect();
    /// let report = api.run_many(requests, &RunOptions::new().threads(2).max_requests_per_minute(600));
    /// assert_eq!(report.results.len(), 3);
    /// assert_eq!(report.progress.failed, 0);
    /// ```
    pub fn run_many(
        &self,
        requests: Vec<CreateChatCompletionRequest>,
        options: &RunOptions,
    ) -> RunReport {
        self.run_many_with(requests, options, |_, _, _| {})
    }

    /// Like [`run_many`](ChatApi::run_many), calling `on_result(index, result, progress)`
    /// on the calling thread as each request finishes (in the order they finish).
    ///
    /// Use it to write results as they come and to show progress; `progress` counts the
    /// request just finished.
    pub fn run_many_with(
        &self,
        requests: Vec<CreateChatCompletionRequest>,
        options: &RunOptions,
        mut on_result: impl FnMut(usize, &BulkResult, &Progress),
    ) -> RunReport {
        let total = requests.len();
        let api = self.with_options(RequestOptions::new().max_retries(0));
        let shared = Arc::new(Shared::new(api, requests, options));
        let (tx, rx) = mpsc::channel::<(usize, BulkResult)>();
        let handles = spawn_workers(&shared, options.threads.min(total), tx);
        let mut slots: Vec<Option<BulkResult>> = (0..total).map(|_| None).collect();
        let mut progress = Progress {
            total,
            ..Progress::default()
        };
        let abandoned = loop {
            if progress.done == total {
                break false;
            }
            let received = match options.abandon_running {
                true => rx.recv_timeout(SLICE),
                false => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok((index, result)) => {
                    progress.done += 1;
                    progress.failed += usize::from(result.is_err());
                    shared.update(&mut progress);
                    on_result(index, &result, &progress);
                    if let Some(slot) = slots.get_mut(index) {
                        *slot = Some(result);
                    }
                }
                Err(RecvTimeoutError::Timeout) if shared.stop().is_some() => break true,
                Err(RecvTimeoutError::Timeout) => {}
                // Every worker has ended; any slot still empty is reported below.
                Err(RecvTimeoutError::Disconnected) => break false,
            }
        };
        if !abandoned {
            for handle in handles {
                // A worker that panicked has left its slot empty: reported below.
                let _ = handle.join();
            }
        }
        let results = shared.fill(slots);
        if abandoned {
            progress.failed += total - progress.done;
            progress.done = total;
        }
        shared.update(&mut progress);
        RunReport { results, progress }
    }
}

/// Starts the workers; with none started, runs the work on this thread.
fn spawn_workers(
    shared: &Arc<Shared>,
    threads: usize,
    tx: mpsc::Sender<(usize, BulkResult)>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for n in 0..threads {
        let (shared, tx) = (Arc::clone(shared), tx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("sync-openai-bulk-{n}"))
            .spawn(move || worker(&shared, &tx));
        // A thread that cannot be started only means fewer workers.
        if let Ok(handle) = spawned {
            handles.push(handle);
        }
    }
    if handles.is_empty() {
        worker(shared, &tx);
    }
    handles
}

/// What the workers share.
struct Shared {
    /// The caller's client with its own retries off: the runner retries.
    api: ChatApi,
    requests: Vec<CreateChatCompletionRequest>,
    /// Whether request `i` has been handed to the client.
    sent: Vec<AtomicBool>,
    /// The index of the next request to start.
    next: AtomicUsize,
    limiter: Mutex<Limiter>,
    tokens: AtomicU64,
    rate_limited: AtomicU64,
    max_retries: u32,
    /// When the run began, on its clock.
    started: Instant,
    deadline: Option<Instant>,
    cancel: CancelToken,
    clock: Arc<dyn Clock>,
}

impl Shared {
    fn new(
        api: ChatApi,
        requests: Vec<CreateChatCompletionRequest>,
        options: &RunOptions,
    ) -> Shared {
        let clock = Arc::clone(&options.clock);
        let started = clock.now();
        Shared {
            api,
            sent: requests.iter().map(|_| AtomicBool::new(false)).collect(),
            requests,
            next: AtomicUsize::new(0),
            limiter: Mutex::new(Limiter::new(options, started)),
            tokens: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            max_retries: options.max_retries,
            started,
            deadline: options.time_limit.and_then(|t| started.checked_add(t)),
            cancel: options.cancel.clone(),
            clock,
        }
    }

    /// The results, an empty slot (a request abandoned or never reported) as stopped.
    fn fill(&self, slots: Vec<Option<BulkResult>>) -> Vec<BulkResult> {
        let cancelled = self.cancel.is_cancelled();
        let stopped = |i: usize| {
            let sent = self.sent.get(i).is_some_and(|s| s.load(Ordering::SeqCst));
            Err(Error::Stopped(StoppedError { cancelled, sent }))
        };
        let filled = slots.into_iter().enumerate();
        filled
            .map(|(i, slot)| slot.unwrap_or_else(|| stopped(i)))
            .collect()
    }

    fn limiter(&self) -> MutexGuard<'_, Limiter> {
        // The limiter's state stays consistent at every step: a panic elsewhere while it
        // was held leaves nothing half-done.
        self.limiter.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why no new request may start, if one may not: `Some(true)` cancelled,
    /// `Some(false)` past the time limit.
    fn stop(&self) -> Option<bool> {
        if self.cancel.is_cancelled() {
            return Some(true);
        }
        let late = self.deadline.is_some_and(|d| self.clock.now() >= d);
        late.then_some(false)
    }

    /// Waits until the gate is open and the buckets hold `cost`, then takes it.
    fn acquire(&self, cost: f64) -> Result<(), bool> {
        loop {
            if let Some(cancelled) = self.stop() {
                return Err(cancelled);
            }
            let now = self.clock.now();
            let wait = self.limiter().try_take(now, cost);
            match wait {
                None => return Ok(()),
                Some(wait) => self.clock.sleep(wait.min(SLICE)),
            }
        }
    }

    /// Sleeps until `until`, waking early when the run stops.
    fn sleep_until(&self, until: Instant) {
        loop {
            let now = self.clock.now();
            if now >= until || self.stop().is_some() {
                return;
            }
            self.clock.sleep((until - now).min(SLICE));
        }
    }

    fn update(&self, progress: &mut Progress) {
        progress.elapsed = self.clock.now().saturating_duration_since(self.started);
        progress.tokens = self.tokens.load(Ordering::SeqCst);
        progress.rate_limited = self.rate_limited.load(Ordering::SeqCst);
        progress.pauses = self.limiter().pauses;
        let minutes = progress.elapsed.as_secs_f64() / 60.0;
        if minutes > 0.0 {
            progress.requests_per_minute = progress.done as f64 / minutes;
            progress.tokens_per_minute = progress.tokens as f64 / minutes;
        }
    }
}

fn worker(shared: &Shared, tx: &mpsc::Sender<(usize, BulkResult)>) {
    let mut jitter = SeededJitter::from_entropy();
    loop {
        let index = shared.next.fetch_add(1, Ordering::SeqCst);
        let Some(request) = shared.requests.get(index) else {
            return;
        };
        let result = run_one(shared, index, request, &mut jitter);
        if tx.send((index, result)).is_err() {
            // The run was abandoned: nobody reads results any more.
            return;
        }
    }
}

fn run_one(
    shared: &Shared,
    index: usize,
    request: &CreateChatCompletionRequest,
    jitter: &mut SeededJitter,
) -> BulkResult {
    let cost = estimate_tokens(request) as f64;
    let mut retries = 0u32;
    let mut last: Option<Error> = None;
    loop {
        if let Err(cancelled) = shared.acquire(cost) {
            return Err(match last {
                Some(error) => error.with_retries(retries),
                None => Error::Stopped(StoppedError {
                    cancelled,
                    sent: false,
                }),
            });
        }
        if let Some(sent) = shared.sent.get(index) {
            sent.store(true, Ordering::SeqCst);
        }
        let error = match shared.api.create_chat_completion_with_http_info(request) {
            Ok(mut response) => {
                let used = response.data.usage.as_ref().map(|u| u.total_tokens);
                shared.tokens.fetch_add(used.unwrap_or(0), Ordering::SeqCst);
                let now = shared.clock.now();
                shared
                    .limiter()
                    .answered(now, cost, used, &response.headers);
                response.retries = retries;
                return Ok(response);
            }
            Err(error) => error,
        };
        let now = shared.clock.now();
        // The request was not run: give its estimate back.
        shared.limiter().refund(now, cost);
        let is_429 = error.status() == Some(429);
        if is_429 {
            shared.rate_limited.fetch_add(1, Ordering::SeqCst);
        }
        let remaining = shared.deadline.map(|d| d.saturating_duration_since(now));
        match decide(&error, retries, shared.max_retries, remaining, jitter) {
            Decision::Retry(delay) => {
                retries += 1;
                if is_429 {
                    // Every worker waits at the gate, this one included.
                    shared.limiter().pause_until(now + delay);
                } else {
                    shared.sleep_until(now + delay);
                }
                last = Some(error);
            }
            Decision::GiveUp { .. } => return Err(error.with_retries(retries)),
        }
    }
}

/// The client's retry policy applied to a failed attempt.
fn decide(
    error: &Error,
    retries: u32,
    max_retries: u32,
    remaining: Option<Duration>,
    jitter: &mut dyn Jitter,
) -> Decision {
    let Some(outcome) = error.retry_outcome() else {
        return Decision::GiveUp { retry_after: None };
    };
    retry::decide(
        &outcome,
        retries,
        max_retries,
        remaining,
        SystemTime::now(),
        jitter,
    )
}

/// The tokens a request may use: its messages' JSON length / 4, plus the answer's limit.
pub(crate) fn estimate_tokens(request: &CreateChatCompletionRequest) -> u64 {
    let prompt = serde_json::to_vec(&request.messages).map_or(0, |v| v.len() as u64) / 4;
    let answer = request
        .max_completion_tokens
        .or(request.max_tokens)
        .map_or(DEFAULT_COMPLETION_TOKENS, u64::from);
    prompt + answer * u64::from(request.n.unwrap_or(1).max(1))
}

/// The shared gate and the rate buckets.
struct Limiter {
    /// No request starts before this instant.
    paused_until: Option<Instant>,
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
    pauses: u64,
}

impl Limiter {
    fn new(options: &RunOptions, now: Instant) -> Limiter {
        Limiter {
            paused_until: None,
            requests: options.max_requests_per_minute.map(|l| Bucket::new(l, now)),
            tokens: options.max_tokens_per_minute.map(|l| Bucket::new(l, now)),
            pauses: 0,
        }
    }

    /// Takes one request and `cost` tokens if the gate is open and both buckets allow it;
    /// otherwise how long to wait before asking again.
    fn try_take(&mut self, now: Instant, cost: f64) -> Option<Duration> {
        let gate = self
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let requests = self
            .requests
            .as_mut()
            .map_or(Duration::ZERO, |b| b.wait(now, 1.0));
        let tokens = self
            .tokens
            .as_mut()
            .map_or(Duration::ZERO, |b| b.wait(now, cost));
        let wait = gate.max(requests).max(tokens);
        if !wait.is_zero() {
            return Some(wait);
        }
        if let Some(b) = &mut self.requests {
            b.level -= 1.0;
        }
        if let Some(b) = &mut self.tokens {
            b.level -= cost;
        }
        None
    }

    /// Closes the gate for every worker until `until`; counts a pause when that moves
    /// the reopening later.
    fn pause_until(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|p| until > p) {
            self.paused_until = Some(until);
            self.pauses += 1;
        }
    }

    /// A request was answered: correct the token estimate and obey the server's budgets.
    fn answered(&mut self, now: Instant, cost: f64, used: Option<u64>, headers: &HeaderMap) {
        if let (Some(bucket), Some(used)) = (&mut self.tokens, used) {
            bucket.give(now, cost - used as f64);
        }
        let limit = RateLimit::from_headers(headers);
        if limit.remaining_requests == Some(0) {
            if let Some(reset) = limit.reset_requests {
                self.pause_until(now + reset);
            }
        }
        if limit
            .remaining_tokens
            .is_some_and(|left| (left as f64) < cost)
        {
            if let Some(reset) = limit.reset_tokens {
                self.pause_until(now + reset);
            }
        }
    }

    /// A request failed without being run: its request and tokens are given back.
    fn refund(&mut self, now: Instant, cost: f64) {
        if let Some(b) = &mut self.requests {
            b.give(now, 1.0);
        }
        if let Some(b) = &mut self.tokens {
            b.give(now, cost);
        }
    }
}

/// A token bucket refilled continuously at `limit` per minute, holding a tenth of it.
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
    fn new(per_minute: u32, now: Instant) -> Bucket {
        let capacity = (f64::from(per_minute) / 10.0).max(1.0);
        Bucket {
            per_second: f64::from(per_minute) / 60.0,
            capacity,
            level: capacity,
            at: now,
        }
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
        // At least a millisecond, so rounding never spins.
        Duration::try_from_secs_f64((need - self.level) / self.per_second)
            .unwrap_or(Duration::MAX)
            .max(Duration::from_millis(1))
    }

    fn give(&mut self, now: Instant, amount: f64) {
        self.refill(now);
        self.level = (self.level + amount).min(self.capacity);
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::ChatCompletionRequestMessage as Message;

    #[test]
    fn estimate_counts_prompt_and_answer_limit() {
        let req = CreateChatCompletionRequest::new("m", vec![Message::user("x".repeat(400))])
            .max_completion_tokens(100)
            .n(2);
        let prompt = serde_json::to_vec(&req.messages).map_or(0, |v| v.len() as u64) / 4;
        assert!(prompt >= 100);
        assert_eq!(estimate_tokens(&req), prompt + 200);
        let bare = CreateChatCompletionRequest::new("m", vec![]);
        assert_eq!(estimate_tokens(&bare), DEFAULT_COMPLETION_TOKENS);
    }

    #[test]
    fn bucket_waits_for_refill_and_lets_a_big_cost_through_when_full() {
        let t0 = Instant::now();
        let mut b = Bucket::new(600, t0); // 10 per second, holds 60
        assert_eq!(b.wait(t0, 60.0), Duration::ZERO);
        b.level -= 60.0;
        assert_eq!(b.wait(t0, 10.0), Duration::from_secs(1));
        assert_eq!(b.wait(t0 + Duration::from_secs(1), 10.0), Duration::ZERO);
        // 1000 > capacity: allowed once full (60 s of refill from empty is 6 s).
        let mut big = Bucket::new(600, t0);
        big.level = 0.0;
        assert_eq!(big.wait(t0, 1000.0), Duration::from_secs(6));
    }

    #[test]
    fn one_pause_per_later_reopening() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new(), t0);
        l.pause_until(t0 + Duration::from_secs(1));
        l.pause_until(t0 + Duration::from_millis(500)); // inside the first: no new pause
        assert_eq!(l.pauses, 1);
        assert_eq!(l.try_take(t0, 1.0), Some(Duration::from_secs(1)));
        assert_eq!(l.try_take(t0 + Duration::from_secs(1), 1.0), None);
        l.pause_until(t0 + Duration::from_secs(2));
        assert_eq!(l.pauses, 2);
    }

    #[test]
    fn spent_budget_headers_close_the_gate() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new(), t0);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining-requests", "0".parse().unwrap());
        h.insert("x-ratelimit-reset-requests", "2s".parse().unwrap());
        l.answered(t0, 10.0, Some(10), &h);
        assert_eq!(l.pauses, 1);
        assert_eq!(l.try_take(t0, 1.0), Some(Duration::from_secs(2)));
    }
}
