//! A build script that asks a model for data and turns it into Rust source.
//!
//! - The model is asked for JSON with a schema (structured outputs), and the script writes the
//!   Rust code itself: generated code never comes verbatim from a model.
//! - The answer is cached in `OUT_DIR`, keyed by a hash of the exact request body, so a
//!   rebuild makes no call and a changed prompt makes a new one.
//! - Without `OPENAI_API_KEY` / `OPENAI_BASE_URL`, or when the call fails (no network, a bad
//!   key, a bad answer), it falls back to the cache or to the checked-in `data/default.json`
//!   and says so with `cargo:warning`. It never fails the build for lack of a network.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=data/default.json");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let request = request();
    let body = serde_json::to_vec(&request).unwrap_or_default();
    let cache = out_dir.join(format!("answer-{:016x}.json", fnv1a(&body)));

    let (json, source) = match fs::read_to_string(&cache) {
        Ok(cached) => (cached, "the cache in OUT_DIR"),
        Err(_) => match ask(&request) {
            Ok(fresh) => {
                // A cache that cannot be written only costs a call next time.
                if let Err(e) = fs::write(&cache, &fresh) {
                    println!("cargo:warning=could not cache the answer: {e}");
                }
                (fresh, "the model")
            }
            Err(why) => match latest_cached(&out_dir) {
                Some(earlier) => {
                    println!("cargo:warning=using the cached answer to an earlier request: {why}");
                    (earlier, "an earlier answer cached in OUT_DIR")
                }
                None => {
                    println!("cargo:warning=using the checked-in greetings: {why}");
                    (default_json(), "data/default.json")
                }
            },
        },
    };
    let greetings = match serde_json::from_str::<Greetings>(&json) {
        Ok(g) if !g.greetings.is_empty() => g,
        _ => {
            println!("cargo:warning=the answer had no greetings; using data/default.json");
            let _ = fs::remove_file(&cache);
            serde_json::from_str(&default_json()).unwrap_or(Greetings { greetings: vec![] })
        }
    };
    let source = if greetings.greetings.is_empty() {
        "nothing"
    } else {
        source
    };
    if let Err(e) = fs::write(
        out_dir.join("greetings.rs"),
        rust_source(&greetings, source),
    ) {
        // Without the generated file the crate cannot compile: this one is fatal.
        panic!(
            "cannot write {}: {e}",
            out_dir.join("greetings.rs").display()
        );
    }
}

fn request() -> CreateChatCompletionRequest {
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());
    let schema = json!({
        "type": "object",
        "properties": {"greetings": {"type": "array", "items": {
            "type": "object",
            "properties": {"language": {"type": "string"}, "text": {"type": "string"}},
            "required": ["language", "text"], "additionalProperties": false}}},
        "required": ["greetings"], "additionalProperties": false
    });
    CreateChatCompletionRequest::new(
        model,
        vec![Message::user(
            "Give 5 ways to say hello, each in a different language.",
        )],
    )
    .response_format(ResponseFormat::json_schema("greetings", schema, true))
    .temperature(0.0)
    .max_completion_tokens(400)
}

/// One call with tight limits: a build must not hang on a slow network.
fn ask(request: &CreateChatCompletionRequest) -> Result<String, String> {
    let configured = ["OPENAI_API_KEY", "OPENAI_BASE_URL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if !configured {
        return Err("OPENAI_API_KEY is not set".to_owned());
    }
    let api = ChatApi::new(
        Config::from_env()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .total_timeout(Duration::from_secs(90))
            .max_retries(1),
    );
    let response = api
        .create_chat_completion(request)
        .map_err(|e| e.to_string())?;
    // Check the shape now, so a bad answer is never cached.
    let _: Greetings = response.parse().map_err(|e| e.to_string())?;
    response
        .choices
        .first()
        .and_then(|c| c.message.content.as_deref())
        .map(str::to_owned)
        .ok_or_else(|| "the answer had no content".to_owned())
}

/// The most recently written `answer-*.json` in `OUT_DIR`, if any.
fn latest_cached(out_dir: &Path) -> Option<String> {
    let newest = fs::read_dir(out_dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("answer-") && name.ends_with(".json")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()?;
    fs::read_to_string(newest.1).ok()
}

fn default_json() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/default.json");
    fs::read_to_string(path).unwrap_or_else(|_| r#"{"greetings":[]}"#.to_owned())
}

/// Rust source for the greetings; `{:?}` escapes every string as a Rust literal.
fn rust_source(greetings: &Greetings, source: &str) -> String {
    let mut out = format!(
        "/// Where the greetings came from.\npub const SOURCE: &str = {source:?};\n\n/// (language, greeting) pairs.\npub const GREETINGS: &[(&str, &str)] = &[\n"
    );
    for g in &greetings.greetings {
        out.push_str(&format!("    ({:?}, {:?}),\n", g.language, g.text));
    }
    out.push_str("];\n");
    out
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust versions (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
