//! `<think>…</think>` at the start of a streamed answer's content, moved into the delta's
//! `reasoning_content` (the opt-in of `think_tags_as_reasoning`).
//!
//! DeepSeek-R1 and its distills, served by Ollama or llama.cpp with reasoning parsing off,
//! put their reasoning inline: `<think>\n…\n</think>\n\nThe answer`. [`ThinkTags`] rewrites
//! each chunk so that its text inside the tags is a `reasoning_content` string and the rest
//! stays `content`, whatever the chunk boundaries (a tag split over chunks is held back until
//! it is whole). Only a `<think>` that opens the content (after whitespace) counts; the
//! whitespace between `</think>` and the answer is dropped, as the servers that parse
//! reasoning themselves do. Content sent as an array of parts is left as it came.

use serde_json::Value;

use crate::types::{
    ChatCompletionStreamChoice, CreateChatCompletionStreamResponse, ResponseContent,
};
use crate::util::ByIndex;

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// The key the reasoning goes under, the one DeepSeek and vLLM use.
const REASONING: &str = "reasoning_content";

/// Where one choice's content is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing but whitespace yet: a `<think>` may still open it.
    #[default]
    Start,
    /// Inside the tags.
    Thinking,
    /// Just after `</think>`: whitespace before the answer is dropped.
    Closed,
    /// The answer.
    Answer,
}

/// The split of one choice's content.
#[derive(Debug, Default, Clone)]
struct Split {
    state: State,
    /// Text not yet given out: a possible start of a tag (or leading whitespace).
    held: String,
}

impl Split {
    /// Takes the next piece of content; returns `(reasoning, content)` that can be given
    /// out now.
    fn feed(&mut self, text: &str) -> (String, String) {
        let mut input = std::mem::take(&mut self.held);
        input.push_str(text);
        let (mut reasoning, mut content) = (String::new(), String::new());
        let mut rest = input.as_str();
        loop {
            match self.state {
                State::Start => {
                    let trimmed = rest.trim_start();
                    if let Some(after) = trimmed.strip_prefix(OPEN) {
                        self.state = State::Thinking;
                        rest = after;
                    } else if OPEN.starts_with(trimmed) {
                        self.held = rest.to_owned();
                        break;
                    } else {
                        self.state = State::Answer;
                    }
                }
                State::Thinking => match rest.find(CLOSE) {
                    Some(at) => {
                        reasoning.push_str(rest.get(..at).unwrap_or_default());
                        rest = rest.get(at + CLOSE.len()..).unwrap_or_default();
                        self.state = State::Closed;
                    }
                    None => {
                        let keep = partial_tag(rest, CLOSE);
                        let cut = rest.len() - keep;
                        reasoning.push_str(rest.get(..cut).unwrap_or_default());
                        self.held = rest.get(cut..).unwrap_or_default().to_owned();
                        break;
                    }
                },
                State::Closed => {
                    rest = rest.trim_start();
                    if rest.is_empty() {
                        break;
                    }
                    self.state = State::Answer;
                }
                State::Answer => {
                    content.push_str(rest);
                    break;
                }
            }
        }
        (reasoning, content)
    }

    /// What is held back, given out as what it would be if nothing more came.
    fn flush(&mut self) -> (String, String) {
        let held = std::mem::take(&mut self.held);
        match self.state {
            State::Start => (String::new(), held),
            State::Thinking => (held, String::new()),
            State::Closed | State::Answer => (String::new(), String::new()),
        }
    }
}

/// The length of the longest end of `text` that is a proper start of `tag`.
fn partial_tag(text: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&n| tag.get(..n).is_some_and(|start| text.ends_with(start)))
        .unwrap_or(0)
}

/// Rewrites the chunks of one stream, choice by choice; see the module docs.
#[derive(Debug, Default, Clone)]
pub(crate) struct ThinkTags {
    choices: ByIndex<Split>,
}

