//! `ratelimit-server [--port N] [--rpm N] [--tpm N] [--delay-ms N] [--slice-ms N] [--no-headers]`
//!
//! Serves `POST /v1/chat/completions` on 127.0.0.1 with OpenAI's rate limits (defaults: 600
//! requests and 60,000 tokens per minute in one-second slices, 300 ms per answer; see
//! `tests/common/ratelimit.rs`), prints its base URL on the first line of stdout, and runs
//! until it is killed. `GET /_stats` answers what it saw; `POST /_reset` starts afresh.

#[path = "../../../tests/common/ratelimit.rs"]
mod ratelimit;

use std::time::Duration;

use ratelimit::{Limits, RateLimitServer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut limits = Limits::default();
    let mut port = 0;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--no-headers" {
            limits.headers = false;
            continue;
        }
        let value: u64 = args.next().ok_or(format!("{flag} needs a value"))?.parse()?;
        match flag.as_str() {
            "--port" => port = u16::try_from(value)?,
            "--rpm" => limits.requests_per_minute = value,
            "--tpm" => limits.tokens_per_minute = value,
            "--delay-ms" => limits.delay = Duration::from_millis(value),
            "--slice-ms" => limits.slice = Duration::from_millis(value),
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    let server = RateLimitServer::bind(port, limits.clone())?;
    println!("{}", server.base_url());
    eprintln!("rate-limited server at {}: {limits:?}", server.base_url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
