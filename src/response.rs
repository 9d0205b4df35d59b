//! What the calls return: [`ApiResponse`] (a decoded response with its HTTP status and
//! headers), [`RateLimit`] (the rate-limit headers) and [`Pages`] (the items of a
//! paginated list, fetched page by page).

use std::time::Duration;

use crate::http::HeaderMap;
#[cfg(any(feature = "stored", feature = "files"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "stored", feature = "files"))))]
pub use crate::pages::Pages;
use crate::util::{header_str, request_id};

/// A decoded response body with the HTTP status and headers it came with.
///
/// Returned by the `_with_http_info` twin of every operation.
///
/// # Examples
///
/// ```
/// use sync_openai::ApiResponse;
/// use sync_openai::http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-request-id", HeaderValue::from_static("req_123"));
/// headers.insert("x-ratelimit-reset-tokens", HeaderValue::from_static("6m0s"));
/// let resp = ApiResponse::new(200, headers, "data");
/// assert_eq!(resp.request_id(), Some("req_123"));
/// assert_eq!(resp.rate_limit().reset_tokens, Some(std::time::Duration::from_secs(360)));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiResponse<T> {
    /// The HTTP status code (2xx).
    pub status: u16,
    /// Every response header, repeated ones included.
    pub headers: HeaderMap,
    /// The decoded body.
    pub data: T,
    pub(crate) retries: u32,
    pub(crate) replayed: bool,
}

impl<T> ApiResponse<T> {
    /// A response from its parts, for tests and mocks.
    pub fn new(status: u16, headers: HeaderMap, data: T) -> ApiResponse<T> {
        ApiResponse {
            status,
            headers,
            data,
            retries: 0,
            replayed: false,
        }
    }

    /// The id the server gave the request: quote it when asking the provider's support.
    ///
    /// Read from the first of these headers that is present and not empty:
    ///
    /// 1. `x-request-id`: OpenAI and most compatible servers;
    /// 2. `x-litellm-call-id`: the LiteLLM proxy, which sends no `x-request-id`;
    /// 3. `apim-request-id`: Azure API Management, in front of Azure OpenAI;
    /// 4. `x-ms-request-id`: other Azure services;
    /// 5. `request-id`: Anthropic's OpenAI-compatible API;
    /// 6. `x-amzn-requestid`: AWS (Bedrock's OpenAI-compatible endpoint, API Gateway).
    ///
    /// The same order serves [`ChatCompletionStream::request_id`](crate::ChatCompletionStream::request_id),
    /// [`Error::request_id`](crate::Error::request_id) and the `OPENAI_LOG` lines.
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }

    /// How long the server spent on the request, from `openai-processing-ms`.
    pub fn processing_ms(&self) -> Option<u64> {
        header_str(&self.headers, "openai-processing-ms").and_then(parse_number)
    }

    /// The rate-limit headers, parsed; fields the server did not send are `None`.
    pub fn rate_limit(&self) -> RateLimit {
        RateLimit::from_headers(&self.headers)
    }

    /// How many retries the client took before this response.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Whether this answer was replayed from the response cache
    /// ([`Config::cache_dir`](crate::Config::cache_dir)) instead of coming from the server.
    ///
    /// A replay has the recorded status and headers (the request id of the recorded call)
    /// and no retries.
    pub fn is_replay(&self) -> bool {
        self.replayed
    }

    /// The decoded body, dropping status and headers.
    pub fn into_data(self) -> T {
        self.data
    }

    /// Transforms the body, keeping status and headers.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ApiResponse<U> {
        ApiResponse {
            status: self.status,
            headers: self.headers,
            data: f(self.data),
            retries: self.retries,
            replayed: self.replayed,
        }
    }
}

/// Marks a response replayed from the response cache (an `http` extension), so that the
/// [`ApiResponse`] or stream made from it can say so.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replayed;

/// The `x-ratelimit-*` headers OpenAI sends, parsed.
///
/// Reset values such as `6m0s`, `1s` or `20ms` become [`Duration`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// `x-ratelimit-limit-requests`: requests allowed per window.
    pub limit_requests: Option<u64>,
    /// `x-ratelimit-limit-tokens`: tokens allowed per window.
    pub limit_tokens: Option<u64>,
    /// `x-ratelimit-remaining-requests`: requests left in this window.
    pub remaining_requests: Option<u64>,
    /// `x-ratelimit-remaining-tokens`: tokens left in this window.
    pub remaining_tokens: Option<u64>,
    /// `x-ratelimit-reset-requests`: time until the request budget is full again.
    pub reset_requests: Option<Duration>,
    /// `x-ratelimit-reset-tokens`: time until the token budget is full again.
    pub reset_tokens: Option<Duration>,
}

impl RateLimit {
    /// Reads the rate-limit headers out of a header map.
    pub fn from_headers(headers: &HeaderMap) -> RateLimit {
        let number = |name| header_str(headers, name).and_then(parse_number);
        let duration = |name| header_str(headers, name).and_then(parse_go_duration);
        RateLimit {
            limit_requests: number("x-ratelimit-limit-requests"),
            limit_tokens: number("x-ratelimit-limit-tokens"),
            remaining_requests: number("x-ratelimit-remaining-requests"),
            remaining_tokens: number("x-ratelimit-remaining-tokens"),
            reset_requests: duration("x-ratelimit-reset-requests"),
            reset_tokens: duration("x-ratelimit-reset-tokens"),
        }
    }
}

/// An integer header; a float such as `12.0` is accepted and truncated.
fn parse_number(s: &str) -> Option<u64> {
    let s = s.trim();
    s.parse::<u64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        // `as` saturates and maps NaN to 0; negatives are refused.
        (f.is_finite() && f >= 0.0).then_some(f as u64)
    })
}

/// Parses a Go-style duration as OpenAI sends it: `6m0s`, `1s`, `20ms`, `1h2m3.5s`,
/// `0.5s`; a bare number counts as seconds.
pub(crate) fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let value: f64 = num.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = next;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HeaderValue;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_go_duration("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(parse_go_duration("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("17"), Some(Duration::from_secs(17)));
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("5 parsecs"), None);
        assert_eq!(parse_go_duration("-1s"), None);
        assert_eq!(parse_go_duration("1e400s"), None);
    }

    #[test]
    fn rate_limit_from_headers() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-remaining-tokens", "149984"),
            ("x-ratelimit-reset-requests", "6ms"),
            ("x-ratelimit-reset-tokens", "bogus"),
        ] {
            h.insert(name, HeaderValue::from_static(value));
        }
        let rl = RateLimit::from_headers(&h);
        assert_eq!(rl.limit_requests, Some(10000));
        assert_eq!(rl.remaining_tokens, Some(149_984));
        assert_eq!(rl.reset_requests, Some(Duration::from_millis(6)));
        assert_eq!(rl.reset_tokens, None);
        assert_eq!(rl.limit_tokens, None);
    }
}
