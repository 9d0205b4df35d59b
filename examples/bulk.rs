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

use std::{fs, io::Write};

use sync_openai::bulk::{self, RunOptions};
use sync_openai::{testing::Reply, ChatApi};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without OPENAI_API_KEY or OPENAI_BASE_URL: a local mock (its notice on stderr).
    let _mock = common::offline_mock_always(Reply::text("Hello!"));
    let (input, output, threads) = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [i, o] => (i.clone(), o.clone(), 4),
        [i, o, flag, n] if flag == "--threads" => (i.clone(), o.clone(), n.parse()?),
        _ => return Err("usage: bulk INPUT OUTPUT [--threads N]".into()),
    };
    // The ids an earlier run finished in OUTPUT, which keeps only their lines.
    let done = bulk::resume_output(&output)?;
    let text = match input.as_str() {
        "-" => std::io::read_to_string(std::io::stdin())?,
        path => fs::read_to_string(path)?,
    };
    let requests = bulk::read_requests(&text).map_err(|e| format!("{input}: {e}"))?;
    let (ids, requests): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .filter(|(id, _)| !done.contains(id))
        .unzip();
    eprintln!(
        "{} requests to run, {} already in {output}",
        requests.len(),
        done.len()
    );

    let api = ChatApi::from_env()?;
    let mut out: Box<dyn Write> = match output.as_str() {
        "-" => Box::new(std::io::stdout()),
        path => Box::new(fs::File::options().create(true).append(true).open(path)?),
    };
    let mut write_error = None;
    let report = api.run_many_with(requests, &RunOptions::new().threads(threads), |i, r, p| {
        let line = bulk::result_line(ids.get(i).map_or("", String::as_str), r);
        // One write per line, so a killed run leaves whole lines (and at most one cut short).
        let written = out
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| out.flush());
        write_error = write_error.take().or(written.err());
        let (done, total, failed, rate) = (p.done, p.total, p.failed, p.requests_per_minute);
        eprint!("\r{done}/{total} done, {failed} failed, {rate:.0} req/min   ");
    });
    let (done, failed) = (report.progress.done, report.progress.failed);
    eprintln!("\n{done} done, {failed} failed");
    write_error.map_or(Ok(()), |e| Err(e.into()))
}
