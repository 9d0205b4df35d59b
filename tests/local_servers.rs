//! What local and picky servers need from a client.
//!
//! * `ChatApi::wait_ready` against servers that are starting, loading their model, or will
//!   never serve: llama.cpp's 503 `Loading model`, a port nobody listens on yet, Ollama
//!   without `/health`, and the answers that waiting does not change.
//! * `Config::request_shape` against a server that refuses what real servers refuse, with
//!   their own words: a FastAPI 422 for the `developer` role and for content arrays,
//!   llama-server's 500 for a parameter it does not support, OpenAI's 400 for an empty
//!   tool-call id.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::error::Error as _;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use common::{bounded, chunk, closed_port, sse, Request, Response, Server, COMPLETION, LIMIT};
use serde_json::{json, Value};
use sync_openai::config::RequestShape;
use sync_openai::error::{ApiError, TransportErrorKind};
use sync_openai::observe::Event;
use sync_openai::testing::{MockServer, Reply};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionRequestMessageContentPart as Part,
    ChatCompletionRequestToolMessage, ChatCompletionStreamOptions, CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Config, Error};

/// What llama-server answers on every endpoint while it loads its model.
const LOADING: &str =
    r#"{"error":{"message":"Loading model","type":"unavailable_error","code":503}}"#;

/// Waits in a thread of its own, so that a hang fails the test instead of blocking it.
fn wait(api: &ChatApi, timeout: Duration) -> Result<(), Error> {
    let api = api.clone();
    bounded(timeout + LIMIT, move || api.wait_ready(timeout)).0
}

fn paths(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.path().to_owned())
        .collect()
}

