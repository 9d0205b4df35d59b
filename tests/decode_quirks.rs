//! Hand-written fixtures modelled on what OpenAI-compatible servers really send: each decodes
//! without error and shows the user the expected values.

// Tests may unwrap and index: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::{json, Value};
use sync_openai::types::{
    ChatCompletionMessageToolCalls, CompletionUsage, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FinishReason, Role, ServiceTier, ToolType,
};

fn resp(v: Value) -> CreateChatCompletionResponse {
    serde_json::from_value(v).unwrap()
}

fn chunk(v: Value) -> CreateChatCompletionStreamResponse {
    serde_json::from_value(v).unwrap()
}

/// `serde_json::to_value(v).unwrap()`.
macro_rules! reencode {
    ($v:expr $(,)?) => {
        serde_json::to_value($v).unwrap()
    };
}

/// A response with one choice holding `message`.
fn with_message(message: Value) -> CreateChatCompletionResponse {
    resp(json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]
    }))
}

// ---- responses ----

#[test]
fn empty_choices() {
    let r = resp(
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": []}),
    );
    assert!(r.choices.is_empty());
}

#[test]
fn missing_top_level_fields_default() {
    let r = resp(json!({"choices": [{"message": {"content": "hi"}}]}));
    assert_eq!(r.id, "");
    assert_eq!(r.object, "");
    assert_eq!(r.created, 0);
    assert_eq!(r.model, "");
    assert_eq!(r.usage, None);
    let c = &r.choices[0];
    assert_eq!(c.index, 0);
    assert_eq!(c.logprobs, None);
    assert_eq!(c.finish_reason, None);
    assert_eq!(c.message.content.as_deref(), Some("hi"));

    let r = resp(json!({}));
    assert!(r.choices.is_empty());
    let r =
        resp(json!({"id": null, "object": null, "created": null, "model": null, "choices": null}));
    assert_eq!((r.id.as_str(), r.created), ("", 0));
    assert!(r.choices.is_empty());
}

#[test]
fn empty_strings_and_zero_created() {
    let r = resp(json!({"id": "", "object": "", "model": "", "created": 0, "choices": []}));
    assert_eq!(
        (
            r.id.as_str(),
            r.object.as_str(),
            r.model.as_str(),
            r.created
        ),
        ("", "", "", 0)
    );
}

#[test]
fn system_fingerprint_absent_null_or_empty() {
    assert_eq!(resp(json!({})).system_fingerprint, None);
    assert_eq!(
        resp(json!({"system_fingerprint": null})).system_fingerprint,
        None
    );
    assert_eq!(
        resp(json!({"system_fingerprint": ""}))
            .system_fingerprint
            .as_deref(),
        Some("")
    );
}

#[test]
fn unknown_finish_reason_and_service_tier() {
    let r = resp(json!({
        "service_tier": "on_demand",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "eos"}]
    }));
    assert_eq!(r.service_tier, Some(ServiceTier::Other("on_demand".into())));
    assert_eq!(r.service_tier.as_ref().unwrap().as_str(), "on_demand");
    let fr = r.choices[0].finish_reason.as_ref().unwrap();
    assert_eq!(fr, &FinishReason::Other("eos".into()));
    assert_eq!(fr.as_str(), "eos");
    let v = reencode!(&r);
    assert_eq!(v["service_tier"], "on_demand");
    assert_eq!(v["choices"][0]["finish_reason"], "eos");
}

#[test]
fn role_unknown_null_or_missing() {
    let r = with_message(json!({"role": "model", "content": "x"}));
    assert_eq!(r.choices[0].message.role, Some(Role::Other("model".into())));
    let r = with_message(json!({"role": null, "content": "x"}));
    assert_eq!(r.choices[0].message.role, None);
    let r = with_message(json!({"content": "x"}));
    assert_eq!(r.choices[0].message.role, None);
}

#[test]
fn content_absent_null_empty_or_parts() {
    assert_eq!(
        with_message(json!({"role": "assistant"})).choices[0]
            .message
            .content,
        None
    );
    assert_eq!(
        with_message(json!({"role": "assistant", "content": null})).choices[0]
            .message
            .content,
        None
    );
    let r = with_message(json!({"role": "assistant", "content": ""}));
    assert_eq!(r.choices[0].message.content.as_deref(), Some(""));

    let parts = json!([
        {"type": "thinking", "thinking": [{"type": "text", "text": "Let me think."}]},
        {"type": "text", "text": "Hello"},
        {"type": "text", "text": ", world"}
    ]);
    let r = with_message(json!({"role": "assistant", "content": parts.clone()}));
    let content = r.choices[0].message.content.as_ref().unwrap();
    assert_eq!(content.as_str(), "Hello, world");
    assert_eq!(content.parts().unwrap()[0]["type"], "thinking");
    // serialized back as the original array
    assert_eq!(reencode!(&r)["choices"][0]["message"]["content"], parts);
}

