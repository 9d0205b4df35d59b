//! Memory stays bounded on hostile bodies, measured with a counting allocator.
//!
//! Each test counts the bytes its own thread has allocated and not freed, and their
//! high-water mark above the start (the mock server's threads are not counted). The peaks
//! are printed (`cargo test --test memory -- --nocapture`) and checked against the documented
//! bounds: a response's decode (or its refusal) never holds more than a small multiple of the
//! body, a stream holds one event at a time.

// The counting global allocator below cannot be written without `unsafe`; the library itself
// stays `#![forbid(unsafe_code)]`.
#![allow(unsafe_code)]
// Tests may unwrap, index and panic: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Read;

use httpmock::prelude::*;
use sync_openai::error::{StreamErrorKind, TransportErrorKind};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse, MAX_CHOICES, MAX_TOOL_CALLS,
};
use sync_openai::{ChatCompletionStream, Error};

/// Counts the live bytes of threads that opted in.
///
/// A `#[global_allocator]` must implement the `unsafe` trait `GlobalAlloc`, and forwarding to
/// `System` calls its `unsafe` methods: there is no safe way to observe every allocation.
struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(grow: usize, shrink: usize) {
    // `try_with`: the allocator also runs while thread locals are torn down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let live = LIVE.with(|l| {
            let v = l.get() + grow as isize - shrink as isize;
            l.set(v);
            v
        });
        PEAK.with(|p| p.set(p.get().max(live)));
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments, so `System`'s
// guarantees pass through unchanged; the counters touch no allocator state.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), 0);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size(), 0);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size, layout.size());
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Runs `f` and returns its result and the peak bytes it held above what was live before.
fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    let peak = PEAK.with(Cell::get) - start;
    (r, usize::try_from(peak).unwrap_or(0))
}

const MIB: usize = 1 << 20;

fn mib(n: usize) -> String {
    format!("{:.2} MiB", n as f64 / MIB as f64)
}

/// `{"choices":[{},{},…]}` of `size` bytes: 32 MiB is about 11 million empty choices.
fn empty_choices(size: usize) -> Vec<u8> {
    let mut body = b"{\"choices\":[{}".to_vec();
    while body.len() + 5 < size {
        body.extend_from_slice(b",{}");
    }
    body.extend_from_slice(b"]}");
    body
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("m", vec![Message::user("hi")])
}

#[test]
fn empty_choices_body_of_32_mib_is_refused_in_little_memory() {
    let body = empty_choices(32 * MIB);
    // The decode alone (what the client does with the body it read).
    let (result, peak) =
        peak_of(|| serde_json::from_slice::<CreateChatCompletionResponse>(&body).map(|_| ()));
    let err = result.unwrap_err().to_string();
    assert!(err.contains("more than 128 choices"), "{err}");
    println!("32 MiB empty-choices body, decode: peak {}", mib(peak));
    assert!(peak < MIB, "{peak}");

    // End to end through a client: the body read (32 MiB) plus the refused decode.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "application/json")
            .body(body.clone());
    });
    let api = common::api(&server);
    let (result, peak) = peak_of(|| api.create_chat_completion(&request()).map(|_| ()));
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("more than 128 choices"), "{err}");
    println!(
        "32 MiB empty-choices body, create_chat_completion: peak {} ({:.2}x the body)",
        mib(peak),
        peak as f64 / body.len() as f64
    );
    assert!(peak < 3 * body.len(), "{peak}");

    // The same body as the JSON answer to a stream request: refused before the replay
    // builds a JSON tree of it.
    let (result, peak) = peak_of(|| api.create_chat_completion_stream(&request()).map(|_| ()));
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    println!(
        "32 MiB empty-choices body, create_chat_completion_stream: peak {} ({:.2}x the body)",
        mib(peak),
        peak as f64 / body.len() as f64
    );
    assert!(peak < 3 * body.len(), "{peak}");
}

