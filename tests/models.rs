//! `list_models` and `retrieve_model` against every shape servers give `/v1/models`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use crate::common;

use common::{api, KEY};
use httpmock::MockServer;
use serde_json::json;
use sync_openai::error::ApiErrorKind;
use sync_openai::types::{Date, ModelList};
use sync_openai::{Error, ModelsApi};

/// The Models API on the shared test client.
fn models(server: &MockServer) -> ModelsApi {
    ModelsApi::from(&api(server))
}

/// Serves `body` at `GET /v1/models` and lists the models through the client.
fn listed(body: &str) -> ModelList {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/models")
            .header("authorization", format!("Bearer {KEY}"));
        then.status(200)
            .header("content-type", "application/json")
            .body(body);
    });
    let list = models(&server).list_models().unwrap();
    mock.assert();
    list
}

#[test]
fn openai_spec_example() {
    // The response example of `GET /models` in the OpenAPI spec, trailing comma removed.
    let list = listed(
        r#"{"object": "list", "data": [
            {"id": "model-id-0", "object": "model", "created": 1686935002, "owned_by": "organization-owner", "shutdown_date": null},
            {"id": "model-id-1", "object": "model", "created": 1686935002, "owned_by": "organization-owner", "shutdown_date": null},
            {"id": "model-id-2", "object": "model", "created": 1686935002, "owned_by": "openai", "shutdown_date": "2026-10-23"}
        ]}"#,
    );
    assert_eq!(list.object, "list");
    assert_eq!(
        list.ids().collect::<Vec<_>>(),
        ["model-id-0", "model-id-1", "model-id-2"]
    );
    let m = &list.data[2];
    assert_eq!(
        (m.object.as_str(), m.created, m.owned_by.as_deref()),
        ("model", Some(1686935002), Some("openai"))
    );
    assert_eq!(
        m.shutdown_date,
        Some(Date {
            year: 2026,
            month: 10,
            day: 23
        })
    );
    assert_eq!(list.data[0].shutdown_date, None);
    assert!(m.extra.is_empty(), "{:?}", m.extra);
}

#[test]
fn object_created_and_owned_by_missing() {
    // LM Studio leaves out `created`; some proxies send nothing but ids.
    let list = listed(
        r#"{"data": [{"id": "qwen2.5-7b-instruct", "owned_by": "organization_owner"}, {"id": "bare"}]}"#,
    );
    assert_eq!(list.object, "");
    let [a, b] = &list.data[..] else {
        panic!("{list:?}")
    };
    assert_eq!(
        (a.id.as_str(), a.object.as_str(), a.created),
        ("qwen2.5-7b-instruct", "", None)
    );
    assert_eq!(a.owned_by.as_deref(), Some("organization_owner"));
    assert_eq!((b.id.as_str(), b.owned_by.as_deref()), ("bare", None));
}

#[test]
fn created_as_text() {
    let list = listed(
        r#"{"object": "list", "data": [
            {"id": "a", "object": "model", "created": "1712345678", "owned_by": "x"},
            {"id": "b", "object": "model", "created": "2024-04-05T19:34:38Z", "owned_by": "x"}
        ]}"#,
    );
    assert_eq!(list.data[0].created, Some(1712345678));
    assert_eq!(list.data[1].created, None);
    // Kept as received, and written back as received.
    assert_eq!(list.data[1].extra["created"], "2024-04-05T19:34:38Z");
    assert_eq!(
        serde_json::to_value(&list.data[1]).unwrap(),
        json!({"id": "b", "object": "model", "created": "2024-04-05T19:34:38Z", "owned_by": "x"})
    );
}

#[test]
fn data_null_and_missing_and_an_empty_body_object() {
    for body in [
        r#"{"object": "list", "data": null}"#,
        r#"{"object": "list"}"#,
        "{}",
    ] {
        let list = listed(body);
        assert!(list.data.is_empty(), "{body}: {list:?}");
    }
}

#[test]
fn a_bare_json_array() {
    // Together AI answers `GET /v1/models` with a bare array.
    let list = listed(
        r#"[{"id": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "object": "model", "created": 1733961600,
             "type": "chat", "display_name": "Meta Llama 3.3 70B Instruct Turbo", "organization": "Meta",
             "context_length": 131072, "pricing": {"hourly": 0, "input": 0.88, "output": 0.88}}]"#,
    );
    assert_eq!(
        list.ids().collect::<Vec<_>>(),
        ["meta-llama/Llama-3.3-70B-Instruct-Turbo"]
    );
    let m = &list.data[0];
    assert_eq!(m.created, Some(1733961600));
    assert_eq!(m.extra["context_length"], 131072);
    assert_eq!(m.extra["pricing"]["input"], 0.88);
    assert_eq!(m.extra["type"], "chat");
}

#[test]
fn llama_cpp_with_its_models_array_beside_data() {
    // The shape of llama-server's `GET /v1/models` (llama.cpp as vendored by
    // llama-cpp-python 0.3.36, tools/server/server-context.cpp `get_res_models`).
    let list = listed(
        r#"{"models": [{"name": "tiny.gguf", "model": "tiny.gguf", "modified_at": "", "size": "", "digest": "",
                        "type": "model", "description": "", "tags": [""], "capabilities": ["completion"],
                        "parameters": "", "details": {"parent_model": "", "format": "gguf", "family": "",
                        "families": [""], "parameter_size": "", "quantization_level": ""}}],
            "object": "list",
            "data": [{"id": "tiny.gguf", "aliases": [], "tags": [], "object": "model", "created": 1764600000,
                      "owned_by": "llamacpp",
                      "meta": {"vocab_type": 1, "n_vocab": 32000, "n_ctx": 128, "n_ctx_train": 256, "n_embd": 64,
                               "n_params": 4358144, "size": 8716288, "ftype": 1}}]}"#,
    );
    assert_eq!(list.ids().collect::<Vec<_>>(), ["tiny.gguf"]);
    let m = &list.data[0];
    assert_eq!(
        (m.object.as_str(), m.created, m.owned_by.as_deref()),
        ("model", Some(1764600000), Some("llamacpp"))
    );
    assert_eq!(m.extra["meta"]["n_ctx_train"], 256);
    assert_eq!(m.extra["aliases"], json!([]));
    // The native array is kept, not read twice.
    assert_eq!(list.extra["models"][0]["name"], "tiny.gguf");
    assert_eq!(list.extra["models"][0]["details"]["format"], "gguf");
}

