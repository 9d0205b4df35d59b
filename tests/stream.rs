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

#[test]
fn a_json_answer_to_a_stream_is_one_chunk_whatever_its_json_media_type() {
    // One rule for "is this body JSON" (the stream, the cache): `application/json` or any
    // `+json` type, parameters ignored; `application/jsonl` is not one JSON document.
    let server = sync_openai::testing::MockServer::start();
    for media_type in [
        "application/json; charset=utf-8",
        "application/vnd.api+json",
    ] {
        server.reply(
            sync_openai::testing::Reply::raw(200, common::COMPLETION)
                .header("content-type", media_type),
        );
        let text: String = ChatApi::new(server.config().max_retries(0))
            .create_chat_completion_stream(&req())
            .unwrap()
            .content_deltas()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{media_type}: {e}"));
        assert_eq!(text, "Hello there!", "{media_type}");
    }
}

// ----- stream transport: create_chat_completion sent streamed (issue 26) --------------

use crate::completions;

/// A server answering each request by its body: a plain call with `whole` after `delay`,
/// a streamed one with `events` (each a `data:` payload), `gap` apart, then `[DONE]`.
/// The case is chosen by the request's `x-case` header (an index into `cases`).
fn twin_server(cases: Vec<(String, Vec<String>)>, delay: Duration, gap: Duration) -> Server {
    Server::per_connection(move |_, conn| {
        while let Some(request) = conn.next_request() {
            let case: usize = request.header("x-case").unwrap_or("0").parse().unwrap();
            let (whole, events) = &cases[case];
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            if body["stream"] != json!(true) {
                std::thread::sleep(delay);
                let head = [
                    ("content-type", "application/json"),
                    ("x-request-id", "req_plain"),
                ];
                if !conn.respond("200 OK", &head, whole.as_bytes()) {
                    return;
                }
                continue;
            }
            conn.write(
                format!("{}x-request-id: req_streamed\r\n\r\n", common::SSE_HEAD).as_bytes(),
            );
            for event in events {
                if !conn.write(format!("data: {event}\n\n").as_bytes()) {
                    return;
                }
                std::thread::sleep(gap);
            }
            conn.write(b"data: [DONE]\n\n");
            return; // the body ends with the connection
        }
    })
}

/// What must be the same between a plain answer and the one built from its stream:
/// id, model, and per choice the content, reasoning, tool calls (id, name, arguments) and
/// finish reason; the usage's counts.
fn essentials(r: &sync_openai::types::CreateChatCompletionResponse) -> serde_json::Value {
    let choices: Vec<_> = r
        .choices
        .iter()
        .map(|c| {
            json!({"index": c.index, "content": c.message.content.as_deref(),
                   "reasoning": c.message.reasoning(),
                   "tool_calls": c.message.tool_calls().iter().map(|t| match t.as_function() {
                       Some(f) => json!([f.id, f.function.name, f.function.arguments]),
                       None => serde_json::to_value(t).unwrap(),
                   }).collect::<Vec<_>>(),
                   "finish_reason": c.finish_reason.as_ref().map(FinishReason::as_str)})
        })
        .collect();
    let usage = r
        .usage
        .as_ref()
        .map(|u| (u.prompt_tokens, u.completion_tokens, u.total_tokens));
    json!({"id": r.id, "model": r.model, "choices": choices, "usage": usage})
}

const TWIN_WHOLE: &str = r#"{"id":"chatcmpl-t","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":3,"total_tokens":22}}"#;

