//! Measured comparison of `sync-openai` against the plain ureq + serde_json code a user
//! would write by hand, over loopback.
//!
//! ```text
//! cargo bench --bench bench
//! scripts/bench-nginx.sh        # the same, against nginx as well as the in-process server
//! ```
//!
//! The baseline rows use `ureq::Agent::new_with_defaults()` (no settings copied from the
//! client) and decode the same typed struct, or a `serde_json::Value`.
//!
//! An in-process HTTP/1.1 keep-alive server (std only, one thread per connection,
//! `TCP_NODELAY`, answers built once in memory) serves a pretty-printed ~1.2 KB
//! `chat.completion` with the headers api.openai.com sends, and a chunked SSE stream of
//! 20,000 content chunks of ~300 B each in the current OpenAI shape. Every row keeps one
//! keep-alive connection. Rows run interleaved in rounds (the order rotates each round),
//! and the table shows the median with min–max over the rounds, the ratio against the
//! plain-ureq rows, and allocations counted in a separate, untimed pass. A JSON row's
//! figure for a round is its median request (its mean is shown beside it): on a shared
//! machine a few requests wait for a core, and a mean mostly measures those waits.
//!
//! Every row checks the text it decoded (length and FNV-1a hash of all content): the
//! bench panics when two rows of one mode disagree, so no row can skip the work.
//!
//! Environment: `BENCH_ROUNDS` (default 7), `BENCH_JSON_N` (requests per JSON round,
//! default 2000), `BENCH_SSE_CHUNKS` (content chunks per stream, default 20000), and
//! `BENCH_NGINX` (`http://127.0.0.1:PORT` of a server that answers
//! `POST /json/v1/chat/completions` and `POST /sse/v1/chat/completions` with the bodies
//! `--write-fixtures DIR` writes: every round then also runs every row against it, and a
//! second table shows it). `cargo bench --bench bench -- --write-fixtures DIR` writes those
//! two bodies under `DIR` and exits.

// The counting global allocator below cannot be written without `unsafe`; the library
// itself stays `#![forbid(unsafe_code)]`.
#![allow(unsafe_code)]
// A bench is allowed to stop at the first surprise: a failed request or a fixture that does
// not decode means the numbers would be meaningless.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
};
use sync_openai::{ChatApi, Config};

// ---------------------------------------------------------------------------------------
// Allocation counting
// ---------------------------------------------------------------------------------------

/// Counts allocations (alloc, alloc_zeroed, realloc) made by threads that opted in.
///
/// A `#[global_allocator]` must implement the `unsafe` trait `GlobalAlloc`, and forwarding
/// to `System` calls its `unsafe` methods: there is no safe way to observe every
/// allocation of the process. The crate's `#![forbid(unsafe_code)]` covers the library
/// only; this bench binary is the one place that needs it.
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated and not yet freed by the counting thread, and their high-water mark.
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

thread_local! {
    /// Only the bench's client thread counts, never the server threads.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

fn note_allocation(grow: usize, shrink: usize) {
    if counting() {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        note_size(grow, shrink);
    }
}

fn note_size(grow: usize, shrink: usize) {
    let delta = grow as i64 - shrink as i64;
    let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's own arguments, so `System`'s
// guarantees are passed through unchanged; the counter touches no allocator state.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size(), 0);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size(), 0);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size, layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counting() {
            note_size(0, layout.size());
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Runs `f` with allocation counting on for this thread; returns its result and the count.
fn count_allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let (out, count, _) = count_allocations_and_peak(f);
    (out, count)
}

/// Like [`count_allocations`], also returning the most bytes `f` held allocated at once
/// (what it allocated and had not freed yet, at the worst moment).
fn count_allocations_and_peak<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = f();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(false));
    let peak = u64::try_from(PEAK.load(Ordering::Relaxed)).unwrap_or(0);
    (out, after - before, peak)
}

// ---------------------------------------------------------------------------------------
// Content check
// ---------------------------------------------------------------------------------------

/// Length and FNV-1a hash of all content a row decoded, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digest {
    len: u64,
    hash: u64,
}

