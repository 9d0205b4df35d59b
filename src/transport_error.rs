//! ureq's failures as this crate's [`TransportError`]: what happened, in words a user can
//! act on, with ureq's error kept as the source.

use crate::error::NO_TLS;
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::http;
use crate::tls::PROVIDER;
use crate::util::{redact_url, redact_urls};

/// Maps ureq's error to ours, keeping it as the source.
pub(crate) fn transport_error(e: ureq::Error) -> Error {
    if let Some((kind, message)) = classify_proxy(&e).or_else(|| classify_tls(&e)) {
        return Error::Transport(TransportError::new(kind, message, Some(Box::new(e))));
    }
    let (kind, what) = classify(&e);
    // ureq's words may quote the URL (with `user:pass@` or `?api-key=`): shown redacted.
    let message = format!("{what}: {}", redact_urls(&e.to_string()));
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
/// Final, as the same server sends the same header block again.
const HEADERS_TOO_LARGE: Classified = (
    TransportErrorKind::Other,
    "the server's response headers are more than ureq reads (64 KiB or 128 headers); check base_url and any proxy between",
);

/// What kind of failure a ureq error is.
fn classify(e: &ureq::Error) -> Classified {
    match e {
        ureq::Error::Timeout(which) => (TransportErrorKind::Timeout, timed_out(*which)),
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
        ureq::Error::LargeResponseHeader(..) => HEADERS_TOO_LARGE,
        // Which of the two limits a long header block meets first depends on how the reads
        // split it; ureq does not export its protocol error type, so its words tell.
        ureq::Error::Protocol(p) if p.to_string().contains("too many headers") => HEADERS_TOO_LARGE,
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

/// What a timeout of ureq's means in this crate's settings.
fn timed_out(which: ureq::Timeout) -> &'static str {
    use ureq::Timeout as T;
    match which {
        T::Global => "the call's total_timeout passed",
        T::Resolve => "the DNS lookup took longer than connect_timeout",
        T::Connect => "connecting took longer than connect_timeout",
        T::PerRead => "the stream was silent for longer than stream_idle_timeout",
        _ => "the request took longer than its timeout",
    }
}

/// What a proxy's refusal means: an HTTP CONNECT proxy answering other than 200, or a SOCKS
/// proxy's reply (ureq reports it as an I/O error with one of the texts below).
fn classify_proxy(e: &ureq::Error) -> Option<(TransportErrorKind, String)> {
    use TransportErrorKind::{Proxy, ProxyAuth};
    let (kind, message) = match e {
        ureq::Error::ConnectProxyFailed(reason) if reason.contains(" 407") => (
            ProxyAuth,
            "the proxy asks for credentials (407 Proxy Authentication Required): put them in the proxy URL, http://user:password@host:port, in Config::proxy or HTTPS_PROXY".to_owned(),
        ),
        ureq::Error::ConnectProxyFailed(reason) => (
            Proxy,
            format!("the proxy refused to open a tunnel to the server ({reason}): check that the proxy allows this host and port, or bypass it with NO_PROXY or Config::no_proxy"),
        ),
        ureq::Error::Io(io) => {
            let reason = io.to_string();
            match reason.as_str() {
                "password authentication failed" | "no acceptable auth methods" => (
                    ProxyAuth,
                    format!("the SOCKS proxy refused the credentials ({reason}): put the right ones in the proxy URL, socks5://user:password@host:port"),
                ),
                "general SOCKS server failure"
                | "connection not allowed by ruleset"
                | "network unreachable"
                | "host unreachable"
                | "connection refused"
                | "TTL expired"
                | "command not supported"
                | "address kind not supported"
                | "request rejected or failed" => (
                    Proxy,
                    format!("the SOCKS proxy could not connect to the server ({reason}): check that the proxy allows this host, or bypass it with NO_PROXY or Config::no_proxy"),
                ),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some((kind, message))
}

/// A TLS failure with its cause and fix, or `None` when `e` is not one.
fn classify_tls(e: &ureq::Error) -> Option<(TransportErrorKind, String)> {
    let text = e.to_string();
    let is_tls = match e {
        ureq::Error::Tls(_) => true,
        ureq::Error::TlsRequired => {
            let message = format!("the URL is https:// but {NO_TLS}");
            return Some((TransportErrorKind::Tls, message));
        }
        // A failure after the handshake (an alert the server sent once it saw the client's
        // certificate, or the lack of one) comes as an I/O error carrying the TLS stack's text.
        ureq::Error::Io(_) => tls_cause(&text).is_some(),
        _ => ["rustls: ", "native-tls: ", "der: ", "PEM: "]
            .iter()
            .any(|prefix| text.starts_with(prefix)),
    };
    if !is_tls {
        return None;
    }
    let message = match tls_cause(&text) {
        Some(cause) => format!("TLS failed: {cause} ({text})"),
        None => format!("the TLS handshake failed ({text}), using {PROVIDER}"),
    };
    Some((TransportErrorKind::Tls, message))
}

/// What to do about an unknown issuer depends on whether the build already uses the operating
/// system's trust store.
const UNKNOWN_ISSUER: &str = if cfg!(any(feature = "native-tls", feature = "platform-verifier")) {
    "the server's certificate is not signed by a trusted CA (unknown issuer): trust the CA that signed it with Config::ca_certificates_pem or SSL_CERT_FILE, or install it in the operating system's trust store, which this build uses"
} else {
    "the server's certificate is not signed by a trusted CA (unknown issuer): trust the CA that signed it with Config::ca_certificates_pem or SSL_CERT_FILE, or build with the platform-verifier or native-tls feature to use the operating system's trust store (where a corporate proxy's CA is usually installed)"
};

/// Certificate problems: words rustls or OpenSSL use for them (lowercase), and what the user
/// reads. The first row that matches wins.
const TLS_CAUSES: &[(&[&str], &str)] = &[
    (
        &["unknownissuer", "unknown issuer", "unable to get local issuer", "unable to get issuer", "self-signed certificate", "self signed certificate"],
        UNKNOWN_ISSUER,
    ),
    (
        &["not valid for name", "notvalidforname", "hostname mismatch", "ip address mismatch"],
        "the server's certificate is not valid for the host name in the URL (name mismatch): use the host name the certificate was issued for in base_url, or have the certificate reissued with this name",
    ),
    (
        &["expired", "notvalidyet", "not valid yet", "not yet valid"],
        "the server's certificate has expired or is not valid yet: renew the server's certificate, and check this machine's clock",
    ),
    (
        &["certificaterequired", "certificate required"],
        "the server requires a client certificate: set one with Config::client_certificate_pem, or OPENAI_MTLS_CLIENT_CERT_FILE and OPENAI_MTLS_CLIENT_KEY_FILE",
    ),
    (
        &["unknownca", "unknown ca", "badcertificate", "bad certificate", "decrypterror", "decrypt error", "accessdenied", "access denied"],
        "the server rejected the client certificate: use a certificate signed by a CA the server trusts, with its own private key",
    ),
    (
        &["handshakefailure", "handshake failure"],
        "the server ended the handshake (it may require a client certificate, or share no cipher or TLS version with this client)",
    ),
];

/// The cause and the fix of a certificate problem, from rustls' or OpenSSL's words.
fn tls_cause(text: &str) -> Option<&'static str> {
    let text = text.to_ascii_lowercase();
    TLS_CAUSES
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| text.contains(n)))
        .map(|(_, cause)| *cause)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_from_both_stacks() {
        let unknown = tls_cause("rustls: invalid peer certificate: UnknownIssuer");
        assert!(unknown.is_some_and(|c| c.contains("ca_certificates_pem")));
        let openssl = tls_cause("native-tls: error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:ssl/statem/statem_clnt.c:2091: (unable to get local issuer certificate)");
        assert_eq!(openssl, unknown);
        assert!(tls_cause("certificate not valid for name \"localhost\"")
            .is_some_and(|c| c.contains("name mismatch")));
        assert!(tls_cause("(certificate has expired)").is_some_and(|c| c.contains("expired")));
        assert!(tls_cause("received fatal alert: CertificateRequired")
            .is_some_and(|c| c.contains("client_certificate_pem")));
        assert_eq!(tls_cause("connection reset"), None);
    }
}
