//! `create_chat_completion_stream`: chunks, in-band errors, truncation, accumulation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::time::{Duration, Instant};

use common::{api, chunk, sse, Server, KEY};
use httpmock::MockServer;
use serde_json::json;
use sync_openai::error::{ApiErrorKind, StreamErrorKind};
use sync_openai::types::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage as Message,
    ChatCompletionStreamOptions, CreateChatCompletionRequest, FinishReason,
};
use sync_openai::{ChatApi, ChatCompletionStream, Error};

fn req() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")])
}

fn stream_from(server: &MockServer, body: String) -> ChatCompletionStream {
    server.mock(|when, then| {
        when.method("POST").path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "text/event-stream")
            .header("x-request-id", "req_stream")
            .body(body);
    });
    api(server).create_chat_completion_stream(&req()).unwrap()
}

fn stream_of(body: &str) -> ChatCompletionStream {
    ChatCompletionStream::from_reader(std::io::Cursor::new(body.as_bytes().to_vec()))
}

#[test]
fn sends_stream_true_and_event_stream_accept_without_mutating_the_request() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .header("accept", "text/event-stream")
            .header("authorization", format!("Bearer {KEY}"))
            .json_body(json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Hi"}],
                "stream_options": {"include_usage": true},
                "stream": true
            }));
        then.status(200)
            .header("x-request-id", "req_stream")
            .body(sse(&[
                chunk(json!({"role": "assistant", "content": ""}), None),
                chunk(json!({"content": "Hel"}), None),
                chunk(json!({"content": "lo"}), None),
                chunk(json!({}), Some("stop")),
            ]));
    });
    let request = req().stream_options(ChatCompletionStreamOptions {
        include_usage: Some(true),
        ..Default::default()
    });
    let stream = api(&server)
        .create_chat_completion_stream(&request)
        .unwrap();
    assert_eq!(request.stream, None, "the caller's request is not changed");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.request_id(), Some("req_stream"));
    let texts: Vec<String> = stream.content_deltas().map(Result::unwrap).collect();
    assert_eq!(texts, ["Hel", "lo"]);
    mock.assert();
}

#[test]
fn collect_completion_folds_content_usage_and_metadata() {
    let server = MockServer::start();
    let mut usage = chunk(json!({}), None);
    usage["choices"] = json!([]);
    usage["usage"] = json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7});
    let stream = stream_from(
        &server,
        sse(&[
            chunk(json!({"role": "assistant", "content": ""}), None),
            chunk(json!({"content": "Hel"}), None),
            chunk(json!({"content": "lo"}), None),
            chunk(json!({}), Some("stop")),
            usage,
        ]),
    );
    let done = stream.collect_completion().unwrap();
    assert_eq!(done.id, "chatcmpl-s");
    assert_eq!(done.object, "chat.completion");
    assert_eq!(done.model, "gpt-4o-mini");
    assert_eq!(done.created, 1700000000);
    assert_eq!(done.system_fingerprint.as_deref(), Some("fp_s"));
    assert_eq!(done.choices.len(), 1);
    assert_eq!(done.choices[0].message.content.as_deref(), Some("Hello"));
    assert_eq!(done.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(done.usage.unwrap().total_tokens, 7);
}

#[test]
fn tool_call_fragments_are_joined() {
    let server = MockServer::start();
    let stream = stream_from(
        &server,
        sse(&[
            chunk(
                json!({"role": "assistant", "content": null, "tool_calls": [
                {"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "", "function": {"name": "", "arguments": "\"Paris\"}"}}]}),
                None,
            ),
            // A second call, whole in one delta.
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
        ]),
    );
    let done = stream.collect_completion().unwrap();
    let calls = done.choices[0].message.tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 2);
    let ChatCompletionMessageToolCalls::Function(first) = &calls[0] else {
        panic!("{calls:?}")
    };
    assert_eq!(first.id, "call_a");
    assert_eq!(first.function.name, "get_weather");
    assert_eq!(first.function.arguments, r#"{"city":"Paris"}"#);
    let ChatCompletionMessageToolCalls::Function(second) = &calls[1] else {
        panic!("{calls:?}")
    };
    assert_eq!(
        (second.id.as_str(), second.function.name.as_str()),
        ("call_b", "get_time")
    );
    assert_eq!(done.choices[0].finish_reason, Some(FinishReason::ToolCalls));
}

