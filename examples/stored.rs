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

mod common;

use std::time::Duration;

use sync_openai::testing::Reply;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse, GetChatCompletionMessagesParams, ListChatCompletionsParams,
    Order,
};
use sync_openai::{ChatApi, Error};

/// The metadata tag this example stores its completion under, and lists by.
const TAG: (&str, &str) = ("example", "sync-openai-stored");

fn main() -> Result<(), Error> {
    // Without OPENAI_API_KEY or OPENAI_BASE_URL: a local mock with the answers at the bottom.
    let _mock = common::offline_mock(MOCK.lines().map(|body| Reply::raw(200, body)));
    let api = ChatApi::from_env()?;

    // 1. Create a completion with `store: true` and metadata to find it by later.
    let question = Message::user("Name one reason to store chat completions, in one sentence.");
    let req = CreateChatCompletionRequest::new(common::model("gpt-4o-mini"), vec![question])
        .store(true)
        .metadata([TAG, ("topic", "demo")])
        .max_completion_tokens(40);
    let id = api.create_chat_completion(&req)?.id;
    println!("1. created and stored {id}");
    // The API stores a completion asynchronously: wait until it can be read back.
    let stored = wait_until_stored(&api, &id)?;
    println!("   read back: {:?}", stored.metadata.unwrap_or_default());

    // 2. List every stored completion with our tag, newest first, two per page. The
    //    iterator fetches the next page only when the previous one is used up.
    println!("2. stored completions tagged {}={}:", TAG.0, TAG.1);
    let params = ListChatCompletionsParams::new().metadata(TAG.0, TAG.1);
    for c in api
        .iter_chat_completions(params.order(Order::Desc).limit(2))
        .take(20)
    {
        println!("   {}", c?.id);
    }

    // 3. The stored messages of our completion, one per page to show the paging.
    println!("3. messages of {id}:");
    let params = GetChatCompletionMessagesParams::new().limit(1);
    for message in api.iter_chat_completion_messages(&id, params) {
        let message = message?.message;
        println!("   {}", message.content.as_deref().unwrap_or(""));
    }

    // 4. Replace its metadata (keeping the tag so a leftover can still be found).
    let updated = api.update_chat_completion(&id, [TAG, ("reviewed", "yes")])?;
    println!("4. metadata now {:?}", updated.metadata.unwrap_or_default());

    // 5. Delete it.
    println!("5. deleted: {}", api.delete_chat_completion(&id)?.deleted);
    Ok(())
}

/// Reads a just-created completion back, retrying "not found" for up to 10 seconds.
fn wait_until_stored(api: &ChatApi, id: &str) -> Result<CreateChatCompletionResponse, Error> {
    for _ in 0..10 {
        match api.get_chat_completion(id) {
            Err(Error::Api(e)) if e.status == 404 => std::thread::sleep(Duration::from_secs(1)),
            other => return other,
        }
    }
    api.get_chat_completion(id)
}

/// The mock's answers, one JSON body a line, in the order of the calls above.
const MOCK: &str = r#"{"id": "chatcmpl-mock-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "To review answers later (from the local mock)."}}]}
{"id": "chatcmpl-mock-1", "model": "gpt-4o-mini", "metadata": {"example": "sync-openai-stored", "topic": "demo"}}
{"has_more": true, "data": [{"id": "chatcmpl-mock-1", "created": 1700000200}, {"id": "chatcmpl-b"}]}
{"has_more": false, "data": [{"id": "chatcmpl-a", "created": 1700000000}]}
{"has_more": true, "data": [{"id": "msg-0", "role": "user", "content": "Why store?"}]}
{"has_more": false, "data": [{"id": "msg-1", "role": "assistant", "content": "To review."}]}
{"id": "chatcmpl-mock-1", "metadata": {"example": "sync-openai-stored", "reviewed": "yes"}}
{"id": "chatcmpl-mock-1", "deleted": true}"#;
