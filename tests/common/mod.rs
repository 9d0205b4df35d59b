//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

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

/// A realistic non-streamed completion body.
pub const COMPLETION: &str = r#"{
  "id": "chatcmpl-abc",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "Hello there!", "refusal": null, "annotations": []},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {"prompt_tokens": 19, "completion_tokens": 3, "total_tokens": 22,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}},
  "service_tier": "default",
  "system_fingerprint": "fp_1"
}"#;

/// A closed port on 127.0.0.1: bound, then released.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
pub mod tls;
