//! Stored chat completions, start to finish: store a completion with metadata, list the
//! stored completions page by page, read its messages, update its metadata, delete it.
//!
//! ```text
//! cargo run --example stored                          # offline, against a local mock
//! OPENAI_API_KEY=sk-... cargo run --example stored     # the real API (OPENAI_MODEL, default gpt-4o-mini)
//! ```
//!
//! Against the real API this creates one stored completion tagged
//! `example=sync-openai-stored` and deletes it at the end.

use std::process::ExitCode;
use std::time::Duration;

use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse, GetChatCompletionMessagesParams, ListChatCompletionsParams,
    Order,
};
use sync_openai::{ApiErrorKind, ChatApi, Config, Error};

/// The metadata tag this example stores its completion under, and lists by.
const TAG: (&str, &str) = ("example", "sync-openai-stored");

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Error> {
    // Keep the mock server alive for the whole run when there is one.
    let (api, mock) = client()?;
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".to_owned());

    // 1. Create a completion with `store: true` and metadata to find it by later.
    let req = CreateChatCompletionRequest::new(
        model,
        vec![
            Message::system("You answer in one short sentence."),
            Message::user("Name one reason to store chat completions."),
        ],
    )
    .store(true)
    .metadata([TAG, ("topic", "demo")])
    .max_completion_tokens(40);
    let created = api.create_chat_completion(&req)?;
    let id = created.id.clone();
    println!("1. created and stored {id}: {:?}", first_text(&created));

    // The API stores a completion asynchronously: wait until it can be read back.
    let stored = wait_until_stored(&api, &id, mock.is_some())?;
    println!(
        "   read it back: model {}, metadata {:?}",
        stored.model,
        stored.metadata.unwrap_or_default()
    );

    // 2. List every stored completion with our tag, newest first, two per page. The
    //    iterator fetches the next page only when the previous one is used up.
    println!("2. stored completions tagged {}={}:", TAG.0, TAG.1);
    let params = ListChatCompletionsParams::new()
        .metadata(TAG.0, TAG.1)
        .order(Order::Desc)
        .limit(2);
    let mut listed = 0;
    for completion in api.iter_chat_completions(params).take(20) {
        let completion = completion?;
        listed += 1;
        let mark = if completion.id == id {
            " (this run)"
        } else {
            ""
        };
        println!(
            "   {listed}. {}{mark} created {}",
            completion.id, completion.created
        );
    }
    println!("   {listed} listed");

    // 3. The stored messages of our completion, one per page to show the paging.
    println!("3. messages of {id}:");
    let params = GetChatCompletionMessagesParams::new().limit(1);
    for message in api.iter_chat_completion_messages(&id, params) {
        let message = message?;
        let role = message
            .message
            .role
            .as_ref()
            .map_or("?", |r| r.as_str())
            .to_owned();
        let text = message.message.content.as_deref().unwrap_or("");
        println!("   [{}] {role}: {text}", message.id);
    }

    // 4. Replace its metadata (keeping the tag so a leftover can still be found).
    let updated = api.update_chat_completion(&id, [TAG, ("reviewed", "yes")])?;
    println!(
        "4. updated metadata: {:?}",
        updated.metadata.unwrap_or_default()
    );

    // 5. Delete it.
    let deleted = api.delete_chat_completion(&id)?;
    println!(
        "5. deleted {}: {}",
        deleted.id,
        if deleted.deleted { "yes" } else { "no" }
    );
    Ok(())
}

fn first_text(completion: &CreateChatCompletionResponse) -> &str {
    completion
        .choices
        .first()
        .and_then(|c| c.message.content.as_deref())
        .unwrap_or("(no text)")
}

