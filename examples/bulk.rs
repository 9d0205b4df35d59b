//! Runs a JSONL file of chat requests in parallel and writes one result line per request.
//!
//! `cargo run --example bulk -- INPUT OUTPUT [--threads N]` (`-` is stdin or stdout).
//! Each input line is a `CreateChatCompletionRequest`, or `{"custom_id": …, "body": …}` as
//! the Batch API takes them. Each output line is `{"custom_id", "response"}` or
//! `{"custom_id", "error"}`, written as the request finishes. Rerun with the same OUTPUT to
//! run only the ids it does not have yet (delete a line to run its request again). Uses
//! OPENAI_BASE_URL / OPENAI_API_KEY when one is set, and otherwise the test kit's mock
//! server on 127.0.0.1, which answers every request after 50 ms.

mod common;

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use sync_openai::bulk::{BulkResult, RunOptions};
use sync_openai::testing::Reply;
use sync_openai::types::{BatchRequestOutput, CreateChatCompletionRequest as Request};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (input, output, threads) = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [i, o] => (i.clone(), o.clone(), 4),
        [i, o, flag, n] if flag == "--threads" => (i.clone(), o.clone(), n.parse()?),
        _ => return Err("usage: bulk INPUT OUTPUT [--threads N]".into()),
    };
    let done = done_ids(&output)?;
    let text = match input.as_str() {
        "-" => std::io::read_to_string(std::io::stdin())?,
        path => std::fs::read_to_string(path)?,
    };
    let (mut ids, mut requests, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A Batch API line `{"custom_id", "body"}`, or a bare request known by its line number.
        let value: Value = serde_json::from_str(line)?;
        let id = value.get("custom_id").and_then(Value::as_str);
        let id = id.map_or_else(|| format!("line-{}", n + 1), str::to_owned);
        if !seen.insert(id.clone()) {
            return Err(format!("custom_id {id:?} appears twice in {input}").into());
        }
        if !done.contains(&id) {
            requests.push(Request::deserialize(value.get("body").unwrap_or(&value))?);
            ids.push(id);
        }
    }
    let todo = requests.len();
    eprintln!("{todo} requests to run, {} already in {output}", done.len());

    // The configured server, or a mock that answers each request "Hello!" after 50 ms.
    let reply = Reply::text("Hello!").delay(Duration::from_millis(50));
    let (api, _mock) = common::client_or_mock_always(reply)?;
    let mut out: Box<dyn Write> = match output.as_str() {
        "-" => Box::new(std::io::stdout()),
        path => Box::new(OpenOptions::new().create(true).append(true).open(path)?),
    };
    let mut write_error = None;
    let options = RunOptions::new().threads(threads);
    let report = api.run_many_with(requests, &options, |i, result, p| {
        let line = result_line(ids.get(i).map_or("", String::as_str), result);
        // One write per line, so a killed run leaves whole lines (and at most one cut short).
        let written = out.write_all(format!("{line}\n").as_bytes());
        let flushed = written.and_then(|()| out.flush());
        write_error = write_error.take().or(flushed.err());
        let eta = p.eta().map_or("?".into(), |d| format!("{}s", d.as_secs()));
        let (done, total, failed, rate) = (p.done, p.total, p.failed, p.requests_per_minute);
        eprint!("\r{done}/{total} done, {failed} failed, {rate:.0} req/min, ETA {eta}   ");
    });
    let progress = report.progress;
    eprintln!("\n{} done, {} failed", progress.done, progress.failed);
    write_error.map_or(Ok(()), |e| Err(e.into()))
}

/// The ids an earlier run wrote to `output`; a last line cut short by a kill is dropped.
fn done_ids(output: &str) -> Result<HashSet<String>, Box<dyn std::error::Error>> {
    if output == "-" || !std::path::Path::new(output).exists() {
        return Ok(HashSet::new());
    }
    let mut text = std::fs::read_to_string(output)?;
    text.truncate(text.rfind('\n').map_or(0, |end| end + 1));
    std::fs::write(output, &text)?;
    let id = |line| serde_json::from_str::<BatchRequestOutput>(line).map(|l| l.custom_id);
    let id = |line| id(line)?.ok_or_else(|| "an output line without custom_id".into());
    text.lines().map(id).collect()
}

/// A result line, shaped like the Batch API's output lines.
fn result_line(id: &str, result: &BulkResult) -> Value {
    match result {
        Ok(r) => json!({"custom_id": id, "response":
            {"status_code": r.status, "request_id": r.request_id(), "body": r.data}}),
        Err(e) => json!({"custom_id": id, "error":
            {"message": e.to_string(), "status": e.status()}}),
    }
}
