//! Azure OpenAI's content-filter data, read from the `extra` fields of responses and errors.
//!
//! Azure adds `prompt_filter_results` to a response (and to the first stream chunk, which has
//! no choices), `content_filter_results` to each choice, and an `innererror` (or
//! `inner_error`) to the error it returns when a prompt is filtered. These types give them
//! names; the accessors never fail: a part that does not have the expected shape is `None`,
//! and the raw JSON stays in `extra`.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;

use super::enums::ContentFilterSeverity;
use super::lenient::{decode_with, lenient_struct, Decode, NullDefault, U32};
use super::response::{ChatCompletionChoice, CreateChatCompletionResponse};
use super::stream::{ChatCompletionStreamChoice, CreateChatCompletionStreamResponse};

/// Decodes `T` if the value has its shape, else `None`: one odd category never hides the rest.
fn lossy<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(T::deserialize(value).ok())
}

/// `true`, `false`, or anything else as `false`.
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(matches!(
        Value::deserialize(deserializer)?,
        Value::Bool(true)
    ))
}

/// [`lossy`] as a field decoder.
struct Lossy<T>(PhantomData<T>);

impl<T: DeserializeOwned> Decode for Lossy<T> {
    type Out = Option<T>;
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        lossy(d)
    }
}

decode_with! {
    /// [`lenient_bool`].
    Bool: bool = lenient_bool;
    /// [`code_text`].
    CodeText: Option<String> = code_text;
}

/// Azure's content-filter verdicts for a prompt or a choice, one field per category.
///
/// # Examples
///
/// ```
/// use sync_openai::types::{ContentFilterSeverity, CreateChatCompletionResponse};
///
/// let resp: CreateChatCompletionResponse = serde_json::from_str(r#"{
///   "choices": [{"message": {"role": "assistant", "content": "Hi"},
///     "content_filter_results": {"hate": {"filtered": false, "severity": "safe"}}}],
///   "prompt_filter_results": [{"prompt_index": 0, "content_filter_results":
///     {"jailbreak": {"filtered": false, "detected": false}}}]
/// }"#).unwrap();
/// let choice = resp.choices[0].content_filter_results().unwrap();
/// assert_eq!(choice.hate.unwrap().severity, Some(ContentFilterSeverity::Safe));
/// let prompt = &resp.prompt_filter_results()[0];
/// assert!(!prompt.content_filter_results.is_filtered());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContentFilterResults {
    /// Hateful content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hate: Option<ContentFilterSeverityResult>,
    /// Self-harm content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_harm: Option<ContentFilterSeverityResult>,
    /// Sexual content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sexual: Option<ContentFilterSeverityResult>,
    /// Violent content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violence: Option<ContentFilterSeverityResult>,
    /// A jailbreak attempt in the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jailbreak: Option<ContentFilterDetectedResult>,
    /// An indirect attack in documents given with the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indirect_attack: Option<ContentFilterDetectedResult>,
    /// Profanity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profanity: Option<ContentFilterDetectedResult>,
    /// Known text, such as song lyrics, in the completion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected_material_text: Option<ContentFilterDetectedResult>,
    /// Known source code in the completion, with its citation when found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected_material_code: Option<ContentFilterDetectedResult>,
    /// The filter could not run; the content was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ContentFilterRunError>,
    /// Other categories (`custom_blocklists`, new ones), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

lenient_struct!(ContentFilterResults {
    hate: Lossy<ContentFilterSeverityResult>,
    self_harm: Lossy<ContentFilterSeverityResult>,
    sexual: Lossy<ContentFilterSeverityResult>,
    violence: Lossy<ContentFilterSeverityResult>,
    jailbreak: Lossy<ContentFilterDetectedResult>,
    indirect_attack: Lossy<ContentFilterDetectedResult>,
    profanity: Lossy<ContentFilterDetectedResult>,
    protected_material_text: Lossy<ContentFilterDetectedResult>,
    protected_material_code: Lossy<ContentFilterDetectedResult>,
    error: Lossy<ContentFilterRunError>,
});

impl ContentFilterResults {
    /// Whether any category filtered the content, custom blocklists included.
    pub fn is_filtered(&self) -> bool {
        let severity = [&self.hate, &self.self_harm, &self.sexual, &self.violence];
        let detected = [
            &self.jailbreak,
            &self.indirect_attack,
            &self.profanity,
            &self.protected_material_text,
            &self.protected_material_code,
        ];
        severity
            .iter()
            .any(|r| r.as_ref().is_some_and(|r| r.filtered))
            || detected
                .iter()
                .any(|r| r.as_ref().is_some_and(|r| r.filtered))
            || self.extra.values().any(|v| {
                v.get("filtered") == Some(&Value::Bool(true))
                    || v.as_array().is_some_and(|items| {
                        items
                            .iter()
                            .any(|i| i.get("filtered") == Some(&Value::Bool(true)))
                    })
            })
    }

