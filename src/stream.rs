//! `ChatCompletionStream`: streamed chunks over SSE, and their accumulation into one completion.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::iter::FusedIterator;

use serde_json::{Map, Value};

use crate::connection;
use crate::error::{Error, StreamError, StreamErrorKind};
use crate::http::{self, HeaderMap};
use crate::observe::StreamWatch;
use crate::response::Replayed;
use crate::sse::{SseError, SseReader};
use crate::transport_error::transport_error;
use crate::types::{
    ChatCompletionChoice, ChatCompletionChoiceLogprobs, ChatCompletionMessageToolCall,
    ChatCompletionMessageToolCalls, ChatCompletionResponseMessage, CompletionUsage,
    CreateChatCompletionResponse, CreateChatCompletionStreamResponse, FinishReason, FunctionCall,
    ResponseContent, Role,
};
use crate::util::{bounded_text, header_str};

/// Bytes read from the socket per `read` call while streaming.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// After `data: [DONE]`, at most this much of what follows is read, without waiting, so
/// the connection can go back to the pool; a server that keeps talking is cut off instead.
const DRAIN_LIMIT_BYTES: u64 = 64 * 1024;

/// A streamed chat completion: an iterator of chunks as the server sends them.
///
/// Each item is a [`CreateChatCompletionStreamResponse`] or an [`Error`]. The iterator
/// ends after `data: [DONE]`; after the first error it yields `None` for good. A stream
/// that closes before every choice has a `finish_reason` ends with an
/// [`Error::Stream`] of kind [`StreamErrorKind::Truncated`], so a cut-off answer is never
/// mistaken for a whole one. Dropping the stream early closes the connection.
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
    events: SseReader<Box<dyn BufRead + Send>>,
    status: u16,
    headers: HeaderMap,
    /// Each choice index seen, and whether it has had its `finish_reason`.
    choices: Vec<(u32, bool)>,
    done: bool,
    /// Reports the end of the stream when logging or an event hook is on.
    watch: Option<StreamWatch>,
    replayed: bool,
}

impl ChatCompletionStream {
    pub(crate) fn from_response(response: http::Response<ureq::Body>, limit: u64) -> Self {
        let replayed = response.extensions().get::<Replayed>().is_some();
        let mut stream = ChatCompletionStream::from_parts(response, limit);
        stream.replayed = replayed;
        stream
    }

    fn from_parts(response: http::Response<ureq::Body>, limit: u64) -> Self {
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        if is_json(&parts.headers) {
            // A server or proxy that ignores `"stream": true` answers with one JSON document:
            // replay it as a one-chunk stream rather than lose the answer.
            let mut bytes = Vec::new();
            let read = body
                .into_reader()
                .take(limit)
                .read_to_end(&mut bytes)
                .map(|_| ());
            let replay: Box<dyn BufRead + Send> = match (read, completion_as_events(&bytes)) {
                (Ok(()), Some(events)) => Box::new(io::Cursor::new(events)),
                // Not JSON (or cut short): the SSE reader reports what it finds.
                _ => Box::new(io::Cursor::new(bytes)),
            };
            return ChatCompletionStream::new(replay, status, parts.headers);
        }
        let reader = BufReader::with_capacity(READ_BUFFER_BYTES, body.into_reader());
        ChatCompletionStream::new(Box::new(reader), status, parts.headers)
    }

