//! `ChatApi`: the client and its one send path.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{
    header_str, ApiError, DecodeError, Error, TransportError, TransportErrorKind,
    MAX_ERROR_BODY_BYTES,
};
use crate::http::{self, HeaderName, HeaderValue, Method};
use crate::options::RequestOptions;
use crate::response::ApiResponse;
use crate::retry::{self, Decision, Jitter, Outcome, SeededJitter, Sleeper, ThreadSleeper};
use crate::stream::ChatCompletionStream;
use crate::types::{CreateChatCompletionRequest, CreateChatCompletionResponse};

const USER_AGENT: &str = concat!("sync-openai/", env!("CARGO_PKG_VERSION"));

/// A blocking client for the Chat Completions API of OpenAI or any compatible server.
///
/// One `ChatApi` holds one connection pool. Clones are cheap and share it, so clone the
/// client into threads rather than building a new one per request. `ChatApi` is
/// `Send + Sync`.
///
/// # Examples
///
/// ```no_run
/// use sync_openai::ChatApi;
/// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
///
/// let api = ChatApi::from_env()?;
/// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")]);
/// let resp = api.create_chat_completion(&req)?;
/// println!("{}", resp.choices[0].message.content.as_deref().unwrap_or(""));
/// # Ok::<(), sync_openai::Error>(())
/// ```
#[derive(Clone)]
pub struct ChatApi {
    agent: ureq::Agent,
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    /// `{base_url}/chat/completions`, built once.
    chat_url: String,
    /// The headers every request carries, built once: auth, organization, project, custom.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Why every call fails, when the configuration is unusable.
    invalid: Option<String>,
    sleeper: Arc<dyn Sleeper>,
    jitter: Mutex<SeededJitter>,
    /// Query parameters added to every URL (from [`RequestOptions::query`]).
    query: Vec<(String, String)>,
    /// Fields merged into every JSON body (from [`RequestOptions::body_field`]).
    body_fields: Map<String, Value>,
    /// Whether `config.timeout` differs from the agent's and must be set per request.
    timeout_overridden: bool,
}

impl ChatApi {
    /// A client with this configuration.
    ///
    /// This never fails: an unusable configuration (a header value with a newline, no key
    /// for api.openai.com) is reported by every call as [`Error::Config`]. Use
    /// [`Config::validate`] to check it up front.
    pub fn new(config: Config) -> ChatApi {
        let agent: ureq::Agent = ureq::Agent::config_builder()
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
            .into();
        let sleeper: Arc<dyn Sleeper> = match &config.retry_sleep {
            Some(sleep) => Arc::new(sleep.clone()),
            None => Arc::new(ThreadSleeper),
        };
        ChatApi::with_agent(agent, config, sleeper)
    }

    /// A client configured from the environment; see [`Config::from_env`].
    ///
    /// Fails with [`Error::Config`] when no `OPENAI_API_KEY` is set and the base URL is
    /// OpenAI's own. With `OPENAI_BASE_URL` pointing elsewhere (Ollama, llama.cpp, vLLM)
    /// no key is needed and none is sent.
    pub fn from_env() -> Result<ChatApi, Error> {
        let config = Config::from_env();
        config.validate()?;
        Ok(ChatApi::new(config))
    }

