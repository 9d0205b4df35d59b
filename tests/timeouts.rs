//! Timeouts as deadlines: `total_timeout` cuts what is in flight, `Duration::MAX` means no
//! limit on every setter, `Duration::ZERO` is refused, a stream ends at `[DONE]` whatever
//! the server does next, and one client serves many threads from a pool sized for them.
//!
//! Every case scripts the raw server of `tests/common/server.rs`; each call runs under
//! the harness's hard time limit, so a cut that does not happen fails the test as a hang.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use common::{
    bounded, complete, req, stream_items, text_chunk, After, Server, COMPLETION, LIMIT, SSE_HEAD,
};
use sync_openai::{ChatApi, Config, Error, RequestOptions};

const JSON_400: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"id\":";

/// A server whose every answer is `COMPLETION` (keep-alive), for the cases that succeed.
fn healthy() -> Server {
    Server::always(
        "200 OK",
        &[("content-type", "application/json")],
        COMPLETION,
    )
}

/// A stream of `Hel` + `lo` and `[DONE]`, chunked; then, in the same write as `[DONE]`,
/// the terminating chunk, or, with `hold`, silence with the connection open.
fn done_then(hold: bool) -> Server {
    Server::per_request(move |_, conn| {
        conn.write_chunked_head("200 OK", "text/event-stream");
        conn.write_chunk(text_chunk("Hel", None).as_bytes());
        let last = format!("{}data: [DONE]\n\n", text_chunk("lo", Some("stop")));
        let mut out = format!("{:x}\r\n{last}\r\n", last.len());
        if !hold {
            out.push_str("0\r\n\r\n");
        }
        conn.write(out.as_bytes());
        if hold {
            conn.stall();
            return After::Close;
        }
        After::KeepAlive
    })
}

// ----- total_timeout cuts what is in flight -------------------------------------------

