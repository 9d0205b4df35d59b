//! Server-sent-event builders: chunks, whole streams, and the response head.

use serde_json::{json, Value};

/// The head of a `200` event stream without a length (ended by the close), missing
/// only its blank line.
pub const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n";

/// A chat completion chunk with one choice carrying `delta`.
pub fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1700000000,
           "model": "gpt-4o-mini", "system_fingerprint": "fp_s",
           "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
}

/// `data: {json}\n\n` for each chunk, then `data: [DONE]`.
pub fn sse(chunks: &[Value]) -> String {
    let mut body = String::new();
    for c in chunks {
        body.push_str(&format!("data: {c}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    body
}

/// One `data:` event whose chunk's delta is `text`.
pub fn text_chunk(text: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    format!(
        "data: {{\"id\":\"chatcmpl-f\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":{finish}}}]}}\n\n"
    )
}