fn api_status(result: Result<(), Error>) -> (u16, String) {
    match result {
        Err(Error::Api(e)) => (e.status, e.message().to_owned()),
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

#[test]
fn loading_model_three_times_then_ready_takes_four_polls() {
    let server = MockServer::start();
    for _ in 0..3 {
        server.reply(Reply::raw(503, LOADING));
    }
    server.reply(Reply::raw(200, r#"{"status":"ok"}"#));
    let api = ChatApi::new(server.config());
    wait(&api, Duration::from_secs(60)).unwrap();
    // llama-server's /health is at the root, not below /v1.
    assert_eq!(paths(&server), ["/health"; 4]);
}

#[test]
fn a_refused_connection_is_not_yet_and_a_server_appearing_on_the_port_is_ready() {
    let port = closed_port();
    let (failed_tx, failed_rx) = mpsc::channel();
    let config = Config::new()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .on_event(move |event| {
            if let Event::AttemptFailed { error, .. } = event {
                let _ = failed_tx.send(error.clone());
            }
        });
    let api = ChatApi::new(config);
    let waiter = {
        let api = api.clone();
        std::thread::spawn(move || api.wait_ready(Duration::from_secs(60)))
    };
    // Start the server only once a poll was refused.
    let refused = failed_rx.recv_timeout(LIMIT).expect("a refused poll");
    assert!(refused.contains("refused"), "{refused}");
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = Server::handler_on(listener, |request| match request.path() {
        "/health" => Response::json(200, r#"{"status":"ok"}"#),
        _ => Response::json(404, r#"{"error":{"message":"not found"}}"#),
    });
    waiter.join().unwrap().unwrap();
    let log = server.log();
    assert!(!log.is_empty());
    assert!(log.iter().all(|r| r.path() == "/health"), "{log:?}");
}

#[test]
fn without_health_it_asks_models_as_ollama_serves_it() {
    let server = MockServer::start();
    server
        .reply(Reply::raw(404, "404 page not found").header("content-type", "text/plain"))
        .reply(Reply::raw(503, LOADING))
        .reply(Reply::raw(200, r#"{"object":"list","data":[]}"#));
    let api = ChatApi::new(server.config());
    wait(&api, Duration::from_secs(60)).unwrap();
    // Once /health is not served it is not asked again.
    assert_eq!(paths(&server), ["/health", "/v1/models", "/v1/models"]);
}

#[test]
fn a_bad_key_is_returned_at_once() {
    let server = MockServer::start();
    server.reply(Reply::error(401, "Invalid API Key"));
    let api = ChatApi::new(server.config().api_key("sk-wrong-0123456789"));
    let (status, message) = api_status(wait(&api, Duration::from_secs(60)));
    assert_eq!((status, message.as_str()), (401, "Invalid API Key"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_model_that_failed_to_load_is_returned_at_once() {
    let server = MockServer::start();
    let failed = r#"{"error":{"code":500,"message":"model name=tiny failed to load","type":"server_error"}}"#;
    server
        .reply(Reply::raw(500, failed))
        .reply(Reply::raw(500, failed));
    let api = ChatApi::new(server.config());
    let (status, message) = api_status(wait(&api, Duration::from_secs(60)));
    assert_eq!(status, 500);
    assert_eq!(message, "model name=tiny failed to load");
    // The 500 on /health is checked against /models, which says the same: no waiting.
    assert_eq!(paths(&server), ["/health", "/v1/models"]);
}

#[test]
fn not_found_on_both_endpoints_is_returned_at_once() {
    let server = MockServer::start();
    server
        .reply(Reply::error(404, "Invalid URL (GET /health)"))
        .reply(Reply::error(404, "Invalid URL (GET /v1/models)"));
    let api = ChatApi::new(server.config());
    let (status, message) = api_status(wait(&api, Duration::from_secs(60)));
    assert_eq!(
        (status, message.as_str()),
        (404, "Invalid URL (GET /v1/models)")
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_server_that_stays_loading_times_out_naming_its_last_answer() {
    let server = MockServer::start();
    server.reply_always(Reply::raw(503, LOADING));
    let api = ChatApi::new(server.config());
    let err = wait(&api, Duration::from_millis(500)).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("expected a timeout, got {err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::Timeout);
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "the server at {} was not ready within ",
            server.base_url()
        )),
        "{message}"
    );
    assert!(
        message.contains("its last answer: server answered 503 Service Unavailable: Loading model"),
        "{message}"
    );
    assert!(message.ends_with("wait longer if it is still loading its model, or look at its log"));
    let last = err.source().unwrap().downcast_ref::<Error>().unwrap();
    assert_eq!(last.status(), Some(503));
    assert!(server.requests().len() >= 2, "it polled more than once");
}

#[test]
fn a_zero_timeout_polls_once() {
    let server = MockServer::start();
    server.reply_always(Reply::raw(503, LOADING));
    let api = ChatApi::new(server.config());
    let err = wait(&api, Duration::ZERO).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}

// ----- request shaping ------------------------------------------------------------------

/// A FastAPI validation error (422) about `field` of message `index`.
fn fastapi_422(index: usize, field: &str, kind: &str, msg: &str, input: &Value) -> Response {
    let detail = json!({"detail": [{"type": kind, "loc": ["body", "messages", index, field],
                                    "msg": msg, "input": input}]});
    Response::json(422, detail.to_string())
}

/// OpenAI's 400 for a tool-call id that is missing, `null` or empty.
fn empty_id_400(param: &str) -> Response {
    let error = json!({"error": {
        "message": format!("Invalid '{param}': empty string. Expected a string with minimum length 1, but got an empty string instead."),
        "type": "invalid_request_error", "param": param, "code": "empty_string"}});
    Response::json(400, error.to_string())
}

/// The first refusal a picky server has for a message, if any.
fn refuse_message(i: usize, m: &Value) -> Option<Response> {
    if m["role"] == "developer" {
        let msg = "Input should be 'system', 'user', 'assistant' or 'tool'";
        return Some(fastapi_422(i, "role", "literal_error", msg, &m["role"]));
    }
    if m["content"].is_array() {
        let msg = "Input should be a valid string";
        return Some(fastapi_422(i, "content", "string_type", msg, &m["content"]));
    }
    let usable = |id: &Value| id.as_str().is_some_and(|id| !id.is_empty());
    let calls = m["tool_calls"].as_array().map_or(&[][..], Vec::as_slice);
    if let Some(k) = calls.iter().position(|call| !usable(&call["id"])) {
        return Some(empty_id_400(&format!("messages[{i}].tool_calls[{k}].id")));
    }
    if m["role"] == "tool" && !usable(&m["tool_call_id"]) {
        return Some(empty_id_400(&format!("messages[{i}].tool_call_id")));
    }
    None
}

/// A server that refuses, as real servers do, each part of the official format some of
/// them do not take, and otherwise answers like OpenAI (streamed when asked).
fn picky(request: &Request) -> Response {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let messages = body["messages"].as_array().unwrap();
    if let Some(refusal) = messages
        .iter()
        .enumerate()
        .find_map(|(i, m)| refuse_message(i, m))
    {
        return refusal;
    }
    if body.get("stream_options").is_some() {
        // The shape of llama-server's 500 for a parameter it does not support
        // (tools/server/server-common.cpp: `Unsupported param: …`).
        let error = r#"{"error":{"code":500,"message":"Unsupported param: stream_options","type":"server_error"}}"#;
        return Response::json(500, error);
    }
    if body["stream"] == true {
        let stream = sse(&[chunk(
            json!({"role": "assistant", "content": "Hi"}),
            Some("stop"),
        )]);
        let mut response = Response::json(200, stream);
        response.headers = vec![("content-type".into(), "text/event-stream".into())];
        return response;
    }
    Response::json(200, COMPLETION)
}

fn api_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Box<ApiError> {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

/// The JSON body of the last request the server received.
fn received(server: &Server) -> Value {
    serde_json::from_slice(&server.log().last().unwrap().body).unwrap()
}

fn developer_request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        "m",
        vec![
            Message::developer("Be brief."),
            Message::user(vec![Part::text("Hello,"), Part::text("there.")]),
        ],
    )
}

#[test]
fn by_default_the_server_receives_the_request_as_built_and_its_refusal_is_an_api_error() {
    let server = Server::handler(picky);
    let api = server.api(|c| c);
    let req = developer_request();
    let e = api_error(api.create_chat_completion(&req));
    assert_eq!(e.status, 422);
    assert!(
        e.message()
            .contains(r#""loc":["body","messages",0,"role"]"#)
            && e.message()
                .contains("Input should be 'system', 'user', 'assistant' or 'tool'"),
        "{}",
        e.message()
    );
    // Byte for byte what the request serializes to: nothing was parsed again.
    assert_eq!(server.log()[0].body, serde_json::to_vec(&req).unwrap());
}

#[test]
fn developer_as_system_is_accepted_and_the_server_receives_a_system_message() {
    let server = Server::handler(picky);
    // Only the role rewritten: the content array is refused next, in the server's words.
    let role_only = server.api(|c| c.request_shape(RequestShape::new().developer_as_system(true)));
    let e = api_error(role_only.create_chat_completion(&developer_request()));
    assert_eq!(e.status, 422);
    assert!(
        e.message()
            .contains(r#""loc":["body","messages",1,"content"]"#),
        "{}",
        e.message()
    );
    assert!(
        e.message().contains("Input should be a valid string"),
        "{}",
        e.message()
    );
    assert_eq!(
        received(&server)["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );

    let shaped = server.api(|c| {
        c.request_shape(
            RequestShape::new()
                .developer_as_system(true)
                .text_parts_as_string(true),
        )
    });
    let answer = shaped.create_chat_completion(&developer_request()).unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(
        received(&server),
        json!({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello,\nthere."}
        ]})
    );
}

#[test]
fn stream_options_left_out_open_a_stream_the_server_refused() {
    let server = Server::handler(picky);
    let req = CreateChatCompletionRequest::new("m", vec![Message::user("Hi")])
        .stream_options(ChatCompletionStreamOptions::include_usage());
    let plain = server.api(|c| c);
    let e = api_error(plain.create_chat_completion_stream(&req).map(|_| ()));
    assert_eq!(e.status, 500);
    assert_eq!(e.message(), "Unsupported param: stream_options");
    assert_eq!(e.error_type(), Some("server_error"));

    let shaped = server.api(|c| c.request_shape(RequestShape::new().omit_stream_options(true)));
    let text: String = shaped
        .create_chat_completion_stream(&req)
        .unwrap()
        .content_deltas()
        .map(Result::unwrap)
        .collect();
    assert_eq!(text, "Hi");
    assert_eq!(
        received(&server),
        json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": true})
    );
}

/// A conversation that goes on from a streamed answer whose tool call came without an id,
/// as some servers stream them: the crate's own assistant message then has `"id": ""`.
fn history_after_a_tool_call_without_id() -> Vec<Message> {
    let call = json!({"tool_calls": [{"index": 0, "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]});
    let stream = sse(&[
        chunk(json!({"role": "assistant"}), None),
        chunk(call, Some("tool_calls")),
    ]);
    let head = [("content-type", "text/event-stream")];
    let streaming = Server::always("200 OK", &head, stream);
    let api = streaming.api(|c| c);
    let asked = CreateChatCompletionRequest::new("m", vec![Message::user("Weather?")]);
    let answer = api
        .create_chat_completion_stream(&asked)
        .unwrap()
        .collect_completion()
        .unwrap();
    let message = answer.choices[0].message.clone();
    let call_id = message.tool_calls.as_ref().unwrap()[0]
        .id()
        .unwrap()
        .to_owned();
    assert_eq!(call_id, "", "the server sent no id");
    vec![
        Message::user("Weather?"),
        message.into(),
        ChatCompletionRequestToolMessage::new(call_id, "sunny").into(),
    ]
}

#[test]
fn tool_call_ids_are_filled_where_a_stream_gave_none() {
    let server = Server::handler(picky);
    let req = CreateChatCompletionRequest::new("m", history_after_a_tool_call_without_id());
    let e = api_error(server.api(|c| c).create_chat_completion(&req));
    assert_eq!(e.status, 400);
    assert_eq!(e.param(), Some("messages[1].tool_calls[0].id"));
    assert_eq!(e.code(), Some("empty_string"));

    let shaped = server.api(|c| c.request_shape(RequestShape::new().fill_tool_call_ids(true)));
    shaped.create_chat_completion(&req).unwrap();
    assert_eq!(
        received(&server),
        json!({"model": "m", "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1_0", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_1_0"}
        ]})
    );
}

#[test]
fn most_compatible_makes_every_refused_request_acceptable() {
    let server = Server::handler(picky);
    let mut messages = vec![Message::developer("Be brief.")];
    messages.extend(history_after_a_tool_call_without_id());
    messages.push(Message::user(vec![
        Part::text("And"),
        Part::text("tomorrow?"),
    ]));
    let req = CreateChatCompletionRequest::new("m", messages)
        .stream_options(ChatCompletionStreamOptions::include_usage());
    let shaped = server.api(|c| c.request_shape(RequestShape::most_compatible()));
    let answer = shaped
        .create_chat_completion_stream(&req)
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(answer.choices[0].message.content.as_deref(), Some("Hi"));
    assert_eq!(
        received(&server),
        json!({"model": "m", "stream": true, "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "tool_calls": [{"id": "call_2_0", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_2_0"},
            {"role": "user", "content": "And\ntomorrow?"}
        ]})
    );
    assert_eq!(server.requests(), 1);
}