/// A generated stream body, never held whole: `n` events made by `event(i)`.
struct Generated<F> {
    n: usize,
    i: usize,
    event: F,
    pending: Vec<u8>,
    pos: usize,
}

impl<F: FnMut(usize) -> String> Read for Generated<F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.i == self.n {
                return Ok(0);
            }
            self.pending = (self.event)(self.i).into_bytes();
            self.pos = 0;
            self.i += 1;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn generated<F: FnMut(usize) -> String + Send + 'static>(
    n: usize,
    event: F,
) -> ChatCompletionStream {
    ChatCompletionStream::from_reader(Generated {
        n,
        i: 0,
        event,
        pending: Vec::new(),
        pos: 0,
    })
}

#[test]
fn a_million_choice_indices_stop_at_the_limit() {
    let stream = generated(1_000_000, |i| {
        format!("data: {{\"choices\":[{{\"index\":{i},\"delta\":{{\"content\":\"x\"}}}}]}}\n\n")
    });
    let (result, peak) = peak_of(|| stream.collect_completion());
    let err = result.unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::TooLarge, "{err}");
    assert_eq!(e.partial_completion().unwrap().choices.len(), MAX_CHOICES);
    println!(
        "a million choice indices, collect_completion: peak {}",
        mib(peak)
    );
    assert!(peak < 2 * MIB, "{peak}");

    // The plain iterator stops there too.
    let stream = generated(1_000_000, |i| {
        format!("data: {{\"choices\":[{{\"index\":{i},\"delta\":{{}}}}]}}\n\n")
    });
    let (items, peak) = peak_of(|| stream.count());
    assert_eq!(items, MAX_CHOICES + 1);
    println!("a million choice indices, iterated: peak {}", mib(peak));
    assert!(peak < MIB, "{peak}");
}

#[test]
fn a_million_tool_call_indices_stop_at_the_limit() {
    let stream = generated(1_000_000, |i| {
        format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{i},\"id\":\"c{i}\",\"function\":{{\"name\":\"f\",\"arguments\":\"{{}}\"}}}}]}}}}]}}\n\n"
        )
    });
    let (result, peak) = peak_of(|| stream.collect_completion());
    let err = result.unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::TooLarge, "{err}");
    let partial = e.partial_completion().unwrap();
    assert_eq!(
        partial.choices[0].message.tool_calls().len(),
        MAX_TOOL_CALLS
    );
    println!(
        "a million tool-call indices, collect_completion: peak {}",
        mib(peak)
    );
    assert!(peak < 4 * MIB, "{peak}");
}

#[test]
fn a_2_mib_data_line_decodes() {
    let text = "x".repeat(2 * MIB);
    let line = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
    );
    let size = line.len();
    let stream = ChatCompletionStream::from_reader(std::io::Cursor::new(line.into_bytes()));
    let (result, peak) = peak_of(|| stream.collect_completion());
    let done = result.unwrap();
    assert_eq!(
        done.choices[0].message.content.as_deref().map(str::len),
        Some(2 * MIB)
    );
    println!(
        "a 2 MiB data line, collect_completion: peak {} ({:.2}x the line)",
        mib(peak),
        peak as f64 / size as f64
    );
    // The line buffer, the joined data and the decoded text: about three copies.
    assert!(peak < 5 * size, "{peak}");
}

