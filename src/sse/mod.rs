//! A small, allocation-free (in steady state) Server-Sent Events parser.
//!
//! Implements the WHATWG HTML "event stream interpretation" algorithm
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>)
//! over any [`BufRead`], working on bytes rather than strings:
//!
//! * Lines end with LF, CR or CRLF, freely mixed. A CRLF split across two
//!   reads is recognised (we remember that the last byte was a CR and skip an
//!   LF that immediately follows it), so it never produces a spurious empty
//!   line.
//! * One UTF-8 BOM at the very start of the stream is removed.
//! * Lines beginning with `:` are comments and are ignored.
//! * `field:value`, `field: value` (exactly one space after the colon is
//!   removed) and `field` (no colon: empty value) are recognised. Known
//!   fields are `data` and `event` (and `error`, below); others, `id` and
//!   `retry` included, are ignored.
//! * A blank line dispatches the event if at least one `data` line was seen.
//!
//! CR and LF never occur inside a multi-byte UTF-8 sequence, so splitting
//! lines on bytes is safe, and a multi-byte character split across reads is
//! simply reassembled in the line buffer.
//!
//! # Deviations from the specification (all deliberate)
//!
//! * **Bytes, not text.** The spec decodes the whole stream as UTF-8 (with
//!   replacement characters). Here [`Event::data`] is the raw bytes; invalid
//!   UTF-8 is passed through untouched and the caller (typically a JSON
//!   parser) decides what to do with it. Only the small `event` field is
//!   decoded, lossily.
//! * **Event type.** [`Event::event`] is `""` when no `event:` field was
//!   given; the spec's default type is `"message"`.
//! * **Dispatch at end of stream.** The spec discards an event that is not
//!   terminated by a blank line. Real servers often close the connection
//!   right after the last `data:` line, so at EOF a pending event is
//!   dispatched if (and only if) it would have been dispatched by a blank
//!   line, i.e. at least one `data` (or `error`) line was seen. A final line
//!   without any line terminator is still processed as a line.
//! * **`error:` lines.** Some OpenAI-compatible servers (llama.cpp) report a
//!   failure as a bare `error: {json}` line with no `data:` field. Per the
//!   spec `error` is an unknown field and would be ignored, silently hiding
//!   the error. Instead, an `error` field is appended to the data buffer
//!   exactly like `data`, and the dispatched event's type is `"error"`
//!   (overriding any `event:` field of the same event). `event: error`
//!   followed by `data:` needs no special handling and gives the same type.
//! * **Limits.** A line longer than [`MAX_LINE_BYTES`] or an event whose
//!   joined data exceeds [`MAX_EVENT_BYTES`] (or the limits given to
//!   `set_limits`; the chat stream uses `max_response_bytes` for both) is an
//!   error instead of unbounded memory growth.
//! * **Errors are final.** After any error (limits or I/O other than
//!   `Interrupted`, which is retried) the reader is fused: every later call
//!   returns `Ok(None)` without touching the underlying reader again. The
//!   same holds after end of stream.
//! * **No reconnection.** The client never reconnects a stream (a chat
//!   completion cannot be resumed), so the `id` and `retry` fields that
//!   reconnection uses are ignored like unknown fields.

use std::fmt;
use std::io::{self, BufRead};

use crate::util::line_end;

/// Maximum length of one line in bytes (excluding its terminator) before the
/// reader gives up with [`SseError::LineTooLong`]: 1 MiB.
///
/// A JSON chunk of a streamed chat completion is typically a few hundred
/// bytes, but some servers put a whole tool-call `arguments` blob into one
/// chunk, which can reach hundreds of KB. 1 MiB leaves ample headroom while
/// still bounding the memory a misbehaving server (or a stream that never
/// sends a newline) can make us buffer.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Maximum size in bytes of one event's joined data (all its `data` lines
/// joined with `\n`) before the reader gives up with
/// [`SseError::EventTooLarge`]: 16 MiB.
///
/// OpenAI streams send one small JSON document per event, so legitimate
/// events stay far below this; the limit only exists so that an endless run
/// of `data:` lines without a blank line cannot exhaust memory.
pub(crate) const MAX_EVENT_BYTES: usize = 16 << 20;

/// The UTF-8 encoding of U+FEFF, stripped once from the start of the stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Smallest capacity the internal buffers grow to, to avoid a series of tiny
/// reallocations when a reader delivers one byte at a time.
const MIN_CAPACITY: usize = 64;

/// One dispatched event, borrowed from the reader's reused buffers.
///
/// Valid until the next call to [`SseReader::next_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event<'a> {
    /// The event type; `""` when the event had no `event:` field (the spec's
    /// `"message"`), `"error"` when it contained an `error:` line.
    pub(crate) event: &'a str,
    /// The event's data lines joined with `b'\n'`, as raw bytes.
    pub(crate) data: &'a [u8],
}

