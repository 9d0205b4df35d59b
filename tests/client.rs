//! What the client sends and what `create_chat_completion(_with_http_info)` returns.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use common::{api, config, Response, Server, COMPLETION, KEY};
use httpmock::MockServer;
use serde_json::json;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::types::{ListBatchesParams, ListFilesParams};
use sync_openai::{BatchApi, ChatApi, Config, Error, FilesApi, ModelsApi, RequestOptions};

fn hello() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        vec![Message::system("Be brief."), Message::user("Hello")],
    )
    .temperature(0.2)
    .max_completion_tokens(64)
    .extra("top_k", 40)
}

#[test]
fn sends_exact_method_path_headers_and_body() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header(
                "user-agent",
                concat!("sync-openai/", env!("CARGO_PKG_VERSION")),
            )
            .header("openai-organization", "org-1")
            .header("openai-project", "proj_1")
            .header("x-custom", "v")
            .json_body(json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hello"}
                ],
                "temperature": 0.2,
                "max_completion_tokens": 64,
                "top_k": 40
            }));
        then.status(200).body(COMPLETION);
    });
    let api = ChatApi::new(
        config(&server)
            .organization("org-1")
            .project("proj_1")
            .header("X-Custom", "v")
            .max_retries(0),
    );
    let resp = api.create_chat_completion(&hello()).unwrap();
    mock.assert();
    assert_eq!(resp.id, "chatcmpl-abc");
    assert_eq!(
        resp.choices[0].message.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(resp.usage.as_ref().unwrap().total_tokens, 22);
}

#[test]
fn organization_and_project_only_when_set() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .header_missing("openai-organization")
            .header_missing("openai-project");
        then.status(200).body(COMPLETION);
    });
    api(&server).create_chat_completion(&hello()).unwrap();
    mock.assert();
}

#[test]
fn no_key_with_custom_base_url_sends_no_authorization() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .header_missing("authorization");
        then.status(200).body(COMPLETION);
    });
    let api = ChatApi::new(Config::new().base_url(server.url("/v1")).max_retries(0));
    api.create_chat_completion(&hello()).unwrap();
    mock.assert();
}

#[test]
fn trailing_slash_in_base_url_is_the_same() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200).body(COMPLETION);
    });
    for base in [server.url("/v1"), server.url("/v1/"), server.url("/v1///")] {
        let api = ChatApi::new(Config::new().base_url(base).max_retries(0));
        api.create_chat_completion(&hello()).unwrap();
    }
    mock.assert_calls(3);
}

#[test]
fn stream_true_is_refused_by_the_plain_call() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.any_request();
        then.status(200).body(COMPLETION);
    });
    let err = api(&server)
        .create_chat_completion(&hello().stream(true))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(
        err.to_string().contains("create_chat_completion_stream"),
        "{err}"
    );
    mock.assert_calls(0);
}

#[test]
fn with_http_info_gives_status_headers_and_typed_views() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200)
            .header("x-request-id", "req_42")
            .header("openai-processing-ms", "321")
            .header("x-ratelimit-limit-requests", "10000")
            .header("x-ratelimit-limit-tokens", "200000")
            .header("x-ratelimit-remaining-requests", "9999")
            .header("x-ratelimit-remaining-tokens", "199950")
            .header("x-ratelimit-reset-requests", "6m0s")
            .header("x-ratelimit-reset-tokens", "20ms")
            .header("x-repeated", "one")
            .header("x-repeated", "two")
            .body(COMPLETION);
    });
    let resp = api(&server)
        .create_chat_completion_with_http_info(&hello())
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.request_id(), Some("req_42"));
    assert_eq!(resp.processing_ms(), Some(321));
    let rl = resp.rate_limit();
    assert_eq!(rl.limit_requests, Some(10_000));
    assert_eq!(rl.limit_tokens, Some(200_000));
    assert_eq!(rl.remaining_requests, Some(9_999));
    assert_eq!(rl.remaining_tokens, Some(199_950));
    assert_eq!(rl.reset_requests, Some(std::time::Duration::from_secs(360)));
    assert_eq!(rl.reset_tokens, Some(std::time::Duration::from_millis(20)));
    let repeated: Vec<_> = resp
        .headers
        .get_all("x-repeated")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(repeated, ["one", "two"]);
    assert_eq!(resp.data.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(resp.retries(), 0);
}

