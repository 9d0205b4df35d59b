//! `ChatApi`: the chat handle and the chat completion operations. Its construction is
//! `client::handle!`, shared by every handle.
//!
//! Each operation names its route, its body and its response type, and hands them to
//! the send loop in [`send`](crate::send); see there for how to add one.

use crate::client::handle;
use crate::error::Error;
use crate::observe::Observer;
use crate::response::ApiResponse;
use crate::send::{Body, Call};
use crate::stream::ChatCompletionStream;
use crate::types::{CreateChatCompletionRequest, CreateChatCompletionResponse};

/// The path of the chat completions operations below `base_url`.
const CHAT_PATH: &str = "/chat/completions";

handle! {
    /// A blocking client for the Chat Completions API of OpenAI or any compatible server:
    /// chat completions, streaming, stored completions, bulk runs and `curl` export.
    ///
    /// One `ChatApi` holds one connection pool. Clones are cheap and share it, so clone the
    /// client into threads rather than building a new one per request; the other handles
    /// ([`ModelsApi`](crate::ModelsApi) and, with their features, `FilesApi` and `BatchApi`)
    /// are made from it with `From` and share it too. `ChatApi` is `Send + Sync`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use sync_openai::ChatApi;
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    ///
    /// let api = ChatApi::from_env()?;
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")]);
    /// let resp = api.create_chat_completion(&req)?;
    /// println!("{}", resp.text().unwrap_or(""));
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    ChatApi
}

impl ChatApi {
    /// Creates a model response for the given chat conversation.
    ///
    /// `POST /chat/completions`. For a streamed answer use
    /// [`create_chat_completion_stream`](ChatApi::create_chat_completion_stream); a
    /// request with `stream: Some(true)` is refused here with [`Error::InvalidRequest`].
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for a non-2xx answer (after retries where they help),
    /// [`Error::Transport`], [`Error::Decode`], [`Error::Config`], [`Error::InvalidRequest`].
    pub fn create_chat_completion(
        &self,
        req: &CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, Error> {
        self.create_chat_completion_with_http_info(req)
            .map(ApiResponse::into_data)
    }

    /// Like [`create_chat_completion`](ChatApi::create_chat_completion), with the HTTP
    /// status and headers (request id, rate limits) of the response.
    pub fn create_chat_completion_with_http_info(
        &self,
        req: &CreateChatCompletionRequest,
    ) -> Result<ApiResponse<CreateChatCompletionResponse>, Error> {
        if req.stream == Some(true) {
            return Err(Error::invalid_request(
                "the request has stream set to true: call create_chat_completion_stream for a streamed answer, or unset stream",
            ));
        }
        let body = self.sender().encode(req)?;
        self.sender().call_json(Call::post(CHAT_PATH, body))
    }

    /// Creates a model response and streams it chunk by chunk as it is generated.
    ///
    /// `POST /chat/completions` with `"stream": true` added to the body (the request
    /// itself is not changed) and `Accept: text/event-stream`. Retries happen only while
    /// opening the stream; once the first byte of the answer has arrived, a failure ends
    /// the stream with an error instead of sending the request again.
    ///
    /// # Errors
    ///
    /// Opening fails like [`create_chat_completion`](ChatApi::create_chat_completion),
    /// with the same [`Error::Api`] for a non-2xx answer. Failures while reading come
    /// from the [`ChatCompletionStream`] iterator.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = httpmock::MockServer::start();
    /// # server.mock(|when, then| {
    /// #     when.method("POST").path("/v1/chat/completions").json_body_includes(r#"{"stream":true}"#);
    /// #     then.status(200).header("content-type", "text/event-stream").body(
    /// #         "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
    /// #          data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    /// # });
    /// use std::io::Write;
    /// use sync_openai::{ChatApi, Config};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    ///
    /// let api = ChatApi::new(Config::new().base_url(server.url("/v1")));
    /// let req = CreateChatCompletionRequest::new("llama3", vec![Message::user("Hello")]);
    /// for text in api.create_chat_completion_stream(&req)?.content_deltas() {
    ///     print!("{}", text?);
    ///     std::io::stdout().flush().ok();
    /// }
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn create_chat_completion_stream(
        &self,
        req: &CreateChatCompletionRequest,
    ) -> Result<ChatCompletionStream, Error> {
        let call = Call::post(CHAT_PATH, self.stream_body(req)?).stream();
        let (response, _retries) = self.sender().execute(&call)?;
        let observer = response.extensions().get::<Observer>().cloned();
        let watch = observer.map(|o| o.watch_stream(response.headers()));
        let stream = ChatCompletionStream::from_response(
            response,
            self.config(),
            self.sender().secret_values(),
        )?;
        Ok(stream.watched(watch))
    }

    /// The request with `"stream": true`, without copying or changing the request.
    fn stream_body(&self, req: &CreateChatCompletionRequest) -> Result<Body, Error> {
        match req.stream {
            Some(true) => self.sender().encode(req),
            Some(false) => {
                // Rare: the caller set `stream: false` and asked for a stream. Copy once.
                let mut req = req.clone();
                req.stream = Some(true);
                self.sender().encode(&req)
            }
            None => self.sender().encode_streaming(req),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::options::RequestOptions;
    use std::fmt;

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + fmt::Debug + 'static>() {}
        assert_traits::<ChatApi>();
        assert_traits::<Config>();
    }

    #[test]
    fn config_after_with_options_shows_what_is_sent() {
        let api = ChatApi::new(Config::new().header("X-A", "1"));
        let scoped = api.with_options(
            RequestOptions::new()
                .header("X-Trace", "t1")
                .query("api-version", "v1")
                .body_field("top_k", 40),
        );
        let shown = format!("{:?}", scoped.config());
        assert!(shown.contains(r#"headers: ["x-a", "x-trace"]"#), "{shown}");
        assert!(shown.contains(r#"query: ["api-version"]"#), "{shown}");
        assert!(shown.contains(r#"body_fields: ["top_k"]"#), "{shown}");
        assert!(!shown.contains("t1"), "{shown}");
        let original = format!("{:?}", api.config());
        assert!(original.contains(r#"headers: ["x-a"]"#), "{original}");
    }
}
