//! Random chat completions and random ways a server could stream them.
//!
//! [`completion`] makes a whole completion (as the JSON a server would send for a
//! non-streamed request) with every part the accumulator must keep: content as text or
//! parts, refusal, reasoning and other vendor keys at every level, function, custom and
//! unknown tool calls with vendor keys, the deprecated `function_call`, audio, annotations,
//! logprobs, usage, moderation, metadata, `finish_reason`s. [`chunks`] splits it into the
//! chunks of a stream the way servers do: text cut at random points, ids and names on the
//! first fragment (sometimes repeated), tool calls by index (interleaved) or by id and
//! order (no index, or Bedrock's `-1`), choices interleaved and finishing together, vendor
//! keys split by the documented merge rules, `null`s and empty `tool_calls` arrays
//! sprinkled in, Azure's empty first `id`. [`sse`] frames the chunks as server-sent events.
//!
//! Driven by an [`Entropy`]: a seeded [`SplitMix`] for the property test, the fuzzer's
//! bytes ([`Bytes`]) in `fuzz/fuzz_targets/accumulate.rs`. Every choice it makes is
//! bounded, so it ends even when the entropy is all zeros.
#![allow(dead_code)] // each user takes a different subset

use serde_json::{json, Map, Value};

/// A source of choices.
pub trait Entropy {
    /// The next 64 random bits.
    fn bits(&mut self) -> u64;

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.bits() % n
        }
    }

    /// `true` with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A number in `0..n` as a `usize`.
    fn pick(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// SplitMix64: a tiny seeded generator, good enough to explore shapes.
pub struct SplitMix(pub u64);

impl Entropy for SplitMix {
    fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The fuzzer's bytes, two at a time; zeros once they run out.
pub struct Bytes<'a> {
    pub data: &'a [u8],
}

impl Entropy for Bytes<'_> {
    fn bits(&mut self) -> u64 {
        let take = self.data.len().min(2);
        let (head, rest) = self.data.split_at(take);
        self.data = rest;
        head.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }
}

const WORDS: &[&str] = &[
    "Hel", "lo", " ", "wörld", "😀", "\n", "\"q\"", "\\", "{\"a\":", "1}", "", "é", "tab\t", "<b>",
];

fn text(e: &mut impl Entropy, max_words: u64) -> String {
    let n = e.below(max_words + 1);
    (0..n).map(|_| WORDS[e.pick(WORDS.len())]).collect()
}

/// Function arguments: random text, but never two JSON objects back to back (`{"a":1}`
/// twice), which the accumulator reads as one object sent again.
fn arguments(e: &mut impl Entropy, max_words: u64) -> String {
    let args = text(e, max_words);
    let squeezed: String = args.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.contains("}{") {
        args.replace('{', "(")
    } else {
        args
    }
}

fn pick_str<'a>(e: &mut impl Entropy, options: &[&'a str]) -> &'a str {
    options[e.pick(options.len())]
}

/// `k` pieces (some maybe empty) that concatenate to `s`, cut at character boundaries.
pub fn split_str(s: &str, k: usize, e: &mut impl Entropy) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let cuts = cuts(chars.len(), k, e);
    cuts.windows(2)
        .map(|w| chars[w[0]..w[1]].iter().collect())
        .collect()
}

/// `k` consecutive runs (some maybe empty) that concatenate to `items`.
pub fn split_vec<T: Clone>(items: &[T], k: usize, e: &mut impl Entropy) -> Vec<Vec<T>> {
    let cuts = cuts(items.len(), k, e);
    cuts.windows(2)
        .map(|w| items[w[0]..w[1]].to_vec())
        .collect()
}

/// `k + 1` sorted positions from 0 to `len`.
fn cuts(len: usize, k: usize, e: &mut impl Entropy) -> Vec<usize> {
    let mut cuts: Vec<usize> = (1..k).map(|_| e.pick(len + 1)).collect();
    cuts.push(0);
    cuts.push(len);
    cuts.sort_unstable();
    cuts
}