#[test]
fn vendor_json_costs_a_bounded_multiple() {
    // The worst shape for a JSON tree: nested empty arrays in a vendor key, 3 bytes each.
    let mut body = b"{\"choices\":[],\"x\":[[]".to_vec();
    while body.len() < 4 * MIB {
        body.extend_from_slice(b",[]");
    }
    body.extend_from_slice(b"]}");
    let (result, peak) = peak_of(|| serde_json::from_slice::<CreateChatCompletionResponse>(&body));
    result.unwrap();
    println!(
        "4 MiB of nested empty vendor arrays, decode: peak {} ({:.1}x the body)",
        mib(peak),
        peak as f64 / body.len() as f64
    );
    // Documented in the crate docs: a JSON tree takes up to 32 bytes per 1 byte of `[],` once
    // its vector has grown (a `Value` is 32 bytes, the vector doubles).
    assert!(peak < 40 * body.len(), "{peak}");

    // Logprob entries: the largest typed element per byte.
    let mut body = b"{\"choices\":[{\"logprobs\":{\"content\":[{}".to_vec();
    while body.len() < 4 * MIB {
        body.extend_from_slice(b",{}");
    }
    body.extend_from_slice(b"]}}]}");
    let (result, peak) = peak_of(|| serde_json::from_slice::<CreateChatCompletionResponse>(&body));
    result.unwrap();
    println!(
        "4 MiB of empty logprob entries, decode: peak {} ({:.1}x the body)",
        mib(peak),
        peak as f64 / body.len() as f64
    );
    // An entry is 80 bytes for 3 bytes of `{},`; with the vector doubling, at most 54x.
    assert!(peak < 54 * body.len(), "{peak}");
}

#[test]
fn max_stream_bytes_bounds_a_stream() {
    let stream = generated(usize::MAX, |_| {
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n".to_owned()
    })
    .max_stream_bytes(64 * 1024);
    let (result, peak) = peak_of(|| stream.collect_completion());
    let err = result.unwrap_err();
    let Error::Stream(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), StreamErrorKind::TooLarge);
    assert!(err.to_string().contains("max_stream_bytes"), "{err}");
    let so_far = e.partial_completion().unwrap().choices[0]
        .message
        .content
        .clone();
    let so_far = so_far.unwrap().len();
    // About 64 KiB of 59-byte events, each one character of content.
    assert!((1000..1200).contains(&so_far), "{so_far}");
    println!(
        "an endless stream with max_stream_bytes 64 KiB: peak {}",
        mib(peak)
    );
    assert!(peak < MIB, "{peak}");

    // Through the client's Config.
    let server = MockServer::start();
    let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    server.mock(|when, then| {
        when.method(POST).path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(event.repeat(2000));
    });
    let api = sync_openai::ChatApi::new(common::config(&server).max_stream_bytes(10_000));
    let err = api
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::TooLarge),
        "{err:?}"
    );
}

#[test]
fn events_up_to_max_response_bytes_and_no_larger() {
    let text = "y".repeat(3000);
    let event = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
    );
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "text/event-stream")
            .body(event.clone());
    });
    let ok = sync_openai::ChatApi::new(common::config(&server).max_response_bytes(4000));
    let done = ok
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(
        done.choices[0].message.content.as_deref(),
        Some(text.as_str())
    );
    let small = sync_openai::ChatApi::new(common::config(&server).max_response_bytes(2000));
    let err = small
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(e) if e.kind() == StreamErrorKind::TooLarge),
        "{err:?}"
    );
    assert!(err.to_string().contains("max_response_bytes"), "{err}");
}

#[test]
fn json_answer_to_a_stream_request_over_the_limit_is_body_too_large() {
    let server = MockServer::start();
    let body = format!(
        r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{}"}},"finish_reason":"stop"}}]}}"#,
        "z".repeat(5000)
    );
    server.mock(|when, then| {
        when.method(POST).path("/v1/chat/completions");
        then.status(200)
            .header("content-type", "application/json")
            .body(body.clone());
    });
    let api = sync_openai::ChatApi::new(common::config(&server).max_response_bytes(4096));
    let err = api.create_chat_completion_stream(&request()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::BodyTooLarge);
    assert!(err.to_string().contains("max_response_bytes"), "{err}");
    // Within the limit, it is replayed whole.
    let api = sync_openai::ChatApi::new(common::config(&server).max_response_bytes(8192));
    let done = api
        .create_chat_completion_stream(&request())
        .unwrap()
        .collect_completion()
        .unwrap();
    assert_eq!(
        done.choices[0].message.content.as_deref().map(str::len),
        Some(5000)
    );
}
