#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! Conformance with the official OpenAPI spec, checked by Stoplight Prism.
//!
//! Run by `scripts/prism.sh`, which starts Prism as a validating mock of
//! `spec/chat.openapi.yaml` (the vendored Chat subset of the spec) and sets `PRISM_URL`. Without `PRISM_URL` every
//! test here prints "skipped" and passes, so `cargo test` stays offline.
//!
//! 1. Every request shape the public API builds (each message role and content part, each
//!    tool and tool choice, each response format, each option and each enum value, every
//!    stored-completion operation and parameter) is sent; Prism validates it against the spec
//!    and answers 422 with the list of violations when it does not conform.
//! 2. Prism's random schema-valid bodies (`Prefer: dynamic=true`) are decoded with the typed
//!    API, at least 200 per operation, and checked: constants and enum values the spec fixes
//!    must land in their typed variants, and a decoded value must survive a round trip.
//!
//! Prism 5.16 sends no server-sent events: a streamed request is validated all the same
//! (request validation comes first, and an invalid one gets 422), then Prism fails to
//! serialize the stream and answers 500 `NO_COMPLEX_OBJECT_TEXT`. That 500 is what a valid
//! streamed request gets, and is counted as validated.

use serde_json::{json, Value};
use sync_openai::types::{
    AllowedToolsMode, AudioFormat, ChatCompletionAudio, ChatCompletionDeleted,
    ChatCompletionFunctionCallOption, ChatCompletionFunctions, ChatCompletionList,
    ChatCompletionMessageCustomToolCall, ChatCompletionMessageList,
    ChatCompletionMessageListContentPart, ChatCompletionMessageToolCall,
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessage,
    ChatCompletionRequestDeveloperMessage, ChatCompletionRequestFunctionMessage,
    ChatCompletionRequestMessage as Message, ChatCompletionRequestMessageContentPart as Part,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestToolMessage,
    ChatCompletionRequestUserMessage, ChatCompletionResponseMessage,
    ChatCompletionResponseMessageAnnotation, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionToolChoiceOption, CreateChatCompletionRequest, CreateChatCompletionResponse,
    CustomToolCall, CustomToolFormat, CustomToolProperties, FinishReason, FunctionCall,
    FunctionCallMode, FunctionObject, GetChatCompletionMessagesParams, GrammarSyntax, ImageDetail,
    InputAudioFormat, ListChatCompletionsParams, Modality, Model, ModelList, ModerationConfigParam,
    ModerationMode, ModerationParam, ModerationPolicyParam, Order, PredictionContent,
    PromptCacheMode, PromptCacheOptionsParam, PromptCacheRetention, PromptCacheTtl,
    ReasoningEffort, ResponseFormat, ResponseFormatJsonSchema, Role, ServiceTier, ToolChoiceMode,
    Verbosity, Voice, VoiceIdsOrCustomVoice, WebSearchContextSize, WebSearchLocation,
    WebSearchOptions,
};
use sync_openai::{ChatApi, Config, Error, ModelsApi, RequestOptions};

use crate::common;
use common::prism::{
    client, decode_many, describe, dynamic_per_operation, prism_url, violations, Tally,
};

/// The streamed requests, which the shared `Tally` does not know.
impl Tally {
    /// A streamed request: Prism validates it, then cannot send SSE and answers 500
    /// `NO_COMPLEX_OBJECT_TEXT`. A 422 is a violation; anything else is unexpected.
    fn check_stream(&mut self, what: &str, api: &ChatApi, req: &CreateChatCompletionRequest) {
        match api.create_chat_completion_stream(req) {
            Err(Error::Api(e)) if e.status == 500 && e.body.contains("NO_COMPLEX_OBJECT_TEXT") => {
                self.validated += 1
            }
            Err(e) => self
                .failures
                .push(format!("{what} (stream): {}", describe(&e))),
            Ok(_) => self.failures.push(format!(
                "{what} (stream): Prism 5.16 sends no SSE, yet the stream opened; update this test"
            )),
        }
    }
}

fn req(messages: Vec<Message>) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o", messages)
}

fn hello() -> CreateChatCompletionRequest {
    req(vec![Message::user("Hello")])
}

const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

fn weather_params() -> Value {
    json!({
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
        "additionalProperties": false
    })
}

