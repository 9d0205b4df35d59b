//! A mock OpenAI server for tests: scripted Chat Completions answers on 127.0.0.1.
//!
//! Enable the `testing` feature in your dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! sync-openai = { version = "0.1", features = ["testing"] }
//! ```
//!
//! [`MockServer::start`] runs an HTTP/1.1 server on a free port of 127.0.0.1, in threads
//! of the test process; [`MockServer::config`] is a [`Config`] that points at it. Each
//! request is answered with the next scripted [`Reply`], in the order they were given,
//! as JSON or, when the request's body has `"stream": true`, as a server-sent-event
//! stream shaped like OpenAI's. Every request is recorded, so a test can check what its
//! code sent with [`MockServer::requests`].
//!
//! It uses only the standard library, speaks keep-alive, reads `Content-Length` and
//! chunked request bodies, serves several connections at once, and stops when dropped.
//!
//! # Examples
//!
//! ```
//! use sync_openai::testing::{MockServer, Reply};
//! use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
//! use sync_openai::ChatApi;
//!
//! let server = MockServer::start();
//! server.reply(Reply::text("Hello!"));
//!
//! // The code under test: it only needs a `Config`.
//! let api = ChatApi::new(server.config());
//! let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
//! let answer = api.create_chat_completion(&req)?;
//!
//! assert_eq!(answer.choices[0].message.content.as_deref(), Some("Hello!"));
//! let sent = &server.requests()[0];
//! assert_eq!(sent.path(), "/v1/chat/completions");
//! assert_eq!(sent.json()["messages"][0]["content"], "Hi");
//! # Ok::<(), sync_openai::Error>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::ConfigProblem;

mod wire;

use wire::accept_loop;

/// The largest request head (request line and headers) the server reads: 64 KiB.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The largest request body the server reads: 32 MiB.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The `created` timestamp of every mock completion (2023-11-14), so answers are stable.
const CREATED: u64 = 1_700_000_000;

/// An OpenAI-compatible HTTP server on 127.0.0.1 that answers with scripted [`Reply`]s.
///
/// Replies are served in the order they were scripted, one per request, whatever the
/// path. When none is left, the server answers with the reply set by
/// [`reply_always`](MockServer::reply_always), or else `500` with an OpenAI-shaped error
/// whose message says that no reply was scripted for the request. `MockServer` is `Send +
/// Sync`: script and inspect it from any thread while other threads send requests.
///
/// Dropping it stops the server: its threads end and its port closes.
///
/// # Examples
///
/// ```
/// use sync_openai::testing::{MockServer, Reply};
/// use sync_openai::error::ApiErrorKind;
/// use sync_openai::{ChatApi, Error};
/// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
///
/// let server = MockServer::start();
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert!(server.base_url().ends_with("/v1"));
///
/// // Nothing scripted: a 500 that says so (retried, then reported).
/// let api = ChatApi::new(server.config().max_retries(0));
/// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
/// let Err(Error::Api(e)) = api.create_chat_completion(&req) else { panic!("expected a 500") };
/// assert_eq!(e.status, 500);
/// assert!(e.message().contains("no reply was scripted"));
/// ```
pub struct MockServer {
    addr: Option<SocketAddr>,
    /// Why the server could not start; every call through [`MockServer::config`] says so.
    start_error: Option<String>,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    /// The answer once the script is empty, set with [`MockServer::reply_always`].
    fallback: Mutex<Option<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
    stop: AtomicBool,
    /// Clones of the open connections, so that dropping the server can close them.
    connections: Mutex<Vec<(u64, TcpStream)>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    next_id: AtomicU64,
}

impl MockServer {
    /// Starts a server on a free port of 127.0.0.1.
    ///
    /// This never panics. In the rare case that no port can be bound, every call made
    /// with [`config`](MockServer::config) fails with [`Error::Config`](crate::Error::Config)
    /// saying why; [`try_start`](MockServer::try_start) returns the error instead.
    pub fn start() -> MockServer {
        MockServer::try_start().unwrap_or_else(|e| MockServer {
            addr: None,
            start_error: Some(e.to_string()),
            shared: Shared::new(),
            acceptor: None,
        })
    }

    /// Starts a server on a free port of 127.0.0.1, or says why it cannot.
    pub fn try_start() -> io::Result<MockServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Shared::new();
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("sync-openai-mock".to_owned())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(MockServer {
            addr: Some(addr),
            start_error: None,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The base URL of the server's API, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        match self.addr {
            Some(addr) => format!("http://{addr}/v1"),
            None => "http://127.0.0.1:0/v1".to_owned(),
        }
    }