impl Digest {
    fn new() -> Digest {
        Digest {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn add(&mut self, text: &str) {
        self.len += text.len() as u64;
        for &b in text.as_bytes() {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

const WORDS: &[&str] = &[
    " the",
    " borrow",
    " checker",
    " ensures",
    " that",
    " references",
    " never",
    " outlive",
    " their",
    " data",
    ",",
    " and",
    " Rust",
    "'s",
    " ownership",
    " model",
    " makes",
    " this",
    " explicit",
    ".\n\n",
    " **Note**",
    ":",
    " a",
    " `Vec<T>`",
    " grows",
    " amortized",
    " O(1)",
    " — ",
    "é",
    "\"quoted\"",
];

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The headers api.openai.com sends with a completion, minus the framing ones.
fn openai_headers(content_type: &str) -> String {
    format!(
        "Date: Tue, 05 Aug 2025 10:11:12 GMT\r\n\
         Content-Type: {content_type}\r\n\
         Connection: keep-alive\r\n\
         access-control-expose-headers: X-Request-ID\r\n\
         openai-organization: user-abc123def456ghi789\r\n\
         openai-processing-ms: 412\r\n\
         openai-project: proj_AbCdEfGhIjKlMnOpQrStUvWx\r\n\
         openai-version: 2020-10-01\r\n\
         x-envoy-upstream-service-time: 417\r\n\
         x-ratelimit-limit-requests: 10000\r\n\
         x-ratelimit-limit-tokens: 200000\r\n\
         x-ratelimit-remaining-requests: 9999\r\n\
         x-ratelimit-remaining-tokens: 199967\r\n\
         x-ratelimit-reset-requests: 8.64s\r\n\
         x-ratelimit-reset-tokens: 9ms\r\n\
         x-request-id: req_0f6a2b9c8d7e4f3a2b1c0d9e8f7a6b5c\r\n\
         strict-transport-security: max-age=31536000; includeSubDomains; preload\r\n\
         cf-cache-status: DYNAMIC\r\n\
         set-cookie: __cf_bm=Xy7.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-1754388672-1.0.1.1-AbCdEfGhIjKlMnOpQrStUvWxYz; path=/; expires=Tue, 05-Aug-25 10:41:12 GMT; domain=.api.openai.com; HttpOnly; Secure; SameSite=None\r\n\
         set-cookie: _cfuvid=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd-1754388672345-0.0.1.1-604800000; path=/; domain=.api.openai.com; HttpOnly; Secure; SameSite=None\r\n\
         x-content-type-options: nosniff\r\n\
         server: cloudflare\r\n\
         cf-ray: 96a1b2c3d4e5f607-AMS\r\n\
         alt-svc: h3=\":443\"; ma=86400\r\n"
    )
}

/// A pretty-printed `chat.completion` of about 1.2 KB, and its content.
fn completion_body() -> (Vec<u8>, String) {
    let content = "Hello, Rust developer! Ownership and borrowing let you write fast, \
        memory-safe code without a garbage collector, and `cargo` keeps builds, tests and \
        dependencies in one place.\nKeep your functions small, lean on the type system to \
        make invalid states unrepresentable, and let clippy teach you idioms. Happy hacking — \
        and may your lifetimes always be elided! \u{1f980}";
    let body = format!(
        r#"{{
  "id": "chatcmpl-C1xYzAbCdEfGhIjKlMnOpQrStUvWx",
  "object": "chat.completion",
  "created": 1754388672,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [
    {{
      "index": 0,
      "message": {{
        "role": "assistant",
        "content": {},
        "refusal": null,
        "annotations": []
      }},
      "logprobs": null,
      "finish_reason": "stop"
    }}
  ],
  "usage": {{
    "prompt_tokens": 31,
    "completion_tokens": 84,
    "total_tokens": 115,
    "prompt_tokens_details": {{
      "cached_tokens": 0,
      "audio_tokens": 0
    }},
    "completion_tokens_details": {{
      "reasoning_tokens": 0,
      "audio_tokens": 0,
      "accepted_prediction_tokens": 0,
      "rejected_prediction_tokens": 0
    }}
  }},
  "service_tier": "default",
  "system_fingerprint": "fp_34a54ae93c"
}}
"#,
        json_string(content)
    );
    (body.into_bytes(), content.to_owned())
}

const CHUNK_HEAD: &str = r#"{"id":"chatcmpl-C1xYzAbCdEfGhIjKlMnOpQrStUvWx","object":"chat.completion.chunk","created":1754388672,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","choices":"#;

/// The SSE events of one streamed answer (each `data: …\n\n`), and its content.
fn stream_events(content_chunks: usize) -> (Vec<String>, String) {
    // Obfuscation pads every content event to ~300 B, as OpenAI's does to hide token sizes.
    let pad = |used: usize, seed: usize| -> String {
        let alphabet = b"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let n = 300usize.saturating_sub(used).max(4);
        (0..n)
            .map(|i| char::from(alphabet[(seed * 7 + i * 13) % alphabet.len()]))
            .collect()
    };
    let event = |choices: &str, usage: &str, seed: usize| -> String {
        let without =
            format!("data: {CHUNK_HEAD}{choices},\"usage\":{usage},\"obfuscation\":\"\"}}\n\n");
        let obf = pad(without.len(), seed);
        format!("data: {CHUNK_HEAD}{choices},\"usage\":{usage},\"obfuscation\":\"{obf}\"}}\n\n")
    };
    let mut events = Vec::with_capacity(content_chunks + 4);
    let mut content = String::new();
    events.push(event(
        r#"[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]"#,
        "null",
        0,
    ));
    for i in 0..content_chunks {
        let word = WORDS[(i * 7 + i / 31) % WORDS.len()];
        content.push_str(word);
        let choices = format!(
            r#"[{{"index":0,"delta":{{"content":{}}},"logprobs":null,"finish_reason":null}}]"#,
            json_string(word)
        );
        events.push(event(&choices, "null", i));
    }
    events.push(event(
        r#"[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]"#,
        "null",
        1,
    ));
    events.push(event(
        "[]",
        &format!(
            r#"{{"prompt_tokens":31,"completion_tokens":{content_chunks},"total_tokens":{},"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}}"#,
            content_chunks + 31
        ),
        2,
    ));
    events.push("data: [DONE]\n\n".to_owned());
    (events, content)
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

struct Answers {
    json: Vec<u8>,
    sse: Vec<u8>,
}

fn build_answers(json_body: &[u8], events: &[String]) -> Answers {
    let mut json = format!(
        "HTTP/1.1 200 OK\r\n{}Content-Length: {}\r\n\r\n",
        openai_headers("application/json"),
        json_body.len()
    )
    .into_bytes();
    json.extend_from_slice(json_body);

    // Chunked like api.openai.com: one HTTP chunk per event.
    let mut sse = format!(
        "HTTP/1.1 200 OK\r\n{}Transfer-Encoding: chunked\r\n\r\n",
        openai_headers("text/event-stream; charset=utf-8")
    )
    .into_bytes();
    for e in events {
        sse.extend_from_slice(format!("{:x}\r\n", e.len()).as_bytes());
        sse.extend_from_slice(e.as_bytes());
        sse.extend_from_slice(b"\r\n");
    }
    sse.extend_from_slice(b"0\r\n\r\n");
    Answers { json, sse }
}

/// Starts the server; returns its base URL (`http://127.0.0.1:PORT/v1`).
fn start_server(answers: Answers) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    let answers = Arc::new(answers);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answers = Arc::clone(&answers);
            std::thread::spawn(move || serve_connection(stream, &answers));
        }
    });
    format!("http://127.0.0.1:{port}/v1")
}

