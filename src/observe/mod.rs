//! Seeing what the client does: `OPENAI_LOG` lines on stderr and typed [`Event`]s for a hook.
//!
//! The send loop and the stream report facts here (`Observer`, `StreamWatch`); this module
//! turns them into log lines and events, and is the one place that makes sure no key, token
//! or secret header value reaches either: every line and every event string passes through
//! the redaction of the client's secrets, URLs lose their user info and the values of
//! secret-looking query parameters, and headers are never logged.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::error::Error;
use crate::http::{HeaderMap, Method};
use crate::retry::Decision;
use crate::util::{bounded_text, header_str, reason_phrase, redact, redact_url, request_id};

/// The most bytes of a request or response body written to a `debug` log line.
pub(crate) const DEBUG_BODY_BYTES: usize = 4096;

/// What the client writes to stderr about each call: set with `OPENAI_LOG` or
/// [`Config::log_level`](crate::Config::log_level).
///
/// ```
/// use sync_openai::observe::LogLevel;
///
/// assert_eq!(LogLevel::parse("info"), Some(LogLevel::Info));
/// assert_eq!(LogLevel::parse("DEBUG"), Some(LogLevel::Debug));
/// assert_eq!(LogLevel::parse("loud"), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LogLevel {
    /// Nothing is written (the default).
    #[default]
    Off,
    /// One line per attempt (method, URL, status, request id, attempt number, elapsed
    /// milliseconds, and the wait before a retry with its reason) and one line when a
    /// stream ends (chunks, duration, how it ended).
    Info,
    /// `Info`, plus the request and response bodies and each chunk of a stream, each cut
    /// at 4 KiB, with every secret the client knows replaced by `<redacted>`.
    Debug,
}

impl LogLevel {
    /// The level named as in `OPENAI_LOG`: `off`, `info` or `debug`, in any case,
    /// surrounding white space ignored; the empty string is `off`. Like
    /// [`CacheMode::parse`](crate::cache::CacheMode::parse), `None` for any other name.
    pub fn parse(name: &str) -> Option<LogLevel> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "off" => Some(LogLevel::Off),
            "info" => Some(LogLevel::Info),
            "debug" => Some(LogLevel::Debug),
            _ => None,
        }
    }

    /// The level's name as `OPENAI_LOG` spells it: `off`, `info`, `debug`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the client did, handed to the hook set with
