//! The one send loop: build the request, send it, retry where the policy says it helps,
//! read the body, decode it.
//!
//! Every operation goes through [`Sender`]: it holds the agent (one connection pool), the
//! configuration, the headers every request carries, and the options of
//! [`ChatApi::with_options`](crate::ChatApi::with_options).
//!
//! # Adding an operation
//!
//! An operation is a few lines in the file of its API family (`src/stored.rs` for stored
//! completions, `src/models.rs` for `GET /models`), in an `impl` block of that family's
//! handle (`ChatApi`, `ModelsApi`, …), naming its route, body and response type and
//! nothing else:
//!
//! ```text
//! pub fn list_models_with_http_info(&self) -> Result<ApiResponse<ModelList>, Error> {
//!     self.sender().call_json(Call::get("/models"))
//! }
//! ```
//!
//! * the route is a path below `base_url`; put ids through
//!   [`encode_path_segment`](crate::util::encode_path_segment) and list parameters in
//!   [`Call::query`];
//! * a JSON body comes only from [`Sender::encode`], which merges the fields of
//!   [`RequestOptions::body_field`](crate::RequestOptions::body_field), so no operation can
//!   drop them;
//! * the response type is named by the return type: [`Sender::call_json`] decodes into it
//!   and names it in a [`DecodeError`];
//! * headers, query parameters of the client, retries, timeouts, token providers and
//!   secret redaction come with the send loop.
//!
//! Then the response type goes under `src/types/`, the file gets a line in
//! `ARCHITECTURE.md`'s layering, and a test under `tests/`.

use std::borrow::Cow;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::agent;
use crate::cache::Cache;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Headers};
use crate::connection;
use crate::error::{
    ApiError, ConfigProblem, DecodeError, Error, TransportError, TransportErrorKind,
};
use crate::error_body::MAX_ERROR_BODY_BYTES;
use crate::http::{self, HeaderName, HeaderValue, Method};
#[cfg(feature = "files")]
use crate::multipart::Form;
use crate::observe::{AttemptWatch, Observer};
use crate::options::RequestOptions;
use crate::response::{ApiResponse, Replayed};
use crate::retry::{self, Decision, Jitter, Outcome, SeededJitter};
use crate::tls::ProxySetting;
use crate::transport_error::{bad_url, transport_error};
use crate::util::{
    bearer_value, header_str, is_secret_header, redact_url, request_id, secret_value, with_query,
};

/// What every call of a client shares: the agent, the settings and the retry state.
pub(crate) struct Sender {
    agent: ureq::Agent,
    config: Config,
    /// The headers every request carries, built once from `config`: auth, organization,
    /// project, then the custom ones (which replace any of the same name).
    headers: Headers,
    jitter: Mutex<SeededJitter>,
    /// The response cache, when the configuration has a directory for it.
    cache: Option<Cache>,
}

/// A serialized JSON request body, made only by [`Sender::encode`] and
/// [`Sender::encode_streaming`], so that it always carries the options' body fields.
pub(crate) struct Body(Vec<u8>);

/// One HTTP call: method, path below `base_url`, query, optional JSON body.
pub(crate) struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Body>,
    /// The body's content type when it is not JSON (a multipart upload).
    content_type: Option<HeaderValue>,
    stream: bool,
}

