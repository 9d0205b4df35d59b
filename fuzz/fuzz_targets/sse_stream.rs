//! Arbitrary bytes as the body of a streamed chat completion.
//!
//! Input layout: byte 0 holds flags (low 4 bits: how many slice-size bytes follow; bit 4:
//! end with a connection reset instead of a clean end of stream; bit 5: a total limit of
//! `STREAM_LIMIT` bytes), then the slice sizes, then the SSE body.
//!
//! The stream's event limit is `EVENT_LIMIT` (4 KiB), so inputs of `-max_len=16384` (what
//! `scripts/fuzz.sh` passes) cross it, the line limit just above it, and the stream limit;
//! the 128-choice limit takes about 4.5 KiB of chunks and the 1024-tool-call limit about
//! 12 KiB, so those are within reach too.
//!
//! The body is read three times: in the fuzzer's slices (a size of 0 is an `Interrupted`
//! error, which must be retried), in one piece, and in slices again through
//! `collect_completion`. Beyond "no panic, always ends", the runs must agree: how a body is
//! split across reads must not change what the stream yields.
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use sync_openai::types::CreateChatCompletionStreamResponse;
use sync_openai::stream::ChunkAccumulator;
use sync_openai::{ChatCompletionStream, Error};

/// The largest event the fuzzed streams accept (the client's default is 32 MiB).
const EVENT_LIMIT: u64 = 4096;
/// The total limit of a stream with flag bit 5.
const STREAM_LIMIT: u64 = 8192;

/// A stream over `reader` with the fuzzing limits.
fn stream(reader: Sliced, limited: bool) -> ChatCompletionStream {
    let s = ChatCompletionStream::from_reader(reader).max_event_bytes(EVENT_LIMIT);
    if limited {
        s.max_stream_bytes(STREAM_LIMIT)
    } else {
        s
    }
}

/// Plays a body back in fixed slice sizes, cycled.
struct Sliced {
    body: Vec<u8>,
    pos: usize,
    sizes: Vec<u8>,
    turn: usize,
    interrupted_last: bool,
    reset_at_end: bool,
    reset_sent: bool,
}

impl Sliced {
    fn new(body: &[u8], sizes: &[u8], reset_at_end: bool) -> Sliced {
        Sliced {
            body: body.to_vec(),
            pos: 0,
            sizes: sizes.to_vec(),
            turn: 0,
            interrupted_last: false,
            reset_at_end,
            reset_sent: false,
        }
    }
}

impl Read for Sliced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.body.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            if self.reset_at_end && !self.reset_sent {
                self.reset_sent = true;
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "fuzz: connection reset",
                ));
            }
            return Ok(0);
        }
        let size = match self.sizes.len() {
            0 => usize::MAX,
            n => usize::from(self.sizes[self.turn % n]),
        };
        self.turn += 1;
        // Never two interruptions in a row, so a reader of all zeros still makes progress.
        if size == 0 && !self.interrupted_last {
            self.interrupted_last = true;
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "fuzz: interrupted",
            ));
        }
        self.interrupted_last = false;
        let n = size.max(1).min(buf.len()).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

type Item = Result<CreateChatCompletionStreamResponse, String>;

/// Iterates a stream to its end; errors as their `Display`, after formatting both ways.
fn drain(mut stream: ChatCompletionStream) -> Vec<Item> {
    let _ = format!("{stream:?} {:?} {:?}", stream.status(), stream.request_id());
    let mut items = Vec::new();
    for item in stream.by_ref() {
        let item = item.map_err(|e| describe(&e));
        let failed = item.is_err();
        items.push(item);
        if failed {
            break;
        }
    }
    // Fused: after an error or the end, nothing more.
    assert!(stream.next().is_none(), "the stream yielded after its end");
    assert!(stream.next().is_none(), "the stream yielded after its end");
    items
}

fn describe(e: &Error) -> String {
    let shown = e.to_string();
    assert!(!shown.is_empty(), "empty Display for {e:?}");
    let _ = format!("{e:?} {:?} {:?}", std::error::Error::source(e), e.status());
    let _ = (
        e.is_retryable(),
        e.is_timeout(),
        e.request_id(),
        e.retry_after(),
    );
    if let Error::Stream(s) = e {
        let _ = (
            s.kind(),
            s.message(),
            s.error_type(),
            s.code(),
            s.param(),
            s.snippet(),
        );
    }
    shown
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let n_sizes = usize::from(flags & 0x0f).min(rest.len());
    let (sizes, body) = rest.split_at(n_sizes);
    let reset = flags & 0x10 != 0;
    let limited = flags & 0x20 != 0;

    let sliced = drain(stream(Sliced::new(body, sizes, reset), limited));
    let whole = drain(stream(Sliced::new(body, &[], reset), limited));
    assert_eq!(sliced, whole, "the stream depends on how reads are split");
    let errors = sliced.iter().filter(|i| i.is_err()).count();
    assert!(errors <= 1 && (errors == 0 || sliced.last().is_some_and(|i| i.is_err())));

    // Folding the chunks by hand: the accumulator may refuse one (its limits), which ends
    // the fold as an error, as it ends collect_completion and content_deltas.
    let mut acc = ChunkAccumulator::new();
    let mut folded: Vec<Item> = Vec::new();
    let mut any = false;
    for item in &sliced {
        match item {
            Ok(chunk) => match acc.add(chunk.clone()) {
                Ok(()) => {
                    any = true;
                    folded.push(Ok(chunk.clone()));
                }
                Err(e) => {
                    folded.push(Err(describe(&e)));
                    break;
                }
            },
            Err(e) => folded.push(Err(e.clone())),
        }
    }
    let _ = format!("{acc:?}");
    let expected = match folded.last() {
        Some(Err(e)) => Err(e.clone()),
        _ => Ok(()),
    };

    // collect_completion on a second copy agrees with the fold, and a failed one keeps
    // exactly what came before its error.
    let collected = stream(Sliced::new(body, sizes, reset), limited).collect_completion();
    let so_far = acc.finish();
    match (collected, expected) {
        (Ok(completion), Ok(())) => {
            assert_eq!(completion, so_far);
            let json = serde_json::to_vec(&completion).expect("a collected completion serializes");
            let _: sync_openai::types::CreateChatCompletionResponse =
                serde_json::from_slice(&json).expect("a collected completion decodes again");
        }
        (Err(got), Err(want)) => {
            assert_eq!(describe(&got), want);
            if let Error::Stream(e) = &got {
                let partial = e.partial_completion();
                assert_eq!(partial.is_some(), any, "{got:?}");
                if let Some(partial) = partial {
                    assert_eq!(*partial, so_far, "the partial completion is what came");
                }
            }
        }
        (got, want) => panic!("collect_completion gave {got:?}, the chunks gave {want:?}"),
    }

    // content_deltas: the non-empty text of choice 0, in order, then the error if any.
    let deltas: Vec<Result<String, String>> = stream(Sliced::new(body, &[], reset), limited)
        .content_deltas()
        .map(|r| r.map_err(|e| describe(&e)))
        .collect();
    let want: Vec<Result<String, String>> = folded
        .iter()
        .filter_map(|item| match item {
            Err(e) => Some(Err(e.clone())),
            Ok(chunk) => {
                let choice = chunk.choices.iter().find(|c| c.index == 0)?;
                let text = choice.delta.content.clone()?.into_string();
                (!text.is_empty()).then_some(Ok(text))
            }
        })
        .collect();
    assert_eq!(deltas, want);
});
