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

fn api_error_details(err: &sync_openai::Error) -> Option<&sync_openai::error::ApiError> {
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
        assert!(e.message().contains("<redacted>"), "{}", e.message());
    }
}

/// Asserts the key is in neither the `Display` nor the `Debug` of `err`, and returns both.
fn hidden_in_error(what: &str, err: &sync_openai::Error) -> (String, String) {
    let (display, debug) = (format!("{err}"), format!("{err:?}"));
    assert_hidden(&format!("{what} (Display)"), &display);
    assert_hidden(&format!("{what} (Debug)"), &debug);
    (display, debug)
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("m", vec![Message::user("hi")])
}

fn keyed(server: &MockServer) -> ChatApi {
    ChatApi::new(
        Config::new()
            .base_url(server.url("/v1"))
            .api_key(KEY)
            .max_retries(0),
    )
}

/// A 2xx body that fails to decode and quotes the key: not in the snippet, nor in serde's
/// message (which quotes the value that did not match).
#[test]
fn decode_snippet_and_message_are_redacted() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions/x");
        then.status(200)
            .body(format!("{{\"id\": \"{KEY}\", \"choices\": [tru"));
    });
    server.mock(|when, then| {
        when.path("/v1/chat/completions/y");
        then.status(200)
            .body(format!("{{\"id\": \"c\", \"created\": \"{KEY}\"}}"));
    });
    let api = keyed(&server);
    for id in ["x", "y"] {
        let err = api.get_chat_completion(id).unwrap_err();
        let sync_openai::Error::Decode(d) = &err else {
            panic!("{err:?}")
        };
        let (display, _) = hidden_in_error("decode error", &err);
        assert!(display.contains("<redacted>"), "{display}");
        assert_hidden("snippet", d.snippet());
        assert_hidden("message", &d.message());
    }
}

/// An in-band stream error that echoes the key in its message, code and snippet.
#[test]
fn stream_error_message_and_snippet_are_redacted() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\n\
                 data: {{\"error\":{{\"message\":\"invalid key {KEY}\",\"code\":\"{KEY}\"}}}}\n\n"
            ));
    });
    let err = keyed(&server)
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap_err();
    let sync_openai::Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    let (display, _) = hidden_in_error("stream server error", &err);
    assert!(display.contains("invalid key <redacted>"), "{display}");
    assert_hidden("snippet", e.snippet().unwrap());
    assert_hidden("code", e.code().unwrap());
    // The partial completion is the answer, not a secret: it is kept.
    assert_eq!(
        e.partial_completion().unwrap().choices[0]
            .message
            .content
            .as_deref(),
        Some("Hi")
    );
}

/// Data that is not a chunk and quotes the key: the snippet and serde's words are redacted.
#[test]
fn stream_invalid_data_snippet_is_redacted() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(format!(
                "data: {{\"choices\":[{{\"index\":\"{KEY}\"}}]}}\n\ndata: {{\"echo\": \"{KEY}\" oops\n\n"
            ));
    });
    let err = keyed(&server)
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap_err();
    let sync_openai::Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    hidden_in_error("stream invalid data", &err);
    assert_hidden("snippet", e.snippet().unwrap());
    assert!(
        e.snippet().unwrap().contains("<redacted>"),
        "{:?}",
        e.snippet()
    );
}

/// A redirect whose `Location` carries a key in its query and userinfo, and is very long:
/// shown bounded and redacted.
#[test]
fn redirect_location_is_bounded_and_redacted() {
    let server = MockServer::start();
    let location = format!(
        "https://user:{KEY}@login.example/{}?api-key={KEY}&sig={KEY}&x=1",
        "a".repeat(5000)
    );
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(302).header("location", location.clone());
    });
    // A client whose own key differs: the Location's secrets go by their names alone.
    let api = ChatApi::new(
        Config::new()
            .base_url(server.url("/v1"))
            .api_key("sk-other-0000000000")
            .max_retries(0),
    );
    let err = api.create_chat_completion(&request()).unwrap_err();
    let (display, _) = hidden_in_error("redirect", &err);
    assert!(
        display.contains("redirect to https://<redacted>@login.example/"),
        "{display}"
    );
    assert!(display.len() < 1000, "{}", display.len());
}

