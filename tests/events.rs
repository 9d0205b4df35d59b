//! `ChatCompletionStream::events()` agrees with `collect_completion` on every stream of the
//! corpus: the random completions and streamings of `common/completions.rs` (the
//! accumulator's property test) and the hand-written streams of real servers' quirks.
//! `into_reader` gives the content as an `io::Read`.
//! `EVENTS_CASES` and `EVENTS_SEED` change the number of random cases and the seed.

// Tests may unwrap, index and panic: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::completions;

use std::collections::BTreeMap;
use std::io::Read;

use completions::{chunks, completion, sse, Pieces, SplitMix};
use serde_json::{json, Value};
use sync_openai::error::StreamErrorKind;
use sync_openai::stream::{ChatCompletionStream, StreamEvent};
use sync_openai::types::{ChatCompletionMessageToolCalls, CreateChatCompletionResponse};
use sync_openai::Error;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A done tool call: id, name, arguments, the arguments parsed.
type Call = (String, String, String, Option<Value>);

/// What the events said about one choice.
#[derive(Default, Debug)]
struct Said {
    content: Option<String>,
    content_done: Vec<String>,
    refusal: Option<String>,
    refusal_done: Vec<String>,
    reasoning: Option<String>,
    /// By the call's index: the concatenated deltas.
    arguments: BTreeMap<usize, String>,
    /// By the call's index: (id, name, arguments, parsed) of each done event.
    calls_done: BTreeMap<usize, Vec<Call>>,
    finished: Vec<Option<String>>,
    /// A done or finished event came before a delta of the same choice.
    delta_after_finish: bool,
}

/// Every event of a stream, by choice; the last usage; the error that ended it, if any; and
/// the completion the events add up to.
fn read_events(
    stream: ChatCompletionStream,
) -> (
    BTreeMap<u32, Said>,
    Option<Value>,
    Option<Error>,
    CreateChatCompletionResponse,
) {
    let mut said: BTreeMap<u32, Said> = BTreeMap::new();
    let (mut usage, mut error) = (None, None);
    let mut events = stream.events();
    for event in events.by_ref() {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                error = Some(e);
                continue;
            }
        };
        match event {
            StreamEvent::ContentDelta { choice, delta } => {
                let s = said.entry(choice).or_default();
                s.delta_after_finish |= !s.finished.is_empty();
                s.content.get_or_insert_default().push_str(&delta);
            }
            StreamEvent::ContentDone { choice, content } => {
                said.entry(choice).or_default().content_done.push(content)
            }
            StreamEvent::RefusalDelta { choice, delta } => {
                let s = said.entry(choice).or_default();
                s.delta_after_finish |= !s.finished.is_empty();
                s.refusal.get_or_insert_default().push_str(&delta);
            }
            StreamEvent::RefusalDone { choice, refusal } => {
                said.entry(choice).or_default().refusal_done.push(refusal)
            }
            StreamEvent::ReasoningDelta { choice, delta } => {
                let s = said.entry(choice).or_default();
                s.reasoning.get_or_insert_default().push_str(&delta);
            }
            StreamEvent::ToolCallDelta(d) => {
                let s = said.entry(d.choice).or_default();
                s.delta_after_finish |= !s.finished.is_empty();
                let so_far = s.arguments.entry(d.index).or_default();
                if d.replaced {
                    so_far.clear();
                }
                so_far.push_str(&d.delta);
                assert_eq!(*so_far, d.arguments, "the snapshot is the deltas so far");
            }
            StreamEvent::ToolCallDone(d) => {
                let parsed = d.parsed.ok();
                let done = (d.id, d.name, d.arguments, parsed);
                let s = said.entry(d.choice).or_default();
                s.calls_done.entry(d.index).or_default().push(done);
            }
            StreamEvent::Usage(u) => usage = Some(serde_json::to_value(u).unwrap()),
            StreamEvent::Finished {
                choice,
                finish_reason,
            } => {
                let reason = finish_reason.map(|r| r.as_str().to_owned());
                said.entry(choice).or_default().finished.push(reason);
            }
            other => panic!("an event this test does not know: {other:?}"),
        }
    }
    (said, usage, error, events.into_completion())
}

