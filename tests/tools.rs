//! A multi-turn tool-call loop: typed arguments, and the assistant message sent back with its
//! tool calls and every vendor key unchanged (DeepSeek's `reasoning_content`, Gemini's
//! `extra_content`, OpenRouter's `reasoning_details`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::sync::{Arc, Mutex};

use httpmock::{HttpMockRequest, MockServer};
use serde::Deserialize;
use serde_json::{json, Value};
use sync_openai::error::ParseError;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionTool, CreateChatCompletionRequest,
    FinishReason,
};
use sync_openai::Error;

#[derive(Debug, Deserialize, PartialEq)]
struct WeatherArgs {
    city: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct TimeArgs {
    tz: String,
}

fn messages(req: &HttpMockRequest) -> Vec<Value> {
    serde_json::from_slice::<Value>(req.body_ref())
        .ok()
        .and_then(|v| v["messages"].as_array().cloned())
        .unwrap_or_default()
}

/// The first answer: two tool calls, one with Gemini's `extra_content`, one whose arguments
/// come as a JSON object (as some servers send them), plus DeepSeek-style reasoning.
const TOOL_CALLS: &str = r#"{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
  "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
    "role": "assistant", "content": null,
    "reasoning_content": "The user wants weather and time.\nCall both tools — ☀️.",
    "tool_calls": [
      {"id": "call_w", "type": "function",
       "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
       "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}}},
      {"id": "call_t", "type": "function",
       "function": {"name": "get_time", "arguments": {"tz": "Europe/Paris"}}}
    ]}}],
  "usage": {"prompt_tokens": 50, "completion_tokens": 30, "total_tokens": 80,
            "completion_tokens_details": {"reasoning_tokens": 21}}
}"#;

const FINAL: &str = r#"{
  "id": "chatcmpl-2", "object": "chat.completion", "created": 2, "model": "m",
  "choices": [{"index": 0, "finish_reason": "stop",
    "message": {"role": "assistant", "content": "It is 18°C and 14:00 in Paris."}}]
}"#;

fn tools() -> Vec<ChatCompletionTool> {
    vec![
        ChatCompletionTool::function(
            "get_weather",
            "Current temperature in a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": false}),
        ),
        ChatCompletionTool::function(
            "get_time",
            "Current time in a time zone",
            json!({"type": "object", "properties": {"tz": {"type": "string"}},
                   "required": ["tz"], "additionalProperties": false}),
        ),
    ]
}

#[test]
fn two_tool_loop_sends_everything_back() {
    let server = MockServer::start();
    let first = server.mock(|when, then| {
        when.path("/v1/chat/completions")
            .is_true(|req| messages(req).len() == 1);
        then.status(200).body(TOOL_CALLS);
    });
    let follow_up = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&follow_up);
    let second = server.mock(move |when, then| {
        when.path("/v1/chat/completions").is_true(move |req| {
            let m = messages(req);
            let hit = m.len() == 4;
            if hit {
                *seen.lock().unwrap() = m;
            }
            hit
        });
        then.status(200).body(FINAL);
    });

    let api = common::api(&server);
    let mut request =
        CreateChatCompletionRequest::new("m", vec![Message::user("Weather and time in Paris?")])
            .tools(tools());
    let mut calls_run = Vec::new();
    let answer = loop {
        let response = api.create_chat_completion(&request).unwrap();
        let choice = response.choices.into_iter().next().unwrap();
        if choice.finish_reason != Some(FinishReason::ToolCalls) {
            break choice.message.content.unwrap().into_string();
        }
        let calls: Vec<_> = choice
            .message
            .tool_calls()
            .iter()
            .filter_map(|c| c.as_function().cloned())
            .collect();
        request.messages.push(choice.message.into_request_message());
        for call in calls {
            let result = match call.function.name.as_str() {
                "get_weather" => {
                    let args: WeatherArgs = call.parse_arguments().unwrap();
                    calls_run.push(format!("weather {}", args.city));
                    json!({"celsius": 18}).to_string()
                }
                "get_time" => {
                    let args: TimeArgs = call.parse_arguments().unwrap();
                    calls_run.push(format!("time {}", args.tz));
                    "14:00".to_owned()
                }
                other => panic!("unknown tool {other}"),
            };
            request.messages.push(Message::tool(call.id, result));
        }
    };

    assert_eq!(answer, "It is 18°C and 14:00 in Paris.");
    assert_eq!(calls_run, ["weather Paris", "time Europe/Paris"]);
    first.assert_calls(1);
    second.assert_calls(1);

    let sent = follow_up.lock().unwrap().clone();
    let assistant = &sent[1];
    assert_eq!(assistant["role"], "assistant");
    assert!(assistant.get("content").is_none_or(Value::is_null));
    // DeepSeek's reasoning, byte for byte.
    assert_eq!(
        assistant["reasoning_content"],
        "The user wants weather and time.\nCall both tools — ☀️."
    );
    // The tool calls as received, Gemini's signature included; object arguments as JSON text.
    assert_eq!(
        assistant["tool_calls"],
        json!([
            {"id": "call_w", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
             "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}}},
            {"id": "call_t", "type": "function",
             "function": {"name": "get_time", "arguments": "{\"tz\":\"Europe/Paris\"}"}}
        ])
    );
    assert_eq!(
        sent[2],
        json!({"role": "tool", "tool_call_id": "call_w", "content": "{\"celsius\":18}"})
    );
    assert_eq!(
        sent[3],
        json!({"role": "tool", "tool_call_id": "call_t", "content": "14:00"})
    );
}

