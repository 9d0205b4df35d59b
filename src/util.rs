//! Small helpers used by several modules: percent-encoding, header values, bounded text
//! and redaction. Pure functions; nothing here knows about requests or errors.

use serde_json::Value;

use crate::http::{HeaderMap, HeaderValue, StatusCode};

/// A header's value as text, if it is present and visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a body is JSON by its `content-type`: the media type (parameters such as
/// `charset` ignored, case ignored) is `application/json` or ends in `+json`
/// (`application/problem+json`). The one rule of the stream (a JSON answer to a stream
/// request) and the response cache (a body kept decoded).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    header_str(headers, "content-type").is_some_and(|value| {
        let media_type = value.split(';').next().unwrap_or_default().trim();
        media_type.eq_ignore_ascii_case("application/json")
            || media_type.to_ascii_lowercase().ends_with("+json")
    })
}

/// The headers a request id is read from, in this order: OpenAI's and most servers'
/// `x-request-id`; LiteLLM's `x-litellm-call-id`; Azure API Management's `apim-request-id`;
/// Azure's `x-ms-request-id`; Anthropic's `request-id`; AWS's `x-amzn-requestid`.
pub(crate) const REQUEST_ID_HEADERS: [&str; 6] = [
    "x-request-id",
    "x-litellm-call-id",
    "apim-request-id",
    "x-ms-request-id",
    "request-id",
    "x-amzn-requestid",
];

/// The request id of a response: the first non-empty one of [`REQUEST_ID_HEADERS`].
pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    REQUEST_ID_HEADERS
        .iter()
        .filter_map(|name| header_str(headers, name))
        .map(str::trim)
        .find(|id| !id.is_empty())
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

