//! End to end against a real OpenAI-compatible server: llama.cpp's `llama-server`.
//!
//! `scripts/llama.sh` builds the server, makes a tiny random-weight model and runs this file with
//! `LLAMA_URL` set (e.g. `http://127.0.0.1:8080/v1`); without it every test returns at once.
//! The model talks gibberish, so the tests check the protocol, never the words: greedy
//! sampling (`temperature: 0`) makes answers repeatable, and llama.cpp's `ignore_eos` makes
//! their lengths exact. The server runs with a 256-token context and 2 slots.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use serde_json::{json, Value};
use sync_openai::error::{ApiError, ApiErrorKind};
use sync_openai::types::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage as Message,
    ChatCompletionRequestMessageContentPart as Part, ChatCompletionRequestToolMessage,
    ChatCompletionStreamOptions, ChatCompletionTool, ChatCompletionToolChoiceOption,
    CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason, ResponseFormat, Role,
};
use sync_openai::{ChatApi, Config, Error, ModelsApi};

/// llama-server serves the one model it loaded, whatever name is asked for.
const MODEL: &str = "tiny";

/// The client for `LLAMA_URL`, or `None` (with a note) when it is not set.
fn server() -> Option<ChatApi> {
    match std::env::var("LLAMA_URL") {
        Ok(url) if !url.trim().is_empty() => {
            // One retry: llama-server closes the connection a few milliseconds after each
            // stream although it answered `Keep-Alive`, so a request sent right after a
            // stream can meet a pooled connection that is already closed (see
            // `a_request_right_after_a_stream_succeeds`). Error statuses here are 4xx,
            // which are never retried.
            Some(ChatApi::new(Config::new().base_url(url).max_retries(1)))
        }
        _ => {
            eprintln!(
                "LLAMA_URL is not set: skipping the llama-server test (run scripts/llama.sh)"
            );
            None
        }
    }
}

macro_rules! server_or_skip {
    () => {
        match server() {
            Some(api) => api,
            None => return,
        }
    };
}

/// A greedy request whose answer is exactly `tokens` tokens long (the end-of-sequence token is
/// banned with llama.cpp's `ignore_eos`).
fn exact(prompt: &str, tokens: u32) -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new(
        MODEL,
        vec![Message::system("You are a test."), Message::user(prompt)],
    )
    .temperature(0.0)
    .seed(7)
    .max_tokens(tokens)
    .extra("ignore_eos", true)
}

