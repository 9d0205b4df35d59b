//! The unit tests of the bulk limiter (lints relaxed on the `mod tests;` line).

use super::*;
use crate::types::ChatCompletionRequestMessage as Message;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(*name, value.parse().unwrap());
    }
    h
}

fn openai_headers() -> HeaderMap {
    headers(&[
        ("x-ratelimit-limit-requests", "600"),
        ("x-ratelimit-limit-tokens", "60000"),
        ("x-ratelimit-remaining-requests", "599"),
        ("x-ratelimit-remaining-tokens", "59990"),
        ("x-ratelimit-reset-requests", "100ms"),
        ("x-ratelimit-reset-tokens", "10ms"),
    ])
}

/// Takes requests of `cost` as fast as the limiter allows for `secs` seconds (on a
/// clock that only moves when told), answering each at once; returns how many started.
fn drain(l: &mut Limiter, t0: Instant, secs: u64, cost: f64) -> usize {
    let (mut now, mut started) = (t0, 0);
    let end = t0 + Duration::from_secs(secs);
    let req = CreateChatCompletionRequest::new("m", vec![]).max_completion_tokens(0);
    while now < end {
        match l.try_take(now, cost) {
            Ok(()) => {
                started += 1;
                l.answered(now, &req, cost, None, &HeaderMap::new());
            }
            Err(wait) => now += wait,
        }
    }
    started
}

#[test]
fn estimate_counts_prompt_and_answer_limit_then_the_average_answer() {
    let t0 = Instant::now();
    let mut l = Limiter::new(&RunOptions::new(), t0);
    let req = CreateChatCompletionRequest::new("m", vec![Message::user("x".repeat(400))])
        .max_completion_tokens(100)
        .n(2);
    let prompt = serde_json::to_vec(&req.messages).map_or(0, |v| v.len() as u64) / 4;
    assert!(prompt >= 100);
    assert_eq!(l.estimate(&req), (prompt + 200) as f64);
    let bare = CreateChatCompletionRequest::new("m", vec![]);
    assert_eq!(l.estimate(&bare), DEFAULT_COMPLETION_TOKENS as f64);
    // Answers of 10 and 30 tokens to requests without a limit: 20 from now on.
    for completion in [10, 30] {
        l.answered(
            t0,
            &bare,
            256.0,
            Some((completion, completion)),
            &HeaderMap::new(),
        );
    }
    assert_eq!(l.estimate(&bare), 20.0);
    assert_eq!(
        l.estimate(&req),
        (prompt + 200) as f64,
        "a limit set is a limit counted"
    );
}

#[test]
fn bucket_waits_for_refill_and_lets_a_big_cost_through_when_full() {
    let t0 = Instant::now();
    let mut b = Bucket::new(600.0, Duration::from_secs(1), t0); // 10 per second, holds 10
    assert_eq!(b.wait(t0, 10.0), Duration::ZERO);
    b.level -= 10.0;
    assert_eq!(b.wait(t0, 5.0), Duration::from_millis(500));
    assert_eq!(b.wait(t0 + Duration::from_millis(500), 5.0), Duration::ZERO);
    // 100 > capacity: allowed once full (from empty, 1 s).
    let mut big = Bucket::new(600.0, Duration::from_secs(1), t0);
    big.level = 0.0;
    assert_eq!(big.wait(t0, 100.0), Duration::from_secs(1));
    // Held until t0 + 2 s: empty then, full a second later.
    big.level = 10.0;
    big.hold_until(t0, t0 + Duration::from_secs(2));
    assert_eq!(big.wait(t0, 10.0), Duration::from_secs(3));
}

#[test]
fn one_request_at_a_time_until_an_answer_tells_the_limits() {
    let t0 = Instant::now();
    let mut l = Limiter::new(&RunOptions::new(), t0);
    assert_eq!(l.try_take(t0, 10.0), Ok(()));
    let wait = l.try_take(t0, 10.0).unwrap_err();
    assert_eq!(wait, PROBE_INTERVAL, "a second request before any answer");
    // A slow first answer does not hold the run: one more start per interval.
    assert_eq!(l.try_take(t0 + PROBE_INTERVAL, 10.0), Ok(()));
    assert!(l.try_take(t0 + PROBE_INTERVAL, 10.0).is_err());
    let req = CreateChatCompletionRequest::new("m", vec![]);
    l.answered(t0, &req, 10.0, Some((10, 5)), &openai_headers());
    // 95 % of 600/min: 9.5 per second, a burst of 8 (the bucket starts full but for
    // the request that told the limits).
    let per_minute = l.requests.per_minute().unwrap();
    assert!((per_minute - 570.0).abs() < 1e-9, "{per_minute}");
    assert_eq!(l.tokens.per_minute(), Some(57_000.0));
    let started = drain(&mut l, t0, 10, 1.0);
    assert!((8 + 94..=8 + 96).contains(&started), "{started} in 10 s");
}

