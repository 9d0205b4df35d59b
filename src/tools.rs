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

use std::any::Any;
use std::fmt;
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::api::ChatApi;
use crate::error::{Error, ParseError};
use crate::options::RequestOptions;
use crate::stream::StreamEvent;
use crate::types::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage, ChatCompletionTool,
    CompletionUsage, CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason,
    FunctionObject,
};

/// The rounds a run makes by default: see [`ToolRunOptions::max_rounds`].
pub const DEFAULT_MAX_ROUNDS: u32 = 10;

/// A tool's body with its types erased: the arguments' JSON text in, the tool message's
/// content or what went wrong out.
type Run<'a> = dyn Fn(&str) -> Result<String, Failure> + Send + Sync + 'a;

/// A tool the model may call: its definition (name, description, parameters schema) and
/// the Rust function that runs it.
///
/// `'a` is what the function borrows: a tool without a [`timeout`](Tool::timeout) runs
/// on a scoped thread and may borrow from the caller's stack; a tool with one must own
/// what it uses (`Tool<'static>`), because a thread that overruns is left running.
pub struct Tool<'a> {
    definition: FunctionObject,
    run: Arc<Run<'a>>,
    /// The longest the runner waits for the tool, for `Tool<'static>` only.
    timeout: Option<(Duration, Arc<Run<'static>>)>,
}

impl<'a> Tool<'a> {
    /// A function tool: `name` and `description` for the model, and `function`, called
    /// with the arguments decoded into `Args`.
    ///
    /// What `function` returns goes to the model as the tool message: a string as it is,
    /// any other value as its JSON text. An `Err` goes as `error: <message>`, so the
    /// model can react. Arguments that do not decode into `Args` never reach `function`:
    /// the model is told what was wrong (empty arguments decode as `{}`).
    ///
    /// The parameters schema is not derived from `Args`: give it with
    /// [`parameters`](Tool::parameters), or, with the `schemars` feature, use
    /// `Tool::typed`, which generates a strict one.
    pub fn function<Args, R, E>(
        name: impl Into<String>,
        description: impl Into<String>,
        function: impl Fn(Args) -> Result<R, E> + Send + Sync + 'a,
    ) -> Tool<'a>
    where
        Args: DeserializeOwned,
        R: Serialize,
        E: fmt::Display,
    {
        let run = move |arguments: &str| -> Result<String, Failure> {
            let text = match arguments.trim() {
                "" => "{}",
                text => text,
            };
            let args: Args =
                serde_json::from_str(text).map_err(|e| Failure::Arguments(e.to_string()))?;
            match function(args) {
                Ok(output) => tool_text(&output),
                Err(e) => Err(Failure::Tool(e.to_string())),
            }
        };
        Tool {
            definition: FunctionObject::new(name).description(description),
            run: Arc::new(run),
            timeout: None,
        }
    }

    /// A function tool whose parameters schema is generated from `Args` (feature
    /// `schemars`) and made strict ([`schema::strict_schema_for`](crate::schema::strict_schema_for)),
    /// with `strict: true`; otherwise as [`function`](Tool::function).
    ///
    /// A constructor of its own rather than a schema that `function` would generate when
    /// the feature is on: a feature that added a bound to `function` would break code that
    /// compiles without it as soon as another crate in the build turned it on.
    ///
    /// # Errors
    ///
    /// A [`SchemaError`](crate::schema::SchemaError) naming the field of `Args` strict mode
    /// cannot express.
    ///
    /// ```
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    /// use sync_openai::tools::Tool;
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Search {
    ///     query: String,
    ///     limit: Option<u32>,
    /// }
    ///
    /// let tool = Tool::typed("search", "Search the docs", |s: Search| Ok::<_, String>(s.query))?;
    /// let function = serde_json::to_value(tool.definition())?["function"].clone();
    /// assert_eq!(function["strict"], true);
    /// assert_eq!(function["parameters"]["required"], serde_json::json!(["limit", "query"]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "schemars")]
    pub fn typed<Args, R, E>(
        name: impl Into<String>,
        description: impl Into<String>,
        function: impl Fn(Args) -> Result<R, E> + Send + Sync + 'a,
    ) -> Result<Tool<'a>, crate::schema::SchemaError>
    where
        Args: DeserializeOwned + schemars::JsonSchema,
        R: Serialize,
        E: fmt::Display,
    {
        let schema = crate::schema::strict_schema_for::<Args>()?;
        Ok(Tool::function(name, description, function)
            .parameters(schema)
            .strict(true))
    }

    /// The JSON Schema of the arguments, as the model should produce them. Defaults to
    /// none (the model sees a function without parameters).
    pub fn parameters(mut self, schema: Value) -> Tool<'a> {
        self.definition.parameters = Some(schema);
        self
    }

