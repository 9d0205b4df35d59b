//! The loop of a tool run: a call to the model per round (plain, or streamed with its
//! events handed to the caller), the round's tool calls run, their messages added, until
//! the model answers, the round limit, or the hook stops it.

use std::ops::ControlFlow;
use std::time::Instant;

use super::calls::{run_jobs, Job};
use super::{
    Failed, RoundInfo, RunEnd, Tool, ToolEvent, ToolOutcome, ToolRun, ToolRunError, ToolRunOptions,
    DEFAULT_MAX_ROUNDS,
};
use crate::api::ChatApi;
use crate::error::{Error, ParseError};
use crate::options::RequestOptions;
use crate::types::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage, ChatCompletionTool,
    CompletionUsage, CreateChatCompletionRequest, CreateChatCompletionResponse,
};

/// One run: the client, the tools, the options and, streamed, the event sink.
pub(super) struct Runner<'r, 't, 'h> {
    api: &'r ChatApi,
    tools: &'r [Tool<'t>],
    options: ToolRunOptions<'h>,
    sink: Option<&'r mut dyn FnMut(ToolEvent)>,
    usage: CompletionUsage,
    deadline: Option<Instant>,
}

impl<'r, 't, 'h> Runner<'r, 't, 'h> {
    pub(super) fn new(
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

    pub(super) fn run(
        mut self,
        mut request: CreateChatCompletionRequest,
    ) -> Result<ToolRun, ToolRunError> {
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

/// Adds a round's usage to the sum.
pub(super) fn add_usage(sum: &mut CompletionUsage, usage: Option<&CompletionUsage>) {
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
