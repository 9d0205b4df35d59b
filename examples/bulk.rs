//! Runs a JSONL file of chat requests in parallel and writes one result line per request.
//!
//! `cargo run --example bulk -- INPUT OUTPUT [--threads N]` (`-` is stdin or stdout).
//! Each input line is a `CreateChatCompletionRequest`, or `{"custom_id": …, "body": …}` as
//! the Batch API takes them. Each output line is `{"custom_id", "response"}` or
//! `{"custom_id", "error"}`, written as the request finishes. Rerun with the same OUTPUT to
//! run only the ids it does not have yet (delete a line to run its request again). Uses
//! OPENAI_BASE_URL / OPENAI_API_KEY when one is set, and otherwise a mock server on
//! 127.0.0.1 that answers every request after 50 ms.
use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{BufRead, Read, Write};

use serde_json::{json, Value};
use sync_openai::types::CreateChatCompletionRequest;
use sync_openai::{BulkResult, ChatApi, Config, RunOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        return Err("usage: bulk INPUT OUTPUT [--threads N]".into());
    };
    let threads = match args.iter().position(|a| a == "--threads") {
        Some(i) => args.get(i + 1).ok_or("--threads needs a number")?.parse()?,
        None => 4,
    };

    // The ids the output already has, from an earlier run; a line cut short is dropped.
    let mut done = HashSet::new();
    if output != "-" && std::path::Path::new(output).exists() {
        let mut text = std::fs::read_to_string(output)?;
        text.truncate(text.rfind('\n').map_or(0, |end| end + 1));
        std::fs::write(output, &text)?;
        for line in text.lines() {
            let line: Value = serde_json::from_str(line)?;
            let id = line.get("custom_id").and_then(Value::as_str);
            done.insert(id.ok_or("an output line without custom_id")?.to_owned());
        }
    }

    let reader: Box<dyn BufRead> = match input.as_str() {
        "-" => Box::new(std::io::stdin().lock()),
        path => Box::new(std::io::BufReader::new(std::fs::File::open(path)?)),
    };
    let (mut ids, mut requests, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let mut value: Value = serde_json::from_str(&line)?;
        let id = match value.get("custom_id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => format!("line-{}", n + 1),
        };
        if let Some(body) = value.get_mut("body") {
            value = body.take();
        }
        if !seen.insert(id.clone()) {
            return Err(format!("custom_id {id:?} appears twice in {input}").into());
        }
        if !done.contains(&id) {
            requests.push(serde_json::from_value::<CreateChatCompletionRequest>(
                value,
            )?);
            ids.push(id);
        }
    }
    eprintln!(
        "{} requests to run, {} already in {output}",
        requests.len(),
        done.len()
    );

    let env = |name| std::env::var_os(name).is_some();
    let api = if env("OPENAI_BASE_URL") || env("OPENAI_API_KEY") {
        ChatApi::from_env()?
    } else {
        let url = mock::start()?;
        eprintln!("OPENAI_BASE_URL and OPENAI_API_KEY are not set: using a mock server at {url}");
        ChatApi::new(Config::new().base_url(url))
    };

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
        if let Err(e) = written.and_then(|_| out.flush()) {
            write_error.get_or_insert(e);
        }
        let eta = p.eta().map_or("?".into(), |d| format!("{}s", d.as_secs()));
        let rate = p.requests_per_minute;
        eprint!(
            "\r{}/{} done, {} failed, {rate:.0} req/min, ETA {eta}   ",
            p.done, p.total, p.failed
        );
    });
    let (done, failed) = (report.progress.done, report.progress.failed);
    eprintln!("\n{done} done, {failed} failed");
    write_error.map_or(Ok(()), |e| Err(e.into()))
}

/// A result line, shaped like the Batch API's output lines.
fn result_line(id: &str, result: &BulkResult) -> Value {
    match result {
        Ok(r) => json!({"custom_id": id, "response":
            {"status_code": r.status, "request_id": r.request_id(), "body": r.data}}),
        Err(e) => {
            json!({"custom_id": id, "error": {"message": e.to_string(), "status": e.status()}})
        }
    }
}

/// A stand-in for a model: answers every request with "Hello!" after 50 ms.
mod mock {
    use super::*;

    pub fn start() -> std::io::Result<String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/v1", listener.local_addr()?);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || serve(conn));
            }
        });
        Ok(url)
    }

    fn serve(conn: std::net::TcpStream) -> Option<()> {
        let mut reader = std::io::BufReader::new(conn.try_clone().ok()?);
        let body = r#"{"id":"chatcmpl-mock","object":"chat.completion","created":1,"model":"mock","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#;
        loop {
            let mut len = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).ok()? == 0 {
                    return None;
                }
                match header.to_ascii_lowercase().strip_prefix("content-length:") {
                    Some(n) => len = n.trim().parse().ok()?,
                    None if header.trim().is_empty() => break,
                    None => {}
                }
            }
            reader
                .by_ref()
                .take(len)
                .read_to_end(&mut Vec::new())
                .ok()?;
            std::thread::sleep(std::time::Duration::from_millis(50));
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            (&conn).write_all(format!("{head}{body}").as_bytes()).ok()?;
        }
    }
}
