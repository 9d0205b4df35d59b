//! The integration tests that need no process of their own, as one test binary (one link
//! instead of one per file: `cargo test` builds this crate's tests in a few binaries).
//!
//! Each `mod x;` below is the file `tests/x.rs`, unchanged but for its harness import,
//! which is `use crate::common;` (not `mod common;`). Run one file's tests with
//! `cargo test --test suite x::` (e.g. `cargo test --test suite decode_quirks::`).
//!
//! # Adding a test file
//!
//! Cargo.toml has `autotests = false`, so a new `tests/x.rs` is built only once it is named
//! here or in a `[[test]]` entry (`.ci/run` fails on a file that is neither):
//!
//! * a file that changes the process environment (`std::env::set_var`, `remove_var`),
//!   installs a `#[global_allocator]`, or needs an external server gets its own `[[test]]`
//!   entry in Cargo.toml;
//! * any other file gets a `mod x;` line here, in alphabetical order, with
//!   `use crate::common;` in place of its `mod common;`; a file that needs an opt-in
//!   feature gets `#[cfg(feature = "…")]` on its line.

// The harness (tests/common) fails a test by panicking, as the files' tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
// The completion generator the accumulate, events and stream files share (and the fuzzer).
#[path = "common/completions.rs"]
mod completions;

mod accumulate;
mod batches;
mod bulk_example;
mod cache;
mod client;
mod conformance;
mod conformance_batches;
mod curl;
mod decode_quirks;
mod errors;
mod events;
mod faults;
mod local_servers;
mod models;
mod observe;
mod options;
mod run_many;
mod schema;
mod secrets;
mod spec_examples;
mod stored;
mod stream;
mod structured;
mod testing;
mod timeouts;
mod tools;
mod tools_runner;
mod types_request;
