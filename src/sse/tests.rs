//! The unit tests of `sse` (lints relaxed on the `mod tests;` line).

use super::*;
use std::io::{BufReader, Read};

/// An owned copy of an [`Event`], to compare whole streams.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    event: String,
    data: Vec<u8>,
}

impl From<Event<'_>> for Owned {
    fn from(ev: Event<'_>) -> Self {
        Self {
            event: ev.event.to_owned(),
            data: ev.data.to_vec(),
        }
    }
}

fn ev(event: &str, data: &[u8]) -> Owned {
    Owned {
        event: event.to_owned(),
        data: data.to_vec(),
    }
}

/// A plain `message` event with only data.
fn msg(data: &[u8]) -> Owned {
    ev("", data)
}

fn collect<R: BufRead>(reader: R) -> Vec<Owned> {
    let mut sse = SseReader::new(reader);
    let mut out = Vec::new();
    while let Some(event) = sse.next_event().unwrap() {
        out.push(event.into());
    }
    // Fused after EOF.
    assert!(sse.next_event().unwrap().is_none());
    assert!(sse.next_event().unwrap().is_none());
    out
}

fn parse(input: &[u8]) -> Vec<Owned> {
    collect(input)
}

/// A reader returning at most `chunk` bytes per read, optionally
/// failing with `Interrupted` before every read.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
    interrupt: bool,
    interrupted_last: bool,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.interrupt && !self.interrupted_last {
            self.interrupted_last = true;
            return Err(io::ErrorKind::Interrupted.into());
        }
        self.interrupted_last = false;
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn parse_chunked(input: &[u8], chunk: usize) -> Vec<Owned> {
    let reader = Chunked {
        data: input,
        chunk,
        interrupt: false,
        interrupted_last: false,
    };
    collect(BufReader::with_capacity(chunk, reader))
}

/// A reader delivering exactly the given segments, one per read.
struct Segments(std::collections::VecDeque<Vec<u8>>);

impl Read for Segments {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(mut seg) = self.0.pop_front() else {
            return Ok(0);
        };
        let n = seg.len().min(buf.len());
        buf[..n].copy_from_slice(&seg[..n]);
        if n < seg.len() {
            self.0.push_front(seg.split_off(n));
        }
        Ok(n)
    }
}

fn parse_segments(segments: &[&[u8]]) -> Vec<Owned> {
    let segs = segments.iter().map(|s| s.to_vec()).collect();
    collect(BufReader::new(Segments(segs)))
}

/// A realistic OpenAI(-compatible) stream: comments, multi-byte UTF-8,
/// tool calls, mixed line endings, an id and retry (ignored), `[DONE]`.
const OPENAI_STREAM: &[u8] = b": OPENROUTER PROCESSING\n\n\
retry: 3000\n\
data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"H\xc3\xa9llo \xf0\x9f\x91\x8b \xe4\xb8\x96\xe7\x95\x8c\"}}]}\r\n\r\n\
: keep-alive\r\r\
id: 42\n\
data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\r\n\r\n\
data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Z\xc3\xbcrich\\\"}\"}}]}}]}\r\r\
data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n\
data: [DONE]\n\n";

fn openai_expected() -> Vec<Owned> {
    let datas: Vec<&[u8]> = vec![
        b"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
        "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Héllo 👋 世界\"}}]}".as_bytes(),
        b"{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}",
        "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Zürich\\\"}\"}}]}}]}".as_bytes(),
        b"{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}",
        b"[DONE]",
    ];
    datas.into_iter().map(msg).collect()
}

// ---- whole streams and chunking ----

#[test]
fn openai_stream_one_read() {
    assert_eq!(parse(OPENAI_STREAM), openai_expected());
}

#[test]
fn openai_stream_one_byte_per_read() {
    assert_eq!(parse_chunked(OPENAI_STREAM, 1), openai_expected());
}

#[test]
fn openai_stream_two_bytes_per_read() {
    assert_eq!(parse_chunked(OPENAI_STREAM, 2), openai_expected());
}

#[test]
fn openai_stream_seven_bytes_per_read() {
    assert_eq!(parse_chunked(OPENAI_STREAM, 7), openai_expected());
}

