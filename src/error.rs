//! The crate's one error type, [`Error`], and the details each kind of failure carries:
//! what the server said ([`ApiError`], [`ErrorDetail`]), a failed connection
//! ([`TransportError`]), a body that did not decode ([`DecodeError`]), a broken stream
//! ([`StreamError`]), and what is refused before sending.

use std::error::Error as StdError;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, SystemTime};

use crate::error_body::{write_labels, SNIPPET_RADIUS};
pub use crate::error_body::{ErrorDetail, MAX_ERROR_BODY_BYTES};
use crate::http::HeaderMap;
use crate::retry::{self, Outcome};
use crate::util::{
    bounded_text, clean_in_place, clean_text, reason_phrase, redact, redact_url, redact_urls,
    request_id, truncate_chars,
};

/// Everything that can go wrong in a call.
///
/// Each variant carries a struct with the details; `Display` says what happened
/// and, where there is something to do, what to do. Use the classifiers
/// ([`status`](Error::status), [`is_retryable`](Error::is_retryable),
/// [`is_timeout`](Error::is_timeout), [`is_connect`](Error::is_connect)) to decide
/// what to do in code.
///
/// The API key never appears in the `Debug` or `Display` of an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status.
    ///
    /// Boxed to keep `Error` small: a `Result<T, Error>` costs little when it is `Ok`.
    Api(Box<ApiError>),
    /// The request did not get a complete response: connect, DNS, TLS, I/O, timeout,
    /// or a response larger than the configured limit.
    Transport(TransportError),
    /// A 2xx response whose body is not the JSON the operation expects.
    Decode(Box<DecodeError>),
    /// A streamed response went wrong after it started: malformed event data, an error
    /// event from the server, or a connection closed before the answer finished.
    Stream(Box<StreamError>),
    /// The request was refused before anything was sent, because it cannot be right.
    InvalidRequest(InvalidRequestError),
    /// The client configuration is unusable, e.g. no API key for api.openai.com.
    Config(ConfigError),
    /// A successful answer could not be turned into the value asked for: structured output
    /// or tool-call arguments that are not the expected JSON, a refusal, an answer cut off at
    /// the token limit or stopped by the content filter. Returned by the `parse` helpers,
    /// never by the calls themselves.
    Parse(Box<ParseError>),
    /// The response cache ([`Config::cache_dir`](crate::Config::cache_dir)) could not
    /// answer: a miss in read-only mode, or an entry that cannot be read or written.
    Cache(Box<CacheError>),
    /// A request of a bulk run ([`ChatApi::run_many`](crate::ChatApi::run_many)) that got no
    /// answer because the run was cancelled or reached its time limit.
    Stopped(StoppedError),
}

