//! `BatchApi`, the Batch API for chat completions: build the input, upload it, create,
//! get, list, cancel and wait for batches, and read their output and error files by
//! custom id.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::api::ChatApi;
use crate::client::{conversions, handle};
use crate::clock::{Clock, SystemClock};
use crate::error::{ApiError, Error};
use crate::files::FilesApi;
use crate::http::{HeaderMap, HeaderValue};
use crate::models::ModelsApi;
use crate::pages::Pages;
use crate::response::ApiResponse;
use crate::send::Call;
use crate::types::{
    Batch, BatchError, BatchRequestInput, BatchRequestOutput, BatchResponse, CreateBatchRequest,
    CreateChatCompletionResponse, CreateFileRequest, FilePurpose, ListBatchesParams,
    ListBatchesResponse,
};
use crate::util::{bounded_text, encode_path_segment};

/// How much of a line a [`BatchLineProblem`] keeps.
const PROBLEM_TEXT_BYTES: usize = 500;

/// `/batches/{id}{tail}`, the id percent-encoded as one segment.
fn batch_path(batch_id: &str, tail: &str) -> Result<String, Error> {
    if matches!(batch_id, "" | "." | "..") {
        return Err(Error::invalid_request(format!(
            "invalid batch id {batch_id:?}: it would not name one batch"
        )));
    }
    Ok(format!("/batches/{}{tail}", encode_path_segment(batch_id)))
}

/// The JSONL input file of a batch: one line per request, each ending in `\n`.
///
/// Refuses (with [`Error::InvalidRequest`]) an empty list, an empty or repeated
/// `custom_id`, and a request with `stream: true`, which a batch cannot answer.
///
/// ```
/// use sync_openai::batch::batch_jsonl;
/// use sync_openai::types::{BatchRequestInput, ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
///
/// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
/// let jsonl = batch_jsonl(&[BatchRequestInput::chat("a", req.clone()), BatchRequestInput::chat("b", req.clone())])?;
/// assert_eq!(String::from_utf8(jsonl).unwrap().lines().count(), 2);
/// assert!(batch_jsonl(&[BatchRequestInput::chat("a", req.clone()), BatchRequestInput::chat("a", req)]).is_err());
/// # Ok::<(), sync_openai::Error>(())
/// ```
pub fn batch_jsonl(lines: &[BatchRequestInput]) -> Result<Vec<u8>, Error> {
    if lines.is_empty() {
        return Err(Error::invalid_request("a batch needs at least one request"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for line in lines {
        if line.custom_id.is_empty() {
            return Err(Error::invalid_request(
                "a batch request has an empty custom_id: give every request a unique id",
            ));
        }
        if !seen.insert(line.custom_id.as_str()) {
            return Err(Error::invalid_request(format!(
                "the custom_id {:?} is used twice: ids must be unique within a batch",
                line.custom_id
            )));
        }
        if line.body.stream == Some(true) {
            return Err(Error::invalid_request(format!(
                "the request {:?} has stream set to true, which a batch cannot answer",
                line.custom_id
            )));
        }
        serde_json::to_writer(&mut out, line).map_err(|e| {
            Error::invalid_request(format!("the request cannot be encoded as JSON: {e}"))
        })?;
        out.push(b'\n');
    }
    Ok(out)
}

/// How [`BatchApi::wait_batch`] polls: intervals, time limit, clock.
#[derive(Clone)]
pub struct WaitOptions {
    first_interval: Duration,
    max_interval: Duration,
    timeout: Option<Duration>,
    clock: Arc<dyn Clock>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            first_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(60),
            timeout: Some(Duration::from_secs(25 * 3600)),
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for WaitOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitOptions")
            .field("first_interval", &self.first_interval)
            .field("max_interval", &self.max_interval)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WaitOptions {
    /// The defaults: 5 s after the first poll, doubling up to 60 s, for at most 25 hours.
    pub fn new() -> WaitOptions {
        WaitOptions::default()
    }

    /// The wait after the first poll; each later wait doubles, up to
    /// [`max_interval`](WaitOptions::max_interval). Defaults to 5 s.
    pub fn first_interval(mut self, interval: Duration) -> WaitOptions {
        self.first_interval = interval;
        self
    }

    /// The longest wait between two polls. Defaults to 60 s.
    pub fn max_interval(mut self, interval: Duration) -> WaitOptions {
        self.max_interval = interval;
        self
    }

    /// Stops polling after this long and returns the batch as last seen. Defaults to 25
    /// hours (the 24 h completion window and a margin).
    pub fn timeout(mut self, timeout: Duration) -> WaitOptions {
        self.timeout = Some(timeout);
        self
    }

    /// The clock and sleeper between polls. Defaults to [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock + 'static) -> WaitOptions {
        self.clock = Arc::new(clock);
        self
    }
}

/// Which file of a batch a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchFile {
    /// The output file (`output_file_id`).
    Output,
    /// The error file (`error_file_id`).
    Error,
}

/// A line of a batch's output or error file that gives no result: not JSON, no or an
/// unknown `custom_id`, a repeated `custom_id`, or a 2xx body that is not a completion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchLineProblem {
    /// The file the line is in.
    pub file: BatchFile,
    /// The line number in that file, from 1.
    pub line: usize,
    /// The line's custom id, when it had one.
    pub custom_id: Option<String>,
    /// What is wrong with it, lowercase.
    pub reason: String,
    /// The line (at most 500 bytes of it).
    pub text: String,
}

/// The results of a batch, keyed by custom id.
///
/// Every line of the output and error files is accounted for: as a completion or an
/// [`ApiError`] in [`results`](BatchResults::results), or as a
/// [`problem`](BatchResults::problems). Requests of the input without any line are in
/// [`missing`](BatchResults::missing).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BatchResults {
    /// Each answered custom id: the completion, or the error the provider reports for it.
    ///
    /// A line of the error file without an HTTP answer (e.g. `batch_expired`) becomes an
    /// `ApiError` with status 0 and the line's `error.code` and `error.message`.
    pub results: BTreeMap<String, Result<CreateChatCompletionResponse, ApiError>>,
    /// Lines that give no result, in file order.
    pub problems: Vec<BatchLineProblem>,
    /// Custom ids of the input that no line answers, sorted.
    pub missing: Vec<String>,
}