    /// The URL of a path on the server: `url("/openai")` is `http://127.0.0.1:PORT/openai`,
    /// for clients that build their own paths, such as [`Config::azure`].
    pub fn url(&self, path: &str) -> String {
        let base = self.base_url();
        format!("{}{path}", base.strip_suffix("/v1").unwrap_or(&base))
    }

    /// A [`Config`] for this server: its base URL, no API key, and retries that do not
    /// wait (the retry policy runs as configured, but its delays are skipped).
    ///
    /// Change it like any other `Config`, e.g. `server.config().max_retries(0)`.
    pub fn config(&self) -> Config {
        let mut config = Config::new().base_url(self.base_url()).clock(NoWait);
        if let Some(why) = &self.start_error {
            config.note_invalid(ConfigProblem::MockServerStart(why.clone()));
        }
        config
    }

    /// Scripts the answer to a coming request; replies are served in the order given.
    pub fn reply(&self, reply: Reply) -> &MockServer {
        lock(&self.shared.replies).push_back(reply);
        self
    }

    /// Answers every request with `reply` once the scripted replies are used up, instead of
    /// the `500` that says none is left: for code that sends many requests, or a number a
    /// test does not know in advance. A later call replaces the reply; scripted replies
    /// still come first. With a [`delay`](Reply::delay), requests on several connections
    /// wait at the same time, as they would for a model.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::ChatApi;
    ///
    /// let server = MockServer::start();
    /// server.reply(Reply::text("First")).reply_always(Reply::text("Again"));
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    /// for expected in ["First", "Again", "Again"] {
    ///     let answer = api.create_chat_completion(&req)?;
    ///     assert_eq!(answer.choices[0].message.content.as_deref(), Some(expected));
    /// }
    /// assert_eq!(server.requests().len(), 3);
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn reply_always(&self, reply: Reply) -> &MockServer {
        *lock(&self.shared.fallback) = Some(reply);
        self
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }
}

/// The clock of [`MockServer::config`]: the retry policy runs as configured, its waits are
/// skipped.
struct NoWait;

impl Clock for NoWait {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, _: Duration) {}
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.close_connections();
        if let Some(addr) = self.addr {
            // Wake the accept loop so that it sees the stop flag.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // Connections accepted while stopping are closed too.
        self.shared.close_connections();
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url())
            .field("scripted", &lock(&self.shared.replies).len())
            .field("received", &lock(&self.shared.requests).len())
            .finish()
    }
}