/// Whether a header's value is a secret, by the header's name: the one policy of the log, the
/// events, `curl` export and the response cache.
///
/// Secret: credentials (`authorization`, `proxy-authorization`, `api-key`, `x-api-key`,
/// `x-goog-api-key`), cookies (`cookie`, `set-cookie`), and any name with `auth`, `key`,
/// `secret`, `password`, `credential`, `signature` or `session` in it, or `token` as one of
/// its words (`x-auth-token`, `x-amz-security-token`, `access_token`). Not secret: rate-limit
/// headers (`x-ratelimit-remaining-tokens`, `anthropic-ratelimit-tokens-limit`), which are
/// counts a server reports, and everything else (`x-request-id`, `openai-organization`).
pub(crate) fn is_secret_header(name: &str) -> bool {
    const WORDS: [&str; 8] = [
        "auth",
        "cookie",
        "secret",
        "key",
        "session",
        "password",
        "credential",
        "signature",
    ];
    let name = name.to_ascii_lowercase();
    if name.contains("ratelimit") || name.contains("rate-limit") {
        return false;
    }
    WORDS.iter().any(|w| name.contains(w)) || name.split(['-', '_']).any(|word| word == "token")
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

/// Whether a character must not reach a terminal as it is: C0 and C1 controls (ESC starts
/// the escape sequences that recolour, move the cursor or retitle a terminal; CR and LF
/// forge lines), DEL, and the Unicode bidirectional overrides that reorder what is shown.
fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Server or user text made safe to print: every control character (see above) becomes a
/// space. The one rule for every error's `Display` and snippet.
pub(crate) fn clean_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(is_unsafe_char) {
        s.chars()
            .map(|c| if is_unsafe_char(c) { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

/// [`clean_text`] in place.
pub(crate) fn clean_in_place(s: &mut String) {
    if let std::borrow::Cow::Owned(clean) = clean_text(s) {
        *s = clean;
    }
}

/// Query parameters whose values are credentials, compared without case: Azure's
/// `api-key`, Google's `key`, OAuth's `access_token`/`token`/`refresh_token`/`id_token`/
/// `client_secret`/`code`, SAS and presigned-URL signatures (`sig`, `signature`,
/// `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`,
/// `X-Goog-Signature`, `X-Goog-Credential`), and the generic `api_key`, `apikey`,
/// `secret`, `password`, `auth`, `session`.
pub(crate) const SECRET_QUERY_NAMES: &[&str] = &[
    "api-key",
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "secret",
    "password",
    "auth",
    "session",
];

/// The longest URL shown in an error or a `Debug` (longer ones end in `…`).
pub(crate) const MAX_SHOWN_URL_CHARS: usize = 256;

/// A URL as it may be shown: `user:pass@` becomes `<redacted>@` (the one form for credentials
/// in every URL the crate shows: errors, `Debug`, logs, proxy messages), the value of every query
/// parameter in [`SECRET_QUERY_NAMES`] becomes `<redacted>`, control characters become
/// spaces, and it is cut at [`MAX_SHOWN_URL_CHARS`].
pub(crate) fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len().min(MAX_SHOWN_URL_CHARS));
    let (before_fragment, fragment) = match url.find('#') {
        Some(i) => (url.get(..i).unwrap_or(url), url.get(i..).unwrap_or("")),
        None => (url, ""),
    };
    let (base, query) = match before_fragment.find('?') {
        Some(i) => (
            before_fragment.get(..i).unwrap_or(before_fragment),
            before_fragment.get(i + 1..),
        ),
        None => (before_fragment, None),
    };
    match userinfo_span(base) {
        Some((start, end)) => {
            out.push_str(base.get(..start).unwrap_or(""));
            out.push_str("<redacted>@");
            out.push_str(base.get(end..).unwrap_or(""));
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret_name(name) => {
                    out.push_str(name);
                    out.push_str("=<redacted>");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out.push_str(fragment);
    let shown = truncate_chars(&out, MAX_SHOWN_URL_CHARS);
    clean_text(&shown).into_owned()
}

/// Where the user info of a URL is: the bytes of `user:password@` (its `@` included). The
/// authority is what follows `scheme://` (or the start, without a scheme) up to the next
/// `/`, `?` or `#`; the user info ends at its last `@`.
fn userinfo_span(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(start..)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest.get(..end)?.rfind('@')?;
    Some((start, start + at + 1))
}

/// The URL without its user info (`user:password@`), and whether it had any: for `curl`
/// export, which passes the credentials apart. To show a URL, use [`redact_url`].
pub(crate) fn without_userinfo(url: &str) -> (String, bool) {
    match userinfo_span(url) {
        Some((start, end)) => (
            format!(
                "{}{}",
                url.get(..start).unwrap_or_default(),
                url.get(end..).unwrap_or_default()
            ),
            true,
        ),
        None => (url.to_owned(), false),
    }
}

fn is_secret_name(name: &str) -> bool {
    // A percent-encoded name (`api%2Dkey`) is compared decoded enough for the dash.
    let name = name.replace("%2D", "-").replace("%2d", "-");
    SECRET_QUERY_NAMES
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(&name))
}

/// Every URL (`scheme://…`, up to whitespace, a quote, a backtick or `>`) in a text, as
/// [`redact_url`] shows it.
pub(crate) fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: the letters before `://`.
        let start = rest
            .get(..i)
            .and_then(|head| {
                head.char_indices()
                    .rev()
                    .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                    .last()
                    .map(|(j, _)| j)
            })
            .unwrap_or(i);
        let after = rest.get(i..).unwrap_or("");
        let len = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '>' | '<'))
            .unwrap_or(after.len());
        out.push_str(rest.get(..start).unwrap_or(""));
        out.push_str(&redact_url(rest.get(start..i + len).unwrap_or("")));
        rest = rest.get(i + len..).unwrap_or("");
    }
    out.push_str(rest);
    out
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

/// Sets `key` to `value` in a list of pairs, replacing a pair of the same key: the one rule
/// for merging a query parameter (the client's, a call's options).
pub(crate) fn set_pair(pairs: &mut Vec<(String, String)>, key: String, value: String) {
    pairs.retain(|(k, _)| *k != key);
    pairs.push((key, value));
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

/// The index of the first `\n` or `\r` in `bytes`, `None` when there is none.
///
/// Eight bytes at a time (a word test for either byte), then the exact place in the word
/// that has one: finding line ends is most of what parsing a stream's body costs, and a
/// byte-at-a-time scan is several times slower than `BufRead::read_until`'s `memchr`.
pub(crate) fn line_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Non-zero exactly when some byte of `word` is `byte` (the classic zero-byte test).
    let has = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut from = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
        if has(word, b'\n') | has(word, b'\r') != 0 {
            break;
        }
        from += 8;
    }
    let rest = bytes.get(from..)?;
    rest.iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|at| from + at)
}