    /// Reads the results from a JSON value; `None` unless it is an object.
    fn from_value(value: &Value) -> Option<ContentFilterResults> {
        if !value.is_object() {
            return None;
        }
        // Decoded from an owned copy, as every `Value` decode in the crate is (one set of
        // visitors in the build). A borrowed decode would copy as much: `lossy` and `extra`
        // take each field's value as an owned `Value`.
        ContentFilterResults::deserialize(value.clone()).ok()
    }
}

/// The verdict of a category graded by severity (`hate`, `self_harm`, `sexual`, `violence`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContentFilterSeverityResult {
    /// Whether the content was filtered (`false` when missing).
    pub filtered: bool,
    /// The severity found: `safe`, `low`, `medium` or `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<ContentFilterSeverity>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

lenient_struct!(ContentFilterSeverityResult {
    filtered: Bool,
    severity: Lossy<ContentFilterSeverity>,
});

/// The verdict of a category that is detected or not (`jailbreak`, `profanity`, protected
/// material).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContentFilterDetectedResult {
    /// Whether the content was filtered (`false` when missing).
    pub filtered: bool,
    /// Whether the category was detected (`false` when missing).
    pub detected: bool,
    /// For protected code: where it comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<ContentFilterCitation>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

lenient_struct!(ContentFilterDetectedResult {
    filtered: Bool,
    detected: Bool,
    citation: Lossy<ContentFilterCitation>,
});

