//! Small helpers used by several modules: percent-encoding, header values, bounded text
//! and redaction. Pure functions; nothing here knows about requests or errors.

use serde_json::Value;

use crate::http::{HeaderMap, HeaderValue, StatusCode};

/// A header's value as text, if it is present and visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The canonical reason phrase of a status, or "unknown status".
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unknown status")
}

/// `Bearer <token>` as a header value marked sensitive, or `None` if it cannot be one.
pub(crate) fn bearer_value(token: &str) -> Option<HeaderValue> {
    secret_value(&format!("Bearer {token}"))
}

/// A header value marked sensitive (kept out of ureq's logs), or `None` if it cannot be one.
pub(crate) fn secret_value(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
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

pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

/// A string, number or bool as text; `null` and containers as nothing / JSON text.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Replaces every occurrence of the key in a server's text (some proxies echo headers).
pub(crate) fn redact(text: &mut String, key: &str) {
    if key.len() >= 8 && text.contains(key) {
        *text = text.replace(key, "<redacted>");
    }
}

/// Percent-encodes one path segment, so an id with `/`, `?`, `#` or spaces stays one segment.
pub(crate) fn encode_path_segment(segment: &str) -> String {
    percent_encode(segment, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

/// Percent-encodes a query key or value (`application/x-www-form-urlencoded` safe set,
/// with spaces as `%20`).
fn encode_query_component(component: &str) -> String {
    encode_path_segment(component)
}

fn percent_encode(s: &str, keep: impl Fn(u8) -> bool) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `url?k=v&k=v` with every key and value percent-encoded.
pub(crate) fn with_query(mut url: String, pairs: &[(String, String)]) -> String {
    for (k, v) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&encode_query_component(k));
        url.push('=');
        url.push_str(&encode_query_component(v));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_stay_one_segment() {
        assert_eq!(encode_path_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(
            encode_path_segment("chatcmpl-AbC_1.2~"),
            "chatcmpl-AbC_1.2~"
        );
        assert_eq!(encode_path_segment("é"), "%C3%A9");
    }

    #[test]
    fn query_pairs_are_encoded() {
        let url = with_query(
            "http://h/x".to_owned(),
            &[
                ("metadata[k]".to_owned(), "a b&c".to_owned()),
                ("limit".to_owned(), "2".to_owned()),
            ],
        );
        assert_eq!(url, "http://h/x?metadata%5Bk%5D=a%20b%26c&limit=2");
    }

    #[test]
    fn redact_replaces_the_key() {
        let mut s = "bad key sk-secret-1234 given".to_owned();
        redact(&mut s, "sk-secret-1234");
        assert_eq!(s, "bad key <redacted> given");
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
}
