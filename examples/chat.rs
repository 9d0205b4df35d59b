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
use std::process::ExitCode;

use sync_openai::stream::ChunkAccumulator;
use sync_openai::testing::Reply;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Error};

fn main() -> ExitCode {
    let prompt = std::env::args().skip_while(|a| a != "--prompt").nth(1);
    let answers =
        (1..=100).map(|n| Reply::text(format!("Hello! I am a local mock; this is answer {n}.")));
    let (api, _mock) = match common::client_or_mock(answers) {
        Ok(client) => client,
        Err(e) => return common::exit(Err(e)),
    };
    let model = common::model_or_first_listed(&api, &_mock, "gpt-4o-mini");
    let mut history = Vec::new();
    if let Some(prompt) = prompt {
        history.push(Message::user(prompt));
        return common::exit(turn(&api, &model, &mut history));
    }

    println!("chatting with {model}: /reset to start over, /exit to quit");
    loop {
        print!("\nyou> ");
        io::stdout().flush().ok();
        let mut line = String::new();
        if io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 {
            break; // end of input
        }
        match line.trim() {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                history.clear();
                println!("(conversation reset)");
            }
            text => {
                history.push(Message::user(text));
                if let Err(e) = turn(&api, &model, &mut history) {
                    history.pop(); // keep the conversation usable: drop the failed question
                    eprintln!("\nerror: {e}");
                }
            }
        }
    }
    ExitCode::SUCCESS
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
        if let Some(text) = chunk
            .choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
        {
            print!("{text}");
            io::stdout().flush().ok();
        }
        reply.add(chunk)?;
    }
    println!();
    let done = reply.finish();
    if let Some(u) = &done.usage {
        println!(
            "[{} prompt + {} completion tokens]",
            u.prompt_tokens, u.completion_tokens
        );
    }
    if let Some(choice) = done.choices.into_iter().next() {
        history.push(choice.message.into());
    }
    Ok(())
}
