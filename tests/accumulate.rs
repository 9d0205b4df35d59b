//! A streamed completion accumulates to the completion the server would have sent whole.
//!
//! The property test makes random whole completions and random ways to stream them
//! (`common/completions.rs`), sends each as a server-sent-event body handed out in random
//! read sizes, and checks that `collect_completion` gives back exactly the whole
//! completion. Then the openai-go accumulator cases, by their pull request numbers.
//! `ACCUMULATE_CASES` and `ACCUMULATE_SEED` change the number of cases and the seed.

// Tests may unwrap, index and panic: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::completions;

use completions::{chunks, completion, sse, Pieces, SplitMix};
use serde_json::{json, Value};
use sync_openai::error::StreamErrorKind;
use sync_openai::stream::ChunkAccumulator;
use sync_openai::types::{
    ChatCompletionMessageToolCalls, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FinishReason, MAX_CHOICES, MAX_TOOL_CALLS,
};
use sync_openai::{ChatCompletionStream, Error};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn any_streamed_completion_accumulates_to_the_whole_one() {
    let cases = env_u64("ACCUMULATE_CASES", 4000);
    let seed = env_u64("ACCUMULATE_SEED", 0x005e_ed16);
    let (mut chunk_count, mut tool_calls, mut choices) = (0usize, 0usize, 0usize);
    for case in 0..cases {
        let mut e = SplitMix(seed ^ case.wrapping_mul(0x9E37_79B9));
        let whole = completion(&mut e);
        let want: CreateChatCompletionResponse = serde_json::from_str(&whole.to_string()).unwrap();
        let stream = chunks(&whole, &mut e);
        let body = sse(&stream, &mut e);
        let got = ChatCompletionStream::from_reader(Pieces::new(body, &mut e))
            .collect_completion()
            .unwrap_or_else(|err| {
                panic!("case {case}: {err}\nwhole: {whole}\nchunks: {stream:#?}")
            });
        assert_eq!(
            got,
            want,
            "case {case} (seed {seed})\nwhole: {whole:#}\nchunks: {:#}",
            Value::Array(stream.clone())
        );
        chunk_count += stream.len();
        choices += want.choices.len();
        tool_calls += want
            .choices
            .iter()
            .map(|c| c.message.tool_calls().len())
            .sum::<usize>();
    }
    // Shown with --nocapture: what the cases covered.
    println!(
        "{cases} completions (seed {seed}): {choices} choices, {tool_calls} tool calls, {chunk_count} chunks, all equal"
    );
    assert!(choices > cases as usize && tool_calls > cases as usize / 4);
}

fn body(chunks: &[&str]) -> String {
    let mut s: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s
}

fn collect(chunks: &[&str]) -> Result<CreateChatCompletionResponse, Error> {
    ChatCompletionStream::from_reader(std::io::Cursor::new(body(chunks))).collect_completion()
}

/// openai-go #806: several choices finishing in one chunk, each keeps its own content,
/// refusal and tool call.
#[test]
fn openai_go_806_choices_finishing_in_one_chunk() {
    let done = collect(&[
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":"choice zero"}},{"index":1,"delta":{"refusal":"choice one refusal"}},{"index":2,"delta":{"tool_calls":[{"index":1,"id":"call_choice_two","type":"function","function":{"name":"choice_two_tool","arguments":"{\"value\":2}"}}]}}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":" continues"}},{"index":1,"delta":{},"finish_reason":"stop"},{"index":2,"delta":{},"finish_reason":"tool_calls"}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"stop"},{"index":2,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    assert_eq!(done.choices.len(), 3);
    let [zero, one, two] = &done.choices[..] else {
        unreachable!()
    };
    assert_eq!(
        zero.message.content.as_deref(),
        Some("choice zero continues")
    );
    assert_eq!(zero.finish_reason, Some(FinishReason::Stop));
    assert_eq!(one.message.refusal.as_deref(), Some("choice one refusal"));
    assert_eq!(one.message.content, None);
    assert_eq!(two.finish_reason, Some(FinishReason::ToolCalls));
    let call = two.message.tool_calls()[0].as_function().unwrap();
    assert_eq!(call.id, "call_choice_two");
    assert_eq!(call.function.name, "choice_two_tool");
    assert_eq!(call.function.arguments, r#"{"value":2}"#);
    // Choices that came in the order 2, 1 come out by index.
    let done = collect(&[
        r#"{"choices":[{"index":2,"delta":{"content":"choice two"}},{"index":1,"delta":{"content":"choice one"}}]}"#,
        r#"{"choices":[{"index":2,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"stop"}]}"#,
    ])
    .unwrap();
    let got: Vec<(u32, Option<&str>)> = done
        .choices
        .iter()
        .map(|c| (c.index, c.message.content.as_deref()))
        .collect();
    assert_eq!(got, [(1, Some("choice one")), (2, Some("choice two"))]);
}

