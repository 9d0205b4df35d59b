//! A tiny HTTP/1.1 server for scripts/footprint.sh (std only): answers every
//! `POST .../chat/completions` with the quickstart mock's completion, or its stream when the
//! body has `"stream":true`. Prints `http://127.0.0.1:PORT/v1` on its first line, then serves
//! until killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

const COMPLETION: &str = r#"{
  "id": "chatcmpl-mock",
  "object": "chat.completion",
  "created": 1700000000,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "Hello, Rustacean! (from the local mock)", "refusal": null},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {"prompt_tokens": 24, "completion_tokens": 9, "total_tokens": 33},
  "system_fingerprint": "fp_mock"
}"#;

fn stream_body() -> String {
    let mut body = String::new();
    let words = [
        "Hello, ",
        "Rustacean",
        "!",
        " (streamed",
        " from",
        " the",
        " mock)",
    ];
    for (i, word) in words.iter().enumerate() {
        let role = if i == 0 { r#""role":"assistant","# } else { "" };
        body.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{{role}\"content\":\"{word}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    body
}

fn answer(content_type: &str, request_id: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nx-request-id: {request_id}\r\nopenai-processing-ms: 42\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(stream: TcpStream, json: &[u8], sse: &[u8]) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let streamed = body.windows(13).any(|w| w == b"\"stream\":true");
        writer.write_all(if streamed { sse } else { json })?;
    }
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("http://{}/v1", listener.local_addr()?);
    std::io::stdout().flush()?;
    let json: &'static [u8] = answer("application/json", "req_mock_123", COMPLETION).leak();
    let sse: &'static [u8] = answer("text/event-stream", "req_mock_stream", &stream_body()).leak();
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream, json, sse));
    }
    Ok(())
}
