//! The `ureq::Agent` a [`Config`] describes, and the timeouts each request adds to it.
//!
//! Everything the transport needs from the configuration is decided here: redirects,
//! the user agent, the connect and per-call timeouts (and, as they are added, TLS, proxy
//! and pool settings). The send loop asks for an agent once per client and for a
//! request's timeouts once per attempt.

use crate::config::Config;
use crate::http;
use crate::tls::{ProxySetting, TlsSettings};

/// The `User-Agent` every request carries.
const USER_AGENT: &str = concat!("sync-openai/", env!("CARGO_PKG_VERSION"));

/// The agent (one connection pool) for a client with this configuration.
pub(crate) fn agent(config: &Config) -> ureq::Agent {
    let builder = ureq::Agent::config_builder()
        // Error statuses are answers to read, not transport failures.
        .http_status_as_error(false)
        // Redirects are not followed: a POST must not be replayed at another address,
        // and credentials must never reach another host. A 3xx is an `Error::Api`.
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .accept("application/json")
        .timeout_connect(Some(config.connect_timeout))
        .timeout_per_call(Some(config.timeout));
    let builder = with_proxy(builder, &config.proxy);
    let builder = with_tls(builder, &config.tls);
    builder.build().into()
}

/// An agent builder under construction.
type AgentBuilder = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

/// The agent's proxy: the environment's (ureq reads it when the builder is made), none, or
/// the one set with `Config::proxy`.
fn with_proxy(builder: AgentBuilder, proxy: &ProxySetting) -> AgentBuilder {
    match proxy {
        ProxySetting::FromEnv => builder,
        ProxySetting::Off => builder.proxy(None),
        ProxySetting::Url(proxy) => builder.proxy(Some(proxy.clone())),
    }
}

/// The agent's TLS: which provider (native-tls wins when it is compiled in, then
/// platform-verifier, then rustls), which roots, which client certificate.
///
/// Every combination sets a provider whose feature is enabled and roots that provider can
/// load, so ureq's "feature is not enabled" panics cannot be reached.
#[cfg(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
))]
fn with_tls(builder: AgentBuilder, tls: &TlsSettings) -> AgentBuilder {
    use ureq::tls::{Certificate, ClientCert, RootCerts, TlsConfig, TlsProvider};

    let (provider, default_roots) = if cfg!(feature = "native-tls") {
        // For native-tls, "platform verifier" means the library's own default roots: the
        // operating system's store (and SSL_CERT_FILE / SSL_CERT_DIR for OpenSSL).
        (TlsProvider::NativeTls, RootCerts::PlatformVerifier)
    } else if cfg!(feature = "platform-verifier") {
        (TlsProvider::Rustls, RootCerts::PlatformVerifier)
    } else {
        (TlsProvider::Rustls, RootCerts::WebPki)
    };
    let roots = match &tls.ca_certificates {
        Some(certs) => RootCerts::new_with_certs(
            &certs
                .iter()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect::<Vec<_>>(),
        ),
        None => default_roots,
    };
    let client_cert = tls.client_certificate.as_ref().map(|identity| {
        let chain: Vec<Certificate<'static>> = identity
            .chain
            .iter()
            .map(|der| Certificate::from_der(der).to_owned())
            .collect();
        ClientCert::new_with_certs(&chain, identity.key.to_owned())
    });
    builder.tls_config(
        TlsConfig::builder()
            .provider(provider)
            .root_certs(roots)
            .client_cert(client_cert)
            .build(),
    )
}

/// Without a TLS feature there is nothing to configure; `https://` URLs are refused before
/// sending (see `Config::validate`).
#[cfg(not(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
)))]
fn with_tls(builder: AgentBuilder, _tls: &TlsSettings) -> AgentBuilder {
    builder
}

/// `request` with the timeouts `config` gives it on this agent.
///
/// A stream may last longer than any whole-request timeout: its wait for the headers is
/// bounded by `config.timeout`, then the silence between reads by
/// `config.stream_idle_timeout`. Any other request keeps the agent's per-call timeout,
/// unless `config.timeout` differs from it (after
/// [`RequestOptions::timeout`](crate::RequestOptions::timeout)).
pub(crate) fn with_timeouts<'b>(
    agent: &ureq::Agent,
    request: http::Request<&'b [u8]>,
    config: &Config,
    stream: bool,
) -> http::Request<&'b [u8]> {
    if stream {
        return agent
            .configure_request(request)
            .timeout_per_call(None)
            .timeout_recv_response(Some(config.timeout))
            .timeout_per_read(Some(config.stream_idle_timeout))
            .build();
    }
    if agent.config().timeouts().per_call == Some(config.timeout) {
        return request;
    }
    agent
        .configure_request(request)
        .timeout_per_call(Some(config.timeout))
        .build()
}
