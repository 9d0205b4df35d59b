//! One raw scripted HTTP/1.1 server for every integration test that needs more than
//! request matching: it breaks HTTP in exactly the way a test scripts, counts the
//! connections and requests it saw, logs every request verbatim, and records the retry
//! waits of the clients it configures.
//!
//! A script is a closure run once per connection ([`Server::per_connection`]) or once
//! per request ([`Server::per_request`]); [`Server::always`] and [`Server::silent`]
//! cover the two commonest scripts, and [`Server::handler`] answers each request from a
//! function of it, for stateful fakes (the Files and Batches endpoints, rate-limit gates). Each connection gets its own thread; dropping the
//! server stops accepting and releases stalled handlers.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sync_openai::{ChatApi, Config};

use crate::common::KEY;

/// What a per-request script does with the connection after answering.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum After {
    /// Wait for the next request on the same connection.
    KeepAlive,
    /// Close the connection (a FIN).
    Close,
}

/// One request as it came off the socket, nothing decoded.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request line and header lines, verbatim, with the blank line that ends them.
    pub head: String,
    pub body: Vec<u8>,
    /// When the server had read the request head.
    pub at: Instant,
}

impl Request {
    /// `METHOD target HTTP/1.1`, verbatim.
    pub fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }

    pub fn method(&self) -> &str {
        self.request_line().split(' ').next().unwrap_or_default()
    }

    /// The request target (path and query) exactly as sent.
    pub fn target(&self) -> &str {
        self.request_line().split(' ').nth(1).unwrap_or_default()
    }

    /// The target without its query, e.g. `/v1/batches`.
    pub fn path(&self) -> &str {
        self.target().split('?').next().unwrap_or_default()
    }

    /// The query of the target, without the `?`, when it has one.
    pub fn query(&self) -> Option<&str> {
        self.target().split_once('?').map(|(_, q)| q)
    }

    /// The first header called `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Counters, the request log and flags shared by the server's threads.
#[derive(Default)]
struct Shared {
    connections: AtomicUsize,
    requests: AtomicUsize,
    /// Connections open right now, and the most that were ever open at once.
    open: AtomicUsize,
    max_open: AtomicUsize,
    /// Body bytes a flooding script managed to write.
    written: AtomicU64,
    log: Mutex<Vec<Request>>,
    sleeps: Mutex<Vec<Duration>>,
    stop: AtomicBool,
    handler_panicked: AtomicBool,
}

/// One accepted connection, as a script sees it.
pub struct Conn {
    pub stream: TcpStream,
    shared: Arc<Shared>,
}

impl Conn {
    /// Reads a request head one byte at a time, so that nothing past it is consumed;
    /// returns it with its Content-Length. None when the client closed the connection.
    pub fn read_head(&mut self) -> Option<(String, usize)> {
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
    pub fn read_body(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut body = vec![0u8; n];
        self.stream.read_exact(&mut body).ok()?;
        Some(body)
    }

    /// Reads one whole request and logs it; false when the client closed instead.
    pub fn read_request(&mut self) -> bool {
        self.next_request().is_some()
    }

    /// Reads one whole request, logs it and returns it; None when the client closed.
    pub fn next_request(&mut self) -> Option<Request> {
        let (head, length) = self.read_head()?;
        let at = Instant::now();
        let body = self.read_body(length)?;
        Some(self.log(head, body, at))
    }

    /// Reads a request but the last byte of its body, counts it, and waits until that
    /// byte has arrived: closing the socket then sends a RST (what SO_LINGER 0 does),
    /// because unread data is pending. Std has no stable `set_linger`.
    pub fn read_request_but_one_byte(&mut self) {
        let (head, length) = self.read_head().unwrap();
        assert!(length > 0, "the client sent no body");
        let at = Instant::now();
        let body = self.read_body(length - 1).unwrap();
        self.log(head, body, at);
        let mut last = [0u8; 1];
        assert_eq!(self.stream.peek(&mut last).unwrap(), 1);
    }

    fn log(&self, head: String, body: Vec<u8>, at: Instant) -> Request {
        let request = Request { head, body, at };
        self.shared.log.lock().unwrap().push(request.clone());
        self.shared.requests.fetch_add(1, Ordering::SeqCst);
        request
    }

    /// Writes and flushes; false when the client has gone (which is no server failure).
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok() && self.stream.flush().is_ok()
    }