    pub(crate) fn with_agent(
        agent: ureq::Agent,
        config: Config,
        sleeper: Arc<dyn Sleeper>,
    ) -> ChatApi {
        let mut headers = Vec::with_capacity(config.headers.len() + 3);
        if let Some(value) = config.api_key.as_deref().and_then(bearer_value) {
            headers.push((http::header::AUTHORIZATION, value));
        }
        if let Some(value) = config.azure_api_key.as_deref().and_then(secret_value) {
            headers.push((HeaderName::from_static("api-key"), value));
        }
        let named = [
            ("openai-organization", &config.organization),
            ("openai-project", &config.project),
        ];
        for (name, value) in named {
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.push((HeaderName::from_static(name), value));
            }
        }
        for (name, value) in &config.headers {
            headers.retain(|(n, _)| n != name);
            headers.push((name.clone(), value.clone()));
        }
        let invalid = config.validate().err().map(|e| e.to_string());
        let query = config.query.clone();
        ChatApi {
            agent,
            inner: Arc::new(Inner {
                chat_url: format!("{}/chat/completions", config.base_url),
                headers,
                invalid,
                sleeper,
                jitter: Mutex::new(SeededJitter::from_entropy()),
                config,
                query,
                body_fields: Map::new(),
                timeout_overridden: false,
            }),
        }
    }

    /// A client for some calls with other settings, sharing this one's connection pool.
    ///
    /// Cheap: no new pool, no new TLS setup. The options add to or override this
    /// client's configuration and any options it already has.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sync_openai::{ChatApi, Config, RequestOptions};
    ///
    /// let api = ChatApi::new(Config::new().api_key("sk-..."));
    /// let quick = api.with_options(RequestOptions::new().timeout(Duration::from_secs(20)).max_retries(0));
    /// # drop(quick);
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> ChatApi {
        let inner = &self.inner;
        let mut config = inner.config.clone();
        if let Some(timeout) = options.timeout {
            config.timeout = timeout;
        }
        if let Some(timeout) = options.stream_idle_timeout {
            config.stream_idle_timeout = timeout;
        }
        if let Some(timeout) = options.total_timeout {
            config.total_timeout = Some(timeout);
        }
        if let Some(max_retries) = options.max_retries {
            config.max_retries = max_retries;
        }
        let mut headers = inner.headers.clone();
        for (name, value) in options.headers {
            headers.retain(|(n, _)| *n != name);
            headers.push((name, value));
        }
        let mut query = inner.query.clone();
        query.extend(options.query);
        let mut body_fields = inner.body_fields.clone();
        body_fields.extend(options.body);
        ChatApi {
            agent: self.agent.clone(),
            inner: Arc::new(Inner {
                chat_url: inner.chat_url.clone(),
                headers,
                invalid: inner.invalid.clone().or(options.invalid),
                sleeper: Arc::clone(&inner.sleeper),
                jitter: Mutex::new(SeededJitter::from_entropy()),
                config,
                query,
                body_fields,
                timeout_overridden: inner.timeout_overridden || options.timeout.is_some(),
            }),
        }
    }

    /// Serializes a request body, with the fields of [`RequestOptions::body_field`] merged in.
    pub(crate) fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>, Error> {
        self.merge_body_fields(encode_body(value)?)
    }

    fn merge_body_fields(&self, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        if self.inner.body_fields.is_empty() {
            return Ok(body);
        }
        let mut map: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| {
            Error::invalid_request(format!("the request body is not a JSON object: {e}"))
        })?;
        for (key, value) in &self.inner.body_fields {
            map.insert(key.clone(), value.clone());
        }
        encode_body(&map)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Creates a model response for the given chat conversation.
    ///
    /// `POST /chat/completions`. For a streamed answer use
    /// [`create_chat_completion_stream`](ChatApi::create_chat_completion_stream); a
    /// request with `stream: Some(true)` is refused here with [`Error::InvalidRequest`].
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for a non-2xx answer (after retries where they help),
    /// [`Error::Transport`], [`Error::Decode`], [`Error::Config`], [`Error::InvalidRequest`].
    pub fn create_chat_completion(
        &self,
        req: &CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, Error> {
        self.create_chat_completion_with_http_info(req)
            .map(ApiResponse::into_data)
    }

    /// Like [`create_chat_completion`](ChatApi::create_chat_completion), with the HTTP
    /// status and headers (request id, rate limits) of the response.
    pub fn create_chat_completion_with_http_info(
        &self,
        req: &CreateChatCompletionRequest,
    ) -> Result<ApiResponse<CreateChatCompletionResponse>, Error> {
        if req.stream == Some(true) {
            return Err(Error::invalid_request(
                "the request has stream set to true: call create_chat_completion_stream for a streamed answer, or unset stream",
            ));
        }
        let body = self.encode(req)?;
        self.call_json(
            Call::new(Method::POST, self.inner.chat_url.as_str()).body(&body),
            "CreateChatCompletionResponse",
        )
    }

    /// Creates a model response and streams it chunk by chunk as it is generated.
    ///
    /// `POST /chat/completions` with `"stream": true` added to the body (the request
    /// itself is not changed) and `Accept: text/event-stream`. Retries happen only while
    /// opening the stream; once the first byte of the answer has arrived, a failure ends
    /// the stream with an error instead of sending the request again.
    ///
    /// # Errors
    ///
    /// Opening fails like [`create_chat_completion`](ChatApi::create_chat_completion),
    /// with the same [`Error::Api`] for a non-2xx answer. Failures while reading come
    /// from the [`ChatCompletionStream`] iterator.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = httpmock::MockServer::start();
    /// # server.mock(|when, then| {
    /// #     when.method("POST").path("/v1/chat/completions").json_body_includes(r#"{"stream":true}"#);
    /// #     then.status(200).header("content-type", "text/event-stream").body(
    /// #         "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n\
    /// #          data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    /// # });
    /// use std::io::Write;
    /// use sync_openai::{ChatApi, Config};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    ///
    /// let api = ChatApi::new(Config::new().base_url(server.url("/v1")));
    /// let req = CreateChatCompletionRequest::new("llama3", vec![Message::user("Hello")]);
    /// for text in api.create_chat_completion_stream(&req)?.content_deltas() {
    ///     print!("{}", text?);
    ///     std::io::stdout().flush().ok();
    /// }
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn create_chat_completion_stream(
        &self,
        req: &CreateChatCompletionRequest,
    ) -> Result<ChatCompletionStream, Error> {
        let body = self.merge_body_fields(encode_stream_body(req)?)?;
        let call = Call::new(Method::POST, self.inner.chat_url.as_str())
            .body(&body)
            .stream();
        let (response, _retries) = self.execute(&call)?;
        ChatCompletionStream::from_response(response, &self.inner.config)
    }

    /// Sends a call and decodes its 2xx JSON body into `T`.
    ///
    /// The body is read inside the retry loop: a body cut short, broken or stalled is a
    /// failed attempt like a connection that broke before the headers, and is retried
    /// by the same policy. A body over the size limit and a body that is not the
    /// expected JSON are final.
    pub(crate) fn call_json<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        target: &'static str,
    ) -> Result<ApiResponse<T>, Error> {
        let limit = self.inner.config.max_response_bytes;
        let ((parts, bytes), retries) = self.execute_then(&call, |response| {
            let (parts, body) = response.into_parts();
            let bytes = body.into_with_config().limit(limit).read_to_vec()?;
            Ok((parts, bytes))
        })?;
        let status = parts.status.as_u16();
        let data = serde_json::from_slice::<T>(&bytes).map_err(|e| {
            let request_id = header_str(&parts.headers, "x-request-id").map(str::to_owned);
            Error::Decode(Box::new(DecodeError::new(
                e, &bytes, status, target, request_id,
            )))
        })?;
        Ok(ApiResponse {
            status,
            headers: parts.headers,
            data,
            retries,
        })
    }

    /// Sends a call, retrying where the policy says it may help, and returns the first
    /// 2xx response with its body unread, and the number of retries taken.
    pub(crate) fn execute(
        &self,
        call: &Call<'_>,
    ) -> Result<(http::Response<ureq::Body>, u32), Error> {
        self.execute_then(call, Ok)
    }

    /// Like [`execute`](ChatApi::execute), with `finish` applied to the 2xx response
    /// inside the retry loop: a transport failure in `finish` (reading the body) counts
    /// as a failed attempt and is retried by the same policy as one before the headers.
    fn execute_then<R>(
        &self,
        call: &Call<'_>,
        mut finish: impl FnMut(http::Response<ureq::Body>) -> Result<R, ureq::Error>,
    ) -> Result<(R, u32), Error> {
        if let Some(message) = &self.inner.invalid {
            return Err(Error::config(message.clone()));
        }
        let deadline = self.inner.config.total_timeout.map(|t| Instant::now() + t);
        let max_retries = self.inner.config.max_retries;
        let mut retries = 0u32;
        loop {
            let mut request = self.build_request(call)?;
            let token = self.fresh_token()?;
            if let Some(token) = &token {
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, bearer(token)?);
            }
            let (error, decision) = match self.agent.run(request) {
                Ok(response) if response.status().is_success() => match finish(response) {
                    Ok(value) => return Ok((value, retries)),
                    Err(e) => self.transport_failure(e, retries, max_retries, deadline),
                },
                Ok(response) => {
                    let error = self.api_error(response, token.as_deref());
                    let decision = {
                        let outcome = Outcome::Response {
                            status: error.status,
                            headers: &error.headers,
                            error_code: error.code.as_deref(),
                            error_type: error.error_type.as_deref(),
                        };
                        self.decide(&outcome, retries, max_retries, deadline)
                    };
                    (Error::Api(Box::new(error)), decision)
                }
                Err(e) => self.transport_failure(e, retries, max_retries, deadline),
            };
            match decision {
                Decision::Retry(delay) => {
                    self.inner.sleeper.sleep(delay);
                    retries += 1;
                }
                Decision::GiveUp { .. } => return Err(error.with_retries(retries)),
            }
        }
    }

    /// A token from the configured provider, asked for before each attempt.
    fn fresh_token(&self) -> Result<Option<String>, Error> {
        let Some(provider) = &self.inner.config.token_provider else {
            return Ok(None);
        };
        (provider.0)()
            .map(|t| Some(t.trim().to_owned()))
            .map_err(|e| Error::config(format!("the token provider failed: {e}")))
    }

    /// Maps a failed attempt's transport error and decides whether to retry it.
    fn transport_failure(
        &self,
        e: ureq::Error,
        retries: u32,
        max_retries: u32,
        deadline: Option<Instant>,
    ) -> (Error, Decision) {
        let error = transport_error(e);
        // A connection that broke before the response was complete (a stale pooled
        // connection, a reset, a body cut short) is retried like one that could not be
        // made.
        let outcome = Outcome::Transport {
            is_timeout: error.is_timeout(),
            is_connect: error.is_connect() || is_broken_connection(&error),
        };
        let decision = self.decide(&outcome, retries, max_retries, deadline);
        (error, decision)
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
        let mut jitter = self
            .inner
            .jitter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        retry::decide(
            outcome,
            retries,
            max_retries,
            remaining,
            SystemTime::now(),
            &mut *jitter as &mut dyn Jitter,
        )
    }

    fn build_request<'b>(&self, call: &Call<'b>) -> Result<http::Request<&'b [u8]>, Error> {
        let url = match self.inner.query.is_empty() {
            true => Cow::Borrowed(call.url.as_ref()),
            false => Cow::Owned(with_query(call.url.to_string(), &self.inner.query)),
        };
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(url.as_ref());
        if let Some(headers) = builder.headers_mut() {
            headers.reserve(self.inner.headers.len() + 2);
            for (name, value) in &self.inner.headers {
                headers.insert(name.clone(), value.clone());
            }
            if call.body.is_some() {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            if call.stream {
                headers.insert(
                    http::header::ACCEPT,
                    HeaderValue::from_static("text/event-stream"),
                );
            }
        }
        let request = builder.body(call.body.unwrap_or_default()).map_err(|e| {
            Error::Transport(TransportError::new(
                TransportErrorKind::BadUrl,
                format!(
                    "cannot build a request for `{}`: {e}; check base_url",
                    call.url
                ),
                Some(Box::new(e)),
            ))
        })?;
        let config = &self.inner.config;
        if !call.stream {
            if !self.inner.timeout_overridden {
                return Ok(request);
            }
            return Ok(self
                .agent
                .configure_request(request)
                .timeout_per_call(Some(config.timeout))
                .build());
        }
        Ok(self
            .agent
            .configure_request(request)
            // A stream may last longer than any whole-request timeout: bound the wait
            // for the headers, then the silence between reads.
            .timeout_per_call(None)
            .timeout_recv_response(Some(config.timeout))
            .timeout_per_read(Some(config.stream_idle_timeout))
            .build())
    }

    /// Reads a non-2xx response into an [`ApiError`], with a bounded body.
    fn api_error(&self, response: http::Response<ureq::Body>, token: Option<&str>) -> ApiError {
        let (parts, body) = response.into_parts();
        let mut bytes = Vec::new();
        // A broken body still leaves the status and headers to report: keep what came.
        let _ = body
            .into_reader()
            .take(MAX_ERROR_BODY_BYTES as u64)
            .read_to_end(&mut bytes);
        let mut error = ApiError::new(parts.status.as_u16(), parts.headers, &bytes);
        for secret in self.secrets().chain(token) {
            redact(&mut error.message, secret);
            redact(&mut error.body, secret);
        }
        if (300..400).contains(&error.status) {
            if let Some(location) = header_str(&error.headers, "location") {
                error.message = format!("{} (redirect to {location})", error.message);
            }
        }
        error
    }
}

