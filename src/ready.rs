//! `ChatApi::wait_ready`: waiting for a local server that is still starting or loading
//! its model.
//!
//! Each poll asks `GET {root}/health` (llama.cpp, vLLM and TGI serve it at the server's
//! root, the base URL without its `/v1`) and, where that is not served, `GET /models`
//! below the base URL. A refused or broken connection, a timeout and a 503 (llama.cpp's
//! `Loading model`), 502, 504, 408 or 429 mean "not yet"; a 2xx means ready; anything else
//! is an answer that waiting will not change (a bad key, a server without either
//! endpoint, a model that failed to load) and is returned at once.

use std::time::Duration;

use crate::api::ChatApi;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::send::Call;
use crate::util::redact_url;

/// The wait after the first poll; each later wait doubles, up to [`MAX_INTERVAL`].
const FIRST_INTERVAL: Duration = Duration::from_millis(50);
/// The longest wait between two polls.
const MAX_INTERVAL: Duration = Duration::from_secs(1);

/// What one poll learnt.
enum Poll {
    Ready,
    /// Not serving yet; the answer that says so.
    NotYet(Error),
    /// An answer that waiting will not change.
    Final(Error),
}

impl ChatApi {
    /// Waits until the server serves requests, for at most `timeout`: for a local server
    /// (llama.cpp's `llama-server`, vLLM, Ollama, LM Studio) that was just started and may
    /// still be loading its model.
    ///
    /// It polls `GET /health` at the server's root (the base URL without a trailing `/v1`:
    /// llama.cpp and vLLM answer there, 503 while the model loads) and, where that is not
    /// served (Ollama, OpenAI, most gateways), `GET /models` below the base URL. The
    /// first wait between polls is 50 ms, each later one doubles, up to 1 s; no wait ends
    /// past the timeout. A zero timeout polls once. Each poll is one request, without the
    /// client's retries or response cache, and is logged and reported like any other call.
    ///
    /// # Errors
    ///
    /// * At once, the answer that waiting will not change: [`Error::Api`] for a 401 or 403
    ///   (a missing or wrong key), a 404 from both endpoints (a base URL that is not an
    ///   OpenAI-compatible server), a 500 (a model that failed to load) or any other status
    ///   but 408, 429, 502, 503 and 504; [`Error::Transport`] for a TLS failure or a bad
    ///   URL; [`Error::Config`] for an unusable configuration.
    /// * When `timeout` passes first: an [`Error::Transport`] of kind
    ///   [`Timeout`](crate::error::TransportErrorKind::Timeout) whose message says what the
    ///   server answered last (connection refused, `503 … Loading model`) and what to do;
    ///   that last answer is its [`source`](std::error::Error::source).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sync_openai::testing::{MockServer, Reply};
    /// use sync_openai::ChatApi;
    ///
    /// let server = MockServer::start();
    /// server
    ///     .reply(Reply::error(503, "Loading model"))
    ///     .reply(Reply::raw(200, r#"{"status":"ok"}"#));
    /// let api = ChatApi::new(server.config());
    /// api.wait_ready(Duration::from_secs(60))?;
    /// assert_eq!(server.requests()[1].path(), "/health");
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn wait_ready(&self, timeout: Duration) -> Result<(), Error> {
        self.wait_ready_on(&SystemClock, timeout)
    }

    /// [`wait_ready`](ChatApi::wait_ready), its waits and deadline on `clock`.
    fn wait_ready_on(&self, clock: &dyn Clock, timeout: Duration) -> Result<(), Error> {
        self.config().validate()?;
        let start = clock.now();
        // `None`: a timeout too large to add to the clock, i.e. no limit.
        let deadline = start.checked_add(timeout);
        let mut health = true;
        let mut interval = FIRST_INTERVAL;
        let mut polls = 0u32;
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(clock.now()));
            polls += 1;
            let last = match self.poll(&mut health, left.filter(|l| !l.is_zero())) {
                Poll::Ready => return Ok(()),
                Poll::Final(error) => return Err(error),
                Poll::NotYet(error) => error,
            };
            let left = deadline.map(|d| d.saturating_duration_since(clock.now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(self.not_ready(clock.now() - start, polls, last));
            }
            clock.sleep(left.map_or(interval, |l| interval.min(l)));
            interval = next_interval(interval);
            if deadline.is_some_and(|d| clock.now() >= d) {
                return Err(self.not_ready(clock.now() - start, polls, last));
            }
        }
    }

    /// One poll: `/health` at the root while it may be served, else `/models`; each
    /// request bounded by `limit`.
    fn poll(&self, health: &mut bool, limit: Option<Duration>) -> Poll {
        let base_url = self.config().get_base_url();
        if *health {
            let probe = self.sender().probe(server_root(base_url), limit);
            match probe.call_bytes(Call::get("/health")) {
                Ok(_) => return Poll::Ready,
                Err(e) if not_yet(&e) => return Poll::NotYet(e),
                Err(e) if matches!(e.status(), Some(401 | 403)) => return Poll::Final(e),
                // Not served here (404, 405, anything else): ask `/models` from now on.
                Err(_) => *health = false,
            }
        }
        let probe = self.sender().probe(base_url, limit);
        match probe.call_bytes(Call::get("/models")) {
            Ok(_) => Poll::Ready,
            Err(e) if not_yet(&e) => Poll::NotYet(e),
            Err(e) => Poll::Final(e),
        }
    }

    /// The error of a wait that timed out, naming the server's last answer.
    fn not_ready(&self, waited: Duration, polls: u32, last: Error) -> Error {
        let url = redact_url(self.config().get_base_url());
        let secs = waited.as_secs_f64();
        let message = match last.is_connect() {
            true => format!(
                "no server answered at {url} within {secs:.1} s ({polls} polls; last: {last}): start the server, check the base URL and port, or wait longer"
            ),
            false => format!(
                "the server at {url} was not ready within {secs:.1} s ({polls} polls); its last answer: {last}: wait longer if it is still loading its model, or look at its log"
            ),
        };
        Error::Transport(TransportError::new(
            TransportErrorKind::Timeout,
            message,
            Some(Box::new(last)),
        ))
    }
}

