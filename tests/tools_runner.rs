//! `ChatApi::run_tools` and `run_tools_streamed` against the test kit's mock server: the
//! rounds, tools really running at the same time, every tool failure fed back to the
//! model, the round limit, the hook, retries and one deadline over the whole run.

// Tests may unwrap, index and panic: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use sync_openai::stream::StreamEvent;
use sync_openai::testing::{MockServer, Reply};
use sync_openai::tools::{RunEnd, Tool, ToolEvent, ToolRunOptions, ToolStatus};
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, ChatCompletionStreamOptions,
    CreateChatCompletionRequest,
};
use sync_openai::{ChatApi, Error};

#[derive(Deserialize)]
struct City {
    city: String,
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Weather in Paris?")])
}

fn weather<'a>(calls: &'a AtomicUsize) -> Tool<'a> {
    Tool::function("get_weather", "The weather in a city", move |args: City| {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok::<_, String>(json!({"city": args.city, "celsius": 18}))
    })
    .parameters(
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

/// The tool messages of a recorded request body, as (tool_call_id, content).
fn tool_messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            let id = m["tool_call_id"].as_str().unwrap().to_owned();
            (id, m["content"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn one_round_sends_the_tool_definitions_and_returns_the_answer() {
    let server = MockServer::start();
    server.reply(Reply::text("Sunny."));
    let calls = AtomicUsize::new(0);
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[weather(&calls)], ToolRunOptions::new())
        .unwrap();
    assert_eq!(
        (run.end, run.rounds, run.answer()),
        (RunEnd::Answered, 1, Some("Sunny."))
    );
    assert_eq!(run.messages.len(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    let tools = &sent[0].json()["tools"];
    assert_eq!(tools[0]["function"]["name"], "get_weather");
    assert_eq!(
        tools[0]["function"]["parameters"]["required"],
        json!(["city"])
    );
    assert_eq!(run.usage, run.completion.usage.clone().unwrap());
}

#[test]
fn three_rounds_send_each_result_back_and_sum_the_usage() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Lyon"}"#)]));
    server.reply(Reply::text("Paris and Lyon are both mild today."));
    let calls = AtomicUsize::new(0);
    let mut total = 0;
    let mut rounds_seen = Vec::new();
    let options = ToolRunOptions::new().on_round(|info| {
        total += info.completion.usage.as_ref().unwrap().total_tokens;
        rounds_seen.push((info.round, info.tools.len(), info.messages.len()));
        ControlFlow::Continue(())
    });
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[weather(&calls)], options)
        .unwrap();
    assert_eq!((run.end, run.rounds), (RunEnd::Answered, 3));
    assert_eq!(run.answer(), Some("Paris and Lyon are both mild today."));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(rounds_seen, [(1, 1, 3), (2, 1, 5), (3, 0, 6)]);
    assert!(total > 0);
    assert_eq!(run.usage.total_tokens, total);
    // The transcript: user, then (assistant, tool) twice, then the answer.
    let roles: Vec<_> = run
        .messages
        .iter()
        .map(|m| m.role().as_str().to_owned())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant"
        ]
    );
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    let second = tool_messages(&sent[1].json());
    assert_eq!(
        second,
        [(
            "call_mock_1".to_owned(),
            r#"{"celsius":18,"city":"Paris"}"#.to_owned()
        )]
    );
    let third = tool_messages(&sent[2].json());
    assert_eq!(third.len(), 2);
    assert_eq!(third[1].1, r#"{"celsius":18,"city":"Lyon"}"#);
    // The assistant's tool call goes back as it came.
    let assistant = &sent[1].json()["messages"][1];
    assert_eq!(
        assistant["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
}

/// A barrier that gives up after a generous time: a runner that ran the calls one after
/// the other fails the test instead of hanging it.
struct Meeting {
    arrived: Mutex<usize>,
    all: Condvar,
    expected: usize,
}

impl Meeting {
    fn meet(&self) -> Result<String, String> {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all.notify_all();
        let (arrived, wait) = self
            .all
            .wait_timeout_while(arrived, Duration::from_secs(30), |n| *n < self.expected)
            .unwrap();
        match wait.timed_out() {
            true => Err(format!(
                "only {arrived} of {} calls ran at once",
                self.expected
            )),
            false => Ok("met".to_owned()),
        }
    }
}

#[derive(Deserialize)]
struct Seat {
    seat: u32,
}

#[test]
fn the_calls_of_a_round_run_at_the_same_time_and_answer_in_call_order() {
    let server = MockServer::start();
    let calls = [
        ("meet", r#"{"seat":1}"#),
        ("meet", r#"{"seat":2}"#),
        ("meet", r#"{"seat":3}"#),
    ];
    server.reply(Reply::tool_calls(calls));
    server.reply(Reply::text("Everyone met."));
    let meeting = Meeting {
        arrived: Mutex::new(0),
        all: Condvar::new(),
        expected: 3,
    };
    let finished = Mutex::new(Vec::new());
    let meet = Tool::function("meet", "Wait for the others", |args: Seat| {
        let met = meeting.meet();
        finished.lock().unwrap().push(args.seat);
        met.map(|m| format!("{m} at seat {}", args.seat))
    });
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[meet], ToolRunOptions::new())
        .unwrap();
    assert_eq!(run.answer(), Some("Everyone met."));
    assert_eq!(finished.lock().unwrap().len(), 3);
    let sent = tool_messages(&server.requests()[1].json());
    let want: Vec<(String, String)> = (1..=3)
        .map(|i| (format!("call_mock_{i}"), format!("met at seat {i}")))
        .collect();
    assert_eq!(sent, want);
}

#[test]
fn a_failing_tool_a_panic_and_an_unknown_tool_are_told_to_the_model() {
    let server = MockServer::start();
    let calls = [
        ("flaky", "{}"),
        ("boom", "{}"),
        ("no_such_tool", "{}"),
        ("flaky", "{}"),
    ];
    server.reply(Reply::tool_calls(calls));
    server.reply(Reply::text("Done, despite the errors."));
    let tries = AtomicUsize::new(0);
    let flaky = Tool::function("flaky", "Fails the first time", |_: Value| {
        match tries.fetch_add(1, Ordering::SeqCst) {
            0 => Err("the database is down"),
            _ => Ok("fine now"),
        }
    });
    let boom = Tool::function("boom", "Panics", |_: Value| -> Result<String, String> {
        panic!("index out of bounds")
    });
    let mut statuses = Vec::new();
    let options = ToolRunOptions::new().on_round(|info| {
        if info.round == 1 {
            statuses = info
                .tools
                .iter()
                .map(|t| (t.name.clone(), t.status))
                .collect();
        }
        ControlFlow::Continue(())
    });
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[flaky, boom], options)
        .unwrap();
    assert_eq!(run.answer(), Some("Done, despite the errors."));
    let sent = tool_messages(&server.requests()[1].json());
    let contents: Vec<&str> = sent.iter().map(|(_, c)| c.as_str()).collect();
    let mut sorted = [contents[0], contents[3]];
    sorted.sort();
    assert_eq!(sorted, ["error: the database is down", "fine now"]);
    assert_eq!(
        contents[1],
        "error: tool `boom` crashed: index out of bounds"
    );
    assert_eq!(
        contents[2],
        "error: there is no tool named `no_such_tool`; the tools are: flaky, boom"
    );
    let ids: Vec<&str> = sent.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["call_mock_1", "call_mock_2", "call_mock_3", "call_mock_4"]
    );
    assert_eq!(statuses[1], ("boom".to_owned(), ToolStatus::Panicked));
    assert_eq!(
        statuses[2],
        ("no_such_tool".to_owned(), ToolStatus::Unknown)
    );
    assert!(statuses.contains(&("flaky".to_owned(), ToolStatus::Failed)));
}

#[test]
fn arguments_that_do_not_decode_are_told_to_the_model() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"town":"Paris"}"#)]));
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    server.reply(Reply::text("18°C in Paris."));
    let calls = AtomicUsize::new(0);
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[weather(&calls)], ToolRunOptions::new())
        .unwrap();
    assert_eq!((run.answer(), run.rounds), (Some("18°C in Paris."), 3));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the bad call never reached the tool"
    );
    let sent = tool_messages(&server.requests()[1].json());
    let message = &sent[0].1;
    assert!(
        message.starts_with(
            "error: the arguments do not fit tool `get_weather`: missing field `city`"
        ),
        "{message}"
    );
}

