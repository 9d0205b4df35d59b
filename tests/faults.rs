//! Fault injection: what the client does when the server or the network misbehaves.
//!
//! Every case runs against a tiny raw TCP server on 127.0.0.1 (one thread per
//! connection) that breaks HTTP in exactly one way and counts the connections and
//! requests it saw. Each client call runs under a hard time limit in its own thread, so
//! a hang or a panic in the client fails the test instead of blocking the suite. Retry
//! waits go through `Config::retry_sleep`, which records them instead of sleeping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{closed_port, COMPLETION, KEY};
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ApiErrorKind, ChatApi, Config, Error, StreamErrorKind, TransportErrorKind};

// ----- the fault server ------------------------------------------------------------

/// What the fault server does with a connection after answering a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// Wait for the next request on the same connection.
    KeepAlive,
    /// Close the connection (a FIN).
    Close,
}

/// Counters and flags shared by the server's threads.
#[derive(Default)]
struct Shared {
    connections: AtomicUsize,
    requests: AtomicUsize,
    /// Body bytes the server managed to write (for the size-limit case).
    written: AtomicU64,
    /// Every request's head and body, in arrival order.
    log: Mutex<Vec<(String, Vec<u8>)>>,
    stop: AtomicBool,
    handler_panicked: AtomicBool,
}

/// One accepted connection, as the handler sees it.
struct Conn {
    stream: TcpStream,
    shared: Arc<Shared>,
}

