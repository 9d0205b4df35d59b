//! A blocking, minimal-dependency client for the OpenAI Chat Completions API and every
//! OpenAI-compatible server (Azure OpenAI, Ollama, vLLM, llama.cpp, Groq, OpenRouter,
//! DeepSeek, …), for code that wants an answer without an async runtime. It stands on
//! [`ureq`] 3, [`serde`] and [`serde_json`], and nothing else.
//!
//! ```standalone_crate
//! use sync_openai::ChatApi;
//! use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
//! # // Its own process (it sets a variable): the other doctests are threads of one binary.
//! # let server = sync_openai::testing::MockServer::start();
//! # server.reply(sync_openai::testing::Reply::text("Hello!").header("x-request-id", "req_1"));
//! # // SAFETY: no other thread of this doctest reads the environment.
//! # unsafe { std::env::set_var("OPENAI_BASE_URL", server.base_url()) };
//!
//! let api = ChatApi::from_env()?; // OPENAI_API_KEY, OPENAI_BASE_URL, …
//! let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")])
//!     .max_completion_tokens(64);
//! let resp = api.create_chat_completion_with_http_info(&req)?;
//! assert_eq!(resp.data.text(), Some("Hello!"));
//! assert_eq!(resp.request_id(), Some("req_1"));
//! # Ok::<(), sync_openai::Error>(())
//! ```
//!
//! | handle or module | what it is |
//! |---|---|
//! | [`ChatApi`] | chat completions, streams ([`ChatCompletionStream`]), stored completions (feature `stored`), `run_many`, `curl` |
//! | [`ModelsApi`], [`FilesApi`], [`BatchApi`] | the Models, Files and Batch APIs; `X::from(&chat_api)` shares one connection pool |
//! | [`Config`], [`RequestOptions`] | base URL, credentials, timeouts, retries, limits; overrides per call (`with_options`) |
//! | [`Error`], [`error`] | one error enum; what the server said, the status and the request id in [`error::ApiError`] |
//! | [`ApiResponse`], [`response`] | a result with its status and headers; rate limits; paging |
//! | [`types`] | the wire types, named after the OpenAPI schemas, lenient on what servers send |
//! | [`stream`], [`observe`], [`cache`], [`clock`] | stream readers; `OPENAI_LOG` and events; the response cache; time for waits |
//! | [`bulk`], [`batch`] | many requests over threads; Batch API input and results |
//! | [`config`], [`testing`], [`http`] | defaults and limits; a mock server for your tests; ureq's `http` crate |
//!
//! Start with the [`guide`]: [configuration](guide::configuration), [streaming](guide::streaming),
//! [errors](guide::errors), [retries](guide::retries), [tools](guide::tools),
//! [Azure](guide::azure), [scale](guide::scale), [testing](guide::testing) and more.
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `rustls` | yes | TLS through rustls with the webpki roots (ureq's default) |
//! | `native-tls` | no | TLS through the platform's library and the operating system's trust store |
//! | `platform-verifier` | no | TLS through rustls, trusting the operating system's certificate store |
//! | `gzip` | yes | accept gzip-compressed responses |
//! | `socks` | no | SOCKS4 and SOCKS5 proxies (`ALL_PROXY=socks5://…`, [`Config::proxy`]); HTTP proxies need no feature |
//! | `stored` | no | stored completions: [`ChatApi::get_chat_completion`], `list_chat_completions` and the rest |
//! | `files` | no | [`FilesApi`]: upload, list, download and delete files |
//! | `batch` | no | [`BatchApi`] and [`batch`] (implies `files`) |
//! | `bulk` | no | [`ChatApi::run_many`] and [`bulk`] |
//! | `testing` | no | [`testing`]: a local mock server for your own tests |
//! | `events` | no | [`ChatCompletionStream::events`]: typed stream events, and `stream::parse_partial_json` |
//! | `tools` | no | `tools`: the tool runner, `ChatApi::run_tools` and `run_tools_streamed` |
//! | `schemars` | no | `schema`: strict-mode JSON Schemas from `schemars` types, for `response_format` and `Tool::typed` |
//!
//! `--no-default-features` builds a plain-HTTP client for local servers.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accumulate;
mod agent;
mod api;
#[cfg(feature = "batch")]
mod batches;
#[cfg(feature = "bulk")]
#[cfg_attr(docsrs, doc(cfg(feature = "bulk")))]
pub mod bulk;
pub mod cache;
mod client;
pub mod clock;
pub mod config;
mod connection;
mod curl;
pub mod error;
mod error_body;
#[cfg(feature = "events")]
mod events;
#[cfg(feature = "files")]
mod files;
pub mod guide;
mod http_date;
mod models;
#[cfg(feature = "files")]
mod multipart;
pub mod observe;
mod options;
#[cfg(any(feature = "stored", feature = "files"))]
mod pages;
#[cfg(feature = "events")]
mod partial_json;
mod ready;
mod record;
pub mod response;
mod retry;
#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
pub mod schema;
mod send;
mod shape;
mod sse;
#[cfg(feature = "stored")]
mod stored;
pub mod stream;
mod streamed;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod think;
mod tls;
#[cfg(feature = "tools")]
#[cfg_attr(docsrs, doc(cfg(feature = "tools")))]
pub mod tools;
mod transport_error;
pub mod types;
mod util;

pub use api::ChatApi;
#[cfg(feature = "batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
pub use batches::BatchApi;
pub use config::Config;
pub use error::Error;
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub use files::FilesApi;
pub use models::ModelsApi;
pub use options::RequestOptions;
pub use response::ApiResponse;
pub use stream::ChatCompletionStream;

/// The `http` crate that ureq 3 uses, for [`HeaderMap`](http::HeaderMap) and friends.
pub use ureq::http;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The Batch API's helpers: the input file, the results by custom id, how to wait.
///
/// The operations are on [`BatchApi`]; the [scale guide](crate::guide::scale) shows the
/// whole flow.
#[cfg(feature = "batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
pub mod batch {
    pub use crate::batches::{batch_jsonl, BatchFile, BatchLineProblem, BatchResults, WaitOptions};
}

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