    /// A stream over any source of server-sent-event bytes: a recorded response, a file,
    /// a socket of your own.
    ///
    /// [`status`](Self::status) is 200 and [`headers`](Self::headers) is empty.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        let reader = BufReader::with_capacity(READ_BUFFER_BYTES, reader);
        ChatCompletionStream::new(Box::new(reader), 200, HeaderMap::new())
    }

    fn new(reader: Box<dyn BufRead + Send>, status: u16, headers: HeaderMap) -> Self {
        ChatCompletionStream {
            events: SseReader::new(reader),
            status,
            headers,
            choices: Vec::new(),
            done: false,
            watch: None,
            replayed: false,
        }
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
    /// Per choice: content, refusal and reasoning text (kept under the vendor key it came
    /// with, such as `reasoning_content`) are concatenated; tool-call argument fragments
    /// are joined (matched by `index`, else by a non-empty `id`, else continuing the last
    /// call); logprobs are appended; the `finish_reason` is kept. `usage` comes from the
    /// chunk that carries it; `id`, `model`, `created`, `system_fingerprint` and
    /// `service_tier` from the first chunk that has them.
    ///
    /// # Errors
    ///
    /// The first error of the stream. A stream that fails never yields a partial completion.
    pub fn collect_completion(self) -> Result<CreateChatCompletionResponse, Error> {
        let mut acc = ChunkAccumulator::default();
        for chunk in self {
            acc.add(chunk?);
        }
        Ok(acc.finish())
    }

    /// The text deltas of the first choice, skipping chunks without text.
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
    pub fn content_deltas(self) -> impl Iterator<Item = Result<String, Error>> {
        self.filter_map(|chunk| match chunk {
            Err(e) => Some(Err(e)),
            Ok(mut chunk) => {
                let choice = chunk.choices.iter_mut().find(|c| c.index == 0)?;
                let text = choice.delta.content.take()?.into_string();
                (!text.is_empty()).then_some(Ok(text))
            }
        })
    }

    fn fail(
        &mut self,
        mut error: StreamError,
    ) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        self.done = true;
        error.request_id = self.request_id().map(str::to_owned);
        Some(Err(Error::Stream(Box::new(error))))
    }

    fn note_choices(&mut self, chunk: &CreateChatCompletionStreamResponse) {
        for choice in &chunk.choices {
            let finished = choice.finish_reason.is_some();
            match self.choices.iter_mut().find(|(i, _)| *i == choice.index) {
                Some((_, f)) => *f |= finished,
                None => self.choices.push((choice.index, finished)),
            }
        }
    }

    fn drain(&mut self) {
        // Reading the rest lets the connection go back to the pool, if it is already
        // there: a server that holds the body open after `[DONE]` is not waited for.
        connection::rest(self.events.get_mut(), DRAIN_LIMIT_BYTES);
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
        if self.done {
            return None;
        }
        loop {
            let event = match self.events.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => {
                    self.done = true;
                    if !self.choices.is_empty() && self.choices.iter().all(|(_, f)| *f) {
                        // Some servers close without `[DONE]` once every choice finished.
                        return None;
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
                    return self.fail(StreamError::new(StreamErrorKind::Truncated, what));
                }
                Err(SseError::Io(e)) => return self.io_failure(e),
                Err(e @ (SseError::LineTooLong { .. } | SseError::EventTooLarge { .. })) => {
                    let message = format!("{e}");
                    return self.fail(StreamError::new(StreamErrorKind::TooLarge, message));
                }
            };
            if event.event == "error" {
                let error = StreamError::from_server_error(event.data);
                return self.fail(error);
            }
            let data = event.data.trim_ascii();
            if data.is_empty() {
                continue;
            }
            if data == b"[DONE]" {
                self.done = true;
                self.drain();
                return None;
            }
            match serde_json::from_slice::<CreateChatCompletionStreamResponse>(data) {
                // An error object decodes as a chunk with no choices; its marks are the
                // `error` key (OpenAI, most servers) or `"object": "error"` (vLLM).
                Ok(chunk) if chunk.extra.contains_key("error") || chunk.object == "error" => {
                    let error = StreamError::from_server_error(data);
                    return self.fail(error);
                }
                Ok(chunk) => {
                    self.note_choices(&chunk);
                    return Some(Ok(chunk));
                }
                Err(e) => {
                    let mut error = StreamError::new(
                        StreamErrorKind::InvalidData,
                        format!(
                            "the server sent an event that is not a chat completion chunk: {e}"
                        ),
                    );
                    error.snippet = Some(bounded_text(data, 160));
                    error.source = Some(Box::new(e));
                    return self.fail(error);
                }
            }
        }
    }
}