/// The events of `body` against its collected completion; returns the number of tool
/// calls checked.
fn check(body: &[u8], what: &str) -> usize {
    let collected =
        ChatCompletionStream::from_reader(std::io::Cursor::new(body.to_vec())).collect_completion();
    let (said, usage, error, sum) = read_events(ChatCompletionStream::from_reader(
        std::io::Cursor::new(body.to_vec()),
    ));
    let want = match collected {
        Ok(want) => {
            assert!(error.is_none(), "{what}: {error:?}");
            want
        }
        Err(Error::Stream(e)) => {
            // A stream that fails: the events end with the same error, after events that
            // add up to the same partial completion.
            let got = error
                .as_ref()
                .unwrap_or_else(|| panic!("{what}: no error event"));
            assert_eq!(got.to_string(), e.to_string(), "{what}");
            match e.partial_completion() {
                Some(partial) => partial.clone(),
                None => return 0,
            }
        }
        Err(other) => panic!("{what}: {other}"),
    };
    assert_eq!(sum, want, "{what}: into_completion");
    let want_usage = want
        .usage
        .as_ref()
        .map(|u| serde_json::to_value(u).unwrap());
    if error.is_none() {
        assert_eq!(usage, want_usage, "{what}: the last usage event");
    }
    let mut calls = 0;
    for choice in &want.choices {
        let s = said.get(&choice.index);
        let empty = Said::default();
        let s = s.unwrap_or(&empty);
        let message = &choice.message;
        let content = message.content.as_ref().map(|c| c.as_str());
        let nonempty = |t: Option<&str>| t.filter(|t| !t.is_empty()).map(str::to_owned);
        assert_eq!(s.content, nonempty(content), "{what}: content deltas");
        assert_eq!(
            s.refusal,
            nonempty(message.refusal.as_deref()),
            "{what}: refusal"
        );
        let text_or_absent = |key: &str| message.extra.get(key).is_none_or(Value::is_string);
        let both = ["reasoning_content", "reasoning"]
            .iter()
            .all(|k| message.extra.contains_key(*k));
        if text_or_absent("reasoning_content") && text_or_absent("reasoning") && !both {
            // (A vendor value that ends up other than text is not reasoning: the random
            // streams send text pieces that a number replaces, by the last-wins rule; and
            // no server sends both keys, which the random streams do.)
            assert_eq!(
                s.reasoning,
                nonempty(message.reasoning()),
                "{what}: reasoning"
            );
        }
        if error.is_some() {
            continue; // No done events for a stream that failed.
        }
        assert!(
            !s.delta_after_finish,
            "{what}: a delta after the choice finished"
        );
        let dones = |t: Option<&str>| t.map(|t| vec![t.to_owned()]).unwrap_or_default();
        assert_eq!(s.content_done, dones(content), "{what}: one content done");
        assert_eq!(
            s.refusal_done,
            dones(message.refusal.as_deref()),
            "{what}: one refusal done"
        );
        let reason = choice.finish_reason.as_ref().map(|r| r.as_str().to_owned());
        assert_eq!(s.finished, vec![reason], "{what}: one finished event");
        // Each call: one done event, its deltas concatenate to its arguments, and the done
        // events are the collected calls (by index for servers that send calls in order;
        // compared as a set, since a stream may open calls out of index order).
        let mut expected = Vec::new();
        for call in message.tool_calls() {
            let (id, name, arguments, parsed) = match call {
                ChatCompletionMessageToolCalls::Function(f) => {
                    let text = f.function.arguments.trim();
                    let parsed = match text {
                        "" => Some(json!({})),
                        text => serde_json::from_str::<Value>(text).ok(),
                    };
                    let args = f.function.arguments.clone();
                    (f.id.clone(), f.function.name.clone(), args, parsed)
                }
                ChatCompletionMessageToolCalls::Custom(c) => {
                    let input = c.custom.input.clone();
                    let parsed = Some(Value::String(input.clone()));
                    (c.id.clone(), c.custom.name.clone(), input, parsed)
                }
                _ => continue,
            };
            expected.push((id, name, arguments, parsed));
        }
        let mut done = Vec::new();
        for (index, dones) in &s.calls_done {
            assert_eq!(dones.len(), 1, "{what}: call {index}: one done event");
            let deltas = s.arguments.get(index).cloned().unwrap_or_default();
            assert_eq!(deltas, dones[0].2, "{what}: call {index}: argument deltas");
            done.push(dones[0].clone());
        }
        let key = |c: &Call| format!("{c:?}");
        expected.sort_by_key(key);
        done.sort_by_key(key);
        calls += expected.len();
        assert_eq!(
            done, expected,
            "{what}: the done events are the collected calls"
        );
    }
    calls
}

#[test]
fn events_agree_with_collect_completion_on_random_streams() {
    let cases = env_u64("EVENTS_CASES", 1500);
    let seed = env_u64("EVENTS_SEED", 0x0e7e_0715);
    let mut calls = 0;
    for case in 0..cases {
        let mut e = SplitMix(seed ^ case.wrapping_mul(0x9E37_79B9));
        let whole = completion(&mut e);
        let stream = chunks(&whole, &mut e);
        let body = sse(&stream, &mut e);
        let mut pieces = Vec::new();
        Pieces::new(body, &mut e).read_to_end(&mut pieces).unwrap();
        calls += check(&pieces, &format!("case {case} (seed {seed}): {whole}"));
    }
    println!("{cases} random streams, {calls} tool calls: events agree");
    assert!(calls > cases as usize / 4, "{calls}");
}