fn twin_events() -> Vec<String> {
    let c = |delta: &str, finish: &str| {
        format!(
            r#"{{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        )
    };
    vec![
        c(r#"{"role":"assistant","content":"Hel"}"#, "null"),
        c(r#"{"content":"lo th"}"#, "null"),
        c(r#"{"content":"ere!"}"#, "null"),
        c("{}", r#""stop""#),
        r#"{"id":"chatcmpl-t","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":3,"total_tokens":22}}"#.to_owned(),
    ]
}

/// Through a proxy that cuts connections silent for 1 s, a plain call the server answers
/// after 2.5 s is cut; with `stream_transport` the same call completes, chunks 100 ms
/// apart, with the response the plain call gets without the proxy.
#[test]
fn stream_transport_survives_a_proxy_that_cuts_silent_connections() {
    let server = twin_server(
        vec![(TWIN_WHOLE.to_owned(), twin_events())],
        Duration::from_millis(2_500),
        Duration::from_millis(100),
    );
    let proxy = common::CuttingProxy::start(server.port(), Duration::from_secs(1));
    let through_proxy = server.api(|c| {
        c.base_url(proxy.base_url())
            .timeout(Duration::from_secs(30))
    });

    let api = through_proxy.clone();
    let (cut, _) = common::bounded(common::LIMIT, move || api.create_chat_completion(&req()));
    let err = cut.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(proxy.cuts(), 1);

    let direct = server.api(|c| c).create_chat_completion(&req()).unwrap();
    for api in [
        through_proxy.with_options(sync_openai::RequestOptions::new().stream_transport(true)),
        server.api(|c| c.base_url(proxy.base_url()).stream_transport(true)),
    ] {
        let (result, _) = common::bounded(common::LIMIT, move || {
            api.create_chat_completion_with_http_info(&req())
        });
        let streamed = result.unwrap();
        assert_eq!(streamed.status, 200);
        assert_eq!(streamed.request_id(), Some("req_streamed"));
        assert_eq!(essentials(&streamed.data), essentials(&direct));
        assert_eq!(
            streamed.data.choices[0].message.content.as_deref(),
            Some("Hello there!")
        );
    }
    assert_eq!(
        proxy.cuts(),
        1,
        "the streamed calls were never silent for long"
    );
    let log = server.log();
    let sent: serde_json::Value = serde_json::from_slice(&log.last().unwrap().body).unwrap();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        log.last().unwrap().header("accept"),
        Some("text/event-stream")
    );
}

/// Provider-shaped twins: a plain answer and the stream the same server sends for it.
fn provider_twins() -> Vec<(&'static str, String, Vec<String>)> {
    let s = |v: &[serde_json::Value]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    vec![
        ("openai spec example", json!({"id":"chatcmpl-123","object":"chat.completion","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"stop"}]}).to_string(),
         s(&[json!({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}),
             json!({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}),
             json!({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]})])),
        ("azure prompt filter first", json!({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop","content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}).to_string(),
         s(&[json!({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}),
             json!({"choices":[{"content_filter_results":{},"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1,"id":"chatcmpl-1","model":"gpt-4o","object":"chat.completion.chunk"}),
             json!({"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0}],"created":1,"id":"chatcmpl-1","model":"gpt-4o","object":"chat.completion.chunk"}),
             json!({"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0}],"created":1,"id":"chatcmpl-1","model":"gpt-4o","object":"chat.completion.chunk","usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})])),
        ("groq x_groq usage", json!({"id":"chatcmpl-g","object":"chat.completion","created":7,"model":"llama-3.1-8b-instant","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14},"x_groq":{"id":"req_01"}}).to_string(),
         s(&[json!({"id":"chatcmpl-g","object":"chat.completion.chunk","created":7,"model":"llama-3.1-8b-instant","x_groq":{"id":"req_01"},"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi!"},"finish_reason":null}]}),
             json!({"id":"chatcmpl-g","object":"chat.completion.chunk","created":7,"model":"llama-3.1-8b-instant","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.02,"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}})])),
        ("deepseek reasoning_content", json!({"id":"ds-1","object":"chat.completion","created":3,"model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"2+2=4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}).to_string(),
         s(&[json!({"id":"ds-1","object":"chat.completion.chunk","created":3,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":"2+2"},"finish_reason":null}]}),
             json!({"id":"ds-1","object":"chat.completion.chunk","created":3,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"=4"},"finish_reason":null}]}),
             json!({"id":"ds-1","object":"chat.completion.chunk","created":3,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"4","reasoning_content":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}})])),
        ("ollama tool call with empty content", json!({"id":"chatcmpl-o","object":"chat.completion","created":4,"model":"llama3.1","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","index":0,"type":"function","function":{"name":"search","arguments":"{\"q\":\"rust\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28}}).to_string(),
         s(&[json!({"id":"chatcmpl-o","object":"chat.completion.chunk","created":4,"model":"llama3.1","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","index":0,"type":"function","function":{"name":"search","arguments":"{\"q\":\"rust\"}"}}]},"finish_reason":null}]}),
             json!({"id":"chatcmpl-o","object":"chat.completion.chunk","created":4,"model":"llama3.1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"tool_calls"}]}),
             json!({"id":"chatcmpl-o","object":"chat.completion.chunk","created":4,"model":"llama3.1","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28}})])),
        ("gemini parallel calls without index", json!({"id":"g-1","object":"chat.completion","created":5,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"g1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\"}"}},{"id":"g2","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":10,"total_tokens":40}}).to_string(),
         s(&[json!({"id":"g-1","object":"chat.completion.chunk","created":5,"model":"gemini-2.5-flash","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"g1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\"}"}},{"id":"g2","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":10,"total_tokens":40}})])),
        ("gpt-5 arguments resent whole", json!({"id":"chatcmpl-5","object":"chat.completion","created":6,"model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_5","type":"function","function":{"name":"search","arguments":"{\"query\":\"A\",\"count\":5}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}}).to_string(),
         s(&[json!({"id":"chatcmpl-5","object":"chat.completion.chunk","created":6,"model":"gpt-5","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_5","type":"function","function":{"name":"search","arguments":""}}]},"finish_reason":null}]}),
             json!({"id":"chatcmpl-5","object":"chat.completion.chunk","created":6,"model":"gpt-5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"query\":\"A\","}}]},"finish_reason":null}]}),
             json!({"id":"chatcmpl-5","object":"chat.completion.chunk","created":6,"model":"gpt-5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"count\":5}"}}]},"finish_reason":null}]}),
             json!({"id":"chatcmpl-5","object":"chat.completion.chunk","created":6,"model":"gpt-5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"search","arguments":"{\"query\":\"A\",\"count\":5}"}}]},"finish_reason":"tool_calls"}]}),
             json!({"id":"chatcmpl-5","object":"chat.completion.chunk","created":6,"model":"gpt-5","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}})])),
    ]
}