impl Error {
    /// The HTTP status of the response this error came from, if there was one.
    ///
    /// `Some` for [`Error::Api`] and for [`Error::Decode`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            _ => None,
        }
    }

    /// The request id the server gave the failed request, if known (`x-request-id`, or
    /// where gateways put it instead; see
    /// [`ApiResponse::request_id`](crate::ApiResponse::request_id) for the order).
    ///
    /// Quote it when asking the provider's support about a failure.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id(),
            Error::Decode(e) => e.request_id.as_deref(),
            Error::Stream(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether trying the same request again may succeed.
    ///
    /// True for connection failures (refused, reset, closed before the response) and
    /// timeouts, and for the statuses 408, 409, 429 and
    /// 5xx, unless the server said otherwise with `x-should-retry`, or the 429 is
    /// `insufficient_quota` (waiting does not add credit).
    pub fn is_retryable(&self) -> bool {
        self.retry_outcome()
            .is_some_and(|outcome| retry::is_retryable(&outcome))
    }

    /// The failure as the retry policy sees it, for the kinds of error it may retry.
    pub(crate) fn retry_outcome(&self) -> Option<Outcome<'_>> {
        match self {
            Error::Api(e) => Some(Outcome::Response {
                status: e.status,
                headers: &e.headers,
                error_code: e.code.as_deref(),
                error_type: e.error_type.as_deref(),
            }),
            // A connection that broke before the response was complete (a stale pooled
            // connection, a reset, a body cut short) is retried like one that could not
            // be made.
            Error::Transport(e) => Some(Outcome::Transport {
                is_timeout: e.is_timeout(),
                is_connect: matches!(
                    e.kind(),
                    TransportErrorKind::Connect | TransportErrorKind::Io
                ),
            }),
            // A stream that went silent mid-answer: the whole request may be sent again.
            Error::Stream(e) if e.kind == StreamErrorKind::Timeout => Some(Outcome::Transport {
                is_timeout: true,
                is_connect: false,
            }),
            _ => None,
        }
    }

    /// Whether a timeout ended the call, also a stream that went silent mid-answer
    /// ([`StreamErrorKind::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Transport(e) => e.is_timeout(),
            Error::Stream(e) => e.kind == StreamErrorKind::Timeout,
            _ => false,
        }
    }

    /// Whether no connection could be made (refused, unreachable, DNS failure).
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_connect())
    }

    /// How many retries the client took before returning this error.
    pub fn retries(&self) -> u32 {
        match self {
            Error::Api(e) => e.retries,
            Error::Transport(e) => e.retries,
            _ => 0,
        }
    }

    /// How long the server asked to wait before trying again, if it said so.
    ///
    /// Set when a retryable response carried `retry-after-ms` or `retry-after`. When the
    /// server asks for more than the client is willing to wait on its own (60 s), the
    /// error is returned at once and this tells the caller how long to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after(),
            _ => None,
        }
    }

    pub(crate) fn config(problem: ConfigProblem) -> Error {
        Error::Config(ConfigError::new(problem))
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Error {
        Error::InvalidRequest(InvalidRequestError {
            message: message.into(),
        })
    }

    /// Records the number of retries taken on the error kinds that count them.
    pub(crate) fn with_retries(mut self, retries: u32) -> Error {
        match &mut self {
            Error::Api(e) => e.retries = retries,
            Error::Transport(e) => e.retries = retries,
            _ => {}
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
            Error::Stream(e) => e.fmt(f),
            Error::InvalidRequest(e) => e.fmt(f),
            Error::Config(e) => e.fmt(f),
            Error::Parse(e) => e.fmt(f),
            Error::Cache(e) => e.fmt(f),
            Error::Stopped(e) => e.fmt(f),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Transport(e) => e.source(),
            Error::Decode(e) => e.source(),
            Error::Stream(e) => e.source(),
            Error::Parse(e) => e.source(),
            _ => None,
        }
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::Parse(Box::new(e))
    }
}

/// Why a model's answer could not be parsed into the type asked for; see [`Error::Parse`].
///
/// Each variant keeps what the model sent, so nothing is lost: the refusal text, the
/// truncated content, or the JSON that did not decode.
#[derive(Debug)]
#[non_exhaustive]
pub enum ParseError {
    /// The model refused to answer (the message's `refusal`), with its explanation.
    Refusal(String),
    /// The answer stopped at the token limit (`finish_reason: length`), so its JSON is
    /// incomplete. Raise `max_completion_tokens` or shorten the task.
    Truncated {
        /// The partial content.
        content: String,
    },
    /// The content filter stopped the answer (`finish_reason: content_filter`).
    ContentFilter {
        /// Whatever content came before the filter stopped it.
        content: Option<String>,
    },
    /// The response has no choices.
    NoChoices,
    /// The message has no content (it may have called a tool instead).
    NoContent,
    /// The text is not JSON of the expected shape.
    InvalidJson {
        /// What was parsed, e.g. ``arguments of tool `get_weather` (call call_1)``.
        what: String,
        /// The text, whole, as the model sent it.
        json: String,
        /// serde's description, with line and column.
        source: serde_json::Error,
    },
}

