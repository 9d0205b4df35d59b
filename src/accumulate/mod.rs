//! `ChunkAccumulator`: folds the chunks of a stream into the completion a non-streamed request
//! would have returned.
//!
//! The rules, for every level of a completion:
//!
//! * **Fragments** (everything inside a choice's `delta`, and each tool-call fragment): text
//!   (`content`, `refusal`, tool-call `arguments` and custom `input`, audio `data` and
//!   `transcript`, vendor strings such as `reasoning_content`) is concatenated; arrays
//!   (`annotations`, `logprobs.content`, vendor arrays such as `reasoning_details`) are
//!   appended; vendor objects are merged key by key by the same rules; any other vendor
//!   value (number, bool) keeps its last value; `null` never replaces a value.
//!   Identifiers (`role`, tool-call `id`, audio `id`) keep their first non-empty value; a
//!   name (function or custom tool) keeps its first value, a later different value is
//!   appended (a name streamed in pieces) and a repeat of the whole name is ignored.
//! * **Metadata** (the keys of a chunk and of a choice outside its `delta`, such as Azure's
//!   `content_filter_results`, Groq's `x_groq` or Perplexity's `citations`): every chunk
//!   describes the same response, so objects are merged key by key and any other value,
//!   strings and arrays included, keeps its last non-`null` value (Azure repeats
//!   `"severity": "safe"` on every chunk; Perplexity repeats its whole `citations` array).
//!   `id`, `model`, `created`, `system_fingerprint` and `service_tier` keep their first
//!   non-empty value (Azure's first chunk has `"id": ""`), `usage` its last one, and
//!   `moderation` merges its `input` and `output`.
//! * **Indices**: choices are found by `index` and tool calls by `index`, else by a non-empty
//!   `id`, else as the continuation of the choice's last call, each through a map. Choices
//!   come out sorted by index; tool calls with an index sorted by it, then those without one
//!   in the order they came. A chunk that would make more than [`MAX_CHOICES`] distinct
//!   choices or more than [`MAX_TOOL_CALLS`] distinct tool calls in the stream is refused
//!   whole, and the accumulator stays as it was.
//! * **Tool-call types**: `"type": "custom"` makes a custom tool call, `function` or no type a
//!   function call, any other type an [`Other`](ChatCompletionMessageToolCalls::Other) call
//!   with its fields merged as fragments.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{Error, StreamError, StreamErrorKind};
use crate::think::ThinkTags;
use crate::types::{
    metadata_from_value, ChatCompletionChoice, ChatCompletionChoiceLogprobs,
    ChatCompletionMessageCustomToolCall, ChatCompletionMessageToolCall,
    ChatCompletionMessageToolCallChunk, ChatCompletionMessageToolCalls, ChatCompletionModeration,
    ChatCompletionResponseMessage, ChatCompletionResponseMessageAnnotation,
    ChatCompletionResponseMessageAudio, ChatCompletionStreamChoice,
    ChatCompletionStreamResponseDeltaAudio, CompletionUsage, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, CustomToolCall, FinishReason, FunctionCall,
    ResponseContent, Role, ServiceTier, ToolType, MAX_CHOICES, MAX_TOOL_CALLS,
};
use crate::util::ByIndex;

