//! Strict-mode schemas from `schemars` types (feature `schemars`):
//! `cargo test --features schemars --test suite schema::`.
//!
//! A rule checker written here from the structured-outputs guide (every object has
//! `additionalProperties: false` and all its properties required, only supported keywords,
//! a root object, `$ref`s only into `$defs`) judges the generated schemas; types strict mode
//! cannot express are refused with an error naming the field.
#![cfg(feature = "schemars")]
// Tests may unwrap, index and panic: a panic is the failure report.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code
)]

use std::collections::{BTreeMap, HashSet};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use sync_openai::schema::{make_strict, response_format, strict_schema_for};
use sync_openai::testing::{MockServer, Reply};
use sync_openai::tools::{Tool, ToolRunOptions};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ResponseFormat,
};
use sync_openai::ChatApi;

/// The keywords the structured-outputs guide lists as supported (and the annotations
/// `title` and `description`).
const SUPPORTED: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "anyOf",
    "enum",
    "const",
    "$ref",
    "$defs",
    "description",
    "title",
    "pattern",
    "format",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "minItems",
    "maxItems",
];

/// Every rule violation in `schema`, as `path: what`.
fn violations(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if schema["type"] != "object" {
        found.push("(root): not an object".to_owned());
    }
    let defs = schema.get("$defs").cloned().unwrap_or(json!({}));
    check(schema, "(root)", &defs, &mut found);
    for (name, def) in defs.as_object().unwrap() {
        check(def, name, &defs, &mut found);
    }
    found
}

fn check(node: &Value, path: &str, defs: &Value, found: &mut Vec<String>) {
    let Some(map) = node.as_object() else {
        found.push(format!("{path}: not an object schema"));
        return;
    };
    for key in map.keys() {
        if !SUPPORTED.contains(&key.as_str()) || (key == "$defs" && path != "(root)") {
            found.push(format!("{path}: unsupported keyword {key}"));
        }
    }
    if let Some(reference) = map.get("$ref") {
        let name = reference.as_str().unwrap().trim_start_matches("#/$defs/");
        if map.len() > 1 {
            found.push(format!("{path}: $ref with siblings"));
        }
        if reference != "#" && defs.get(name).is_none() {
            found.push(format!("{path}: dangling $ref {reference}"));
        }
    }
    let is_object = map.get("type") == Some(&json!("object")) || map.contains_key("properties");
    if is_object {
        if map.get("additionalProperties") != Some(&json!(false)) {
            found.push(format!("{path}: additionalProperties is not false"));
        }
        let properties = map.get("properties").and_then(Value::as_object);
        let mut keys: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        required.sort_unstable();
        if keys != required {
            found.push(format!(
                "{path}: required {required:?} is not every property {keys:?}"
            ));
        }
        for (key, property) in properties.into_iter().flatten() {
            check(property, &format!("{path}.{key}"), defs, found);
        }
    }
    if let Some(items) = map.get("items").filter(|i| i.is_object()) {
        check(items, &format!("{path}[]"), defs, found);
    }
    for key in ["anyOf", "prefixItems"] {
        for item in map.get(key).and_then(Value::as_array).into_iter().flatten() {
            check(item, path, defs, found);
        }
    }
}

/// A postal address: a nested struct, used twice (a `$defs` entry).
#[derive(Deserialize, JsonSchema)]
struct Address {
    street: String,
    /// The postal code, if the country has them.
    zip: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
enum Status {
    Open,
    Shipped,
}

/// An externally tagged enum with data: schemars makes it a `oneOf`.
#[derive(Deserialize, JsonSchema)]
enum Payment {
    Card { last4: String },
    Invoice(u32),
    Cash,
}

/// An internally tagged enum.
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "kind")]
enum Gift {
    Wrapped { paper: String },
    Plain,
}

#[derive(Deserialize, JsonSchema)]
struct Line {
    sku: String,
    quantity: u32,
    price: f64,
}

#[derive(Deserialize, JsonSchema)]
struct Order {
    id: u64,
    status: Status,
    shipping: Address,
    billing: Option<Address>,
    lines: Vec<Line>,
    payment: Payment,
    gift: Option<Gift>,
    tags: HashSet<String>,
    /// A map with fixed keys: a struct is what strict mode can express.
    totals: Totals,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, JsonSchema)]
struct Totals {
    net: f64,
    tax: f64,
}

