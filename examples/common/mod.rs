//! What the examples share: which server they talk to, and how they end.
//!
//! With `OPENAI_API_KEY` or `OPENAI_BASE_URL` set, an example calls that server. Without,
//! it starts the test kit's mock server ([`sync_openai::testing`]) with the answers the
//! example scripts, and says so, so that `cargo run --example NAME` works offline.

// Each example uses only some of these helpers.
#![allow(dead_code)]

use std::process::ExitCode;

use sync_openai::testing::{MockServer, Reply};
use sync_openai::{ChatApi, Error, ModelsApi};

/// The configured server, or a local mock that answers with `replies` in order. Keep the
/// mock alive (bind it to a variable) as long as the client is used.
pub fn client_or_mock(
    replies: impl IntoIterator<Item = Reply>,
) -> Result<(ChatApi, Option<MockServer>), Error> {
    if is_set("OPENAI_API_KEY") || is_set("OPENAI_BASE_URL") {
        let api = ChatApi::from_env()?;
        println!("using {}", api.config().get_base_url());
        return Ok((api, None));
    }
    let mock = mock(replies);
    println!(
        "OPENAI_API_KEY is not set: using a local mock server at {} (no network needed).\n",
        mock.base_url()
    );
    Ok((ChatApi::new(mock.config()), Some(mock)))
}

/// Like [`client_or_mock`], for a program whose stdout is its output: the mock answers
/// every request with `reply`, and the notice goes to stderr.
pub fn client_or_mock_always(reply: Reply) -> Result<(ChatApi, Option<MockServer>), Error> {
    if is_set("OPENAI_API_KEY") || is_set("OPENAI_BASE_URL") {
        return Ok((ChatApi::from_env()?, None));
    }
    let mock = MockServer::start();
    mock.reply_always(reply);
    let url = mock.base_url();
    eprintln!("OPENAI_BASE_URL and OPENAI_API_KEY are not set: using a mock server at {url}");
    Ok((ChatApi::new(mock.config()), Some(mock)))
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
    match ModelsApi::from(api)
        .list_models()
        .map(|list| list.data.into_iter().next())
    {
        Ok(Some(first)) => first.id,
        Ok(None) => default.to_owned(),
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
