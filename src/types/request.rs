//! The chat completion request and its option types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::enums::{
    AudioFormat, Modality, ModerationMode, PromptCacheMode, PromptCacheRetention, PromptCacheTtl,
    ReasoningEffort, ServiceTier, Verbosity, Voice, WebSearchContextSize,
};
use super::message::{ChatCompletionRequestMessage, ChatCompletionRequestMessageContent};
use super::tool::{
    ChatCompletionFunctionCallOption, ChatCompletionFunctions, ChatCompletionTool,
    ChatCompletionToolChoiceOption,
};

/// A request to create a model response for the given chat conversation.
///
/// The struct is its own builder: [`new`](Self::new) takes the two required fields, and there
/// is one consuming setter per optional field, named as the field. Unset options are left out
/// of the JSON (never sent as `null`). [`extra`](Self::extra()) adds any top-level field a
/// compatible server understands.
///
/// # Examples
///
/// ```
/// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
///
/// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![
///         Message::system("Be brief."),
///         Message::user("Hello"),
///     ])
///     .temperature(0.2)
///     .max_completion_tokens(64)
///     .extra("top_k", 40);
/// let json = serde_json::to_value(&req).unwrap();
/// assert_eq!(json["max_completion_tokens"], 64);
/// assert_eq!(json["top_k"], 40);
/// assert!(json.get("stream").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateChatCompletionRequest {
    /// Model ID used to generate the response, like `gpt-4o` or `o3`.
    pub model: String,
    /// A list of messages comprising the conversation so far.
    pub messages: Vec<ChatCompletionRequestMessage>,
    /// Set of 16 key-value pairs that can be attached to an object. Keys are strings with a
    /// maximum length of 64 characters, values strings with a maximum length of 512.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// An integer between 0 and 20 specifying the maximum number of most likely tokens to return
    /// at each token position. `logprobs` must be `true` if this is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// What sampling temperature to use, between 0 and 2. Higher values like 0.8 make the
    /// output more random, lower values like 0.2 more focused and deterministic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling: the model considers the tokens with `top_p` probability mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// A stable identifier for your end-users (deprecated by OpenAI: use `safety_identifier`
    /// and `prompt_cache_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A stable identifier used to help detect users of your application that may be violating
    /// OpenAI's usage policies (at most 64 characters; hash usernames or emails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Used by OpenAI to cache responses for similar requests to optimize your cache hit rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// The retention policy for the prompt cache (deprecated by OpenAI: use
    /// `prompt_cache_options.ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_retention: Option<PromptCacheRetention>,
    /// Options for prompt caching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_options: Option<PromptCacheOptionsParam>,
    /// Specifies the processing type used for serving the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<ServiceTier>,
    /// Output types that you would like the model to generate, e.g. `["text", "audio"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<Modality>>,
    /// Constrains the verbosity of the model's response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<Verbosity>,
    /// Constrains effort on reasoning for reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// An upper bound for the number of tokens that can be generated for a completion,
    /// including visible output tokens and reasoning tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Number between -2.0 and 2.0. Positive values penalize new tokens based on their existing
    /// frequency in the text so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Number between -2.0 and 2.0. Positive values penalize new tokens based on whether they
    /// appear in the text so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Options of the web search tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<WebSearchOptions>,
    /// An object specifying the format that the model must output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Parameters for audio output. Required when audio output is requested with
    /// `modalities: ["audio"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<ChatCompletionAudio>,
    /// Whether or not to store the output of this chat completion request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Configuration for running moderation on the request input and generated output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationParam>,
    /// If set to true, the model response data will be streamed to the client as it is
    /// generated using server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Up to 4 sequences where the API will stop generating further tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopConfiguration>,
    /// Maps tokens (by their token ID in the tokenizer) to a bias value from -100 to 100 added
    /// to the logits before sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, i64>>,
    /// Whether to return log probabilities of the output tokens or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// The maximum number of tokens that can be generated in the chat completion (deprecated by
    /// OpenAI in favor of `max_completion_tokens`; not compatible with o-series models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// How many chat completion choices to generate for each input message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Configuration for a Predicted Output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<PredictionContent>,
    /// Best-effort deterministic sampling seed (deprecated by OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Options for streaming response. Only set this when you set `stream: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<ChatCompletionStreamOptions>,
    /// A list of tools the model may call: function tools or custom tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ChatCompletionTool>>,
    /// Controls which (if any) tool is called by the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ChatCompletionToolChoiceOption>,
    /// Whether to enable parallel function calling during tool use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Controls which (if any) function is called by the model (deprecated by OpenAI in favor
    /// of `tool_choice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<ChatCompletionFunctionCallOption>,
    /// A list of functions the model may generate JSON inputs for (deprecated by OpenAI in
    /// favor of `tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<ChatCompletionFunctions>>,
    /// Top-level fields this crate does not model (e.g. `top_k` for a compatible server), sent
    /// as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Generates consuming setters: `into` ones take `impl Into<T>`, `plain` ones take `T` itself