impl BatchResults {
    /// Reads an output and an error file (JSONL) against the custom ids that were sent.
    ///
    /// With an empty `custom_ids`, no id counts as unknown and none as missing.
    ///
    /// ```
    /// use sync_openai::batch::BatchResults;
    ///
    /// let output = br#"{"id":"r1","custom_id":"a","response":{"status_code":200,"body":{"id":"c","choices":[]}}}
    /// not json
    /// "#;
    /// let errors = br#"{"id":"r2","custom_id":"b","response":null,"error":{"code":"batch_expired","message":"expired"}}"#;
    /// let r = BatchResults::parse(&["a", "b", "c"], output, errors);
    /// assert!(r.results["a"].is_ok());
    /// assert_eq!(r.results["b"].as_ref().unwrap_err().code(), Some("batch_expired"));
    /// assert_eq!(r.problems[0].line, 2);
    /// assert_eq!(r.missing, ["c"]);
    /// ```
    pub fn parse(custom_ids: &[impl AsRef<str>], output: &[u8], errors: &[u8]) -> BatchResults {
        let expected: HashSet<&str> = custom_ids.iter().map(AsRef::as_ref).collect();
        let mut results = BatchResults::default();
        for (file, bytes) in [(BatchFile::Output, output), (BatchFile::Error, errors)] {
            for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                results.add_line(&expected, file, n + 1, line);
            }
        }
        let mut missing: Vec<String> = expected
            .iter()
            .filter(|id| !results.results.contains_key(**id))
            .filter(|id| {
                !results
                    .problems
                    .iter()
                    .any(|p| p.custom_id.as_deref() == Some(**id))
            })
            .map(|id| (*id).to_owned())
            .collect();
        missing.sort();
        results.missing = missing;
        results
    }

    fn add_line(&mut self, expected: &HashSet<&str>, file: BatchFile, line: usize, bytes: &[u8]) {
        let mut problem = |custom_id: Option<String>, reason: String| {
            self.problems.push(BatchLineProblem {
                file,
                line,
                custom_id,
                reason,
                text: bounded_text(bytes, PROBLEM_TEXT_BYTES),
            });
        };
        let parsed: BatchRequestOutput = match serde_json::from_slice(bytes) {
            Ok(parsed) => parsed,
            Err(e) => return problem(None, format!("the line is not a batch result: {e}")),
        };
        let Some(id) = parsed.custom_id.clone().filter(|id| !id.is_empty()) else {
            return problem(None, "the line has no custom_id".to_owned());
        };
        if !expected.is_empty() && !expected.contains(id.as_str()) {
            return problem(
                Some(id),
                "the custom_id is not one of the batch's requests".to_owned(),
            );
        }
        if self.results.contains_key(&id) {
            return problem(
                Some(id),
                "the custom_id was already answered by an earlier line".to_owned(),
            );
        }
        match answer(parsed.response, parsed.error) {
            Ok(result) => {
                self.results.insert(id, result);
            }
            Err(reason) => problem(Some(id), reason),
        }
    }
}

