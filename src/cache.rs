//! The response cache: record 2xx answers as reviewable JSON files, replay them later.
//!
//! The send loop asks `Cache::slot` for the entry of each call before it sends
//! anything: `Slot::replay` answers a hit from the file (or refuses a miss in
//! read-only mode), and `Slot::record` (in `record.rs`, above the stream it needs) writes
//! a 2xx answer after it arrived. This module is the cache's modes, keys and entry files;
//! it knows nothing of clients or streams.
//!
//! The key is FNV-1a (64 bits, a stable hash written out here: `DefaultHasher` may change
//! between Rust releases) of the method, the path below the base URL, the query and the
//! body as canonical JSON (object keys sorted, no white space). No header and no
//! credential is part of the key, so another key, machine or base URL replays the same
//! entry. An entry holds the request beside the response; a hit must match the request,
//! not only the hash.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::{CacheError, CacheErrorKind, ConfigProblem, Error};
use crate::http::{self, HeaderMap, HeaderName, HeaderValue};
use crate::response::Replayed;
use crate::util::{is_secret_header, redact, scalar_text, truncate_chars};

/// How a client with a [`Config::cache_dir`](crate::Config::cache_dir) uses its response cache.
///
/// The mode comes from [`Config::cache_mode`](crate::Config::cache_mode), else from `SYNC_OPENAI_CACHE_MODE`
/// (`read-write`, `read-only`, `refresh`), else it is `ReadWrite`. When
/// `CARGO_NET_OFFLINE=true` or `DOCS_RS` is set, `ReadWrite` acts as `ReadOnly`, so an
/// offline build or docs.rs never reaches for the network.
///
/// # Examples
///
/// ```
/// use sync_openai::cache::CacheMode;
/// use sync_openai::Config;
///
/// assert_eq!(CacheMode::parse("read-only"), Some(CacheMode::ReadOnly));
/// assert_eq!(CacheMode::ReadOnly.as_str(), "read-only");
/// let config = Config::new().cache_dir("tests/answers").cache_mode(CacheMode::ReadOnly);
/// # drop(config);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CacheMode {
    /// Replay a recorded answer; on a miss, call the server and record its 2xx answer.
    #[default]
    ReadWrite,
    /// Replay a recorded answer; a miss is an [`Error::Cache`] and nothing is sent.
    ReadOnly,
    /// Always call the server, and overwrite the entry with its 2xx answer.
    Refresh,
}

impl CacheMode {
    /// The mode named as in `SYNC_OPENAI_CACHE_MODE`: `read-write`, `read-only` or
    /// `refresh` (case and `_` for `-` do not matter).
    pub fn parse(name: &str) -> Option<CacheMode> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "read-write" | "readwrite" => Some(CacheMode::ReadWrite),
            "read-only" | "readonly" => Some(CacheMode::ReadOnly),
            "refresh" => Some(CacheMode::Refresh),
            _ => None,
        }
    }

    /// The mode's name: `read-write`, `read-only` or `refresh`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CacheMode::ReadWrite => "read-write",
            CacheMode::ReadOnly => "read-only",
            CacheMode::Refresh => "refresh",
        }
    }
}

/// The `format` of an entry file; another value is an entry this version cannot read.
const FORMAT: u64 = 1;

/// The cache of one client: its directory, and its mode with the reason for it.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
    mode: CacheMode,
    /// Why the mode is what it is, for the message of a read-only miss.
    why: &'static str,
}

impl Cache {
    /// The cache of a client with this directory and the mode chosen in code
    /// ([`Config::cache_mode`](crate::Config::cache_mode)(crate::Config::cache_mode)), `None` without a directory, or
    /// why the environment's mode is unusable.
    pub(crate) fn new(
        dir: Option<&Path>,
        chosen: Option<CacheMode>,
    ) -> Result<Option<Cache>, ConfigProblem> {
        let Some(dir) = dir else {
            return Ok(None);
        };
        let env = |name: &str| std::env::var(name).ok();
        let offline = env("CARGO_NET_OFFLINE").is_some_and(|v| v.trim() == "true")
            || env("DOCS_RS").is_some();
        let (mode, why) = match (chosen, env("SYNC_OPENAI_CACHE_MODE")) {
            (Some(mode), _) => (mode, "Config::cache_mode"),
            (None, Some(name)) if !name.trim().is_empty() => match CacheMode::parse(&name) {
                Some(mode) => (mode, "SYNC_OPENAI_CACHE_MODE"),
                None => return Err(ConfigProblem::CacheModeName(name)),
            },
            (None, _) => (CacheMode::ReadWrite, "the default"),
        };
        let (mode, why) = match (mode, offline) {
            (CacheMode::ReadWrite, true) => (CacheMode::ReadOnly, "CARGO_NET_OFFLINE or DOCS_RS"),
            _ => (mode, why),
        };
        Ok(Some(Cache {
            dir: dir.to_owned(),
            mode,
            why,
        }))
    }

