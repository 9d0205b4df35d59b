//! Azure OpenAI: deployment and v1 URLs, `api-version`, `api-key` versus bearer tokens, a
//! token provider asked once per attempt, and the content-filter data Azure adds.
#![allow(unsafe_code)] // edition 2024: std::env::set_var and remove_var are unsafe
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use httpmock::MockServer;
use sync_openai::config::AZURE_DEFAULT_API_VERSION;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ContentFilterSeverity, CreateChatCompletionRequest,
    FinishReason,
};
use sync_openai::{ChatApi, Config, Error};

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o", vec![Message::user("Hi")])
}

#[test]
fn deployment_url_api_version_and_api_key() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/openai/deployments/gpt-4o%20prod%2Feu/chat/completions")
            .query_param("api-version", AZURE_DEFAULT_API_VERSION)
            .header("api-key", "azure-key-123")
            .header_missing("authorization");
        then.status(200).body(common::COMPLETION);
    });
    // A trailing slash on the endpoint, and a deployment name that needs encoding.
    let api = ChatApi::new(
        Config::azure(format!("{}/", server.base_url()), "gpt-4o prod/eu")
            .azure_api_key("azure-key-123"),
    );
    let resp = api.create_chat_completion(&request()).unwrap();
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("Hello there!")
    );
    mock.assert();
}

#[test]
fn api_version_can_be_changed() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.path("/openai/deployments/d/chat/completions")
            .query_param("api-version", "2025-04-01-preview")
            .header("authorization", "Bearer entra-token");
        then.status(200).body(common::COMPLETION);
    });
    let api = ChatApi::new(
        Config::azure(server.base_url(), "d")
            .api_version("2025-04-01-preview")
            .bearer_token("entra-token"),
    );
    api.create_chat_completion(&request()).unwrap();
    mock.assert();
}

#[test]
fn v1_url_has_no_api_version_and_uses_the_bearer_token() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/openai/v1/chat/completions")
            .query_param_missing("api-version")
            .header("authorization", "Bearer entra-token")
            .header_missing("api-key");
        then.status(200).body(common::COMPLETION);
    });
    let api = ChatApi::new(Config::azure_v1(server.base_url()).bearer_token("entra-token"));
    api.create_chat_completion(&request()).unwrap();
    mock.assert();
}

#[test]
fn stored_operations_keep_the_api_version() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/openai/deployments/d/chat/completions/chatcmpl-1")
            .query_param("api-version", "v");
        then.status(200).body(common::COMPLETION);
    });
    let api = ChatApi::new(
        Config::azure(server.base_url(), "d")
            .api_version("v")
            .azure_api_key("k"),
    );
    api.get_chat_completion("chatcmpl-1").unwrap();
    mock.assert();
}

