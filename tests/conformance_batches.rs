#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking
//! The Files and Batches requests against the official OpenAPI spec, checked by Prism.
//!
//! Run by `scripts/prism.sh`, which copies the Files and Batches operations of the full spec
//! into the one Prism serves (`scripts/add_spec_operations.py`) and sets `PRISM_URL`.
//! Without `PRISM_URL` every test here prints "skipped" and passes, so `cargo test` stays
//! offline.
//!
//! 1. Every request shape of the Files and Batch operations is sent (the multipart upload
//!    with each purpose and with an expiry, every list parameter, batch creation with
//!    metadata and an output expiry, get, cancel, content, delete); Prism answers 422 with
//!    the violations when one does not conform.
//! 2. Prism rejects what the spec forbids (a completion window other than `24h`, an unknown
//!    purpose in the multipart form), so the validation is real.
//! 3. Prism's random schema-valid bodies (`Prefer: dynamic=true`) decode into the typed
//!    batch and file objects, with every status and purpose in a known variant, and survive
//!    a round trip.
//!
//! Prism 5.16 does not check the bracketed fields of a multipart form: an upload with
//! `expires_after[seconds]` under the spec's 3600 s minimum still gets a 2xx. Their names
//! (bracket notation, as form encoding nests an object) are pinned by `tests/batches.rs`.

use sync_openai::types::{
    Batch, BatchRequestInput, BatchStatus, ChatCompletionRequestMessage as Message,
    CreateBatchRequest, CreateChatCompletionRequest, CreateFileRequest, FilePurpose, FileStatus,
    ListBatchesParams, ListFilesParams, OpenAIFile, Order,
};
use sync_openai::{BatchApi, Error, FilesApi, RequestOptions};

use crate::common;
use common::prism::{
    client, decode_many, describe, dynamic_per_operation, prism_url, violations, Tally,
};

fn hello(id: &str) -> BatchRequestInput {
    BatchRequestInput::chat(
        id,
        CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")]),
    )
}

