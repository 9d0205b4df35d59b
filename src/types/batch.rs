//! The Batch API: batch objects, their creation and listing, and the JSONL lines of a batch's
//! input, output and error files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::de::{lenient_metadata, lenient_opt_u64, lenient_string, lenient_u64, null_default};
use super::enums::open_enum;
use super::files::FileExpirationAfter;
use super::list::List;
use super::list::{sealed, ListFilter, ListParams};
use super::request::CreateChatCompletionRequest;

open_enum! {
    /// The status of a batch (`Batch.status`).
    pub enum BatchStatus {
        /// `validating`: the input file is being validated.
        Validating => "validating",
        /// `failed`: the input file failed validation.
        Failed => "failed",
        /// `in_progress`: requests are being run.
        InProgress => "in_progress",
        /// `finalizing`: the requests are done and the results are being prepared.
        Finalizing => "finalizing",
        /// `completed`: the output and error files are ready.
        Completed => "completed",
        /// `expired`: the batch did not finish within its completion window.
        Expired => "expired",
        /// `cancelling`: cancellation was asked for.
        Cancelling => "cancelling",
        /// `cancelled`: the batch was cancelled.
        Cancelled => "cancelled",
    }
}

impl BatchStatus {
    /// Whether the batch will not change any more: `completed`, `failed`, `expired` or
    /// `cancelled`. An unknown status counts as not final.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Expired | Self::Cancelled
        )
    }
}

/// How many requests of a batch are done (`BatchRequestCounts`); missing counts are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchRequestCounts {
    /// Total number of requests in the batch.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total: u64,
    /// Number of requests that have been completed successfully.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub completed: u64,
    /// Number of requests that have failed.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub failed: u64,
}

/// An error of a batch or of one of its requests (`BatchError`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchError {
    /// An error code identifying the error type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A human-readable message providing more details about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The name of the parameter that caused the error, if applicable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The line number of the input file where the error occurred, if applicable.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub line: Option<u64>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The validation errors of a batch (`Batch.errors`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchErrors {
    /// Always `list`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// The errors.
    #[serde(default, deserialize_with = "null_default")]
    pub data: Vec<BatchError>,
}

/// A batch of requests run by the provider within its completion window (`Batch`).
///
/// Lenient like the chat types: an unknown status is kept in [`BatchStatus::Other`], missing
/// counts and timestamps are 0 or `None`, and vendor fields land in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Batch {
    /// The batch identifier.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: String,
    /// Always `batch`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// The API endpoint used by the batch, e.g. `/v1/chat/completions`.
    #[serde(default, deserialize_with = "null_default")]
    pub endpoint: String,
    /// The model used to process the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Validation errors of the input file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<BatchErrors>,
    /// The id of the input file.
    #[serde(default, deserialize_with = "null_default")]
    pub input_file_id: String,
    /// The time frame within which the batch should be processed, e.g. `24h`.
    #[serde(default, deserialize_with = "null_default")]
    pub completion_window: String,
    /// The current status; `None` when the server sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BatchStatus>,
    /// The id of the file with the outputs of the requests that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file_id: Option<String>,
    /// The id of the file with the outputs of the requests that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_file_id: Option<String>,
    /// Unix seconds: created.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub created_at: u64,
    /// Unix seconds: started processing.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub in_progress_at: Option<u64>,
    /// Unix seconds: will expire.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<u64>,
    /// Unix seconds: started finalizing.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub finalizing_at: Option<u64>,
    /// Unix seconds: completed.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<u64>,
    /// Unix seconds: failed.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub failed_at: Option<u64>,
    /// Unix seconds: expired.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expired_at: Option<u64>,
    /// Unix seconds: started cancelling.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cancelling_at: Option<u64>,
    /// Unix seconds: cancelled.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cancelled_at: Option<u64>,
    /// How many requests are done; all 0 when the server sent none.
    #[serde(default, deserialize_with = "null_default")]
    pub request_counts: BatchRequestCounts,
    /// Token usage (input, output, total and their details), as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
    /// The metadata the batch was created with.
    #[serde(
        default,
        deserialize_with = "lenient_metadata",
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Batch {
    /// Whether the batch will not change any more (see [`BatchStatus::is_terminal`]).
    pub fn is_terminal(&self) -> bool {
        self.status.as_ref().is_some_and(BatchStatus::is_terminal)
    }
}

