//! Structured outputs: a JSON Schema in the request, a serde struct out of the answer, and a
//! clear message for each way it can fail (refusal, cut off, filtered, wrong shape).
//!
//! ```text
//! cargo run --example structured                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example structured     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! ```

use std::process::ExitCode;

use serde::Deserialize;
use serde_json::json;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ResponseFormat,
};
use sync_openai::{ChatApi, Config, Error, ParseError};

/// What we want back. The schema below describes the same shape.
#[derive(Debug, Deserialize)]
struct Recipe {
    name: String,
    servings: u32,
    ingredients: Vec<Ingredient>,
    steps: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Ingredient {
    item: String,
    quantity: String,
}

fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "servings": {"type": "integer"},
            "ingredients": {"type": "array", "items": {
                "type": "object",
                "properties": {"item": {"type": "string"}, "quantity": {"type": "string"}},
                "required": ["item", "quantity"],
                "additionalProperties": false
            }},
            "steps": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["name", "servings", "ingredients", "steps"],
        "additionalProperties": false
    })
}

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
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    let request = CreateChatCompletionRequest::new(
        model,
        vec![Message::user("A simple pancake recipe for two.")],
    )
    .response_format(ResponseFormat::json_schema("recipe", schema(), true))
    .max_completion_tokens(800);

    let response = api.create_chat_completion(&request)?;
    match response.parse::<Recipe>() {
        Ok(recipe) => {
            println!("{} (serves {})", recipe.name, recipe.servings);
            for i in &recipe.ingredients {
                println!("  - {} {}", i.quantity, i.item);
            }
            for (n, step) in recipe.steps.iter().enumerate() {
                println!("  {}. {step}", n + 1);
            }
            Ok(())
        }
        Err(Error::Parse(e)) => {
            match &*e {
                ParseError::Refusal(why) => eprintln!("the model refused: {why}"),
                ParseError::Truncated { content } => eprintln!(
                    "the answer was cut off after {} bytes: raise max_completion_tokens",
                    content.len()
                ),
                ParseError::InvalidJson { json, .. } => {
                    eprintln!("the answer did not match the schema: {json}")
                }
                other => eprintln!("{other}"),
            }
            Err(Error::Parse(e))
        }
        Err(e) => Err(e),
    }
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
    let server = httpmock::MockServer::start();
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .json_body_includes(
                json!({"response_format": {"type": "json_schema",
                       "json_schema": {"name": "recipe", "strict": true, "schema": schema()}}})
                .to_string(),
            );
        let recipe = json!({
            "name": "Pancakes (from the local mock)", "servings": 2,
            "ingredients": [{"item": "flour", "quantity": "125 g"},
                            {"item": "milk", "quantity": "250 ml"},
                            {"item": "egg", "quantity": "1"}],
            "steps": ["Whisk everything smooth.", "Rest 10 minutes.", "Fry thin, flip once."]
        });
        then.status(200).json_body(json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "refusal": null,
                                     "content": recipe.to_string()}}]
        }));
    });
    println!(
        "OPENAI_API_KEY is not set: using a local mock server at {} (no network needed).\n",
        server.base_url()
    );
    let api = ChatApi::new(Config::new().api_key("sk-mock").base_url(server.url("/v1")));
    Ok((api, Some(server)))
}
