//! Golden tests: the exact JSON each request type serializes to.

// Tests may unwrap and index: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::{json, Value};
use sync_openai::types::{
    AllowedToolsMode, AudioFormat, ChatCompletionAudio, ChatCompletionFunctionCallOption,
    ChatCompletionFunctions, ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestFunctionMessage,
    ChatCompletionRequestMessage as Message, ChatCompletionRequestMessageContentPart as Part,
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionToolChoiceOption, CreateChatCompletionRequest, CustomToolFormat,
    CustomToolProperties, FunctionCall, FunctionCallMode, FunctionObject, GrammarSyntax,
    ImageDetail, InputAudioFormat, Modality, ModerationConfigParam, ModerationMode,
    ModerationParam, ModerationPolicyParam, PredictionContent, PromptCacheMode,
    PromptCacheOptionsParam, PromptCacheRetention, PromptCacheTtl, ReasoningEffort, ResponseFormat,
    ResponseFormatJsonSchema, ServiceTier, StopConfiguration, ToolChoiceMode, Verbosity, Voice,
    VoiceIdsOrCustomVoice, WebSearchContextSize, WebSearchLocation, WebSearchOptions,
};

/// `serde_json::to_value(v).unwrap()`.
macro_rules! to_json {
    ($v:expr $(,)?) => {
        serde_json::to_value($v).unwrap()
    };
}

/// Serializes `$v` (a reference), checks the JSON equals `$expected`, then decodes that JSON
/// back and checks it equals `$v`.
macro_rules! golden {
    ($v:expr, $expected:expr $(,)?) => {{
        let v = $v;
        let expected: Value = $expected;
        assert_eq!(serde_json::to_value(v).unwrap(), expected);
        let back = same_type(v, serde_json::from_value(expected).unwrap());
        assert_eq!(&back, v);
    }};
}

/// Returns `value`; ties its type to the type of the first argument for inference.
fn same_type<T>(_: &T, value: T) -> T {
    value
}

fn req() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("m", vec![Message::user("hi")])
}

fn base() -> Value {
    json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
}

/// `base()` with `key: value` added.
fn base_with(key: &str, value: Value) -> Value {
    let mut v = base();
    v.as_object_mut().unwrap().insert(key.to_owned(), value);
    v
}

#[test]
fn minimal_request_has_no_unset_options() {
    let v = to_json!(&req());
    assert_eq!(v, base());
    // no key is null anywhere
    assert_eq!(v.as_object().unwrap().len(), 2);
}

#[test]
fn builder_with_many_setters() {
    let r = CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        vec![Message::system("Be brief."), Message::user("Hello")],
    )
    .message(Message::assistant("Hi!"))
    .temperature(0.2)
    .top_p(0.9)
    .max_completion_tokens(64)
    .max_tokens(32)
    .n(2)
    .seed(-7)
    .frequency_penalty(0.5)
    .presence_penalty(-0.5)
    .top_logprobs(3)
    .logprobs(true)
    .store(true)
    .stream(false)
    .parallel_tool_calls(false)
    .user("u1")
    .safety_identifier("sid")
    .prompt_cache_key("pck")
    .prompt_cache_retention(PromptCacheRetention::Hours24)
    .service_tier(ServiceTier::Flex)
    .modalities(vec![Modality::Text, Modality::Audio])
    .verbosity(Verbosity::Low)
    .reasoning_effort(ReasoningEffort::Minimal)
    .stop("END")
    .extra("top_k", 40);
    golden!(
        &r,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi!"}
            ],
            "temperature": 0.2,
            "top_p": 0.9,
            "max_completion_tokens": 64,
            "max_tokens": 32,
            "n": 2,
            "seed": -7,
            "frequency_penalty": 0.5,
            "presence_penalty": -0.5,
            "top_logprobs": 3,
            "logprobs": true,
            "store": true,
            "stream": false,
            "parallel_tool_calls": false,
            "user": "u1",
            "safety_identifier": "sid",
            "prompt_cache_key": "pck",
            "prompt_cache_retention": "24h",
            "service_tier": "flex",
            "modalities": ["text", "audio"],
            "verbosity": "low",
            "reasoning_effort": "minimal",
            "stop": "END",
            "top_k": 40
        }),
    );
}

#[test]
fn open_enum_setters_take_strings() {
    let r = req()
        .service_tier("on_demand")
        .reasoning_effort("high")
        .verbosity("extreme");
    assert_eq!(r.reasoning_effort, Some(ReasoningEffort::High));
    assert_eq!(r.service_tier, Some(ServiceTier::Other("on_demand".into())));
    let v = to_json!(&r);
    assert_eq!(v["service_tier"], "on_demand");
    assert_eq!(v["verbosity"], "extreme");
}

