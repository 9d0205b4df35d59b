//! The `ureq::Agent` a [`Config`] describes, and the timeouts each request adds to it.
//!
//! Everything the transport needs from the configuration is decided here: redirects,
//! the user agent, timeouts, the connection pool, TLS and the proxy. The send loop asks for an agent once per client and for a request's
//! timeouts once per attempt.
//!
//! # What the timeouts cost
//!
//! ureq resolves the host name on every call, even when a pooled connection is then
//! reused, and its resolver spawns a thread for the lookup whenever the call has a
//! deadline (`scripts/ureq-timeout-cost/` measures it: 2.4× the time of a pooled
//! loopback request). [`Resolver`] answers IP literals itself and remembers a name's
//! addresses for a second, and every connection keeps its socket timeouts steady
//! ([`connection`](crate::connection)), so a call with a deadline costs what one
//! without does.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs};
use ureq::unversioned::transport::{Connector, DefaultConnector, NextTimeout};

use crate::config::Config;
use crate::connection::Prompt;
use crate::http;
use crate::tls::{ProxySetting, TlsSettings};

/// The `User-Agent` every request carries.
pub(crate) const USER_AGENT: &str = concat!("sync-openai/", env!("CARGO_PKG_VERSION"));

/// Timeouts this long or longer mean no limit: `Duration::MAX` and anything else too
/// large to add to the present time (100 years always can be).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// How long a resolved name's addresses are reused by later calls.
const RESOLVED_FOR: Duration = Duration::from_secs(1);

/// The agent (one connection pool) for a client with this configuration.
pub(crate) fn agent(config: &Config) -> ureq::Agent {
    let builder = ureq::Agent::config_builder()
        // Error statuses are answers to read, not transport failures.
        .http_status_as_error(false)
        // Redirects are not followed: a POST must not be replayed at another address,
        // and credentials must never reach another host. A 3xx is an `Error::Api`.
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .accept("application/json");
    let builder = pool(timeouts(builder, config), config);
    let builder = with_tls(with_proxy(builder, &config.proxy), &config.tls);
    ureq::Agent::with_parts(
        builder.build(),
        DefaultConnector::default().chain(Prompt),
        Resolver::default(),
    )
}

/// An agent builder under construction.
type Builder = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

/// The agent's proxy: the environment's (ureq reads it when the builder is made), none, or
/// the one set with `Config::proxy`.
fn with_proxy(builder: Builder, proxy: &ProxySetting) -> Builder {
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
fn with_tls(builder: Builder, tls: &TlsSettings) -> Builder {
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
fn with_tls(builder: Builder, _tls: &TlsSettings) -> Builder {
    builder
}

/// The agent's timeouts, those of a non-streamed call without a deadline: DNS and the
/// connection setup each within `connect_timeout`, the whole call within `timeout`.
fn timeouts(builder: Builder, config: &Config) -> Builder {
    let connect = limit(config.connect_timeout);
    builder
        .timeout_resolve(connect)
        .timeout_connect(connect)
        .timeout_per_call(limit(config.timeout))
}

/// The pool: how many idle connections are kept for the next calls.
fn pool(builder: Builder, config: &Config) -> Builder {
    builder
        .max_idle_connections(config.max_idle_connections)
        .max_idle_connections_per_host(config.max_idle_connections_per_host)
}

/// `timeout` as a limit: `None` (no limit) for `Duration::MAX` and any other value too
/// large to add to the present time.
pub(crate) fn limit(timeout: Duration) -> Option<Duration> {
    (timeout < FOREVER).then_some(timeout)
}

/// The instant `timeout` from now, or `None` for no limit.
pub(crate) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout
        .and_then(limit)
        .and_then(|t| Instant::now().checked_add(t))
}

/// The shorter of two optional limits (`None` is no limit).
fn shorter(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// `request` with the timeouts `config` gives it on this agent; `left` is what remains
/// before the call's deadline (`None`: no deadline).
///
/// A non-streamed attempt, DNS to the last body byte, is bounded by `config.timeout`
/// and `left`, whichever is shorter: the agent's own per-call timeout when that is it.
/// A stream may last longer than any whole-request timeout: each step up to its headers
/// (sending the request, its body, waiting for the headers) is bounded by
/// `config.timeout`, then the silence between reads by `config.stream_idle_timeout`
/// (the stream itself counts that time from its last bytes of event data, see
/// `stream/body.rs`), and all of it by `left`.
pub(crate) fn with_timeouts<'b>(
    agent: &ureq::Agent,
    request: http::Request<&'b [u8]>,
    config: &Config,
    stream: bool,
    left: Option<Duration>,
) -> http::Request<&'b [u8]> {
    let timeout = limit(config.timeout);
    if stream {
        return agent
            .configure_request(request)
            .timeout_per_call(None)
            .timeout_send_request(timeout)
            .timeout_send_body(timeout)
            .timeout_recv_response(timeout)
            .timeout_per_read(limit(config.stream_idle_timeout))
            .timeout_global(left)
            .build();
    }
    let per_call = shorter(timeout, left);
    if agent.config().timeouts().per_call == per_call {
        return request;
    }
    agent
        .configure_request(request)
        .timeout_per_call(per_call)
        .build()
}

/// ureq's resolver, without its cost on calls that have a deadline: an IP literal is
/// its own answer, and a name looked up less than [`RESOLVED_FOR`] ago is answered from
/// memory. Other lookups go to ureq's resolver, bounded by the resolve timeout.
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    inner: DefaultResolver,
    recent: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl ureq::unversioned::resolver::Resolver for Resolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse::<IpAddr>();
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        if let (Ok(ip), Some(port)) = (literal, port) {
            let mut addrs = self.empty();
            let family = config.ip_family();
            let wanted = family.keep_wanted(std::iter::once(SocketAddr::new(ip, port)));
            for addr in wanted {
                let _ = addrs.try_push(addr);
            }
            return match addrs.is_empty() {
                true => Err(ureq::Error::HostNotFound),
                false => Ok(addrs),
            };
        }
        let key = format!("{host}:{}:{:?}", port.unwrap_or(0), config.ip_family());
        let now = Instant::now();
        {
            let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, addrs)) = recent.get(&key) {
                if now.saturating_duration_since(*at) < RESOLVED_FOR {
                    return Ok(addrs.clone());
                }
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        // A client talks to a handful of hosts; forget all rather than grow.
        if recent.len() >= 64 {
            recent.clear();
        }
        recent.insert(key, (now, addrs.clone()));
        Ok(addrs)
    }
}
