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

use sync_openai::testing::Reply;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Error};

fn main() -> Result<(), Error> {
    // Without OPENAI_API_KEY or OPENAI_BASE_URL: a local mock with these two answers.
    let _mock = common::offline_mock([
        Reply::text("Hello, Rustacean! (from the local mock)").header("x-request-id", "req_mock_1"),
        Reply::text("Hello, Rustacean! (streamed from the local mock)"),
    ]);

    // OPENAI_API_KEY, and OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID when set.
    let api = ChatApi::from_env()?;
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
    println!("reply:      {}", resp.data.text().unwrap_or("(no text)"));
    println!("status:     {}", resp.status);
    println!("request id: {}", resp.request_id().unwrap_or("(none)"));
    println!("model:      {}", resp.data.model);
    if let Some(usage) = &resp.data.usage {
        let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
        println!("usage:      {prompt} prompt + {completion} completion tokens");
    }

    print!("streamed:   ");
    for text in api.create_chat_completion_stream(&req)?.content_deltas() {
        print!("{}", text?);
        std::io::stdout().flush().ok();
    }
    println!();
    Ok(())
}