/// Folds stream chunks into one completion, for code that looks at each chunk as it
/// arrives and wants the whole answer at the end.
///
/// It is what [`ChatCompletionStream::collect_completion`](crate::ChatCompletionStream::collect_completion)
/// uses. For any completion a server could send whole, the same completion streamed and
/// split at any points accumulates to an equal [`CreateChatCompletionResponse`]: content,
/// refusal, reasoning text, tool calls of every type, audio, annotations, logprobs, usage,
/// moderation, each choice's `finish_reason` and the vendor keys at every level. How chunks
/// are combined is described below.
///
/// [`finish`](Self::finish) can be called at any time, also after a stream failed: it
/// returns the completion the chunks added so far make up (choices without a
/// `finish_reason` are the ones that were cut off).
///
/// # How chunks combine
///
/// * Inside a choice's `delta` and each tool-call fragment, text is concatenated (content,
///   refusal, arguments, custom input, audio data and transcript, vendor strings such as
///   `reasoning_content`), arrays are appended (annotations, logprobs, vendor arrays),
///   vendor objects merge key by key by the same rules, other vendor values keep their last
///   value, and `null` never replaces a value. Ids and the role keep their first non-empty
///   value; a tool name keeps its first value (a different later value is appended, a repeat
///   ignored).
/// * The keys of a chunk and of a choice outside its `delta` describe the whole response:
///   objects merge key by key, other values (strings and arrays too) keep their last
///   non-`null` value. `id`, `model`, `created`, `system_fingerprint` and `service_tier`
///   keep their first non-empty value, `usage` its last one.
/// * Choices are matched by `index`, tool calls by `index`, else by `id`, else continue the
///   choice's last call. A `"type": "custom"` fragment makes a custom tool call.
/// * A stream may hold at most [`MAX_CHOICES`] distinct choices and [`MAX_TOOL_CALLS`]
///   distinct tool calls; [`add`](Self::add) refuses a chunk past either limit with an
///   [`Error::Stream`] of kind [`StreamErrorKind::TooLarge`] and leaves the accumulator as
///   it was.
///
/// # Examples
///
/// ```
/// use sync_openai::stream::ChunkAccumulator;
/// use sync_openai::ChatCompletionStream;
///
/// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
/// let mut acc = ChunkAccumulator::new();
/// for chunk in ChatCompletionStream::from_reader(body.as_bytes()) {
///     let chunk = chunk?;
///     // ... print chunk.choices[0].delta.content here ...
///     acc.add(chunk)?;
/// }
/// let completion = acc.finish();
/// assert_eq!(completion.choices[0].message.content.as_deref(), Some("Hi"));
/// # Ok::<(), sync_openai::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct ChunkAccumulator {
    id: String,
    model: String,
    created: u64,
    system_fingerprint: Option<String>,
    service_tier: Option<ServiceTier>,
    usage: Option<CompletionUsage>,
    moderation: Option<ChatCompletionModeration>,
    extra: Map<String, Value>,
    choices: ByIndex<ChoiceAccumulator>,
    /// Distinct tool calls in all choices, for the [`MAX_TOOL_CALLS`] limit.
    tool_calls: usize,
    /// Set by [`think_tags_as_reasoning`](Self::think_tags_as_reasoning).
    think: Option<ThinkTags>,
}

#[derive(Debug, Default, Clone)]
struct ChoiceAccumulator {
    role: Option<Role>,
    content: Option<ResponseContent>,
    refusal: Option<String>,
    tool_calls: ToolCalls,
    function_call: Option<FunctionCall>,
    audio: Option<ChatCompletionResponseMessageAudio>,
    annotations: Option<Vec<ChatCompletionResponseMessageAnnotation>>,
    logprobs: Option<ChatCompletionChoiceLogprobs>,
    finish_reason: Option<FinishReason>,
    message_extra: Map<String, Value>,
    choice_extra: Map<String, Value>,
}

/// The tool calls of one choice, in the order they first came, found through maps.
#[derive(Debug, Default, Clone)]
struct ToolCalls {
    /// A delta had a `tool_calls` array (even an empty one).
    seen: bool,
    calls: Vec<ToolCallAccumulator>,
    by_index: ByIndex<usize>,
    by_id: HashMap<String, usize>,
}

#[derive(Debug, Default, Clone)]
struct ToolCallAccumulator {
    index: Option<u32>,
    /// `None` until a fragment has an `id` key.
    id: Option<String>,
    kind: Option<ToolType>,
    name: String,
    /// Function arguments or custom input.
    arguments: String,
    extra: Map<String, Value>,
}

/// Where a tool-call fragment goes among a choice's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Existing(usize),
    New,
}

