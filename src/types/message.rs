//! Request messages and their content parts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::enums::{ImageDetail, InputAudioFormat};
use super::tool::{ChatCompletionMessageToolCalls, FunctionCall};

/// A message of the conversation sent in a request, tagged by `role`.
///
/// Build messages with [`system`](Self::system), [`developer`](Self::developer),
/// [`user`](Self::user), [`assistant`](Self::assistant) and [`tool`](Self::tool); each role's
/// struct has setters for its optional fields.
///
/// # Examples
///
/// ```
/// use sync_openai::types::ChatCompletionRequestMessage as Message;
///
/// let msgs = vec![Message::system("Be brief."), Message::user("Hello")];
/// assert_eq!(
///     serde_json::to_value(&msgs[1]).unwrap(),
///     serde_json::json!({"role": "user", "content": "Hello"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatCompletionRequestMessage {
    /// A `developer` message.
    Developer(ChatCompletionRequestDeveloperMessage),
    /// A `system` message.
    System(ChatCompletionRequestSystemMessage),
    /// A `user` message.
    User(ChatCompletionRequestUserMessage),
    /// An `assistant` message.
    Assistant(ChatCompletionRequestAssistantMessage),
    /// A `tool` message.
    Tool(ChatCompletionRequestToolMessage),
    /// A `function` message (deprecated by OpenAI).
    Function(ChatCompletionRequestFunctionMessage),
}

impl ChatCompletionRequestMessage {
    /// A `system` message with the given content.
    pub fn system(content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
        Self::System(ChatCompletionRequestSystemMessage::new(content))
    }

    /// A `developer` message with the given content.
    pub fn developer(content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
        Self::Developer(ChatCompletionRequestDeveloperMessage::new(content))
    }

    /// A `user` message with the given content (a string or a list of content parts).
    pub fn user(content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
        Self::User(ChatCompletionRequestUserMessage::new(content))
    }

    /// An `assistant` message with the given content.
    pub fn assistant(content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
        Self::Assistant(ChatCompletionRequestAssistantMessage::new().content(content))
    }

    /// A `tool` message answering the tool call `tool_call_id`.
    pub fn tool(
        tool_call_id: impl Into<String>,
        content: impl Into<ChatCompletionRequestMessageContent>,
    ) -> Self {
        Self::Tool(ChatCompletionRequestToolMessage::new(tool_call_id, content))
    }

    /// The role of this message.
    pub fn role(&self) -> super::Role {
        match self {
            Self::Developer(_) => super::Role::Developer,
            Self::System(_) => super::Role::System,
            Self::User(_) => super::Role::User,
            Self::Assistant(_) => super::Role::Assistant,
            Self::Tool(_) => super::Role::Tool,
            Self::Function(_) => super::Role::Function,
        }
    }
}

macro_rules! message_from {
    ($($variant:ident($ty:ty)),+ $(,)?) => {
        $(
            impl From<$ty> for ChatCompletionRequestMessage {
                fn from(m: $ty) -> Self {
                    Self::$variant(m)
                }
            }
        )+
    };
}

message_from!(
    Developer(ChatCompletionRequestDeveloperMessage),
    System(ChatCompletionRequestSystemMessage),
    User(ChatCompletionRequestUserMessage),
    Assistant(ChatCompletionRequestAssistantMessage),
    Tool(ChatCompletionRequestToolMessage),
    Function(ChatCompletionRequestFunctionMessage),
);

/// Developer-provided instructions that the model should follow, regardless of messages sent by
/// the user.
///
/// With o1 models and newer, `developer` messages replace the previous `system` messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequestDeveloperMessage {
    /// The contents of the developer message (for parts, only `text` is supported).
    pub content: ChatCompletionRequestMessageContent,
    /// An optional name for the participant. Provides the model information to differentiate
    /// between participants of the same role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields this crate does not model, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Developer-provided instructions that the model should follow, regardless of messages sent by
/// the user.
///
/// With o1 models and newer, use `developer` messages for this purpose instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequestSystemMessage {
    /// The contents of the system message (for parts, only `text` is supported).
    pub content: ChatCompletionRequestMessageContent,
    /// An optional name for the participant. Provides the model information to differentiate
    /// between participants of the same role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields this crate does not model, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Messages sent by an end user, containing prompts or additional context information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequestUserMessage {
    /// The contents of the user message: text, or parts (text, image, audio or file inputs).
    pub content: ChatCompletionRequestMessageContent,
    /// An optional name for the participant. Provides the model information to differentiate
    /// between participants of the same role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields this crate does not model, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

