//! ureq's failures as this crate's [`TransportError`]: what happened, in words a user can
//! act on, with ureq's error kept as the source.

use crate::error::{Error, TransportError, TransportErrorKind};
use crate::http;
use crate::util::redact_url;

/// Maps ureq's error to ours, keeping it as the source.
pub(crate) fn transport_error(e: ureq::Error) -> Error {
    use std::io::ErrorKind as Io;
    let (kind, what) = match &e {
        ureq::Error::Timeout(_) => (TransportErrorKind::Timeout, "the request timed out"),
        ureq::Error::HostNotFound => (
            TransportErrorKind::Connect,
            "the server's host name did not resolve",
        ),
        ureq::Error::ConnectionFailed => (
            TransportErrorKind::Connect,
            "could not connect to the server",
        ),
        ureq::Error::Io(io) => match io.kind() {
            Io::ConnectionRefused | Io::AddrNotAvailable | Io::NotConnected => (
                TransportErrorKind::Connect,
                "could not connect to the server",
            ),
            Io::TimedOut | Io::WouldBlock => {
                (TransportErrorKind::Timeout, "the request timed out")
            }
            // std reports a failed name lookup as an uncategorized error with this text.
            _ if io.to_string().contains("failed to lookup address") => (
                TransportErrorKind::Connect,
                "the server's host name did not resolve",
            ),
            _ => (
                TransportErrorKind::Io,
                "the connection failed before the response was complete",
            ),
        },
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
        ureq::Error::Tls(_) => (TransportErrorKind::Tls, "the TLS handshake failed"),
        other if format!("{other:?}").to_ascii_lowercase().contains("tls") => {
            (TransportErrorKind::Tls, "the TLS handshake failed")
        }
        _ => (TransportErrorKind::Other, "the HTTP request failed"),
    };
    let message = format!("{what}: {e}");
    Error::Transport(TransportError::new(kind, message, Some(Box::new(e))))
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
