//! The response cache (`Config::cache_dir`): what it records, what it replays, what it
//! never writes, and what concurrent writers leave behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use common::{text_chunk, After, Server, SSE_HEAD};
use serde_json::Value;
use sync_openai::cache::CacheMode;
use sync_openai::error::{CacheErrorKind, StreamErrorKind};
use sync_openai::testing::{MockServer, Reply};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest, ListChatCompletionsParams,
};
use sync_openai::{ChatApi, ChatCompletionStream, Config, Error};

/// A fresh, empty directory under the target directory, unique to the test.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn request(text: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user(text)])
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn text(api: &ChatApi, req: &CreateChatCompletionRequest) -> String {
    api.create_chat_completion(req).unwrap().choices[0]
        .message
        .content
        .clone()
        .unwrap()
        .into_string()
}

const KEY: &str = "sk-proj-Zq8vR2mT5wX9yB3nK7pL1cF4hJ6dS0aG2eU8iO5rT7yW3qE9";

#[test]
fn nothing_secret_lands_in_the_cache_directory() {
    let dir = fresh_dir("secrets");
    let server = MockServer::start();
    // A gateway that echoes credentials in headers and in the body.
    server.reply(
        Reply::text(format!("your key was {KEY}"))
            .header("x-request-id", "req_1")
            .header("set-cookie", "session=abc123secretcookie")
            .header("x-echo-authorization", format!("Bearer {KEY}"))
            .header("x-debug", format!("key={KEY}"))
            .header("api-key", "azure-key-0123456789abcdef")
            .header("x-auth-token", "tok_0123456789abcdef"),
    );
    server.reply(Reply::text(format!("streamed {KEY}")).header("x-api-key", KEY));
    let config = server
        .config()
        .api_key(KEY)
        .azure_api_key("azure-key-0123456789abcdef")
        .header("x-custom", "visible")
        .cache_dir(&dir)
        .cache_mode(CacheMode::ReadWrite);
    let api = ChatApi::new(config);
    // The live answer is the server's, untouched.
    assert_eq!(text(&api, &request("one")), format!("your key was {KEY}"));
    let streamed = api
        .create_chat_completion_stream(&request("two"))
        .unwrap()
        .collect_completion()
        .unwrap();
    assert!(streamed.choices[0]
        .message
        .content
        .as_deref()
        .unwrap()
        .ends_with(KEY));
    // The client did send the credentials.
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    let files = entries(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        let contents = fs::read_to_string(file).unwrap();
        for secret in [
            KEY,
            "Bearer",
            "api-key",
            "azure-key-0123456789abcdef",
            "abc123secretcookie",
            "tok_0123456789abcdef",
        ] {
            assert!(
                !contents.contains(secret),
                "{} contains {secret:?}:\n{contents}",
                file.display()
            );
        }
        // What is not secret stays, for review.
        assert!(contents.contains("<redacted>"), "{contents}");
        let entry: Value = serde_json::from_str(&contents).unwrap();
        assert_eq!(entry["request"]["method"], "POST");
        assert_eq!(entry["request"]["path"], "/chat/completions");
        assert_eq!(entry["response"]["status"], 200);
    }
    let names: Vec<&str> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap())
        .collect();
    assert!(names
        .iter()
        .all(|n| n.starts_with("chat-completions-") && n.ends_with(".json")));
}