#[test]
fn only_a_native_models_array() {
    // Ollama's native listing shape: `models` with `name`, no `data`.
    let list = listed(
        r#"{"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 2019393189}]}"#,
    );
    assert_eq!(list.ids().collect::<Vec<_>>(), ["llama3.2:latest"]);
    assert_eq!(list.data[0].extra["size"], 2019393189u64);
    assert!(list.extra.is_empty());
}

#[test]
fn vendor_fields_are_kept() {
    // OpenRouter: no object, no owned_by, pricing as strings; vLLM: max_model_len, root,
    // permission; a gateway: status and aliases.
    let list = listed(
        r#"{"data": [
            {"id": "openai/gpt-4o", "name": "OpenAI: GPT-4o", "created": 1715367049, "context_length": 128000,
             "architecture": {"input_modalities": ["text", "image"]}, "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
             "supported_parameters": ["tools", "temperature"]},
            {"id": "meta-llama/Llama-3.1-8B-Instruct", "object": "model", "created": 1733000000, "owned_by": "vllm",
             "root": "meta-llama/Llama-3.1-8B-Instruct", "parent": null, "max_model_len": 8192,
             "permission": [{"id": "modelperm-1", "allow_sampling": true}]},
            {"id": "fast", "object": "model", "owned_by": "gateway", "status": "active", "aliases": ["quick"],
             "capabilities": {"tool_calling": true}, "shutdown_date": null}
        ]}"#,
    );
    let [openrouter, vllm, gateway] = &list.data[..] else {
        panic!("{list:?}")
    };
    assert_eq!(openrouter.id, "openai/gpt-4o");
    assert_eq!(openrouter.extra["context_length"], 128000);
    assert_eq!(openrouter.extra["pricing"]["prompt"], "0.0000025");
    assert_eq!(openrouter.extra["name"], "OpenAI: GPT-4o");
    assert_eq!(vllm.extra["max_model_len"], 8192);
    assert_eq!(vllm.extra["permission"][0]["allow_sampling"], true);
    assert_eq!(vllm.extra["parent"], serde_json::Value::Null);
    assert_eq!(gateway.extra["aliases"], json!(["quick"]));
    assert_eq!(gateway.extra["capabilities"]["tool_calling"], true);
    assert_eq!(gateway.extra["status"], "active");
    // A round trip keeps every vendor key.
    let again: ModelList = serde_json::from_value(serde_json::to_value(&list).unwrap()).unwrap();
    assert_eq!(again, list);
}

#[test]
fn a_body_that_is_no_list_is_a_decode_error() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("GET").path("/v1/models");
        then.status(200)
            .header("x-litellm-call-id", "call-9")
            .body(r#""not a list""#);
    });
    let err = models(&server).list_models().unwrap_err();
    let Error::Decode(_) = &err else {
        panic!("{err:?}")
    };
    assert!(err.to_string().contains("as ModelList"), "{err}");
    assert_eq!(err.request_id(), Some("call-9"));
}

#[test]
fn retrieve_encodes_an_id_with_slashes_as_one_segment() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/models/meta-llama%2FLlama-3.1-8B");
        then.status(200)
            .header("apim-request-id", "apim-7")
            .body(r#"{"id": "meta-llama/Llama-3.1-8B", "object": "model", "created": 1, "owned_by": "vllm"}"#);
    });
    let resp = models(&server)
        .retrieve_model_with_http_info("meta-llama/Llama-3.1-8B")
        .unwrap();
    mock.assert();
    assert_eq!(resp.data.id, "meta-llama/Llama-3.1-8B");
    assert_eq!(resp.request_id(), Some("apim-7"));

    let gemini = server.mock(|when, then| {
        when.method("GET")
            .path("/v1/models/models%2Fgemini-2.5-flash");
        then.status(200)
            .body(r#"{"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"}"#);
    });
    let m = models(&server)
        .retrieve_model("models/gemini-2.5-flash")
        .unwrap();
    gemini.assert();
    assert_eq!(
        (m.id.as_str(), m.created),
        ("models/gemini-2.5-flash", None)
    );
}

#[test]
fn retrieve_an_unknown_model_is_not_found() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method("GET").path("/v1/models/gpt-9");
        then.status(404)
            .header("x-request-id", "req_404")
            .body(r#"{"error": {"message": "The model 'gpt-9' does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}"#);
    });
    let err = models(&server).retrieve_model("gpt-9").unwrap_err();
    let Error::Api(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), ApiErrorKind::NotFound);
    assert_eq!(e.code(), Some("model_not_found"));
    assert_eq!(err.request_id(), Some("req_404"));
}

#[test]
fn retrieve_refuses_ids_that_name_another_path() {
    let server = MockServer::start();
    let any = server.mock(|_, then| {
        then.status(200).body("{}");
    });
    for id in ["", ".", ".."] {
        let err = models(&server).retrieve_model(id).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id:?}: {err:?}");
        assert!(
            err.to_string().contains("would not name one model"),
            "{err}"
        );
    }
    any.assert_calls(0);
}
