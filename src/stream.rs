//! Streamed answers: [`ChatCompletionStream`] (the chunks of
//! [`ChatApi::create_chat_completion_stream`](crate::ChatApi::create_chat_completion_stream),
//! read from a body it is handed), [`ContentDeltas`] (just the text),
//! [`ChunkAccumulator`] (chunks folded into one completion), [`ContentReader`] (the text
//! as an `io::Read`), and with the `events` feature `Events` (typed `StreamEvent`s:
//! deltas, done moments, tool calls with their arguments parsed) and
//! `parse_partial_json` (the value unfinished JSON will become).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::iter::FusedIterator;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use crate::accumulate::ChunkAccumulator;
use crate::config::{Config, DEFAULT_MAX_RESPONSE_BYTES};
use crate::connection;
use crate::error::{DecodeError, Error, StreamError, StreamErrorKind};
use crate::http::{self, HeaderMap};
use crate::observe::StreamWatch;
use crate::response::Replayed;
use crate::sse::{SseError, SseReader};
use crate::think::ThinkTags;
use crate::transport_error::transport_error;
use crate::types::{CreateChatCompletionResponse, CreateChatCompletionStreamResponse, MAX_CHOICES};
use crate::util::{bounded_text, clean_text, header_str, is_json};

#[cfg(feature = "events")]
use crate::events::EventQueue;
#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub use crate::events::{StreamEvent, ToolCallDelta, ToolCallDone};
#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub use crate::partial_json::{parse_partial_json, PartialJsonError};

/// Bytes read from the socket per `read` call while streaming.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// After `data: [DONE]`, at most this much of what follows is read, without waiting, so
/// the connection can go back to the pool; a server that keeps talking is cut off instead.
const DRAIN_LIMIT_BYTES: u64 = 64 * 1024;

/// A line may be this much longer than the event limit: room for its `data: ` field name.
const FIELD_NAME_ROOM: usize = 64;

/// A streamed chat completion: an iterator of chunks as the server sends them.
///
/// Each item is a [`CreateChatCompletionStreamResponse`] or an [`Error`]. The iterator
/// ends after `data: [DONE]`; after the first error it yields `None` for good. A stream
/// that closes before every choice has a `finish_reason` (and without `[DONE]`) ends with
/// an [`Error::Stream`] of kind [`StreamErrorKind::Truncated`], so a cut-off answer is never
/// mistaken for a whole one; a `[DONE]` ends the answer whole even when no choice had a
/// `finish_reason` (vLLM sends exactly that). Dropping the stream early closes the
/// connection.
///
/// # Limits
///
/// * One event (its `data:` lines joined) may be as large as
///   [`Config::max_response_bytes`] (32 MiB by default, see
///   [`max_event_bytes`](Self::max_event_bytes)); a larger one is an [`Error::Stream`] of
///   kind [`StreamErrorKind::TooLarge`]. The reader's buffers grow to the largest event
///   seen (about twice its size: the line and the joined data) and are reused.
/// * For a stream from [`ChatApi`](crate::ChatApi), at most
///   [`Config::stream_idle_timeout`] without data, counted from the last bytes of event
///   data (comments and empty keep-alive events do not reset it); then the stream ends with
///   an [`Error::Stream`] of kind [`StreamErrorKind::Timeout`].
/// * The whole stream is unbounded by default (streams are long); set
///   [`Config::max_stream_bytes`] (or [`max_stream_bytes`](Self::max_stream_bytes)) to
///   bound it.
/// * At most [`MAX_CHOICES`] distinct choice indices: a chunk with more is an
///   [`Error::Stream`] of kind [`StreamErrorKind::TooLarge`]. A negative or too large index
///   is an [`Error::Stream`] of kind [`StreamErrorKind::InvalidData`], never read as another
///   choice.
///
/// Memory stays constant however long the stream is: each chunk is decoded from a
/// reused buffer.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use sync_openai::ChatCompletionStream;
///
/// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n\
///             data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n\
///             data: [DONE]\n\n";
/// let stream = ChatCompletionStream::from_reader(body.as_bytes());
/// let mut out = Vec::new();
/// for chunk in stream {
///     let chunk = chunk?;
///     if let Some(text) = chunk.choices.first().and_then(|c| c.delta.content.as_deref()) {
///         write!(out, "{text}").unwrap(); // print!() and flush in a real program
///     }
/// }
/// assert_eq!(out, b"Hello");
/// # Ok::<(), sync_openai::Error>(())
/// ```
pub struct ChatCompletionStream {
    events: SseReader<BufReader<Counted>>,
    status: u16,
    headers: HeaderMap,
    /// Each choice index seen, and whether it has had its `finish_reason`.
    choices: BTreeMap<u32, bool>,
    done: bool,
    /// Reports the end of the stream when logging or an event hook is on.
    watch: Option<StreamWatch>,
    /// The credentials the request sent, redacted from what the server says in the stream.
    secrets: Vec<String>,
    replayed: bool,
    /// Set by [`think_tags_as_reasoning`](Self::think_tags_as_reasoning).
    think: Option<ThinkTags>,
    /// The error to yield after the chunk of text [`ThinkTags`] still held.
    after_flush: Option<Error>,
}

