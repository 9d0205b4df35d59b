//! The typed stream events: [`StreamEvent`] and the queue that makes them
//! ([`EventQueue`]), for [`ChatCompletionStream::events`](crate::stream::ChatCompletionStream::events).
//!
//! The events are the growth of what a [`ChunkAccumulator`] holds after each chunk, never a
//! second reading of the chunks: the concatenated deltas are what `collect_completion`
//! returns, by construction, whatever the accumulator's merge rules.

use std::collections::VecDeque;

use serde_json::Value;

use crate::accumulate::{ChoiceSoFar, ChunkAccumulator};
use crate::partial_json::parse_partial_json;
use crate::types::{CompletionUsage, FinishReason};
use crate::util::ByIndex;

/// One typed event of a streamed answer; see
/// [`ChatCompletionStream::events`](crate::stream::ChatCompletionStream::events).
///
/// `choice` is the choice's `index` (0 unless the request set `n`).
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamEvent {
    /// More text of the answer.
    ContentDelta {
        /// The choice.
        choice: u32,
        /// The new text.
        delta: String,
    },
    /// The answer's text is whole (the choice finished, or the stream ended).
    ContentDone {
        /// The choice.
        choice: u32,
        /// The whole text.
        content: String,
    },
    /// More text of a refusal.
    RefusalDelta {
        /// The choice.
        choice: u32,
        /// The new text.
        delta: String,
    },
    /// The refusal is whole.
    RefusalDone {
        /// The choice.
        choice: u32,
        /// The whole refusal.
        refusal: String,
    },
    /// More reasoning text (`reasoning_content` or `reasoning`, as servers send it).
    ReasoningDelta {
        /// The choice.
        choice: u32,
        /// The new text.
        delta: String,
    },
    /// More arguments of a tool call.
    ToolCallDelta(ToolCallDelta),
    /// A tool call is whole, its arguments parsed.
    ToolCallDone(ToolCallDone),
    /// The token usage the server reported (with `stream_options.include_usage`, or every
    /// chunk on servers that send running totals: the last one counts).
    Usage(CompletionUsage),
    /// A choice ended: once per choice, after its done events.
    Finished {
        /// The choice.
        choice: u32,
        /// Why it ended; `None` when the stream ended without saying (vLLM's `[DONE]`).
        finish_reason: Option<FinishReason>,
    },
}

/// More arguments of a tool call: [`StreamEvent::ToolCallDelta`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// The choice.
    pub choice: u32,
    /// The call's place among the choice's tool calls, in the order they first came: the
    /// same for every event of the call, and, for a server that numbers its calls in order
    /// (every known one), the call's place in the collected message's `tool_calls()`.
    pub index: usize,
    /// The call's id (empty until the server sent it).
    pub id: String,
    /// The tool's name (empty until the server sent it).
    pub name: String,
    /// The new piece of the arguments.
    pub delta: String,
    /// The arguments so far.
    pub arguments: String,
    /// The arguments so far no longer start with those of the call's previous delta: the
    /// accumulator replaced them (a gateway that sends a `{}` placeholder before the real
    /// arguments), and `delta` is the whole new text. Start the call's text over.
    pub replaced: bool,
}

impl ToolCallDelta {
    /// The arguments so far parsed as the JSON value they will become (an unfinished
    /// string, array or object closed where it stops), for progress displays; see
    /// [`parse_partial_json`](crate::stream::parse_partial_json). `None` when there is no value yet
    /// or the text is not JSON.
    pub fn partial_arguments(&self) -> Option<Value> {
        parse_partial_json(&self.arguments).ok().flatten()
    }
}

/// A whole tool call: [`StreamEvent::ToolCallDone`].
#[derive(Debug)]
#[non_exhaustive]
pub struct ToolCallDone {
    /// The choice.
    pub choice: u32,
    /// The call's place among the choice's tool calls, as in [`ToolCallDelta::index`].
    pub index: usize,
    /// The call's id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The whole arguments (a custom tool's input).
    pub arguments: String,
    /// Whether this is a custom tool call (free-text input) rather than a function call.
    pub custom: bool,
    /// The arguments parsed as JSON (empty arguments are `{}`, as in
    /// [`parse_arguments`](crate::types::ChatCompletionMessageToolCall::parse_arguments));
    /// a custom tool's input is a JSON string.
    pub parsed: Result<Value, serde_json::Error>,
}

/// The events still to hand out, and what each choice's events have said so far.
#[derive(Default)]
pub(crate) struct EventQueue {
    choices: ByIndex<ChoiceState>,
    pending: VecDeque<StreamEvent>,
}

/// What the events of one choice have said so far.
#[derive(Default)]
struct ChoiceState {
    content: Part,
    refusal: Part,
    reasoning: Part,
    /// The tool calls, by the order they first came.
    calls: Vec<CallPart>,
    finished: bool,
}

/// The bytes of a text the deltas have given, and whether its done event came.
#[derive(Default, Clone, Copy)]
struct Part {
    sent: usize,
    done: bool,
}

impl Part {
    /// The text added since the last call, if any.
    fn grow(&mut self, text: &str) -> Option<String> {
        let new = text.get(self.sent..).filter(|d| !d.is_empty())?;
        self.sent = text.len();
        Some(new.to_owned())
    }

    /// True the first time it is called.
    fn finish(&mut self) -> bool {
        !std::mem::replace(&mut self.done, true)
    }
}

/// The arguments of a tool call the deltas have given (which the accumulator may replace,
/// unlike text), and whether its done event came.
#[derive(Default, Clone)]
struct CallPart {
    sent: String,
    done: bool,
}