/// Whether an answer means the server is not serving yet: a refused, broken or timed-out
/// connection, or a retryable 408, 429, 502, 503 (llama.cpp's `Loading model`) or 504.
fn not_yet(error: &Error) -> bool {
    match error {
        Error::Api(e) => matches!(e.status, 408 | 429 | 502..=504) && error.is_retryable(),
        Error::Transport(e) => matches!(
            e.kind(),
            TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io
        ),
        _ => false,
    }
}

/// The next wait between polls: double the last, at most [`MAX_INTERVAL`].
fn next_interval(interval: Duration) -> Duration {
    interval.saturating_mul(2).min(MAX_INTERVAL)
}

/// The server's root: `base_url` without a last path segment `v1` (or `v2`, …), where
/// llama.cpp and vLLM serve `/health`.
fn server_root(base_url: &str) -> &str {
    let Some((root, last)) = base_url.rsplit_once('/') else {
        return base_url;
    };
    let is_version = last
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    // `root` must still hold a host: `http://v1` has no path to strip.
    let has_host = root
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty());
    match is_version && has_host {
        true => root,
        false => base_url,
    }
}

#[cfg(test)]
// Tests may unwrap and index: a panic is the failure report.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_root_drops_a_version_segment_only() {
        let cases = [
            ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://host/proxy/v1", "http://host/proxy"),
            ("http://host/api/v2", "http://host/api"),
            ("https://api.openai.com/v1", "https://api.openai.com"),
            ("http://v1", "http://v1"),
            ("http://host/vx", "http://host/vx"),
            ("http://host/v", "http://host/v"),
            (
                "https://r.openai.azure.com/openai/deployments/gpt",
                "https://r.openai.azure.com/openai/deployments/gpt",
            ),
        ];
        for (base, root) in cases {
            assert_eq!(server_root(base), root, "{base}");
        }
    }

    /// A clock whose sleeps only move its time forward, and are recorded.
    struct FakeClock {
        start: std::time::Instant,
        slept: std::sync::Mutex<Vec<Duration>>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> std::time::Instant {
            self.start + self.slept.lock().unwrap().iter().sum::<Duration>()
        }
        fn sleep(&self, d: Duration) {
            self.slept.lock().unwrap().push(d);
        }
    }

    #[test]
    fn waits_grow_and_the_last_one_ends_at_the_timeout() {
        // A port nobody listens on: every poll is refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let api = ChatApi::new(
            crate::config::Config::new().base_url(format!("http://127.0.0.1:{port}/v1")),
        );
        let clock = FakeClock {
            start: std::time::Instant::now(),
            slept: std::sync::Mutex::new(Vec::new()),
        };
        let error = api
            .wait_ready_on(&clock, Duration::from_secs(3))
            .unwrap_err();
        let slept: Vec<u128> = clock
            .slept
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_millis)
            .collect();
        assert_eq!(slept, [50, 100, 200, 400, 800, 1000, 450]);
        assert!(error.is_timeout(), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "no server answered at http://127.0.0.1:{port}/v1 within 3.0 s (7 polls; last: "
            )),
            "{message}"
        );
        assert!(
            message.ends_with("start the server, check the base URL and port, or wait longer"),
            "{message}"
        );
        let source = std::error::Error::source(&error).unwrap().to_string();
        assert!(message.contains(&source), "{message} / {source}");
    }

    #[test]
    fn waits_double_from_50_ms_up_to_1_s() {
        let mut interval = FIRST_INTERVAL;
        let mut seen = vec![interval];
        for _ in 0..7 {
            interval = next_interval(interval);
            seen.push(interval);
        }
        let ms: Vec<u128> = seen.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
    }
}