impl ParseError {
    /// The text the model sent that failed to parse, refused or was cut off, if any.
    pub fn text(&self) -> Option<&str> {
        match self {
            ParseError::Refusal(text) => Some(text),
            ParseError::Truncated { content } => Some(content),
            ParseError::ContentFilter { content } => content.as_deref(),
            ParseError::InvalidJson { json, .. } => Some(json),
            ParseError::NoChoices | ParseError::NoContent => None,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Refusal(text) => write!(f, "the model refused: {text}"),
            ParseError::Truncated { content } => write!(
                f,
                "the answer was cut off at the token limit (finish_reason `length`) after {} bytes, so it is not complete JSON; raise max_completion_tokens",
                content.len()
            ),
            ParseError::ContentFilter { .. } => f.write_str(
                "the content filter stopped the answer (finish_reason `content_filter`)",
            ),
            ParseError::NoChoices => f.write_str("the response has no choices to parse"),
            ParseError::NoContent => f.write_str(
                "the message has no content to parse (did the model call a tool instead?)",
            ),
            ParseError::InvalidJson { what, json, source } => write!(
                f,
                "{what} is not the expected JSON: {source}; the text was: {}",
                truncate_chars(json, 2 * SNIPPET_RADIUS)
            ),
        }
    }
}

impl StdError for ParseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            ParseError::InvalidJson { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What kind of non-2xx answer an [`ApiError`] is, from its status and error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: the request is malformed or has an invalid parameter.
    BadRequest,
    /// 401: the API key is missing, wrong or revoked.
    Authentication,
    /// 403: the key may not use this model, region or resource.
    PermissionDenied,
    /// 404: no such model, deployment, completion or path.
    NotFound,
    /// 409: a conflict with the resource's current state; retryable.
    Conflict,
    /// 422: the body is well-formed but cannot be processed.
    Unprocessable,
    /// 429: too many requests or tokens per minute; retryable after a wait.
    RateLimit,
    /// 429 with code or type `insufficient_quota`: the account is out of credit.
    InsufficientQuota,
    /// 5xx: the server failed; retryable.
    Server,
    /// Any other status, such as a 3xx redirect the client does not follow, or 408.
    Other,
}

/// A non-2xx answer from the server, with everything it said.
///
/// What the server said — `message`, `error_type`, `code` and `param` — is its
/// [`ErrorDetail`], taken from the body in whatever shape the server used: OpenAI's
/// `{"error": {...}}`, a flat `{"object": "error", "message": ...}` (vLLM),
/// `[{"error": {...}}]`, `{"error": "text"}` (Ollama), `{"detail": ...}` (FastAPI
/// servers), an HTML page from a proxy, or an empty body. `ApiError` derefs to it, so
/// `err.message` and `err.code` read as fields; the message is never empty (it falls
/// back to the status's reason phrase).
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    detail: ErrorDetail,
    /// Every response header, repeated ones included.
    pub headers: HeaderMap,
    /// The raw body as text (lossy UTF-8), at most [`MAX_ERROR_BODY_BYTES`] bytes, ending in
    /// `…` when it was cut.
    pub body: String,
    pub(crate) retries: u32,
}

