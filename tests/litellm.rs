//! End to end through a second real server: the LiteLLM proxy, an OpenAI-compatible gateway.
//!
//! `scripts/litellm.sh` installs the proxy, starts it in front of LiteLLM's own mock models
//! and of llama-server, and runs this file with `LITELLM_URL` (the proxy's `/v1` base URL),
//! `LITELLM_KEY` (its master key) and `LITELLM_LLAMA_MODEL` (`tiny`, or empty without
//! llama-server) set; without `LITELLM_URL` every test returns at once.
//!
//! The models the script configures: `mock` answers "Hello from LiteLLM's mock model.",
//! `mock-tools` a call of `get_weather`, `mock-overloaded` a 429, `mock-broken-stream` a
//! mid-stream failure, `tiny` is llama-server's random model (gibberish, exact lengths).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::time::Duration;

use sync_openai::error::ApiError;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason, Role,
};
use sync_openai::{ChatApi, Config, Error, ModelsApi};

const MOCK_TEXT: &str = "Hello from LiteLLM's mock model.";

/// The proxy's base URL and key, or `None` (with a note) when `LITELLM_URL` is not set.
fn proxy() -> Option<(String, String)> {
    match std::env::var("LITELLM_URL") {
        Ok(url) if !url.trim().is_empty() => {
            Some((url, std::env::var("LITELLM_KEY").unwrap_or_default()))
        }
        _ => {
            eprintln!("LITELLM_URL is not set: skipping the LiteLLM test (run scripts/litellm.sh)");
            None
        }
    }
}

/// A client of the proxy with the master key and no retries, so each test sees one answer.
fn client() -> Option<ChatApi> {
    let (url, key) = proxy()?;
    Some(ChatApi::new(
        Config::new()
            .base_url(url)
            .api_key(key)
            .max_retries(0)
            .timeout(Duration::from_secs(60)),
    ))
}

macro_rules! proxy_or_skip {
    () => {
        match client() {
            Some(api) => api,
            None => return,
        }
    };
}

/// The model llama-server serves through the proxy, when the script started it.
fn llama_model() -> Option<String> {
    std::env::var("LITELLM_LLAMA_MODEL")
        .ok()
        .filter(|m| !m.trim().is_empty())
}

fn ask(model: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(model, vec![Message::user("Hello")])
}

fn content(resp: &CreateChatCompletionResponse, choice: usize) -> &str {
    resp.choices[choice]
        .message
        .content
        .as_deref()
        .unwrap_or_default()
}

