//! Every example of the OpenAPI spec (spec/examples, vendored) decodes into its typed
//! struct, shows the expected values, and survives a round trip.
//!
//! What "round trip" checks, precisely, for each example `original` (a `serde_json::Value`):
//! 1. `typed = decode(original)`; `again = decode(encode(typed))`; `typed == again`.
//! 2. `strip_nulls(encode(typed)) == strip_nulls(original)`, where `strip_nulls` removes every
//!    object member whose value is `null`, recursively. Our types leave out `None` fields when
//!    serializing (so `"refusal": null` is dropped), while unknown keys holding `null` (such as
//!    `"tool_choice": null` on a stored completion) are kept in `extra` and re-emitted; removing
//!    nulls from both sides makes the comparison exact about everything else, numbers included.

// Tests may unwrap and index: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::{json, Value};
use sync_openai::types::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage,
    ChatCompletionRequestMessageContent, ChatCompletionRequestMessageContentPart,
    ChatCompletionTool, ChatCompletionToolChoiceOption, CreateChatCompletionRequest,
    CreateChatCompletionResponse, CreateChatCompletionStreamResponse, FinishReason, Role,
    ServiceTier, UpdateChatCompletionRequest,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/examples");

fn load(name: &str) -> Value {
    let path = format!("{DIR}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        unreachable!("cannot read {path}: {e}");
    });
    serde_json::from_str(&text).unwrap()
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// Returns `value`; ties its type to the type of the first argument for inference.
fn same_type<T>(_: &T, value: T) -> T {
    value
}

/// Decodes the example file `$name` into the type the caller's binding asks for, checks both
/// round-trip properties, and evaluates to the typed value.
macro_rules! check {
    ($name:expr $(,)?) => {{
        let name: &str = $name;
        let original = load(name);
        let typed = serde_json::from_value(original.clone())
            .unwrap_or_else(|e| unreachable!("{name} does not decode: {e}"));
        let encoded = serde_json::to_value(&typed).unwrap();
        let again = same_type(&typed, serde_json::from_value(encoded.clone()).unwrap());
        assert_eq!(typed, again, "{name}: decode(encode(x)) != x");
        assert_eq!(
            strip_nulls(&encoded),
            strip_nulls(&original),
            "{name}: re-encoded JSON differs"
        );
        typed
    }};
}

#[test]
fn every_example_file_is_covered() {
    let index = load("index.json");
    let files: Vec<&str> = index["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    let covered = [
        "list-chat-completions.response.json",
        "create-chat-completion.default.request.json",
        "create-chat-completion.default.response.json",
        "create-chat-completion.image-input.request.json",
        "create-chat-completion.image-input.response.json",
        "create-chat-completion.streaming.request.json",
        "create-chat-completion.streaming.response-chunks.json",
        "create-chat-completion.functions.request.json",
        "create-chat-completion.functions.response.json",
        "create-chat-completion.logprobs.request.json",
        "create-chat-completion.logprobs.response.json",
        "get-chat-completion.response.json",
        "update-chat-completion.request.json",
        "update-chat-completion.response.json",
        "delete-chat-completion.response.json",
        "get-chat-completion-messages.response.json",
        "object.chat-completion.json",
        "object.chat-completion-chunk.stream.json",
        "object.chat-completion-list.json",
        "object.chat-completion-message-list.json",
    ];
    for f in &files {
        assert!(covered.contains(f), "example {f} has no test");
    }
    assert_eq!(files.len(), covered.len());
}

// ---- requests ----

#[test]
fn default_request() {
    let r: CreateChatCompletionRequest = check!("create-chat-completion.default.request.json");
    assert_eq!(r.model, "VAR_chat_model_id");
    assert_eq!(r.messages.len(), 2);
    assert_eq!(
        r.messages[0],
        ChatCompletionRequestMessage::developer("You are a helpful assistant.")
    );
    assert_eq!(r.messages[1], ChatCompletionRequestMessage::user("Hello!"));
    assert_eq!(
        r,
        CreateChatCompletionRequest::new(
            "VAR_chat_model_id",
            vec![
                ChatCompletionRequestMessage::developer("You are a helpful assistant."),
                ChatCompletionRequestMessage::user("Hello!"),
            ]
        )
    );
}

#[test]
fn image_input_request() {
    let r: CreateChatCompletionRequest = check!("create-chat-completion.image-input.request.json");
    assert_eq!(r.max_tokens, Some(300));
    let ChatCompletionRequestMessage::User(u) = &r.messages[0] else {
        unreachable!("expected a user message, got {:?}", r.messages[0])
    };
    let ChatCompletionRequestMessageContent::Parts(parts) = &u.content else {
        unreachable!("expected parts, got {:?}", u.content)
    };
    assert_eq!(
        parts[0],
        ChatCompletionRequestMessageContentPart::text("What is in this image?")
    );
    let ChatCompletionRequestMessageContentPart::ImageUrl(img) = &parts[1] else {
        unreachable!("expected an image part, got {:?}", parts[1])
    };
    assert!(img.image_url.url.ends_with("boardwalk.jpg"));
    assert_eq!(img.image_url.detail, None);
}