impl ApiError {
    /// Builds the error for a non-2xx response from its status, headers and body.
    ///
    /// This is what the client does with every non-2xx answer; it is public so that
    /// tests and mocks can build the same errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::error::{ApiError, ApiErrorKind};
    /// use sync_openai::http::HeaderMap;
    ///
    /// let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
    /// let err = ApiError::new(429, HeaderMap::new(), body);
    /// assert_eq!(err.kind(), ApiErrorKind::InsufficientQuota);
    /// assert_eq!(err.message, "You exceeded your current quota");
    /// ```
    pub fn new(status: u16, headers: HeaderMap, body: &[u8]) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail::from_body(body, || reason_phrase(status).to_owned()),
            headers,
            body: bounded_text(body, MAX_ERROR_BODY_BYTES),
            retries: 0,
        }
    }

    /// What the server said: message, type, code and param.
    pub fn detail(&self) -> &ErrorDetail {
        &self.detail
    }

    /// What kind of error this is, from the status and the `insufficient_quota` code.
    pub fn kind(&self) -> ApiErrorKind {
        let quota = |s: &Option<String>| s.as_deref() == Some("insufficient_quota");
        match self.status {
            400 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Authentication,
            403 => ApiErrorKind::PermissionDenied,
            404 => ApiErrorKind::NotFound,
            409 => ApiErrorKind::Conflict,
            422 => ApiErrorKind::Unprocessable,
            429 if quota(&self.code) || quota(&self.error_type) => ApiErrorKind::InsufficientQuota,
            429 => ApiErrorKind::RateLimit,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }

    /// The request id the server gave the failed request, if it sent one: `x-request-id`,
    /// or where gateways put it instead (see
    /// [`ApiResponse::request_id`](crate::ApiResponse::request_id) for the order).
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }

    /// How long the server asked to wait (`retry-after-ms` or `retry-after`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        retry::server_delay(&self.headers, SystemTime::now())
    }

    /// How many retries the client took before giving up with this error.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    fn hint(&self) -> Option<&'static str> {
        Some(match self.kind() {
            ApiErrorKind::Authentication => "check the API key (OPENAI_API_KEY or Config::api_key)",
            ApiErrorKind::PermissionDenied => "check that the key may use this model or resource",
            ApiErrorKind::NotFound => "check the model name, the base URL and the id",
            ApiErrorKind::RateLimit => "slow down or retry after a wait",
            ApiErrorKind::InsufficientQuota => "check the account's plan and billing details",
            ApiErrorKind::Server => "the server failed; retry later",
            _ if (300..400).contains(&self.status) => {
                "redirects are not followed; point base_url at the final address"
            }
            _ => return None,
        })
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("kind", &self.kind())
            .field("message", &self.detail.message)
            .field("error_type", &self.detail.error_type)
            .field("code", &self.detail.code)
            .field("param", &self.detail.param)
            .field("request_id", &self.request_id())
            .field("retries", &self.retries)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server answered {} {}: {}",
            self.status,
            reason_phrase(self.status),
            self.detail.message
        )?;
        let request_id = self.request_id().map(|id| format!("request id {id}"));
        let retries = (self.retries > 0).then(|| format!("after {} retries", self.retries));
        write_labels(f, self.detail.labels().chain(request_id).chain(retries))?;
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl StdError for ApiError {}

/// `err.message`, `err.code` and the other fields of what the server said read as fields
/// of the error, as they always have.
impl Deref for ApiError {
    type Target = ErrorDetail;

    fn deref(&self) -> &ErrorDetail {
        &self.detail
    }
}

impl DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.detail
    }
}

/// What kind of failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: refused, unreachable, or the host name did not resolve.
    Connect,
    /// A timeout fired: connecting, waiting for the answer, or between stream bytes.
    Timeout,
    /// The TLS handshake or certificate check failed: an untrusted, expired or misnamed
    /// server certificate, a client certificate the server requires or rejects, or an
    /// `https://` URL in a build without TLS. The message names the cause and the fix.
    Tls,
    /// The proxy refused to open a tunnel to the server (an HTTP CONNECT proxy answering
    /// other than 200, or a SOCKS proxy refusing the connection).
    Proxy,
    /// The proxy asks for credentials, or refused the ones given (HTTP 407, SOCKS5
    /// authentication): put them in the proxy URL, `http://user:password@host:port`.
    ProxyAuth,
    /// The connection broke or the server spoke broken HTTP.
    Io,
    /// The response body is larger than the configured limit.
    BodyTooLarge,
    /// The URL built from `base_url` is not valid.
    BadUrl,
    /// Anything else the HTTP layer reported.
    Other,
}