impl ToolCalls {
    /// The slot of `call`, without changing anything.
    fn slot(&self, call: &ChatCompletionMessageToolCallChunk) -> Slot {
        let found = match (call.index, call.id.as_deref().filter(|id| !id.is_empty())) {
            (Some(index), _) => self.by_index.get(&index).copied(),
            (None, Some(id)) => self.by_id.get(id).copied(),
            (None, None) => self.calls.len().checked_sub(1),
        };
        found.map_or(Slot::New, Slot::Existing)
    }

    fn add(&mut self, call: ChatCompletionMessageToolCallChunk) {
        let at = match self.slot(&call) {
            Slot::Existing(at) => at,
            Slot::New => {
                let at = self.calls.len();
                if let Some(index) = call.index {
                    self.by_index.insert(index, at);
                }
                self.calls.push(ToolCallAccumulator {
                    index: call.index,
                    ..ToolCallAccumulator::default()
                });
                at
            }
        };
        let Some(acc) = self.calls.get_mut(at) else {
            return;
        };
        if let Some(id) = call.id {
            if !id.is_empty() && !self.by_id.contains_key(&id) {
                self.by_id.insert(id.clone(), at);
            }
            match &acc.id {
                Some(old) if !old.is_empty() => {}
                _ => acc.id = Some(id),
            }
        }
        if call.r#type.is_some() {
            acc.kind = call.r#type;
        }
        if let Some(function) = call.function {
            merge_name(&mut acc.name, function.name);
            if let Some(arguments) = function.arguments {
                merge_arguments(&mut acc.arguments, &arguments);
            }
        }
        if let Some(custom) = call.custom {
            merge_name(&mut acc.name, custom.name);
            if let Some(input) = custom.input {
                acc.arguments.push_str(&input);
            }
        }
        for (key, value) in call.extra {
            merge_fragment(&mut acc.extra, key, value);
        }
    }

    fn finish(self) -> Option<Vec<ChatCompletionMessageToolCalls>> {
        if !self.seen && self.calls.is_empty() {
            return None;
        }
        let (mut indexed, unindexed): (Vec<_>, Vec<_>) =
            self.calls.into_iter().partition(|c| c.index.is_some());
        indexed.sort_by_key(|c| c.index);
        Some(
            indexed
                .into_iter()
                .chain(unindexed)
                .map(ToolCallAccumulator::finish)
                .collect(),
        )
    }
}

impl ToolCallAccumulator {
    fn finish(self) -> ChatCompletionMessageToolCalls {
        match self.kind {
            None | Some(ToolType::Function) => {
                ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
                    id: self.id.unwrap_or_default(),
                    function: FunctionCall {
                        name: self.name,
                        arguments: self.arguments,
                    },
                    extra: self.extra,
                })
            }
            Some(ToolType::Custom) => {
                ChatCompletionMessageToolCalls::Custom(ChatCompletionMessageCustomToolCall {
                    id: self.id.unwrap_or_default(),
                    custom: CustomToolCall {
                        name: self.name,
                        input: self.arguments,
                    },
                    extra: self.extra,
                })
            }
            Some(ToolType::Other(kind)) => {
                // A kind this crate does not know: its body is in the merged vendor keys.
                let mut object = self.extra;
                if let Some(id) = self.id {
                    object.insert("id".to_owned(), Value::String(id));
                }
                object.insert("type".to_owned(), Value::String(kind));
                ChatCompletionMessageToolCalls::Other(Value::Object(object))
            }
        }
    }
}

/// A name fragment: the first value is kept, a later different one appended (a name
/// streamed in pieces), a repeat of the whole name ignored (servers that resend it).
fn merge_name(acc: &mut String, name: Option<String>) {
    match name.filter(|n| !n.is_empty()) {
        Some(name) if acc.is_empty() => *acc = name,
        Some(name) if name != *acc => acc.push_str(&name),
        _ => {}
    }
}

