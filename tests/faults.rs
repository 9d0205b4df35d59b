//! Fault injection: what the client does when the server or the network misbehaves.
//!
//! Every case scripts the raw server of `tests/common/server.rs` (one thread per
//! connection on 127.0.0.1) to break HTTP in exactly one way, and reads the connections
//! and requests it counted. Each client call runs under a hard time limit in its own
//! thread (`common::complete`, `common::stream_items`), so a hang or a panic in the
//! client fails the test instead of blocking the suite. Retry waits go through
//! `Config::clock`, a fake clock the server's config records them on instead of sleeping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    closed_port, complete, stream_items, text_chunk, transport_kind, After, FakeClock, Server,
    COMPLETION, LIMIT, NGINX_502, SSE_HEAD,
};
use sync_openai::error::{ApiErrorKind, StreamErrorKind, TransportErrorKind};
use sync_openai::{ChatApi, Config, Error};

// ----- connection-level faults -----------------------------------------------------

#[test]
fn connection_refused_is_a_connect_error_retried_per_policy() {
    let port = closed_port();
    let clock = FakeClock::new();
    let api = ChatApi::new(
        Config::new()
            .base_url(format!("http://127.0.0.1:{port}/v1"))
            .connect_timeout(Duration::from_secs(2))
            .max_retries(2)
            .clock(clock.clone()),
    );
    let (result, _) = complete(&api);
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Connect, "{err:?}");
    assert!(err.is_connect() && !err.is_timeout() && err.is_retryable());
    assert_eq!(err.status(), None);
    // Three attempts: two waits between them, the backoff of the real send loop:
    // 0.5 s then 1 s, each less up to 25 % jitter.
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    let ms = |d: &Duration| d.as_millis();
    assert!((375..=500).contains(&ms(&sleeps[0])), "{sleeps:?}");
    assert!((750..=1000).contains(&ms(&sleeps[1])), "{sleeps:?}");
    assert_eq!(err.retries(), 2);
    assert!(err.to_string().contains("after 2 retries"), "{err}");
}

