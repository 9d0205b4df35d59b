#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! `examples/bulk.rs` killed half-way and rerun: every id is answered exactly once.
//!
//! Builds the example (`cargo build --example bulk`), runs it against its own mock (which
//! answers after 50 ms), kills it once a third of the lines are written, cuts its last line
//! short as a kill mid-write would, reruns it on the same output, and checks the output.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const TOTAL: usize = 200;

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

fn bulk(bin: &PathBuf, input: &PathBuf, output: &PathBuf) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg(input)
        .arg(output)
        .args(["--threads", "2"])
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn killed_half_way_and_rerun_answers_every_id_once() {
    let bin = example_binary();
    let dir = std::env::temp_dir().join(format!("sync-openai-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let _ = std::fs::remove_file(&output);
    let mut file = std::fs::File::create(&input).unwrap();
    for i in 0..TOTAL {
        // Both input shapes: Batch-API lines with custom ids, and bare requests.
        let line = match i % 2 {
            0 => format!(
                r#"{{"custom_id":"task-{i}","body":{{"model":"m","messages":[{{"role":"user","content":"item {i}"}}]}}}}"#
            ),
            _ => format!(r#"{{"model":"m","messages":[{{"role":"user","content":"item {i}"}}]}}"#),
        };
        writeln!(file, "{line}").unwrap();
    }
    drop(file);
    let expected: HashSet<String> = (0..TOTAL)
        .map(|i| match i % 2 {
            0 => format!("task-{i}"),
            _ => format!("line-{}", i + 1),
        })
        .collect();

    let mut first = bulk(&bin, &input, &output).spawn().unwrap();
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
    let status = first.wait().unwrap();
    assert!(!status.success());
    let after_kill = lines(&output);
    assert!(
        after_kill.len() < TOTAL,
        "killed after it finished: {}",
        after_kill.len()
    );
    let done: HashSet<String> = after_kill
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["custom_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // A kill in the middle of a write leaves a line cut short: the rerun must drop it.
    let pending = expected.difference(&done).next().unwrap().clone();
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .open(&output)
        .unwrap();
    write!(out, r#"{{"custom_id":"{pending}","respo"#).unwrap();
    drop(out);

    let rerun = bulk(&bin, &input, &output).output().unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "rerun failed: {stderr}");
    assert!(
        stderr.contains(&format!(
            "{} requests to run, {} already in",
            TOTAL - done.len(),
            done.len()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("using a mock server at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{TOTAL}/{TOTAL} done", TOTAL = TOTAL - done.len())),
        "{stderr}"
    );

    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines(&output) {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["response"]["status_code"], 200, "{line}");
        assert_eq!(
            v["response"]["body"]["choices"][0]["message"]["content"],
            "Hello!"
        );
        *count
            .entry(v["custom_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(count.keys().cloned().collect::<HashSet<_>>(), expected);
    assert!(
        count.values().all(|&n| n == 1),
        "an id answered twice: {count:?}"
    );
    println!(
        "killed after {} of {TOTAL} lines; the rerun ran {} and each of the {TOTAL} ids appears once",
        done.len(),
        TOTAL - done.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