/// A function's arguments fragment: appended, but for two shapes of a whole object sent
/// again. When what came so far is already one whole JSON object and the fragment starts
/// with `{`:
///
/// * after `{}`, the fragment starts the real arguments (gateways relaying Anthropic's
///   tool-use start, litellm #4537, send `{}` first): it replaces the `{}`;
/// * a fragment that is the same object again (GPT-5 models resend the complete arguments
///   after their fragments, or send them whole in every delta: open-webui #22235) is
///   dropped, whatever its whitespace or key order.
///
/// Anything else is appended, so fragments of one object always join to it: a proper
/// start of a JSON object is never a whole object, so neither rule can fire before its
/// last `}`. A different whole object is appended too, as received: which of the two a
/// server meant cannot be known (litellm #40582 found both resends and distinct requests).
fn merge_arguments(acc: &mut String, fragment: &str) {
    if acc.trim_end().ends_with('}') && fragment.trim_start().starts_with('{') {
        if let Ok(Value::Object(whole)) = serde_json::from_str::<Value>(acc) {
            if whole.is_empty() {
                fragment.clone_into(acc);
                return;
            }
            let again = serde_json::from_str::<Value>(fragment);
            if matches!(again, Ok(Value::Object(again)) if again == whole) {
                return;
            }
        }
    }
    acc.push_str(fragment);
}

fn stream_limit(message: String) -> Error {
    Error::Stream(Box::new(StreamError::new(
        StreamErrorKind::TooLarge,
        message,
    )))
}

impl ChunkAccumulator {
    /// An empty accumulator.
    pub fn new() -> ChunkAccumulator {
        ChunkAccumulator::default()
    }

    /// Moves `<think>…</think>` at the start of each choice's content into its reasoning
    /// (`reasoning_content`, what [`reasoning()`](crate::types::ChatCompletionResponseMessage::reasoning)
    /// reads), leaving the answer without it, wherever the chunks cut the tags.
    ///
    /// For DeepSeek-R1 and its distills served with reasoning parsing off (Ollama, llama.cpp):
    /// only a `<think>` that opens the content (after whitespace) counts, and the whitespace
    /// between `</think>` and the answer is dropped. Chunks that already went through a
    /// stream with the same setting come through unchanged. Set it before adding chunks.
    ///
    /// ```
    /// use sync_openai::stream::ChunkAccumulator;
    /// use sync_openai::ChatCompletionStream;
    ///
    /// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"<think>2+2</thi\"}}]}\n\n\
    ///             data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"nk>\\n\\n4\"},\"finish_reason\":\"stop\"}]}\n\n";
    /// let mut acc = ChunkAccumulator::new().think_tags_as_reasoning(true);
    /// for chunk in ChatCompletionStream::from_reader(body.as_bytes()) {
    ///     acc.add(chunk?)?;
    /// }
    /// let message = &acc.finish().choices[0].message;
    /// assert_eq!(message.content.as_deref(), Some("4"));
    /// assert_eq!(message.reasoning(), Some("2+2"));
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    ///
    /// Defaults to `false`: content is kept as received.
    pub fn think_tags_as_reasoning(mut self, on: bool) -> ChunkAccumulator {
        self.think = on.then(ThinkTags::default);
        self
    }

    /// Adds the next chunk of the stream.
    ///
    /// # Errors
    ///
    /// An [`Error::Stream`] of kind [`StreamErrorKind::TooLarge`] when the chunk would make
    /// more than [`MAX_CHOICES`] distinct choices or [`MAX_TOOL_CALLS`] distinct tool calls;
    /// the chunk is then not added at all, and [`finish`](Self::finish) still returns what
    /// came before it.
    pub fn add(&mut self, mut chunk: CreateChatCompletionStreamResponse) -> Result<(), Error> {
        self.check_limits(&chunk)?;
        if let Some(think) = &mut self.think {
            think.rewrite(&mut chunk);
        }
        self.fold(chunk);
        Ok(())
    }

