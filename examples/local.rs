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
use std::time::Instant;

use sync_openai::testing::Reply;
use sync_openai::types::ChatCompletionStreamOptions;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Error};

fn main() -> Result<(), Error> {
    // Without OPENAI_BASE_URL: a local mock of llama-server's stream.
    let _mock = common::mock_unless_set(&["OPENAI_BASE_URL"], [llama_server_stream()]);
    // No key is needed for a server other than api.openai.com: `from_env` sends none.
    let api = ChatApi::from_env()?;
    println!("server: {}", api.config().get_base_url());
    let question = vec![Message::user("Why is the sky blue? One sentence.")];
    let request = CreateChatCompletionRequest::new(common::model("llama3.2"), question)
        .max_tokens(200) // older servers know `max_tokens` better than `max_completion_tokens`
        .stream_options(ChatCompletionStreamOptions::include_usage())
        // Vendor sampling options go through `extra`; servers that do not know them ignore them.
        .extra("top_k", 40)
        .extra("min_p", 0.05);

    let started = Instant::now();
    let (mut in_reasoning, mut usage) = (false, None);
    for chunk in api.create_chat_completion_stream(&request)? {
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

/// llama-server's stream, for the mock: reasoning first, then content, usage and `[DONE]`.
fn llama_server_stream() -> Reply {
    let event = |json: &str| format!("data: {json}\n\n");
    let delta = |delta: &str| event(&format!(r#"{{"choices":[{{"index":0,"delta":{delta}}}]}}"#));
    let body = [
        delta(r#"{"reasoning_content":"Short waves scatter more."}"#),
        delta(r#"{"content":"Air scatters blue light more than red (Rayleigh)."}"#),
        delta(r#"{"content":" (mock)"},"finish_reason":"stop""#),
        event(
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}"#,
        ),
        event("[DONE]"),
    ];
    Reply::raw(200, body.concat()).header("content-type", "text/event-stream")
}
