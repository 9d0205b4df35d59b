//! `ChatApi::curl`: the command parses in `sh`, and running it sends the very request the
//! client sends (checked with a recording fake `curl`, and with the real one against a mock).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::KEY;
use httpmock::MockServer;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, RequestOptions};

/// Quotes, `$`, backticks, a command substitution, backslashes, line breaks, non-ASCII.
const NASTY: &str =
    "It's \"$HOME\" and `id` and $(echo INJECTED) \\ \n second line\r\n é 日本 🦀 '";

fn nasty_request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        vec![Message::system("Say 'hi'."), Message::user(NASTY)],
    )
    .extra("vendor_flag", "$PATH `x`")
}

/// The bytes `create_chat_completion` sends for the request: serde's, plus the body fields.
/// (A body field makes the client re-encode the body as a map, with its keys sorted.)
fn expected_body(api_body_field: bool) -> Vec<u8> {
    if !api_body_field {
        return serde_json::to_vec(&nasty_request()).unwrap();
    }
    let mut value = serde_json::to_value(nasty_request()).unwrap();
    value["top_k"] = serde_json::json!(5);
    serde_json::to_vec(&value).unwrap()
}

fn sh(script: &str, path: Option<&PathBuf>) -> std::process::Output {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .env("OPENAI_API_KEY", KEY)
        .env("X_GOOG_API_KEY", "goog-secret-value");
    if let Some(dir) = path {
        let old = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{old}", dir.display()));
    }
    command.output().unwrap()
}

#[test]
fn the_command_parses_in_sh() {
    let api = ChatApi::new(Config::new().api_key(KEY).base_url("http://127.0.0.1:9/v1"));
    let command = api.curl(&nasty_request());
    println!("{command}");
    let out = Command::new("sh")
        .arg("-n")
        .arg("-c")
        .arg(&command)
        .output()
        .unwrap();
    assert!(out.status.success(), "sh -n: {out:?}");
    assert!(!command.contains(KEY), "{command}");
}

#[test]
fn a_fake_curl_receives_the_exact_url_headers_and_body() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fake-curl");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("curl");
    let record = dir.join("args");
    // Writes each argument followed by a NUL, so any byte of an argument survives.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let api = ChatApi::new(
        Config::new()
            .api_key(KEY)
            .base_url("http://127.0.0.1:9/v1")
            .query_param("api-version", "2024-10-21")
            .header("X-Team", "it's $team")
            .header("x-goog-api-key", "goog-secret-value"),
    )
    .with_options(RequestOptions::new().body_field("top_k", 5));
    let command = api.curl(&nasty_request());
    assert!(!command.contains("goog-secret-value"), "{command}");
    let out = sh(&command, Some(&dir));
    assert!(out.status.success(), "{out:?}");

    let recorded = std::fs::read(&record).unwrap();
    let args: Vec<&[u8]> = recorded
        .strip_suffix(b"\0")
        .unwrap()
        .split(|&b| b == 0)
        .collect();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    assert_eq!(
        text(args[0]),
        "http://127.0.0.1:9/v1/chat/completions?api-version=2024-10-21"
    );
    let headers: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == b"-H")
        .map(|w| text(w[1]))
        .collect();
    assert_eq!(
        headers,
        [
            format!("user-agent: sync-openai/{}", env!("CARGO_PKG_VERSION")),
            "accept: application/json".to_owned(),
            format!("authorization: Bearer {KEY}"),
            "x-team: it's $team".to_owned(),
            "x-goog-api-key: goog-secret-value".to_owned(),
            "content-type: application/json".to_owned(),
        ]
    );
    let body = args
        .windows(2)
        .find(|w| w[0] == b"--data-raw")
        .map(|w| w[1])
        .unwrap();
    assert_eq!(body, expected_body(true).as_slice());
    assert_eq!(args.len(), 1 + 2 * headers.len() + 2);
}

#[test]
fn the_real_curl_sends_the_same_bytes_as_the_client() {
    if Command::new("curl").arg("--version").output().is_err() {
        println!("curl is not installed: skipped");
        return;
    }
    let server = MockServer::start();
    let body = expected_body(false);
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .body(String::from_utf8(body.clone()).unwrap());
        then.status(200).body("matched");
    });
    let api = ChatApi::new(Config::new().api_key(KEY).base_url(server.url("/v1")));
    let out = sh(&format!("{} -sS", api.curl(&nasty_request())), None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"matched");
    // The client itself sends the same request: the same mock matches it.
    api.create_chat_completion(&nasty_request()).unwrap_err();
    mock.assert_calls(2);
}

#[test]
fn a_stream_request_asks_for_events_without_buffering() {
    let api = ChatApi::new(Config::new().base_url("http://127.0.0.1:9/v1"));
    let command = api.curl(&nasty_request().stream(true));
    assert!(command.contains("\\\n  --no-buffer \\\n"), "{command}");
    assert!(
        command.contains("-H 'accept: text/event-stream'"),
        "{command}"
    );
    assert!(!command.contains("accept: application/json"), "{command}");
    assert!(
        !command.contains("authorization"),
        "no key, no header: {command}"
    );
}

/// With stream transport the command is the streamed request `create_chat_completion`
/// sends: `"stream": true`, usage asked for, the event stream accepted.
#[test]
fn stream_transport_shows_the_streamed_request() {
    let api = ChatApi::new(Config::new().base_url("http://127.0.0.1:9/v1"))
        .with_options(RequestOptions::new().stream_transport(true));
    let req = CreateChatCompletionRequest::new("m", vec![Message::user("Hi")]);
    let command = api.curl(&req);
    assert!(
        command.ends_with(r#"'{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}'"#),
        "{command}"
    );
    assert!(
        command.contains("-H 'accept: text/event-stream'"),
        "{command}"
    );
}

#[test]
fn azure_keys_and_token_providers_become_variables() {
    let api = ChatApi::new(
        Config::azure("https://my-resource.openai.azure.com", "gpt-4o prod")
            .azure_api_key("azure-secret-key-123"),
    );
    let command = api.curl(&nasty_request());
    assert!(
        command.starts_with("curl 'https://my-resource.openai.azure.com/openai/deployments/gpt-4o%20prod/chat/completions?api-version=2024-10-21' \\\n"),
        "{command}"
    );
    assert!(
        command.contains("-H \"api-key: $AZURE_OPENAI_API_KEY\""),
        "{command}"
    );
    assert!(!command.contains("azure-secret-key-123"), "{command}");

    // The provider is not asked for a token: the command names the variable instead.
    let api = ChatApi::new(
        Config::azure_v1("https://my-resource.openai.azure.com")
            .token_provider(|| panic!("curl() must not ask for a token")),
    );
    let command = api.curl(&nasty_request());
    assert!(
        command.contains("-H \"authorization: Bearer $OPENAI_API_KEY\""),
        "{command}"
    );
    let out = Command::new("sh")
        .arg("-n")
        .arg("-c")
        .arg(&command)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
