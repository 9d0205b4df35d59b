//! examples/quickstart.rs against the configured server (OPENAI_BASE_URL, OPENAI_API_KEY),
//! without its offline mock: one chat completion with its HTTP details, then the same
//! question streamed. What scripts/footprint.sh builds and runs.

use std::io::Write;
use std::process::ExitCode;

use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Error};

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
    let api = ChatApi::from_env()?;
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    let req = CreateChatCompletionRequest::new(
        model,
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
    std::io::stdout().flush().ok();
    for text in api.create_chat_completion_stream(&req)?.content_deltas() {
        print!("{}", text?);
        std::io::stdout().flush().ok();
    }
    println!();
    Ok(())
}
