//! Structured outputs: a JSON Schema in the request, a serde struct out of the answer, and a
//! clear message for each way it can fail (refusal, cut off, filtered, wrong shape).
//!
//! ```text
//! cargo run --example structured                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example structured     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! ```

mod common;

use std::process::ExitCode;

use serde::Deserialize;
use serde_json::json;
use sync_openai::error::ParseError;
use sync_openai::testing::Reply;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ResponseFormat,
};
use sync_openai::Error;

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

const MOCK_RECIPE: &str = r#"{"name": "Pancakes (from the local mock)", "servings": 2,
  "ingredients": [{"item": "flour", "quantity": "125 g"}, {"item": "milk", "quantity": "250 ml"}],
  "steps": ["Whisk everything smooth.", "Fry thin, flip once."]}"#;

fn schema() -> serde_json::Value {
    let ingredient = json!({"type": "object", "required": ["item", "quantity"], "additionalProperties": false,
                            "properties": {"item": {"type": "string"}, "quantity": {"type": "string"}}});
    json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "servings": {"type": "integer"},
                       "ingredients": {"type": "array", "items": ingredient},
                       "steps": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "servings", "ingredients", "steps"],
        "additionalProperties": false
    })
}

fn main() -> ExitCode {
    common::exit(run())
}

fn run() -> Result<(), Error> {
    // The real API when configured; else a local mock with a recipe in the schema's shape.
    let (api, _mock) = common::client_or_mock([Reply::text(MOCK_RECIPE)])?;
    let request = CreateChatCompletionRequest::new(
        common::model("gpt-4o-mini"),
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
