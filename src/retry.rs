//! Retry policy for the blocking client: which failures are retried, and how long to wait.
//!
//! Everything here is pure: no I/O, no sleeping, no clock reads in the decision
//! functions. The caller passes in the current wall-clock time (`now`, used only to
//! resolve `retry-after` HTTP dates), the time left before an overall deadline
//! (`remaining`), and a [`Jitter`] source. The only side-effecting pieces are the
//! [`Sleeper`] abstraction the client calls with the chosen delay (so tests can
//! record instead of sleep) and [`SeededJitter::from_entropy`], which reads the
//! clock once to pick a seed.
//!
//! # Policy (mirrors the official OpenAI SDKs unless noted)
//!
//! * [`DEFAULT_MAX_RETRIES`] is 2, i.e. up to 3 attempts.
//! * Retried: transport failures that are connection errors (refused, DNS, a
//!   connection reset or closed before the response was complete) or timeouts, and
//!   HTTP 408, 409, 429 and every status >= 500. Other transport failures (the caller
//!   sets neither flag: a failed TLS handshake, a malformed request, broken HTTP, a body
//!   over a size limit, ...) are not retried, since repeating the same request would
//!   fail the same way. `Error::retry_outcome` (in `error.rs`) says which is which.
//! * A response header `x-should-retry: true|false` (value compared
//!   case-insensitively, surrounding whitespace ignored) overrides the status rule
//!   in both directions. Any other value of that header is ignored.
//! * **Deviation from the SDKs:** an error whose `code` or `type` is
//!   `insufficient_quota` is never retried, even if `x-should-retry: true` is
//!   present (the SDKs let the header win). Retrying cannot help: the account is
//!   out of credit until a human acts, and each retry only adds latency. This holds
//!   for any status, although OpenAI sends it with 429.
//! * Streams are not retried once their first chunk was delivered; that is the
//!   caller's business (it simply does not ask).
//! * Delay: the server's delay (see [`server_delay`]) when it is in `(0, 60 s]`;
//!   a server delay above 60 s is not waited: [`decide`] gives up and reports it in
//!   `retry_after` of [`Decision::GiveUp`]. Without a usable server delay:
//!   [`Backoff::delay`], `min(0.5 s * 2^n, 8 s) * (1 - 0.25 * r)`.
//! * A user's [`Backoff`] (`Config::retry_backoff(initial, max)`, openai-python #1102):
//!   `min(initial * 2^n, max) * (1 - 0.25 * r)`, and `max` replaces the 60 s bound on the
//!   server's delay, so every wait is in `(0, max]`.
//! * An optional overall deadline: when the chosen delay is `>= remaining`, give up
//!   rather than sleep into a request that cannot finish in time.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ureq::http::HeaderMap;

use crate::http_date::parse_http_date;

/// Retries after the first attempt, so `DEFAULT_MAX_RETRIES + 1` attempts in all.
/// The public `config::DEFAULT_MAX_RETRIES` is this value.
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 2;

/// The longest server-requested delay that is honoured; longer ones make
/// [`decide`] give up instead of waiting.
pub(crate) const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// Backoff before the first retry, before jitter.
const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Cap on the backoff, before jitter.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// Jitter removes up to this fraction of the backoff.
const JITTER_FRACTION: f64 = 0.25;

/// The result of one attempt that did not succeed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// No complete response: a connect error, DNS, a broken connection, a TLS failure, a
    /// timeout. Retried when either flag is set (both may be, e.g. a connect timeout).
    Transport { is_timeout: bool, is_connect: bool },
    /// An error response with this status and headers; `error_code` and
    /// `error_type` are the body's `error.code` / `error.type`, if it had them.
    Response {
        status: u16,
        headers: &'a HeaderMap,
        error_code: Option<&'a str>,
        error_type: Option<&'a str>,
    },
}

/// What the client should do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Sleep this long, then try again.
    Retry(Duration),
    /// Return the error to the user. `retry_after` is the server's requested delay
    /// (as parsed by [`server_delay`]) whenever the response carried a usable one,
    /// whatever the reason for giving up: notably a delay over 60 s, which is not
    /// waited but exposed so the user can decide.
    GiveUp { retry_after: Option<Duration> },
}

