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
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::error::ConfigProblem;
use crate::util::reason_phrase;

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
        let mut config = Config::new().base_url(self.base_url()).retry_sleep(|_| {});
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

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, say: let the system recover.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).push((id, clone));
        }
        let worker = {
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name("sync-openai-mock-connection".to_owned())
                .spawn(move || {
                    serve_connection(stream, &shared);
                    lock(&shared.connections).retain(|(i, _)| *i != id);
                })
        };
        let mut workers = lock(&shared.workers);
        workers.retain(|w| !w.is_finished());
        if let Ok(worker) = worker {
            workers.push(worker);
        }
    }
}

/// Serves the requests of one connection until the client closes it or asks to.
fn serve_connection(stream: TcpStream, shared: &Shared) {
    let mut conn = Connection {
        stream,
        buf: Vec::new(),
    };
    while !shared.stopping() {
        let request = match conn.read_request() {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(ReadError::Io) => return,
            Err(ReadError::Bad(status, why)) => {
                let body = error_body(&why, "invalid_request_error", None);
                let _ = conn.write_head(status, &json_headers(body.len(), true), true);
                let _ = conn.stream.write_all(body.as_bytes());
                return;
            }
        };
        let close = request.wants_close();
        lock(&shared.requests).push(request.clone());
        let scripted = lock(&shared.replies).pop_front();
        let reply = scripted.or_else(|| lock(&shared.fallback).clone());
        let number = lock(&shared.requests).len();
        let outcome = match reply {
            Some(reply) => {
                reply.wait(shared);
                conn.answer(&reply, &request, number, close)
            }
            None => {
                let why = format!(
                    "no reply was scripted for this request ({} {}): call MockServer::reply before sending it",
                    request.method, request.path
                );
                let body = error_body(&why, "server_error", Some("mock_no_reply"));
                conn.write_head(500, &json_headers(body.len(), close), close)
                    .and_then(|()| conn.stream.write_all(body.as_bytes()))
                    .map(|()| close)
            }
        };
        match outcome {
            Ok(false) => {}
            Ok(true) | Err(_) => return,
        }
    }
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

/// Why a request could not be read.
enum ReadError {
    /// The connection failed or closed mid-request: nothing to answer.
    Io,
    /// The request is malformed or too large: answer with this status and close.
    Bad(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> ReadError {
        ReadError::Io
    }
}

struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet used (the start of the next request, with keep-alive).
    buf: Vec<u8>,
}

impl Connection {
    /// Reads more bytes into the buffer; `false` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend(chunk.iter().take(n));
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes the first `n` bytes of the buffer, reading until there are that many.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Err(ReadError::Io);
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Takes one CRLF-terminated line (without the CRLF), of at most `limit` bytes.
    fn line(&mut self, limit: usize) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let mut line: Vec<u8> = self.buf.drain(..end + 2).collect();
                line.truncate(end);
                return Ok(line);
            }
            if self.buf.len() > limit {
                return Err(ReadError::Bad(
                    400,
                    "a chunk-size line is too long".to_owned(),
                ));
            }
            if !self.fill()? {
                return Err(ReadError::Io);
            }
        }
    }

    /// Reads the next request; `None` when the client closed the connection between
    /// requests.
    fn read_request(&mut self) -> Result<Option<RecordedRequest>, ReadError> {
        let Some(head) = self.read_head()? else {
            return Ok(None);
        };
        let mut request = parse_head(&head)?;
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        request.body = self.read_body(&request)?;
        Ok(Some(request))
    }

    /// The request line and headers, up to the empty line; `None` at the end of input.
    fn read_head(&mut self) -> Result<Option<String>, ReadError> {
        let head_end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(ReadError::Bad(
                    431,
                    "the request head is too large".to_owned(),
                ));
            }
            if !self.fill()? {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(ReadError::Io),
                };
            }
        };
        let head: Vec<u8> = self.buf.drain(..head_end + 4).collect();
        Ok(Some(String::from_utf8_lossy(&head).into_owned()))
    }

    fn read_body(&mut self, request: &RecordedRequest) -> Result<Vec<u8>, ReadError> {
        let chunked = request
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            return self.read_chunked();
        }
        let length = match request.header("content-length") {
            None => 0,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ReadError::Bad(400, format!("bad content-length {v:?}")))?,
        };
        if length > MAX_BODY_BYTES {
            return Err(ReadError::Bad(
                413,
                "the request body is too large".to_owned(),
            ));
        }
        self.take(length)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.line(1024)?;
            let line = String::from_utf8_lossy(&line);
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| ReadError::Bad(400, format!("bad chunk size {size:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.line(MAX_HEAD_BYTES)?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > MAX_BODY_BYTES {
                return Err(ReadError::Bad(
                    413,
                    "the request body is too large".to_owned(),
                ));
            }
            body.extend(self.take(size)?);
            self.take(2)?;
        }
    }

    fn write_head(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        close: bool,
    ) -> io::Result<()> {
        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            head.push_str("connection: close\r\n");
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes())
    }

    /// Answers one request with a reply; `Ok(true)` when the connection must close.
    fn answer(
        &mut self,
        reply: &Reply,
        request: &RecordedRequest,
        number: usize,
        close: bool,
    ) -> io::Result<bool> {
        let answer = Answer::new(request, number);
        let stream = request.wants_stream();
        let (status, body, events) = match &reply.kind {
            Kind::Raw { status, body } => (*status, body.clone(), None),
            Kind::Error { status, message } => {
                let (kind, code) = error_kind(*status);
                (*status, error_body(message, kind, code).into_bytes(), None)
            }
            Kind::Text(content) if stream => (200, Vec::new(), Some(answer.text_events(content))),
            Kind::Text(content) => (200, answer.text_json(content), None),
            Kind::ToolCalls(calls) if stream => (200, Vec::new(), Some(answer.tool_events(calls))),
            Kind::ToolCalls(calls) => (200, answer.tool_json(calls), None),
            Kind::Truncated {
                content,
                after_chunks,
            } if stream => {
                let mut events = answer.text_events(content);
                events.truncate(*after_chunks);
                (200, Vec::new(), Some(events))
            }
            Kind::Truncated { content, .. } => {
                let body = answer.text_json(content);
                let headers = merged(json_headers(body.len(), true), reply);
                self.write_head(200, &headers, true)?;
                self.stream
                    .write_all(body.get(..body.len() / 2).unwrap_or_default())?;
                return Ok(true);
            }
        };
        match events {
            None => {
                let headers = merged(json_headers(body.len(), close), reply);
                self.write_head(status, &headers, close)?;
                self.stream.write_all(&body)?;
            }
            Some(events) => {
                let headers = vec![
                    ("content-type".to_owned(), "text/event-stream".to_owned()),
                    ("cache-control".to_owned(), "no-cache".to_owned()),
                    ("transfer-encoding".to_owned(), "chunked".to_owned()),
                ];
                self.write_head(200, &merged(headers, reply), close)?;
                for event in events {
                    let data = format!("data: {event}\n\n");
                    write!(self.stream, "{:x}\r\n{data}\r\n", data.len())?;
                    self.stream.flush()?;
                }
                self.stream.write_all(b"0\r\n\r\n")?;
            }
        }
        self.stream.flush()?;
        Ok(close)
    }
}

