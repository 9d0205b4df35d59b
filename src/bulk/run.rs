//! The runner of [`ChatApi::run_many`]: worker threads taking the requests in turn, each
//! request paced by the shared limiter and retried by the runner (the client's own retries
//! are off), and the results put back in input order.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::limiter::Limiter;
use super::{BulkResult, CancelToken, Progress, RunOptions, RunReport};
use crate::api::ChatApi;
use crate::clock::Clock;
use crate::error::{Error, StoppedError};
use crate::options::RequestOptions;
use crate::retry::{self, Decision, Jitter, SeededJitter};
use crate::types::CreateChatCompletionRequest;

/// The longest a waiting worker sleeps before it looks at cancellation again.
const SLICE: Duration = Duration::from_millis(100);

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