/// openai-go #757: Ollama sends `content: ""` together with the tool call in one delta.
#[test]
fn openai_go_757_empty_content_with_tool_calls() {
    for index in [0, 1] {
        let first = format!(
            r#"{{"id":"test","choices":[{{"index":{index},"delta":{{"content":"","tool_calls":[{{"id":"call_1","index":0,"type":"function","function":{{"name":"search","arguments":"{{}}"}}}}]}}}}]}}"#
        );
        let finish = format!(
            r#"{{"id":"test","choices":[{{"index":{index},"delta":{{}},"finish_reason":"tool_calls"}}]}}"#
        );
        let done = collect(&[&first, &finish]).unwrap();
        let choice = &done.choices[0];
        assert_eq!(choice.index, index);
        assert_eq!(choice.message.content.as_deref(), Some(""));
        let call = choice.message.tool_calls()[0].as_function().unwrap();
        assert_eq!(
            (
                call.id.as_str(),
                call.function.name.as_str(),
                call.function.arguments.as_str()
            ),
            ("call_1", "search", "{}")
        );
        assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    }
}

/// openai-go #688: empty and `null` `tool_calls` arrays before, between and after a real
/// call neither make a call nor lose one.
#[test]
fn openai_go_688_empty_and_null_tool_calls() {
    let empty = r#"{"id":"test","choices":[{"index":0,"delta":{"tool_calls":[]}}]}"#;
    let null = r#"{"id":"test","choices":[{"index":0,"delta":{"tool_calls":null}}]}"#;
    let call = r#"{"id":"test","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_123","type":"function","function":{"name":"test_func","arguments":"{}"}}]}}]}"#;
    let finished =
        r#"{"id":"test","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#;
    for (odd, calls_when_alone) in [(empty, Some(0)), (null, None)] {
        // Without a call: `[]` says "no calls" (as a whole answer's `tool_calls: []`
        // would), `null` says nothing.
        let done = collect(&[odd, finished]).unwrap();
        assert_eq!(
            done.choices[0].message.tool_calls.as_ref().map(Vec::len),
            calls_when_alone
        );
        for order in [[odd, call, finished], [call, odd, finished]] {
            let done = collect(&order).unwrap();
            let calls = done.choices[0].message.tool_calls();
            assert_eq!(calls.len(), 1, "{order:?}");
            let f = calls[0].as_function().unwrap();
            assert_eq!(
                (f.id.as_str(), f.function.name.as_str()),
                ("call_123", "test_func")
            );
            assert_eq!(f.function.arguments, "{}");
        }
    }
}