    /// The entry of one call: its key, file and the request it stands for.
    pub(crate) fn slot(&self, method: &str, path: &str, query: &str, body: &[u8]) -> Slot {
        let body = match serde_json::from_slice::<Value>(body) {
            Ok(value) => value,
            Err(_) if body.is_empty() => Value::Null,
            Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
        };
        let mut request = Map::new();
        request.insert("method".to_owned(), Value::from(method));
        request.insert("path".to_owned(), Value::from(path));
        request.insert("query".to_owned(), Value::from(query));
        request.insert("body".to_owned(), body);
        let key = cache_key(
            method,
            path,
            query,
            request.get("body").unwrap_or(&Value::Null),
        );
        let file = self.dir.join(format!("{}-{key}.json", file_stem(path)));
        Slot {
            mode: self.mode,
            why: self.why,
            key,
            file,
            request: Value::Object(request),
        }
    }
}

/// The place of one call in the cache.
#[derive(Clone)]
pub(crate) struct Slot {
    mode: CacheMode,
    /// Why the mode is what it is, for the message of a read-only miss.
    why: &'static str,
    key: String,
    file: PathBuf,
    request: Value,
}

impl Slot {
    /// The recorded response on a hit; `None` when the call must go to the server.
    ///
    /// A read-only miss, an unreadable or corrupt entry are errors that name the file.
    pub(crate) fn replay(&self) -> Result<Option<http::Response<ureq::Body>>, Error> {
        if self.mode == CacheMode::Refresh {
            return Ok(None);
        }
        let text = match fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.miss(),
            Err(e) => {
                let message = format!("cannot read the cache entry {}: {e}", self.file.display());
                return Err(self.error(CacheErrorKind::Io, message));
            }
        };
        let entry: Value = serde_json::from_str(&text).map_err(|e| {
            let message = format!(
                "the cache entry {} is not valid JSON ({e}): delete it to record it again",
                self.file.display()
            );
            self.error(CacheErrorKind::Corrupt, message)
        })?;
        if entry.get("request") != Some(&self.request) {
            // Another request with the same hash, or an entry edited by hand.
            return self.miss();
        }
        self.response(&entry).map(Some)
    }

    /// Whether the entry's directory can be written (a stream being recorded says so before
    /// its first event, not after its last).
    pub(crate) fn probe(&self) -> Result<(), Error> {
        probe(&self.file).map_err(|e| self.unwritable(&e))
    }

    fn miss<T>(&self) -> Result<Option<T>, Error> {
        if self.mode != CacheMode::ReadOnly {
            return Ok(None);
        }
        let message = format!(
            "no recorded answer for {} (key {}, file {}); the cache is read-only ({}): record it by running once with the network, a key and SYNC_OPENAI_CACHE_MODE=refresh (which CARGO_NET_OFFLINE leaves as it is)",
            describe(&self.request),
            self.key,
            self.file.display(),
            self.why,
        );
        Err(self.error(CacheErrorKind::Miss, message))
    }

    fn error(&self, kind: CacheErrorKind, message: String) -> Error {
        Error::Cache(Box::new(CacheError::new(kind, message, self.file.clone())))
    }

    /// The response an entry recorded, marked as a replay.
    fn response(&self, entry: &Value) -> Result<http::Response<ureq::Body>, Error> {
        let corrupt = |what: &str| {
            let message = format!(
                "the cache entry {} has {what}: delete it to record it again",
                self.file.display()
            );
            self.error(CacheErrorKind::Corrupt, message)
        };
        if entry.get("format").and_then(Value::as_u64) != Some(FORMAT) {
            return Err(corrupt("a format this version does not read"));
        }
        let response = entry
            .get("response")
            .ok_or_else(|| corrupt("no response"))?;
        let status = response
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| http::StatusCode::from_u16(s).ok())
            .ok_or_else(|| corrupt("no valid status"))?;
        let mut headers = HeaderMap::new();
        let pairs = response.get("headers").and_then(Value::as_array);
        for pair in pairs.into_iter().flatten() {
            let (Some(name), Some(value)) = (
                pair.get(0).and_then(Value::as_str),
                pair.get(1).and_then(Value::as_str),
            ) else {
                return Err(corrupt("a header that is not a [name, value] pair"));
            };
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_str(value);
            let (Ok(name), Ok(value)) = (name, value) else {
                return Err(corrupt("a header that cannot be sent"));
            };
            headers.append(name, value);
        }
        let bytes = match (response.get("body"), response.get("text")) {
            (Some(json), None) => json.to_string().into_bytes(),
            (None, Some(Value::String(text))) => text.clone().into_bytes(),
            _ => return Err(corrupt("neither a JSON body nor a text body")),
        };
        let mut replay = rebuild(status, headers, bytes);
        replay.extensions_mut().insert(Replayed);
        Ok(replay)
    }

    /// Writes the entry through a temporary file and a rename, so that no reader ever
    /// sees half an entry, whatever other writers and crashes do.
    pub(crate) fn write(
        &self,
        status: u16,
        headers: &HeaderMap,
        bytes: &[u8],
        secrets: &[&str],
    ) -> Result<(), Error> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            // Not text (no API answers so): not kept, rather than kept changed.
            return Ok(());
        };
        let text = redacted(text, secrets);
        let mut response = Map::new();
        response.insert("status".to_owned(), Value::from(status));
        response.insert("headers".to_owned(), kept_headers(headers, secrets));
        let json = serde_json::from_str::<Value>(&text)
            .ok()
            .filter(|_| is_json(headers));
        match json {
            Some(json) => response.insert("body".to_owned(), json),
            None => response.insert("text".to_owned(), Value::String(text)),
        };
        let mut entry = Map::new();
        entry.insert("format".to_owned(), Value::from(FORMAT));
        entry.insert("key".to_owned(), Value::from(self.key.as_str()));
        entry.insert("request".to_owned(), self.request.clone());
        entry.insert("response".to_owned(), Value::Object(response));
        let mut contents = serde_json::to_string_pretty(&Value::Object(entry))
            .map_err(|e| self.error(CacheErrorKind::Io, format!("cannot encode the entry: {e}")))?;
        contents = redacted(&contents, secrets);
        contents.push('\n');
        write_atomically(&self.file, contents.as_bytes()).map_err(|e| self.unwritable(&e))
    }

    fn unwritable(&self, e: &io::Error) -> Error {
        let message = format!(
            "cannot write the cache entry {}: {e}; check that the directory is writable",
            self.file.display()
        );
        self.error(CacheErrorKind::Io, message)
    }
}