/// (so integer and float literals infer).
macro_rules! setters {
    ($( $kind:ident $name:ident: $ty:ty, $what:literal; )+) => {
        $( setters!(@one $kind $name: $ty, $what); )+
    };
    (@one into $name:ident: $ty:ty, $what:literal) => {
        #[doc = concat!("Sets [`", stringify!($name), "`](#structfield.", stringify!($name), "): ", $what, ". Defaults to unset.")]
        pub fn $name(mut self, $name: impl Into<$ty>) -> Self {
            self.$name = Some($name.into());
            self
        }
    };
    (@one plain $name:ident: $ty:ty, $what:literal) => {
        #[doc = concat!("Sets [`", stringify!($name), "`](#structfield.", stringify!($name), "): ", $what, ". Defaults to unset.")]
        pub fn $name(mut self, $name: $ty) -> Self {
            self.$name = Some($name);
            self
        }
    };
}

impl CreateChatCompletionRequest {
    /// A request for `model` with the conversation `messages` and every option unset.
    pub fn new(
        model: impl Into<String>,
        messages: impl Into<Vec<ChatCompletionRequestMessage>>,
    ) -> Self {
        Self {
            model: model.into(),
            messages: messages.into(),
            metadata: None,
            top_logprobs: None,
            temperature: None,
            top_p: None,
            user: None,
            safety_identifier: None,
            prompt_cache_key: None,
            prompt_cache_retention: None,
            prompt_cache_options: None,
            service_tier: None,
            modalities: None,
            verbosity: None,
            reasoning_effort: None,
            max_completion_tokens: None,
            frequency_penalty: None,
            presence_penalty: None,
            web_search_options: None,
            response_format: None,
            audio: None,
            store: None,
            moderation: None,
            stream: None,
            stop: None,
            logit_bias: None,
            logprobs: None,
            max_tokens: None,
            n: None,
            prediction: None,
            seed: None,
            stream_options: None,
            tools: None,
            tool_choice: None,
            parallel_tool_calls: None,
            function_call: None,
            functions: None,
            extra: Map::new(),
        }
    }

    /// Appends one message to [`messages`](#structfield.messages).
    pub fn message(mut self, message: impl Into<ChatCompletionRequestMessage>) -> Self {
        self.messages.push(message.into());
        self
    }

