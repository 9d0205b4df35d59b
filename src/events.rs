//! Typed stream events ([`ChatCompletionStream::events`]) and the stream's content as an
//! [`io::Read`] ([`ChatCompletionStream::into_reader`]).
//!
//! The events are the growth of what a [`ChunkAccumulator`](crate::ChunkAccumulator) holds
//! after each chunk, never a second reading of the chunks: the concatenated deltas are
//! what `collect_completion` returns, by construction, whatever the accumulator's merge rules.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io::{self, Read};
use std::iter::FusedIterator;

use serde_json::Value;

use crate::accumulate::ChoiceSoFar;
use crate::error::Error;
use crate::partial_json::parse_partial_json;
use crate::stream::{Accumulating, ChatCompletionStream, ContentDeltas};
use crate::types::{CompletionUsage, CreateChatCompletionResponse, FinishReason};

/// One typed event of a streamed answer; see [`ChatCompletionStream::events`].
///
/// `choice` is the choice's `index` (0 unless the request set `n`).
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamEvent {
    /// More text of the answer.
    ContentDelta {
        /// The choice.
        choice: u32,
        /// The new text.
        delta: String,
    },
    /// The answer's text is whole (the choice finished, or the stream ended).
    ContentDone {
        /// The choice.
        choice: u32,
        /// The whole text.
        content: String,
    },
    /// More text of a refusal.
    RefusalDelta {
        /// The choice.
        choice: u32,
        /// The new text.
        delta: String,
    },
    /// The refusal is whole.
    RefusalDone {
        /// The choice.
        choice: u32,
        /// The whole refusal.
        refusal: String,
    },
    /// More reasoning text (`reasoning_content` or `reasoning`, as servers send it).
    ReasoningDelta {
        /// The choice.
        choice: u32,
        /// The new text.
        delta: String,
    },
    /// More arguments of a tool call.
    ToolCallDelta(ToolCallDelta),
    /// A tool call is whole, its arguments parsed.
    ToolCallDone(ToolCallDone),
    /// The token usage the server reported (with `stream_options.include_usage`, or every
    /// chunk on servers that send running totals: the last one counts).
    Usage(CompletionUsage),
    /// A choice ended: once per choice, after its done events.
    Finished {
        /// The choice.
        choice: u32,
        /// Why it ended; `None` when the stream ended without saying (vLLM's `[DONE]`).
        finish_reason: Option<FinishReason>,
    },
}

/// More arguments of a tool call: [`StreamEvent::ToolCallDelta`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// The choice.
    pub choice: u32,
    /// The call's place among the choice's tool calls, in the order they first came: the
    /// same for every event of the call, and, for a server that numbers its calls in order
    /// (every known one), the call's place in the collected message's `tool_calls()`.
    pub index: usize,
    /// The call's id (empty until the server sent it).
    pub id: String,
    /// The tool's name (empty until the server sent it).
    pub name: String,
    /// The new piece of the arguments.
    pub delta: String,
    /// The arguments so far.
    pub arguments: String,
    /// The arguments so far no longer start with those of the call's previous delta: the
    /// accumulator replaced them (a gateway that sends a `{}` placeholder before the real
    /// arguments), and `delta` is the whole new text. Start the call's text over.
    pub replaced: bool,
}

impl ToolCallDelta {
    /// The arguments so far parsed as the JSON value they will become (an unfinished
    /// string, array or object closed where it stops), for progress displays; see
    /// [`parse_partial_json`](crate::parse_partial_json). `None` when there is no value yet
    /// or the text is not JSON.
    pub fn partial_arguments(&self) -> Option<Value> {
        parse_partial_json(&self.arguments).ok().flatten()
    }
}

/// A whole tool call: [`StreamEvent::ToolCallDone`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ToolCallDone {
    /// The choice.
    pub choice: u32,
    /// The call's place among the choice's tool calls, as in [`ToolCallDelta::index`].
    pub index: usize,
    /// The call's id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The whole arguments (a custom tool's input).
    pub arguments: String,
    /// Whether this is a custom tool call (free-text input) rather than a function call.
    pub custom: bool,
    /// The arguments parsed as JSON (empty arguments are `{}`, as in
    /// [`parse_arguments`](crate::types::ChatCompletionMessageToolCall::parse_arguments));
    /// a custom tool's input is a JSON string.
    pub parsed: Result<Value, serde_json::Error>,
}

