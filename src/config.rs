//! Client configuration: where to send requests, with which credentials and limits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{ConfigError, ConfigProblem, Error};
use crate::http::{HeaderName, HeaderValue};
use crate::observe::{Event, EventHook, LogLevel};
use crate::retry::{self, Sleeper};
use crate::tls::{ProxySetting, TlsSettings};
use crate::util::{encode_path_segment, redact_url};

/// OpenAI's own API, the default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Per attempt, the longest a non-streaming request may take, from connecting to the last
/// body byte: 10 minutes, as the official SDKs. Reasoning models can think for minutes
/// before they answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest a connection (DNS, TCP and TLS) may take to set up: 10 seconds.
/// A server that cannot be reached is better reported quickly, then retried.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// For streams, the longest wait for the next byte before the stream counts as stalled:
/// 5 minutes, so a healthy slow stream (a reasoning model thinking before its first token,
/// a local model on a CPU) is never cut, while a dead connection does not hang forever.
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The `api-version` [`Config::azure`] sends unless told otherwise: the latest GA version
/// of the Azure OpenAI data-plane API when this crate was released.
pub const AZURE_DEFAULT_API_VERSION: &str = "2024-10-21";

/// How many times a failed request is retried by default (3 attempts in all).
pub const DEFAULT_MAX_RETRIES: u32 = retry::DEFAULT_MAX_RETRIES;

/// How many idle connections a client keeps for one host by default: 32, so that up to
/// 32 threads sharing one client each find a connection to reuse.
///
/// Only connections that were opened are kept: a client used by one thread keeps one.
/// An idle connection is closed after 15 seconds.
pub const DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST: usize = 32;

/// How many idle connections a client keeps in all by default: 64.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 64;

/// The largest response body read into memory by default: 32 MiB.
///
/// A chat completion is a few KB; audio output in base64 can reach a few MB. A body
/// larger than the limit is an error ([`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge)),
/// not an allocation of whatever size the server chose.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// The configuration of a [`ChatApi`](crate::ChatApi): base URL, credentials, headers,
/// timeouts, retries and limits.
///
/// Build it with [`Config::new`] (or [`Config::from_env`]) and the consuming setters,
/// then hand it to [`ChatApi::new`](crate::ChatApi::new). Its `Debug` output never shows
/// the API key nor the values of custom headers.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sync_openai::{ChatApi, Config};
///
/// let api = ChatApi::new(
///     Config::new()
///         .base_url("http://127.0.0.1:11434/v1") // Ollama needs no key
///         .timeout(Duration::from_secs(120))
///         .max_retries(1),
/// );
/// assert!(!format!("{api:?}").contains("sk-"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) api_key: Option<String>,
    pub(crate) base_url: String,
    pub(crate) organization: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) headers: Headers,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) max_response_bytes: u64,
    pub(crate) max_stream_bytes: Option<u64>,
    pub(crate) max_idle_connections: usize,
    pub(crate) max_idle_connections_per_host: usize,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) retry_sleep: Option<RetrySleep>,
    /// Sent as the `api-key` header (Azure OpenAI).
    pub(crate) azure_api_key: Option<String>,
    pub(crate) token_provider: Option<TokenProvider>,
    /// Query parameters sent with every request (Azure's `api-version`, and those of
    /// [`RequestOptions::query`](crate::RequestOptions::query)).
    pub(crate) query: Vec<(String, String)>,
    /// CA certificates and client certificate (mutual TLS).
    pub(crate) tls: TlsSettings,
    /// The proxy: from the environment, none, or a given one.
    pub(crate) proxy: ProxySetting,
    /// Fields merged into every JSON body (from
    /// [`RequestOptions::body_field`](crate::RequestOptions::body_field)).
    pub(crate) body_fields: Map<String, Value>,
    /// The first invalid setting, reported by every call (setters cannot fail).
    pub(crate) invalid: Option<ConfigError>,
    /// Where the response cache keeps its entries; no cache when `None`.
    pub(crate) cache_dir: Option<std::path::PathBuf>,
    /// The cache mode chosen in code, over `SYNC_OPENAI_CACHE_MODE`.
    pub(crate) cache_mode: Option<CacheMode>,
    pub(crate) log_level: LogLevel,
    pub(crate) on_event: Option<EventHook>,
}

/// How a client with a [`Config::cache_dir`] uses its response cache.
///
/// The mode comes from [`Config::cache_mode`], else from `SYNC_OPENAI_CACHE_MODE`
/// (`read-write`, `read-only`, `refresh`), else it is `ReadWrite`. When
/// `CARGO_NET_OFFLINE=true` or `DOCS_RS` is set, `ReadWrite` acts as `ReadOnly`, so an
/// offline build or docs.rs never reaches for the network.
///
/// # Examples
///
/// ```
/// use sync_openai::{CacheMode, Config};
///
/// assert_eq!(CacheMode::parse("read-only"), Some(CacheMode::ReadOnly));
/// assert_eq!(CacheMode::ReadOnly.as_str(), "read-only");
/// let config = Config::new().cache_dir("tests/answers").cache_mode(CacheMode::ReadOnly);
/// # drop(config);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CacheMode {
    /// Replay a recorded answer; on a miss, call the server and record its 2xx answer.
    #[default]
    ReadWrite,
    /// Replay a recorded answer; a miss is an [`Error::Cache`] and nothing is sent.
    ReadOnly,
    /// Always call the server, and overwrite the entry with its 2xx answer.
    Refresh,
}