impl Call {
    /// A call without a body.
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Call {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            content_type: None,
            stream: false,
        }
    }

    /// `GET {base_url}{path}`.
    pub(crate) fn get(path: impl Into<String>) -> Call {
        Call::new(Method::GET, path)
    }

    /// `DELETE {base_url}{path}`.
    #[cfg(any(feature = "stored", feature = "files"))]
    pub(crate) fn delete(path: impl Into<String>) -> Call {
        Call::new(Method::DELETE, path)
    }

    /// `POST {base_url}{path}` with a JSON body.
    pub(crate) fn post(path: impl Into<String>, body: Body) -> Call {
        Call {
            body: Some(body),
            ..Call::new(Method::POST, path)
        }
    }

    /// `POST {base_url}{path}` with a `multipart/form-data` body (a file upload). The
    /// options' JSON body fields do not apply to it.
    #[cfg(feature = "files")]
    pub(crate) fn post_form(path: impl Into<String>, form: &Form) -> Result<Call, Error> {
        let (content_type, bytes) = form.encode();
        let content_type = HeaderValue::from_str(&content_type)
            .map_err(|e| Error::invalid_request(format!("cannot send the form: {e}")))?;
        Ok(Call {
            body: Some(Body(bytes)),
            content_type: Some(content_type),
            ..Call::new(Method::POST, path)
        })
    }

    /// Query parameters of this call (percent-encoded when sent), before the client's.
    #[cfg(any(feature = "stored", feature = "files"))]
    pub(crate) fn query(mut self, pairs: Vec<(String, String)>) -> Call {
        self.query = pairs;
        self
    }

    /// The HTTP method.
    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    /// Asks for `text/event-stream` and bounds the body by the stream idle timeout.
    pub(crate) fn stream(mut self) -> Call {
        self.stream = true;
        self
    }

    /// `{base_url}{path}?{call query}`, without the client's query.
    fn url(&self, base_url: &str) -> String {
        with_query(format!("{base_url}{}", self.path), &self.query)
    }
}

/// A 2xx response as the retry loop hands it back: its body unread (a stream, or a
/// cache hit), or read whole inside the attempt.
enum Answer {
    Unread(http::Response<ureq::Body>),
    Read(http::response::Parts, Vec<u8>),
}

impl Answer {
    /// The last step of an attempt: with `read`, the body is read within `limit`.
    fn finish(
        response: http::Response<ureq::Body>,
        read: bool,
        limit: u64,
    ) -> Result<Answer, ureq::Error> {
        match read {
            true => read_whole(response, limit).map(|(parts, bytes)| Answer::Read(parts, bytes)),
            false => Ok(Answer::Unread(response)),
        }
    }

    /// The response, its body unread (or the bytes already read, as its body).
    fn into_response(self) -> http::Response<ureq::Body> {
        match self {
            Answer::Unread(response) => response,
            Answer::Read(parts, bytes) => {
                http::Response::from_parts(parts, ureq::Body::builder().data(bytes))
            }
        }
    }

    /// The head and whole body (read now, within `limit`, if it was not yet).
    fn read(self, limit: u64) -> Result<(http::response::Parts, Vec<u8>), Error> {
        match self {
            Answer::Read(parts, bytes) => Ok((parts, bytes)),
            Answer::Unread(response) => read_whole(response, limit).map_err(transport_error),
        }
    }
}

/// A response's head and its whole body, read within `limit`.
fn read_whole(
    response: http::Response<ureq::Body>,
    limit: u64,
) -> Result<(http::response::Parts, Vec<u8>), ureq::Error> {
    let (parts, body) = response.into_parts();
    let bytes = body.into_with_config().limit(limit).read_to_vec()?;
    Ok((parts, bytes))
}

impl Sender {
    /// The sender for a client with this configuration.
    pub(crate) fn new(config: Config) -> Sender {
        Sender::with_agent(agent::agent(&config), config)
    }

    /// A sender with these options folded into a copy of this one's configuration,
    /// sharing its agent (no new connection pool).
    pub(crate) fn with_options(&self, options: RequestOptions) -> Sender {
        Sender::with_agent(self.agent.clone(), options.apply_to(self.config.clone()))
    }

    /// A sender for one readiness probe ([`ChatApi::wait_ready`](crate::ChatApi::wait_ready)):
    /// this one's agent and settings at another base URL, without retries or response
    /// cache, the call bounded by `limit` when there is one.
    pub(crate) fn probe(&self, base_url: &str, limit: Option<Duration>) -> Sender {
        let mut config = self.config.clone().max_retries(0);
        if let Some(limit) = limit {
            config = config.total_timeout(limit);
        }
        base_url.clone_into(&mut config.base_url);
        config.cache_dir = None;
        Sender::with_agent(self.agent.clone(), config)
    }