macro_rules! simple_message_impl {
    ($($ty:ident),+) => {
        $(
            impl $ty {
                /// A message with the given content and no name.
                pub fn new(content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
                    Self { content: content.into(), name: None, extra: Map::new() }
                }

                /// Sets [`name`](#structfield.name). Defaults to unset.
                pub fn name(mut self, name: impl Into<String>) -> Self {
                    self.name = Some(name.into());
                    self
                }

                /// Adds a field this crate does not model. Defaults to none.
                pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
                    self.extra.insert(key.into(), value.into());
                    self
                }
            }
        )+
    };
}

simple_message_impl!(
    ChatCompletionRequestDeveloperMessage,
    ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage
);

/// Messages sent by the model in response to user messages.
///
/// Vendor fields (such as DeepSeek's `reasoning_content`) go in [`extra`](Self::extra) and are
/// sent back as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequestAssistantMessage {
    /// The contents of the assistant message. Required unless `tool_calls` or `function_call` is
    /// specified. Parts can be one or more of type `text`, or exactly one of type `refusal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ChatCompletionRequestMessageContent>,
    /// The refusal message by the assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// An optional name for the participant. Provides the model information to differentiate
    /// between participants of the same role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Data about a previous audio response from the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<ChatCompletionRequestAssistantMessageAudio>,
    /// The tool calls generated by the model, such as function calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ChatCompletionMessageToolCalls>>,
    /// Deprecated by OpenAI and replaced by `tool_calls`. The name and arguments of a function
    /// that should be called, as generated by the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    /// Fields this crate does not model, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequestAssistantMessage {
    /// An assistant message with nothing set; add content or tool calls with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`content`](#structfield.content). Defaults to unset.
    pub fn content(mut self, content: impl Into<ChatCompletionRequestMessageContent>) -> Self {
        self.content = Some(content.into());
        self
    }

    /// Sets [`refusal`](#structfield.refusal). Defaults to unset.
    pub fn refusal(mut self, refusal: impl Into<String>) -> Self {
        self.refusal = Some(refusal.into());
        self
    }

    /// Sets [`name`](#structfield.name). Defaults to unset.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets [`audio`](#structfield.audio) to the id of a previous audio response. Defaults to unset.
    pub fn audio(mut self, id: impl Into<String>) -> Self {
        self.audio = Some(ChatCompletionRequestAssistantMessageAudio { id: id.into() });
        self
    }

    /// Sets [`tool_calls`](#structfield.tool_calls). Defaults to unset.
    pub fn tool_calls(
        mut self,
        tool_calls: impl Into<Vec<ChatCompletionMessageToolCalls>>,
    ) -> Self {
        self.tool_calls = Some(tool_calls.into());
        self
    }

    /// Sets [`function_call`](#structfield.function_call) (deprecated by OpenAI). Defaults to unset.
    pub fn function_call(mut self, function_call: FunctionCall) -> Self {
        self.function_call = Some(function_call);
        self
    }

    /// Adds a field this crate does not model, e.g. `reasoning_content`. Defaults to none.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

impl From<super::response::ChatCompletionResponseMessage>
    for ChatCompletionRequestAssistantMessage
{
    /// Turns a message the model returned into the assistant message to send back in the next
    /// turn: content (as text), refusal, tool calls, function call, the audio id, and every
    /// vendor field in `extra` (e.g. `reasoning_content`, which some servers want back during
    /// tool use; remove keys a server rejects). `role` and `annotations` are not request fields
    /// and are dropped.
    fn from(m: super::response::ChatCompletionResponseMessage) -> Self {
        Self {
            content: m.content.map(|c| c.into_string().into()),
            refusal: m.refusal,
            name: None,
            audio: m
                .audio
                .map(|a| ChatCompletionRequestAssistantMessageAudio { id: a.id }),
            tool_calls: m.tool_calls,
            function_call: m.function_call,
            extra: m.extra,
        }
    }
}

impl From<super::response::ChatCompletionResponseMessage> for ChatCompletionRequestMessage {
    /// The assistant message to send back; see the conversion to
    /// [`ChatCompletionRequestAssistantMessage`].
    fn from(m: super::response::ChatCompletionResponseMessage) -> Self {
        Self::Assistant(m.into())
    }
}

/// Data about a previous audio response from the model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatCompletionRequestAssistantMessageAudio {
    /// Unique identifier for a previous audio response from the model.
    pub id: String,
}

