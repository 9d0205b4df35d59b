//! Streamed answers: [`ChatCompletionStream`] (the chunks of
//! [`ChatApi::create_chat_completion_stream`](crate::ChatApi::create_chat_completion_stream),
//! read from a body it is handed), [`ContentDeltas`] (just the text),
//! [`ChunkAccumulator`] (chunks folded into one completion), [`ContentReader`] (the text
//! as an `io::Read`), and with the `events` feature `Events` (typed `StreamEvent`s:
//! deltas, done moments, tool calls with their arguments parsed) and
//! `parse_partial_json` (the value unfinished JSON will become).

// One job per file: the stream itself, its SSE parsing and errors (`mod.rs`); the body
// under the parser, counted against the limits and the idle timeout, and a JSON answer
// replayed as events (`body.rs`); the readers over a stream, `ContentDeltas`, `Events`
// and `ContentReader`, and the partial completion their errors keep (`readers.rs`).

use std::fmt;
use std::io::{self, BufReader, Read};
use std::iter::FusedIterator;
use std::time::Instant;

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
use crate::util::ByIndex;
use crate::util::{bounded_text, clean_text, header_str, is_json};

#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub use crate::events::{StreamEvent, ToolCallDelta, ToolCallDone};
#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub use crate::partial_json::{parse_partial_json, PartialJsonError};

mod body;
mod readers;

use body::{completion_as_events, Counted, IdleTimeout, StreamTooLong};
use readers::Accumulating;
#[cfg(feature = "events")]
#[cfg_attr(docsrs, doc(cfg(feature = "events")))]
pub use readers::Events;
pub use readers::{ContentDeltas, ContentReader};

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
    choices: ByIndex<bool>,
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
        let counted = Counted::new(reader);
        let reader = BufReader::with_capacity(READ_BUFFER_BYTES, counted);
        ChatCompletionStream {
            events: SseReader::new(reader),
            status,
            headers,
            choices: ByIndex::default(),
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
            Ok(chunk) => {
                if let Some(watch) = &mut self.watch {
                    watch.chunk_data(data);
                }
                Step::Chunk(chunk)
            }
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

// Tests may panic: a failed `unwrap` or out-of-range index is a test failure.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests;
