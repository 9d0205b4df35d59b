//! A chat-completions server that enforces rate limits the way OpenAI does: for the bulk
//! tests, and as `scripts/ratelimit-server` (which includes this file) for
//! `scripts/bulk-vs-cookbook.sh`.
//!
//! * A request limit and a token limit per minute, each enforced as a token bucket that
//!   holds one slice's budget and refills continuously (OpenAI enforces in one-second
//!   slices: 600 requests per minute admit at most 10 at once, then one per 100 ms).
//! * A request's tokens are estimated as OpenAI counts them, the prompt's characters / 4
//!   plus `max_completion_tokens` (or `max_tokens`), when it is admitted, and settled to the
//!   `usage` its answer reports once it is answered.
//! * Every answer carries the six `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
//!   headers: the limit per minute, what is left of it, and the time until it is whole
//!   again, formatted as OpenAI does (`6m0s`, `1s`, `20ms`).
//! * Over a limit: 429 with an integer `retry-after` and OpenAI's error body
//!   (`"code":"rate_limit_exceeded"`, `"type":"requests"` or `"tokens"`).
//! * Admitted requests are answered after [`Limits::delay`]; every request is recorded at
//!   the server ([`Arrival`]): when it arrived, answered or refused, its id (the first word
//!   of its last message: the tests and scripts write `id-17 …` prompts), its tokens.
//!
//! Std and serde_json only; listens on 127.0.0.1; bounded (connections, head and body
//! sizes, the log); stops when dropped. `GET /_stats` answers the [`Summary`] as JSON and
//! `POST /_reset` forgets the log and fills the buckets, for a script running several
//! clients in turn against one server.

// Each user (a test binary, the standalone server) uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;
const MAX_LOG: usize = 1_000_000;
/// How often an idle connection looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// What the server enforces, and how fast it answers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests per minute (`x-ratelimit-limit-requests`). Defaults to 600.
    pub requests_per_minute: u64,
    /// Tokens per minute (`x-ratelimit-limit-tokens`). Defaults to 60,000.
    pub tokens_per_minute: u64,
    /// The slice whose budget a bucket holds: the largest burst admitted at once is
    /// `limit * slice / 1 min`. Defaults to 1 s, as OpenAI enforces. Tests shorten it to
    /// scale time down (and so shorten a burst) while the limits stay per real minute.
    pub slice: Duration,
    /// How long an admitted request takes to be answered. Defaults to 300 ms.
    pub delay: Duration,
    /// Whether answers carry the six `x-ratelimit-*` headers. Defaults to true; false is
    /// a server that says nothing until it refuses (many compatible servers).
    pub headers: bool,
    /// Connections served at once; more are closed at once. Defaults to 256.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            requests_per_minute: 600,
            tokens_per_minute: 60_000,
            slice: Duration::from_secs(1),
            delay: Duration::from_millis(300),
            headers: true,
            max_connections: 256,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// When it was admitted or refused, since the server started (or was reset).
    pub at: Duration,
    /// The first word of its last message.
    pub id: String,
    /// Answered (true) or refused with a 429 (false).
    pub answered: bool,
    /// Answered: the total tokens its answer reports (what the bucket was settled to).
    /// Refused: the estimate that did not fit.
    pub tokens: u64,
    /// Refused: which limit, `requests` or `tokens`.
    pub limit: Option<&'static str>,
}

/// What the server saw: counts, and the rates measured from its first to its last
/// admitted request.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub answered: usize,
    /// 429s sent.
    pub refused: usize,
    /// How often each id was answered.
    pub answers_per_id: BTreeMap<String, usize>,
    /// From the first admitted request to the last.
    pub span: Duration,
    /// Admitted requests after the first, per minute of `span`.
    pub requests_per_minute: f64,
    /// Tokens of the admitted requests after the first, per minute of `span`.
    pub tokens_per_minute: f64,
    /// The most connections open at once.
    pub max_open: usize,
}

impl Summary {
    /// The summary as `GET /_stats` answers it.
    pub fn to_json(&self) -> Value {
        json!({
            "answered": self.answered,
            "refused": self.refused,
            "ids": self.answers_per_id.len(),
            "answered_more_than_once": self.answers_per_id.values().filter(|&&n| n > 1).count(),
            "span_seconds": self.span.as_secs_f64(),
            "requests_per_minute": self.requests_per_minute,
            "tokens_per_minute": self.tokens_per_minute,
            "max_open": self.max_open,
        })
    }
}

