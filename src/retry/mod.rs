//! Retry policy for the blocking client: which failures are retried, and how long to wait.
//!
//! Everything here is pure: no I/O, no sleeping, no clock reads in the decision
//! functions. The caller passes in the current wall-clock time (`now`, used only to
//! resolve `retry-after` HTTP dates), the time left before an overall deadline
//! (`remaining`), and a [`Jitter`] source. The only side-effecting piece is
//! [`SeededJitter::from_entropy`], which reads the clock once to pick a seed; the
//! send loop waits the chosen delay on the configured `Clock` (`clock.rs`).
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

/// [`Backoff::delay`] of the default policy.
#[cfg(test)]
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
#[cfg(test)]
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

#[cfg(test)]
// Tests may panic on broken expectations, and index fixed-size test tables.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests;
