//! An interactive chat in the terminal: each reply streams token by token as it arrives.
//!
//! ```text
//! cargo run --example chat                                   # local mock, no network
//! OPENAI_API_KEY=sk-... cargo run --example chat             # the real API
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 cargo run --example chat
//! cargo run --example chat -- --system "Answer in French." --prompt "hi"   # one turn, for scripts
//! ```
//!
//! Commands: `/reset` forgets the conversation, `/exit` (or end of input) quits.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest, CreateChatCompletionResponse,
};
use sync_openai::{ChatApi, ChunkAccumulator, Config, Error};

struct Args {
    system: Option<String>,
    prompt: Option<String>,
    model: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        system: None,
        prompt: None,
        model: std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--system" | "-s" => args.system = Some(value("--system")?),
            "--prompt" | "-p" => args.prompt = Some(value("--prompt")?),
            "--model" | "-m" => args.model = value("--model")?,
            "--help" | "-h" => {
                return Err("usage: chat [--system TEXT] [--model NAME] [--prompt TEXT]".to_owned())
            }
            other => return Err(format!("unknown argument {other:?}; try --help")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let (api, _mock) = match client() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut history = fresh_history(&args.system);

    if let Some(prompt) = &args.prompt {
        history.push(Message::user(prompt.as_str()));
        return match turn(&api, &args.model, &history) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("\nerror: {e}");
                ExitCode::FAILURE
            }
        };
    }

    println!(
        "chatting with {} — /reset to start over, /exit to quit",
        args.model
    );
    let stdin = io::stdin();
    loop {
        print!("\nyou> ");
        io::stdout().flush().ok();
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => break, // end of input
            Ok(_) => {}
            Err(e) => {
                eprintln!("error reading input: {e}");
                break;
            }
        }
        match line.trim() {
            "" => continue,
            "/exit" | "/quit" => break,
            "/reset" => {
                history = fresh_history(&args.system);
                println!("(conversation reset)");
                continue;
            }
            text => history.push(Message::user(text)),
        }
        match turn(&api, &args.model, &history) {
            Ok(done) => {
                if let Some(message) = done.choices.into_iter().next().map(|c| c.message) {
                    history.push(message.into());
                }
            }
            Err(e) => {
                // Keep the conversation usable: drop the question that failed.
                history.pop();
                eprintln!("\nerror: {e}");
            }
        }
    }
    ExitCode::SUCCESS
}

fn fresh_history(system: &Option<String>) -> Vec<Message> {
    system.iter().map(|s| Message::system(s.as_str())).collect()
}

/// Streams one reply, printing it as it arrives, and returns the whole of it.
fn turn(
    api: &ChatApi,
    model: &str,
    history: &[Message],
) -> Result<CreateChatCompletionResponse, Error> {
    let req = CreateChatCompletionRequest::new(model, history.to_vec()).stream_options(
        ChatCompletionStreamOptions {
            include_usage: Some(true),
            ..Default::default()
        },
    );
    let stream = api.create_chat_completion_stream(&req)?;
    print!("assistant> ");
    io::stdout().flush().ok();
    // Print each chunk as it comes, and fold the chunks into the reply for the history.
    let mut reply = ChunkAccumulator::new();
    for chunk in stream {
        let chunk = chunk?;
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            if let Some(text) = choice.delta.content.as_deref() {
                print!("{text}");
                io::stdout().flush().ok();
            }
        }
        reply.add(chunk)?;
    }
    println!();
    let done = reply.finish();
    if let Some(usage) = &done.usage {
        println!(
            "[{} prompt + {} completion = {} tokens]",
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
        );
    }
    Ok(done)
}

/// The real API (or `OPENAI_BASE_URL`) when configured, else a local mock server.
fn client() -> Result<(ChatApi, Option<httpmock::MockServer>), Error> {
    let configured = ["OPENAI_API_KEY", "OPENAI_BASE_URL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if configured {
        return Ok((ChatApi::from_env()?, None));
    }
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        let mut body = String::new();
        let words = ["Hello", "!", " I", " am", " a", " local", " mock", ",", " streaming", " word", " by", " word", "."];
        for word in words {
            body.push_str(&format!(
                "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"mock\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}},\"finish_reason\":null}}]}}\n\n"
            ));
        }
        body.push_str("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"mock\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        body.push_str("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"mock\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":13,\"total_tokens\":25}}\n\ndata: [DONE]\n\n");
        then.status(200).header("content-type", "text/event-stream").body(body);
    });
    eprintln!(
        "OPENAI_API_KEY and OPENAI_BASE_URL are not set: chatting with a local mock server at {}.",
        server.base_url()
    );
    eprintln!("To chat with the real API: OPENAI_API_KEY=sk-... cargo run --example chat");
    let api = ChatApi::new(Config::new().base_url(server.url("/v1")));
    Ok((api, Some(server)))
}