fn content(resp: &CreateChatCompletionResponse, choice: usize) -> &str {
    resp.choices[choice]
        .message
        .content
        .as_ref()
        .map_or("", |c| c.as_str())
}

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> Box<ApiError> {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

/// The server's own `error` object, from the raw body the error kept.
fn body_error(e: &ApiError) -> Value {
    let body: Value = serde_json::from_str(&e.body).expect("a JSON error body");
    body["error"].clone()
}

#[test]
fn non_streaming_completion() {
    let api = server_or_skip!();
    let req = CreateChatCompletionRequest::new(
        MODEL,
        vec![Message::system("Be brief."), Message::user("Hello")],
    )
    .max_tokens(8);
    let resp = api.create_chat_completion_with_http_info(&req).unwrap();
    assert_eq!(resp.status, 200);
    let r = &resp.data;
    eprintln!("non-streaming: {:?}", content(r, 0));
    assert!(r.id.starts_with("chatcmpl-"), "id {:?}", r.id);
    assert_eq!(r.object, "chat.completion");
    assert!(r.created > 1_600_000_000, "created {}", r.created);
    assert!(!r.model.is_empty());
    assert_eq!(r.choices.len(), 1);
    let choice = &r.choices[0];
    assert_eq!(choice.index, 0);
    assert_eq!(choice.message.role, Some(Role::Assistant));
    assert!(choice.message.content.is_some());
    assert!(
        matches!(
            choice.finish_reason,
            Some(FinishReason::Length | FinishReason::Stop)
        ),
        "finish_reason {:?}",
        choice.finish_reason
    );
    let usage = r.usage.as_ref().expect("usage");
    assert!(usage.prompt_tokens > 5, "{usage:?}");
    assert!((1..=8).contains(&usage.completion_tokens), "{usage:?}");
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    // llama.cpp's own `timings` object is kept as a vendor field.
    assert!(r.extra["timings"]["predicted_n"].is_u64(), "{:?}", r.extra);
}

#[test]
fn greedy_answers_repeat_and_streaming_collects_the_same_completion() {
    let api = server_or_skip!();
    let req = exact("Count to three.", 12);
    let first = api.create_chat_completion(&req).unwrap();
    let again = api.create_chat_completion(&req).unwrap();
    assert_eq!(content(&first, 0), content(&again, 0));
    assert_eq!(first.usage.as_ref().unwrap().completion_tokens, 12);
    assert_eq!(first.choices[0].finish_reason, Some(FinishReason::Length));

    let streamed = api
        .create_chat_completion_stream(
            &req.clone()
                .stream_options(ChatCompletionStreamOptions::include_usage()),
        )
        .unwrap()
        .collect_completion()
        .unwrap();
    eprintln!("greedy: {:?}", content(&streamed, 0));
    assert_eq!(content(&streamed, 0), content(&first, 0));
    assert_eq!(streamed.choices.len(), 1);
    assert_eq!(streamed.choices[0].message.role, Some(Role::Assistant));
    assert_eq!(
        streamed.choices[0].finish_reason,
        Some(FinishReason::Length)
    );
    let usage = streamed.usage.as_ref().expect("usage from the stream");
    assert_eq!(usage.completion_tokens, 12);
    assert_eq!(
        usage.prompt_tokens,
        first.usage.as_ref().unwrap().prompt_tokens
    );
    assert!(streamed.id.starts_with("chatcmpl-"), "id {:?}", streamed.id);
}

#[test]
fn stream_with_include_usage_ends_with_a_usage_chunk() {
    let api = server_or_skip!();
    let req = exact("Hi", 6).stream_options(ChatCompletionStreamOptions::include_usage());
    let stream = api.create_chat_completion_stream(&req).unwrap();
    assert_eq!(stream.status(), 200);
    let chunks: Vec<_> = stream.map(Result::unwrap).collect();
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    for c in &chunks {
        assert_eq!(c.object, "chat.completion.chunk");
        assert_eq!(c.id, chunks[0].id, "one id for the whole stream");
    }
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));

    let finished: Vec<_> = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.finish_reason.clone())
        .collect();
    assert_eq!(finished, [FinishReason::Length]);

    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty(), "the usage chunk has no choices");
    let usage = last.usage.as_ref().expect("usage on the last chunk");
    assert_eq!(usage.completion_tokens, 6);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    let with_usage = chunks.iter().filter(|c| c.usage.is_some()).count();
    assert_eq!(with_usage, 1, "usage is sent once");

    // content_deltas yields the same text as the chunks
    let text: String = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.content.as_ref().map(|t| t.as_str().to_owned()))
        .collect();
    let deltas: String = api
        .create_chat_completion_stream(&req)
        .unwrap()
        .content_deltas()
        .map(Result::unwrap)
        .collect();
    assert_eq!(deltas, text);
}

#[test]
fn n_two_gives_two_choices() {
    let api = server_or_skip!();
    // Sampled, not greedy, so the two answers may differ.
    let req = exact("Say something.", 5).temperature(1.0).n(2);
    let r = api.create_chat_completion(&req).unwrap();
    let mut indexes: Vec<u32> = r.choices.iter().map(|c| c.index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, [0, 1]);
    for c in &r.choices {
        assert_eq!(c.finish_reason, Some(FinishReason::Length));
        assert!(c.message.content.is_some());
    }
    eprintln!(
        "n=2: {:?} / {:?}, usage {:?}",
        content(&r, 0),
        content(&r, 1),
        r.usage
    );

    let streamed = api
        .create_chat_completion_stream(
            &req.clone()
                .stream_options(ChatCompletionStreamOptions::include_usage()),
        )
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(streamed.choices.len(), 2);
    assert_eq!(streamed.choices[0].index, 0);
    assert_eq!(streamed.choices[1].index, 1);
    for c in &streamed.choices {
        assert_eq!(c.finish_reason, Some(FinishReason::Length));
        assert!(!c.message.content.as_ref().unwrap().as_str().is_empty());
    }
    eprintln!("n=2 streamed usage {:?}", streamed.usage);
}

