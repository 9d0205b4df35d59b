//! Arbitrary bytes decoded as every public response type (and the request types a mock
//! server would decode).
//!
//! Decoding may fail, but must not panic; what decodes must serialize, decode again, and
//! come back equal (the types promise that vendor keys and unknown variants survive a
//! round trip).
#![no_main]

use std::any::type_name;
use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sync_openai::types::{
    ChatCompletionChoice, ChatCompletionDeleted, ChatCompletionList, ChatCompletionMessageList,
    ChatCompletionMessageListData, ChatCompletionMessageToolCalls, ChatCompletionRequestMessage,
    ChatCompletionResponseMessage, ChatCompletionStreamChoice, CompletionUsage,
    CreateChatCompletionRequest, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    UpdateChatCompletionRequest,
};

fn round_trip<T>(data: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let Ok(first) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let name = type_name::<T>();
    let _ = format!("{first:?}");
    let json = serde_json::to_vec(&first)
        .unwrap_or_else(|e| panic!("{name} decoded but does not serialize: {e}\n{first:?}"));
    let second: T = serde_json::from_slice(&json).unwrap_or_else(|e| {
        panic!(
            "{name} decoded but its own JSON does not decode: {e}\n{}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(
        first,
        second,
        "{name} changed in a round trip through {}",
        String::from_utf8_lossy(&json)
    );
}

fuzz_target!(|data: &[u8]| {
    round_trip::<CreateChatCompletionResponse>(data);
    round_trip::<CreateChatCompletionStreamResponse>(data);
    round_trip::<ChatCompletionList>(data);
    round_trip::<ChatCompletionMessageList>(data);
    round_trip::<ChatCompletionMessageListData>(data);
    round_trip::<ChatCompletionDeleted>(data);
    round_trip::<ChatCompletionChoice>(data);
    round_trip::<ChatCompletionStreamChoice>(data);
    round_trip::<ChatCompletionResponseMessage>(data);
    round_trip::<ChatCompletionMessageToolCalls>(data);
    round_trip::<CompletionUsage>(data);
    round_trip::<CreateChatCompletionRequest>(data);
    round_trip::<ChatCompletionRequestMessage>(data);
    round_trip::<UpdateChatCompletionRequest>(data);
});
