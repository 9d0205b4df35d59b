//! TLS and proxy settings: the CA certificates and client certificate a [`Config`](crate::Config)
//! carries (read from PEM and checked when they are set), the proxy choice, and what a TLS or
//! proxy failure means for the user.
//!
//! The `ureq` TLS and proxy configuration is built from these in `agent.rs`, and failures are
//! explained in `transport_error.rs`; this module keeps the parts that do not depend on the
//! TLS provider, so that every feature combination sees the same checks. The certificate
//! and key checks are `pem.rs` (PEM through ureq's parser) over `der.rs` (just enough DER).

use std::fmt;
use std::sync::Arc;

use crate::util::redact_url;

mod der;
mod pem;

pub(crate) use pem::{ca_certificates, client_identity, Part};

/// Whether this build can speak TLS at all (any of the three TLS features).
pub(crate) const ENABLED: bool = cfg!(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
));

/// The name the user sees for the TLS stack in use, for messages.
pub(crate) const PROVIDER: &str = if cfg!(feature = "native-tls") {
    "native-tls with the operating system's trust store"
} else if cfg!(feature = "platform-verifier") {
    "rustls with the operating system's trust store (platform-verifier)"
} else if cfg!(feature = "rustls") {
    "rustls with Mozilla's root certificates"
} else {
    "no TLS"
};

/// Certificates set on a `Config`, in DER, checked when they were set.
#[derive(Clone, Default)]
pub(crate) struct TlsSettings {
    /// Trust exactly these CA certificates instead of the default roots.
    pub(crate) ca_certificates: Option<Arc<[Vec<u8>]>>,
    /// Present this client certificate (mutual TLS).
    pub(crate) client_certificate: Option<Arc<ClientIdentity>>,
}

impl fmt::Debug for TlsSettings {
    /// Shows what is set, never certificate or key bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("provider", &PROVIDER)
            .field(
                "ca_certificates",
                &self
                    .ca_certificates
                    .as_ref()
                    .map(|c| format!("{} certificate(s)", c.len())),
            )
            .field(
                "client_certificate",
                &self
                    .client_certificate
                    .as_ref()
                    .map(|_| "set (key redacted)"),
            )
            .finish()
    }
}

/// A client certificate chain (DER) and its private key.
// Without TLS no identity can be made (the PEM parser refuses), so nothing reads these.
#[cfg_attr(
    not(any(
        feature = "rustls",
        feature = "native-tls",
        feature = "platform-verifier"
    )),
    allow(dead_code)
)]
pub(crate) struct ClientIdentity {
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) key: Key,
}

/// A private key as ureq holds it (ureq does not export the type of its kind, so a key can
/// only be made by its PEM parser).
#[cfg(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
))]
pub(crate) type Key = ureq::tls::PrivateKey<'static>;

/// Without TLS no key can be read: the PEM parser refuses every input.
#[cfg(not(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
)))]
pub(crate) type Key = std::convert::Infallible;

/// The encoding of a private key, as its PEM label says.
// Without TLS no key is read, so only the default is named.
#[cfg_attr(
    not(any(
        feature = "rustls",
        feature = "native-tls",
        feature = "platform-verifier"
    )),
    allow(dead_code)
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// `BEGIN RSA PRIVATE KEY`
    Pkcs1,
    /// `BEGIN PRIVATE KEY`
    Pkcs8,
    /// `BEGIN EC PRIVATE KEY`
    Sec1,
}

/// Where the proxy comes from.
#[derive(Clone, Default)]
pub(crate) enum ProxySetting {
    /// `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` (and lowercase) and `NO_PROXY`, as ureq reads them.
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Off,
    /// This proxy.
    Url(ureq::Proxy),
}

