//! `ChatApi::from_env`. One test only: environment variables are process-wide.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use sync_openai::{ChatApi, Config, Error};

#[test]
fn from_env_reads_the_variables() {
    for v in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
    ] {
        std::env::remove_var(v);
    }
    // No key, default base URL: a config error that says how to fix it.
    let err = ChatApi::from_env().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");

    // An empty key counts as unset.
    std::env::set_var("OPENAI_API_KEY", "  ");
    assert!(ChatApi::from_env().is_err());

    // A local server needs no key.
    std::env::set_var("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1/");
    let api = ChatApi::from_env().unwrap();
    assert_eq!(api.config().get_base_url(), "http://127.0.0.1:11434/v1");
    assert!(!api.config().has_api_key());

    std::env::set_var("OPENAI_API_KEY", "sk-env-secret-value\n");
    std::env::set_var("OPENAI_ORG_ID", "org-env");
    std::env::set_var("OPENAI_PROJECT_ID", "proj_env");
    let config = Config::from_env();
    assert!(config.has_api_key());
    let debug = format!("{config:?}");
    assert!(
        debug.contains("org-env") && debug.contains("proj_env"),
        "{debug}"
    );
    assert!(!debug.contains("sk-env-secret-value"), "{debug}");
}