#[test]
fn tool_call_deltas_without_index_or_type_starting_at_one() {
    let body = sse(&[
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_x", "function": {"name": "f", "arguments": "{\"a\""}}]}),
            None,
        ),
        // No index: continues the last call.
        chunk(
            json!({"tool_calls": [{"function": {"arguments": ":1}"}}]}),
            None,
        ),
        // No index, new id: a new call.
        chunk(
            json!({"tool_calls": [{"id": "call_y", "function": {"name": "g", "arguments": "{}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ]);
    let done = stream_of(&body).collect_completion().unwrap();
    let calls = done.choices[0].message.tool_calls.as_ref().unwrap();
    let args: Vec<(&str, &str)> = calls
        .iter()
        .map(|c| match c {
            ChatCompletionMessageToolCalls::Function(f) => {
                (f.id.as_str(), f.function.arguments.as_str())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(args, [("call_x", "{\"a\":1}"), ("call_y", "{}")]);
}

#[test]
fn two_interleaved_choices() {
    let c = |index: u32, content: &str, finish: Option<&str>| {
        json!({"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": index, "delta": {"content": content}, "finish_reason": finish}]})
    };
    let body = sse(&[
        c(1, "B1", None),
        c(0, "A1", None),
        c(1, "B2", Some("length")),
        c(0, "A2", Some("stop")),
    ]);
    let done = stream_of(&body).collect_completion().unwrap();
    assert_eq!(done.choices.len(), 2);
    assert_eq!(done.choices[0].index, 0);
    assert_eq!(done.choices[0].message.content.as_deref(), Some("A1A2"));
    assert_eq!(done.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(done.choices[1].message.content.as_deref(), Some("B1B2"));
    assert_eq!(done.choices[1].finish_reason, Some(FinishReason::Length));
}

#[test]
fn reasoning_deltas_are_kept_under_their_vendor_key() {
    let body = sse(&[
        chunk(
            json!({"role": "assistant", "reasoning_content": "Let me "}),
            None,
        ),
        chunk(
            json!({"reasoning_content": "think.", "content": null}),
            None,
        ),
        chunk(json!({"reasoning_content": null, "content": "42"}), None),
        chunk(json!({}), Some("stop")),
    ]);
    let done = stream_of(&body).collect_completion().unwrap();
    let message = &done.choices[0].message;
    assert_eq!(message.content.as_deref(), Some("42"));
    assert_eq!(message.reasoning(), Some("Let me think."));
    assert_eq!(message.extra["reasoning_content"], "Let me think.");
}

#[test]
fn azure_prompt_filter_chunk_and_quirky_chunks() {
    let body = [
        // Azure's first chunk: no choices, empty id, created 0.
        r#"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"#,
        // A choice without delta; role null; usage null.
        r#"data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"gpt-4o","choices":[{"index":0,"finish_reason":null}],"usage":null}"#,
        r#"data: {"id":"c1","choices":[{"index":0,"delta":{"role":null,"content":[{"type":"text","text":"Hi"}]}}]}"#,
        r#"data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"eos"}]}"#,
        "data: [DONE]",
    ]
    .join("\n\n");
    let done = stream_of(&body).collect_completion().unwrap();
    assert_eq!(done.id, "c1");
    assert_eq!(done.created, 5);
    assert_eq!(done.model, "gpt-4o");
    assert!(done.extra.contains_key("prompt_filter_results"));
    assert_eq!(done.choices[0].message.content.as_deref(), Some("Hi"));
    assert_eq!(
        done.choices[0].finish_reason.as_ref().unwrap().as_str(),
        "eos"
    );
}

/// The in-band error forms servers use, each ending the stream with its message.
#[test]
fn in_band_errors() {
    let cases = [
        (
            "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"overloaded\"}}\n\n",
            "overloaded",
            Some("server_error"),
            Some("overloaded"),
        ),
        (
            "event: error\ndata: {\"message\":\"bad things\",\"code\":500}\n\n",
            "bad things",
            None,
            Some("500"),
        ),
        (
            "data: {\"object\":\"error\",\"message\":\"vllm says no\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}\n\n",
            "vllm says no",
            Some("BadRequestError"),
            Some("400"),
        ),
        (
            "error: {\"code\":500,\"message\":\"llama.cpp failed\",\"type\":\"server_error\"}\n\n",
            "llama.cpp failed",
            Some("server_error"),
            Some("500"),
        ),
    ];
    for (tail, message, error_type, code) in cases {
        let body = format!(
            "data: {}\n\n{tail}data: [DONE]\n\n",
            chunk(json!({"content": "partial"}), None)
        );
        let mut stream = stream_of(&body);
        assert!(stream.next().unwrap().is_ok(), "first chunk of {tail}");
        let err = stream.next().unwrap().unwrap_err();
        let Error::Stream(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.kind(), StreamErrorKind::ServerError, "{tail}");
        assert_eq!(e.message(), message, "{tail}");
        assert_eq!(e.error_type(), error_type, "{tail}");
        assert_eq!(e.code(), code, "{tail}");
        assert!(err.to_string().contains(message));
        assert!(stream.next().is_none(), "fused after the error");
        assert!(stream.next().is_none());
    }
}

#[test]
fn invalid_json_data_is_a_stream_error_with_a_snippet() {
    let mut stream = stream_of("data: {\"choices\": [tru\n\n");
    let err = stream.next().unwrap().unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::InvalidData);
    assert_eq!(e.snippet(), Some("{\"choices\": [tru"));
    assert!(std::error::Error::source(&err).is_some());
    assert!(stream.next().is_none());
}

#[test]
fn end_without_done_after_finish_reason_is_clean() {
    let body = format!(
        "data: {}\n\ndata: {}\n\n",
        chunk(json!({"content": "ok"}), None),
        chunk(json!({}), Some("stop"))
    );
    let done = stream_of(&body).collect_completion().unwrap();
    assert_eq!(done.choices[0].message.content.as_deref(), Some("ok"));
}

#[test]
fn end_without_finish_reason_is_truncated() {
    let body = format!("data: {}\n\n", chunk(json!({"content": "cut"}), None));
    let mut stream = stream_of(&body);
    assert!(stream.next().unwrap().is_ok());
    let err = stream.next().unwrap().unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert!(stream.next().is_none());
    // collect_completion never returns a partial answer as whole.
    let err = stream_of(&body).collect_completion().unwrap_err();
    assert!(
        matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::Truncated),
        "{err:?}"
    );
    // An empty body is truncated too.
    let err = stream_of("").collect_completion().unwrap_err();
    assert!(
        matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::Truncated),
        "{err:?}"
    );
}

#[test]
fn error_status_on_open_is_an_api_error() {
    for (status, kind) in [(400, ApiErrorKind::BadRequest), (503, ApiErrorKind::Server)] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method("POST").path("/v1/chat/completions");
            then.status(status)
                .header("x-request-id", "req_open")
                .body(r#"{"error":{"message":"nope","type":"invalid_request_error","code":null}}"#);
        });
        let err = api(&server)
            .create_chat_completion_stream(&req())
            .unwrap_err();
        let Error::Api(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.status, status);
        assert_eq!(e.kind(), kind);
        assert_eq!(e.message(), "nope");
        assert_eq!(e.request_id(), Some("req_open"));
    }
}

/// A server that sends a chunked event-stream head and `parts`, one HTTP chunk each,
/// then holds the connection open until the test ends (`hold`) or closes it without
/// the terminating chunk.
fn chunked_server(parts: Vec<Vec<u8>>, hold: bool) -> Server {
    Server::per_connection(move |_, conn| {
        conn.read_request();
        conn.write_chunked_head("200 OK", "text/event-stream");
        for part in &parts {
            conn.write_chunk(part);
        }
        if hold {
            conn.stall();
        }
    })
}

#[test]
fn dropping_the_stream_early_does_not_block() {
    let first = format!("data: {}\n\n", chunk(json!({"content": "one"}), None));
    let server = chunked_server(vec![first.into_bytes()], true);
    let mut stream = server
        .api(|c| c)
        .create_chat_completion_stream(&req())
        .unwrap();
    assert!(stream.next().unwrap().is_ok());
    let start = Instant::now();
    drop(stream);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn connection_cut_mid_stream_is_truncated() {
    let first = format!("data: {}\n\n", chunk(json!({"content": "one"}), None));
    // The server closes without the terminating zero-size chunk.
    let server = chunked_server(vec![first.into_bytes()], false);
    let mut stream = server
        .api(|c| c)
        .create_chat_completion_stream(&req())
        .unwrap();
    assert!(stream.next().unwrap().is_ok());
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::Truncated),
        "{err:?}"
    );
    assert!(stream.next().is_none());
}

#[test]
fn split_utf8_and_crlf_across_network_chunks() {
    let whole = format!(
        "data: {}\r\n\r\ndata: {}\r\n\r\ndata: [DONE]\r\n\r\n",
        chunk(json!({"content": "héllo 🦀"}), None),
        chunk(json!({}), Some("stop"))
    )
    .into_bytes();
    // Cut into 3-byte network chunks: splits the multi-byte characters and the CRLFs.
    let parts = whole.chunks(3).map(<[u8]>::to_vec).collect();
    let server = chunked_server(parts, false);
    let done = server
        .api(|c| c)
        .create_chat_completion_stream(&req())
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(done.choices[0].message.content.as_deref(), Some("héllo 🦀"));
}

#[test]
fn json_answers_to_a_stream_request_are_replayed() {
    let server = MockServer::start();
    // A whole completion with a tool call and a vendor key, as a server that ignores
    // `"stream": true` sends it.
    server.mock(|when, then| {
        when.header("x-case", "completion");
        then.status(200)
            .header("content-type", "application/json; charset=utf-8")
            .body(r#"{"id":"c1","object":"chat.completion","created":5,"model":"m",
                "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
                "content":null,"reasoning_content":"think","tool_calls":[{"id":"t1","type":"function",
                "function":{"name":"f","arguments":"{\"a\":1}"}}]}}],
                "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#);
    });
    // An error object with status 200, as some gateways send.
    server.mock(|when, then| {
        when.header("x-case", "error");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"error":{"message":"model overloaded","type":"server_error","code":"overloaded"}}"#);
    });
    let api = |case: &str| {
        ChatApi::new(
            sync_openai::Config::new()
                .base_url(server.url("/v1"))
                .header("x-case", case)
                .max_retries(0),
        )
    };
    let completion = api("completion")
        .create_chat_completion_stream(&req())
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(completion.id, "c1");
    let message = &completion.choices[0].message;
    assert_eq!(message.reasoning(), Some("think"));
    let call = message.tool_calls()[0].as_function().unwrap();
    assert_eq!(
        (call.id.as_str(), call.function.arguments.as_str()),
        ("t1", "{\"a\":1}")
    );
    assert_eq!(completion.usage.unwrap().total_tokens, 3);

    let items: Vec<_> = api("error")
        .create_chat_completion_stream(&req())
        .unwrap()
        .collect();
    assert_eq!(items.len(), 1);
    let Err(sync_openai::Error::Stream(e)) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(e.message(), "model overloaded");
    assert_eq!(e.code(), Some("overloaded"));
}