impl Conn {
    /// Reads a request head, one byte at a time so that nothing past it is consumed;
    /// returns it with its Content-Length. None when the client closed the connection.
    fn read_head(&mut self) -> Option<(String, usize)> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match self.stream.read(&mut byte) {
                Ok(0) | Err(_) => return None,
                Ok(_) => head.push(byte[0]),
            }
        }
        let head = String::from_utf8(head).unwrap();
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.trim().parse().unwrap());
        Some((head, length))
    }

    /// Reads exactly `n` body bytes; None on EOF or error.
    fn read_body(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut body = vec![0u8; n];
        self.stream.read_exact(&mut body).ok()?;
        Some(body)
    }

    /// Reads one whole request and logs it; false when the client closed instead.
    fn read_request(&mut self) -> bool {
        let Some((head, length)) = self.read_head() else {
            return false;
        };
        let Some(body) = self.read_body(length) else {
            return false;
        };
        self.log(head, body);
        true
    }

    /// Reads a request but the last byte of its body, counts it, and waits until that
    /// byte has arrived: closing the socket then sends a RST (what SO_LINGER 0 does),
    /// because unread data is pending. Std has no stable `set_linger`.
    fn read_request_but_one_byte(&mut self) {
        let (head, length) = self.read_head().unwrap();
        assert!(length > 0, "the client sent no body");
        let body = self.read_body(length - 1).unwrap();
        self.log(head, body);
        let mut last = [0u8; 1];
        assert_eq!(self.stream.peek(&mut last).unwrap(), 1);
    }

    fn log(&self, head: String, body: Vec<u8>) {
        self.shared.log.lock().unwrap().push((head, body));
        self.shared.requests.fetch_add(1, Ordering::SeqCst);
    }

    /// Writes and flushes; false when the client has gone (which is no server failure).
    fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok() && self.stream.flush().is_ok()
    }

    /// A complete response with a Content-Length.
    fn respond(&mut self, status: &str, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.write(&bytes)
    }

    /// Holds the connection open without sending anything, until the test ends (at
    /// most 20 s, so a forgotten server never outlives the suite by much).
    fn stall(&self) {
        let start = Instant::now();
        while !self.shared.stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(20)
        {
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `bytes` one at a time, `gap` apart.
    fn drip(&mut self, bytes: &[u8], gap: Duration) -> bool {
        for b in bytes {
            thread::sleep(gap);
            if !self.write(&[*b]) {
                return false;
            }
        }
        true
    }
}

/// A raw TCP server on 127.0.0.1:0 that runs `handler` on each connection in its own
/// thread. Dropping it stops accepting and releases stalled handlers.
struct FaultServer {
    port: u16,
    shared: Arc<Shared>,
}

impl FaultServer {
    /// Runs `handler` once per accepted connection, with the connection's index (0-based).
    fn per_connection(handler: impl Fn(usize, &mut Conn) + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let handler = Arc::new(handler);
        let server_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if server_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let index = server_shared.connections.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(&server_shared);
                let handler = Arc::clone(&handler);
                thread::spawn(move || {
                    let mut conn = Conn {
                        stream,
                        shared: Arc::clone(&shared),
                    };
                    if catch_unwind(AssertUnwindSafe(|| handler(index, &mut conn))).is_err() {
                        shared.handler_panicked.store(true, Ordering::SeqCst);
                    }
                });
            }
        });
        FaultServer { port, shared }
    }

    /// Reads requests on every connection and answers each with `handler`, called with
    /// the request's index across all connections (0-based).
    fn per_request(
        handler: impl Fn(usize, &mut Conn) -> After + Send + Sync + 'static,
    ) -> FaultServer {
        let seen = Arc::new(AtomicUsize::new(0));
        FaultServer::per_connection(move |_, conn| {
            while conn.read_request() {
                let index = seen.fetch_add(1, Ordering::SeqCst);
                if handler(index, conn) == After::Close {
                    break;
                }
            }
        })
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// A client for this server: test key, short timeouts, no retries, and retry waits
    /// recorded in `sleeps` instead of slept.
    fn config(&self, sleeps: &Sleeps) -> Config {
        let sleeps = Arc::clone(&sleeps.0);
        Config::new()
            .api_key(KEY)
            .base_url(self.base_url())
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .stream_idle_timeout(Duration::from_secs(5))
            .max_retries(0)
            .retry_sleep(move |d| sleeps.lock().unwrap().push(d))
    }

    /// Whole requests the server read.
    fn requests(&self) -> usize {
        self.check_handlers();
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Connections the server accepted.
    fn connections(&self) -> usize {
        self.check_handlers();
        self.shared.connections.load(Ordering::SeqCst)
    }

    fn check_handlers(&self) {
        assert!(
            !self.shared.handler_panicked.load(Ordering::SeqCst),
            "a fault-server handler panicked (a bug in the test, not the client)"
        );
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// The waits the client asked for between retries.
#[derive(Default, Clone)]
struct Sleeps(Arc<Mutex<Vec<Duration>>>);

impl Sleeps {
    fn taken(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

/// Runs a client call in its own thread and fails the test if it takes longer than
/// `limit` (a hang) or panics. Returns the call's result and how long it took.
fn bounded<T: Send + 'static>(
    limit: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let handle = thread::spawn(move || {
        let _ = tx.send(call());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            let elapsed = start.elapsed();
            handle.join().unwrap();
            (value, elapsed)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the client hung: no result after {limit:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = handle.join().unwrap_err();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            panic!("the client panicked: {message}")
        }
    }
}

/// How long a single case may take before it counts as a hang.
const LIMIT: Duration = Duration::from_secs(10);

fn req() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")])
}

/// One non-streamed call, bounded in time.
fn complete(
    api: &ChatApi,
) -> (
    Result<sync_openai::ApiResponse<sync_openai::types::CreateChatCompletionResponse>, Error>,
    Duration,
) {
    let api = api.clone();
    bounded(LIMIT, move || {
        api.create_chat_completion_with_http_info(&req())
    })
}

/// Opens a stream and collects every item it yields, bounded in time.
fn stream_items(
    api: &ChatApi,
) -> (
    Result<Vec<Result<sync_openai::types::CreateChatCompletionStreamResponse, Error>>, Error>,
    Duration,
) {
    let api = api.clone();
    bounded(LIMIT, move || {
        api.create_chat_completion_stream(&req())
            .map(|stream| stream.collect::<Vec<_>>())
    })
}

fn transport_kind(err: &Error) -> TransportErrorKind {
    match err {
        Error::Transport(t) => t.kind(),
        other => panic!("expected Error::Transport, got {other:?}"),
    }
}

fn text_chunk(text: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    format!(
        "data: {{\"id\":\"chatcmpl-f\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":{finish}}}]}}\n\n"
    )
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n";