fn function_call(id: &str) -> ChatCompletionMessageToolCalls {
    ChatCompletionMessageToolCall::new(id, "get_weather", r#"{"city":"Paris","unit":"c"}"#).into()
}

fn custom_call(id: &str) -> ChatCompletionMessageToolCalls {
    ChatCompletionMessageCustomToolCall {
        id: id.to_owned(),
        custom: CustomToolCall {
            name: "run_sql".to_owned(),
            input: "SELECT 1".to_owned(),
        },
        extra: Default::default(),
    }
    .into()
}

/// Every message role and content-part kind, one request each.
fn message_shapes() -> Vec<(String, CreateChatCompletionRequest)> {
    let text = || Part::text("Some text.");
    let mut v: Vec<(&str, Vec<Message>)> = vec![
        ("developer text", vec![Message::developer("Be brief.")]),
        (
            "developer text with name",
            vec![ChatCompletionRequestDeveloperMessage::new("Be brief.")
                .name("ops")
                .into()],
        ),
        (
            "developer text parts",
            vec![Message::developer(vec![
                text(),
                text().with_cache_breakpoint(),
            ])],
        ),
        ("system text", vec![Message::system("Be brief.")]),
        (
            "system text with name",
            vec![ChatCompletionRequestSystemMessage::new("Be brief.")
                .name("sys")
                .into()],
        ),
        (
            "system text parts",
            vec![Message::system(vec![
                text(),
                text().with_cache_breakpoint(),
            ])],
        ),
        ("user text", vec![Message::user("Hello")]),
        (
            "user text with name",
            vec![ChatCompletionRequestUserMessage::new("Hello")
                .name("alice")
                .into()],
        ),
        ("user text part", vec![Message::user(vec![text()])]),
        (
            "user image_url part (https)",
            vec![Message::user(vec![
                text(),
                Part::image_url("https://example.com/cat.png"),
            ])],
        ),
        (
            "user image_url part (data URL)",
            vec![Message::user(vec![Part::image_url(PNG)])],
        ),
        (
            "user input_audio part (wav)",
            vec![Message::user(vec![Part::input_audio(
                WAV,
                InputAudioFormat::Wav,
            )])],
        ),
        (
            "user input_audio part (mp3)",
            vec![Message::user(vec![Part::input_audio(
                "SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4Ljc2LjEwMAAAAAAAAAAAAAAA",
                InputAudioFormat::Mp3,
            )])],
        ),
        (
            "user file part (file_id)",
            vec![Message::user(vec![text(), Part::file_id("file-abc123")])],
        ),
        (
            "user file part (file_data)",
            vec![Message::user(vec![Part::file_data(
                "notes.pdf",
                "data:application/pdf;base64,JVBERi0xLjQK",
            )])],
        ),
        (
            "user every part kind, each with a cache breakpoint",
            vec![Message::user(vec![
                text().with_cache_breakpoint(),
                Part::image_url(PNG).with_cache_breakpoint(),
                Part::input_audio(WAV, "wav").with_cache_breakpoint(),
                Part::file_id("file-abc123").with_cache_breakpoint(),
            ])],
        ),
        ("assistant text", vec![Message::assistant("Hi!")]),
        (
            "assistant text parts",
            vec![Message::assistant(vec![text(), text()])],
        ),
        (
            "assistant refusal part",
            vec![Message::assistant(vec![Part::refusal("I can't help.")])],
        ),
        (
            "assistant refusal field",
            vec![ChatCompletionRequestAssistantMessage::new()
                .refusal("I can't help.")
                .into()],
        ),
        (
            "assistant with name",
            vec![ChatCompletionRequestAssistantMessage::new()
                .content("Hi!")
                .name("bot")
                .into()],
        ),
        (
            "assistant audio reference",
            vec![ChatCompletionRequestAssistantMessage::new()
                .audio("audio_abc123")
                .into()],
        ),
        (
            "assistant function tool_calls without content",
            vec![ChatCompletionRequestAssistantMessage::new()
                .tool_calls(vec![function_call("call_1"), function_call("call_2")])
                .into()],
        ),
        (
            "assistant custom tool_call with content",
            vec![ChatCompletionRequestAssistantMessage::new()
                .content("Running it.")
                .tool_calls(vec![custom_call("call_3")])
                .into()],
        ),
        (
            "assistant function_call (deprecated)",
            vec![ChatCompletionRequestAssistantMessage::new()
                .function_call(FunctionCall::new("get_weather", r#"{"city":"Paris"}"#))
                .into()],
        ),
        ("tool text", vec![Message::tool("call_1", "18 C")]),
        (
            "tool text parts",
            vec![ChatCompletionRequestToolMessage::new("call_1", vec![text()]).into()],
        ),
        (
            "function message (deprecated)",
            vec![
                ChatCompletionRequestFunctionMessage::new("get_weather", Some("18 C".into()))
                    .into(),
            ],
        ),
        (
            "function message with null content",
            vec![ChatCompletionRequestFunctionMessage::new("get_weather", None).into()],
        ),
    ];
    // A whole tool-using conversation, with the model's reply fed back as a request message.
    let reply: ChatCompletionResponseMessage = serde_json::from_value(json!({
        "role": "assistant",
        "content": null,
        "refusal": null,
        "annotations": [],
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}"}},
                       {"id": "call_2", "type": "custom", "custom": {"name": "run_sql", "input": "SELECT 1"}}]
    }))
    .unwrap();
    v.push((
        "conversation of every role, reply fed back",
        vec![
            Message::developer("Use tools."),
            Message::system("Be brief."),
            Message::user("Weather in Paris?"),
            reply.into(),
            Message::tool("call_1", "18 C"),
            Message::tool("call_2", "1"),
            ChatCompletionRequestFunctionMessage::new("get_weather", Some("18 C".into())).into(),
            Message::assistant("It is 18 C."),
            Message::user("Thanks"),
        ],
    ));
    v.into_iter()
        .map(|(name, msgs)| (format!("messages: {name}"), req(msgs)))
        .collect()
}

fn function_tool() -> ChatCompletionTool {
    ChatCompletionTool::function("get_weather", "Weather for a city", weather_params())
}

fn custom_tool() -> ChatCompletionTool {
    ChatCompletionTool::custom("run_sql", "Runs a read-only SQL query")
}

/// Every tool form, tool choice form, and the deprecated functions.
fn tool_shapes() -> Vec<(String, CreateChatCompletionRequest)> {
    let grammar = |syntax: GrammarSyntax| -> ChatCompletionTool {
        CustomToolProperties {
            name: "pick".into(),
            description: Some("Picks a number".into()),
            format: Some(CustomToolFormat::grammar(
                if syntax == GrammarSyntax::Lark {
                    "start: NUMBER\n%import common.NUMBER"
                } else {
                    "^[0-9]+$"
                },
                syntax,
            )),
        }
        .into()
    };
    let mut v: Vec<(String, CreateChatCompletionRequest)> = vec![
        ("function tool".into(), hello().tools(vec![function_tool()])),
        (
            "function tool with only a name".into(),
            hello().tools(vec![FunctionObject::new("ping").into()]),
        ),
        (
            "strict function tool".into(),
            hello().tools(vec![FunctionObject::new("get_weather")
                .description("Weather")
                .parameters(weather_params())
                .strict(true)
                .into()]),
        ),
        ("custom tool".into(), hello().tools(vec![custom_tool()])),
        (
            "custom tool, text format".into(),
            hello().tools(vec![CustomToolProperties {
                name: "echo".into(),
                description: None,
                format: Some(CustomToolFormat::Text),
            }
            .into()]),
        ),
        (
            "custom tool, lark grammar".into(),
            hello().tools(vec![grammar(GrammarSyntax::Lark)]),
        ),
        (
            "custom tool, regex grammar".into(),
            hello().tools(vec![grammar(GrammarSyntax::Regex)]),
        ),
        (
            "function tool choice".into(),
            hello()
                .tools(vec![function_tool(), custom_tool()])
                .tool_choice(ChatCompletionToolChoiceOption::function("get_weather")),
        ),
        (
            "custom tool choice".into(),
            hello()
                .tools(vec![function_tool(), custom_tool()])
                .tool_choice(ChatCompletionToolChoiceOption::custom("run_sql")),
        ),
        (
            "parallel_tool_calls false".into(),
            hello()
                .tools(vec![function_tool()])
                .parallel_tool_calls(false),
        ),
        (
            "parallel_tool_calls true".into(),
            hello()
                .tools(vec![function_tool()])
                .parallel_tool_calls(true),
        ),
        (
            "functions (deprecated)".into(),
            hello().functions(vec![ChatCompletionFunctions {
                description: Some("Weather".into()),
                name: "get_weather".into(),
                parameters: Some(weather_params()),
            }]),
        ),
        (
            "named function_call (deprecated)".into(),
            hello()
                .functions(vec![ChatCompletionFunctions {
                    name: "get_weather".into(),
                    ..Default::default()
                }])
                .function_call(ChatCompletionFunctionCallOption::Named {
                    name: "get_weather".into(),
                }),
        ),
    ];
    for mode in [
        ToolChoiceMode::None,
        ToolChoiceMode::Auto,
        ToolChoiceMode::Required,
    ] {
        v.push((
            format!("tool_choice {mode}"),
            hello().tools(vec![function_tool()]).tool_choice(mode),
        ));
    }
    for mode in [AllowedToolsMode::Auto, AllowedToolsMode::Required] {
        v.push((
            format!("allowed_tools {mode}"),
            hello()
                .tools(vec![function_tool(), custom_tool()])
                .tool_choice(ChatCompletionToolChoiceOption::allowed_tools(
                    mode,
                    vec![
                        json!({"type": "function", "function": {"name": "get_weather"}}),
                        json!({"type": "custom", "custom": {"name": "run_sql"}}),
                    ],
                )),
        ));
    }
    for mode in [FunctionCallMode::None, FunctionCallMode::Auto] {
        v.push((
            format!("function_call {mode} (deprecated)"),
            hello()
                .functions(vec![ChatCompletionFunctions {
                    name: "get_weather".into(),
                    ..Default::default()
                }])
                .function_call(mode),
        ));
    }
    v.into_iter()
        .map(|(name, r)| (format!("tools: {name}"), r))
        .collect()
}

/// Every response format, audio, prediction, web search, and every enum value of each option.
fn option_shapes() -> Vec<(String, CreateChatCompletionRequest)> {
    let schema = json!({
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": false
    });
    let mut v: Vec<(String, CreateChatCompletionRequest)> = vec![
        (
            "response_format text".into(),
            hello().response_format(ResponseFormat::text()),
        ),
        (
            "response_format json_object".into(),
            hello().response_format(ResponseFormat::json_object()),
        ),
        (
            "response_format json_schema strict".into(),
            hello().response_format(ResponseFormat::json_schema("answer", schema.clone(), true)),
        ),
        (
            "response_format json_schema not strict".into(),
            hello().response_format(ResponseFormat::json_schema("answer", schema.clone(), false)),
        ),
        (
            "response_format json_schema with description, no schema".into(),
            hello().response_format(ResponseFormatJsonSchema {
                name: "free-form_1".into(),
                description: Some("Anything".into()),
                schema: None,
                strict: None,
            }),
        ),
        (
            "audio with a custom voice".into(),
            hello()
                .modalities(vec![Modality::Text, Modality::Audio])
                .audio(ChatCompletionAudio::new(
                    VoiceIdsOrCustomVoice::custom("voice_1234"),
                    AudioFormat::Wav,
                )),
        ),
        (
            "modalities text".into(),
            hello().modalities(vec![Modality::Text]),
        ),
        (
            "prediction text".into(),
            hello().prediction(PredictionContent::content("fn main() {}")),
        ),
        (
            "prediction text parts".into(),
            hello().prediction(PredictionContent::content(vec![
                Part::text("fn main() {"),
                Part::text("}"),
            ])),
        ),
        (
            "web_search_options empty".into(),
            hello().web_search_options(WebSearchOptions::default()),
        ),
        (
            "web_search_options full location".into(),
            hello().web_search_options(WebSearchOptions {
                user_location: Some(
                    WebSearchLocation {
                        country: Some("FR".into()),
                        region: Some("Ile-de-France".into()),
                        city: Some("Paris".into()),
                        timezone: Some("Europe/Paris".into()),
                    }
                    .into(),
                ),
                search_context_size: Some(WebSearchContextSize::High),
            }),
        ),
        (
            "web_search_options partial location".into(),
            hello().web_search_options(WebSearchOptions {
                user_location: Some(
                    WebSearchLocation {
                        city: Some("Paris".into()),
                        ..Default::default()
                    }
                    .into(),
                ),
                search_context_size: None,
            }),
        ),
        (
            "logit_bias".into(),
            hello().logit_bias([("50256", -100), ("15339", 100), ("1", 0)]),
        ),
        (
            "logprobs with top_logprobs 0".into(),
            hello().logprobs(true).top_logprobs(0),
        ),
        (
            "logprobs with top_logprobs 20".into(),
            hello().logprobs(true).top_logprobs(20),
        ),
        ("logprobs false".into(), hello().logprobs(false)),
        (
            "metadata".into(),
            hello().metadata([("project", "demo"), ("run", "42")]),
        ),
        (
            "metadata, 16 pairs at the length limits".into(),
            hello().metadata((0..16).map(|i| (format!("{i:0>64}"), "v".repeat(512)))),
        ),
        ("store true".into(), hello().store(true)),
        ("store false".into(), hello().store(false)),
        ("stop string".into(), hello().stop("\n")),
        ("stop array of one".into(), hello().stop(["END"])),
        (
            "stop array of four".into(),
            hello().stop(vec!["a", "b", "c", "d"]),
        ),
        ("n 1".into(), hello().n(1)),
        ("n 128".into(), hello().n(128)),
        ("seed negative".into(), hello().seed(-42)),
        ("seed large".into(), hello().seed(i64::MAX / 2)),
        (
            "sampling at the low bounds".into(),
            hello()
                .temperature(0.0)
                .top_p(0.0)
                .frequency_penalty(-2.0)
                .presence_penalty(-2.0),
        ),
        (
            "sampling at the high bounds".into(),
            hello()
                .temperature(2.0)
                .top_p(1.0)
                .frequency_penalty(2.0)
                .presence_penalty(2.0),
        ),
        ("max_tokens".into(), hello().max_tokens(64)),
        (
            "max_completion_tokens".into(),
            hello().max_completion_tokens(64),
        ),
        (
            "user, safety_identifier, prompt_cache_key".into(),
            hello()
                .user("user-1234")
                .safety_identifier("5f2b3c9e0a")
                .prompt_cache_key("tenant-7"),
        ),
        (
            "prompt_cache_options empty".into(),
            hello().prompt_cache_options(PromptCacheOptionsParam::default()),
        ),
        (
            "moderation, model only".into(),
            hello().moderation(ModerationParam {
                model: "omni-moderation-latest".into(),
                policy: None,
            }),
        ),
        (
            "stream_options on a non-streamed request".into(),
            hello().stream_options(ChatCompletionStreamOptions::include_usage()),
        ),
        ("stream false".into(), hello().stream(false)),
    ];
    for format in [
        AudioFormat::Wav,
        AudioFormat::Aac,
        AudioFormat::Mp3,
        AudioFormat::Flac,
        AudioFormat::Opus,
        AudioFormat::Pcm16,
    ] {
        v.push((
            format!("audio format {format}"),
            hello()
                .modalities(vec![Modality::Text, Modality::Audio])
                .audio(ChatCompletionAudio::new(Voice::Alloy, format)),
        ));
    }
    for voice in [
        Voice::Alloy,
        Voice::Ash,
        Voice::Ballad,
        Voice::Coral,
        Voice::Echo,
        Voice::Sage,
        Voice::Shimmer,
        Voice::Verse,
        Voice::Marin,
        Voice::Cedar,
    ] {
        v.push((
            format!("audio voice {voice}"),
            hello()
                .modalities(vec![Modality::Audio])
                .audio(ChatCompletionAudio::new(voice, "mp3")),
        ));
    }
    for size in [
        WebSearchContextSize::Low,
        WebSearchContextSize::Medium,
        WebSearchContextSize::High,
    ] {
        v.push((
            format!("web_search_options search_context_size {size}"),
            hello().web_search_options(WebSearchOptions {
                user_location: None,
                search_context_size: Some(size),
            }),
        ));
    }
    for detail in [ImageDetail::Auto, ImageDetail::Low, ImageDetail::High] {
        v.push((
            format!("image detail {detail}"),
            req(vec![Message::user(vec![Part::image_url_with_detail(
                "https://example.com/cat.png",
                detail,
            )])]),
        ));
    }
    for tier in [
        ServiceTier::Auto,
        ServiceTier::Default,
        ServiceTier::Flex,
        ServiceTier::Scale,
        ServiceTier::Priority,
        ServiceTier::Fast,
    ] {
        v.push((format!("service_tier {tier}"), hello().service_tier(tier)));
    }
    for effort in [
        ReasoningEffort::None,
        ReasoningEffort::Minimal,
        ReasoningEffort::Low,
        ReasoningEffort::Medium,
        ReasoningEffort::High,
        ReasoningEffort::Xhigh,
        ReasoningEffort::Max,
    ] {
        v.push((
            format!("reasoning_effort {effort}"),
            hello().reasoning_effort(effort),
        ));
    }
    for verbosity in [Verbosity::Low, Verbosity::Medium, Verbosity::High] {
        v.push((
            format!("verbosity {verbosity}"),
            hello().verbosity(verbosity),
        ));
    }
    for retention in [
        PromptCacheRetention::InMemory,
        PromptCacheRetention::Hours24,
    ] {
        v.push((
            format!("prompt_cache_retention {retention}"),
            hello().prompt_cache_retention(retention),
        ));
    }
    for mode in [PromptCacheMode::Implicit, PromptCacheMode::Explicit] {
        v.push((
            format!("prompt_cache_options ttl 30m, mode {mode}"),
            hello().prompt_cache_options(PromptCacheOptionsParam {
                ttl: Some(PromptCacheTtl::Minutes30),
                mode: Some(mode),
            }),
        ));
    }
    for mode in [ModerationMode::Score, ModerationMode::Block] {
        v.push((
            format!("moderation policy {mode}"),
            hello().moderation(ModerationParam {
                model: "omni-moderation-latest".into(),
                policy: Some(ModerationPolicyParam {
                    input: Some(ModerationConfigParam::from(mode.clone())),
                    output: Some(mode.into()),
                }),
            }),
        ));
    }
    // Everything at once.
    v.push((
        "every option at once".into(),
        req(vec![
            Message::developer("Be brief."),
            Message::user(vec![Part::text("Look:"), Part::image_url(PNG)]),
        ])
        .metadata([("k", "v")])
        .logprobs(true)
        .top_logprobs(3)
        .temperature(0.7)
        .top_p(0.9)
        .user("u")
        .safety_identifier("s")
        .prompt_cache_key("p")
        .prompt_cache_retention(PromptCacheRetention::Hours24)
        .prompt_cache_options(PromptCacheOptionsParam {
            ttl: Some(PromptCacheTtl::Minutes30),
            mode: Some(PromptCacheMode::Implicit),
        })
        .service_tier(ServiceTier::Flex)
        .modalities(vec![Modality::Text, Modality::Audio])
        .verbosity(Verbosity::Low)
        .reasoning_effort(ReasoningEffort::Low)
        .max_completion_tokens(256)
        .frequency_penalty(0.5)
        .presence_penalty(0.5)
        .web_search_options(WebSearchOptions {
            user_location: None,
            search_context_size: Some(WebSearchContextSize::Low),
        })
        .response_format(ResponseFormat::json_schema("answer", schema, true))
        .audio(ChatCompletionAudio::new(Voice::Coral, AudioFormat::Opus))
        .store(true)
        .moderation(ModerationParam {
            model: "omni-moderation-latest".into(),
            policy: None,
        })
        .stop(["END"])
        .logit_bias([("50256", -100)])
        .max_tokens(256)
        .n(2)
        .prediction(PredictionContent::content("x"))
        .seed(7)
        .tools(vec![function_tool(), custom_tool()])
        .tool_choice(ChatCompletionToolChoiceOption::auto())
        .parallel_tool_calls(true),
    ));
    v.into_iter()
        .map(|(name, r)| (format!("options: {name}"), r))
        .collect()
}

#[test]
fn every_request_shape_is_valid_under_the_spec() {
    let Some(url) = prism_url("every_request_shape_is_valid_under_the_spec") else {
        return;
    };
    let api = client(&url);
    let mut tally = Tally::default();

    let shapes: Vec<_> = message_shapes()
        .into_iter()
        .chain(tool_shapes())
        .chain(option_shapes())
        .collect();
    for (name, req) in &shapes {
        tally.check(name, api.create_chat_completion_with_http_info(req));
    }

    // Streamed requests: the body gets `"stream": true` from the call itself.
    let streamed: Vec<(&str, CreateChatCompletionRequest)> = vec![
        ("stream", hello()),
        (
            "stream with include_usage",
            hello().stream_options(ChatCompletionStreamOptions::include_usage()),
        ),
        (
            "stream with include_obfuscation false",
            hello().stream_options(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: Some(false),
            }),
        ),
        (
            "stream with tools and n",
            hello()
                .tools(vec![function_tool()])
                .n(2)
                .stream_options(ChatCompletionStreamOptions::default()),
        ),
    ];
    for (name, req) in &streamed {
        tally.check_stream(name, &api, req);
    }

    // Stored completions, each operation with each of its parameters.
    let ids = ["chatcmpl-abc123", "id with spaces/and?odd&chars#"];
    for id in ids {
        tally.check(
            &format!("get {id:?}"),
            api.get_chat_completion_with_http_info(id),
        );
        tally.check(
            &format!("delete {id:?}"),
            api.delete_chat_completion_with_http_info(id),
        );
        tally.check(
            &format!("update {id:?}"),
            api.update_chat_completion_with_http_info(id, [("reviewed", "yes")]),
        );
    }
    tally.check(
        "update with several pairs",
        api.update_chat_completion_with_http_info("chatcmpl-abc123", [("a", "1"), ("b", "2")]),
    );
    tally.check(
        "update with empty metadata",
        api.update_chat_completion_with_http_info(
            "chatcmpl-abc123",
            Vec::<(String, String)>::new(),
        ),
    );
    let lists = [
        ("list", ListChatCompletionsParams::new()),
        (
            "list by model",
            ListChatCompletionsParams::new().model("gpt-4o"),
        ),
        (
            "list by one metadata pair",
            ListChatCompletionsParams::new().metadata("project", "demo"),
        ),
        (
            "list by two metadata pairs",
            ListChatCompletionsParams::new()
                .metadata("project", "demo")
                .metadata("run id", "4 2&x"),
        ),
        (
            "list after",
            ListChatCompletionsParams::new().after("chatcmpl-abc123"),
        ),
        ("list limit", ListChatCompletionsParams::new().limit(5)),
        (
            "list order asc",
            ListChatCompletionsParams::new().order(Order::Asc),
        ),
        (
            "list order desc",
            ListChatCompletionsParams::new().order(Order::Desc),
        ),
        (
            "list with every parameter",
            ListChatCompletionsParams::new()
                .model("gpt-4o")
                .metadata("project", "demo")
                .after("chatcmpl-abc123")
                .limit(100)
                .order(Order::Desc),
        ),
    ];
    for (name, params) in &lists {
        tally.check(name, api.list_chat_completions_with_http_info(params));
    }
    let messages = [
        ("messages", GetChatCompletionMessagesParams::new()),
        (
            "messages after",
            GetChatCompletionMessagesParams::new().after("chatcmpl-abc123-0"),
        ),
        (
            "messages limit",
            GetChatCompletionMessagesParams::new().limit(3),
        ),
        (
            "messages order asc",
            GetChatCompletionMessagesParams::new().order(Order::Asc),
        ),
        (
            "messages order desc",
            GetChatCompletionMessagesParams::new().order("desc"),
        ),
        (
            "messages with every parameter",
            GetChatCompletionMessagesParams::new()
                .after("msg_1")
                .limit(50)
                .order(Order::Asc),
        ),
    ];
    for id in ids {
        for (name, params) in &messages {
            tally.check(
                &format!("{name} of {id:?}"),
                api.get_chat_completion_messages_with_http_info(id, params),
            );
        }
    }

    // Models: the listing, and ids with slashes and colons, each sent as one path segment.
    tally.check(
        "list models",
        ModelsApi::from(&api).list_models_with_http_info(),
    );
    for id in [
        "gpt-4o-mini",
        "meta-llama/Llama-3.1-8B",
        "models/gemini-2.5-flash",
        "ft:gpt-4o-mini:acemeco:suffix:abc123",
        "llama3.2:latest",
    ] {
        tally.check(
            &format!("retrieve model {id:?}"),
            ModelsApi::from(&api).retrieve_model_with_http_info(id),
        );
    }
    tally.finish("request shapes");
}

