//! `ChatApi::from_env` and `Config::from_env`. One test only: environment variables are process-wide.
#![allow(unsafe_code)] // edition 2024: std::env::set_var and remove_var are unsafe
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use sync_openai::{ChatApi, Config, Error, ModelsApi};

#[test]
fn from_env_reads_the_variables() {
    for v in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_LOG",
        "OPENAI_CUSTOM_HEADERS",
    ] {
        // SAFETY: the only test of this binary, so no other thread reads the environment.
        unsafe { std::env::remove_var(v) };
    }
    // No key, default base URL: a config error that says how to fix it.
    let err = ChatApi::from_env().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");

    // An empty key counts as unset.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_API_KEY", "  ") };
    assert!(ChatApi::from_env().is_err());

    // A local server needs no key.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1/") };
    let api = ChatApi::from_env().unwrap();
    assert_eq!(api.config().get_base_url(), "http://127.0.0.1:11434/v1");
    assert!(!api.config().has_api_key());

    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_API_KEY", "sk-env-secret-value\n") };
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_ORG_ID", "org-env") };
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_PROJECT_ID", "proj_env") };
    let config = Config::from_env();
    assert!(config.has_api_key());
    let debug = format!("{config:?}");
    assert!(
        debug.contains("org-env") && debug.contains("proj_env"),
        "{debug}"
    );
    assert!(!debug.contains("sk-env-secret-value"), "{debug}");
    assert!(debug.contains("log_level: Off"), "{debug}");

    // OPENAI_LOG and OPENAI_CUSTOM_HEADERS; headers set in code replace those of the
    // environment, and the environment's reach the server.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_LOG", " Debug ") };
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe {
        std::env::set_var(
            "OPENAI_CUSTOM_HEADERS",
            "X-Team: search\r\n\nHelicone-Auth: Bearer hk-env\nX-Trace: env\n",
        )
    };
    let server = httpmock::MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/models")
            .header("x-team", "search")
            .header("helicone-auth", "Bearer hk-env")
            .header("x-trace", "code");
        then.status(200).body(r#"{"data": []}"#);
    });
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_BASE_URL", server.url("/v1")) };
    assert!(format!("{:?}", Config::from_env()).contains("log_level: Debug"));
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::remove_var("OPENAI_LOG") }; // the log would go to the real stderr
    let config = Config::from_env().header("X-Trace", "code");
    ModelsApi::new(config).list_models().unwrap();
    mock.assert();
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe { std::env::set_var("OPENAI_LOG", "warn") };
    assert!(format!("{:?}", Config::from_env()).contains("log_level: Off"));

    // A malformed line fails every call with the line number, and sends nothing.
    // SAFETY: the only test of this binary, so no other thread reads the environment.
    unsafe {
        std::env::set_var(
            "OPENAI_CUSTOM_HEADERS",
            "X-Team: search\nhk-secret-without-colon",
        )
    };
    let api = ChatApi::new(Config::from_env());
    let err = ModelsApi::from(&api).list_models().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "OPENAI_CUSTOM_HEADERS line 2 is not a `Name: value` header (a valid header name, a colon, a value without control characters)"
    );
    mock.assert_calls(1);
    assert!(ChatApi::from_env().is_err());
}
