//! [`ApiError`]: a non-2xx answer, with everything the server said.

use std::error::Error as StdError;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::error_body::{write_labels, ErrorDetail, MAX_ERROR_BODY_BYTES};
use crate::http::HeaderMap;
use crate::retry;
use crate::util::{bounded_text, reason_phrase, redact, request_id};

/// What kind of non-2xx answer an [`ApiError`] is, from its status and error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: the request is malformed or has an invalid parameter.
    BadRequest,
    /// 401: the API key is missing, wrong or revoked.
    Authentication,
    /// 403: the key may not use this model, region or resource.
    PermissionDenied,
    /// 404: no such model, deployment, completion or path.
    NotFound,
    /// 409: a conflict with the resource's current state; retryable.
    Conflict,
    /// 422: the body is well-formed but cannot be processed.
    Unprocessable,
    /// 429: too many requests or tokens per minute; retryable after a wait.
    RateLimit,
    /// 429 with code or type `insufficient_quota`: the account is out of credit.
    InsufficientQuota,
    /// 5xx: the server failed; retryable.
    Server,
    /// Any other status, such as a 3xx redirect the client does not follow, or 408.
    Other,
}

/// A non-2xx answer from the server, with everything it said.
///
/// What the server said — `message`, `error_type`, `code` and `param` — is its
/// `ErrorDetail`, taken from the body in whatever shape the server used: OpenAI's
/// `{"error": {...}}`, a flat `{"object": "error", "message": ...}` (vLLM),
/// `[{"error": {...}}]`, `{"error": "text"}` (Ollama), `{"detail": ...}` (FastAPI
/// servers), an HTML page from a proxy, or an empty body. Read it with
/// [`message`](ApiError::message), [`error_type`](ApiError::error_type),
/// [`code`](ApiError::code) and [`param`](ApiError::param), the accessors a
/// [`StreamError`](crate::error::StreamError) has too; the message is never empty (it falls back to the status's
/// reason phrase). What the server said cannot be changed:
///
/// ```compile_fail
/// use sync_openai::error::ApiError;
/// use sync_openai::http::HeaderMap;
///
/// let mut err = ApiError::new(400, HeaderMap::new(), br#"{"error":{"message":"bad"}}"#);
/// err.message = "rewritten".to_owned(); // no such field: `message()` is an accessor
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    detail: ErrorDetail,
    /// Every response header, repeated ones included.
    pub headers: HeaderMap,
    /// The raw body as text (lossy UTF-8), at most [`MAX_ERROR_BODY_BYTES`] bytes, ending in
    /// `…` when it was cut.
    pub body: String,
    pub(crate) retries: u32,
}

impl ApiError {
    /// Builds the error for a non-2xx response from its status, headers and body.
    ///
    /// This is what the client does with every non-2xx answer; it is public so that
    /// tests and mocks can build the same errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::error::{ApiError, ApiErrorKind};
    /// use sync_openai::http::HeaderMap;
    ///
    /// let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
    /// let err = ApiError::new(429, HeaderMap::new(), body);
    /// assert_eq!(err.kind(), ApiErrorKind::InsufficientQuota);
    /// assert_eq!(err.message(), "You exceeded your current quota");
    /// assert_eq!(err.code(), Some("insufficient_quota"));
    /// ```
    pub fn new(status: u16, headers: HeaderMap, body: &[u8]) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail::from_body(body, || reason_phrase(status).to_owned()),
            headers,
            body: bounded_text(body, MAX_ERROR_BODY_BYTES),
            retries: 0,
        }
    }

    /// The server's own description of the error; never empty (the status's reason phrase
    /// stands in when the body had none).
    pub fn message(&self) -> &str {
        &self.detail.message
    }

    /// The error's `type` as the body gave it, e.g. `invalid_request_error`.
    pub fn error_type(&self) -> Option<&str> {
        self.detail.error_type.as_deref()
    }

    /// The error's `code` as the body gave it, e.g. `invalid_api_key`; a numeric code
    /// (llama.cpp, vLLM) is kept as its decimal text.
    pub fn code(&self) -> Option<&str> {
        self.detail.code.as_deref()
    }

    /// The request parameter the error is about, e.g. `messages`.
    pub fn param(&self) -> Option<&str> {
        self.detail.param.as_deref()
    }

    /// Replaces the message (the send loop adds where a redirect pointed).
    pub(crate) fn set_message(&mut self, message: String) {
        self.detail.message = message;
    }

    /// Replaces `secret` (a credential the client sent) wherever the server echoed it: what
    /// it said and the raw body.
    pub(crate) fn redact(&mut self, secret: &str) {
        self.detail.redact(secret);
        redact(&mut self.body, secret);
    }

    /// What kind of error this is, from the status and the `insufficient_quota` code.
    pub fn kind(&self) -> ApiErrorKind {
        let quota = |s: Option<&str>| s == Some("insufficient_quota");
        match self.status {
            400 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Authentication,
            403 => ApiErrorKind::PermissionDenied,
            404 => ApiErrorKind::NotFound,
            409 => ApiErrorKind::Conflict,
            422 => ApiErrorKind::Unprocessable,
            429 if quota(self.code()) || quota(self.error_type()) => {
                ApiErrorKind::InsufficientQuota
            }
            429 => ApiErrorKind::RateLimit,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }

    /// The request id the server gave the failed request, if it sent one: `x-request-id`,
    /// or where gateways put it instead (see
    /// [`ApiResponse::request_id`](crate::ApiResponse::request_id) for the order).
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }

    /// How long the server asked to wait (`retry-after-ms` or `retry-after`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        retry::server_delay(&self.headers, SystemTime::now())
    }

    /// How many retries the client took before giving up with this error.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    fn hint(&self) -> Option<&'static str> {
        Some(match self.kind() {
            ApiErrorKind::Authentication => "check the API key (OPENAI_API_KEY or Config::api_key)",
            ApiErrorKind::PermissionDenied => "check that the key may use this model or resource",
            ApiErrorKind::NotFound => "check the model name, the base URL and the id",
            ApiErrorKind::RateLimit => "slow down or retry after a wait",
            ApiErrorKind::InsufficientQuota => "check the account's plan and billing details",
            ApiErrorKind::Server => "the server failed; retry later",
            _ if (300..400).contains(&self.status) => {
                "redirects are not followed; point base_url at the final address"
            }
            _ => return None,
        })
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("kind", &self.kind())
            .field("message", &self.detail.message)
            .field("error_type", &self.detail.error_type)
            .field("code", &self.detail.code)
            .field("param", &self.detail.param)
            .field("request_id", &self.request_id())
            .field("retries", &self.retries)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server answered {} {}: {}",
            self.status,
            reason_phrase(self.status),
            self.detail.message
        )?;
        let request_id = self.request_id().map(|id| format!("request id {id}"));
        let retries = (self.retries > 0).then(|| format!("after {} retries", self.retries));
        write_labels(f, self.detail.labels().chain(request_id).chain(retries))?;
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl StdError for ApiError {}