/// The typed events of a stream: see [`ChatCompletionStream::events`].
pub struct Events {
    stream: ChatCompletionStream,
    acc: Accumulating,
    choices: BTreeMap<u32, ChoiceState>,
    pending: VecDeque<StreamEvent>,
    ended: bool,
    /// After a stream error: the completion so far, which the error carries.
    partial: Option<CreateChatCompletionResponse>,
}

/// What the events of one choice have said so far.
#[derive(Default)]
struct ChoiceState {
    content: Part,
    refusal: Part,
    reasoning: Part,
    /// The tool calls, by the order they first came.
    calls: Vec<CallPart>,
    finished: bool,
}

/// The bytes of a text the deltas have given, and whether its done event came.
#[derive(Default, Clone, Copy)]
struct Part {
    sent: usize,
    done: bool,
}

impl Part {
    /// The text added since the last call, if any.
    fn grow(&mut self, text: &str) -> Option<String> {
        let new = text.get(self.sent..).filter(|d| !d.is_empty())?;
        self.sent = text.len();
        Some(new.to_owned())
    }

    /// True the first time it is called.
    fn finish(&mut self) -> bool {
        !std::mem::replace(&mut self.done, true)
    }
}

/// The arguments of a tool call the deltas have given (which the accumulator may replace,
/// unlike text), and whether its done event came.
#[derive(Default, Clone)]
struct CallPart {
    sent: String,
    done: bool,
}

impl CallPart {
    /// The arguments added since the last call, and whether they replaced what came before.
    fn grow(&mut self, arguments: &str) -> Option<(String, bool)> {
        let grown = match arguments.strip_prefix(self.sent.as_str()) {
            Some("") => return None,
            Some(new) => (new.to_owned(), false),
            None => (arguments.to_owned(), true),
        };
        arguments.clone_into(&mut self.sent);
        Some(grown)
    }

    /// True the first time it is called.
    fn finish(&mut self) -> bool {
        !std::mem::replace(&mut self.done, true)
    }
}

impl ChatCompletionStream {
    /// The stream as typed events: text deltas and done moments for the content, the
    /// refusal and each tool call, reasoning deltas, usage, and each choice's end.
    ///
    /// The events are read off a [`ChunkAccumulator`](crate::ChunkAccumulator) after each
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
    /// use sync_openai::{ChatCompletionStream, StreamEvent};
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
    pub fn events(self) -> Events {
        Events {
            stream: self,
            acc: Accumulating::default(),
            choices: BTreeMap::new(),
            pending: VecDeque::new(),
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
    /// use sync_openai::{ChatCompletionStream, Error};
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

impl Events {
    /// The stream underneath: its status, headers and request id.
    pub fn stream(&self) -> &ChatCompletionStream {
        &self.stream
    }

    /// The completion the chunks so far make up: after the last event, what
    /// [`collect_completion`](ChatCompletionStream::collect_completion) returns.
    /// After an error, the completion before it (as the error's
    /// [`partial_completion`](crate::StreamError::partial_completion)).
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
        let mut seen = Vec::with_capacity(indices.len());
        for index in indices {
            if !seen.contains(&index) {
                seen.push(index);
                self.on_choice(index);
            }
        }
        if usage {
            if let Some(usage) = self.acc.acc.usage() {
                self.pending.push_back(StreamEvent::Usage(usage.clone()));
            }
        }
        Some(Ok(()))
    }

    /// Queues the events of what choice `index` gained.
    fn on_choice(&mut self, index: u32) {
        let Some(so_far) = self.acc.acc.choice_so_far(index) else {
            return;
        };
        let state = self.choices.entry(index).or_default();
        let out = &mut self.pending;
        grow(state, &so_far, index, out);
        if so_far.finish_reason.is_some() && !state.finished {
            finish(state, &so_far, index, out);
        }
    }

    /// The stream ended whole: every choice still open ends.
    fn on_end(&mut self) {
        let indices: Vec<u32> = self.acc.acc.choice_indices().collect();
        for index in indices {
            let Some(so_far) = self.acc.acc.choice_so_far(index) else {
                continue;
            };
            let state = self.choices.entry(index).or_default();
            if !state.finished {
                finish(state, &so_far, index, &mut self.pending);
            }
        }
    }
}

/// The delta events of what a choice gained since its state was last updated.
fn grow(
    state: &mut ChoiceState,
    so_far: &ChoiceSoFar<'_>,
    choice: u32,
    out: &mut VecDeque<StreamEvent>,
) {
    if let Some(delta) = so_far.reasoning.and_then(|t| state.reasoning.grow(t)) {
        out.push_back(StreamEvent::ReasoningDelta { choice, delta });
    }
    if let Some(delta) = so_far.content.and_then(|t| state.content.grow(t)) {
        out.push_back(StreamEvent::ContentDelta { choice, delta });
    }
    if let Some(delta) = so_far.refusal.and_then(|t| state.refusal.grow(t)) {
        out.push_back(StreamEvent::RefusalDelta { choice, delta });
    }
    for call in &so_far.tool_calls {
        let slot = call.order;
        if state.calls.len() <= slot {
            state.calls.resize(slot + 1, CallPart::default());
        }
        let Some(part) = state.calls.get_mut(slot) else {
            continue;
        };
        if let Some((delta, replaced)) = part.grow(call.arguments) {
            out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                choice,
                index: call.order,
                id: call.id.to_owned(),
                name: call.name.to_owned(),
                delta,
                arguments: call.arguments.to_owned(),
                replaced,
            }));
        }
    }
}