impl ChatApi {
    /// The credentials this client sends: the key and the values of secret headers.
    fn secrets(&self) -> impl Iterator<Item = &str> {
        const SECRET_HEADERS: [&str; 4] = [
            "authorization",
            "api-key",
            "x-api-key",
            "proxy-authorization",
        ];
        self.inner
            .headers
            .iter()
            .filter(|(name, _)| SECRET_HEADERS.contains(&name.as_str()))
            .filter_map(|(_, value)| value.to_str().ok())
            .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
            .chain(self.inner.config.api_key.as_deref())
    }
}

impl fmt::Debug for ChatApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatApi")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// One HTTP call: method, URL with query, optional JSON body.
pub(crate) struct Call<'a> {
    method: Method,
    url: Cow<'a, str>,
    body: Option<&'a [u8]>,
    stream: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, url: impl Into<Cow<'a, str>>) -> Call<'a> {
        Call {
            method,
            url: url.into(),
            body: None,
            stream: false,
        }
    }

    pub(crate) fn body(mut self, body: &'a [u8]) -> Call<'a> {
        self.body = Some(body);
        self
    }

    pub(crate) fn stream(mut self) -> Call<'a> {
        self.stream = true;
        self
    }
}

/// An `Authorization: Bearer` value, marked sensitive.
fn bearer(token: &str) -> Result<HeaderValue, Error> {
    bearer_value(token).ok_or_else(|| {
        Error::config(
            "the token provider returned a token with a byte that cannot go in an HTTP header",
        )
    })
}

