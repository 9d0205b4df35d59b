//! The tool runner: [`ChatApi::run_tools`] and [`ChatApi::run_tools_streamed`] call the
//! model, run the tools it asks for, send their results back, and go on until it answers.
//!
//! Tools are Rust functions over a serde type ([`Tool::function`]). Every round goes
//! through the normal chat path, so retries, the response cache and the observer apply
//! to it as to a single call, and [`Config::total_timeout`](crate::Config::total_timeout)
//! is one deadline over the whole run. The calls of one round run at the same time, on
//! scoped threads; whatever goes wrong in a tool (an error, a panic, a timeout, arguments
//! that do not decode, an unknown name) becomes a tool message that tells the model, so
//! a round is never lost.
//!
//! # Examples
//!
//! ```
//! use serde::Deserialize;
//! use serde_json::json;
//! use sync_openai::testing::{MockServer, Reply};
//! use sync_openai::tools::{RunEnd, Tool, ToolRunOptions};
//! use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
//! use sync_openai::ChatApi;
//!
//! #[derive(Deserialize)]
//! struct City {
//!     city: String,
//! }
//!
//! # let server = MockServer::start();
//! # server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
//! # server.reply(Reply::text("It is 18°C in Paris."));
//! # let api = ChatApi::new(server.config());
//! let weather = Tool::function("get_weather", "The weather in a city", |args: City| {
//!     Ok::<_, String>(json!({"city": args.city, "celsius": 18}))
//! })
//! .parameters(json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}));
//!
//! let request = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Weather in Paris?")]);
//! let run = api.run_tools(request, &[weather], ToolRunOptions::new())?;
//! assert_eq!(run.end, RunEnd::Answered);
//! assert_eq!(run.answer(), Some("It is 18°C in Paris."));
//! assert_eq!(run.rounds, 2);
//! assert_eq!(run.messages.len(), 4); // user, assistant (the call), tool, assistant
//! # Ok::<(), sync_openai::tools::ToolRunError>(())
//! ```

// One job per file: the run's options, results and events (`mod.rs`); `Tool`, a
// definition and its function (`tool.rs`); the loop over rounds, plain or streamed
// (`runner.rs`); a round's calls run on threads, with their timeouts (`calls.rs`); the unit
// tests (`tests.rs`).

use std::fmt;
use std::ops::ControlFlow;

use crate::api::ChatApi;
use crate::error::Error;
use crate::stream::StreamEvent;
use crate::types::{
    ChatCompletionRequestMessage, CompletionUsage, CreateChatCompletionRequest,
    CreateChatCompletionResponse, FinishReason,
};

mod calls;
mod runner;
mod tool;

use runner::Runner;
pub use tool::Tool;

/// The rounds a run makes by default: see [`ToolRunOptions::max_rounds`].
pub const DEFAULT_MAX_ROUNDS: u32 = 10;

/// The settings of one tool run. [`new`](ToolRunOptions::new) gives the defaults.
///
/// `'h` is what the round hook borrows.
#[derive(Default)]
pub struct ToolRunOptions<'h> {
    max_rounds: Option<u32>,
    #[allow(clippy::type_complexity)] // A boxed hook; naming its type would add nothing.
    on_round: Option<Box<dyn FnMut(&RoundInfo<'_>) -> ControlFlow<()> + 'h>>,
}

impl<'h> ToolRunOptions<'h> {
    /// The defaults: at most [`DEFAULT_MAX_ROUNDS`] rounds, no hook.
    pub fn new() -> ToolRunOptions<'h> {
        ToolRunOptions::default()
    }

    /// The most calls to the model in one run. When the model still asks for tools in
    /// the last one, the tools run, and the run ends with [`RunEnd::RoundLimit`] and a
    /// transcript that ends with their results, ready to continue. Defaults to
    /// [`DEFAULT_MAX_ROUNDS`] (10); 0 counts as 1.
    pub fn max_rounds(mut self, rounds: u32) -> ToolRunOptions<'h> {
        self.max_rounds = Some(rounds);
        self
    }

    /// A hook called after each round, with what it did; returning
    /// `ControlFlow::Break(())` ends the run there, with [`RunEnd::Stopped`]. Defaults to
    /// none.
    pub fn on_round(
        mut self,
        hook: impl FnMut(&RoundInfo<'_>) -> ControlFlow<()> + 'h,
    ) -> ToolRunOptions<'h> {
        self.on_round = Some(Box::new(hook));
        self
    }
}