    /// Folds a chunk within the limits into what the accumulator holds.
    fn fold(&mut self, chunk: CreateChatCompletionStreamResponse) {
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
            if let Some(fp) = chunk.system_fingerprint {
                self.system_fingerprint = Some(fp);
            }
        }
        if self.service_tier.is_none() {
            self.service_tier = chunk.service_tier;
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if let Some(moderation) = chunk.moderation {
            let acc = self
                .moderation
                .get_or_insert_with(ChatCompletionModeration::default);
            if moderation.input.is_some() {
                acc.input = moderation.input;
            }
            if moderation.output.is_some() {
                acc.output = moderation.output;
            }
            for (key, value) in moderation.extra {
                merge_metadata(&mut acc.extra, key, value);
            }
        }
        for (key, value) in chunk.extra {
            merge_metadata(&mut self.extra, key, value);
        }
        for choice in chunk.choices {
            if let Some(acc) = self.choices.entry_or_default(choice.index) {
                self.tool_calls += acc.add(choice);
            }
        }
    }

    /// Refuses a chunk that would pass the limits on distinct choices and tool calls.
    fn check_limits(&self, chunk: &CreateChatCompletionStreamResponse) -> Result<(), Error> {
        /// What makes a fragment of this chunk open a call, within its choice.
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        enum Opens<'a> {
            Index(u32),
            Id(&'a str),
            // No index and no id: it opens a call only when its choice has none yet.
            Plain,
        }
        let mut new_choices = Vec::new();
        let mut opened = Vec::new();
        for choice in &chunk.choices {
            let known = self.choices.get(&choice.index);
            if known.is_none() {
                new_choices.push(choice.index);
            }
            for call in choice.delta.tool_calls.iter().flatten() {
                let slot = known.map_or(Slot::New, |c| c.tool_calls.slot(call));
                if slot != Slot::New {
                    continue;
                }
                let id = call.id.as_deref().filter(|id| !id.is_empty());
                let opens = match (call.index, id) {
                    (Some(index), _) => Opens::Index(index),
                    (None, Some(id)) => Opens::Id(id),
                    (None, None) => Opens::Plain,
                };
                opened.push((choice.index, opens));
            }
        }
        // Distinct ones only: sorted, then repeats dropped.
        new_choices.sort_unstable();
        new_choices.dedup();
        opened.sort_unstable();
        opened.dedup();
        let new_calls = opened.len();
        if self.choices.len() + new_choices.len() > MAX_CHOICES {
            return Err(stream_limit(format!(
                "the stream has more than {MAX_CHOICES} distinct choices (the API's limit for n); a chunk with choice index {} was refused",
                new_choices.last().copied().unwrap_or_default()
            )));
        }
        if self.tool_calls + new_calls > MAX_TOOL_CALLS {
            return Err(stream_limit(format!(
                "the stream has more than {MAX_TOOL_CALLS} distinct tool calls; a chunk was refused"
            )));
        }
        Ok(())
    }

    /// The completion the chunks added so far make up.
    ///
    /// Works at any time, also after a stream failed or [`add`](Self::add) refused a chunk.
    pub fn finish(mut self) -> CreateChatCompletionResponse {
        if let Some(held) = self.think.as_mut().and_then(ThinkTags::flush) {
            self.fold(held);
        }
        let choices = std::mem::take(&mut self.choices)
            .into_iter()
            .map(|(index, choice)| choice.finish(index))
            .collect();
        // Stored completions have typed metadata; a stream carries it as a vendor key.
        let metadata = match self.extra.remove("metadata") {
            Some(value) => match metadata_from_value(value) {
                Ok(metadata) => metadata,
                Err(value) => {
                    self.extra.insert("metadata".to_owned(), value);
                    None
                }
            },
            None => None,
        };
        CreateChatCompletionResponse {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage.or_else(|| vendor_usage(&self.extra)),
            service_tier: self.service_tier,
            system_fingerprint: self.system_fingerprint,
            metadata,
            moderation: self.moderation,
            extra: self.extra,
        }
    }
}

