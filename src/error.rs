//! The crate's one error type and the parsing of error bodies.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::http::HeaderMap;

/// The most bytes of an error body kept in [`ApiError::body`] and in snippets.
///
/// Error bodies are meant for people; a proxy that answers with a megabyte of HTML
/// must not make every error that large. 64 KiB keeps any JSON error whole.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How many bytes around a decode failure [`DecodeError::snippet`] shows.
const SNIPPET_RADIUS: usize = 80;

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

    /// The `x-request-id` the server gave the failed request, if known.
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
        match self {
            Error::Api(e) => crate::retry::is_retryable(&crate::retry::Outcome::Response {
                status: e.status,
                headers: &e.headers,
                error_code: e.code.as_deref(),
                error_type: e.error_type.as_deref(),
            }),
            Error::Transport(e) => matches!(
                e.kind(),
                TransportErrorKind::Timeout | TransportErrorKind::Connect | TransportErrorKind::Io
            ),
            Error::Stream(e) => e.kind == StreamErrorKind::Timeout,
            _ => false,
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

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config(ConfigError {
            message: message.into(),
        })
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
/// `message`, `error_type`, `code` and `param` are taken from the body in whatever
/// shape the server used: OpenAI's `{"error": {...}}`, a flat
/// `{"object": "error", "message": ...}` (vLLM), `[{"error": {...}}]`,
/// `{"error": "text"}` (Ollama), `{"detail": ...}` (FastAPI servers), an HTML page
/// from a proxy, or an empty body.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The server's own description of the error (never empty: falls back to the
    /// status's reason phrase).
    pub message: String,
    /// The error's `type` as the body gave it, e.g. `invalid_request_error`.
    pub error_type: Option<String>,
    /// The error's `code` as the body gave it, e.g. `invalid_api_key`; a numeric code
    /// (llama.cpp, vLLM) is kept as its decimal text.
    pub code: Option<String>,
    /// The request parameter the error is about, e.g. `messages`.
    pub param: Option<String>,
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
    /// use sync_openai::{ApiError, ApiErrorKind};
    /// use sync_openai::http::HeaderMap;
    ///
    /// let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
    /// let err = ApiError::new(429, HeaderMap::new(), body);
    /// assert_eq!(err.kind(), ApiErrorKind::InsufficientQuota);
    /// assert_eq!(err.message, "You exceeded your current quota");
    /// ```
    pub fn new(status: u16, headers: HeaderMap, body: &[u8]) -> ApiError {
        let parsed = parse_error_body(body);
        let message = match parsed.message {
            Some(m) if !m.trim().is_empty() => m,
            _ => reason_phrase(status).to_owned(),
        };
        ApiError {
            status,
            message,
            error_type: parsed.error_type,
            code: parsed.code,
            param: parsed.param,
            headers,
            body: bounded_text(body, MAX_ERROR_BODY_BYTES),
            retries: 0,
        }
    }

    /// Azure OpenAI's content-filter details, when the server refused the prompt with its
    /// `content_filter` error (its `innererror` or `inner_error`); `None` for other errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::ApiError;
    /// use sync_openai::http::HeaderMap;
    ///
    /// let body = br#"{"error":{"code":"content_filter","status":400,"message":"filtered",
    ///   "innererror":{"code":"ResponsibleAIPolicyViolation",
    ///     "content_filter_result":{"violence":{"filtered":true,"severity":"medium"}}}}}"#;
    /// let err = ApiError::new(400, HeaderMap::new(), body);
    /// let filter = err.content_filter().unwrap();
    /// assert_eq!(filter.code.as_deref(), Some("ResponsibleAIPolicyViolation"));
    /// assert!(filter.results.unwrap().violence.unwrap().filtered);
    /// ```
    pub fn content_filter(&self) -> Option<crate::types::ContentFilterError> {
        crate::types::ContentFilterError::from_body(&self.body)
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

    /// The `x-request-id` response header, if the server sent one.
    pub fn request_id(&self) -> Option<&str> {
        header_str(&self.headers, "x-request-id")
    }

    /// How long the server asked to wait (`retry-after-ms` or `retry-after`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        crate::retry::server_delay(&self.headers, std::time::SystemTime::now())
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
            .field("message", &self.message)
            .field("error_type", &self.error_type)
            .field("code", &self.code)
            .field("param", &self.param)
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
            self.message
        )?;
        let mut details = Vec::new();
        if let Some(t) = &self.error_type {
            details.push(format!("type {t}"));
        }
        if let Some(c) = &self.code {
            details.push(format!("code {c}"));
        }
        if let Some(p) = &self.param {
            details.push(format!("param {p}"));
        }
        if let Some(id) = self.request_id() {
            details.push(format!("request id {id}"));
        }
        if self.retries > 0 {
            details.push(format!("after {} retries", self.retries));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl StdError for ApiError {}

/// What kind of failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: refused, unreachable, or the host name did not resolve.
    Connect,
    /// A timeout fired: connecting, waiting for the answer, or between stream bytes.
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
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
        TransportError {
            kind,
            message: message.into(),
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
    pub(crate) target: &'static str,
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
        target: &'static str,
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

    /// The serde message of what did not match, e.g. `invalid type: integer, expected a string`.
    pub fn message(&self) -> String {
        // serde_json appends " at line L column C"; line and column have accessors.
        let full = self.source.to_string();
        match full.rfind(" at line ") {
            Some(i) => full.get(..i).unwrap_or(&full).to_owned(),
            None => full,
        }
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
    /// The server sent nothing for longer than `stream_idle_timeout` in the middle of the
    /// answer ([`Error::is_timeout`] is true).
    Timeout,
}

/// The completion a failed stream had received, with a short `Debug` (a partial answer can
/// be long).
#[derive(Clone, PartialEq)]
pub(crate) struct PartialCompletion(pub(crate) Box<crate::types::CreateChatCompletionResponse>);

impl fmt::Debug for PartialCompletion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartialCompletion")
            .field("choices", &self.0.choices.len())
            .finish_non_exhaustive()
    }
}

/// A streamed response went wrong after it started.
#[derive(Debug)]
pub struct StreamError {
    pub(crate) kind: StreamErrorKind,
    pub(crate) message: String,
    pub(crate) error_type: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) param: Option<String>,
    pub(crate) snippet: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    pub(crate) partial: Option<PartialCompletion>,
}

