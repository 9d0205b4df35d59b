//! Azure OpenAI: a deployment with `api-version` and an `api-key` (or a Microsoft Entra ID
//! token), a streamed answer, and Azure's content-filter verdicts.
//!
//! ```text
//! cargo run --example azure      # offline, against a local mock of an Azure deployment
//! AZURE_OPENAI_ENDPOINT=https://RESOURCE.openai.azure.com AZURE_OPENAI_DEPLOYMENT=gpt-4o \
//!   AZURE_OPENAI_API_KEY=... cargo run --example azure
//! ```
//!
//! Without `AZURE_OPENAI_DEPLOYMENT` the v1 API (`/openai/v1`, no `api-version`) is used and
//! `OPENAI_MODEL` names the deployment. `AZURE_OPENAI_AD_TOKEN` replaces the key with a token.

use std::io::Write;
use std::process::ExitCode;

use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ContentFilterResults, CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Config, Error};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Error::Api(api_error) = &e {
                if let Some(filter) = api_error.content_filter() {
                    eprintln!("content filter: {filter:?}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    let (config, _mock) = config()?;
    let api = ChatApi::new(config);
    println!("calling {}", api.config().get_base_url());
    // For a deployment URL the model is ignored; for the v1 API it names the deployment.
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o".to_owned());
    let request = CreateChatCompletionRequest::new(
        model,
        vec![Message::user(
            "Name three rivers of Europe, comma-separated.",
        )],
    )
    .max_completion_tokens(100);

    let response = api.create_chat_completion_with_http_info(&request)?;
    println!("request id: {}", response.request_id().unwrap_or("(none)"));
    for prompt in response.data.prompt_filter_results() {
        print_verdicts("prompt", &prompt.content_filter_results);
    }
    for choice in &response.data.choices {
        println!(
            "answer: {}",
            choice.message.content.as_deref().unwrap_or("(none)")
        );
        if let Some(verdicts) = choice.content_filter_results() {
            print_verdicts("answer", &verdicts);
        }
    }

    print!("streamed: ");
    std::io::stdout().flush().ok();
    for chunk in api.create_chat_completion_stream(&request)? {
        let chunk = chunk?;
        // Azure's first chunk has no choices, only the prompt's verdicts.
        if !chunk.prompt_filter_results().is_empty() {
            continue;
        }
        for choice in &chunk.choices {
            if let Some(text) = choice.delta.content.as_deref() {
                print!("{text}");
                std::io::stdout().flush().ok();
            }
        }
    }
    println!();
    Ok(())
}

fn print_verdicts(what: &str, verdicts: &ContentFilterResults) {
    let severity = |r: &Option<sync_openai::types::ContentFilterSeverityResult>| {
        r.as_ref()
            .and_then(|r| r.severity.as_ref())
            .map_or("-", |s| s.as_str())
            .to_owned()
    };
    println!(
        "{what} filter: filtered={} hate={} self_harm={} sexual={} violence={}",
        verdicts.is_filtered(),
        severity(&verdicts.hate),
        severity(&verdicts.self_harm),
        severity(&verdicts.sexual),
        severity(&verdicts.violence),
    );
}

/// Azure from the environment when `AZURE_OPENAI_ENDPOINT` is set, else a local mock.
fn config() -> Result<(Config, Option<httpmock::MockServer>), Error> {
    if std::env::var("AZURE_OPENAI_ENDPOINT").is_ok_and(|v| !v.trim().is_empty()) {
        return Ok((Config::azure_from_env()?, None));
    }
    let server = mock_server();
    println!(
        "AZURE_OPENAI_ENDPOINT is not set: using a local mock of an Azure deployment at {} (no network needed).\n",
        server.base_url()
    );
    let config = Config::azure(server.base_url(), "gpt-4o-mock").azure_api_key("mock-azure-key");
    Ok((config, Some(server)))
}

const FILTERS: &str = r#"{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}"#;

/// Answers only Azure-shaped requests: deployment path, `api-version`, `api-key`.
fn mock_server() -> httpmock::MockServer {
    let server = httpmock::MockServer::start();
    let path = "/openai/deployments/gpt-4o-mock/chat/completions";
    let version = sync_openai::AZURE_DEFAULT_API_VERSION;
    server.mock(|when, then| {
        when.method("POST")
            .path(path)
            .query_param("api-version", version)
            .header("api-key", "mock-azure-key")
            .json_body_includes(r#"{"stream":true}"#);
        let chunk = |choices: &str| {
            format!(
                "data: {{\"id\":\"chatcmpl-az\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[{choices}]}}\n\n"
            )
        };
        let mut body = format!(
            "data: {{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{{\"prompt_index\":0,\"content_filter_results\":{FILTERS}}}]}}\n\n"
        );
        for word in ["Danube", ", Rhine", ", Loire", " (mock)"] {
            body.push_str(&chunk(&format!(
                "{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}},\"finish_reason\":null,\"content_filter_results\":{FILTERS}}}"
            )));
        }
        body.push_str(&chunk(
            "{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\",\"content_filter_results\":{}}",
        ));
        body.push_str("data: [DONE]\n\n");
        then.status(200)
            .header("content-type", "text/event-stream")
            .header("apim-request-id", "mock-apim-1")
            .body(body);
    });
    server.mock(|when, then| {
        when.method("POST")
            .path(path)
            .query_param("api-version", version)
            .header("api-key", "mock-azure-key");
        then.status(200)
            .header("content-type", "application/json")
            .header("x-request-id", "mock-azure-req-1")
            .body(format!(
                r#"{{"id":"chatcmpl-az","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",
"prompt_filter_results":[{{"prompt_index":0,"content_filter_results":{FILTERS}}}],
"choices":[{{"index":0,"finish_reason":"stop","logprobs":null,
  "message":{{"role":"assistant","content":"Danube, Rhine, Loire (from the local mock)"}},
  "content_filter_results":{FILTERS}}}],
"usage":{{"prompt_tokens":15,"completion_tokens":9,"total_tokens":24}}}}"#
            ));
    });
    server
}