#[test]
fn token_provider_is_asked_before_every_attempt() {
    let server = MockServer::start();
    // Each attempt must carry the token the provider gave for it.
    let first = server.mock(|when, then| {
        when.header("authorization", "Bearer token-1");
        then.status(500)
            .body(r#"{"error":{"message":"try again"}}"#);
    });
    let second = server.mock(|when, then| {
        when.header("authorization", "Bearer token-2");
        then.status(503).body(r#"{"error":{"message":"busy"}}"#);
    });
    let third = server.mock(|when, then| {
        when.header("authorization", "Bearer token-3");
        then.status(200).body(common::COMPLETION);
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let api = ChatApi::new(
        Config::azure_v1(server.base_url())
            .api_key("static-key-not-used")
            .token_provider(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(format!("token-{n}"))
            })
            .max_retries(2)
            .clock(common::FakeClock::new()),
    );
    let resp = api
        .create_chat_completion_with_http_info(&request())
        .unwrap();
    assert_eq!(resp.retries(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    first.assert_calls(1);
    second.assert_calls(1);
    third.assert_calls(1);

    // Streams ask too.
    let sse = server.mock(|when, then| {
        when.header("authorization", "Bearer token-4")
            .header("accept", "text/event-stream");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body("data: {\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    });
    let text: String = api
        .create_chat_completion_stream(&request())
        .unwrap()
        .content_deltas()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(text, "ok");
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    sse.assert_calls(1);
}

#[test]
fn a_failing_token_provider_sends_nothing() {
    let server = MockServer::start();
    let mock = server.mock(|_, then| {
        then.status(200).body(common::COMPLETION);
    });
    let api = ChatApi::new(
        Config::azure_v1(server.base_url())
            .token_provider(|| Err("az login has expired; run `az login`".into())),
    );
    let err = api.create_chat_completion(&request()).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("az login has expired"), "{err}");
    mock.assert_calls(0);
}

#[test]
fn azure_from_env() {
    // One test owns these variables: tests in this file run in parallel.
    let vars = [
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_DEPLOYMENT",
        "OPENAI_API_VERSION",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
    ];
    for var in vars {
        // SAFETY: the one test here that uses the environment; the others set no variable and read none.
        unsafe { std::env::remove_var(var) };
    }
    let err = Config::azure_from_env().unwrap_err();
    assert!(err.to_string().contains("AZURE_OPENAI_ENDPOINT"), "{err}");

    let server = MockServer::start();
    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::set_var("AZURE_OPENAI_ENDPOINT", server.base_url()) };
    let err = Config::azure_from_env().unwrap_err();
    assert!(err.to_string().contains("AZURE_OPENAI_API_KEY"), "{err}");

    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::set_var("AZURE_OPENAI_DEPLOYMENT", "dep") };
    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::set_var("OPENAI_API_VERSION", "2024-06-01") };
    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::set_var("AZURE_OPENAI_API_KEY", "env-key") };
    let deployment = server.mock(|when, then| {
        when.path("/openai/deployments/dep/chat/completions")
            .query_param("api-version", "2024-06-01")
            .header("api-key", "env-key");
        then.status(200).body(common::COMPLETION);
    });
    let config = Config::azure_from_env().unwrap();
    assert!(!format!("{config:?}").contains("env-key"));
    ChatApi::new(config)
        .create_chat_completion(&request())
        .unwrap();
    deployment.assert();

    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::remove_var("AZURE_OPENAI_DEPLOYMENT") };
    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::remove_var("AZURE_OPENAI_API_KEY") };
    // SAFETY: the one test here that uses the environment; the others set no variable and read none.
    unsafe { std::env::set_var("AZURE_OPENAI_AD_TOKEN", "env-token") };
    let v1 = server.mock(|when, then| {
        when.path("/openai/v1/chat/completions")
            .query_param_missing("api-version")
            .header("authorization", "Bearer env-token");
        then.status(200).body(common::COMPLETION);
    });
    ChatApi::new(Config::azure_from_env().unwrap())
        .create_chat_completion(&request())
        .unwrap();
    v1.assert();
    for var in vars {
        // SAFETY: the one test here that uses the environment; the others set no variable and read none.
        unsafe { std::env::remove_var(var) };
    }
}

const FILTERED_COMPLETION: &str = r#"{
  "id": "chatcmpl-az", "object": "chat.completion", "created": 1, "model": "gpt-4o-2024-08-06",
  "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
    "hate": {"filtered": false, "severity": "safe"},
    "jailbreak": {"filtered": false, "detected": false},
    "self_harm": {"filtered": false, "severity": "safe"},
    "sexual": {"filtered": false, "severity": "safe"},
    "violence": {"filtered": false, "severity": "low"}}}],
  "choices": [{"index": 0, "finish_reason": "content_filter", "logprobs": null,
    "message": {"role": "assistant", "content": null},
    "content_filter_results": {
      "hate": {"filtered": false, "severity": "safe"},
      "protected_material_code": {"filtered": true, "detected": true,
        "citation": {"URL": "https://github.com/x/y", "license": "MIT"}},
      "protected_material_text": {"filtered": false, "detected": false},
      "violence": {"filtered": false, "severity": "safe"}}}],
  "usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}
}"#;

