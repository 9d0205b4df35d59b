//! The `ureq::Agent` a [`Config`] describes, and the timeouts each request adds to it.
//!
//! Everything the transport needs from the configuration is decided here: redirects,
//! the user agent, the connect and per-call timeouts (and, as they are added, TLS, proxy
//! and pool settings). The send loop asks for an agent once per client and for a
//! request's timeouts once per attempt.

use crate::config::Config;
use crate::http;

/// The `User-Agent` every request carries.
const USER_AGENT: &str = concat!("sync-openai/", env!("CARGO_PKG_VERSION"));

/// The agent (one connection pool) for a client with this configuration.
pub(crate) fn agent(config: &Config) -> ureq::Agent {
    ureq::Agent::config_builder()
        // Error statuses are answers to read, not transport failures.
        .http_status_as_error(false)
        // Redirects are not followed: a POST must not be replayed at another address,
        // and credentials must never reach another host. A 3xx is an `Error::Api`.
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .accept("application/json")
        .timeout_connect(Some(config.connect_timeout))
        .timeout_per_call(Some(config.timeout))
        .build()
        .into()
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