/// The body under the SSE reader, counting its bytes against an optional total limit and
/// the time since the last bytes of event data against the idle timeout.
struct Counted {
    inner: Box<dyn Read + Send>,
    read: u64,
    limit: Option<u64>,
    /// `stream_idle_timeout`, for a stream from a `ChatApi`.
    idle: Option<Duration>,
    /// When the last byte of event data came (or the stream began).
    last_data: Instant,
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
enum DataLines {
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
    fn saw_data(&mut self, bytes: &[u8]) -> bool {
        let mut data = false;
        for &b in bytes {
            *self = match (*self, b) {
                (_, b'\n' | b'\r') => DataLines::Start,
                (DataLines::Start, b':') => DataLines::Other,
                (DataLines::Start, _) => DataLines::Name(0).name(b),
                (DataLines::Name(n), _) => DataLines::Name(n).name(b),
                (DataLines::Data, b' ' | b'\t') => DataLines::Data,
                (DataLines::Data, _) => {
                    data = true;
                    DataLines::Data
                }
                (DataLines::Other, _) => DataLines::Other,
            };
        }
        data
    }

    /// The next byte of a field name.
    fn name(self, b: u8) -> DataLines {
        const DATA: &[u8] = b"data";
        match self {
            DataLines::Name(4) if b == b':' => DataLines::Data,
            DataLines::Name(n) if DATA.get(n) == Some(&b) => DataLines::Name(n + 1),
            _ => DataLines::Other,
        }
    }
}

/// The I/O error payload of a stream that sent no data for longer than its idle timeout.
#[derive(Debug)]
struct IdleTimeout {
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
struct StreamTooLong {
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

/// What one step of reading found.
// A transient return value, moved once: boxing the chunk would cost an allocation per chunk.
#[allow(clippy::large_enum_variant)]
enum Step {
    /// A chunk to hand out.
    Chunk(CreateChatCompletionStreamResponse),
    /// An event with nothing in it (a keep-alive, an empty `data:`): read on.
    Skip,
    /// `data: [DONE]`.
    Done,
    /// The body ended.
    End,
    /// The stream failed.
    Fail(Error),
}

impl ChatCompletionStream {
    /// A stream over the 2xx response of a stream request, with the limits of `config`.
    ///
    /// # Errors
    ///
    /// A JSON answer (a server that ignored `"stream": true`) larger than
    /// `max_response_bytes`, or one that broke while being read, is a transport error.
    pub(crate) fn from_response(
        response: http::Response<ureq::Body>,
        config: &Config,
        secrets: Vec<String>,
    ) -> Result<Self, Error> {
        let replayed = response.extensions().get::<Replayed>().is_some();
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let limit = config.max_response_bytes;
        let reader: Box<dyn Read + Send> = if is_json(&parts.headers) {
            // A server or proxy that ignores `"stream": true` answers with one JSON document:
            // replay it as a one-chunk stream rather than lose the answer. Over the limit it
            // is a clear BodyTooLarge, not a truncated document.
            let bytes = body
                .into_with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(transport_error)?;
            if crate::types::too_many_choices(&bytes) {
                // Checked before the replay builds a JSON tree of the body: 11 million empty
                // choices in 32 MiB would take gigabytes. The typed decode says where.
                if let Err(e) = serde_json::from_slice::<CreateChatCompletionResponse>(&bytes) {
                    let request_id = header_str(&parts.headers, "x-request-id").map(str::to_owned);
                    return Err(Error::Decode(Box::new(DecodeError::new(
                        e,
                        &bytes,
                        status,
                        "CreateChatCompletionResponse".to_owned(),
                        request_id,
                    ))));
                }
            }
            match completion_as_events(&bytes) {
                Some(events) => Box::new(io::Cursor::new(events)),
                // Not JSON: the SSE reader reports what it finds.
                None => Box::new(io::Cursor::new(bytes)),
            }
        } else {
            Box::new(body.into_reader())
        };
        let mut stream =
            ChatCompletionStream::new(reader, status, parts.headers).max_event_bytes(limit);
        stream.secrets = secrets;
        stream.replayed = replayed;
        if let Some(total) = config.max_stream_bytes {
            stream = stream.max_stream_bytes(total);
        }
        let counted = stream.events.get_mut().get_mut();
        counted.idle = Some(config.stream_idle_timeout);
        counted.last_data = Instant::now();
        Ok(stream.think_tags_as_reasoning(config.think_tags_as_reasoning))
    }