    fn with_agent(agent: ureq::Agent, mut config: Config) -> Sender {
        if matches!(config.proxy, ProxySetting::FromEnv) {
            // The environment's proxy, read when the agent was made: one SOCKS proxy this
            // build cannot speak fails every call (a set one was checked by its setter).
            if let Some(shown) = config.proxy.unusable_socks(&config.base_url) {
                config.note_invalid(ConfigProblem::SocksWithoutFeature(shown, true));
            }
        }
        let cache =
            Cache::new(config.cache_dir.as_deref(), config.cache_mode).unwrap_or_else(|problem| {
                config.note_invalid(problem);
                None
            });
        let mut headers = Headers::default();
        if let Some(value) = config.api_key.as_deref().and_then(bearer_value) {
            headers.insert(http::header::AUTHORIZATION, value);
        }
        if let Some(value) = config.azure_api_key.as_deref().and_then(secret_value) {
            headers.insert(HeaderName::from_static("api-key"), value);
        }
        let named = [
            ("openai-organization", &config.organization),
            ("openai-project", &config.project),
        ];
        for (name, value) in named {
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        headers.extend(&config.headers);
        Sender {
            agent,
            config,
            headers,
            jitter: Mutex::new(SeededJitter::from_entropy()),
            cache,
        }
    }

    /// The configuration in use.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Serializes a request body once (retries resend the same bytes), with the fields of
    /// [`RequestOptions::body_field`] merged in.
    pub(crate) fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Body, Error> {
        self.merge_body_fields(to_json(value)?)
    }

    /// Like [`encode`](Sender::encode), with `"stream": true` added to the object, for a
    /// value that does not itself serialize a `stream` field.
    pub(crate) fn encode_streaming<T: Serialize + ?Sized>(&self, value: &T) -> Result<Body, Error> {
        let mut body = to_json(value)?;
        // A struct serializes as `{...}`: replace the closing brace.
        if body.last() == Some(&b'}') {
            body.pop();
            if body.last() != Some(&b'{') {
                body.push(b',');
            }
            body.extend_from_slice(br#""stream":true}"#);
        }
        self.merge_body_fields(body)
    }

    /// The options' body fields merged in, then the configured [`RequestShape`]
    /// rewrites; without either the bytes are kept as they are.
    ///
    /// [`RequestShape`]: crate::shape::RequestShape
    fn merge_body_fields(&self, body: Vec<u8>) -> Result<Body, Error> {
        let shape = &self.config.request_shape;
        if self.config.body_fields.is_empty() && shape.is_plain() {
            return Ok(Body(body));
        }
        let mut map: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
            Error::invalid_request(format!("the request body is not a JSON object: {e}"))
        })?;
        for (key, value) in &self.config.body_fields {
            map.insert(key.clone(), value.clone());
        }
        shape.apply(&mut map);
        to_json(&map).map(Body)
    }

    /// Sends a call and decodes its 2xx JSON body into `T`.
    ///
    /// The body is read inside the retry loop: a body cut short, broken or stalled is a
    /// failed attempt like a connection that broke before the headers, and is retried
    /// by the same policy. A body over the size limit and a body that is not the
    /// expected JSON are final.
    pub(crate) fn call_json<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<ApiResponse<T>, Error> {
        // A thin generic shell: sending, reading and the error are one non-generic copy.
        let (parts, bytes, retries) = self.fetch(&call)?;
        match serde_json::from_slice::<T>(&bytes) {
            Ok(data) => Ok(response_from(parts, data, retries)),
            Err(e) => Err(self.decode_error(e, &parts, &bytes, std::any::type_name::<T>())),
        }
    }