/// [`Config::on_event`](crate::Config::on_event).
///
/// Events carry the same facts as the `OPENAI_LOG` lines, as values, so that programs that
/// log with `log` or `tracing` can forward them. URLs and texts are redacted the same way:
/// no key, token or secret header value appears in any event. Both the enum and each of its
/// variants are `#[non_exhaustive]`: match with `..` and a `_` arm, as variants and fields
/// may be added.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use sync_openai::observe::Event;
/// use sync_openai::Config;
///
/// let retries = Arc::new(Mutex::new(Vec::new()));
/// let seen = Arc::clone(&retries);
/// let config = Config::new().on_event(move |event| {
///     if let Event::RetryScheduled { delay, reason, .. } = event {
///         seen.lock().unwrap().push((*delay, reason.clone()));
///     }
/// });
/// # drop(config);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An attempt is about to be sent.
    #[non_exhaustive]
    RequestSent {
        /// The HTTP method.
        method: Method,
        /// The URL with its query, redacted.
        url: String,
        /// 1 for the first attempt, 2 for the first retry, …
        attempt: u32,
        /// The size of the request body in bytes (0 without one).
        body_bytes: usize,
    },
    /// An attempt got an answer with a status (any status, 2xx or not). For a 2xx answer
    /// to a non-streaming call, `elapsed` includes reading the body.
    #[non_exhaustive]
    ResponseReceived {
        /// The HTTP method.
        method: Method,
        /// The URL with its query, redacted.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The request id the server gave the attempt (see
        /// [`ApiResponse::request_id`](crate::ApiResponse::request_id) for the headers read).
        request_id: Option<String>,
        /// 1 for the first attempt, 2 for the first retry, …
        attempt: u32,
        /// From sending the attempt to its answer.
        elapsed: Duration,
    },
    /// An attempt got no usable answer: the connection failed, timed out or broke.
    #[non_exhaustive]
    AttemptFailed {
        /// The HTTP method.
        method: Method,
        /// The URL with its query, redacted.
        url: String,
        /// What went wrong (the error's `Display`, redacted).
        error: String,
        /// 1 for the first attempt, 2 for the first retry, …
        attempt: u32,
        /// From sending the attempt to its failure.
        elapsed: Duration,
    },
    /// An attempt failed and the client waits before the next one.
    #[non_exhaustive]
    RetryScheduled {
        /// The attempt that failed (the next one is `attempt + 1`).
        attempt: u32,
        /// How long the client waits before it.
        delay: Duration,
        /// Why: what failed and where the wait comes from, such as
        /// `429 Too Many Requests, wait asked by the server (retry-after)`.
        reason: String,
    },
    /// A stream ended: it finished, failed or was dropped by its reader.
    #[non_exhaustive]
    StreamEnded {
        /// The request id of the response that carried the stream.
        request_id: Option<String>,
        /// How many chunks it yielded.
        chunks: u64,
        /// From the response headers to the end.
        elapsed: Duration,
        /// How it ended.
        end: StreamEnd,
    },
    /// The response cache answered a request without sending it. Emitted by the response
    /// cache; no event of this kind comes from a client without one.
    #[non_exhaustive]
    CacheHit {
        /// The URL of the request, redacted.
        url: String,
    },
    /// The response cache had no answer for a request, which is then sent. Emitted by the
    /// response cache; no event of this kind comes from a client without one.
    #[non_exhaustive]
    CacheMiss {
        /// The URL of the request, redacted.
        url: String,
    },
}

/// How a stream ended, in [`Event::StreamEnded`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEnd {
    /// The answer finished: `data: [DONE]`, or the server closed the stream after every
    /// choice had its `finish_reason`.
    Finished,
    /// The stream yielded an error (its `Display`, redacted), and ended.
    Failed(String),
    /// The reader dropped the stream before its end.
    Dropped,
}

impl fmt::Display for StreamEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamEnd::Finished => f.write_str("finished"),
            StreamEnd::Failed(e) => write!(f, "failed: {e}"),
            StreamEnd::Dropped => f.write_str("dropped before its end"),
        }
    }
}

/// A user-supplied hook for [`Event`]s.
#[derive(Clone)]
pub(crate) struct EventHook(pub(crate) Arc<dyn Fn(&Event) + Send + Sync>);

/// Where log lines go: stderr, or a test's buffer.
#[derive(Clone)]
pub(crate) enum Sink {
    Stderr,
    #[cfg(test)]
    Buffer(Arc<std::sync::Mutex<Vec<String>>>),
}

/// The reporting side of one call: the level, the hook and the secrets to keep out.
///
/// Built only when there is somewhere to report to, so a client with logging off and no
/// hook pays one branch per attempt.
#[derive(Clone)]
pub(crate) struct Observer {
    level: LogLevel,
    hook: Option<EventHook>,
    secrets: Vec<String>,
    sink: Sink,
}

/// The facts of one finished attempt, for [`Observer::attempt`].
struct Attempt<'a> {
    method: &'a Method,
    url: &'a str,
    /// 1-based.
    number: u32,
    elapsed: Duration,
    /// The status and headers, when an answer came.
    response: Option<(u16, &'a HeaderMap)>,
    /// The error, when the attempt failed.
    error: Option<&'a Error>,
    /// The wait before the next attempt, when there is one.
    retry: Option<Duration>,
}