/// The source of protected code found in a completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentFilterCitation {
    /// The address of the source (`URL` on the wire).
    #[serde(
        rename = "URL",
        alias = "url",
        default,
        deserialize_with = "lossy",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<String>,
    /// The license of the source.
    #[serde(
        default,
        deserialize_with = "lossy",
        skip_serializing_if = "Option::is_none"
    )]
    pub license: Option<String>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why the content filter could not run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContentFilterRunError {
    /// The error code, as text (Azure sends a number or a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

lenient_struct!(ContentFilterRunError {
    code: CodeText,
    message: Lossy<String>,
});

/// A string or a number as text.
fn code_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The content-filter verdicts for one prompt of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PromptFilterResult {
    /// Which prompt (0 for chat completions; 0 when missing).
    pub prompt_index: u32,
    /// The verdicts.
    pub content_filter_results: ContentFilterResults,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

lenient_struct!(PromptFilterResult {
    prompt_index: U32,
    content_filter_results: NullDefault<ContentFilterResults>,
});

/// The content-filter details of an Azure error (a prompt was filtered, status 400, code
/// `content_filter`), read with [`ApiError::content_filter`](crate::error::ApiError::content_filter).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ContentFilterError {
    /// The inner code, e.g. `ResponsibleAIPolicyViolation`.
    pub code: Option<String>,
    /// The verdicts that led to the error, when the body had them.
    pub results: Option<ContentFilterResults>,
}

impl ApiError {
    /// Azure OpenAI's content-filter details, when the server refused the prompt with its
    /// `content_filter` error (its `innererror` or `inner_error`); `None` for other errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::error::ApiError;
    /// use sync_openai::http::HeaderMap;
    ///
    /// let body = br#"{"error":{"code":"content_filter","status":400,"message":"filtered",
    ///   "innererror":{"code":"ResponsibleAIPolicyViolation",
    ///     "content_filter_result":{"violence":{"filtered":true,"severity":"medium"}}}}}"#;
    /// let err = ApiError::new(400, HeaderMap::new(), body);
    /// let filter = err.content_filter().unwrap();
    /// assert_eq!(filter.code.as_deref(), Some("ResponsibleAIPolicyViolation"));
    /// assert!(filter.results.unwrap().violence.unwrap().filtered);
    /// ```
    pub fn content_filter(&self) -> Option<ContentFilterError> {
        ContentFilterError::from_body(&self.body)
    }
}

impl ContentFilterError {
    /// Reads the details from an error body, accepting Azure's `innererror` and
    /// `inner_error` spellings and `content_filter_result(s)`.
    fn from_body(body: &str) -> Option<ContentFilterError> {
        let value: Value = serde_json::from_str(body).ok()?;
        let error = value.get("error").unwrap_or(&value);
        let inner = error
            .get("innererror")
            .or_else(|| error.get("inner_error"))
            .filter(|v| v.is_object());
        let is_filter = error.get("code").and_then(Value::as_str) == Some("content_filter");
        if inner.is_none() && !is_filter {
            return None;
        }
        let code = inner
            .and_then(|i| i.get("code"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let results = inner
            .and_then(|i| {
                i.get("content_filter_result")
                    .or_else(|| i.get("content_filter_results"))
            })
            .and_then(ContentFilterResults::from_value);
        Some(ContentFilterError { code, results })
    }
}

/// The `prompt_filter_results` (or older `prompt_annotations`) in `extra`.
fn prompt_filter_results_of(extra: &Map<String, Value>) -> Vec<PromptFilterResult> {
    extra
        .get("prompt_filter_results")
        .or_else(|| extra.get("prompt_annotations"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                // An owned copy, as in `ContentFilterResults::from_value`.
                .filter_map(|item| PromptFilterResult::deserialize(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

impl CreateChatCompletionResponse {
    /// Azure OpenAI's verdicts on the prompt; empty when the server sent none.
    pub fn prompt_filter_results(&self) -> Vec<PromptFilterResult> {
        prompt_filter_results_of(&self.extra)
    }
}

impl CreateChatCompletionStreamResponse {
    /// Azure OpenAI's verdicts on the prompt, sent in a first chunk without choices; empty
    /// in other chunks.
    pub fn prompt_filter_results(&self) -> Vec<PromptFilterResult> {
        prompt_filter_results_of(&self.extra)
    }
}

impl ChatCompletionChoice {
    /// Azure OpenAI's verdicts on this choice's content, when the server sent them.
    pub fn content_filter_results(&self) -> Option<ContentFilterResults> {
        self.extra
            .get("content_filter_results")
            .and_then(ContentFilterResults::from_value)
    }
}

impl ChatCompletionStreamChoice {
    /// Azure OpenAI's verdicts on the content streamed so far, when the chunk has them.
    pub fn content_filter_results(&self) -> Option<ContentFilterResults> {
        self.extra
            .get("content_filter_results")
            .and_then(ContentFilterResults::from_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_categories_do_not_hide_the_rest() {
        let results = ContentFilterResults::from_value(&serde_json::json!({
            "hate": "weird",
            "violence": {"filtered": true, "severity": "extreme"},
            "custom_blocklists": {"filtered": false, "details": []},
            "error": {"code": 503, "message": "busy"}
        }));
        let Some(results) = results else {
            unreachable!("an object decodes")
        };
        assert_eq!(results.hate, None);
        let violence = results.violence.clone().unwrap_or_default();
        assert!(violence.filtered);
        assert_eq!(
            violence.severity,
            Some(ContentFilterSeverity::Other("extreme".into()))
        );
        assert!(results.is_filtered());
        assert_eq!(results.error.and_then(|e| e.code).as_deref(), Some("503"));
        assert!(results.extra.contains_key("custom_blocklists"));
    }

    #[test]
    fn blocklist_hits_count_as_filtered() {
        let results = ContentFilterResults::from_value(&serde_json::json!({
            "custom_blocklists": [{"filtered": true, "id": "list-1"}]
        }));
        assert!(results.is_some_and(|r| r.is_filtered()));
    }

    #[test]
    fn error_body_shapes() {
        let inner = r#"{"error":{"code":"content_filter","message":"filtered","innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}"#;
        let e = ContentFilterError::from_body(inner).unwrap_or_default();
        assert_eq!(e.code.as_deref(), Some("ResponsibleAIPolicyViolation"));
        assert!(e.results.is_some_and(|r| r.is_filtered()));

        let snake = r#"{"error":{"code":"content_filter","inner_error":{"code":"ResponsibleAIPolicyViolation","content_filter_results":{"jailbreak":{"filtered":true,"detected":true}}}}}"#;
        let e = ContentFilterError::from_body(snake).unwrap_or_default();
        assert!(e
            .results
            .and_then(|r| r.jailbreak)
            .is_some_and(|j| j.detected));

        let bare = r#"{"error":{"code":"content_filter","message":"filtered"}}"#;
        assert_eq!(
            ContentFilterError::from_body(bare),
            Some(ContentFilterError::default())
        );
        assert_eq!(
            ContentFilterError::from_body(r#"{"error":{"code":"rate_limit"}}"#),
            None
        );
        assert_eq!(ContentFilterError::from_body("<html>"), None);
    }
}
