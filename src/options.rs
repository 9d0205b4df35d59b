//! Per-request options: overrides for one call or a group of calls.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::http::{HeaderName, HeaderValue};

/// Overrides for some calls, applied with [`ChatApi::with_options`](crate::ChatApi::with_options).
///
/// Each setter overrides or adds to what the client's [`Config`](crate::Config) says;
/// what is not set stays as configured. Like `Config`, its `Debug` output never shows
/// header values.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sync_openai::{ChatApi, Config, RequestOptions};
///
/// let api = ChatApi::new(Config::new().base_url("http://127.0.0.1:8000/v1"));
/// let patient = api.with_options(
///     RequestOptions::new()
///         .timeout(Duration::from_secs(1800))
///         .max_retries(5)
///         .header("X-Trace-Id", "abc123")
///         .query("api-version", "2024-10-21")
///         .body_field("top_k", 40),
/// );
/// # drop(patient);
/// ```
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) stream_idle_timeout: Option<Duration>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Map<String, Value>,
    pub(crate) invalid: Option<String>,
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> RequestOptions {
        RequestOptions::default()
    }

    /// Per attempt, the longest a non-streaming request may take, DNS to the last byte;
    /// see [`Config::timeout`](crate::Config::timeout).
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error reported by every call. Defaults to the client's.
    pub fn timeout(mut self, timeout: Duration) -> RequestOptions {
        self.check_timeout("timeout", timeout);
        self.timeout = Some(timeout);
        self
    }

    /// For streams, the longest silence between reads; see
    /// [`Config::stream_idle_timeout`](crate::Config::stream_idle_timeout).
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error reported by every call. Defaults to the client's.
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> RequestOptions {
        self.check_timeout("stream_idle_timeout", timeout);
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// A deadline for a whole call that nothing it does outlives; see
    /// [`Config::total_timeout`](crate::Config::total_timeout).
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error reported by every call. Defaults to the client's.
    pub fn total_timeout(mut self, timeout: Duration) -> RequestOptions {
        self.check_timeout("total_timeout", timeout);
        self.total_timeout = Some(timeout);
        self
    }

    fn check_timeout(&mut self, setter: &str, timeout: Duration) {
        if self.invalid.is_none() {
            self.invalid = crate::config::zero_timeout(setter, timeout);
        }
    }

    /// How many times a failed call is retried. Defaults to the client's.
    pub fn max_retries(mut self, max_retries: u32) -> RequestOptions {
        self.max_retries = Some(max_retries);
        self
    }

    /// A header sent with each call, replacing one of the same name.
    ///
    /// An invalid name or value is not sent: every call then fails with
    /// [`Error::Config`](crate::Error::Config).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> RequestOptions {
        let (name, value) = (name.as_ref(), value.as_ref());
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.retain(|(n, _)| *n != name);
                self.headers.push((name, value));
            }
            (Err(_), _) => self.note_invalid(format!(
                "header name {name:?} is not a valid HTTP header name"
            )),
            (_, Err(_)) => self.note_invalid(format!(
                "the value of header {name:?} contains a byte that cannot go in an HTTP header (a CR, LF or other control character)"
            )),
        }
        self
    }

    /// A query parameter added to each call's URL (percent-encoded), such as Azure's
    /// `api-version`.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> RequestOptions {
        self.query.push((key.into(), value.into()));
        self
    }

    /// A top-level field merged into each JSON request body, replacing a field of the same
    /// name. Calls without a body (get, list, delete) ignore it.
    pub fn body_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> RequestOptions {
        self.body.insert(key.into(), value.into());
        self
    }

    fn note_invalid(&mut self, message: String) {
        if self.invalid.is_none() {
            self.invalid = Some(message);
        }
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        let body_keys: Vec<&str> = self.body.keys().map(String::as_str).collect();
        let query_keys: Vec<&str> = self.query.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_retries", &self.max_retries)
            .field("headers", &header_names)
            .field("query", &query_keys)
            .field("body_fields", &body_keys)
            .field("invalid", &self.invalid)
            .finish()
    }
}