/// Answers sequential requests on one keep-alive connection until the client closes it.
fn serve_connection(stream: TcpStream, answers: &Answers) {
    stream.set_nodelay(true).ok();
    let mut writer = stream.try_clone().expect("clone the socket");
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = Vec::with_capacity(256);
    let mut body = Vec::with_capacity(4096);
    loop {
        let mut content_length = 0usize;
        let mut first = true;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == b"\r\n" || line == b"\n" {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            if let Some(value) = strip_header(&line, b"content-length:") {
                content_length = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
            }
        }
        body.resize(content_length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let stream_requested = body.windows(13).any(|w| w == b"\"stream\":true");
        let answer = if stream_requested {
            &answers.sse
        } else {
            &answers.json
        };
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}

fn strip_header<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..name.len())?;
    head.eq_ignore_ascii_case(name).then(|| &line[name.len()..])
}

// ---------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------

const KEY: &str = "sk-bench-0123456789abcdef";

/// What a user writes by hand: ureq's default agent, nothing copied from the client.
fn plain_agent() -> ureq::Agent {
    ureq::Agent::new_with_defaults()
}

/// Serializes the request and sends it, as a program on plain ureq would.
fn plain_post(
    agent: &ureq::Agent,
    url: &str,
    req: &CreateChatCompletionRequest,
    sse: bool,
) -> ureq::http::Response<ureq::Body> {
    let body = serde_json::to_vec(req).expect("encode");
    let mut req = agent
        .post(url)
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json");
    if sse {
        req = req.header("accept", "text/event-stream");
    }
    let resp = req.send(&body[..]).expect("plain ureq request");
    assert_eq!(resp.status(), 200);
    resp
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Json,
    Sse,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    JsonPlainValue,
    JsonPlainTyped,
    JsonApi,
    JsonApiHttpInfo,
    SsePlainValue,
    SsePlainTyped,
    SseApiStream,
    SseApiCollect,
}