    /// The [`Error::Decode`] of a 2xx body that is not the JSON of `type_name`, with the
    /// client's secrets redacted.
    fn decode_error(
        &self,
        e: serde_json::Error,
        parts: &http::response::Parts,
        bytes: &[u8],
        type_name: &str,
    ) -> Error {
        let request_id = request_id(&parts.headers).map(str::to_owned);
        let status = parts.status.as_u16();
        let mut error = DecodeError::new(e, bytes, status, type_label(type_name), request_id);
        for secret in self.secrets() {
            error.redact(secret);
        }
        Error::Decode(Box::new(error))
    }

    /// Sends a call and returns its 2xx body as bytes (a file's content, a health probe's
    /// answer), read inside the retry loop and bounded by `max_response_bytes` like a JSON
    /// body.
    pub(crate) fn call_bytes(&self, call: Call) -> Result<ApiResponse<Vec<u8>>, Error> {
        let (parts, bytes, retries) = self.fetch(&call)?;
        Ok(response_from(parts, bytes, retries))
    }

    /// The 2xx response's head and whole body, read within the size limit inside the
    /// retry loop, and the retries taken. Not generic, so one copy serves every
    /// response type.
    fn fetch(&self, call: &Call) -> Result<(http::response::Parts, Vec<u8>, u32), Error> {
        let (answer, retries) = self.execute_then(call, true)?;
        let (parts, bytes) = answer.read(self.config.max_response_bytes)?;
        // At `debug`, the body, redacted with the secrets of the attempt that got it.
        if let Some(o) = parts.extensions.get::<Observer>() {
            let url = call.url(&self.config.base_url);
            o.response_body(&call.method, &url, parts.status.as_u16(), &bytes);
        }
        Ok((parts, bytes, retries))
    }

    /// Sends a call, retrying where the policy says it may help, and returns the first
    /// 2xx response with its body unread, and the number of retries taken.
    pub(crate) fn execute(&self, call: &Call) -> Result<(http::Response<ureq::Body>, u32), Error> {
        let (answer, retries) = self.execute_then(call, false)?;
        Ok((answer.into_response(), retries))
    }

    /// Like [`execute`](Sender::execute); with `read`, the 2xx body is read (within
    /// `max_response_bytes`) inside the retry loop: a transport failure while reading it
    /// counts as a failed attempt and is retried by the same policy as one before the
    /// headers.
    ///
    /// With a response cache, a hit is answered without sending anything, and a 2xx
    /// answer is recorded before it is read (a stream as the caller reads it).
    ///
    /// Not generic (neither are [`attempts`](Sender::attempts) and [`Answer`]), so one
    /// copy serves every call.
    fn execute_then(&self, call: &Call, read: bool) -> Result<(Answer, u32), Error> {
        let limit = self.config.max_response_bytes;
        let finish = |response| Answer::finish(response, read, limit);
        let Some(cache) = &self.cache else {
            return self.attempts(call, &mut |response| finish(response));
        };
        let query = with_query(
            String::new(),
            &[&call.query[..], &self.config.query[..]].concat(),
        );
        let body = call.body.as_ref().map_or(&[][..], |b| b.0.as_slice());
        let slot = cache.slot(call.method.as_str(), &call.path, &query, body);
        // A replay sends nothing, so it needs no key: a fresh clone replays without one.
        let observer = self.observer(None);
        let replay = slot.replay()?;
        if let Some(o) = &observer {
            o.cache(&call.url(&self.config.base_url), replay.is_some());
        }
        if let Some(mut hit) = replay {
            // The stream's watch and the debug body line read the observer from here.
            if let Some(o) = observer {
                hit.extensions_mut().insert(o);
            }
            return finish(hit).map(|value| (value, 0)).map_err(transport_error);
        }
        let secrets: Vec<&str> = self.secrets().collect();
        let mut unwritten = None;
        let result = self.attempts(call, &mut |response| {
            let observer = response.extensions().get::<Observer>().cloned();
            let mut recorded =
                slot.record(response, call.stream, limit, &secrets, &mut unwritten)?;
            if let Some(o) = observer {
                recorded.extensions_mut().insert(o); // kept for whoever reads the body
            }
            finish(recorded)
        });
        match unwritten {
            Some(error) => Err(error),
            None => result,
        }
    }

