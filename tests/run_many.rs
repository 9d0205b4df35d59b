#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! `ChatApi::run_many`: order, failures, the shared 429 gate, throttling, time limit,
//! cancellation and abandoning, against a counting server in `tests/common/server.rs`.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{FakeClock, Request, Response, Server};
use serde_json::{json, Value};
use sync_openai::bulk::{CancelToken, RunOptions};
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, Error};

/// The user message of a chat request.
fn prompt(req: &Request) -> String {
    let v: Value = serde_json::from_slice(&req.body).unwrap();
    v["messages"][0]["content"].as_str().unwrap().to_owned()
}

/// A completion answering `text`, reporting `tokens` total tokens.
fn completion(text: &str, tokens: u64) -> Response {
    Response::json(
        200,
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": tokens / 2, "completion_tokens": tokens - tokens / 2, "total_tokens": tokens}
        })
        .to_string(),
    )
}

fn requests(n: usize) -> Vec<CreateChatCompletionRequest> {
    (0..n)
        .map(|i| CreateChatCompletionRequest::new("m", vec![Message::user(format!("req {i}"))]))
        .collect()
}

fn api(server: &Server) -> ChatApi {
    ChatApi::new(Config::new().api_key("sk-test").base_url(server.base_url()))
}

fn answer(result: &sync_openai::bulk::BulkResult) -> &str {
    result.as_ref().unwrap().data.choices[0]
        .message
        .content
        .as_deref()
        .unwrap()
}

/// The issue's must-show: 8 threads, 200 requests, every 25th arrival answered 429 with
/// `retry-after: 1`. Real time: about one second per 429.
#[test]
fn every_25th_is_429_one_shared_pause_each_and_order_kept() {
    #[derive(Default)]
    struct Log {
        arrivals: Vec<Instant>,
        sent_429: Vec<Instant>,
    }
    let log = Arc::new(Mutex::new(Log::default()));
    let seen = Arc::clone(&log);
    let server = Server::handler(move |req| {
        let mut log = seen.lock().unwrap();
        log.arrivals.push(req.at);
        if log.arrivals.len() % 25 == 0 {
            log.sent_429.push(Instant::now());
            return Response::json(
                429,
                r#"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
            )
            .header("retry-after", "1");
        }
        drop(log);
        let text = prompt(req).replace("req", "answer");
        completion(&text, 10)
    });
    let started = Instant::now();
    let report = api(&server).run_many(requests(200), &RunOptions::new().threads(8));
    let wall = started.elapsed();

    assert_eq!(report.results.len(), 200);
    for (i, result) in report.results.iter().enumerate() {
        assert_eq!(
            answer(result),
            format!("answer {i}"),
            "result {i} out of order"
        );
    }
    let log = log.lock().unwrap();
    let n429 = log.sent_429.len();
    // 200 successes need 208 arrivals, 8 of them the 25th, 50th, …, 200th.
    assert_eq!(log.arrivals.len(), 208);
    assert_eq!(n429, 8);
    assert_eq!(report.progress.rate_limited, n429 as u64);
    assert_eq!(
        report.progress.pauses, n429 as u64,
        "one pause per 429, not per worker"
    );
    assert_eq!(report.progress.done, 200);
    assert_eq!(report.progress.failed, 0);
    assert_eq!(report.progress.tokens, 2000);
    let retried: u32 = report
        .results
        .iter()
        .map(|r| r.as_ref().unwrap().retries())
        .sum();
    assert_eq!(retried, 8);
    let mut closest = Duration::MAX;
    for &t in &log.sent_429 {
        for &a in &log.arrivals {
            if a > t + Duration::from_millis(50) {
                let after = a - t;
                assert!(
                    after >= Duration::from_secs(1),
                    "a request arrived {after:?} after a 429 with retry-after: 1"
                );
                closest = closest.min(after);
            }
        }
    }
    println!(
        "200 requests, 8 threads: {} arrivals, {n429} x 429, {} pauses, wall {wall:?}, \
         first arrival after a 429's grace came {closest:?} after it",
        log.arrivals.len(),
        report.progress.pauses
    );
}

#[test]
fn one_failure_never_stops_the_rest() {
    let server = Server::handler(|req| match prompt(req).as_str() {
        "req 3" => Response::json(
            400,
            r#"{"error":{"message":"bad request 3","type":"invalid_request_error"}}"#,
        ),
        p => completion(&p.replace("req", "answer"), 1),
    });
    let report = api(&server).run_many(requests(10), &RunOptions::new().threads(3));
    for (i, result) in report.results.iter().enumerate() {
        match i {
            3 => match result {
                Err(Error::Api(e)) => {
                    assert_eq!(e.status, 400);
                    assert_eq!(e.message(), "bad request 3");
                }
                other => panic!("expected the 400, got {other:?}"),
            },
            _ => assert_eq!(answer(result), format!("answer {i}")),
        }
    }
    assert_eq!((report.progress.done, report.progress.failed), (10, 1));
}