#[test]
fn streaming_request() {
    let r: CreateChatCompletionRequest = check!("create-chat-completion.streaming.request.json");
    assert_eq!(r.stream, Some(true));
    assert_eq!(r.messages.len(), 2);
}

#[test]
fn functions_request() {
    let r: CreateChatCompletionRequest = check!("create-chat-completion.functions.request.json");
    assert_eq!(r.tool_choice, Some(ChatCompletionToolChoiceOption::auto()));
    let tools = r.tools.as_ref().unwrap();
    assert_eq!(tools.len(), 1);
    let ChatCompletionTool::Function { function } = &tools[0] else {
        unreachable!("expected a function tool, got {:?}", tools[0])
    };
    assert_eq!(function.name, "get_current_weather");
    assert_eq!(
        function.parameters.as_ref().unwrap()["required"],
        json!(["location"])
    );
}

#[test]
fn logprobs_request() {
    let r: CreateChatCompletionRequest = check!("create-chat-completion.logprobs.request.json");
    assert_eq!(r.logprobs, Some(true));
    assert_eq!(r.top_logprobs, Some(2));
}

#[test]
fn update_request() {
    let r: UpdateChatCompletionRequest = check!("update-chat-completion.request.json");
    assert_eq!(r, UpdateChatCompletionRequest::new([("foo", "bar")]));
}

// ---- responses ----

#[test]
fn default_response() {
    let r: CreateChatCompletionResponse = check!("create-chat-completion.default.response.json");
    assert_eq!(r.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assert_eq!(r.object, "chat.completion");
    assert_eq!(r.created, 1_741_569_952);
    assert_eq!(r.service_tier, Some(ServiceTier::Default));
    let c = &r.choices[0];
    assert_eq!(c.index, 0);
    assert_eq!(c.finish_reason, Some(FinishReason::Stop));
    assert_eq!(c.message.role, Some(Role::Assistant));
    assert_eq!(
        c.message.content.as_deref(),
        Some("Hello! How can I assist you today?")
    );
    assert_eq!(c.message.refusal, None);
    assert_eq!(c.message.annotations, Some(vec![]));
    let u = r.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (19, 10, 29)
    );
    assert_eq!(
        u.prompt_tokens_details.as_ref().unwrap().cached_tokens,
        Some(0)
    );
    assert_eq!(
        u.completion_tokens_details
            .as_ref()
            .unwrap()
            .rejected_prediction_tokens,
        Some(0)
    );
    assert!(r.extra.is_empty());
}

#[test]
fn image_input_response() {
    let r: CreateChatCompletionResponse =
        check!("create-chat-completion.image-input.response.json");
    assert!(r.choices[0]
        .message
        .content
        .as_deref()
        .unwrap()
        .starts_with("The image shows a wooden boardwalk"));
    assert_eq!(r.usage.unwrap().total_tokens, 1163);
}

