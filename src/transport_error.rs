//! ureq's failures as this crate's [`TransportError`]: what happened, in words a user can
//! act on, with ureq's error kept as the source.

use crate::error::{Error, TransportError, TransportErrorKind};
use crate::http;
use crate::util::redact_url;

/// Maps ureq's error to ours, keeping it as the source.
pub(crate) fn transport_error(e: ureq::Error) -> Error {
    let (kind, what) = classify(&e);
    let message = format!("{what}: {e}");
    Error::Transport(TransportError::new(kind, message, Some(Box::new(e))))
}

/// A kind and the words that say what happened.
type Classified = (TransportErrorKind, &'static str);

const TIMED_OUT: Classified = (TransportErrorKind::Timeout, "the request timed out");
const NO_CONNECTION: Classified = (
    TransportErrorKind::Connect,
    "could not connect to the server",
);
const NO_HOST: Classified = (
    TransportErrorKind::Connect,
    "the server's host name did not resolve",
);
const TLS_FAILED: Classified = (TransportErrorKind::Tls, "the TLS handshake failed");

/// What kind of failure a ureq error is.
fn classify(e: &ureq::Error) -> Classified {
    match e {
        ureq::Error::Timeout(_) => TIMED_OUT,
        ureq::Error::HostNotFound => NO_HOST,
        ureq::Error::ConnectionFailed => NO_CONNECTION,
        ureq::Error::Io(io) => classify_io(io),
        ureq::Error::BodyExceedsLimit(_) => (
            TransportErrorKind::BodyTooLarge,
            "the response body is larger than the limit; raise Config::max_response_bytes if it is expected",
        ),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => (
            TransportErrorKind::BadUrl,
            "the request URL is not valid; check base_url",
        ),
        ureq::Error::Protocol(_) => (
            TransportErrorKind::Io,
            "the server answered with broken HTTP",
        ),
        ureq::Error::Tls(_) => TLS_FAILED,
        other if format!("{other:?}").to_ascii_lowercase().contains("tls") => TLS_FAILED,
        _ => (TransportErrorKind::Other, "the HTTP request failed"),
    }
}

/// What kind of failure an I/O error under ureq is.
fn classify_io(io: &std::io::Error) -> Classified {
    use std::io::ErrorKind as Io;
    match io.kind() {
        Io::ConnectionRefused | Io::AddrNotAvailable | Io::NotConnected => NO_CONNECTION,
        Io::TimedOut | Io::WouldBlock => TIMED_OUT,
        // std reports a failed name lookup as an uncategorized error with this text.
        _ if io.to_string().contains("failed to lookup address") => NO_HOST,
        _ => (
            TransportErrorKind::Io,
            "the connection failed before the response was complete",
        ),
    }
}

/// A request that could not be built from its URL (`base_url` with a path that is not a URI).
pub(crate) fn bad_url(url: &str, e: http::Error) -> Error {
    Error::Transport(TransportError::new(
        TransportErrorKind::BadUrl,
        format!(
            "cannot build a request for `{}`: {e}; check base_url",
            redact_url(url)
        ),
        Some(Box::new(e)),
    ))
}
