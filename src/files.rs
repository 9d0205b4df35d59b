//! `FilesApi`: upload, get, list (with auto-paging), download and delete files.

use crate::api::ChatApi;
use crate::client::{conversions, handle};
use crate::error::Error;
use crate::models::ModelsApi;
use crate::multipart::Form;
use crate::pages::Pages;
use crate::response::ApiResponse;
use crate::send::Call;
use crate::types::{
    CreateFileRequest, DeleteFileResponse, ListFilesParams, ListFilesResponse, OpenAIFile,
};
use crate::util::encode_path_segment;

/// `/files/{id}{tail}`, the id percent-encoded as one segment; an id that would name
/// another resource (empty, `.`, `..`) is refused.
fn file_path(file_id: &str, tail: &str) -> Result<String, Error> {
    if matches!(file_id, "" | "." | "..") {
        return Err(Error::invalid_request(format!(
            "invalid file id {file_id:?}: it would not name one file"
        )));
    }
    Ok(format!("/files/{}{tail}", encode_path_segment(file_id)))
}

handle! {
    /// The Files API: upload, get, list, download and delete files (feature `files`).
    ///
    /// Made like a [`ChatApi`]: [`FilesApi::new`], [`FilesApi::from_env`], or
    /// `FilesApi::from(&chat_api)`, which shares the chat client's connection pool,
    /// retries, cache and observer.
    ///
    /// ```no_run
    /// use sync_openai::FilesApi;
    /// use sync_openai::types::ListFilesParams;
    ///
    /// let files = FilesApi::from_env()?;
    /// for file in files.iter_files(ListFilesParams::new()) {
    ///     let file = file?;
    ///     println!("{} {}", file.id, file.filename);
    /// }
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "files")))]
    FilesApi
}

conversions!(FilesApi, ChatApi);
conversions!(FilesApi, ModelsApi);

impl FilesApi {
    /// Uploads a file.
    ///
    /// `POST /files` as `multipart/form-data` with the fields `purpose`, `file` and, when
    /// set, `expires_after[anchor]` and `expires_after[seconds]`. The form is encoded into
    /// one buffer by a small encoder of this crate (not ureq's `unversioned` multipart
    /// API), so a retry resends the same bytes.
    ///
    /// ```no_run
    /// use sync_openai::types::{CreateFileRequest, FilePurpose};
    /// # let api = sync_openai::FilesApi::new(sync_openai::Config::new().api_key("sk-..."));
    /// let file = api.upload_file(&CreateFileRequest::new("input.jsonl", std::fs::read("input.jsonl").unwrap(), FilePurpose::Batch))?;
    /// println!("{} ({} bytes)", file.id, file.bytes);
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn upload_file(&self, upload: &CreateFileRequest) -> Result<OpenAIFile, Error> {
        self.upload_file_with_http_info(upload)
            .map(ApiResponse::into_data)
    }

    /// [`upload_file`](FilesApi::upload_file) with status and headers.
    pub fn upload_file_with_http_info(
        &self,
        upload: &CreateFileRequest,
    ) -> Result<ApiResponse<OpenAIFile>, Error> {
        let mut form = Form::new().text("purpose", upload.purpose.as_str());
        if let Some(expires) = &upload.expires_after {
            form = form
                .text("expires_after[anchor]", &expires.anchor)
                .text("expires_after[seconds]", &expires.seconds.to_string());
        }
        let content_type = match upload.filename.ends_with(".jsonl") {
            true => "application/jsonl",
            false => "application/octet-stream",
        };
        let form = form.file("file", &upload.filename, content_type, &upload.file);
        self.sender().call_json(Call::post_form("/files", &form)?)
    }

    /// Gets a file's information. `GET /files/{file_id}`.
    pub fn get_file(&self, file_id: &str) -> Result<OpenAIFile, Error> {
        self.get_file_with_http_info(file_id)
            .map(ApiResponse::into_data)
    }

    /// [`get_file`](FilesApi::get_file) with status and headers.
    pub fn get_file_with_http_info(&self, file_id: &str) -> Result<ApiResponse<OpenAIFile>, Error> {
        self.sender().call_json(Call::get(file_path(file_id, "")?))
    }

    /// Downloads a file's content as bytes. `GET /files/{file_id}/content`.
    ///
    /// The content is held in memory and bounded by
    /// [`Config::max_response_bytes`](crate::Config::max_response_bytes); raise it for
    /// large batch outputs.
    pub fn file_content(&self, file_id: &str) -> Result<Vec<u8>, Error> {
        self.file_content_with_http_info(file_id)
            .map(ApiResponse::into_data)
    }

    /// [`file_content`](FilesApi::file_content) with status and headers.
    pub fn file_content_with_http_info(
        &self,
        file_id: &str,
    ) -> Result<ApiResponse<Vec<u8>>, Error> {
        self.sender()
            .call_bytes(Call::get(file_path(file_id, "/content")?))
    }

    /// Deletes a file. `DELETE /files/{file_id}`.
    pub fn delete_file(&self, file_id: &str) -> Result<DeleteFileResponse, Error> {
        self.delete_file_with_http_info(file_id)
            .map(ApiResponse::into_data)
    }

    /// [`delete_file`](FilesApi::delete_file) with status and headers.
    pub fn delete_file_with_http_info(
        &self,
        file_id: &str,
    ) -> Result<ApiResponse<DeleteFileResponse>, Error> {
        self.sender()
            .call_json(Call::delete(file_path(file_id, "")?))
    }

    /// Lists one page of files. `GET /files?purpose=&limit=&order=&after=`; for every page,
    /// use [`iter_files`](FilesApi::iter_files).
    pub fn list_files(&self, params: &ListFilesParams) -> Result<ListFilesResponse, Error> {
        self.list_files_with_http_info(params)
            .map(ApiResponse::into_data)
    }

    /// [`list_files`](FilesApi::list_files) with status and headers.
    pub fn list_files_with_http_info(
        &self,
        params: &ListFilesParams,
    ) -> Result<ApiResponse<ListFilesResponse>, Error> {
        self.sender()
            .call_json(Call::get("/files").query(params.query_pairs()))
    }

    /// Every file matching `params`, fetched one page at a time (following `has_more` and
    /// `last_id`, like [`iter_chat_completions`](crate::ChatApi::iter_chat_completions)).
    pub fn iter_files(&self, params: ListFilesParams) -> Pages<OpenAIFile> {
        let api = self.clone();
        let list = move |p: &_| {
            let page = api.list_files(p)?;
            Ok((page.data, page.has_more, page.last_id))
        };
        Pages::with_cursor(params, |p| &mut p.after, list, |f| Some(f.id.clone()))
    }
}
