//! Guides: how to use the crate for one job at a time.
//!
//! Each guide is a page of this module; every code block in them is a doctest.
//!
//! - [`configuration`]: the handles, `Config` and its environment variables, the wire types
//! - [`streaming`]: print an answer as it arrives, collect a stream, what the reader handles
//! - [`errors`]: the error variants, error bodies from every server, parse errors
//! - [`retries`]: what is retried, how long the client waits, the timeouts
//! - [`tools`]: tool calls, structured outputs, reasoning text
//! - [`stored`]: stored completions: get, list with paging, update, delete
//! - [`azure`]: Azure OpenAI deployments, the v1 API, Entra ID tokens, content filtering
//! - [`build_scripts`]: asking a model from `build.rs` without ever failing the build
//! - [`performance`]: what the crate costs on top of plain ureq and serde_json
//! - [`conformance`]: how the crate is checked against the OpenAPI spec and real servers
//! - [`fuzzing`]: the parsers of what a server sends, fuzzed
//! - [`testing`]: testing code that calls sync-openai: the mock server and the response cache
//! - [`scale`]: many requests: `run_many` on one machine, the Batch API beyond it
//! - [`tls`]: TLS, certificates and proxies: corporate proxies, private CAs, mutual TLS
//! - [`observability`]: `OPENAI_LOG`, events, `curl` export, custom headers, request ids, models

#[doc = include_str!("../docs/guide/configuration.md")]
pub mod configuration {}

#[doc = include_str!("../docs/guide/streaming.md")]
pub mod streaming {}

#[doc = include_str!("../docs/guide/errors.md")]
pub mod errors {}

#[doc = include_str!("../docs/guide/retries.md")]
pub mod retries {}

#[doc = include_str!("../docs/guide/tools.md")]
pub mod tools {}

#[doc = include_str!("../docs/guide/stored.md")]
pub mod stored {}

#[doc = include_str!("../docs/guide/azure.md")]
pub mod azure {}

#[doc = include_str!("../docs/guide/build_scripts.md")]
pub mod build_scripts {}

#[doc = include_str!("../docs/guide/performance.md")]
pub mod performance {}

#[doc = include_str!("../docs/guide/conformance.md")]
pub mod conformance {}

#[doc = include_str!("../docs/guide/fuzzing.md")]
pub mod fuzzing {}

#[doc = include_str!("../docs/guide/testing.md")]
pub mod testing {}

#[doc = include_str!("../docs/guide/scale.md")]
pub mod scale {}

#[doc = include_str!("../docs/guide/tls.md")]
pub mod tls {}

#[doc = include_str!("../docs/guide/observability.md")]
pub mod observability {}
