//! [`ParseError`]: a model's answer that the `parse` helpers could not turn into the type asked for.

use std::error::Error as StdError;
use std::fmt;

use crate::error_body::SNIPPET_RADIUS;
use crate::util::truncate_chars;

/// Why a model's answer could not be parsed into the type asked for; see [`Error::Parse`](crate::Error::Parse).
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
