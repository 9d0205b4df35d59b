//! The response cache's environment variables. One test only: the environment is
//! process-wide.
#![allow(unsafe_code)] // edition 2024: std::env::set_var and remove_var are unsafe
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::fs;
use std::path::Path;

use sync_openai::cache::CacheMode;
use sync_openai::error::CacheErrorKind;
use sync_openai::testing::{MockServer, Reply};
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, Error};

#[test]
fn cache_variables_choose_the_directory_and_the_mode() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-env");
    let _ = fs::remove_dir_all(&dir);
    for v in [
        "SYNC_OPENAI_CACHE_DIR",
        "SYNC_OPENAI_CACHE_MODE",
        "CARGO_NET_OFFLINE",
        "DOCS_RS",
        "OPENAI_API_KEY",
    ] {
        // SAFETY: the only test of this binary, so no other thread reads the environment.
        unsafe { std::env::remove_var(v) };
    }
    let server = MockServer::start();
    server.reply(Reply::text("recorded"));
    let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("hi")]);
    let other = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("other")]);
    let miss = |api: &ChatApi| match api.create_chat_completion(&other) {
        Err(Error::Cache(e)) => e.kind() == CacheErrorKind::Miss,
        other => panic!("expected a miss, got {other:?}"),
    };

    // SYNC_OPENAI_CACHE_DIR, read by from_env.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_BASE_URL", server.base_url()) };
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("SYNC_OPENAI_CACHE_DIR", &dir) };
    let api = ChatApi::new(Config::from_env());
    assert!(!api
        .create_chat_completion_with_http_info(&req)
        .unwrap()
        .is_replay());
    assert!(api
        .create_chat_completion_with_http_info(&req)
        .unwrap()
        .is_replay());
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);

    // SYNC_OPENAI_CACHE_MODE=read-only: a miss is an error, nothing is sent.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("SYNC_OPENAI_CACHE_MODE", "read-only") };
    let api = ChatApi::new(Config::from_env());
    let Err(Error::Cache(e)) = api.create_chat_completion(&other) else {
        panic!("expected a miss");
    };
    assert!(e.to_string().contains("(SYNC_OPENAI_CACHE_MODE)"), "{e}");
    // Config::cache_mode wins over the variable.
    let api = ChatApi::new(Config::from_env().cache_mode(CacheMode::Refresh));
    server.reply(Reply::text("refreshed"));
    assert_eq!(
        api.create_chat_completion(&req).unwrap().choices[0]
            .message
            .content
            .as_deref(),
        Some("refreshed")
    );

    // A mode that does not exist: every call says which values do.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("SYNC_OPENAI_CACHE_MODE", "sometimes") };
    let err = ChatApi::new(Config::from_env())
        .create_chat_completion(&req)
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        r#"SYNC_OPENAI_CACHE_MODE is "sometimes": set it to read-write, read-only or refresh"#
    );
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::remove_var("SYNC_OPENAI_CACHE_MODE") };

    // Offline (CARGO_NET_OFFLINE=true) or on docs.rs, read-write acts as read-only: a hit
    // replays, a miss sends nothing.
    for (name, value) in [("CARGO_NET_OFFLINE", "true"), ("DOCS_RS", "1")] {
        // SAFETY: the only test of this binary, so no other thread reads the environment.
        unsafe { std::env::set_var(name, value) };
        for config in [
            Config::from_env(),
            Config::from_env().cache_mode(CacheMode::ReadWrite),
        ] {
            let api = ChatApi::new(config);
            assert!(api
                .create_chat_completion_with_http_info(&req)
                .unwrap()
                .is_replay());
            assert!(miss(&api), "{name}");
        }
        // SAFETY: the only test of this binary, so no other thread reads the environment.
        unsafe { std::env::remove_var(name) };
    }
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("CARGO_NET_OFFLINE", "false") };
    server.reply(Reply::text("online again"));
    let api = ChatApi::new(Config::from_env());
    assert!(api.create_chat_completion(&other).is_ok());
    // Two calls with the network: the first recording, and the refresh.
    assert_eq!(server.requests().len(), 3);
}
