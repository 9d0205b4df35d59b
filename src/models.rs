//! `ModelsApi`: list the models a server offers, and retrieve one.

use crate::api::ChatApi;
use crate::client::{conversions, handle};
use crate::error::Error;
use crate::response::ApiResponse;
use crate::send::Call;
use crate::types::{Model, ModelList};
use crate::util::encode_path_segment;

handle! {
    /// The Models API: which models a server offers (`GET /models`, `GET /models/{model}`).
    ///
    /// Made like a [`ChatApi`]: [`ModelsApi::new`], [`ModelsApi::from_env`], or
    /// `ModelsApi::from(&chat_api)`, which shares the chat client's connection pool,
    /// retries, cache and observer.
    ///
    /// ```no_run
    /// use sync_openai::ModelsApi;
    ///
    /// let models = ModelsApi::from_env()?;
    /// for id in models.list_models()?.ids() {
    ///     println!("{id}");
    /// }
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    ModelsApi
}

conversions!(ModelsApi, ChatApi);

impl ModelsApi {
    /// Lists the models the server offers.
    ///
    /// `GET /models`. Every shape compatible servers send decodes (see [`ModelList`]):
    /// missing `object`, `created` or `owned_by`, `created` as text, `data: null`, a bare
    /// array. Against a local server (llama.cpp, Ollama, LM Studio, vLLM) this is how to find
    /// the id to put in a request.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = httpmock::MockServer::start();
    /// # server.mock(|when, then| {
    /// #     when.method("GET").path("/v1/models");
    /// #     then.status(200).body(r#"{"object":"list","data":[{"id":"llama3.2:latest","object":"model","created":1730000000,"owned_by":"library"}]}"#);
    /// # });
    /// use sync_openai::{Config, ModelsApi};
    ///
    /// let api = ModelsApi::new(Config::new().base_url(server.url("/v1")));
    /// let models = api.list_models()?;
    /// assert_eq!(models.ids().collect::<Vec<_>>(), ["llama3.2:latest"]);
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for a non-2xx answer (after retries where they help),
    /// [`Error::Transport`], [`Error::Decode`], [`Error::Config`].
    pub fn list_models(&self) -> Result<ModelList, Error> {
        self.list_models_with_http_info()
            .map(ApiResponse::into_data)
    }

    /// [`list_models`](ModelsApi::list_models) with status and headers.
    pub fn list_models_with_http_info(&self) -> Result<ApiResponse<ModelList>, Error> {
        self.sender().call_json(Call::get("/models"))
    }

    /// Retrieves one model.
    ///
    /// `GET /models/{model}`. The id is percent-encoded as one path segment, so an id with
    /// slashes (`meta-llama/Llama-3.1-8B`, `models/gemini-2.5-flash`) names that model and
    /// nothing else; an empty id, `.` or `..` is refused with [`Error::InvalidRequest`]
    /// before anything is sent.
    ///
    /// # Errors
    ///
    /// As [`list_models`](ModelsApi::list_models); an unknown model is an [`Error::Api`]
    /// with status 404.
    pub fn retrieve_model(&self, model: &str) -> Result<Model, Error> {
        self.retrieve_model_with_http_info(model)
            .map(ApiResponse::into_data)
    }

    /// [`retrieve_model`](ModelsApi::retrieve_model) with status and headers.
    pub fn retrieve_model_with_http_info(&self, model: &str) -> Result<ApiResponse<Model>, Error> {
        // Percent-encoding leaves these as they are, and servers resolve them as dot
        // segments: `/models/..` is `/`, `/models/` the listing.
        if matches!(model, "" | "." | "..") {
            return Err(Error::invalid_request(format!(
                "invalid model id {model:?}: it would not name one model"
            )));
        }
        let path = format!("/models/{}", encode_path_segment(model));
        self.sender().call_json(Call::get(path))
    }
}
