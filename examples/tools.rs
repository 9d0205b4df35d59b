//! A full tool-call loop with two tools: the model asks for the weather and the time, the
//! program runs them and sends the results back until the model answers in text.
//!
//! ```text
//! cargo run --example tools                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example tools     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=qwen3 cargo run --example tools
//! ```

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::json;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionTool, CreateChatCompletionRequest,
    FinishReason,
};
use sync_openai::{ChatApi, Config, Error};

/// The arguments of `get_weather`, as the model sends them.
#[derive(Debug, Deserialize)]
struct WeatherArgs {
    city: String,
}

/// The arguments of `get_time`.
#[derive(Debug, Deserialize)]
struct TimeArgs {
    /// Hours east of UTC.
    utc_offset_hours: i64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let (api, _mock) = client()?;
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    let mut request = CreateChatCompletionRequest::new(
        model,
        vec![
            Message::system("Use the tools to answer. Be brief."),
            Message::user("What's the weather in Paris, and what time is it there (UTC+1)?"),
        ],
    )
    .tools(tools())
    .max_completion_tokens(300);

    // A model may call tools several times; stop after a few rounds whatever it does.
    for round in 1..=5 {
        let response = api.create_chat_completion(&request)?;
        let Some(choice) = response.choices.into_iter().next() else {
            return Err(Error::Parse(Box::new(sync_openai::ParseError::NoChoices)));
        };
        if choice.finish_reason != Some(FinishReason::ToolCalls) {
            println!(
                "answer: {}",
                choice.message.content.as_deref().unwrap_or("(no text)")
            );
            return Ok(());
        }
        let calls: Vec<_> = choice
            .message
            .tool_calls()
            .iter()
            .filter_map(|c| c.as_function().cloned())
            .collect();
        // The assistant turn goes back unchanged: its tool calls and any vendor keys.
        request.messages.push(choice.message.into_request_message());
        for call in calls {
            let result = match call.function.name.as_str() {
                "get_weather" => get_weather(call.parse_arguments()?),
                "get_time" => get_time(call.parse_arguments()?),
                other => format!("error: there is no tool named {other}"),
            };
            println!(
                "round {round}: {}({}) -> {result}",
                call.function.name, call.function.arguments
            );
            request.messages.push(Message::tool(call.id, result));
        }
    }
    println!("the model kept calling tools; giving up after 5 rounds");
    Ok(())
}

fn tools() -> Vec<ChatCompletionTool> {
    vec![
        ChatCompletionTool::function(
            "get_weather",
            "The current weather in a city.",
            json!({
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
                "additionalProperties": false
            }),
        ),
        ChatCompletionTool::function(
            "get_time",
            "The current time at a UTC offset.",
            json!({
                "type": "object",
                "properties": {"utc_offset_hours": {"type": "integer"}},
                "required": ["utc_offset_hours"],
                "additionalProperties": false
            }),
        ),
    ]
}

/// A stand-in weather service: a stable made-up reading per city.
fn get_weather(args: WeatherArgs) -> String {
    let seed: u32 = args.city.bytes().map(u32::from).sum();
    let sky = match seed % 3 {
        0 => "clear",
        1 => "cloudy",
        _ => "rain",
    };
    json!({"city": args.city, "celsius": 5 + seed % 20, "sky": sky}).to_string()
}

/// The real time at the given offset, from the system clock.
fn get_time(args: TimeArgs) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let local = now + args.utc_offset_hours.clamp(-14, 14) * 3600;
    let (h, m) = (local.rem_euclid(86_400) / 3600, local.rem_euclid(3600) / 60);
    format!("{h:02}:{m:02}")
}

/// The real API (or `OPENAI_BASE_URL`) when configured, else a local mock server.
fn client() -> Result<(ChatApi, Option<httpmock::MockServer>), Error> {
    let configured = ["OPENAI_API_KEY", "OPENAI_BASE_URL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if configured {
        let api = ChatApi::from_env()?;
        println!("using {}", api.config().get_base_url());
        return Ok((api, None));
    }
    let server = mock_server();
    println!(
        "OPENAI_API_KEY is not set: using a local mock server at {} (no network needed).\n",
        server.base_url()
    );
    let api = ChatApi::new(Config::new().api_key("sk-mock").base_url(server.url("/v1")));
    Ok((api, Some(server)))
}

/// Two turns: the first question gets two tool calls; the request that carries both tool
/// results (2 + 1 + 2 messages) gets the answer.
fn mock_server() -> httpmock::MockServer {
    let server = httpmock::MockServer::start();
    let message_count = |n: usize| {
        move |req: &httpmock::HttpMockRequest| {
            serde_json::from_slice::<serde_json::Value>(req.body_ref())
                .ok()
                .and_then(|v| v.get("messages")?.as_array().map(Vec::len))
                == Some(n)
        }
    };
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .is_true(message_count(2));
        then.status(200).json_body(json!({
            "id": "chatcmpl-mock-1", "object": "chat.completion", "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [
                    {"id": "call_weather", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_time", "type": "function",
                     "function": {"name": "get_time", "arguments": "{\"utc_offset_hours\":1}"}}
                ]}}]
        }));
    });
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .is_true(message_count(5))
            .body_includes(r#""tool_call_id":"call_weather""#)
            .body_includes(r#""tool_call_id":"call_time""#);
        then.status(200).json_body(json!({
            "id": "chatcmpl-mock-2", "object": "chat.completion", "created": 1700000001,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant",
                "content": "In Paris it is cloudy and mild; see the tool results above for the time. (from the local mock)"}}]
        }));
    });
    server
}