    /// A stream over any source of server-sent-event bytes: a recorded response, a file,
    /// a socket of your own.
    ///
    /// [`status`](Self::status) is 200 and [`headers`](Self::headers) is empty; events may
    /// be as large as [`DEFAULT_MAX_RESPONSE_BYTES`] and the stream is unbounded (see the
    /// setters below).
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        ChatCompletionStream::new(Box::new(reader), 200, HeaderMap::new())
    }

    fn new(reader: Box<dyn Read + Send>, status: u16, headers: HeaderMap) -> Self {
        let counted = Counted {
            inner: reader,
            read: 0,
            limit: None,
            idle: None,
            last_data: Instant::now(),
            pending: None,
            lines: DataLines::default(),
        };
        let reader = BufReader::with_capacity(READ_BUFFER_BYTES, counted);
        ChatCompletionStream {
            events: SseReader::new(reader),
            status,
            headers,
            choices: BTreeMap::new(),
            done: false,
            watch: None,
            secrets: Vec::new(),
            replayed: false,
            think: None,
            after_flush: None,
        }
        .max_event_bytes(DEFAULT_MAX_RESPONSE_BYTES)
    }

    /// The largest event (its `data:` lines joined) the stream accepts; a larger one ends it
    /// with an [`Error::Stream`] of kind [`StreamErrorKind::TooLarge`]. A single line may be
    /// 64 bytes longer (its field name). Set it before reading.
    ///
    /// Defaults to [`Config::max_response_bytes`] for a stream from
    /// [`ChatApi`](crate::ChatApi), [`DEFAULT_MAX_RESPONSE_BYTES`] (32 MiB) for
    /// [`from_reader`](Self::from_reader).
    pub fn max_event_bytes(mut self, limit: u64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        self.events
            .set_limits(limit.saturating_add(FIELD_NAME_ROOM), limit);
        self
    }

    /// The most bytes the whole stream may have; past it, the stream ends with an
    /// [`Error::Stream`] of kind [`StreamErrorKind::TooLarge`]. Set it before reading.
    ///
    /// Defaults to [`Config::max_stream_bytes`] for a stream from
    /// [`ChatApi`](crate::ChatApi), none for [`from_reader`](Self::from_reader).
    pub fn max_stream_bytes(mut self, limit: u64) -> Self {
        self.events.get_mut().get_mut().limit = Some(limit);
        self
    }

    /// Moves `<think>…</think>` at the start of each choice's content into the chunks'
    /// `reasoning_content`, as if the server had parsed the reasoning itself: the chunks,
    /// [`content_deltas`](Self::content_deltas) and
    /// [`collect_completion`](Self::collect_completion) all see the answer without it. See
    /// [`ChunkAccumulator::think_tags_as_reasoning`] for the rules. Set it before reading.
    ///
    /// Defaults to [`Config::think_tags_as_reasoning`] for a stream from
    /// [`ChatApi`](crate::ChatApi), `false` (content as received) for
    /// [`from_reader`](Self::from_reader).
    pub fn think_tags_as_reasoning(mut self, on: bool) -> Self {
        self.think = on.then(ThinkTags::default);
        self
    }

    pub(crate) fn watched(mut self, watch: Option<StreamWatch>) -> Self {
        self.watch = watch;
        self
    }

    /// The HTTP status of the response (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers of the response, repeated ones included.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether this stream is replayed from the response cache
    /// ([`Config::cache_dir`](crate::Config::cache_dir)): the recorded events, through
    /// the same parser, instead of the server's.
    pub fn is_replay(&self) -> bool {
        self.replayed
    }

    /// The request id of the response (`x-request-id`, or where gateways put it instead;
    /// see [`ApiResponse::request_id`](crate::ApiResponse::request_id) for the order).
    pub fn request_id(&self) -> Option<&str> {
        crate::util::request_id(&self.headers)
    }

    /// Reads the rest of the stream and folds it into one completion, as if the request had
    /// not been streamed.
    ///
    /// The chunks are combined by a [`ChunkAccumulator`] (see there for the rules): the
    /// result equals the completion the server would have sent whole.
    ///
    /// # Errors
    ///
    /// The first error of the stream. When it is an [`Error::Stream`] (a cut-off or
    /// stalled connection, an in-band error, bad data, a limit), it keeps what came
    /// before it: [`StreamError::partial_completion`] is the completion so far (choices
    /// without a `finish_reason` are the ones that were cut off).
    ///
    /// ```
    /// use sync_openai::{ChatCompletionStream, Error};
    ///
    /// let cut = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n";
    /// let err = ChatCompletionStream::from_reader(cut.as_bytes()).collect_completion().unwrap_err();
    /// let Error::Stream(e) = &err else { panic!("{err}") };
    /// let partial = e.partial_completion().unwrap();
    /// assert_eq!(partial.choices[0].message.content.as_deref(), Some("Hel"));
    /// assert_eq!(partial.choices[0].finish_reason, None);
    /// ```
    pub fn collect_completion(self) -> Result<CreateChatCompletionResponse, Error> {
        let mut acc = Accumulating::default();
        for chunk in self {
            acc.add(chunk)?;
        }
        Ok(acc.acc.finish())
    }

