//! The readers over a [`ChatCompletionStream`]: [`ContentDeltas`] (the text of the first
//! choice), `Events` (typed events, feature `events`), [`ContentReader`] (the text as an
//! `io::Read`), and the [`StreamError::partial_completion`] their errors keep.

use std::fmt;
use std::io::{self, Read};
use std::iter::FusedIterator;

use super::{ChatCompletionStream, ChunkAccumulator};
use crate::error::{Error, StreamError};
#[cfg(feature = "events")]
use crate::events::{EventQueue, StreamEvent};
use crate::types::{CreateChatCompletionResponse, CreateChatCompletionStreamResponse};

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
pub(super) struct Accumulating {
    pub(super) acc: ChunkAccumulator,
    any: bool,
}

impl Accumulating {
    /// Adds an item of the stream; an error comes back with the completion so far.
    pub(super) fn add(
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