#[test]
fn the_round_limit_ends_the_run_with_the_transcript_ready_to_continue() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    let calls = AtomicUsize::new(0);
    let api = ChatApi::new(server.config());
    let tools = [weather(&calls)];
    let run = api
        .run_tools(request(), &tools, ToolRunOptions::new().max_rounds(2))
        .unwrap();
    assert_eq!(
        (run.end, run.rounds, run.answer()),
        (RunEnd::RoundLimit, 2, None)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(run.messages.last().unwrap().role().as_str(), "tool");

    // Going on from the transcript.
    server.reply(Reply::text("Still 18°C."));
    let more = CreateChatCompletionRequest::new("gpt-4o-mini", run.messages);
    let run = api.run_tools(more, &tools, ToolRunOptions::new()).unwrap();
    assert_eq!(run.answer(), Some("Still 18°C."));
    assert_eq!(run.messages.len(), 6);
}

#[test]
fn the_hook_can_stop_the_run() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    let calls = AtomicUsize::new(0);
    let options = ToolRunOptions::new().on_round(|info| match info.tools.first() {
        Some(t) if t.content.contains("Paris") => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[weather(&calls)], options)
        .unwrap();
    assert_eq!((run.end, run.rounds), (RunEnd::Stopped, 1));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(run.messages.len(), 3);
}