    /// Asks the model to follow the parameters schema exactly (OpenAI's strict mode: every
    /// object needs `additionalProperties: false` and all its properties required).
    /// Defaults to unset (the server's default, not strict).
    pub fn strict(mut self, strict: bool) -> Tool<'a> {
        self.definition.strict = Some(strict);
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// The definition sent to the model in the request's `tools`.
    pub fn definition(&self) -> ChatCompletionTool {
        ChatCompletionTool::from(self.definition.clone())
    }
}

impl Tool<'static> {
    /// The longest a round waits for this tool. A tool that overruns becomes a tool
    /// message saying it timed out, and the run goes on.
    ///
    /// A thread cannot be stopped from outside, so the tool is not stopped: it runs on a
    /// thread of its own (not a scoped one, which the round would have to wait for) that
    /// is left to finish, its result dropped. That is why only a tool that owns what it
    /// uses (`Tool<'static>`) can have a timeout. Defaults to none: the round waits for
    /// the tool however long it takes.
    pub fn timeout(mut self, timeout: Duration) -> Tool<'static> {
        self.timeout = Some((timeout, Arc::clone(&self.run)));
        self
    }
}

impl fmt::Debug for Tool<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("definition", &self.definition)
            .field("timeout", &self.timeout.as_ref().map(|(t, _)| t))
            .finish_non_exhaustive()
    }
}

/// What a tool's output becomes as a tool message: a string as it is, a value as JSON.
fn tool_text(output: &impl Serialize) -> Result<String, Failure> {
    match serde_json::to_value(output) {
        Ok(Value::String(text)) => Ok(text),
        Ok(value) => Ok(value.to_string()),
        Err(e) => Err(Failure::Tool(format!("its result is not JSON: {e}"))),
    }
}

/// Why a tool gave no result.
#[derive(Debug)]
enum Failure {
    Arguments(String),
    Tool(String),
}

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

/// One run: the client, the tools, the options and, streamed, the event sink.
struct Runner<'r, 't, 'h> {
    api: &'r ChatApi,
    tools: &'r [Tool<'t>],
    options: ToolRunOptions<'h>,
    sink: Option<&'r mut dyn FnMut(ToolEvent)>,
    usage: CompletionUsage,
    deadline: Option<Instant>,
}

