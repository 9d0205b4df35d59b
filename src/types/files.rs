//! The Files API: uploaded file objects, listings, deletion, and the upload's fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::de::{lenient_opt_u64, lenient_string, lenient_u64, null_default};
use super::enums::open_enum;
use super::list::List;
use super::list::{sealed, ListFilter, ListParams, Ordered};

open_enum! {
    /// The intended purpose of a file (`OpenAIFile.purpose`, `CreateFileRequest.purpose`).
    pub enum FilePurpose {
        /// `assistants`: used in the Assistants API.
        Assistants => "assistants",
        /// `assistants_output`: written by the Assistants API.
        AssistantsOutput => "assistants_output",
        /// `batch`: the input of a batch.
        Batch => "batch",
        /// `batch_output`: the output or error file of a batch.
        BatchOutput => "batch_output",
        /// `fine-tune`: used for fine-tuning.
        FineTune => "fine-tune",
        /// `fine-tune-results`: written by fine-tuning.
        FineTuneResults => "fine-tune-results",
        /// `vision`: images used for vision fine-tuning.
        Vision => "vision",
        /// `user_data`: flexible file type for any purpose.
        UserData => "user_data",
        /// `evals`: used for eval data sets.
        Evals => "evals",
    }
}

open_enum! {
    /// The (deprecated) processing status of a file (`OpenAIFile.status`).
    pub enum FileStatus {
        /// `uploaded`.
        Uploaded => "uploaded",
        /// `processed`.
        Processed => "processed",
        /// `error`.
        Error => "error",
    }
}

/// The `File` object: a document that has been uploaded (`OpenAIFile`).
///
/// Lenient like the chat types: missing counts and timestamps are 0, an unknown purpose or
/// status is kept in `Other`, and vendor fields land in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenAIFile {
    /// The file identifier, which can be referenced in the API endpoints.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: String,
    /// The object type, which is always `file`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// The size of the file, in bytes.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub bytes: u64,
    /// The Unix timestamp (in seconds) for when the file was created.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub created_at: u64,
    /// The Unix timestamp (in seconds) for when the file will expire.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<u64>,
    /// The name of the file.
    #[serde(default, deserialize_with = "null_default")]
    pub filename: String,
    /// The intended purpose of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<FilePurpose>,
    /// Deprecated: `uploaded`, `processed` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FileStatus>,
    /// Deprecated: details of a failed validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_details: Option<String>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of files (`ListFilesResponse`).
pub type ListFilesResponse = List<OpenAIFile>;

/// The result of deleting a file (`DeleteFileResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteFileResponse {
    /// The id of the deleted file.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: String,
    /// Always `file`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// Whether the file was deleted.
    #[serde(default, deserialize_with = "null_default")]
    pub deleted: bool,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// When an uploaded file expires (`FileExpirationAfter`): `seconds` after its creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileExpirationAfter {
    /// The anchor the expiry counts from; the only one the spec knows is `created_at`.
    pub anchor: String,
    /// Seconds after the anchor, between 3600 (1 hour) and 2592000 (30 days).
    pub seconds: u64,
}

impl FileExpirationAfter {
    /// Expires `seconds` after creation (`anchor: created_at`).
    pub fn after_created(seconds: u64) -> Self {
        Self {
            anchor: "created_at".to_owned(),
            seconds,
        }
    }
}

/// The fields of an upload (`CreateFileRequest`), sent as `multipart/form-data`.
///
/// The request struct is its builder: [`new`](Self::new) takes what is required.
///
/// # Examples
///
/// ```
/// use sync_openai::types::{CreateFileRequest, FilePurpose};
///
/// let upload = CreateFileRequest::new("batch.jsonl", b"{}\n".to_vec(), FilePurpose::Batch)
///     .expires_after_seconds(86_400);
/// assert_eq!(upload.filename, "batch.jsonl");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreateFileRequest {
    /// The file name the server records.
    pub filename: String,
    /// The file's bytes.
    pub file: Vec<u8>,
    /// The intended purpose of the uploaded file.
    pub purpose: FilePurpose,
    /// When the file expires; by default `batch` files expire after 30 days.
    pub expires_after: Option<FileExpirationAfter>,
}

impl CreateFileRequest {
    /// An upload of `file` under `filename` for `purpose`.
    pub fn new(
        filename: impl Into<String>,
        file: impl Into<Vec<u8>>,
        purpose: impl Into<FilePurpose>,
    ) -> Self {
        Self {
            filename: filename.into(),
            file: file.into(),
            purpose: purpose.into(),
            expires_after: None,
        }
    }

    /// Sets [`expires_after`](#structfield.expires_after) to `seconds` after creation.
    /// Defaults to the server's policy.
    pub fn expires_after_seconds(mut self, seconds: u64) -> Self {
        self.expires_after = Some(FileExpirationAfter::after_created(seconds));
        self
    }
}

/// Query parameters of `GET /files`: the [`purpose`](FilesFilter::purpose) filter, then
/// `after`, `limit` (1 to 10,000; the server's default is 10,000) and `order` (by
/// `created_at`; the server's default is `desc`).
///
/// ```
/// use sync_openai::types::ListFilesParams;
///
/// let p = ListFilesParams::new().purpose("batch").limit(100);
/// assert_eq!(p.query_pairs(), vec![
///     ("purpose".to_string(), "batch".to_string()),
///     ("limit".to_string(), "100".to_string()),
/// ]);
/// ```
pub type ListFilesParams = ListParams<FilesFilter>;

/// The filters of `GET /files`, the `filter` of a [`ListFilesParams`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilesFilter {
    /// Only return files with the given purpose.
    pub purpose: Option<String>,
}

impl sealed::Sealed for FilesFilter {}
impl Ordered for FilesFilter {}

impl ListFilter for FilesFilter {
    fn push_pairs(&self, pairs: &mut Vec<(String, String)>) {
        if let Some(purpose) = &self.purpose {
            pairs.push(("purpose".to_owned(), purpose.clone()));
        }
    }
}

impl ListParams<FilesFilter> {
    /// Sets the [`purpose`](FilesFilter::purpose) filter. Defaults to unset.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.filter.purpose = Some(purpose.into());
        self
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_object_is_lenient() {
        let f: OpenAIFile = serde_json::from_value(json!({
            "id": "file-abc123", "object": "file", "bytes": 120000.0, "created_at": null,
            "filename": "batch.jsonl", "purpose": "batch_output", "status": "archived",
            "vendor": 1
        }))
        .unwrap();
        assert_eq!(f.bytes, 120_000);
        assert_eq!(f.created_at, 0);
        assert_eq!(f.purpose, Some(FilePurpose::BatchOutput));
        assert_eq!(f.status.as_ref().map(FileStatus::as_str), Some("archived"));
        assert_eq!(f.extra["vendor"], 1);
        let minimal: OpenAIFile = serde_json::from_value(json!({"id": "f"})).unwrap();
        assert_eq!(minimal.purpose, None);
    }
}
