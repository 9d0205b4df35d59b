//! The crate's one error type and the details each kind of failure carries, one file per
//! kind: `api.rs`, `transport.rs`, `decode.rs`, `stream.rs`, `parse.rs`, `config.rs`; the
//! smaller ones (stopped, invalid request, cache) and [`Error`] itself here.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use crate::retry::{self, Outcome};

mod api;
mod config;
mod decode;
mod parse;
mod stream;
mod transport;

pub use crate::error_body::MAX_ERROR_BODY_BYTES;
pub use api::{ApiError, ApiErrorKind};
pub use config::ConfigError;
pub(crate) use config::{ConfigProblem, NO_TLS};
pub use decode::DecodeError;
pub use parse::ParseError;
pub use stream::{StreamError, StreamErrorKind};
pub use transport::{TransportError, TransportErrorKind};

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
                error_code: e.code(),
                error_type: e.error_type(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HeaderMap;

    #[test]
    fn api_and_stream_errors_share_what_the_server_said() {
        let body = br#"{"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":400}}"#;
        let api = ApiError::new(400, HeaderMap::new(), body);
        let stream = StreamError::from_server_error(body);
        // One way to read it, the same on both: accessors, no `Deref`.
        let api_said = (api.message(), api.error_type(), api.code(), api.param());
        let stream_said = (
            stream.message(),
            stream.error_type(),
            stream.code(),
            stream.param(),
        );
        assert_eq!(api_said, stream_said);
        assert_eq!(
            api_said,
            (
                "bad",
                Some("invalid_request_error"),
                Some("400"),
                Some("messages")
            )
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
