//! `ChatApi::with_options`: per-call timeout, retries, headers, query and body fields.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::time::{Duration, Instant};

use common::{config, Server, COMPLETION};
use httpmock::MockServer;
use serde_json::json;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ListChatCompletionsParams,
};
use sync_openai::{ChatApi, Config, Error, RequestOptions};

fn req() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("m", vec![Message::user("Hi")]).temperature(0.5)
}

#[test]
fn headers_query_and_body_fields_are_added() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .query_param("api-version", "2024-10-21")
            .header("x-custom", "from-options")
            .header("x-trace", "t1")
            .json_body(json!({
                "model": "m",
                "messages": [{"role": "user", "content": "Hi"}],
                "temperature": 0.9,
                "top_k": 40
            }));
        then.status(200).body(COMPLETION);
    });
    let api = ChatApi::new(
        config(&server)
            .header("X-Custom", "from-config")
            .max_retries(0),
    );
    let scoped = api.with_options(
        RequestOptions::new()
            .header("X-Custom", "from-options")
            .header("X-Trace", "t1")
            .query("api-version", "2024-10-21")
            .body_field("top_k", 40)
            .body_field("temperature", 0.9),
    );
    scoped.create_chat_completion(&req()).unwrap();
    mock.assert();
}

#[test]
fn query_is_appended_to_urls_that_already_have_one() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions")
            .query_param("limit", "2")
            .query_param("api-version", "v1");
        then.status(200)
            .body(r#"{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}"#);
    });
    let api = ChatApi::new(config(&server).max_retries(0))
        .with_options(RequestOptions::new().query("api-version", "v1"));
    let page = api
        .list_chat_completions(&ListChatCompletionsParams::new().limit(2))
        .unwrap();
    assert!(page.data.is_empty());
    mock.assert();
}

#[test]
fn max_retries_override() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.any_request();
        then.status(503).body("{}");
    });
    let clock = common::FakeClock::new();
    let api = ChatApi::new(config(&server).max_retries(0).clock(clock.clone()));
    let err = api
        .with_options(RequestOptions::new().max_retries(3))
        .create_chat_completion(&req())
        .unwrap_err();
    assert_eq!(err.retries(), 3);
    assert_eq!(clock.sleeps().len(), 3);
    mock.assert_calls(4);
    // The original client is unchanged.
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert_eq!(err.retries(), 0);
    mock.assert_calls(5);
}

#[test]
fn timeout_override() {
    let server = Server::silent();
    let api = ChatApi::new(Config::new().base_url(server.base_url()).max_retries(0));
    let start = Instant::now();
    let err = api
        .with_options(RequestOptions::new().timeout(Duration::from_millis(300)))
        .create_chat_completion(&req())
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn total_timeout_stops_retrying_before_the_deadline() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.any_request();
        then.status(500).header("retry-after-ms", "400").body("{}");
    });
    let api = ChatApi::new(
        config(&server)
            .max_retries(5)
            .clock(common::FakeClock::new()),
    );
    // The server asks for 400 ms before each retry: that wait does not fit a 100 ms
    // deadline, so the client gives up at once instead of sleeping past it.
    let err = api
        .with_options(RequestOptions::new().total_timeout(Duration::from_millis(100)))
        .create_chat_completion(&req())
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        err.retries(),
        0,
        "a 400 ms wait does not fit a 100 ms deadline"
    );
    mock.assert_calls(1);
}

#[test]
fn invalid_option_header_is_a_config_error() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.any_request();
        then.status(200).body(COMPLETION);
    });
    let api =
        ChatApi::new(config(&server)).with_options(RequestOptions::new().header("X-A", "1\r\n2"));
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    mock.assert_calls(0);
}

/// A server that answers every request with a 503, with these headers.
fn overloaded(headers: &'static [(&'static str, &'static str)]) -> Server {
    let body = r#"{"error":{"message":"overloaded","type":"server_error"}}"#;
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    Server::always("503 Service Unavailable", &all, body)
}

#[test]
fn retry_backoff_keeps_every_wait_within_its_max() {
    let server = overloaded(&[]);
    let api = server.api(|c| {
        c.max_retries(6)
            .retry_backoff(Duration::from_millis(10), Duration::from_millis(25))
    });
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert_eq!((err.status(), err.retries()), (Some(503), 6));
    let waits = server.sleeps();
    assert_eq!(waits.len(), 6);
    let ms = |n: f64| Duration::from_secs_f64(n / 1000.0);
    // 10 ms, 20 ms, then 25 ms, each less up to 25 % jitter.
    let bases = [10.0, 20.0, 25.0, 25.0, 25.0, 25.0];
    for (wait, base) in waits.iter().zip(bases) {
        assert!(*wait >= ms(base * 0.75) && *wait <= ms(base), "{waits:?}");
    }
    assert_eq!(server.requests(), 7);
}

#[test]
fn retry_backoff_through_request_options() {
    let server = overloaded(&[]);
    let api = server.api(|c| c.max_retries(3));
    let scoped = api.with_options(
        RequestOptions::new().retry_backoff(Duration::from_millis(1), Duration::from_millis(2)),
    );
    scoped.create_chat_completion(&req()).unwrap_err();
    let waits = server.sleeps();
    assert_eq!(waits.len(), 3);
    assert!(
        waits
            .iter()
            .all(|w| !w.is_zero() && *w <= Duration::from_millis(2)),
        "{waits:?}"
    );
}

#[test]
fn a_servers_delay_within_max_wins_and_a_longer_one_is_returned() {
    let server = overloaded(&[("retry-after-ms", "20")]);
    let max = Duration::from_millis(25);
    let api = server.api(|c| {
        c.max_retries(2)
            .retry_backoff(Duration::from_millis(1), max)
    });
    api.create_chat_completion(&req()).unwrap_err();
    assert_eq!(server.sleeps(), [Duration::from_millis(20); 2]);

    // Asked for 1 s with a 25 ms max: not waited, the error says how long was asked.
    let server = overloaded(&[("retry-after", "1")]);
    let api = server.api(|c| {
        c.max_retries(2)
            .retry_backoff(Duration::from_millis(1), max)
    });
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!((err.retries(), server.requests()), (0, 1));
    assert!(server.sleeps().is_empty());
}

#[test]
fn an_invalid_retry_backoff_is_a_config_error_naming_the_setter() {
    let server = overloaded(&[]);
    let zero = server.api(|c| c.retry_backoff(Duration::ZERO, Duration::from_secs(1)));
    let err = zero.create_chat_completion(&req()).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "retry_backoff(0ns, 1s): the first wait must be above zero and no longer than the longest: give 0 < initial <= max"
    );
    let api = server.api(|c| c);
    let inverted = api.with_options(
        RequestOptions::new().retry_backoff(Duration::from_secs(2), Duration::from_secs(1)),
    );
    let err = inverted.create_chat_completion(&req()).unwrap_err();
    assert!(err.to_string().contains("retry_backoff(2s, 1s)"), "{err}");
    assert_eq!(server.requests(), 0, "nothing is sent");
}