impl Observer {
    /// An observer, or `None` when logging is off and there is no hook.
    ///
    /// Secrets shorter than 8 bytes are not redacted (they would garble every line), as in
    /// the redaction of error messages.
    pub(crate) fn new<'s>(
        level: LogLevel,
        hook: Option<&EventHook>,
        secrets: impl IntoIterator<Item = &'s str>,
    ) -> Option<Observer> {
        if level == LogLevel::Off && hook.is_none() {
            return None;
        }
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(str::trim)
            .map(str::to_owned)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Some(Observer {
            level,
            hook: hook.cloned(),
            secrets,
            sink: Sink::Stderr,
        })
    }

    #[cfg(test)]
    pub(crate) fn with_sink(mut self, sink: Sink) -> Observer {
        self.sink = sink;
        self
    }

    /// Reports an attempt about to be sent; at `debug`, logs its body.
    fn request_sent(&self, method: &Method, url: &str, number: u32, body: Option<&[u8]>) {
        let body_bytes = body.map_or(0, <[u8]>::len);
        if self.level >= LogLevel::Debug {
            if let Some(body) = body {
                let text = self.body_text(body);
                self.log(format!(
                    "{method} {} request body (attempt {number}, {body_bytes} bytes): {text}",
                    self.url(url)
                ));
            }
        }
        self.emit(|| Event::RequestSent {
            method: method.clone(),
            url: self.url(url),
            attempt: number,
            body_bytes,
        });
    }

    /// Reports a finished attempt (answered or failed) and, if there is one, the retry.
    fn attempt(&self, a: &Attempt<'_>) {
        let reason = a
            .retry
            .map(|_| self.redact(&retry_reason(a.response, a.error)));
        let id = a.response.and_then(|(_, h)| request_id(h));
        // An answer with an error status is a response; a failure to get or read one is not.
        let failure = a.error.filter(|e| !matches!(e, Error::Api(_)));
        if self.level >= LogLevel::Info {
            self.log(self.attempt_line(a, failure, id, reason.as_deref()));
        }
        self.emit(|| match (a.response, failure) {
            (Some((status, _)), None) => Event::ResponseReceived {
                method: a.method.clone(),
                url: self.url(a.url),
                status,
                request_id: id.map(|id| self.redact(id)),
                attempt: a.number,
                elapsed: a.elapsed,
            },
            (_, error) => Event::AttemptFailed {
                method: a.method.clone(),
                url: self.url(a.url),
                error: error
                    .map(|e| self.redact(&e.to_string()))
                    .unwrap_or_default(),
                attempt: a.number,
                elapsed: a.elapsed,
            },
        });
        if let (Some(delay), Some(reason)) = (a.retry, reason) {
            self.emit(|| Event::RetryScheduled {
                attempt: a.number,
                delay,
                reason: reason.clone(),
            });
        }
    }

    /// The `info` line of an attempt.
    fn attempt_line(
        &self,
        a: &Attempt<'_>,
        failure: Option<&Error>,
        id: Option<&str>,
        reason: Option<&str>,
    ) -> String {
        let mut line = format!("{} {}", a.method, self.url(a.url));
        if let Some((status, _)) = a.response {
            let _ = write!(line, " -> {status} {}", reason_phrase(status));
        }
        if let Some(e) = failure {
            let arrow = if a.response.is_some() { "," } else { " ->" };
            let _ = write!(line, "{arrow} failed: {}", self.redact(&e.to_string()));
        }
        if let Some(id) = id {
            let _ = write!(line, " request_id={}", self.redact(id));
        }
        let (number, ms) = (a.number, a.elapsed.as_millis());
        let _ = write!(line, " attempt={number} elapsed_ms={ms}");
        if let (Some(delay), Some(reason)) = (a.retry, reason) {
            let ms = delay.as_millis();
            let _ = write!(line, " retry_in_ms={ms} retry_reason={reason:?}");
        }
        line
    }

    /// At `debug`, logs a response body (bounded, redacted).
    pub(crate) fn response_body(&self, method: &Method, url: &str, status: u16, body: &[u8]) {
        if self.level >= LogLevel::Debug {
            let text = self.body_text(body);
            self.log(format!(
                "{method} {} response body ({status}, {} bytes): {text}",
                self.url(url),
                body.len()
            ));
        }
    }

    /// Reports a cache hit or miss for a request to `url`.
    pub(crate) fn cache(&self, url: &str, hit: bool) {
        let url = self.url(url);
        if self.level >= LogLevel::Info {
            let what = if hit { "hit" } else { "miss" };
            self.log(format!("cache {what} for {url}"));
        }
        self.emit(|| match hit {
            true => Event::CacheHit { url: url.clone() },
            false => Event::CacheMiss { url: url.clone() },
        });
    }

    /// A watch for a stream that has just opened.
    pub(crate) fn watch_stream(self, headers: &HeaderMap) -> StreamWatch {
        StreamWatch {
            request_id: request_id(headers).map(|id| self.redact(id)),
            observer: self,
            started: Instant::now(),
            chunks: 0,
            ended: false,
            data_events: 0,
        }
    }

    fn emit(&self, event: impl FnOnce() -> Event) {
        if let Some(hook) = &self.hook {
            (hook.0)(&event());
        }
    }

    fn log(&self, line: String) {
        let line = self.redact(&line);
        match &self.sink {
            Sink::Stderr => {
                // A closed or full stderr must not fail or panic the call: ignore errors.
                let _ = writeln!(std::io::stderr().lock(), "[sync-openai] {line}");
            }
            #[cfg(test)]
            Sink::Buffer(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        }
    }

    /// The text with every secret replaced by `<redacted>`.
    fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            redact(&mut text, secret);
        }
        text
    }

    /// A body as one line of text: redacted whole first (so a cut cannot leave part of a
    /// secret), then bounded, with line breaks escaped.
    fn body_text(&self, body: &[u8]) -> String {
        let text = self.redact(&String::from_utf8_lossy(body));
        bounded_text(text.as_bytes(), DEBUG_BODY_BYTES)
            .replace('\r', "\\r")
            .replace('\n', "\\n")
    }

    /// A URL fit for a log line: no user info, no values of secret-looking query parameters,
    /// no secrets.
    fn url(&self, url: &str) -> String {
        self.redact(&redact_url(url))
    }
}

