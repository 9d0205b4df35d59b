//! The accumulation property on fuzzer-chosen completions and splits.
//!
//! The input's bytes drive the generator of `tests/common/completions.rs` (shared with the
//! property test `tests/accumulate.rs`): they choose a whole completion, how a server
//! streams it (where text is cut, which chunks carry which keys, interleaving, repeats,
//! `null`s), the SSE framing and the read sizes. Streamed and collected, it must equal the
//! completion sent whole; folded chunk by chunk through a `ChunkAccumulator`, too.
#![no_main]

#[path = "../../tests/common/completions.rs"]
mod completions;

use completions::{chunks, completion, sse, Bytes, Pieces};
use libfuzzer_sys::fuzz_target;
use sync_openai::types::{CreateChatCompletionResponse, CreateChatCompletionStreamResponse};
use sync_openai::stream::ChunkAccumulator;
use sync_openai::ChatCompletionStream;

fuzz_target!(|data: &[u8]| {
    let mut e = Bytes { data };
    let whole = completion(&mut e);
    let want: CreateChatCompletionResponse =
        serde_json::from_str(&whole.to_string()).expect("a generated completion decodes");
    let stream = chunks(&whole, &mut e);
    let body = sse(&stream, &mut e);
    let got = ChatCompletionStream::from_reader(Pieces::new(body, &mut e))
        .collect_completion()
        .unwrap_or_else(|err| panic!("{err}\nwhole: {whole}"));
    assert_eq!(got, want, "whole: {whole}");

    let mut acc = ChunkAccumulator::new();
    for chunk in &stream {
        let chunk: CreateChatCompletionStreamResponse =
            serde_json::from_value(chunk.clone()).expect("a generated chunk decodes");
        acc.add(chunk).expect("a generated chunk is within the limits");
    }
    assert_eq!(acc.finish(), want, "folded by hand; whole: {whole}");
});