/// What one line answers: a completion, the provider's error for the request, or (the
/// outer `Err`) why the line gives neither.
fn answer(
    response: Option<BatchResponse>,
    error: Option<BatchError>,
) -> Result<Result<CreateChatCompletionResponse, ApiError>, String> {
    match (response, error) {
        (Some(response), _) if (200..300).contains(&response.status_code) => {
            serde_json::from_value(response.body)
                .map(Ok)
                .map_err(|e| format!("the answer is not a chat completion: {e}"))
        }
        (Some(response), _) => {
            let status = u16::try_from(response.status_code).unwrap_or(0);
            let body = serde_json::to_vec(&response.body).unwrap_or_default();
            let headers = request_id_headers(response.request_id.as_deref());
            Ok(Err(ApiError::new(status, headers, &body)))
        }
        (None, Some(error)) => {
            let body =
                serde_json::to_vec(&serde_json::json!({ "error": error })).unwrap_or_default();
            Ok(Err(ApiError::new(0, HeaderMap::new(), &body)))
        }
        (None, None) => Err("the line has neither a response nor an error".to_owned()),
    }
}

/// Headers holding only `x-request-id`, so that [`ApiError::request_id`] finds it.
fn request_id_headers(request_id: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert("x-request-id", value);
    }
    headers
}

handle! {
    /// The Batch API: create, get, list, cancel and wait for batches of chat completions,
    /// and read their results by custom id (feature `batch`).
    ///
    /// Made like a [`ChatApi`]: [`BatchApi::new`], [`BatchApi::from_env`], or
    /// `BatchApi::from(&chat_api)`, which shares the chat client's connection pool,
    /// retries, cache and observer. The input and output files go through the Files API
    /// on the same connection pool.
    ///
    /// ```no_run
    /// use sync_openai::BatchApi;
    /// use sync_openai::batch::WaitOptions;
    ///
    /// let batches = BatchApi::from_env()?;
    /// let batch = batches.wait_batch("batch_abc123", &WaitOptions::new(), |b| println!("{:?}", b.status))?;
    /// let results = batches.batch_results(&batch, &[] as &[&str])?;
    /// println!("{} answers", results.results.len());
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
    BatchApi
}

conversions!(BatchApi, ChatApi);
conversions!(BatchApi, ModelsApi);
conversions!(BatchApi, FilesApi);

impl BatchApi {
    /// The Files API on this handle's core, for the batch's input and output files.
    fn files(&self) -> FilesApi {
        FilesApi::from(self)
    }

    /// Creates a batch from an uploaded input file.
    ///
    /// `POST /batches`. To upload and create in one step, use
    /// [`start_chat_batch`](BatchApi::start_chat_batch).
    pub fn create_batch(&self, req: &CreateBatchRequest) -> Result<Batch, Error> {
        self.create_batch_with_http_info(req)
            .map(ApiResponse::into_data)
    }

    /// [`create_batch`](BatchApi::create_batch) with status and headers.
    pub fn create_batch_with_http_info(
        &self,
        req: &CreateBatchRequest,
    ) -> Result<ApiResponse<Batch>, Error> {
        let body = self.sender().encode(req)?;
        self.sender().call_json(Call::post("/batches", body))
    }

    /// Gets a batch. `GET /batches/{batch_id}`.
    pub fn get_batch(&self, batch_id: &str) -> Result<Batch, Error> {
        self.get_batch_with_http_info(batch_id)
            .map(ApiResponse::into_data)
    }

    /// [`get_batch`](BatchApi::get_batch) with status and headers.
    pub fn get_batch_with_http_info(&self, batch_id: &str) -> Result<ApiResponse<Batch>, Error> {
        self.sender()
            .call_json(Call::get(batch_path(batch_id, "")?))
    }

    /// Cancels a batch: it moves to `cancelling`, then `cancelled`.
    /// `POST /batches/{batch_id}/cancel`.
    pub fn cancel_batch(&self, batch_id: &str) -> Result<Batch, Error> {
        self.cancel_batch_with_http_info(batch_id)
            .map(ApiResponse::into_data)
    }

    /// [`cancel_batch`](BatchApi::cancel_batch) with status and headers.
    pub fn cancel_batch_with_http_info(&self, batch_id: &str) -> Result<ApiResponse<Batch>, Error> {
        let path = batch_path(batch_id, "/cancel")?;
        self.sender()
            .call_json(Call::new(crate::http::Method::POST, path))
    }

    /// Lists one page of batches. `GET /batches?after=&limit=`; for every page, use
    /// [`iter_batches`](BatchApi::iter_batches).
    pub fn list_batches(&self, params: &ListBatchesParams) -> Result<ListBatchesResponse, Error> {
        self.list_batches_with_http_info(params)
            .map(ApiResponse::into_data)
    }

    /// [`list_batches`](BatchApi::list_batches) with status and headers.
    pub fn list_batches_with_http_info(
        &self,
        params: &ListBatchesParams,
    ) -> Result<ApiResponse<ListBatchesResponse>, Error> {
        self.sender()
            .call_json(Call::get("/batches").query(params.query_pairs()))
    }