/// `user:pass@` in `base_url`: not in `Config`'s `Debug`, nor in the errors of a call.
#[test]
fn userinfo_in_base_url_is_redacted() {
    let config = Config::new()
        .base_url(format!("http://user:{KEY}@127.0.0.1:1/v1"))
        .api_key("sk-other-0000000000")
        .max_retries(0);
    assert_hidden("Config", &format!("{config:?}"));
    assert!(format!("{config:?}").contains("http://<redacted>@127.0.0.1:1/v1"));
    let api = ChatApi::new(config);
    assert_hidden("ChatApi", &format!("{api:?}"));
    let err = api.create_chat_completion(&request()).unwrap_err();
    hidden_in_error("call to a base_url with userinfo", &err);
    // A base_url with the wrong scheme is reported without its userinfo too.
    let err = ChatApi::new(Config::new().base_url(format!("ftp://u:{KEY}@h/v1")))
        .create_chat_completion(&request())
        .unwrap_err();
    let (display, _) = hidden_in_error("bad scheme", &err);
    assert!(display.contains("ftp://<redacted>@h/v1"), "{display}");
}

/// Query values of known secret names in `base_url` (`api-key`, `key`, `token`, `sig`, …).
#[test]
fn secret_query_values_in_base_url_are_redacted() {
    for name in [
        "api-key",
        "key",
        "token",
        "access_token",
        "sig",
        "X-Amz-Signature",
    ] {
        let config = Config::new()
            .base_url(format!(
                "http://127.0.0.1:1/v1?{name}={KEY}&api-version=2024-10-21"
            ))
            .max_retries(0);
        let debug = format!("{config:?}");
        assert_hidden("Config", &debug);
        assert!(
            debug.contains(&format!("{name}=<redacted>&api-version=2024-10-21")),
            "{debug}"
        );
        let err = ChatApi::new(config)
            .create_chat_completion(&request())
            .unwrap_err();
        hidden_in_error("call with a secret query value", &err);
    }
}

/// Control characters from a server (terminal escapes, forged lines) become spaces in
/// every error, the same way: ApiError, StreamError and DecodeError.
#[test]
fn control_characters_are_escaped_the_same_way_everywhere() {
    const EVIL: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nforged line\u{202e}";
    let json_evil = serde_json::to_string(EVIL).unwrap();
    let server = MockServer::start();
    server.mock(|when, then| {
        when.path("/v1/chat/completions")
            .body_includes("\"stream\":true");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(format!(
                "data: {{\"error\":{{\"message\":{json_evil},\"type\":{json_evil}}}}}\n\n"
            ));
    });
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(400).body(format!(
            "{{\"error\":{{\"message\":{json_evil},\"code\":{json_evil}}}}}"
        ));
    });
    server.mock(|when, then| {
        when.path("/v1/chat/completions/z");
        then.status(200).body(format!("{{\"id\": 5, {EVIL}"));
    });
    let api = keyed(&server);
    let api_err = api.create_chat_completion(&request()).unwrap_err();
    let stream_err = api
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap_err();
    let decode_err = api.get_chat_completion("z").unwrap_err();
    let clean = " ]0;pwned  [2J  forged line ";
    for (what, err) in [
        ("api", &api_err),
        ("stream", &stream_err),
        ("decode", &decode_err),
    ] {
        let display = err.to_string();
        assert!(
            !display.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{what}: {display:?}"
        );
        assert!(display.contains(clean), "{what}: {display:?}");
        // Debug escapes them as Rust does (`\u{1b}`), never raw.
        let debug = format!("{err:?}");
        assert!(!debug.contains('\u{1b}'), "{what}: {debug}");
    }
    let sync_openai::Error::Api(e) = &api_err else {
        panic!("{api_err:?}")
    };
    assert_eq!(e.message(), clean);
    assert_eq!(e.code(), Some(clean));
}