/// A body builder with the mime type of these headers.
pub(crate) fn body_builder(headers: &HeaderMap) -> ureq::BodyBuilder {
    let mime = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_owned());
    let builder = ureq::Body::builder();
    match mime {
        Some(mime) => builder.mime_type(mime),
        None => builder,
    }
}

/// A response with these parts and an in-memory body.
pub(crate) fn rebuild(
    status: http::StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
) -> http::Response<ureq::Body> {
    let mut response = http::Response::new(body_builder(&headers).data(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"))
}

/// The response headers worth keeping, as `[name, value]` pairs: no credential, no
/// cookie, no value that holds a secret, and none that describe the wire form of a body
/// that is stored decoded (`content-length`, `content-encoding`, `transfer-encoding`).
fn kept_headers(headers: &HeaderMap, secrets: &[&str]) -> Value {
    let pairs = headers
        .iter()
        .filter(|(name, _)| !left_out(name.as_str()))
        .filter_map(|(name, value)| Some((name, value.to_str().ok()?)))
        .filter(|(_, value)| {
            !value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("bearer ")
        })
        .filter(|(_, value)| !secrets.iter().any(|s| !s.is_empty() && value.contains(s)))
        .map(|(name, value)| Value::from(vec![name.as_str(), value]))
        .collect();
    Value::Array(pairs)
}

/// Headers that describe the wire form of a body stored decoded, left out of an entry.
const WIRE_HEADERS: [&str; 5] = [
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Whether a response header is left out of an entry: a secret (by the crate's one policy,
/// [`is_secret_header`]) or a wire header.
fn left_out(name: &str) -> bool {
    is_secret_header(name) || WIRE_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

/// The text with every secret (of 8 bytes or more) replaced by `<redacted>`.
fn redacted(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        redact(&mut text, secret);
    }
    text
}

/// `POST /chat/completions (model "gpt-4o-mini", first message "Hello")`.
fn describe(request: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let mut out = format!(
        "{} {}{}",
        text(request.get("method")),
        text(request.get("path")),
        text(request.get("query"))
    );
    let body = request.get("body");
    let model = body.and_then(|b| b.get("model")).and_then(Value::as_str);
    let first = body
        .and_then(|b| b.pointer("/messages/0/content"))
        .and_then(scalar_text);
    let mut details = Vec::new();
    if let Some(model) = model {
        details.push(format!("model {model:?}"));
    }
    if let Some(first) = first {
        details.push(format!("first message {:?}", truncate_chars(&first, 60)));
    }
    if !details.is_empty() {
        out.push_str(&format!(" ({})", details.join(", ")));
    }
    out
}

/// The key of a request: FNV-1a 64 of `method \n path \n query \n canonical body`, as 16
/// hex digits.
fn cache_key(method: &str, path: &str, query: &str, body: &Value) -> String {
    let mut material = format!("{method}\n{path}\n{query}\n");
    canonical_json(body, &mut material);
    format!("{:016x}", fnv1a_64(material.as_bytes()))
}

/// FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3): a hash
/// that is the same on every machine and every Rust version.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// JSON with object keys sorted and no white space, whatever the map type's order.
fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical_json(map.get(key).unwrap_or(&Value::Null), out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `chat-completions` for `/chat/completions`: the readable start of an entry's name.
fn file_stem(path: &str) -> String {
    let stem: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stem: String = stem
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let stem: String = stem.chars().take(48).collect();
    if stem.is_empty() {
        "root".to_owned()
    } else {
        stem
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temp = temp_file(path)?;
    let written = fs::File::create(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| fs::rename(&temp, path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temp);
    }
    renamed
}

/// Whether an entry could be written at `path`: creates its directory and a temporary
/// file there, and removes the file.
fn probe(path: &Path) -> io::Result<()> {
    let temp = temp_file(path)?;
    fs::File::create(&temp)?;
    fs::remove_file(&temp)
}

/// A fresh temporary file name beside `path`, in a directory that exists.
fn temp_file(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok(dir.join(format!(
        ".{}.{}-{nanos}-{}.tmp",
        name.unwrap_or_default(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/).
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn key_ignores_key_order_and_white_space_but_not_values() {
        let a = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let b: Value = serde_json::from_str(
            r#"{ "messages": [ {"content": "hi", "role": "user"} ], "model": "m" }"#,
        )
        .unwrap_or_default();
        let c = json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]});
        let key = |v: &Value| cache_key("POST", "/chat/completions", "", v);
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_ne!(key(&a), cache_key("POST", "/chat/completions", "?x=1", &a));
        assert_ne!(key(&a), cache_key("GET", "/chat/completions", "", &a));
        assert_eq!(key(&a).len(), 16);
        let mut canonical = String::new();
        canonical_json(&b, &mut canonical);
        assert_eq!(
            canonical,
            r#"{"messages":[{"content":"hi","role":"user"}],"model":"m"}"#
        );
    }

    #[test]
    fn the_key_is_stable_across_versions() {
        // A recorded entry must keep its name: this value may never change.
        let body =
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]});
        assert_eq!(
            cache_key("POST", "/chat/completions", "", &body),
            format!(
                "{:016x}",
                fnv1a_64(
                    b"POST\n/chat/completions\n\n{\"messages\":[{\"content\":\"Hello\",\"role\":\"user\"}],\"model\":\"gpt-4o-mini\"}"
                )
            )
        );
    }

    #[test]
    fn secret_headers_are_left_out() {
        for name in [
            "authorization",
            "Proxy-Authorization",
            "api-key",
            "x-api-key",
            "cookie",
            "set-cookie",
            "x-auth-token",
            "x-amz-security-token",
            "token",
            "content-length",
        ] {
            assert!(left_out(name), "{name}");
        }
        for name in [
            "x-request-id",
            "x-ratelimit-remaining-tokens",
            "content-type",
            "openai-processing-ms",
        ] {
            assert!(!left_out(name), "{name}");
        }
    }

    #[test]
    fn file_stems_are_readable() {
        assert_eq!(file_stem("/chat/completions"), "chat-completions");
        assert_eq!(
            file_stem("/openai/deployments/gpt-4o/chat/completions"),
            "openai-deployments-gpt-4o-chat-completions"
        );
        assert_eq!(file_stem("/"), "root");
    }

    #[test]
    fn described_requests_name_model_and_first_message() {
        let request = json!({"method": "POST", "path": "/chat/completions", "query": "",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}});
        assert_eq!(
            describe(&request),
            r#"POST /chat/completions (model "gpt-4o-mini", first message "Hello")"#
        );
    }
}
