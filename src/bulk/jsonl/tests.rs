//! The unit tests of the bulk JSONL helpers (lints relaxed on the `mod tests;` line).

use super::*;
use crate::error::{ApiError, Error, StoppedError};
use crate::http::HeaderMap;
use crate::response::ApiResponse;
use crate::types::CreateChatCompletionResponse;

const HI: &str = r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;

fn ids(requests: &[(String, CreateChatCompletionRequest)]) -> Vec<&str> {
    requests.iter().map(|(id, _)| id.as_str()).collect()
}

#[test]
fn batch_lines_keep_their_ids_and_bare_requests_are_known_by_line_number() {
    let jsonl = format!(
        "{{\"custom_id\":\"a\",\"body\":{HI}}}\n\n{HI}\n{{\"custom_id\":7,\"body\":{HI}}}\n"
    );
    let requests = read_requests(&jsonl).unwrap();
    assert_eq!(ids(&requests), ["a", "line-3", "line-4"]);
    let want: CreateChatCompletionRequest = serde_json::from_str(HI).unwrap();
    assert!(requests.iter().all(|(_, r)| *r == want));
    assert_eq!(read_requests("").unwrap(), []);
}

#[test]
fn a_duplicate_id_or_a_bad_line_is_refused_with_its_line_number() {
    let twice = format!("{{\"custom_id\":\"line-2\",\"body\":{HI}}}\n{HI}\n");
    let err = read_requests(&twice).unwrap_err();
    assert_eq!(err.line(), 2);
    assert_eq!(
        err.to_string(),
        r#"line 2: custom_id "line-2" appears twice (first on line 1)"#
    );
    let err = read_requests(&format!("{HI}\n{{\"model\":\"m\"")).unwrap_err();
    assert_eq!(err.line(), 2);
    assert!(err.to_string().starts_with("line 2: not JSON: "), "{err}");
    let err = read_requests("{\"custom_id\":\"x\",\"body\":{\"messages\":3}}").unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("line 1: not a chat completion request: "),
        "{message}"
    );
}

#[test]
fn an_answer_becomes_a_batch_api_response_line() {
    let data: CreateChatCompletionResponse = serde_json::from_str(
        r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}"#,
    )
    .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", "req_1".parse().unwrap());
    let result: BulkResult = Ok(ApiResponse::new(200, headers, data.clone()));
    let line = result_line("a", &result);
    assert_eq!(
        line,
        json!({"custom_id": "a", "response": {"status_code": 200, "request_id": "req_1",
            "body": serde_json::to_value(&data).unwrap()}})
    );
}

#[test]
fn an_error_line_says_its_status_and_whether_to_retry() {
    let body = br#"{"error":{"message":"Rate limit reached","type":"requests"}}"#;
    let limited: BulkResult = Err(Error::Api(Box::new(ApiError::new(
        429,
        HeaderMap::new(),
        body,
    ))));
    let line = result_line("a", &limited);
    assert_eq!(line["custom_id"], "a");
    assert_eq!(line["error"]["status"], 429);
    assert_eq!(line["error"]["retryable"], true);
    assert!(line["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Rate limit reached"));
    let stopped: BulkResult = Err(Error::Stopped(StoppedError {
        cancelled: true,
        sent: false,
    }));
    let line = result_line("b", &stopped);
    assert_eq!(line["error"]["status"], Value::Null);
    assert_eq!(line["error"]["retryable"], false);
}

#[test]
fn resume_keeps_finished_lines_and_drops_retryable_errors_and_a_cut_last_line() {
    let dir = std::env::temp_dir().join(format!("sync-openai-resume-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.jsonl");
    assert_eq!(resume_output(&path).unwrap(), HashSet::new());
    let answered = r#"{"custom_id":"a","response":{"status_code":200}}"#;
    let refused = r#"{"custom_id":"b","error":{"message":"bad","status":400,"retryable":false}}"#;
    let limited =
        r#"{"custom_id":"c","error":{"message":"slow down","status":429,"retryable":true}}"#;
    let text = format!("{answered}\n{limited}\n{refused}\n{{\"custom_id\":\"d\",\"resp");
    fs::write(&path, text).unwrap();
    let done = resume_output(&path).unwrap();
    assert_eq!(done, HashSet::from(["a".to_owned(), "b".to_owned()]));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{answered}\n{refused}\n")
    );
    assert!(!dir.join("out.jsonl.tmp").exists());

    let broken = format!("{answered}\n{{\"no_id\":1}}\n");
    fs::write(&path, &broken).unwrap();
    let err = resume_output(&path).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(err.to_string(), "line 2: an output line without custom_id");
    assert_eq!(fs::read_to_string(&path).unwrap(), broken, "left as it was");
    fs::remove_dir_all(&dir).unwrap();
}