#[test]
fn tools_are_sent_as_function_tools() {
    let body = serde_json::to_value(
        CreateChatCompletionRequest::new("m", vec![Message::user("hi")]).tools(tools()),
    )
    .unwrap();
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "function": {
            "name": "get_weather", "description": "Current temperature in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"], "additionalProperties": false}}})
    );
}

#[test]
fn reasoning_accessors() {
    let resp: sync_openai::types::CreateChatCompletionResponse =
        serde_json::from_str(TOOL_CALLS).unwrap();
    let message = &resp.choices[0].message;
    assert_eq!(
        message.reasoning(),
        Some("The user wants weather and time.\nCall both tools — ☀️.")
    );
    assert_eq!(resp.usage.as_ref().unwrap().reasoning_tokens(), Some(21));

    // OpenRouter and Ollama call it `reasoning`; OpenRouter adds `reasoning_details`, which must
    // also go back unchanged.
    let openrouter: sync_openai::types::ChatCompletionResponseMessage = serde_json::from_str(
        r#"{"role":"assistant","content":"4","reasoning":"2+2",
            "reasoning_details":[{"type":"reasoning.encrypted","data":"xyz","id":"r1"}]}"#,
    )
    .unwrap();
    assert_eq!(openrouter.reasoning(), Some("2+2"));
    let back = serde_json::to_value(openrouter.into_request_message()).unwrap();
    assert_eq!(
        back["reasoning_details"],
        json!([{"type": "reasoning.encrypted", "data": "xyz", "id": "r1"}])
    );
    assert_eq!(back["reasoning"], "2+2");
}

#[test]
fn bad_arguments_name_the_tool_and_keep_them() {
    let resp: sync_openai::types::CreateChatCompletionResponse = serde_json::from_str(
        r#"{"choices":[{"message":{"role":"assistant","tool_calls":[
            {"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\": 42}"}}]},
            "finish_reason":"tool_calls"}]}"#,
    )
    .unwrap();
    let call = resp.choices[0].message.tool_calls()[0]
        .as_function()
        .unwrap();
    let err = call.parse_arguments::<WeatherArgs>().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("tool `get_weather` (call call_9)"), "{text}");
    assert!(text.contains("{\"city\": 42}"), "{text}");
    let Error::Parse(e) = err else {
        panic!("{err:?}")
    };
    let ParseError::InvalidJson { json, .. } = *e else {
        panic!("{e:?}")
    };
    assert_eq!(json, "{\"city\": 42}");
}