fn api_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Box<ApiError> {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

#[test]
fn plain_completion_of_the_mock_model() {
    let api = proxy_or_skip!();
    let resp = api
        .create_chat_completion_with_http_info(&ask("mock"))
        .unwrap();
    assert_eq!(resp.status, 200);
    let r = &resp.data;
    eprintln!("plain: {r:?}");
    assert!(r.id.starts_with("chatcmpl-"), "{}", r.id);
    assert_eq!(r.object, "chat.completion");
    assert_eq!(r.model, "mock");
    assert_eq!(r.choices.len(), 1);
    assert_eq!(r.choices[0].message.role, Some(Role::Assistant));
    assert_eq!(content(r, 0), MOCK_TEXT);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = r.usage.as_ref().expect("usage");
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    // LiteLLM names the call in its own headers.
    assert!(
        resp.headers.contains_key("x-litellm-call-id"),
        "{:?}",
        resp.headers
    );
}

#[test]
fn streamed_and_collected_with_usage() {
    let api = proxy_or_skip!();
    let text: String = api
        .create_chat_completion_stream(&ask("mock"))
        .unwrap()
        .content_deltas()
        .map(Result::unwrap)
        .collect();
    assert_eq!(text, MOCK_TEXT);

    let req = ask("mock").stream_options(ChatCompletionStreamOptions::include_usage());
    let chunks: Vec<_> = api
        .create_chat_completion_stream(&req)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(chunks.len() > 3, "the mock streams its text in pieces");
    let with_usage: Vec<_> = chunks.iter().filter(|c| c.usage.is_some()).collect();
    assert_eq!(with_usage.len(), 1, "usage is sent once, on the last chunk");
    assert!(chunks.last().unwrap().usage.is_some());

    let collected = api
        .create_chat_completion_stream(&req)
        .unwrap()
        .collect_completion()
        .unwrap();
    eprintln!("collected: {collected:?}");
    assert_eq!(content(&collected, 0), MOCK_TEXT);
    assert_eq!(collected.choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = collected.usage.as_ref().expect("usage from the stream");
    assert!(usage.completion_tokens > 0, "{usage:?}");
}

#[test]
fn n_two_gives_two_choices_plain_and_streamed() {
    let api = proxy_or_skip!();
    let req = ask("mock").n(2);
    let r = api.create_chat_completion(&req).unwrap();
    let indexes: Vec<u32> = r.choices.iter().map(|c| c.index).collect();
    assert_eq!(indexes, [0, 1]);
    assert!(r
        .choices
        .iter()
        .all(|c| c.message.content.as_deref() == Some(MOCK_TEXT)));

    let streamed = api
        .create_chat_completion_stream(&req)
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(streamed.choices.len(), 2);
    assert_eq!(content(&streamed, 0), MOCK_TEXT);
    assert_eq!(content(&streamed, 1), MOCK_TEXT);
}

#[test]
fn a_tool_call_keeps_its_id_name_and_arguments() {
    let api = proxy_or_skip!();
    let r = api.create_chat_completion(&ask("mock-tools")).unwrap();
    eprintln!("tool call: {r:?}");
    let calls = r.choices[0]
        .message
        .tool_calls
        .as_ref()
        .expect("tool calls");
    let [call] = &calls[..] else {
        panic!("one call: {calls:?}")
    };
    let call = call.as_function().expect("a function call");
    assert_eq!(call.id, "call_mock_1");
    assert_eq!(call.function.name, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert_eq!(args, serde_json::json!({"city": "Paris"}));
    // LiteLLM's mock says `stop`, not `tool_calls`: the reason is kept as sent.
    eprintln!("finish_reason {:?}", r.choices[0].finish_reason);
}

#[test]
fn a_wrong_key_is_an_api_error_with_the_proxys_words() {
    let (url, _) = match proxy() {
        Some(p) => p,
        None => return,
    };
    let api = ChatApi::new(
        Config::new()
            .base_url(url)
            .api_key("sk-wrong-0123456789")
            .max_retries(0),
    );
    let e = api_error(api.create_chat_completion(&ask("mock")));
    eprintln!("wrong key: {e}");
    // Without a database LiteLLM cannot look a virtual key up: 400 `no_db_connection`.
    assert_eq!(e.status, 400);
    assert_eq!(e.message(), "No connected db.");
    assert_eq!(e.error_type(), Some("no_db_connection"));
    assert!(!e.to_string().contains("sk-wrong-0123456789"), "{e}");

    // No key at all: LiteLLM's error handler fails on a missing module (prisma), a 500.
    let (url, _) = proxy().unwrap();
    let keyless = ChatApi::new(Config::new().base_url(url).max_retries(0));
    let e = api_error(keyless.create_chat_completion(&ask("mock")));
    eprintln!("no key: {e}");
    assert_eq!(e.status, 500);
    assert_eq!(e.message(), "Internal server error");
    // And so wait_ready returns it at once instead of waiting.
    let e = api_error(keyless.wait_ready(Duration::from_secs(30)));
    assert_eq!(e.status, 500);
}

#[test]
fn an_unknown_model_is_a_bad_request_naming_it() {
    let api = proxy_or_skip!();
    let e = api_error(api.create_chat_completion(&ask("no-such-model")));
    eprintln!("unknown model: {e}");
    assert_eq!(e.status, 400);
    assert!(
        e.message()
            .contains("Invalid model name passed in model=no-such-model"),
        "{}",
        e.message()
    );
    assert_eq!(e.code(), Some("400"));
}

#[test]
fn a_refused_stream_is_an_api_error_before_any_chunk() {
    let api = proxy_or_skip!();
    let e = api_error(
        api.create_chat_completion_stream(&ask("mock-overloaded"))
            .map(|_| ()),
    );
    eprintln!("refused stream: {e}");
    assert_eq!(e.status, 429);
    assert!(
        e.message().contains("mock rate limit error"),
        "{}",
        e.message()
    );
    assert_eq!(e.error_type(), Some("throttling_error"));
    assert!(Error::Api(e).is_retryable());

    // A failure LiteLLM meets in the backend's stream before its first chunk is also
    // answered as an error status (529), not as a stream.
    let e = api_error(
        api.create_chat_completion_stream(&ask("mock-broken-stream"))
            .map(|_| ()),
    );
    eprintln!("broken stream: {e}");
    assert_eq!(e.status, 529);
    assert!(
        e.message().contains("mock error raised mid-stream"),
        "{}",
        e.message()
    );
}

#[test]
fn the_proxy_lists_its_models() {
    let api = proxy_or_skip!();
    let list = ModelsApi::from(&api).list_models().unwrap();
    let ids: Vec<&str> = list.ids().collect();
    eprintln!("models: {ids:?}");
    for id in [
        "mock",
        "mock-tools",
        "mock-overloaded",
        "mock-broken-stream",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    if let Some(llama) = llama_model() {
        assert!(ids.contains(&llama.as_str()), "{ids:?}");
    }
}

/// A greedy request to llama-server of exactly `tokens` tokens (`ignore_eos`, passed on by
/// the proxy).
fn exact(model: &str, tokens: u32) -> CreateChatCompletionRequest {
    ask(model)
        .temperature(0.0)
        .seed(7)
        .max_tokens(tokens)
        .extra("ignore_eos", true)
}

#[test]
fn llama_server_behind_the_proxy_plain_streamed_and_n_two() {
    let api = proxy_or_skip!();
    let Some(model) = llama_model() else {
        eprintln!("no llama-server behind the proxy: skipped");
        return;
    };
    let plain = api.create_chat_completion(&exact(&model, 6)).unwrap();
    eprintln!(
        "llama plain: {:?} usage {:?}",
        content(&plain, 0),
        plain.usage
    );
    assert_eq!(plain.usage.as_ref().unwrap().completion_tokens, 6);
    assert_eq!(plain.choices[0].finish_reason, Some(FinishReason::Length));

    let req = exact(&model, 6).stream_options(ChatCompletionStreamOptions::include_usage());
    let streamed = api
        .create_chat_completion_stream(&req)
        .unwrap()
        .collect_completion()
        .unwrap();
    eprintln!(
        "llama streamed: {:?} usage {:?}",
        content(&streamed, 0),
        streamed.usage
    );
    assert_eq!(
        content(&streamed, 0),
        content(&plain, 0),
        "greedy: the same text"
    );
    assert_eq!(streamed.usage.as_ref().unwrap().completion_tokens, 6);

    let two = api
        .create_chat_completion(&exact(&model, 4).temperature(1.0).n(2))
        .unwrap();
    let indexes: Vec<u32> = two.choices.iter().map(|c| c.index).collect();
    assert_eq!(indexes, [0, 1]);
}

#[test]
fn llama_servers_own_error_comes_through_the_proxy() {
    let api = proxy_or_skip!();
    let Some(model) = llama_model() else {
        eprintln!("no llama-server behind the proxy: skipped");
        return;
    };
    // A prompt longer than llama-server's 256-token context.
    let long =
        CreateChatCompletionRequest::new(model, vec![Message::user("hello world ".repeat(200))])
            .max_tokens(4);
    let e = api_error(api.create_chat_completion(&long));
    eprintln!("context too long through the proxy: {e}");
    assert_eq!(e.status, 400);
    assert!(e.message().contains("context"), "{}", e.message());
}
