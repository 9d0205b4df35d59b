//! [`TransportError`]: the request did not get an answer (connection, TLS, timeout).

use std::error::Error as StdError;
use std::fmt;

use crate::util::{clean_in_place, redact_urls};

/// What kind of failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: refused, unreachable, or the host name did not resolve.
    Connect,
    /// A timeout fired: connecting, waiting for the answer, or between stream bytes.
    Timeout,
    /// The TLS handshake or certificate check failed: an untrusted, expired or misnamed
    /// server certificate, a client certificate the server requires or rejects, or an
    /// `https://` URL in a build without TLS. The message names the cause and the fix.
    Tls,
    /// The proxy refused to open a tunnel to the server (an HTTP CONNECT proxy answering
    /// other than 200, or a SOCKS proxy refusing the connection).
    Proxy,
    /// The proxy asks for credentials, or refused the ones given (HTTP 407, SOCKS5
    /// authentication): put them in the proxy URL, `http://user:password@host:port`.
    ProxyAuth,
    /// The connection broke or the server spoke broken HTTP.
    Io,
    /// The response body is larger than the configured limit.
    BodyTooLarge,
    /// The URL built from `base_url` is not valid.
    BadUrl,
    /// Anything else the HTTP layer reported.
    Other,
}

/// The request did not get a complete response.
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    pub(super) retries: u32,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportErrorKind,
        message: impl Into<String>,
        source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        // A source that would show a URL's credentials raw is dropped (the message is
        // redacted where it is written, in transport_error.rs).
        let mut message = message.into();
        clean_in_place(&mut message);
        let source = source.filter(|s| {
            let text = s.to_string();
            redact_urls(&text) == text
        });
        TransportError {
            kind,
            message,
            retries: 0,
            source,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether a timeout ended the call.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("retries", &self.retries)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.retries > 0 {
            write!(f, " (after {} retries)", self.retries)?;
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
