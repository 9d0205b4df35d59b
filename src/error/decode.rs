//! [`DecodeError`]: a 2xx body that is not the JSON expected, with a snippet.

use std::error::Error as StdError;
use std::fmt;

use crate::error_body::SNIPPET_RADIUS;
use crate::util::{clean_text, redact};

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
}
