//! The bytes under a stream's SSE parser: [`Counted`] bounds them by the stream limit and
//! the idle timeout (which only bytes of event data reset, [`DataLines`]), and
//! [`completion_as_events`] replays a whole JSON answer as a stream's events.

use std::fmt;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::connection;
use crate::util::line_end;

/// The body under the SSE reader, counting its bytes against an optional total limit and
/// the time since the last bytes of event data against the idle timeout.
pub(super) struct Counted {
    inner: Box<dyn Read + Send>,
    read: u64,
    pub(super) limit: Option<u64>,
    /// `stream_idle_timeout`, for a stream from a `ChatApi`.
    pub(super) idle: Option<Duration>,
    /// When the last byte of event data came (or the stream began).
    pub(super) last_data: Instant,
    /// When the last bytes of a line that may yet be data came (`data` being sent slowly),
    /// while that line lasts.
    pending: Option<Instant>,
    /// Where the bytes read so far end, to tell data from comments.
    lines: DataLines,
}

/// What the bytes of a server-sent-event stream are, line by line, as they arrive: so
/// that the idle timeout is reset by the bytes of a `data:` value (however slowly an event
/// arrives), never by a comment (`: keep-alive`), a blank line or an empty `data:`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum DataLines {
    /// At the start of a line.
    #[default]
    Start,
    /// In a field name that so far matches `data` for this many bytes.
    Name(usize),
    /// In the value of a `data` field.
    Data,
    /// In a comment or another field, up to the end of the line.
    Other,
}

impl DataLines {
    /// Whether the line being read may still be (or is) a `data` line.
    fn maybe_data(self) -> bool {
        matches!(self, DataLines::Name(_) | DataLines::Data)
    }

    /// Takes the next bytes; returns whether any was a non-blank byte of a `data` value.
    pub(super) fn saw_data(&mut self, bytes: &[u8]) -> bool {
        let Some(rest) = self.until_data(bytes) else {
            return false;
        };
        // Data seen: what is left to know is the state where `bytes` end, which their last
        // line decides (up to a line end the state stays `Data`). The bulk of a stream is
        // skipped this way, not stepped through.
        if let Some(last) = rest.iter().rposition(|&c| matches!(c, b'\n' | b'\r')) {
            *self = DataLines::Start;
            // The last line has no line end: data in it changes nothing more.
            let _ = self.until_data(rest.get(last + 1..).unwrap_or_default());
        }
        true
    }

    /// Steps through `bytes` up to the first non-blank byte of a `data` value and returns
    /// the bytes after it; `None` when `bytes` end first, the state being where they end.
    fn until_data<'b>(&mut self, bytes: &'b [u8]) -> Option<&'b [u8]> {
        let mut rest = bytes;
        while let Some((&b, tail)) = rest.split_first() {
            if *self == DataLines::Other && !matches!(b, b'\n' | b'\r') {
                // A comment or another field: to its line's end in one scan.
                rest = rest
                    .get(line_end(rest).unwrap_or(rest.len())..)
                    .unwrap_or_default();
                continue;
            }
            let (next, data) = match (*self, b) {
                (_, b'\n' | b'\r') => (DataLines::Start, false),
                (DataLines::Start, b':') => (DataLines::Other, false),
                (DataLines::Start | DataLines::Name(_), _) => (self.name(b), false),
                (DataLines::Data, b' ' | b'\t') => (DataLines::Data, false),
                (DataLines::Data, _) => (DataLines::Data, true),
                (DataLines::Other, _) => (DataLines::Other, false),
            };
            *self = next;
            rest = tail;
            if data {
                return Some(tail);
            }
        }
        None
    }

    fn name(self, b: u8) -> DataLines {
        const DATA: &[u8] = b"data";
        match self {
            DataLines::Start => DataLines::Name(0).name(b),
            DataLines::Name(4) if b == b':' => DataLines::Data,
            DataLines::Name(n) if DATA.get(n) == Some(&b) => DataLines::Name(n + 1),
            _ => DataLines::Other,
        }
    }
}