impl StreamError {
    pub(crate) fn new(kind: StreamErrorKind, message: impl Into<String>) -> StreamError {
        StreamError {
            kind,
            message: message.into(),
            error_type: None,
            code: None,
            param: None,
            snippet: None,
            request_id: None,
            source: None,
            partial: None,
        }
    }

    /// An in-band error event, from its JSON data.
    pub(crate) fn from_server_error(data: &[u8]) -> StreamError {
        let parsed = parse_error_body(data);
        let mut e = StreamError::new(
            StreamErrorKind::ServerError,
            parsed
                .message
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| "the server sent an error event".to_owned()),
        );
        e.error_type = parsed.error_type;
        e.code = parsed.code;
        e.param = parsed.param;
        e.snippet = Some(bounded_text(data, 2 * SNIPPET_RADIUS));
        e
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StreamErrorKind {
        self.kind
    }

    /// The description: the server's own message for [`StreamErrorKind::ServerError`].
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The server's error `type`, for [`StreamErrorKind::ServerError`].
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// The server's error `code` (numeric codes as decimal text).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The server's error `param`.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// A bounded piece of the offending data, when there is one.
    pub fn snippet(&self) -> Option<&str> {
        self.snippet.as_deref()
    }

    /// What the stream had delivered before it failed, folded into one completion as
    /// [`collect_completion`](crate::ChatCompletionStream::collect_completion) would have
    /// (choices without a `finish_reason` are the ones cut off).
    ///
    /// Set on the errors of `collect_completion` and `content_deltas` once at least one
    /// chunk had come; `None` on the errors of the plain chunk iterator (whose caller holds
    /// the chunks) and when nothing had come.
    pub fn partial_completion(&self) -> Option<&crate::types::CreateChatCompletionResponse> {
        self.partial.as_ref().map(|p| &*p.0)
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StreamErrorKind::ServerError => write!(
                f,
                "the server sent an error in the stream: {}",
                self.message
            )?,
            _ => f.write_str(&self.message)?,
        }
        let mut details = Vec::new();
        if let Some(t) = &self.error_type {
            details.push(format!("type {t}"));
        }
        if let Some(c) = &self.code {
            details.push(format!("code {c}"));
        }
        if let Some(id) = &self.request_id {
            details.push(format!("request id {id}"));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
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

/// The client configuration is unusable.
#[derive(Debug, Clone)]
pub struct ConfigError {
    message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for ConfigError {}

/// The fields of an error body, in whichever shape the server used.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ParsedError {
    pub(crate) message: Option<String>,
    pub(crate) error_type: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) param: Option<String>,
}

/// Reads `message`, `type`, `code` and `param` out of any error body servers send.
pub(crate) fn parse_error_body(body: &[u8]) -> ParsedError {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => parse_error_value(&v, 0),
        Err(_) => ParsedError {
            message: text_message(body),
            ..ParsedError::default()
        },
    }
}