#[test]
fn requests_per_minute_are_throttled_on_the_clock() {
    let server = Server::handler(|_| completion("ok", 1));
    let clock = FakeClock::new();
    // 120/min = 2 per second, bursts of one second's share (2): 40 requests need
    // (40 - 2) / 2 = 19 s.
    let options = RunOptions::new()
        .threads(1)
        .max_requests_per_minute(120)
        .clock(clock.clone());
    let mut seen = Vec::new();
    let report =
        api(&server).run_many_with(requests(40), &options, |i, _, p| seen.push((i, p.done)));
    assert_eq!(report.progress.failed, 0);
    let elapsed = clock.elapsed();
    assert!(
        (Duration::from_millis(18_900)..=Duration::from_millis(19_100)).contains(&elapsed),
        "{elapsed:?}"
    );
    assert_eq!(seen.len(), 40);
    assert_eq!(seen.last().unwrap().1, 40);
    assert!((report.progress.requests_per_minute - 40.0 / 19.0 * 60.0).abs() < 5.0);
}

#[test]
fn token_estimates_are_corrected_by_reported_usage() {
    let server = Server::handler(|_| completion("ok", 50));
    let clock = FakeClock::new();
    // Each request is estimated at >= 500 tokens (max_completion_tokens) but reports 50.
    // 6000/min = 100 per second, bursts of six seconds' share (600). Uncorrected, 20
    // requests would need (20 * 500 - 600) / 100 = 94 s; corrected, each costs 50 net: a
    // few seconds.
    let reqs: Vec<_> = requests(20)
        .into_iter()
        .map(|r| r.max_completion_tokens(500))
        .collect();
    let options = RunOptions::new()
        .threads(1)
        .max_tokens_per_minute(6000)
        .burst(Duration::from_secs(6))
        .clock(clock.clone());
    let report = api(&server).run_many(reqs, &options);
    assert_eq!(report.progress.failed, 0);
    assert_eq!(report.progress.tokens, 1000);
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "{:?}",
        clock.elapsed()
    );
    assert!(
        clock.elapsed() > Duration::ZERO,
        "the bucket never made a request wait"
    );
}

#[test]
fn time_limit_stops_starting_requests() {
    let server = Server::handler(|_| completion("ok", 1));
    let clock = FakeClock::new();
    // 60/min, bursts of one, 10 s limit: one at once, then one per second.
    let options = RunOptions::new()
        .threads(1)
        .max_requests_per_minute(60)
        .time_limit(Duration::from_secs(10))
        .clock(clock.clone());
    let report = api(&server).run_many(requests(30), &options);
    let ok = report.results.iter().take_while(|r| r.is_ok()).count();
    assert!((10..=12).contains(&ok), "{ok} answered");
    for result in &report.results[ok..] {
        match result {
            Err(Error::Stopped(e)) => {
                assert!(!e.is_cancelled() && !e.was_sent());
                assert_eq!(
                    e.to_string(),
                    "not sent: the run reached its time limit; run the request again"
                );
            }
            other => panic!("expected Stopped, got {other:?}"),
        }
    }
    assert_eq!(report.progress.failed, 30 - ok);
}