/// The done events of a choice, then its `Finished`.
fn finish(
    state: &mut ChoiceState,
    so_far: &ChoiceSoFar<'_>,
    choice: u32,
    out: &mut VecDeque<StreamEvent>,
) {
    state.finished = true;
    if let Some(content) = so_far.content.filter(|_| state.content.finish()) {
        let content = content.to_owned();
        out.push_back(StreamEvent::ContentDone { choice, content });
    }
    if let Some(refusal) = so_far.refusal.filter(|_| state.refusal.finish()) {
        let refusal = refusal.to_owned();
        out.push_back(StreamEvent::RefusalDone { choice, refusal });
    }
    for call in &so_far.tool_calls {
        let slot = call.order;
        if state.calls.len() <= slot {
            state.calls.resize(slot + 1, CallPart::default());
        }
        if !state.calls.get_mut(slot).is_some_and(CallPart::finish) {
            continue;
        }
        let parsed = match (call.custom, call.arguments.trim()) {
            (true, _) => Ok(Value::String(call.arguments.to_owned())),
            (false, "") => Ok(Value::Object(serde_json::Map::new())),
            (false, text) => serde_json::from_str(text),
        };
        out.push_back(StreamEvent::ToolCallDone(ToolCallDone {
            choice,
            index: call.order,
            id: call.id.to_owned(),
            name: call.name.to_owned(),
            arguments: call.arguments.to_owned(),
            custom: call.custom,
            parsed,
        }));
    }
    let finish_reason = so_far.finish_reason.cloned();
    out.push_back(StreamEvent::Finished {
        choice,
        finish_reason,
    });
}

impl Iterator for Events {
    type Item = Result<StreamEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.pending.pop_front() {
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
                    self.on_end();
                }
            }
        }
    }
}

impl FusedIterator for Events {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_arguments_start_over() {
        let mut part = CallPart::default();
        assert_eq!(part.grow(""), None);
        assert_eq!(part.grow("{}"), Some(("{}".to_owned(), false)));
        assert_eq!(part.grow("{}"), None);
        // The accumulator replaced a `{}` placeholder with the real start.
        assert_eq!(part.grow("{\"a\""), Some(("{\"a\"".to_owned(), true)));
        assert_eq!(part.grow("{\"a\":1}"), Some((":1}".to_owned(), false)));
    }
}