impl ThinkTags {
    /// Moves the reasoning of `chunk`'s text content into `reasoning_content`; a choice that
    /// finishes in this chunk gets what was held back for it.
    pub(crate) fn rewrite(&mut self, chunk: &mut CreateChatCompletionStreamResponse) {
        for choice in &mut chunk.choices {
            let Some(split) = self.choices.entry_or_default(choice.index) else {
                continue;
            };
            let text = match &choice.delta.content {
                Some(c) if c.parts().is_none() => Some(c.as_str().to_owned()),
                _ => None,
            };
            let (mut reasoning, mut content) = match &text {
                Some(text) => split.feed(text),
                None => (String::new(), String::new()),
            };
            if choice.finish_reason.is_some() {
                let (r, c) = split.flush();
                reasoning.push_str(&r);
                content.push_str(&c);
            }
            // Content that passes through whole stays as it came (`""` included).
            let unchanged =
                reasoning.is_empty() && text.map_or(content.is_empty(), |t| t == content);
            if !unchanged {
                put(choice, reasoning, content);
            }
        }
    }

    /// A chunk with what is still held back, for a stream that ended without a
    /// `finish_reason` for every choice; `None` when nothing is held.
    pub(crate) fn flush(&mut self) -> Option<CreateChatCompletionStreamResponse> {
        let mut chunk = CreateChatCompletionStreamResponse::default();
        for (index, split) in self.choices.iter_mut() {
            let (reasoning, content) = split.flush();
            if reasoning.is_empty() && content.is_empty() {
                continue;
            }
            let mut choice = ChatCompletionStreamChoice {
                index: *index,
                ..ChatCompletionStreamChoice::default()
            };
            put(&mut choice, reasoning, content);
            chunk.choices.push(choice);
        }
        (!chunk.choices.is_empty()).then_some(chunk)
    }
}

/// Sets a choice's text content to `content` (content sent as parts gets it added) and
/// adds `reasoning` to its `reasoning_content`.
fn put(choice: &mut ChatCompletionStreamChoice, reasoning: String, content: String) {
    let delta = &mut choice.delta;
    match &mut delta.content {
        Some(parts) if parts.parts().is_some() => {
            if !content.is_empty() {
                parts.push_str(&content);
            }
        }
        text => *text = (!content.is_empty()).then(|| ResponseContent::new(content)),
    }
    if reasoning.is_empty() {
        return;
    }
    match delta.extra.get_mut(REASONING) {
        Some(Value::String(sent)) => sent.push_str(&reasoning),
        _ => {
            delta
                .extra
                .insert(REASONING.to_owned(), Value::String(reasoning));
        }
    }
}

#[cfg(test)]
mod tests {
    // Tests assert on known-good fixtures; a panic is the failure report.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// Every way to cut `text` into three pieces gives the same split.
    fn split_all_ways(text: &str) -> (String, String) {
        let whole = {
            let mut s = Split::default();
            let (mut r, mut c) = s.feed(text);
            let (r2, c2) = s.flush();
            r.push_str(&r2);
            c.push_str(&c2);
            (r, c)
        };
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &a in &cuts {
            for &b in cuts.iter().filter(|&&b| b >= a) {
                let mut s = Split::default();
                let (mut r, mut c) = (String::new(), String::new());
                for piece in [&text[..a], &text[a..b], &text[b..]] {
                    let (r1, c1) = s.feed(piece);
                    r.push_str(&r1);
                    c.push_str(&c1);
                }
                let (r2, c2) = s.flush();
                r.push_str(&r2);
                c.push_str(&c2);
                assert_eq!(
                    (&r, &c),
                    (&whole.0, &whole.1),
                    "cut at {a}, {b} of {text:?}"
                );
            }
        }
        whole
    }

    #[test]
    fn think_tags_split_the_same_wherever_the_chunks_are_cut() {
        let cases = [
            (
                "<think>\n2+2 is 4\n</think>\n\nIt is 4.",
                "\n2+2 is 4\n",
                "It is 4.",
            ),
            ("  <think>a < b</think>yes", "a < b", "yes"),
            ("<think></think>\n\nok", "", "ok"),
            (
                "no tags, <think>later</think>",
                "",
                "no tags, <think>later</think>",
            ),
            ("<thinking>x", "", "<thinking>x"),
            (
                "<think>cut off mid-thought </thi",
                "cut off mid-thought </thi",
                "",
            ),
            ("<thi", "", "<thi"),
            ("  ", "", "  "),
            ("<think>é😀</think>ü", "é😀", "ü"),
        ];
        for (text, reasoning, content) in cases {
            let (r, c) = split_all_ways(text);
            assert_eq!((r.as_str(), c.as_str()), (reasoning, content), "{text:?}");
        }
    }
}