#[test]
fn n_beyond_the_server_slots_is_a_bad_request() {
    let api = server_or_skip!();
    let e = api_error(api.create_chat_completion(&exact("Hi", 2).n(3)));
    eprintln!("n=3: {e}");
    assert_eq!(e.status, 400);
    assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    let server = body_error(&e);
    assert_eq!(e.message(), server["message"].as_str().unwrap());
    assert!(e.message().contains("'n'"), "{}", e.message());
    assert_eq!(e.code(), Some("400"));
    assert_eq!(e.error_type(), Some("invalid_request_error"));
}

#[test]
fn max_tokens_and_max_completion_tokens_bound_the_answer() {
    let api = server_or_skip!();
    let base = exact("Tell me a long story.", 1);
    let mut req = base.clone();
    req.max_tokens = Some(3);
    let r = api.create_chat_completion(&req).unwrap();
    assert_eq!(r.usage.unwrap().completion_tokens, 3);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));

    let mut req = base;
    req.max_tokens = None;
    let r = api
        .create_chat_completion(&req.max_completion_tokens(5))
        .unwrap();
    assert_eq!(r.usage.unwrap().completion_tokens, 5);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));

    // Streamed: the same bound, and the text arrives in pieces.
    let req = exact("Tell me a long story.", 4);
    let stream = api.create_chat_completion_stream(&req).unwrap();
    let pieces = stream
        .map(Result::unwrap)
        .filter(|c| c.choices.iter().any(|c| c.delta.content.is_some()))
        .count();
    assert!((2..=5).contains(&pieces), "{pieces} pieces of text");
}

#[test]
fn stop_sequences_end_the_answer_before_the_sequence() {
    let api = server_or_skip!();
    let req = exact("Write anything.", 24);
    let full = api.create_chat_completion(&req).unwrap();
    let text = content(&full, 0).to_owned();
    eprintln!("without stop: {text:?}");

    // A stop sequence taken from the middle of the greedy answer: the same request with it
    // must end right before its first occurrence.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    assert!(chars.len() >= 8, "answer too short: {text:?}");
    let (start, stop) = (chars.len() / 3..chars.len() - 3)
        .map(|i| {
            let start = chars[i].0;
            let end = chars.get(i + 3).map_or(text.len(), |c| c.0);
            (start, text[start..end].to_owned())
        })
        .find(|(start, stop)| text.find(stop.as_str()) == Some(*start) && !stop.trim().is_empty())
        .expect("a stop sequence occurring once in the answer");

    let r = api
        .create_chat_completion(&req.clone().stop([stop.as_str(), "never-generated-xyz"]))
        .unwrap();
    eprintln!("stop {stop:?}: {:?}", content(&r, 0));
    assert_eq!(content(&r, 0), &text[..start]);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));

    // The single-string form, streamed.
    let streamed = api
        .create_chat_completion_stream(&req.stop(stop.as_str()))
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(content(&streamed, 0), &text[..start]);
    assert_eq!(streamed.choices[0].finish_reason, Some(FinishReason::Stop));
}

#[test]
fn a_prompt_longer_than_the_context_is_an_api_error_with_the_servers_code() {
    let api = server_or_skip!();
    let long = "hello world ".repeat(200);
    let req = exact(&long, 4);

    let e = api_error(api.create_chat_completion(&req));
    eprintln!("context too long: {e}");
    assert_eq!(e.status, 400);
    assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    assert_eq!(e.code(), Some("400"), "the numeric code as text");
    assert_eq!(e.error_type(), Some("exceed_context_size_error"));
    let server = body_error(&e);
    assert_eq!(server["code"], 400);
    assert_eq!(e.message(), server["message"].as_str().unwrap());
    assert!(e.message().contains("context size"), "{}", e.message());
    assert!(e.to_string().contains(e.message()), "{e}");
    assert!(!Error::Api(e).is_retryable());

    // Streamed, llama-server answers the same error before the stream starts.
    let e = api_error(api.create_chat_completion_stream(&req).map(|_| ()));
    assert_eq!(e.status, 400);
    assert_eq!(e.error_type(), Some("exceed_context_size_error"));
    assert!(e.message().contains("context size"), "{}", e.message());
}