/// The negative control: Prism does reject what the spec forbids, in bodies, streamed bodies
/// and query strings, so the 2xx answers above mean something.
#[test]
fn prism_rejects_what_the_spec_forbids() {
    let Some(url) = prism_url("prism_rejects_what_the_spec_forbids") else {
        return;
    };
    let api = client(&url);
    let expect_422 = |what: &str, result: Result<(), Error>, field: &str| match result {
        Err(Error::Api(e)) if e.status == 422 => {
            let list = violations(&e.body);
            assert!(
                list.contains(field),
                "{what}: 422 without a violation at {field}:\n{list}"
            );
            let hit = list.lines().find(|l| l.contains(field)).unwrap_or_default();
            println!(
                "{what}: rejected as expected, {} violations, e.g.\n{hit}",
                list.lines().count()
            );
        }
        Err(e) => panic!("{what}: expected 422, got {}", describe(&e)),
        Ok(()) => panic!("{what}: expected 422, got a 2xx"),
    };
    expect_422(
        "top_logprobs 21",
        api.create_chat_completion(&hello().logprobs(true).top_logprobs(21))
            .map(drop),
        "top_logprobs",
    );
    // The typed API has one content-part union for every role; the spec narrows it per role.
    expect_422(
        "a refusal part in a user message",
        api.create_chat_completion(&req(vec![Message::user(vec![Part::refusal("no")])]))
            .map(drop),
        "messages.0",
    );
    expect_422(
        "a streamed request with n 0",
        api.create_chat_completion_stream(&hello().n(0)).map(drop),
        "n",
    );
    expect_422(
        "a list ordered sideways",
        api.list_chat_completions(&ListChatCompletionsParams::new().order("sideways"))
            .map(drop),
        "order",
    );
    expect_422(
        "messages ordered sideways",
        api.get_chat_completion_messages(
            "chatcmpl-abc123",
            &GetChatCompletionMessagesParams::new().order("sideways"),
        )
        .map(drop),
        "order",
    );
    // The models routes exist in the spec Prism serves: a path that is not one is a 404,
    // and a listing without a key is refused, so the 2xx answers above mean something.
    let unknown = ModelsApi::new(
        Config::new()
            .api_key("sk-prism-dummy")
            .base_url(format!("{url}/models/meta-llama"))
            .max_retries(0),
    )
    .retrieve_model("Llama-3.1-8B");
    match unknown {
        Err(Error::Api(e)) if e.status == 404 => {
            println!("a model id split over two segments: 404 as expected")
        }
        other => panic!("/models/meta-llama/models/Llama-3.1-8B: expected 404, got {other:?}"),
    }
    let keyless = ModelsApi::new(Config::new().base_url(&url).max_retries(0)).list_models();
    match keyless {
        Err(Error::Api(e)) if e.status == 401 => println!("models without a key: 401 as expected"),
        other => panic!("models without a key: expected 401, got {other:?}"),
    }
}