/// A non-empty sorted subset of `0..k`: the events that carry a field.
fn carriers(k: usize, e: &mut impl Entropy) -> Vec<usize> {
    let mut c: Vec<usize> = (0..k).filter(|_| e.chance(1, 2)).collect();
    if c.is_empty() {
        c.push(e.pick(k));
    }
    c
}

/// A vendor value: strings, numbers, bools, `null`, arrays and objects, a little nested.
fn vendor_value(e: &mut impl Entropy, depth: u32) -> Value {
    match e.below(if depth >= 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(e.chance(1, 2)),
        2 => json!(e.below(1000)),
        3 => json!(-(e.below(64) as f64) / 8.0),
        4 => json!(text(e, 4)),
        5 => Value::Array(
            (0..e.below(4))
                .map(|_| vendor_value(e, depth + 1))
                .collect(),
        ),
        _ => Value::Object(vendor_keys(e, &[], depth + 1)),
    }
}

const VENDOR_KEYS: &[&str] = &[
    "reasoning_content",
    "reasoning",
    "reasoning_details",
    "x_groq",
    "citations",
    "content_filter_results",
    "extra_content",
    "stop_reason",
    "vendor",
];

fn vendor_keys(e: &mut impl Entropy, reserved: &[&str], depth: u32) -> Map<String, Value> {
    let mut map = Map::new();
    for _ in 0..e.below(3) {
        let key = pick_str(e, VENDOR_KEYS);
        if !reserved.contains(&key) {
            map.insert(key.to_owned(), vendor_value(e, depth));
        }
    }
    map
}

/// Splits a vendor value of a fragment (a delta, a tool-call fragment) over `k` events:
/// merging the `Some`s in order with the fragment rules (strings concatenate, arrays
/// append, objects merge key by key, other values: last wins, `null` never replaces)
/// gives back `v`.
pub fn split_fragment(v: &Value, k: usize, e: &mut impl Entropy) -> Vec<Option<Value>> {
    split_value(v, k, e, true)
}

/// The same for metadata (a chunk's or a choice's keys): objects merge key by key, any
/// other value is last-wins.
pub fn split_meta(v: &Value, k: usize, e: &mut impl Entropy) -> Vec<Option<Value>> {
    split_value(v, k, e, false)
}

fn split_value(v: &Value, k: usize, e: &mut impl Entropy, fragment: bool) -> Vec<Option<Value>> {
    let mut out: Vec<Option<Value>> = vec![None; k];
    let c = carriers(k, e);
    match v {
        Value::Null => {
            for &i in &c {
                out[i] = Some(Value::Null);
            }
            return out;
        }
        Value::String(s) if fragment => {
            for (&i, piece) in c.iter().zip(split_str(s, c.len(), e)) {
                out[i] = Some(Value::String(piece));
            }
        }
        Value::Array(items) if fragment => {
            for (&i, run) in c.iter().zip(split_vec(items, c.len(), e)) {
                out[i] = Some(Value::Array(run));
            }
        }
        Value::Object(fields) => {
            let mut maps: Vec<Map<String, Value>> = vec![Map::new(); c.len()];
            for (key, value) in fields {
                for (j, piece) in split_value(value, c.len(), e, fragment)
                    .into_iter()
                    .enumerate()
                {
                    if let Some(piece) = piece {
                        maps[j].insert(key.clone(), piece);
                    }
                }
            }
            for (&i, map) in c.iter().zip(maps) {
                out[i] = Some(Value::Object(map));
            }
        }
        other => {
            // Last wins: earlier carriers may send other values first.
            let (&last, earlier) = c.split_last().unwrap_or((&0, &[]));
            for &i in earlier {
                out[i] = Some(if e.chance(1, 2) {
                    json!(e.below(100))
                } else {
                    json!(text(e, 2))
                });
            }
            out[last] = Some(other.clone());
        }
    }
    // `null` in an event that carries nothing never changes the result.
    for slot in out.iter_mut() {
        if slot.is_none() && e.chance(1, 8) {
            *slot = Some(Value::Null);
        }
    }
    out
}

