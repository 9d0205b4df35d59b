//! The `ureq::Agent` a [`Config`] describes, and the timeouts each request adds to it.
//!
//! Everything the transport needs from the configuration is decided here: redirects,
//! the user agent, timeouts, the connection pool (and, as they are added, TLS and proxy
//! settings). The send loop asks for an agent once per client and for a request's
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

/// The `User-Agent` every request carries.
const USER_AGENT: &str = concat!("sync-openai/", env!("CARGO_PKG_VERSION"));

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
    ureq::Agent::with_parts(
        builder.build(),
        DefaultConnector::default().chain(Prompt),
        Resolver::default(),
    )
}

type Builder = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

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
/// `config.timeout`, then the silence between reads by `config.stream_idle_timeout`,
/// and all of it by `left`.
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
