//! Client configuration: where to send requests, with which credentials and limits.
//!
//! One job per file: the [`Config`] struct, its defaults and plain setters (here); reading
//! the environment (`env.rs`); headers, the one header-setting path (`headers.rs`); the
//! Azure OpenAI constructors (`azure.rs`); the TLS and proxy setters (`tls.rs`, over the
//! crate's `tls` module); the redacting `Debug` (`debug.rs`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{ConfigError, ConfigProblem, Error};
use crate::http::HeaderValue;
use crate::observe::{Event, EventHook, LogLevel};
use crate::retry::{self, Backoff, Sleeper};
use crate::tls::{ProxySetting, TlsSettings};
use crate::util::{redact_url, set_pair};

mod azure;
mod debug;
mod env;
mod headers;
mod tls;

pub use crate::cache::CacheMode;
// (servers) request shaping for servers that refuse parts of the official format.
pub use crate::shape::RequestShape;
pub use azure::AZURE_DEFAULT_API_VERSION;
pub(crate) use headers::Headers;

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
/// larger than the limit is an error ([`TransportErrorKind::BodyTooLarge`](crate::error::TransportErrorKind::BodyTooLarge)),
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
    /// The waits between attempts (`retry_backoff`).
    pub(crate) retry_backoff: Backoff,
    /// The rewrites of every request body (`request_shape`).
    pub(crate) request_shape: RequestShape,
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
            retry_backoff: Backoff::DEFAULT,
            request_shape: RequestShape::new(),
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
    /// [`Error::Stream`] of kind
    /// [`TooLarge`](crate::error::StreamErrorKind::TooLarge) (whose partial completion keeps what
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

    /// How long the client waits between attempts when the server names no delay:
    /// `initial` before the first retry, doubling for each later one up to `max`, less up
    /// to 25 % jitter.
    ///
    /// Every wait is in `(0, max]`, jitter included. A delay the server asks for
    /// (`retry-after-ms`, `retry-after`) still wins when it is at most `max`; a longer
    /// one is not waited: the call returns its error at once and
    /// [`Error::retry_after`](crate::Error::retry_after) says how long the server asked
    /// for. Without this setting that bound is 60 s, as in the official SDKs.
    ///
    /// A zero `initial`, or one longer than `max`, is a configuration error
    /// ([`Error::Config`]) reported by every call.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sync_openai::Config;
    ///
    /// // A batch job that may wait: 2 s, 4 s, 8 s, … up to 2 minutes between attempts.
    /// let config = Config::new()
    ///     .api_key("sk-...")
    ///     .max_retries(8)
    ///     .retry_backoff(Duration::from_secs(2), Duration::from_secs(120));
    /// # assert!(config.validate().is_ok());
    /// ```
    ///
    /// Defaults to 0.5 s doubling up to 8 s, and server delays up to 60 s.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Config {
        match Backoff::new(initial, max) {
            Some(backoff) => self.retry_backoff = backoff,
            None => self.note_invalid(ConfigProblem::RetryBackoff { initial, max }),
        }
        self
    }

    /// Rewrites every request body for a server that refuses parts of the official format:
    /// the `developer` role, content arrays, `stream_options`, tool calls without ids. See
    /// [`RequestShape`] for each rewrite and the servers that need it.
    ///
    /// ```
    /// use sync_openai::config::{Config, RequestShape};
    ///
    /// let config = Config::new()
    ///     .base_url("http://127.0.0.1:8080/v1")
    ///     .request_shape(RequestShape::most_compatible());
    /// # drop(config);
    /// ```
    ///
    /// Defaults to [`RequestShape::new()`]: the body as the request serializes to, with
    /// nothing parsed again.
    pub fn request_shape(mut self, shape: RequestShape) -> Config {
        self.request_shape = shape;
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

    /// A query parameter sent with every request, replacing one of the same name.
    /// Defaults to none.
    pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Config {
        set_pair(&mut self.query, key.into(), value.into());
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
    /// [`is_replay`](crate::ApiResponse::is_replay). See [`CacheMode`]
    /// for what happens on a miss, and the [testing guide](crate::guide::testing).
    ///
    /// [`Config::from_env`] reads it from `SYNC_OPENAI_CACHE_DIR`. Defaults to no cache.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::cache::CacheMode;
    /// use sync_openai::ChatApi;
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
    /// [`CacheMode::ReadWrite`]; with `CARGO_NET_OFFLINE=true`
    /// or `DOCS_RS` set, `ReadWrite` acts as `ReadOnly`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// use sync_openai::cache::CacheMode;
    /// use sync_openai::ChatApi;
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

    /// A function called with each [`Event`]: request sent, response
    /// received, attempt failed, retry scheduled, stream ended; to forward them to `log`,
    /// `tracing` or metrics. It runs on the calling thread, in the middle of the call: keep
    /// it quick. Setting it again replaces it. Defaults to none.
    ///
    /// ```
    /// use sync_openai::observe::Event;
    /// use sync_openai::Config;
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

/// Keeps `problem` in `slot` unless a problem is already there: the first invalid setting
/// is the one reported.
pub(crate) fn note_first(slot: &mut Option<ConfigError>, problem: ConfigProblem) {
    if slot.is_none() {
        *slot = Some(ConfigError::new(problem));
    }
}
