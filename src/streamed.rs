//! Opening a chat completion stream, and `create_chat_completion` sent as one
//! ([`Config::stream_transport`](crate::Config::stream_transport)).
//!
//! A proxy cuts a connection that stays silent for long (Cloudflare answers 524 after about
//! 100 s, other gateways cut at 60–600 s), and a non-streamed answer is silent until it is
//! whole. Sent streamed, the same request has bytes flowing the whole time; the chunks are
//! folded by the [`ChunkAccumulator`](crate::stream::ChunkAccumulator) into the response the plain
//! call returns, with the stream's idle timeout and partial answer.

use crate::error::Error;
use crate::observe::Observer;
use crate::response::ApiResponse;
use crate::send::{Call, Sender};
use crate::stream::ChatCompletionStream;
use crate::types::{
    ChatCompletionStreamOptions, CreateChatCompletionRequest, CreateChatCompletionResponse,
};

/// Sends a stream call (retried until the headers of a 2xx arrive) and wraps its body in
/// a watched [`ChatCompletionStream`]; returns it with the retries taken.
pub(crate) fn open(sender: &Sender, call: &Call) -> Result<(ChatCompletionStream, u32), Error> {
    let (response, retries) = sender.execute(call)?;
    let observer = response.extensions().get::<Observer>().cloned();
    let watch = observer.map(|o| o.watch_stream(response.headers()));
    let stream =
        ChatCompletionStream::from_response(response, sender.config(), sender.secret_values())?;
    Ok((stream.watched(watch), retries))
}

/// What stream transport sends for `req`: `"stream": true`, and
/// `stream_options.include_usage` when the request sets no `stream_options`.
pub(crate) fn as_stream(req: &CreateChatCompletionRequest) -> CreateChatCompletionRequest {
    let mut streamed = req.clone();
    streamed.stream = Some(true);
    if streamed.stream_options.is_none() {
        streamed.stream_options = Some(ChatCompletionStreamOptions::include_usage());
    }
    streamed
}

/// `req` sent streamed to `path` and collected: the response a plain call returns, with
/// the status and headers of the streamed one. `stream_options.include_usage` is asked for
/// when the request sets no `stream_options`, so the usage is there as in a plain answer.
pub(crate) fn complete(
    sender: &Sender,
    path: &str,
    req: &CreateChatCompletionRequest,
) -> Result<ApiResponse<CreateChatCompletionResponse>, Error> {
    let call = Call::post(path, sender.encode(&as_stream(req))?).stream();
    let (stream, retries) = open(sender, &call)?;
    let (status, headers) = (stream.status(), stream.headers().clone());
    let replayed = stream.is_replay();
    let data = stream.collect_completion()?;
    Ok(ApiResponse {
        status,
        headers,
        data,
        retries,
        replayed,
    })
}