/// The request did not get a complete response.
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    retries: u32,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportErrorKind,
        message: impl Into<String>,
        source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        // A source that would show a URL's credentials raw is dropped (the message is
        // redacted where it is written, in transport_error.rs).
        let mut message = message.into();
        clean_in_place(&mut message);
        let source = source.filter(|s| {
            let text = s.to_string();
            redact_urls(&text) == text
        });
        TransportError {
            kind,
            message,
            retries: 0,
            source,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether a timeout ended the call.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("retries", &self.retries)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.retries > 0 {
            write!(f, " (after {} retries)", self.retries)?;
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// A 2xx response whose body is not the JSON the operation expects.
#[derive(Debug)]
pub struct DecodeError {
    pub(crate) status: u16,
    pub(crate) target: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) snippet: String,
    pub(crate) body_len: usize,
    pub(crate) request_id: Option<String>,
    pub(crate) source: serde_json::Error,
}

impl DecodeError {
    pub(crate) fn new(
        source: serde_json::Error,
        body: &[u8],
        status: u16,
        target: String,
        request_id: Option<String>,
    ) -> DecodeError {
        let (line, column) = (source.line(), source.column());
        DecodeError {
            status,
            target,
            line,
            column,
            snippet: snippet_at(body, line, column),
            body_len: body.len(),
            request_id,
            source,
        }
    }

    /// Replaces `secret` (a credential the client sent) in the snippet and in serde's
    /// message, which quotes the value that did not match.
    pub(crate) fn redact(&mut self, secret: &str) {
        redact(&mut self.snippet, secret);
        let mut message = self.message();
        if message.contains(secret) {
            redact(&mut message, secret);
            self.source = <serde_json::Error as serde::de::Error>::custom(message);
        }
    }

    /// The serde message of what did not match, e.g. `invalid type: integer, expected a string`.
    pub fn message(&self) -> String {
        // serde_json appends " at line L column C"; line and column have accessors.
        let full = self.source.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => full.get(..i).unwrap_or(&full).to_owned(),
            None => full,
        };
        clean_text(&message).into_owned()
    }

    /// The 1-based line of the body where decoding failed (0 for an empty body).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column where decoding failed.
    pub fn column(&self) -> usize {
        self.column
    }

    /// Up to 160 bytes of the body around the failure, as text.
    pub fn snippet(&self) -> &str {
        &self.snippet
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.body_len == 0 {
            write!(
                f,
                "the server answered {} with an empty body where a {} was expected",
                self.status, self.target
            )?;
        } else {
            write!(
                f,
                "could not decode the server's {} response as {}: {} at line {} column {}, near `{}`",
                self.status,
                self.target,
                self.message(),
                self.line,
                self.column,
                self.snippet
            )?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        f.write_str("; check that base_url points at an OpenAI-compatible API")
    }
}

impl StdError for DecodeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// What went wrong in a streamed response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamErrorKind {
    /// The server sent an error inside the stream (`data: {"error": ...}`, `event: error`,
    /// a vLLM `{"object": "error"}` line or a bare `error:` line).
    ServerError,
    /// An event's data is not valid JSON, or not a chunk.
    InvalidData,
    /// The connection closed before the answer finished.
    Truncated,
    /// An event is larger than `max_response_bytes`, the stream longer than
    /// `max_stream_bytes`, or it has more distinct choices or tool calls than
    /// [`MAX_CHOICES`](crate::types::MAX_CHOICES) and
    /// [`MAX_TOOL_CALLS`](crate::types::MAX_TOOL_CALLS).
    TooLarge,
    /// The server sent no data for longer than `stream_idle_timeout` in the middle of the
    /// answer, keep-alive comments aside ([`Error::is_timeout`] is true).
    Timeout,
}