/// Whether this failure is worth retrying at all (ignoring retry counts, delays
/// and deadlines). See the module docs for the rules and their order.
///
/// Callers only pass failures; a 2xx response is not expected here.
pub(crate) fn is_retryable(outcome: &Outcome<'_>) -> bool {
    match *outcome {
        Outcome::Transport {
            is_timeout,
            is_connect,
        } => is_timeout || is_connect,
        Outcome::Response {
            status,
            headers,
            error_code,
            error_type,
        } => {
            let is_quota =
                |v: Option<&str>| v.is_some_and(|s| s.eq_ignore_ascii_case("insufficient_quota"));
            if is_quota(error_code) || is_quota(error_type) {
                return false;
            }
            match should_retry_header(headers) {
                Some(verdict) => verdict,
                None => matches!(status, 408 | 409 | 429) || status >= 500,
            }
        }
    }
}

/// `Some(true)` / `Some(false)` for `x-should-retry: true|false`, `None` when the
/// header is absent or has any other value.
fn should_retry_header(headers: &HeaderMap) -> Option<bool> {
    let value = headers.get("x-should-retry")?.to_str().ok()?.trim();
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The delay the server asked for, before the 60 s rule is applied.
///
/// Sources, first usable one wins:
/// 1. `retry-after-ms`: float milliseconds;
/// 2. `retry-after`: float seconds;
/// 3. `retry-after`: an HTTP date (IMF-fixdate, RFC 850 or asctime), relative to
///    `now`.
///
/// Only strictly positive delays are returned: a zero, negative, non-finite or
/// unparseable value, or a date that is not after `now`, counts as absent, and an
/// unusable `retry-after-ms` falls through to `retry-after` (as the Node SDK does).
/// Only the first value of each header is looked at. A positive delay that
/// rounds to 0 ns counts as zero; one too large for a `u64` of nanoseconds
/// (~584 years) saturates there.
pub(crate) fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };

    if let Some(d) = header("retry-after-ms")
        .and_then(parse_finite)
        .and_then(|ms| positive_duration(ms, 1e6))
    {
        return Some(d);
    }
    let retry_after = header("retry-after")?;
    match parse_finite(retry_after) {
        Some(secs) => positive_duration(secs, 1e9),
        None => {
            let at = parse_http_date(retry_after, now)?;
            at.duration_since(now).ok().filter(|d| !d.is_zero())
        }
    }
}

/// A finite float, or `None` (Rust's parser also accepts `inf` and `NaN`).
fn parse_finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `value` units of `nanos_per_unit` ns each, if that is at least 1 ns.
/// Never panics: the float-to-integer `as` cast saturates.
fn positive_duration(value: f64, nanos_per_unit: f64) -> Option<Duration> {
    if !value.is_finite() || value <= 0.0 {
        return None;
    }
    let nanos = (value * nanos_per_unit).round();
    if nanos < 1.0 {
        return None;
    }
    Some(Duration::from_nanos(nanos as u64))
}

/// The waits between attempts when the server names none, and the longest server delay
/// that is waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The backoff before the first retry, before jitter; doubled for each later one.
    initial: Duration,
    /// The longest backoff, before jitter.
    max: Duration,
    /// The longest server delay (`retry-after`) that is waited; a longer one gives up.
    max_server_delay: Duration,
}

impl Backoff {
    /// The SDKs' policy: 0.5 s doubling up to 8 s, server delays up to 60 s.
    pub(crate) const DEFAULT: Backoff = Backoff {
        initial: INITIAL_BACKOFF,
        max: MAX_BACKOFF,
        max_server_delay: MAX_SERVER_DELAY,
    };

    /// A user's policy: `initial` doubling up to `max`, and server delays up to `max`, so
    /// that no wait is longer than `max`. `None` unless `0 < initial <= max`.
    pub(crate) fn new(initial: Duration, max: Duration) -> Option<Backoff> {
        (!initial.is_zero() && initial <= max).then_some(Backoff {
            initial,
            max,
            max_server_delay: max,
        })
    }