fn report(case: &str, elapsed: Duration) {
    eprintln!("faults::{case}: client call took {elapsed:?}");
}

// ----- connection-level faults -----------------------------------------------------

#[test]
fn connection_refused_is_a_connect_error_retried_per_policy() {
    let port = closed_port();
    let sleeps = Sleeps::default();
    let recorded = Arc::clone(&sleeps.0);
    let api = ChatApi::new(
        Config::new()
            .base_url(format!("http://127.0.0.1:{port}/v1"))
            .connect_timeout(Duration::from_secs(2))
            .max_retries(2)
            .retry_sleep(move |d| recorded.lock().unwrap().push(d)),
    );
    let (result, elapsed) = complete(&api);
    report("connection_refused", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Connect, "{err:?}");
    assert!(err.is_connect() && !err.is_timeout() && err.is_retryable());
    assert_eq!(err.status(), None);
    // Three attempts: two waits between them.
    assert_eq!(sleeps.taken().len(), 2, "{:?}", sleeps.taken());
    assert_eq!(err.retries(), 2);
    assert!(err.to_string().contains("after 2 retries"), "{err}");
}

#[test]
fn accept_then_close_is_retried_then_reported_as_io() {
    // Accepts and closes at once, before reading anything. Depending on timing the
    // client sees a broken pipe (writing), a reset or an EOF (reading): all one kind.
    let server = FaultServer::per_connection(|_, conn| {
        let _ = conn.stream.shutdown(Shutdown::Both);
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("accept_then_close", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(!err.is_connect() && !err.is_timeout() && err.is_retryable());
    assert_eq!(server.connections(), 3, "one connection per attempt");
    assert_eq!(server.requests(), 0);
    assert_eq!(sleeps.taken().len(), 2);
    assert_eq!(err.retries(), 2);
}

#[test]
fn reset_mid_headers_is_retried_then_reported_as_io() {
    // Sends half a status line, then resets the connection.
    let server = FaultServer::per_connection(|_, conn| {
        conn.read_request_but_one_byte();
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-ty");
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("reset_mid_headers", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(!err.is_connect() && !err.is_timeout() && err.is_retryable());
    assert_eq!(server.requests(), 3);
    assert_eq!(err.retries(), 2);
    assert_eq!(sleeps.taken().len(), 2);
}

#[test]
fn close_mid_headers_is_retried_then_reported_as_io() {
    // The same, with an orderly close (FIN) after the partial headers.
    let server = FaultServer::per_request(|_, conn| {
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-type: applic");
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(1));
    let (result, elapsed) = complete(&api);
    report("close_mid_headers", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert_eq!(server.requests(), 2);
    assert_eq!(err.retries(), 1);
}

#[test]
fn headers_then_close_before_the_body() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n",
        );
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("headers_then_close", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(err.is_retryable() && !err.is_timeout());
    // The body broke like a connection: retried per policy, as the error says it may be.
    assert_eq!(server.requests(), 3);
    assert_eq!(err.retries(), 2);
    assert_eq!(sleeps.taken().len(), 2);
}

#[test]
fn content_length_larger_than_the_body() {
    let server = FaultServer::per_request(|_, conn| {
        let half = &COMPLETION.as_bytes()[..COMPLETION.len() / 2];
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            COMPLETION.len()
        );
        conn.write(head.as_bytes());
        conn.write(half);
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(1));
    let (result, elapsed) = complete(&api);
    report("content_length_larger_than_body", elapsed);
    let err = result.unwrap_err();
    // A cut body is a transport failure, never a decode error about half a document.
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(err.is_retryable() && !err.is_timeout() && !err.is_connect());
    assert_eq!(server.requests(), 2);
    assert_eq!(err.retries(), 1);
    assert!(err.to_string().contains("after 1 retries"), "{err}");
}

#[test]
fn body_cut_once_then_whole_succeeds_on_the_retry() {
    let server = FaultServer::per_request(|i, conn| {
        let body = COMPLETION.as_bytes();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        conn.write(head.as_bytes());
        if i == 0 {
            conn.write(&body[..10]);
            After::Close
        } else {
            conn.write(body);
            After::KeepAlive
        }
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("body_cut_once", elapsed);
    let resp = result.unwrap();
    assert_eq!(resp.data.id, "chatcmpl-abc");
    assert_eq!(resp.retries(), 1);
    assert_eq!(server.requests(), 2);
    assert_eq!(sleeps.taken().len(), 1);
}

#[test]
fn broken_chunked_encoding() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
              5\r\n{\"cho\r\nzz-not-hex\r\nices\":[]}\r\n0\r\n\r\n",
        );
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (result, elapsed) = complete(&api);
    report("broken_chunked", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn chunked_body_cut_before_the_last_chunk() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
              5\r\n{\"cho\r\n",
        );
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (result, elapsed) = complete(&api);
    report("chunked_cut", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert_eq!(server.requests(), 1);
}

// ----- slow servers ----------------------------------------------------------------

#[test]
fn body_that_stalls_after_the_headers_times_out() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"id\":",
        );
        conn.stall();
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).timeout(Duration::from_millis(400)));
    let (result, elapsed) = complete(&api);
    report("body_stalls", elapsed);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.is_timeout() && !err.is_connect() && err.is_retryable());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn stalled_attempts_are_retried_each_within_the_timeout() {
    let server = FaultServer::per_request(|_, conn| {
        conn.stall(); // never answers
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(
        server
            .config(&sleeps)
            .timeout(Duration::from_millis(300))
            .max_retries(1),
    );
    let (result, elapsed) = complete(&api);
    report("stalled_attempts", elapsed);
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.retries(), 1);
    assert_eq!(server.requests(), 2);
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn stream_that_stalls_mid_answer_hits_the_idle_timeout() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None)).as_bytes());
        conn.stall();
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(
        server
            .config(&sleeps)
            .stream_idle_timeout(Duration::from_millis(400))
            .max_retries(2),
    );
    let (result, elapsed) = stream_items(&api);
    report("stream_stalls", elapsed);
    let items = result.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    let err = items[1].as_ref().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 1, "a started stream is never sent again");
    assert!(sleeps.taken().is_empty());
}

#[test]
fn body_dripped_one_byte_per_50ms_succeeds() {
    // Headers and most of a valid completion at once, then its last 20 bytes one at a
    // time, 50 ms apart: about 1 s of a slow but healthy server.
    let server = FaultServer::per_request(|_, conn| {
        let body = COMPLETION.as_bytes();
        let (now, later) = body.split_at(body.len() - 20);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        conn.write(head.as_bytes());
        conn.write(now);
        conn.drip(later, Duration::from_millis(50));
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).timeout(Duration::from_secs(8)));
    let (result, elapsed) = complete(&api);
    report("body_dripped", elapsed);
    let resp = result.unwrap();
    assert_eq!(
        resp.data.choices[0].message.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(resp.retries(), 0);
    assert!(elapsed >= Duration::from_millis(20 * 50), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn stream_dripped_one_byte_per_50ms_outlives_short_idle_and_header_timeouts() {
    // Both timeouts are 300 ms; the answer takes over 1.5 s but never goes quiet for
    // more than 50 ms, so it must not be cut.
    let server = FaultServer::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None)).as_bytes());
        let last = format!("{}data: [DONE]\n\n", text_chunk("lo", Some("stop")));
        let (now, later) = last.as_bytes().split_at(last.len() - 30);
        conn.write(now);
        conn.drip(later, Duration::from_millis(50));
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(
        server
            .config(&sleeps)
            .timeout(Duration::from_millis(300))
            .stream_idle_timeout(Duration::from_millis(300)),
    );
    let (result, elapsed) = stream_items(&api);
    report("stream_dripped", elapsed);
    let items = result.unwrap();
    let text: String = items
        .into_iter()
        .map(|c| {
            c.unwrap().choices[0]
                .delta
                .content
                .clone()
                .unwrap()
                .into_string()
        })
        .collect();
    assert_eq!(text, "Hello");
    assert!(elapsed >= Duration::from_millis(30 * 50), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

// ----- bad 2xx bodies --------------------------------------------------------------

#[test]
fn invalid_utf8_in_a_200_body_is_a_decode_error() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "200 OK",
            &[
                ("content-type", "application/json"),
                ("x-request-id", "req_utf8"),
            ],
            b"{\"choices\":[{\"index\":0,\"message\":{\"content\":\"caf\xe9 \xff\"}}]}",
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("invalid_utf8", elapsed);
    let err = result.unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("expected Error::Decode, got {err:?}")
    };
    assert_eq!(d.status(), 200);
    assert_eq!(d.line(), 1);
    assert!(d.message().contains("unicode"), "{}", d.message());
    assert!(d.snippet().contains("caf"), "{}", d.snippet());
    assert_eq!(err.request_id(), Some("req_utf8"));
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1, "a decode error is not retried");
    let _ = err.to_string();
}

#[test]
fn empty_200_body_is_a_decode_error() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond("200 OK", &[("content-type", "application/json")], b"");
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("empty_200", elapsed);
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_eq!(err.status(), Some(200));
    assert!(err.to_string().contains("empty body"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn html_200_from_a_captive_portal_is_a_decode_error_pointing_at_base_url() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "200 OK",
            &[("content-type", "text/html; charset=utf-8")],
            b"<!DOCTYPE html><html><head><title>Sign in to Wi-Fi</title></head><body>Accept the terms</body></html>",
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("html_200", elapsed);
    let err = result.unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("expected Error::Decode, got {err:?}")
    };
    assert!(d.snippet().contains("<!DOCTYPE html>"), "{}", d.snippet());
    assert!(err.to_string().contains("base_url"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn body_over_the_size_limit_is_refused_without_reading_it_all() {
    const LIMIT_BYTES: u64 = 64 * 1024;
    const ANNOUNCED: u64 = 256 * 1024 * 1024;
    // Announces 256 MiB and streams it from one 8 KiB buffer until the client hangs up.
    let server = FaultServer::per_request(|_, conn| {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {ANNOUNCED}\r\n\r\n{{\"choices\":[],\"pad\":\""
        );
        conn.write(head.as_bytes());
        let chunk = [b'x'; 8192];
        let mut sent = 0u64;
        while sent < ANNOUNCED && conn.write(&chunk) {
            sent += chunk.len() as u64;
            conn.shared.written.store(sent, Ordering::SeqCst);
        }
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(
        server
            .config(&sleeps)
            .max_response_bytes(LIMIT_BYTES)
            .max_retries(2),
    );
    let (result, elapsed) = complete(&api);
    report("body_over_limit", elapsed);
    let err = result.unwrap_err();
    assert_eq!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge,
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("max_response_bytes"), "{err}");
    assert_eq!(server.requests(), 1, "a body too large is not retried");
    // The client hung up long before the end: at most the limit plus what the socket
    // buffers held was ever sent.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.shared.written.load(Ordering::SeqCst) >= ANNOUNCED && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let written = server.shared.written.load(Ordering::SeqCst);
    assert!(written < 64 * 1024 * 1024, "server wrote {written} bytes");
}

#[test]
fn stream_line_that_never_ends_is_bounded() {
    // A stream whose first line grows forever: the parser's 1 MiB line limit ends it.
    let server = FaultServer::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\ndata: {{\"pad\":\"").as_bytes());
        let chunk = [b'x'; 8192];
        let mut sent = 0u64;
        while sent < 256 * 1024 * 1024 && conn.write(&chunk) {
            sent += chunk.len() as u64;
            conn.shared.written.store(sent, Ordering::SeqCst);
        }
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = stream_items(&api);
    report("stream_line_never_ends", elapsed);
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let Err(Error::Stream(e)) = &items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(e.kind(), StreamErrorKind::TooLarge);
    assert_eq!(server.requests(), 1);
}

// ----- error statuses and retries --------------------------------------------------

const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";

#[test]
fn html_502_from_a_proxy_is_retried_then_an_api_error() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "502 Bad Gateway",
            &[("content-type", "text/html"), ("server", "nginx/1.25.3")],
            NGINX_502.as_bytes(),
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("html_502", elapsed);
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 502);
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.message, "502 Bad Gateway");
    assert!(e.body.contains("nginx/1.25.3"));
    let shown = err.to_string();
    assert!(
        shown.starts_with("server answered 502 Bad Gateway"),
        "{shown}"
    );
    assert!(!shown.contains("<html>"), "{shown}");
    assert_eq!(server.requests(), 3);
    assert_eq!(err.retries(), 2);
    assert_eq!(sleeps.taken().len(), 2);
    // The error bodies were read whole, so the three attempts shared one connection.
    assert_eq!(server.connections(), 1);
}

#[test]
fn two_500s_then_200_succeeds_with_two_retries() {
    let server = FaultServer::per_request(|i, conn| {
        if i < 2 {
            conn.respond(
                "500 Internal Server Error",
                &[("content-type", "application/json")],
                br#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
            );
        } else {
            conn.respond(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("x-request-id", "req_ok"),
                ],
                COMPLETION.as_bytes(),
            );
        }
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("500_500_200", elapsed);
    let resp = result.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.retries(), 2);
    assert_eq!(resp.request_id(), Some("req_ok"));
    assert_eq!(server.requests(), 3);
    assert_eq!(sleeps.taken().len(), 2);
    // Every attempt sent the same request.
    let log = server.shared.log.lock().unwrap().clone();
    for (head, body) in &log {
        assert!(
            head.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"),
            "{head}"
        );
        assert_eq!(body, &log[0].1);
    }
    assert!(String::from_utf8_lossy(&log[0].1).contains(r#""model":"gpt-4o-mini""#));
}

#[test]
fn three_503s_fail_after_three_attempts() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "503 Service Unavailable",
            &[("content-type", "application/json"), ("x-request-id", "req_503")],
            br#"{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#,
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("503x3", elapsed);
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 503);
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.retries(), 2);
    assert!(err.is_retryable());
    let shown = err.to_string();
    assert!(shown.contains("after 2 retries"), "{shown}");
    assert!(shown.contains("currently overloaded"), "{shown}");
    assert!(shown.contains("req_503"), "{shown}");
    assert_eq!(server.requests(), 3);
    assert_eq!(sleeps.taken().len(), 2);
}

#[test]
fn rate_limit_with_retry_after_ms_waits_exactly_that() {
    let server = FaultServer::per_request(|i, conn| {
        if i == 0 {
            conn.respond(
                "429 Too Many Requests",
                &[("content-type", "application/json"), ("retry-after-ms", "10")],
                br#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
            );
        } else {
            conn.respond(
                "200 OK",
                &[("content-type", "application/json")],
                COMPLETION.as_bytes(),
            );
        }
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("429_retry_after_ms", elapsed);
    let resp = result.unwrap();
    assert_eq!(resp.retries(), 1);
    assert_eq!(sleeps.taken(), [Duration::from_millis(10)]);
    assert_eq!(server.requests(), 2);
}

#[test]
fn insufficient_quota_is_not_retried() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "429 Too Many Requests",
            &[("content-type", "application/json"), ("retry-after", "1")],
            br#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("insufficient_quota", elapsed);
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 429);
    assert_eq!(e.kind(), ApiErrorKind::InsufficientQuota);
    assert_eq!(e.code.as_deref(), Some("insufficient_quota"));
    assert_eq!(e.error_type.as_deref(), Some("insufficient_quota"));
    assert!(!err.is_retryable());
    assert_eq!(err.retries(), 0);
    assert_eq!(server.requests(), 1);
    assert!(sleeps.taken().is_empty());
}

#[test]
fn bad_request_is_not_retried() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "400 Bad Request",
            &[("content-type", "application/json")],
            br#"{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#,
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("400", elapsed);
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    assert_eq!(e.param.as_deref(), Some("temperature"));
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1);
    assert!(sleeps.taken().is_empty());
}

#[test]
fn error_body_that_stalls_still_reports_the_status() {
    // A 503 whose body never comes: the attempt's timeout ends the read, and the user
    // still gets the status (and whatever part of the body came).
    let server = FaultServer::per_request(|_, conn| {
        conn.write(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"error\":",
        );
        conn.stall();
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).timeout(Duration::from_millis(400)));
    let (result, elapsed) = complete(&api);
    report("error_body_stalls", elapsed);
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 503);
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.body, "{\"error\":");
    assert!(err.is_retryable());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