/// A token bucket holding one slice's budget, and the whole minute's view of it that the
/// headers report.
#[derive(Debug)]
struct Bucket {
    limit: f64,
    per_second: f64,
    capacity: f64,
    level: f64,
    /// The minute's budget left (what `x-ratelimit-remaining-*` says), refilled alike.
    minute: f64,
    at: Instant,
}

impl Bucket {
    fn new(per_minute: u64, slice: Duration, now: Instant) -> Bucket {
        let limit = per_minute.max(1) as f64;
        let capacity = (limit * slice.as_secs_f64() / 60.0).max(1.0);
        Bucket {
            limit,
            per_second: limit / 60.0,
            capacity,
            level: capacity,
            minute: limit,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let added = now.saturating_duration_since(self.at).as_secs_f64() * self.per_second;
        self.level = (self.level + added).min(self.capacity);
        self.minute = (self.minute + added).min(self.limit);
        self.at = self.at.max(now);
    }

    /// None when `cost` fits now (a cost above the capacity fits a full bucket), else how
    /// long until it does.
    fn wait(&self, cost: f64) -> Option<Duration> {
        let need = cost.min(self.capacity);
        (self.level < need).then(|| Duration::from_secs_f64((need - self.level) / self.per_second))
    }

    fn add(&mut self, amount: f64) {
        self.level = (self.level + amount).min(self.capacity);
        self.minute = (self.minute + amount).min(self.limit);
    }

    fn remaining(&self) -> u64 {
        self.minute.max(0.0) as u64
    }

    fn used(&self) -> u64 {
        (self.limit - self.minute.max(0.0)).ceil() as u64
    }

    fn reset(&self) -> Duration {
        Duration::from_secs_f64((self.limit - self.minute).max(0.0) / self.per_second)
    }

    fn headers(&self, kind: &str, out: &mut Vec<(String, String)>) {
        out.push((
            format!("x-ratelimit-limit-{kind}"),
            format!("{}", self.limit as u64),
        ));
        out.push((
            format!("x-ratelimit-remaining-{kind}"),
            self.remaining().to_string(),
        ));
        out.push((
            format!("x-ratelimit-reset-{kind}"),
            go_duration(self.reset()),
        ));
    }
}

struct State {
    requests: Bucket,
    tokens: Bucket,
    started: Instant,
    log: Vec<Arrival>,
}

struct Shared {
    limits: Limits,
    state: Mutex<State>,
    stop: AtomicBool,
    open: AtomicUsize,
    max_open: AtomicUsize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh_state(limits: &Limits) -> State {
        let now = Instant::now();
        State {
            requests: Bucket::new(limits.requests_per_minute, limits.slice, now),
            tokens: Bucket::new(limits.tokens_per_minute, limits.slice, now),
            started: now,
            log: Vec::new(),
        }
    }
}

/// The rate-limited server; see the module docs.
pub struct RateLimitServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl RateLimitServer {
    /// Starts on a free port of 127.0.0.1.
    pub fn start(limits: Limits) -> io::Result<RateLimitServer> {
        RateLimitServer::bind(0, limits)
    }

