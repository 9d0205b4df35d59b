//! `ChatApi::wait_ready` against servers that are starting, loading their model, or will
//! never serve: llama.cpp's 503 `Loading model`, a port nobody listens on yet, Ollama
//! without `/health`, and the answers that waiting does not change.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

mod common;

use std::error::Error as _;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use common::{bounded, closed_port, Response, Server, LIMIT};
use sync_openai::testing::{MockServer, Reply};
use sync_openai::{ChatApi, Config, Error, Event, TransportErrorKind};

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
        Err(Error::Api(e)) => (e.status, e.message.clone()),
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
