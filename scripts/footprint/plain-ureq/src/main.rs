//! What examples/quickstart.rs does (one chat completion with its request id, then the same
//! question streamed), written against ureq + serde_json without sync-openai: the baseline
//! of scripts/footprint.sh. Reads OPENAI_BASE_URL (and OPENAI_API_KEY if set).

use std::io::{BufRead, BufReader, Write};

use serde::Deserialize;

#[derive(Deserialize)]
struct Completion {
    model: String,
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

#[derive(Deserialize)]
struct Chunk {
    choices: Vec<ChunkChoice>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    delta: Delta,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base =
        std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".into());
    let key = std::env::var("OPENAI_API_KEY").unwrap_or_default();
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
    let url = format!("{base}/chat/completions");
    let mut req = serde_json::json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Say hello to a Rust developer in one sentence."}
        ],
        "temperature": 0.2,
        "max_completion_tokens": 64
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = format!("Bearer {key}");

    let resp = agent
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .send(serde_json::to_vec(&req)?)?;
    let status = resp.status();
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)")
        .to_owned();
    let bytes = resp.into_body().read_to_vec()?;
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)).into());
    }
    let completion: Completion = serde_json::from_slice(&bytes)?;
    let reply = completion
        .choices
        .first()
        .and_then(|c| c.message.content.as_deref())
        .unwrap_or("(no text)");
    println!("reply:      {reply}");
    println!("status:     {}", status.as_u16());
    println!("request id: {request_id}");
    println!("model:      {}", completion.model);
    if let Some(u) = &completion.usage {
        println!(
            "usage:      {} prompt + {} completion = {} tokens",
            u.prompt_tokens, u.completion_tokens, u.total_tokens
        );
    }

    req["stream"] = serde_json::Value::Bool(true);
    let resp = agent
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .send(serde_json::to_vec(&req)?)?;
    if !resp.status().is_success() {
        return Err(format!("stream: {}", resp.status()).into());
    }
    print!("streamed:   ");
    let mut out = std::io::stdout();
    out.flush()?;
    let mut reader = BufReader::new(resp.into_body().into_reader());
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let Some(data) = line.strip_prefix(b"data:") else {
            continue;
        };
        let data = data.trim_ascii();
        if data == b"[DONE]" {
            break;
        }
        let chunk: Chunk = serde_json::from_slice(data)?;
        if let Some(text) = chunk
            .choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
        {
            print!("{text}");
            out.flush()?;
        }
    }
    println!();
    Ok(())
}