    /// The attempts of one call, as the retry policy allows, until `finish` succeeds on a
    /// 2xx response or the policy gives up.
    fn attempts(
        &self,
        call: &Call,
        finish: &mut dyn FnMut(http::Response<ureq::Body>) -> Result<Answer, ureq::Error>,
    ) -> Result<(Answer, u32), Error> {
        self.config.validate()?;
        let deadline = agent::deadline(self.config.total_timeout);
        let max_retries = self.config.max_retries;
        let mut retries = 0u32;
        loop {
            let token = self.fresh_token(deadline)?;
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Err(total_timeout_passed(None).with_retries(retries));
            }
            // Whether the deadline, not the attempt's own timeout, is what will cut it.
            let cut_by_deadline =
                left.is_some_and(|l| agent::limit(self.config.timeout).is_none_or(|t| l < t));
            let mut request = self.build_request(call, left)?;
            if let Some(token) = &token {
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, bearer(token)?);
            }
            // Reports the attempt (src/observe.rs); a no-op without a log level or a hook.
            let observer = self.observer(token.as_deref());
            let mut watch = AttemptWatch::start(observer, call.method(), &request, retries + 1);
            let error = match self.agent.run(request) {
                Ok(mut response) if response.status().is_success() => {
                    watch.answered(&mut response);
                    match finish(response) {
                        Ok(value) => {
                            watch.succeeded();
                            return Ok((value, retries));
                        }
                        Err(e) => attempt_error(e, cut_by_deadline),
                    }
                }
                Ok(response) => Error::Api(Box::new(self.api_error(response, token.as_deref()))),
                Err(e) => attempt_error(e, cut_by_deadline),
            };
            let decision = match error.retry_outcome() {
                Some(outcome) => self.decide(&outcome, retries, max_retries, deadline),
                None => Decision::GiveUp { retry_after: None },
            };
            watch.failed(&error, &decision);
            match decision {
                Decision::Retry(delay) => {
                    self.sleep(delay);
                    retries += 1;
                }
                Decision::GiveUp { .. } => return Err(error.with_retries(retries)),
            }
        }
    }

    /// The observer of a call (see src/observe.rs), or `None` when nothing is reported.
    /// A 2xx response of [`execute`](Sender::execute) carries the observer of its attempt
    /// in its extensions.
    pub(crate) fn observer(&self, token: Option<&str>) -> Option<Observer> {
        let config = &self.config;
        Observer::new(
            config.log_level,
            config.on_event.as_ref(),
            self.secrets().chain(token),
        )
    }

    /// A token from the configured provider, asked for before each attempt.
    ///
    /// With a deadline the provider runs on its own thread, so that a provider that
    /// hangs cannot hold the call past it (the thread is left to finish on its own).
    fn fresh_token(&self, deadline: Option<Instant>) -> Result<Option<String>, Error> {
        let Some(provider) = &self.config.token_provider else {
            return Ok(None);
        };
        let result = match deadline {
            None => (provider.0)(),
            Some(deadline) => {
                // One slot and a condition variable, not a channel: the same wait, without
                // the code of three channel flavours in every build. The slot is marked done
                // when the thread ends, also by a panic, so a provider that panics ends the
                // wait at once, as a dropped channel did.
                type Slot = (Mutex<(Option<Result<String, String>>, bool)>, Condvar);
                struct Done(Arc<Slot>);
                impl Drop for Done {
                    fn drop(&mut self) {
                        let (lock, ready) = &*self.0;
                        lock.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
                        ready.notify_one();
                    }
                }
                let provider = Arc::clone(&provider.0);
                let slot: Arc<Slot> = Arc::new((Mutex::new((None, false)), Condvar::new()));
                let done = Done(Arc::clone(&slot));
                std::thread::spawn(move || {
                    let token = provider();
                    let (lock, _) = &*done.0;
                    lock.lock().unwrap_or_else(PoisonError::into_inner).0 = Some(token);
                });
                let left = deadline.saturating_duration_since(Instant::now());
                let (lock, ready) = &*slot;
                let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
                let (mut guard, _) = ready
                    .wait_timeout_while(guard, left, |(_, finished)| !*finished)
                    .unwrap_or_else(PoisonError::into_inner);
                guard.0.take().ok_or_else(|| total_timeout_passed(None))?
            }
        };
        result
            .map(|t| Some(t.trim().to_owned()))
            .map_err(|e| Error::config(ConfigProblem::TokenProviderFailed(e)))
    }

    /// Waits before a retry, on the configured clock.
    fn sleep(&self, delay: Duration) {
        match &self.config.clock {
            Some(clock) => clock.sleep(delay),
            None => SystemClock.sleep(delay),
        }
    }

    fn decide(
        &self,
        outcome: &Outcome<'_>,
        retries: u32,
        max_retries: u32,
        deadline: Option<Instant>,
    ) -> Decision {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        // A poisoned lock only means another thread panicked mid-draw; the state is
        // still a valid PRNG state, so keep using it.
        let mut jitter = self.jitter.lock().unwrap_or_else(PoisonError::into_inner);
        retry::decide_with(
            &self.config.retry_backoff,
            outcome,
            retries,
            max_retries,
            remaining,
            SystemTime::now(),
            &mut *jitter as &mut dyn Jitter,
        )
    }

    /// The request for one attempt: URL, headers, body and timeouts; `left` is the time
    /// before the call's deadline.
    pub(crate) fn build_request<'b>(
        &self,
        call: &'b Call,
        left: Option<Duration>,
    ) -> Result<http::Request<&'b [u8]>, Error> {
        let call_url = call.url(&self.config.base_url);
        let url = match self.config.query.is_empty() {
            true => Cow::Borrowed(call_url.as_str()),
            false => Cow::Owned(with_query(call_url.clone(), &self.config.query)),
        };
        let body = call.body.as_ref().map_or(&[][..], |b| b.0.as_slice());
        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(url.as_ref())
            .body(body)
            .map_err(|e| bad_url(&call_url, e))?;
        self.add_headers(request.headers_mut(), call);
        Ok(agent::with_timeouts(
            &self.agent,
            request,
            &self.config,
            call.stream,
            left,
        ))
    }

    /// The client's headers, then the content type and `Accept` the call needs.
    fn add_headers(&self, headers: &mut http::HeaderMap, call: &Call) {
        headers.reserve(self.headers.len() + 2);
        for (name, value) in self.headers.iter() {
            headers.insert(name.clone(), value.clone());
        }
        if call.body.is_some() {
            let content_type = call.content_type.clone();
            headers.insert(
                http::header::CONTENT_TYPE,
                content_type.unwrap_or(HeaderValue::from_static("application/json")),
            );
        }
        if call.stream {
            headers.insert(
                http::header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            );
        }
    }

    /// Reads a non-2xx response into an [`ApiError`], with a bounded body.
    fn api_error(&self, response: http::Response<ureq::Body>, token: Option<&str>) -> ApiError {
        let (parts, body) = response.into_parts();
        // A broken body still leaves the status and headers to report: keep what came.
        let bytes = read_error_body(body, agent::deadline(Some(self.config.timeout)));
        let mut error = ApiError::new(parts.status.as_u16(), parts.headers, &bytes);
        if (300..400).contains(&error.status) {
            if let Some(location) = header_str(&error.headers, "location") {
                // Bounded, without userinfo or secret query values, then redacted below.
                let message = format!("{} (redirect to {})", error.message(), redact_url(location));
                error.set_message(message);
            }
        }
        for secret in self.secrets().chain(token) {
            error.redact(secret);
        }
        error
    }

    /// The credentials this client sends (see `secrets`), for a stream to redact from
    /// what the server sends inside it.
    pub(crate) fn secret_values(&self) -> Vec<String> {
        self.secrets()
            .filter(|s| s.len() >= 8)
            .map(str::to_owned)
            .collect()
    }

    /// The credentials this client sends: the key and the values of secret headers.
    fn secrets(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(|(name, _)| is_secret_header(name.as_str()))
            .filter_map(|(_, value)| value.to_str().ok())
            .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
            .chain(self.config.api_key.as_deref())
    }
}