/// The body of `POST /batches` (`CreateBatchRequest`).
///
/// # Examples
///
/// ```
/// use sync_openai::types::CreateBatchRequest;
///
/// let req = CreateBatchRequest::chat_completions("file-abc123").metadata([("job", "nightly")]);
/// assert_eq!(serde_json::to_value(&req).unwrap(), serde_json::json!({
///     "input_file_id": "file-abc123",
///     "endpoint": "/v1/chat/completions",
///     "completion_window": "24h",
///     "metadata": {"job": "nightly"},
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateBatchRequest {
    /// The id of an uploaded file (purpose `batch`) with the requests.
    pub input_file_id: String,
    /// The endpoint of every request of the batch, e.g. `/v1/chat/completions`.
    pub endpoint: String,
    /// The time frame within which the batch should be processed; only `24h` is supported.
    pub completion_window: String,
    /// Up to 16 key-value pairs attached to the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// When the output and error files expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_expires_after: Option<FileExpirationAfter>,
    /// Fields merged into the body as they are (vendor extensions).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateBatchRequest {
    /// A batch of chat completions from this input file, with the `24h` window.
    pub fn chat_completions(input_file_id: impl Into<String>) -> Self {
        Self {
            input_file_id: input_file_id.into(),
            endpoint: "/v1/chat/completions".to_owned(),
            completion_window: "24h".to_owned(),
            metadata: None,
            output_expires_after: None,
            extra: Map::new(),
        }
    }

    /// Sets [`completion_window`](#structfield.completion_window). Defaults to `24h`.
    pub fn completion_window(mut self, window: impl Into<String>) -> Self {
        self.completion_window = window.into();
        self
    }

    /// Sets [`metadata`](#structfield.metadata) from key-value pairs. Defaults to none.
    pub fn metadata<K, V>(mut self, metadata: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let map = metadata.into_iter().map(|(k, v)| (k.into(), v.into()));
        self.metadata = Some(map.collect());
        self
    }

    /// Sets [`output_expires_after`](#structfield.output_expires_after) to `seconds` after
    /// the files' creation. Defaults to the server's policy.
    pub fn output_expires_after_seconds(mut self, seconds: u64) -> Self {
        self.output_expires_after = Some(FileExpirationAfter::after_created(seconds));
        self
    }
}

/// One page of batches (`ListBatchesResponse`).
pub type ListBatchesResponse = List<Batch>;

/// Query parameters of `GET /batches`: `after` and `limit` (1 to 100; the server's default
/// is 20). The Batch API takes no `order`, so these parameters have no `order` setter.
pub type ListBatchesParams = ListParams<BatchesFilter>;

/// `GET /batches` has no filters and no `order`: the `filter` of a [`ListBatchesParams`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchesFilter {}

impl sealed::Sealed for BatchesFilter {}

impl ListFilter for BatchesFilter {
    fn push_pairs(&self, _: &mut Vec<(String, String)>) {}
}

/// One line of a batch's input file: a chat completion request under a custom id.
///
/// ```
/// use sync_openai::types::{BatchRequestInput, ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
///
/// let line = BatchRequestInput::chat("task-1", CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]));
/// assert_eq!(serde_json::to_string(&line).unwrap(),
///     r#"{"custom_id":"task-1","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchRequestInput {
    /// The id that keys this request's answer in the output; unique within the batch.
    pub custom_id: String,
    /// The HTTP method, `POST`.
    pub method: String,
    /// The endpoint path, `/v1/chat/completions`.
    pub url: String,
    /// The request.
    pub body: CreateChatCompletionRequest,
}

impl BatchRequestInput {
    /// A `POST /v1/chat/completions` line.
    pub fn chat(custom_id: impl Into<String>, body: CreateChatCompletionRequest) -> Self {
        Self {
            custom_id: custom_id.into(),
            method: "POST".to_owned(),
            url: "/v1/chat/completions".to_owned(),
            body,
        }
    }
}

/// The HTTP answer inside a line of a batch's output or error file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchResponse {
    /// The HTTP status code of the response.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub status_code: u64,
    /// An id for the request: quote it to the provider's support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The JSON body of the response.
    #[serde(default)]
    pub body: Value,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One line of a batch's output or error file, as received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchRequestOutput {
    /// The line's id.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// The custom id of the request this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    /// The HTTP answer, when the request was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<BatchResponse>,
    /// Why the request was not run (e.g. `batch_expired`), when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BatchError>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn batch_is_lenient() {
        let b: Batch = serde_json::from_value(json!({
            "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
            "status": "paused_by_vendor", "request_counts": null, "created_at": 1.0,
            "metadata": {"n": 3}, "vendor": true
        }))
        .unwrap();
        assert_eq!(
            b.status.as_ref().map(BatchStatus::as_str),
            Some("paused_by_vendor")
        );
        assert!(!b.is_terminal());
        assert_eq!(b.request_counts, BatchRequestCounts::default());
        assert_eq!(b.metadata.unwrap()["n"], "3");
        assert_eq!(b.extra["vendor"], true);
        let done: Batch = serde_json::from_value(json!({"status": "expired"})).unwrap();
        assert!(done.is_terminal());
    }
}