    /// Starts on this port of 127.0.0.1 (0: a free one).
    pub fn bind(port: u16, limits: Limits) -> io::Result<RateLimitServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(Shared::fresh_state(&limits)),
            limits,
            stop: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            max_open: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("ratelimit-accept".into())
            .spawn(move || accept_loop(&listener, &accepting))?;
        Ok(RateLimitServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request seen since the start (or the last reset), in the order they were
    /// admitted or refused.
    pub fn log(&self) -> Vec<Arrival> {
        self.shared.state().log.clone()
    }

    /// Forgets the log and fills both buckets.
    pub fn reset(&self) {
        *self.shared.state() = Shared::fresh_state(&self.shared.limits);
        self.shared.max_open.store(0, Ordering::SeqCst);
    }

    /// Counts and rates, measured at the server.
    pub fn summary(&self) -> Summary {
        summarize(&self.log(), self.shared.max_open.load(Ordering::SeqCst))
    }

    /// The largest burst each bucket admits at once: (requests, tokens).
    pub fn capacity(&self) -> (f64, f64) {
        let state = self.shared.state();
        (state.requests.capacity, state.tokens.capacity)
    }
}

impl Drop for RateLimitServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn summarize(log: &[Arrival], max_open: usize) -> Summary {
    let answered: Vec<&Arrival> = log.iter().filter(|a| a.answered).collect();
    let mut summary = Summary {
        answered: answered.len(),
        refused: log.len() - answered.len(),
        max_open,
        ..Summary::default()
    };
    for a in &answered {
        *summary.answers_per_id.entry(a.id.clone()).or_default() += 1;
    }
    if let (Some(first), Some(last)) = (answered.first(), answered.last()) {
        summary.span = last.at.saturating_sub(first.at);
        let minutes = summary.span.as_secs_f64() / 60.0;
        if minutes > 0.0 {
            let later = answered.iter().skip(1);
            summary.requests_per_minute = (answered.len() - 1) as f64 / minutes;
            summary.tokens_per_minute = later.map(|a| a.tokens as f64).sum::<f64>() / minutes;
        }
    }
    summary
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let open = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
        if open > shared.limits.max_connections {
            shared.open.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        shared.max_open.fetch_max(open, Ordering::SeqCst);
        let serving = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("ratelimit-conn".into())
            .spawn(move || {
                serve(&serving, stream);
                serving.open.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One request off the wire.
struct Request {
    method: String,
    path: String,
    close: bool,
    body: Vec<u8>,
}

/// Serves requests on one connection until the client closes it or the server stops.
fn serve(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while wait_for_request(&mut reader, &writer, shared) {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let (status, headers, body) = answer(shared, &request);
        if write_response(&mut writer, status, &headers, &body).is_err() || request.close {
            return;
        }
    }
}

/// Waits for the first byte of a request, looking at the stop flag while idle.
fn wait_for_request(
    reader: &mut BufReader<TcpStream>,
    stream: &TcpStream,
    shared: &Shared,
) -> bool {
    if stream.set_read_timeout(Some(POLL)).is_err() {
        return false;
    }
    loop {
        match reader.fill_buf() {
            Ok(buf) => {
                return !buf.is_empty()
                    && stream
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .is_ok()
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if shared.stop.load(Ordering::SeqCst) {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    let mut head_len = 0;
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut length, mut close) = (0usize, false);
    loop {
        let mut header = String::new();
        head_len += reader.read_line(&mut header).ok()?;
        if head_len > MAX_HEAD || header.is_empty() {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => length = value.parse().ok()?,
            "connection" => close = value.eq_ignore_ascii_case("close"),
            // Chunked request bodies are not read: no client in this repository sends one.
            "transfer-encoding" => return None,
            _ => {}
        }
    }
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        close,
        body,
    })
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn error_body(message: &str, kind: &str, code: Option<&str>) -> Vec<u8> {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        .to_string()
        .into_bytes()
}

fn answer(shared: &Shared, request: &Request) -> Answer {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/_stats") => {
            let max_open = shared.max_open.load(Ordering::SeqCst);
            let summary = summarize(&shared.state().log, max_open);
            (200, Vec::new(), summary.to_json().to_string().into_bytes())
        }
        ("POST", "/_reset") => {
            *shared.state() = Shared::fresh_state(&shared.limits);
            shared.max_open.store(0, Ordering::SeqCst);
            (200, Vec::new(), b"{}".to_vec())
        }
        ("POST", path) if path.ends_with("/chat/completions") => match Chat::read(&request.body) {
            Some(chat) => complete(shared, &chat),
            None => (
                400,
                Vec::new(),
                error_body(
                    "the body is not a chat completion request",
                    "invalid_request_error",
                    None,
                ),
            ),
        },
        _ => (
            404,
            Vec::new(),
            error_body(
                "no such route",
                "invalid_request_error",
                Some("unknown_url"),
            ),
        ),
    }
}

/// What the server reads from a chat request.
struct Chat {
    id: String,
    model: String,
    /// The prompt's tokens: its characters / 4, rounded up.
    prompt_tokens: u64,
    max_tokens: Option<u64>,
}

impl Chat {
    fn read(body: &[u8]) -> Option<Chat> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let messages = value.get("messages")?.as_array()?;
        let text = |m: &Value| match m.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        let chars: usize = messages.iter().map(|m| text(m).chars().count()).sum();
        let last = messages.last().map(text).unwrap_or_default();
        let max = |name| value.get(name).and_then(Value::as_u64);
        Some(Chat {
            id: last.split_whitespace().next().unwrap_or("").to_owned(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            prompt_tokens: chars.div_ceil(4) as u64,
            max_tokens: max("max_completion_tokens").or_else(|| max("max_tokens")),
        })
    }

    /// What OpenAI counts when it admits the request.
    fn estimate(&self) -> u64 {
        self.prompt_tokens + self.max_tokens.unwrap_or(0)
    }
}

fn complete(shared: &Shared, chat: &Chat) -> Answer {
    let text = format!("answer to {}", chat.id);
    let completion_tokens =
        (text.len().div_ceil(4) as u64).min(chat.max_tokens.unwrap_or(u64::MAX));
    let total = chat.prompt_tokens + completion_tokens;
    if let Err(refused) = admit(shared, chat, total) {
        return refused;
    }
    thread::sleep(shared.limits.delay);
    let headers = {
        let mut state = shared.state();
        let now = Instant::now();
        state.requests.refill(now);
        state.tokens.refill(now);
        // Settle the estimate taken at admission to the usage reported.
        state.tokens.add(chat.estimate() as f64 - total as f64);
        limit_headers(shared, &state)
    };
    let body = json!({
        "id": format!("chatcmpl-{}", chat.id), "object": "chat.completion", "created": 1,
        "model": chat.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": chat.prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total},
    });
    (200, headers, body.to_string().into_bytes())
}

fn limit_headers(shared: &Shared, state: &State) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if shared.limits.headers {
        state.requests.headers("requests", &mut headers);
        state.tokens.headers("tokens", &mut headers);
    }
    headers
}

/// Admits the request (takes one request and its estimate) or answers the 429.
fn admit(shared: &Shared, chat: &Chat, total: u64) -> Result<(), Answer> {
    let mut state = shared.state();
    let now = Instant::now();
    state.requests.refill(now);
    state.tokens.refill(now);
    let at = now.saturating_duration_since(state.started);
    let estimate = chat.estimate() as f64;
    let refusal = match (state.requests.wait(1.0), state.tokens.wait(estimate)) {
        (None, None) => None,
        (Some(wait), _) => Some(("requests", "RPM", wait, &state.requests, 1)),
        (None, Some(wait)) => Some(("tokens", "TPM", wait, &state.tokens, chat.estimate())),
    };
    let Some((kind, unit, wait, bucket, requested)) = refusal else {
        state.requests.add(-1.0);
        state.tokens.add(-estimate);
        record(&mut state, at, chat, true, total, None);
        return Ok(());
    };
    let message = format!(
        "Rate limit reached for {} in organization org-ratelimit-server on {kind} per min ({unit}): \
         Limit {}, Used {}, Requested {requested}. Please try again in {}. \
         Visit https://platform.openai.com/account/rate-limits to learn more.",
        chat.model,
        bucket.limit as u64,
        bucket.used(),
        go_duration(wait),
    );
    let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut headers = limit_headers(shared, &state);
    headers.push(("retry-after".into(), retry_after.to_string()));
    record(&mut state, at, chat, false, chat.estimate(), Some(kind));
    Err((
        429,
        headers,
        error_body(&message, kind, Some("rate_limit_exceeded")),
    ))
}

fn record(
    state: &mut State,
    at: Duration,
    chat: &Chat,
    answered: bool,
    tokens: u64,
    limit: Option<&'static str>,
) {
    if state.log.len() < MAX_LOG {
        state.log.push(Arrival {
            at,
            id: chat.id.clone(),
            answered,
            tokens,
            limit,
        });
    }
}

/// A duration as OpenAI writes its reset headers (Go's format, to the millisecond):
/// `0s`, `20ms`, `1s`, `1.5s`, `6m0s`, `1h2m3.5s`.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    // A wait shorter than a millisecond is still a wait: round it up.
    let ms = if ms > 0.0 && ms < 1.0 {
        1
    } else {
        ms.round() as u64
    };
    if ms < 1000 {
        return if ms == 0 {
            "0s".into()
        } else {
            format!("{ms}ms")
        };
    }
    let (h, m, s_ms) = (ms / 3_600_000, ms / 60_000 % 60, ms % 60_000);
    let mut secs = format!("{}.{:03}", s_ms / 1000, s_ms % 1000);
    while secs.ends_with('0') {
        secs.pop();
    }
    if secs.ends_with('.') {
        secs.pop();
    }
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}