#[test]
fn openai_stream_every_chunk_size_with_bom_and_interrupts() {
    let mut input = BOM.to_vec();
    input.extend_from_slice(OPENAI_STREAM);
    for chunk in 1..=70 {
        let reader = Chunked {
            data: &input,
            chunk,
            interrupt: true,
            interrupted_last: false,
        };
        let got = collect(BufReader::with_capacity(chunk, reader));
        assert_eq!(got, openai_expected(), "chunk size {chunk}");
    }
}

#[test]
fn multibyte_utf8_split_across_reads() {
    // "€" is E2 82 AC; split after each of its first two bytes.
    let got = parse_segments(&[b"data: a\xe2", b"\x82", b"\xac b\n\n"]);
    assert_eq!(got, vec![msg("a€ b".as_bytes())]);
}

#[test]
fn invalid_utf8_data_passed_through_and_small_fields_lossy() {
    let got = parse(b"event: a\xffb\nid: x\xfe\ndata: \xff\xfe\x00z\n\n");
    assert_eq!(got, vec![ev("a\u{FFFD}b", b"\xff\xfe\x00z")]);
}

// ---- line endings ----

#[test]
fn lf_cr_crlf_and_mixed_line_endings() {
    let expected = vec![msg(b"a\nb"), msg(b"c")];
    assert_eq!(parse(b"data: a\ndata: b\n\ndata: c\n\n"), expected);
    assert_eq!(parse(b"data: a\rdata: b\r\rdata: c\r\r"), expected);
    assert_eq!(
        parse(b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"),
        expected
    );
    assert_eq!(parse(b"data: a\rdata: b\r\n\ndata: c\n\r"), expected);
}

#[test]
fn crlf_split_at_read_boundary_gives_no_spurious_dispatch() {
    // If the LF after "a\r" were an extra blank line, "a" and "b" would
    // be dispatched separately.
    let got = parse_segments(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
    assert_eq!(got, vec![msg(b"a\nb")]);
    // A lone CR at the end of a read followed by another line is fine.
    let got = parse_segments(&[b"data: a\r", b"data: b\r", b"\r"]);
    assert_eq!(got, vec![msg(b"a\nb")]);
    // CR LF LF: the second LF is a real blank line.
    let got = parse_segments(&[b"data: a\r", b"\n", b"\n", b"data: b\n\n"]);
    assert_eq!(got, vec![msg(b"a"), msg(b"b")]);
}

// ---- BOM ----

#[test]
fn leading_bom_stripped_once() {
    assert_eq!(parse(b"\xEF\xBB\xBFdata: x\n\n"), vec![msg(b"x")]);
    assert_eq!(
        parse_chunked(b"\xEF\xBB\xBFdata: x\n\n", 1),
        vec![msg(b"x")]
    );
    // A second BOM is part of the field name, which is then unknown.
    assert_eq!(parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), vec![]);
    // A BOM that is not at the very start is not stripped.
    assert_eq!(parse(b"\n\xEF\xBB\xBFdata: x\n\n"), vec![]);
    // A BOM alone on the first line leaves a blank line.
    assert_eq!(parse(b"\xEF\xBB\xBF\ndata: x\n\n"), vec![msg(b"x")]);
}

// ---- comments ----

#[test]
fn comments_ignored() {
    let got = parse(b": OPENROUTER PROCESSING\ndata: a\n: keep-alive\ndata: b\n:\n\n");
    assert_eq!(got, vec![msg(b"a\nb")]);
}

#[test]
fn stream_of_only_comments() {
    assert_eq!(
        parse(b": OPENROUTER PROCESSING\n\n: keep-alive\n\n:\n"),
        vec![]
    );
}

#[test]
fn empty_stream() {
    assert_eq!(parse(b""), vec![]);
    assert_eq!(parse(b"\n\n\r\n\r"), vec![]);
}

// ---- field parsing ----

#[test]
fn field_value_forms() {
    assert_eq!(parse(b"data:x\n\n"), vec![msg(b"x")]);
    assert_eq!(parse(b"data: x\n\n"), vec![msg(b"x")]);
    // Only one space is removed.
    assert_eq!(parse(b"data:  x \n\n"), vec![msg(b" x ")]);
    // Later colons belong to the value.
    assert_eq!(parse(b"data: a: b:c\n\n"), vec![msg(b"a: b:c")]);
    // No colon: the whole line is the field name, the value is empty.
    assert_eq!(parse(b"data\n\n"), vec![msg(b"")]);
    assert_eq!(parse(b"data:\n\n"), vec![msg(b"")]);
    assert_eq!(parse(b"data\ndata\n\n"), vec![msg(b"\n")]);
    // Field names are exact and case-sensitive.
    assert_eq!(parse(b"data : x\nDATA: y\n data: z\n\n"), vec![]);
}

#[test]
fn done_marker_with_and_without_space() {
    assert_eq!(
        parse(b"data:[DONE]\n\ndata: [DONE]\n\n"),
        vec![msg(b"[DONE]"), msg(b"[DONE]")]
    );
}

#[test]
fn several_data_lines_joined_with_newline() {
    assert_eq!(
        parse(b"data: {\ndata:  \"a\": 1\ndata: }\n\n"),
        vec![msg(b"{\n \"a\": 1\n}")]
    );
}

#[test]
fn unknown_fields_ignored() {
    let got = parse(b"foo: bar\ndata: a\nx-custom\nmessage: hi\n: c\nretr: 5\n\n");
    assert_eq!(got, vec![msg(b"a")]);
    // An event with only unknown fields dispatches nothing.
    assert_eq!(parse(b"foo: bar\n\n"), vec![]);
}

#[test]
fn event_type_set_and_reset() {
    let got = parse(b"event: delta\ndata: a\n\ndata: b\n\nevent: x\nevent: y\ndata: c\n\n");
    assert_eq!(got, vec![ev("delta", b"a"), msg(b"b"), ev("y", b"c")]);
    // A blank line with no data resets the event type without dispatching.
    assert_eq!(parse(b"event: foo\n\ndata: x\n\n"), vec![msg(b"x")]);
}

#[test]
fn blank_lines_without_data_dispatch_nothing() {
    assert_eq!(parse(b"\n\n\ndata: a\n\n\n\n"), vec![msg(b"a")]);
    assert_eq!(parse(b"event: ping\nid: 1\nretry: 5\n\n"), vec![]);
}

#[test]
fn id_and_retry_are_ignored() {
    // No reconnection, so nothing reads them: they change no event.
    let got = parse(
        b"data: a\n\nid: 1\ndata: b\n\nid\nretry: 3000\ndata: c\n\nid: a\x00b\nretry: x\ndata: d\n\n",
    );
    assert_eq!(got, vec![msg(b"a"), msg(b"b"), msg(b"c"), msg(b"d")]);
}

// ---- end of stream ----

#[test]
fn pending_event_dispatched_at_eof() {
    assert_eq!(parse(b"data: a\n"), vec![msg(b"a")]);
    assert_eq!(parse(b"data: a\ndata: b\r\n"), vec![msg(b"a\nb")]);
    assert_eq!(parse(b"data: a\n\ndata: b\n"), vec![msg(b"a"), msg(b"b")]);
    // Without data there is nothing to dispatch.
    assert_eq!(parse(b"event: x\nid: 1\n"), vec![]);
}

#[test]
fn final_line_without_terminator_is_processed() {
    assert_eq!(parse(b"data: a"), vec![msg(b"a")]);
    assert_eq!(parse(b"data: a\n\ndata: b"), vec![msg(b"a"), msg(b"b")]);
    assert_eq!(parse(b"data: x\nevent: last"), vec![ev("last", b"x")]);
    assert_eq!(parse_chunked(b"data: x\nid: 9", 1), vec![msg(b"x")]);
    // Comment as final unterminated line.
    assert_eq!(parse(b"data: x\n: bye"), vec![msg(b"x")]);
}

// ---- error extension ----

#[test]
fn bare_error_line_becomes_error_event() {
    let body = br#"{"error":{"code":500,"message":"context size exceeded","type":"server_error"}}"#;
    let mut input = b"error: ".to_vec();
    input.extend_from_slice(body);
    input.extend_from_slice(b"\n\n");
    assert_eq!(parse(&input), vec![ev("error", body)]);
    // Also without the blank line (connection closed right after).
    assert_eq!(parse(&input[..input.len() - 2]), vec![ev("error", body)]);
}

#[test]
fn error_line_overrides_event_type_and_resets_after() {
    let got = parse(b"event: delta\ndata: a\nerror: b\n\ndata: c\n\nerror\n\n");
    assert_eq!(got, vec![ev("error", b"a\nb"), msg(b"c"), ev("error", b"")]);
}

#[test]
fn event_error_with_data() {
    let got = parse(b"event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\n");
    assert_eq!(
        got,
        vec![ev("error", b"{\"error\":{\"message\":\"boom\"}}")]
    );
}

// ---- limits, errors ----

#[test]
fn line_of_exactly_max_len_is_accepted() {
    let mut input = b"data:".to_vec();
    input.resize(MAX_LINE_BYTES, b'x');
    input.extend_from_slice(b"\n\n");
    let got = parse(&input);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data.len(), MAX_LINE_BYTES - 5);
}