#[test]
fn every_message_role() {
    let assistant_with_tools = ChatCompletionRequestAssistantMessage::new()
        .tool_calls(vec![ChatCompletionMessageToolCalls::from(
            ChatCompletionMessageToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#),
        )])
        .refusal("no")
        .name("bot")
        .audio("audio_1")
        .function_call(FunctionCall::new("legacy", "{}"))
        .extra("reasoning_content", "thinking...");
    let msgs = vec![
        Message::developer("Follow the rules."),
        Message::system("Be brief."),
        Message::from(ChatCompletionRequestUserMessage::new("Hello").name("ann")),
        Message::assistant("Hi"),
        Message::from(assistant_with_tools),
        Message::tool("call_1", "sunny"),
        Message::from(ChatCompletionRequestFunctionMessage::new(
            "legacy",
            Some("42".into()),
        )),
        Message::from(ChatCompletionRequestFunctionMessage::new("legacy", None)),
    ];
    golden!(
        &msgs,
        json!([
            {"role": "developer", "content": "Follow the rules."},
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello", "name": "ann"},
            {"role": "assistant", "content": "Hi"},
            {
                "role": "assistant",
                "refusal": "no",
                "name": "bot",
                "audio": {"id": "audio_1"},
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}
                }],
                "function_call": {"name": "legacy", "arguments": "{}"},
                "reasoning_content": "thinking..."
            },
            {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
            {"role": "function", "content": "42", "name": "legacy"},
            // the spec requires `content` on function messages, so `None` is sent as null
            {"role": "function", "content": null, "name": "legacy"}
        ]),
    );
    assert_eq!(msgs[5].role().as_str(), "tool");
}

#[test]
fn vendor_field_on_assistant_message_round_trips() {
    let wire = json!({"role": "assistant", "content": "4", "reasoning_content": "2+2=4"});
    let m: Message = serde_json::from_value(wire.clone()).unwrap();
    let Message::Assistant(a) = &m else {
        unreachable!("expected an assistant message, got {m:?}")
    };
    assert_eq!(a.extra["reasoning_content"], "2+2=4");
    assert_eq!(to_json!(&m), wire);
}

#[test]
fn every_content_part_kind() {
    let m = Message::user(vec![
        Part::text("What is this?"),
        Part::image_url("https://e.x/a.png"),
        Part::image_url_with_detail("data:image/png;base64,AAAA", ImageDetail::Low),
        Part::input_audio("UklGRg==", InputAudioFormat::Wav),
        Part::file_id("file-123"),
        Part::file_data("a.pdf", "data:application/pdf;base64,JVBE"),
        Part::text("cached prefix").with_cache_breakpoint(),
    ]);
    golden!(
        &m,
        json!({"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://e.x/a.png"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {"type": "file", "file": {"file_id": "file-123"}},
            {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"}},
            {"type": "text", "text": "cached prefix", "prompt_cache_breakpoint": {"mode": "explicit"}}
        ]}),
    );
    let refusal = Message::assistant(vec![Part::refusal("I can't.")]);
    golden!(
        &refusal,
        json!({"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]}),
    );
}

#[test]
fn unknown_or_malformed_request_part_is_an_error() {
    let bad = json!({"role": "user", "content": [{"type": "video", "video": {}}]});
    assert!(serde_json::from_value::<Message>(bad).is_err());
    let bad = json!({"role": "user", "content": [{"type": "image_url"}]});
    assert!(serde_json::from_value::<Message>(bad).is_err());
}

#[test]
fn every_tool_form() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}});
    let tools = vec![
        ChatCompletionTool::function("get_weather", "Get the weather", schema.clone()),
        ChatCompletionTool::from(FunctionObject::new("strict_fn").strict(true)),
        ChatCompletionTool::custom("notes", "Free text"),
        ChatCompletionTool::Custom {
            custom: CustomToolProperties {
                name: "sql".into(),
                description: None,
                format: Some(CustomToolFormat::grammar(
                    "start: SELECT",
                    GrammarSyntax::Lark,
                )),
            },
        },
        ChatCompletionTool::Custom {
            custom: CustomToolProperties {
                name: "txt".into(),
                description: None,
                format: Some(CustomToolFormat::Text),
            },
        },
    ];
    let r = req().tools(tools);
    golden!(
        &r,
        base_with(
            "tools",
            json!([
                {"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": schema}},
                {"type": "function", "function": {"name": "strict_fn", "strict": true}},
                {"type": "custom", "custom": {"name": "notes", "description": "Free text"}},
                {"type": "custom", "custom": {"name": "sql", "format": {"type": "grammar", "grammar": {"definition": "start: SELECT", "syntax": "lark"}}}},
                {"type": "custom", "custom": {"name": "txt", "format": {"type": "text"}}}
            ]),
        ),
    );
}