/// The I/O error payload of a stream that sent no data for longer than its idle timeout.
#[derive(Debug)]
pub(super) struct IdleTimeout {
    idle: Duration,
}

impl fmt::Display for IdleTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the stream sent no data for longer than stream_idle_timeout ({:?}; comments and empty keep-alive events do not count)",
            self.idle
        )
    }
}

impl std::error::Error for IdleTimeout {}

/// The I/O error payload of a stream over [`Config::max_stream_bytes`].
#[derive(Debug)]
pub(super) struct StreamTooLong {
    limit: u64,
}

impl fmt::Display for StreamTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the stream is longer than the limit of {} bytes; raise Config::max_stream_bytes if it is expected",
            self.limit
        )
    }
}

impl std::error::Error for StreamTooLong {}

impl Read for Counted {
    /// Reads within the idle timeout: a read after it has passed fails, and a read waits
    /// for the network no longer than until it passes (see [`connection::until`]).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(idle) = self.idle else {
            return self.read_within_limit(buf);
        };
        let until = self.idle_deadline();
        if until.is_some_and(|until| Instant::now() >= until) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                IdleTimeout { idle },
            ));
        }
        connection::until(until, || self.read_within_limit(buf))
    }
}

impl Counted {
    /// `reader` with no limit and no idle timeout yet.
    pub(super) fn new(reader: Box<dyn Read + Send>) -> Counted {
        Counted {
            inner: reader,
            read: 0,
            limit: None,
            idle: None,
            last_data: Instant::now(),
            pending: None,
            lines: DataLines::default(),
        }
    }

    /// Notes bytes just read: event data among them restarts the idle timeout, and so,
    /// for as long as its line lasts, does a line that may yet be data (an event sent a
    /// byte at a time is slow, not idle; `data:` followed by a line end is not data).
    fn note(&mut self, bytes: &[u8]) {
        if self.idle.is_none() || bytes.is_empty() {
            return;
        }
        let now = Instant::now();
        if self.lines.saw_data(bytes) {
            self.last_data = now;
        }
        self.pending = self.lines.maybe_data().then_some(now);
    }

    /// The instant the idle timeout passes, `None` for no limit.
    fn idle_deadline(&self) -> Option<Instant> {
        let since = self
            .pending
            .map_or(self.last_data, |p| p.max(self.last_data));
        since.checked_add(self.idle?)
    }

    /// Hands out at most `limit` bytes in all; a read after them fails if the body has
    /// more. Never reading past the limit keeps what the stream yields independent of how
    /// the body arrives: every event within the limit is parsed before the error.
    fn read_within_limit(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(limit) = self.limit else {
            let n = self.inner.read(buf)?;
            self.note(buf.get(..n).unwrap_or_default());
            return Ok(n);
        };
        let remaining = limit.saturating_sub(self.read);
        if remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(StreamTooLong { limit })),
            };
        }
        let room = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(buf.get_mut(..room).unwrap_or_default())?;
        self.read = self.read.saturating_add(n as u64);
        self.note(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

/// A whole JSON answer as the events of a stream: `data: <chunk>` then `data: [DONE]`.
///
/// A completion's choices become deltas (`message` → `delta`, each tool call given its
/// `index`), every other key kept as it came; a JSON error body passes through unchanged, so
/// the stream reports it as the in-band error it is. `None` when the body is not a JSON object.
pub(super) fn completion_as_events(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    if let Some(Value::Array(choices)) = object.get_mut("choices") {
        for choice in choices.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(mut message) = choice.remove("message") {
                if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
                    for (i, call) in calls.iter_mut().enumerate() {
                        if let Some(call) = call.as_object_mut() {
                            call.entry("index").or_insert_with(|| Value::from(i));
                        }
                    }
                }
                choice.insert("delta".to_owned(), message);
            }
        }
        if object.get("object").and_then(Value::as_str) == Some("chat.completion") {
            object.insert("object".to_owned(), Value::from("chat.completion.chunk"));
        }
    }
    let mut events = b"data: ".to_vec();
    serde_json::to_writer(&mut events, &value).ok()?;
    events.extend_from_slice(b"\n\ndata: [DONE]\n\n");
    Some(events)
}