/// What one choice holds so far, as the typed stream events (`events.rs`) read it after
/// each chunk: they are the growth of these values, so the events follow these merge rules.
#[cfg(feature = "events")]
pub(crate) struct ChoiceSoFar<'a> {
    pub(crate) content: Option<&'a str>,
    pub(crate) refusal: Option<&'a str>,
    pub(crate) reasoning: Option<&'a str>,
    pub(crate) finish_reason: Option<&'a FinishReason>,
    /// The function and custom tool calls, in the order they first came.
    pub(crate) tool_calls: Vec<ToolCallSoFar<'a>>,
}

/// One tool call so far; see [`ChoiceSoFar`].
#[cfg(feature = "events")]
pub(crate) struct ToolCallSoFar<'a> {
    /// The call's place among the choice's calls in the order they first came (of every
    /// type; for a stream whose calls come in index order, the place in the finished
    /// message).
    pub(crate) order: usize,
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    /// Function arguments or custom input.
    pub(crate) arguments: &'a str,
    pub(crate) custom: bool,
}

#[cfg(feature = "events")]
impl ChunkAccumulator {
    /// What choice `index` holds so far; `None` before any chunk had it.
    pub(crate) fn choice_so_far(&self, index: u32) -> Option<ChoiceSoFar<'_>> {
        let choice = self.choices.get(&index)?;
        let tool_calls = (choice.tool_calls.calls.iter().enumerate())
            .filter(|(_, c)| matches!(c.kind, None | Some(ToolType::Function | ToolType::Custom)))
            .map(|(order, call)| ToolCallSoFar {
                order,
                id: call.id.as_deref().unwrap_or_default(),
                name: &call.name,
                arguments: &call.arguments,
                custom: call.kind == Some(ToolType::Custom),
            })
            .collect();
        Some(ChoiceSoFar {
            content: choice.content.as_ref().map(ResponseContent::as_str),
            refusal: choice.refusal.as_deref(),
            reasoning: crate::types::reasoning_of(&choice.message_extra),
            finish_reason: choice.finish_reason.as_ref(),
            tool_calls,
        })
    }

    /// The indices of the choices so far.
    pub(crate) fn choice_indices(&self) -> impl Iterator<Item = u32> + '_ {
        self.choices.keys().copied()
    }

    /// The last usage so far.
    pub(crate) fn usage(&self) -> Option<&CompletionUsage> {
        self.usage.as_ref()
    }
}

impl ChoiceAccumulator {
    /// Adds one choice of a chunk; returns how many new tool calls it opened.
    fn add(&mut self, choice: ChatCompletionStreamChoice) -> usize {
        let delta = choice.delta;
        if self.role.is_none() {
            self.role = delta.role;
        }
        if let Some(content) = delta.content {
            match &mut self.content {
                Some(acc) => acc.append(content),
                None => self.content = Some(content),
            }
        }
        if let Some(text) = delta.refusal {
            self.refusal.get_or_insert_with(String::new).push_str(&text);
        }
        let opened = self.add_tool_calls(delta.tool_calls);
        if let Some(function) = delta.function_call {
            let acc = self.function_call.get_or_insert_with(FunctionCall::default);
            merge_name(&mut acc.name, function.name);
            if let Some(arguments) = function.arguments {
                merge_arguments(&mut acc.arguments, &arguments);
            }
        }
        if let Some(audio) = delta.audio {
            self.add_audio(audio);
        }
        if let Some(annotations) = delta.annotations {
            self.annotations
                .get_or_insert_with(Vec::new)
                .extend(annotations);
        }
        for (key, value) in delta.extra {
            merge_fragment(&mut self.message_extra, key, value);
        }
        if let Some(logprobs) = choice.logprobs {
            self.add_logprobs(logprobs);
        }
        if choice.finish_reason.is_some() {
            self.finish_reason = choice.finish_reason;
        }
        for (key, value) in choice.extra {
            merge_metadata(&mut self.choice_extra, key, value);
        }
        opened
    }