// ---- dynamic bodies -------------------------------------------------------------------

/// What the spec fixes in a response message must land in typed variants, not catch-alls.
fn check_message(m: &ChatCompletionResponseMessage, role_fixed: bool) -> Result<(), String> {
    if role_fixed && m.role.as_ref() != Some(&Role::Assistant) {
        return Err(format!("role {:?} is not Role::Assistant", m.role));
    }
    if let Some(Role::Other(r)) = &m.role {
        return Err(format!("role {r:?} is not a known Role"));
    }
    for call in m.tool_calls() {
        if let ChatCompletionMessageToolCalls::Other(v) = call {
            return Err(format!("tool call decoded as Other: {v}"));
        }
    }
    for a in m.annotations.iter().flatten() {
        if let ChatCompletionResponseMessageAnnotation::Other(v) = a {
            return Err(format!("annotation decoded as Other: {v}"));
        }
    }
    Ok(())
}

fn check_completion(c: &CreateChatCompletionResponse, object: &str) -> Result<(), String> {
    if c.object != object {
        return Err(format!("object {:?}, expected {object:?}", c.object));
    }
    if let Some(ServiceTier::Other(t)) = &c.service_tier {
        return Err(format!("service_tier {t:?} is not a known ServiceTier"));
    }
    for choice in &c.choices {
        if let Some(FinishReason::Other(r)) = &choice.finish_reason {
            return Err(format!("finish_reason {r:?} is not a known FinishReason"));
        }
        check_message(&choice.message, true)?;
    }
    Ok(())
}

