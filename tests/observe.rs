//! `OPENAI_LOG` and `Config::on_event`: what a user sees on stderr and in the hook.
//!
//! The log goes to the process's real stderr, so the tests that read it run this test binary
//! again as a child process (`child_process_entry`, selected by `OBSERVE_CHILD`) with
//! `OPENAI_LOG` set, and read the child's stderr. The server is a small scripted HTTP server
//! on 127.0.0.1 that can echo every request header it received into its answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::COMPLETION;
use sync_openai::observe::{Event, LogLevel, StreamEnd};
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, Error, ModelsApi};

/// A real-looking key: what must never show.
const SECRET_KEY: &str = "sk-proj-9fQ2xLmN4vB7tR1cZ8wK3yH6jD0sA5eGuP";
/// A bearer token from a token provider.
const SECRET_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGkifQ.c2lnbmF0dXJl";
/// A secret custom header value (sent as `x-api-key` through `OPENAI_CUSTOM_HEADERS`).
const SECRET_HEADER: &str = "gw-live-7c1e9b2f44d0a8e6";

// ----- a scripted server -------------------------------------------------------------

/// One request as the server read it.
struct Request {
    head: String,
    body: Vec<u8>,
}

type Script = dyn Fn(usize, &Request) -> Vec<u8> + Send + Sync;

/// Serves each request with `script(index, request)`, the raw HTTP response bytes, on
/// 127.0.0.1; keeps connections alive. Returns the base URL (`http://127.0.0.1:PORT/v1`).
fn serve(script: impl Fn(usize, &Request) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script: Arc<Script> = Arc::new(script);
    let count = Arc::new(Mutex::new(0usize));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (script, count) = (Arc::clone(&script), Arc::clone(&count));
            std::thread::spawn(move || connection(stream, &*script, &count));
        }
    });
    format!("http://127.0.0.1:{port}/v1")
}

fn connection(stream: TcpStream, script: &Script, count: &Mutex<usize>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.trim().parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let index = {
            let mut c = count.lock().unwrap();
            *c += 1;
            *c - 1
        };
        let response = script(index, &Request { head, body });
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

fn sse(chunks: &[&str]) -> String {
    let mut body: String = chunks
        .iter()
        .map(|c| {
            format!(
                "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{c}]}}\n\n"
            )
        })
        .collect();
    body.push_str("data: [DONE]\n\n");
    body
}

fn hello() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")])
}

// ----- the child process -------------------------------------------------------------

