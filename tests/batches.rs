#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! The Files and Batch APIs against a local fake of both (stateful: files are stored, a
//! batch walks through a scripted list of statuses, one step per poll, and writes its
//! output and error files when it ends).

use crate::common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{FakeClock, Request, Response, Server};
use serde_json::{json, Value};
use sync_openai::batch::{BatchFile, WaitOptions};
use sync_openai::types::{
    BatchRequestInput, BatchStatus, ChatCompletionRequestMessage as Message,
    CreateChatCompletionRequest, CreateFileRequest, FilePurpose, ListBatchesParams,
    ListFilesParams,
};
use sync_openai::{BatchApi, Config, Error, FilesApi};

#[derive(Default)]
struct Fake {
    files: BTreeMap<String, (Value, Vec<u8>)>,
    batches: Vec<FakeBatch>,
    /// The statuses a new batch goes through, one per poll.
    script: Vec<&'static str>,
    /// Extra lines the output file gets when the batch ends.
    extra_output: Vec<String>,
    requests: Vec<Request>,
    next_id: usize,
}

struct FakeBatch {
    object: Value,
    steps: Vec<&'static str>,
}

impl Fake {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    fn add_file(&mut self, filename: &str, purpose: &str, bytes: Vec<u8>) -> Value {
        let id = self.id("file");
        let object = json!({"id": id, "object": "file", "bytes": bytes.len(), "created_at": 1_700_000_000,
                            "filename": filename, "purpose": purpose, "status": "processed"});
        self.files.insert(id, (object.clone(), bytes));
        object
    }

    /// Moves a batch one step on; when it reaches an end, writes its files.
    fn advance(&mut self, index: usize) -> Value {
        let next = match self.batches[index].steps.is_empty() {
            true => None,
            false => Some(self.batches[index].steps.remove(0)),
        };
        if let Some(status) = next {
            self.batches[index].object["status"] = json!(status);
            if matches!(status, "completed" | "expired" | "cancelled") {
                self.finish(index, status);
            }
            if status == "failed" {
                self.batches[index].object["errors"] = json!({"object": "list", "data": [
                    {"code": "invalid_json_line", "message": "line 2 is not valid JSON", "line": 2, "param": null}]});
            }
        }
        self.batches[index].object.clone()
    }

