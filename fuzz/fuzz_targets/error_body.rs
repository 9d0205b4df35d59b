//! Arbitrary status, headers and body of a non-2xx answer.
//!
//! Input layout: two bytes of status (big-endian), then `name: value` header lines up to
//! the first empty line, then the body. Without an empty line, everything after the
//! status is the body.
//!
//! The body goes through the public `ApiError::new` (what the client does with every
//! non-2xx answer) and, as the data of an `event: error` SSE event, through the stream's
//! in-band error path. The headers go through the retry-after and rate-limit parsers.
//! Nothing may panic, and `Display`/`Debug` of every resulting error must work.
#![no_main]

use std::error::Error as _;

use libfuzzer_sys::fuzz_target;
use sync_openai::http::{HeaderMap, HeaderName, HeaderValue};
use sync_openai::error::{ApiError, StreamErrorKind};
use sync_openai::{ApiResponse, ChatCompletionStream, Error};

fn headers_from(head: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

/// `event: error` and the body as its data lines.
fn error_event(body: &[u8]) -> Vec<u8> {
    let mut sse = b"event: error\n".to_vec();
    for line in body.split(|&b| b == b'\n') {
        sse.extend_from_slice(b"data: ");
        sse.extend_from_slice(line);
        sse.push(b'\n');
    }
    sse.push(b'\n');
    sse
}

fn show(e: &Error) {
    let shown = e.to_string();
    assert!(!shown.is_empty(), "empty Display for {e:?}");
    let _ = format!("{e:?} {:?}", e.source());
    let _ = (e.status(), e.request_id(), e.is_retryable(), e.is_timeout());
    let _ = (e.is_connect(), e.retries(), e.retry_after());
}

fuzz_target!(|data: &[u8]| {
    let Some((status, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = u16::from_be_bytes(*status);
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&[][..], rest),
    };
    let headers = headers_from(head);

    let api = ApiError::new(status, headers.clone(), body);
    assert_eq!(api.status, status);
    assert!(!api.message.trim().is_empty(), "empty message: {api:?}");
    let _ = (
        api.kind(),
        api.request_id(),
        api.retry_after(),
        api.retries(),
    );
    let _ = format!("{api:?}");
    // Control characters from the server never reach a terminal: the same rule everywhere.
    let shown = api.to_string();
    assert!(!shown.chars().any(char::is_control), "raw control character: {shown:?}");
    show(&Error::Api(Box::new(api.clone())));

    let response = ApiResponse::new(status, headers, ());
    let _ = format!("{:?}", response.rate_limit());
    let _ = (response.request_id(), response.processing_ms());

    let mut stream = ChatCompletionStream::from_reader(std::io::Cursor::new(error_event(body)));
    match stream.next() {
        Some(Err(e @ Error::Stream(_))) => {
            show(&e);
            let Error::Stream(s) = &e else { unreachable!() };
            assert_eq!(s.kind(), StreamErrorKind::ServerError);
            assert!(!s.message().trim().is_empty());
            let shown = e.to_string();
            assert!(!shown.chars().any(char::is_control), "raw control character: {shown:?}");
            let _ = (s.error_type(), s.code(), s.param(), s.snippet());
        }
        other => panic!("an `event: error` did not end the stream with a server error: {other:?}"),
    }
    assert!(stream.next().is_none());
});