#[test]
fn content_filter_results_are_typed() {
    let server = MockServer::start();
    server.mock(|_, then| {
        then.status(200).body(FILTERED_COMPLETION);
    });
    let api = ChatApi::new(Config::azure(server.base_url(), "d").azure_api_key("k"));
    let resp = api.create_chat_completion(&request()).unwrap();

    let prompt = resp.prompt_filter_results();
    assert_eq!(prompt.len(), 1);
    let verdicts = &prompt[0].content_filter_results;
    assert!(!verdicts.is_filtered());
    assert_eq!(
        verdicts.violence.as_ref().unwrap().severity,
        Some(ContentFilterSeverity::Low)
    );
    assert!(!verdicts.jailbreak.as_ref().unwrap().detected);

    let choice = &resp.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ContentFilter));
    let verdicts = choice.content_filter_results().unwrap();
    assert!(verdicts.is_filtered());
    let code = verdicts.protected_material_code.unwrap();
    let citation = code.citation.unwrap();
    assert_eq!(citation.url.as_deref(), Some("https://github.com/x/y"));
    assert_eq!(citation.license.as_deref(), Some("MIT"));

    // Plain OpenAI responses have none.
    let plain: sync_openai::types::CreateChatCompletionResponse =
        serde_json::from_str(common::COMPLETION).unwrap();
    assert!(plain.prompt_filter_results().is_empty());
    assert!(plain.choices[0].content_filter_results().is_none());
}

#[test]
fn streamed_prompt_filter_chunk() {
    let server = MockServer::start();
    let body = concat!(
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",",
        "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":",
        "{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n",
        "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"\",\"role\":\"assistant\"},",
        "\"finish_reason\":null,\"index\":0}],\"created\":1,\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o\",",
        "\"object\":\"chat.completion.chunk\"}\n\n",
        "data: {\"choices\":[{\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}},",
        "\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null,\"index\":0}],\"created\":1,\"id\":\"chatcmpl-1\",",
        "\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n",
        "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}],",
        "\"created\":1,\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n",
        "data: [DONE]\n\n",
    );
    server.mock(|_, then| {
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(body);
    });
    let api = ChatApi::new(Config::azure(server.base_url(), "d").azure_api_key("k"));
    let chunks: Vec<_> = api
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(chunks.len(), 4);
    assert_eq!(chunks[0].prompt_filter_results().len(), 1);
    assert!(chunks[1].prompt_filter_results().is_empty());
    let hate = chunks[2].choices[0]
        .content_filter_results()
        .unwrap()
        .hate
        .unwrap();
    assert_eq!(hate.severity, Some(ContentFilterSeverity::Safe));
}

#[test]
fn content_filter_error_is_typed() {
    let server = MockServer::start();
    let mock = server.mock(|_, then| {
        then.status(400).body(
            r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":true,"detected":true},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}}}"#,
        );
    });
    let api = ChatApi::new(Config::azure(server.base_url(), "d").azure_api_key("k"));
    let err = api.create_chat_completion(&request()).unwrap_err();
    let Error::Api(api_error) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api_error.status, 400);
    assert_eq!(api_error.code(), Some("content_filter"));
    assert!(api_error.message().contains("content management policy"));
    let filter = api_error.content_filter().unwrap();
    assert_eq!(filter.code.as_deref(), Some("ResponsibleAIPolicyViolation"));
    let results = filter.results.unwrap();
    assert!(results.is_filtered());
    assert!(results.jailbreak.unwrap().detected);
    // A 400 is not retried.
    mock.assert_calls(1);
}

#[test]
fn empty_or_dot_deployment_is_a_config_error() {
    let server = MockServer::start();
    let mock = server.mock(|_, then| {
        then.status(200).body(common::COMPLETION);
    });
    for name in ["", " ", ".", ".."] {
        let api = ChatApi::new(Config::azure(server.base_url(), name).azure_api_key("k"));
        let err = api.create_chat_completion(&request()).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{name:?}: {err:?}");
        assert!(err.to_string().contains("deployment"), "{err}");
    }
    mock.assert_calls(0);
}

#[test]
fn an_options_api_version_replaces_the_configs() {
    // `RequestOptions::query` follows the rule of `Config::query_param`: a parameter of
    // the same name is replaced, so Azure's `api-version` is sent once, with the
    // override's value.
    let server = sync_openai::testing::MockServer::start();
    server
        .reply(sync_openai::testing::Reply::text("ok"))
        .reply(sync_openai::testing::Reply::text("ok"));
    let api = ChatApi::new(Config::azure(server.url(""), "d").azure_api_key("k")).with_options(
        sync_openai::RequestOptions::new()
            .query("api-version", "2025-04-01-preview")
            .query("trace", "1")
            .query("trace", "2"),
    );
    api.create_chat_completion(&request()).unwrap();
    api.get_chat_completion("chatcmpl-1").unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            request.query(),
            Some("api-version=2025-04-01-preview&trace=2"),
            "{}",
            request.path()
        );
    }
}