    /// Sets [`metadata`](#structfield.metadata) from key-value pairs, replacing any set before.
    /// Defaults to unset.
    pub fn metadata<K, V>(mut self, metadata: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.metadata = Some(
            metadata
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets [`logit_bias`](#structfield.logit_bias) from `(token id, bias)` pairs, replacing any
    /// set before. Defaults to unset.
    pub fn logit_bias<K: Into<String>>(mut self, bias: impl IntoIterator<Item = (K, i64)>) -> Self {
        self.logit_bias = Some(bias.into_iter().map(|(k, v)| (k.into(), v)).collect());
        self
    }

    /// Adds a top-level field this crate does not model, sent as it is (e.g.
    /// `.extra("top_k", 40)` for a compatible server). A key that is also a modelled field
    /// produces a duplicate key: use the setter instead. Defaults to none.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    setters! {
        plain top_logprobs: u32, "the number of most likely tokens to return at each position (0 to 20)";
        plain temperature: f64, "the sampling temperature, between 0 and 2";
        plain top_p: f64, "the nucleus sampling probability mass";
        into user: String, "a stable end-user identifier (deprecated by OpenAI)";
        into safety_identifier: String, "a stable identifier for abuse detection";
        into prompt_cache_key: String, "the prompt cache bucketing key";
        into prompt_cache_retention: PromptCacheRetention, "the prompt cache retention (deprecated by OpenAI)";
        into prompt_cache_options: PromptCacheOptionsParam, "the prompt caching options";
        into service_tier: ServiceTier, "the processing type used for serving the request";
        into modalities: Vec<Modality>, "the output types to generate";
        into verbosity: Verbosity, "the verbosity of the response";
        into reasoning_effort: ReasoningEffort, "the reasoning effort";
        plain max_completion_tokens: u32, "the upper bound of generated tokens, reasoning included";
        plain frequency_penalty: f64, "the frequency penalty, between -2.0 and 2.0";
        plain presence_penalty: f64, "the presence penalty, between -2.0 and 2.0";
        into web_search_options: WebSearchOptions, "the web search options";
        into response_format: ResponseFormat, "the output format";
        into audio: ChatCompletionAudio, "the audio output parameters";
        plain store: bool, "whether to store the completion";
        into moderation: ModerationParam, "the moderation configuration";
        plain stream: bool, "whether to stream (the streaming call sets it itself)";
        into stop: StopConfiguration, "up to 4 stop sequences";
        plain logprobs: bool, "whether to return log probabilities";
        plain max_tokens: u32, "the maximum number of generated tokens (deprecated by OpenAI)";
        plain n: u32, "how many choices to generate";
        into prediction: PredictionContent, "the Predicted Output configuration";
        plain seed: i64, "the sampling seed (deprecated by OpenAI)";
        into stream_options: ChatCompletionStreamOptions, "the streaming options";
        into tools: Vec<ChatCompletionTool>, "the tools the model may call";
        into tool_choice: ChatCompletionToolChoiceOption, "which tool the model calls";
        plain parallel_tool_calls: bool, "whether to allow parallel tool calls";
        into function_call: ChatCompletionFunctionCallOption, "which function the model calls (deprecated by OpenAI)";
        into functions: Vec<ChatCompletionFunctions>, "the functions the model may call (deprecated by OpenAI)";
    }
}

/// An object specifying the format that the model must output, tagged by `type`.
///
/// `json_schema` enables Structured Outputs, which ensures the model will match your supplied
/// JSON schema; `json_object` enables the older JSON mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Default response format. Used to generate text responses.
    Text,
    /// JSON object response format. The model will not generate JSON without a system or user
    /// message instructing it to do so.
    JsonObject,
    /// JSON Schema response format. Used to generate structured JSON responses.
    JsonSchema {
        /// Structured Outputs configuration options, including a JSON Schema.
        json_schema: ResponseFormatJsonSchema,
    },
}

impl ResponseFormat {
    /// `{"type": "text"}`.
    pub fn text() -> Self {
        Self::Text
    }

    /// `{"type": "json_object"}`.
    pub fn json_object() -> Self {
        Self::JsonObject
    }

    /// `{"type": "json_schema", "json_schema": {"name": …, "schema": …, "strict": …}}`.
    pub fn json_schema(name: impl Into<String>, schema: Value, strict: bool) -> Self {
        Self::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                name: name.into(),
                description: None,
                schema: Some(schema),
                strict: Some(strict),
            },
        }
    }
}

impl From<ResponseFormatJsonSchema> for ResponseFormat {
    fn from(json_schema: ResponseFormatJsonSchema) -> Self {
        Self::JsonSchema { json_schema }
    }
}

/// Structured Outputs configuration options, including a JSON Schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseFormatJsonSchema {
    /// The name of the response format. Must be a-z, A-Z, 0-9, or contain underscores and
    /// dashes, with a maximum length of 64.
    pub name: String,
    /// A description of what the response format is for, used by the model to determine how to
    /// respond in the format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The schema for the response format, described as a JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Whether to enable strict schema adherence when generating the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// Up to 4 sequences where the API will stop generating further tokens: one string or a list.
///
/// The returned text will not contain the stop sequence. Not supported with the latest
/// reasoning models `o3` and `o4-mini`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StopConfiguration {
    /// A single stop sequence.
    String(String),
    /// Up to 4 stop sequences.
    StringArray(Vec<String>),
}