#[test]
fn a_rich_type_becomes_a_schema_the_strict_rules_accept() {
    let schema = strict_schema_for::<Order>().unwrap();
    assert_eq!(violations(&schema), Vec::<String>::new(), "{schema:#}");
    // What the transformation did, in the places a user would look.
    assert_eq!(
        schema["properties"]["billing"]["anyOf"][1],
        json!({"type": "null"})
    );
    assert!(schema["required"]
        .as_array()
        .unwrap()
        .contains(&json!("note")));
    assert_eq!(
        schema["$defs"]["Address"]["required"],
        json!(["street", "zip"])
    );
    assert_eq!(
        schema["$defs"]["Address"]["properties"]["zip"]["type"],
        json!(["string", "null"])
    );
    assert!(
        schema["$defs"]["Payment"]["anyOf"].is_array(),
        "oneOf became anyOf"
    );
    assert!(
        schema["properties"]["id"].get("format").is_none(),
        "uint64 is not a strict format"
    );
    assert!(schema["properties"]["tags"].get("uniqueItems").is_none());

    // And the schema is what the server gets and the answer decodes into.
    let format = response_format::<Order>().unwrap();
    let ResponseFormat::JsonSchema { json_schema } = &format else {
        panic!("{format:?}")
    };
    assert_eq!(json_schema.name, "Order");
    assert_eq!(json_schema.strict, Some(true));
}

#[test]
fn the_rule_checker_catches_what_schemars_gives_unchanged() {
    // The checker is not a rubber stamp: schemars' own schema of `Order` breaks its rules.
    let raw = schemars::SchemaGenerator::default()
        .into_root_schema_for::<Order>()
        .to_value();
    let found = violations(&raw);
    assert!(
        found.iter().any(|v| v.contains("additionalProperties")),
        "{found:?}"
    );
    assert!(found.iter().any(|v| v.contains("required")), "{found:?}");
    assert!(
        found.iter().any(|v| v.contains("unsupported keyword")),
        "{found:?}"
    );
}

#[derive(Deserialize, JsonSchema)]
struct WithMap {
    name: String,
    inner: Inner,
}

#[derive(Deserialize, JsonSchema)]
struct Inner {
    labels: BTreeMap<String, u32>,
}

#[derive(Deserialize, JsonSchema)]
struct WithLength {
    #[schemars(length(min = 1))]
    title: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum Loose {
    Number(f64),
    Text(String),
}

#[derive(Deserialize, JsonSchema)]
struct WithUntagged {
    value: Loose,
}

#[test]
fn what_strict_mode_cannot_express_is_refused_naming_the_field() {
    let e = strict_schema_for::<WithMap>().unwrap_err();
    assert_eq!(e.field(), "Inner.labels");
    assert!(e.to_string().starts_with("the schema of `Inner.labels` cannot be used in strict mode: it is a map with arbitrary keys"), "{e}");

    let e = strict_schema_for::<WithLength>().unwrap_err();
    assert_eq!(e.field(), "WithLength.title");
    assert!(
        e.to_string()
            .contains("does not support the keyword `minLength`"),
        "{e}"
    );

    let e = strict_schema_for::<Vec<Line>>().unwrap_err();
    assert!(
        e.to_string()
            .contains("the root of a strict schema must be an object"),
        "{e}"
    );

    let e = make_strict(json!({"type": "object", "properties": {"a": {"not": {"type": "null"}}}}))
        .unwrap_err();
    assert_eq!(e.field(), "(root).a");

    // An untagged enum is an `anyOf` of its variants, which strict mode supports.
    let schema = strict_schema_for::<WithUntagged>().unwrap();
    assert_eq!(violations(&schema), Vec::<String>::new(), "{schema:#}");
}

#[test]
fn a_ref_with_a_description_is_inlined() {
    let schema = make_strict(json!({
        "type": "object",
        "properties": {"home": {"$ref": "#/$defs/Address", "description": "Where they live"}},
        "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string", "default": "Paris"}}}},
    }))
    .unwrap();
    assert_eq!(violations(&schema), Vec::<String>::new(), "{schema:#}");
    let home = &schema["properties"]["home"];
    assert_eq!(home["description"], "Where they live");
    assert_eq!(home["required"], json!(["city"]));
    assert!(home["properties"]["city"].get("default").is_none());
}

#[derive(Deserialize, JsonSchema)]
struct Search {
    query: String,
    limit: Option<u32>,
}

#[test]
fn typed_tools_send_a_strict_schema_and_decode_their_arguments() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([(
        "search",
        r#"{"query":"ureq","limit":null}"#,
    )]));
    server.reply(Reply::text("Found it."));
    let search = Tool::typed("search", "Search the docs", |s: Search| {
        Ok::<_, String>(format!("{} ({:?})", s.query, s.limit))
    })
    .unwrap();
    let request = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Find ureq")]);
    let run = ChatApi::new(server.config())
        .run_tools(request, &[search], ToolRunOptions::new())
        .unwrap();
    assert_eq!(run.answer(), Some("Found it."));
    let sent = server.requests();
    let function = &sent[0].json()["tools"][0]["function"];
    assert_eq!(function["strict"], true);
    let parameters = &function["parameters"];
    assert_eq!(
        violations(parameters),
        Vec::<String>::new(),
        "{parameters:#}"
    );
    assert_eq!(sent[1].json()["messages"][2]["content"], "ureq (None)");
}
