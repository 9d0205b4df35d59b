//! A blocking, minimal-dependency client for the OpenAI Chat Completions API and every
//! OpenAI-compatible server.
//!
//! `sync-openai` is for Rust code that wants an answer from a model without an async
//! runtime: a plain `fn main`, a Cargo build script, a small CLI tool. It stands on
//! [`ureq`] 3, [`serde`] and [`serde_json`], and nothing else.
//!
//! It values:
//!
//! * **Working with every server.** OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp, Groq,
//!   OpenRouter, DeepSeek: missing fields, new enum values and vendor keys never fail a
//!   decode, and vendor keys survive a round trip.
//! * **Typed errors that keep what the server said**: its message, status, error type and
//!   code, and the request id.
//! * **Small and fast**: one connection pool per client, a request body serialized once,
//!   a response read into one buffer.
//! * **Never leaking the key**: it is not in any `Debug`, `Display` or error.
//!
//! # Usage
//!
//! ```
//! use sync_openai::{ChatApi, Config};
//! use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
//! # let server = httpmock::MockServer::start();
//! # server.mock(|when, then| {
//! #     when.method("POST").path("/v1/chat/completions");
//! #     then.status(200).header("x-request-id", "req_1").body(r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}"#);
//! # });
//! # let base_url = server.url("/v1");
//!
//! let api = ChatApi::new(Config::new().api_key("sk-...").base_url(base_url));
//! let req = CreateChatCompletionRequest::new(
//!     "gpt-4o-mini",
//!     vec![Message::system("Be brief."), Message::user("Hello")],
//! )
//! .temperature(0.2)
//! .max_completion_tokens(64);
//!
//! let resp = api.create_chat_completion_with_http_info(&req)?;
//! assert_eq!(resp.request_id(), Some("req_1"));
//! let text: Option<&str> = resp.data.choices[0].message.content.as_deref();
//! assert_eq!(text, Some("Hello!"));
//! # Ok::<(), sync_openai::Error>(())
//! ```
//!
//! # Configuration
//!
//! [`Config`] holds the base URL, credentials, extra headers, timeouts, retries and the
//! response size limit; [`ChatApi::from_env`] reads `OPENAI_API_KEY`, `OPENAI_BASE_URL`,
//! `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID`. A server at another base URL (Ollama,
//! llama.cpp, vLLM) needs no key, and none is sent.
//!
//! # Errors
//!
//! Every failure is an [`Error`]: [`Error::Api`] for a non-2xx answer (with the server's
//! message, status, type, code and request id), [`Error::Transport`] for connection
//! failures and timeouts, [`Error::Decode`] for a 2xx body that is not the expected JSON,
//! [`Error::Stream`] for a broken stream, [`Error::InvalidRequest`] and
//! [`Error::Config`] for what is refused before sending.
//!
//! # Wire types
//!
//! The request and response types live in [`types`], named after the schemas of the
//! OpenAI OpenAPI specification, with public fields named as on the wire.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accumulate;
mod agent;
mod api;
mod config;
mod error;
mod error_body;
pub mod guide;
mod http_date;
mod options;
mod response;
mod retry;
mod send;
mod sse;
mod stored;
mod stream;
mod transport_error;
pub mod types;
mod util;

pub use accumulate::ChunkAccumulator;
pub use api::ChatApi;
pub use config::{
    Config, AZURE_DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use error::{
    ApiError, ApiErrorKind, ConfigError, DecodeError, Error, InvalidRequestError, ParseError,
    StreamError, StreamErrorKind, TransportError, TransportErrorKind,
};
pub use error_body::{ErrorDetail, MAX_ERROR_BODY_BYTES};
pub use options::RequestOptions;
pub use response::{ApiResponse, RateLimit};
pub use stored::Pages;
pub use stream::{ChatCompletionStream, ContentDeltas};

/// The `http` crate that ureq 3 uses, for [`HeaderMap`](http::HeaderMap) and friends.
pub use ureq::http;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