#[test]
fn an_invalid_parameter_is_a_bad_request_with_the_servers_message() {
    let api = server_or_skip!();
    // top_logprobs without logprobs: llama-server refuses it.
    let e = api_error(api.create_chat_completion(&exact("Hi", 2).top_logprobs(2)));
    eprintln!("top_logprobs alone: {e}");
    assert_eq!(e.status, 400);
    assert_eq!(e.kind(), ApiErrorKind::BadRequest);
    assert_eq!(e.code(), Some("400"));
    assert_eq!(e.error_type(), Some("invalid_request_error"));
    assert_eq!(e.message(), body_error(&e)["message"].as_str().unwrap());
    assert!(e.message().contains("logprobs"), "{}", e.message());
}

#[test]
fn logprobs_for_every_token() {
    let api = server_or_skip!();
    let req = exact("Hi", 4).logprobs(true).top_logprobs(3);
    let r = api.create_chat_completion(&req).unwrap();
    let logprobs = r.choices[0].logprobs.as_ref().expect("logprobs");
    let tokens = logprobs.content.as_ref().expect("logprobs.content");
    assert_eq!(tokens.len(), 4);
    for t in tokens {
        assert!(t.logprob <= 0.0, "{t:?}");
        assert_eq!(t.top_logprobs.len(), 3, "{t:?}");
        // greedy: the chosen token is the most likely one
        assert_eq!(t.token, t.top_logprobs[0].token, "{t:?}");
        assert!(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
    }
    let joined: String = tokens.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(joined, content(&r, 0));

    // Streamed logprobs are appended chunk by chunk.
    let streamed = api
        .create_chat_completion_stream(&req)
        .unwrap()
        .collect_completion()
        .unwrap();
    let streamed_tokens = streamed.choices[0]
        .logprobs
        .as_ref()
        .and_then(|l| l.content.as_ref())
        .expect("streamed logprobs");
    assert_eq!(streamed_tokens.len(), 4);
    assert_eq!(
        streamed_tokens
            .iter()
            .map(|t| t.token.as_str())
            .collect::<String>(),
        joined
    );
}

#[test]
fn logit_bias_forces_a_token() {
    let api = server_or_skip!();
    // Token 6635 is "▁cat" in the llama SentencePiece vocabulary: with +100 on it greedy
    // sampling picks nothing else.
    let req = exact("Hi", 3).logit_bias([("6635", 100)]);
    let r = api.create_chat_completion(&req).unwrap();
    assert_eq!(content(&r, 0), " cat cat cat");
}

fn flag_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": false
    })
}

#[test]
fn response_format_json_schema_constrains_the_answer() {
    let api = server_or_skip!();
    let req = CreateChatCompletionRequest::new(MODEL, vec![Message::user("Is it ok?")])
        .temperature(0.0)
        .max_tokens(48)
        .response_format(ResponseFormat::json_schema("flag", flag_schema(), true));
    let r = api.create_chat_completion(&req).unwrap();
    eprintln!("json_schema: {:?}", content(&r, 0));
    let v: Value = serde_json::from_str(content(&r, 0)).expect("JSON content");
    assert!(v["ok"].is_boolean(), "{v}");
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));

    let req = CreateChatCompletionRequest::new(MODEL, vec![Message::user("JSON please")])
        .temperature(0.0)
        .max_tokens(48)
        .response_format(ResponseFormat::json_object());
    let r = api.create_chat_completion(&req).unwrap();
    eprintln!("json_object: {:?}", content(&r, 0));
    assert!(
        content(&r, 0).trim_start().starts_with('{'),
        "{:?}",
        content(&r, 0)
    );
}

fn flag_tool() -> ChatCompletionTool {
    ChatCompletionTool::function("set_flag", "Sets the flag.", flag_schema())
}