#[test]
fn missing_or_null_message() {
    let r = resp(json!({"choices": [{"index": 0, "finish_reason": "stop"}]}));
    assert_eq!(r.choices[0].message, Default::default());
    let r = resp(json!({"choices": [{"index": 0, "message": null}]}));
    assert_eq!(r.choices[0].message.content, None);
}

#[test]
fn tool_calls_empty_null_and_quirky() {
    let r = with_message(json!({"role": "assistant", "content": "x", "tool_calls": []}));
    assert_eq!(r.choices[0].message.tool_calls, Some(vec![]));
    assert!(r.choices[0].message.tool_calls().is_empty());
    let r = with_message(json!({"role": "assistant", "content": "x", "tool_calls": null}));
    assert_eq!(r.choices[0].message.tool_calls, None);
    assert!(r.choices[0].message.tool_calls().is_empty());

    // no `type`, and `index` inside the call (as some servers send)
    let r = with_message(json!({"role": "assistant", "content": null, "tool_calls": [
        {"index": 0, "id": "call_9", "function": {"name": "lookup", "arguments": "{\"q\":1}"}}
    ]}));
    let calls = r.choices[0].message.tool_calls();
    let ChatCompletionMessageToolCalls::Function(call) = &calls[0] else {
        unreachable!("expected a function call, got {:?}", calls[0])
    };
    assert_eq!(call.id, "call_9");
    assert_eq!(call.function.name, "lookup");
    assert_eq!(call.function.arguments, "{\"q\":1}");
    assert_eq!(call.extra["index"], 0);
    let v = reencode!(&r);
    let out = &v["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(out["index"], 0);
    assert_eq!(out["type"], "function");

    // Gemini-style extra_content survives
    let r = with_message(json!({"role": "assistant", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"},
         "extra_content": {"google": {"thought_signature": "sig"}}}
    ]}));
    let v = reencode!(&r);
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["extra_content"]["google"]["thought_signature"],
        "sig"
    );
}

#[test]
fn usage_null_missing_extra_and_floats() {
    assert_eq!(resp(json!({"usage": null})).usage, None);
    assert_eq!(resp(json!({})).usage, None);

    let r = resp(json!({"usage": {
        "prompt_tokens": 12.0,
        "completion_tokens": 3,
        "total_tokens": 15.0,
        "prompt_tokens_details": null,
        "completion_tokens_details": {"reasoning_tokens": 2.0, "audio_tokens": null},
        "queue_time": 0.01,
        "prompt_time": 0.002,
        "prompt_cache_hit_tokens": 8
    }}));
    let u = r.usage.as_ref().unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (12, 3, 15)
    );
    assert_eq!(u.prompt_tokens_details, None);
    let d = u.completion_tokens_details.as_ref().unwrap();
    assert_eq!(d.reasoning_tokens, Some(2));
    assert_eq!(d.audio_tokens, None);
    assert_eq!(u.extra["queue_time"], 0.01);
    assert_eq!(u.extra["prompt_cache_hit_tokens"], 8);
    let v = reencode!(&r);
    assert_eq!(v["usage"]["queue_time"], 0.01);
    assert_eq!(v["usage"]["prompt_tokens"], 12);

    // missing counts default to 0
    let u: CompletionUsage = serde_json::from_value(json!({"total_tokens": 4})).unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (0, 0, 4)
    );
    // detail objects keep unknown keys
    let u: CompletionUsage = serde_json::from_value(
        json!({"prompt_tokens_details": {"cached_tokens": 1, "cached_tokens_internal": 7}}),
    )
    .unwrap();
    let p = u.prompt_tokens_details.unwrap();
    assert_eq!(p.cached_tokens, Some(1));
    assert_eq!(p.extra["cached_tokens_internal"], 7);
}

#[test]
fn huge_vendor_integer_survives() {
    let r = resp(json!({"x_vendor_id": 18_446_744_073_709_551_615_u64, "choices": []}));
    assert_eq!(r.extra["x_vendor_id"].as_u64(), Some(u64::MAX));
    assert_eq!(reencode!(&r)["x_vendor_id"].as_u64(), Some(u64::MAX));
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains("18446744073709551615"), "{text}");
}

