//! Stored chat completions: get, update, delete, list and messages, with auto-paging.

use std::collections::{HashSet, VecDeque};
use std::iter::FusedIterator;

use crate::api::ChatApi;
use crate::error::Error;
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

type FetchPage<T> =
    Box<dyn FnMut(Option<String>) -> Result<(Vec<T>, bool, Option<String>), Error> + Send>;

/// An iterator over the items of a paginated list, fetching a page when the previous one
/// is used up.
///
/// Made by [`ChatApi::iter_chat_completions`] and
/// [`ChatApi::iter_chat_completion_messages`]. After an error, or when the server says
/// there is no more, it yields `None` for good. A server that answers `has_more: true`
/// with a cursor it already gave (the same page again, or a cycle of pages) ends the
/// iteration instead of looping.
pub struct Pages<T> {
    fetch: FetchPage<T>,
    id_of: fn(&T) -> Option<String>,
    buffer: VecDeque<T>,
    after: Option<String>,
    /// Every cursor followed so far.
    seen: HashSet<String>,
    more: bool,
}

impl<T> Pages<T> {
    pub(crate) fn new(
        after: Option<String>,
        fetch: FetchPage<T>,
        id_of: fn(&T) -> Option<String>,
    ) -> Self {
        Pages {
            fetch,
            id_of,
            buffer: VecDeque::new(),
            seen: after.iter().cloned().collect(),
            after,
            more: true,
        }
    }

    /// The pages of a list operation: `list(&params)` with `params`' cursor (the field
    /// `cursor` points at) set to where each page ends.
    pub(crate) fn with_cursor<P: Send + 'static>(
        mut params: P,
        cursor: fn(&mut P) -> &mut Option<String>,
        mut list: impl FnMut(&P) -> Result<(Vec<T>, bool, Option<String>), Error> + Send + 'static,
        id_of: fn(&T) -> Option<String>,
    ) -> Self {
        let first = cursor(&mut params).clone();
        let fetch = move |after| {
            *cursor(&mut params) = after;
            list(&params)
        };
        Pages::new(first, Box::new(fetch), id_of)
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if !self.more {
                return None;
            }
            match (self.fetch)(self.after.clone()) {
                Err(e) => {
                    self.more = false;
                    return Some(Err(e));
                }
                Ok((items, has_more, last_id)) => {
                    let next = last_id
                        .filter(|id| !id.is_empty())
                        .or_else(|| items.last().and_then(self.id_of));
                    // Stop on an empty page, a missing cursor, or a cursor seen before.
                    self.more = has_more
                        && !items.is_empty()
                        && next.as_ref().is_some_and(|n| self.seen.insert(n.clone()));
                    self.after = next;
                    self.buffer.extend(items);
                }
            }
        }
    }
}

impl<T> FusedIterator for Pages<T> {}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("buffered", &self.buffer.len())
            .field("after", &self.after)
            .field("more", &self.more)
            .finish_non_exhaustive()
    }
}