#[test]
fn functions_response() {
    let r: CreateChatCompletionResponse = check!("create-chat-completion.functions.response.json");
    let c = &r.choices[0];
    assert_eq!(c.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(c.message.content, None);
    let calls = c.message.tool_calls();
    assert_eq!(calls.len(), 1);
    let ChatCompletionMessageToolCalls::Function(call) = &calls[0] else {
        unreachable!("expected a function call, got {:?}", calls[0])
    };
    assert_eq!(call.id, "call_abc123");
    assert_eq!(call.function.name, "get_current_weather");
    let args: Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert_eq!(args, json!({"location": "Boston, MA"}));
    assert!(call.extra.is_empty());
}

#[test]
fn logprobs_response() {
    let r: CreateChatCompletionResponse = check!("create-chat-completion.logprobs.response.json");
    assert_eq!(r.system_fingerprint, None); // sent as null
    let lp = r.choices[0].logprobs.as_ref().unwrap();
    let content = lp.content.as_ref().unwrap();
    assert_eq!(content.len(), 9);
    assert_eq!(content[0].token, "Hello");
    assert_eq!(content[0].logprob, -0.31725305);
    assert_eq!(content[0].bytes, Some(vec![72, 101, 108, 108, 111]));
    assert_eq!(content[0].top_logprobs[1].token, "Hi");
    assert_eq!(content[2].top_logprobs[1].token, "<|end|>");
    assert_eq!(content[2].top_logprobs[1].bytes, None);
    assert_eq!(content[4].logprob, -3.7697225e-6);
    assert_eq!(lp.refusal, None);
}

#[test]
fn object_chat_completion() {
    let r: CreateChatCompletionResponse = check!("object.chat-completion.json");
    assert_eq!(r.system_fingerprint.as_deref(), Some("fp_fc9f1d7035"));
    assert_eq!(r.model, "gpt-4o-2024-08-06");
}

/// A stored completion as `GET /chat/completions/{id}` returns it: extra keys (`request_id`,
/// `seed`, `tool_choice: null`, …) are kept.
fn assert_stored(r: &CreateChatCompletionResponse) {
    assert_eq!(r.object, "chat.completion");
    assert_eq!(r.created, 1_738_960_610);
    assert_eq!(
        r.extra["request_id"],
        "req_ded8ab984ec4bf840f37566c1011c417"
    );
    assert_eq!(r.extra["seed"], json!(4_944_116_822_809_979_520_u64));
    assert_eq!(r.extra["tool_choice"], Value::Null);
    assert_eq!(r.extra["top_p"], json!(1.0));
    let m = &r.choices[0].message;
    assert_eq!(m.role, Some(Role::Assistant));
    assert!(m
        .content
        .as_deref()
        .unwrap()
        .starts_with("Mind of circuits hum"));
    assert_eq!(m.tool_calls, None);
    assert_eq!(m.function_call, None);
    assert_eq!(r.usage.as_ref().unwrap().total_tokens, 31);
}

#[test]
fn get_chat_completion_response() {
    let r: CreateChatCompletionResponse = check!("get-chat-completion.response.json");
    assert_eq!(r.id, "chatcmpl-abc123");
    assert_eq!(r.metadata, Some(Default::default()));
    assert_stored(&r);
}

#[test]
fn update_chat_completion_response() {
    let r: CreateChatCompletionResponse = check!("update-chat-completion.response.json");
    assert_eq!(
        r.metadata.as_ref().unwrap().get("foo").map(String::as_str),
        Some("bar")
    );
    assert_stored(&r);
}

#[test]
fn delete_response() {
    let r: ChatCompletionDeleted = check!("delete-chat-completion.response.json");
    assert_eq!(r.object, "chat.completion.deleted");
    assert_eq!(r.id, "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2");
    assert!(r.deleted);
}

#[test]
fn list_responses() {
    for name in [
        "list-chat-completions.response.json",
        "object.chat-completion-list.json",
    ] {
        let l: ChatCompletionList = check!(name);
        assert_eq!(l.object, "list");
        assert_eq!(l.data.len(), 1);
        assert!(!l.has_more);
        assert_eq!(
            l.first_id.as_deref(),
            Some("chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2")
        );
        assert_eq!(l.last_id, l.first_id);
        assert_eq!(l.data[0].id, "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2");
        assert_stored(&l.data[0]);
    }
}

#[test]
fn message_list_responses() {
    for name in [
        "get-chat-completion-messages.response.json",
        "object.chat-completion-message-list.json",
    ] {
        let l: ChatCompletionMessageList = check!(name);
        assert_eq!(l.object, "list");
        assert!(!l.has_more);
        let d = &l.data[0];
        assert_eq!(d.id, "chatcmpl-AyPNinnUqUDYo9SAdA52NobMflmj2-0");
        // a stored request message: role user, and a `name: null` the spec does not list
        assert_eq!(d.message.role, Some(Role::User));
        assert_eq!(d.message.content.as_deref(), Some("write a haiku about ai"));
        assert_eq!(d.message.extra["name"], Value::Null);
        assert_eq!(d.content_parts, None);
        // and it comes back exactly, `name: null` included
        let encoded = serde_json::to_value(&l).unwrap();
        assert_eq!(encoded["data"][0]["name"], Value::Null);
        assert!(encoded["data"][0].as_object().unwrap().contains_key("name"));
    }
}

fn check_chunks(name: &str) -> Vec<CreateChatCompletionStreamResponse> {
    let chunks: Vec<CreateChatCompletionStreamResponse> = check!(name);
    assert_eq!(chunks.len(), 3);
    for c in &chunks {
        assert_eq!(c.id, "chatcmpl-123");
        assert_eq!(c.object, "chat.completion.chunk");
        assert_eq!(c.created, 1_694_268_190);
        assert_eq!(c.model, "gpt-4o-mini");
        assert_eq!(c.system_fingerprint.as_deref(), Some("fp_44709d6fcb"));
        assert_eq!(c.choices.len(), 1);
        assert_eq!(c.choices[0].logprobs, None);
    }
    let d0 = &chunks[0].choices[0].delta;
    assert_eq!(d0.role, Some(Role::Assistant));
    assert_eq!(d0.content.as_deref(), Some(""));
    assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some("Hello"));
    assert_eq!(chunks[1].choices[0].finish_reason, None);
    assert_eq!(chunks[2].choices[0].delta, Default::default());
    assert_eq!(chunks[2].choices[0].finish_reason, Some(FinishReason::Stop));
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices[0].delta.content.as_deref())
        .collect();
    assert_eq!(text, "Hello");
    chunks
}

#[test]
fn streaming_response_chunks() {
    let chunks = check_chunks("create-chat-completion.streaming.response-chunks.json");
    assert!(chunks.iter().all(|c| c.obfuscation.is_none()));
}

#[test]
fn object_chunk_stream() {
    let chunks = check_chunks("object.chat-completion-chunk.stream.json");
    let obf: Vec<_> = chunks.iter().map(|c| c.obfuscation.as_deref()).collect();
    assert_eq!(obf, vec![Some("r4N7vQ2m"), Some("p9K3xT6w"), Some("")]);
}