/// Why [`SseReader::next_event`] failed.
#[derive(Debug)]
pub(crate) enum SseError {
    /// A line was longer than `limit` bytes.
    LineTooLong { limit: usize },
    /// An event's joined data was larger than `limit` bytes.
    EventTooLarge { limit: usize },
    /// The underlying reader failed.
    Io(io::Error),
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => {
                write!(f, "server-sent events line longer than {limit} bytes")
            }
            Self::EventTooLarge { limit } => {
                write!(f, "server-sent event data larger than {limit} bytes")
            }
            Self::Io(err) => write!(f, "error reading server-sent events stream: {err}"),
        }
    }
}

impl std::error::Error for SseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(err) => Some(err),
            Self::LineTooLong { .. } | Self::EventTooLarge { .. } => None,
        }
    }
}

impl From<io::Error> for SseError {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// Incremental parser turning a byte stream into [`Event`]s.
///
/// All buffers are reused: after the first few events no allocation happens
/// per line or per event (only when a line or event is larger than any seen
/// before, or an `event` value is not valid UTF-8).
#[derive(Debug)]
pub(crate) struct SseReader<R> {
    reader: R,
    /// A line that arrives over several reads, gathered without its terminator (a line
    /// whole in the reader's buffer is processed there, never copied here).
    line: Vec<u8>,
    /// The previous line ended with CR: an LF that comes next (possibly in
    /// the next read) belongs to it.
    skip_lf: bool,
    /// The first line has been read (and a leading BOM stripped from it).
    bom_checked: bool,
    /// An event was handed out: its buffers are cleared on the next call
    /// (they cannot be cleared earlier, the event borrows them).
    needs_reset: bool,
    /// End of stream or an error was reached; only `Ok(None)` from now on.
    finished: bool,
    /// The longest line and the largest event data accepted.
    max_line: usize,
    max_event: usize,
    fields: Fields,
}

/// The parser state the spec calls buffers.
#[derive(Debug, Default)]
struct Fields {
    /// Data lines, each followed by `\n`.
    data: Vec<u8>,
    event_type: String,
    /// An `error` line was seen in the current event (extension).
    is_error: bool,
}

impl<R: BufRead> SseReader<R> {
    /// Wraps `reader`. Nothing is read until [`next_event`](Self::next_event).
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            line: Vec::new(),
            skip_lf: false,
            bom_checked: false,
            needs_reset: false,
            finished: false,
            max_line: MAX_LINE_BYTES,
            max_event: MAX_EVENT_BYTES,
            fields: Fields::default(),
        }
    }

    /// Sets the longest line and the largest event data accepted (by default
    /// [`MAX_LINE_BYTES`] and [`MAX_EVENT_BYTES`]).
    pub(crate) fn set_limits(&mut self, max_line: usize, max_event: usize) {
        self.max_line = max_line;
        self.max_event = max_event;
    }

    /// Next dispatched event; `Ok(None)` at EOF. A lending API: the returned
    /// [`Event`] borrows `&mut self`.
    ///
    /// After `Ok(None)` or an error, every further call returns `Ok(None)`.
    pub(crate) fn next_event(&mut self) -> Result<Option<Event<'_>>, SseError> {
        if self.needs_reset {
            self.needs_reset = false;
            self.fields.reset_event();
        }
        if self.finished {
            return Ok(None);
        }
        match self.fill_event() {
            Ok(true) => {}
            Ok(false) => {
                self.finished = true;
                return Ok(None);
            }
            Err(err) => {
                self.finished = true;
                self.fields.reset_event();
                return Err(err);
            }
        }
        self.needs_reset = true;
        // Every data line is stored followed by '\n'; drop the last one.
        self.fields.data.pop();
        Ok(Some(self.fields.event()))
    }

    #[cfg(test)]
    /// The underlying reader.
    pub(crate) fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The underlying reader. Reading from it directly desynchronises the
    /// parser.
    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    #[cfg(test)]
    /// The underlying reader. Bytes are consumed from it only as far as the
    /// parser has used them, so after an event dispatched by a blank line the
    /// rest of the stream is still there (if that blank line ended with a
    /// bare CR, a following LF has not been consumed yet). A partially read
    /// line or event held by the parser is lost.
    pub(crate) fn into_inner(self) -> R {
        self.reader
    }

    #[cfg(test)]
    /// Bytes currently held in internal buffers (their capacity), for tests
    /// and benches proving memory stays constant. Does not include the
    /// underlying reader's own buffer.
    pub(crate) fn buffered_capacity(&self) -> usize {
        self.line.capacity() + self.fields.data.capacity() + self.fields.event_type.capacity()
    }

    /// Processes lines until an event is ready (`true`) or the stream ended
    /// with nothing to dispatch (`false`).
    fn fill_event(&mut self) -> Result<bool, SseError> {
        loop {
            match self.next_line()? {
                Line::End => {
                    // End of stream. Deviation: dispatch what a blank line would
                    // have dispatched instead of discarding it.
                    self.finished = true;
                    return Ok(!self.fields.data.is_empty());
                }
                Line::Dispatch => return Ok(true),
                Line::Done => {}
            }
        }
    }

    /// Reads the next line and processes it. A line that is whole in the reader's buffer
    /// (nearly every line) is processed there; one that arrives over several reads is
    /// gathered in `self.line` first.
    fn next_line(&mut self) -> Result<Line, SseError> {
        self.line.clear();
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(SseError::Io(err)),
            };
            if buf.is_empty() {
                if self.line.is_empty() {
                    return Ok(Line::End);
                }
                // A final line without terminator is still a line.
                break;
            }
            let mut start = 0;
            if self.skip_lf {
                self.skip_lf = false;
                if buf.first() == Some(&b'\n') {
                    start = 1;
                }
            }
            let rest = buf.get(start..).unwrap_or_default();
            let end = line_end(rest);
            let content = rest.get(..end.unwrap_or(rest.len())).unwrap_or_default();
            let Some(end) = end else {
                append_line(&mut self.line, content, self.max_line)?;
                let used = buf.len();
                self.reader.consume(used);
                continue;
            };
            self.skip_lf = rest.get(end) == Some(&b'\r');
            let used = start + end + 1;
            if self.line.is_empty() {
                if content.len() > self.max_line {
                    return Err(SseError::LineTooLong {
                        limit: self.max_line,
                    });
                }
                let line = without_bom(&mut self.bom_checked, content);
                let step = self.fields.line(line, self.max_event);
                self.reader.consume(used);
                return step;
            }
            append_line(&mut self.line, content, self.max_line)?;
            self.reader.consume(used);
            break;
        }
        let line = without_bom(&mut self.bom_checked, &self.line);
        self.fields.line(line, self.max_event)
    }
}