impl fmt::Debug for ToolRunOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRunOptions")
            .field("max_rounds", &self.max_rounds)
            .field("on_round", &self.on_round.is_some())
            .finish()
    }
}

/// What one round did, for the [`ToolRunOptions::on_round`] hook.
#[derive(Debug)]
#[non_exhaustive]
pub struct RoundInfo<'r> {
    /// The round, from 1.
    pub round: u32,
    /// The model's answer in this round.
    pub completion: &'r CreateChatCompletionResponse,
    /// The tools this round ran, in call order (empty when the model answered).
    pub tools: &'r [ToolOutcome],
    /// The transcript so far: the request's messages, then each round's assistant message
    /// and tool messages.
    pub messages: &'r [ChatCompletionRequestMessage],
    /// The usage of the rounds so far, summed.
    pub usage: &'r CompletionUsage,
}

/// How one tool call went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolOutcome {
    /// The call's place among the round's calls.
    pub index: usize,
    /// The call's id.
    pub id: String,
    /// The tool's name, as the model called it.
    pub name: String,
    /// The arguments, as the model sent them.
    pub arguments: String,
    /// How it went.
    pub status: ToolStatus,
    /// The tool message sent back to the model: the result, or `error: …` saying what
    /// went wrong.
    pub content: String,
}

impl fmt::Display for ToolOutcome {
    /// `name(arguments) -> content`, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}) -> {}", self.name, self.arguments, self.content)
    }
}

/// How a tool call went; see [`ToolOutcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolStatus {
    /// The tool returned a result.
    Ok,
    /// The tool returned an error.
    Failed,
    /// The arguments did not decode into the tool's argument type.
    BadArguments,
    /// The tool panicked (the panic was caught on its thread).
    Panicked,
    /// The tool did not return within its [`timeout`](Tool::timeout).
    TimedOut,
    /// The model called a tool the run does not have (or a custom tool).
    Unknown,
}

/// How a run ended; see [`ToolRun::end`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunEnd {
    /// The model answered without asking for tools.
    Answered,
    /// The model still asked for tools after [`ToolRunOptions::max_rounds`] rounds; the
    /// tools of the last round ran and their results end the transcript.
    RoundLimit,
    /// The [`on_round`](ToolRunOptions::on_round) hook stopped the run.
    Stopped,
}

/// A finished tool run: what [`ChatApi::run_tools`] returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolRun {
    /// How the run ended: check it before taking the last completion as the answer.
    pub end: RunEnd,
    /// The model's last answer.
    pub completion: CreateChatCompletionResponse,
    /// The whole conversation: the request's messages, each round's assistant message and
    /// tool messages, and the final assistant message. Put it in a new request to go on.
    pub messages: Vec<ChatCompletionRequestMessage>,
    /// The usage of all rounds, summed (prompt, completion and total tokens, and reasoning
    /// tokens where reported).
    pub usage: CompletionUsage,
    /// The calls made to the model.
    pub rounds: u32,
}

impl ToolRun {
    /// The model's final text: the content of the last completion's first choice, when
    /// the run ended with an answer ([`RunEnd::Answered`]).
    pub fn answer(&self) -> Option<&str> {
        match self.end {
            RunEnd::Answered => self.completion.choices.first()?.message.content.as_deref(),
            _ => None,
        }
    }
}

/// A run that failed: the error of the round that failed, with the transcript and usage
/// up to it, so nothing is lost. `?` turns it into the [`Error`].
#[derive(Debug)]
pub struct ToolRunError(Box<Failed>);

#[derive(Debug)]
struct Failed {
    error: Error,
    messages: Vec<ChatCompletionRequestMessage>,
    usage: CompletionUsage,
    round: u32,
}

impl ToolRunError {
    /// What went wrong: a call to the model that failed after its retries, the run's
    /// deadline, a stream error, or an answer without choices.
    pub fn error(&self) -> &Error {
        &self.0.error
    }

    /// The conversation up to the failed round (its request's messages), ready to try
    /// again.
    pub fn messages(&self) -> &[ChatCompletionRequestMessage] {
        &self.0.messages
    }

