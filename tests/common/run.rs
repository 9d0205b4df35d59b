//! Running client calls under a hard time limit, so that a hang or a panic in the
//! client fails the test instead of blocking the suite.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use sync_openai::error::TransportErrorKind;
use sync_openai::types::{
    ChatCompletionRequestMessage as Message, CreateChatCompletionRequest,
    CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
};
use sync_openai::{ApiResponse, ChatApi, Error};

/// How long a single call may take before it counts as a hang.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The smallest valid request.
pub fn req() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hi")])
}

/// Runs `call` in its own thread and fails the test if it takes longer than `limit`
/// (a hang) or panics. Returns the call's result and how long it took.
pub fn bounded<T: Send + 'static>(
    limit: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let handle = thread::spawn(move || {
        let _ = tx.send(call());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            let elapsed = start.elapsed();
            handle.join().unwrap();
            report(elapsed);
            (value, elapsed)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the client hung: no result after {limit:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = handle.join().unwrap_err();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            panic!("the client panicked: {message}")
        }
    }
}

/// Prints how long the current test's call took (seen with `--nocapture`).
fn report(elapsed: Duration) {
    let current = thread::current();
    let name = current.name().unwrap_or("?");
    eprintln!("{name}: client call took {elapsed:?}");
}

/// The result of one non-streamed call.
pub type Completed = Result<ApiResponse<CreateChatCompletionResponse>, Error>;

/// Every item a stream yielded, or the error that kept it from opening.
pub type Streamed = Result<Vec<Result<CreateChatCompletionStreamResponse, Error>>, Error>;

/// One non-streamed call of [`req`], bounded in time.
pub fn complete(api: &ChatApi) -> (Completed, Duration) {
    let api = api.clone();
    bounded(LIMIT, move || {
        api.create_chat_completion_with_http_info(&req())
    })
}

/// Opens a stream of [`req`] and collects every item it yields, bounded in time.
pub fn stream_items(api: &ChatApi) -> (Streamed, Duration) {
    let api = api.clone();
    bounded(LIMIT, move || {
        api.create_chat_completion_stream(&req())
            .map(|stream| stream.collect::<Vec<_>>())
    })
}

/// The kind of a transport error; any other error fails the test.
pub fn transport_kind(err: &Error) -> TransportErrorKind {
    match err {
        Error::Transport(t) => t.kind(),
        other => panic!("expected Error::Transport, got {other:?}"),
    }
}