#[test]
fn every_files_and_batches_request_is_valid_under_the_spec() {
    let Some(url) = prism_url("every_files_and_batches_request_is_valid_under_the_spec") else {
        return;
    };
    let api = BatchApi::from(&client(&url));
    let mut t = Tally::default();
    let jsonl = sync_openai::batch::batch_jsonl(&[hello("a"), hello("b")]).unwrap();
    for purpose in [
        "assistants",
        "batch",
        "fine-tune",
        "vision",
        "user_data",
        "evals",
    ] {
        let upload =
            CreateFileRequest::new("input.jsonl", jsonl.clone(), FilePurpose::from(purpose));
        t.check(
            &format!("upload_file purpose {purpose}"),
            FilesApi::from(&api).upload_file_with_http_info(&upload),
        );
    }
    let upload = CreateFileRequest::new("input.jsonl", jsonl.clone(), FilePurpose::Batch)
        .expires_after_seconds(3600);
    t.check(
        "upload_file with expires_after",
        FilesApi::from(&api).upload_file_with_http_info(&upload),
    );
    let upload = CreateFileRequest::new(
        "notes \"2025\".txt",
        b"plain text".to_vec(),
        FilePurpose::UserData,
    );
    t.check(
        "upload_file with a quoted file name",
        FilesApi::from(&api).upload_file_with_http_info(&upload),
    );
    t.check(
        "get_file",
        FilesApi::from(&api).get_file_with_http_info("file-abc123"),
    );
    t.check(
        "file_content",
        FilesApi::from(&api).file_content_with_http_info("file-abc123"),
    );
    t.check(
        "delete_file",
        FilesApi::from(&api).delete_file_with_http_info("file-abc123"),
    );
    t.check(
        "list_files",
        FilesApi::from(&api).list_files_with_http_info(&ListFilesParams::new()),
    );
    let params = ListFilesParams::new()
        .purpose("batch")
        .limit(100)
        .order(Order::Asc)
        .after("file-abc123");
    t.check(
        "list_files with every parameter",
        FilesApi::from(&api).list_files_with_http_info(&params),
    );
    let params = ListFilesParams::new().order(Order::Desc);
    t.check(
        "list_files order desc",
        FilesApi::from(&api).list_files_with_http_info(&params),
    );

    let create = CreateBatchRequest::chat_completions("file-abc123");
    t.check("create_batch", api.create_batch_with_http_info(&create));
    let create = CreateBatchRequest::chat_completions("file-abc123")
        .metadata([("job", "nightly"), ("owner", "team-a")])
        .output_expires_after_seconds(86_400);
    t.check(
        "create_batch with metadata and output_expires_after",
        api.create_batch_with_http_info(&create),
    );
    t.check("get_batch", api.get_batch_with_http_info("batch_abc123"));
    t.check(
        "cancel_batch",
        api.cancel_batch_with_http_info("batch_abc123"),
    );
    t.check(
        "list_batches",
        api.list_batches_with_http_info(&ListBatchesParams::new()),
    );
    let params = ListBatchesParams::new().after("batch_abc123").limit(100);
    t.check(
        "list_batches with after and limit",
        api.list_batches_with_http_info(&params),
    );
    // The composite: upload then create, each validated.
    match api.start_chat_batch(&[hello("a"), hello("b")], [("k", "v")]) {
        Ok(_) => t.validated += 2,
        Err(e) => t
            .failures
            .push(format!("start_chat_batch: {}", describe(&e))),
    }
    println!(
        "files and batches: {} request shapes validated by Prism",
        t.validated
    );
    assert!(
        t.failures.is_empty(),
        "{} failed validation:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}

#[test]
fn prism_rejects_what_the_files_and_batches_spec_forbids() {
    let Some(url) = prism_url("prism_rejects_what_the_files_and_batches_spec_forbids") else {
        return;
    };
    let api = BatchApi::from(&client(&url));
    let expect_422 = |what: &str, result: Result<(), Error>, field: &str| match result {
        Err(Error::Api(e)) if e.status == 422 => {
            let list = violations(&e.body);
            assert!(
                list.contains(field),
                "{what}: 422 without a violation at {field}:\n{list}"
            );
            println!("{what}: rejected as expected:\n{list}");
        }
        Err(e) => panic!("{what}: expected 422, got {}", describe(&e)),
        Ok(()) => panic!("{what}: expected 422, got a 2xx"),
    };
    let create = CreateBatchRequest::chat_completions("file-abc123").completion_window("48h");
    expect_422(
        "completion_window 48h",
        api.create_batch(&create).map(drop),
        "completion_window",
    );
    let upload = CreateFileRequest::new(
        "input.jsonl",
        b"{}\n".to_vec(),
        FilePurpose::from("nonsense"),
    );
    expect_422(
        "purpose nonsense",
        FilesApi::from(&api).upload_file(&upload).map(drop),
        "purpose",
    );
}

fn check_batch(b: &Batch) -> Result<(), String> {
    match &b.status {
        Some(BatchStatus::Other(s)) => Err(format!("status {s:?} is not a known BatchStatus")),
        _ if b.object != "batch" => Err(format!("object {:?}", b.object)),
        _ => Ok(()),
    }
}

fn check_file(f: &OpenAIFile) -> Result<(), String> {
    if let Some(FilePurpose::Other(p)) = &f.purpose {
        return Err(format!("purpose {p:?} is not a known FilePurpose"));
    }
    if let Some(FileStatus::Other(s)) = &f.status {
        return Err(format!("status {s:?} is not a known FileStatus"));
    }
    Ok(())
}

#[test]
fn random_batch_and_file_bodies_decode() {
    let Some(url) = prism_url("random_batch_and_file_bodies_decode") else {
        return;
    };
    let n = dynamic_per_operation();
    let api = BatchApi::from(&client(&url))
        .with_options(RequestOptions::new().header("Prefer", "dynamic=true"));
    let mut failures = Vec::new();
    failures.extend(
        decode_many(
            "get_batch",
            n,
            || api.get_batch("batch_abc123"),
            check_batch,
        )
        .1,
    );
    failures.extend(
        decode_many(
            "list_batches",
            n,
            || api.list_batches(&ListBatchesParams::new()),
            |page| page.data.iter().try_for_each(check_batch),
        )
        .1,
    );
    failures.extend(
        decode_many(
            "get_file",
            n,
            || FilesApi::from(&api).get_file("file-abc123"),
            check_file,
        )
        .1,
    );
    failures.extend(
        decode_many(
            "list_files",
            n,
            || FilesApi::from(&api).list_files(&ListFilesParams::new()),
            |page| page.data.iter().try_for_each(check_file),
        )
        .1,
    );
    failures.extend(
        decode_many(
            "delete_file",
            n,
            || FilesApi::from(&api).delete_file("file-abc123"),
            |d| match d.object.as_str() {
                "file" => Ok(()),
                other => Err(format!("object {other:?}")),
            },
        )
        .1,
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