/// The name of the type a body decodes into, for a [`DecodeError`], without module paths:
/// `CreateChatCompletionResponse`, `List<ChatCompletionMessageListData>`, from its
/// `std::any::type_name`.
fn type_label(full: &str) -> String {
    let last = |path: &str| path.rsplit("::").next().unwrap_or_default().to_owned();
    let mut label = String::with_capacity(full.len());
    let mut path = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            label.push_str(&last(&path));
            path.clear();
            label.push(c);
        }
    }
    label.push_str(&last(&path));
    label
}

/// Serializes a value as JSON; the only place a request body is serialized.
fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value)
        .map_err(|e| Error::invalid_request(format!("the request cannot be encoded as JSON: {e}")))
}

/// An `Authorization: Bearer` value, marked sensitive.
fn bearer(token: &str) -> Result<HeaderValue, Error> {
    bearer_value(token).ok_or_else(|| Error::config(ConfigProblem::TokenNotHeaderSafe))
}

/// Reads at most [`MAX_ERROR_BODY_BYTES`] of an error body, stopping at the first
/// failure or once `deadline` has passed, between reads and within one (a streamed call's
/// body has no whole-body timeout of its own, only the silence between reads).
fn read_error_body(body: ureq::Body, deadline: Option<Instant>) -> Vec<u8> {
    let mut reader = body.into_reader().take(MAX_ERROR_BODY_BYTES as u64);
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    while deadline.is_none_or(|d| Instant::now() < d) {
        match connection::until(deadline, || reader.read(&mut buf)) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    bytes
}

/// A failed attempt's error: a timeout the call's deadline caused says so.
fn attempt_error(e: ureq::Error, cut_by_deadline: bool) -> Error {
    match e {
        ureq::Error::Timeout(ureq::Timeout::PerCall | ureq::Timeout::Global) if cut_by_deadline => {
            total_timeout_passed(Some(e))
        }
        e => transport_error(e),
    }
}

/// The error of a call whose `total_timeout` passed, with ureq's timeout when it cut an
/// attempt.
pub(crate) fn total_timeout_passed(source: Option<ureq::Error>) -> Error {
    Error::Transport(TransportError::new(
        TransportErrorKind::Timeout,
        "the call's total_timeout passed; raise Config::total_timeout or RequestOptions::total_timeout if the server needs longer",
        source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
    ))
}

/// The `ApiResponse` of a 2xx answer's head, its decoded body and the retries taken.
fn response_from<T>(parts: http::response::Parts, data: T, retries: u32) -> ApiResponse<T> {
    ApiResponse {
        status: parts.status.as_u16(),
        replayed: parts.extensions.get::<Replayed>().is_some(),
        headers: parts.headers,
        data,
        retries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CreateChatCompletionResponse, List};

    #[test]
    fn decode_targets_are_short_type_names() {
        assert_eq!(
            type_label(std::any::type_name::<CreateChatCompletionResponse>()),
            "CreateChatCompletionResponse"
        );
        assert_eq!(
            type_label(std::any::type_name::<List<CreateChatCompletionResponse>>()),
            "List<CreateChatCompletionResponse>"
        );
        assert_eq!(
            type_label(std::any::type_name::<Vec<Option<(u8, String)>>>()),
            "Vec<Option<(u8, String)>>"
        );
    }
}