/// openai-go #822: a negative or too large choice or tool-call index is refused, never
/// read as another index; the accumulator keeps what it had.
#[test]
fn openai_go_822_out_of_range_indices() {
    let safe = [
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":"safe"}}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ];
    for bad in [
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":" mutated"}},{"index":-1,"delta":{}}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":" mutated"}},{"index":9223372036854775807,"delta":{}}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":" mutated"}},{"index":4294967296,"delta":{}}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":" mutated","tool_calls":[{"index":-2}]}}]}"#,
        r#"{"id":"test","choices":[{"index":0,"delta":{"content":" mutated","tool_calls":[{"index":9223372036854775807}]}}]}"#,
    ] {
        // As a stream: the chunk is bad data, and the partial completion is what came before.
        let err = collect(&[safe[0], safe[1], bad]).unwrap_err();
        let Error::Stream(e) = &err else {
            panic!("{bad}: {err:?}")
        };
        assert_eq!(e.kind(), StreamErrorKind::InvalidData, "{bad}: {err}");
        assert!(err.to_string().contains("out of range"), "{err}");
        let partial = e.partial_completion().unwrap();
        assert_eq!(partial.choices.len(), 1);
        assert_eq!(partial.choices[0].message.content.as_deref(), Some("safe"));
        // As a chunk: it does not decode, so it cannot reach an accumulator.
        assert!(serde_json::from_str::<CreateChatCompletionStreamResponse>(bad).is_err());
    }
    // The largest index is fine, and sparse indices do not make empty choices.
    let done = collect(&[
        r#"{"choices":[{"index":4294967295,"delta":{"tool_calls":[{"index":4294967295,"id":"call_0","type":"function","function":{"name":"lookup","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    assert_eq!(done.choices.len(), 1);
    assert_eq!(done.choices[0].index, u32::MAX);
    assert_eq!(done.choices[0].message.tool_calls()[0].id(), Some("call_0"));
    // Bedrock's -1 for its only call is "no index": fragments continue that call.
    let done = collect(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"id":"tooluse_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    let calls = done.choices[0].message.tool_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].as_function().unwrap().function.arguments,
        r#"{"a":1}"#
    );
}

/// Dense tool calls beyond 128 are fine (openai-go keeps 129); past MAX_TOOL_CALLS the
/// chunk is refused whole and the accumulator keeps what it had.
#[test]
fn tool_call_and_choice_limits() {
    let calls = |from: usize, to: usize| -> Value {
        let calls: Vec<Value> = (from..to)
            .map(|i| json!({"index": i, "id": format!("call_{i}"), "type": "function", "function": {"name": "lookup", "arguments": "{}"}}))
            .collect();
        json!({"choices": [{"index": 0, "delta": {"tool_calls": calls}}]})
    };
    let mut acc = ChunkAccumulator::new();
    acc.add(serde_json::from_value(calls(0, 129)).unwrap())
        .unwrap();
    acc.add(serde_json::from_value(calls(129, MAX_TOOL_CALLS)).unwrap())
        .unwrap();
    let err = acc
        .add(serde_json::from_value(calls(MAX_TOOL_CALLS, MAX_TOOL_CALLS + 1)).unwrap())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::TooLarge),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("more than 1024 distinct tool calls"),
        "{err}"
    );
    // Fragments of known calls still add.
    let fragment = json!({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 5, "function": {"arguments": " "}}]}}]});
    acc.add(serde_json::from_value(fragment).unwrap()).unwrap();
    let done = acc.clone().finish();
    let got = done.choices[0].message.tool_calls();
    assert_eq!(got.len(), MAX_TOOL_CALLS);
    assert_eq!(got[128].id(), Some("call_128"));
    assert_eq!(got[5].as_function().unwrap().function.arguments, "{} ");

    // Choices: 128 distinct ones in a stream, then a clear error with the partial answer.
    let mut chunks: Vec<String> = (0..MAX_CHOICES)
        .map(|i| {
            format!(
                r#"{{"choices":[{{"index":{},"delta":{{"content":"c{i}"}}}}]}}"#,
                i * 1000
            )
        })
        .collect();
    chunks.push(r#"{"choices":[{"index":7,"delta":{"content":"x"}}]}"#.to_owned());
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let err = collect(&refs).unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::TooLarge);
    assert!(
        err.to_string().contains("more than 128 distinct choices"),
        "{err}"
    );
    let partial = e.partial_completion().unwrap();
    assert_eq!(partial.choices.len(), MAX_CHOICES);
    assert_eq!(
        partial.choices[127].message.content.as_deref(),
        Some("c127")
    );
}