    /// Every batch, fetched one page at a time (following `has_more` and `last_id`).
    pub fn iter_batches(&self, params: ListBatchesParams) -> Pages<Batch> {
        let api = self.clone();
        let list = move |p: &_| {
            let page = api.list_batches(p)?;
            Ok((page.data, page.has_more, page.last_id))
        };
        Pages::with_cursor(params, |p| &mut p.after, list, |b| Some(b.id.clone()))
    }

    /// Uploads the requests as a batch input file (purpose `batch`) and creates a batch
    /// of chat completions from it, with the `24h` window and this metadata.
    ///
    /// The input is checked first by [`batch_jsonl`]. If the batch cannot be created, the
    /// uploaded file is deleted again (best effort) and the creation's error returned.
    ///
    /// ```no_run
    /// use sync_openai::types::{BatchRequestInput, ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    /// # let api = sync_openai::BatchApi::new(sync_openai::Config::new().api_key("sk-..."));
    /// let lines: Vec<_> = ["apple", "pear"].iter().map(|fruit| {
    ///     BatchRequestInput::chat(*fruit, CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user(format!("One fact about {fruit}"))]))
    /// }).collect();
    /// let batch = api.start_chat_batch(&lines, [("job", "fruit-facts")])?;
    /// println!("{} is {}", batch.id, batch.status.map(|s| s.to_string()).unwrap_or_default());
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn start_chat_batch<K, V>(
        &self,
        lines: &[BatchRequestInput],
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Batch, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let jsonl = batch_jsonl(lines)?;
        let file = self.files().upload_file(&CreateFileRequest::new(
            "batch-input.jsonl",
            jsonl,
            FilePurpose::Batch,
        ))?;
        let mut req = CreateBatchRequest::chat_completions(file.id.clone()).metadata(metadata);
        if req.metadata.as_ref().is_some_and(BTreeMap::is_empty) {
            req.metadata = None;
        }
        self.create_batch(&req).inspect_err(|_| {
            // Best effort: the creation's error is the one worth reporting.
            let _ = self.files().delete_file(&file.id);
        })
    }

    /// Polls a batch until its status is final (`completed`, `failed`, `expired`,
    /// `cancelled`) or the options' timeout passes, and returns it as last seen.
    ///
    /// Polls at once, then after [`WaitOptions::first_interval`], doubling the wait up to
    /// [`WaitOptions::max_interval`]; `on_poll` sees the batch after every poll (status and
    /// request counts, for a progress line). Check [`Batch::is_terminal`] on the result:
    /// it is `false` when the timeout passed first. A failed poll (after the client's
    /// retries) ends the wait with its error.
    pub fn wait_batch(
        &self,
        batch_id: &str,
        options: &WaitOptions,
        mut on_poll: impl FnMut(&Batch),
    ) -> Result<Batch, Error> {
        let clock = &options.clock;
        let deadline = options.timeout.and_then(|t| clock.now().checked_add(t));
        let mut interval = options.first_interval;
        loop {
            let batch = self.get_batch(batch_id)?;
            on_poll(&batch);
            let now = clock.now();
            if batch.is_terminal() || deadline.is_some_and(|d| now >= d) {
                return Ok(batch);
            }
            let wait = match deadline {
                Some(d) => interval.min(d.saturating_duration_since(now)),
                None => interval,
            };
            clock.sleep(wait);
            interval = interval
                .saturating_mul(2)
                .min(options.max_interval)
                .max(Duration::from_millis(1));
        }
    }

    /// Downloads a batch's output and error files and reads them by custom id; see
    /// [`BatchResults::parse`]. `custom_ids` are the ids that were sent (empty: not checked).
    pub fn batch_results(
        &self,
        batch: &Batch,
        custom_ids: &[impl AsRef<str>],
    ) -> Result<BatchResults, Error> {
        let download = |id: &Option<String>| match id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => self.files().file_content(id),
            None => Ok(Vec::new()),
        };
        let output = download(&batch.output_file_id)?;
        let errors = download(&batch.error_file_id)?;
        Ok(BatchResults::parse(custom_ids, &output, &errors))
    }

    /// Deletes a batch's input, output and error files (those it has); tries each and
    /// returns the first error.
    pub fn delete_batch_files(&self, batch: &Batch) -> Result<(), Error> {
        let ids = [
            Some(&batch.input_file_id),
            batch.output_file_id.as_ref(),
            batch.error_file_id.as_ref(),
        ];
        let files = self.files();
        let mut first_error = None;
        for id in ids.into_iter().flatten().filter(|id| !id.is_empty()) {
            if let Err(e) = files.delete_file(id) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