    /// The text deltas of the first choice (index 0), skipping chunks without text.
    ///
    /// The common case of printing an answer as it arrives:
    ///
    /// ```
    /// # let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    /// # let stream = sync_openai::ChatCompletionStream::from_reader(body.as_bytes());
    /// for text in stream.content_deltas() {
    ///     print!("{}", text?);
    /// }
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    ///
    /// The iterator keeps the answer so far, so that an [`Error::Stream`] it yields carries
    /// it as [`StreamError::partial_completion`], as
    /// [`collect_completion`](Self::collect_completion) does: code that collects the text
    /// with `collect::<Result<String, _>>()` still gets what came before a failure.
    ///
    /// ```
    /// use sync_openai::{ChatCompletionStream, Error};
    ///
    /// let cut = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n";
    /// let stream = ChatCompletionStream::from_reader(cut.as_bytes());
    /// let err = stream.content_deltas().collect::<Result<String, _>>().unwrap_err();
    /// let Error::Stream(e) = &err else { panic!("{err}") };
    /// let so_far = e.partial_completion().unwrap().choices[0].message.content.as_deref();
    /// assert_eq!(so_far, Some("Hel"));
    /// ```
    pub fn content_deltas(self) -> ContentDeltas {
        ContentDeltas {
            stream: self,
            acc: Accumulating::default(),
            failed: false,
        }
    }

    fn fail(&mut self, error: Error) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        self.done = true;
        match self.flush_think() {
            Some(held) => {
                self.after_flush = Some(error);
                Some(Ok(held))
            }
            None => Some(Err(error)),
        }
    }

    /// The text [`ThinkTags`] still holds, as one last chunk.
    fn flush_think(&mut self) -> Option<CreateChatCompletionStreamResponse> {
        self.think.as_mut().and_then(ThinkTags::flush)
    }

    /// A stream error with the request id of this stream, without the request's secrets.
    fn error(&self, mut error: StreamError) -> Error {
        error.request_id = self.request_id().map(str::to_owned);
        for secret in &self.secrets {
            error.redact(secret);
        }
        Error::Stream(Box::new(error))
    }

    /// Notes the choices of a chunk; an error past [`MAX_CHOICES`] distinct ones.
    fn note_choices(&mut self, chunk: &CreateChatCompletionStreamResponse) -> Result<(), Error> {
        for choice in &chunk.choices {
            let finished = choice.finish_reason.is_some();
            if let Some(f) = self.choices.get_mut(&choice.index) {
                *f |= finished;
                continue;
            }
            if self.choices.len() >= MAX_CHOICES {
                let message = format!(
                    "the stream has more than {MAX_CHOICES} distinct choices (the API's limit for n); choice index {} was refused",
                    choice.index
                );
                return Err(self.error(StreamError::new(StreamErrorKind::TooLarge, message)));
            }
            self.choices.insert(choice.index, finished);
        }
        Ok(())
    }

    /// Reads the next event and says what it is.
    fn read_step(&mut self) -> Step {
        let event = match self.events.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return Step::End,
            Err(SseError::Io(e)) => return Step::Fail(self.io_failure(e)),
            Err(e @ (SseError::LineTooLong { .. } | SseError::EventTooLarge { .. })) => {
                let message = format!(
                    "{e}; raise Config::max_response_bytes (or ChatCompletionStream::max_event_bytes) if it is expected"
                );
                return Step::Fail(
                    self.error(StreamError::new(StreamErrorKind::TooLarge, message)),
                );
            }
        };
        if event.event == "error" {
            let error = StreamError::from_server_error(event.data);
            return Step::Fail(self.error(error));
        }
        let data = event.data.trim_ascii();
        if data.is_empty() {
            return Step::Skip;
        }
        if data == b"[DONE]" {
            return Step::Done;
        }
        match serde_json::from_slice::<CreateChatCompletionStreamResponse>(data) {
            // An error object decodes as a chunk with no choices; its marks are the
            // `error` key (OpenAI, most servers) or `"object": "error"` (vLLM).
            Ok(chunk) if chunk.extra.contains_key("error") || chunk.object == "error" => {
                let error = StreamError::from_server_error(data);
                Step::Fail(self.error(error))
            }
            Ok(chunk) => Step::Chunk(chunk),
            Err(e) => {
                let mut error = StreamError::new(
                    StreamErrorKind::InvalidData,
                    format!("the server sent an event that is not a chat completion chunk: {e}"),
                );
                error.snippet = Some(clean_text(&bounded_text(data, 160)).into_owned());
                error.source = Some(Box::new(e));
                Step::Fail(self.error(error))
            }
        }
    }