/// Reads a just-created completion back, retrying "not found" for a few seconds.
fn wait_until_stored(
    api: &ChatApi,
    id: &str,
    mock: bool,
) -> Result<CreateChatCompletionResponse, Error> {
    let mut attempts = 0;
    loop {
        match api.get_chat_completion(id) {
            Err(Error::Api(e)) if e.kind() == ApiErrorKind::NotFound && attempts < 10 && !mock => {
                attempts += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// The real API (or `OPENAI_BASE_URL`) when configured, else a local mock server.
fn client() -> Result<(ChatApi, Option<httpmock::MockServer>), Error> {
    let configured = ["OPENAI_API_KEY", "OPENAI_BASE_URL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if configured {
        let api = ChatApi::from_env()?;
        println!("using {}", api.config().get_base_url());
        return Ok((api, None));
    }
    let server = mock_server();
    println!(
        "OPENAI_API_KEY is not set: using a local mock server at {} (no network needed).",
        server.base_url()
    );
    println!("To use the real API: OPENAI_API_KEY=sk-... cargo run --example stored\n");
    let api = ChatApi::new(Config::new().api_key("sk-mock").base_url(server.url("/v1")));
    Ok((api, Some(server)))
}

/// A mock of the stored-completions endpoints that answers this example's calls.
fn mock_server() -> httpmock::MockServer {
    use serde_json::json;

    let server = httpmock::MockServer::start();
    let completion = |id: &str, created: u64, metadata: serde_json::Value| {
        json!({
            "id": id,
            "object": "chat.completion",
            "created": created,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "To review and evaluate answers later (from the local mock).", "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 25, "completion_tokens": 11, "total_tokens": 36},
            "metadata": metadata
        })
    };
    let tagged = json!({"example": "sync-openai-stored", "topic": "demo"});
    let reviewed = json!({"example": "sync-openai-stored", "reviewed": "yes"});

    // Create: only a request that asks to be stored, with the tag.
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions")
            .json_body_includes(
                r#"{"store": true, "metadata": {"example": "sync-openai-stored"}}"#,
            );
        then.status(200)
            .json_body(completion("chatcmpl-mock-3", 1_700_000_300, tagged.clone()));
    });
    // Get, update (exactly `{"metadata": {...}}`), delete.
    server.mock(|when, then| {
        when.method("GET")
            .path("/v1/chat/completions/chatcmpl-mock-3");
        then.status(200)
            .json_body(completion("chatcmpl-mock-3", 1_700_000_300, tagged.clone()));
    });
    server.mock(|when, then| {
        when.method("POST")
            .path("/v1/chat/completions/chatcmpl-mock-3")
            .json_body(json!({"metadata": reviewed.clone()}));
        then.status(200).json_body(completion(
            "chatcmpl-mock-3",
            1_700_000_300,
            reviewed.clone(),
        ));
    });
    server.mock(|when, then| {
        when.method("DELETE")
            .path("/v1/chat/completions/chatcmpl-mock-3");
        then.status(200).json_body(
            json!({"object": "chat.completion.deleted", "id": "chatcmpl-mock-3", "deleted": true}),
        );
    });
    // List: two pages of two, then one, newest first, each after the last id of the one
    // before.
    let pages: [&[&str]; 3] = [
        &["chatcmpl-mock-3", "chatcmpl-mock-2"],
        &["chatcmpl-mock-1", "chatcmpl-mock-0"],
        &["chatcmpl-mock-x"],
    ];
    let mut after: Option<&str> = None;
    let mut created = 1_700_000_300;
    for (n, ids) in pages.iter().enumerate() {
        let data: Vec<_> = ids
            .iter()
            .map(|id| {
                created -= 100;
                completion(id, created + 100, tagged.clone())
            })
            .collect();
        let body = json!({
            "object": "list",
            "data": data,
            "first_id": ids.first(),
            "last_id": ids.last(),
            "has_more": n + 1 < pages.len()
        });
        server.mock(|when, then| {
            let when = when
                .method("GET")
                .path("/v1/chat/completions")
                .query_param("metadata[example]", "sync-openai-stored")
                .query_param("order", "desc")
                .query_param("limit", "2");
            match after {
                Some(a) => when.query_param("after", a),
                None => when.query_param_missing("after"),
            };
            then.status(200).json_body(body);
        });
        after = ids.last().copied();
    }
    // Messages: the request's two messages, one per page.
    let messages = [
        (
            None,
            "chatcmpl-mock-3-0",
            "system",
            "You answer in one short sentence.",
            true,
        ),
        (
            Some("chatcmpl-mock-3-0"),
            "chatcmpl-mock-3-1",
            "user",
            "Name one reason to store chat completions.",
            false,
        ),
    ];
    for (after, id, role, content, has_more) in messages {
        server.mock(|when, then| {
            let when = when
                .method("GET")
                .path("/v1/chat/completions/chatcmpl-mock-3/messages")
                .query_param("limit", "1");
            match after {
                Some(a) => when.query_param("after", a),
                None => when.query_param_missing("after"),
            };
            then.status(200).json_body(json!({
                "object": "list",
                "data": [{"id": id, "role": role, "content": content, "name": null, "content_parts": null}],
                "first_id": id,
                "last_id": id,
                "has_more": has_more
            }));
        });
    }
    server
}