#[test]
fn vendor_keys_are_kept_everywhere() {
    let wire = json!({
        "id": "c", "object": "chat.completion", "created": 5, "model": "m",
        "x_groq": {"id": "req_1"},
        "timings": {"prompt_ms": 1.5, "predicted_ms": 20.25},
        "citations": ["https://a.example", "https://b.example"],
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": false}}}],
        "choices": [{
            "index": 0,
            "finish_reason": "stop",
            "content_filter_results": {"violence": {"filtered": false, "severity": "safe"}},
            "message": {
                "role": "assistant",
                "content": "42",
                "reasoning_content": "6 times 7",
                "reasoning": "other reasoning",
                "reasoning_details": [{"type": "reasoning.text", "text": "6*7"}],
                "content_filter_results": {"hate": {"filtered": false}}
            }
        }],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "reasoning_tokens": 1}
    });
    let r = resp(wire.clone());
    for key in ["x_groq", "timings", "citations", "prompt_filter_results"] {
        assert!(r.extra.contains_key(key), "response extra lacks {key}");
    }
    assert!(r.choices[0].extra.contains_key("content_filter_results"));
    let m = &r.choices[0].message;
    for key in [
        "reasoning_content",
        "reasoning",
        "reasoning_details",
        "content_filter_results",
    ] {
        assert!(m.extra.contains_key(key), "message extra lacks {key}");
    }
    assert_eq!(m.reasoning(), Some("6 times 7"));
    assert_eq!(r.usage.as_ref().unwrap().extra["reasoning_tokens"], 1);
    // everything is there again after serializing
    assert_eq!(reencode!(&r), wire);
}

#[test]
fn reasoning_falls_back_to_reasoning_field() {
    let r = with_message(json!({"role": "assistant", "content": "x", "reasoning": "because"}));
    assert_eq!(r.choices[0].message.reasoning(), Some("because"));
    let r = with_message(
        json!({"role": "assistant", "content": "x", "reasoning": {"not": "a string"}}),
    );
    assert_eq!(r.choices[0].message.reasoning(), None);
}

#[test]
fn metadata_with_non_string_values() {
    let r = resp(json!({"metadata": {"a": "x", "n": 3, "b": false}}));
    let m = r.metadata.unwrap();
    assert_eq!(m["a"], "x");
    assert_eq!(m["n"], "3");
    assert_eq!(m["b"], "false");
    assert_eq!(resp(json!({"metadata": null})).metadata, None);
}

#[test]
fn float_index_and_created() {
    let r = resp(
        json!({"created": 1_700_000_000.0, "choices": [{"index": 1.0, "message": {"content": "x"}}]}),
    );
    assert_eq!(r.created, 1_700_000_000);
    assert_eq!(r.choices[0].index, 1);
}

// ---- stream chunks ----

#[test]
fn chunk_usage_with_empty_choices() {
    let c = chunk(json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    }));
    assert!(c.choices.is_empty());
    assert_eq!(c.usage.unwrap().total_tokens, 12);
    let c =
        chunk(json!({"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}));
    assert!(c.choices.is_empty());
    let c = chunk(json!({"choices": null, "usage": null}));
    assert!(c.choices.is_empty());
    assert_eq!(c.usage, None);
}

#[test]
fn azure_first_chunk() {
    let wire = json!({
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [{
            "prompt_index": 0,
            "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}}
        }]
    });
    let c = chunk(wire.clone());
    assert_eq!((c.id.as_str(), c.created), ("", 0));
    assert!(c.choices.is_empty());
    assert_eq!(c.extra["prompt_filter_results"][0]["prompt_index"], 0);
    assert_eq!(reencode!(&c), wire);
}

#[test]
fn choice_without_delta_or_index() {
    let c = chunk(json!({"choices": [{"finish_reason": "stop"}]}));
    assert_eq!(c.choices[0].index, 0);
    assert_eq!(c.choices[0].delta, Default::default());
    assert_eq!(c.choices[0].finish_reason, Some(FinishReason::Stop));
    let c = chunk(json!({"choices": [{"index": 0, "delta": null, "finish_reason": null}]}));
    assert_eq!(c.choices[0].delta, Default::default());
    assert_eq!(c.choices[0].finish_reason, None);
}

#[test]
fn delta_role_null() {
    let c = chunk(json!({"choices": [{"index": 0, "delta": {"role": null, "content": "a"}}]}));
    assert_eq!(c.choices[0].delta.role, None);
    assert_eq!(c.choices[0].delta.content.as_deref(), Some("a"));
}

#[test]
fn tool_call_delta_without_index_or_type() {
    let c = chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"id": "call_1", "function": {"name": "f", "arguments": ""}}
    ]}}]}));
    let tc = &c.choices[0].delta.tool_calls.as_ref().unwrap()[0];
    assert_eq!(tc.index, None);
    assert_eq!(tc.r#type, None);
    assert_eq!(tc.id.as_deref(), Some("call_1"));
    assert_eq!(tc.function.as_ref().unwrap().name.as_deref(), Some("f"));

    let c = chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 1, "type": "function", "function": {"arguments": "{\"a\":"}}
    ]}}]}));
    let tc = &c.choices[0].delta.tool_calls.as_ref().unwrap()[0];
    assert_eq!(tc.index, Some(1));
    assert_eq!(tc.r#type, Some(ToolType::Function));
    assert_eq!(tc.id, None);
    let f = tc.function.as_ref().unwrap();
    assert_eq!(f.name, None);
    assert_eq!(f.arguments.as_deref(), Some("{\"a\":"));
}