    /// Backoff before retry number `retries_taken + 1` (so `retries_taken` is 0 for the
    /// first retry): `min(initial * 2^n, max) * (1 - 0.25 * r)`, at least 1 ns.
    ///
    /// `r` should be in `[0, 1)`; anything else is clamped into `[0, 1]` (NaN counts as
    /// 0), so the result is always within `[0.75 * base, base]` (and in `(0, max]`) and
    /// never panics.
    pub(crate) fn delay(&self, retries_taken: u32, r: f64) -> Duration {
        let factor = 1u32.checked_shl(retries_taken).unwrap_or(u32::MAX);
        let base = self.initial.saturating_mul(factor).min(self.max);
        let r = if r.is_finite() {
            r.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Exact in f64 up to 2^53 ns (104 days); the float-to-integer `as` saturates at
        // 584 years, and the clamp keeps any rounding of longer waits within `(0, base]`.
        let nanos = (base.as_nanos() as f64 * (1.0 - JITTER_FRACTION * r)).round();
        let jittered = Duration::from_nanos(nanos as u64);
        let one = Duration::from_nanos(1);
        jittered.clamp(one, base.max(one))
    }
}

/// [`Backoff::delay`] of the default policy (the bulk runner's own retries use it).
#[cfg(any(test, feature = "bulk"))]
pub(crate) fn backoff(retries_taken: u32, r: f64) -> Duration {
    Backoff::DEFAULT.delay(retries_taken, r)
}

/// Decide what to do after attempt number `retries_taken + 1` failed with
/// `outcome`.
///
/// * `retries_taken`: retries already performed (0 after the first attempt).
/// * `max_retries`: retries allowed in all ([`DEFAULT_MAX_RETRIES`] by default).
/// * `remaining`: time left before the caller's overall deadline, if it has one.
/// * `now`: current wall-clock time, only used for `retry-after` dates.
/// * `jitter`: drawn from exactly once when (and only when) the backoff ([`Backoff::delay`]) is used.
///
/// Gives up when the failure is not retryable, when `retries_taken >=
/// max_retries`, when the server asks for more than 60 s, or when the delay is
/// `>= remaining`.
#[cfg(any(test, feature = "bulk"))]
pub(crate) fn decide(
    outcome: &Outcome<'_>,
    retries_taken: u32,
    max_retries: u32,
    remaining: Option<Duration>,
    now: SystemTime,
    jitter: &mut dyn Jitter,
) -> Decision {
    let policy = Backoff::DEFAULT;
    decide_with(
        &policy,
        outcome,
        retries_taken,
        max_retries,
        remaining,
        now,
        jitter,
    )
}

/// [`decide`] with the waits of `policy`: its backoff, and its longest server delay
/// instead of 60 s.
pub(crate) fn decide_with(
    policy: &Backoff,
    outcome: &Outcome<'_>,
    retries_taken: u32,
    max_retries: u32,
    remaining: Option<Duration>,
    now: SystemTime,
    jitter: &mut dyn Jitter,
) -> Decision {
    let server = match *outcome {
        Outcome::Response { headers, .. } => server_delay(headers, now),
        Outcome::Transport { .. } => None,
    };
    let give_up = Decision::GiveUp {
        retry_after: server,
    };
    if retries_taken >= max_retries || !is_retryable(outcome) {
        return give_up;
    }
    let delay = match server {
        Some(d) if d <= policy.max_server_delay => d,
        Some(_) => return give_up,
        None => policy.delay(retries_taken, jitter.next_f64()),
    };
    if remaining.is_some_and(|left| delay >= left) {
        return give_up;
    }
    Decision::Retry(delay)
}

/// A source of uniform random numbers for jitter.
pub(crate) trait Jitter {
    /// A number in `[0, 1)`.
    fn next_f64(&mut self) -> f64;
}

/// SplitMix64: tiny, fast, statistically fine for jitter (not cryptographic).
#[derive(Debug, Clone)]
pub(crate) struct SeededJitter {
    state: u64,
}

impl SeededJitter {
    /// A deterministic sequence; every seed (including 0) is fine.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A seed that differs between processes and between calls: std's
    /// `RandomState` is keyed from OS randomness once per thread and its keys are
    /// bumped for every new `RandomState`, and the hash also covers the current
    /// time. Good enough to decorrelate clients; not for anything secret.
    pub(crate) fn from_entropy() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => hasher.write_u128(d.as_nanos()),
            Err(e) => hasher.write_u128(e.duration().as_nanos()),
        }
        Self::new(hasher.finish())
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Jitter for SeededJitter {
    fn next_f64(&mut self) -> f64 {
        // The top 53 bits, scaled by 2^-53: exactly representable, so always < 1.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// What the client calls to wait between attempts; tests substitute a recorder.
pub(crate) trait Sleeper: Send + Sync {
    fn sleep(&self, d: Duration);
}

/// The real sleeper: [`std::thread::sleep`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

#[cfg(test)]
// Tests may panic on broken expectations, and index fixed-size test tables.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use ureq::http::header::HeaderName;
    use ureq::http::HeaderValue;

    /// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date.
    const RFC_EXAMPLE_SECS: u64 = 784_111_777;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(RFC_EXAMPLE_SECS)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn response<'a>(status: u16, headers: &'a HeaderMap) -> Outcome<'a> {
        Outcome::Response {
            status,
            headers,
            error_code: None,
            error_type: None,
        }
    }

