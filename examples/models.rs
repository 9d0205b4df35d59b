//! The models of the configured server: their ids, owners and context lengths.
//!
//! ```text
//! cargo run --example models                                            # a local mock, no network
//! OPENAI_API_KEY=sk-... cargo run --example models                      # OpenAI
//! OPENAI_BASE_URL=http://127.0.0.1:11434/v1 cargo run --example models  # Ollama, llama.cpp, vLLM
//! cargo run --example models -- gpt-4o-mini                             # one model, in full
//! OPENAI_LOG=info cargo run --example models                            # and what was sent
//! ```

mod common;

use sync_openai::testing::Reply;
use sync_openai::types::Model;
use sync_openai::{Error, ModelsApi};

fn main() -> Result<(), Error> {
    // Without OPENAI_API_KEY or OPENAI_BASE_URL: a local mock of llama-server.
    let _mock = common::offline_mock([Reply::raw(200, LISTING)]);

    let api = ModelsApi::from_env()?;
    if let Some(id) = std::env::args().nth(1) {
        println!("{:#?}", api.retrieve_model(&id)?);
        return Ok(());
    }
    let models = api.list_models()?;
    let base_url = api.config().get_base_url();
    println!("{} models at {base_url}", models.data.len());
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

/// llama.cpp's `llama-server` listing (its `models` array beside `data`), for the mock.
const LISTING: &str = r#"{"models": [{"name": "qwen2.5-0.5b-instruct-q4_k_m.gguf", "type": "model"}], "object": "list",
    "data": [{"id": "qwen2.5-0.5b-instruct-q4_k_m.gguf", "object": "model", "created": 1764600000,
              "owned_by": "llamacpp", "meta": {"n_vocab": 151936, "n_ctx_train": 32768}}]}"#;