impl From<&str> for StopConfiguration {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for StopConfiguration {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<Vec<String>> for StopConfiguration {
    fn from(v: Vec<String>) -> Self {
        Self::StringArray(v)
    }
}

impl From<Vec<&str>> for StopConfiguration {
    fn from(v: Vec<&str>) -> Self {
        Self::StringArray(v.into_iter().map(str::to_owned).collect())
    }
}

impl<const N: usize> From<[&str; N]> for StopConfiguration {
    fn from(v: [&str; N]) -> Self {
        Self::StringArray(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// Configuration for a Predicted Output, which can greatly improve response times when large
/// parts of the model response are known ahead of time. Tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PredictionContent {
    /// Static predicted output content, such as the content of a text file that is being
    /// regenerated.
    Content {
        /// The content that should be matched when generating a model response: text, or
        /// `text` parts.
        content: ChatCompletionRequestMessageContent,
    },
}

impl PredictionContent {
    /// `{"type": "content", "content": …}`.
    pub fn content(content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
        Self::Content {
            content: content.into(),
        }
    }
}

/// Parameters for audio output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionAudio {
    /// The voice the model uses to respond: a built-in voice or a custom voice `{"id": …}`.
    pub voice: VoiceIdsOrCustomVoice,
    /// Specifies the output audio format.
    pub format: AudioFormat,
}

impl ChatCompletionAudio {
    /// Audio output with the given voice and format.
    pub fn new(voice: impl Into<VoiceIdsOrCustomVoice>, format: impl Into<AudioFormat>) -> Self {
        Self {
            voice: voice.into(),
            format: format.into(),
        }
    }
}

/// A built-in voice name or a custom voice reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VoiceIdsOrCustomVoice {
    /// A built-in voice name (any string is accepted).
    Voice(Voice),
    /// A custom voice reference.
    Custom {
        /// The custom voice ID, e.g. `voice_1234`.
        id: String,
    },
}

impl VoiceIdsOrCustomVoice {
    /// A custom voice reference `{"id": …}`.
    pub fn custom(id: impl Into<String>) -> Self {
        Self::Custom { id: id.into() }
    }
}

impl From<Voice> for VoiceIdsOrCustomVoice {
    fn from(v: Voice) -> Self {
        Self::Voice(v)
    }
}

impl From<&str> for VoiceIdsOrCustomVoice {
    fn from(v: &str) -> Self {
        Self::Voice(Voice::from(v))
    }
}

/// Options of the web search tool, which searches the web for relevant results to use in a
/// response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSearchOptions {
    /// Approximate location parameters for the search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_location: Option<WebSearchUserLocation>,
    /// High level guidance for the amount of context window space to use for the search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_context_size: Option<WebSearchContextSize>,
}

/// The user location of a web search, tagged by `type` (always `approximate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WebSearchUserLocation {
    /// An approximate location.
    Approximate {
        /// Approximate location parameters for the search.
        approximate: WebSearchLocation,
    },
}

impl From<WebSearchLocation> for WebSearchUserLocation {
    fn from(approximate: WebSearchLocation) -> Self {
        Self::Approximate { approximate }
    }
}

/// Approximate location parameters for the search.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSearchLocation {
    /// The two-letter ISO country code of the user, e.g. `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Free text input for the region of the user, e.g. `California`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Free text input for the city of the user, e.g. `San Francisco`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// The IANA timezone of the user, e.g. `America/Los_Angeles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Options for streaming response. Only set this when you set `stream: true`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatCompletionStreamOptions {
    /// If set, an additional chunk is streamed before `data: [DONE]` whose `usage` field holds
    /// the token usage for the entire request and whose `choices` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// When true, stream obfuscation (random characters in an `obfuscation` field) is enabled;
    /// set `false` to save bandwidth on trusted network links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
}

impl ChatCompletionStreamOptions {
    /// `{"include_usage": true}`.
    pub fn include_usage() -> Self {
        Self {
            include_usage: Some(true),
            include_obfuscation: None,
        }
    }
}

/// Configuration for running moderation on the input and output of this response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModerationParam {
    /// The moderation model to use for moderated completions, e.g. `omni-moderation-latest`.
    pub model: String,
    /// The policy to apply to moderated response input and output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ModerationPolicyParam>,
}

/// The policy to apply to moderated response input and output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModerationPolicyParam {
    /// The moderation policy for the response input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<ModerationConfigParam>,
    /// The moderation policy for the response output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ModerationConfigParam>,
}

/// A moderation policy for one side of the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationConfigParam {
    /// The moderation mode.
    pub mode: ModerationMode,
}

impl From<ModerationMode> for ModerationConfigParam {
    fn from(mode: ModerationMode) -> Self {
        Self { mode }
    }
}

/// Options for prompt caching.
///
/// By default, OpenAI automatically chooses one implicit cache breakpoint; add explicit ones to
/// content parts with `prompt_cache_breakpoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptCacheOptionsParam {
    /// The minimum lifetime applied to every implicit and explicit cache breakpoint written by
    /// the request (`30m` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<PromptCacheTtl>,
    /// Whether OpenAI automatically creates an implicit cache breakpoint (`implicit` when
    /// unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<PromptCacheMode>,
}