#[test]
fn accept_then_close_is_retried_then_reported_as_io() {
    // Accepts and closes at once, before reading anything. Depending on timing the
    // client sees a broken pipe (writing), a reset or an EOF (reading): all one kind.
    let server = Server::per_connection(|_, conn| {
        conn.close();
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(!err.is_connect() && !err.is_timeout() && err.is_retryable());
    assert_eq!(server.connections(), 3, "one connection per attempt");
    assert_eq!(server.requests(), 0);
    assert_eq!(server.sleeps().len(), 2);
    assert_eq!(err.retries(), 2);
}

#[test]
fn reset_mid_headers_is_retried_then_reported_as_io() {
    // Sends half a status line, then resets the connection.
    let server = Server::per_connection(|_, conn| {
        conn.read_request_but_one_byte();
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-ty");
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(!err.is_connect() && !err.is_timeout() && err.is_retryable());
    assert_eq!(server.requests(), 3);
    assert_eq!(err.retries(), 2);
    assert_eq!(server.sleeps().len(), 2);
}

#[test]
fn close_mid_headers_is_retried_then_reported_as_io() {
    // The same, with an orderly close (FIN) after the partial headers.
    let server = Server::raw(b"HTTP/1.1 200 OK\r\ncontent-type: applic");
    let (result, _) = complete(&server.api(|c| c.max_retries(1)));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert_eq!(server.requests(), 2);
    assert_eq!(err.retries(), 1);
}

#[test]
fn headers_then_close_before_the_body() {
    let server = Server::raw(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n",
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(err.is_retryable() && !err.is_timeout());
    // The body broke like a connection: retried per policy, as the error says it may be.
    assert_eq!(server.requests(), 3);
    assert_eq!(err.retries(), 2);
    assert_eq!(server.sleeps().len(), 2);
}

#[test]
fn content_length_larger_than_the_body() {
    let server = Server::per_request(|_, conn| {
        let half = &COMPLETION.as_bytes()[..COMPLETION.len() / 2];
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            COMPLETION.len()
        );
        conn.write(head.as_bytes());
        conn.write(half);
        After::Close
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(1)));
    let err = result.unwrap_err();
    // A cut body is a transport failure, never a decode error about half a document.
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert!(err.is_retryable() && !err.is_timeout() && !err.is_connect());
    assert_eq!(server.requests(), 2);
    assert_eq!(err.retries(), 1);
    assert!(err.to_string().contains("after 1 retries"), "{err}");
}

#[test]
fn body_cut_once_then_whole_succeeds_on_the_retry() {
    let server = Server::per_request(|i, conn| {
        let body = COMPLETION.as_bytes();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        conn.write(head.as_bytes());
        if i == 0 {
            conn.write(&body[..10]);
            After::Close
        } else {
            conn.write(body);
            After::KeepAlive
        }
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let resp = result.unwrap();
    assert_eq!(resp.data.id, "chatcmpl-abc");
    assert_eq!(resp.retries(), 1);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.sleeps().len(), 1);
}

#[test]
fn broken_chunked_encoding() {
    let server = Server::raw(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
              5\r\n{\"cho\r\nzz-not-hex\r\nices\":[]}\r\n0\r\n\r\n",
    );
    let (result, _) = complete(&server.api(|c| c));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn chunked_body_cut_before_the_last_chunk() {
    let server = Server::raw(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n\
              5\r\n{\"cho\r\n",
    );
    let (result, _) = complete(&server.api(|c| c));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Io, "{err:?}");
    assert_eq!(server.requests(), 1);
}

// ----- slow servers ----------------------------------------------------------------

#[test]
fn body_that_stalls_after_the_headers_times_out() {
    let server = Server::raw_then_stall(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"id\":",
    );
    let (result, elapsed) = complete(&server.api(|c| c.timeout(Duration::from_millis(400))));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.is_timeout() && !err.is_connect() && err.is_retryable());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn stalled_attempts_are_retried_each_within_the_timeout() {
    let server = Server::per_request(|_, conn| {
        conn.stall(); // never answers
        After::Close
    });
    let (result, elapsed) =
        complete(&server.api(|c| c.timeout(Duration::from_millis(300)).max_retries(1)));
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.retries(), 1);
    assert_eq!(server.requests(), 2);
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn stream_that_stalls_mid_answer_hits_the_idle_timeout() {
    let server = Server::raw_then_stall(format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None)));
    let (result, elapsed) = stream_items(&server.api(|c| {
        c.stream_idle_timeout(Duration::from_millis(400))
            .max_retries(2)
    }));
    let items = result.unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    let err = items[1].as_ref().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 1, "a started stream is never sent again");
    assert!(server.sleeps().is_empty());
}

#[test]
fn body_dripped_one_byte_per_50ms_succeeds() {
    // Headers and most of a valid completion at once, then its last 20 bytes one at a
    // time, 50 ms apart: about 1 s of a slow but healthy server.
    let server = Server::per_request(|_, conn| {
        let body = COMPLETION.as_bytes();
        let (now, later) = body.split_at(body.len() - 20);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        conn.write(head.as_bytes());
        conn.write(now);
        conn.drip(later, Duration::from_millis(50));
        After::KeepAlive
    });
    let (result, elapsed) = complete(&server.api(|c| c.timeout(Duration::from_secs(8))));
    let resp = result.unwrap();
    assert_eq!(
        resp.data.choices[0].message.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(resp.retries(), 0);
    assert!(elapsed >= Duration::from_millis(20 * 50), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn stream_dripped_one_byte_per_50ms_outlives_short_idle_and_header_timeouts() {
    // Both timeouts are 300 ms; the answer takes over 1.5 s but never goes quiet for
    // more than 50 ms, so it must not be cut.
    let server = Server::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None)).as_bytes());
        let last = format!("{}data: [DONE]\n\n", text_chunk("lo", Some("stop")));
        let (now, later) = last.as_bytes().split_at(last.len() - 30);
        conn.write(now);
        conn.drip(later, Duration::from_millis(50));
        After::Close
    });
    let (result, elapsed) = stream_items(&server.api(|c| {
        c.timeout(Duration::from_millis(300))
            .stream_idle_timeout(Duration::from_millis(300))
    }));
    let items = result.unwrap();
    let text: String = items
        .into_iter()
        .map(|c| {
            c.unwrap().choices[0]
                .delta
                .content
                .clone()
                .unwrap()
                .into_string()
        })
        .collect();
    assert_eq!(text, "Hello");
    assert!(elapsed >= Duration::from_millis(30 * 50), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

// ----- bad 2xx bodies --------------------------------------------------------------

#[test]
fn invalid_utf8_in_a_200_body_is_a_decode_error() {
    let server = Server::always(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("x-request-id", "req_utf8"),
        ],
        b"{\"choices\":[{\"index\":0,\"message\":{\"content\":\"caf\xe9 \xff\"}}]}",
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("expected Error::Decode, got {err:?}")
    };
    assert_eq!(d.status(), 200);
    assert_eq!(d.line(), 1);
    assert!(d.message().contains("unicode"), "{}", d.message());
    assert!(d.snippet().contains("caf"), "{}", d.snippet());
    assert_eq!(err.request_id(), Some("req_utf8"));
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1, "a decode error is not retried");
    let _ = err.to_string();
}

#[test]
fn empty_200_body_is_a_decode_error() {
    let server = Server::always("200 OK", &[("content-type", "application/json")], b"");
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_eq!(err.status(), Some(200));
    assert!(err.to_string().contains("empty body"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn html_200_from_a_captive_portal_is_a_decode_error_pointing_at_base_url() {
    let server = Server::always(
        "200 OK",
        &[("content-type", "text/html; charset=utf-8")],
        b"<!DOCTYPE html><html><head><title>Sign in to Wi-Fi</title></head><body>Accept the terms</body></html>",
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("expected Error::Decode, got {err:?}")
    };
    assert!(d.snippet().contains("<!DOCTYPE html>"), "{}", d.snippet());
    assert!(err.to_string().contains("base_url"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn body_over_the_size_limit_is_refused_without_reading_it_all() {
    const LIMIT_BYTES: u64 = 64 * 1024;
    const ANNOUNCED: u64 = 256 * 1024 * 1024;
    // Announces 256 MiB and streams it from one 8 KiB buffer until the client hangs up.
    let server = Server::per_request(|_, conn| {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {ANNOUNCED}\r\n\r\n{{\"choices\":[],\"pad\":\""
        );
        conn.write(head.as_bytes());
        conn.flood(ANNOUNCED);
        After::Close
    });
    let (result, _) = complete(&server.api(|c| c.max_response_bytes(LIMIT_BYTES).max_retries(2)));
    let err = result.unwrap_err();
    assert_eq!(
        transport_kind(&err),
        TransportErrorKind::BodyTooLarge,
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("max_response_bytes"), "{err}");
    assert_eq!(server.requests(), 1, "a body too large is not retried");
    // The client hung up long before the end: at most the limit plus what the socket
    // buffers held was ever sent.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.written() >= ANNOUNCED && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let written = server.written();
    assert!(written < 64 * 1024 * 1024, "server wrote {written} bytes");
}

#[test]
fn stream_line_that_never_ends_is_bounded() {
    // A stream whose first line grows forever: the parser's 1 MiB line limit ends it.
    let server = Server::per_request(|_, conn| {
        conn.write(format!("{SSE_HEAD}\r\ndata: {{\"pad\":\"").as_bytes());
        conn.flood(256 * 1024 * 1024);
        After::Close
    });
    let (result, _) = stream_items(&server.api(|c| c.max_retries(2)));
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let Err(Error::Stream(e)) = &items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(e.kind(), StreamErrorKind::TooLarge);
    assert_eq!(server.requests(), 1);
}

// ----- error statuses and retries --------------------------------------------------

#[test]
fn html_502_from_a_proxy_is_retried_then_an_api_error() {
    let server = Server::always(
        "502 Bad Gateway",
        &[("content-type", "text/html"), ("server", "nginx/1.25.3")],
        NGINX_502.as_bytes(),
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 502);
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.message(), "502 Bad Gateway");
    assert!(e.body.contains("nginx/1.25.3"));
    let shown = err.to_string();
    assert!(
        shown.starts_with("server answered 502 Bad Gateway"),
        "{shown}"
    );
    assert!(!shown.contains("<html>"), "{shown}");
    assert_eq!(server.requests(), 3);
    assert_eq!(err.retries(), 2);
    assert_eq!(server.sleeps().len(), 2);
    // The error bodies were read whole, so the three attempts shared one connection.
    assert_eq!(server.connections(), 1);
}

#[test]
fn two_500s_then_200_succeeds_with_two_retries() {
    let server = Server::per_request(|i, conn| {
        if i < 2 {
            conn.respond(
                "500 Internal Server Error",
                &[("content-type", "application/json")],
                br#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
            );
        } else {
            conn.respond(
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("x-request-id", "req_ok"),
                ],
                COMPLETION.as_bytes(),
            );
        }
        After::KeepAlive
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let resp = result.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.retries(), 2);
    assert_eq!(resp.request_id(), Some("req_ok"));
    assert_eq!(server.requests(), 3);
    assert_eq!(server.sleeps().len(), 2);
    // Every attempt sent the same request.
    let log = server.log();
    for r in &log {
        assert!(
            r.head.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"),
            "{}",
            r.head
        );
        assert_eq!(r.body, log[0].body);
    }
    assert!(log[0].body_text().contains(r#""model":"gpt-4o-mini""#));
}

#[test]
fn three_503s_fail_after_three_attempts() {
    let server = Server::always(
        "503 Service Unavailable",
        &[("content-type", "application/json"), ("x-request-id", "req_503")],
        br#"{"error":{"message":"The engine is currently overloaded, please try again later.","type":"server_error","param":null,"code":null}}"#,
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 503);
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.retries(), 2);
    assert!(err.is_retryable());
    let shown = err.to_string();
    assert!(shown.contains("after 2 retries"), "{shown}");
    assert!(shown.contains("currently overloaded"), "{shown}");
    assert!(shown.contains("req_503"), "{shown}");
    assert_eq!(server.requests(), 3);
    assert_eq!(server.sleeps().len(), 2);
}

#[test]
fn rate_limit_with_retry_after_ms_waits_exactly_that() {
    let server = Server::per_request(|i, conn| {
        if i == 0 {
            conn.respond(
                "429 Too Many Requests",
                &[("content-type", "application/json"), ("retry-after-ms", "10")],
                br#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
            );
        } else {
            conn.respond(
                "200 OK",
                &[("content-type", "application/json")],
                COMPLETION.as_bytes(),
            );
        }
        After::KeepAlive
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let resp = result.unwrap();
    assert_eq!(resp.retries(), 1);
    assert_eq!(server.sleeps(), [Duration::from_millis(10)]);
    assert_eq!(server.requests(), 2);
}

#[test]
fn insufficient_quota_is_not_retried() {
    let server = Server::always(
        "429 Too Many Requests",
        &[("content-type", "application/json"), ("retry-after", "1")],
        br#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 429);
    assert_eq!(e.kind(), ApiErrorKind::InsufficientQuota);
    assert_eq!(e.code(), Some("insufficient_quota"));
    assert_eq!(e.error_type(), Some("insufficient_quota"));
    assert!(!err.is_retryable());
    assert_eq!(err.retries(), 0);
    assert_eq!(server.requests(), 1);
    assert!(server.sleeps().is_empty());
}

#[test]
fn bad_request_is_not_retried() {
    let server = Server::always(
        "400 Bad Request",
        &[("content-type", "application/json")],
        br#"{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#,
    );
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    assert_eq!(e.param(), Some("temperature"));
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1);
    assert!(server.sleeps().is_empty());
}

#[test]
fn error_body_that_stalls_still_reports_the_status() {
    // A 503 whose body never comes: the attempt's timeout ends the read, and the user
    // still gets the status (and whatever part of the body came).
    let server = Server::raw_then_stall(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"error\":",
    );
    let (result, elapsed) = complete(&server.api(|c| c.timeout(Duration::from_millis(400))));
    let err = result.unwrap_err();
    let Error::Api(e) = &err else {
        panic!("expected Error::Api, got {err:?}")
    };
    assert_eq!(e.status, 503);
    assert_eq!(e.kind(), ApiErrorKind::Server);
    assert_eq!(e.body, "{\"error\":");
    assert!(err.is_retryable());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(server.requests(), 1);
}

// ----- connection reuse ------------------------------------------------------------

#[test]
fn connection_is_reused_after_an_error_body() {
    let server = Server::per_request(|i, conn| {
        if i == 0 {
            conn.respond(
                "404 Not Found",
                &[("content-type", "application/json")],
                br#"{"error":{"message":"The model `gpt-5-nano-x` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
            );
        } else {
            conn.respond(
                "200 OK",
                &[("content-type", "application/json")],
                COMPLETION.as_bytes(),
            );
        }
        After::KeepAlive
    });
    let api = server.api(|c| c);
    let (first, _) = complete(&api);
    let err = first.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let (second, _) = complete(&api);
    assert_eq!(second.unwrap().status, 200);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 1, "the error body was drained");
}

#[test]
fn pooled_connection_closed_by_the_server_is_not_an_error() {
    // The server answers once with keep-alive, then drops the idle connection (its
    // keep-alive timeout). The next call, even with retries off, must not fail.
    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    let closed_tx = Mutex::new(closed_tx);
    let server = Server::per_request(move |_, conn| {
        conn.respond(
            "200 OK",
            &[("content-type", "application/json")],
            COMPLETION.as_bytes(),
        );
        conn.close();
        let _ = closed_tx.lock().unwrap().send(());
        After::Close
    });
    let api = server.api(|c| c);
    let (first, _) = complete(&api);
    first.unwrap();
    closed_rx.recv_timeout(LIMIT).unwrap();
    let (second, _) = complete(&api);
    let resp = second.unwrap();
    assert_eq!(resp.retries(), 0);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 2);
}

#[test]
fn close_delimited_body_without_content_length_succeeds() {
    // HTTP/1.0 style: no length, no chunking, the end of the body is the close.
    let server = Server::per_request(|_, conn| {
        let mut out =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                .to_vec();
        out.extend_from_slice(COMPLETION.as_bytes());
        conn.write(&out);
        After::Close
    });
    let (result, _) = complete(&server.api(|c| c));
    assert_eq!(result.unwrap().data.id, "chatcmpl-abc");
    assert_eq!(server.requests(), 1);
}

// ----- streams -----------------------------------------------------------------------

#[test]
fn stream_cut_after_some_chunks_is_a_truncation_error_not_retried() {
    let server = Server::per_request(|_, conn| {
        let mut out = format!("{SSE_HEAD}x-request-id: req_cut\r\n\r\n");
        for part in ["The ", "answer ", "is"] {
            out.push_str(&text_chunk(part, None));
        }
        conn.write(out.as_bytes());
        After::Close
    });
    let (result, _) = stream_items(&server.api(|c| c.max_retries(2)));
    let items = result.unwrap();
    assert_eq!(items.len(), 4, "{items:?}");
    for item in &items[..3] {
        assert!(item.is_ok(), "{item:?}");
    }
    let err = items[3].as_ref().unwrap_err();
    let Error::Stream(e) = err else {
        panic!("expected Error::Stream, got {err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert_eq!(err.request_id(), Some("req_cut"));
    assert_eq!(server.requests(), 1);
    assert!(server.sleeps().is_empty());
}

#[test]
fn stream_reset_mid_answer_is_a_truncation_error() {
    // As above, but the connection is reset (unread request byte, then close).
    let server = Server::per_connection(|_, conn| {
        conn.read_request_but_one_byte();
        let out = format!("{SSE_HEAD}\r\n{}", text_chunk("Hel", None));
        conn.write(out.as_bytes());
        thread::sleep(Duration::from_millis(50)); // let the chunk arrive before the RST
    });
    let (result, _) = stream_items(&server.api(|c| c.max_retries(2)));
    let items = result.unwrap();
    let err = items.last().unwrap().as_ref().unwrap_err();
    let Error::Stream(e) = err else {
        panic!("expected Error::Stream, got {err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert_eq!(server.requests(), 1);
}

#[test]
fn stream_opening_is_retried_on_503() {
    let server = Server::per_request(|i, conn| {
        if i == 0 {
            conn.respond("503 Service Unavailable", &[], b"");
            After::KeepAlive
        } else {
            let out = format!(
                "{SSE_HEAD}\r\n{}data: [DONE]\n\n",
                text_chunk("Hi", Some("stop"))
            );
            conn.write(out.as_bytes());
            After::Close
        }
    });
    let (result, _) = stream_items(&server.api(|c| c.max_retries(2)));
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].is_ok());
    assert_eq!(server.requests(), 2);
    assert_eq!(server.sleeps().len(), 1);
}

#[test]
fn server_that_ignores_stream_true_gets_its_answer_replayed_as_one_chunk() {
    // Some proxies drop `"stream": true` and answer with one JSON completion.
    let server = Server::always(
        "200 OK",
        &[("content-type", "application/json")],
        COMPLETION.as_bytes(),
    );
    let (result, _) = stream_items(&server.api(|c| c.max_retries(2)));
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let chunk = items[0].as_ref().unwrap();
    assert_eq!(chunk.id, "chatcmpl-abc");
    assert_eq!(chunk.object, "chat.completion.chunk");
    assert_eq!(
        chunk.choices[0].delta.content.as_deref(),
        Some("Hello there!")
    );
    assert_eq!(chunk.usage.as_ref().map(|u| u.total_tokens), Some(22));
    assert_eq!(server.requests(), 1);
}

#[test]
fn broken_json_answer_to_a_stream_request_says_so() {
    let server = Server::always(
        "200 OK",
        &[("content-type", "application/json")],
        b"{\"choices\": [",
    );
    let (result, _) = stream_items(&server.api(|c| c));
    let items = result.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let Err(Error::Stream(e)) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    assert!(
        e.message().contains("JSON body instead of an event stream"),
        "{e}"
    );
}

// ----- odd but valid HTTP ------------------------------------------------------------

#[test]
fn informational_response_before_the_answer_is_skipped() {
    let server = Server::per_request(|_, conn| {
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n");
        conn.respond(
            "200 OK",
            &[("content-type", "application/json")],
            COMPLETION.as_bytes(),
        );
        After::KeepAlive
    });
    let (result, _) = complete(&server.api(|c| c));
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(server.requests(), 1);
}

#[test]
fn header_block_that_never_ends_is_bounded() {
    let server = Server::per_request(|_, conn| {
        conn.write(b"HTTP/1.1 200 OK\r\n");
        let line = format!("x-pad: {}\r\n", "y".repeat(1000));
        for _ in 0..100_000 {
            if !conn.write(line.as_bytes()) {
                break;
            }
        }
        After::Close
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    // ureq stops at 64 KiB or 128 headers, whichever the reads meet first; a server that
    // sends more will again: final.
    assert_eq!(transport_kind(&err), TransportErrorKind::Other, "{err:?}");
    assert!(
        err.to_string()
            .contains("response headers are more than ureq reads"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1);
}

#[test]
fn more_headers_than_ureq_parses_is_final() {
    // 200 short headers: far under 64 KiB, over ureq's 128 headers.
    let server = Server::per_request(|_, conn| {
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..200 {
            head.push_str(&format!("x-h{i}: v\r\n"));
        }
        head.push_str("content-length: 2\r\n\r\n{}");
        conn.write(head.as_bytes());
        After::Close
    });
    let (result, _) = complete(&server.api(|c| c.max_retries(2)));
    let err = result.unwrap_err();
    assert_eq!(transport_kind(&err), TransportErrorKind::Other, "{err:?}");
    assert!(err.to_string().contains("128 headers"), "{err}");
    assert!(err.to_string().contains("too many headers"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 1);
}