/// `Bearer <token>` as a header value marked sensitive, or `None` if it cannot be one.
fn bearer_value(token: &str) -> Option<HeaderValue> {
    secret_value(&format!("Bearer {token}"))
}

/// A header value marked sensitive (kept out of ureq's logs), or `None` if it cannot be one.
fn secret_value(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Serializes a request body once; retries resend the same bytes.
pub(crate) fn encode_body<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value)
        .map_err(|e| Error::invalid_request(format!("the request cannot be encoded as JSON: {e}")))
}

/// Serializes a request with `"stream": true`, without copying or changing the request.
fn encode_stream_body(req: &CreateChatCompletionRequest) -> Result<Vec<u8>, Error> {
    match req.stream {
        Some(true) => encode_body(req),
        Some(false) => {
            // Rare: the caller set `stream: false` and asked for a stream. Copy once.
            let mut req = req.clone();
            req.stream = Some(true);
            encode_body(&req)
        }
        None => {
            // A struct serializes as `{...}`: replace the closing brace.
            let mut body = encode_body(req)?;
            if body.last() == Some(&b'}') {
                body.pop();
                if body.last() != Some(&b'{') {
                    body.push(b',');
                }
                body.extend_from_slice(br#""stream":true}"#);
            }
            Ok(body)
        }
    }
}

/// Replaces every occurrence of the key in a server's text (some proxies echo headers).
fn redact(text: &mut String, key: &str) {
    if key.len() >= 8 && text.contains(key) {
        *text = text.replace(key, "<redacted>");
    }
}

fn is_broken_connection(error: &Error) -> bool {
    matches!(error, Error::Transport(t) if t.kind() == TransportErrorKind::Io)
}

/// Maps ureq's error to ours, keeping it as the source.
pub(crate) fn transport_error(e: ureq::Error) -> Error {
    use std::io::ErrorKind as Io;
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
        ureq::Error::Tls(_) => (TransportErrorKind::Tls, "the TLS handshake failed"),
        other if format!("{other:?}").to_ascii_lowercase().contains("tls") => {
            (TransportErrorKind::Tls, "the TLS handshake failed")
        }
        _ => (TransportErrorKind::Other, "the HTTP request failed"),
    };
    let message = format!("{what}: {e}");
    Error::Transport(TransportError::new(kind, message, Some(Box::new(e))))
}

