//! A round's tool calls run at the same time: each on a scoped thread, a tool with a
//! timeout on a detached one left to finish when it overruns; every call gets one outcome,
//! whatever the tool does (error, panic, timeout, undecodable arguments, unknown name).

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use super::tool::{Failure, Run};
use super::{Tool, ToolOutcome, ToolStatus};
use crate::types::ChatCompletionMessageToolCalls;

/// One tool call to run: the call, and the tool it names if the run has it.
pub(super) struct Job<'j, 't> {
    pub(super) index: usize,
    pub(super) id: String,
    pub(super) name: String,
    arguments: String,
    tool: Option<&'j Tool<'t>>,
}

impl<'j, 't> Job<'j, 't> {
    /// The job of a call; `None` for a call of an unknown type without an id, which no
    /// tool message can answer.
    pub(super) fn new(
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
pub(super) fn run_jobs(
    jobs: &[Job<'_, '_>],
    names: &[&str],
    on_done: &mut dyn FnMut(usize, ToolOutcome),
) {
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