#[test]
fn every_tool_choice_form() {
    let cases = [
        (ChatCompletionToolChoiceOption::none(), json!("none")),
        (ChatCompletionToolChoiceOption::auto(), json!("auto")),
        (
            ChatCompletionToolChoiceOption::from(ToolChoiceMode::Required),
            json!("required"),
        ),
        (
            ChatCompletionToolChoiceOption::function("get_weather"),
            json!({"type": "function", "function": {"name": "get_weather"}}),
        ),
        (
            ChatCompletionToolChoiceOption::custom("sql"),
            json!({"type": "custom", "custom": {"name": "sql"}}),
        ),
        (
            ChatCompletionToolChoiceOption::allowed_tools(
                AllowedToolsMode::Auto,
                vec![
                    json!({"type": "function", "function": {"name": "get_weather"}}),
                    json!({"type": "function", "function": {"name": "get_time"}}),
                ],
            ),
            json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [
                {"type": "function", "function": {"name": "get_weather"}},
                {"type": "function", "function": {"name": "get_time"}}
            ]}}),
        ),
    ];
    for (choice, wire) in cases {
        golden!(&req().tool_choice(choice), base_with("tool_choice", wire));
    }
}

#[test]
fn deprecated_functions_and_function_call() {
    let r = req()
        .functions(vec![ChatCompletionFunctions {
            description: Some("d".into()),
            name: "f".into(),
            parameters: Some(json!({"type": "object"})),
        }])
        .function_call(FunctionCallMode::None);
    let mut expected = base_with(
        "functions",
        json!([{"description": "d", "name": "f", "parameters": {"type": "object"}}]),
    );
    expected["function_call"] = json!("none");
    golden!(&r, expected);
    let r = req().function_call(ChatCompletionFunctionCallOption::Named { name: "f".into() });
    golden!(&r, base_with("function_call", json!({"name": "f"})));
}

#[test]
fn every_response_format() {
    golden!(
        &req().response_format(ResponseFormat::text()),
        base_with("response_format", json!({"type": "text"})),
    );
    golden!(
        &req().response_format(ResponseFormat::json_object()),
        base_with("response_format", json!({"type": "json_object"})),
    );
    let schema =
        json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]});
    golden!(
        &req().response_format(ResponseFormat::json_schema("answer", schema.clone(), true)),
        base_with(
            "response_format",
            json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": true}}),
        ),
    );
    golden!(
        &req().response_format(ResponseFormatJsonSchema {
            name: "bare".into(),
            description: Some("desc".into()),
            schema: None,
            strict: None,
        }),
        base_with(
            "response_format",
            json!({"type": "json_schema", "json_schema": {"name": "bare", "description": "desc"}}),
        ),
    );
}

#[test]
fn audio_param() {
    golden!(
        &req().audio(ChatCompletionAudio::new(Voice::Alloy, AudioFormat::Pcm16)),
        base_with("audio", json!({"voice": "alloy", "format": "pcm16"})),
    );
    golden!(
        &req().audio(ChatCompletionAudio::new(
            VoiceIdsOrCustomVoice::custom("voice_1234"),
            "mp3",
        )),
        base_with(
            "audio",
            json!({"voice": {"id": "voice_1234"}, "format": "mp3"}),
        ),
    );
    let r = req().audio(ChatCompletionAudio::new("fable", AudioFormat::Wav));
    assert_eq!(to_json!(&r)["audio"]["voice"], "fable");
}

#[test]
fn prediction() {
    golden!(
        &req().prediction(PredictionContent::content("fn main() {}")),
        base_with(
            "prediction",
            json!({"type": "content", "content": "fn main() {}"}),
        ),
    );
    golden!(
        &req().prediction(PredictionContent::content(vec![Part::text("a")])),
        base_with(
            "prediction",
            json!({"type": "content", "content": [{"type": "text", "text": "a"}]}),
        ),
    );
}

#[test]
fn web_search_options() {
    let opts = WebSearchOptions {
        user_location: Some(
            WebSearchLocation {
                country: Some("US".into()),
                city: Some("San Francisco".into()),
                region: None,
                timezone: Some("America/Los_Angeles".into()),
            }
            .into(),
        ),
        search_context_size: Some(WebSearchContextSize::High),
    };
    golden!(
        &req().web_search_options(opts),
        base_with(
            "web_search_options",
            json!({
                "user_location": {"type": "approximate", "approximate": {
                    "country": "US", "city": "San Francisco", "timezone": "America/Los_Angeles"
                }},
                "search_context_size": "high"
            }),
        ),
    );
    golden!(
        &req().web_search_options(WebSearchOptions::default()),
        base_with("web_search_options", json!({})),
    );
}