// ----- connection reuse ------------------------------------------------------------

#[test]
fn connection_is_reused_after_an_error_body() {
    let server = FaultServer::per_request(|i, conn| {
        if i == 0 {
            conn.respond(
                "404 Not Found",
                &[("content-type", "application/json")],
                br#"{"error":{"message":"The model `gpt-5-nano-x` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
            );
        } else {
            conn.respond(
                "200 OK",
                &[("content-type", "application/json")],
                COMPLETION.as_bytes(),
            );
        }
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (first, _) = complete(&api);
    let err = first.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let (second, elapsed) = complete(&api);
    report("reuse_after_error", elapsed);
    assert_eq!(second.unwrap().status, 200);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 1, "the error body was drained");
}

#[test]
fn pooled_connection_closed_by_the_server_is_not_an_error() {
    // The server answers once with keep-alive, then drops the idle connection (its
    // keep-alive timeout). The next call, even with retries off, must not fail.
    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    let closed_tx = Mutex::new(closed_tx);
    let server = FaultServer::per_request(move |_, conn| {
        conn.respond(
            "200 OK",
            &[("content-type", "application/json")],
            COMPLETION.as_bytes(),
        );
        let _ = conn.stream.shutdown(Shutdown::Both);
        let _ = closed_tx.lock().unwrap().send(());
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (first, _) = complete(&api);
    first.unwrap();
    closed_rx.recv_timeout(LIMIT).unwrap();
    let (second, elapsed) = complete(&api);
    report("stale_pooled_connection", elapsed);
    let resp = second.unwrap();
    assert_eq!(resp.retries(), 0);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 2);
}

#[test]
fn close_delimited_body_without_content_length_succeeds() {
    // HTTP/1.0 style: no length, no chunking, the end of the body is the close.
    let server = FaultServer::per_request(|_, conn| {
        let mut out =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                .to_vec();
        out.extend_from_slice(COMPLETION.as_bytes());
        conn.write(&out);
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (result, elapsed) = complete(&api);
    report("close_delimited", elapsed);
    assert_eq!(result.unwrap().data.id, "chatcmpl-abc");
    assert_eq!(server.requests(), 1);
}

// ----- streams -----------------------------------------------------------------------

#[test]
fn stream_cut_after_some_chunks_is_a_truncation_error_not_retried() {
    let server = FaultServer::per_request(|_, conn| {
        let mut out = format!("{SSE_HEAD}x-request-id: req_cut\r\n\r\n");
        for part in ["The ", "answer ", "is"] {
            out.push_str(&text_chunk(part, None));
        }
        conn.write(out.as_bytes());
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = stream_items(&api);
    report("stream_cut", elapsed);
    let items = result.unwrap();
    assert_eq!(items.len(), 4, "{items:?}");
    for item in &items[..3] {
        assert!(item.is_ok(), "{item:?}");
    }
    let err = items[3].as_ref().unwrap_err();
    let Error::Stream(e) = err else {
        panic!("expected Error::Stream, got {err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert_eq!(err.request_id(), Some("req_cut"));
    assert_eq!(server.requests(), 1);
    assert!(sleeps.taken().is_empty());
}

#[test]
fn stream_reset_mid_answer_is_a_truncation_error() {
    // As above, but the connection is reset (unread request byte, then close).
    let server = FaultServer::per_connection(|_, conn| {
        conn.read_request_but_one_byte();
        let out = format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None));
        conn.write(out.as_bytes());
        thread::sleep(Duration::from_millis(50)); // let the chunk arrive before the RST
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = stream_items(&api);
    report("stream_reset", elapsed);
    let items = result.unwrap();
    let err = items.last().unwrap().as_ref().unwrap_err();
    let Error::Stream(e) = err else {
        panic!("expected Error::Stream, got {err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert_eq!(server.requests(), 1);
}

#[test]
fn stream_opening_is_retried_on_503() {
    let server = FaultServer::per_request(|i, conn| {
        if i == 0 {
            conn.respond("503 Service Unavailable", &[], b"");
            After::KeepAlive
        } else {
            let out = format!(
                "{SSE_HEAD}\r\n{}data: [DONE]\n\n",
                text_chunk("Hi", Some("stop"))
            );
            conn.write(out.as_bytes());
            After::Close
        }
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = stream_items(&api);
    report("stream_open_503", elapsed);
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].is_ok());
    assert_eq!(server.requests(), 2);
    assert_eq!(sleeps.taken().len(), 1);
}

#[test]
fn server_that_ignores_stream_true_gets_its_answer_replayed_as_one_chunk() {
    // Some proxies drop `"stream": true` and answer with one JSON completion.
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "200 OK",
            &[("content-type", "application/json")],
            COMPLETION.as_bytes(),
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = stream_items(&api);
    report("stream_ignored", elapsed);
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let chunk = items[0].as_ref().unwrap();
    assert_eq!(chunk.id, "chatcmpl-abc");
    assert_eq!(chunk.object, "chat.completion.chunk");
    assert_eq!(
        chunk.choices[0].delta.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(chunk.usage.as_ref().map(|u| u.total_tokens), Some(22));
    assert_eq!(server.requests(), 1);
}

#[test]
fn broken_json_answer_to_a_stream_request_says_so() {
    let server = FaultServer::per_request(|_, conn| {
        conn.respond(
            "200 OK",
            &[("content-type", "application/json")],
            b"{\"choices\": [",
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (result, elapsed) = stream_items(&api);
    report("stream_broken_json", elapsed);
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let Err(Error::Stream(e)) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert!(
        e.message().contains("JSON body instead of an event stream"),
        "{e}"
    );
}

// ----- odd but valid HTTP ------------------------------------------------------------

#[test]
fn informational_response_before_the_answer_is_skipped() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n");
        conn.respond(
            "200 OK",
            &[("content-type", "application/json")],
            COMPLETION.as_bytes(),
        );
        After::KeepAlive
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps));
    let (result, elapsed) = complete(&api);
    report("100_continue", elapsed);
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(server.requests(), 1);
}

#[test]
fn header_block_that_never_ends_is_bounded() {
    let server = FaultServer::per_request(|_, conn| {
        conn.write(b"HTTP/1.1 200 OK\r\n");
        let line = format!("x-pad: {}\r\n", "y".repeat(1000));
        for _ in 0..100_000 {
            if !conn.write(line.as_bytes()) {
                break;
            }
        }
        After::Close
    });
    let sleeps = Sleeps::default();
    let api = ChatApi::new(server.config(&sleeps).max_retries(2));
    let (result, elapsed) = complete(&api);
    report("endless_headers", elapsed);
    let err = result.unwrap_err();
    // ureq stops at 64 KiB of headers; a server that sends more will again: final.
    assert_eq!(transport_kind(&err), TransportErrorKind::Other, "{err:?}");
    assert!(err.to_string().contains("header is too big"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1);
}
