//! The whole flow in one program: a chat completion with its HTTP details, then the same
//! question streamed token by token.
//!
//! ```text
//! cargo run --example quickstart                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example quickstart     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 cargo run --example quickstart   # Ollama
//! ```

use std::io::Write;
use std::process::ExitCode;

use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, Error};

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
    // Keep the mock server alive for the whole run when there is one.
    let (api, _mock) = client()?;
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

/// The real API (or `OPENAI_BASE_URL`) when configured, else a local mock server.
fn client() -> Result<(ChatApi, Option<httpmock::MockServer>), Error> {
    let configured = ["OPENAI_API_KEY", "OPENAI_BASE_URL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if configured {
        let api = ChatApi::from_env()?;
        println!("using {}", api.config().get_base_url());
        return Ok((api, None));
    }
    let server = mock_server();
    println!(
        "OPENAI_API_KEY is not set: using a local mock server at {} (no network needed).",
        server.base_url()
    );
    println!("To call the real API: OPENAI_API_KEY=sk-... cargo run --example quickstart\n");
    let api = ChatApi::new(Config::new().api_key("sk-mock").base_url(server.url("/v1")));
    Ok((api, Some(server)))
}

fn mock_server() -> httpmock::MockServer {
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .json_body_includes(r#"{"stream":true}"#);
        let mut body = String::new();
        for (i, word) in ["Hello, ", "Rustacean", "!", " (streamed", " from", " the", " mock)"]
            .iter()
            .enumerate()
        {
            let role = if i == 0 { r#""role":"assistant","# } else { "" };
            body.push_str(&format!(
                "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{{role}\"content\":\"{word}\"}},\"finish_reason\":null}}]}}\n\n"
            ));
        }
        body.push_str("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        then.status(200)
            .header("content-type", "text/event-stream")
            .header("x-request-id", "req_mock_stream")
            .body(body);
    });
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "application/json")
            .header("x-request-id", "req_mock_123")
            .header("openai-processing-ms", "42")
            .body(
                r#"{
  "id": "chatcmpl-mock",
  "object": "chat.completion",
  "created": 1700000000,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "Hello, Rustacean! (from the local mock)", "refusal": null},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {"prompt_tokens": 24, "completion_tokens": 9, "total_tokens": 33},
  "system_fingerprint": "fp_mock"
}"#,
            );
    });
    server
}