    /// `data: [DONE]`: the answer is whole, whatever `finish_reason`s came.
    fn on_done(&mut self) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        self.done = true;
        self.drain();
        self.flush_think().map(Ok)
    }

    /// The body ended without `[DONE]`.
    fn on_end(&mut self) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        self.done = true;
        if !self.choices.is_empty() && self.choices.values().all(|f| *f) {
            // Some servers close without `[DONE]` once every choice finished.
            return self.flush_think().map(Ok);
        }
        let what = if self.choices.is_empty() && is_json(&self.headers) {
            // A proxy or server that ignores `"stream": true` answers with one
            // JSON document, which has no `data:` lines.
            "the server answered with a JSON body instead of an event stream: it may not support streaming; use create_chat_completion"
        } else if self.choices.is_empty() {
            "the stream ended before the server sent any answer"
        } else {
            "the connection closed before the answer finished (no finish_reason and no [DONE])"
        };
        let error = self.error(StreamError::new(StreamErrorKind::Truncated, what));
        self.fail(error)
    }

    /// A chunk was decoded: note its choices and hand it out.
    fn on_chunk(
        &mut self,
        mut chunk: CreateChatCompletionStreamResponse,
    ) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        match self.note_choices(&chunk) {
            Ok(()) => {
                if let Some(think) = &mut self.think {
                    think.rewrite(&mut chunk);
                }
                Some(Ok(chunk))
            }
            Err(e) => self.fail(e),
        }
    }

    fn drain(&mut self) {
        // Reading the rest lets the connection go back to the pool, if it is already
        // there: a server that holds the body open after `[DONE]` is not waited for.
        connection::rest(self.events.get_mut(), DRAIN_LIMIT_BYTES);
    }

    fn io_failure(&mut self, e: io::Error) -> Error {
        if let Some(too_long) = e.get_ref().and_then(|e| e.downcast_ref::<StreamTooLong>()) {
            let message = too_long.to_string();
            return self.error(StreamError::new(StreamErrorKind::TooLarge, message));
        }
        if let Some(idle) = e.get_ref().and_then(|e| e.downcast_ref::<IdleTimeout>()) {
            let message = format!("{idle}; the answer is incomplete");
            return self.error(StreamError::new(StreamErrorKind::Timeout, message));
        }
        let e = ureq::Error::from(e);
        let timed_out = matches!(e, ureq::Error::Timeout(_))
            || matches!(&e, ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut);
        if timed_out {
            // Which timeout fired (the idle one, the total deadline) is for transport_error
            // to say; the stream error keeps its words and adds what was received.
            let timeout = transport_error(e);
            let mut error = StreamError::new(
                StreamErrorKind::Timeout,
                format!("{timeout}; the answer is incomplete"),
            );
            error.source = Some(Box::new(timeout));
            return self.error(error);
        }
        let mut error = StreamError::new(
            StreamErrorKind::Truncated,
            format!("the connection broke before the answer finished: {e}"),
        );
        error.source = Some(Box::new(e));
        self.error(error)
    }
}

impl Iterator for ChatCompletionStream {
    type Item = Result<CreateChatCompletionStreamResponse, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_chunk();
        if let Some(watch) = &mut self.watch {
            watch.saw(&item);
        }
        item
    }
}

impl ChatCompletionStream {
    fn next_chunk(&mut self) -> Option<<Self as Iterator>::Item> {
        if let Some(error) = self.after_flush.take() {
            return Some(Err(error));
        }
        if self.done {
            return None;
        }
        loop {
            match self.read_step() {
                // Data (its bytes reset the idle timeout as they came, `Counted::note`; this
                // covers a first line behind a byte-order mark). Comments never reach this
                // loop and empty events are skipped, so neither resets it.
                Step::Chunk(chunk) => {
                    self.events.get_mut().get_mut().last_data = Instant::now();
                    return self.on_chunk(chunk);
                }
                Step::Skip => continue,
                Step::Done => return self.on_done(),
                Step::End => return self.on_end(),
                Step::Fail(e) => return self.fail(e),
            }
        }
    }
}

impl FusedIterator for ChatCompletionStream {}

impl fmt::Debug for ChatCompletionStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatCompletionStream")
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl StreamError {
    /// What the stream had delivered before it failed, folded into one completion as
    /// [`collect_completion`](ChatCompletionStream::collect_completion) would have
    /// (choices without a `finish_reason` are the ones cut off).
    ///
    /// Set on the errors of `collect_completion` and `content_deltas` once at least one
    /// chunk had come; `None` on the errors of the plain chunk iterator (whose caller holds
    /// the chunks, or a [`ChunkAccumulator`] of them) and when nothing had come.
    pub fn partial_completion(&self) -> Option<&CreateChatCompletionResponse> {
        self.partial.as_ref()?.downcast_ref()
    }
}