impl RowKind {
    fn mode(self) -> Mode {
        match self {
            RowKind::JsonPlainValue
            | RowKind::JsonPlainTyped
            | RowKind::JsonApi
            | RowKind::JsonApiHttpInfo => Mode::Json,
            _ => Mode::Sse,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RowKind::JsonPlainValue => "plain ureq + from_slice::<Value>",
            RowKind::JsonPlainTyped => "plain ureq + from_slice::<CreateChatCompletionResponse>",
            RowKind::JsonApi => "ChatApi::create_chat_completion",
            RowKind::JsonApiHttpInfo => "ChatApi::create_chat_completion_with_http_info",
            RowKind::SsePlainValue => "plain ureq + read_until + from_slice::<Value>",
            RowKind::SsePlainTyped => "(ref) plain ureq + read_until + typed chunk",
            RowKind::SseApiStream => "ChatApi::create_chat_completion_stream",
            RowKind::SseApiCollect => "stream.collect_completion()",
        }
    }
}

const ROWS: [RowKind; 8] = [
    RowKind::JsonPlainValue,
    RowKind::JsonPlainTyped,
    RowKind::JsonApi,
    RowKind::JsonApiHttpInfo,
    RowKind::SsePlainValue,
    RowKind::SsePlainTyped,
    RowKind::SseApiStream,
    RowKind::SseApiCollect,
];

/// One row's client: its own agent or `ChatApi`, so its own keep-alive connection.
struct Row {
    kind: RowKind,
    agent: ureq::Agent,
    api: ChatApi,
    times: Vec<f64>,
    /// JSON rows: the mean request time of each round (the table shows medians).
    means: Vec<f64>,
    allocs_per_unit: f64,
    /// Most bytes held allocated at once by one measured run (a JSON batch or one stream).
    peak_bytes: u64,
}

struct Bench {
    /// Where the JSON rows and the SSE rows post (the same URL on the in-process server).
    json_url: String,
    sse_url: String,
    req: CreateChatCompletionRequest,
    stream_req: CreateChatCompletionRequest,
    /// What plain ureq sends, serialized per request: the same request, with
    /// `stream: true` set for the stream.
    plain_req: CreateChatCompletionRequest,
    plain_stream_req: CreateChatCompletionRequest,
    /// Chunks per stream (every event but `[DONE]`).
    chunks: u64,
}