fn token(e: &mut impl Entropy) -> Value {
    let t = text(e, 1);
    let bytes = if e.chance(1, 4) {
        Value::Null
    } else {
        json!(t.bytes().collect::<Vec<u8>>())
    };
    let top: Vec<Value> = (0..e.below(3))
        .map(
            |_| json!({"token": text(e, 1), "logprob": -(e.below(80) as f64) / 4.0, "bytes": null}),
        )
        .collect();
    json!({"token": t, "logprob": -(e.below(80) as f64) / 8.0, "bytes": bytes, "top_logprobs": top})
}

fn tool_call(e: &mut impl Entropy, i: usize) -> Value {
    let id = if e.chance(1, 8) {
        String::new()
    } else {
        format!("call_{i}_{}", e.below(1000))
    };
    let mut call = match e.below(6) {
        0 => {
            json!({"id": id, "type": "custom", "custom": {"name": pick_str(e, &["sql", "patch"]), "input": text(e, 8)}})
        }
        1 => {
            let mut other = json!({"type": pick_str(e, &["mcp", "web_search_call"])});
            if e.chance(3, 4) {
                other["id"] = json!(id);
            }
            other["mcp"] = vendor_value(e, 1);
            other
        }
        _ => json!({"id": id, "type": "function", "function": {
            "name": pick_str(e, &["get_weather", "lookup", ""]),
            "arguments": arguments(e, 10),
        }}),
    };
    if let Value::Object(map) = &mut call {
        let reserved = ["index", "id", "type", "function", "custom", "mcp"];
        map.extend(vendor_keys(e, &reserved, 1));
    }
    call
}

fn message(e: &mut impl Entropy) -> Value {
    let mut m = Map::new();
    m.insert("role".into(), json!("assistant"));
    match e.below(5) {
        0 => {}
        1 => {
            let parts: Vec<Value> = (0..e.below(4))
                .map(|_| {
                    if e.chance(2, 3) {
                        json!({"type": "text", "text": text(e, 3)})
                    } else {
                        json!({"type": "thinking", "thinking": text(e, 3)})
                    }
                })
                .collect();
            m.insert("content".into(), Value::Array(parts));
        }
        _ => {
            m.insert("content".into(), json!(text(e, 12)));
        }
    }
    if e.chance(1, 5) {
        m.insert("refusal".into(), json!(text(e, 6)));
    }
    match e.below(4) {
        0 => {
            let calls: Vec<Value> = (0..e.below(4) as usize).map(|i| tool_call(e, i)).collect();
            m.insert("tool_calls".into(), Value::Array(calls));
        }
        1 if e.chance(1, 3) => {
            m.insert("tool_calls".into(), json!([]));
        }
        _ => {}
    }
    if e.chance(1, 5) {
        let notes: Vec<Value> = (0..e.below(3))
            .map(|i| {
                if e.chance(2, 3) {
                    json!({"type": "url_citation", "url_citation": {
                        "start_index": i, "end_index": i + 4, "url": "https://e.x/", "title": text(e, 2)}})
                } else {
                    json!({"type": "file_citation", "file_id": format!("f{i}")})
                }
            })
            .collect();
        m.insert("annotations".into(), Value::Array(notes));
    }
    if e.chance(1, 8) {
        m.insert(
            "function_call".into(),
            json!({"name": pick_str(e, &["f", "old_style"]), "arguments": arguments(e, 6)}),
        );
    }
    if e.chance(1, 6) {
        m.insert(
            "audio".into(),
            json!({"id": if e.chance(1, 6) { String::new() } else { format!("audio_{}", e.below(99)) },
                   "expires_at": e.below(2_000_000_000), "data": text(e, 8), "transcript": text(e, 8)}),
        );
    }
    let reserved = [
        "role",
        "content",
        "refusal",
        "tool_calls",
        "annotations",
        "function_call",
        "audio",
    ];
    m.extend(vendor_keys(e, &reserved, 0));
    Value::Object(m)
}

fn usage(e: &mut impl Entropy) -> Value {
    let (p, c) = (e.below(5000), e.below(5000));
    let mut u = json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c});
    if e.chance(1, 2) {
        u["completion_tokens_details"] = json!({"reasoning_tokens": e.below(100)});
    }
    if e.chance(1, 3) {
        u["queue_time"] = json!(0.25);
    }
    u
}

