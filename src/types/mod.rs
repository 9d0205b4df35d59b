//! Wire types of the Chat Completions API: plain serde data, named after the spec's schemas.
//!
//! Fields are `pub` and named as on the wire (snake_case). A field the wire calls `type` is
//! spelled `r#type` in Rust (serde writes it as `type`); where `type` selects a variant, it is
//! the enum's tag instead and has no field.
//!
//! # What we send
//!
//! [`CreateChatCompletionRequest`] is its own builder: `new(model, messages)` plus one consuming
//! setter per optional field. Every unset `Option` is left out of the JSON, never sent as
//! `null`. Request-side unions have no catch-all variant, so a malformed known variant is an
//! error rather than silently sent. `extra` maps carry vendor fields.
//!
//! # What we receive
//!
//! Response types never fail on the quirks of OpenAI-compatible servers: missing or `null`
//! ids, timestamps, indexes and token counts default (to `""` or 0), token counts accept
//! floats, unknown enum values land in `Other(String)`, unknown tool-call and annotation kinds
//! in `Other(Value)`, and unknown keys in `extra`, so they survive a decode → encode round
//! trip. When serialized, response types leave out fields that are `None`.
//!
//! # Open enums
//!
//! String enums such as [`FinishReason`] or [`Role`] have an `Other(String)` variant. Match on
//! `as_str()` for values this crate may add as variants later.

mod azure;
#[cfg(feature = "batch")]
mod batch;
mod de;
mod enums;
#[cfg(feature = "files")]
mod files;
mod lenient;
mod list;
mod message;
mod models;
mod parse;
mod request;
mod response;
#[cfg(feature = "stored")]
mod stored;
mod stream;
mod tool;

pub use azure::{
    ContentFilterCitation, ContentFilterDetectedResult, ContentFilterError, ContentFilterResults,
    ContentFilterRunError, ContentFilterSeverityResult, PromptFilterResult,
};
#[cfg(feature = "batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
pub use batch::{
    Batch, BatchError, BatchErrors, BatchRequestCounts, BatchRequestInput, BatchRequestOutput,
    BatchResponse, BatchStatus, BatchesFilter, CreateBatchRequest, ListBatchesParams,
    ListBatchesResponse,
};
pub(crate) use de::{metadata_from_value, too_many_choices};
pub use de::{MAX_CHOICES, MAX_TOOL_CALLS};
pub use enums::{
    AllowedToolsMode, AudioFormat, ContentFilterSeverity, FinishReason, FunctionCallMode,
    GrammarSyntax, ImageDetail, InputAudioFormat, Modality, ModerationInputType, ModerationMode,
    Order, PromptCacheMode, PromptCacheRetention, PromptCacheTtl, ReasoningEffort, Role,
    ServiceTier, ToolChoiceMode, ToolType, Verbosity, Voice, WebSearchContextSize,
};
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use files::{
    CreateFileRequest, DeleteFileResponse, FileExpirationAfter, FilePurpose, FileStatus,
    FilesFilter, ListFilesParams, ListFilesResponse, OpenAIFile,
};
pub use list::{List, ListFilter, ListParams, Ordered};
pub use message::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageAudio,
    ChatCompletionRequestAssistantMessageContentPart, ChatCompletionRequestDeveloperMessage,
    ChatCompletionRequestDeveloperMessageContentPart, ChatCompletionRequestFunctionMessage,
    ChatCompletionRequestMessage, ChatCompletionRequestMessageContent,
    ChatCompletionRequestMessageContentPart, ChatCompletionRequestMessageContentPartAudio,
    ChatCompletionRequestMessageContentPartFile, ChatCompletionRequestMessageContentPartImage,
    ChatCompletionRequestMessageContentPartRefusal, ChatCompletionRequestMessageContentPartText,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestSystemMessageContentPart,
    ChatCompletionRequestToolMessage, ChatCompletionRequestToolMessageContentPart,
    ChatCompletionRequestUserMessage, ChatCompletionRequestUserMessageContentPart, FileInput,
    ImageUrl, InputAudio, PromptCacheBreakpointParam,
};
pub use models::{Date, Model, ModelList, ParseDateError};
pub use request::{
    ChatCompletionAudio, ChatCompletionStreamOptions, CreateChatCompletionRequest,
    ModerationConfigParam, ModerationParam, ModerationPolicyParam, PredictionContent,
    PromptCacheOptionsParam, ResponseFormat, ResponseFormatJsonSchema, StopConfiguration,
    VoiceIdsOrCustomVoice, WebSearchLocation, WebSearchOptions, WebSearchUserLocation,
};
#[cfg(feature = "events")]
pub(crate) use response::reasoning_of;
pub use response::{
    ChatCompletionChoice, ChatCompletionChoiceLogprobs, ChatCompletionModeration,
    ChatCompletionModerationError, ChatCompletionModerationOutcome,
    ChatCompletionModerationResults, ChatCompletionResponseMessage,
    ChatCompletionResponseMessageAnnotation, ChatCompletionResponseMessageAudio,
    ChatCompletionTokenLogprob, CompletionTokensDetails, CompletionUsage,
    CreateChatCompletionResponse, ModerationResultBody, PromptTokensDetails, ResponseContent,
    TopLogprob, UrlCitation,
};
#[cfg(feature = "stored")]
#[cfg_attr(docsrs, doc(cfg(feature = "stored")))]
pub use stored::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    ChatCompletionMessageListContentPart, ChatCompletionMessageListData,
    ChatCompletionMessagesFilter, ChatCompletionsFilter, GetChatCompletionMessagesParams,
    ListChatCompletionsParams, UpdateChatCompletionRequest,
};
pub use stream::{
    ChatCompletionMessageToolCallChunk, ChatCompletionStreamChoice,
    ChatCompletionStreamResponseDelta, ChatCompletionStreamResponseDeltaAudio,
    CreateChatCompletionStreamResponse, CustomToolCallStream, FunctionCallStream,
};
pub use tool::{
    ChatCompletionAllowedTools, ChatCompletionFunctionCallOption, ChatCompletionFunctions,
    ChatCompletionMessageCustomToolCall, ChatCompletionMessageToolCall,
    ChatCompletionMessageToolCalls, ChatCompletionTool, ChatCompletionToolChoiceOption,
    CustomToolCall, CustomToolFormat, CustomToolGrammar, CustomToolProperties, FunctionCall,
    FunctionObject,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn key_types_are_send_and_sync() {
        assert_send_sync::<CreateChatCompletionRequest>();
        assert_send_sync::<CreateChatCompletionResponse>();
        assert_send_sync::<CreateChatCompletionStreamResponse>();
        assert_send_sync::<List<CreateChatCompletionResponse>>();
    }

    #[cfg(feature = "stored")]
    #[test]
    fn stored_types_are_send_and_sync() {
        assert_send_sync::<ChatCompletionList>();
        assert_send_sync::<ChatCompletionMessageList>();
        assert_send_sync::<ChatCompletionDeleted>();
        assert_send_sync::<ListChatCompletionsParams>();
    }
}