impl fmt::Debug for ProxySetting {
    /// The protocol, host and port; never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnv => f.write_str("FromEnv"),
            ProxySetting::Off => f.write_str("Off"),
            ProxySetting::Url(proxy) => {
                let credentials = proxy.username().is_some() || proxy.password().is_some();
                write!(
                    f,
                    "{}://{}:{}{}",
                    proxy.protocol().to_string().to_ascii_lowercase(),
                    proxy.host(),
                    proxy.port(),
                    if credentials {
                        " (credentials redacted)"
                    } else {
                        ""
                    }
                )
            }
        }
    }
}

impl ProxySetting {
    /// The SOCKS proxy that calls to `base_url` would go through, shown without credentials,
    /// when this build cannot speak SOCKS (feature `socks` off); `None` when it can. ureq
    /// without its `socks-proxy` feature would panic on such a proxy set by hand, and would
    /// connect around one set in the environment.
    pub(crate) fn unusable_socks(&self, base_url: &str) -> Option<String> {
        if cfg!(feature = "socks") {
            None
        } else {
            self.socks_in_effect(base_url)
        }
    }

    /// The SOCKS proxy, shown without credentials, that calls to `base_url` would go
    /// through; `None` for no proxy, an HTTP one, or an environment's one that `NO_PROXY`
    /// bypasses for `base_url`.
    fn socks_in_effect(&self, base_url: &str) -> Option<String> {
        use ureq::ProxyProtocol as P;
        let from_env;
        let proxy = match self {
            ProxySetting::Off => return None,
            ProxySetting::Url(proxy) => proxy,
            ProxySetting::FromEnv => {
                from_env = ureq::Proxy::try_from_env()?;
                let bypassed = base_url
                    .trim()
                    .parse::<ureq::http::Uri>()
                    .is_ok_and(|uri| from_env.is_no_proxy(&uri));
                if bypassed {
                    return None;
                }
                &from_env
            }
        };
        matches!(
            proxy.protocol(),
            P::Socks4 | P::Socks4A | P::Socks5 | P::Socks5h
        )
        .then(|| format!("{:?}", ProxySetting::Url(proxy.clone())))
    }
}

/// Parses a proxy URL for `Config::proxy`; the error is the URL without its credentials.
pub(crate) fn parse_proxy(url: &str) -> Result<ureq::Proxy, String> {
    ureq::Proxy::new(url.trim()).map_err(|_| redact_url(url.trim()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden_in_messages() {
        // One form for credentials in every URL the crate shows: `<redacted>@`.
        let shown = parse_proxy("ftp://alice:s3cret@proxy:3128/x").unwrap_err();
        assert_eq!(shown, "ftp://<redacted>@proxy:3128/x");
        let shown = parse_proxy("ftp://proxy:3128").unwrap_err();
        assert_eq!(shown, "ftp://proxy:3128");
    }

    #[test]
    fn a_socks_proxy_is_named_without_its_credentials() {
        let socks = ProxySetting::Url(parse_proxy("socks5h://bob:pw@127.0.0.1:1080").unwrap());
        let shown = socks.socks_in_effect("http://127.0.0.1:8080/v1").unwrap();
        assert_eq!(shown, "socks5h://127.0.0.1:1080 (credentials redacted)");
        let socks4 = ProxySetting::Url(parse_proxy("socks4://127.0.0.1:1080").unwrap());
        assert!(socks4
            .socks_in_effect("https://api.openai.com/v1")
            .is_some());
        let http = ProxySetting::Url(parse_proxy("http://127.0.0.1:3128").unwrap());
        assert_eq!(http.socks_in_effect("http://127.0.0.1:8080/v1"), None);
        assert_eq!(ProxySetting::Off.socks_in_effect("http://x/v1"), None);
        // This test build has `socks` (the dev-dependency's features): nothing is unusable.
        assert_eq!(socks.unusable_socks("http://127.0.0.1:8080/v1"), None);
    }

    #[test]
    fn proxy_debug_hides_credentials() {
        let proxy = parse_proxy("http://alice:s3cret@127.0.0.1:3128").unwrap();
        let shown = format!("{:?}", ProxySetting::Url(proxy));
        assert_eq!(shown, "http://127.0.0.1:3128 (credentials redacted)");
    }
}