#[test]
fn cancelling_stops_new_requests_and_waits_for_running_ones() {
    // Requests after the fifth are held by the server until the run is cancelled, so no
    // more than the two workers' running requests can finish after the cancel, however
    // slowly the callback's thread runs.
    let (release, arrivals) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let (r, a) = (Arc::clone(&release), Arc::clone(&arrivals));
    let server = Server::handler(move |req| {
        if a.fetch_add(1, Ordering::SeqCst) >= 5 {
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        completion(&prompt(req), 1)
    });
    let cancel = CancelToken::new();
    let options = RunOptions::new().threads(2).cancel_token(cancel.clone());
    let report = api(&server).run_many_with(requests(50), &options, |_, _, p| {
        if p.done == 5 {
            cancel.cancel();
            release.store(true, Ordering::SeqCst);
        }
    });
    let ok = report.results.iter().filter(|r| r.is_ok()).count();
    // Five done when cancelled, and the (at most two) running ones finished after it.
    assert!((5..=7).contains(&ok), "{ok}");
    assert_eq!(arrivals.load(Ordering::SeqCst), ok);
    let stopped = report
        .results
        .iter()
        .filter(|r| matches!(r, Err(Error::Stopped(e)) if e.is_cancelled() && !e.was_sent()))
        .count();
    assert_eq!(ok + stopped, 50);
    assert_eq!(report.progress.done, 50);
}

#[test]
fn abandoning_returns_without_the_running_request() {
    let release = Arc::new(AtomicBool::new(false));
    let waiting = Arc::new(AtomicUsize::new(0));
    let (r, w) = (Arc::clone(&release), Arc::clone(&waiting));
    let server = Server::handler(move |req| {
        if prompt(req) == "req 0" {
            w.fetch_add(1, Ordering::SeqCst);
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        completion("ok", 1)
    });
    let cancel = CancelToken::new();
    let options = RunOptions::new()
        .threads(2)
        .cancel_token(cancel.clone())
        .abandon_running(true);
    let report = api(&server).run_many_with(requests(6), &options, |_, _, p| {
        if p.done == 3 {
            cancel.cancel();
        }
    });
    // Returned while request 0 is still held by the server.
    assert!(!release.load(Ordering::SeqCst));
    // Request 0 was sent once; on a loaded machine the server's connection thread may only
    // now be reaching the handler, so give it (boundedly) the time to count it.
    let seen = Instant::now();
    while waiting.load(Ordering::SeqCst) == 0 && seen.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(waiting.load(Ordering::SeqCst), 1);
    match &report.results[0] {
        Err(Error::Stopped(e)) => {
            assert!(e.is_cancelled() && e.was_sent());
            assert!(e
                .to_string()
                .starts_with("abandoned while running: the run was cancelled"));
        }
        other => panic!("expected an abandoned request, got {other:?}"),
    }
    // Three were done when cancelled; the other worker may have started one more.
    let ok = report.results.iter().filter(|r| r.is_ok()).count();
    assert!((3..=4).contains(&ok), "{ok}");
    let not_sent = report.results[1..]
        .iter()
        .filter(|r| matches!(r, Err(Error::Stopped(e)) if !e.was_sent()))
        .count();
    assert_eq!(ok + not_sent, 5);
    release.store(true, Ordering::SeqCst);
}

/// A 429 answer as OpenAI sends it.
fn too_many() -> Response {
    Response::json(
        429,
        r#"{"error":{"message":"Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 600, Used 600, Requested 1. Please try again in 100ms.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
    )
    .header("retry-after", "1")
}

#[test]
fn rate_limits_are_retried_past_max_retries_other_errors_are_not() {
    // Arrivals 1-10 are refused with 429, 11-18 with a 503 that says when to come back,
    // then every "req 2" fails with a 500 and the rest are answered.
    let arrivals = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&arrivals);
    let server = Server::handler(move |req| match seen.fetch_add(1, Ordering::SeqCst) {
        0..=9 => too_many(),
        10..=17 => {
            Response::json(503, r#"{"error":{"message":"overloaded"}}"#).header("retry-after", "2")
        }
        _ if prompt(req) == "req 2" => Response::json(500, r#"{"error":{"message":"boom"}}"#),
        _ => completion(&prompt(req), 1),
    });
    let clock = FakeClock::new();
    let options = RunOptions::new()
        .threads(1)
        .max_retries(2)
        .clock(clock.clone());
    let report = api(&server).run_many(requests(3), &options);
    let first = report.results[0].as_ref().unwrap();
    assert_eq!(
        first.retries(),
        18,
        "10 x 429 and 8 x 503, none counted against 2"
    );
    assert_eq!(answer(&report.results[1]), "req 1");
    match &report.results[2] {
        Err(e) => {
            assert_eq!(e.status(), Some(500));
            assert_eq!(e.retries(), 2, "a 500 keeps its retry count");
            assert!(e.is_retryable());
        }
        other => panic!("expected the 500, got {other:?}"),
    }
    assert_eq!(report.progress.rate_limited, 10);
    // One pause per 429 and per 503, each waiting what it asked: 10 * 1 s + 8 * 2 s.
    assert_eq!(report.progress.pauses, 18);
    assert!(
        clock.elapsed() >= Duration::from_secs(26),
        "{:?}",
        clock.elapsed()
    );
}

#[test]
fn a_request_still_rate_limited_at_the_time_limit_ends_with_its_429() {
    let server = Server::handler(|_| too_many());
    let clock = FakeClock::new();
    let options = RunOptions::new()
        .threads(1)
        .time_limit(Duration::from_secs(30))
        .clock(clock.clone());
    let report = api(&server).run_many(requests(2), &options);
    match &report.results[0] {
        Err(Error::Api(e)) => {
            assert_eq!(e.status, 429);
            // Each 429 lowers the rate, so the retries spread out, but they go on.
            assert!(e.retries() >= 5, "retried {} times", e.retries());
        }
        other => panic!("expected the 429, got {other:?}"),
    }
    assert!(report.results[0].as_ref().unwrap_err().is_retryable());
    assert!(matches!(&report.results[1], Err(Error::Stopped(e)) if !e.was_sent()));
    // Given up only when the next wait would pass the time limit.
    let elapsed = clock.elapsed();
    assert!(
        (Duration::from_secs(29)..=Duration::from_secs(31)).contains(&elapsed),
        "{elapsed:?}"
    );
}