    /// A jitter source that must not be consulted.
    struct NoJitter;
    impl Jitter for NoJitter {
        fn next_f64(&mut self) -> f64 {
            panic!("jitter drawn although a server delay applies or no retry happens");
        }
    }

    /// Always returns the same value.
    struct FixedJitter(f64);
    impl Jitter for FixedJitter {
        fn next_f64(&mut self) -> f64 {
            self.0
        }
    }

    fn decide_simple(outcome: &Outcome<'_>, jitter: &mut dyn Jitter) -> Decision {
        decide(outcome, 0, DEFAULT_MAX_RETRIES, None, now(), jitter)
    }

    fn delay_from(pairs: &[(&'static str, &'static str)]) -> Option<Duration> {
        server_delay(&headers(pairs), now())
    }

    fn assert_close(actual: Duration, expected_secs: f64) {
        let diff = (actual.as_secs_f64() - expected_secs).abs();
        assert!(diff <= 1e-9, "{actual:?} != {expected_secs} s");
    }

    // ----- backoff -------------------------------------------------------

    #[test]
    fn seeded_delay_sequence_over_six_retries() {
        let empty = HeaderMap::new();
        let outcome = response(503, &empty);
        let mut jitter = SeededJitter::new(42);
        let mut twin = SeededJitter::new(42);
        let mut delays = Vec::new();
        for n in 0..6u32 {
            let Decision::Retry(d) = decide(&outcome, n, 6, None, now(), &mut jitter) else {
                panic!("retry {n} was not granted");
            };
            let r = twin.next_f64();
            let base = (0.5 * 2f64.powi(n as i32)).min(8.0);
            assert_close(d, base * (1.0 - 0.25 * r));
            delays.push(d);
        }
        // Pinned values for seed 42 (cross-checked with an independent Python
        // SplitMix64); guards against accidental PRNG/formula changes.
        assert_eq!(delays[0], Duration::from_nanos(407_304_390));
        assert_eq!(delays[5], Duration::from_nanos(6_263_543_847));
        // The sixth decision with max_retries 6 gives up.
        assert_eq!(
            decide(&outcome, 6, 6, None, now(), &mut jitter),
            Decision::GiveUp { retry_after: None }
        );
    }

