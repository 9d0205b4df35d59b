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

use serde_json::json;
use sync_openai::testing::Reply;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::types::{ContentFilterResults, ContentFilterSeverityResult};
use sync_openai::{ChatApi, Config, Error};

fn main() -> Result<(), Error> {
    // Without AZURE_OPENAI_ENDPOINT: a local mock of a deployment, with the answers below.
    let _mock = common::offline_azure_mock(mock_replies());
    let api = ChatApi::new(Config::azure_from_env()?);
    println!("calling {}", api.config().get_base_url());
    // For a deployment URL the model is ignored; for the v1 API it names the deployment.
    let question = Message::user("Name three rivers of Europe, comma-separated.");
    let request = CreateChatCompletionRequest::new(common::model("gpt-4o"), vec![question]);

    let response = api.create_chat_completion_with_http_info(&request);
    let response = response.inspect_err(blocked)?;
    println!("request id: {}", response.request_id().unwrap_or("(none)"));
    for prompt in response.data.prompt_filter_results() {
        print_verdicts("prompt", &prompt.content_filter_results);
    }
    println!("answer: {}", response.data.text().unwrap_or("(none)"));
    for choice in &response.data.choices {
        let verdicts = choice.content_filter_results().unwrap_or_default();
        print_verdicts("answer", &verdicts);
    }

    // Azure's first chunk has no choices, only the prompt's verdicts: no text to print.
    print!("streamed: ");
    let stream = api.create_chat_completion_stream(&request)?;
    for text in stream.content_deltas() {
        print!("{}", text?);
        std::io::stdout().flush().ok();
    }
    println!();
    Ok(())
}

/// A prompt or answer the filter blocked: its verdicts say why.
fn blocked(error: &Error) {
    let Error::Api(e) = error else { return };
    if let Some(filter) = e.content_filter() {
        eprintln!("content filter: {filter:?}");
    }
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

/// The mock deployment's answers: one with verdicts, then a streamed one.
fn mock_replies() -> [Reply; 2] {
    let safe = json!({"hate": {"filtered": false, "severity": "safe"}, "violence": {"filtered": false, "severity": "safe"}});
    let answer = json!({"id": "chatcmpl-az", "object": "chat.completion", "model": "gpt-4o",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": safe}],
        "choices": [{"index": 0, "finish_reason": "stop", "content_filter_results": safe,
                     "message": {"role": "assistant", "content": "Danube, Rhine, Loire (mock)"}}]});
    [
        Reply::raw(200, answer.to_string()).header("x-request-id", "mock-azure-req-1"),
        Reply::text("Danube, Rhine, Loire (streamed by the mock)"),
    ]
}