    /// The usage of the rounds that succeeded, summed.
    pub fn usage(&self) -> &CompletionUsage {
        &self.0.usage
    }

    /// The round that failed, from 1.
    pub fn round(&self) -> u32 {
        self.0.round
    }

    /// The error and the conversation, by value.
    pub fn into_parts(self) -> (Error, Vec<ChatCompletionRequestMessage>) {
        (self.0.error, self.0.messages)
    }
}

impl fmt::Display for ToolRunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "round {} of the tool run failed: {}",
            self.0.round, self.0.error
        )
    }
}

impl std::error::Error for ToolRunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.error)
    }
}

impl From<ToolRunError> for Error {
    fn from(e: ToolRunError) -> Error {
        e.0.error
    }
}

/// What the streamed runner reports as it goes; see [`ChatApi::run_tools_streamed`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ToolEvent {
    /// An event of the model's streamed answer.
    Stream {
        /// The round, from 1.
        round: u32,
        /// The event.
        event: StreamEvent,
    },
    /// A tool call started.
    ToolStarted {
        /// The round, from 1.
        round: u32,
        /// The call's place among the round's calls.
        index: usize,
        /// The call's id.
        id: String,
        /// The tool's name.
        name: String,
    },
    /// A tool call finished (in the order they finish; the results go back in call order).
    ToolFinished {
        /// The round, from 1.
        round: u32,
        /// How it went.
        outcome: ToolOutcome,
    },
    /// A round ended (its tools, if any, ran).
    RoundDone {
        /// The round, from 1.
        round: u32,
        /// Why the model's answer ended.
        finish_reason: Option<FinishReason>,
    },
}

impl ChatApi {
    /// Runs a conversation with tools: calls the model, runs the tools it asks for,
    /// sends their results, and goes on until it answers without tools, the round limit
    /// is reached, or the hook stops it.
    ///
    /// The tools' definitions are added to the request's `tools` (a tool of the same name
    /// already there is kept). Each round is a [`create_chat_completion`](Self::create_chat_completion)
    /// with the client's retries, cache and observer; with
    /// [`Config::total_timeout`](crate::Config::total_timeout) set, it is one deadline over
    /// the whole run (each round gets the time left). The calls of one round run at the
    /// same time, each on a scoped thread (a tool with a [`timeout`](Tool::timeout) on a
    /// thread of its own); their results go back in call order. A tool that fails,
    /// panics, times out, is unknown, or whose arguments do not decode becomes a tool
    /// message telling the model (see [`ToolStatus`]). Panics are caught with
    /// `catch_unwind` on the tool's thread (the panic message still goes to stderr through
    /// the panic hook); a tool's shared state is behind `Sync` types, which stay
    /// consistent or poisoned.
    ///
    /// # Errors
    ///
    /// A [`ToolRunError`] when a round's call fails (after its retries), the deadline
    /// passes, or the answer has no choices; it keeps the transcript and the usage so far.
    /// Reaching the round limit is not an error: see [`RunEnd`].
    pub fn run_tools(
        &self,
        request: CreateChatCompletionRequest,
        tools: &[Tool<'_>],
        options: ToolRunOptions<'_>,
    ) -> Result<ToolRun, ToolRunError> {
        Runner::new(self, tools, options, None).run(request)
    }

    /// Like [`run_tools`](Self::run_tools), with each round streamed: `on_event` sees the
    /// model's answer as it arrives ([`StreamEvent`]s), each tool start and finish, and
    /// each round's end.
    ///
    /// Each round is a [`create_chat_completion_stream`](Self::create_chat_completion_stream)
    /// read with [`events`](crate::ChatCompletionStream::events). For the usage to be
    /// summed, ask for it in the stream with `.stream_options(ChatCompletionStreamOptions::include_usage())`.
    ///
    /// # Errors
    ///
    /// As `run_tools`, and a [`ToolRunError`] for a stream that fails.
    pub fn run_tools_streamed(
        &self,
        request: CreateChatCompletionRequest,
        tools: &[Tool<'_>],
        options: ToolRunOptions<'_>,
        mut on_event: impl FnMut(ToolEvent),
    ) -> Result<ToolRun, ToolRunError> {
        Runner::new(self, tools, options, Some(&mut on_event)).run(request)
    }
}

// Tests may unwrap: a panic is the failure report.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