impl<'r, 't, 'h> Runner<'r, 't, 'h> {
    fn new(
        api: &'r ChatApi,
        tools: &'r [Tool<'t>],
        options: ToolRunOptions<'h>,
        sink: Option<&'r mut dyn FnMut(ToolEvent)>,
    ) -> Self {
        let deadline = api
            .config()
            .total_timeout
            .and_then(|t| Instant::now().checked_add(t));
        Runner {
            api,
            tools,
            options,
            sink,
            usage: CompletionUsage::default(),
            deadline,
        }
    }

    fn run(mut self, mut request: CreateChatCompletionRequest) -> Result<ToolRun, ToolRunError> {
        self.add_definitions(&mut request);
        let max_rounds = self.options.max_rounds.unwrap_or(DEFAULT_MAX_ROUNDS).max(1);
        let mut round = 0;
        loop {
            round += 1;
            let completion = match self.call(round, &request) {
                Ok(completion) => completion,
                Err(error) => return Err(self.failed(error, request, round)),
            };
            add_usage(&mut self.usage, completion.usage.as_ref());
            let Some(choice) = completion.choices.first() else {
                let error = Error::Parse(Box::new(ParseError::NoChoices));
                return Err(self.failed(error, request, round));
            };
            let calls = choice.message.tool_calls().to_vec();
            let finish_reason = choice.finish_reason.clone();
            request
                .messages
                .push(choice.message.clone().into_request_message());
            let outcomes = self.run_calls(round, &calls);
            for outcome in &outcomes {
                let message = ChatCompletionRequestMessage::tool(&outcome.id, &*outcome.content);
                request.messages.push(message);
            }
            self.emit(ToolEvent::RoundDone {
                round,
                finish_reason,
            });
            let flow = self.hook(round, &completion, &outcomes, &request.messages);
            let end = if calls.is_empty() {
                RunEnd::Answered
            } else if flow.is_break() {
                RunEnd::Stopped
            } else if round >= max_rounds {
                RunEnd::RoundLimit
            } else {
                continue;
            };
            return Ok(ToolRun {
                end,
                completion,
                messages: request.messages,
                usage: self.usage,
                rounds: round,
            });
        }
    }

    /// Adds the tools' definitions to the request, but for names it already has.
    fn add_definitions(&self, request: &mut CreateChatCompletionRequest) {
        let defined = request.tools.get_or_insert_with(Vec::new);
        for tool in self.tools {
            let known = defined.iter().any(|d| match d {
                ChatCompletionTool::Function { function } => function.name == tool.name(),
                ChatCompletionTool::Custom { custom } => custom.name == tool.name(),
            });
            if !known {
                defined.push(tool.definition());
            }
        }
    }

    fn failed(
        self,
        error: Error,
        request: CreateChatCompletionRequest,
        round: u32,
    ) -> ToolRunError {
        ToolRunError(Box::new(Failed {
            error,
            messages: request.messages,
            usage: self.usage,
            round,
        }))
    }

    fn emit(&mut self, event: ToolEvent) {
        if let Some(sink) = &mut self.sink {
            sink(event);
        }
    }

    fn hook(
        &mut self,
        round: u32,
        completion: &CreateChatCompletionResponse,
        tools: &[ToolOutcome],
        messages: &[ChatCompletionRequestMessage],
    ) -> ControlFlow<()> {
        let Some(hook) = &mut self.options.on_round else {
            return ControlFlow::Continue(());
        };
        hook(&RoundInfo {
            round,
            completion,
            tools,
            messages,
            usage: &self.usage,
        })
    }

    /// One call to the model, within the run's deadline.
    fn call(
        &mut self,
        round: u32,
        request: &CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, Error> {
        let scoped;
        let api = match self.deadline {
            None => self.api,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(crate::send::total_timeout_passed(None));
                }
                scoped = self
                    .api
                    .with_options(RequestOptions::new().total_timeout(left));
                &scoped
            }
        };
        let Some(sink) = &mut self.sink else {
            return api.create_chat_completion(request);
        };
        let mut events = api.create_chat_completion_stream(request)?.events();
        for event in events.by_ref() {
            sink(ToolEvent::Stream {
                round,
                event: event?,
            });
        }
        Ok(events.into_completion())
    }

    /// Runs a round's tool calls and returns their outcomes in call order.
    fn run_calls(
        &mut self,
        round: u32,
        calls: &[ChatCompletionMessageToolCalls],
    ) -> Vec<ToolOutcome> {
        let jobs: Vec<Job<'_, 't>> = calls
            .iter()
            .enumerate()
            .filter_map(|(index, call)| Job::new(index, call, self.tools))
            .collect();
        for job in &jobs {
            self.emit(ToolEvent::ToolStarted {
                round,
                index: job.index,
                id: job.id.clone(),
                name: job.name.clone(),
            });
        }
        let mut outcomes: Vec<Option<ToolOutcome>> = vec![None; jobs.len()];
        let mut on_done = |at: usize, outcome: ToolOutcome| {
            if let Some(sink) = &mut self.sink {
                sink(ToolEvent::ToolFinished {
                    round,
                    outcome: outcome.clone(),
                });
            }
            if let Some(slot) = outcomes.get_mut(at) {
                *slot = Some(outcome);
            }
        };
        let names: Vec<&str> = self.tools.iter().map(Tool::name).collect();
        run_jobs(&jobs, &names, &mut on_done);
        outcomes.into_iter().flatten().collect()
    }
}

/// One tool call to run: the call, and the tool it names if the run has it.
struct Job<'j, 't> {
    index: usize,
    id: String,
    name: String,
    arguments: String,
    tool: Option<&'j Tool<'t>>,
}

