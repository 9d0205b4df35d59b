//! Typed values out of a model's answer: structured outputs and tool-call arguments.

use serde::de::DeserializeOwned;

use super::enums::FinishReason;
use super::response::{
    ChatCompletionChoice, ChatCompletionResponseMessage, CompletionUsage,
    CreateChatCompletionResponse,
};
use super::tool::ChatCompletionMessageToolCall;
use crate::error::{Error, ParseError};

/// Decodes `text` as `T`, keeping the text and saying what it was when it fails.
fn decode<T: DeserializeOwned>(text: &str, what: impl FnOnce() -> String) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|source| {
        ParseError::InvalidJson {
            what: what(),
            json: text.to_owned(),
            source,
        }
        .into()
    })
}

impl ChatCompletionMessageToolCall {
    /// Decodes the call's JSON arguments into `T`.
    ///
    /// Empty arguments (some servers send `""` for a function without parameters) decode
    /// as `{}`.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] with [`ParseError::InvalidJson`] naming the tool and the call, and
    /// keeping the arguments, when they are not JSON of `T`'s shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::Deserialize;
    /// use sync_openai::types::ChatCompletionMessageToolCall;
    ///
    /// #[derive(Debug, Deserialize)]
    /// struct Weather { city: String }
    ///
    /// let call = ChatCompletionMessageToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#);
    /// let args: Weather = call.parse_arguments()?;
    /// assert_eq!(args.city, "Paris");
    ///
    /// let bad = ChatCompletionMessageToolCall::new("call_2", "get_weather", r#"{"town":"Paris"}"#);
    /// let err = bad.parse_arguments::<Weather>().unwrap_err();
    /// assert!(err.to_string().contains("get_weather"));
    /// # Ok::<(), sync_openai::Error>(())
    /// ```
    pub fn parse_arguments<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let arguments = self.function.arguments.trim();
        let text = if arguments.is_empty() {
            "{}"
        } else {
            arguments
        };
        decode(text, || {
            format!(
                "the arguments of tool `{}` (call {})",
                self.function.name, self.id
            )
        })
    }
}

impl ChatCompletionResponseMessage {
    /// Decodes the message's content as JSON into `T`: the answer to a request with
    /// [`ResponseFormat::json_schema`](super::ResponseFormat::json_schema) or `json_object`.
    ///
    /// This sees only the message; [`ChatCompletionChoice::parse`] also checks why the
    /// answer ended (cut off, filtered).
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] with [`ParseError::Refusal`] when the model refused,
    /// [`ParseError::NoContent`] when there is no content, and
    /// [`ParseError::InvalidJson`] when the content is not JSON of `T`'s shape.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.check_refusal()?;
        self.decode_content()
    }

    /// [`ParseError::Refusal`] when the model refused.
    fn check_refusal(&self) -> Result<(), Error> {
        match self.refusal.as_deref().filter(|r| !r.is_empty()) {
            Some(refusal) => Err(ParseError::Refusal(refusal.to_owned()).into()),
            None => Ok(()),
        }
    }

    /// The content decoded as `T`, without looking at a refusal.
    fn decode_content<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let Some(content) = self.content.as_deref() else {
            return Err(ParseError::NoContent.into());
        };
        decode(content, || "the message content".to_owned())
    }
}

impl ChatCompletionChoice {
    /// Decodes the choice's content as JSON into `T`, after checking that the answer is
    /// whole.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] with [`ParseError::Refusal`] when the model refused,
    /// [`ParseError::Truncated`] when it stopped at the token limit
    /// (`finish_reason: length`), [`ParseError::ContentFilter`] when the content filter
    /// stopped it, [`ParseError::NoContent`] and [`ParseError::InvalidJson`] as for
    /// [`ChatCompletionResponseMessage::parse`].
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.message.check_refusal()?;
        // Only the error paths copy the content.
        let content = || self.message.content.as_deref().map(str::to_owned);
        match &self.finish_reason {
            Some(FinishReason::Length) => Err(ParseError::Truncated {
                content: content().unwrap_or_default(),
            }
            .into()),
            Some(FinishReason::ContentFilter) => {
                Err(ParseError::ContentFilter { content: content() }.into())
            }
            _ => self.message.decode_content(),
        }
    }
}