/// A `tool` message: the result of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequestToolMessage {
    /// The contents of the tool message (for parts, only `text` is supported).
    pub content: ChatCompletionRequestMessageContent,
    /// Tool call that this message is responding to.
    pub tool_call_id: String,
    /// Fields this crate does not model, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequestToolMessage {
    /// A tool message answering `tool_call_id`.
    pub fn new(
        tool_call_id: impl Into<String>,
        content: impl Into<ChatCompletionRequestMessageContent>,
    ) -> Self {
        Self {
            content: content.into(),
            tool_call_id: tool_call_id.into(),
            extra: Map::new(),
        }
    }

    /// Adds a field this crate does not model. Defaults to none.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// A `function` message (deprecated by OpenAI; use tool messages).
///
/// `content` is required by the spec but may be `null`, so it is always sent, as `null` when
/// `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionRequestFunctionMessage {
    /// The contents of the function message.
    #[serde(default)]
    pub content: Option<String>,
    /// The name of the function to call.
    pub name: String,
    /// Fields this crate does not model, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequestFunctionMessage {
    /// A function message with the function's name and result.
    pub fn new(name: impl Into<String>, content: Option<String>) -> Self {
        Self {
            content,
            name: name.into(),
            extra: Map::new(),
        }
    }
}

/// The content of a request message: a string, or an array of content parts.
///
/// One union serves every role; the spec narrows the allowed part kinds per role (see the
/// `…ContentPart` type aliases), the server checks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatCompletionRequestMessageContent {
    /// The text contents of the message.
    Text(String),
    /// An array of content parts with a defined type.
    Parts(Vec<ChatCompletionRequestMessageContentPart>),
}

impl Default for ChatCompletionRequestMessageContent {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl From<&str> for ChatCompletionRequestMessageContent {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for ChatCompletionRequestMessageContent {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&String> for ChatCompletionRequestMessageContent {
    fn from(s: &String) -> Self {
        Self::Text(s.clone())
    }
}

impl From<Vec<ChatCompletionRequestMessageContentPart>> for ChatCompletionRequestMessageContent {
    fn from(parts: Vec<ChatCompletionRequestMessageContentPart>) -> Self {
        Self::Parts(parts)
    }
}

impl<const N: usize> From<[ChatCompletionRequestMessageContentPart; N]>
    for ChatCompletionRequestMessageContent
{
    fn from(parts: [ChatCompletionRequestMessageContentPart; N]) -> Self {
        Self::Parts(parts.into())
    }
}

/// A content part of a request message, tagged by `type`.
///
/// There is no catch-all variant: on the request side it would hide a malformed known part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatCompletionRequestMessageContentPart {
    /// A `text` part.
    Text(ChatCompletionRequestMessageContentPartText),
    /// An `image_url` part.
    ImageUrl(ChatCompletionRequestMessageContentPartImage),
    /// An `input_audio` part.
    InputAudio(ChatCompletionRequestMessageContentPartAudio),
    /// A `file` part.
    File(ChatCompletionRequestMessageContentPartFile),
    /// A `refusal` part (assistant messages only).
    Refusal(ChatCompletionRequestMessageContentPartRefusal),
}

impl ChatCompletionRequestMessageContentPart {
    /// A `text` part.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(ChatCompletionRequestMessageContentPartText {
            text: text.into(),
            prompt_cache_breakpoint: None,
        })
    }

    /// An `image_url` part from a URL or a `data:` URL with base64 image data.
    pub fn image_url(url: impl Into<String>) -> Self {
        Self::ImageUrl(ChatCompletionRequestMessageContentPartImage {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
            },
            prompt_cache_breakpoint: None,
        })
    }

    /// An `image_url` part with a detail level.
    pub fn image_url_with_detail(url: impl Into<String>, detail: impl Into<ImageDetail>) -> Self {
        Self::ImageUrl(ChatCompletionRequestMessageContentPartImage {
            image_url: ImageUrl {
                url: url.into(),
                detail: Some(detail.into()),
            },
            prompt_cache_breakpoint: None,
        })
    }

    /// An `input_audio` part from base64 audio data.
    pub fn input_audio(data: impl Into<String>, format: impl Into<InputAudioFormat>) -> Self {
        Self::InputAudio(ChatCompletionRequestMessageContentPartAudio {
            input_audio: InputAudio {
                data: data.into(),
                format: format.into(),
            },
            prompt_cache_breakpoint: None,
        })
    }

    /// A `file` part referring to an uploaded file.
    pub fn file_id(file_id: impl Into<String>) -> Self {
        Self::File(ChatCompletionRequestMessageContentPartFile {
            file: FileInput {
                file_id: Some(file_id.into()),
                ..FileInput::default()
            },
            prompt_cache_breakpoint: None,
        })
    }

    /// A `file` part with inline base64 file data.
    pub fn file_data(filename: impl Into<String>, file_data: impl Into<String>) -> Self {
        Self::File(ChatCompletionRequestMessageContentPartFile {
            file: FileInput {
                filename: Some(filename.into()),
                file_data: Some(file_data.into()),
                file_id: None,
            },
            prompt_cache_breakpoint: None,
        })
    }

    /// A `refusal` part.
    pub fn refusal(refusal: impl Into<String>) -> Self {
        Self::Refusal(ChatCompletionRequestMessageContentPartRefusal {
            refusal: refusal.into(),
        })
    }

    /// Marks this part as the end of a reusable prompt prefix (an explicit prompt cache
    /// breakpoint). A `refusal` part has no breakpoint and is returned unchanged.
    pub fn with_cache_breakpoint(mut self) -> Self {
        let bp = Some(PromptCacheBreakpointParam::default());
        match &mut self {
            Self::Text(p) => p.prompt_cache_breakpoint = bp,
            Self::ImageUrl(p) => p.prompt_cache_breakpoint = bp,
            Self::InputAudio(p) => p.prompt_cache_breakpoint = bp,
            Self::File(p) => p.prompt_cache_breakpoint = bp,
            Self::Refusal(_) => {}
        }
        self
    }
}