#[test]
fn one_pool_shared_by_clones_across_threads() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200).body(COMPLETION);
    });
    let api = api(&server);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let api = api.clone();
            std::thread::spawn(move || api.create_chat_completion(&hello()).unwrap().id)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "chatcmpl-abc");
    }
    mock.assert_calls(4);
}

#[test]
fn handles_made_from_one_client_share_its_pool_and_options() {
    // Each answer names the `x-trace` header it saw; one connection for all proves one pool.
    let server = Server::handler(|req| {
        let trace = req.header("x-trace").unwrap_or("none").to_owned();
        match req.path() {
            "/v1/models" => Response::json(200, format!(r#"{{"data":[{{"id":"{trace}"}}]}}"#)),
            "/v1/files" => Response::json(200, format!(r#"{{"data":[],"first_id":"{trace}"}}"#)),
            "/v1/batches" => Response::json(200, format!(r#"{{"data":[],"first_id":"{trace}"}}"#)),
            _ => Response::json(200, COMPLETION).header("x-request-id", &trace),
        }
    });
    let chat = ChatApi::new(Config::new().api_key(KEY).base_url(server.base_url()))
        .with_options(RequestOptions::new().header("X-Trace", "t1"));
    let models = ModelsApi::from(&chat);
    let files = FilesApi::from(&models);
    let batches = BatchApi::from(&files);
    let back = ChatApi::from(&batches);

    let resp = chat
        .create_chat_completion_with_http_info(&hello())
        .unwrap();
    assert_eq!(resp.request_id(), Some("t1"));
    let ids: Vec<String> = models
        .list_models()
        .unwrap()
        .ids()
        .map(str::to_owned)
        .collect();
    assert_eq!(ids, ["t1"]);
    let page = files.list_files(&ListFilesParams::new()).unwrap();
    assert_eq!(page.first_id.as_deref(), Some("t1"));
    let page = batches.list_batches(&ListBatchesParams::new()).unwrap();
    assert_eq!(page.first_id.as_deref(), Some("t1"));
    let resp = back
        .create_chat_completion_with_http_info(&hello())
        .unwrap();
    assert_eq!(resp.request_id(), Some("t1"));
    assert_eq!(server.requests(), 5);
    assert_eq!(server.connections(), 1, "every handle used the same pool");

    // Each handle's Debug names it and shows the configuration, never the key.
    for shown in [
        format!("{chat:?}"),
        format!("{models:?}"),
        format!("{files:?}"),
        format!("{batches:?}"),
    ] {
        assert!(shown.contains("Api { config: Config {"), "{shown}");
        assert!(!shown.contains(KEY), "{shown}");
    }
    assert!(format!("{batches:?}").starts_with("BatchApi {"));
}

#[test]
fn invalid_header_is_an_error_and_nothing_is_sent() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.any_request();
        then.status(200).body(COMPLETION);
    });
    for config in [
        config(&server).header("X-Evil", "a\r\nInjected: yes"),
        config(&server).header("Bad Name", "v"),
        config(&server).organization("org\n1"),
        Config::new()
            .api_key("sk-abc\ndef")
            .base_url(server.url("/v1")),
    ] {
        assert!(config.validate().is_err());
        let err = ChatApi::new(config)
            .create_chat_completion(&hello())
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(!err.to_string().contains("Injected"), "{err}");
        assert!(!err.to_string().contains("sk-abc"), "{err}");
    }
    mock.assert_calls(0);
}

#[test]
fn default_base_url_without_key_fails_before_sending() {
    let err = ChatApi::new(Config::new())
        .create_chat_completion(&hello())
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "no API key: set OPENAI_API_KEY or call Config::api_key (servers at another base_url may need none)"
    );
}

#[test]
fn key_never_in_debug_or_display() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.any_request();
        // A proxy that echoes the Authorization header back in its error.
        then.status(401).body(format!(
            r#"{{"error":{{"message":"bad header Authorization: Bearer {KEY}","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
        ));
    });
    let config = config(&server).max_retries(0);
    let api = ChatApi::new(config.clone());
    let err = api.create_chat_completion(&hello()).unwrap_err();
    for text in [
        format!("{config:?}"),
        format!("{api:?}"),
        format!("{err:?}"),
        format!("{err}"),
    ] {
        assert!(!text.contains(KEY), "key leaked in: {text}");
    }
    let Error::Api(api_err) = &err else {
        panic!("{err:?}")
    };
    assert!(
        api_err.message().contains("<redacted>"),
        "{}",
        api_err.message()
    );
    assert!(!api_err.body.contains(KEY));
}
