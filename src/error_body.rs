//! Reading what a server said in an error body, whatever its shape: OpenAI's
//! `{"error": {...}}`, vLLM's flat `{"object": "error", ...}`, `[{"error": ...}]`,
//! Ollama's `{"error": "text"}`, FastAPI's `{"detail": ...}`, an HTML page from a proxy,
//! or nothing at all.

use std::fmt;

use serde_json::Value;

use crate::util::{bounded_text, clean_in_place, clean_text, redact, scalar_text, truncate_chars};

/// The most bytes of an error body kept in [`ApiError::body`](crate::error::ApiError::body) and
/// in snippets.
///
/// Error bodies are meant for people; a proxy that answers with a megabyte of HTML
/// must not make every error that large. 64 KiB keeps any JSON error whole.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// How many bytes around a decode failure
/// [`DecodeError::snippet`](crate::error::DecodeError::snippet) shows.
pub(crate) const SNIPPET_RADIUS: usize = 80;

/// What a server said about a failure: its message, and the `type`, `code` and `param`
/// its error body gave, whatever shape the body had. [`ApiError`](crate::error::ApiError) and
/// [`StreamError`](crate::error::StreamError) each hold one and show it through the same four
/// accessors (`message`, `error_type`, `code`, `param`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorDetail {
    /// The server's own description of the error; never empty (a fallback stands in when
    /// the body had none).
    pub(crate) message: String,
    /// The error's `type` as the body gave it, e.g. `invalid_request_error`.
    pub(crate) error_type: Option<String>,
    /// The error's `code` as the body gave it, e.g. `invalid_api_key`; a numeric code
    /// (llama.cpp, vLLM) is kept as its decimal text.
    pub(crate) code: Option<String>,
    /// The request parameter the error is about, e.g. `messages`.
    pub(crate) param: Option<String>,
}

impl ErrorDetail {
    /// A detail with only a message, as for failures the server did not describe.
    pub(crate) fn new(message: impl Into<String>) -> ErrorDetail {
        ErrorDetail {
            message: message.into(),
            ..ErrorDetail::default()
        }
    }

    /// Reads an error body; `fallback` gives the message when the body has none (or a
    /// blank one).
    pub(crate) fn from_body(body: &[u8], fallback: impl FnOnce() -> String) -> ErrorDetail {
        let parsed = parse_error_body(body);
        let mut detail = ErrorDetail {
            message: parsed.message.unwrap_or_default(),
            error_type: parsed.error_type,
            code: parsed.code,
            param: parsed.param,
        };
        // A server's text may carry terminal escapes or forged lines: control characters
        // become spaces here, once, for every error that shows it.
        detail.for_each_text(clean_in_place);
        if detail.message.trim().is_empty() {
            detail.message = fallback();
        }
        detail
    }

    /// Replaces `secret` (a credential the client sent) wherever the server echoed it.
    pub(crate) fn redact(&mut self, secret: &str) {
        self.for_each_text(|text| redact(text, secret));
    }

    fn for_each_text(&mut self, mut f: impl FnMut(&mut String)) {
        f(&mut self.message);
        for text in [&mut self.error_type, &mut self.code, &mut self.param]
            .into_iter()
            .flatten()
        {
            f(text);
        }
    }

    /// `type …`, `code …` and `param …`, for those that are set: the words every error
    /// that carries a detail shows in its parentheses.
    pub(crate) fn labels(&self) -> impl Iterator<Item = String> + '_ {
        let label = |name: &'static str, value: &Option<String>| {
            value.as_ref().map(|v| format!("{name} {v}"))
        };
        [
            label("type", &self.error_type),
            label("code", &self.code),
            label("param", &self.param),
        ]
        .into_iter()
        .flatten()
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        write_labels(f, self.labels())
    }
}

/// ` (a, b, c)` for the labels there are; nothing when there are none.
pub(crate) fn write_labels(
    f: &mut fmt::Formatter<'_>,
    labels: impl Iterator<Item = String>,
) -> fmt::Result {
    // Every label may hold a server's text (a header's tab included): cleaned like the rest.
    let labels: Vec<String> = labels.map(|l| clean_text(&l).into_owned()).collect();
    if labels.is_empty() {
        return Ok(());
    }
    write!(f, " ({})", labels.join(", "))
}

/// The fields of an error body, in whichever shape the server used.
#[derive(Debug, Default, PartialEq)]
struct ParsedError {
    message: Option<String>,
    error_type: Option<String>,
    code: Option<String>,
    param: Option<String>,
}

/// Reads `message`, `type`, `code` and `param` out of any error body servers send.
fn parse_error_body(body: &[u8]) -> ParsedError {
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
}