/// An accumulator that puts what it holds into the stream errors passing through it.
#[derive(Default)]
struct Accumulating {
    acc: ChunkAccumulator,
    any: bool,
}

impl Accumulating {
    /// Adds an item of the stream; an error comes back with the completion so far.
    fn add(
        &mut self,
        item: Result<CreateChatCompletionStreamResponse, Error>,
    ) -> Result<(), Error> {
        let result = item.and_then(|chunk| {
            self.any = true;
            self.acc.add(chunk)
        });
        result.map_err(|e| self.with_partial(e))
    }

    fn with_partial(&mut self, error: Error) -> Error {
        match error {
            Error::Stream(mut e) if self.any => {
                let acc = std::mem::take(&mut self.acc);
                e.partial = Some(Box::new(acc.finish()));
                Error::Stream(e)
            }
            other => other,
        }
    }
}

/// The text deltas of a stream's first choice: see
/// [`ChatCompletionStream::content_deltas`].
///
/// Each item is the non-empty text of one chunk for choice 0, or the stream's error, which
/// carries the completion so far ([`StreamError::partial_completion`]).
pub struct ContentDeltas {
    stream: ChatCompletionStream,
    acc: Accumulating,
    failed: bool,
}

impl ContentDeltas {
    /// The stream underneath: its status, headers and request id.
    pub fn stream(&self) -> &ChatCompletionStream {
        &self.stream
    }
}

impl Iterator for ContentDeltas {
    type Item = Result<String, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let item = self.stream.next()?;
            let text = match &item {
                Ok(chunk) => chunk
                    .choices
                    .iter()
                    .find(|c| c.index == 0)
                    .and_then(|c| c.delta.content.as_deref())
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
                Err(_) => None,
            };
            if let Err(e) = self.acc.add(item) {
                self.failed = true;
                return Some(Err(e));
            }
            if let Some(text) = text {
                return Some(Ok(text));
            }
        }
    }
}

impl FusedIterator for ContentDeltas {}

impl fmt::Debug for ContentDeltas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentDeltas")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl ChatCompletionStream {
    /// The stream as typed events: text deltas and done moments for the content, the
    /// refusal and each tool call, reasoning deltas, usage, and each choice's end.
    ///
    /// The events are read off a [`ChunkAccumulator`] after each
    /// chunk, so they agree with [`collect_completion`](Self::collect_completion): the
    /// deltas of a choice concatenate to its collected content, refusal and tool-call
    /// arguments, and each done event carries the whole value. The done events of a
    /// choice come when its `finish_reason` arrives (or when the stream ends without one),
    /// followed by [`StreamEvent::Finished`]; [`Events::into_completion`] gives the
    /// collected completion afterwards.
    ///
    /// # Errors
    ///
    /// The stream's first error, after which the iterator ends. An [`Error::Stream`]
    /// carries the completion so far, as from `collect_completion`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::stream::{ChatCompletionStream, StreamEvent};
    ///
    /// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Pa\"}}]}}]}\n\n\
    ///             data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ris\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n\
    ///             data: [DONE]\n\n";
    /// let mut shown = Vec::new();
    /// for event in ChatCompletionStream::from_reader(body.as_bytes()).events() {
    ///     match event? {
    ///         StreamEvent::ContentDelta { delta, .. } => print!("{delta}"),
    ///         StreamEvent::ToolCallDelta(d) => shown.push(d.partial_arguments()),
    ///         StreamEvent::ToolCallDone(done) => {
    ///             assert_eq!(done.name, "get_weather");
    ///             assert_eq!(done.parsed?["city"], "Paris");
    ///         }
    ///         _ => {}
    ///     }
    /// }
    /// assert_eq!(shown, [Some(serde_json::json!({"city": "Pa"})), Some(serde_json::json!({"city": "Paris"}))]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "events")]
    #[cfg_attr(docsrs, doc(cfg(feature = "events")))]
    pub fn events(self) -> Events {
        Events {
            stream: self,
            acc: Accumulating::default(),
            queue: EventQueue::default(),
            ended: false,
            partial: None,
        }
    }

    /// The streamed text of the first choice as an [`io::Read`], for piping an answer to a
    /// file or stdout.
    ///
    /// A stream error becomes an [`io::Error`] (of kind [`io::ErrorKind::TimedOut`] for a
    /// timeout, else [`io::ErrorKind::Other`]) whose inner error is this crate's [`Error`],
    /// with the partial completion, as from
    /// [`content_deltas`](Self::content_deltas):
    ///
    /// ```
    /// use std::io::Read;
    /// use sync_openai::{stream::ChatCompletionStream, Error};
    ///
    /// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    /// let mut out = Vec::new();
    /// std::io::copy(&mut ChatCompletionStream::from_reader(body.as_bytes()).into_reader(), &mut out)?;
    /// assert_eq!(out, b"Hello");
    ///
    /// let cut = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n";
    /// let mut text = String::new();
    /// let err = ChatCompletionStream::from_reader(cut.as_bytes()).into_reader().read_to_string(&mut text).unwrap_err();
    /// let inner = err.get_ref().and_then(|e| e.downcast_ref::<Error>());
    /// assert!(matches!(inner, Some(Error::Stream(_))));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_reader(self) -> ContentReader {
        ContentReader {
            deltas: self.content_deltas(),
            buffer: Vec::new(),
            at: 0,
        }
    }
}

