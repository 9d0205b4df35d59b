//! The whole flow in one program: a chat completion with its HTTP details, then the same
//! question streamed token by token.
//!
//! ```text
//! cargo run --example quickstart                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example quickstart     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 cargo run --example quickstart   # Ollama
//! ```

mod common;

use std::io::Write;
use std::process::ExitCode;

use sync_openai::testing::Reply;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::Error;

fn main() -> ExitCode {
    common::exit(run())
}

fn run() -> Result<(), Error> {
    // The real API when configured; else a local mock with the two answers below.
    let (api, _mock) = common::client_or_mock([
        Reply::text("Hello, Rustacean! (from the local mock)").header("x-request-id", "req_mock_1"),
        Reply::text("Hello, Rustacean! (streamed from the local mock)"),
    ])?;

    let req = CreateChatCompletionRequest::new(
        common::model("gpt-4o-mini"),
        vec![
            Message::system("You are a concise assistant."),
            Message::user("Say hello to a Rust developer in one sentence."),
        ],
    )
    .temperature(0.2)
    .max_completion_tokens(64);

    let resp = api.create_chat_completion_with_http_info(&req)?;
    let completion = &resp.data;
    let reply = completion
        .choices
        .first()
        .and_then(|c| c.message.content.as_deref())
        .unwrap_or("(no text)");
    println!("reply:      {reply}");
    println!("status:     {}", resp.status);
    println!("request id: {}", resp.request_id().unwrap_or("(none)"));
    println!("model:      {}", completion.model);
    if let Some(usage) = &completion.usage {
        println!(
            "usage:      {} prompt + {} completion = {} tokens",
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
        );
    }

    print!("streamed:   ");
    for text in api.create_chat_completion_stream(&req)?.content_deltas() {
        print!("{}", text?);
        std::io::stdout().flush().ok();
    }
    println!();
    Ok(())
}