impl Bench {
    /// Runs `n` JSON requests or one stream; returns the digest and the number of units
    /// (requests, or chunks for SSE).
    fn run(&self, row: &Row, n: usize, digest: &mut Digest) -> u64 {
        match row.kind {
            RowKind::JsonPlainValue => {
                for _ in 0..n {
                    let resp = plain_post(&row.agent, &self.json_url, &self.plain_req, false);
                    let bytes = resp
                        .into_body()
                        .into_with_config()
                        .limit(32 * 1024 * 1024)
                        .read_to_vec()
                        .expect("body");
                    let v: Value = serde_json::from_slice(&bytes).expect("json");
                    digest.add(v["choices"][0]["message"]["content"].as_str().unwrap_or(""));
                    black_box(v);
                }
                n as u64
            }
            RowKind::JsonPlainTyped => {
                for _ in 0..n {
                    let resp = plain_post(&row.agent, &self.json_url, &self.plain_req, false);
                    let bytes = resp
                        .into_body()
                        .into_with_config()
                        .limit(32 * 1024 * 1024)
                        .read_to_vec()
                        .expect("body");
                    let v: CreateChatCompletionResponse =
                        serde_json::from_slice(&bytes).expect("json");
                    digest.add(v.choices[0].message.content.as_deref().unwrap_or(""));
                    black_box(v);
                }
                n as u64
            }
            RowKind::JsonApi => {
                for _ in 0..n {
                    let v = row.api.create_chat_completion(&self.req).expect("api");
                    digest.add(v.choices[0].message.content.as_deref().unwrap_or(""));
                    black_box(v);
                }
                n as u64
            }
            RowKind::JsonApiHttpInfo => {
                for _ in 0..n {
                    let v = row
                        .api
                        .create_chat_completion_with_http_info(&self.req)
                        .expect("api");
                    digest.add(v.data.choices[0].message.content.as_deref().unwrap_or(""));
                    black_box(v);
                }
                n as u64
            }
            RowKind::SsePlainValue | RowKind::SsePlainTyped => {
                let resp = plain_post(&row.agent, &self.sse_url, &self.plain_stream_req, true);
                let mut reader = BufReader::with_capacity(8 * 1024, resp.into_body().into_reader());
                let mut line = Vec::with_capacity(1024);
                let mut chunks = 0u64;
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).expect("read") == 0 {
                        break;
                    }
                    let Some(data) = line.strip_prefix(b"data:") else {
                        continue;
                    };
                    let data = data.trim_ascii();
                    if data == b"[DONE]" {
                        break;
                    }
                    chunks += 1;
                    if row.kind == RowKind::SsePlainValue {
                        let v: Value = serde_json::from_slice(data).expect("chunk");
                        if let Some(t) = v["choices"][0]["delta"]["content"].as_str() {
                            digest.add(t);
                        }
                        black_box(v);
                    } else {
                        let v: CreateChatCompletionStreamResponse =
                            serde_json::from_slice(data).expect("chunk");
                        if let Some(t) = v.choices.first().and_then(|c| c.delta.content.as_deref())
                        {
                            digest.add(t);
                        }
                        black_box(v);
                    }
                }
                // Read to the end so the connection goes back to the pool.
                std::io::copy(&mut reader, &mut std::io::sink()).expect("drain");
                chunks
            }
            RowKind::SseApiStream => {
                let stream = row
                    .api
                    .create_chat_completion_stream(&self.stream_req)
                    .expect("stream");
                let mut chunks = 0u64;
                for chunk in stream {
                    let chunk = chunk.expect("chunk");
                    chunks += 1;
                    if let Some(t) = chunk
                        .choices
                        .first()
                        .and_then(|c| c.delta.content.as_deref())
                    {
                        digest.add(t);
                    }
                    black_box(chunk);
                }
                chunks
            }
            RowKind::SseApiCollect => {
                let completion = row
                    .api
                    .create_chat_completion_stream(&self.stream_req)
                    .expect("stream")
                    .collect_completion()
                    .expect("collect");
                digest.add(
                    completion.choices[0]
                        .message
                        .content
                        .as_deref()
                        .unwrap_or(""),
                );
                black_box(completion);
                self.chunks
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Statistics and output
// ---------------------------------------------------------------------------------------

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One server the rows run against, with its own clients.
struct Target {
    name: String,
    bench: Bench,
    rows: Vec<Row>,
    /// Per-request latencies of the current round, one list per row.
    latencies: Vec<Vec<f64>>,
}

impl Target {
    fn new(name: String, json_base: &str, sse_base: &str, template: &Bench) -> Target {
        let rows: Vec<Row> = ROWS
            .iter()
            .map(|&kind| {
                let base = match kind.mode() {
                    Mode::Json => json_base,
                    Mode::Sse => sse_base,
                };
                Row {
                    kind,
                    agent: plain_agent(),
                    api: ChatApi::new(Config::new().api_key(KEY).base_url(base)),
                    times: Vec::new(),
                    means: Vec::new(),
                    allocs_per_unit: 0.0,
                    peak_bytes: 0,
                }
            })
            .collect();
        Target {
            name,
            bench: Bench {
                json_url: format!("{json_base}/chat/completions"),
                sse_url: format!("{sse_base}/chat/completions"),
                req: template.req.clone(),
                stream_req: template.stream_req.clone(),
                plain_req: template.plain_req.clone(),
                plain_stream_req: template.plain_stream_req.clone(),
                chunks: template.chunks,
            },
            latencies: vec![Vec::new(); rows.len()],
            rows,
        }
    }

    fn rows_of(&self, mode: Mode) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| self.rows[i].kind.mode() == mode)
            .collect()
    }
}

/// The expected content of `n` runs of a row of `mode`.
struct Expected {
    json_content: String,
    sse: Digest,
}