impl ChatCompletionStream {
    fn io_failure(
        &mut self,
        e: io::Error,
    ) -> Option<Result<CreateChatCompletionStreamResponse, Error>> {
        let e = ureq::Error::from(e);
        if matches!(e, ureq::Error::Timeout(_))
            || matches!(&e, ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut)
        {
            self.done = true;
            return Some(Err(transport_error(e)));
        }
        let mut error = StreamError::new(
            StreamErrorKind::Truncated,
            format!("the connection broke before the answer finished: {e}"),
        );
        error.source = Some(Box::new(e));
        self.fail(error)
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

/// Folds stream chunks into one completion, for code that looks at each chunk as it
/// arrives and wants the whole answer at the end.
///
/// It is what [`ChatCompletionStream::collect_completion`] uses; see there for how
/// chunks are combined.
///
/// # Examples
///
/// ```
/// use sync_openai::{ChatCompletionStream, ChunkAccumulator};
///
/// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
/// let mut acc = ChunkAccumulator::new();
/// for chunk in ChatCompletionStream::from_reader(body.as_bytes()) {
///     let chunk = chunk?;
///     // ... print chunk.choices[0].delta.content here ...
///     acc.add(chunk);
/// }
/// let completion = acc.finish();
/// assert_eq!(completion.choices[0].message.content.as_deref(), Some("Hi"));
/// # Ok::<(), sync_openai::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct ChunkAccumulator {
    id: String,
    model: String,
    created: u64,
    system_fingerprint: Option<String>,
    service_tier: Option<crate::types::ServiceTier>,
    usage: Option<CompletionUsage>,
    extra: Map<String, Value>,
    choices: Vec<ChoiceAccumulator>,
}

#[derive(Debug, Default)]
struct ChoiceAccumulator {
    index: u32,
    role: Option<Role>,
    content: Option<String>,
    refusal: Option<String>,
    tool_calls: Vec<ToolCallAccumulator>,
    function_call: Option<FunctionCall>,
    logprobs: Option<ChatCompletionChoiceLogprobs>,
    finish_reason: Option<FinishReason>,
    /// Vendor keys of the deltas: reasoning text is concatenated, arrays appended, the rest
    /// keeps its last value.
    message_extra: Map<String, Value>,
    choice_extra: Map<String, Value>,
}

#[derive(Debug, Default)]
struct ToolCallAccumulator {
    index: Option<u32>,
    id: String,
    name: String,
    arguments: String,
    extra: Map<String, Value>,
}

impl ChunkAccumulator {
    /// An empty accumulator.
    pub fn new() -> ChunkAccumulator {
        ChunkAccumulator::default()
    }

    /// Adds the next chunk of the stream.
    pub fn add(&mut self, chunk: CreateChatCompletionStreamResponse) {
        if self.id.is_empty() && !chunk.id.is_empty() {
            self.id = chunk.id;
        }
        if self.model.is_empty() && !chunk.model.is_empty() {
            self.model = chunk.model;
        }
        if self.created == 0 {
            self.created = chunk.created;
        }
        if self.system_fingerprint.as_deref().is_none_or(str::is_empty) {
            if let Some(fp) = chunk.system_fingerprint.filter(|f| !f.is_empty()) {
                self.system_fingerprint = Some(fp);
            }
        }
        if self.service_tier.is_none() {
            self.service_tier = chunk.service_tier;
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for (key, value) in chunk.extra {
            self.extra.entry(key).or_insert(value);
        }
        for choice in chunk.choices {
            if !self.choices.iter().any(|c| c.index == choice.index) {
                self.choices.push(ChoiceAccumulator {
                    index: choice.index,
                    ..ChoiceAccumulator::default()
                });
            }
            if let Some(acc) = self.choices.iter_mut().find(|c| c.index == choice.index) {
                acc.add(choice);
            }
        }
    }

    /// The completion the chunks added so far make up.
    pub fn finish(self) -> CreateChatCompletionResponse {
        let mut choices: Vec<ChatCompletionChoice> = self
            .choices
            .into_iter()
            .map(ChoiceAccumulator::finish)
            .collect();
        choices.sort_by_key(|c| c.index);
        CreateChatCompletionResponse {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            service_tier: self.service_tier,
            system_fingerprint: self.system_fingerprint,
            extra: self.extra,
            ..CreateChatCompletionResponse::default()
        }
    }
}

impl ChoiceAccumulator {
    fn add(&mut self, choice: crate::types::ChatCompletionStreamChoice) {
        let delta = choice.delta;
        if self.role.is_none() {
            self.role = delta.role;
        }
        if let Some(text) = delta.content {
            self.content.get_or_insert_with(String::new).push_str(&text);
        }
        if let Some(text) = delta.refusal {
            self.refusal.get_or_insert_with(String::new).push_str(&text);
        }
        for call in delta.tool_calls.unwrap_or_default() {
            let id = call.id.filter(|id| !id.is_empty());
            let slot = match (call.index, &id) {
                (Some(index), _) => self.tool_calls.iter().position(|t| t.index == Some(index)),
                (None, Some(id)) => self.tool_calls.iter().position(|t| t.id == *id),
                (None, None) => self.tool_calls.len().checked_sub(1),
            };
            let slot = match slot {
                Some(i) => i,
                None => {
                    self.tool_calls.push(ToolCallAccumulator {
                        index: call.index,
                        ..ToolCallAccumulator::default()
                    });
                    self.tool_calls.len() - 1
                }
            };
            let Some(acc) = self.tool_calls.get_mut(slot) else {
                continue;
            };
            if let (true, Some(id)) = (acc.id.is_empty(), id) {
                acc.id = id;
            }
            if let Some(function) = call.function {
                match function.name.filter(|n| !n.is_empty()) {
                    Some(name) if acc.name.is_empty() => acc.name = name,
                    // Some servers repeat the whole name on every delta; others stream it.
                    Some(name) if name != acc.name => acc.name.push_str(&name),
                    _ => {}
                }
                if let Some(arguments) = function.arguments {
                    acc.arguments.push_str(&arguments);
                }
            }
            for (key, value) in call.extra {
                acc.extra.insert(key, value);
            }
        }
        if let Some(function) = delta.function_call {
            let acc = self.function_call.get_or_insert_with(FunctionCall::default);
            if let Some(name) = function.name.filter(|n| !n.is_empty()) {
                if acc.name.is_empty() {
                    acc.name = name;
                }
            }
            if let Some(arguments) = function.arguments {
                acc.arguments.push_str(&arguments);
            }
        }
        for (key, value) in delta.extra {
            merge_vendor_value(&mut self.message_extra, key, value);
        }
        if let Some(logprobs) = choice.logprobs {
            let acc = self
                .logprobs
                .get_or_insert_with(ChatCompletionChoiceLogprobs::default);
            if let Some(content) = logprobs.content {
                acc.content.get_or_insert_with(Vec::new).extend(content);
            }
            if let Some(refusal) = logprobs.refusal {
                acc.refusal.get_or_insert_with(Vec::new).extend(refusal);
            }
        }
        if choice.finish_reason.is_some() {
            self.finish_reason = choice.finish_reason;
        }
        for (key, value) in choice.extra {
            self.choice_extra.insert(key, value);
        }
    }