#[test]
fn tool_call_delta_with_empty_id_and_name() {
    let c = chunk(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "", "type": "function", "function": {"name": "", "arguments": "}"}}
    ]}}]}));
    let tc = &c.choices[0].delta.tool_calls.as_ref().unwrap()[0];
    assert_eq!(tc.id.as_deref(), Some(""));
    assert_eq!(tc.function.as_ref().unwrap().name.as_deref(), Some(""));
    assert_eq!(c.id, "");
}

#[test]
fn reasoning_content_delta() {
    let c = chunk(
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "reasoning_content": "Step 1"}}]}),
    );
    let d = &c.choices[0].delta;
    assert_eq!(d.content, None);
    assert_eq!(d.reasoning(), Some("Step 1"));
    assert_eq!(
        reencode!(&c)["choices"][0]["delta"]["reasoning_content"],
        "Step 1"
    );
}

#[test]
fn content_delta_as_parts() {
    let parts = json!([{"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}, {"type": "text", "text": "Hi"}]);
    let c = chunk(json!({"choices": [{"index": 0, "delta": {"content": parts.clone()}}]}));
    let content = c.choices[0].delta.content.as_ref().unwrap();
    assert_eq!(content, &"Hi");
    assert_eq!(content.parts().unwrap().len(), 2);
    assert_eq!(reencode!(&c)["choices"][0]["delta"]["content"], parts);
}

#[test]
fn chunk_keeps_vendor_keys() {
    let wire = json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "x_groq": {"id": "req_2", "usage": {"queue_time": 0.1}},
        "choices": [{"index": 0, "delta": {"content": "a"}, "content_filter_results": {}}]
    });
    let c = chunk(wire.clone());
    assert!(c.extra.contains_key("x_groq"));
    assert!(c.choices[0].extra.contains_key("content_filter_results"));
    assert_eq!(reencode!(&c), wire);
}

#[test]
fn numeric_ids_and_string_logprobs() {
    // Hobby servers number their completions; some print non-finite logprobs as strings.
    let resp: sync_openai::types::CreateChatCompletionResponse = serde_json::from_str(
        r#"{"id":123,"object":"chat.completion","created":"1700000000","model":7,
            "system_fingerprint":42,
            "choices":[{"index":0,"message":{"role":"assistant","content":"x"},
              "logprobs":{"content":[{"token":"x","logprob":"-inf","bytes":null,
                "top_logprobs":[{"token":"y","logprob":"-1.5"}]}]}}]}"#,
    )
    .unwrap();
    assert_eq!(resp.id, "123");
    assert_eq!(resp.model, "7");
    assert_eq!(resp.created, 1_700_000_000);
    assert_eq!(resp.system_fingerprint.as_deref(), Some("42"));
    let lp = &resp.choices[0]
        .logprobs
        .as_ref()
        .unwrap()
        .content
        .as_ref()
        .unwrap()[0];
    assert_eq!(lp.logprob, f64::NEG_INFINITY);
    assert_eq!(lp.top_logprobs[0].logprob, -1.5);

    let chunk: sync_openai::types::CreateChatCompletionStreamResponse =
        serde_json::from_str(r#"{"id":9,"object":null,"model":"m","choices":[]}"#).unwrap();
    assert_eq!(chunk.id, "9");
    assert_eq!(chunk.object, "");
}
