//! An interactive chat in the terminal: each reply streams token by token as it arrives.
//!
//! ```text
//! cargo run --example chat                                   # local mock, no network
//! OPENAI_API_KEY=sk-... cargo run --example chat             # the real API (OPENAI_MODEL)
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 cargo run --example chat
//! OPENAI_BASE_URL=http://127.0.0.1:8080/v1 cargo run --example chat   # its first listed model
//! cargo run --example chat -- --model gpt-4.1 --prompt "hi"  # one turn, for scripts
//! ```
//!
//! Commands: `/reset` forgets the conversation, `/exit` (or end of input) quits.

mod common;

use std::io::{self, BufRead, Write};

use sync_openai::stream::ChunkAccumulator;
use sync_openai::testing::Reply;
use sync_openai::types::ChatCompletionStreamOptions;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Error};

fn main() -> Result<(), Error> {
    // Without OPENAI_API_KEY or OPENAI_BASE_URL: a local mock with a hundred answers.
    let answers = (1..=100).map(|n| Reply::text(format!("Hello from the local mock ({n})")));
    let _mock = common::offline_mock(answers);
    let api = ChatApi::from_env()?;
    let model = common::model_or_first_listed(&api, &_mock, "gpt-4o-mini");
    let mut history = Vec::new();
    if let Some(prompt) = std::env::args().skip_while(|a| a != "--prompt").nth(1) {
        history.push(Message::user(prompt));
        return turn(&api, &model, &mut history);
    }

    println!("chatting with {model}: /reset to start over, /exit (or end of input) to quit");
    eprint!("\nyou> "); // stderr is not buffered: the prompt shows before the input
    for line in io::stdin().lock().lines().map_while(Result::ok) {
        match line.trim() {
            "" => {}
            "/exit" | "/quit" => break,
            "/reset" => history.clear(),
            text => {
                history.push(Message::user(text));
                if let Err(e) = turn(&api, &model, &mut history) {
                    history.pop(); // keep the conversation usable: drop the failed question
                    eprintln!("\nerror: {e}");
                }
            }
        }
        eprint!("\nyou> ");
    }
    Ok(())
}

/// Streams one reply, printing it as it arrives, and adds it to the history.
fn turn(api: &ChatApi, model: &str, history: &mut Vec<Message>) -> Result<(), Error> {
    let req = CreateChatCompletionRequest::new(model, history.clone())
        .stream_options(ChatCompletionStreamOptions::include_usage());
    print!("assistant> ");
    // Print each chunk as it comes, and fold the chunks into the reply for the history.
    let mut reply = ChunkAccumulator::new();
    for chunk in api.create_chat_completion_stream(&req)? {
        let chunk = chunk?;
        for choice in &chunk.choices {
            print!("{}", choice.delta.content.as_deref().unwrap_or(""));
        }
        io::stdout().flush().ok();
        reply.add(chunk)?;
    }
    println!();
    let done = reply.finish();
    if let Some(u) = &done.usage {
        // Prompt tokens + completion tokens.
        println!("[{} + {} tokens]", u.prompt_tokens, u.completion_tokens);
    }
    if let Some(choice) = done.choices.into_iter().next() {
        history.push(choice.message.into());
    }
    Ok(())
}
