//! Recording a 2xx answer into its cache slot: a body read whole, or a stream through a
//! [`Tee`] that copies what the stream reads and writes the entry once the stream ended
//! whole. Above `stream` (a copy must replay through the same parser) and `cache`.

use std::io::{self, Read};

use crate::cache::{body_builder, is_json, rebuild, Slot};
use crate::connection;
use crate::error::Error;
use crate::http::{self, HeaderMap};
use crate::stream::ChatCompletionStream;

impl Slot {
    /// Records a 2xx response: reads its body (bounded by `limit`), writes the entry
    /// without secrets, and returns the same response to read again.
    ///
    /// An event stream (`stream`, and not a JSON answer to a stream request) is not read
    /// here: its body is wrapped in a [`Tee`], so that the caller gets each event as it
    /// arrives, and the entry is written when the stream ends whole.
    ///
    /// A failure to write is kept in `unwritten` (the answer is still returned); a
    /// failure to read the body is the caller's, like any broken body.
    pub(crate) fn record(
        &self,
        response: http::Response<ureq::Body>,
        stream: bool,
        limit: u64,
        secrets: &[&str],
        unwritten: &mut Option<Error>,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let (parts, body) = response.into_parts();
        if stream && !is_json(&parts.headers) {
            // A directory that cannot be written is said before the first event, not
            // found out after the last.
            if let Err(e) = self.probe() {
                *unwritten = Some(e);
            }
            let tee = Tee {
                inner: body.into_reader(),
                copy: Some(Vec::new()),
                limit,
                slot: self.clone(),
                status: parts.status.as_u16(),
                headers: parts.headers.clone(),
                secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            };
            let mut response = http::Response::new(body_builder(&parts.headers).reader(tee));
            *response.status_mut() = parts.status;
            *response.headers_mut() = parts.headers;
            return Ok(response);
        }
        let bytes = body.into_with_config().limit(limit).read_to_vec()?;
        if let Err(e) = self.write(parts.status.as_u16(), &parts.headers, &bytes, secrets) {
            *unwritten = Some(e);
        }
        Ok(rebuild(parts.status, parts.headers, bytes))
    }
}

/// The body of an event stream being recorded: what the stream reads passes through
/// unchanged as it arrives, and is copied aside (at most `limit` bytes).
///
/// The entry is written only when the stream ended whole: when the body's end is read
/// (the stream's parser reads it only after every event before it, so the caller has
/// seen them all), or when a read fails while the stream drains the body after
/// `data: [DONE]` (a server that holds the connection open). Even then the copy must
/// replay, through the same parser, as a stream without an error. A stream that fails,
/// is cut, is dropped before its end, or is longer than `limit` writes nothing.
struct Tee {
    inner: ureq::BodyReader<'static>,
    /// What came so far; `None` once nothing is to be written.
    copy: Option<Vec<u8>>,
    limit: u64,
    slot: Slot,
    status: u16,
    headers: HeaderMap,
    secrets: Vec<String>,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf);
        match &read {
            Ok(0) if !buf.is_empty() => self.finish(),
            Ok(n) => self.keep(buf.get(..*n).unwrap_or_default()),
            Err(_) if connection::draining() => self.finish(),
            Err(_) => self.copy = None,
        }
        read
    }
}

impl Tee {
    /// Copies what was read, or gives up the copy once it would pass the limit.
    fn keep(&mut self, bytes: &[u8]) {
        let Some(copy) = &mut self.copy else { return };
        if (copy.len() + bytes.len()) as u64 > self.limit {
            self.copy = None;
        } else {
            copy.extend_from_slice(bytes);
        }
    }

    /// Writes the entry, once, if the copy replays as a whole stream.
    fn finish(&mut self) {
        let Some(copy) = self.copy.take() else { return };
        let whole = ChatCompletionStream::from_reader(io::Cursor::new(copy.clone()))
            .all(|chunk| chunk.is_ok());
        if whole {
            let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
            // Too late to tell the caller, who has the whole answer: a failed write
            // leaves no entry, and the next run records it again.
            let _ = self.slot.write(self.status, &self.headers, &copy, &secrets);
        }
    }
}