impl Expected {
    fn check(&self, row: &Row, digest: Digest, n: usize) {
        let expected = match row.kind.mode() {
            Mode::Json => {
                let mut d = Digest::new();
                for _ in 0..n {
                    d.add(&self.json_content);
                }
                d
            }
            Mode::Sse => self.sse,
        };
        assert_eq!(
            digest,
            expected,
            "row `{}` decoded different content",
            row.kind.name()
        );
    }
}

/// Warm-up (connects every row) and the untimed allocation-counting pass.
fn warm_up_and_count(target: &mut Target, expected: &Expected) {
    let alloc_n = 200;
    for row in &mut target.rows {
        let n = if row.kind.mode() == Mode::Json {
            alloc_n
        } else {
            1
        };
        let mut digest = Digest::new();
        target.bench.run(row, n, &mut digest);
        expected.check(row, digest, n);
        let mut digest = Digest::new();
        let (units, allocs, peak) =
            count_allocations_and_peak(|| target.bench.run(row, n, &mut digest));
        expected.check(row, digest, n);
        row.allocs_per_unit = allocs as f64 / units as f64;
        row.peak_bytes = peak;
    }
}

/// One timed round. JSON rows are interleaved request by request (each request timed on
/// its own, the order rotating), so a slow moment of the machine hits every row alike,
/// and a round's figure for a row is the median of its requests: on a shared machine a
/// few requests wait for a core, and a mean would mostly measure those waits. SSE rows
/// run one stream each per round, the order rotating each round.
fn run_round(target: &mut Target, round: usize, json_n: usize, expected: &Expected) {
    let json_rows = target.rows_of(Mode::Json);
    let sse_rows = target.rows_of(Mode::Sse);
    let mut digests = vec![Digest::new(); target.rows.len()];
    for l in &mut target.latencies {
        l.clear();
    }
    for i in 0..json_n {
        for j in 0..json_rows.len() {
            let r = json_rows[(i + j + round) % json_rows.len()];
            let start = Instant::now();
            target.bench.run(&target.rows[r], 1, &mut digests[r]);
            target.latencies[r].push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    for &r in &json_rows {
        expected.check(&target.rows[r], digests[r], json_n);
        let per_request = median(&target.latencies[r]);
        target.rows[r].times.push(per_request);
        let mean = target.latencies[r].iter().sum::<f64>() / json_n as f64;
        target.rows[r].means.push(mean);
    }
    for j in 0..sse_rows.len() {
        let r = sse_rows[(j + round) % sse_rows.len()];
        let mut digest = Digest::new();
        let start = Instant::now();
        target.bench.run(&target.rows[r], 1, &mut digest);
        let elapsed = start.elapsed();
        expected.check(&target.rows[r], digest, 1);
        target.rows[r].times.push(elapsed.as_secs_f64() * 1e3);
    }
}

/// Allocation counts of the decode alone, on bodies already in memory.
struct DecodeAllocs {
    typed: u64,
    value: u64,
    chunk_typed: u64,
    chunk_value: u64,
}

fn decode_allocs(json_body: &[u8], events: &[String]) -> DecodeAllocs {
    let (_, typed) = count_allocations(|| {
        black_box(serde_json::from_slice::<CreateChatCompletionResponse>(json_body).expect("json"))
    });
    let (_, value) =
        count_allocations(|| black_box(serde_json::from_slice::<Value>(json_body).expect("json")));
    let sample = events[events.len() / 2]
        .trim_end()
        .strip_prefix("data: ")
        .unwrap_or_default()
        .to_owned();
    let (_, chunk_typed) = count_allocations(|| {
        black_box(
            serde_json::from_slice::<CreateChatCompletionStreamResponse>(sample.as_bytes())
                .expect("chunk"),
        )
    });
    let (_, chunk_value) = count_allocations(|| {
        black_box(serde_json::from_slice::<Value>(sample.as_bytes()).expect("chunk"))
    });
    DecodeAllocs {
        typed,
        value,
        chunk_typed,
        chunk_value,
    }
}

/// Prints a target's two tables and its targets; ratios are taken round by round (both
/// rows measured under the same conditions), then the median over the rounds is shown.
fn print_target(target: &Target, decode: &DecodeAllocs, sse_response_len: usize) {
    let rows = &target.rows;
    let times = |kind: RowKind| -> &[f64] {
        rows.iter()
            .find(|r| r.kind == kind)
            .map_or(&[][..], |r| r.times.as_slice())
    };
    let ratio = |row: &[f64], base: &[f64]| -> f64 {
        let per_round: Vec<f64> = row.iter().zip(base).map(|(a, b)| a / b).collect();
        median(&per_round)
    };
    let json_value = times(RowKind::JsonPlainValue);
    let json_typed = times(RowKind::JsonPlainTyped);
    let sse_value = times(RowKind::SsePlainValue);
    let allocs = |kind: RowKind| {
        rows.iter()
            .find(|r| r.kind == kind)
            .map_or(f64::NAN, |r| r.allocs_per_unit)
    };

    println!("== {}", target.name);
    println!(
        "{:<56} {:>8} {:>17} {:>8} {:>7} {:>7} {:>10}",
        "JSON row", "µs/req", "[min–max]", "mean", "×typed", "×Value", "allocs/req"
    );
    for row in rows.iter().filter(|r| r.kind.mode() == Mode::Json) {
        let (lo, hi) = min_max(&row.times);
        println!(
            "{:<56} {:>8.1} {:>17} {:>8.1} {:>7.3} {:>7.3} {:>10.1}",
            row.kind.name(),
            median(&row.times),
            format!("[{lo:.1}–{hi:.1}]"),
            median(&row.means),
            ratio(&row.times, json_typed),
            ratio(&row.times, json_value),
            row.allocs_per_unit
        );
    }
    println!(
        "{:<56} {:>8} {:>17} {:>8} {:>7} {:>7} {:>10}",
        "  decode alone, body in memory: typed / Value",
        "",
        "",
        "",
        "",
        "",
        format!("{} / {}", decode.typed, decode.value)
    );
    println!();
    println!(
        "{:<56} {:>8} {:>17} {:>8} {:>7} {:>7} {:>10}",
        "SSE row", "ms/strm", "[min–max]", "ns/chk", "peakKiB", "×Value", "allocs/chk"
    );
    let chunks = target.bench.chunks as f64;
    for row in rows.iter().filter(|r| r.kind.mode() == Mode::Sse) {
        let m = median(&row.times);
        let (lo, hi) = min_max(&row.times);
        println!(
            "{:<56} {:>8.2} {:>17} {:>8.0} {:>7} {:>7.3} {:>10.2}",
            row.kind.name(),
            m,
            format!("[{lo:.2}–{hi:.2}]"),
            m * 1e6 / chunks,
            row.peak_bytes / 1024,
            ratio(&row.times, sse_value),
            row.allocs_per_unit
        );
    }
    println!(
        "{:<56} {:>8} {:>17} {:>8} {:>7} {:>7} {:>10}",
        "  decode alone, one content chunk: typed / Value",
        "",
        "",
        "",
        "",
        "",
        format!("{} / {}", decode.chunk_typed, decode.chunk_value)
    );
    println!();

    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let api = ratio(times(RowKind::JsonApi), json_typed);
    let info = ratio(times(RowKind::JsonApiHttpInfo), times(RowKind::JsonApi));
    let stream = ratio(times(RowKind::SseApiStream), sse_value);
    let json_budget = allocs(RowKind::JsonPlainTyped);
    let chunk_budget = decode.chunk_typed as f64;
    let stream_peak = rows
        .iter()
        .find(|r| r.kind == RowKind::SseApiStream)
        .map_or(u64::MAX, |r| r.peak_bytes);
    let targets = [
        (
            format!("create_chat_completion ≤ 1.03 × plain+typed: {api:.3}"),
            api <= 1.03,
        ),
        (
            format!("_with_http_info ≤ 1.01 × create_chat_completion: {info:.3}"),
            info <= 1.01,
        ),
        (
            format!("create_chat_completion_stream ≤ 1.10 × plain+Value: {stream:.3}"),
            stream <= 1.10,
        ),
        (
            format!(
                "allocs/JSON request ≤ plain+typed's ({json_budget:.1}): {:.1} / {:.1}",
                allocs(RowKind::JsonApi),
                allocs(RowKind::JsonApiHttpInfo)
            ),
            allocs(RowKind::JsonApi) <= json_budget
                && allocs(RowKind::JsonApiHttpInfo) <= json_budget,
        ),
        (
            format!(
                "allocs/SSE chunk ≤ the decoded chunk's ({chunk_budget:.0}) + setup: {:.2}",
                allocs(RowKind::SseApiStream)
            ),
            allocs(RowKind::SseApiStream) < chunk_budget + 0.5,
        ),
        (
            format!(
                "stream memory constant: peak {} KiB held for a {} KiB stream (≤ 64 KiB)",
                stream_peak / 1024,
                sse_response_len / 1024
            ),
            stream_peak <= 64 * 1024,
        ),
    ];
    println!("targets ({}):", target.name);
    for (what, ok) in targets {
        println!("  {:<8} {what}", verdict(ok));
    }
    println!();
}

/// Writes the two bodies a static server (scripts/bench-nginx.sh) serves: the JSON
/// completion at `json/v1/chat/completions` and the event stream, unchunked, at
/// `sse/v1/chat/completions`, under `dir`.
fn write_fixtures(dir: &std::path::Path, json_body: &[u8], events: &[String]) {
    for (sub, bytes) in [
        ("json", json_body.to_vec()),
        ("sse", events.concat().into_bytes()),
    ] {
        let folder = dir.join(sub).join("v1").join("chat");
        std::fs::create_dir_all(&folder).expect("create the fixture folder");
        std::fs::write(folder.join("completions"), bytes).expect("write a fixture");
    }
}

fn main() {
    let rounds = env_usize("BENCH_ROUNDS", 7).max(1);
    let json_n = env_usize("BENCH_JSON_N", 2000).max(1);
    let sse_chunks = env_usize("BENCH_SSE_CHUNKS", 20_000).max(1);

    let (json_body, json_content) = completion_body();
    let (events, stream_content) = stream_events(sse_chunks);
    // `cargo bench` passes `--bench`; the only other argument is `--write-fixtures DIR`.
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    if let [_, flag, dir] = args.as_slice() {
        assert_eq!(
            flag, "--write-fixtures",
            "usage: bench [--write-fixtures DIR]"
        );
        write_fixtures(std::path::Path::new(dir), &json_body, &events);
        return;
    }
    let mean_event = events.iter().map(String::len).sum::<usize>() / events.len();
    let answers = build_answers(&json_body, &events);
    let json_response_len = answers.json.len();
    let sse_response_len = answers.sse.len();
    let base = start_server(answers);

    let req = CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        vec![
            Message::system("You are a concise assistant."),
            Message::user("Say hello to a Rust developer in one sentence."),
        ],
    )
    .temperature(0.2)
    .max_completion_tokens(64);
    let stream_req = req
        .clone()
        .stream_options(ChatCompletionStreamOptions::include_usage());
    let mut plain_stream_req = stream_req.clone();
    plain_stream_req.stream = Some(true);
    let template = Bench {
        json_url: String::new(),
        sse_url: String::new(),
        plain_req: req.clone(),
        plain_stream_req,
        req,
        stream_req,
        chunks: (events.len() - 1) as u64,
    };

    let mut targets = vec![Target::new(
        "in-process server (std, answers from memory, chunked SSE)".to_owned(),
        &base,
        &base,
        &template,
    )];
    if let Ok(nginx) = std::env::var("BENCH_NGINX") {
        let nginx = nginx.trim_end_matches('/');
        targets.push(Target::new(
            format!("nginx at {nginx} (static files, SSE with a content-length)"),
            &format!("{nginx}/json/v1"),
            &format!("{nginx}/sse/v1"),
            &template,
        ));
    }

    let mut sse = Digest::new();
    sse.add(&stream_content);
    let expected = Expected { json_content, sse };
    for target in &mut targets {
        warm_up_and_count(target, &expected);
    }
    // Rounds alternate the servers, the order rotating, so a slow moment of the machine
    // hits both alike.
    for round in 0..rounds {
        let n = targets.len();
        for k in 0..n {
            run_round(&mut targets[(k + round) % n], round, json_n, &expected);
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }

    let decode = decode_allocs(&json_body, &events);
    println!("sync-openai bench: {rounds} rounds, median [min–max]; ratios are medians of per-round ratios");
    println!("baseline: ureq::Agent::new_with_defaults() + serde_json, written as a user would");
    println!(
        "JSON: {json_n} requests/round/row, interleaved request by request, a round's figure is the median request; response {json_response_len} B ({} B body)",
        json_body.len()
    );
    println!(
        "SSE:  1 stream/round/row; {} events, mean event {mean_event} B, response {sse_response_len} B chunked",
        events.len()
    );
    println!();
    for target in &targets {
        print_target(target, &decode, sse_response_len);
    }
    println!(
        "content check passed: each JSON request {} B of content, each stream {} B (fnv-1a {:016x})",
        expected.json_content.len(),
        expected.sse.len,
        expected.sse.hash
    );
}