#[test]
fn a_429_in_round_two_is_retried() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    server.reply(Reply::error(429, "Rate limit reached").header("retry-after", "1"));
    server.reply(Reply::text("18°C."));
    let calls = AtomicUsize::new(0);
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[weather(&calls)], ToolRunOptions::new())
        .unwrap();
    assert_eq!((run.answer(), run.rounds), (Some("18°C."), 2));
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[1].json(),
        sent[2].json(),
        "the retry sends the same round again"
    );
    assert_eq!(tool_messages(&sent[2].json()).len(), 1);
}

#[test]
fn a_failed_round_keeps_the_transcript() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    server.reply(Reply::error(400, "Invalid 'messages'"));
    let calls = AtomicUsize::new(0);
    let err = ChatApi::new(server.config())
        .run_tools(request(), &[weather(&calls)], ToolRunOptions::new())
        .unwrap_err();
    assert_eq!(err.round(), 2);
    assert_eq!(err.messages().len(), 3);
    assert!(err.usage().total_tokens > 0);
    assert_eq!(err.error().status(), Some(400));
    assert!(
        err.to_string()
            .starts_with("round 2 of the tool run failed: "),
        "{err}"
    );
    let as_error: Error = err.into();
    assert!(matches!(as_error, Error::Api(_)));
}

#[test]
fn total_timeout_is_one_deadline_over_the_whole_run() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("slow", "{}")]));
    // Each round alone is well within the limit; the run as a whole is not.
    let slow = Tool::function("slow", "Takes a while", |_: Value| {
        std::thread::sleep(Duration::from_millis(1500));
        Ok::<_, String>("done")
    });
    let api = ChatApi::new(server.config().total_timeout(Duration::from_secs(1)));
    let err = api
        .run_tools(request(), &[slow], ToolRunOptions::new())
        .unwrap_err();
    assert!(err.error().is_timeout(), "{err}");
    assert!(err.to_string().contains("total_timeout"), "{err}");
    assert_eq!(err.round(), 2);
    assert_eq!(server.requests().len(), 1, "round two was not sent");
    assert_eq!(err.messages().last().unwrap().role().as_str(), "tool");
}

#[test]
fn a_tool_past_its_timeout_is_abandoned_and_told_to_the_model() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("stuck", "{}"), ("quick", "{}")]));
    server.reply(Reply::text("One tool answered."));
    let (release, wait) = mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let stuck = Tool::function("stuck", "Never answers in time", move |_: Value| {
        let _ = wait.lock().unwrap().recv();
        Ok::<_, String>("too late")
    })
    .timeout(Duration::from_millis(300));
    let quick = Tool::function("quick", "Answers", |_: Value| Ok::<_, String>("here"));
    let run = ChatApi::new(server.config())
        .run_tools(request(), &[stuck, quick], ToolRunOptions::new())
        .unwrap();
    assert_eq!(run.answer(), Some("One tool answered."));
    let sent = tool_messages(&server.requests()[1].json());
    assert_eq!(
        sent[0].1,
        "error: tool `stuck` did not answer within 300ms and was abandoned"
    );
    assert_eq!(sent[1].1, "here");
    release.send(()).unwrap(); // The abandoned thread ends.
}

#[test]
fn the_streamed_runner_reports_deltas_tools_and_rounds() {
    let server = MockServer::start();
    server.reply(Reply::tool_calls([("get_weather", r#"{"city":"Paris"}"#)]));
    server.reply(Reply::text("It is 18 degrees in Paris."));
    let calls = AtomicUsize::new(0);
    let mut text = String::new();
    let mut seen = Vec::new();
    let request = request().stream_options(ChatCompletionStreamOptions::include_usage());
    let run = ChatApi::new(server.config())
        .run_tools_streamed(
            request,
            &[weather(&calls)],
            ToolRunOptions::new(),
            |event| match event {
                ToolEvent::Stream {
                    event: StreamEvent::ContentDelta { delta, .. },
                    ..
                } => text.push_str(&delta),
                ToolEvent::Stream {
                    round,
                    event: StreamEvent::ToolCallDone(done),
                } => seen.push(format!(
                    "{round}: call {} {}",
                    done.name,
                    done.parsed.unwrap()
                )),
                ToolEvent::ToolStarted { round, name, .. } => {
                    seen.push(format!("{round}: start {name}"))
                }
                ToolEvent::ToolFinished { round, outcome } => seen.push(format!(
                    "{round}: finish {} {:?}",
                    outcome.name, outcome.status
                )),
                ToolEvent::RoundDone {
                    round,
                    finish_reason,
                } => seen.push(format!("{round}: done {}", finish_reason.unwrap().as_str())),
                _ => {}
            },
        )
        .unwrap();
    assert_eq!(text, "It is 18 degrees in Paris.");
    assert_eq!(run.answer(), Some(text.as_str()));
    assert_eq!(
        seen,
        [
            r#"1: call get_weather {"city":"Paris"}"#,
            "1: start get_weather",
            "1: finish get_weather Ok",
            "1: done tool_calls",
            "2: done stop",
        ]
    );
    assert!(run.usage.total_tokens > 0, "usage from the streams, summed");
    let sent = server.requests();
    assert_eq!(sent[1].json()["stream"], true);
    assert_eq!(tool_messages(&sent[1].json()).len(), 1);
}
