#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! `examples/bulk.rs` killed part-way under 429s and rerun: every id is answered exactly
//! once.
//!
//! Builds the example (`cargo build --example bulk`), runs it against the rate-limited
//! server of `tests/common/ratelimit.rs` set to send no `x-ratelimit-*` headers (so the
//! runner learns the limit from 429s alone), kills it once a third of the lines are
//! written, adds a line a time-limited run would have left (a retryable 429) and one cut
//! short as a kill mid-write would, reruns it on the same output, and checks the output.

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::ratelimit::{Limits, RateLimitServer};
use serde_json::Value;

const TOTAL: usize = 120;
const THREADS: usize = 8;

fn example_binary() -> PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    // The variables cargo sets for a test process (CARGO_PKG_*, CARGO_MANIFEST_DIR, …)
    // would change the fingerprints and rebuild everything: pass on only the user's.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        let keep = [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_",
            "CARGO_TERM_",
            "CARGO_NET_",
        ];
        if name.starts_with("CARGO_") && !keep.iter().any(|k| name.starts_with(k)) {
            cargo.env_remove(&name);
        }
    }
    let status = cargo
        .args(["build", "--quiet", "--example", "bulk"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --example bulk failed");
    // target/debug/deps/bulk_example-… → target/debug/examples/bulk
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("bulk{}", std::env::consts::EXE_SUFFIX))
}

fn lines(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn bulk(bin: &PathBuf, input: &PathBuf, output: &PathBuf, server: &RateLimitServer) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg(input)
        .arg(output)
        .args(["--threads", &THREADS.to_string()])
        .env("OPENAI_BASE_URL", server.base_url())
        .env("OPENAI_API_KEY", "sk-test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn custom_id(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    v["custom_id"].as_str().unwrap().to_owned()
}

#[test]
fn killed_part_way_under_429s_and_rerun_answers_every_id_once() {
    let server = RateLimitServer::start(Limits {
        requests_per_minute: 1_200,
        slice: Duration::from_millis(250),
        delay: Duration::from_millis(20),
        headers: false,
        ..Limits::default()
    })
    .unwrap();
    let bin = example_binary();
    let dir = std::env::temp_dir().join(format!("sync-openai-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let _ = std::fs::remove_file(&output);
    let mut file = std::fs::File::create(&input).unwrap();
    let mut expected = BTreeMap::new();
    for i in 0..TOTAL {
        // Both input shapes: Batch-API lines with custom ids, and bare requests.
        let body =
            format!(r#"{{"model":"m","messages":[{{"role":"user","content":"p{i} hello"}}]}}"#);
        let (line, id) = match i % 2 {
            0 => (
                format!(r#"{{"custom_id":"task-{i}","body":{body}}}"#),
                format!("task-{i}"),
            ),
            _ => (body, format!("line-{}", i + 1)),
        };
        writeln!(file, "{line}").unwrap();
        expected.insert(id, format!("answer to p{i}"));
    }
    drop(file);

    let mut first = bulk(&bin, &input, &output, &server).spawn().unwrap();
    let started = Instant::now();
    while lines(&output).len() < TOTAL / 3 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first run wrote too little"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended by itself"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap();
    assert!(!first.wait().unwrap().success());
    let refused = server.summary().refused;
    assert!(
        refused > 0,
        "no 429 in the first run: it was not under 429s"
    );
    // Whole lines only (a kill mid-write would leave a cut one, added below on purpose).
    let mut text = std::fs::read_to_string(&output).unwrap();
    text.truncate(text.rfind('\n').map_or(0, |end| end + 1));
    let done: HashSet<String> = text.lines().map(custom_id).collect();
    assert!(done.len() < TOTAL, "killed after it finished");
    let mut pending = expected.keys().filter(|id| !done.contains(*id));
    let (retry, cut) = (
        pending.next().unwrap().clone(),
        pending.next().unwrap().clone(),
    );
    // What a run with a time limit leaves for a request still rate limited, then a line cut
    // short: the rerun must run both again.
    text.push_str(&format!(
        "{{\"custom_id\":\"{retry}\",\"error\":{{\"message\":\"rate limit reached\",\"status\":429,\"retryable\":true}}}}\n{{\"custom_id\":\"{cut}\",\"respo"
    ));
    std::fs::write(&output, text).unwrap();

    let rerun = bulk(&bin, &input, &output, &server).output().unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "rerun failed: {stderr}");
    let todo = TOTAL - done.len();
    let line = format!("{todo} requests to run, {} already in", done.len());
    assert!(stderr.contains(&line), "{stderr}");
    assert!(
        stderr.contains(&format!("{todo}/{todo} done, 0 failed")),
        "{stderr}"
    );

    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines(&output) {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["response"]["status_code"], 200, "{line}");
        let id = v["custom_id"].as_str().unwrap().to_owned();
        let content = &v["response"]["body"]["choices"][0]["message"]["content"];
        assert_eq!(content.as_str(), Some(expected[&id].as_str()), "{line}");
        *count.entry(id).or_default() += 1;
    }
    assert_eq!(
        count.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    assert!(
        count.values().all(|&n| n == 1),
        "an id answered twice: {count:?}"
    );
    // At the server, only requests running when the first run was killed ran twice.
    let seen = server.summary();
    let twice = seen.answers_per_id.values().filter(|&&n| n > 1).count();
    assert_eq!(seen.answers_per_id.len(), TOTAL);
    assert!(
        twice <= THREADS,
        "{twice} requests answered twice at the server"
    );
    println!(
        "killed after {} of {TOTAL} lines ({refused} x 429 by then); the rerun ran {todo}, \
         {} x 429 in all; each id appears once; {twice} answered twice at the server \
         (running at the kill)",
        done.len(),
        seen.refused
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
