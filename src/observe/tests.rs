use super::*;
use crate::http::HeaderValue;
use std::sync::Mutex;

const KEY: &str = "sk-proj-Abc123Def456Ghi789";

type Shared<T> = Arc<Mutex<Vec<T>>>;

fn observer(level: LogLevel) -> (Observer, Shared<String>, Shared<Event>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let hook = EventHook(Arc::new(move |e: &Event| {
        seen.lock().unwrap().push(e.clone())
    }));
    let o = Observer::new(level, Some(&hook), [KEY, "abcdefg"])
        .unwrap()
        .with_sink(Sink::Buffer(Arc::clone(&lines)));
    (o, lines, events)
}

#[test]
fn events_travel_between_threads() {
    fn assert_traits<T: Send + Sync + Clone + fmt::Debug + 'static>() {}
    assert_traits::<Event>();
    assert_traits::<LogLevel>();
}

#[test]
fn nothing_to_report_to_builds_nothing() {
    assert!(Observer::new(LogLevel::Off, None, [KEY]).is_none());
    assert!(Observer::new(LogLevel::Info, None, [KEY]).is_some());
}

#[test]
fn a_retried_attempt_is_one_line_with_the_wait_and_why() {
    let (o, lines, events) = observer(LogLevel::Info);
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("2"));
    headers.insert("x-litellm-call-id", HeaderValue::from_static("call-1"));
    let error = Error::Api(Box::new(crate::error::ApiError::new(
        429,
        headers.clone(),
        b"{}",
    )));
    o.attempt(&Attempt {
        method: &Method::POST,
        url: "http://u:p@127.0.0.1:9/v1/chat/completions?api-version=1&key=AIza123",
        number: 1,
        elapsed: Duration::from_millis(12),
        response: Some((429, &headers)),
        error: Some(&error),
        retry: Some(Duration::from_secs(2)),
    });
    assert_eq!(
        *lines.lock().unwrap(),
        ["POST http://<redacted>@127.0.0.1:9/v1/chat/completions?api-version=1&key=<redacted> -> 429 Too Many Requests request_id=call-1 attempt=1 elapsed_ms=12 retry_in_ms=2000 retry_reason=\"429 Too Many Requests, wait asked by the server (retry-after)\""]
    );
    let events = events.lock().unwrap();
    assert!(matches!(
        &events[0],
        Event::ResponseReceived { status: 429, request_id: Some(id), attempt: 1, .. } if id == "call-1"
    ));
    assert!(matches!(
        &events[1],
        Event::RetryScheduled { attempt: 1, delay, reason } if *delay == Duration::from_secs(2) && reason.contains("retry-after")
    ));
    assert_eq!(events.len(), 2);
}

#[test]
fn debug_bodies_are_redacted_before_they_are_cut() {
    let (o, lines, _) = observer(LogLevel::Debug);
    // The key straddles the 4 KiB cut: no prefix of it may show.
    let mut body = "x".repeat(DEBUG_BODY_BYTES - 5);
    body.push_str(KEY);
    body.push_str("\nBearer ");
    body.push_str(KEY);
    o.response_body(&Method::GET, "http://h/v1/models", 200, body.as_bytes());
    let line = &lines.lock().unwrap()[0];
    assert!(!line.contains("sk-proj"), "{line}");
    assert!(line.starts_with("GET http://h/v1/models response body (200, "));
    assert!(line.ends_with("xxx<reda…"), "{line}");
}

#[test]
fn stream_end_is_reported_once() {
    let (o, lines, events) = observer(LogLevel::Info);
    let mut headers = HeaderMap::new();
    headers.insert("apim-request-id", HeaderValue::from_static("apim-1"));
    let mut watch = o.watch_stream(&headers);
    watch.saw::<()>(&Some(Ok(())));
    watch.saw::<()>(&Some(Ok(())));
    watch.saw::<()>(&None);
    watch.saw::<()>(&None);
    drop(watch);
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("stream request_id=apim-1 ended: finished chunks=2 elapsed_ms="),
        "{}",
        lines[0]
    );
    assert!(matches!(
        &events.lock().unwrap()[..],
        [Event::StreamEnded {
            chunks: 2,
            end: StreamEnd::Finished,
            ..
        }]
    ));
}

#[test]
fn a_dropped_stream_says_so() {
    let (o, lines, _) = observer(LogLevel::Info);
    let mut watch = o.watch_stream(&HeaderMap::new());
    watch.saw::<()>(&Some(Ok(())));
    drop(watch);
    assert!(lines.lock().unwrap()[0].starts_with("stream ended: dropped before its end chunks=1"));
}

#[test]
fn urls_lose_user_info_and_secret_query_values() {
    assert_eq!(
        redact_url("https://a:b@h/x?Api-Key=1&limit=2&sig=3&flag"),
        "https://<redacted>@h/x?Api-Key=<redacted>&limit=2&sig=<redacted>&flag"
    );
    assert_eq!(redact_url("http://h:80/v1"), "http://h:80/v1");
    assert_eq!(redact_url("not a url"), "not a url");
}

#[test]
fn short_secrets_are_not_redacted() {
    let (o, _, _) = observer(LogLevel::Info);
    assert_eq!(
        o.redact("abcdefg sk-proj-Abc123Def456Ghi789"),
        "abcdefg <redacted>"
    );
}

#[test]
fn levels_parse() {
    assert_eq!(LogLevel::parse(" Info "), Some(LogLevel::Info));
    assert_eq!(LogLevel::parse(""), Some(LogLevel::Off));
    assert_eq!(LogLevel::parse("warn"), None);
}