impl CacheMode {
    /// The mode named as in `SYNC_OPENAI_CACHE_MODE`: `read-write`, `read-only` or
    /// `refresh` (case and `_` for `-` do not matter).
    pub fn parse(name: &str) -> Option<CacheMode> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "read-write" | "readwrite" => Some(CacheMode::ReadWrite),
            "read-only" | "readonly" => Some(CacheMode::ReadOnly),
            "refresh" => Some(CacheMode::Refresh),
            _ => None,
        }
    }

    /// The mode's name: `read-write`, `read-only` or `refresh`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CacheMode::ReadWrite => "read-write",
            CacheMode::ReadOnly => "read-only",
            CacheMode::Refresh => "refresh",
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// A configuration for OpenAI's API with no key and the default limits.
    pub fn new() -> Config {
        Config {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            organization: None,
            project: None,
            headers: Headers::default(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            stream_idle_timeout: DEFAULT_STREAM_IDLE_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_stream_bytes: None,
            max_idle_connections: DEFAULT_MAX_IDLE_CONNECTIONS,
            max_idle_connections_per_host: DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST,
            total_timeout: None,
            retry_sleep: None,
            azure_api_key: None,
            token_provider: None,
            query: Vec::new(),
            tls: TlsSettings::default(),
            proxy: ProxySetting::FromEnv,
            body_fields: Map::new(),
            invalid: None,
            cache_dir: None,
            cache_mode: None,
            log_level: LogLevel::Off,
            on_event: None,
        }
    }

    /// A configuration read from the environment.
    ///
    /// | variable            | setter                        |
    /// |---------------------|-------------------------------|
    /// | `OPENAI_API_KEY`    | [`api_key`](Config::api_key)  |
    /// | `OPENAI_BASE_URL`   | [`base_url`](Config::base_url)|
    /// | `OPENAI_ORG_ID`     | [`organization`](Config::organization) |
    /// | `OPENAI_PROJECT_ID` | [`project`](Config::project)  |
    /// | `SSL_CERT_FILE`     | [`ca_certificates_pem`](Config::ca_certificates_pem) with the file's contents |
    /// | `OPENAI_MTLS_CLIENT_CERT_FILE` and `OPENAI_MTLS_CLIENT_KEY_FILE` | [`client_certificate_pem`](Config::client_certificate_pem) with the files' contents |
    /// | `OPENAI_LOG`        | [`log_level`](Config::log_level): `info` or `debug` (other values are off) |
    /// | `OPENAI_CUSTOM_HEADERS` | [`header`](Config::header), one `Name: value` per line |
    ///
    /// Proxies come from `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` for every
    /// configuration, this one and [`Config::new`] alike; see [`proxy`](Config::proxy).
    ///
    /// Unset and empty variables are ignored; in a build without TLS features the certificate
    /// variables are ignored too (only `http://` can be used). This never fails: a missing
    /// key, or a certificate file that cannot be read or is not PEM, is reported by
    /// [`ChatApi::from_env`](crate::ChatApi::from_env) (or by [`validate`](Config::validate),
    /// or the first call) as [`Error::Config`] naming the variable and the path; so is a
    /// line of `OPENAI_CUSTOM_HEADERS` that is not a `Name: value` header, named by its
    /// number. Headers set with [`header`](Config::header) afterwards replace those of
    /// the same name.
    ///
    /// ```standalone_crate
    /// # // Its own process: the other doctests run as threads of one binary.
    /// # // SAFETY: no other thread of this doctest reads the environment.
    /// # unsafe { std::env::set_var("OPENAI_CUSTOM_HEADERS", "X-Team: search\nX-Trace: on") };
    /// // OPENAI_CUSTOM_HEADERS="X-Team: search
    /// // X-Trace: on"
    /// let config = sync_openai::Config::from_env().header("X-Trace", "off");
    /// assert!(format!("{config:?}").contains(r#"headers: ["x-team", "x-trace"]"#));
    /// # unsafe { std::env::remove_var("OPENAI_CUSTOM_HEADERS") };
    /// ```
    pub fn from_env() -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = Config::new();
        if let Some(key) = var("OPENAI_API_KEY") {
            config = config.api_key(key);
        }
        if let Some(url) = var("OPENAI_BASE_URL") {
            config = config.base_url(url);
        }
        if let Some(org) = var("OPENAI_ORG_ID") {
            config = config.organization(org);
        }
        if let Some(project) = var("OPENAI_PROJECT_ID") {
            config = config.project(project);
        }
        if let Some(dir) = var("SYNC_OPENAI_CACHE_DIR") {
            config = config.cache_dir(dir);
        }
        if crate::tls::ENABLED {
            config = config.tls_from_env(var);
        }
        if let Some(level) = var("OPENAI_LOG") {
            // Like the official SDKs, an unknown value (`warn`, `error`) logs nothing.
            config.log_level = level.parse().unwrap_or(LogLevel::Off);
        }
        if let Some(headers) = var("OPENAI_CUSTOM_HEADERS") {
            config = config.custom_headers(&headers);
        }
        config
    }

    /// Adds the headers of an `OPENAI_CUSTOM_HEADERS` value: one `Name: value` per line,
    /// blank lines skipped; the first malformed line makes the configuration invalid.
    fn custom_headers(mut self, text: &str) -> Config {
        for (i, line) in text.split('\n').enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let number = i + 1;
            let parsed = line.split_once(':').and_then(|(name, value)| {
                let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
                let value = HeaderValue::from_str(value.trim()).ok()?;
                Some((name, value))
            });
            match parsed {
                Some((name, value)) => self.headers.insert(name, value),
                None => {
                    self.note_invalid(ConfigProblem::CustomHeaderLine(number));
                    break;
                }
            }
        }
        self
    }

    /// Keeps 2xx answers in this directory and replays them: a response cache for
    /// tests, build scripts and tools that must work offline.
    ///
    /// Each answer is a JSON file named after the route and a hash of the request
    /// (method, path below the base URL, query, body with its keys sorted; never a
    /// header or a credential), with the request beside the response, meant to be
    /// committed and reviewed. Streams are kept as their event text and replayed through
    /// the same parser. A stream being recorded reaches the caller chunk by chunk as it
    /// arrives, while its bytes are copied aside; the entry is written once the stream
    /// ended whole (`data: [DONE]`, or every choice finished), so a stream that fails, is
    /// cut off, is dropped before its end or is longer than
    /// [`max_response_bytes`](Config::max_response_bytes) leaves no entry, and the next
    /// call asks the server again. No API key, token, `authorization`, `api-key` or cookie header,
    /// nor any value that contains the key, is ever written; error answers are not kept.
    /// A replayed [`ApiResponse`](crate::ApiResponse) says so with
    /// [`is_replay`](crate::ApiResponse::is_replay). See [`CacheMode`](crate::CacheMode)
    /// for what happens on a miss, and the [testing guide](crate::guide::testing).
    ///
    /// [`Config::from_env`] reads it from `SYNC_OPENAI_CACHE_DIR`. Defaults to no cache.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::{CacheMode, ChatApi};
    ///
    /// let dir = std::env::temp_dir().join(format!("sync-openai-doc-rw-{}", std::process::id()));
    /// let server = MockServer::start();
    /// server.reply(Reply::text("Recorded once"));
    /// let api = ChatApi::new(server.config().cache_dir(&dir).cache_mode(CacheMode::ReadWrite));
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")]);
    ///
    /// let first = api.create_chat_completion_with_http_info(&req)?; // a miss: asks the server
    /// let again = api.create_chat_completion_with_http_info(&req)?; // a hit: from the file
    /// assert!(!first.is_replay() && again.is_replay());
    /// assert_eq!(again.data.choices[0].message.content.as_deref(), Some("Recorded once"));
    /// assert_eq!(server.requests().len(), 1);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn cache_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Config {
        self.cache_dir = Some(dir.into());
        self
    }

    /// How the response cache of [`cache_dir`](Config::cache_dir) is used.
    ///
    /// Defaults to `SYNC_OPENAI_CACHE_MODE` when it is set, else
    /// [`CacheMode::ReadWrite`](crate::CacheMode::ReadWrite); with `CARGO_NET_OFFLINE=true`
    /// or `DOCS_RS` set, `ReadWrite` acts as `ReadOnly`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::{CacheMode, ChatApi};
    ///
    /// let dir = std::env::temp_dir().join(format!("sync-openai-doc-modes-{}", std::process::id()));
    /// let server = MockServer::start();
    /// server.reply(Reply::text("first")).reply(Reply::text("second"));
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")]);
    /// let text = |mode| -> Result<String, sync_openai::Error> {
    ///     let api = ChatApi::new(server.config().cache_dir(&dir).cache_mode(mode));
    ///     let answer = api.create_chat_completion(&req)?;
    ///     Ok(answer.choices[0].message.content.as_deref().unwrap_or("").to_owned())
    /// };
    ///
    /// assert_eq!(text(CacheMode::Refresh)?, "first"); // always calls, and records
    /// assert_eq!(text(CacheMode::ReadOnly)?, "first"); // never calls
    /// assert_eq!(text(CacheMode::Refresh)?, "second"); // overwrites
    /// assert_eq!(text(CacheMode::ReadWrite)?, "second"); // a hit
    /// assert_eq!(server.requests().len(), 2);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn cache_mode(mut self, mode: CacheMode) -> Config {
        self.cache_mode = Some(mode);
        self
    }

    /// `SSL_CERT_FILE` and the `OPENAI_MTLS_CLIENT_*_FILE` pair, read as the setters read PEM.
    fn tls_from_env(mut self, var: impl Fn(&str) -> Option<String>) -> Config {
        const CERT: &str = "OPENAI_MTLS_CLIENT_CERT_FILE";
        const KEY: &str = "OPENAI_MTLS_CLIENT_KEY_FILE";
        if let Some(path) = var("SSL_CERT_FILE") {
            let source = || format!("SSL_CERT_FILE={path}");
            let certs = read_pem_file("SSL_CERT_FILE", &path)
                .and_then(|pem| crate::tls::ca_certificates(&pem).map_err(|e| (source(), e)));
            match certs {
                Ok(certs) => self.tls.ca_certificates = Some(certs),
                Err((source, reason)) => {
                    self.note_invalid(ConfigProblem::Certificate(format!("{source}: {reason}")))
                }
            }
        }
        match (var(CERT), var(KEY)) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => self.note_invalid(ConfigProblem::MtlsHalfSet),
            (Some(cert_path), Some(key_path)) => {
                let identity = read_pem_file(CERT, &cert_path).and_then(|cert| {
                    let key = read_pem_file(KEY, &key_path)?;
                    crate::tls::client_identity(&cert, &key).map_err(|(part, reason)| match part {
                        crate::tls::Part::Certificate => (format!("{CERT}={cert_path}"), reason),
                        crate::tls::Part::Key => (format!("{KEY}={key_path}"), reason),
                    })
                });
                match identity {
                    Ok(identity) => self.tls.client_certificate = Some(identity),
                    Err((source, reason)) => {
                        self.note_invalid(ConfigProblem::Certificate(format!("{source}: {reason}")))
                    }
                }
            }
        }
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`.
    ///
    /// Leading and trailing white space (a newline pasted with the key) is removed.
    /// Defaults to none: no `Authorization` header, which local servers (Ollama,
    /// llama.cpp, vLLM) accept; OpenAI's own API requires a key.
    pub fn api_key(mut self, key: impl Into<String>) -> Config {
        let key = key.into();
        let trimmed = key.trim();
        if HeaderValue::from_str(&format!("Bearer {trimmed}")).is_err() {
            self.note_invalid(ConfigProblem::ApiKeyNotHeaderSafe);
        }
        self.api_key = Some(trimmed.to_owned());
        self
    }

    /// The base URL of the API, up to and including the version segment.
    ///
    /// `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` and the same with a
    /// trailing `/` all work alike. Defaults to [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Config {
        let url = url.into();
        let trimmed = url.trim().trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            self.note_invalid(ConfigProblem::BaseUrlScheme(redact_url(trimmed)));
        }
        self.base_url = trimmed.to_owned();
        self
    }

    /// The organization to bill, sent as `OpenAI-Organization`. Defaults to none.
    pub fn organization(mut self, organization: impl Into<String>) -> Config {
        let organization = organization.into();
        self.check_value("OpenAI-Organization", &organization);
        self.organization = Some(organization);
        self
    }

    /// The project to bill, sent as `OpenAI-Project`. Defaults to none.
    pub fn project(mut self, project: impl Into<String>) -> Config {
        let project = project.into();
        self.check_value("OpenAI-Project", &project);
        self.project = Some(project);
        self
    }

    /// A header sent on every request; setting the same name again replaces it.
    ///
    /// An invalid name or value (a CR or LF, say) is not sent: every call then fails
    /// with [`Error::Config`] naming the header. Defaults to no extra headers.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Config {
        if let Err(problem) = self.headers.set(name.as_ref(), value.as_ref()) {
            self.note_invalid(problem);
        }
        self
    }

    /// Per attempt, the longest a non-streaming request may take: from the DNS lookup to
    /// the last byte of the body, an error body included.
    ///
    /// For streams it bounds each step up to the response headers (sending the request,
    /// sending its body, waiting for the headers) and the read of an error body; the
    /// body of a 2xx stream is bounded by
    /// [`stream_idle_timeout`](Config::stream_idle_timeout) instead, so a long answer is
    /// never cut.
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error ([`Error::Config`]) reported by every call.
    /// Defaults to [`DEFAULT_TIMEOUT`] (10 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Config {
        self.check_timeout("timeout", timeout);
        self.timeout = timeout;
        self
    }

    /// The longest the DNS lookup may take, and then the longest the connection setup
    /// (TCP, TLS, a proxy's handshake) may take.
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error ([`Error::Config`]) reported by every call.
    /// Defaults to [`DEFAULT_CONNECT_TIMEOUT`] (10 seconds).
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.check_timeout("connect_timeout", timeout);
        self.connect_timeout = timeout;
        self
    }

    /// For streams, the longest wait between two reads of the body.
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error ([`Error::Config`]) reported by every call.
    /// Defaults to [`DEFAULT_STREAM_IDLE_TIMEOUT`] (5 minutes).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Config {
        self.check_timeout("stream_idle_timeout", timeout);
        self.stream_idle_timeout = timeout;
        self
    }

    /// How many idle connections the client keeps for one host, for the next calls to
    /// reuse. `0` closes every connection after its call.
    ///
    /// A client shared by many threads needs one connection per thread calling at the
    /// same time; fewer idle slots than that means reconnecting (a TLS handshake) on
    /// most calls. Defaults to [`DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST`] (32).
    pub fn max_idle_connections_per_host(mut self, n: usize) -> Config {
        self.max_idle_connections_per_host = n;
        self
    }

    /// How many idle connections the client keeps in all, across hosts.
    /// Defaults to [`DEFAULT_MAX_IDLE_CONNECTIONS`] (64).
    pub fn max_idle_connections(mut self, n: usize) -> Config {
        self.max_idle_connections = n;
        self
    }

    /// How many times a failed request is retried (connection errors, timeouts, 408,
    /// 409, 429, 5xx). `0` turns retries off. Defaults to [`DEFAULT_MAX_RETRIES`] (2).
    pub fn max_retries(mut self, max_retries: u32) -> Config {
        self.max_retries = max_retries;
        self
    }

    /// The largest response body read into memory, and the largest single event of a
    /// stream. Defaults to [`DEFAULT_MAX_RESPONSE_BYTES`] (32 MiB).
    ///
    /// What a body decodes to is bounded by it: a response may have at most
    /// [`MAX_CHOICES`](crate::types::MAX_CHOICES) choices and
    /// [`MAX_TOOL_CALLS`](crate::types::MAX_TOOL_CALLS) tool calls per message (a longer
    /// array is a decode error), so the worst shapes left are long arrays of empty objects:
    /// measured at 40× the body for empty logprob entries and 32× for nested empty arrays in
    /// a vendor key (at most 54×: an 80-byte entry per 3 bytes, in a vector that doubles).
    /// Lower the limit where that matters.
    pub fn max_response_bytes(mut self, limit: u64) -> Config {
        self.max_response_bytes = limit;
        self
    }

    /// The most bytes a whole stream may have; past it the stream ends with an
    /// [`Error::Stream`](crate::Error::Stream) of kind
    /// [`TooLarge`](crate::StreamErrorKind::TooLarge) (whose partial completion keeps what
    /// came). Defaults to none: streams are long, and the stream itself holds only one event
    /// at a time.
    pub fn max_stream_bytes(mut self, limit: u64) -> Config {
        self.max_stream_bytes = Some(limit);
        self
    }

    /// A deadline for a whole call: nothing the call does outlives it.
    ///
    /// It counts from the start of the call across every attempt, the token provider's
    /// calls and the waits between retries. An attempt in flight when it passes is cut
    /// with a timeout error ([`Error::is_timeout`](crate::Error::is_timeout)); a retry
    /// whose wait would end past it is not started (the last error is returned); a
    /// stream's iterator ends with a timeout error when it passes, however much the
    /// server still sends.
    ///
    /// `Duration::MAX` (or any value over 100 years) means no limit; `Duration::ZERO` is
    /// a configuration error ([`Error::Config`]) reported by every call. Defaults to
    /// none: each attempt is bounded by [`timeout`](Config::timeout) and the number of
    /// attempts by [`max_retries`](Config::max_retries).
    pub fn total_timeout(mut self, timeout: Duration) -> Config {
        self.check_timeout("total_timeout", timeout);
        self.total_timeout = Some(timeout);
        self
    }

    /// What the client calls to wait before a retry, with the delay it chose.
    ///
    /// Replace it to log retries, or in tests to retry without waiting:
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use sync_openai::Config;
    ///
    /// let waits = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&waits);
    /// let config = Config::new().retry_sleep(move |delay| seen.lock().unwrap().push(delay));
    /// # drop(config);
    /// ```
    ///
    /// Defaults to [`std::thread::sleep`].
    pub fn retry_sleep(mut self, sleep: impl Fn(Duration) + Send + Sync + 'static) -> Config {
        self.retry_sleep = Some(RetrySleep(Arc::new(sleep)));
        self
    }

    /// A configuration for an Azure OpenAI deployment:
    /// `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`.
    ///
    /// `endpoint` is the resource's address, such as `https://my-resource.openai.azure.com`.
    /// The `api-version` defaults to [`AZURE_DEFAULT_API_VERSION`]; change it with
    /// [`api_version`](Config::api_version). Authenticate with
    /// [`azure_api_key`](Config::azure_api_key), [`bearer_token`](Config::bearer_token) (a
    /// Microsoft Entra ID token) or [`token_provider`](Config::token_provider).
    ///
    /// ```
    /// use sync_openai::{ChatApi, Config};
    ///
    /// let api = ChatApi::new(
    ///     Config::azure("https://my-resource.openai.azure.com", "gpt-4o-prod")
    ///         .api_version("2024-10-21")
    ///         .azure_api_key("..."),
    /// );
    /// # drop(api);
    /// ```
    pub fn azure(endpoint: impl AsRef<str>, deployment: impl AsRef<str>) -> Config {
        let endpoint = endpoint.as_ref().trim().trim_end_matches('/');
        let name = deployment.as_ref().trim();
        let deployment = encode_path_segment(name);
        let mut config = Config::new()
            .base_url(format!("{endpoint}/openai/deployments/{deployment}"))
            .api_version(AZURE_DEFAULT_API_VERSION);
        if matches!(name, "" | "." | "..") {
            config.note_invalid(ConfigProblem::AzureDeployment(name.to_owned()));
        }
        config
    }

    /// A configuration for Azure OpenAI's v1 API: `{endpoint}/openai/v1/chat/completions`,
    /// with the model (deployment) named in each request and no `api-version`.
    pub fn azure_v1(endpoint: impl AsRef<str>) -> Config {
        let endpoint = endpoint.as_ref().trim().trim_end_matches('/');
        Config::new().base_url(format!("{endpoint}/openai/v1"))
    }

    /// A configuration for Azure OpenAI from the environment, like the official SDKs.
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `AZURE_OPENAI_ENDPOINT` | the resource's address (required) |
    /// | `AZURE_OPENAI_DEPLOYMENT` | the deployment; without it the v1 API is used |
    /// | `OPENAI_API_VERSION` | the `api-version` for the deployment API |
    /// | `AZURE_OPENAI_API_KEY` | sent as `api-key` |
    /// | `AZURE_OPENAI_AD_TOKEN` | a Microsoft Entra ID token, sent as `Authorization: Bearer` |
    ///
    /// # Errors
    ///
    /// [`Error::Config`] without `AZURE_OPENAI_ENDPOINT`, or without either credential.
    pub fn azure_from_env() -> Result<Config, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint =
            var("AZURE_OPENAI_ENDPOINT").ok_or(Error::config(ConfigProblem::NoAzureEndpoint))?;
        let mut config = match var("AZURE_OPENAI_DEPLOYMENT") {
            Some(deployment) => {
                let config = Config::azure(&endpoint, deployment);
                match var("OPENAI_API_VERSION") {
                    Some(version) => config.api_version(version),
                    None => config,
                }
            }
            None => Config::azure_v1(&endpoint),
        };
        match (var("AZURE_OPENAI_API_KEY"), var("AZURE_OPENAI_AD_TOKEN")) {
            (Some(key), _) => config = config.azure_api_key(key),
            (None, Some(token)) => config = config.bearer_token(token),
            (None, None) => return Err(Error::config(ConfigProblem::NoAzureCredential)),
        }
        Ok(config)
    }

    /// The `api-version` query parameter sent with every request (Azure OpenAI).
    /// Defaults to none, or [`AZURE_DEFAULT_API_VERSION`] for [`Config::azure`].
    pub fn api_version(self, version: impl Into<String>) -> Config {
        self.query_param("api-version", version)
    }

    /// A query parameter sent with every request, replacing one of the same name.
    /// Defaults to none.
    pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Config {
        let key = key.into();
        self.query.retain(|(k, _)| *k != key);
        self.query.push((key, value.into()));
        self
    }

    /// The Azure OpenAI key, sent as the `api-key` header. Defaults to none.
    pub fn azure_api_key(mut self, key: impl Into<String>) -> Config {
        let key = key.into();
        let trimmed = key.trim();
        if HeaderValue::from_str(trimmed).is_err() {
            self.note_invalid(ConfigProblem::AzureApiKeyNotHeaderSafe);
        }
        self.azure_api_key = Some(trimmed.to_owned());
        self
    }

    /// A static bearer token, such as a Microsoft Entra ID token for Azure OpenAI, sent as
    /// `Authorization: Bearer <token>`. The same as [`api_key`](Config::api_key).
    pub fn bearer_token(self, token: impl Into<String>) -> Config {
        self.api_key(token)
    }

    /// A function that returns a fresh bearer token, called before every attempt (retries
    /// included), so an expiring token (Microsoft Entra ID) is renewed as needed. It
    /// replaces [`api_key`](Config::api_key) for the `Authorization` header.
    ///
    /// An `Err` from it fails the call with [`Error::Config`] carrying its message.
    ///
    /// ```
    /// use sync_openai::Config;
    ///
    /// let config = Config::azure_v1("https://my-resource.openai.azure.com")
    ///     .token_provider(|| std::env::var("MY_TOKEN").map_err(|e| e.to_string()));
    /// # drop(config);
    /// ```
    pub fn token_provider(
        mut self,
        provider: impl Fn() -> Result<String, String> + Send + Sync + 'static,
    ) -> Config {
        self.token_provider = Some(TokenProvider(Arc::new(provider)));
        self
    }

    /// Trust exactly the CA certificates in this PEM bundle (one or many), instead of the
    /// default roots, as curl's `--cacert` does.
    ///
    /// For a server with a private CA (self-hosted vLLM or llama.cpp behind nginx) or a
    /// TLS-inspecting corporate proxy: pass the CA's certificate, `-----BEGIN CERTIFICATE-----`
    /// blocks one after the other. [`Config::from_env`] reads the file named by
    /// `SSL_CERT_FILE` into this setting.
    ///
    /// PEM without a certificate, or one that is not X.509, makes every call fail with
    /// [`Error::Config`] naming this setter, as does a build without TLS features.
    /// Defaults to the roots of the TLS feature in use: Mozilla's for `rustls`, the operating
    /// system's for `native-tls` and `platform-verifier`.
    pub fn ca_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Config {
        match crate::tls::ca_certificates(pem.as_ref()) {
            Ok(certs) => self.tls.ca_certificates = Some(certs),
            Err(reason) => self.note_invalid(ConfigProblem::Certificate(format!(
                "Config::ca_certificates_pem: {reason}"
            ))),
        }
        self
    }

    /// Present this client certificate to servers that ask for one (mutual TLS).
    ///
    /// `cert_chain_pem` holds the client certificate first, then any intermediates;
    /// `private_key_pem` its unencrypted private key (`BEGIN PRIVATE KEY`, `BEGIN RSA
    /// PRIVATE KEY` or `BEGIN EC PRIVATE KEY`; with the `native-tls` feature, PKCS#8
    /// `BEGIN PRIVATE KEY` only). RSA (2048 to 8192 bits), ECDSA P-256/P-384 and Ed25519
    /// keys are accepted (Ed25519 in PKCS#8 v2 with rustls, v1 with native-tls); see the
    /// guide [`guide::tls`](crate::guide::tls). [`Config::from_env`] reads the files named
    /// by `OPENAI_MTLS_CLIENT_CERT_FILE` and `OPENAI_MTLS_CLIENT_KEY_FILE` into this setting.
    ///
    /// Invalid PEM, a key of another kind, or a key that does not belong to the certificate
    /// makes every call fail with [`Error::Config`] naming this setter. The key never
    /// appears in `Debug` output or errors. Defaults to none.
    pub fn client_certificate_pem(
        mut self,
        cert_chain_pem: impl AsRef<[u8]>,
        private_key_pem: impl AsRef<[u8]>,
    ) -> Config {
        match crate::tls::client_identity(cert_chain_pem.as_ref(), private_key_pem.as_ref()) {
            Ok(identity) => self.tls.client_certificate = Some(identity),
            Err((part, reason)) => {
                let argument = match part {
                    crate::tls::Part::Certificate => "cert_chain_pem",
                    crate::tls::Part::Key => "private_key_pem",
                };
                let source = format!("Config::client_certificate_pem ({argument})");
                self.note_invalid(ConfigProblem::Certificate(format!("{source}: {reason}")));
            }
        }
        self
    }

    /// Send every request through this proxy, whatever the environment says.
    ///
    /// `http://host:port` is an HTTP proxy that opens a tunnel with `CONNECT`;
    /// `socks5://host:port` (the client resolves the host name), `socks5h://host:port` (the
    /// proxy resolves it), `socks4://` and `socks4a://` are SOCKS proxies. Credentials go
    /// in the URL, percent-encoded: `http://user:password@host:port`; they never appear in
    /// `Debug` output or errors. `NO_PROXY` does not apply to a proxy set here.
    ///
    /// A URL that is not a proxy URL makes every call fail with [`Error::Config`].
    /// Defaults to the environment, as ureq reads it when the client is made: the first
    /// of `ALL_PROXY`, `all_proxy`, `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`,
    /// `http_proxy` that holds a valid proxy URL is used for every request (`http://` and
    /// `https://` alike), except to the hosts listed in `NO_PROXY` (or `no_proxy`):
    /// comma-separated exact names (`localhost`, `127.0.0.1`), `.example.com` or
    /// `*.example.com` for subdomains, `*` for all.
    ///
    /// ```
    /// use sync_openai::Config;
    ///
    /// let config = Config::new().proxy("http://alice:s3cret@proxy.corp.example:3128");
    /// assert!(!format!("{config:?}").contains("s3cret"));
    /// ```
    pub fn proxy(mut self, url: impl AsRef<str>) -> Config {
        match crate::tls::parse_proxy(url.as_ref()) {
            Ok(proxy) => self.proxy = ProxySetting::Url(proxy),
            Err(shown) => self.note_invalid(ConfigProblem::ProxyUrl(shown)),
        }
        self
    }

    /// Connect directly, ignoring `ALL_PROXY`, `HTTPS_PROXY` and `HTTP_PROXY`.
    /// Defaults to the proxy from the environment; see [`proxy`](Config::proxy).
    pub fn no_proxy(mut self) -> Config {
        self.proxy = ProxySetting::Off;
        self
    }

    /// What the client writes to stderr about each call; see [`LogLevel`].
    ///
    /// `Info` writes one line per attempt and one per finished stream; `Debug` adds the
    /// request and response bodies, bounded and redacted. Neither ever writes the key, a
    /// token or a header value. Also set by `OPENAI_LOG=info|debug` in
    /// [`from_env`](Config::from_env). Defaults to [`LogLevel::Off`].
    ///
    /// ```text
    /// [sync-openai] POST https://api.openai.com/v1/chat/completions -> 429 Too Many Requests request_id=req_1 attempt=1 elapsed_ms=41 retry_in_ms=2000 retry_reason="429 Too Many Requests, wait asked by the server (retry-after)"
    /// [sync-openai] POST https://api.openai.com/v1/chat/completions -> 200 OK request_id=req_2 attempt=2 elapsed_ms=812
    /// ```
    pub fn log_level(mut self, level: LogLevel) -> Config {
        self.log_level = level;
        self
    }

    /// A function called with each [`Event`](crate::Event): request sent, response
    /// received, attempt failed, retry scheduled, stream ended; to forward them to `log`,
    /// `tracing` or metrics. It runs on the calling thread, in the middle of the call: keep
    /// it quick. Setting it again replaces it. Defaults to none.
    ///
    /// ```
    /// use sync_openai::{Config, Event};
    ///
    /// let config = Config::new().on_event(|event| {
    ///     if let Event::ResponseReceived { status, elapsed, .. } = event {
    ///         eprintln!("answered {status} in {elapsed:?}");
    ///     }
    /// });
    /// # drop(config);
    /// ```
    pub fn on_event(mut self, hook: impl Fn(&Event) + Send + Sync + 'static) -> Config {
        self.on_event = Some(EventHook(Arc::new(hook)));
        self
    }

    /// The base URL in use, without a trailing `/`.
    pub fn get_base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether a credential is set: an API key, an Azure `api-key`, or a token provider.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some() || self.azure_api_key.is_some() || self.token_provider.is_some()
    }

    /// Checks the configuration without sending anything.
    ///
    /// Returns the first invalid setting (a header with a newline, say), or a missing
    /// key when the base URL is OpenAI's own.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(error) = &self.invalid {
            return Err(Error::Config(error.clone()));
        }
        if !crate::tls::ENABLED && self.base_url.starts_with("https://") {
            return Err(Error::config(ConfigProblem::HttpsWithoutTls(
                self.base_url.clone(),
            )));
        }
        if !self.has_api_key() && self.base_url == DEFAULT_BASE_URL {
            return Err(Error::config(ConfigProblem::NoApiKey));
        }
        Ok(())
    }

    fn check_value(&mut self, header: &'static str, value: &str) {
        if HeaderValue::from_str(value).is_err() {
            self.note_invalid(ConfigProblem::ValueNotHeaderSafe(header));
        }
    }

    fn check_timeout(&mut self, setter: &'static str, timeout: Duration) {
        if timeout.is_zero() {
            self.note_invalid(ConfigProblem::ZeroTimeout(setter));
        }
    }

    /// Keeps the first problem: it is the one every call reports.
    pub(crate) fn note_invalid(&mut self, problem: ConfigProblem) {
        note_first(&mut self.invalid, problem);
    }
}

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
            .field("invalid", &self.invalid)
            .field("body_fields", &body_keys)
            .field("invalid", &self.invalid.as_ref().map(ToString::to_string))
            .field("log_level", &self.log_level)
            .field("on_event", &self.on_event.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// A user-supplied source of bearer tokens.

#[derive(Clone)]
pub(crate) struct TokenProvider(pub(crate) Arc<dyn Fn() -> Result<String, String> + Send + Sync>);

/// A user-supplied sleep between retries.
#[derive(Clone)]
pub(crate) struct RetrySleep(pub(crate) Arc<dyn Fn(Duration) + Send + Sync>);

impl Sleeper for RetrySleep {
    fn sleep(&self, d: Duration) {
        (self.0)(d)
    }
}

/// Custom headers by name: the one code path of [`Config::header`] and
/// [`RequestOptions::header`](crate::RequestOptions::header), and of merging them.
#[derive(Clone, Default)]
pub(crate) struct Headers(Vec<(HeaderName, HeaderValue)>);

impl Headers {
    /// Sets a header from text, replacing one of the same name; an invalid name or value
    /// sets nothing and is returned.
    pub(crate) fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigProblem> {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConfigProblem::HeaderName(name.to_owned()))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| ConfigProblem::HeaderValue(name.to_owned()))?;
        self.insert(header, value);
        Ok(())
    }

    /// Adds a header, replacing one of the same name.
    pub(crate) fn insert(&mut self, name: HeaderName, value: HeaderValue) {
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value));
    }

    /// Adds every header of `other`, each replacing one of the same name.
    pub(crate) fn extend(&mut self, other: &Headers) {
        for (name, value) in other.iter() {
            self.insert(name.clone(), value.clone());
        }
    }

    /// The headers in the order they were first set.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.0.iter().map(|(n, v)| (n, v))
    }

    /// The names only, for `Debug` output that must not show values.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// How many headers there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// Keeps `problem` in `slot` unless a problem is already there: the first invalid setting