fn moderation_outcome(e: &mut impl Entropy) -> Value {
    match e.below(3) {
        0 => json!({"type": "moderation_results", "model": "omni-moderation-latest", "results": [{
            "type": "moderation_result", "model": "omni", "flagged": e.chance(1, 2),
            "categories": {"hate": false}, "category_scores": {"hate": 0.125},
            "category_applied_input_types": {"hate": ["text"]}}]}),
        1 => json!({"type": "error", "code": "timeout", "message": text(e, 3)}),
        _ => json!({"type": "pending"}),
    }
}

/// A whole chat completion, as the JSON of a non-streamed answer.
pub fn completion(e: &mut impl Entropy) -> Value {
    let mut c = Map::new();
    c.insert(
        "id".into(),
        json!(if e.chance(1, 8) {
            String::new()
        } else {
            format!("chatcmpl-{}", e.below(1 << 20))
        }),
    );
    c.insert("object".into(), json!("chat.completion"));
    c.insert(
        "created".into(),
        json!(if e.chance(1, 8) {
            0
        } else {
            1_741_569_952 + e.below(1000)
        }),
    );
    c.insert(
        "model".into(),
        json!(pick_str(e, &["gpt-4o-mini", "llama3", ""])),
    );
    let n = e.below(4);
    let mut index = 0u64;
    let mut choices = Vec::new();
    for _ in 0..n {
        let mut choice = Map::new();
        choice.insert("index".into(), json!(index));
        index += 1 + if e.chance(1, 4) { e.below(3) } else { 0 };
        choice.insert("message".into(), message(e));
        if e.chance(5, 6) {
            choice.insert(
                "finish_reason".into(),
                json!(pick_str(
                    e,
                    &[
                        "stop",
                        "length",
                        "tool_calls",
                        "content_filter",
                        "eos_token"
                    ]
                )),
            );
        }
        if e.chance(1, 4) {
            let mut lp = Map::new();
            if e.chance(3, 4) {
                lp.insert(
                    "content".into(),
                    Value::Array((0..e.below(5)).map(|_| token(e)).collect()),
                );
            }
            if e.chance(1, 4) {
                lp.insert(
                    "refusal".into(),
                    Value::Array((0..e.below(3)).map(|_| token(e)).collect()),
                );
            }
            choice.insert("logprobs".into(), Value::Object(lp));
        }
        let reserved = ["index", "message", "delta", "finish_reason", "logprobs"];
        choice.extend(vendor_keys(e, &reserved, 0));
        choices.push(Value::Object(choice));
    }
    c.insert("choices".into(), Value::Array(choices));
    if e.chance(2, 3) {
        c.insert("usage".into(), usage(e));
    }
    if e.chance(1, 3) {
        c.insert(
            "service_tier".into(),
            json!(pick_str(e, &["default", "flex", "priority", "on_demand"])),
        );
    }
    if e.chance(1, 3) {
        c.insert(
            "system_fingerprint".into(),
            json!(pick_str(e, &["fp_1", ""])),
        );
    }
    if e.chance(1, 6) {
        let mut m = Map::new();
        if e.chance(3, 4) {
            m.insert("input".into(), moderation_outcome(e));
        }
        if e.chance(3, 4) {
            m.insert("output".into(), moderation_outcome(e));
        }
        if e.chance(1, 4) {
            m.insert("policy".into(), json!({"id": "p1"}));
        }
        c.insert("moderation".into(), Value::Object(m));
    }
    if e.chance(1, 6) {
        c.insert("metadata".into(), json!({"user": text(e, 2), "run": "7"}));
    }
    let reserved = [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
        "metadata",
        "moderation",
        "obfuscation",
        "error",
    ];
    c.extend(vendor_keys(e, &reserved, 0));
    Value::Object(c)
}

/// One choice's events: (delta, the choice's other keys), in order.
type Events = Vec<(Map<String, Value>, Map<String, Value>)>;