/// A map keyed by a choice or tool-call index, kept as a vector sorted by key.
///
/// What a stream holds per index is small (at most `MAX_CHOICES` choices, `MAX_TOOL_CALLS`
/// calls) and iterated in order; a sorted vector does that with a fraction of the code a
/// `BTreeMap` instantiates for each value type, which the crate's build pays for.
#[derive(Clone, PartialEq)]
pub(crate) struct ByIndex<V> {
    entries: Vec<(u32, V)>,
}

impl<V> Default for ByIndex<V> {
    fn default() -> Self {
        ByIndex {
            entries: Vec::new(),
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for ByIndex<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<V> ByIndex<V> {
    fn position(&self, key: u32) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&key, |(k, _)| *k)
    }

    pub(crate) fn get(&self, key: &u32) -> Option<&V> {
        let at = self.position(*key).ok()?;
        self.entries.get(at).map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, key: &u32) -> Option<&mut V> {
        let at = self.position(*key).ok()?;
        self.entries.get_mut(at).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing what it had.
    pub(crate) fn insert(&mut self, key: u32, value: V) {
        match self.position(key) {
            Ok(at) => {
                if let Some(entry) = self.entries.get_mut(at) {
                    entry.1 = value;
                }
            }
            Err(at) => self.entries.insert(at, (key, value)),
        }
    }

    /// The value of `key`, a default one inserted first if it had none (`None` never
    /// happens: the type system cannot see that the position just filled holds it).
    pub(crate) fn entry_or_default(&mut self, key: u32) -> Option<&mut V>
    where
        V: Default,
    {
        let at = match self.position(key) {
            Ok(at) => at,
            Err(at) => {
                self.entries.insert(at, (key, V::default()));
                at
            }
        };
        self.entries.get_mut(at).map(|(_, v)| v)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys, in ascending order.
    #[cfg(any(test, feature = "events"))]
    pub(crate) fn keys(&self) -> impl Iterator<Item = &u32> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The entries, in ascending order of their keys, with the values mutable.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&u32, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The values, in the order of their keys.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<V> IntoIterator for ByIndex<V> {
    type Item = (u32, V);
    type IntoIter = std::vec::IntoIter<(u32, V)>;

    /// The entries, in ascending order of their keys.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::indexing_slicing)] // tests fail by panicking
    fn line_end_finds_the_first_cr_or_lf_wherever_it_is() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'\n' || c == b'\r');
        // Bytes next to LF and CR in value, and with the high bit set, fill the rest.
        let fillers = [b'a', 0x09, 0x0b, 0x0c, 0x0e, 0x8a, 0x8d, 0xff, 0x00];
        for len in 0..40 {
            for filler in fillers {
                let plain = vec![filler; len];
                assert_eq!(line_end(&plain), None, "{len} × {filler:#x}");
                for at in 0..len {
                    for end in [b'\n', b'\r'] {
                        let mut bytes = plain.clone();
                        bytes[at] = end;
                        if at + 3 < len {
                            bytes[at + 3] = b'\n'; // a later one must not win
                        }
                        assert_eq!(line_end(&bytes), naive(&bytes), "{bytes:?}");
                        assert_eq!(line_end(&bytes), Some(at));
                    }
                }
            }
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)] // tests fail by panicking
    fn request_id_falls_back_in_the_documented_order() {
        use crate::http::{HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        assert_eq!(request_id(&headers), None);
        for (i, name) in REQUEST_ID_HEADERS.iter().enumerate().rev() {
            headers.insert(*name, HeaderValue::from_str(&format!("id-{i}")).unwrap());
            assert_eq!(request_id(&headers), Some(format!("id-{i}").as_str()));
        }
        // An empty one is skipped.
        headers.insert("x-request-id", HeaderValue::from_static(" "));
        assert_eq!(request_id(&headers), Some("id-1"));
    }

    #[test]
    #[allow(clippy::unwrap_used)] // tests fail by panicking
    fn json_media_types() {
        let is = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_str(value).unwrap());
            is_json(&headers)
        };
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/json ;charset=utf-8",
            "application/problem+json",
            "application/vnd.api+json",
        ] {
            assert!(is(json), "{json}");
        }
        for other in [
            "text/event-stream",
            "application/jsonl",
            "application/x-ndjson",
            "text/plain; note=json",
        ] {
            assert!(!is(other), "{other}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn secret_headers() {
        for name in [
            "Authorization",
            "Proxy-Authorization",
            "api-key",
            "x-api-key",
            "x-goog-api-key",
            "cf-aig-authorization",
            "cookie",
            "set-cookie",
            "x-session-id",
            "x-auth-token",
            "x-amz-security-token",
            "access_token",
            "token",
            "x-goog-signature",
            "x-client-credential",
        ] {
            assert!(is_secret_header(name), "{name}");
        }
        for name in [
            "x-ratelimit-remaining-tokens",
            "x-ratelimit-limit-tokens",
            "x-ratelimit-reset-requests",
            "anthropic-ratelimit-tokens-remaining",
            "openai-organization",
            "openai-project",
            "openai-processing-ms",
            "x-request-id",
            "content-type",
            "content-length",
            "x-team",
        ] {
            assert!(!is_secret_header(name), "{name}");
        }
    }

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
    fn urls_lose_their_secrets() {
        assert_eq!(
            redact_url("https://user:p%40ss@h.example:8443/v1?api-version=1&api-key=sk1&Sig=abc#f"),
            "https://<redacted>@h.example:8443/v1?api-version=1&api-key=<redacted>&Sig=<redacted>#f"
        );
        assert_eq!(redact_url("http://h/v1"), "http://h/v1");
        // Without a scheme (a proxy given as host:port) the user info is hidden all the same.
        assert_eq!(redact_url("alice:pw@proxy:3128"), "<redacted>@proxy:3128");
        assert_eq!(redact_url("http://h/a@b?k=v"), "http://h/a@b?k=v");
        assert_eq!(
            without_userinfo("https://bob:pw@gw.example/v1?x=1"),
            ("https://gw.example/v1?x=1".to_owned(), true)
        );
        assert_eq!(redact_url("http://h/\u{1b}[2J"), "http://h/ [2J");
        let long = format!("http://h/{}", "a".repeat(1000));
        assert_eq!(redact_url(&long).chars().count(), MAX_SHOWN_URL_CHARS + 1);
        assert_eq!(
            redact_urls("cannot reach `http://u:pw@h/x?token=t1`: refused; see https://docs/?a=1"),
            "cannot reach `http://<redacted>@h/x?token=<redacted>`: refused; see https://docs/?a=1"
        );
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(
            clean_text("a\u{1b}[31mb\r\nc\u{202e}d\u{7f}"),
            "a [31mb  c d "
        );
        assert!(matches!(
            clean_text("plain é"),
            std::borrow::Cow::Borrowed(_)
        ));
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

    #[test]
    fn by_index_keeps_keys_sorted_and_replaces() {
        let mut m = ByIndex::default();
        m.insert(3, "c");
        m.insert(1, "a");
        *m.entry_or_default(2).unwrap() = "b";
        m.insert(3, "C");
        assert_eq!(m.entry_or_default(9), Some(&mut ""));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 9]);
        assert_eq!((m.get(&3), m.get(&4), m.len()), (Some(&"C"), None, 4));
        *m.get_mut(&1).unwrap() = "A";
        assert_eq!(format!("{m:?}"), r#"{1: "A", 2: "b", 3: "C", 9: ""}"#);
        let v: Vec<_> = m.into_iter().collect();
        assert_eq!(v, [(1, "A"), (2, "b"), (3, "C"), (9, "")]);
    }
}