/// is the one reported.
pub(crate) fn note_first(slot: &mut Option<ConfigError>, problem: ConfigProblem) {
    if slot.is_none() {
        *slot = Some(ConfigError::new(problem));
    }
}

/// The contents of the PEM file a variable names; the error is (`VARIABLE=path`, why).
fn read_pem_file(variable: &str, path: &str) -> Result<Vec<u8>, (String, String)> {
    std::fs::read(path).map_err(|e| {
        (
            format!("{variable}={path}"),
            format!("the file cannot be read ({e}): point {variable} at a PEM file, or unset it"),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;

    fn names(config: &Config) -> Vec<(String, String)> {
        config
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn custom_headers_are_name_value_lines() {
        let config = Config::new().custom_headers("X-A: 1\r\n\n  X-B:two words \nx-a: 3\nX-Empty:");
        assert_eq!(config.invalid, None);
        assert_eq!(
            names(&config),
            [
                ("x-b".to_owned(), "two words".to_owned()),
                ("x-a".to_owned(), "3".to_owned()),
                ("x-empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn a_malformed_line_is_named_by_its_number_without_its_value() {
        for (text, line, hidden) in [
            ("X-A: 1\nsk-secret-no-colon", 2, "sk-secret"),
            ("X-A: 1\n\nbad name: hunter2", 3, "hunter2"),
            (": hunter2", 1, "hunter2"),
            ("X-A: bell\u{7}", 1, "bell"),
        ] {
            let config = Config::new().custom_headers(text);
            let error = config.validate().unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("OPENAI_CUSTOM_HEADERS line {line} is not")),
                "{error}"
            );
            assert!(!error.contains(hidden), "{error}");
        }
    }

    #[test]
    fn headers_set_later_replace_custom_ones() {
        let config = Config::new()
            .custom_headers("X-Team: env\nX-Other: env")
            .header("x-team", "code");
        assert_eq!(
            names(&config),
            [
                ("x-other".to_owned(), "env".to_owned()),
                ("x-team".to_owned(), "code".to_owned()),
            ]
        );
    }
}