/// On the provider-shaped twins, and on 200 random completions streamed the way servers
/// split them (`common/completions.rs`), the stream-transport answer equals the plain
/// call's: in id, model, content, reasoning, tool calls, finish reason and usage for the
/// providers, and in every field for the random ones.
#[test]
fn stream_transport_gives_the_plain_answer_on_every_twin() {
    let providers = provider_twins();
    let mut cases: Vec<(String, Vec<String>)> = providers
        .iter()
        .map(|(_, whole, events)| (whole.clone(), events.clone()))
        .collect();
    let generated = 200u64;
    for case in 0..generated {
        let mut e = completions::SplitMix(0x7_3a15 ^ case);
        let whole = completions::completion(&mut e);
        let events = completions::chunks(&whole, &mut e)
            .iter()
            .map(ToString::to_string)
            .collect();
        cases.push((whole.to_string(), events));
    }
    let server = twin_server(cases, Duration::ZERO, Duration::ZERO);
    let total = providers.len() + generated as usize;
    for case in 0..total {
        let api = server.api(|c| c.header("x-case", case.to_string()));
        let plain = api.create_chat_completion(&req()).unwrap();
        let streamed = api
            .with_options(sync_openai::RequestOptions::new().stream_transport(true))
            .create_chat_completion(&req())
            .unwrap();
        match providers.get(case) {
            Some((name, ..)) => {
                assert_eq!(essentials(&streamed), essentials(&plain), "{name}");
            }
            None => assert_eq!(streamed, plain, "generated case {case}"),
        }
    }
    assert_eq!(server.requests(), 2 * total);
}

/// Stream transport retries like a stream: a 503 before the stream opens is retried, a
/// stream cut after its first chunk is not (the answer would be paid twice), and its error
/// keeps the partial answer.
#[test]
fn stream_transport_retries_only_until_the_stream_opens() {
    let server = Server::per_request(|i, conn| {
        if i == 0 {
            let body = br#"{"error":{"message":"overloaded","type":"server_error"}}"#;
            conn.respond(
                "503 Service Unavailable",
                &[("content-type", "application/json")],
                body,
            );
            return common::After::KeepAlive;
        }
        conn.write(format!("{}\r\n", common::SSE_HEAD).as_bytes());
        conn.write(format!("data: {}\n\n", twin_events()[0]).as_bytes());
        common::After::Close // cut before the answer finished
    });
    let api = server.api(|c| c.max_retries(3).stream_transport(true));
    let (result, _) = common::bounded(common::LIMIT, move || api.create_chat_completion(&req()));
    let err = result.unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    let partial = e.partial_completion().unwrap();
    assert_eq!(partial.choices[0].message.content.as_deref(), Some("Hel"));
    assert_eq!(
        server.requests(),
        2,
        "one retry of the 503, none of the cut stream"
    );
    assert_eq!(server.sleeps().len(), 1);
}

/// With a response cache, a stream-transport call is recorded as the stream it was and
/// replayed into the same answer without sending anything.
#[test]
fn stream_transport_calls_are_recorded_and_replayed() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-stream-transport");
    let _ = std::fs::remove_dir_all(&dir);
    let server = twin_server(
        vec![(TWIN_WHOLE.to_owned(), twin_events())],
        Duration::ZERO,
        Duration::ZERO,
    );
    let api = server.api(|c| c.cache_dir(&dir).stream_transport(true));
    let first = api.create_chat_completion_with_http_info(&req()).unwrap();
    assert!(!first.is_replay());
    let again = api.create_chat_completion_with_http_info(&req()).unwrap();
    assert!(again.is_replay());
    assert_eq!(again.data, first.data);
    assert_eq!(
        again.data.choices[0].message.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(server.requests(), 1);
}

/// `RequestOptions::stream_transport(false)` turns off what the client's `Config` turned
/// on, through the one setter path.
#[test]
fn request_options_override_stream_transport() {
    let server = twin_server(
        vec![(TWIN_WHOLE.to_owned(), twin_events())],
        Duration::ZERO,
        Duration::ZERO,
    );
    let api = server.api(|c| c.stream_transport(true));
    let plain = api
        .with_options(sync_openai::RequestOptions::new().stream_transport(false))
        .create_chat_completion_with_http_info(&req())
        .unwrap();
    assert_eq!(plain.request_id(), Some("req_plain"));
    let streamed = api.create_chat_completion_with_http_info(&req()).unwrap();
    assert_eq!(streamed.request_id(), Some("req_streamed"));
    assert_eq!(essentials(&plain.data), essentials(&streamed.data));
}
