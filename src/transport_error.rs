//! ureq's failures as this crate's [`TransportError`]: what happened, in words a user can
//! act on, with ureq's error kept as the source.

use crate::error::{Error, TransportError, TransportErrorKind};
use crate::http;
use crate::tls::{NO_TLS, PROVIDER};

/// Maps ureq's error to ours, keeping it as the source.
pub(crate) fn transport_error(e: ureq::Error) -> Error {
    use std::io::ErrorKind as Io;
    if let Some((kind, message)) = classify_failure(&e) {
        return Error::Transport(TransportError::new(kind, message, Some(Box::new(e))));
    }
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
        _ => (TransportErrorKind::Other, "the HTTP request failed"),
    };
    let message = format!("{what}: {e}");
    Error::Transport(TransportError::new(kind, message, Some(Box::new(e))))
}

/// What a TLS or proxy failure reported by ureq means, and what to do about it.
///
/// `None` when the error is neither; the caller maps it as any other transport error.
fn classify_failure(e: &ureq::Error) -> Option<(TransportErrorKind, String)> {
    use TransportErrorKind::{Proxy, ProxyAuth, Tls};
    let text = e.to_string();
    if let ureq::Error::ConnectProxyFailed(reason) = e {
        return Some(if reason.contains(" 407") {
            (
                ProxyAuth,
                "the proxy asks for credentials (407 Proxy Authentication Required): put them in the proxy URL, http://user:password@host:port, in Config::proxy or HTTPS_PROXY".to_owned(),
            )
        } else {
            (
                Proxy,
                format!("the proxy refused to open a tunnel to the server ({reason}): check that the proxy allows this host and port, or bypass it with NO_PROXY or Config::no_proxy"),
            )
        });
    }
    if let ureq::Error::Io(io) = e {
        let reason = io.to_string();
        // ureq's SOCKS client reports the proxy's answer as an I/O error with one of these texts.
        let socks = match reason.as_str() {
            "password authentication failed" | "no acceptable auth methods" => Some(ProxyAuth),
            "general SOCKS server failure"
            | "connection not allowed by ruleset"
            | "network unreachable"
            | "host unreachable"
            | "connection refused"
            | "TTL expired"
            | "command not supported"
            | "address kind not supported"
            | "request rejected or failed" => Some(Proxy),
            _ => None,
        };
        match socks {
            Some(ProxyAuth) => {
                return Some((
                    ProxyAuth,
                    format!("the SOCKS proxy refused the credentials ({reason}): put the right ones in the proxy URL, socks5://user:password@host:port"),
                ))
            }
            Some(kind) => {
                return Some((
                    kind,
                    format!("the SOCKS proxy could not connect to the server ({reason}): check that the proxy allows this host, or bypass it with NO_PROXY or Config::no_proxy"),
                ))
            }
            None => {}
        }
    }
    let is_tls = match e {
        ureq::Error::Tls(_) => true,
        ureq::Error::TlsRequired => {
            return Some((Tls, format!("the URL is https:// but {NO_TLS}")));
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
    Some((Tls, message))
}

/// The cause and the fix of a certificate problem, from rustls' or OpenSSL's words.
fn tls_cause(text: &str) -> Option<&'static str> {
    let text = text.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if any(&[
        "unknownissuer",
        "unknown issuer",
        "unable to get local issuer",
        "unable to get issuer",
        "self-signed certificate",
        "self signed certificate",
    ]) {
        Some("the server's certificate is not signed by a trusted CA (unknown issuer): trust the CA that signed it with Config::ca_certificates_pem or SSL_CERT_FILE, or build with the platform-verifier or native-tls feature to use the operating system's trust store (where a corporate proxy's CA is usually installed)")
    } else if any(&[
        "not valid for name",
        "notvalidforname",
        "hostname mismatch",
        "ip address mismatch",
    ]) {
        Some("the server's certificate is not valid for the host name in the URL (name mismatch): use the host name the certificate was issued for in base_url, or have the certificate reissued with this name")
    } else if any(&["expired", "notvalidyet", "not valid yet", "not yet valid"]) {
        Some("the server's certificate has expired or is not valid yet: renew the server's certificate, and check this machine's clock")
    } else if any(&["certificaterequired", "certificate required"]) {
        Some("the server requires a client certificate: set one with Config::client_certificate_pem, or OPENAI_MTLS_CLIENT_CERT_FILE and OPENAI_MTLS_CLIENT_KEY_FILE")
    } else if any(&[
        "unknownca",
        "unknown ca",
        "badcertificate",
        "bad certificate",
        "decrypterror",
        "decrypt error",
        "accessdenied",
        "access denied",
    ]) {
        Some("the server rejected the client certificate: use a certificate signed by a CA the server trusts, with its own private key")
    } else if any(&["handshakefailure", "handshake failure"]) {
        Some("the server ended the handshake (it may require a client certificate, or share no cipher or TLS version with this client)")
    } else {
        None
    }
}

/// A request that could not be built from its URL (`base_url` with a path that is not a URI).
pub(crate) fn bad_url(url: &str, e: http::Error) -> Error {
    Error::Transport(TransportError::new(
        TransportErrorKind::BadUrl,
        format!("cannot build a request for `{url}`: {e}; check base_url"),
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
