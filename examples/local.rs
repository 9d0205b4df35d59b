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

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Config, Error};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_connect() {
                eprintln!("is the server running at OPENAI_BASE_URL?");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let (api, _mock) = client();
    println!("server: {}", api.config().get_base_url());
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "llama3.2".to_owned());
    let request = CreateChatCompletionRequest::new(
        model,
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
        if chunk.usage.is_some() {
            usage = chunk.usage.clone();
        }
        for choice in &chunk.choices {
            if let Some(thought) = choice.delta.reasoning() {
                if !in_reasoning {
                    print!("(thinking) ");
                    in_reasoning = true;
                }
                print!("{thought}");
            }
            if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
                if in_reasoning {
                    print!("\n(answer) ");
                    in_reasoning = false;
                }
                print!("{text}");
            }
            std::io::stdout().flush().ok();
        }
    }
    println!();
    let seconds = started.elapsed().as_secs_f64();
    match usage {
        Some(u) => println!(
            "{} prompt + {} completion tokens in {seconds:.2} s ({:.1} tokens/s)",
            u.prompt_tokens,
            u.completion_tokens,
            u.completion_tokens as f64 / seconds.max(1e-6)
        ),
        None => println!("done in {seconds:.2} s (the server sent no usage)"),
    }
    Ok(())
}

/// `OPENAI_BASE_URL` (and `OPENAI_API_KEY` if the server wants one) when set, else a mock.
fn client() -> (ChatApi, Option<httpmock::MockServer>) {
    if let Ok(url) = std::env::var("OPENAI_BASE_URL") {
        if !url.trim().is_empty() {
            // No key is needed for a server other than api.openai.com.
            let mut config = Config::new().base_url(url);
            if let Ok(key) = std::env::var("OPENAI_API_KEY") {
                config = config.api_key(key);
            }
            return (ChatApi::new(config), None);
        }
    }
    let server = mock_server();
    println!(
        "OPENAI_BASE_URL is not set: using a local mock of llama-server at {} (no network needed).\n",
        server.base_url()
    );
    // As with a real local server: no key, so no Authorization header is sent.
    let api = ChatApi::new(Config::new().base_url(server.url("/v1")));
    (api, Some(server))
}

/// Streams the way llama-server does: reasoning deltas first, then content, `timings`, a
/// usage chunk and `[DONE]`.
fn mock_server() -> httpmock::MockServer {
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .header_missing("authorization")
            .json_body_includes(r#"{"stream":true,"top_k":40}"#);
        let chunk = |delta: &str, finish: &str| {
            format!(
                "data: {{\"choices\":[{{\"finish_reason\":{finish},\"index\":0,\"delta\":{delta}}}],\"created\":1700000000,\"id\":\"chatcmpl-local\",\"model\":\"tiny.gguf\",\"system_fingerprint\":\"b6000\",\"object\":\"chat.completion.chunk\"}}\n\n"
            )
        };
        let mut body = chunk(r#"{"role":"assistant","content":null}"#, "null");
        for piece in ["Short", " waves", " scatter", " more."] {
            body.push_str(&chunk(&format!(r#"{{"reasoning_content":"{piece}"}}"#), "null"));
        }
        for piece in ["Air molecules", " scatter blue", " light more", " than red (Rayleigh scattering).", " (mock)"] {
            body.push_str(&chunk(&format!(r#"{{"content":"{piece}"}}"#), "null"));
        }
        body.push_str(&chunk("{}", "\"stop\""));
        body.push_str("data: {\"choices\":[],\"created\":1700000000,\"id\":\"chatcmpl-local\",\"model\":\"tiny.gguf\",\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":24,\"prompt_tokens\":14,\"total_tokens\":38},\"timings\":{\"prompt_n\":14,\"predicted_n\":24,\"predicted_per_second\":61.5}}\n\n");
        body.push_str("data: [DONE]\n\n");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(body);
    });
    server
}