#[test]
fn line_too_long() {
    let mut input = b"data:".to_vec();
    input.resize(MAX_LINE_BYTES + 1, b'x');
    input.extend_from_slice(b"\n\n");
    let mut sse = SseReader::new(BufReader::with_capacity(4096, &input[..]));
    let err = sse.next_event().err().unwrap();
    assert!(matches!(err, SseError::LineTooLong { limit } if limit == MAX_LINE_BYTES));
    assert!(sse.buffered_capacity() <= MAX_LINE_BYTES);
    // Fused afterwards.
    assert!(sse.next_event().unwrap().is_none());
    assert!(sse.next_event().unwrap().is_none());
}

#[test]
fn endless_line_is_bounded_not_buffered_forever() {
    // A stream that never sends a line terminator, with odd read sizes.
    for byte in [b'x', b':'] {
        let reader = BufReader::with_capacity(3001, io::repeat(byte));
        let mut sse = SseReader::new(reader);
        let err = sse.next_event().err().unwrap();
        assert!(matches!(err, SseError::LineTooLong { .. }));
        assert!(sse.buffered_capacity() <= MAX_LINE_BYTES);
        assert!(sse.next_event().unwrap().is_none());
    }
}

#[test]
fn event_of_exactly_max_size_is_accepted() {
    // 16 lines of 1_000_000 bytes + 16 joining newlines + remainder.
    let mut input = Vec::with_capacity(MAX_EVENT_BYTES + 200);
    for _ in 0..16 {
        input.extend_from_slice(b"data:");
        input.resize(input.len() + 1_000_000, b'y');
        input.push(b'\n');
    }
    let rest = MAX_EVENT_BYTES - 16 * 1_000_000 - 16;
    input.extend_from_slice(b"data:");
    input.resize(input.len() + rest, b'z');
    input.extend_from_slice(b"\n\n");
    let mut sse = SseReader::new(&input[..]);
    let event = sse.next_event().unwrap().unwrap();
    assert_eq!(event.data.len(), MAX_EVENT_BYTES);
    assert_eq!(event.data.iter().filter(|&&b| b == b'\n').count(), 16);
    assert_eq!(&event.data[16 * 1_000_001 - 2..16 * 1_000_001 + 1], b"y\nz");
    assert!(event.data.ends_with(b"zzz"));
    assert!(sse.next_event().unwrap().is_none());

    // One more byte is too much.
    let at = input.len() - 2;
    input.insert(at, b'z');
    let mut sse = SseReader::new(&input[..]);
    let err = sse.next_event().err().unwrap();
    assert!(matches!(err, SseError::EventTooLarge { limit } if limit == MAX_EVENT_BYTES));
}

