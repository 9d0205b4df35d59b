//! [`ConfigError`]: an unusable configuration, and the typed [`ConfigProblem`] behind it.

use std::error::Error as StdError;
use std::fmt;

use crate::util::redact_url;

/// The client configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problem: ConfigProblem,
}

/// What is wrong with a configuration: one variant per problem, each with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigProblem {
    /// The API key (or bearer token) cannot go in an HTTP header.
    ApiKeyNotHeaderSafe,
    /// The Azure `api-key` cannot go in an HTTP header.
    AzureApiKeyNotHeaderSafe,
    /// The base URL, trimmed, does not start with `http://` or `https://`.
    BaseUrlScheme(String),
    /// The value for this header (`OpenAI-Organization`, `OpenAI-Project`) cannot go in one.
    ValueNotHeaderSafe(&'static str),
    /// A custom header's name is not a valid header name.
    HeaderName(String),
    /// A custom header's value (of the header with this name) cannot go in a header.
    HeaderValue(String),
    /// An Azure deployment name that names no deployment (empty, `.`, `..`).
    AzureDeployment(String),
    /// `Config::azure_from_env` without `AZURE_OPENAI_ENDPOINT`.
    NoAzureEndpoint,
    /// `Config::azure_from_env` without a key or a token.
    NoAzureCredential,
    /// No credential for OpenAI's own API.
    NoApiKey,
    /// The token provider returned this error.
    TokenProviderFailed(String),
    /// The token provider returned a token that cannot go in a header.
    TokenNotHeaderSafe,
    /// This line (1-based) of `OPENAI_CUSTOM_HEADERS` is not a `Name: value` header. The
    /// line itself is not kept: its value may be a secret.
    CustomHeaderLine(usize),
    /// `SYNC_OPENAI_CACHE_MODE` names no cache mode.
    CacheModeName(String),
    /// The test kit's mock server could not start (`MockServer::start`), for this reason.
    #[cfg(feature = "testing")]
    MockServerStart(String),
    /// A timeout setter (named) was given `Duration::ZERO`.
    ZeroTimeout(&'static str),
    /// `retry_backoff(initial, max)` with a zero `initial` or one longer than `max`.
    RetryBackoff {
        /// The first wait asked for.
        initial: std::time::Duration,
        /// The longest wait asked for.
        max: std::time::Duration,
    },
    /// A CA bundle or client certificate that cannot be used: where it came from (the
    /// setter, or `VARIABLE=path`), a colon, and why.
    Certificate(String),
    /// Only one of `OPENAI_MTLS_CLIENT_CERT_FILE` and `OPENAI_MTLS_CLIENT_KEY_FILE` is set.
    MtlsHalfSet,
    /// `Config::proxy` with a URL that is not one (its credentials replaced by `***`).
    ProxyUrl(String),
    /// An `https://` base URL in a build without TLS features.
    HttpsWithoutTls(String),
    /// A SOCKS proxy (shown without credentials; `true` when it comes from the environment)
    /// in a build without the `socks` feature.
    SocksWithoutFeature(String, bool),
}

/// Why an `https://` URL cannot work in a build without TLS.
pub(crate) const NO_TLS: &str = "this build of sync-openai has no TLS: enable one of its features rustls (the default), native-tls or platform-verifier";

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConfigProblem as P;
        const NOT_HEADER_SAFE: &str =
            "contains a byte that cannot go in an HTTP header (a CR, LF or other control character)";
        match &self.problem {
            P::ApiKeyNotHeaderSafe => f.write_str("the API key contains a byte that cannot go in an HTTP header (a control character?)"),
            P::AzureApiKeyNotHeaderSafe => f.write_str("the Azure API key contains a byte that cannot go in an HTTP header (a control character?)"),
            P::BaseUrlScheme(url) => write!(
                f,
                "base URL `{}` must start with http:// or https://",
                redact_url(url)
            ),
            P::ValueNotHeaderSafe(header) => write!(f, "the value for {header} {NOT_HEADER_SAFE}"),
            P::HeaderName(name) => write!(f, "header name {name:?} is not a valid HTTP header name"),
            P::HeaderValue(name) => write!(f, "the value of header {name:?} {NOT_HEADER_SAFE}"),
            P::AzureDeployment(name) => write!(f, "the Azure deployment name {name:?} does not name a deployment: pass the name shown in the Azure portal"),
            P::NoAzureEndpoint => f.write_str("no Azure endpoint: set AZURE_OPENAI_ENDPOINT (https://RESOURCE.openai.azure.com)"),
            P::NoAzureCredential => f.write_str("no Azure credential: set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN"),
            P::NoApiKey => f.write_str("no API key: set OPENAI_API_KEY or call Config::api_key (servers at another base_url may need none)"),
            P::TokenProviderFailed(e) => write!(f, "the token provider failed: {e}"),
            P::TokenNotHeaderSafe => f.write_str("the token provider returned a token with a byte that cannot go in an HTTP header"),
            P::CustomHeaderLine(n) => write!(f, "OPENAI_CUSTOM_HEADERS line {n} is not a `Name: value` header (a valid header name, a colon, a value without control characters)"),
            P::CacheModeName(name) => write!(f, "SYNC_OPENAI_CACHE_MODE is {name:?}: set it to read-write, read-only or refresh"),
            #[cfg(feature = "testing")]
            P::MockServerStart(why) => write!(f, "the mock server could not start: {why}"),
            P::ZeroTimeout(setter) => write!(f, "{setter} is zero, which would fail every call: give a positive duration, or Duration::MAX for no limit"),
            P::RetryBackoff { initial, max } => write!(f, "retry_backoff({initial:?}, {max:?}): the first wait must be above zero and no longer than the longest: give 0 < initial <= max"),
            P::Certificate(message) => f.write_str(message),
            P::MtlsHalfSet => f.write_str("only one of OPENAI_MTLS_CLIENT_CERT_FILE and OPENAI_MTLS_CLIENT_KEY_FILE is set: set both (the client certificate and its private key) or neither"),
            P::ProxyUrl(url) => write!(f, "Config::proxy: `{url}` is not a proxy URL: use http://host:port, socks5://host:port or socks4://host:port, with user:password@ before the host if the proxy needs credentials"),
            P::HttpsWithoutTls(url) => write!(f, "base URL {url} is https:// but {NO_TLS}"),
            P::SocksWithoutFeature(proxy, true) => write!(f, "ALL_PROXY, HTTPS_PROXY or HTTP_PROXY names the SOCKS proxy {proxy}, and this build of sync-openai cannot use SOCKS: enable its feature `socks`, or bypass the proxy for this host with NO_PROXY or Config::no_proxy"),
            P::SocksWithoutFeature(proxy, false) => write!(f, "Config::proxy: {proxy} is a SOCKS proxy, and this build of sync-openai cannot use SOCKS: enable its feature `socks`, or give an http:// proxy"),
        }
    }
}

impl ConfigError {
    pub(crate) fn new(problem: ConfigProblem) -> ConfigError {
        ConfigError { problem }
    }
}

impl StdError for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socks_proxy_without_the_feature_says_what_to_enable_and_where_it_came_from() {
        let proxy = "socks5://127.0.0.1:1080 (credentials redacted)".to_owned();
        let from_env = ConfigError::new(ConfigProblem::SocksWithoutFeature(proxy.clone(), true));
        let shown = from_env.to_string();
        assert!(shown.starts_with("ALL_PROXY, HTTPS_PROXY or HTTP_PROXY names the SOCKS proxy socks5://127.0.0.1:1080 (credentials redacted)"), "{shown}");
        assert!(
            shown.contains("enable its feature `socks`") && shown.contains("NO_PROXY"),
            "{shown}"
        );
        let set = ConfigError::new(ConfigProblem::SocksWithoutFeature(proxy, false)).to_string();
        assert!(set.starts_with("Config::proxy: socks5://"), "{set}");
        assert!(set.contains("enable its feature `socks`"), "{set}");
    }
}
