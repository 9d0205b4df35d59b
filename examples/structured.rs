//! Structured outputs: a JSON Schema in the request, a serde struct out of the answer, and a
//! clear message for each way it can fail (refusal, cut off, filtered, wrong shape).
//!
//! ```text
//! cargo run --example structured                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example structured     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! ```

mod common;

use serde::Deserialize;
use serde_json::json;
use sync_openai::error::ParseError;
use sync_openai::testing::Reply;
use sync_openai::types::ResponseFormat;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Error};

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

const MOCK_RECIPE: &str = r#"{"name": "Pancakes (from the local mock)", "servings": 2, "steps": ["Whisk everything smooth.", "Fry thin, flip once."],
  "ingredients": [{"item": "flour", "quantity": "125 g"}, {"item": "milk", "quantity": "250 ml"}]}"#;

fn schema() -> serde_json::Value {
    let ingredient = json!({"type": "object", "required": ["item", "quantity"], "additionalProperties": false,
                            "properties": {"item": {"type": "string"}, "quantity": {"type": "string"}}});
    json!({"type": "object", "additionalProperties": false,
           "required": ["name", "servings", "ingredients", "steps"],
           "properties": {"name": {"type": "string"}, "servings": {"type": "integer"},
                          "ingredients": {"type": "array", "items": ingredient},
                          "steps": {"type": "array", "items": {"type": "string"}}}})
}

fn main() -> Result<(), Error> {
    // Without OPENAI_API_KEY or OPENAI_BASE_URL: a local mock with a recipe in the schema's shape.
    let _mock = common::offline_mock([Reply::text(MOCK_RECIPE)]);
    let api = ChatApi::from_env()?;
    let question = vec![Message::user("A simple pancake recipe for two.")];
    let request = CreateChatCompletionRequest::new(common::model("gpt-4o-mini"), question)
        .response_format(ResponseFormat::json_schema("recipe", schema(), true))
        .max_completion_tokens(800);

    let recipe: Recipe = api
        .create_chat_completion(&request)?
        .parse()
        .inspect_err(explain)?;
    println!("{} (serves {})", recipe.name, recipe.servings);
    for i in &recipe.ingredients {
        println!("  - {} {}", i.quantity, i.item);
    }
    println!("  {}", recipe.steps.join(" "));
    Ok(())
}

/// Adds a hint to the error of an answer that gave no recipe (main prints the error).
fn explain(error: &Error) {
    let Error::Parse(e) = error else { return };
    match &**e {
        ParseError::Refusal(why) => eprintln!("the model refused: {why}"),
        ParseError::Truncated { .. } => eprintln!("cut off: raise max_completion_tokens"),
        ParseError::InvalidJson { json, .. } => eprintln!("not in the schema's shape: {json}"),
        _ => {} // filtered, no choices, …: the error's own words say it
    }
}