    /// The answers: `fail-*` ids a 400 in the error file, `late-*` ids (and every id not
    /// yet run when the batch expired or was cancelled) `batch_expired`, the rest a
    /// completion echoing the prompt.
    fn finish(&mut self, index: usize, status: &str) {
        let input_id = self.batches[index].object["input_file_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let input = String::from_utf8(self.files[&input_id].1.clone()).unwrap();
        let (mut output, mut errors) = (String::new(), String::new());
        let (mut ok, mut failed) = (0, 0);
        for (n, line) in input.lines().enumerate() {
            let line: Value = serde_json::from_str(line).unwrap();
            let id = line["custom_id"].as_str().unwrap();
            let prompt = line["body"]["messages"][0]["content"].as_str().unwrap();
            let not_run = id.starts_with("late-") || (status != "completed" && n >= 2);
            if not_run {
                failed += 1;
                errors += &format!(
                    "{}\n",
                    json!({"id": format!("batch_req_{n}"), "custom_id": id, "response": null,
                    "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}})
                );
            } else if id.starts_with("fail-") {
                failed += 1;
                errors += &format!(
                    "{}\n",
                    json!({"id": format!("batch_req_{n}"), "custom_id": id,
                    "response": {"status_code": 400, "request_id": format!("req_{n}"),
                                 "body": {"error": {"message": "Invalid 'messages': empty.", "type": "invalid_request_error", "param": "messages", "code": null}}},
                    "error": null})
                );
            } else {
                ok += 1;
                output += &format!(
                    "{}\n",
                    json!({"id": format!("batch_req_{n}"), "custom_id": id,
                    "response": {"status_code": 200, "request_id": format!("req_{n}"),
                                 "body": {"id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                                          "choices": [{"index": 0, "message": {"role": "assistant", "content": format!("echo: {prompt}")}, "finish_reason": "stop"}],
                                          "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}},
                    "error": null})
                );
            }
        }
        for extra in self.extra_output.clone() {
            output += &format!("{extra}\n");
        }
        let counts = json!({"total": ok + failed, "completed": ok, "failed": failed});
        self.batches[index].object["request_counts"] = counts;
        if !output.is_empty() {
            let file = self.add_file("batch_output.jsonl", "batch_output", output.into_bytes());
            self.batches[index].object["output_file_id"] = file["id"].clone();
        }
        if !errors.is_empty() {
            let file = self.add_file("batch_errors.jsonl", "batch_output", errors.into_bytes());
            self.batches[index].object["error_file_id"] = file["id"].clone();
        }
    }

    fn handle(&mut self, req: &Request) -> Response {
        self.requests.push(req.clone());
        let path = req.path().strip_prefix("/v1").unwrap_or("").to_owned();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let query = parse_query(req.query());
        let not_found = || {
            Response::json(
                404,
                r#"{"error":{"message":"No such object","type":"invalid_request_error"}}"#,
            )
        };
        match (req.method(), segments.as_slice()) {
            ("POST", ["files"]) => {
                let form = parse_multipart(req);
                let (name, bytes) = form["file"].clone();
                let purpose = String::from_utf8(form["purpose"].1.clone()).unwrap();
                Response::json(
                    200,
                    self.add_file(&name.unwrap(), &purpose, bytes).to_string(),
                )
            }
            ("GET", ["files"]) => {
                let data: Vec<Value> = self.files.values().map(|(o, _)| o.clone()).collect();
                Response::json(
                    200,
                    json!({"object": "list", "data": data, "has_more": false}).to_string(),
                )
            }
            ("GET", ["files", id]) => match self.files.get(*id) {
                Some((object, _)) => Response::json(200, object.to_string()),
                None => not_found(),
            },
            ("GET", ["files", id, "content"]) => match self.files.get(*id) {
                Some((_, bytes)) => Response {
                    status: 200,
                    headers: vec![("content-type".into(), "application/octet-stream".into())],
                    body: bytes.clone(),
                },
                None => not_found(),
            },
            ("DELETE", ["files", id]) => match self.files.remove(*id) {
                Some(_) => Response::json(
                    200,
                    json!({"id": id, "object": "file", "deleted": true}).to_string(),
                ),
                None => not_found(),
            },
            ("POST", ["batches"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let Some(input) = body["input_file_id"].as_str() else {
                    return not_found();
                };
                if !self.files.contains_key(input) {
                    return not_found();
                }
                let id = self.id("batch");
                let mut steps = self.script.clone();
                let first = if steps.is_empty() {
                    "validating"
                } else {
                    steps.remove(0)
                };
                let object = json!({"id": id, "object": "batch", "endpoint": body["endpoint"], "errors": null,
                    "input_file_id": input, "completion_window": body["completion_window"], "status": first,
                    "created_at": 1_700_000_000, "metadata": body.get("metadata").cloned().unwrap_or(Value::Null),
                    "request_counts": {"total": 0, "completed": 0, "failed": 0}});
                self.batches.push(FakeBatch {
                    object: object.clone(),
                    steps,
                });
                Response::json(200, object.to_string())
            }
            ("GET", ["batches"]) => {
                let limit: usize = query.get("limit").map_or(20, |l| l.parse().unwrap());
                let start = match query.get("after") {
                    Some(after) => {
                        self.batches
                            .iter()
                            .position(|b| b.object["id"] == after.as_str())
                            .unwrap()
                            + 1
                    }
                    None => 0,
                };
                let page: Vec<Value> = self
                    .batches
                    .iter()
                    .skip(start)
                    .take(limit)
                    .map(|b| b.object.clone())
                    .collect();
                let has_more = start + page.len() < self.batches.len();
                let last = page.last().map(|b| b["id"].clone());
                Response::json(200, json!({"object": "list", "data": page, "first_id": null, "last_id": last, "has_more": has_more}).to_string())
            }
            ("GET", ["batches", id]) => {
                match self.batches.iter().position(|b| b.object["id"] == *id) {
                    Some(i) => Response::json(200, self.advance(i).to_string()),
                    None => not_found(),
                }
            }
            ("POST", ["batches", id, "cancel"]) => {
                match self.batches.iter().position(|b| b.object["id"] == *id) {
                    Some(i) => {
                        self.batches[i].object["status"] = json!("cancelling");
                        self.batches[i].steps = vec!["cancelled"];
                        Response::json(200, self.batches[i].object.to_string())
                    }
                    None => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}

fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The fields of a `multipart/form-data` body: name → (file name, bytes).
fn parse_multipart(req: &Request) -> BTreeMap<String, (Option<String>, Vec<u8>)> {
    let content_type = req.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(body.ends_with(&format!("--{boundary}--\r\n")), "{body}");
    let mut fields = BTreeMap::new();
    for part in body.split(&format!("--{boundary}")).skip(1) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap();
        let name = head
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let filename = head
            .split("filename=\"")
            .nth(1)
            .map(|f| f.split('"').next().unwrap().to_owned());
        fields.insert(name.to_owned(), (filename, content.as_bytes().to_vec()));
    }
    fields
}

fn start(script: &[&'static str], extra_output: &[String]) -> (Server, Arc<Mutex<Fake>>, BatchApi) {
    let fake = Arc::new(Mutex::new(Fake {
        script: script.to_vec(),
        extra_output: extra_output.to_vec(),
        ..Fake::default()
    }));
    let shared = Arc::clone(&fake);
    let server = Server::handler(move |req| shared.lock().unwrap().handle(req));
    let api = BatchApi::new(
        Config::new()
            .api_key("sk-test")
            .base_url(server.base_url())
            .max_retries(0),
    );
    (server, fake, api)
}

fn lines(ids: &[&str]) -> Vec<BatchRequestInput> {
    ids.iter()
        .map(|id| {
            BatchRequestInput::chat(
                *id,
                CreateChatCompletionRequest::new(
                    "gpt-4o-mini",
                    vec![Message::user(format!("prompt {id}"))],
                ),
            )
        })
        .collect()
}

fn content(
    result: &Result<sync_openai::types::CreateChatCompletionResponse, sync_openai::error::ApiError>,
) -> String {
    result.as_ref().unwrap().choices[0]
        .message
        .content
        .as_deref()
        .unwrap()
        .to_owned()
}

#[test]
fn upload_sends_a_multipart_form() {
    let (_server, fake, api) = start(&[], &[]);
    let upload = CreateFileRequest::new("input.jsonl", b"{\"a\":1}\n".to_vec(), FilePurpose::Batch)
        .expires_after_seconds(3600);
    let file = FilesApi::from(&api)
        .upload_file_with_http_info(&upload)
        .unwrap();
    assert_eq!(file.status, 200);
    assert_eq!(file.data.filename, "input.jsonl");
    assert_eq!(file.data.bytes, 8);
    assert_eq!(file.data.purpose, Some(FilePurpose::Batch));
    let fake = fake.lock().unwrap();
    let sent = &fake.requests[0];
    assert_eq!((sent.method(), sent.path()), ("POST", "/v1/files"));
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test"));
    let form = parse_multipart(sent);
    assert_eq!(form["purpose"], (None, b"batch".to_vec()));
    assert_eq!(
        form["file"],
        (Some("input.jsonl".to_owned()), b"{\"a\":1}\n".to_vec())
    );
    assert_eq!(form["expires_after[anchor]"].1, b"created_at");
    assert_eq!(form["expires_after[seconds]"].1, b"3600");
    assert!(String::from_utf8_lossy(&sent.body).contains("Content-Type: application/jsonl\r\n"));
}

#[test]
fn completed_batch_with_partial_failures_a_broken_line_and_an_unknown_id() {
    let extra = vec!["this line is not JSON".to_owned(), json!({"id": "batch_req_x", "custom_id": "stranger", "response": {"status_code": 200, "body": {}}}).to_string()];
    let (_server, fake, api) = start(
        &["validating", "in_progress", "finalizing", "completed"],
        &extra,
    );
    let ids = ["ok-1", "ok-2", "fail-3", "late-4", "ok-5"];
    let batch = api
        .start_chat_batch(&lines(&ids), [("job", "nightly")])
        .unwrap();
    assert_eq!(batch.status, Some(BatchStatus::Validating));
    assert_eq!(batch.metadata.as_ref().unwrap()["job"], "nightly");

    // What was uploaded and created.
    {
        let fake = fake.lock().unwrap();
        let form = parse_multipart(&fake.requests[0]);
        let jsonl = String::from_utf8(form["file"].1.clone()).unwrap();
        let first: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        assert_eq!(
            first,
            json!({"custom_id": "ok-1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "prompt ok-1"}]}})
        );
        assert_eq!(jsonl.lines().count(), 5);
        let create: Value = serde_json::from_slice(&fake.requests[1].body).unwrap();
        assert_eq!(
            create,
            json!({"input_file_id": batch.input_file_id, "endpoint": "/v1/chat/completions",
            "completion_window": "24h", "metadata": {"job": "nightly"}})
        );
    }

    let clock = FakeClock::new();
    let mut seen = Vec::new();
    let options = WaitOptions::new()
        .first_interval(Duration::from_secs(2))
        .max_interval(Duration::from_secs(5))
        .clock(clock.clone());
    let done = api
        .wait_batch(&batch.id, &options, |b| {
            seen.push(b.status.clone().unwrap())
        })
        .unwrap();
    assert_eq!(
        seen,
        [
            BatchStatus::InProgress,
            BatchStatus::Finalizing,
            BatchStatus::Completed
        ]
    );
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(2), Duration::from_secs(4)]
    );
    assert!(done.is_terminal());
    assert_eq!(
        (
            done.request_counts.total,
            done.request_counts.completed,
            done.request_counts.failed
        ),
        (5, 3, 2)
    );

    let results = api.batch_results(&done, &ids).unwrap();
    assert_eq!(content(&results.results["ok-1"]), "echo: prompt ok-1");
    assert_eq!(content(&results.results["ok-5"]), "echo: prompt ok-5");
    let failed = results.results["fail-3"].as_ref().unwrap_err();
    assert_eq!(failed.status, 400);
    assert_eq!(failed.message(), "Invalid 'messages': empty.");
    assert_eq!(failed.param(), Some("messages"));
    assert_eq!(failed.request_id(), Some("req_2"));
    let late = results.results["late-4"].as_ref().unwrap_err();
    assert_eq!((late.status, late.code()), (0, Some("batch_expired")));
    assert_eq!(results.results.len(), 5);
    assert!(results.missing.is_empty());
    assert_eq!(results.problems.len(), 2, "{:?}", results.problems);
    let broken = &results.problems[0];
    assert_eq!(
        (broken.file, broken.line, broken.custom_id.as_deref()),
        (BatchFile::Output, 4, None)
    );
    assert!(
        broken.reason.starts_with("the line is not a batch result"),
        "{}",
        broken.reason
    );
    assert_eq!(broken.text, "this line is not JSON");
    let stranger = &results.problems[1];
    assert_eq!(
        (stranger.line, stranger.custom_id.as_deref()),
        (5, Some("stranger"))
    );
    assert_eq!(
        stranger.reason,
        "the custom_id is not one of the batch's requests"
    );

    // Cleaning up deletes the input, output and error files.
    assert_eq!(fake.lock().unwrap().files.len(), 3);
    api.delete_batch_files(&done).unwrap();
    assert!(fake.lock().unwrap().files.is_empty());
}

#[test]
fn failed_batch_reports_its_validation_errors() {
    let (_server, _fake, api) = start(&["validating", "failed"], &[]);
    let batch = api
        .start_chat_batch(&lines(&["a", "b"]), [("k", "v")])
        .unwrap();
    let done = api
        .wait_batch(
            &batch.id,
            &WaitOptions::new().clock(FakeClock::new()),
            |_| {},
        )
        .unwrap();
    assert_eq!(done.status, Some(BatchStatus::Failed));
    let errors = done.errors.clone().unwrap().data;
    assert_eq!(errors[0].code.as_deref(), Some("invalid_json_line"));
    assert_eq!(errors[0].line, Some(2));
    let results = api.batch_results(&done, &["a", "b"]).unwrap();
    assert!(results.results.is_empty());
    assert_eq!(results.missing, ["a", "b"]);
}

#[test]
fn expired_batch_has_partial_output_and_expired_requests() {
    let (_server, _fake, api) = start(&["in_progress", "in_progress", "expired"], &[]);
    let ids = ["a", "b", "c", "d"];
    let batch = api
        .start_chat_batch(&lines(&ids), Vec::<(String, String)>::new())
        .unwrap();
    let clock = FakeClock::new();
    let done = api
        .wait_batch(&batch.id, &WaitOptions::new().clock(clock.clone()), |_| {})
        .unwrap();
    assert_eq!(done.status, Some(BatchStatus::Expired));
    // Created in_progress; polled in_progress, then expired: one wait.
    assert_eq!(clock.sleeps(), [Duration::from_secs(5)]);
    let results = api.batch_results(&done, &ids).unwrap();
    assert_eq!(content(&results.results["a"]), "echo: prompt a");
    assert_eq!(content(&results.results["b"]), "echo: prompt b");
    for id in ["c", "d"] {
        let e = results.results[id].as_ref().unwrap_err();
        assert_eq!(e.code(), Some("batch_expired"));
        assert!(e.message().contains("completion window expired"));
    }
}

#[test]
fn cancelled_batch_goes_through_cancelling() {
    let (_server, fake, api) = start(&["in_progress", "in_progress", "in_progress"], &[]);
    let batch = api
        .start_chat_batch(&lines(&["a", "b", "c"]), [("k", "v")])
        .unwrap();
    let cancelling = api.cancel_batch_with_http_info(&batch.id).unwrap();
    assert_eq!(cancelling.data.status, Some(BatchStatus::Cancelling));
    let sent = fake.lock().unwrap().requests.last().unwrap().clone();
    assert_eq!(
        (sent.method(), sent.path()),
        ("POST", format!("/v1/batches/{}/cancel", batch.id).as_str())
    );
    let done = api
        .wait_batch(
            &batch.id,
            &WaitOptions::new().clock(FakeClock::new()),
            |_| {},
        )
        .unwrap();
    assert_eq!(done.status, Some(BatchStatus::Cancelled));
    let results = api.batch_results(&done, &["a", "b", "c"]).unwrap();
    assert!(results.results["a"].is_ok() && results.results["b"].is_ok());
    assert_eq!(
        results.results["c"].as_ref().unwrap_err().code(),
        Some("batch_expired")
    );
}

#[test]
fn wait_stops_at_its_timeout_and_unknown_statuses_do_not_end_it() {
    let steps = ["paused_by_vendor"; 50];
    let (_server, _fake, api) = start(&steps, &[]);
    let batch = api.start_chat_batch(&lines(&["a"]), [("k", "v")]).unwrap();
    let clock = FakeClock::new();
    let options = WaitOptions::new()
        .timeout(Duration::from_secs(60))
        .clock(clock.clone());
    let mut polls = 0;
    let last = api.wait_batch(&batch.id, &options, |_| polls += 1).unwrap();
    assert!(!last.is_terminal());
    assert_eq!(
        last.status.as_ref().map(BatchStatus::as_str),
        Some("paused_by_vendor")
    );
    // 5 + 10 + 20 + 25 (cut at the timeout) = 60 s, five polls.
    assert_eq!(polls, 5);
    assert_eq!(clock.elapsed(), Duration::from_secs(60));
}

#[test]
fn batches_and_files_list_across_pages() {
    let (_server, fake, api) = start(&[], &[]);
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            api.start_chat_batch(&lines(&[&format!("r{n}")]), [("n", n.to_string())])
                .unwrap()
                .id,
        );
    }
    let listed: Vec<String> = api
        .iter_batches(ListBatchesParams::new().limit(2))
        .map(|b| b.unwrap().id)
        .collect();
    assert_eq!(listed, ids);
    let pages: Vec<Option<String>> = fake
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.method() == "GET" && r.path() == "/v1/batches")
        .map(|r| r.query().map(str::to_owned))
        .collect();
    assert_eq!(
        pages,
        [
            Some("limit=2".to_owned()),
            Some(format!("after={}&limit=2", ids[1])),
            Some(format!("after={}&limit=2", ids[3]))
        ]
    );
    let file_api = FilesApi::from(&api);
    let files: Vec<_> = file_api
        .iter_files(ListFilesParams::new().purpose("batch"))
        .map(|f| f.unwrap())
        .collect();
    assert_eq!(files.len(), 5);
    assert_eq!(
        file_api.get_file(&files[0].id).unwrap().filename,
        "batch-input.jsonl"
    );
    assert!(file_api
        .file_content(&files[0].id)
        .unwrap()
        .starts_with(b"{\"custom_id\":\"r0\""));
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let (_server, fake, api) = start(&[], &[]);
    let twice = lines(&["a", "a"]);
    match api.start_chat_batch(&twice, [("k", "v")]) {
        Err(Error::InvalidRequest(e)) => assert_eq!(
            e.to_string(),
            "the custom_id \"a\" is used twice: ids must be unique within a batch"
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(api.get_batch(".."), Err(Error::InvalidRequest(_))));
    assert!(matches!(
        FilesApi::from(&api).delete_file(""),
        Err(Error::InvalidRequest(_))
    ));
    assert!(fake.lock().unwrap().requests.is_empty());
    // An id with a slash stays one path segment.
    let e = api.get_batch("batch/../files").unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert_eq!(
        fake.lock().unwrap().requests[0].path(),
        "/v1/batches/batch%2F..%2Ffiles"
    );
}
