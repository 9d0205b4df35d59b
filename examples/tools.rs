//! Two tools on `ChatApi::run_tools`: the model asks for the weather and the time, the
//! runner runs both at once and sends the results back until the model answers. The
//! weather service fails once; the model is told, and asks again.
//!
//! ```text
//! cargo run --example tools                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example tools     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=qwen3 cargo run --example tools
//! ```

mod common;

use std::{ops::ControlFlow, sync::atomic::AtomicBool, sync::atomic::Ordering::SeqCst};

use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{testing::Reply, tools::Tool, tools::ToolRunOptions, ChatApi, Error};

/// The arguments of both tools, as the model sends them.
#[derive(serde::Deserialize)]
struct City {
    city: String,
}

fn main() -> Result<(), Error> {
    let _mock = common::offline_mock(script()); // no key and no base URL: a local mock
    let api = ChatApi::from_env()?;
    let failed = AtomicBool::new(false); // the weather service fails the first time
    let weather = Tool::function("get_weather", "The weather in a city", |a: City| {
        let (up, text) = (failed.swap(true, SeqCst), format!("14°C in {}", a.city));
        up.then_some(text).ok_or("timed out; try again")
    });
    let time = Tool::function("get_time", "The time", |a: City| {
        Ok::<_, Error>(a.city + ": 12:00")
    });
    let city = serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}});
    let tools = [weather.parameters(city.clone()), time.parameters(city)];
    let (model, question) = (common::model("gpt-4o-mini"), "Weather and time in Paris?");
    let request = CreateChatCompletionRequest::new(model, vec![Message::user(question)]);
    let options = ToolRunOptions::new().on_round(|r| {
        for t in r.tools {
            println!("round {}: {t}", r.round);
        }
        ControlFlow::Continue(())
    });
    let run = api.run_tools(request, &tools, options)?;
    println!("{:?}: {}", run.end, run.answer().unwrap_or(""));
    Ok(())
}

/// What the local mock answers: both tools, the weather again, then the answer.
fn script() -> [Reply; 3] {
    let paris = r#"{"city":"Paris"}"#;
    let both = Reply::tool_calls([("get_weather", paris), ("get_time", paris)]);
    let again = Reply::tool_calls([("get_weather", paris)]);
    [both, again, Reply::text("14°C, 12:00 in Paris (mock)")]
}