impl Shared {
    fn new() -> Arc<Shared> {
        Arc::new(Shared {
            replies: Mutex::new(VecDeque::new()),
            fallback: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        })
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn close_connections(&self) {
        for (_, stream) in lock(&self.connections).iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// A poisoned lock only means a thread panicked while holding it; the data (a queue, a
/// list) is still whole, so keep using it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A scripted answer: what the server sends for one request.
///
/// Build one with [`text`](Reply::text), [`tool_calls`](Reply::tool_calls),
/// [`error`](Reply::error), [`truncated_stream`](Reply::truncated_stream) or
/// [`raw`](Reply::raw), then add [`header`](Reply::header)s or a
/// [`delay`](Reply::delay). `text`, `tool_calls` and `truncated_stream` answer in the
/// form the request asked for: JSON, or a stream when its body has `"stream": true`.
#[derive(Debug, Clone)]
pub struct Reply {
    kind: Kind,
    headers: Vec<(String, String)>,
    delay: Duration,
}

#[derive(Debug, Clone)]
enum Kind {
    Text(String),
    ToolCalls(Vec<(String, String)>),
    Error {
        status: u16,
        message: String,
    },
    Truncated {
        content: String,
        after_chunks: usize,
    },
    Raw {
        status: u16,
        body: Vec<u8>,
    },
}

impl Reply {
    fn new(kind: Kind) -> Reply {
        Reply {
            kind,
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// An assistant message with this text and `finish_reason: "stop"`.
    ///
    /// As JSON: a `chat.completion` with the request's model, one choice and a `usage`
    /// (one token per word, roughly). As a stream: a first chunk with the role, the text
    /// split at spaces over several chunks, a chunk with the `finish_reason`, a usage
    /// chunk when the request set `stream_options.include_usage`, then `[DONE]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{
    ///     ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    ///     CreateChatCompletionRequest,
    /// };
    /// use sync_openai::ChatApi;
    ///
    /// let server = MockServer::start();
    /// server.reply(Reply::text("Hello there, Rustacean!"));
    /// server.reply(Reply::text("Hello there, Rustacean!"));
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    ///
    /// let whole = api.create_chat_completion(&req)?;
    /// assert_eq!(whole.model, "gpt-4o-mini");
    /// assert_eq!(whole.choices[0].message.content.as_deref(), Some("Hello there, Rustacean!"));
    ///
    /// let req = req.stream_options(ChatCompletionStreamOptions::include_usage());
    /// let chunks: Vec<_> = api.create_chat_completion_stream(&req)?.collect::<Result<_, _>>()?;
    /// let text: String = chunks
    ///     .iter()
    ///     .filter_map(|c| c.choices.first()?.delta.content.as_deref())
    ///     .collect();
    /// assert_eq!(text, "Hello there, Rustacean!");
    /// assert!(chunks.len() > 3); // role, several pieces, finish_reason, usage
    /// assert_eq!(chunks.last().and_then(|c| c.usage.as_ref()).map(|u| u.completion_tokens), Some(3));
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn text(content: impl Into<String>) -> Reply {
        Reply::new(Kind::Text(content.into()))
    }

    /// An assistant message that calls functions, with `finish_reason: "tool_calls"`.
    ///
    /// Each call is a `(name, arguments_json)` pair; the calls get the ids `call_mock_1`,
    /// `call_mock_2`, …. As a stream, each call's name comes first and its arguments
    /// follow in several fragments, as OpenAI sends them.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::ChatApi;
    ///
    /// let server = MockServer::start();
    /// let calls = [("get_weather", r#"{"city":"Paris"}"#), ("get_time", r#"{"utc_offset_hours":1}"#)];
    /// server.reply(Reply::tool_calls(calls));
    /// server.reply(Reply::tool_calls(calls));
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Weather?")]);
    ///
    /// let answer = api.create_chat_completion(&req)?;
    /// let call = answer.choices[0].message.tool_calls()[1].as_function().unwrap();
    /// assert_eq!((call.id.as_str(), call.function.name.as_str()), ("call_mock_2", "get_time"));
    /// assert_eq!(call.function.arguments, r#"{"utc_offset_hours":1}"#);
    ///
    /// // Streamed, the fragments add up to the same calls.
    /// let streamed = api.create_chat_completion_stream(&req)?.collect_completion()?;
    /// let call = streamed.choices[0].message.tool_calls()[0].as_function().unwrap();
    /// assert_eq!(call.function.arguments, r#"{"city":"Paris"}"#);
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn tool_calls<N, A>(calls: impl IntoIterator<Item = (N, A)>) -> Reply
    where
        N: Into<String>,
        A: Into<String>,
    {
        let calls = calls
            .into_iter()
            .map(|(name, arguments)| (name.into(), arguments.into()))
            .collect();
        Reply::new(Kind::ToolCalls(calls))
    }

    /// An error answer in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
    ///
    /// The `type` and `code` follow the status as OpenAI sends them: `401` is
    /// `invalid_api_key`, `429` is `rate_limit_exceeded`, `5xx` is a `server_error`,
    /// other statuses an `invalid_request_error`. For any other shape use
    /// [`raw`](Reply::raw).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::error::ApiErrorKind;
    /// use sync_openai::{ChatApi, Error};
    ///
    /// let server = MockServer::start();
    /// server.reply(Reply::error(429, "Rate limit reached").header("retry-after", "1"));
    /// server.reply(Reply::text("Made it"));
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    ///
    /// // The client retries the 429 (without waiting: see MockServer::config).
    /// let answer = api.create_chat_completion_with_http_info(&req)?;
    /// assert_eq!(answer.retries(), 1);
    ///
    /// server.reply(Reply::error(401, "Incorrect API key provided"));
    /// let Err(Error::Api(e)) = api.create_chat_completion(&req) else { panic!() };
    /// assert_eq!(e.kind(), ApiErrorKind::Authentication);
    /// assert_eq!(e.message(), "Incorrect API key provided");
    /// assert_eq!(e.code(), Some("invalid_api_key"));
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::new(Kind::Error {
            status,
            message: message.into(),
        })
    }

    /// A stream that stops after `after_chunks` events, with no `finish_reason` and no
    /// `[DONE]`, as when a connection or a proxy cuts an answer short.
    ///
    /// The body ends cleanly; the client sees an answer that never finished. Asked for
    /// JSON instead, the server announces the whole completion's length, sends half of
    /// it and closes the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::error::StreamErrorKind;
    /// use sync_openai::{ChatApi, Error};
    ///
    /// let server = MockServer::start();
    /// server.reply(Reply::truncated_stream("one two three four", 2));
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Count")]);
    ///
    /// let mut text = String::new();
    /// let mut failure = None;
    /// for delta in api.create_chat_completion_stream(&req)?.content_deltas() {
    ///     match delta {
    ///         Ok(piece) => text.push_str(&piece),
    ///         Err(e) => failure = Some(e),
    ///     }
    /// }
    /// assert_eq!(text, "one "); // the role chunk, then one piece
    /// let Some(Error::Stream(e)) = failure else { panic!("expected a stream error") };
    /// assert_eq!(e.kind(), StreamErrorKind::Truncated);
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn truncated_stream(content: impl Into<String>, after_chunks: usize) -> Reply {
        Reply::new(Kind::Truncated {
            content: content.into(),
            after_chunks,
        })
    }

    /// Any status and body, sent as they are, with `content-type: application/json`
    /// unless a [`header`](Reply::header) sets another.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::ChatApi;
    ///
    /// let server = MockServer::start();
    /// // A vendor's own stream, with a reasoning field.
    /// server.reply(
    ///     Reply::raw(200, "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Hmm\"}}]}\n\n\
    ///                      data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"42\"},\"finish_reason\":\"stop\"}]}\n\n\
    ///                      data: [DONE]\n\n")
    ///         .header("content-type", "text/event-stream"),
    /// );
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("qwen3", vec![Message::user("?")]);
    /// let answer = api.create_chat_completion_stream(&req)?.collect_completion()?;
    /// assert_eq!(answer.choices[0].message.content.as_deref(), Some("42"));
    /// assert_eq!(answer.choices[0].message.extra["reasoning_content"], "Hmm");
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn raw(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(Kind::Raw {
            status,
            body: body.into(),
        })
    }

    /// Adds a response header: a request id, `retry-after`, rate-limit headers.
    ///
    /// A `content-type` replaces the one the reply would send. CR and LF are removed
    /// from the name and the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::ChatApi;
    ///
    /// let server = MockServer::start();
    /// server.reply(
    ///     Reply::text("Hi")
    ///         .header("x-request-id", "req_123")
    ///         .header("x-ratelimit-remaining-requests", "99"),
    /// );
    /// let api = ChatApi::new(server.config());
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    /// let answer = api.create_chat_completion_with_http_info(&req)?;
    /// assert_eq!(answer.request_id(), Some("req_123"));
    /// assert_eq!(answer.rate_limit().remaining_requests, Some(99));
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Reply {
        let clean = |s: &str| s.replace(['\r', '\n'], "");
        self.headers
            .push((clean(name.as_ref()), clean(value.as_ref())));
        self
    }

    /// Waits this long before answering: for timeouts, and for requests in flight.
    ///
    /// Defaults to no delay. Dropping the server cuts a delay short.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::{ChatApi, Error};
    ///
    /// let server = MockServer::start();
    /// server.reply(Reply::text("Too late").delay(Duration::from_secs(5)));
    /// let api = ChatApi::new(server.config().timeout(Duration::from_millis(200)).max_retries(0));
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    /// let Err(e) = api.create_chat_completion(&req) else { panic!("expected a timeout") };
    /// assert!(e.is_timeout());
    /// ```
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Sleeps for the delay in short steps, so that a stopping server is not held up.
    fn wait(&self, shared: &Shared) {
        let until = Instant::now() + self.delay;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || shared.stopping() {
                return;
            }
            thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// One request the [`MockServer`] received.
///
/// Its `Debug` output hides the values of `authorization` and `api-key`.
#[derive(Clone)]
pub struct RecordedRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RecordedRequest {
    /// The method: `POST`, `GET`, `DELETE`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the query: `/v1/chat/completions`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query string without its `?`, as sent (percent-encoded), if there was one.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The value of a header (the first, if it was sent several times); the name is
    /// matched without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as it was received (chunked bodies decoded).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as JSON; [`Value::Null`] when it is empty or not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn wants_stream(&self) -> bool {
        self.json().get("stream").and_then(Value::as_bool) == Some(true)
    }

    fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| match n.to_ascii_lowercase().as_str() {
                "authorization" | "api-key" | "proxy-authorization" | "x-api-key" => {
                    (n.as_str(), "<redacted>")
                }
                _ => (n.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_server_is_send_sync() {
        fn assert_traits<T: Send + Sync>() {}
        assert_traits::<MockServer>();
        assert_traits::<Reply>();
        assert_traits::<RecordedRequest>();
    }
}