#[test]
fn total_timeout_cuts_a_body_that_stalls_mid_way() {
    // The attempt's own timeout is a minute: only the deadline can end this call.
    let server = Server::raw_then_stall(JSON_400);
    let (result, elapsed) = complete(&server.api(|c| {
        c.timeout(Duration::from_secs(60))
            .total_timeout(Duration::from_millis(300))
            .max_retries(3)
    }));
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("total_timeout"), "{err}");
    assert_eq!(server.requests(), 1, "no retry starts after the deadline");
    assert!(server.sleeps().is_empty());
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn total_timeout_from_request_options_cuts_the_first_attempt() {
    let server = Server::raw_then_stall(JSON_400);
    let api = server
        .api(|c| c.timeout(Duration::from_secs(60)))
        .with_options(RequestOptions::new().total_timeout(Duration::from_millis(300)));
    let (result, elapsed) = complete(&api);
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn total_timeout_ends_a_stream_that_never_finishes() {
    // A chunk every 20 ms, forever: never silent for long enough to trip the idle timeout.
    let server = Server::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\n").as_bytes());
        for _ in 0..2_000 {
            if !conn.write(text_chunk("x", None).as_bytes()) {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        After::Close
    });
    let (result, elapsed) = stream_items(&server.api(|c| {
        c.stream_idle_timeout(Duration::from_secs(60))
            .total_timeout(Duration::from_millis(500))
    }));
    let items = result.unwrap();
    let (last, chunks) = items.split_last().unwrap();
    assert!(
        !chunks.is_empty(),
        "the stream delivered chunks before the deadline"
    );
    assert!(chunks.iter().all(Result::is_ok), "{chunks:?}");
    let err = last.as_ref().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("total_timeout"), "{err}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn total_timeout_counts_the_token_provider() {
    // A provider that never answers: the call still ends at its deadline, and nothing is
    // sent without a token.
    let server = healthy();
    let (_never_tx, never_rx) = mpsc::channel::<String>();
    let never_rx = Mutex::new(never_rx);
    let api = server.api(|c| {
        c.token_provider(move || Ok(never_rx.lock().unwrap().recv().unwrap_or_default()))
            .total_timeout(Duration::from_millis(300))
    });
    let (result, elapsed) = complete(&api);
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("total_timeout"), "{err}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_token_provider_that_panics_ends_the_wait_at_once() {
    // The provider runs on its own thread once there is a deadline; its panic must end the
    // wait then, not at the deadline: with an hour to go, a wait that missed the panic
    // would hang until the harness's limit.
    let server = healthy();
    let api = server.api(|c| {
        c.token_provider(|| panic!("the provider broke"))
            .total_timeout(Duration::from_secs(3600))
    });
    let err = complete(&api).0.unwrap_err();
    assert!(err.to_string().contains("total_timeout"), "{err}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_generous_total_timeout_changes_nothing() {
    let server = healthy();
    let api = server.api(|c| c.total_timeout(Duration::from_secs(60)));
    for _ in 0..3 {
        let (result, _) = complete(&api);
        assert_eq!(result.unwrap().data.id, "chatcmpl-abc");
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(
        server.connections(),
        1,
        "a deadline does not cost the pooled connection"
    );
}

// ----- every phase bounded -------------------------------------------------------------

#[test]
fn stream_that_sends_no_headers_times_out() {
    let server = Server::per_request(|_, conn| {
        conn.stall();
        After::Close
    });
    let (result, elapsed) = stream_items(&server.api(|c| {
        c.timeout(Duration::from_millis(300))
            .stream_idle_timeout(Duration::from_secs(60))
    }));
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn error_body_of_a_stream_is_bounded_by_the_timeout() {
    // A 503 whose body trickles in a byte every 50 ms, never silent for long: the idle
    // timeout never trips, the attempt's timeout ends the read.
    let server = Server::per_request(|_, conn| {
        conn.write(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"error\":",
        );
        conn.drip(&[b' '; 2_000], Duration::from_millis(50));
        After::Close
    });
    let (result, elapsed) = stream_items(&server.api(|c| {
        c.timeout(Duration::from_millis(400))
            .stream_idle_timeout(Duration::from_secs(60))
    }));
    let err = result.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

// ----- Duration::MAX means no limit, Duration::ZERO is refused ------------------------

#[test]
fn duration_max_on_every_config_setter_means_no_limit() {
    let server = done_then(false);
    let api = server.api(|c| {
        c.timeout(Duration::MAX)
            .connect_timeout(Duration::MAX)
            .stream_idle_timeout(Duration::MAX)
            .total_timeout(Duration::MAX)
    });
    let (result, _) = complete(&api);
    // The stream server's answer is not a completion: what matters is that the call ran.
    let (items, _) = stream_items(&api);
    let items = items.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert!(!matches!(result, Err(Error::Config(_))), "{result:?}");
    assert_eq!(server.requests(), 2);
}

#[test]
fn duration_max_on_every_request_option_means_no_limit() {
    let server = healthy();
    let api = server.api(|c| c).with_options(
        RequestOptions::new()
            .timeout(Duration::MAX)
            .stream_idle_timeout(Duration::MAX)
            .total_timeout(Duration::MAX),
    );
    let (result, _) = complete(&api);
    assert_eq!(result.unwrap().data.id, "chatcmpl-abc");
    let (items, _) = stream_items(&api);
    // A JSON answer to a stream request is replayed as one chunk.
    assert_eq!(items.unwrap().len(), 1);
    assert_eq!(server.requests(), 2);
}

#[test]
fn values_too_large_to_add_to_now_mean_no_limit() {
    let server = healthy();
    let huge = Duration::from_secs(u64::MAX / 2);
    let api = server.api(|c| {
        c.timeout(huge)
            .connect_timeout(huge)
            .stream_idle_timeout(huge)
            .total_timeout(huge)
    });
    let (result, _) = complete(&api);
    assert_eq!(result.unwrap().data.id, "chatcmpl-abc");
}

#[test]
fn duration_zero_is_a_config_error_and_nothing_is_sent() {
    let server = healthy();
    type Setter = fn(Config) -> Config;
    let setters: [(&str, Setter); 4] = [
        ("timeout", |c| c.timeout(Duration::ZERO)),
        ("connect_timeout", |c| c.connect_timeout(Duration::ZERO)),
        ("stream_idle_timeout", |c| {
            c.stream_idle_timeout(Duration::ZERO)
        }),
        ("total_timeout", |c| c.total_timeout(Duration::ZERO)),
    ];
    for (name, set) in setters {
        let (result, _) = complete(&server.api(set));
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{name}: {err:?}");
        assert!(
            err.to_string().starts_with(&format!("{name} is zero")),
            "{err}"
        );
    }
    let options: [(&str, RequestOptions); 3] = [
        ("timeout", RequestOptions::new().timeout(Duration::ZERO)),
        (
            "stream_idle_timeout",
            RequestOptions::new().stream_idle_timeout(Duration::ZERO),
        ),
        (
            "total_timeout",
            RequestOptions::new().total_timeout(Duration::ZERO),
        ),
    ];
    for (name, options) in options {
        let (result, _) = stream_items(&server.api(|c| c).with_options(options));
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{name}: {err:?}");
        assert!(
            err.to_string().starts_with(&format!("{name} is zero")),
            "{err}"
        );
    }
    assert_eq!(server.requests(), 0);
}

// ----- [DONE] ends the stream at once -----------------------------------------------

#[test]
fn stream_held_open_after_done_ends_at_once() {
    // The server sends [DONE] and then keeps the body open, as some proxies do; the idle
    // timeout is a minute, so only not waiting ends this within the harness's limit.
    let server = done_then(true);
    let api = server.api(|c| c.stream_idle_timeout(Duration::from_secs(60)));
    let (items, _) = stream_items(&api);
    let items = items.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    // The held connection was dropped: the next call opens a new one.
    let (items, _) = stream_items(&api);
    assert_eq!(items.unwrap().len(), 2);
    assert_eq!(server.connections(), 2);
}

#[test]
fn stream_whose_body_ends_after_done_keeps_its_connection() {
    let server = done_then(false);
    let api = server.api(|c| c);
    for _ in 0..3 {
        let (items, _) = stream_items(&api);
        assert_eq!(items.unwrap().len(), 2);
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(
        server.connections(),
        1,
        "the finished body went back to the pool"
    );
}

// ----- one client, many threads --------------------------------------------------------

#[test]
fn thirty_two_threads_share_one_client_and_its_pool() {
    const THREADS: usize = 32;
    const CALLS: usize = 20;
    let server = healthy();
    let api: ChatApi = server.api(|c| c.max_retries(0));
    let ids = Arc::new(Mutex::new(Vec::new()));
    // Every thread finishes its call before any starts the next, so all 32 connections
    // are idle in the pool at once: a pool that keeps fewer reconnects on the next round.
    let round = Arc::new(Barrier::new(THREADS));
    let (result, _) = bounded(LIMIT * 3, {
        let ids = Arc::clone(&ids);
        move || {
            let workers: Vec<_> = (0..THREADS)
                .map(|_| {
                    let api = api.clone();
                    let ids = Arc::clone(&ids);
                    let round = Arc::clone(&round);
                    thread::spawn(move || {
                        for _ in 0..CALLS {
                            let resp = api.create_chat_completion(&req()).unwrap();
                            ids.lock().unwrap().push(resp.id);
                            round.wait();
                        }
                    })
                })
                .collect();
            workers.into_iter().all(|w| w.join().is_ok())
        }
    });
    assert!(result, "a worker thread failed");
    let ids = ids.lock().unwrap();
    assert_eq!(ids.len(), THREADS * CALLS);
    assert!(ids.iter().all(|id| id == "chatcmpl-abc"));
    assert_eq!(server.requests(), THREADS * CALLS);
    let opened = server.connections();
    eprintln!(
        "{THREADS} threads x {CALLS} calls: {opened} connections opened, at most {} open at once",
        server.max_open()
    );
    assert!(
        opened <= THREADS,
        "{opened} connections for {THREADS} threads"
    );
}

// ----- the idle timeout counts from the last data (issue 26) ---------------------------

/// One chunk, then only `: keep-alive` comments (and empty keep-alive events) every
/// 100 ms for 6 s (pi #5558): a stream `Timeout` well before the comments end, with the
/// text that came kept in the partial answer.
#[test]
fn keep_alive_comments_do_not_reset_the_idle_timeout() {
    let server = Server::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\n").as_bytes());
        conn.write(text_chunk("Hel", None).as_bytes());
        for i in 0..60 {
            thread::sleep(Duration::from_millis(100));
            let ping: &[u8] = if i % 2 == 0 {
                b": keep-alive\n\n"
            } else {
                b"data:\n\n"
            };
            if !conn.write(ping) {
                break;
            }
        }
        After::Close
    });
    let api = server.api(|c| c.stream_idle_timeout(Duration::from_millis(500)));
    let (result, elapsed) = bounded(LIMIT, move || {
        api.create_chat_completion_stream(&req())
            .and_then(|stream| stream.collect_completion())
    });
    let err = result.unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("stream_idle_timeout"), "{err}");
    let partial = e.partial_completion().expect("the partial answer");
    assert_eq!(partial.choices[0].message.content.as_deref(), Some("Hel"));
    assert!(elapsed < Duration::from_millis(2_500), "{elapsed:?}");
}

/// Data events keep a stream alive however long it is: chunks 100 ms apart for 1.2 s
/// with a 500 ms idle timeout come through whole.
#[test]
fn data_events_reset_the_idle_timeout() {
    let server = Server::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\n").as_bytes());
        for _ in 0..12 {
            conn.write(text_chunk("x", None).as_bytes());
            thread::sleep(Duration::from_millis(100));
        }
        conn.write(format!("{}data: [DONE]\n\n", text_chunk("", Some("stop"))).as_bytes());
        After::Close
    });
    let api = server.api(|c| c.stream_idle_timeout(Duration::from_millis(500)));
    let (result, _) = bounded(LIMIT, move || {
        api.create_chat_completion_stream(&req())
            .and_then(|stream| stream.collect_completion())
    });
    let done = result.unwrap();
    assert_eq!(
        done.choices[0].message.content.as_deref(),
        Some("xxxxxxxxxxxx")
    );
}

/// A 500 to a stream request whose 400-byte body arrives slowly is read no longer than
/// `timeout`, as for a plain call, and is still the `Error::Api` with the status: dribbled
/// in over 8 s (a byte every 20 ms), or its first bytes and then 8 s of silence (one read
/// waiting up to the stream's idle timeout).
#[test]
fn slow_error_body_of_a_stream_is_bounded_by_timeout() {
    for stall in [false, true] {
        let server = Server::per_request(move |_, conn| {
            conn.write(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n",
            );
            let body = format!("{{\"error\":{{\"message\":\"{}\"}}}}", "x".repeat(374));
            if stall {
                conn.write(&body.as_bytes()[..20]);
                thread::sleep(Duration::from_secs(8));
                conn.write(&body.as_bytes()[20..]);
            } else {
                conn.drip(body.as_bytes(), Duration::from_millis(20));
            }
            After::Close
        });
        let (result, elapsed) = stream_items(&server.api(|c| {
            c.timeout(Duration::from_secs(1))
                .stream_idle_timeout(Duration::from_secs(60))
        }));
        let err = result.unwrap_err();
        assert_eq!(err.status(), Some(500), "stall {stall}: {err:?}");
        assert!(
            elapsed < Duration::from_secs(4),
            "stall {stall}: {elapsed:?}"
        );
    }
}
