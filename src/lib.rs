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
//! response size limit, each with a consuming setter; [`ChatApi::from_env`] reads the
//! environment variables below. A server at another base URL (Ollama, llama.cpp, vLLM)
//! needs no key, and none is sent.
//!
//! | setter | environment variable | default |
//! |---|---|---|
//! | [`api_key`](Config::api_key) | `OPENAI_API_KEY` | none: no `Authorization` header (required only by api.openai.com) |
//! | [`base_url`](Config::base_url) | `OPENAI_BASE_URL` | `https://api.openai.com/v1` (with or without a trailing `/`) |
//! | [`organization`](Config::organization) | `OPENAI_ORG_ID` | none (`OpenAI-Organization` header) |
//! | [`project`](Config::project) | `OPENAI_PROJECT_ID` | none (`OpenAI-Project` header) |
//! | [`header`](Config::header)`(name, value)` | | none; sent on every request |
//! | [`query_param`](Config::query_param)`(key, value)` | | none; sent on every request |
//! | [`timeout`](Config::timeout) | | 10 minutes per attempt (for streams: until the response headers) |
//! | [`connect_timeout`](Config::connect_timeout) | | 10 seconds |
//! | [`stream_idle_timeout`](Config::stream_idle_timeout) | | 5 minutes without data in a stream (keep-alive comments do not count) |
//! | [`total_timeout`](Config::total_timeout) | | none; a deadline across all attempts and waits |
//! | [`max_retries`](Config::max_retries) | | 2 (3 attempts) |
//! | [`max_response_bytes`](Config::max_response_bytes) | | 32 MiB |
//! | [`retry_sleep`](Config::retry_sleep) | | [`std::thread::sleep`]; replace it to log retries or in tests |
//!
//! Azure has its own constructors and credentials; see [the Azure guide](guide::azure).
//! [`ChatApi::with_options`] overrides timeouts, retries, headers, query parameters and
//! body fields for some calls ([`RequestOptions`]).
//!
//! [`ChatApi::new`] never fails: an invalid setting (a header value with a newline, say) is
//! reported by every call as [`Error::Config`], and [`Config::validate`] checks it up front.
//! A `ChatApi` holds one connection pool; clones share it, and it is `Send + Sync`.
//! Proxies come from the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) as ureq reads
//! them; the TLS stack and trust store (the `rustls`, `native-tls` and `platform-verifier`
//! features), private CAs, client certificates and proxies are in the guide [`guide::tls`].
//! Redirects are not followed: a POST is not replayed elsewhere and credentials never
//! reach another host; a 3xx is an [`Error::Api`] naming the `Location`.
//!
//! # Errors
//!
//! Every failure is an [`Error`]: [`Error::Api`] for a non-2xx answer (with the server's
//! message, status, type, code and request id), [`Error::Transport`] for connection
//! failures and timeouts, [`Error::Decode`] for a 2xx body that is not the expected JSON,
//! [`Error::Stream`] for a broken stream, [`Error::InvalidRequest`] and
//! [`Error::Config`] for what is refused before sending, and [`Error::Parse`] from the
//! `parse` helpers. Connection failures, timeouts, 408, 409, 429 and 5xx are retried; see
//! [the errors guide](guide::errors) and [the retries guide](guide::retries).
//!
//! # Wire types
//!
//! The request and response types live in [`types`], named after the schemas of the
//! OpenAI OpenAPI specification (every schema of its `Chat` tag), with public fields named
//! as on the wire. A request is built with
//! [`CreateChatCompletionRequest::new(model, messages)`](types::CreateChatCompletionRequest::new)
//! and one consuming setter per optional field; `.extra(key, value)` adds any vendor field
//! (`top_k`, `min_p`, …). Unset options are never sent as `null`.
//!
//! Decoding never fails on what real servers send: missing `id`, `created`, `usage` or
//! `index`, `choices: []`, `null` where a value was expected, unknown `finish_reason`, `role`
//! or `service_tier` values (open enums with an `Other(String)` catch-all: match on
//! `as_str()` for values this crate may add later), `content` as an array of parts, numbers
//! where text was expected, logprobs as strings (`"-inf"`), tool-call arguments as an object.
//! Vendor keys on the response, each choice, message, tool call and usage are kept in
//! `extra` maps and serialize back out, so a response message can become the next
//! request's assistant message without losing DeepSeek's `reasoning_content`.
//!
//! # Guides
//!
//! The [`guide`] module has a page per job: [streaming](guide::streaming),
//! [errors](guide::errors), [retries and timeouts](guide::retries),
//! [tools, structured outputs and reasoning](guide::tools),
//! [stored completions](guide::stored), [Azure OpenAI](guide::azure),
//! [build scripts](guide::build_scripts), [performance](guide::performance),
//! [conformance](guide::conformance), [fuzzing](guide::fuzzing),
//! [testing code that calls sync-openai](guide::testing), [scale](guide::scale) (`run_many`
//! and the Batch API), [TLS, certificates and proxies](guide::tls) and
//! [observability](guide::observability) (`OPENAI_LOG`, events, `curl` export).
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `rustls` | yes | TLS through rustls with the webpki roots (ureq's default) |
//! | `native-tls` | no | TLS through the platform's native library and the operating system's trust store; when enabled it is used for every connection |
//! | `platform-verifier` | no | TLS through rustls, trusting the operating system's certificate store |
//! | `gzip` | yes | accept gzip-compressed responses |
//! | `testing` | no | [`testing`]: a local mock server for your own tests |
//!
//! `--no-default-features` builds a plain-HTTP client for local servers.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accumulate;
mod agent;
mod api;
mod batches;
mod bulk;
mod cache;
mod clock;
mod config;
mod connection;
mod curl;
mod error;
mod error_body;
mod files;
pub mod guide;
mod http_date;
mod models;
mod multipart;
mod observe;
mod options;
mod response;
mod retry;
mod send;
mod sse;
mod stored;
mod stream;
mod streamed;
#[cfg(feature = "testing")]
pub mod testing;
mod think;
mod tls;
mod transport_error;
pub mod types;
mod util;

pub use accumulate::ChunkAccumulator;
pub use api::ChatApi;
pub use batches::{batch_jsonl, BatchFile, BatchLineProblem, BatchResults, WaitOptions};
pub use bulk::{BulkResult, CancelToken, Progress, RunOptions, RunReport};
pub use clock::{Clock, SystemClock};
pub use config::{
    CacheMode, Config, AZURE_DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use error::{
    ApiError, ApiErrorKind, CacheError, CacheErrorKind, ConfigError, DecodeError, Error,
    InvalidRequestError, ParseError, StoppedError, StreamError, StreamErrorKind, TransportError,
    TransportErrorKind,
};
pub use error_body::{ErrorDetail, MAX_ERROR_BODY_BYTES};
pub use observe::{Event, LogLevel, ParseLogLevelError, StreamEnd};
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
