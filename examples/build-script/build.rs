//! A build script that asks a model for data and turns it into Rust source.
//!
//! The answer is kept in `answers/` (checked in) by the response cache of sync-openai, so a
//! fresh clone, an offline build (`CARGO_NET_OFFLINE=true`) and docs.rs build the same
//! code with no key and no network. A changed request is a new entry: record it once with
//! `OPENAI_API_KEY=sk-... cargo build`, review it and commit it.

use std::path::Path;

use serde::Deserialize;
use serde_json::json;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ResponseFormat,
};
use sync_openai::{ChatApi, Config};

#[derive(Deserialize)]
struct Greetings {
    greetings: Vec<Greeting>,
}

#[derive(Deserialize)]
struct Greeting {
    language: String,
    text: String,
}

fn main() {
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "SYNC_OPENAI_CACHE_MODE",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=answers");
    if let Err(e) = generate() {
        // No answer, no generated code: say why and how to fix it.
        println!("cargo:warning={e}");
        std::process::exit(1);
    }
}

fn generate() -> Result<(), Box<dyn std::error::Error>> {
    let schema = json!({
        "type": "object", "required": ["greetings"], "additionalProperties": false,
        "properties": {"greetings": {"type": "array", "items": {
            "type": "object", "required": ["language", "text"], "additionalProperties": false,
            "properties": {"language": {"type": "string"}, "text": {"type": "string"}}}}}
    });
    let request = CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        vec![Message::user(
            "Give 5 ways to say hello, each in a different language.",
        )],
    )
    .response_format(ResponseFormat::json_schema("greetings", schema, true))
    .temperature(0.0);

    let answers = Path::new(env!("CARGO_MANIFEST_DIR")).join("answers");
    let api = ChatApi::new(Config::from_env().cache_dir(answers));
    let greetings: Greetings = api.create_chat_completion(&request)?.parse()?;

    // The Rust source is written here, never taken from the model: `{:?}` escapes each
    // string as a Rust literal.
    let mut code = String::from(
        "/// (language, greeting) pairs.\npub const GREETINGS: &[(&str, &str)] = &[\n",
    );
    for g in &greetings.greetings {
        code.push_str(&format!("    ({:?}, {:?}),\n", g.language, g.text));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR")?).join("greetings.rs");
    std::fs::write(out, code)?;
    Ok(())
}