/// The typed events of a stream: see [`ChatCompletionStream::events`].
#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub struct Events {
    stream: ChatCompletionStream,
    acc: Accumulating,
    queue: EventQueue,
    ended: bool,
    /// After a stream error: the completion so far, which the error carries.
    partial: Option<CreateChatCompletionResponse>,
}

#[cfg(feature = "events")]
impl Events {
    /// The stream underneath: its status, headers and request id.
    pub fn stream(&self) -> &ChatCompletionStream {
        &self.stream
    }

    /// The completion the chunks so far make up: after the last event, what
    /// [`collect_completion`](ChatCompletionStream::collect_completion) returns; after an
    /// error, the completion before it (as the error's
    /// [`partial_completion`](StreamError::partial_completion)).
    pub fn into_completion(self) -> CreateChatCompletionResponse {
        match self.partial {
            Some(partial) => partial,
            None => self.acc.acc.finish(),
        }
    }

    /// Reads one chunk into the accumulator and queues the events it makes.
    fn read_chunk(&mut self) -> Option<Result<(), Error>> {
        let item = self.stream.next()?;
        let (indices, usage) = match &item {
            Ok(chunk) => (
                chunk.choices.iter().map(|c| c.index).collect::<Vec<_>>(),
                chunk.usage.is_some(),
            ),
            Err(_) => (Vec::new(), false),
        };
        if let Err(e) = self.acc.add(item) {
            return Some(Err(e));
        }
        self.queue.after_chunk(&self.acc.acc, &indices, usage);
        Some(Ok(()))
    }
}

#[cfg(feature = "events")]
impl Iterator for Events {
    type Item = Result<StreamEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.queue.pop() {
                return Some(Ok(event));
            }
            if self.ended {
                return None;
            }
            match self.read_chunk() {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    self.ended = true;
                    if let Error::Stream(stream) = &e {
                        self.partial = stream.partial_completion().cloned();
                    }
                    return Some(Err(e));
                }
                None => {
                    self.ended = true;
                    self.queue.at_end(&self.acc.acc);
                }
            }
        }
    }
}

#[cfg(feature = "events")]
impl FusedIterator for Events {}

#[cfg(feature = "events")]
impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

/// The streamed text of a stream's first choice as an [`io::Read`]: see
/// [`ChatCompletionStream::into_reader`].
pub struct ContentReader {
    deltas: ContentDeltas,
    buffer: Vec<u8>,
    at: usize,
}

impl ContentReader {
    /// The stream underneath: its status, headers and request id.
    pub fn stream(&self) -> &ChatCompletionStream {
        self.deltas.stream()
    }
}

impl Read for ContentReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(rest) = self.buffer.get(self.at..).filter(|r| !r.is_empty()) {
                let n = rest.len().min(out.len());
                if let (Some(to), Some(from)) = (out.get_mut(..n), rest.get(..n)) {
                    to.copy_from_slice(from);
                }
                self.at += n;
                return Ok(n);
            }
            match self.deltas.next() {
                None => return Ok(0),
                Some(Ok(text)) => {
                    self.buffer = text.into_bytes();
                    self.at = 0;
                }
                Some(Err(e)) => {
                    let kind = match e.is_timeout() {
                        true => io::ErrorKind::TimedOut,
                        false => io::ErrorKind::Other,
                    };
                    return Err(io::Error::new(kind, e));
                }
            }
        }
    }
}

impl fmt::Debug for ContentReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentReader")
            .field("stream", self.stream())
            .finish_non_exhaustive()
    }
}