#[test]
fn the_callers_limit_caps_the_servers_and_skips_the_probe() {
    let t0 = Instant::now();
    let mut l = Limiter::new(&RunOptions::new().max_requests_per_minute(120), t0);
    assert_eq!(l.try_take(t0, 1.0), Ok(()));
    assert_eq!(
        l.try_take(t0, 1.0),
        Ok(()),
        "no probing with a limit of the caller's"
    );
    l.learn(t0, 1.0, &openai_headers());
    assert_eq!(l.requests.per_minute(), Some(120.0));
}

#[test]
fn a_429_pauses_once_lowers_the_rate_and_answers_raise_it_again() {
    let t0 = Instant::now();
    let mut l = Limiter::new(&RunOptions::new(), t0);
    l.learn(t0, 1.0, &openai_headers());
    let resume = t0 + Duration::from_secs(1);
    l.slow_down(t0, resume, Some("requests"));
    // A second 429 from the same burst, inside the pause: no second decrease.
    l.slow_down(t0 + Duration::from_millis(10), resume, Some("requests"));
    assert_eq!(l.pauses, 1);
    assert!((l.requests.factor - DECREASE).abs() < 1e-9);
    assert_eq!(
        l.tokens.factor, 1.0,
        "a requests 429 leaves the token rate alone"
    );
    let wait = l.try_take(t0, 1.0).unwrap_err();
    assert!(wait > Duration::from_secs(1), "{wait:?}");
    // At the reopening the bucket is empty: the first request waits for one refill
    // at the lowered rate (570 * 0.7 per minute), not a crowd at once.
    let at = resume + Duration::from_millis(1);
    let wait = l.try_take(at, 1.0).unwrap_err();
    assert!(wait > Duration::from_millis(140), "{wait:?}");
    // Six seconds of answers bring the rate back (0.7 + 6 * 0.05 = 1).
    let later = resume + Duration::from_secs(7);
    let req = CreateChatCompletionRequest::new("m", vec![]);
    l.answered(later, &req, 1.0, None, &HeaderMap::new());
    assert_eq!(l.requests.factor, 1.0);
}

#[test]
fn a_429_without_limit_headers_paces_at_the_rate_measured_before_it() {
    let t0 = Instant::now();
    let mut l = Limiter::new(&RunOptions::new().max_tokens_per_minute(1_000_000), t0);
    // 32 starts in the second before the 429: about 1920 per minute.
    for i in 0..32 {
        assert_eq!(l.try_take(t0 + Duration::from_millis(i * 31), 1.0), Ok(()));
    }
    let now = t0 + Duration::from_secs(1);
    l.slow_down(now, now + Duration::from_secs(1), None);
    let rate = l.requests.per_minute().unwrap();
    assert!((1300.0..1400.0).contains(&rate), "{rate}");
}

#[test]
fn spent_budget_headers_close_the_gate_of_a_server_without_limits() {
    let t0 = Instant::now();
    let mut l = Limiter::new(&RunOptions::new(), t0);
    let h = headers(&[
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "2s"),
    ]);
    l.learn(t0, 10.0, &h);
    assert_eq!(l.pauses, 1);
    assert_eq!(l.try_take(t0, 1.0), Err(Duration::from_secs(2)));
    // With a limit known, what is left only bounds the bucket.
    let mut l = Limiter::new(&RunOptions::new(), t0);
    let mut h = openai_headers();
    h.insert("x-ratelimit-remaining-requests", "0".parse().unwrap());
    l.learn(t0, 1.0, &h);
    assert_eq!(l.pauses, 0);
    let wait = l.try_take(t0, 1.0).unwrap_err();
    assert!(wait < Duration::from_millis(110), "{wait:?}");
}
