//! The one test harness: a raw scripted HTTP server, SSE and completion builders, the
//! fixtures, bounded client calls, and the httpmock helpers. Each submodule is its own
//! file; this file only declares and re-exports them.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

mod clock;
mod cutting_proxy;
mod fixtures;
pub mod prism;
pub mod ratelimit;
mod run;
mod server;
mod sse;
pub mod tls;

pub use clock::*;
pub use cutting_proxy::*;
pub use fixtures::*;
pub use run::*;
pub use server::*;
pub use sse::*;

use httpmock::MockServer;
use sync_openai::{ChatApi, Config};

/// The key the tests configure; every test that prints errors checks it never shows.
pub const KEY: &str = "sk-test-0123456789abcdef";

/// A client for the mock server, with retries off so each test sees one request.
pub fn api(server: &MockServer) -> ChatApi {
    ChatApi::new(config(server).max_retries(0))
}

pub fn config(server: &MockServer) -> Config {
    Config::new().api_key(KEY).base_url(server.url("/v1"))
}

/// The name the test harness knows a test by, for running it again in a child process
/// with `--exact`: `cache::name` when its file is a module of tests/suite.rs. Pass
/// `module_path!()` of the test's file.
pub fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}
