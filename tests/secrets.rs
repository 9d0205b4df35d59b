//! The API key never appears in the `Debug` or `Display` of any public type that can hold it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use httpmock::MockServer;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, RequestOptions};

const KEY: &str = "sk-proj-SECRET0123456789abcdefSECRET";

fn api_error_details(err: &sync_openai::Error) -> Option<&sync_openai::ApiError> {
    match err {
        sync_openai::Error::Api(e) => Some(e),
        _ => None,
    }
}

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} shows the key: {text}");
    assert!(
        !text.contains("SECRET"),
        "{what} shows part of the key: {text}"
    );
}

#[test]
fn no_public_type_prints_the_key() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        // A misbehaving proxy that echoes every request header in its error body.
        then.status(400)
            .header("x-echo", format!("Bearer {KEY}"))
            .body(format!(
                "<html><title>Bad</title>Authorization: Bearer {KEY}; api-key: {KEY}</html>"
            ));
    });
    server.mock(|when, then| {
        when.path("/v1/chat/completions/x");
        then.status(200)
            .body(format!("{{\"id\": \"{KEY}\", \"choices\": [tru"));
    });

    let config = Config::new()
        .base_url(server.url("/v1"))
        .header("api-key", KEY)
        .max_retries(0);
    let options = RequestOptions::new()
        .header("api-key", KEY)
        .header("Authorization", format!("Bearer {KEY}"))
        .query("key", KEY);
    let api = ChatApi::new(config.clone());
    let scoped = api.with_options(options.clone());
    let req = CreateChatCompletionRequest::new("m", vec![Message::user("hi")]);

    // The key only in an `api-key` header (as for Azure), not as `api_key`: still redacted.
    let api_error = scoped.create_chat_completion(&req).unwrap_err();
    let Some(e) = api_error_details(&api_error) else {
        panic!("{api_error:?}")
    };
    assert!(e.body.contains("<redacted>"), "{}", e.body);
    let stream_error = scoped.create_chat_completion_stream(&req).unwrap_err();
    let config_error = ChatApi::new(Config::new().api_key(format!("{KEY}\n\u{0}")))
        .create_chat_completion(&req)
        .unwrap_err();
    let header_error = ChatApi::new(config.clone().header("x-bad", format!("{KEY}\r\n")))
        .create_chat_completion(&req)
        .unwrap_err();

    assert_hidden("Config", &format!("{config:?}"));
    assert_hidden("ChatApi", &format!("{api:?}"));
    assert_hidden("ChatApi with options", &format!("{scoped:?}"));
    assert_hidden("RequestOptions", &format!("{options:?}"));
    for (what, err) in [
        ("api error", &api_error),
        ("stream open error", &stream_error),
        ("config error", &config_error),
        ("header error", &header_error),
    ] {
        assert_hidden(what, &format!("{err:?}"));
        assert_hidden(what, &format!("{err}"));
        if let sync_openai::Error::Api(e) = err {
            assert_hidden("ApiError", &format!("{e:?}"));
            assert_hidden("ApiError", &format!("{e}"));
            assert_hidden("ApiError body", &e.body);
        }
    }
}

#[test]
fn azure_credentials_are_hidden_too() {
    let server = MockServer::start();
    server.mock(|_, then| {
        // A gateway that echoes the credentials it got.
        then.status(401).body(format!(
            r#"{{"error":{{"message":"bad api-key {KEY} / Bearer {KEY}"}}}}"#
        ));
    });
    let req = CreateChatCompletionRequest::new("m", vec![Message::user("hi")]);
    let keyed = Config::azure(server.base_url(), "d")
        .azure_api_key(KEY)
        .max_retries(0);
    let token = Config::azure_v1(server.base_url())
        .token_provider(|| Ok(KEY.to_owned()))
        .max_retries(0);
    let bearer = Config::azure_v1(server.base_url())
        .bearer_token(KEY)
        .max_retries(0);
    for config in [keyed, token, bearer] {
        assert_hidden("Config", &format!("{config:?}"));
        let api = ChatApi::new(config);
        assert_hidden("ChatApi", &format!("{api:?}"));
        let err = api.create_chat_completion(&req).unwrap_err();
        assert_eq!(err.status(), Some(401));
        assert_hidden("error", &format!("{err:?}"));
        assert_hidden("error", &format!("{err}"));
        let Some(e) = api_error_details(&err) else {
            panic!("{err:?}")
        };
        assert_hidden("ApiError body", &e.body);
        assert!(e.message.contains("<redacted>"), "{}", e.message);
    }
}