/// Runs this binary again, as `child_process_entry` with `scenario`, and returns its stdout
/// and stderr.
fn run_child(scenario: &str, env: &[(&str, &str)]) -> (String, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .arg(common::test_path(module_path!(), "child_process_entry"))
        .args(["--exact", "--nocapture", "--test-threads=1"])
        .env("OBSERVE_CHILD", scenario)
        .env_remove("OPENAI_LOG")
        .env_remove("OPENAI_CUSTOM_HEADERS");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(
        out.status.success(),
        "child failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    (stdout, stderr)
}

/// Not a test of its own: the body of the child processes the tests below start. Without
/// `OBSERVE_CHILD` it does nothing.
#[test]
fn child_process_entry() {
    let Ok(scenario) = std::env::var("OBSERVE_CHILD") else {
        return;
    };
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let seen = Arc::clone(&events);
    let mut config = Config::from_env()
        .clock(common::FakeClock::new()) // the 429's two seconds are not waited for real
        .on_event(move |e| seen.lock().unwrap().push(e.clone()));
    if scenario == "echo_token" {
        // A fresh token per attempt, as from Microsoft Entra ID, instead of the key.
        config = config.token_provider(|| Ok(SECRET_TOKEN.to_owned()));
    }
    let api = ChatApi::new(config);
    match scenario.as_str() {
        "retry_and_stream" => {
            let resp = api.create_chat_completion_with_http_info(&hello()).unwrap();
            assert_eq!((resp.retries(), resp.request_id()), (1, Some("req_2")));
            let text: String = api
                .create_chat_completion_stream(&hello())
                .unwrap()
                .content_deltas()
                .map(Result::unwrap)
                .collect();
            assert_eq!(text, "Hello!");
        }
        "echo" | "echo_token" => {
            // The server echoes our headers back; the user gets them, the log must not.
            let resp = api.create_chat_completion(&hello()).unwrap();
            let content = resp.choices[0].message.content.as_ref().unwrap().as_str();
            let credential = match scenario.as_str() {
                "echo" => SECRET_KEY,
                _ => SECRET_TOKEN,
            };
            assert!(content.contains(credential) && content.contains(SECRET_HEADER));
            let err = ModelsApi::from(&api).list_models().unwrap_err();
            assert!(matches!(&err, Error::Api(e) if e.status == 401), "{err:?}");
            let mut stream = api.create_chat_completion_stream(&hello()).unwrap();
            assert!(stream.next().unwrap().is_ok());
            drop(stream); // before its end
        }
        "quiet" => {
            api.create_chat_completion(&hello()).unwrap();
        }
        other => panic!("unknown scenario {other}"),
    }
    println!(); // after the harness's `test child_process_entry ... `
    for event in events.lock().unwrap().iter() {
        println!("event: {event:?}");
    }
}

// ----- the tests ---------------------------------------------------------------------

/// The log lines with the numbers that vary (`elapsed_ms`) replaced by `N`.
fn lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[sync-openai] "))
        .map(|l| {
            let mut out = String::new();
            for word in l.split(' ') {
                match word.split_once('=') {
                    Some(("elapsed_ms", n)) if n.parse::<u64>().is_ok() => {
                        out.push_str("elapsed_ms=N")
                    }
                    _ => out.push_str(word),
                }
                out.push(' ');
            }
            out.pop();
            out
        })
        .collect()
}

#[test]
fn info_shows_each_attempt_the_retry_and_the_stream_end() {
    let base = serve(|i, _| match i {
        0 => response(
            "429 Too Many Requests",
            &[("retry-after", "2"), ("x-request-id", "req_1")],
            r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
        ),
        1 => response("200 OK", &[("x-request-id", "req_2")], COMPLETION),
        _ => response(
            "200 OK",
            &[
                ("content-type", "text/event-stream"),
                ("x-litellm-call-id", "call-3"),
            ],
            &sse(&[
                r#"{"index":0,"delta":{"role":"assistant","content":"Hel"}}"#,
                r#"{"index":0,"delta":{"content":"lo!"}}"#,
                r#"{"index":0,"delta":{},"finish_reason":"stop"}"#,
            ]),
        ),
    });
    let (stdout, stderr) = run_child(
        "retry_and_stream",
        &[
            ("OPENAI_LOG", "info"),
            ("OPENAI_BASE_URL", &base),
            ("OPENAI_API_KEY", SECRET_KEY),
        ],
    );
    println!("--- stderr of the child (OPENAI_LOG=info)\n{stderr}");
    let url = format!("{base}/chat/completions");
    assert_eq!(
        lines(&stderr),
        [
            format!("[sync-openai] POST {url} -> 429 Too Many Requests request_id=req_1 attempt=1 elapsed_ms=N retry_in_ms=2000 retry_reason=\"429 Too Many Requests, wait asked by the server (retry-after)\""),
            format!("[sync-openai] POST {url} -> 200 OK request_id=req_2 attempt=2 elapsed_ms=N"),
            format!("[sync-openai] POST {url} -> 200 OK request_id=call-3 attempt=1 elapsed_ms=N"),
            "[sync-openai] stream request_id=call-3 ended: finished chunks=3 elapsed_ms=N".to_owned(),
        ]
    );
    // The same facts as events, in order.
    let kinds: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .map(|e| e.split([' ', '(']).next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "RequestSent",
            "ResponseReceived",
            "RetryScheduled",
            "RequestSent",
            "ResponseReceived",
            "RequestSent",
            "ResponseReceived",
            "StreamEnded"
        ]
    );
    assert!(stdout.contains("RetryScheduled { attempt: 1, delay: 2s, reason: \"429 Too Many Requests, wait asked by the server (retry-after)\" }"), "{stdout}");
    assert!(
        !stderr.contains("request body"),
        "info logs no bodies: {stderr}"
    );
}