#[test]
fn tool_requests_and_a_tool_result_are_accepted() {
    let api = server_or_skip!();
    // The random model never chooses to call (llama.cpp lets a model write text before a
    // call even with tool_choice "required"), so this checks that requests with tools, and a
    // conversation carrying a call and its result, are accepted and answered.
    for choice in [
        ChatCompletionToolChoiceOption::auto(),
        ChatCompletionToolChoiceOption::required(),
        ChatCompletionToolChoiceOption::none(),
    ] {
        let req = CreateChatCompletionRequest::new(MODEL, vec![Message::user("Set the flag.")])
            .temperature(0.0)
            .max_tokens(4)
            .tools(vec![flag_tool()])
            .tool_choice(choice)
            .parallel_tool_calls(false);
        let r = api.create_chat_completion(&req).unwrap();
        assert_eq!(r.choices.len(), 1);
        assert!(
            r.usage.unwrap().prompt_tokens > 40,
            "the tools are in the prompt"
        );
    }

    let history = vec![
        Message::user("Set the flag."),
        ChatCompletionRequestAssistantMessage::new()
            .tool_calls(vec![ChatCompletionMessageToolCalls::Function(
                ChatCompletionMessageToolCall::new("call_1", "set_flag", r#"{"ok":true}"#),
            )])
            .into(),
        ChatCompletionRequestToolMessage::new("call_1", "done").into(),
    ];
    let req = CreateChatCompletionRequest::new(MODEL, history)
        .temperature(0.0)
        .max_tokens(4)
        .tools(vec![flag_tool()]);
    let r = api.create_chat_completion(&req).unwrap();
    assert_eq!(r.choices.len(), 1);
    assert!(r.choices[0].message.content.is_some());
}

#[test]
fn a_request_right_after_a_stream_succeeds() {
    let api = server_or_skip!();
    for _ in 0..3 {
        let text: String = api
            .create_chat_completion_stream(&exact("Hi", 2))
            .unwrap()
            .content_deltas()
            .map(Result::unwrap)
            .collect();
        assert!(!text.is_empty());
        let resp = api
            .create_chat_completion_with_http_info(&exact("Hi", 2))
            .unwrap();
        eprintln!("request after a stream: {} retries", resp.retries());
        assert_eq!(resp.data.usage.unwrap().completion_tokens, 2);
    }
}

#[test]
fn content_parts_and_a_multi_turn_conversation() {
    let api = server_or_skip!();
    let history = vec![
        Message::system("You are a test."),
        Message::user(vec![Part::text("Hello, "), Part::text("there.")]),
        Message::assistant("Hi."),
        Message::user("Again?"),
    ];
    let r = api
        .create_chat_completion(
            &CreateChatCompletionRequest::new(MODEL, history)
                .max_tokens(3)
                .extra("ignore_eos", true),
        )
        .unwrap();
    assert_eq!(r.usage.as_ref().unwrap().completion_tokens, 3);
    assert!(r.usage.unwrap().prompt_tokens > 15);
}

#[test]
fn stored_completion_operations_are_not_found() {
    let api = server_or_skip!();
    let e = api_error(api.get_chat_completion("chatcmpl-none"));
    eprintln!("get stored: {e}");
    assert_eq!(e.status, 404);
    assert_eq!(e.kind(), ApiErrorKind::NotFound);
    assert!(!e.message().is_empty());
}

#[test]
fn the_server_lists_the_one_model_it_loaded() {
    let api = server_or_skip!();
    let resp = ModelsApi::from(&api).list_models_with_http_info().unwrap();
    let list = &resp.data;
    assert_eq!(list.object, "list");
    let [model] = &list.data[..] else {
        panic!("llama-server serves one model: {list:?}")
    };
    // Named by the path of the GGUF file scripts/llama.sh wrote (llama-server uses the
    // `-m` path when there is no `--alias`): an id with slashes.
    let file = model.id.rsplit('/').next().unwrap_or_default();
    assert!(
        file.starts_with("tiny-") && file.ends_with(".gguf"),
        "{model:?}"
    );
    assert_eq!(model.object, "model");
    assert_eq!(model.owned_by.as_deref(), Some("llamacpp"));
    assert!(
        model.created.is_some_and(|t| t > 1_700_000_000),
        "{model:?}"
    );
    assert_eq!(model.shutdown_date, None);
    // Its vendor keys stay in `extra`: the model's sizes, and llama.cpp's native listing.
    let meta = &model.extra["meta"];
    assert!(meta["n_vocab"].as_u64().is_some_and(|n| n > 0), "{meta}");
    assert!(meta["n_ctx_train"].is_u64(), "{meta}");
    assert_eq!(list.extra["models"][0]["name"], model.id.as_str());

    // The listed id is one the server answers to.
    let req = CreateChatCompletionRequest::new(model.id.clone(), vec![Message::user("Hi")])
        .temperature(0.0)
        .max_tokens(2);
    let done = api.create_chat_completion(&req).unwrap();
    assert_eq!(done.choices.len(), 1);

    // llama-server has no `GET /v1/models/{model}`: the id goes as one percent-encoded
    // segment and gets a 404, an error with the status.
    let err = ModelsApi::from(&api).retrieve_model(&model.id).unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");
}
