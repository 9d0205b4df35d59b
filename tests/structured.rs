//! Structured outputs: a `json_schema` request and the typed value out of the answer, or a
//! typed error for a refusal, a cut-off answer, a filtered one, or JSON of the wrong shape.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use httpmock::MockServer;
use serde::Deserialize;
use serde_json::json;
use sync_openai::error::ParseError;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ResponseFormat,
};
use sync_openai::Error;

#[derive(Debug, Deserialize, PartialEq)]
struct CalendarEvent {
    name: String,
    date: String,
    participants: Vec<String>,
}

fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "date": {"type": "string"},
            "participants": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["name", "date", "participants"],
        "additionalProperties": false
    })
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        "gpt-4o-mini",
        vec![Message::user(
            "Alice and Bob are going to a science fair on Friday.",
        )],
    )
    .response_format(ResponseFormat::json_schema(
        "calendar_event",
        schema(),
        true,
    ))
}

fn answer(message: serde_json::Value, finish_reason: &str) -> String {
    json!({"id": "chatcmpl-s", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}]})
    .to_string()
}

/// Sends the request to a mock answering `body`, and parses the answer.
fn parse_answer(body: String) -> Result<CalendarEvent, Error> {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.path("/v1/chat/completions").json_body_includes(
            json!({"response_format": {"type": "json_schema", "json_schema": {
                "name": "calendar_event", "schema": schema(), "strict": true}}})
            .to_string(),
        );
        then.status(200).body(body);
    });
    let response = common::api(&server)
        .create_chat_completion(&request())
        .unwrap();
    mock.assert();
    response.parse::<CalendarEvent>()
}

fn parse_error(result: Result<CalendarEvent, Error>) -> ParseError {
    match result {
        Err(Error::Parse(e)) => *e,
        other => panic!("expected Error::Parse, got {other:?}"),
    }
}

#[test]
fn typed_value_from_json_schema() {
    let event = parse_answer(answer(
        json!({"role": "assistant", "refusal": null,
               "content": "{\"name\":\"Science fair\",\"date\":\"Friday\",\"participants\":[\"Alice\",\"Bob\"]}"}),
        "stop",
    ))
    .unwrap();
    assert_eq!(
        event,
        CalendarEvent {
            name: "Science fair".into(),
            date: "Friday".into(),
            participants: vec!["Alice".into(), "Bob".into()],
        }
    );
}

#[test]
fn refusal_is_a_typed_error_with_its_text() {
    let e = parse_error(parse_answer(answer(
        json!({"role": "assistant", "content": null,
               "refusal": "I'm sorry, I cannot assist with that request."}),
        "stop",
    )));
    let ParseError::Refusal(text) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(text, "I'm sorry, I cannot assist with that request.");
    assert_eq!(
        e.to_string(),
        "the model refused: I'm sorry, I cannot assist with that request."
    );
}

#[test]
fn length_finish_is_truncated_not_a_json_error() {
    let e = parse_error(parse_answer(answer(
        json!({"role": "assistant", "content": "{\"name\":\"Science fair\",\"da"}),
        "length",
    )));
    let ParseError::Truncated { content } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(content, "{\"name\":\"Science fair\",\"da");
    assert!(e.to_string().contains("max_completion_tokens"), "{e}");
}

#[test]
fn content_filter_finish() {
    let e = parse_error(parse_answer(answer(
        json!({"role": "assistant", "content": null}),
        "content_filter",
    )));
    assert!(
        matches!(e, ParseError::ContentFilter { content: None }),
        "{e:?}"
    );
}

#[test]
fn wrong_shape_keeps_the_json() {
    let e = parse_error(parse_answer(answer(
        json!({"role": "assistant", "content": "{\"name\":\"Science fair\"}"}),
        "stop",
    )));
    let ParseError::InvalidJson { what, json, source } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(what, "the message content");
    assert_eq!(json, "{\"name\":\"Science fair\"}");
    assert!(
        source.to_string().contains("missing field `date`"),
        "{source}"
    );
}

#[test]
fn no_choices() {
    let e = parse_error(parse_answer(
        json!({"id": "x", "object": "chat.completion", "choices": []}).to_string(),
    ));
    assert!(matches!(e, ParseError::NoChoices), "{e:?}");
}

#[test]
fn parse_after_streaming() {
    let server = MockServer::start();
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"{\\\"name\\\":\\\"Fair\\\",\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\\"date\\\":\\\"Fri\\\",\\\"participants\\\":[]}\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n"
    );
    server.mock(|_, then| {
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(body);
    });
    let event: CalendarEvent = common::api(&server)
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(event.name, "Fair");
    assert_eq!(event.date, "Fri");
}
