//! What the examples share: a local mock server for when no server is configured, so that
//! `cargo run --example NAME` works offline, and small helpers.
//!
//! With `OPENAI_API_KEY` or `OPENAI_BASE_URL` set, an example calls that server. Without,
//! [`offline_mock`] starts the test kit's mock server ([`sync_openai::testing`]) with the
//! answers the example scripts and points `OPENAI_BASE_URL` at it, so the example's own
//! `ChatApi::from_env()` reaches it: the client is built the same way in both cases.

// Each example uses only some of these helpers.
#![allow(dead_code)]

use std::process::ExitCode;

use sync_openai::testing::{MockServer, Reply};
use sync_openai::{ChatApi, Error, ModelsApi};

/// When neither `OPENAI_API_KEY` nor `OPENAI_BASE_URL` is set: a local mock server that
/// answers with `replies` in order, with `OPENAI_BASE_URL` set to it for this process (and
/// a line saying so). Keep it alive (`let _mock = …`) as long as the client is used.
///
/// Call it first thing in `main`: a write to the environment races with any other thread
/// reading it (which is why edition 2024 makes `std::env::set_var` `unsafe`). Here no other thread reads it: the mock's own threads
/// only accept and answer connections, and the client is built afterwards.
pub fn offline_mock(replies: impl IntoIterator<Item = Reply>) -> Option<MockServer> {
    mock_unless_set(&["OPENAI_API_KEY", "OPENAI_BASE_URL"], replies)
}

/// Like [`offline_mock`], when none of `vars` is set: for an example meant for a local
/// server, the mock stands in unless `OPENAI_BASE_URL` is set.
#[allow(unsafe_code)] // edition 2024: std::env::set_var is unsafe
pub fn mock_unless_set(
    vars: &[&str],
    replies: impl IntoIterator<Item = Reply>,
) -> Option<MockServer> {
    if vars.iter().any(|var| is_set(var)) {
        return None;
    }
    let mock = mock(replies);
    // SAFETY: called first thing in `main`; the mock's threads read no environment variable.
    unsafe { std::env::set_var("OPENAI_BASE_URL", mock.base_url()) };
    let url = mock.base_url();
    println!(
        "{} not set: using a local mock server at {url} (no network needed)\n",
        vars.join(" and ")
    );
    Some(mock)
}

/// Like [`offline_mock`] for Azure OpenAI: when `AZURE_OPENAI_ENDPOINT` is not set, a
/// local mock standing in for a deployment, with `AZURE_OPENAI_ENDPOINT`,
/// `AZURE_OPENAI_DEPLOYMENT` and `AZURE_OPENAI_API_KEY` set to it for this process, so
/// that `Config::azure_from_env()` reaches it. Call it first thing in `main`, as
/// [`offline_mock`].
#[allow(unsafe_code)] // edition 2024: std::env::set_var is unsafe
pub fn offline_azure_mock(replies: impl IntoIterator<Item = Reply>) -> Option<MockServer> {
    if is_set("AZURE_OPENAI_ENDPOINT") {
        return None;
    }
    let mock = mock(replies);
    // SAFETY: called first thing in `main`; the mock's threads read no environment variable.
    unsafe {
        std::env::set_var("AZURE_OPENAI_ENDPOINT", mock.url(""));
        std::env::set_var("AZURE_OPENAI_DEPLOYMENT", "gpt-4o-mock");
        std::env::set_var("AZURE_OPENAI_API_KEY", "mock-azure-key");
    }
    println!("AZURE_OPENAI_ENDPOINT is not set: using a local mock of an Azure deployment\n");
    Some(mock)
}

/// Like [`offline_mock`], for a program whose stdout is its output (JSONL, a pipe): the
/// mock answers every request with `reply`, and its notice goes to stderr. Call it first
/// thing in `main`, as [`offline_mock`].
#[allow(unsafe_code)] // edition 2024: std::env::set_var is unsafe
pub fn offline_mock_always(reply: Reply) -> Option<MockServer> {
    if is_set("OPENAI_API_KEY") || is_set("OPENAI_BASE_URL") {
        return None;
    }
    let mock = MockServer::start();
    mock.reply_always(reply);
    // SAFETY: called first thing in `main`; the mock's threads read no environment variable.
    unsafe { std::env::set_var("OPENAI_BASE_URL", mock.base_url()) };
    let url = mock.base_url();
    eprintln!("OPENAI_API_KEY and OPENAI_BASE_URL not set: using a local mock server at {url}");
    Some(mock)
}

/// The configured server, or a local mock that answers with `replies` in order. Keep the
/// mock alive (bind it to a variable) as long as the client is used.
pub fn client_or_mock(
    replies: impl IntoIterator<Item = Reply>,
) -> Result<(ChatApi, Option<MockServer>), Error> {
    let mock = offline_mock(replies);
    Ok((ChatApi::from_env()?, mock))
}

/// A started mock server with these replies scripted.
pub fn mock(replies: impl IntoIterator<Item = Reply>) -> MockServer {
    let mock = MockServer::start();
    for reply in replies {
        mock.reply(reply);
    }
    mock
}

/// Whether an environment variable is set to something other than blanks.
pub fn is_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// `OPENAI_MODEL`, or this default.
pub fn model(default: &str) -> String {
    std::env::var("OPENAI_MODEL").unwrap_or_else(|_| default.to_owned())
}

/// `--model NAME`, else `OPENAI_MODEL`; else, against a local server (`OPENAI_BASE_URL`, not
/// the mock), the first model it lists; else this default.
pub fn model_or_first_listed(api: &ChatApi, mock: &Option<MockServer>, default: &str) -> String {
    let given = std::env::args().skip_while(|a| a != "--model").nth(1);
    if let Some(model) = given.or_else(|| std::env::var("OPENAI_MODEL").ok()) {
        return model;
    }
    if mock.is_some() || api.config().get_base_url() == sync_openai::config::DEFAULT_BASE_URL {
        return default.to_owned();
    }
    match ModelsApi::from(api).list_models() {
        Ok(list) => list.ids().next().unwrap_or(default).to_owned(),
        Err(e) => {
            eprintln!("cannot list the server's models ({e}): using {default}");
            default.to_owned()
        }
    }
}

/// The exit code of a run: success, or the error on stderr and failure.
pub fn exit(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