/// What processing one line did.
enum Line {
    /// The stream ended before a new line began.
    End,
    /// A blank line ended an event that has data: dispatch it.
    Dispatch,
    /// The line was processed (a blank line with no data resets the event).
    Done,
}

impl Fields {
    /// Handles one line, without its terminator.
    fn line(&mut self, line: &[u8], max_event: usize) -> Result<Line, SseError> {
        if !line.is_empty() {
            self.process_line(line, max_event)?;
        } else if !self.data.is_empty() {
            return Ok(Line::Dispatch);
        } else {
            // Blank line with empty data: reset, dispatch nothing.
            self.reset_event();
        }
        Ok(Line::Done)
    }

    /// Clears the per-event buffers (data, event type).
    fn reset_event(&mut self) {
        self.data.clear();
        self.event_type.clear();
        self.is_error = false;
    }

    fn event(&self) -> Event<'_> {
        Event {
            event: if self.is_error {
                "error"
            } else {
                &self.event_type
            },
            data: &self.data,
        }
    }

    /// Handles one non-blank line.
    fn process_line(&mut self, line: &[u8], max_event: usize) -> Result<(), SseError> {
        if line.first() == Some(&b':') {
            return Ok(()); // comment
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = line.get(colon + 1..).unwrap_or_default();
                (
                    line.get(..colon).unwrap_or_default(),
                    value.strip_prefix(b" ").unwrap_or(value),
                )
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => self.append_data(value, max_event)?,
            b"error" => {
                // Extension, see the module documentation.
                self.append_data(value, max_event)?;
                self.is_error = true;
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&String::from_utf8_lossy(value));
            }
            _ => {} // `id`, `retry` and unknown fields: ignored
        }
        Ok(())
    }

    fn append_data(&mut self, value: &[u8], max_event: usize) -> Result<(), SseError> {
        // The joined size if this were the last line: the buffer already
        // ends with the '\n' that joins it to this line.
        if self.data.len().saturating_add(value.len()) > max_event {
            return Err(SseError::EventTooLarge { limit: max_event });
        }
        reserve_capped(&mut self.data, value.len() + 1, max_event.saturating_add(1));
        self.data.extend_from_slice(value);
        self.data.push(b'\n');
        Ok(())
    }
}

/// The line without a leading byte-order mark if it is the stream's first (`checked` false;
/// it is set).
fn without_bom<'a>(checked: &mut bool, line: &'a [u8]) -> &'a [u8] {
    if *checked {
        return line;
    }
    *checked = true;
    line.strip_prefix(BOM).unwrap_or(line)
}

/// Adds `content` to the line being gathered over several reads, within `max_line`.
fn append_line(line: &mut Vec<u8>, content: &[u8], max_line: usize) -> Result<(), SseError> {
    if line.len().saturating_add(content.len()) > max_line {
        return Err(SseError::LineTooLong { limit: max_line });
    }
    reserve_capped(line, content.len(), max_line);
    line.extend_from_slice(content);
    Ok(())
}

/// Makes room for `additional` more bytes, growing geometrically like `Vec`
/// does, but never beyond `ceiling` (so hitting a limit does not leave a
/// buffer with up to twice the limit allocated).
fn reserve_capped(buf: &mut Vec<u8>, additional: usize, ceiling: usize) {
    let needed = buf.len().saturating_add(additional);
    if needed <= buf.capacity() {
        return;
    }
    let target = buf
        .capacity()
        .saturating_mul(2)
        .max(MIN_CAPACITY)
        .min(ceiling)
        .max(needed);
    buf.reserve_exact(target - buf.len());
}

// Tests may panic: a failed `unwrap` or out-of-range index is a test failure.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests;
