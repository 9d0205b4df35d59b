//! The models of the configured server: their ids, owners and context lengths.
//!
//! ```text
//! cargo run --example models                                            # a local mock, no network
//! OPENAI_API_KEY=sk-... cargo run --example models                      # OpenAI
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 cargo run --example models  # Ollama, llama.cpp, vLLM
//! cargo run --example models -- gpt-4o-mini                             # one model, in full
//! OPENAI_LOG=info cargo run --example models                            # and what was sent
//! ```

use std::process::ExitCode;

use sync_openai::types::Model;
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
    let (api, _mock) = client()?;
    if let Some(id) = std::env::args().nth(1) {
        println!("{:#?}", api.retrieve_model(&id)?);
        return Ok(());
    }
    let models = api.list_models()?;
    println!(
        "{} models at {}",
        models.data.len(),
        api.config().get_base_url()
    );
    for model in &models.data {
        let owner = model.owned_by.as_deref().unwrap_or("-");
        let context = context_length(model).map_or("-".to_owned(), |n| n.to_string());
        print!("{:<36} owner {owner:<10} context {context:>7}", model.id);
        match model.shutdown_date {
            Some(date) => println!("  (shuts down {date})"),
            None => println!(),
        }
    }
    Ok(())
}

/// The context length, where servers put it: OpenRouter and Together `context_length`,
/// vLLM `max_model_len`, llama.cpp `meta.n_ctx_train`.
fn context_length(model: &Model) -> Option<u64> {
    let extra = &model.extra;
    extra
        .get("context_length")
        .or_else(|| extra.get("max_model_len"))
        .or_else(|| extra.get("meta").and_then(|m| m.get("n_ctx_train")))
        .and_then(|v| v.as_u64())
}

/// The server of `OPENAI_BASE_URL` or `OPENAI_API_KEY`; without either, a local mock that
/// answers as llama.cpp's `llama-server` does (its `models` array beside `data`).
fn client() -> Result<(ChatApi, Option<httpmock::MockServer>), Error> {
    let set = |v: &str| std::env::var(v).is_ok_and(|s| !s.trim().is_empty());
    if set("OPENAI_API_KEY") || set("OPENAI_BASE_URL") {
        return Ok((ChatApi::from_env()?, None));
    }
    let mock = httpmock::MockServer::start();
    mock.mock(|when, then| {
        when.method("GET").path("/v1/models");
        then.status(200).body(r#"{"models": [{"name": "qwen2.5-0.5b-instruct-q4_k_m.gguf", "type": "model"}], "object": "list",
            "data": [{"id": "qwen2.5-0.5b-instruct-q4_k_m.gguf", "object": "model", "created": 1764600000,
                      "owned_by": "llamacpp", "meta": {"n_vocab": 151936, "n_ctx_train": 32768}}]}"#);
    });
    eprintln!(
        "OPENAI_BASE_URL is not set: a local mock at {}\n",
        mock.base_url()
    );
    let api = ChatApi::new(Config::from_env().base_url(mock.url("/v1")));
    Ok((api, Some(mock)))
}