fn put(events: &mut Events, delta: bool, key: &str, pieces: Vec<Option<Value>>) {
    for (event, piece) in events.iter_mut().zip(pieces) {
        if let Some(piece) = piece {
            let map = if delta { &mut event.0 } else { &mut event.1 };
            map.insert(key.to_owned(), piece);
        }
    }
}

/// A string split over the carriers of `k` events; `null` in a few others.
fn text_pieces(s: &str, k: usize, e: &mut impl Entropy) -> Vec<Option<Value>> {
    let mut out = vec![None; k];
    let c = carriers(k, e);
    for (&i, piece) in c.iter().zip(split_str(s, c.len(), e)) {
        out[i] = Some(Value::String(piece));
    }
    for slot in out.iter_mut() {
        if slot.is_none() && e.chance(1, 8) {
            *slot = Some(Value::Null);
        }
    }
    out
}

/// The fragments of one tool call, in order.
fn call_fragments(call: &Value, e: &mut impl Entropy) -> Vec<Map<String, Value>> {
    let f = 1 + e.pick(3);
    let mut frags: Vec<Map<String, Value>> = vec![Map::new(); f];
    let kind = call["type"].as_str().unwrap_or("function").to_owned();
    let repeat = e.chance(1, 4);
    for (j, frag) in frags.iter_mut().enumerate() {
        if j == 0 || repeat {
            if let Some(id) = call.get("id") {
                frag.insert("id".into(), id.clone());
            }
            if kind != "function" || e.chance(1, 2) {
                frag.insert("type".into(), json!(kind));
            }
        }
    }
    let body = match kind.as_str() {
        "function" => Some(("function", "arguments")),
        "custom" => Some(("custom", "input")),
        _ => None,
    };
    if let Some((key, text_key)) = body {
        let name = call[key]["name"].clone();
        let pieces = split_str(call[key][text_key].as_str().unwrap_or(""), f, e);
        for (j, (frag, piece)) in frags.iter_mut().zip(pieces).enumerate() {
            let mut b = Map::new();
            if j == 0 || repeat {
                b.insert("name".into(), name.clone());
            }
            if !piece.is_empty() || j == 0 || e.chance(1, 2) {
                b.insert(text_key.into(), json!(piece));
            }
            frag.insert(key.into(), Value::Object(b));
        }
    }
    if let Value::Object(map) = call {
        for (key, value) in map {
            if ["id", "type", "function", "custom"].contains(&key.as_str()) {
                continue;
            }
            let pieces = split_fragment(value, f, e);
            for (frag, piece) in frags.iter_mut().zip(pieces) {
                if let Some(piece) = piece {
                    frag.insert(key.clone(), piece);
                }
            }
        }
    }
    frags
}