#[test]
fn debug_never_shows_the_key_even_when_the_server_echoes_it() {
    // Echoes every request header into the answer: a completion whose content is the
    // request head, a 401 whose message is the head, a stream whose first chunk is the head.
    let base = serve(|_, req| {
        let head = serde_json::to_string(&req.head).unwrap();
        let path = req.head.split(' ').nth(1).unwrap_or_default().to_owned();
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let echo_id = [("x-request-id", "echo-1")];
        if path.ends_with("/models") {
            let e = format!(
                r#"{{"error":{{"message":{head},"type":"invalid_request_error","code":"invalid_api_key"}}}}"#
            );
            response("401 Unauthorized", &echo_id, &e)
        } else if body.contains("\"stream\":true") {
            let chunk = format!(r#"{{"index":0,"delta":{{"content":{head}}}}}"#);
            let events = sse(&[&chunk, r#"{"index":0,"delta":{},"finish_reason":"stop"}"#]);
            response("200 OK", &[("content-type", "text/event-stream")], &events)
        } else {
            let mut c: serde_json::Value = serde_json::from_str(COMPLETION).unwrap();
            c["choices"][0]["message"]["content"] = serde_json::Value::String(req.head.clone());
            response("200 OK", &echo_id, &c.to_string())
        }
    });
    for scenario in ["echo", "echo_token"] {
        let (stdout, stderr) = run_child(
            scenario,
            &[
                ("OPENAI_LOG", "debug"),
                ("OPENAI_BASE_URL", &base),
                ("OPENAI_API_KEY", SECRET_KEY),
                (
                    "OPENAI_CUSTOM_HEADERS",
                    &format!("x-api-key: {SECRET_HEADER}\nx-team: search"),
                ),
            ],
        );
        println!("--- {scenario}: stderr of the child (OPENAI_LOG=debug)\n{stderr}\n--- events\n{stdout}");
        for (what, text) in [("stderr", &stderr), ("events", &stdout)] {
            for secret in [
                SECRET_KEY,
                SECRET_HEADER,
                SECRET_TOKEN,
                &SECRET_KEY[..20],
                &SECRET_TOKEN[..30],
            ] {
                assert!(
                    !text.contains(secret),
                    "{scenario}: {what} shows {secret}:\n{text}"
                );
            }
        }
        // The echoes were logged, with the secrets replaced: two bodies and a stream chunk.
        let logged = lines(&stderr);
        let echoes: Vec<&String> = logged
            .iter()
            .filter(|l| l.contains("response body") || l.contains("stream chunk"))
            .collect();
        assert_eq!(echoes.len(), 3, "{logged:#?}");
        for line in &echoes {
            assert!(
                line.contains("Bearer <redacted>") && line.contains("x-api-key: <redacted>"),
                "{line}"
            );
            assert!(line.contains("x-team: search"), "{line}");
        }
        assert_eq!(
            logged.iter().filter(|l| l.contains("request body")).count(),
            2,
            "{logged:#?}"
        );
        assert!(
            logged
                .iter()
                .any(|l| l.contains("-> 401 Unauthorized request_id=echo-1")),
            "{logged:#?}"
        );
        assert!(
            logged
                .last()
                .unwrap()
                .starts_with("[sync-openai] stream ended: dropped before its end chunks=1"),
            "{logged:#?}"
        );
        assert!(stdout.contains("end: Dropped"), "{stdout}");
    }
}

#[test]
fn an_unknown_level_logs_nothing() {
    let base = serve(|_, _| response("200 OK", &[], COMPLETION));
    let (stdout, stderr) = run_child(
        "quiet",
        &[("OPENAI_LOG", "warn"), ("OPENAI_BASE_URL", &base)],
    );
    assert!(!stderr.contains("[sync-openai]"), "{stderr}");
    // The hook still sees the call.
    assert_eq!(stdout.matches("event: ").count(), 2, "{stdout}");
}

#[test]
fn events_without_logging_name_failures_and_backoff() {
    let base = serve(|i, _| match i {
        0 => response(
            "503 Service Unavailable",
            &[("apim-request-id", "apim-1")],
            "upstream down",
        ),
        _ => response("200 OK", &[("request-id", "anthropic-2")], COMPLETION),
    });
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let api = ChatApi::new(
        Config::new()
            .base_url(&base)
            .log_level(LogLevel::Off)
            .clock(common::FakeClock::new())
            .on_event(move |e| seen.lock().unwrap().push(e.clone())),
    );
    let resp = api.create_chat_completion_with_http_info(&hello()).unwrap();
    assert_eq!(resp.request_id(), Some("anthropic-2"));
    let events = events.lock().unwrap();
    let [Event::RequestSent {
        attempt: 1,
        body_bytes,
        ..
    }, Event::ResponseReceived {
        status: 503,
        request_id: Some(first),
        ..
    }, Event::RetryScheduled {
        attempt: 1,
        delay,
        reason,
        ..
    }, Event::RequestSent { attempt: 2, .. }, Event::ResponseReceived {
        status: 200,
        request_id: Some(second),
        attempt: 2,
        ..
    }] = &events[..]
    else {
        panic!("{events:#?}")
    };
    assert_eq!(*body_bytes, serde_json::to_vec(&hello()).unwrap().len());
    assert_eq!((first.as_str(), second.as_str()), ("apim-1", "anthropic-2"));
    assert_eq!(reason, "503 Service Unavailable, exponential backoff");
    assert!(*delay <= Duration::from_millis(500), "{delay:?}");

    // No server at all: each attempt fails, the last one is not retried.
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let api = ChatApi::new(
        Config::new()
            .base_url(format!("http://127.0.0.1:{}/v1", common::closed_port()))
            .max_retries(1)
            .clock(common::FakeClock::new())
            .on_event(move |e| seen.lock().unwrap().push(e.clone())),
    );
    ModelsApi::from(&api).list_models().unwrap_err();
    let events = events.lock().unwrap();
    let failed: Vec<(u32, &str)> = events
        .iter()
        .filter_map(|e| match e {
            Event::AttemptFailed { attempt, error, .. } => Some((*attempt, error.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 2, "{events:#?}");
    assert!(
        failed[0].1.starts_with("could not connect to the server"),
        "{failed:?}"
    );
    assert!(
        matches!(&events[2], Event::RetryScheduled { reason, .. } if reason == "could not connect, exponential backoff"),
        "{events:#?}"
    );
}

#[test]
fn a_stream_that_fails_reports_how() {
    let base = serve(|_, _| {
        response(
            "200 OK",
            &[
                ("content-type", "text/event-stream"),
                ("x-amzn-requestid", "amzn-5"),
            ],
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
        )
    });
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let api = ChatApi::new(
        Config::new()
            .base_url(&base)
            .on_event(move |e| seen.lock().unwrap().push(e.clone())),
    );
    let stream = api.create_chat_completion_stream(&hello()).unwrap();
    // AWS's request id header, when there is no `x-request-id`.
    assert_eq!(stream.request_id(), Some("amzn-5"));
    let items: Vec<_> = stream.collect();
    assert!(
        matches!(items[..], [Ok(_), Err(Error::Stream(_))]),
        "{items:?}"
    );
    assert_eq!(items[1].as_ref().unwrap_err().request_id(), Some("amzn-5"));
    let events = events.lock().unwrap();
    let Some(Event::StreamEnded {
        chunks: 1,
        end: StreamEnd::Failed(why),
        request_id: Some(id),
        ..
    }) = events.last()
    else {
        panic!("{events:#?}")
    };
    assert!(why.contains("closed before the answer finished"), "{why}");
    assert_eq!(id, "amzn-5");
}
