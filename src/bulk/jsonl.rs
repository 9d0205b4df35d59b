//! JSONL in and out of a bulk run, in the Batch API's shapes: [`read_requests`] reads the
//! input lines, [`result_line`] makes an output line of a result, and [`resume_output`]
//! keeps what an earlier run finished so that a rerun runs only the rest.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use serde_json::{json, Value};

use super::BulkResult;
use crate::types::CreateChatCompletionRequest;

/// A line of JSONL that [`read_requests`] or [`resume_output`] cannot use: its line number
/// and what is wrong with it.
///
/// # Examples
///
/// ```
/// use sync_openai::bulk::read_requests;
///
/// let err = read_requests("{\"model\": \"m\", \"messages\": []}\nnot json\n").unwrap_err();
/// assert_eq!(err.line(), 2);
/// assert!(err.to_string().starts_with("line 2: not JSON: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonlError {
    line: usize,
    message: String,
}

impl JsonlError {
    fn new(line: usize, message: impl Into<String>) -> JsonlError {
        JsonlError {
            line,
            message: message.into(),
        }
    }

    /// The line it is about, counted from 1.
    pub fn line(&self) -> usize {
        self.line
    }
}

impl fmt::Display for JsonlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for JsonlError {}

/// Reads JSONL chat requests into `(custom_id, request)` pairs, in input order, for
/// [`ChatApi::run_many`](crate::ChatApi::run_many).
///
/// Each line is a `{"custom_id": …, "body": …}` object as the Batch API takes them, or a
/// bare [`CreateChatCompletionRequest`], known as `line-N` by its line number (counted from
/// 1, so ids stay put when lines are added at the end). Blank lines are skipped. A line
/// whose `custom_id` is not a string is known by its line number too.
///
/// # Errors
///
/// The first line that is not JSON, whose request (its `body`, or the line itself) is not
/// a chat completion request, or whose id an earlier line has (ids name results, so each
/// must be unique).
///
/// # Examples
///
/// ```
/// use sync_openai::bulk::read_requests;
///
/// let jsonl = r#"{"custom_id": "fruit", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name a fruit"}]}}
/// {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name a tree"}]}
/// "#;
/// let requests = read_requests(jsonl)?;
/// let ids: Vec<&str> = requests.iter().map(|(id, _)| id.as_str()).collect();
/// assert_eq!(ids, ["fruit", "line-2"]);
/// assert_eq!(requests[1].1.model, "gpt-4o-mini");
///
/// let twice = read_requests(&format!("{0}{0}", jsonl.lines().next().unwrap().to_owned() + "\n"));
/// assert_eq!(twice.unwrap_err().to_string(), r#"line 2: custom_id "fruit" appears twice (first on line 1)"#);
/// # Ok::<(), sync_openai::bulk::JsonlError>(())
/// ```
pub fn read_requests(
    jsonl: &str,
) -> Result<Vec<(String, CreateChatCompletionRequest)>, JsonlError> {
    let mut requests = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, line) in jsonl.lines().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut value: Value =
            serde_json::from_str(line).map_err(|e| JsonlError::new(n, format!("not JSON: {e}")))?;
        let id = match value.get("custom_id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => format!("line-{n}"),
        };
        if let Some(first) = seen.insert(id.clone(), n) {
            let message = format!("custom_id {id:?} appears twice (first on line {first})");
            return Err(JsonlError::new(n, message));
        }
        let body = match value.get_mut("body") {
            Some(body) => body.take(),
            None => value,
        };
        let request = serde_json::from_value(body)
            .map_err(|e| JsonlError::new(n, format!("not a chat completion request: {e}")))?;
        requests.push((id, request));
    }
    Ok(requests)
}

