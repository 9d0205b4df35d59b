//! Stored chat completions: get, update, delete, list and messages, with auto-paging.

use crate::api::ChatApi;
use crate::error::Error;
use crate::pages::Pages;
use crate::response::ApiResponse;
use crate::send::Call;
use crate::types::{
    ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    ChatCompletionMessageListData, CreateChatCompletionResponse, GetChatCompletionMessagesParams,
    ListChatCompletionsParams, UpdateChatCompletionRequest,
};
use crate::util::encode_path_segment;

/// The path of stored chat completions below `base_url`.
const COMPLETIONS: &str = "/chat/completions";

/// `/chat/completions/{id}{tail}`, the id percent-encoded as one segment.
///
/// An empty id, `.` or `..` is refused: percent-encoding leaves them as they are (and
/// servers decode `%2E` back to `.`), so they would name another resource —
/// `/chat/completions/..` is `/chat/`, `/chat/completions/` is the listing.
fn completion_path(completion_id: &str, tail: &str) -> Result<String, Error> {
    if matches!(completion_id, "" | "." | "..") {
        return Err(Error::invalid_request(format!(
            "invalid completion id {completion_id:?}: it would not name one completion"
        )));
    }
    Ok(format!(
        "{COMPLETIONS}/{}{tail}",
        encode_path_segment(completion_id)
    ))
}

impl ChatApi {
    /// Gets a stored chat completion (one created with `store: true`).
    ///
    /// `GET /chat/completions/{completion_id}`. The id is percent-encoded, so no id can
    /// reach another path; an empty id, `.` or `..` is refused with
    /// [`Error::InvalidRequest`] before anything is sent.
    pub fn get_chat_completion(
        &self,
        completion_id: &str,
    ) -> Result<CreateChatCompletionResponse, Error> {
        self.get_chat_completion_with_http_info(completion_id)
            .map(ApiResponse::into_data)
    }

    /// [`get_chat_completion`](ChatApi::get_chat_completion) with status and headers.
    pub fn get_chat_completion_with_http_info(
        &self,
        completion_id: &str,
    ) -> Result<ApiResponse<CreateChatCompletionResponse>, Error> {
        let path = completion_path(completion_id, "")?;
        self.sender().call_json(Call::get(path))
    }

    /// Replaces the metadata of a stored chat completion.
    ///
    /// `POST /chat/completions/{completion_id}` with the body `{"metadata": {...}}`.
    ///
    /// ```no_run
    /// # let api = sync_openai::ChatApi::new(sync_openai::Config::new().api_key("sk-..."));
    /// api.update_chat_completion("chatcmpl-abc", [("reviewed", "yes")])?;
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn update_chat_completion<K, V>(
        &self,
        completion_id: &str,
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Result<CreateChatCompletionResponse, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.update_chat_completion_with_http_info(completion_id, metadata)
            .map(ApiResponse::into_data)
    }

    /// [`update_chat_completion`](ChatApi::update_chat_completion) with status and headers.
    pub fn update_chat_completion_with_http_info<K, V>(
        &self,
        completion_id: &str,
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ApiResponse<CreateChatCompletionResponse>, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let body = self
            .sender()
            .encode(&UpdateChatCompletionRequest::new(metadata))?;
        let path = completion_path(completion_id, "")?;
        self.sender().call_json(Call::post(path, body))
    }

    /// Deletes a stored chat completion.
    ///
    /// `DELETE /chat/completions/{completion_id}`.
    pub fn delete_chat_completion(
        &self,
        completion_id: &str,
    ) -> Result<ChatCompletionDeleted, Error> {
        self.delete_chat_completion_with_http_info(completion_id)
            .map(ApiResponse::into_data)
    }

    /// [`delete_chat_completion`](ChatApi::delete_chat_completion) with status and headers.
    pub fn delete_chat_completion_with_http_info(
        &self,
        completion_id: &str,
    ) -> Result<ApiResponse<ChatCompletionDeleted>, Error> {
        let path = completion_path(completion_id, "")?;
        self.sender().call_json(Call::delete(path))
    }

    /// Lists one page of stored chat completions.
    ///
    /// `GET /chat/completions?model=&metadata[key]=value&after=&limit=&order=`. For all
    /// pages, use [`iter_chat_completions`](ChatApi::iter_chat_completions).
    pub fn list_chat_completions(
        &self,
        params: &ListChatCompletionsParams,
    ) -> Result<ChatCompletionList, Error> {
        self.list_chat_completions_with_http_info(params)
            .map(ApiResponse::into_data)
    }

    /// [`list_chat_completions`](ChatApi::list_chat_completions) with status and headers.
    pub fn list_chat_completions_with_http_info(
        &self,
        params: &ListChatCompletionsParams,
    ) -> Result<ApiResponse<ChatCompletionList>, Error> {
        self.sender()
            .call_json(Call::get(COMPLETIONS).query(params.query_pairs()))
    }

    /// Lists one page of the messages of a stored chat completion.
    ///
    /// `GET /chat/completions/{completion_id}/messages?after=&limit=&order=`. For all
    /// pages, use [`iter_chat_completion_messages`](ChatApi::iter_chat_completion_messages).
    pub fn get_chat_completion_messages(
        &self,
        completion_id: &str,
        params: &GetChatCompletionMessagesParams,
    ) -> Result<ChatCompletionMessageList, Error> {
        self.get_chat_completion_messages_with_http_info(completion_id, params)
            .map(ApiResponse::into_data)
    }

    /// [`get_chat_completion_messages`](ChatApi::get_chat_completion_messages) with status
    /// and headers.
    pub fn get_chat_completion_messages_with_http_info(
        &self,
        completion_id: &str,
        params: &GetChatCompletionMessagesParams,
    ) -> Result<ApiResponse<ChatCompletionMessageList>, Error> {
        let path = completion_path(completion_id, "/messages")?;
        self.sender()
            .call_json(Call::get(path).query(params.query_pairs()))
    }

    /// Every stored chat completion matching `params`, fetched one page at a time.
    ///
    /// Follows `has_more` and `last_id`; yields each completion, and stops after the
    /// first error (which it yields).
    ///
    /// ```no_run
    /// use sync_openai::types::ListChatCompletionsParams;
    /// # let api = sync_openai::ChatApi::new(sync_openai::Config::new().api_key("sk-..."));
    /// for completion in api.iter_chat_completions(ListChatCompletionsParams::new().metadata("app", "demo")) {
    ///     println!("{}", completion?.id);
    /// }
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn iter_chat_completions(
        &self,
        params: ListChatCompletionsParams,
    ) -> Pages<CreateChatCompletionResponse> {
        let api = self.clone();
        let list = move |p: &_| {
            let page = api.list_chat_completions(p)?;
            Ok((page.data, page.has_more, page.last_id))
        };
        Pages::with_cursor(params, |p| &mut p.after, list, |c| Some(c.id.clone()))
    }

    /// Every message of a stored chat completion, fetched one page at a time.
    ///
    /// Follows `has_more` and `last_id`; yields each message, and stops after the first
    /// error (which it yields).
    pub fn iter_chat_completion_messages(
        &self,
        completion_id: &str,
        params: GetChatCompletionMessagesParams,
    ) -> Pages<ChatCompletionMessageListData> {
        let api = self.clone();
        let id = completion_id.to_owned();
        let list = move |p: &_| {
            let page = api.get_chat_completion_messages(&id, p)?;
            Ok((page.data, page.has_more, page.last_id))
        };
        Pages::with_cursor(params, |p| &mut p.after, list, |m| Some(m.id.clone()))
    }
}
