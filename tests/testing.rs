//! The test kit's mock server (`sync_openai::testing`) as a user's test sees it: what it
//! records, how it answers raw HTTP, several threads at once, and stopping on drop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use sync_openai::testing::{MockServer, Reply};
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Error};

fn request(text: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user(text)])
}

/// Sends raw bytes on a new connection and reads until the server closes it.
fn raw_exchange(server: &MockServer, bytes: &[u8]) -> String {
    let addr = server
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_owned();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn records_method_path_headers_and_body_in_order() {
    let server = MockServer::start();
    server.reply(Reply::text("one")).reply(Reply::text("two"));
    let api = ChatApi::new(server.config().api_key("sk-test-recorded"));
    assert_eq!(
        api.create_chat_completion(&request("first"))
            .unwrap()
            .choices[0]
            .message
            .content
            .as_deref(),
        Some("one")
    );
    let streamed = api
        .create_chat_completion_stream(&request("second"))
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(streamed.choices[0].message.content.as_deref(), Some("two"));

    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].method(), "POST");
    assert_eq!(sent[0].path(), "/v1/chat/completions");
    assert_eq!(sent[0].query(), None);
    assert_eq!(
        sent[0].header("Authorization"),
        Some("Bearer sk-test-recorded")
    );
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert_eq!(
        sent[0].json(),
        serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "first"}]})
    );
    assert_eq!(sent[1].json()["stream"], true);
    assert_eq!(sent[1].header("accept"), Some("text/event-stream"));
    // The key never shows in Debug.
    assert!(!format!("{sent:?}").contains("sk-test-recorded"));
}

#[test]
fn keep_alive_serves_many_requests_and_the_empty_script_says_so() {
    let server = MockServer::start();
    for i in 0..20 {
        server.reply(Reply::text(format!("answer {i}")));
    }
    let api = ChatApi::new(server.config().max_retries(0));
    for i in 0..20 {
        let answer = api.create_chat_completion(&request("q")).unwrap();
        assert_eq!(
            answer.choices[0].message.content.as_deref(),
            Some(format!("answer {i}").as_str())
        );
    }
    let Err(Error::Api(e)) = api.create_chat_completion(&request("one more")) else {
        panic!("expected the no-reply 500");
    };
    assert_eq!(e.status, 500);
    assert_eq!(
        e.message(),
        "no reply was scripted for this request (POST /v1/chat/completions): call MockServer::reply before sending it"
    );
    assert_eq!(server.requests().len(), 21);
}

#[test]
fn chunked_request_bodies_are_decoded() {
    let server = MockServer::start();
    server.reply(Reply::text("got it"));
    let body = r#"{"model":"m","messages":[{"role":"user","content":"chunked"}]}"#;
    let (a, b) = body.split_at(10);
    let raw = format!(
        "POST /v1/chat/completions?api-version=1 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let answer = raw_exchange(&server, raw.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains(r#""content":"got it""#), "{answer}");
    let sent = &server.requests()[0];
    assert_eq!(sent.query(), Some("api-version=1"));
    assert_eq!(sent.json()["messages"][0]["content"], "chunked");
    assert_eq!(sent.json()["model"], "m");
}

#[test]
fn malformed_requests_get_a_400_not_a_crash() {
    let server = MockServer::start();
    let answer = raw_exchange(&server, b"NONSENSE\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    let answer = raw_exchange(
        &server,
        b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: nope\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let answer = raw_exchange(
        &server,
        b"POST /v1/x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    // Still serving.
    server.reply(Reply::text("fine"));
    let api = ChatApi::new(server.config());
    assert!(api.create_chat_completion(&request("q")).is_ok());
}

#[test]
fn reply_always_answers_after_the_script_from_every_thread_and_can_be_replaced() {
    let server = MockServer::start();
    server
        .reply(Reply::text("scripted"))
        .reply_always(Reply::text("fallback").header("x-request-id", "req_always"));
    let api = ChatApi::new(server.config().max_retries(0));
    let text = |q: &str| {
        let answer = api
            .create_chat_completion_with_http_info(&request(q))
            .unwrap();
        (
            answer.data.choices[0]
                .message
                .content
                .as_deref()
                .unwrap()
                .to_owned(),
            answer.request_id().map(str::to_owned),
        )
    };
    assert_eq!(text("first"), ("scripted".to_owned(), None));
    std::thread::scope(|s| {
        for t in 0..4 {
            let text = &text;
            s.spawn(move || {
                for i in 0..10 {
                    let got = text(&format!("thread {t} question {i}"));
                    assert_eq!(got, ("fallback".to_owned(), Some("req_always".to_owned())));
                }
            });
        }
    });
    // A scripted reply still comes before the fallback, and a new fallback replaces the old.
    server.reply(Reply::text("scripted again"));
    server.reply_always(Reply::error(429, "slow down"));
    assert_eq!(text("again").0, "scripted again");
    let Err(Error::Api(e)) = api.create_chat_completion(&request("last")) else {
        panic!("expected the 429 fallback");
    };
    assert_eq!((e.status, e.message()), (429, "slow down"));
    assert_eq!(server.requests().len(), 43);
}

#[test]
fn serves_eight_threads_at_once() {
    let server = MockServer::start();
    for _ in 0..40 {
        server.reply(Reply::text("same answer for all"));
    }
    let api = ChatApi::new(server.config().max_retries(0));
    std::thread::scope(|s| {
        for t in 0..8 {
            let api = api.clone();
            s.spawn(move || {
                for i in 0..5 {
                    let q = format!("thread {t} question {i}");
                    let text = if i % 2 == 0 {
                        api.create_chat_completion(&request(&q)).unwrap().choices[0]
                            .message
                            .content
                            .clone()
                            .unwrap()
                    } else {
                        api.create_chat_completion_stream(&request(&q))
                            .unwrap()
                            .collect_completion()
                            .unwrap()
                            .choices[0]
                            .message
                            .content
                            .clone()
                            .unwrap()
                    };
                    assert_eq!(text, "same answer for all");
                }
            });
        }
    });
    let sent = server.requests();
    assert_eq!(sent.len(), 40);
    for t in 0..8 {
        for i in 0..5 {
            let q = format!("thread {t} question {i}");
            assert_eq!(
                sent.iter()
                    .filter(|r| r.json()["messages"][0]["content"] == q.as_str())
                    .count(),
                1,
                "{q}"
            );
        }
    }
}

#[test]
fn dropping_the_server_closes_its_port() {
    let server = MockServer::start();
    server.reply(Reply::text("hi"));
    let api = ChatApi::new(server.config().max_retries(0));
    api.create_chat_completion(&request("q")).unwrap();
    let config = server.config().max_retries(0);
    drop(server);
    let Err(e) = ChatApi::new(config).create_chat_completion(&request("q")) else {
        panic!("the server should be gone");
    };
    assert!(e.is_connect() || matches!(e, Error::Transport(_)), "{e}");
}

#[test]
fn truncated_json_answer_is_a_broken_body_that_is_retried() {
    let server = MockServer::start();
    server.reply(Reply::truncated_stream("cut short", 1));
    server.reply(Reply::text("whole"));
    let api = ChatApi::new(server.config());
    let answer = api
        .create_chat_completion_with_http_info(&request("q"))
        .unwrap();
    assert_eq!(answer.retries(), 1);
    assert_eq!(
        answer.data.choices[0].message.content.as_deref(),
        Some("whole")
    );
}