/// The output line of one result, shaped like the Batch API's output lines:
/// `{"custom_id", "response": {"status_code", "request_id", "body"}}` for an answer,
/// `{"custom_id", "error": {"message", "status", "retryable"}}` for a failure.
///
/// `retryable` says whether another try may succeed ([`Error::is_retryable`]); it is what
/// [`resume_output`] reads to run a request again. Write the line with a newline after it,
/// in one write, so that a killed run leaves whole lines (and at most one cut short).
///
/// [`Error::is_retryable`]: crate::Error::is_retryable
///
/// # Examples
///
/// ```
/// use sync_openai::bulk::{result_line, BulkResult};
/// # use sync_openai::testing::MockServer;
/// # let server = MockServer::start();
/// # server.reply_always(sync_openai::testing::Reply::text("Paris"));
/// # let api = sync_openai::ChatApi::new(server.config());
/// # let request = sync_openai::types::CreateChatCompletionRequest::new("m", vec![]);
///
/// let answered: BulkResult = api.create_chat_completion_with_http_info(&request);
/// let line = result_line("capital", &answered);
/// assert_eq!(line["custom_id"], "capital");
/// assert_eq!(line["response"]["status_code"], 200);
/// assert_eq!(line["response"]["body"]["choices"][0]["message"]["content"], "Paris");
/// # Ok::<(), sync_openai::Error>(())
/// ```
pub fn result_line(custom_id: &str, result: &BulkResult) -> Value {
    match result {
        Ok(r) => {
            // A response always serializes (string keys only); `null` if it ever did not.
            let body = serde_json::to_value(&r.data).unwrap_or_default();
            json!({"custom_id": custom_id, "response":
                {"status_code": r.status, "request_id": r.request_id(), "body": body}})
        }
        Err(e) => json!({"custom_id": custom_id, "error":
            {"message": e.to_string(), "status": e.status(), "retryable": e.is_retryable()}}),
    }
}

/// Prepares the output file of an earlier run for a rerun, and returns the ids it finished.
///
/// The file keeps only the lines of finished requests: an answer, or an error not worth
/// another try. A last line cut short (a run killed mid-write: no newline after it) and
/// error lines marked `"retryable": true` (see [`result_line`]) are dropped, so their
/// requests run again and each id ends with one line. The file is rewritten through a
/// temporary file beside it (`OUTPUT.tmp`) and a rename. No file yet is no finished id.
/// Delete a line to run its request again.
///
/// # Errors
///
/// The file cannot be read or rewritten, or a whole line is not JSON or has no string
/// `custom_id` (an [`io::ErrorKind::InvalidData`] wrapping a [`JsonlError`]); the file is
/// left as it was.
///
/// # Examples
///
/// ```
/// use sync_openai::bulk::resume_output;
///
/// let path = std::env::temp_dir().join(format!("resume-doc-{}.jsonl", std::process::id()));
/// std::fs::write(&path, concat!(
///     "{\"custom_id\":\"a\",\"response\":{\"status_code\":200}}\n",
///     "{\"custom_id\":\"b\",\"error\":{\"message\":\"rate limit reached\",\"status\":429,\"retryable\":true}}\n",
///     "{\"custom_id\":\"c\",\"respo",
/// ))?;
/// let done = resume_output(&path)?;
/// assert_eq!(done.into_iter().collect::<Vec<_>>(), ["a"]);
/// assert_eq!(std::fs::read_to_string(&path)?, "{\"custom_id\":\"a\",\"response\":{\"status_code\":200}}\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn resume_output(path: impl AsRef<Path>) -> io::Result<HashSet<String>> {
    let path = path.as_ref();
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(e),
    };
    let (kept, ids) =
        finished_lines(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    fs::write(&tmp, kept)?;
    fs::rename(&tmp, path)?;
    Ok(ids)
}

/// The whole lines of finished requests in an output text, and their ids.
fn finished_lines(text: &str) -> Result<(String, HashSet<String>), JsonlError> {
    let whole = text.get(..text.rfind('\n').map_or(0, |end| end + 1));
    let (mut kept, mut ids) = (String::new(), HashSet::new());
    for (n, line) in whole.unwrap_or_default().lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| JsonlError::new(n + 1, format!("not JSON: {e}")))?;
        if value.pointer("/error/retryable") == Some(&Value::Bool(true)) {
            continue;
        }
        let Some(id) = value.get("custom_id").and_then(Value::as_str) else {
            return Err(JsonlError::new(n + 1, "an output line without custom_id"));
        };
        ids.insert(id.to_owned());
        kept.push_str(line);
        kept.push('\n');
    }
    Ok((kept, ids))
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests;
