//! The unit tests of `stream` (lints relaxed on the `mod tests;` line).

use super::*;

use super::body::{completion_as_events, DataLines};

/// The random completions of the property test (`tests/accumulate.rs`), for the replay test.
#[path = "../../tests/common/completions.rs"]
mod completions;

/// A server that ignores `"stream": true` sends the whole answer as JSON: its replay as
/// a one-chunk stream accumulates to the same completion.
#[test]
fn json_replay_accumulates_to_the_whole_completion() {
    for case in 0..1000u64 {
        let mut e = completions::SplitMix(case);
        let whole = completions::completion(&mut e);
        let text = whole.to_string();
        let want: CreateChatCompletionResponse = serde_json::from_str(&text).unwrap();
        let events = completion_as_events(text.as_bytes()).unwrap();
        let got = ChatCompletionStream::from_reader(io::Cursor::new(events))
            .collect_completion()
            .unwrap();
        assert_eq!(got, want, "case {case}: {whole:#}");
    }
}

/// A reader producing `n` content chunks, then a finish chunk and `[DONE]`, without
/// ever holding the whole body.
struct Generated {
    n: usize,
    i: usize,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.pending.len() {
            self.pending.clear();
            self.pos = 0;
            if self.i < self.n {
                self.pending.extend_from_slice(
                    b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\n",
                );
            } else if self.i == self.n {
                self.pending.extend_from_slice(
                    b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                );
            } else {
                return Ok(0);
            }
            self.i += 1;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hands out a body one byte per read.
struct Drip(io::Cursor<Vec<u8>>);

impl Read for Drip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

/// Found by fuzzing: the stream limit used to count bytes read ahead, so whether an
/// event before the limit was yielded depended on the read sizes.
#[test]
fn the_stream_limit_does_not_depend_on_read_sizes() {
    let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ab\"}}]}\n\n";
    let body = event.repeat(50).into_bytes();
    for limit in [0, 1, 57, 58, 59, 500, 2900, 2950] {
        let items = |stream: ChatCompletionStream| -> Vec<String> {
            stream
                .max_stream_bytes(limit)
                .map(|i| i.map_or_else(|e| e.to_string(), |c| format!("{c:?}")))
                .collect()
        };
        let whole = items(ChatCompletionStream::from_reader(io::Cursor::new(
            body.clone(),
        )));
        let dripped = items(ChatCompletionStream::from_reader(Drip(io::Cursor::new(
            body.clone(),
        ))));
        assert_eq!(whole, dripped, "limit {limit}");
        let chunks = whole.iter().filter(|i| i.starts_with("CreateChat")).count();
        assert_eq!(
            chunks as u64,
            (limit / event.len() as u64).min(50),
            "limit {limit}"
        );
        if limit < body.len() as u64 {
            assert!(
                whole.last().unwrap().contains("max_stream_bytes"),
                "{whole:?}"
            );
        }
    }
}

/// Data bytes restart the idle timeout wherever the reads cut them; comments, blank
/// lines, empty `data:`, other fields and `data` lookalikes never do.
#[test]
fn only_data_bytes_count_as_data() {
    let cases: [(&[u8], bool); 10] = [
        (b": keep-alive\n\n", false),
        (b"data:\n\n", false),
        (b"data: \r\n\r\n", false),
        (b"event: ping\nid: 7\nretry: 10\n\n", false),
        (b"database: x\n", false),
        (b": data: x\n", false),
        (b"data: {}\n\n", true),
        (b"data:[DONE]\n\n", true),
        (b"\r\ndata: x", true),
        (b": ping\ndata: x\n", true),
    ];
    for (bytes, want) in cases {
        for cut in 0..=bytes.len() {
            let mut lines = DataLines::default();
            let (a, b) = bytes.split_at(cut);
            let got = lines.saw_data(a) | lines.saw_data(b);
            assert_eq!(
                got,
                want,
                "{:?} cut at {cut}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

/// A read that holds data skips to its last line: the state it ends in (which decides what the
/// next read's bytes are) is the one a byte at a time reaches, wherever the read ends.
#[test]
fn the_state_after_a_read_is_the_one_byte_steps_reach() {
    let stream: &[u8] =
        b"data: {\"a\":1}\n\n: ping\ndata: x\r\ndatabase: y\nevent: e\ndata:\n\ndata: z\r\r\ndat";
    for start in 0..stream.len() {
        for end in start..=stream.len() {
            let (before, read) = (&stream[..start], &stream[start..end]);
            let mut stepped = DataLines::default();
            let mut any = false;
            for &b in before {
                stepped.saw_data(&[b]);
            }
            let mut whole = stepped;
            for &b in read {
                any |= stepped.saw_data(&[b]);
            }
            assert_eq!(whole.saw_data(read), any, "{start}..{end}");
            assert_eq!(whole, stepped, "{start}..{end}");
        }
    }
}

#[test]
fn two_hundred_thousand_chunks_in_constant_memory() {
    let mut stream = ChatCompletionStream::from_reader(Generated {
        n: 200_000,
        i: 0,
        pending: Vec::new(),
        pos: 0,
    });
    let mut count = 0usize;
    let mut capacity_after_ten = 0;
    while let Some(chunk) = stream.next() {
        chunk.unwrap();
        count += 1;
        if count == 10 {
            capacity_after_ten = stream.events.buffered_capacity();
        }
    }
    assert_eq!(count, 200_001);
    assert!(capacity_after_ten > 0);
    assert_eq!(stream.events.buffered_capacity(), capacity_after_ten);
}