/// A request without its body, from its head.
fn parse_head(head: &str) -> Result<RecordedRequest, ReadError> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(
            400,
            format!("bad request line {request_line:?}"),
        ));
    };
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.to_owned(), None),
    };
    let mut request = RecordedRequest {
        method: method.to_owned(),
        path,
        query,
        headers,
        body: Vec::new(),
    };
    if version == "HTTP/1.0" && request.header("connection").is_none() {
        request
            .headers
            .push(("connection".to_owned(), "close".to_owned()));
    }
    Ok(request)
}

/// The reply's own headers over the defaults: a `content-type` of its own replaces the
/// default one.
fn merged(mut defaults: Vec<(String, String)>, reply: &Reply) -> Vec<(String, String)> {
    if reply.has_header("content-type") {
        defaults.retain(|(n, _)| n != "content-type");
    }
    defaults.extend(reply.headers.iter().cloned());
    defaults
}

fn json_headers(length: usize, close: bool) -> Vec<(String, String)> {
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("content-length".to_owned(), length.to_string()),
    ];
    if !close {
        headers.push(("connection".to_owned(), "keep-alive".to_owned()));
    }
    headers
}

/// What the bodies of one answer share: id, model, whether usage goes in the stream.
struct Answer {
    id: String,
    model: String,
    include_usage: bool,
    prompt_tokens: u64,
}

impl Answer {
    fn new(request: &RecordedRequest, number: usize) -> Answer {
        let json = request.json();
        let model = json
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("mock-model")
            .to_owned();
        let include_usage = json
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        Answer {
            id: format!("chatcmpl-mock-{number}"),
            model,
            include_usage,
            prompt_tokens: prompt_words(&json),
        }
    }

