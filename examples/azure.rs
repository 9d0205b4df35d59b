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

mod common;

use std::io::Write;
use std::process::ExitCode;

use serde_json::json;
use sync_openai::testing::{MockServer, Reply};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ContentFilterResults, ContentFilterSeverityResult,
    CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Config, Error};

fn main() -> ExitCode {
    let result = run();
    if let Err(Error::Api(e)) = &result {
        // A prompt or answer the filter blocked: its verdicts say why.
        if let Some(filter) = e.content_filter() {
            eprintln!("content filter: {filter:?}");
        }
    }
    common::exit(result)
}

fn run() -> Result<(), Error> {
    let (config, _mock) = match common::is_set("AZURE_OPENAI_ENDPOINT") {
        true => (Config::azure_from_env()?, None),
        false => azure_mock(),
    };
    let api = ChatApi::new(config);
    println!("calling {}", api.config().get_base_url());
    // For a deployment URL the model is ignored; for the v1 API it names the deployment.
    let question = Message::user("Name three rivers of Europe, comma-separated.");
    let request = CreateChatCompletionRequest::new(common::model("gpt-4o"), vec![question])
        .max_completion_tokens(100);

    let response = api.create_chat_completion_with_http_info(&request)?;
    println!("request id: {}", response.request_id().unwrap_or("(none)"));
    for prompt in response.data.prompt_filter_results() {
        print_verdicts("prompt", &prompt.content_filter_results);
    }
    for choice in &response.data.choices {
        let text = choice.message.content.as_deref().unwrap_or("(none)");
        println!("answer: {text}");
        if let Some(verdicts) = choice.content_filter_results() {
            print_verdicts("answer", &verdicts);
        }
    }

    print!("streamed: ");
    for chunk in api.create_chat_completion_stream(&request)? {
        // Azure's first chunk has no choices, only the prompt's verdicts.
        for choice in &chunk?.choices {
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
    let severity = |r: &Option<ContentFilterSeverityResult>| {
        let severity = r.as_ref().and_then(|r| r.severity.as_ref());
        severity.map_or("-", |s| s.as_str()).to_owned()
    };
    let (hate, violence) = (severity(&verdicts.hate), severity(&verdicts.violence));
    let filtered = verdicts.is_filtered();
    println!("{what} filter: filtered={filtered} hate={hate} violence={violence}");
}

/// A local mock of an Azure deployment: an answer with verdicts, then a streamed one.
fn azure_mock() -> (Config, Option<MockServer>) {
    let safe = json!({"hate": {"filtered": false, "severity": "safe"},
                      "violence": {"filtered": false, "severity": "safe"}});
    let answer = json!({
        "id": "chatcmpl-az", "object": "chat.completion", "model": "gpt-4o",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": safe}],
        "choices": [{"index": 0, "finish_reason": "stop", "content_filter_results": safe,
                     "message": {"role": "assistant", "content": "Danube, Rhine, Loire (mock)"}}]
    });
    let mock = common::mock([
        Reply::raw(200, answer.to_string()).header("x-request-id", "mock-azure-req-1"),
        Reply::text("Danube, Rhine, Loire (streamed by the mock)"),
    ]);
    println!("AZURE_OPENAI_ENDPOINT is not set: using a local mock of an Azure deployment\n");
    let config = Config::azure(mock.url(""), "gpt-4o-mock").azure_api_key("mock-azure-key");
    (config, Some(mock))
}