/// The parts allowed in a user message (text, image, audio, file): the one part union.
pub type ChatCompletionRequestUserMessageContentPart = ChatCompletionRequestMessageContentPart;
/// The parts allowed in a system message (text only): the one part union.
pub type ChatCompletionRequestSystemMessageContentPart = ChatCompletionRequestMessageContentPart;
/// The parts allowed in a developer message (text only): the one part union.
pub type ChatCompletionRequestDeveloperMessageContentPart = ChatCompletionRequestMessageContentPart;
/// The parts allowed in a tool message (text only): the one part union.
pub type ChatCompletionRequestToolMessageContentPart = ChatCompletionRequestMessageContentPart;
/// The parts allowed in an assistant message (text, or one refusal): the one part union.
pub type ChatCompletionRequestAssistantMessageContentPart = ChatCompletionRequestMessageContentPart;

/// A text content part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequestMessageContentPartText {
    /// The text content.
    pub text: String,
    /// Marks the exact end of a reusable prompt prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
}

/// An image content part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequestMessageContentPartImage {
    /// The image.
    pub image_url: ImageUrl,
    /// Marks the exact end of a reusable prompt prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
}

/// The image of an image content part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// Either a URL of the image or the base64 encoded image data.
    pub url: String,
    /// Specifies the detail level of the image (`auto` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ImageDetail>,
}

/// An audio content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequestMessageContentPartAudio {
    /// The audio.
    pub input_audio: InputAudio,
    /// Marks the exact end of a reusable prompt prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
}

/// The audio of an audio content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64 encoded audio data.
    pub data: String,
    /// The format of the encoded audio data.
    pub format: InputAudioFormat,
}

/// A file content part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequestMessageContentPartFile {
    /// The file.
    pub file: FileInput,
    /// Marks the exact end of a reusable prompt prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_breakpoint: Option<PromptCacheBreakpointParam>,
}

/// The file of a file content part: an uploaded file's id, or inline data with a name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileInput {
    /// The name of the file, used when passing the file to the model as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The base64 encoded file data, used when passing the file to the model as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// The ID of an uploaded file to use as input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
}

/// A refusal content part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequestMessageContentPartRefusal {
    /// The refusal message generated by the model.
    pub refusal: String,
}

/// Marks the exact end of a reusable prompt prefix.
///
/// The breakpoint inherits its TTL from the request's `prompt_cache_options.ttl`; the boundary is
/// not rounded to a token block. `Default` gives `{"mode": "explicit"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptCacheBreakpointParam {
    /// The breakpoint mode. Always `explicit`.
    pub mode: super::enums::PromptCacheMode,
}

impl Default for PromptCacheBreakpointParam {
    fn default() -> Self {
        Self {
            mode: super::enums::PromptCacheMode::Explicit,
        }
    }
}
