//! Per-request options: overrides for one call or a group of calls.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::{note_first, Config, Headers};
use crate::error::ConfigError;
use crate::util::set_pair;

/// Overrides for some calls, applied with [`ChatApi::with_options`](crate::ChatApi::with_options).
///
/// Each setter replaces what the client's [`Config`](crate::Config) says of the same name
/// (a header or a query parameter of that name, a body field of that key); what is not set
/// stays as configured. Like `Config`, its `Debug` output never shows
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
    timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    max_retries: Option<u32>,
    retry_backoff: Option<(Duration, Duration)>,
    headers: Headers,
    query: Vec<(String, String)>,
    body: Map<String, Value>,
    invalid: Option<ConfigError>,
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
        self.timeout = Some(timeout);
        self
    }

    /// For streams, the longest silence between reads; see
    /// [`Config::stream_idle_timeout`](crate::Config::stream_idle_timeout).
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error reported by every call. Defaults to the client's.
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> RequestOptions {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// A deadline for a whole call that nothing it does outlives; see
    /// [`Config::total_timeout`](crate::Config::total_timeout).
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error reported by every call. Defaults to the client's.
    pub fn total_timeout(mut self, timeout: Duration) -> RequestOptions {
        self.total_timeout = Some(timeout);
        self
    }

    /// How many times a failed call is retried. Defaults to the client's.
    pub fn max_retries(mut self, max_retries: u32) -> RequestOptions {
        self.max_retries = Some(max_retries);
        self
    }

    /// The waits between attempts, `initial` doubling up to `max`, every one in
    /// `(0, max]`; see [`Config::retry_backoff`](crate::Config::retry_backoff).
    ///
    /// A zero `initial`, or one longer than `max`, is a configuration error reported by
    /// every call. Defaults to the client's.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> RequestOptions {
        self.retry_backoff = Some((initial, max));
        self
    }

    /// A header sent with each call, replacing one of the same name.
    ///
    /// An invalid name or value is not sent: every call then fails with
    /// [`Error::Config`](crate::Error::Config).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> RequestOptions {
        if let Err(problem) = self.headers.set(name.as_ref(), value.as_ref()) {
            note_first(&mut self.invalid, problem);
        }
        self
    }

    /// A query parameter sent with each call (percent-encoded), replacing one of the same
    /// name, the client's included: as [`Config::query_param`](crate::Config::query_param),
    /// so Azure's `api-version` set here is sent once, with this value.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> RequestOptions {
        set_pair(&mut self.query, key.into(), value.into());
        self
    }

    /// A top-level field merged into each JSON request body, replacing a field of the same
    /// name. Calls without a body (get, list, delete) ignore it.
    pub fn body_field(mut self, key: impl Into<String>, value: impl Into<Value>) -> RequestOptions {
        self.body.insert(key.into(), value.into());
        self
    }

    /// `config` with these options folded in, through the same setters a client uses,
    /// with one rule for every setting: what is set here replaces what the client has of the
    /// same name (a timeout, a header, a query parameter, a body field), what is not set
    /// stays, and the first invalid setting is kept.
    pub(crate) fn apply_to(self, mut config: Config) -> Config {
        if let Some(timeout) = self.timeout {
            config = config.timeout(timeout);
        }
        if let Some(timeout) = self.stream_idle_timeout {
            config = config.stream_idle_timeout(timeout);
        }
        if let Some(timeout) = self.total_timeout {
            config = config.total_timeout(timeout);
        }
        if let Some(max_retries) = self.max_retries {
            config = config.max_retries(max_retries);
        }
        if let Some((initial, max)) = self.retry_backoff {
            config = config.retry_backoff(initial, max);
        }
        config.headers.extend(&self.headers);
        for (key, value) in self.query {
            config = config.query_param(key, value);
        }
        config.body_fields.extend(self.body);
        if config.invalid.is_none() {
            config.invalid = self.invalid;
        }
        config
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body_keys: Vec<&str> = self.body.keys().map(String::as_str).collect();
        let query_keys: Vec<&str> = self.query.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("headers", &self.headers.names())
            .field("query", &query_keys)
            .field("body_fields", &body_keys)
            .field("invalid", &self.invalid.as_ref().map(ToString::to_string))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigProblem;

    #[test]
    fn options_fold_into_the_config_through_its_setters() {
        let config = Config::new()
            .header("X-A", "1")
            .query_param("api-version", "v")
            .max_retries(1);
        let folded = RequestOptions::new()
            .header("x-a", "2")
            .header("X-B", "3")
            .query("k", "v2")
            .body_field("top_k", 40)
            .timeout(Duration::from_secs(5))
            .apply_to(config);
        let headers: Vec<(&str, &[u8])> = folded
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        assert_eq!(headers, [("x-a", &b"2"[..]), ("x-b", &b"3"[..])]);
        assert_eq!(
            folded.query,
            [
                ("api-version".to_owned(), "v".to_owned()),
                ("k".to_owned(), "v2".to_owned())
            ]
        );
        assert_eq!(folded.body_fields.get("top_k"), Some(&Value::from(40)));
        assert_eq!(folded.timeout, Duration::from_secs(5));
        assert_eq!(folded.max_retries, 1);
        assert_eq!(folded.invalid, None);
    }

    #[test]
    fn the_first_invalid_setting_is_kept() {
        let bad_config = Config::new().header("X-A", "a\nb");
        let folded = RequestOptions::new()
            .header("bad name", "v")
            .apply_to(bad_config);
        assert_eq!(
            folded.invalid,
            Some(ConfigError::new(ConfigProblem::HeaderValue(
                "X-A".to_owned()
            )))
        );
        let folded = RequestOptions::new()
            .header("bad name", "v")
            .apply_to(Config::new());
        assert_eq!(
            folded.invalid.map(|e| e.to_string()).as_deref(),
            Some("header name \"bad name\" is not a valid HTTP header name")
        );
    }
}