#[test]
fn logit_bias_and_metadata_are_sorted_maps() {
    let r = req()
        .logit_bias([("50256", -100), ("1234", 5)])
        .metadata([("z", "last"), ("a", "first")]);
    golden!(
        &r,
        json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "logit_bias": {"1234": 5, "50256": -100},
            "metadata": {"a": "first", "z": "last"}
        }),
    );
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.find("\"1234\"").unwrap() < text.find("\"50256\"").unwrap());
}

#[test]
fn stream_options() {
    golden!(
        &req()
            .stream(true)
            .stream_options(ChatCompletionStreamOptions::include_usage()),
        {
            let mut v = base_with("stream", json!(true));
            v["stream_options"] = json!({"include_usage": true});
            v
        },
    );
    golden!(
        &req().stream_options(ChatCompletionStreamOptions {
            include_usage: None,
            include_obfuscation: Some(false),
        }),
        base_with("stream_options", json!({"include_obfuscation": false})),
    );
}

#[test]
fn moderation_param() {
    golden!(
        &req().moderation(ModerationParam {
            model: "omni-moderation-latest".into(),
            policy: Some(ModerationPolicyParam {
                input: Some(ModerationConfigParam::from(ModerationMode::Block)),
                output: Some(ModerationMode::Score.into()),
            }),
        }),
        base_with(
            "moderation",
            json!({"model": "omni-moderation-latest", "policy": {
                "input": {"mode": "block"}, "output": {"mode": "score"}
            }}),
        ),
    );
    golden!(
        &req().moderation(ModerationParam {
            model: "omni".into(),
            policy: None,
        }),
        base_with("moderation", json!({"model": "omni"})),
    );
}

#[test]
fn prompt_cache_options() {
    golden!(
        &req().prompt_cache_options(PromptCacheOptionsParam {
            ttl: Some(PromptCacheTtl::Minutes30),
            mode: Some(PromptCacheMode::Explicit),
        }),
        base_with(
            "prompt_cache_options",
            json!({"ttl": "30m", "mode": "explicit"}),
        ),
    );
    golden!(
        &req().prompt_cache_retention(PromptCacheRetention::InMemory),
        base_with("prompt_cache_retention", json!("in_memory")),
    );
}

#[test]
fn stop_forms() {
    golden!(
        &req().stop(vec!["a", "b"]),
        base_with("stop", json!(["a", "b"])),
    );
    golden!(&req().stop(["x"]), base_with("stop", json!(["x"])));
    golden!(
        &req().stop(StopConfiguration::from(String::from("s"))),
        base_with("stop", json!("s")),
    );
}

#[test]
fn extra_fields_are_top_level_and_round_trip() {
    let r = req()
        .extra("top_k", 40)
        .extra("repetition_penalty", 1.1)
        .extra("chat_template_kwargs", json!({"enable_thinking": false}));
    let v = to_json!(&r);
    assert_eq!(v["top_k"], 40);
    assert_eq!(v["repetition_penalty"], 1.1);
    assert_eq!(v["chat_template_kwargs"]["enable_thinking"], false);
    let back: CreateChatCompletionRequest = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.extra.len(), 3);
}

#[test]
fn unset_options_are_absent_not_null() {
    let r = req()
        .tools(vec![ChatCompletionTool::from(FunctionObject::new("f"))])
        .response_format(ResponseFormat::json_schema("n", json!({}), false))
        .web_search_options(WebSearchOptions::default());
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("null"), "{text}");
    // nested optional fields are absent too
    let v = to_json!(&r);
    assert_eq!(
        v["tools"][0],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert!(v.get("temperature").is_none());
}

#[test]
fn response_message_becomes_next_turn_assistant_message() {
    use sync_openai::types::ChatCompletionResponseMessage;
    let m: ChatCompletionResponseMessage = serde_json::from_value(json!({
        "role": "assistant",
        "content": null,
        "refusal": null,
        "annotations": [],
        "reasoning_content": "need weather",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]
    }))
    .unwrap();
    let back = Message::from(m);
    assert_eq!(
        to_json!(&back),
        json!({
            "role": "assistant",
            "reasoning_content": "need weather",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]
        })
    );
    let m: ChatCompletionResponseMessage = serde_json::from_value(
        json!({"role": "assistant", "content": [{"type": "text", "text": "Hi"}]}),
    )
    .unwrap();
    assert_eq!(
        to_json!(&Message::from(m)),
        json!({"role": "assistant", "content": "Hi"})
    );
}
