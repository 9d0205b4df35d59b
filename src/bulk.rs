//! [`ChatApi::run_many`]: many chat requests over worker threads sharing one client,
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

use std::collections::VecDeque;
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
    /// One failure never stops the others. The run is paced by what the server says:
    /// the first request goes alone (others follow one per 250 ms only while it is slow),
    /// and its answer's `x-ratelimit-limit-requests` and
    /// `-tokens` set a request bucket and a token bucket at 95 % of them, which start the
    /// requests at that rate however many threads there are (the options' requests and
    /// tokens per minute cap it further). A 429 closes a gate shared by every worker until
    /// its `retry-after` has passed (one pause, not one per worker), lowers the rate, and
    /// the workers resume one by one; the rate recovers while answers succeed. A
    /// rate-limited request is retried for as long as the run has time. Once cancelled or
    /// past its time limit, the run starts no new request; the ones not started end as
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
    /// The client's waits between attempts (`Config::retry_backoff`).
    backoff: retry::Backoff,
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
        let backoff = api.config().retry_backoff;
        Shared {
            backoff,
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

    /// Waits until the gate is open and the buckets hold the request's cost, then takes
    /// it; returns the cost taken.
    fn acquire(&self, request: &CreateChatCompletionRequest) -> Result<f64, bool> {
        loop {
            if let Some(cancelled) = self.stop() {
                return Err(cancelled);
            }
            let now = self.clock.now();
            let taken = {
                let mut limiter = self.limiter();
                let cost = limiter.estimate(request);
                limiter.try_take(now, cost).map(|()| cost)
            };
            match taken {
                Ok(cost) => return Ok(cost),
                Err(wait) => self.clock.sleep(wait.min(SLICE)),
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

/// The retries one request has taken: all of them, and those that count against
/// [`RunOptions::max_retries`] (not the rate limits').
#[derive(Default)]
struct Retries {
    all: u32,
    counted: u32,
}

fn run_one(
    shared: &Shared,
    index: usize,
    request: &CreateChatCompletionRequest,
    jitter: &mut SeededJitter,
) -> BulkResult {
    let mut retries = Retries::default();
    let mut last: Option<Error> = None;
    loop {
        let cost = match shared.acquire(request) {
            Ok(cost) => cost,
            Err(cancelled) => {
                return Err(match last {
                    Some(error) => error.with_retries(retries.all),
                    None => Error::Stopped(StoppedError {
                        cancelled,
                        sent: false,
                    }),
                })
            }
        };
        if let Some(sent) = shared.sent.get(index) {
            sent.store(true, Ordering::SeqCst);
        }
        let error = match shared.api.create_chat_completion_with_http_info(request) {
            Ok(mut response) => {
                let usage = response.data.usage.as_ref();
                let used = usage.map(|u| (u.total_tokens, u.completion_tokens));
                shared
                    .tokens
                    .fetch_add(used.map_or(0, |u| u.0), Ordering::SeqCst);
                let now = shared.clock.now();
                let mut limiter = shared.limiter();
                limiter.answered(now, request, cost, used, &response.headers);
                response.retries = retries.all;
                return Ok(response);
            }
            Err(error) => error,
        };
        match retry_after_failure(shared, &error, cost, &mut retries, jitter) {
            Some(()) => last = Some(error),
            None => return Err(error.with_retries(retries.all)),
        }
    }
}

/// Books a failed attempt with the limiter and waits before the retry; `None`: give up.
fn retry_after_failure(
    shared: &Shared,
    error: &Error,
    cost: f64,
    retries: &mut Retries,
    jitter: &mut SeededJitter,
) -> Option<()> {
    let now = shared.clock.now();
    let slow_down = slow_down(error);
    let headers = match error {
        Error::Api(e) => Some(&e.headers),
        _ => None,
    };
    shared.limiter().failed(now, cost, headers);
    if error.status() == Some(429) {
        shared.rate_limited.fetch_add(1, Ordering::SeqCst);
    }
    let remaining = shared.deadline.map(|d| d.saturating_duration_since(now));
    let Some(server_delay) = slow_down else {
        let decision = decide(
            &shared.backoff,
            error,
            retries.counted,
            shared.max_retries,
            remaining,
            jitter,
        );
        let Decision::Retry(delay) = decision else {
            return None;
        };
        retries.counted += 1;
        retries.all += 1;
        shared.sleep_until(now + delay);
        return Some(());
    };
    // Rate limited: retried for as long as the run has time, after the server's delay
    // (at most a minute at a time) or a backoff, with every worker waiting at the gate.
    let backoff = || shared.backoff.delay(retries.all.min(4), jitter.next_f64());
    let delay = server_delay.map_or_else(backoff, |d| d.min(retry::MAX_SERVER_DELAY));
    if remaining.is_some_and(|left| delay >= left) {
        return None;
    }
    retries.all += 1;
    let kind = match error {
        Error::Api(e) => e.error_type(),
        _ => None,
    };
    shared.limiter().slow_down(now, now + delay, kind);
    Some(())
}

/// For an answer that asks the run to slow down, the delay the server asked for (if it
/// said one): a 429 that waiting can cure (not `insufficient_quota`), or a 503 with a
/// `retry-after`. These are retried until the run's time limit, not `max_retries` times.
fn slow_down(error: &Error) -> Option<Option<Duration>> {
    let Error::Api(e) = error else {
        return None;
    };
    let delay = retry::server_delay(&e.headers, SystemTime::now());
    let asked = e.status == 429 || (e.status == 503 && delay.is_some());
    (asked && error.is_retryable()).then_some(delay)
}

/// The client's retry policy applied to a failed attempt.
fn decide(
    backoff: &retry::Backoff,
    error: &Error,
    retries: u32,
    max_retries: u32,
    remaining: Option<Duration>,
    jitter: &mut dyn Jitter,
) -> Decision {
    let Some(outcome) = error.retry_outcome() else {
        return Decision::GiveUp { retry_after: None };
    };
    retry::decide_with(
        backoff,
        &outcome,
        retries,
        max_retries,
        remaining,
        SystemTime::now(),
        jitter,
    )
}

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
struct Limiter {
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
    pauses: u64,
}

impl Limiter {
    fn new(options: &RunOptions, now: Instant) -> Limiter {
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
    fn estimate(&self, request: &CreateChatCompletionRequest) -> f64 {
        let answer = answer_limit(request).map(|l| l as f64);
        let answer = answer.or(self.answer_tokens);
        let answer = answer.unwrap_or(DEFAULT_COMPLETION_TOKENS as f64);
        prompt_tokens(request) as f64 + answer * choices(request) as f64
    }

    /// Takes one request and `cost` tokens if the gate is open and both buckets allow it;
    /// otherwise how long to wait before asking again.
    fn try_take(&mut self, now: Instant, cost: f64) -> Result<(), Duration> {
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
    fn answered(
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
    fn failed(&mut self, now: Instant, cost: f64, headers: Option<&HeaderMap>) {
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
    fn slow_down(&mut self, now: Instant, until: Instant, kind: Option<&str>) {
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

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::ChatCompletionRequestMessage as Message;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    fn openai_headers() -> HeaderMap {
        headers(&[
            ("x-ratelimit-limit-requests", "600"),
            ("x-ratelimit-limit-tokens", "60000"),
            ("x-ratelimit-remaining-requests", "599"),
            ("x-ratelimit-remaining-tokens", "59990"),
            ("x-ratelimit-reset-requests", "100ms"),
            ("x-ratelimit-reset-tokens", "10ms"),
        ])
    }

    /// Takes requests of `cost` as fast as the limiter allows for `secs` seconds (on a
    /// clock that only moves when told), answering each at once; returns how many started.
    fn drain(l: &mut Limiter, t0: Instant, secs: u64, cost: f64) -> usize {
        let (mut now, mut started) = (t0, 0);
        let end = t0 + Duration::from_secs(secs);
        let req = CreateChatCompletionRequest::new("m", vec![]).max_completion_tokens(0);
        while now < end {
            match l.try_take(now, cost) {
                Ok(()) => {
                    started += 1;
                    l.answered(now, &req, cost, None, &HeaderMap::new());
                }
                Err(wait) => now += wait,
            }
        }
        started
    }

    #[test]
    fn estimate_counts_prompt_and_answer_limit_then_the_average_answer() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new(), t0);
        let req = CreateChatCompletionRequest::new("m", vec![Message::user("x".repeat(400))])
            .max_completion_tokens(100)
            .n(2);
        let prompt = serde_json::to_vec(&req.messages).map_or(0, |v| v.len() as u64) / 4;
        assert!(prompt >= 100);
        assert_eq!(l.estimate(&req), (prompt + 200) as f64);
        let bare = CreateChatCompletionRequest::new("m", vec![]);
        assert_eq!(l.estimate(&bare), DEFAULT_COMPLETION_TOKENS as f64);
        // Answers of 10 and 30 tokens to requests without a limit: 20 from now on.
        for completion in [10, 30] {
            l.answered(
                t0,
                &bare,
                256.0,
                Some((completion, completion)),
                &HeaderMap::new(),
            );
        }
        assert_eq!(l.estimate(&bare), 20.0);
        assert_eq!(
            l.estimate(&req),
            (prompt + 200) as f64,
            "a limit set is a limit counted"
        );
    }

    #[test]
    fn bucket_waits_for_refill_and_lets_a_big_cost_through_when_full() {
        let t0 = Instant::now();
        let mut b = Bucket::new(600.0, Duration::from_secs(1), t0); // 10 per second, holds 10
        assert_eq!(b.wait(t0, 10.0), Duration::ZERO);
        b.level -= 10.0;
        assert_eq!(b.wait(t0, 5.0), Duration::from_millis(500));
        assert_eq!(b.wait(t0 + Duration::from_millis(500), 5.0), Duration::ZERO);
        // 100 > capacity: allowed once full (from empty, 1 s).
        let mut big = Bucket::new(600.0, Duration::from_secs(1), t0);
        big.level = 0.0;
        assert_eq!(big.wait(t0, 100.0), Duration::from_secs(1));
        // Held until t0 + 2 s: empty then, full a second later.
        big.level = 10.0;
        big.hold_until(t0, t0 + Duration::from_secs(2));
        assert_eq!(big.wait(t0, 10.0), Duration::from_secs(3));
    }

    #[test]
    fn one_request_at_a_time_until_an_answer_tells_the_limits() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new(), t0);
        assert_eq!(l.try_take(t0, 10.0), Ok(()));
        let wait = l.try_take(t0, 10.0).unwrap_err();
        assert_eq!(wait, PROBE_INTERVAL, "a second request before any answer");
        // A slow first answer does not hold the run: one more start per interval.
        assert_eq!(l.try_take(t0 + PROBE_INTERVAL, 10.0), Ok(()));
        assert!(l.try_take(t0 + PROBE_INTERVAL, 10.0).is_err());
        let req = CreateChatCompletionRequest::new("m", vec![]);
        l.answered(t0, &req, 10.0, Some((10, 5)), &openai_headers());
        // 95 % of 600/min: 9.5 per second, a burst of 8 (the bucket starts full but for
        // the request that told the limits).
        let per_minute = l.requests.per_minute().unwrap();
        assert!((per_minute - 570.0).abs() < 1e-9, "{per_minute}");
        assert_eq!(l.tokens.per_minute(), Some(57_000.0));
        let started = drain(&mut l, t0, 10, 1.0);
        assert!((8 + 94..=8 + 96).contains(&started), "{started} in 10 s");
    }

    #[test]
    fn the_callers_limit_caps_the_servers_and_skips_the_probe() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new().max_requests_per_minute(120), t0);
        assert_eq!(l.try_take(t0, 1.0), Ok(()));
        assert_eq!(
            l.try_take(t0, 1.0),
            Ok(()),
            "no probing with a limit of the caller's"
        );
        l.learn(t0, 1.0, &openai_headers());
        assert_eq!(l.requests.per_minute(), Some(120.0));
    }

    #[test]
    fn a_429_pauses_once_lowers_the_rate_and_answers_raise_it_again() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new(), t0);
        l.learn(t0, 1.0, &openai_headers());
        let resume = t0 + Duration::from_secs(1);
        l.slow_down(t0, resume, Some("requests"));
        // A second 429 from the same burst, inside the pause: no second decrease.
        l.slow_down(t0 + Duration::from_millis(10), resume, Some("requests"));
        assert_eq!(l.pauses, 1);
        assert!((l.requests.factor - DECREASE).abs() < 1e-9);
        assert_eq!(
            l.tokens.factor, 1.0,
            "a requests 429 leaves the token rate alone"
        );
        let wait = l.try_take(t0, 1.0).unwrap_err();
        assert!(wait > Duration::from_secs(1), "{wait:?}");
        // At the reopening the bucket is empty: the first request waits for one refill
        // at the lowered rate (570 * 0.7 per minute), not a crowd at once.
        let at = resume + Duration::from_millis(1);
        let wait = l.try_take(at, 1.0).unwrap_err();
        assert!(wait > Duration::from_millis(140), "{wait:?}");
        // Six seconds of answers bring the rate back (0.7 + 6 * 0.05 = 1).
        let later = resume + Duration::from_secs(7);
        let req = CreateChatCompletionRequest::new("m", vec![]);
        l.answered(later, &req, 1.0, None, &HeaderMap::new());
        assert_eq!(l.requests.factor, 1.0);
    }

    #[test]
    fn a_429_without_limit_headers_paces_at_the_rate_measured_before_it() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new().max_tokens_per_minute(1_000_000), t0);
        // 32 starts in the second before the 429: about 1920 per minute.
        for i in 0..32 {
            assert_eq!(l.try_take(t0 + Duration::from_millis(i * 31), 1.0), Ok(()));
        }
        let now = t0 + Duration::from_secs(1);
        l.slow_down(now, now + Duration::from_secs(1), None);
        let rate = l.requests.per_minute().unwrap();
        assert!((1300.0..1400.0).contains(&rate), "{rate}");
    }

    #[test]
    fn spent_budget_headers_close_the_gate_of_a_server_without_limits() {
        let t0 = Instant::now();
        let mut l = Limiter::new(&RunOptions::new(), t0);
        let h = headers(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "2s"),
        ]);
        l.learn(t0, 10.0, &h);
        assert_eq!(l.pauses, 1);
        assert_eq!(l.try_take(t0, 1.0), Err(Duration::from_secs(2)));
        // With a limit known, what is left only bounds the bucket.
        let mut l = Limiter::new(&RunOptions::new(), t0);
        let mut h = openai_headers();
        h.insert("x-ratelimit-remaining-requests", "0".parse().unwrap());
        l.learn(t0, 1.0, &h);
        assert_eq!(l.pauses, 0);
        let wait = l.try_take(t0, 1.0).unwrap_err();
        assert!(wait < Duration::from_millis(110), "{wait:?}");
    }
}