/// One attempt between its sending and its end, for the send loop: a no-op when there is
/// no observer, so that the loop reads the same either way.
pub(crate) struct AttemptWatch(Option<Watched>);

struct Watched {
    observer: Observer,
    method: Method,
    url: String,
    number: u32,
    sent: Instant,
    /// The status and headers of a 2xx answer, kept until its body is read.
    answer: Option<(u16, HeaderMap)>,
}

impl AttemptWatch {
    /// Reports an attempt about to be sent (at `debug`, with its body).
    pub(crate) fn start(
        observer: Option<Observer>,
        method: &Method,
        request: &crate::http::Request<&[u8]>,
        number: u32,
    ) -> AttemptWatch {
        AttemptWatch(observer.map(|observer| {
            let url = request.uri().to_string();
            let body = Some(*request.body()).filter(|b| !b.is_empty());
            observer.request_sent(method, &url, number, body);
            Watched {
                observer,
                method: method.clone(),
                url,
                number,
                sent: Instant::now(),
                answer: None,
            }
        }))
    }

    /// Notes a 2xx answer, and puts the observer in its extensions for whoever reads its
    /// body (`call_json`, a stream): it knows this attempt's token, to keep it out of logs.
    pub(crate) fn answered<B>(&mut self, response: &mut crate::http::Response<B>) {
        if let Some(w) = &mut self.0 {
            w.answer = Some((response.status().as_u16(), response.headers().clone()));
            response.extensions_mut().insert(w.observer.clone());
        }
    }

    /// The 2xx answer's body was read: the attempt succeeded.
    pub(crate) fn succeeded(self) {
        if let Some(w) = &self.0 {
            w.report(None, None);
        }
    }

    /// The attempt failed with `error`, and the policy decided what comes next. At `debug`,
    /// an error body is logged too.
    pub(crate) fn failed(self, error: &Error, decision: &Decision) {
        let Some(w) = &self.0 else { return };
        let retry = match decision {
            Decision::Retry(delay) => Some(*delay),
            Decision::GiveUp { .. } => None,
        };
        w.report(Some(error), retry);
        if let Error::Api(e) = error {
            let body = e.body.as_bytes();
            w.observer.response_body(&w.method, &w.url, e.status, body);
        }
    }
}