#[test]
fn an_entry_is_readable_json_with_the_request_beside_the_response() {
    let dir = fresh_dir("readable");
    let server = MockServer::start();
    server.reply(Reply::text("Hello!").header("x-request-id", "req_42"));
    let api = ChatApi::new(server.config().cache_dir(&dir));
    let answer = api
        .create_chat_completion_with_http_info(&request("Hi"))
        .unwrap();
    assert!(!answer.is_replay());
    let files = entries(&dir);
    let entry: Value = serde_json::from_str(&fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(entry["format"], 1);
    assert_eq!(
        entry["request"]["body"],
        serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
    );
    assert_eq!(entry["request"]["query"], "");
    assert_eq!(
        entry["response"]["body"]["choices"][0]["message"]["content"],
        "Hello!"
    );
    let headers = entry["response"]["headers"].as_array().unwrap();
    assert!(headers.contains(&serde_json::json!(["x-request-id", "req_42"])));
    assert!(!headers.iter().any(|h| h[0] == "content-length"));
    // Pretty-printed, so a diff in review is readable.
    assert!(fs::read_to_string(&files[0]).unwrap().lines().count() > 20);

    // The replay has the recorded status and headers, and says it is a replay.
    let again = api
        .create_chat_completion_with_http_info(&request("Hi"))
        .unwrap();
    assert!(again.is_replay());
    assert_eq!(again.status, 200);
    assert_eq!(again.request_id(), Some("req_42"));
    assert_eq!(again.retries(), 0);
    assert_eq!(
        again.data.choices[0].message.content.as_deref(),
        Some("Hello!")
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn another_key_and_another_base_url_replay_the_same_entry() {
    let dir = fresh_dir("portable");
    let server = MockServer::start();
    server.reply(Reply::text("recorded"));
    let api = ChatApi::new(server.config().api_key("sk-one-aaaaaaaa").cache_dir(&dir));
    assert_eq!(text(&api, &request("q")), "recorded");
    drop(server);
    // Another machine: no server at all, OpenAI's base URL, no key.
    let replay = ChatApi::new(
        Config::new()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    );
    assert_eq!(text(&replay, &request("q")), "recorded");
    let other = ChatApi::new(
        Config::new()
            .base_url("http://127.0.0.1:9/v1")
            .api_key("sk-two-bbbbbbbb")
            .cache_dir(&dir),
    );
    assert_eq!(text(&other, &request("q")), "recorded");
}

#[test]
fn streams_are_recorded_as_events_and_replayed_chunk_by_chunk() {
    let dir = fresh_dir("streams");
    let server = MockServer::start();
    server.reply(Reply::text("one two three four"));
    let api = ChatApi::new(server.config().cache_dir(&dir));
    let live: Vec<_> = api
        .create_chat_completion_stream(&request("count"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let entry: Value =
        serde_json::from_str(&fs::read_to_string(&entries(&dir)[0]).unwrap()).unwrap();
    let sse = entry["response"]["text"].as_str().unwrap();
    assert!(sse.starts_with("data: {"), "{sse}");
    assert!(sse.ends_with("data: [DONE]\n\n"), "{sse}");
    assert_eq!(entry["request"]["body"]["stream"], true);

    let stream = api
        .create_chat_completion_stream(&request("count"))
        .unwrap();
    assert!(stream.is_replay());
    let replayed: Vec<_> = stream.collect::<Result<_, _>>().unwrap();
    assert_eq!(replayed.len(), live.len());
    assert!(replayed.len() >= 5);
    for (a, b) in live.iter().zip(&replayed) {
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::to_value(b).unwrap()
        );
    }
    assert_eq!(server.requests().len(), 1);
    // The stream and the plain call are different requests.
    let err = ChatApi::new(
        server
            .config()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    )
    .create_chat_completion(&request("count"))
    .unwrap_err();
    assert!(
        matches!(&err, Error::Cache(e) if e.kind() == CacheErrorKind::Miss),
        "{err}"
    );
}

/// The text of each chunk of a stream, `""` for a chunk without text.
fn texts(chunks: &[sync_openai::types::CreateChatCompletionStreamResponse]) -> Vec<String> {
    chunks
        .iter()
        .map(|c| {
            let content = c.choices.first().and_then(|c| c.delta.content.as_ref());
            content.map(|t| t.clone().into_string()).unwrap_or_default()
        })
        .collect()
}

fn next_text(stream: &mut ChatCompletionStream) -> String {
    texts(&[stream.next().unwrap().unwrap()]).remove(0)
}

#[test]
fn a_recorded_stream_hands_out_each_chunk_as_it_arrives() {
    let dir = fresh_dir("tee");
    // The server sends one chunk, then waits for the test's word before the rest.
    let (go, wait) = mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    let server = Server::per_request(move |_, conn| {
        conn.write_chunked_head("200 OK", "text/event-stream");
        conn.write_chunk(text_chunk("Hel", None).as_bytes());
        // Bounded, so that a client that waits for the whole body fails the test
        // (its idle timeout, 5 s) instead of hanging it.
        if wait
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30))
            .is_err()
        {
            return After::Close;
        }
        conn.write_chunk(text_chunk("lo", None).as_bytes());
        conn.write_chunk(text_chunk("!", Some("stop")).as_bytes());
        conn.write_chunk(b"data: [DONE]\n\n");
        conn.write_chunk(b"");
        After::KeepAlive
    });
    let api = server.api(|c| c.cache_dir(&dir));
    let mut stream = api.create_chat_completion_stream(&request("tee")).unwrap();
    assert!(!stream.is_replay());
    assert_eq!(next_text(&mut stream), "Hel");
    assert!(entries(&dir).is_empty(), "an entry before the stream ended");
    go.send(()).unwrap();
    let mut live = vec!["Hel".to_owned()];
    live.extend(texts(&stream.collect::<Result<Vec<_>, _>>().unwrap()));
    assert_eq!(live, ["Hel", "lo", "!"]);

    let files = entries(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let entry: Value = serde_json::from_str(&fs::read_to_string(&files[0]).unwrap()).unwrap();
    let expected = [
        text_chunk("Hel", None),
        text_chunk("lo", None),
        text_chunk("!", Some("stop")),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    assert_eq!(entry["response"]["text"], expected.as_str());
    assert_eq!(entry["response"]["status"], 200);

    // Replayed chunk for chunk, without the server.
    let replay = ChatApi::new(
        server
            .config()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    )
    .create_chat_completion_stream(&request("tee"))
    .unwrap();
    assert!(replay.is_replay());
    let replayed = replay.collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(texts(&replayed), live);
    assert_eq!(
        replayed[2].choices[0]
            .finish_reason
            .as_ref()
            .unwrap()
            .as_str(),
        "stop"
    );
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_stream_held_open_after_done_is_recorded() {
    let dir = fresh_dir("tee-held-open");
    let whole = [
        text_chunk("Hi", Some("stop")),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    // No length and no close: the body never ends, the stream stops at [DONE].
    let server = Server::raw_then_stall(format!("{SSE_HEAD}\r\n{whole}"));
    let api = server.api(|c| c.cache_dir(&dir));
    let live = api.create_chat_completion_stream(&request("held")).unwrap();
    assert_eq!(texts(&live.collect::<Result<Vec<_>, _>>().unwrap()), ["Hi"]);
    let files = entries(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let entry: Value = serde_json::from_str(&fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(entry["response"]["text"], whole.as_str());
}

#[test]
fn a_stream_that_is_cut_or_dropped_or_too_long_leaves_no_entry() {
    let whole = [
        text_chunk("Hel", None),
        text_chunk("lo", Some("stop")),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    // Broken off inside a chunked body; closed cleanly but without a finish_reason.
    let broken = Server::per_request(|_, conn| {
        conn.write_chunked_head("200 OK", "text/event-stream");
        conn.write_chunk(text_chunk("Hel", None).as_bytes());
        After::Close
    });
    let closed = Server::raw(format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None)));
    for (name, server) in [("broken", &broken), ("closed", &closed)] {
        let dir = fresh_dir(&format!("cut-{name}"));
        let api = server.api(|c| c.cache_dir(&dir));
        let mut stream = api.create_chat_completion_stream(&request("cut")).unwrap();
        assert_eq!(next_text(&mut stream), "Hel");
        let err = stream.next().unwrap().unwrap_err();
        assert!(
            matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::Truncated),
            "{name}: {err}"
        );
        assert!(entries(&dir).is_empty(), "{name}: {:?}", entries(&dir));
    }

    // Dropped after its first chunk, though the whole answer had come.
    let server = Server::raw(format!("{SSE_HEAD}\r\n{whole}"));
    let dir = fresh_dir("cut-dropped");
    let api = server.api(|c| c.cache_dir(&dir));
    let mut stream = api.create_chat_completion_stream(&request("cut")).unwrap();
    assert_eq!(next_text(&mut stream), "Hel");
    drop(stream);
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    // Read whole, it is recorded.
    let live = api.create_chat_completion_stream(&request("cut")).unwrap();
    assert_eq!(
        texts(&live.collect::<Result<Vec<_>, _>>().unwrap()),
        ["Hel", "lo"]
    );
    assert_eq!(entries(&dir).len(), 1);

    // Longer than max_response_bytes: every chunk is handed out, nothing is kept.
    let dir = fresh_dir("cut-too-long");
    let small = server.api(|c| c.cache_dir(&dir).max_response_bytes(whole.len() as u64 - 1));
    let live = small
        .create_chat_completion_stream(&request("cut"))
        .unwrap();
    assert_eq!(
        texts(&live.collect::<Result<Vec<_>, _>>().unwrap()),
        ["Hel", "lo"]
    );
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
    assert_eq!(server.requests(), 3);
}

#[test]
fn error_answers_are_not_cached() {
    let dir = fresh_dir("errors");
    let server = MockServer::start();
    server.reply(Reply::error(400, "bad model"));
    server.reply(Reply::text("fine now"));
    let api = ChatApi::new(server.config().cache_dir(&dir));
    let err = api.create_chat_completion(&request("q")).unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(entries(&dir).is_empty());
    assert_eq!(text(&api, &request("q")), "fine now");
    assert_eq!(entries(&dir).len(), 1);
}

#[test]
fn a_read_only_miss_names_the_request_and_sends_nothing() {
    let dir = fresh_dir("miss");
    let server = MockServer::start();
    let api = ChatApi::new(
        server
            .config()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    );
    let Err(Error::Cache(e)) = api.create_chat_completion(&request("What is new?")) else {
        panic!("expected a miss");
    };
    assert_eq!(e.kind(), CacheErrorKind::Miss);
    let message = e.to_string();
    assert!(
        message.starts_with(
            r#"no recorded answer for POST /chat/completions (model "gpt-4o-mini", first message "What is new?") (key "#
        ),
        "{message}"
    );
    assert!(
        message.contains("SYNC_OPENAI_CACHE_MODE=refresh"),
        "{message}"
    );
    assert!(message.contains("(Config::cache_mode)"), "{message}");
    assert!(e.path().starts_with(&dir));
    assert!(server.requests().is_empty());
}

#[test]
fn a_corrupt_entry_is_an_error_naming_the_file() {
    let dir = fresh_dir("corrupt");
    let server = MockServer::start();
    server.reply(Reply::text("ok"));
    let api = ChatApi::new(server.config().cache_dir(&dir));
    text(&api, &request("q"));
    let file = entries(&dir).remove(0);
    let recorded = fs::read_to_string(&file).unwrap();
    fs::write(&file, "{ this is not json").unwrap();
    let Err(Error::Cache(e)) = api.create_chat_completion(&request("q")) else {
        panic!("expected a corrupt entry");
    };
    assert_eq!(e.kind(), CacheErrorKind::Corrupt);
    assert_eq!(e.path(), file);
    assert!(e.to_string().contains(&file.display().to_string()), "{e}");
    assert!(
        e.to_string().contains("delete it to record it again"),
        "{e}"
    );

    // The entry of this request with a status that is not one: corrupt too.
    let mut entry: Value = serde_json::from_str(&recorded).unwrap();
    entry["response"]["status"] = Value::from("two hundred");
    fs::write(&file, entry.to_string()).unwrap();
    let Err(Error::Cache(e)) = api.create_chat_completion(&request("q")) else {
        panic!("expected a corrupt entry");
    };
    assert_eq!(e.kind(), CacheErrorKind::Corrupt);
    assert!(e.to_string().contains("no valid status"), "{e}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn stored_completions_and_their_query_go_through_the_cache() {
    let dir = fresh_dir("stored");
    let server = MockServer::start();
    server.reply(Reply::raw(200, r#"{"id": "chatcmpl-9", "choices": []}"#));
    server.reply(Reply::raw(
        200,
        r#"{"data": [{"id": "a"}], "has_more": false}"#,
    ));
    server.reply(Reply::raw(
        200,
        r#"{"data": [{"id": "b"}], "has_more": false}"#,
    ));
    let api = ChatApi::new(server.config().cache_dir(&dir));
    assert_eq!(
        api.get_chat_completion("chatcmpl-9").unwrap().id,
        "chatcmpl-9"
    );
    let list = |limit| {
        let params = ListChatCompletionsParams::new().limit(limit);
        api.list_chat_completions(&params).unwrap().data[0]
            .id
            .clone()
    };
    assert_eq!(list(1), "a");
    assert_eq!(list(2), "b"); // another query: another entry
    let replay = ChatApi::new(
        server
            .config()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    );
    assert_eq!(
        replay.get_chat_completion("chatcmpl-9").unwrap().id,
        "chatcmpl-9"
    );
    let params = ListChatCompletionsParams::new().limit(1);
    assert_eq!(
        replay.list_chat_completions(&params).unwrap().data[0].id,
        "a"
    );
    assert_eq!(server.requests().len(), 3);
    let names: Vec<String> = entries(&dir)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("chat-completions-chatcmpl-9-")),
        "{names:?}"
    );
    let listing = entries(&dir)
        .into_iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .find(|c| c.contains(r#""query": "?limit=1""#));
    assert!(listing.is_some());
}

#[test]
fn eight_threads_recording_at_once_leave_only_valid_entries() {
    let dir = fresh_dir("threads");
    let server = MockServer::start();
    for _ in 0..8 * 2 * 5 {
        server.reply(Reply::text("concurrent answer"));
    }
    std::thread::scope(|s| {
        for t in 0..8 {
            let config = server
                .config()
                .cache_dir(&dir)
                .cache_mode(CacheMode::Refresh);
            s.spawn(move || {
                let api = ChatApi::new(config);
                for _ in 0..5 {
                    // The same request from every thread, and one of this thread's own.
                    assert_eq!(text(&api, &request("shared")), "concurrent answer");
                    assert_eq!(
                        text(&api, &request(&format!("own {t}"))),
                        "concurrent answer"
                    );
                }
            });
        }
    });
    // Refresh always calls: every request reached the server.
    assert_eq!(server.requests().len(), 80);
    let files = entries(&dir);
    assert_eq!(files.len(), 9, "{files:?}"); // no temporary file is left
    for file in &files {
        let entry: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(
            entry["response"]["body"]["choices"][0]["message"]["content"],
            "concurrent answer"
        );
    }
    let replay = ChatApi::new(
        Config::new()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    );
    assert_eq!(text(&replay, &request("shared")), "concurrent answer");
    for t in 0..8 {
        assert_eq!(
            text(&replay, &request(&format!("own {t}"))),
            "concurrent answer"
        );
    }
}

#[test]
fn two_processes_recording_at_once_leave_only_valid_entries() {
    const TEST: &str = "two_processes_recording_at_once_leave_only_valid_entries";
    // In a child process (this test run again by the parent below): record, then exit.
    if let Ok(child) = std::env::var("CACHE_TEST_CHILD") {
        let url = std::env::var("CACHE_TEST_URL").unwrap();
        let dir = std::env::var("CACHE_TEST_DIR").unwrap();
        let api = ChatApi::new(
            Config::new()
                .base_url(url)
                .cache_dir(dir)
                .cache_mode(CacheMode::Refresh),
        );
        for i in 0..10 {
            assert_eq!(text(&api, &request("shared")), "from a process");
            assert_eq!(
                text(&api, &request(&format!("{child} {i}"))),
                "from a process"
            );
        }
        return;
    }
    let dir = fresh_dir("processes");
    let server = MockServer::start();
    for _ in 0..40 {
        server.reply(Reply::text("from a process"));
    }
    let children: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|name| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .arg(common::test_path(module_path!(), TEST))
                .args(["--exact", "--test-threads=1"])
                .env("CACHE_TEST_CHILD", name)
                .env("CACHE_TEST_URL", server.base_url())
                .env("CACHE_TEST_DIR", &dir)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(server.requests().len(), 40);
    let files = entries(&dir);
    assert_eq!(files.len(), 21, "{files:?}"); // 1 shared + 2 × 10 own, no temporary file
    for file in &files {
        let entry: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(
            entry["response"]["body"]["choices"][0]["message"]["content"],
            "from a process"
        );
    }
    let replay = ChatApi::new(
        Config::new()
            .cache_dir(&dir)
            .cache_mode(CacheMode::ReadOnly),
    );
    assert_eq!(text(&replay, &request("second 9")), "from a process");
}

#[test]
fn the_cache_curl_and_errors_agree_on_which_headers_are_secret() {
    // One policy: rate-limit counts are not secrets; credentials are.
    let headers = [
        ("x-ratelimit-remaining-tokens", false),
        ("x-ratelimit-limit-tokens", false),
        ("x-ratelimit-reset-requests", false),
        ("openai-processing-ms", false),
        ("x-api-key", true),
        ("proxy-authorization", true),
        ("x-session-id", true),
        ("x-auth-token", true),
        ("cookie", true),
    ];
    let dir = fresh_dir("secret-policy");
    let server = MockServer::start();
    let mut reply = Reply::text("ok");
    let mut config = server.config().cache_dir(&dir);
    for (i, (name, _)) in headers.iter().enumerate() {
        reply = reply.header(name, format!("value-{i}-abcdefgh"));
        config = config.header(name, format!("value-{i}-abcdefgh"));
    }
    server.reply(reply);
    let api = ChatApi::new(config);
    api.create_chat_completion(&request("Hi")).unwrap();
    let entry: Value =
        serde_json::from_str(&fs::read_to_string(&entries(&dir)[0]).unwrap()).unwrap();
    let kept = entry["response"]["headers"].as_array().unwrap();
    let command = api.curl(&request("Hi"));
    // A server that echoes every header it was sent in its error message: the error (whose
    // text the log line and the events carry, redacted with the same secrets) keeps what is
    // not secret.
    let values: Vec<String> = (0..headers.len())
        .map(|i| format!("value-{i}-abcdefgh"))
        .collect();
    server.reply(Reply::error(400, values.join(" ")));
    let failed = api
        .create_chat_completion(&request("echo"))
        .unwrap_err()
        .to_string();
    for (i, (name, secret)) in headers.iter().enumerate() {
        let value = &values[i];
        let in_cache = kept.contains(&serde_json::json!([name, value]));
        let in_curl = command.contains(&format!("{name}: {value}"));
        let in_error = failed.contains(value.as_str());
        assert_eq!(in_cache, !secret, "{name} in the cache entry");
        assert_eq!(in_curl, !secret, "{name} in the curl command:\n{command}");
        assert_eq!(in_error, !secret, "{name} in the error: {failed}");
    }
}