fn choice_events(choice: &Value, e: &mut impl Entropy) -> Events {
    let k = 1 + e.pick(6);
    let mut events: Events = vec![(Map::new(), Map::new()); k];
    let message = &choice["message"];
    match e.below(3) {
        0 => events[0].0.insert("role".into(), json!("assistant")),
        1 => {
            for ev in events.iter_mut() {
                ev.0.insert("role".into(), json!("assistant"));
            }
            None
        }
        _ => None, // never sent: an answer is the assistant's
    };
    if let Some(content) = message.get("content") {
        let pieces = match content {
            Value::String(s) => text_pieces(s, k, e),
            Value::Array(parts) => {
                let mut out = vec![None; k];
                let c = carriers(k, e);
                for (&i, run) in c.iter().zip(split_vec(parts, c.len(), e)) {
                    out[i] = Some(Value::Array(run));
                }
                out
            }
            _ => vec![None; k],
        };
        put(&mut events, true, "content", pieces);
    }
    if let Some(Value::String(s)) = message.get("refusal") {
        put(&mut events, true, "refusal", text_pieces(s, k, e));
    }
    if let Some(Value::Array(notes)) = message.get("annotations") {
        let mut out = vec![None; k];
        let c = carriers(k, e);
        for (&i, run) in c.iter().zip(split_vec(notes, c.len(), e)) {
            out[i] = Some(Value::Array(run));
        }
        put(&mut events, true, "annotations", out);
    }
    if let Some(fc) = message.get("function_call") {
        let c = carriers(k, e);
        let pieces = split_str(fc["arguments"].as_str().unwrap_or(""), c.len(), e);
        for (j, (&i, piece)) in c.iter().zip(pieces).enumerate() {
            let mut b = json!({"arguments": piece});
            if j == 0 {
                b["name"] = fc["name"].clone();
            }
            events[i].0.insert("function_call".into(), b);
        }
    }
    if let Some(audio) = message.get("audio") {
        let c = carriers(k, e);
        let data = split_str(audio["data"].as_str().unwrap_or(""), c.len(), e);
        let transcript = split_str(audio["transcript"].as_str().unwrap_or(""), c.len(), e);
        let last = c.len() - 1;
        for (j, ((&i, d), t)) in c.iter().zip(data).zip(transcript).enumerate() {
            let mut b = Map::new();
            if j == 0 {
                b.insert("id".into(), audio["id"].clone());
            }
            if !d.is_empty() || e.chance(1, 2) {
                b.insert("data".into(), json!(d));
            }
            if !t.is_empty() || e.chance(1, 2) {
                b.insert("transcript".into(), json!(t));
            }
            if j == last {
                b.insert("expires_at".into(), audio["expires_at"].clone());
            } else if e.chance(1, 4) {
                b.insert("expires_at".into(), json!(e.below(100)));
            }
            events[i].0.insert("audio".into(), Value::Object(b));
        }
    }
    match message.get("tool_calls") {
        Some(Value::Array(calls)) => {
            let ids: Vec<&str> = calls.iter().filter_map(|c| c["id"].as_str()).collect();
            let unique = ids.len() == calls.len()
                && ids.iter().all(|id| !id.is_empty())
                && ids.iter().enumerate().all(|(i, id)| !ids[..i].contains(id));
            let by_index = !unique || e.chance(1, 2);
            // Each event's fragments, in order.
            let mut per_event: Vec<Vec<Value>> = vec![Vec::new(); k];
            if by_index {
                // Interleaved: each call's fragments in order over nondecreasing events,
                // calls mixed within an event.
                for (i, call) in calls.iter().enumerate() {
                    let frags = call_fragments(call, e);
                    let mut at: Vec<usize> = frags.iter().map(|_| e.pick(k)).collect();
                    at.sort_unstable();
                    for (mut frag, ev) in frags.into_iter().zip(at) {
                        frag.insert("index".into(), json!(i));
                        let slot = &mut per_event[ev];
                        // Before or after other calls' fragments, after this call's own.
                        let own_last = slot
                            .iter()
                            .rposition(|f| f["index"] == json!(i))
                            .map_or(0, |p| p + 1);
                        let pos = own_last + e.pick(slot.len() - own_last + 1);
                        slot.insert(pos, Value::Object(frag));
                    }
                }
            } else {
                // No index (or Bedrock's -1): matched by id, continuation in order.
                let mut all: Vec<Value> = Vec::new();
                for call in calls {
                    for (j, mut frag) in call_fragments(call, e).into_iter().enumerate() {
                        if j > 0 && e.chance(1, 2) {
                            frag.remove("id");
                        }
                        if e.chance(1, 4) {
                            frag.insert("index".into(), json!(-1));
                        }
                        all.push(Value::Object(frag));
                    }
                }
                let mut at: Vec<usize> = all.iter().map(|_| e.pick(k)).collect();
                at.sort_unstable();
                for (frag, ev) in all.into_iter().zip(at) {
                    per_event[ev].push(frag);
                }
            }
            // Every event may say `tool_calls: []` (an empty array is a whole-answer
            // `tool_calls: []` too) or `null`.
            let mut any = false;
            for (ev, frags) in events.iter_mut().zip(per_event) {
                if !frags.is_empty() {
                    any = true;
                    ev.0.insert("tool_calls".into(), Value::Array(frags));
                } else if e.chance(1, 4) {
                    any = true;
                    ev.0.insert("tool_calls".into(), json!([]));
                } else if e.chance(1, 8) {
                    ev.0.insert("tool_calls".into(), Value::Null);
                }
            }
            if !any {
                events[e.pick(k)].0.insert("tool_calls".into(), json!([]));
            }
        }
        _ => {
            // No tool calls: only `null` may appear (an empty array would make one).
            for ev in events.iter_mut() {
                if e.chance(1, 8) {
                    ev.0.insert("tool_calls".into(), Value::Null);
                }
            }
        }
    }
    if let Value::Object(m) = message {
        let typed = [
            "role",
            "content",
            "refusal",
            "tool_calls",
            "annotations",
            "function_call",
            "audio",
        ];
        for (key, value) in m {
            if !typed.contains(&key.as_str()) {
                let pieces = split_fragment(value, k, e);
                put(&mut events, true, key, pieces);
            }
        }
    }
    if let Some(lp) = choice.get("logprobs").filter(|v| !v.is_null()) {
        let pieces = split_fragment(lp, k, e);
        put(&mut events, false, "logprobs", pieces);
    }
    if let Some(reason) = choice.get("finish_reason") {
        events[k - 1]
            .1
            .insert("finish_reason".into(), reason.clone());
    }
    for ev in events.iter_mut().take(k - 1) {
        if e.chance(1, 3) {
            ev.1.insert("finish_reason".into(), Value::Null);
        }
    }
    if let Value::Object(m) = choice {
        for (key, value) in m {
            if !["index", "message", "finish_reason", "logprobs"].contains(&key.as_str()) {
                let pieces = split_meta(value, k, e);
                put(&mut events, false, key, pieces);
            }
        }
    }
    events
}