impl<'j, 't> Job<'j, 't> {
    /// The job of a call; `None` for a call of an unknown type without an id, which no
    /// tool message can answer.
    fn new(
        index: usize,
        call: &ChatCompletionMessageToolCalls,
        tools: &'j [Tool<'t>],
    ) -> Option<Self> {
        let (name, arguments) = match call {
            ChatCompletionMessageToolCalls::Function(f) => {
                (f.function.name.clone(), f.function.arguments.clone())
            }
            ChatCompletionMessageToolCalls::Custom(c) => {
                (c.custom.name.clone(), c.custom.input.clone())
            }
            _ => (String::new(), String::new()),
        };
        let function = call.as_function().is_some();
        Some(Job {
            index,
            id: call.id()?.to_owned(),
            tool: tools.iter().find(|t| function && t.name() == name),
            name,
            arguments,
        })
    }

    /// The outcome of a tool that returned (or failed to).
    fn outcome(&self, result: Result<String, Failure>) -> ToolOutcome {
        let name = &self.name;
        let (status, content) = match result {
            Ok(content) => (ToolStatus::Ok, content),
            Err(Failure::Tool(e)) => (ToolStatus::Failed, format!("error: {e}")),
            Err(Failure::Arguments(e)) => (
                ToolStatus::BadArguments,
                format!("error: the arguments do not fit tool `{name}`: {e}; call it again with arguments that match its parameters"),
            ),
        };
        self.with(status, content)
    }

    fn with(&self, status: ToolStatus, content: String) -> ToolOutcome {
        ToolOutcome {
            index: self.index,
            id: self.id.clone(),
            name: self.name.clone(),
            arguments: self.arguments.clone(),
            status,
            content,
        }
    }

    fn unknown(&self, tools: &[&str]) -> ToolOutcome {
        let content = format!(
            "error: there is no tool named `{}`; the tools are: {}",
            self.name,
            tools.join(", ")
        );
        self.with(ToolStatus::Unknown, content)
    }

    fn panicked(&self, payload: &(dyn Any + Send)) -> ToolOutcome {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        let content = format!("error: tool `{}` crashed: {what}", self.name);
        self.with(ToolStatus::Panicked, content)
    }

    fn timed_out(&self, after: Duration) -> ToolOutcome {
        let content = format!(
            "error: tool `{}` did not answer within {after:?} and was abandoned",
            self.name
        );
        self.with(ToolStatus::TimedOut, content)
    }

    /// Runs the tool on this thread, catching a panic.
    fn run_here(&self, run: &Run<'_>) -> ToolOutcome {
        // `AssertUnwindSafe`: the tool is `Fn + Sync`, so what it shares is behind `Sync`
        // types (locks poison, atomics stay whole); the arguments are ours and dropped.
        match panic::catch_unwind(AssertUnwindSafe(|| run(&self.arguments))) {
            Ok(result) => self.outcome(result),
            Err(payload) => self.panicked(payload.as_ref()),
        }
    }
}

/// Runs the jobs at the same time and reports each outcome (by the job's place) as it
/// comes; returns when every job has an outcome.
fn run_jobs(jobs: &[Job<'_, '_>], names: &[&str], on_done: &mut dyn FnMut(usize, ToolOutcome)) {
    let (tx, rx) = mpsc::channel::<(usize, ToolOutcome)>();
    thread::scope(|scope| {
        // The jobs that run elsewhere, with the time each may take.
        let mut waiting: Vec<(usize, Option<Instant>)> = Vec::new();
        for (at, job) in jobs.iter().enumerate() {
            let Some(tool) = job.tool else {
                on_done(at, job.unknown(names));
                continue;
            };
            let started = match &tool.timeout {
                Some((timeout, run)) => spawn_detached(job, Arc::clone(run), tx.clone(), at)
                    .map(|()| Instant::now().checked_add(*timeout)),
                None if jobs.len() == 1 => Err(()),
                None => {
                    let tx = tx.clone();
                    let run = &tool.run;
                    thread::Builder::new()
                        .name(format!("tool {}", job.name))
                        .spawn_scoped(scope, move || {
                            let _ = tx.send((at, job.run_here(run.as_ref())));
                        })
                        .map(|_| None)
                        .map_err(|_| ())
                }
            };
            match started {
                Ok(until) => waiting.push((at, until)),
                // No thread (or a single call): it runs here.
                Err(()) => on_done(at, job.run_here(tool.run.as_ref())),
            }
        }
        // Only the running jobs hold a sender now: if every one is gone, none will answer.
        drop(tx);
        wait_for(jobs, &mut waiting, &rx, on_done);
    });
}