/// A streamed response went wrong after it started.
#[derive(Debug)]
pub struct StreamError {
    pub(crate) kind: StreamErrorKind,
    detail: ErrorDetail,
    pub(crate) snippet: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    /// The completion a failed stream had received: a `CreateChatCompletionResponse`, kept
    /// opaque here so that the errors stay below the wire types (`partial_completion` in
    /// `stream.rs` names it). Its `Debug` is short, as a partial answer can be long.
    pub(crate) partial: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl StreamError {
    pub(crate) fn new(kind: StreamErrorKind, message: impl Into<String>) -> StreamError {
        let mut message = message.into();
        clean_in_place(&mut message);
        StreamError {
            kind,
            detail: ErrorDetail::new(message),
            snippet: None,
            request_id: None,
            source: None,
            partial: None,
        }
    }

    /// An in-band error event, from its JSON data.
    pub(crate) fn from_server_error(data: &[u8]) -> StreamError {
        let mut e = StreamError::new(StreamErrorKind::ServerError, "");
        e.detail = ErrorDetail::from_body(data, || "the server sent an error event".to_owned());
        e.snippet = Some(clean_text(&bounded_text(data, 2 * SNIPPET_RADIUS)).into_owned());
        e
    }

    /// Replaces `secret` (a credential the client sent) wherever the server echoed it: the
    /// message, the detail, the snippet; a source whose text has it is dropped.
    pub(crate) fn redact(&mut self, secret: &str) {
        self.detail.redact(secret);
        if let Some(snippet) = &mut self.snippet {
            redact(snippet, secret);
        }
        if secret.len() >= 8
            && self
                .source
                .as_ref()
                .is_some_and(|s| s.to_string().contains(secret))
        {
            self.source = None;
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StreamErrorKind {
        self.kind
    }

    /// The description: the server's own message for [`StreamErrorKind::ServerError`].
    pub fn message(&self) -> &str {
        &self.detail.message
    }

    /// The server's error `type`, for [`StreamErrorKind::ServerError`].
    pub fn error_type(&self) -> Option<&str> {
        self.detail.error_type.as_deref()
    }

    /// The server's error `code` (numeric codes as decimal text).
    pub fn code(&self) -> Option<&str> {
        self.detail.code.as_deref()
    }

    /// The server's error `param`.
    pub fn param(&self) -> Option<&str> {
        self.detail.param.as_deref()
    }

    /// The description and, for [`StreamErrorKind::ServerError`], what the server said:
    /// the same [`ErrorDetail`] an [`ApiError`] has.
    pub fn detail(&self) -> &ErrorDetail {
        &self.detail
    }

    /// A bounded piece of the offending data, when there is one.
    pub fn snippet(&self) -> Option<&str> {
        self.snippet.as_deref()
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StreamErrorKind::ServerError => write!(
                f,
                "the server sent an error in the stream: {}",
                self.detail.message
            )?,
            _ => f.write_str(&self.detail.message)?,
        }
        let request_id = self
            .request_id
            .as_ref()
            .map(|id| format!("request id {id}"));
        write_labels(f, self.detail.labels().chain(request_id))?;
        if let (StreamErrorKind::InvalidData, Some(s)) = (self.kind, &self.snippet) {
            write!(f, ", near `{s}`")?;
        }
        Ok(())
    }
}

impl StdError for StreamError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// Why a request of a bulk run got no answer; see [`Error::Stopped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedError {
    pub(crate) cancelled: bool,
    pub(crate) sent: bool,
}

impl StoppedError {
    /// Whether the run was cancelled (`false`: it reached its time limit).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Whether the request had been sent when the run stopped waiting for it: the server
    /// may have run it, and a rerun may run it twice.
    pub fn was_sent(&self) -> bool {
        self.sent
    }
}

impl fmt::Display for StoppedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.cancelled {
            true => "the run was cancelled",
            false => "the run reached its time limit",
        };
        match self.sent {
            false => write!(f, "not sent: {why}; run the request again"),
            true => write!(
                f,
                "abandoned while running: {why}; the server may have answered it, check before running it again"
            ),
        }
    }
}

impl StdError for StoppedError {}

/// The request was refused before anything was sent.
#[derive(Debug, Clone)]
pub struct InvalidRequestError {
    message: String,
}

impl fmt::Display for InvalidRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for InvalidRequestError {}

/// What went wrong with the response cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheErrorKind {
    /// The cache is read-only and holds no answer for the request; nothing was sent.
    Miss,
    /// An entry exists but is not one this version can replay (bad JSON, missing parts).
    Corrupt,
    /// An entry could not be read or written (permissions, a full disk).
    Io,
}