/// A whole JSON answer as the events of a stream: `data: <chunk>` then `data: [DONE]`.
///
/// A completion's choices become deltas (`message` → `delta`, each tool call given its
/// `index`), every other key kept as it came; a JSON error body passes through unchanged, so
/// the stream reports it as the in-band error it is. `None` when the body is not a JSON object.
fn completion_as_events(body: &[u8]) -> Option<Vec<u8>> {
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

/// The random completions of the property test (`tests/accumulate.rs`), for the replay test.
#[cfg(test)]
#[path = "../tests/common/completions.rs"]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod completions;

#[cfg(test)]
mod tests {
    // Tests assert on known-good fixtures; a panic is the failure report.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    use super::completions;

    /// A server that ignores `"stream": true` sends the whole answer as JSON: its replay as
    /// a one-chunk stream accumulates to the same completion.
    #[test]
    fn json_replay_accumulates_to_the_whole_completion() {
        for case in 0..1000u64 {
            let mut e = completions::SplitMix(case);
            let whole = completions::completion(&mut e);
            let text = whole.to_string();
            let want: CreateChatCompletionResponse = serde_json::from_str(&text).unwrap();
            let events = completion_as_events(text.as_bytes()).unwrap();
            let got = ChatCompletionStream::from_reader(io::Cursor::new(events))
                .collect_completion()
                .unwrap();
            assert_eq!(got, want, "case {case}: {whole:#}");
        }
    }

    /// A reader producing `n` content chunks, then a finish chunk and `[DONE]`, without
    /// ever holding the whole body.
    struct Generated {
        n: usize,
        i: usize,
        pending: Vec<u8>,
        pos: usize,
    }

    impl Read for Generated {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.pending.len() {
                self.pending.clear();
                self.pos = 0;
                if self.i < self.n {
                    self.pending.extend_from_slice(
                        b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\n",
                    );
                } else if self.i == self.n {
                    self.pending.extend_from_slice(
                        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                    );
                } else {
                    return Ok(0);
                }
                self.i += 1;
            }
            let n = buf.len().min(self.pending.len() - self.pos);
            buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// Hands out a body one byte per read.
    struct Drip(io::Cursor<Vec<u8>>);

    impl Read for Drip {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    /// Found by fuzzing: the stream limit used to count bytes read ahead, so whether an
    /// event before the limit was yielded depended on the read sizes.
    #[test]
    fn the_stream_limit_does_not_depend_on_read_sizes() {
        let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ab\"}}]}\n\n";
        let body = event.repeat(50).into_bytes();
        for limit in [0, 1, 57, 58, 59, 500, 2900, 2950] {
            let items = |stream: ChatCompletionStream| -> Vec<String> {
                stream
                    .max_stream_bytes(limit)
                    .map(|i| i.map_or_else(|e| e.to_string(), |c| format!("{c:?}")))
                    .collect()
            };
            let whole = items(ChatCompletionStream::from_reader(io::Cursor::new(
                body.clone(),
            )));
            let dripped = items(ChatCompletionStream::from_reader(Drip(io::Cursor::new(
                body.clone(),
            ))));
            assert_eq!(whole, dripped, "limit {limit}");
            let chunks = whole.iter().filter(|i| i.starts_with("CreateChat")).count();
            assert_eq!(
                chunks as u64,
                (limit / event.len() as u64).min(50),
                "limit {limit}"
            );
            if limit < body.len() as u64 {
                assert!(
                    whole.last().unwrap().contains("max_stream_bytes"),
                    "{whole:?}"
                );
            }
        }
    }

    /// Data bytes restart the idle timeout wherever the reads cut them; comments, blank
    /// lines, empty `data:`, other fields and `data` lookalikes never do.
    #[test]
    fn only_data_bytes_count_as_data() {
        let cases: [(&[u8], bool); 10] = [
            (b": keep-alive\n\n", false),
            (b"data:\n\n", false),
            (b"data: \r\n\r\n", false),
            (b"event: ping\nid: 7\nretry: 10\n\n", false),
            (b"database: x\n", false),
            (b": data: x\n", false),
            (b"data: {}\n\n", true),
            (b"data:[DONE]\n\n", true),
            (b"\r\ndata: x", true),
            (b": ping\ndata: x\n", true),
        ];
        for (bytes, want) in cases {
            for cut in 0..=bytes.len() {
                let mut lines = DataLines::default();
                let (a, b) = bytes.split_at(cut);
                let got = lines.saw_data(a) | lines.saw_data(b);
                assert_eq!(
                    got,
                    want,
                    "{:?} cut at {cut}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }

    #[test]
    fn two_hundred_thousand_chunks_in_constant_memory() {
        let mut stream = ChatCompletionStream::from_reader(Generated {
            n: 200_000,
            i: 0,
            pending: Vec::new(),
            pos: 0,
        });
        let mut count = 0usize;
        let mut capacity_after_ten = 0;
        while let Some(chunk) = stream.next() {
            chunk.unwrap();
            count += 1;
            if count == 10 {
                capacity_after_ten = stream.events.buffered_capacity();
            }
        }
        assert_eq!(count, 200_001);
        assert!(capacity_after_ten > 0);
        assert_eq!(stream.events.buffered_capacity(), capacity_after_ten);
    }
}