/// Percent-encodes one path segment, so an id with `/`, `?`, `#` or spaces stays one segment.
pub(crate) fn encode_path_segment(segment: &str) -> String {
    percent_encode(segment, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

/// Percent-encodes a query key or value (`application/x-www-form-urlencoded` safe set,
/// with spaces as `%20`).
pub(crate) fn encode_query_component(component: &str) -> String {
    encode_path_segment(component)
}

fn percent_encode(s: &str, keep: impl Fn(u8) -> bool) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `url?k=v&k=v` with every key and value percent-encoded.
pub(crate) fn with_query(mut url: String, pairs: &[(String, String)]) -> String {
    for (k, v) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&encode_query_component(k));
        url.push('=');
        url.push_str(&encode_query_component(v));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_stay_one_segment() {
        assert_eq!(encode_path_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(
            encode_path_segment("chatcmpl-AbC_1.2~"),
            "chatcmpl-AbC_1.2~"
        );
        assert_eq!(encode_path_segment("é"), "%C3%A9");
    }

    #[test]
    fn query_pairs_are_encoded() {
        let url = with_query(
            "http://h/x".to_owned(),
            &[
                ("metadata[k]".to_owned(), "a b&c".to_owned()),
                ("limit".to_owned(), "2".to_owned()),
            ],
        );
        assert_eq!(url, "http://h/x?metadata%5Bk%5D=a%20b%26c&limit=2");
    }

    #[test]
    fn redact_replaces_the_key() {
        let mut s = "bad key sk-secret-1234 given".to_owned();
        redact(&mut s, "sk-secret-1234");
        assert_eq!(s, "bad key <redacted> given");
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + fmt::Debug + 'static>() {}
        assert_traits::<ChatApi>();
        assert_traits::<Config>();
    }
}