/// Endless `data:` lines, never a blank line.
struct EndlessData {
    pos: usize,
}

impl Read for EndlessData {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const LINE: &[u8] = b"data: 0123456789abcdef0123456789abcdef\n";
        let mut n = 0;
        for slot in buf.iter_mut() {
            *slot = LINE[self.pos % LINE.len()];
            self.pos += 1;
            n += 1;
        }
        Ok(n)
    }
}

#[test]
fn event_too_large() {
    let mut sse = SseReader::new(BufReader::with_capacity(65536, EndlessData { pos: 0 }));
    let err = sse.next_event().err().unwrap();
    assert!(matches!(err, SseError::EventTooLarge { limit } if limit == MAX_EVENT_BYTES));
    assert!(sse.buffered_capacity() <= MAX_EVENT_BYTES + 1 + MAX_LINE_BYTES);
    assert!(sse.next_event().unwrap().is_none());
    assert!(sse.next_event().unwrap().is_none());
}

/// Delivers `data` then fails with a non-retryable error.
struct FailAfter<'a> {
    data: &'a [u8],
}

impl Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        }
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn io_error_is_reported_then_fused() {
    let reader = BufReader::new(FailAfter {
        data: b"data: a\n\ndata: partial\n",
    });
    let mut sse = SseReader::new(reader);
    assert_eq!(sse.next_event().unwrap().unwrap().data, b"a");
    let err = sse.next_event().err().unwrap();
    assert!(matches!(&err, SseError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));
    assert!(std::error::Error::source(&err).is_some());
    assert!(!err.to_string().is_empty());
    // The partial event is not dispatched after an error.
    assert!(sse.next_event().unwrap().is_none());
}

