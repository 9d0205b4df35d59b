//! [`StreamError`]: a streamed response that went wrong after it started.

use std::error::Error as StdError;
use std::fmt;

use crate::error_body::{write_labels, ErrorDetail, SNIPPET_RADIUS};
use crate::util::{bounded_text, clean_in_place, clean_text, redact};

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
    /// answer ([`Error::is_timeout`](crate::Error::is_timeout) is true).
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
