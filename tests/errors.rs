//! Every error shape servers send, mapped to what the user sees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::time::{Duration, Instant};

use common::{api, closed_port, Server, COMPLETION};
use httpmock::MockServer;
use sync_openai::error::{ApiError, ApiErrorKind, TransportErrorKind};
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, Error};

fn req() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")])
}

/// Answers one request with `status` and `body`, returns the resulting `ApiError`.
fn api_error(status: u16, content_type: &str, body: &str) -> Box<ApiError> {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(status)
            .header("content-type", content_type)
            .header("x-request-id", "req_err")
            .body(body);
    });
    match api(&server).create_chat_completion(&req()).unwrap_err() {
        Error::Api(e) => e,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

#[test]
fn openai_error_object() {
    let e = api_error(
        401,
        "application/json",
        r#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
    );
    assert_eq!(e.status, 401);
    assert_eq!(e.kind(), ApiErrorKind::Authentication);
    assert_eq!(e.message(), "Incorrect API key provided: sk-abc***xyz.");
    assert_eq!(e.error_type(), Some("invalid_request_error"));
    assert_eq!(e.code(), Some("invalid_api_key"));
    assert_eq!(e.param(), None);
    assert_eq!(e.request_id(), Some("req_err"));
    assert_eq!(
        e.to_string(),
        "server answered 401 Unauthorized: Incorrect API key provided: sk-abc***xyz. \
         (type invalid_request_error, code invalid_api_key, request id req_err); \
         check the API key (OPENAI_API_KEY or Config::api_key)"
    );
}

#[test]
fn bad_request_with_param() {
    let e = api_error(
        400,
        "application/json",
        r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#,
    );
    assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    assert_eq!(e.param(), Some("temperature"));
}

#[test]
fn vllm_flat_error() {
    let e = api_error(
        404,
        "application/json",
        r#"{"object":"error","message":"The model `foo` does not exist.","type":"NotFoundError","param":null,"code":404}"#,
    );
    assert_eq!(e.kind(), ApiErrorKind::NotFound);
    assert_eq!(e.message(), "The model `foo` does not exist.");
    assert_eq!(e.error_type(), Some("NotFoundError"));
    assert_eq!(e.code(), Some("404"));
}

#[test]
fn array_wrapped_error() {
    let e = api_error(
        429,
        "application/json",
        r#"[{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}]"#,
    );
    assert_eq!(e.kind(), ApiErrorKind::RateLimit);
    assert_eq!(e.message(), "Resource has been exhausted");
    assert_eq!(e.code(), Some("429"));
}

#[test]
fn plain_string_error() {
    let e = api_error(
        404,
        "application/json",
        r#"{"error":"model 'llama9' not found"}"#,
    );
    assert_eq!(e.kind(), ApiErrorKind::NotFound);
    assert_eq!(e.message(), "model 'llama9' not found");
}

#[test]
fn message_that_is_an_object() {
    let e = api_error(
        422,
        "application/json",
        r#"{"error":{"message":{"field":"messages","problem":"empty"},"code":null}}"#,
    );
    assert_eq!(e.kind(), ApiErrorKind::Unprocessable);
    assert_eq!(e.message(), r#"{"field":"messages","problem":"empty"}"#);
    assert_eq!(e.code(), None);
}

#[test]
fn fastapi_detail() {
    let e = api_error(
        422,
        "application/json",
        r#"{"detail":"Field required: messages"}"#,
    );
    assert_eq!(e.message(), "Field required: messages");
}

#[test]
fn insufficient_quota_by_code_or_type() {
    let by_code = api_error(
        429,
        "application/json",
        r#"{"error":{"message":"You exceeded your current quota","type":"invalid_request_error","code":"insufficient_quota"}}"#,
    );
    assert_eq!(by_code.kind(), ApiErrorKind::InsufficientQuota);
    let by_type = api_error(
        429,
        "application/json",
        r#"{"error":{"message":"quota","type":"insufficient_quota","code":null}}"#,
    );
    assert_eq!(by_type.kind(), ApiErrorKind::InsufficientQuota);
    assert!(!Error::Api(by_type).is_retryable());
}

#[test]
fn html_page_from_a_proxy() {
    let e = api_error(
        502,
        "text/html",
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
    );
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.message(), "502 Bad Gateway");
    assert!(e.body.contains("nginx"));
    assert!(Error::Api(e).is_retryable());
}

#[test]
fn empty_body_uses_the_reason_phrase() {
    let e = api_error(503, "text/plain", "");
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.message(), "Service Unavailable");
    assert_eq!(e.body, "");
}

#[test]
fn permission_conflict_and_other_statuses() {
    assert_eq!(
        api_error(403, "application/json", "{}").kind(),
        ApiErrorKind::PermissionDenied
    );
    assert_eq!(
        api_error(409, "application/json", "{}").kind(),
        ApiErrorKind::Conflict
    );
    assert_eq!(
        api_error(418, "text/plain", "teapot").kind(),
        ApiErrorKind::Other
    );
}

#[test]
fn huge_error_body_is_bounded() {
    let body = "x".repeat(1_000_000);
    let e = api_error(500, "text/plain", &body);
    assert!(e.body.len() <= sync_openai::error::MAX_ERROR_BODY_BYTES + '…'.len_utf8());
    assert!(e.message().len() < 1_000);
}

#[test]
fn redirect_is_not_followed() {
    let server = MockServer::start();
    let target = server.mock(|when, then| {
        when.path("/elsewhere");
        then.status(200).body(COMPLETION);
    });
    server.mock(|when, then| {
        when.path("/v1/chat/completions");
        then.status(307)
            .header("location", server.url("/elsewhere"));
    });
    let err = api(&server).create_chat_completion(&req()).unwrap_err();
    let Error::Api(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.status, 307);
    assert!(e.message().contains("/elsewhere"), "{}", e.message());
    assert!(
        err.to_string().contains("redirects are not followed"),
        "{err}"
    );
    target.assert_calls(0);
}

#[test]
fn non_json_success_body_is_a_decode_error_with_position() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200)
            .header("x-request-id", "req_dec")
            .body("{\n  \"id\": \"x\",\n  \"choices\": \"not a list\"\n}");
    });
    let err = api(&server).create_chat_completion(&req()).unwrap_err();
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req_dec"));
    let Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d.line(), 3);
    assert!(d.column() > 10, "{}", d.column());
    assert!(
        d.message().starts_with("invalid type: string"),
        "{}",
        d.message()
    );
    assert!(d.snippet().contains("not a list"), "{}", d.snippet());
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn empty_success_body_is_a_decode_error() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200).body("");
    });
    let err = api(&server).create_chat_completion(&req()).unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("empty body"), "{err}");
}

#[test]
fn connection_refused_is_a_connect_error() {
    let port = closed_port();
    let api = ChatApi::new(
        Config::new()
            .base_url(format!("http://127.0.0.1:{port}/v1"))
            .max_retries(0),
    );
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(!err.is_timeout());
    assert!(err.is_retryable());
    assert_eq!(err.status(), None);
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::Connect);
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn dns_failure_is_a_connect_error() {
    let api = ChatApi::new(
        Config::new()
            .base_url("http://name-that-does-not-exist.invalid/v1")
            .max_retries(0),
    );
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[test]
fn silent_server_times_out() {
    // Accepts the connection, never answers.
    let server = Server::silent();
    let api = ChatApi::new(
        Config::new()
            .base_url(server.base_url())
            .timeout(Duration::from_millis(300))
            .max_retries(0),
    );
    let start = Instant::now();
    let err = api.create_chat_completion(&req()).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
}