    /// A complete response with a Content-Length.
    pub fn respond(&mut self, status: &str, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.write(&bytes)
    }

    /// `200 OK` with a JSON body.
    pub fn respond_json(&mut self, body: &str) -> bool {
        self.respond(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    /// A chunked response head: each later [`Conn::write_chunk`] is one HTTP chunk.
    pub fn write_chunked_head(&mut self, status: &str, content_type: &str) -> bool {
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        self.write(head.as_bytes())
    }

    /// One HTTP chunk (an empty `bytes` is the terminating chunk).
    pub fn write_chunk(&mut self, bytes: &[u8]) -> bool {
        let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
        self.write(&out)
    }

    /// Writes `b'x'` in 8 KiB writes until `total` bytes or the client hangs up,
    /// recording the count for [`Server::written`].
    pub fn flood(&mut self, total: u64) {
        let chunk = [b'x'; 8192];
        let mut sent = 0u64;
        while sent < total && self.write(&chunk) {
            sent += chunk.len() as u64;
            self.shared.written.store(sent, Ordering::SeqCst);
        }
    }

    /// Holds the connection open without sending anything, until the server is
    /// dropped (at most 20 s, so a forgotten server never outlives the suite by much).
    pub fn stall(&self) {
        let start = Instant::now();
        while !self.shared.stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(20)
        {
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `bytes` one at a time, `gap` apart.
    pub fn drip(&mut self, bytes: &[u8], gap: Duration) -> bool {
        for b in bytes {
            thread::sleep(gap);
            if !self.write(&[*b]) {
                return false;
            }
        }
        true
    }

    /// Shuts the connection down both ways (a FIN), whatever the client does next.
    pub fn close(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// An answer for [`Server::handler`]: status, extra headers, body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A raw TCP server on 127.0.0.1:0 running a script on each connection.
pub struct Server {
    port: u16,
    shared: Arc<Shared>,
}

impl Server {
    /// Runs `script` once per accepted connection, with the connection's index (0-based).
    pub fn per_connection(script: impl Fn(usize, &mut Conn) + Send + Sync + 'static) -> Server {
        Server::per_connection_on(TcpListener::bind("127.0.0.1:0").unwrap(), script)
    }

    /// [`Server::per_connection`] on a listener the test bound (a port chosen before the
    /// server existed).
    pub fn per_connection_on(
        listener: TcpListener,
        script: impl Fn(usize, &mut Conn) + Send + Sync + 'static,
    ) -> Server {
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let script = Arc::new(script);
        let server_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if server_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let index = server_shared.connections.fetch_add(1, Ordering::SeqCst);
                let open = server_shared.open.fetch_add(1, Ordering::SeqCst) + 1;
                server_shared.max_open.fetch_max(open, Ordering::SeqCst);
                let shared = Arc::clone(&server_shared);
                let script = Arc::clone(&script);
                thread::spawn(move || {
                    let mut conn = Conn {
                        stream,
                        shared: Arc::clone(&shared),
                    };
                    if catch_unwind(AssertUnwindSafe(|| script(index, &mut conn))).is_err() {
                        shared.handler_panicked.store(true, Ordering::SeqCst);
                    }
                    drop(conn);
                    shared.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Server { port, shared }
    }

    /// Reads requests on every connection and answers each with `script`, called with
    /// the request's index across all connections (0-based).
    pub fn per_request(
        script: impl Fn(usize, &mut Conn) -> After + Send + Sync + 'static,
    ) -> Server {
        let seen = Arc::new(AtomicUsize::new(0));
        Server::per_connection(move |_, conn| {
            while conn.read_request() {
                let index = seen.fetch_add(1, Ordering::SeqCst);
                if script(index, conn) == After::Close {
                    break;
                }
            }
        })
    }

    /// Answers every request the same way, keeping connections alive.
    pub fn always(status: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Server {
        let status = status.to_owned();
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = body.into();
        Server::per_request(move |_, conn| {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            conn.respond(&status, &headers, &body);
            After::KeepAlive
        })
    }

    /// Answers each request with what `handler` makes of it, keeping connections alive:
    /// for fakes with state or logic (counting, timing, a state machine).
    pub fn handler(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
        Server::handler_on(TcpListener::bind("127.0.0.1:0").unwrap(), handler)
    }

    /// [`Server::handler`] on a listener the test bound.
    pub fn handler_on(
        listener: TcpListener,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> Server {
        Server::per_connection_on(listener, move |_, conn| {
            while let Some(request) = conn.next_request() {
                let response = handler(&request);
                let headers: Vec<(&str, &str)> = response
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let status = format!("{} X", response.status);
                if !conn.respond(&status, &headers, &response.body) {
                    return;
                }
            }
        })
    }

    /// Answers every request with `bytes`, verbatim, then closes the connection.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Server {
        let bytes = bytes.into();
        Server::per_request(move |_, conn| {
            conn.write(&bytes);
            After::Close
        })
    }

    /// Answers every request with `bytes`, verbatim, then holds the connection open
    /// without a word more until the server is dropped.
    pub fn raw_then_stall(bytes: impl Into<Vec<u8>>) -> Server {
        let bytes = bytes.into();
        Server::per_request(move |_, conn| {
            conn.write(&bytes);
            conn.stall();
            After::Close
        })
    }

    /// Accepts connections and never answers (nor reads) until it is dropped.
    pub fn silent() -> Server {
        Server::per_connection(|_, conn| conn.stall())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// A client configuration for this server: the test key, short timeouts, no
    /// retries, and retry waits recorded (see [`Server::sleeps`]) instead of slept.
    pub fn config(&self) -> Config {
        let shared = Arc::clone(&self.shared);
        Config::new()
            .api_key(KEY)
            .base_url(self.base_url())
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .stream_idle_timeout(Duration::from_secs(5))
            .max_retries(0)
            .retry_sleep(move |d| shared.sleeps.lock().unwrap().push(d))
    }

    /// A client for this server: [`Server::config`] changed by `tweak`.
    pub fn api(&self, tweak: impl FnOnce(Config) -> Config) -> ChatApi {
        ChatApi::new(tweak(self.config()))
    }

    /// The waits the clients configured by this server asked for between retries.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.shared.sleeps.lock().unwrap().clone()
    }

    /// Whole requests the server read.
    pub fn requests(&self) -> usize {
        self.check_scripts();
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Connections the server accepted.
    pub fn connections(&self) -> usize {
        self.check_scripts();
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The most connections that were open at the same time.
    pub fn max_open(&self) -> usize {
        self.check_scripts();
        self.shared.max_open.load(Ordering::SeqCst)
    }

    /// Every request read so far, in arrival order.
    pub fn log(&self) -> Vec<Request> {
        self.check_scripts();
        self.shared.log.lock().unwrap().clone()
    }

    /// The only request received so far.
    pub fn only(&self) -> Request {
        let all = self.log();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:#?}");
        all.into_iter().next().unwrap()
    }

    /// Body bytes a [`Conn::flood`] wrote before the client hung up.
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::SeqCst)
    }

    fn check_scripts(&self) {
        assert!(
            !self.shared.handler_panicked.load(Ordering::SeqCst),
            "a test-server script panicked (a bug in the test, not the client)"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A closed port on 127.0.0.1: bound, then released.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
