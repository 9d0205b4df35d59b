//! Hand-written bodies modelled on the spec's examples and on what real servers send.

use serde_json::{json, Value};

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

/// A stored completion as `GET /chat/completions/{id}` returns it.
pub fn completion(id: &str) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": format!("answer of {id}"), "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
        "metadata": {"app": "demo"},
        "service_tier": "default",
        "system_fingerprint": "fp_1"
    })
}

/// The error page nginx sends when its upstream is down.
pub const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