impl CreateChatCompletionResponse {
    /// Decodes the first choice's content as JSON into `T`; see [`ChatCompletionChoice::parse`].
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] with [`ParseError::NoChoices`] when there is no choice, or any error
    /// of [`ChatCompletionChoice::parse`].
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::Deserialize;
    /// use sync_openai::types::CreateChatCompletionResponse;
    /// use sync_openai::error::ParseError;
    /// use sync_openai::Error;
    ///
    /// #[derive(Debug, Deserialize)]
    /// struct Answer { value: u32 }
    ///
    /// let resp: CreateChatCompletionResponse = serde_json::from_str(r#"{"choices":[
    ///   {"message":{"role":"assistant","content":"{\"value\":42}"},"finish_reason":"stop"}]}"#)?;
    /// assert_eq!(resp.parse::<Answer>()?.value, 42);
    ///
    /// let cut: CreateChatCompletionResponse = serde_json::from_str(r#"{"choices":[
    ///   {"message":{"role":"assistant","content":"{\"val"},"finish_reason":"length"}]}"#)?;
    /// match cut.parse::<Answer>() {
    ///     Err(Error::Parse(e)) => assert!(matches!(*e, ParseError::Truncated { .. })),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        match self.choices.first() {
            Some(choice) => choice.parse(),
            None => Err(ParseError::NoChoices.into()),
        }
    }
}

impl CompletionUsage {
    /// The tokens the model spent reasoning, wherever the server reports them:
    /// `completion_tokens_details.reasoning_tokens`, or a top-level `reasoning_tokens`.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .or_else(|| {
                self.extra
                    .get("reasoning_tokens")
                    .and_then(serde_json::Value::as_u64)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(json: &str) -> ChatCompletionChoice {
        serde_json::from_str(json).unwrap_or_default()
    }

    fn parse_error(result: Result<serde_json::Value, Error>) -> ParseError {
        match result {
            Err(Error::Parse(e)) => *e,
            other => unreachable!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn refusal_wins_over_finish_reason() {
        let c = choice(
            r#"{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}"#,
        );
        let e = parse_error(c.parse());
        assert!(matches!(&e, ParseError::Refusal(t) if t == "I can't help with that."));
        assert_eq!(e.to_string(), "the model refused: I can't help with that.");
    }

    #[test]
    fn content_filter_keeps_partial_content() {
        let c = choice(
            r#"{"message":{"role":"assistant","content":"{\"a\":"},"finish_reason":"content_filter"}"#,
        );
        let e = parse_error(c.parse());
        assert_eq!(e.text(), Some("{\"a\":"));
        assert!(matches!(e, ParseError::ContentFilter { .. }));
    }

    #[test]
    fn tool_call_without_content() {
        let c = choice(
            r#"{"message":{"role":"assistant","content":null,"tool_calls":[]},"finish_reason":"tool_calls"}"#,
        );
        assert!(matches!(parse_error(c.parse()), ParseError::NoContent));
    }

    #[test]
    fn invalid_json_keeps_the_text() {
        let c = choice(r#"{"message":{"role":"assistant","content":"Sure! {\"a\":1}"}}"#);
        let e = parse_error(c.parse());
        assert_eq!(e.text(), Some("Sure! {\"a\":1}"));
        assert!(std::error::Error::source(&e).is_some());
        assert!(e
            .to_string()
            .starts_with("the message content is not the expected JSON"));
    }

    #[test]
    fn empty_arguments_are_an_empty_object() {
        let call = ChatCompletionMessageToolCall::new("c", "now", "  ");
        let args: serde_json::Map<String, serde_json::Value> =
            call.parse_arguments().unwrap_or_default();
        assert!(args.is_empty());
        let call = ChatCompletionMessageToolCall::new("c", "now", "{");
        assert!(call.parse_arguments::<serde_json::Value>().is_err());
    }

    #[test]
    fn reasoning_tokens_either_place() {
        let u: CompletionUsage =
            serde_json::from_str(r#"{"completion_tokens_details":{"reasoning_tokens":12}}"#)
                .unwrap_or_default();
        assert_eq!(u.reasoning_tokens(), Some(12));
        let u: CompletionUsage =
            serde_json::from_str(r#"{"reasoning_tokens":7}"#).unwrap_or_default();
        assert_eq!(u.reasoning_tokens(), Some(7));
        assert_eq!(CompletionUsage::default().reasoning_tokens(), None);
    }
}