impl CallPart {
    /// The arguments added since the last call, and whether they replaced what came before.
    fn grow(&mut self, arguments: &str) -> Option<(String, bool)> {
        let grown = match arguments.strip_prefix(self.sent.as_str()) {
            Some("") => return None,
            Some(new) => (new.to_owned(), false),
            None => (arguments.to_owned(), true),
        };
        arguments.clone_into(&mut self.sent);
        Some(grown)
    }

    /// True the first time it is called.
    fn finish(&mut self) -> bool {
        !std::mem::replace(&mut self.done, true)
    }
}

impl EventQueue {
    /// The next event to hand out.
    pub(crate) fn pop(&mut self) -> Option<StreamEvent> {
        self.pending.pop_front()
    }

    /// Queues the events of a chunk that `acc` has just added: the chunk had the choices
    /// `indices`, and a usage when `usage` is set.
    pub(crate) fn after_chunk(&mut self, acc: &ChunkAccumulator, indices: &[u32], usage: bool) {
        for (i, &index) in indices.iter().enumerate() {
            if indices.get(..i).is_some_and(|seen| seen.contains(&index)) {
                continue;
            }
            let Some(so_far) = acc.choice_so_far(index) else {
                continue;
            };
            let Some(state) = self.choices.entry_or_default(index) else {
                continue;
            };
            grow(state, &so_far, index, &mut self.pending);
            if so_far.finish_reason.is_some() && !state.finished {
                finish(state, &so_far, index, &mut self.pending);
            }
        }
        if let Some(usage) = acc.usage().filter(|_| usage) {
            self.pending.push_back(StreamEvent::Usage(usage.clone()));
        }
    }

    /// The stream ended whole: every choice still open ends.
    pub(crate) fn at_end(&mut self, acc: &ChunkAccumulator) {
        for index in acc.choice_indices() {
            let Some(so_far) = acc.choice_so_far(index) else {
                continue;
            };
            let Some(state) = self.choices.entry_or_default(index) else {
                continue;
            };
            if !state.finished {
                finish(state, &so_far, index, &mut self.pending);
            }
        }
    }
}

/// The delta events of what a choice gained since its state was last updated.
fn grow(
    state: &mut ChoiceState,
    so_far: &ChoiceSoFar<'_>,
    choice: u32,
    out: &mut VecDeque<StreamEvent>,
) {
    if let Some(delta) = so_far.reasoning.and_then(|t| state.reasoning.grow(t)) {
        out.push_back(StreamEvent::ReasoningDelta { choice, delta });
    }
    if let Some(delta) = so_far.content.and_then(|t| state.content.grow(t)) {
        out.push_back(StreamEvent::ContentDelta { choice, delta });
    }
    if let Some(delta) = so_far.refusal.and_then(|t| state.refusal.grow(t)) {
        out.push_back(StreamEvent::RefusalDelta { choice, delta });
    }
    for call in &so_far.tool_calls {
        let slot = call.order;
        if state.calls.len() <= slot {
            state.calls.resize(slot + 1, CallPart::default());
        }
        let Some(part) = state.calls.get_mut(slot) else {
            continue;
        };
        if let Some((delta, replaced)) = part.grow(call.arguments) {
            out.push_back(StreamEvent::ToolCallDelta(ToolCallDelta {
                choice,
                index: call.order,
                id: call.id.to_owned(),
                name: call.name.to_owned(),
                delta,
                arguments: call.arguments.to_owned(),
                replaced,
            }));
        }
    }
}

/// The done events of a choice, then its `Finished`.
fn finish(
    state: &mut ChoiceState,
    so_far: &ChoiceSoFar<'_>,
    choice: u32,
    out: &mut VecDeque<StreamEvent>,
) {
    state.finished = true;
    if let Some(content) = so_far.content.filter(|_| state.content.finish()) {
        let content = content.to_owned();
        out.push_back(StreamEvent::ContentDone { choice, content });
    }
    if let Some(refusal) = so_far.refusal.filter(|_| state.refusal.finish()) {
        let refusal = refusal.to_owned();
        out.push_back(StreamEvent::RefusalDone { choice, refusal });
    }
    for call in &so_far.tool_calls {
        let slot = call.order;
        if state.calls.len() <= slot {
            state.calls.resize(slot + 1, CallPart::default());
        }
        if !state.calls.get_mut(slot).is_some_and(CallPart::finish) {
            continue;
        }
        let parsed = match (call.custom, call.arguments.trim()) {
            (true, _) => Ok(Value::String(call.arguments.to_owned())),
            (false, "") => Ok(Value::Object(serde_json::Map::new())),
            (false, text) => serde_json::from_str(text),
        };
        out.push_back(StreamEvent::ToolCallDone(ToolCallDone {
            choice,
            index: call.order,
            id: call.id.to_owned(),
            name: call.name.to_owned(),
            arguments: call.arguments.to_owned(),
            custom: call.custom,
            parsed,
        }));
    }
    let finish_reason = so_far.finish_reason.cloned();
    out.push_back(StreamEvent::Finished {
        choice,
        finish_reason,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_arguments_start_over() {
        let mut part = CallPart::default();
        assert_eq!(part.grow(""), None);
        assert_eq!(part.grow("{}"), Some(("{}".to_owned(), false)));
        assert_eq!(part.grow("{}"), None);
        // The accumulator replaced a `{}` placeholder with the real start.
        assert_eq!(part.grow("{\"a\""), Some(("{\"a\"".to_owned(), true)));
        assert_eq!(part.grow("{\"a\":1}"), Some((":1}".to_owned(), false)));
    }
}