/// A `[DONE]` without any `finish_reason` (vLLM) is a whole answer.
#[test]
fn done_without_finish_reason_is_complete() {
    let done = collect(&[r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#]).unwrap();
    assert_eq!(done.choices[0].message.content.as_deref(), Some("Hi"));
    assert_eq!(done.choices[0].finish_reason, None);
}

/// Custom tool calls stay custom; unknown kinds stay as sent, merged.
#[test]
fn custom_and_unknown_tool_calls_keep_their_type() {
    let done = collect(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"custom","custom":{"name":"sql","input":"SELECT"}},{"index":1,"id":"m1","type":"mcp","mcp":{"server":"x","out":"a"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"custom":{"input":" 1"}},{"index":1,"mcp":{"out":"b"}}]},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    let calls = done.choices[0].message.tool_calls();
    let ChatCompletionMessageToolCalls::Custom(c) = &calls[0] else {
        panic!("{:?}", calls[0])
    };
    assert_eq!((c.id.as_str(), c.custom.name.as_str()), ("c1", "sql"));
    assert_eq!(c.custom.input, "SELECT 1");
    assert_eq!(
        calls[1],
        ChatCompletionMessageToolCalls::Other(
            json!({"id": "m1", "type": "mcp", "mcp": {"server": "x", "out": "ab"}})
        )
    );
}

/// `finish()` after a stream error gives what came, and the plain iterator's error has no
/// partial completion (its caller holds the chunks).
#[test]
fn finish_after_an_error() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\",\"reasoning_content\":\"th\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n";
    let mut acc = ChunkAccumulator::new();
    let mut failure = None;
    for item in ChatCompletionStream::from_reader(body.as_bytes()) {
        match item {
            Ok(chunk) => acc.add(chunk).unwrap(),
            Err(e) => failure = Some(e),
        }
    }
    let Some(Error::Stream(e)) = failure else {
        panic!("{failure:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::ServerError);
    assert!(e.partial_completion().is_none());
    let partial = acc.finish();
    assert_eq!(partial.choices[0].message.content.as_deref(), Some("Hel"));
    assert_eq!(partial.choices[0].message.reasoning(), Some("th"));
    assert_eq!(partial.usage.unwrap().total_tokens, 4);
    // The same through collect_completion and content_deltas.
    let err = ChatCompletionStream::from_reader(body.as_bytes())
        .collect_completion()
        .unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    let partial = e.partial_completion().unwrap();
    assert_eq!(partial.choices[0].message.content.as_deref(), Some("Hel"));
    assert_eq!(partial.usage.as_ref().unwrap().prompt_tokens, 3);
    assert!(
        format!("{err:?}").contains("partial: Some(Any { .. })"),
        "{err:?}"
    );
    let mut deltas = ChatCompletionStream::from_reader(body.as_bytes()).content_deltas();
    assert_eq!(deltas.next().unwrap().unwrap(), "Hel");
    let Some(Err(Error::Stream(e))) = deltas.next() else {
        panic!()
    };
    let so_far = &e.partial_completion().unwrap().choices[0].message.content;
    assert_eq!(so_far.as_deref(), Some("Hel"));
    assert!(deltas.next().is_none());
}

// ----- what real servers send (issue 26) ----------------------------------------------

/// The function calls of choice 0 as `(id, name, arguments)`.
fn calls_of(done: &CreateChatCompletionResponse) -> Vec<(String, String, String)> {
    done.choices[0]
        .message
        .tool_calls()
        .iter()
        .map(|c| {
            let f = c.as_function().unwrap();
            (
                f.id.clone(),
                f.function.name.clone(),
                f.function.arguments.clone(),
            )
        })
        .collect()
}

fn call(id: &str, name: &str, arguments: &str) -> (String, String, String) {
    (id.to_owned(), name.to_owned(), arguments.to_owned())
}

/// GPT-5 models resend the complete arguments after their fragments, or send them whole
/// in every delta (open-webui #22235): the call's arguments are the one object meant.
#[test]
fn complete_arguments_sent_again_are_kept_once() {
    let head = r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"search","arguments":""}}]}}]}"#;
    let args = |a: &str| {
        format!(
            r#"{{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":{}}}}}]}}}}]}}"#,
            serde_json::to_string(a).unwrap()
        )
    };
    let end = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#;
    let want = call("call_1", "search", r#"{"query":"rust","count":5}"#);
    // Fragments, then the whole object again (with the name repeated, as they do).
    let resend = r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"search","arguments":"{\"query\":\"rust\",\"count\":5}"}}]}}]}"#;
    let done = collect(&[
        head,
        &args(r#"{"query":"#),
        &args(r#""rust","count":5}"#),
        resend,
        end,
    ])
    .unwrap();
    assert_eq!(calls_of(&done), std::slice::from_ref(&want));
    // Whole in every delta.
    let whole = args(r#"{"query":"rust","count":5}"#);
    let done = collect(&[head, &whole, &whole, &whole, end]).unwrap();
    assert_eq!(calls_of(&done), [want]);
    let arguments: Value = serde_json::from_str(&calls_of(&done)[0].2).unwrap();
    assert_eq!(arguments, json!({"query": "rust", "count": 5}));
}

/// openai-python #3201: two entries with the same index in one chunk, the first with id
/// and name, the second with the first arguments.
#[test]
fn same_index_twice_in_one_chunk_is_one_call() {
    let done = collect(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}},{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    assert_eq!(
        calls_of(&done),
        [call("call_a", "get_weather", r#"{"city":"Oslo"}"#)]
    );
}

/// Gemini: parallel calls without an index, each with its own id, each whole.
#[test]
fn parallel_calls_without_index_are_told_apart_by_id() {
    let done = collect(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"g1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\"}"}},{"id":"g2","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"g3","type":"function","function":{"name":"time","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    assert_eq!(
        calls_of(&done),
        [
            call("g1", "weather", r#"{"city":"Oslo"}"#),
            call("g2", "weather", r#"{"city":"Rome"}"#),
            call("g3", "time", "{}"),
        ]
    );
}

/// litellm #11407: the first call at index 1, its id only on the first delta.
#[test]
fn first_call_at_index_one_is_one_call() {
    let done = collect(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_1","type":"function","function":{"name":"lookup","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"id\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"7}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ])
    .unwrap();
    assert_eq!(calls_of(&done), [call("toolu_1", "lookup", r#"{"id":7}"#)]);
}

/// Groq reports usage only as `x_groq.usage` on the last chunk: the collected usage has
/// it; a standard `usage` wins when both come.
#[test]
fn groq_usage_in_x_groq_is_the_usage() {
    let first = r#"{"id":"chatcmpl-g","model":"llama-3.1-8b-instant","x_groq":{"id":"req_01"},"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#;
    let last = r#"{"id":"chatcmpl-g","model":"llama-3.1-8b-instant","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.02,"prompt_tokens":12,"prompt_time":0.001,"completion_tokens":2,"completion_time":0.002,"total_tokens":14,"total_time":0.003}}}"#;
    let done = collect(&[first, last]).unwrap();
    let usage = done.usage.as_ref().unwrap(); // from x_groq
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (12, 2, 14)
    );
    assert_eq!(usage.extra["queue_time"], 0.02);
    assert_eq!(done.extra["x_groq"]["id"], "req_01"); // the vendor key stays as received
    let standard =
        r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
    let done = collect(&[first, last, standard]).unwrap();
    assert_eq!(done.usage.unwrap().total_tokens, 2);
}

/// DeepSeek-R1 through Ollama or llama.cpp with reasoning parsing off: `<think>…</think>`
/// inline in the content, the tags split across chunks. Opted in, the reasoning moves to
/// `reasoning_content` and the answer is without it; by default content is as received.
#[test]
fn think_tags_move_to_reasoning_when_asked() {
    let pieces = [
        "<th",
        "ink>\nThe user greets",
        " me.\n</th",
        "ink>\n\n",
        "Hello",
        "!",
    ];
    let mut chunks: Vec<String> = pieces
        .iter()
        .map(|p| {
            format!(
                r#"{{"id":"c","model":"deepseek-r1:7b","choices":[{{"index":0,"delta":{{"content":{}}}}}]}}"#,
                serde_json::to_string(p).unwrap()
            )
        })
        .collect();
    chunks.push(r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#.to_owned());
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let body = body(&refs);

    let plain = ChatCompletionStream::from_reader(std::io::Cursor::new(body.clone()))
        .collect_completion()
        .unwrap();
    let message = &plain.choices[0].message;
    assert_eq!(message.content.as_deref(), Some(pieces.concat().as_str()));
    assert_eq!(message.reasoning(), None);

    let stream = || {
        ChatCompletionStream::from_reader(std::io::Cursor::new(body.clone()))
            .think_tags_as_reasoning(true)
    };
    let split = stream().collect_completion().unwrap();
    let message = &split.choices[0].message;
    assert_eq!(message.content.as_deref(), Some("Hello!"));
    assert_eq!(message.reasoning(), Some("\nThe user greets me.\n"));
    // The text deltas a program prints are the answer only.
    let printed: String = stream().content_deltas().map(Result::unwrap).collect();
    assert_eq!(printed, "Hello!");
    // The same with the setting on the accumulator, over the plain chunks.
    let mut acc = ChunkAccumulator::new().think_tags_as_reasoning(true);
    for chunk in ChatCompletionStream::from_reader(std::io::Cursor::new(body.clone())) {
        acc.add(chunk.unwrap()).unwrap();
    }
    assert_eq!(acc.finish(), split);
}

/// A stream cut while thinking keeps the reasoning so far, the held-back end of a
/// possible tag included, in the partial answer.
#[test]
fn think_tags_cut_midway_keep_the_reasoning() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"<think>Let me see </th\"}}]}\n\n";
    let err = ChatCompletionStream::from_reader(body.as_bytes())
        .think_tags_as_reasoning(true)
        .collect_completion()
        .unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    let message = &e.partial_completion().unwrap().choices[0].message;
    assert_eq!(message.reasoning(), Some("Let me see </th"));
    assert_eq!(message.content, None);
}

/// With the setting on, what is not reasoning stays as received: Ollama's `content: ""`
/// beside a tool call, and a held-back start that never became a tag (given out with the
/// chunk that finishes the choice, though that chunk has no content).
#[test]
fn think_tags_setting_leaves_other_content_as_received() {
    let collect_think = |chunks: &[&str]| {
        ChatCompletionStream::from_reader(std::io::Cursor::new(body(chunks)))
            .think_tags_as_reasoning(true)
            .collect_completion()
            .unwrap()
    };
    let done = collect_think(&[
        r#"{"choices":[{"index":0,"delta":{"content":"","tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ]);
    assert_eq!(done.choices[0].message.content.as_deref(), Some(""));
    let done = collect_think(&[
        r#"{"choices":[{"index":0,"delta":{"content":" <thi"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
    ]);
    assert_eq!(done.choices[0].message.content.as_deref(), Some(" <thi"));
    assert_eq!(done.choices[0].message.reasoning(), None);
}

#[test]
fn stream_metadata_becomes_the_typed_map_or_stays_a_vendor_key() {
    let finish = |metadata: Value| {
        let chunk: CreateChatCompletionStreamResponse =
            serde_json::from_value(json!({"id": "c", "choices": [], "metadata": metadata}))
                .unwrap();
        let mut acc = ChunkAccumulator::new();
        acc.add(chunk).unwrap();
        acc.finish()
    };
    // As a stored completion's metadata decodes: strings kept, null dropped, other JSON as text.
    let done = finish(json!({"user": "u1", "run": 7, "tags": ["a"], "gone": null}));
    let metadata = done.metadata.unwrap();
    assert_eq!(
        metadata.into_iter().collect::<Vec<_>>(),
        [
            ("run".to_owned(), "7".to_owned()),
            ("tags".to_owned(), r#"["a"]"#.to_owned()),
            ("user".to_owned(), "u1".to_owned()),
        ]
    );
    assert_eq!(done.extra.get("metadata"), None);
    // Not a map: no typed metadata, the value stays as received.
    let done = finish(json!("free text"));
    assert_eq!(done.metadata, None);
    assert_eq!(done.extra.get("metadata"), Some(&json!("free text")));
}