fn body(chunks: &[&str]) -> Vec<u8> {
    let mut s: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

/// Hand-written streams of real servers' quirks (as in `tests/accumulate.rs` and
/// `tests/stream.rs`).
#[test]
fn events_agree_on_hand_written_streams() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "openai-go 806: choices finishing in one chunk",
            body(&[
                r#"{"choices":[{"index":0,"delta":{"content":"A"}},{"index":1,"delta":{"refusal":"No"}}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
            ]),
        ),
        (
            "tool calls without index or type, and by id",
            body(&[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"one","arguments":"{\"x\""}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"two","arguments":""}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            ]),
        ),
        (
            "vLLM: [DONE] without a finish_reason, usage on every chunk",
            body(&[
                r#"{"choices":[{"index":0,"delta":{"reasoning_content":"Hmm"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#,
                r#"{"choices":[{"index":0,"delta":{"content":"42"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
            ]),
        ),
        (
            "invalid arguments: a parse error on the done event",
            body(&[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":"tool_calls"}]}"#,
            ]),
        ),
        (
            // litellm #4537: `{}` first, then the real arguments (the accumulator may replace
            // the placeholder: the delta then says `replaced`).
            "a gateway's {} placeholder before the arguments",
            body(&[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}"#,
            ]),
        ),
        (
            // open-webui #22235: the whole arguments sent again after their fragments.
            "whole arguments resent",
            body(&[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\": 1}"}}]},"finish_reason":"tool_calls"}]}"#,
            ]),
        ),
        (
            "cut off mid-answer",
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n".to_vec(),
        ),
    ];
    for (what, body) in cases {
        check(&body, what);
    }
}

#[test]
fn a_parse_error_and_a_custom_input_on_done_events() {
    let stream = ChatCompletionStream::from_reader(std::io::Cursor::new(body(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"d","type":"custom","custom":{"name":"sh","input":"ls -l"}}]},"finish_reason":"tool_calls"}]}"#,
    ])));
    let dones: Vec<_> = stream
        .events()
        .filter_map(|e| match e.unwrap() {
            StreamEvent::ToolCallDone(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(dones.len(), 2);
    let error = dones[0].parsed.as_ref().unwrap_err();
    assert!(error.is_eof(), "{error}");
    assert_eq!(dones[0].arguments, r#"{"a":"#);
    assert!(dones[1].custom);
    assert_eq!(dones[1].parsed.as_ref().unwrap(), &json!("ls -l"));
    assert_eq!((dones[1].index, dones[1].name.as_str()), (1, "sh"));
}

#[test]
fn tool_call_deltas_show_partial_arguments() {
    let stream = ChatCompletionStream::from_reader(std::io::Cursor::new(body(&[
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"find","arguments":"{\"cities\": [\"Par"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is\", \"Lyon\"], \"lim"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"it\": 3}"}}]},"finish_reason":"tool_calls"}]}"#,
    ])));
    let shown: Vec<Value> = stream
        .events()
        .filter_map(|e| match e.unwrap() {
            StreamEvent::ToolCallDelta(d) => {
                assert_eq!((d.index, d.id.as_str(), d.name.as_str()), (0, "c", "find"));
                d.partial_arguments()
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        shown,
        [
            json!({"cities": ["Par"]}),
            json!({"cities": ["Paris", "Lyon"]}),
            json!({"cities": ["Paris", "Lyon"], "limit": 3}),
        ]
    );
}

#[test]
fn into_reader_pipes_the_content_and_carries_the_error() {
    let whole = body(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello, "}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"wörld"},"finish_reason":"stop"}]}"#,
    ]);
    let mut reader = ChatCompletionStream::from_reader(std::io::Cursor::new(whole)).into_reader();
    let mut out = Vec::new();
    std::io::copy(&mut reader, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "Hello, wörld");

    // Read one byte at a time: the text still arrives whole.
    let cut =
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"H\xc3\xa9l\"}}]}\n\n".to_vec();
    let mut reader = ChatCompletionStream::from_reader(std::io::Cursor::new(cut)).into_reader();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    let err = loop {
        match reader.read(&mut byte) {
            Ok(0) => panic!("a cut stream must fail"),
            Ok(_) => got.push(byte[0]),
            Err(e) => break e,
        }
    };
    assert_eq!(got, "Hél".as_bytes());
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    let inner = err.into_inner().unwrap().downcast::<Error>().unwrap();
    let Error::Stream(e) = *inner else {
        panic!("{inner}")
    };
    assert_eq!(e.kind(), StreamErrorKind::Truncated);
    let partial = e.partial_completion().unwrap();
    assert_eq!(partial.choices[0].message.content.as_deref(), Some("Hél"));
}
