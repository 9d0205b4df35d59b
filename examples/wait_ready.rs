//! Waits until the server at `OPENAI_BASE_URL` serves: a local server that was just started
//! and may still be loading its model (llama.cpp's `llama-server`, vLLM, Ollama).
//!
//! ```text
//! cargo run --example wait_ready                                                  # a local mock that loads for a moment
//! OPENAI_BASE_URL=http://127.0.0.1:8080/v1 cargo run --example wait_ready -- 120  # llama.cpp, at most 120 s
//! OPENAI_LOG=info OPENAI_BASE_URL=http://127.0.0.1:8000/v1 cargo run --example wait_ready  # vLLM, each poll logged
//! ```
//!
//! It exits 0 once the server serves, and 1 with the error (what the server answered last,
//! what to do) when it will not or did not within the timeout (seconds, default 60).

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use sync_openai::testing::Reply;
use sync_openai::{ChatApi, Error};

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref().map_or(Ok(60), str::parse::<u64>) {
        Ok(seconds) => common::exit(run(Duration::from_secs(seconds))),
        Err(_) => {
            eprintln!("usage: wait_ready [SECONDS]: {arg:?} is not a number of seconds");
            ExitCode::FAILURE
        }
    }
}

fn run(timeout: Duration) -> Result<(), Error> {
    // Without OPENAI_BASE_URL: a mock that answers like llama-server loading its model,
    // 503 twice, then ready.
    let loading = r#"{"error":{"message":"Loading model","type":"unavailable_error","code":503}}"#;
    let replies = [Reply::raw(503, loading), Reply::raw(503, loading)];
    let ready = Reply::raw(200, r#"{"status":"ok"}"#);
    let _mock = common::mock_unless_set(&["OPENAI_BASE_URL"], replies.into_iter().chain([ready]));
    let api = ChatApi::from_env()?;
    let started = Instant::now();
    api.wait_ready(timeout)?;
    let url = api.config().get_base_url();
    println!("{url} is ready ({:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}