/// Starts a tool with a timeout on a thread of its own, which may outlive the round.
fn spawn_detached(
    job: &Job<'_, '_>,
    run: Arc<Run<'static>>,
    tx: mpsc::Sender<(usize, ToolOutcome)>,
    at: usize,
) -> Result<(), ()> {
    let job = Job {
        index: job.index,
        id: job.id.clone(),
        name: job.name.clone(),
        arguments: job.arguments.clone(),
        tool: None,
    };
    thread::Builder::new()
        .name(format!("tool {}", job.name))
        .spawn(move || {
            // The round may have stopped waiting: then nobody receives this.
            let _ = tx.send((at, job.run_here(run.as_ref())));
        })
        .map(|_| ())
        .map_err(|_| ())
}

/// Receives the outcomes of the jobs running elsewhere; a job past its time gets a
/// timed-out outcome instead.
fn wait_for(
    jobs: &[Job<'_, '_>],
    waiting: &mut Vec<(usize, Option<Instant>)>,
    rx: &mpsc::Receiver<(usize, ToolOutcome)>,
    on_done: &mut dyn FnMut(usize, ToolOutcome),
) {
    while !waiting.is_empty() {
        let next = waiting.iter().filter_map(|(_, until)| *until).min();
        let received = match next {
            Some(until) => rx.recv_timeout(until.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((at, outcome)) => {
                if let Some(i) = waiting.iter().position(|(a, _)| *a == at) {
                    waiting.swap_remove(i);
                    on_done(at, outcome);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                waiting.retain(|&(at, until)| match (until, jobs.get(at)) {
                    (Some(until), Some(job)) if until <= now => {
                        let timeout = job.tool.and_then(|t| t.timeout.as_ref()).map(|(t, _)| *t);
                        on_done(at, job.timed_out(timeout.unwrap_or_default()));
                        false
                    }
                    _ => true,
                });
            }
            // Every job's thread is gone without an answer (a panic that escaped
            // `catch_unwind`): each still waiting gets an error rather than no message.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                for (at, _) in waiting.drain(..) {
                    if let Some(job) = jobs.get(at) {
                        let content =
                            format!("error: tool `{}` stopped without a result", job.name);
                        on_done(at, job.with(ToolStatus::Panicked, content));
                    }
                }
            }
        }
    }
}

/// Adds a round's usage to the sum.
fn add_usage(sum: &mut CompletionUsage, usage: Option<&CompletionUsage>) {
    let Some(usage) = usage else {
        return;
    };
    sum.prompt_tokens = sum.prompt_tokens.saturating_add(usage.prompt_tokens);
    sum.completion_tokens = sum
        .completion_tokens
        .saturating_add(usage.completion_tokens);
    sum.total_tokens = sum.total_tokens.saturating_add(usage.total_tokens);
    if let Some(reasoning) = usage.reasoning_tokens() {
        let details = sum
            .completion_tokens_details
            .get_or_insert_with(Default::default);
        let total = details
            .reasoning_tokens
            .unwrap_or(0)
            .saturating_add(reasoning);
        details.reasoning_tokens = Some(total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_become_tool_text() {
        assert_eq!(tool_text(&"plain").ok().as_deref(), Some("plain"));
        assert_eq!(
            tool_text(&serde_json::json!({"a": 1})).ok().as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(tool_text(&3).ok().as_deref(), Some("3"));
    }

    #[test]
    fn usage_sums_over_rounds() {
        let mut sum = CompletionUsage::default();
        let round: CompletionUsage = serde_json::from_str(
            r#"{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"completion_tokens_details":{"reasoning_tokens":2}}"#,
        )
        .unwrap_or_default();
        add_usage(&mut sum, Some(&round));
        add_usage(&mut sum, None);
        add_usage(&mut sum, Some(&round));
        assert_eq!(
            (sum.prompt_tokens, sum.completion_tokens, sum.total_tokens),
            (20, 10, 30)
        );
        assert_eq!(sum.reasoning_tokens(), Some(4));
    }

    #[test]
    fn tools_and_errors_are_send() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Tool<'static>>();
        send_sync::<ToolRunError>();
        send_sync::<ToolRun>();
    }
}