/// The response cache could not answer; the message names the file and what to do.
///
/// # Examples
///
/// ```
/// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
/// use sync_openai::cache::CacheMode;
/// use sync_openai::error::CacheErrorKind;
/// use sync_openai::{ChatApi, Config, Error};
///
/// let dir = std::env::temp_dir().join(format!("sync-openai-doc-miss-{}", std::process::id()));
/// // No key is needed to replay, and none to be told what is missing.
/// let api = ChatApi::new(Config::new().cache_dir(&dir).cache_mode(CacheMode::ReadOnly));
/// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")]);
/// let Err(Error::Cache(e)) = api.create_chat_completion(&req) else { panic!() };
/// assert_eq!(e.kind(), CacheErrorKind::Miss);
/// assert!(e.to_string().contains(r#"(model "gpt-4o-mini", first message "Hello")"#));
/// assert!(e.path().starts_with(&dir));
/// ```
#[derive(Debug, Clone)]
pub struct CacheError {
    kind: CacheErrorKind,
    message: String,
    path: std::path::PathBuf,
}

impl CacheError {
    pub(crate) fn new(kind: CacheErrorKind, message: String, path: std::path::PathBuf) -> Self {
        CacheError {
            kind,
            message,
            path,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> CacheErrorKind {
        self.kind
    }

    /// The entry file of the request.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CacheError {}

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
    /// A CA bundle or client certificate that cannot be used: where it came from (the
    /// setter, or `VARIABLE=path`), a colon, and why.
    Certificate(String),
    /// Only one of `OPENAI_MTLS_CLIENT_CERT_FILE` and `OPENAI_MTLS_CLIENT_KEY_FILE` is set.
    MtlsHalfSet,
    /// `Config::proxy` with a URL that is not one (its credentials replaced by `***`).
    ProxyUrl(String),
    /// An `https://` base URL in a build without TLS features.
    HttpsWithoutTls(String),
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
            P::Certificate(message) => f.write_str(message),
            P::MtlsHalfSet => f.write_str("only one of OPENAI_MTLS_CLIENT_CERT_FILE and OPENAI_MTLS_CLIENT_KEY_FILE is set: set both (the client certificate and its private key) or neither"),
            P::ProxyUrl(url) => write!(f, "Config::proxy: `{url}` is not a proxy URL: use http://host:port, socks5://host:port or socks4://host:port, with user:password@ before the host if the proxy needs credentials"),
            P::HttpsWithoutTls(url) => write!(f, "base URL {url} is https:// but {NO_TLS}"),
        }
    }
}

impl ConfigError {
    pub(crate) fn new(problem: ConfigProblem) -> ConfigError {
        ConfigError { problem }
    }
}

impl StdError for ConfigError {}

/// The bytes around line `line`, column `column` (1-based, as serde_json counts).
fn snippet_at(body: &[u8], line: usize, column: usize) -> String {
    let mut offset = 0usize;
    for (i, l) in body.split(|&b| b == b'\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len() + 1;
    }
    let offset = offset.min(body.len());
    let start = offset.saturating_sub(SNIPPET_RADIUS);
    let end = offset.saturating_add(SNIPPET_RADIUS).min(body.len());
    let piece = body.get(start..end).unwrap_or_default();
    clean_text(&String::from_utf8_lossy(piece)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_failure() {
        let body = b"{\n  \"id\": 5,\n  \"x\": true\n}";
        let s = snippet_at(body, 2, 9);
        assert!(s.contains("\"id\": 5"), "{s}");
    }

    #[test]
    fn api_and_stream_errors_share_what_the_server_said() {
        let body = br#"{"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":400}}"#;
        let api = ApiError::new(400, HeaderMap::new(), body);
        let stream = StreamError::from_server_error(body);
        assert_eq!(api.detail(), stream.detail());
        assert_eq!(
            (api.message.as_str(), api.code.as_deref()),
            ("bad", Some("400"))
        );
        assert_eq!(
            api.to_string(),
            "server answered 400 Bad Request: bad (type invalid_request_error, code 400, param messages)"
        );
        assert_eq!(
            stream.to_string(),
            "the server sent an error in the stream: bad (type invalid_request_error, code 400, param messages)"
        );
    }

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 48,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
