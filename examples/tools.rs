//! A full tool-call loop with two tools: the model asks for the weather and the time, the
//! program runs them and sends the results back until the model answers in text.
//!
//! ```text
//! cargo run --example tools                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example tools     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=qwen3 cargo run --example tools
//! ```

mod common;

use std::process::ExitCode;

use serde::Deserialize;
use serde_json::json;
use sync_openai::error::ParseError;
use sync_openai::testing::Reply;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionTool, CreateChatCompletionRequest,
    FinishReason,
};
use sync_openai::Error;

/// The arguments of `get_weather`, as the model sends them.
#[derive(Deserialize)]
struct WeatherArgs {
    city: String,
}

/// The arguments of `get_time`: hours east of UTC.
#[derive(Deserialize)]
struct TimeArgs {
    utc_offset_hours: i64,
}

fn main() -> ExitCode {
    common::exit(run())
}

fn run() -> Result<(), Error> {
    // The real API when configured; else a local mock that asks for both tools, then answers.
    let calls = [
        ("get_weather", r#"{"city":"Paris"}"#),
        ("get_time", r#"{"utc_offset_hours":1}"#),
    ];
    let answer = Reply::text("In Paris it is mild, and the time is above. (from the local mock)");
    let (api, _mock) = common::client_or_mock([Reply::tool_calls(calls), answer])?;
    let mut request = CreateChatCompletionRequest::new(
        common::model("gpt-4o-mini"),
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
        let no_choices = || Error::Parse(Box::new(ParseError::NoChoices));
        let choice = response.choices.into_iter().next().ok_or_else(no_choices)?;
        if choice.finish_reason != Some(FinishReason::ToolCalls) {
            let answer = choice.message.content.as_deref().unwrap_or("");
            println!("answer: {answer}");
            return Ok(());
        }
        let calls = choice.message.tool_calls().to_vec();
        // The assistant turn goes back unchanged: its tool calls and any vendor keys.
        request.messages.push(choice.message.into_request_message());
        for call in calls.iter().filter_map(|c| c.as_function()) {
            let result = match call.function.name.as_str() {
                "get_weather" => get_weather(call.parse_arguments()?),
                "get_time" => get_time(call.parse_arguments()?),
                other => format!("error: there is no tool named {other}"),
            };
            let (name, arguments) = (&call.function.name, &call.function.arguments);
            println!("round {round}: {name}({arguments}) -> {result}");
            request.messages.push(Message::tool(&call.id, result));
        }
    }
    println!("the model kept calling tools; giving up after 5 rounds");
    Ok(())
}

fn tools() -> Vec<ChatCompletionTool> {
    let city = json!({"type": "object", "properties": {"city": {"type": "string"}},
                      "required": ["city"], "additionalProperties": false});
    let offset = json!({"type": "object", "properties": {"utc_offset_hours": {"type": "integer"}},
                        "required": ["utc_offset_hours"], "additionalProperties": false});
    vec![
        ChatCompletionTool::function("get_weather", "The current weather in a city.", city),
        ChatCompletionTool::function("get_time", "The current time at a UTC offset.", offset),
    ]
}

/// A stand-in weather service.
fn get_weather(args: WeatherArgs) -> String {
    json!({"city": args.city, "celsius": 14, "sky": "cloudy"}).to_string()
}

/// A stand-in clock.
fn get_time(args: TimeArgs) -> String {
    format!("12:00 at UTC{:+}", args.utc_offset_hours)
}
