//! The redacting `Debug` of a [`Config`]: no key, token, header value or query value.

use std::fmt;

use crate::util::redact_url;

use super::Config;

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body_keys: Vec<&str> = self.body_fields.keys().map(String::as_str).collect();
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            // `user:pass@` and `?api-key=…` in it are credentials.
            .field("base_url", &redact_url(&self.base_url))
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("headers", &self.headers.names())
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_retries", &self.max_retries)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_stream_bytes", &self.max_stream_bytes)
            .field("max_idle_connections", &self.max_idle_connections)
            .field(
                "max_idle_connections_per_host",
                &self.max_idle_connections_per_host,
            )
            .field("total_timeout", &self.total_timeout)
            .field("retry_sleep", &self.retry_sleep.as_ref().map(|_| "custom"))
            .field("retry_backoff", &self.retry_backoff)
            .field("request_shape", &self.request_shape)
            .field("cache_dir", &self.cache_dir)
            .field("cache_mode", &self.cache_mode)
            .field(
                "azure_api_key",
                &self.azure_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "token_provider",
                &self.token_provider.as_ref().map(|_| "custom"),
            )
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("tls", &self.tls)
            .field("proxy", &self.proxy)
            .field("body_fields", &body_keys)
            .field("invalid", &self.invalid.as_ref().map(ToString::to_string))
            .field("log_level", &self.log_level)
            .field("on_event", &self.on_event.as_ref().map(|_| "custom"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_each_field_once() {
        let config = Config::new().header("X-A", "a\nb");
        let shown = format!("{config:?}");
        assert_eq!(shown.matches("invalid:").count(), 1, "{shown}");
        assert!(
            shown.contains(r#"invalid: Some("the value of header \"X-A\" "#),
            "{shown}"
        );
    }
}