impl Watched {
    fn report(&self, error: Option<&Error>, retry: Option<Duration>) {
        let response = match error {
            Some(Error::Api(e)) => Some((e.status, &e.headers)),
            _ => self
                .answer
                .as_ref()
                .map(|(status, headers)| (*status, headers)),
        };
        self.observer.attempt(&Attempt {
            method: &self.method,
            url: &self.url,
            number: self.number,
            elapsed: self.sent.elapsed(),
            response,
            error,
            retry,
        });
    }
}

/// Why a retry happens: what failed, and where the wait comes from.
fn retry_reason(response: Option<(u16, &HeaderMap)>, error: Option<&Error>) -> String {
    let what = match (response, error) {
        (Some((status, _)), _) => format!("{status} {}", reason_phrase(status)),
        (None, Some(e)) if e.is_timeout() => "timed out".to_owned(),
        (None, Some(e)) if e.is_connect() => "could not connect".to_owned(),
        (None, _) => "the connection broke".to_owned(),
    };
    let wait = match response {
        Some((_, headers)) if crate::retry::server_delay(headers, SystemTime::now()).is_some() => {
            let header = match header_str(headers, "retry-after-ms") {
                Some(_) => "retry-after-ms",
                None => "retry-after",
            };
            format!("wait asked by the server ({header})")
        }
        _ => "exponential backoff".to_owned(),
    };
    let forced = response
        .and_then(|(_, h)| header_str(h, "x-should-retry"))
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    match forced {
        true => format!("{what} with x-should-retry: true, {wait}"),
        false => format!("{what}, {wait}"),
    }
}

/// Counts a stream's chunks and reports its end once: when it finishes, fails, or is
/// dropped before either.
pub(crate) struct StreamWatch {
    observer: Observer,
    request_id: Option<String>,
    started: Instant,
    chunks: u64,
    ended: bool,
    /// Events that decoded as chunks, for the `debug` lines.
    data_events: u64,
}

impl StreamWatch {
    /// Notes the data of an event that decoded as a chunk; at `debug`, logs it as the server
    /// sent it (vendor keys included, bounded and redacted).
    pub(crate) fn chunk_data(&mut self, data: &[u8]) {
        self.data_events += 1;
        if self.observer.level >= LogLevel::Debug {
            let text = self.observer.body_text(data);
            self.observer
                .log(format!("stream chunk {}: {text}", self.data_events));
        }
    }

    /// Notes what the stream's iterator just returned.
    pub(crate) fn saw<T>(&mut self, item: &Option<Result<T, Error>>) {
        match item {
            Some(Ok(_)) => self.chunks += 1,
            Some(Err(e)) => {
                let text = self.observer.redact(&e.to_string());
                self.end(StreamEnd::Failed(text));
            }
            None => self.end(StreamEnd::Finished),
        }
    }

    fn end(&mut self, end: StreamEnd) {
        if self.ended {
            return;
        }
        self.ended = true;
        let elapsed = self.started.elapsed();
        let o = &self.observer;
        if o.level >= LogLevel::Info {
            let mut line = String::from("stream");
            if let Some(id) = &self.request_id {
                let _ = write!(line, " request_id={id}");
            }
            let _ = write!(
                line,
                " ended: {end} chunks={} elapsed_ms={}",
                self.chunks,
                elapsed.as_millis()
            );
            o.log(line);
        }
        o.emit(|| Event::StreamEnded {
            request_id: self.request_id.clone(),
            chunks: self.chunks,
            elapsed,
            end: end.clone(),
        });
    }
}

impl Drop for StreamWatch {
    fn drop(&mut self) {
        self.end(StreamEnd::Dropped);
    }
}

impl fmt::Debug for StreamWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWatch")
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests fail by panicking
mod tests;