    fn usage(&self, completion_tokens: u64) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        })
    }

    fn completion(&self, message: Value, finish_reason: &str, completion_tokens: u64) -> Vec<u8> {
        let body = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": CREATED,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
            "usage": self.usage(completion_tokens),
            "system_fingerprint": "fp_mock",
        });
        body.to_string().into_bytes()
    }

    fn text_json(&self, content: &str) -> Vec<u8> {
        let message = json!({"role": "assistant", "content": content, "refusal": null});
        self.completion(message, "stop", pieces(content).len() as u64)
    }

    fn tool_json(&self, calls: &[(String, String)]) -> Vec<u8> {
        let calls: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (name, arguments))| {
                json!({
                    "id": format!("call_mock_{}", i + 1),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                })
            })
            .collect();
        let tokens = calls.len() as u64;
        let message =
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": calls});
        self.completion(message, "tool_calls", tokens)
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> String {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": "fp_mock",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        if self.include_usage {
            if let Some(map) = chunk.as_object_mut() {
                map.insert("usage".to_owned(), Value::Null);
            }
        }
        chunk.to_string()
    }

    /// The finish-reason chunk, the usage chunk when asked for, and `[DONE]`.
    fn ending(&self, events: &mut Vec<String>, finish_reason: &str, completion_tokens: u64) {
        events.push(self.chunk(json!({}), Some(finish_reason)));
        if self.include_usage {
            let usage = json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": self.model,
                "system_fingerprint": "fp_mock",
                "choices": [],
                "usage": self.usage(completion_tokens),
            });
            events.push(usage.to_string());
        }
        events.push("[DONE]".to_owned());
    }

    fn text_events(&self, content: &str) -> Vec<String> {
        let pieces = pieces(content);
        let mut events = vec![self.chunk(
            json!({"role": "assistant", "content": "", "refusal": null}),
            None,
        )];
        for piece in &pieces {
            events.push(self.chunk(json!({"content": piece}), None));
        }
        self.ending(&mut events, "stop", pieces.len() as u64);
        events
    }

    fn tool_events(&self, calls: &[(String, String)]) -> Vec<String> {
        let mut events = vec![self.chunk(
            json!({"role": "assistant", "content": null, "refusal": null}),
            None,
        )];
        for (i, (name, arguments)) in calls.iter().enumerate() {
            let start = json!({"tool_calls": [{
                "index": i,
                "id": format!("call_mock_{}", i + 1),
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }]});
            events.push(self.chunk(start, None));
            let chars: Vec<char> = arguments.chars().collect();
            for fragment in chars.chunks(8) {
                let fragment: String = fragment.iter().collect();
                let delta =
                    json!({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]});
                events.push(self.chunk(delta, None));
            }
        }
        self.ending(&mut events, "tool_calls", calls.len() as u64);
        events
    }
}

/// The text split after each run of spaces: `"a b  c"` is `["a ", "b  ", "c"]`.
fn pieces(content: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in content.char_indices() {
        if c == ' ' {
            in_space = true;
        } else if in_space {
            pieces.extend(content.get(start..i));
            start = i;
            in_space = false;
        }
    }
    pieces.extend(content.get(start..).filter(|rest| !rest.is_empty()));
    pieces
}

/// The number of words in the request's messages: the mock's prompt "tokens".
fn prompt_words(request: &Value) -> u64 {
    fn words(value: &Value) -> usize {
        match value {
            Value::String(s) => s.split_whitespace().count(),
            Value::Array(parts) => parts.iter().map(|p| p.get("text").map_or(0, words)).sum(),
            _ => 0,
        }
    }
    let messages = request.get("messages").and_then(Value::as_array);
    messages.map_or(0, |m| {
        m.iter()
            .map(|m| m.get("content").map_or(0, words))
            .sum::<usize>() as u64
    })
}

fn error_kind(status: u16) -> (&'static str, Option<&'static str>) {
    match status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        429 => ("requests", Some("rate_limit_exceeded")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    }
}

fn error_body(message: &str, kind: &str, code: Option<&str>) -> String {
    let mut error = Map::new();
    error.insert("message".to_owned(), Value::from(message));
    error.insert("type".to_owned(), Value::from(kind));
    error.insert("param".to_owned(), Value::Null);
    error.insert("code".to_owned(), code.map_or(Value::Null, Value::from));
    json!({ "error": error }).to_string()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_split_after_spaces() {
        assert_eq!(pieces("a b  c"), ["a ", "b  ", "c"]);
        assert_eq!(pieces("Hello"), ["Hello"]);
        assert_eq!(pieces(" lead"), [" ", "lead"]);
        assert!(pieces("").is_empty());
    }

    #[test]
    fn prompt_words_count_text_and_parts() {
        let request = json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "one two three"}]},
        ]});
        assert_eq!(prompt_words(&request), 5);
        assert_eq!(prompt_words(&json!({})), 0);
    }

    #[test]
    fn mock_server_is_send_sync() {
        fn assert_traits<T: Send + Sync>() {}
        assert_traits::<MockServer>();
        assert_traits::<Reply>();
        assert_traits::<RecordedRequest>();
    }
}
