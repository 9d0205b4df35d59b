//! A local OpenAI-compatible server (Ollama, llama.cpp `llama-server`, vLLM, LM Studio) at
//! `OPENAI_BASE_URL`, with no API key: a streamed answer printed as it arrives, the model's
//! reasoning when it sends some, and the token rate.
//!
//! ```text
//! cargo run --example local                                                                # offline, a mock of llama-server
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 cargo run --example local   # Ollama
//! OPENAI_BASE_URL=http://127.0.0.1:8080/v1 cargo run --example local                        # llama.cpp
//! OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_MODEL=Qwen/Qwen3-0.6B cargo run --example local  # vLLM
//! ```

mod common;

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use sync_openai::testing::{MockServer, Reply};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Error};

fn main() -> ExitCode {
    let result = run();
    if result.as_ref().is_err_and(Error::is_connect) {
        eprintln!("is the server running at OPENAI_BASE_URL?");
    }
    common::exit(result)
}

fn run() -> Result<(), Error> {
    // No key is needed for a server other than api.openai.com: `from_env` sends none.
    let (api, _mock) = match common::is_set("OPENAI_BASE_URL") {
        true => (ChatApi::from_env()?, None),
        false => llama_server_mock(),
    };
    println!("server: {}", api.config().get_base_url());
    let request = CreateChatCompletionRequest::new(
        common::model("llama3.2"),
        vec![Message::user("Why is the sky blue? One sentence.")],
    )
    .max_tokens(200) // older servers know `max_tokens` better than `max_completion_tokens`
    .temperature(0.7)
    .stream_options(ChatCompletionStreamOptions::include_usage())
    // Vendor sampling options go through `extra`; servers that do not know them ignore them.
    .extra("top_k", 40)
    .extra("min_p", 0.05);

    let started = Instant::now();
    let mut stream = api.create_chat_completion_stream(&request)?;
    let mut in_reasoning = false;
    let mut usage = None;
    for chunk in stream.by_ref() {
        let chunk = chunk?;
        usage = chunk.usage.clone().or(usage);
        for choice in &chunk.choices {
            if let Some(thought) = choice.delta.reasoning() {
                print!("{}{thought}", if in_reasoning { "" } else { "(thinking) " });
                in_reasoning = true;
            }
            if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
                print!("{}{text}", if in_reasoning { "\n(answer) " } else { "" });
                in_reasoning = false;
            }
            std::io::stdout().flush().ok();
        }
    }
    println!();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(u) = usage {
        let rate = u.completion_tokens as f64 / seconds.max(1e-6);
        let tokens = u.completion_tokens;
        println!("{tokens} tokens in {seconds:.2} s ({rate:.1} tokens/s)");
    }
    Ok(())
}

/// A mock of llama-server's stream: reasoning first, then content, usage and `[DONE]`.
fn llama_server_mock() -> (ChatApi, Option<MockServer>) {
    let event = |json: &str| format!("data: {json}\n\n");
    let delta = |delta: &str| event(&format!(r#"{{"choices":[{{"index":0,"delta":{delta}}}]}}"#));
    let usage =
        r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}"#;
    let body = [
        delta(r#"{"reasoning_content":"Short waves scatter more."}"#),
        delta(r#"{"content":"Air scatters blue light more than red (Rayleigh)."}"#),
        delta(r#"{"content":" (mock)"},"finish_reason":"stop""#),
        event(usage),
        event("[DONE]"),
    ];
    let stream = Reply::raw(200, body.concat()).header("content-type", "text/event-stream");
    let mock = common::mock([stream]);
    println!("OPENAI_BASE_URL is not set: using a local mock of llama-server\n");
    (ChatApi::new(mock.config()), Some(mock))
}