fn parse_error_value(v: &Value, depth: u8) -> ParsedError {
    // Bounded: `[[[...]]]` or `{"error":{"error":...}}` cannot recurse without end.
    if depth > 4 {
        return ParsedError {
            message: Some(v.to_string()),
            ..ParsedError::default()
        };
    }
    match v {
        Value::Array(items) => match items.first() {
            Some(first) => parse_error_value(first, depth + 1),
            None => ParsedError::default(),
        },
        Value::Object(map) => {
            match map.get("error") {
                Some(inner @ Value::Object(_)) => return parse_error_value(inner, depth + 1),
                Some(Value::String(s)) => {
                    return ParsedError {
                        message: Some(s.clone()),
                        error_type: map.get("type").and_then(scalar_text),
                        code: map.get("code").and_then(scalar_text),
                        param: map.get("param").and_then(scalar_text),
                    };
                }
                _ => {}
            }
            let message = map
                .get("message")
                .or_else(|| map.get("detail"))
                .or_else(|| map.get("msg"))
                .and_then(|m| match m {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                });
            ParsedError {
                message,
                error_type: map.get("type").and_then(scalar_text),
                code: map.get("code").and_then(scalar_text),
                param: map.get("param").and_then(scalar_text),
            }
        }
        Value::String(s) => ParsedError {
            message: Some(s.clone()),
            ..ParsedError::default()
        },
        Value::Null => ParsedError::default(),
        other => ParsedError {
            message: Some(other.to_string()),
            ..ParsedError::default()
        },
    }
}

/// A string, number or bool as text; `null` and containers as nothing / JSON text.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// The message of a body that is not JSON: an HTML page's `<title>`, or the first line of text.
fn text_message(body: &[u8]) -> Option<String> {
    let text = bounded_text(body, MAX_ERROR_BODY_BYTES);
    let lower = text.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>")) {
        if let Some(title) = text.get(start + "<title>".len()..end) {
            let title = title.trim();
            if !title.is_empty() {
                return Some(title.to_owned());
            }
        }
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(truncate_chars(first, 2 * SNIPPET_RADIUS))
}

/// Lossy UTF-8 of the first `max` bytes of `bytes`, never splitting a character, and
/// itself at most `max` bytes long plus a closing `…` when anything was cut (each invalid
/// byte becomes a 3-byte U+FFFD, so the text can outgrow its source).
pub(crate) fn bounded_text(bytes: &[u8], max: usize) -> String {
    let cut = bytes.get(..max).unwrap_or(bytes);
    let mut s = String::from_utf8_lossy(cut).into_owned();
    let mut shortened = cut.len() < bytes.len();
    if shortened && s.ends_with('\u{FFFD}') {
        // A character cut at the boundary shows as U+FFFD at the end; drop it.
        s.pop();
    }
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        shortened = true;
    }
    if shortened {
        s.push('…');
    }
    s
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

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
    String::from_utf8_lossy(piece)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The canonical reason phrase of a status, or "unknown status".
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    crate::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unknown status")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: &str) -> ParsedError {
        parse_error_body(body.as_bytes())
    }

    #[test]
    fn openai_shape() {
        let p = parsed(
            r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        );
        assert_eq!(p.message.as_deref(), Some("Incorrect API key provided"));
        assert_eq!(p.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(p.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(p.param, None);
    }

    #[test]
    fn numeric_code_and_object_message() {
        let p = parsed(
            r#"{"error":{"code":400,"message":{"detail":"x"},"type":"invalid_request_error"}}"#,
        );
        assert_eq!(p.code.as_deref(), Some("400"));
        assert_eq!(p.message.as_deref(), Some(r#"{"detail":"x"}"#));
    }

    #[test]
    fn deeply_nested_error_is_bounded() {
        let body = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let p = parsed(&body);
        assert!(p.message.is_some());
    }

    #[test]
    fn html_title() {
        let p =
            parsed("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>");
        assert_eq!(p.message.as_deref(), Some("502 Bad Gateway"));
    }

    #[test]
    fn bounded_text_cuts_on_char_boundary() {
        let s = bounded_text("ééé".as_bytes(), 3);
        assert_eq!(s, "é…");
    }

    #[test]
    fn bounded_text_stays_bounded_for_invalid_bytes() {
        let s = bounded_text(&[0xFF; 100], 100);
        assert!(s.len() <= 100 + '…'.len_utf8(), "{}", s.len());
        assert!(s.ends_with('…'));
        assert!(s.starts_with('\u{FFFD}'));
    }

    #[test]
    fn snippet_points_at_failure() {
        let body = b"{\n  \"id\": 5,\n  \"x\": true\n}";
        let s = snippet_at(body, 2, 9);
        assert!(s.contains("\"id\": 5"), "{s}");
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
