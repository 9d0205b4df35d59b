//! Runs a JSONL file of chat requests in parallel and writes one result line per request.
//!
//! `cargo run --example bulk -- INPUT OUTPUT [--threads N]` (`-` is stdin or stdout).
//! Each input line is a `CreateChatCompletionRequest`, or `{"custom_id": …, "body": …}` as
//! the Batch API takes them. Each output line is `{"custom_id", "response"}` or
//! `{"custom_id", "error"}`, written as the request finishes. The run is paced to the
//! limits the server's `x-ratelimit-*` headers report, and a rate-limited request is
//! retried until it is answered. Rerun with the same OUTPUT to run only the ids it does
//! not have yet and those whose error is worth another try (`"retryable": true`); delete
//! a line to run its request again. Uses OPENAI_BASE_URL / OPENAI_API_KEY when one is
//! set, and otherwise the test kit's mock server, which answers every request "Hello!".

mod common;

use std::{collections::HashSet, fs, io::Write};

use serde_json::{json, Value};
use sync_openai::types::CreateChatCompletionRequest as Request;
use sync_openai::{bulk::BulkResult, bulk::RunOptions, testing::Reply};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (input, output, threads) = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [i, o] => (i.clone(), o.clone(), 4),
        [i, o, flag, n] if flag == "--threads" => (i.clone(), o.clone(), n.parse()?),
        _ => return Err("usage: bulk INPUT OUTPUT [--threads N]".into()),
    };
    let done = keep_finished(&output)?;
    let text = match input.as_str() {
        "-" => std::io::read_to_string(std::io::stdin())?,
        path => fs::read_to_string(path)?,
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
            let body = value.get("body").unwrap_or(&value).clone();
            requests.push(serde_json::from_value::<Request>(body)?);
            ids.push(id);
        }
    }
    let (todo, had) = (requests.len(), done.len());
    eprintln!("{todo} requests to run, {had} already in {output}");

    let (api, _mock) = common::client_or_mock_always(Reply::text("Hello!"))?;
    let mut out: Box<dyn Write> = match output.as_str() {
        "-" => Box::new(std::io::stdout()),
        path => Box::new(fs::File::options().create(true).append(true).open(path)?),
    };
    let mut write_error = None;
    let report = api.run_many_with(requests, &RunOptions::new().threads(threads), |i, r, p| {
        let line = result_line(ids.get(i).map_or("", String::as_str), r);
        // One write per line, so a killed run leaves whole lines (and at most one cut short).
        let written = out.write_all(format!("{line}\n").as_bytes());
        let flushed = written.and_then(|()| out.flush());
        write_error = write_error.take().or(flushed.err());
        let (done, total, failed, rate) = (p.done, p.total, p.failed, p.requests_per_minute);
        eprint!("\r{done}/{total} done, {failed} failed, {rate:.0} req/min   ");
    });
    let (done, failed) = (report.progress.done, report.progress.failed);
    eprintln!("\n{done} done, {failed} failed");
    write_error.map_or(Ok(()), |e| Err(e.into()))
}

/// The ids an earlier run finished in `output`, which keeps only their lines: a last line
/// cut short by a kill, and errors worth another try, are dropped (rewritten by rename).
fn keep_finished(output: &str) -> Result<HashSet<String>, Box<dyn std::error::Error>> {
    let Ok(mut text) = fs::read_to_string(output) else {
        return Ok(HashSet::new()); // `-`, or no output yet
    };
    text.truncate(text.rfind('\n').map_or(0, |end| end + 1));
    let (mut kept, mut ids) = (String::new(), HashSet::new());
    for line in text.lines() {
        let value: Value = serde_json::from_str(line)?;
        if value.pointer("/error/retryable") != Some(&Value::Bool(true)) {
            let id = value.get("custom_id").and_then(Value::as_str);
            ids.insert(id.ok_or("an output line without custom_id")?.to_owned());
            kept.push_str(&format!("{line}\n"));
        }
    }
    fs::write(format!("{output}.tmp"), kept)?;
    fs::rename(format!("{output}.tmp"), output)?;
    Ok(ids)
}

/// A result line, shaped like the Batch API's output lines.
fn result_line(id: &str, result: &BulkResult) -> Value {
    match result {
        Ok(r) => json!({"custom_id": id, "response":
            {"status_code": r.status, "request_id": r.request_id(), "body": r.data}}),
        Err(e) => json!({"custom_id": id, "error":
            {"message": e.to_string(), "status": e.status(), "retryable": e.is_retryable()}}),
    }
}