/// What the spec requires of a model must land in the typed fields, never in `extra`.
fn check_model(m: &Model) -> Result<(), String> {
    if m.object != "model" {
        return Err(format!("object {:?}, expected \"model\"", m.object));
    }
    if m.created.is_none() || m.owned_by.is_none() {
        return Err(format!(
            "created or owned_by missing (the spec requires them): {m:?}"
        ));
    }
    for key in ["id", "object", "created", "owned_by", "shutdown_date"] {
        if m.extra.contains_key(key) {
            return Err(format!("{key} fell into extra: {:?}", m.extra[key]));
        }
    }
    Ok(())
}

#[test]
fn random_schema_valid_responses_decode() {
    let Some(url) = prism_url("random_schema_valid_responses_decode") else {
        return;
    };
    // `Prefer: dynamic=true` makes Prism generate a random schema-valid body per request.
    let api = client(&url).with_options(RequestOptions::new().header("Prefer", "dynamic=true"));
    let n = dynamic_per_operation();
    let create = hello();
    let list = ListChatCompletionsParams::new().limit(3);
    let msgs = GetChatCompletionMessagesParams::new().limit(3);
    let runs = [
        decode_many(
            "createChatCompletion",
            n,
            || api.create_chat_completion(&create),
            |c| check_completion(c, "chat.completion"),
        ),
        decode_many(
            "getChatCompletion",
            n,
            || api.get_chat_completion("chatcmpl-abc123"),
            |c| check_completion(c, "chat.completion"),
        ),
        decode_many(
            "updateChatCompletion",
            n,
            || api.update_chat_completion("chatcmpl-abc123", [("k", "v")]),
            |c| check_completion(c, "chat.completion"),
        ),
        decode_many(
            "deleteChatCompletion",
            n,
            || api.delete_chat_completion("chatcmpl-abc123"),
            |d: &ChatCompletionDeleted| {
                if d.object == "chat.completion.deleted" {
                    Ok(())
                } else {
                    Err(format!("object {:?}", d.object))
                }
            },
        ),
        decode_many(
            "listChatCompletions",
            n,
            || api.list_chat_completions(&list),
            |l: &ChatCompletionList| {
                if l.object != "list" {
                    return Err(format!("object {:?}", l.object));
                }
                if l.first_id.is_none() || l.last_id.is_none() {
                    return Err("first_id or last_id missing (the spec requires them)".into());
                }
                l.data
                    .iter()
                    .try_for_each(|c| check_completion(c, "chat.completion"))
            },
        ),
        decode_many(
            "getChatCompletionMessages",
            n,
            || api.get_chat_completion_messages("chatcmpl-abc123", &msgs),
            |l: &ChatCompletionMessageList| {
                if l.object != "list" {
                    return Err(format!("object {:?}", l.object));
                }
                for d in &l.data {
                    check_message(&d.message, false)?;
                    for p in d.content_parts.iter().flatten() {
                        if let ChatCompletionMessageListContentPart::Other(v) = p {
                            return Err(format!("content part decoded as Other: {v}"));
                        }
                    }
                }
                Ok(())
            },
        ),
    ];
    let models = [
        decode_many(
            "listModels",
            n,
            || ModelsApi::from(&api).list_models(),
            |l: &ModelList| {
                if l.object != "list" {
                    return Err(format!("object {:?}", l.object));
                }
                l.data.iter().try_for_each(check_model)
            },
        ),
        decode_many(
            "retrieveModel",
            n,
            || ModelsApi::from(&api).retrieve_model("meta-llama/Llama-3.1-8B"),
            check_model,
        ),
    ];
    let runs: Vec<_> = runs.into_iter().chain(models).collect();
    let total: usize = runs.iter().map(|(ok, _)| ok).sum();
    let failures: Vec<&String> = runs.iter().flat_map(|(_, f)| f).collect();
    println!(
        "dynamic bodies: {total} decoded and checked over {} operations, {} failures",
        runs.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} dynamic bodies failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