    #[test]
    fn backoff_bounds_and_cap() {
        let mut jitter = SeededJitter::new(7);
        for n in 0..40u32 {
            let base = (0.5 * 2f64.powi(n.min(10) as i32)).min(8.0);
            for _ in 0..200 {
                let d = backoff(n, jitter.next_f64()).as_secs_f64();
                // Tighter than the [0.375 * base, base] the brief asks for.
                assert!(d >= 0.75 * base - 1e-9, "n={n}: {d}");
                assert!(d <= base, "n={n}: {d}");
            }
        }
        assert_eq!(backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(4, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(5, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(63, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(64, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(u32::MAX, 0.5), Duration::from_secs(7));
        assert_eq!(backoff(0, 0.5), Duration::from_micros(437_500));
    }

    #[test]
    fn backoff_tolerates_out_of_range_jitter() {
        assert_eq!(backoff(0, f64::NAN), Duration::from_millis(500));
        assert_eq!(backoff(0, f64::INFINITY), Duration::from_millis(500));
        assert_eq!(backoff(0, -3.0), Duration::from_millis(500));
        assert_eq!(backoff(0, 5.0), Duration::from_millis(375));
    }

    #[test]
    fn a_users_backoff_waits_within_zero_and_max_for_every_attempt_and_draw() {
        let ns = Duration::from_nanos;
        let ms = Duration::from_millis;
        let policies = [
            (ns(1), ns(1)),
            (ns(1), ns(3)),
            (ns(3), ns(7)),
            (ms(10), ms(25)),
            (ms(100), ms(100)),
            (ms(250), Duration::from_secs(30)),
            (Duration::from_secs(1), Duration::from_secs(3600)),
            (ns(1), Duration::MAX),
            (Duration::MAX, Duration::MAX),
        ];
        let empty = HeaderMap::new();
        let outcome = response(503, &empty);
        for (initial, max) in policies {
            let policy = Backoff::new(initial, max).unwrap();
            for seed in 0..64u64 {
                let mut jitter = SeededJitter::new(seed);
                for n in 0..70u32 {
                    let Decision::Retry(d) =
                        decide_with(&policy, &outcome, n, 70, None, now(), &mut jitter)
                    else {
                        panic!("retry {n} of {initial:?}..{max:?} was not granted");
                    };
                    assert!(
                        !d.is_zero() && d <= max,
                        "{initial:?}..{max:?} n={n}: {d:?}"
                    );
                }
            }
            // The draws at the ends of [0, 1), and outside it.
            for r in [0.0, 0.999_999_999, 1.0, -1.0, 2.0, f64::NAN, f64::INFINITY] {
                for n in [0, 1, 31, 32, 33, u32::MAX] {
                    let d = policy.delay(n, r);
                    assert!(
                        !d.is_zero() && d <= max,
                        "{initial:?}..{max:?} n={n} r={r}: {d:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_users_backoff_doubles_from_initial_and_stops_at_max() {
        let policy = Backoff::new(Duration::from_millis(10), Duration::from_millis(25)).unwrap();
        let waits: Vec<Duration> = (0..5).map(|n| policy.delay(n, 0.0)).collect();
        let ms = Duration::from_millis;
        assert_eq!(waits, [ms(10), ms(20), ms(25), ms(25), ms(25)]);
        // Jitter takes at most a quarter off.
        assert_eq!(policy.delay(0, 0.5), Duration::from_micros(8_750));
        assert_eq!(policy.delay(9, 0.999), Duration::from_nanos(18_756_250));
    }

    #[test]
    fn a_users_max_bounds_the_servers_delay_too() {
        let policy = Backoff::new(Duration::from_millis(10), Duration::from_secs(2)).unwrap();
        let decide_for = |value: &'static str| {
            let h = headers(&[("retry-after", value)]);
            decide_with(
                &policy,
                &response(429, &h),
                0,
                2,
                None,
                now(),
                &mut NoJitter,
            )
        };
        // Within max, the server's delay wins over the backoff.
        assert_eq!(decide_for("2"), Decision::Retry(Duration::from_secs(2)));
        assert_eq!(
            decide_for("0.5"),
            Decision::Retry(Duration::from_millis(500))
        );
        // Longer than max: not waited; the error carries it.
        assert_eq!(
            decide_for("3"),
            Decision::GiveUp {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        // A max over 60 s waits server delays up to it.
        let patient = Backoff::new(Duration::from_secs(1), Duration::from_secs(120)).unwrap();
        let h = headers(&[("retry-after", "90")]);
        assert_eq!(
            decide_with(
                &patient,
                &response(429, &h),
                0,
                2,
                None,
                now(),
                &mut NoJitter
            ),
            Decision::Retry(Duration::from_secs(90))
        );
    }

    #[test]
    fn a_backoff_needs_a_positive_initial_no_longer_than_max() {
        let s = Duration::from_secs;
        assert_eq!(Backoff::new(Duration::ZERO, s(1)), None);
        assert_eq!(Backoff::new(s(2), s(1)), None);
        assert_eq!(Backoff::new(Duration::ZERO, Duration::ZERO), None);
        assert!(Backoff::new(s(1), s(1)).is_some());
    }

    // ----- server delay headers ------------------------------------------

    #[test]
    fn retry_after_ms_forms() {
        assert_eq!(
            delay_from(&[("retry-after-ms", "10")]),
            Some(Duration::from_millis(10))
        );
        assert_eq!(
            delay_from(&[("retry-after-ms", "12.5")]),
            Some(Duration::from_micros(12_500))
        );
    }

    #[test]
    fn retry_after_seconds_forms() {
        assert_eq!(
            delay_from(&[("retry-after", "2")]),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            delay_from(&[("retry-after", "1.5")]),
            Some(Duration::from_millis(1_500))
        );
        assert_eq!(
            delay_from(&[("retry-after", " 3 ")]),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn retry_after_http_dates() {
        // 5 s after `now`, in all three formats.
        assert_eq!(
            delay_from(&[("retry-after", "Sun, 06 Nov 1994 08:49:42 GMT")]),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            delay_from(&[("retry-after", "Sunday, 06-Nov-94 08:49:42 GMT")]),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            delay_from(&[("retry-after", "Sun Nov  6 08:49:42 1994")]),
            Some(Duration::from_secs(5))
        );
        // `now` with a fractional second: the delay is measured from it exactly.
        let later_now = now() + Duration::from_millis(250);
        assert_eq!(
            server_delay(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:42 GMT")]),
                later_now
            ),
            Some(Duration::from_millis(4_750))
        );
        // In the past, or exactly now: no usable delay.
        assert_eq!(
            delay_from(&[("retry-after", "Sun, 06 Nov 1994 08:49:30 GMT")]),
            None
        );
        assert_eq!(
            delay_from(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]),
            None
        );
    }

    #[test]
    fn unusable_server_delays_are_absent() {
        for value in [
            "garbage", "-1", "-0.5", "0", "0.0", "inf", "NaN", "", "1e-12", "1,5",
        ] {
            assert_eq!(delay_from(&[("retry-after", value)]), None, "{value:?}");
            assert_eq!(delay_from(&[("retry-after-ms", value)]), None, "{value:?}");
        }
        let mut non_ascii = HeaderMap::new();
        non_ascii.insert("retry-after", HeaderValue::from_bytes(b"\xff5").unwrap());
        assert_eq!(server_delay(&non_ascii, now()), None);
        assert_eq!(server_delay(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn unusable_server_delay_falls_back_to_backoff() {
        for value in ["garbage", "-1", "0", "Sun, 06 Nov 1994 08:49:30 GMT"] {
            let h = headers(&[("retry-after", value)]);
            assert_eq!(
                decide_simple(&response(429, &h), &mut FixedJitter(0.0)),
                Decision::Retry(Duration::from_millis(500)),
                "{value:?}"
            );
        }
    }

    #[test]
    fn huge_server_delay_saturates() {
        assert_eq!(
            delay_from(&[("retry-after", "1e300")]),
            Some(Duration::from_nanos(u64::MAX))
        );
    }

    #[test]
    fn retry_after_ms_preferred_and_falls_through() {
        assert_eq!(
            delay_from(&[("retry-after-ms", "250"), ("retry-after", "7")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            delay_from(&[("retry-after-ms", "0"), ("retry-after", "7")]),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            delay_from(&[("retry-after-ms", "soon"), ("retry-after", "7")]),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn server_delay_is_used_without_drawing_jitter() {
        let h = headers(&[("retry-after", "2")]);
        assert_eq!(
            decide_simple(&response(429, &h), &mut NoJitter),
            Decision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn sixty_second_cap() {
        let h = headers(&[("retry-after", "61")]);
        assert_eq!(
            decide_simple(&response(429, &h), &mut NoJitter),
            Decision::GiveUp {
                retry_after: Some(Duration::from_secs(61))
            }
        );
        let h = headers(&[("retry-after", "60")]);
        assert_eq!(
            decide_simple(&response(429, &h), &mut NoJitter),
            Decision::Retry(Duration::from_secs(60))
        );
        let h = headers(&[("retry-after-ms", "60000.5")]);
        assert_eq!(
            decide_simple(&response(503, &h), &mut NoJitter),
            Decision::GiveUp {
                retry_after: Some(Duration::from_nanos(60_000_500_000))
            }
        );
    }

    // ----- retryability ----------------------------------------------------

    #[test]
    fn status_table() {
        let empty = HeaderMap::new();
        for status in [408, 409, 429, 500, 502, 503, 504, 599] {
            assert!(is_retryable(&response(status, &empty)), "{status}");
        }
        for status in [400, 401, 403, 404, 410, 413, 422] {
            assert!(!is_retryable(&response(status, &empty)), "{status}");
            assert_eq!(
                decide_simple(&response(status, &empty), &mut NoJitter),
                Decision::GiveUp { retry_after: None },
                "{status}"
            );
        }
    }

    #[test]
    fn x_should_retry_overrides_status() {
        let yes = headers(&[("x-should-retry", "true")]);
        assert!(is_retryable(&response(400, &yes)));
        assert_eq!(
            decide_simple(&response(400, &yes), &mut FixedJitter(0.0)),
            Decision::Retry(Duration::from_millis(500))
        );
        let no = headers(&[("x-should-retry", "false")]);
        assert!(!is_retryable(&response(503, &no)));
        assert_eq!(
            decide_simple(&response(503, &no), &mut NoJitter),
            Decision::GiveUp { retry_after: None }
        );
        // Case-insensitive value.
        assert!(is_retryable(&response(
            404,
            &headers(&[("x-should-retry", "TRUE")])
        )));
        assert!(!is_retryable(&response(
            500,
            &headers(&[("x-should-retry", "False")])
        )));
        // Other values are ignored: the status decides.
        let odd = headers(&[("x-should-retry", "maybe")]);
        assert!(is_retryable(&response(503, &odd)));
        assert!(!is_retryable(&response(400, &odd)));
    }

    #[test]
    fn insufficient_quota_is_final() {
        let empty = HeaderMap::new();
        let yes = headers(&[("x-should-retry", "true"), ("retry-after", "1")]);
        let by_code = Outcome::Response {
            status: 429,
            headers: &empty,
            error_code: Some("insufficient_quota"),
            error_type: None,
        };
        let by_type = Outcome::Response {
            status: 429,
            headers: &empty,
            error_code: None,
            error_type: Some("insufficient_quota"),
        };
        let despite_header = Outcome::Response {
            status: 429,
            headers: &yes,
            error_code: Some("insufficient_quota"),
            error_type: Some("insufficient_quota"),
        };
        for outcome in [by_code, by_type] {
            assert!(!is_retryable(&outcome));
            assert_eq!(
                decide_simple(&outcome, &mut NoJitter),
                Decision::GiveUp { retry_after: None }
            );
        }
        assert_eq!(
            decide_simple(&despite_header, &mut NoJitter),
            Decision::GiveUp {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        // An ordinary rate limit is still retried.
        let rate_limited = Outcome::Response {
            status: 429,
            headers: &empty,
            error_code: Some("rate_limit_exceeded"),
            error_type: Some("requests"),
        };
        assert!(is_retryable(&rate_limited));
    }

    #[test]
    fn transport_failures() {
        for (is_timeout, is_connect) in [(true, false), (false, true), (true, true)] {
            let outcome = Outcome::Transport {
                is_timeout,
                is_connect,
            };
            assert!(is_retryable(&outcome));
            assert_eq!(
                decide_simple(&outcome, &mut FixedJitter(0.0)),
                Decision::Retry(Duration::from_millis(500))
            );
        }
        // Neither a timeout nor a connection error: repeating cannot help.
        let other = Outcome::Transport {
            is_timeout: false,
            is_connect: false,
        };
        assert!(!is_retryable(&other));
        assert_eq!(
            decide_simple(&other, &mut NoJitter),
            Decision::GiveUp { retry_after: None }
        );
    }

    // ----- limits ------------------------------------------------------------

    #[test]
    fn max_retries_exhausted() {
        let empty = HeaderMap::new();
        let outcome = response(500, &empty);
        let mut j = FixedJitter(0.0);
        assert_eq!(
            decide(&outcome, 1, 2, None, now(), &mut j),
            Decision::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            decide(&outcome, 2, 2, None, now(), &mut NoJitter),
            Decision::GiveUp { retry_after: None }
        );
        assert_eq!(
            decide(&outcome, 3, 2, None, now(), &mut NoJitter),
            Decision::GiveUp { retry_after: None }
        );
        // Exhaustion still reports the server's delay.
        let h = headers(&[("retry-after", "3")]);
        assert_eq!(
            decide(&response(429, &h), 2, 2, None, now(), &mut NoJitter),
            Decision::GiveUp {
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }

    #[test]
    fn max_retries_zero_never_retries() {
        let empty = HeaderMap::new();
        for outcome in [
            response(503, &empty),
            response(429, &empty),
            Outcome::Transport {
                is_timeout: true,
                is_connect: false,
            },
        ] {
            assert_eq!(
                decide(&outcome, 0, 0, None, now(), &mut NoJitter),
                Decision::GiveUp { retry_after: None }
            );
        }
    }

    #[test]
    fn deadline() {
        let h = headers(&[("retry-after", "2")]);
        let outcome = response(429, &h);
        let fits = Some(Duration::from_millis(2_001));
        let exact = Some(Duration::from_secs(2));
        let short = Some(Duration::from_secs(1));
        assert_eq!(
            decide(&outcome, 0, 2, fits, now(), &mut NoJitter),
            Decision::Retry(Duration::from_secs(2))
        );
        for remaining in [exact, short, Some(Duration::ZERO)] {
            assert_eq!(
                decide(&outcome, 0, 2, remaining, now(), &mut NoJitter),
                Decision::GiveUp {
                    retry_after: Some(Duration::from_secs(2))
                }
            );
        }
        // Backoff against the deadline.
        let empty = HeaderMap::new();
        let outcome = response(503, &empty);
        assert_eq!(
            decide(
                &outcome,
                0,
                2,
                Some(Duration::from_secs(1)),
                now(),
                &mut FixedJitter(0.0)
            ),
            Decision::Retry(Duration::from_millis(500))
        );
        assert_eq!(
            decide(
                &outcome,
                0,
                2,
                Some(Duration::from_millis(400)),
                now(),
                &mut FixedJitter(0.0)
            ),
            Decision::GiveUp { retry_after: None }
        );
    }

    // ----- jitter ------------------------------------------------------------

    #[test]
    fn splitmix64_reference_values() {
        // Published SplitMix64 outputs for seed 1234567.
        let mut j = SeededJitter::new(1_234_567);
        let expected = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for e in expected {
            assert_eq!(j.next_u64(), e);
        }
    }

    fn check_draws(jitter: &mut dyn Jitter) {
        let mut min = f64::MAX;
        let mut max = f64::MIN;
        let mut sum = 0.0;
        let n = 100_000;
        for _ in 0..n {
            let r = jitter.next_f64();
            assert!((0.0..1.0).contains(&r), "{r}");
            min = min.min(r);
            max = max.max(r);
            sum += r;
        }
        assert!(min < 0.001 && max > 0.999, "min {min}, max {max}");
        let mean = sum / f64::from(n);
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn jitter_range_and_spread() {
        for seed in [0, 1, 42, u64::MAX] {
            check_draws(&mut SeededJitter::new(seed));
        }
        check_draws(&mut SeededJitter::from_entropy());
    }

    #[test]
    fn seeded_is_deterministic_and_entropy_varies() {
        let mut a = SeededJitter::new(9);
        let mut b = SeededJitter::new(9);
        for _ in 0..100 {
            assert_eq!(a.next_f64().to_bits(), b.next_f64().to_bits());
        }
        let mut c = SeededJitter::from_entropy();
        let mut d = SeededJitter::from_entropy();
        let from_c: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        let from_d: Vec<u64> = (0..4).map(|_| d.next_u64()).collect();
        assert_ne!(from_c, from_d);
    }

    #[test]
    fn top_of_range_stays_below_one() {
        // All 53 mantissa bits set: the largest value next_f64 can produce.
        let largest = (u64::MAX >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        assert!(largest < 1.0);
    }

    // ----- a retry loop as the client will write it ------------------------

    #[derive(Default)]
    struct RecordingSleeper(Mutex<Vec<Duration>>);
    impl Sleeper for RecordingSleeper {
        fn sleep(&self, d: Duration) {
            self.0.lock().unwrap().push(d);
        }
    }

    /// Calls `attempt` until it succeeds or `decide` gives up.
    fn run_with_retries(
        sleeper: &dyn Sleeper,
        jitter: &mut dyn Jitter,
        max_retries: u32,
        mut attempt: impl FnMut() -> Result<u32, (u16, HeaderMap)>,
    ) -> Result<u32, Decision> {
        let mut retries_taken = 0;
        loop {
            match attempt() {
                Ok(v) => return Ok(v),
                Err((status, headers)) => {
                    let outcome = response(status, &headers);
                    match decide(&outcome, retries_taken, max_retries, None, now(), jitter) {
                        Decision::Retry(d) => {
                            sleeper.sleep(d);
                            retries_taken += 1;
                        }
                        give_up @ Decision::GiveUp { .. } => return Err(give_up),
                    }
                }
            }
        }
    }

    #[test]
    fn retry_loop_with_recording_sleeper() {
        // Always 503: default policy makes 3 attempts and sleeps twice.
        let sleeper = RecordingSleeper::default();
        let mut attempts = 0;
        let result = run_with_retries(&sleeper, &mut FixedJitter(0.0), DEFAULT_MAX_RETRIES, || {
            attempts += 1;
            Err((503, HeaderMap::new()))
        });
        assert_eq!(result, Err(Decision::GiveUp { retry_after: None }));
        assert_eq!(attempts, 3);
        assert_eq!(
            *sleeper.0.lock().unwrap(),
            [Duration::from_millis(500), Duration::from_secs(1)]
        );

        // 429 with retry-after, then success.
        let sleeper = RecordingSleeper::default();
        let mut attempts = 0;
        let result = run_with_retries(&sleeper, &mut NoJitter, DEFAULT_MAX_RETRIES, || {
            attempts += 1;
            if attempts == 1 {
                Err((429, headers(&[("retry-after-ms", "1500")])))
            } else {
                Ok(attempts)
            }
        });
        assert_eq!(result, Ok(2));
        assert_eq!(*sleeper.0.lock().unwrap(), [Duration::from_millis(1_500)]);
    }

    #[test]
    fn thread_sleeper_is_a_sleeper() {
        let sleeper: &dyn Sleeper = &ThreadSleeper;
        sleeper.sleep(Duration::ZERO);
    }
}