/// The chunks of a stream of `whole`, as JSON values.
pub fn chunks(whole: &Value, e: &mut impl Entropy) -> Vec<Value> {
    let choices = whole["choices"].as_array().cloned().unwrap_or_default();
    let mut pending: Vec<(Value, std::collections::VecDeque<_>)> = choices
        .iter()
        .map(|c| (c["index"].clone(), choice_events(c, e).into()))
        .collect();
    let mut chunk_choices: Vec<Vec<Value>> = Vec::new();
    while pending.iter().any(|(_, ev)| !ev.is_empty()) {
        let mut this = Vec::new();
        let live: Vec<usize> = (0..pending.len())
            .filter(|&i| !pending[i].1.is_empty())
            .collect();
        let mut chosen: Vec<usize> = live.iter().copied().filter(|_| e.chance(1, 2)).collect();
        if chosen.is_empty() {
            chosen.push(live[e.pick(live.len())]);
        }
        if e.chance(1, 2) {
            chosen.reverse();
        }
        for i in chosen {
            let (index, events) = &mut pending[i];
            let Some((delta, outer)) = events.pop_front() else {
                continue;
            };
            let mut choice = outer;
            choice.insert("index".into(), index.clone());
            if !delta.is_empty() || e.chance(3, 4) {
                choice.insert("delta".into(), Value::Object(delta));
            }
            this.push(Value::Object(choice));
        }
        chunk_choices.push(this);
    }
    // A usage-only chunk at the end, as OpenAI sends with include_usage.
    if chunk_choices.is_empty() || e.chance(1, 3) {
        chunk_choices.push(Vec::new());
    }
    let n = chunk_choices.len();
    let mut out: Vec<Map<String, Value>> = vec![Map::new(); n];
    // Azure's first chunk needs a second one that carries the real values.
    let azure_first = n > 1 && e.chance(1, 4);
    let every = e.chance(1, 2);
    for (i, chunk) in out.iter_mut().enumerate() {
        chunk.insert("object".into(), json!("chat.completion.chunk"));
        for key in [
            "id",
            "model",
            "created",
            "system_fingerprint",
            "service_tier",
        ] {
            let Some(v) = whole.get(key) else { continue };
            if i == 0 && azure_first && key != "service_tier" && key != "system_fingerprint" {
                // Azure's first chunk: `"id": ""`, `"created": 0`.
                chunk.insert(
                    key.into(),
                    if key == "created" {
                        json!(0)
                    } else {
                        json!("")
                    },
                );
            } else if every || i == usize::from(azure_first) {
                chunk.insert(key.into(), v.clone());
            }
        }
        if e.chance(1, 5) {
            chunk.insert("obfuscation".into(), json!(text(e, 2)));
        }
    }
    if let Some(usage) = whole.get("usage") {
        for chunk in out.iter_mut().take(n - 1) {
            if e.chance(1, 4) {
                // vLLM's continuous usage: running totals, the last one counts.
                chunk.insert(
                    "usage".into(),
                    json!({"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}),
                );
            } else if e.chance(1, 4) {
                chunk.insert("usage".into(), Value::Null);
            }
        }
        out[n - 1].insert("usage".into(), usage.clone());
    }
    if let Some(moderation) = whole.get("moderation") {
        let mut parts: Vec<Map<String, Value>> = vec![Map::new(); n];
        for side in ["input", "output"] {
            if let Some(v) = moderation.get(side) {
                let at = e.pick(n);
                if at > 0 && e.chance(1, 3) {
                    parts[e.pick(at)].insert(side.into(), json!({"type": "pending"}));
                }
                parts[at].insert(side.into(), v.clone());
            }
        }
        if let Some(policy) = moderation.get("policy") {
            for (part, piece) in parts.iter_mut().zip(split_meta(policy, n, e)) {
                if let Some(piece) = piece {
                    part.insert("policy".into(), piece);
                }
            }
        }
        let at = e.pick(n);
        parts[at].insert("_carrier".into(), Value::Null);
        for (chunk, mut part) in out.iter_mut().zip(parts) {
            if part.remove("_carrier").is_some() || !part.is_empty() {
                chunk.insert("moderation".into(), Value::Object(part));
            }
        }
    }
    if let Value::Object(map) = whole {
        let typed = [
            "id",
            "object",
            "created",
            "model",
            "choices",
            "usage",
            "service_tier",
            "system_fingerprint",
            "moderation",
        ];
        for (key, value) in map {
            if !typed.contains(&key.as_str()) {
                for (chunk, piece) in out.iter_mut().zip(split_meta(value, n, e)) {
                    if let Some(piece) = piece {
                        chunk.insert(key.clone(), piece);
                    }
                }
            }
        }
    }
    out.into_iter()
        .zip(chunk_choices)
        .map(|(mut chunk, choices)| {
            if !choices.is_empty() || e.chance(2, 3) {
                chunk.insert("choices".into(), Value::Array(choices));
            }
            Value::Object(chunk)
        })
        .collect()
}

/// The chunks as a server-sent-event body ending in `data: [DONE]`, with LF or CRLF line
/// ends, keep-alive comments and `data:` with or without its space.
pub fn sse(chunks: &[Value], e: &mut impl Entropy) -> Vec<u8> {
    let eol = if e.chance(1, 4) { "\r\n" } else { "\n" };
    let mut out = String::new();
    for chunk in chunks {
        if e.chance(1, 6) {
            out.push_str(": keep-alive");
            out.push_str(eol);
            out.push_str(eol);
        }
        out.push_str(if e.chance(1, 5) { "data:" } else { "data: " });
        out.push_str(&chunk.to_string());
        out.push_str(eol);
        out.push_str(eol);
    }
    out.push_str("data: [DONE]");
    out.push_str(eol);
    out.push_str(eol);
    out.into_bytes()
}

/// A reader that hands out its bytes in random-sized reads (1 to 64 bytes, sometimes more).
pub struct Pieces {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
}

impl Pieces {
    pub fn new(data: Vec<u8>, e: &mut impl Entropy) -> Self {
        let sizes = (0..64)
            .map(|_| {
                if e.chance(1, 8) {
                    1 + e.pick(4096)
                } else {
                    1 + e.pick(64)
                }
            })
            .collect();
        Pieces {
            data,
            pos: 0,
            sizes,
        }
    }
}

impl std::io::Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.pos % self.sizes.len()];
        let end = (self.pos + size.min(buf.len())).min(self.data.len());
        let n = end - self.pos;
        buf[..n].copy_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(n)
    }
}