#[test]
fn interrupted_reads_are_retried() {
    let reader = Chunked {
        data: b"data: a\r\n\r\ndata: b\n\n",
        chunk: 3,
        interrupt: true,
        interrupted_last: false,
    };
    assert_eq!(
        collect(BufReader::with_capacity(3, reader)),
        vec![msg(b"a"), msg(b"b")]
    );
}

// ---- accessors, buffers ----

#[test]
fn accessors_and_no_over_consumption() {
    let mut sse = SseReader::new(&b"data: a\n\nREST"[..]);
    assert_eq!(sse.get_ref().len(), 13);
    assert_eq!(sse.next_event().unwrap().unwrap().data, b"a");
    assert_eq!(*sse.get_ref(), b"REST");
    assert_eq!(*sse.get_mut(), b"REST");
    assert_eq!(sse.into_inner(), b"REST");
}

/// Generates `total` realistic events on the fly, without holding the
/// whole stream in memory. Event sizes cycle with period 7 so the
/// largest shape already appears among the first 10 events.
struct EventGen {
    next: usize,
    total: usize,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for EventGen {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Write;
        if self.pos == self.pending.len() {
            if self.next == self.total {
                return Ok(0);
            }
            let i = self.next;
            self.next += 1;
            self.pending.clear();
            self.pos = 0;
            let p = &mut self.pending;
            if i % 5 == 0 {
                p.extend_from_slice(b": keep-alive\n\n");
            }
            write!(p, "id: {i:08}\r\n")?;
            writeln!(
                p,
                "data: {{\"id\":\"chatcmpl-{i:08}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}}}}]}}",
                "tok ".repeat(i % 7)
            )?;
            if i % 3 == 0 {
                p.extend_from_slice(b"data: second line\r\n");
            }
            p.extend_from_slice(if i % 2 == 0 { b"\n" } else { b"\r\n" });
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn memory_stays_constant_over_200k_events() {
    const TOTAL: usize = 200_000;
    let events = EventGen {
        next: 0,
        total: TOTAL,
        pending: Vec::new(),
        pos: 0,
    };
    let mut sse = SseReader::new(BufReader::new(events));
    let mut count = 0;
    let mut after_tenth = 0;
    while let Some(event) = sse.next_event().unwrap() {
        let expected_prefix = format!("{{\"id\":\"chatcmpl-{count:08}\"");
        assert!(event.data.starts_with(expected_prefix.as_bytes()));
        assert_eq!(event.data.ends_with(b"\nsecond line"), count % 3 == 0);
        count += 1;
        if count == 10 {
            after_tenth = sse.buffered_capacity();
        }
    }
    assert_eq!(count, TOTAL);
    assert!(after_tenth > 0);
    let at_end = sse.buffered_capacity();
    assert!(
        at_end <= after_tenth,
        "capacity grew from {after_tenth} to {at_end}"
    );
}