    /// Adds a delta's tool-call fragments; returns how many new calls they opened.
    fn add_tool_calls(&mut self, calls: Option<Vec<ChatCompletionMessageToolCallChunk>>) -> usize {
        let Some(calls) = calls else {
            return 0;
        };
        let before = self.tool_calls.calls.len();
        self.tool_calls.seen = true;
        for call in calls {
            self.tool_calls.add(call);
        }
        self.tool_calls.calls.len() - before
    }

    /// Audio: the first non-empty id, the last `expires_at`, data and transcript joined.
    fn add_audio(&mut self, audio: ChatCompletionStreamResponseDeltaAudio) {
        let acc = self
            .audio
            .get_or_insert_with(ChatCompletionResponseMessageAudio::default);
        if let Some(id) = audio.id.filter(|_| acc.id.is_empty()) {
            acc.id = id;
        }
        if let Some(expires_at) = audio.expires_at {
            acc.expires_at = expires_at;
        }
        if let Some(data) = audio.data {
            acc.data.push_str(&data);
        }
        if let Some(transcript) = audio.transcript {
            acc.transcript.push_str(&transcript);
        }
    }

    fn add_logprobs(&mut self, logprobs: ChatCompletionChoiceLogprobs) {
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

    fn finish(self, index: u32) -> ChatCompletionChoice {
        ChatCompletionChoice {
            index,
            message: ChatCompletionResponseMessage {
                // Some servers never send a role in a stream; their whole answers say
                // `assistant`.
                role: Some(self.role.unwrap_or(Role::Assistant)),
                content: self.content,
                refusal: self.refusal,
                tool_calls: self.tool_calls.finish(),
                annotations: self.annotations,
                function_call: self.function_call,
                audio: self.audio,
                extra: self.message_extra,
            },
            finish_reason: self.finish_reason,
            logprobs: self.logprobs,
            extra: self.choice_extra,
        }
    }
}

/// Usage a server reports only under its own key: Groq's `x_groq.usage` on the last chunk.
fn vendor_usage(extra: &Map<String, Value>) -> Option<CompletionUsage> {
    let usage = extra.get("x_groq")?.get("usage")?;
    let counts = ["prompt_tokens", "completion_tokens", "total_tokens"];
    if !counts.iter().any(|key| usage.get(*key).is_some()) {
        return None;
    }
    // Through its text, as every chunk's usage is decoded: one set of usage decoders in the
    // build instead of a second one for a `Value`.
    serde_json::from_slice(&serde_json::to_vec(usage).ok()?).ok()
}

/// Merges a vendor key of a fragment (a `delta` or a tool-call fragment): strings
/// concatenate, arrays append, objects merge key by key by the same rules, `null` never
/// replaces a value, anything else keeps its last value.
pub(crate) fn merge_fragment(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (Some(_), Value::Null) => {}
        (Some(Value::String(acc)), Value::String(s)) => acc.push_str(&s),
        (Some(Value::Array(acc)), Value::Array(items)) => acc.extend(items),
        (Some(Value::Object(acc)), Value::Object(fields)) => {
            for (k, v) in fields {
                merge_fragment(acc, k, v);
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}

/// Merges a vendor key of a chunk or a choice (metadata about the whole response): objects
/// merge key by key by the same rules, `null` never replaces a value, anything else
/// (strings and arrays too) keeps its last value.
pub(crate) fn merge_metadata(map: &mut Map<String, Value>, key: String, value: Value) {
    match (map.get_mut(&key), value) {
        (Some(_), Value::Null) => {}
        (Some(Value::Object(acc)), Value::Object(fields)) => {
            for (k, v) in fields {
                merge_metadata(acc, k, v);
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}

// Tests assert on known-good fixtures; a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests;