    fn finish(self) -> ChatCompletionChoice {
        let tool_calls: Vec<ChatCompletionMessageToolCalls> = self
            .tool_calls
            .into_iter()
            .map(|t| {
                ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
                    id: t.id,
                    function: FunctionCall {
                        name: t.name,
                        arguments: t.arguments,
                    },
                    extra: t.extra,
                })
            })
            .collect();
        ChatCompletionChoice {
            index: self.index,
            message: ChatCompletionResponseMessage {
                role: Some(self.role.unwrap_or(Role::Assistant)),
                content: self.content.map(ResponseContent::from),
                refusal: self.refusal,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                function_call: self.function_call,
                extra: self.message_extra,
                ..ChatCompletionResponseMessage::default()
            },
            finish_reason: self.finish_reason,
            logprobs: self.logprobs,
            extra: self.choice_extra,
        }
    }
}

/// Merges a vendor delta key: strings concatenate (reasoning text), arrays append
/// (`reasoning_details`), `null` never replaces a value, anything else keeps its last value.
fn merge_vendor_value(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (_, Value::Null) => {}
        (Some(Value::String(acc)), Value::String(s)) => acc.push_str(&s),
        (Some(Value::Array(acc)), Value::Array(items)) => acc.extend(items),
        (_, value) => {
            map.insert(key, value);
        }
    }
}

/// Whether `content-type` says JSON.
fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, "content-type").is_some_and(|t| {
        t.trim_start()
            .get(..16)
            .is_some_and(|p| p.eq_ignore_ascii_case("application/json"))
    })
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

#[cfg(test)]
mod tests {
    // Tests assert on known-good fixtures; a panic is the failure report.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

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

    #[test]
    fn vendor_values_merge() {
        let mut m = Map::new();
        merge_vendor_value(&mut m, "reasoning_content".into(), Value::from("a"));
        merge_vendor_value(&mut m, "reasoning_content".into(), Value::from("b"));
        merge_vendor_value(&mut m, "reasoning_content".into(), Value::Null);
        merge_vendor_value(&mut m, "details".into(), serde_json::json!([1]));
        merge_vendor_value(&mut m, "details".into(), serde_json::json!([2]));
        merge_vendor_value(&mut m, "n".into(), Value::from(1));
        merge_vendor_value(&mut m, "n".into(), Value::from(2));
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"reasoning_content": "ab", "details": [1, 2], "n": 2})
        );
    }
}
