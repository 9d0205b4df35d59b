//! The mock server's side of the wire: the accept loop, reading one HTTP/1.1 request
//! (bounded head and body), and writing each scripted [`Reply`](super::Reply) as JSON or as
//! an event stream. Never panics on what a client sends.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::util::reason_phrase;

use super::{lock, Kind, RecordedRequest, Reply, Shared, CREATED, MAX_BODY_BYTES, MAX_HEAD_BYTES};

pub(super) fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
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
    use serde_json::json;

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
}
