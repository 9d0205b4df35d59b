//! Stored chat completions: listings, deletion, messages, and their query parameters.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::de::null_default;
use super::lenient::{lenient_struct, NullDefault};
use super::list::{sealed, List, ListFilter, ListParams, Ordered};
use super::message::{
    ChatCompletionRequestMessageContentPartImage, ChatCompletionRequestMessageContentPartText,
};
use super::response::{ChatCompletionResponseMessage, CreateChatCompletionResponse};

/// An object representing a list of Chat Completions.
pub type ChatCompletionList = List<CreateChatCompletionResponse>;

/// The result of deleting a stored chat completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatCompletionDeleted {
    /// The type of object being deleted (`chat.completion.deleted`).
    pub object: String,
    /// The ID of the chat completion that was deleted.
    pub id: String,
    /// Whether the chat completion was deleted.
    pub deleted: bool,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

lenient_struct!(ChatCompletionDeleted {
    object: NullDefault<String>,
    id: NullDefault<String>,
    deleted: NullDefault<bool>,
});

/// An object representing a list of chat completion messages.
pub type ChatCompletionMessageList = List<ChatCompletionMessageListData>;

/// One stored message: a message with its identifier and, when parts were sent, its parts.
///
/// Stored messages include the request's messages, so `role` may be `user` and keys such as
/// `name` (kept in `message.extra`) may appear.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionMessageListData {
    /// The identifier of the chat message.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// The message itself (its fields are inlined on the wire).
    #[serde(flatten)]
    pub message: ChatCompletionResponseMessage,
    /// If a content parts array was provided, this is an array of `text` and `image_url` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_parts: Option<Vec<ChatCompletionMessageListContentPart>>,
}

/// A content part of a stored message: text, image, or a kind this crate does not know (kept
/// as raw JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum ChatCompletionMessageListContentPart {
    /// A `text` part.
    Text(ChatCompletionRequestMessageContentPartText),
    /// An `image_url` part.
    ImageUrl(ChatCompletionRequestMessageContentPartImage),
    /// A part of a type this crate does not know, as received.
    Other(Value),
}

impl Serialize for ChatCompletionMessageListContentPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Tagged<'a> {
            Text(&'a ChatCompletionRequestMessageContentPartText),
            ImageUrl(&'a ChatCompletionRequestMessageContentPartImage),
        }
        match self {
            Self::Text(p) => Tagged::Text(p).serialize(serializer),
            Self::ImageUrl(p) => Tagged::ImageUrl(p).serialize(serializer),
            Self::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ChatCompletionMessageListContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match value.get("type").and_then(Value::as_str) {
            Some("text") => ChatCompletionRequestMessageContentPartText::deserialize(value)
                .map(Self::Text)
                .map_err(D::Error::custom),
            Some("image_url") => ChatCompletionRequestMessageContentPartImage::deserialize(value)
                .map(Self::ImageUrl)
                .map_err(D::Error::custom),
            _ => Ok(Self::Other(value)),
        }
    }
}

/// Query parameters of `GET /chat/completions` (list stored Chat Completions).
///
/// Not JSON: [`query_pairs`](Self::query_pairs) gives the unencoded pairs for the URL.
///
/// # Examples
///
/// ```
/// use sync_openai::types::{ListChatCompletionsParams, Order};
///
/// let p = ListChatCompletionsParams::new()
///     .model("gpt-4o")
///     .metadata("project", "demo")
///     .limit(20)
///     .order(Order::Desc);
/// assert_eq!(p.query_pairs(), vec![
///     ("model".to_string(), "gpt-4o".to_string()),
///     ("metadata[project]".to_string(), "demo".to_string()),
///     ("limit".to_string(), "20".to_string()),
///     ("order".to_string(), "desc".to_string()),
/// ]);
/// ```
pub type ListChatCompletionsParams = ListParams<ChatCompletionsFilter>;

/// The filters of `GET /chat/completions`, the `filter` of a [`ListChatCompletionsParams`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatCompletionsFilter {
    /// The model used to generate the Chat Completions.
    pub model: Option<String>,
    /// Metadata key-value pairs to filter the Chat Completions by
    /// (`metadata[key1]=value1&metadata[key2]=value2`).
    pub metadata: BTreeMap<String, String>,
}

impl sealed::Sealed for ChatCompletionsFilter {}
impl Ordered for ChatCompletionsFilter {}

impl ListFilter for ChatCompletionsFilter {
    /// `model`, then `metadata[…]` sorted by key.
    fn push_pairs(&self, pairs: &mut Vec<(String, String)>) {
        if let Some(model) = &self.model {
            pairs.push(("model".to_owned(), model.clone()));
        }
        for (k, v) in &self.metadata {
            pairs.push((format!("metadata[{k}]"), v.clone()));
        }
    }
}

impl ListParams<ChatCompletionsFilter> {
    /// Sets the [`model`](ChatCompletionsFilter::model) filter. Defaults to unset.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.filter.model = Some(model.into());
        self
    }

    /// Adds one metadata filter `metadata[key]=value`. Defaults to none.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.filter.metadata.insert(key.into(), value.into());
        self
    }
}

/// Query parameters of `GET /chat/completions/{completion_id}/messages`: paging only
/// (`after`, `limit`, `order`).
pub type GetChatCompletionMessagesParams = ListParams<ChatCompletionMessagesFilter>;

/// `GET /chat/completions/{completion_id}/messages` has no filters: the `filter` of a
/// [`GetChatCompletionMessagesParams`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatCompletionMessagesFilter {}

impl sealed::Sealed for ChatCompletionMessagesFilter {}
impl Ordered for ChatCompletionMessagesFilter {}

impl ListFilter for ChatCompletionMessagesFilter {
    fn push_pairs(&self, _: &mut Vec<(String, String)>) {}
}

/// The body of `POST /chat/completions/{completion_id}`: new metadata for a stored completion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateChatCompletionRequest {
    /// Set of 16 key-value pairs that can be attached to an object.
    pub metadata: BTreeMap<String, String>,
}

lenient_struct!(UpdateChatCompletionRequest {
    metadata: NullDefault<BTreeMap<String, String>>,
}; skip_unknown);

impl UpdateChatCompletionRequest {
    /// A body with the given metadata pairs.
    pub fn new<K, V>(metadata: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            metadata: metadata
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl From<BTreeMap<String, String>> for UpdateChatCompletionRequest {
    fn from(metadata: BTreeMap<String, String>) -> Self {
        Self { metadata }
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::{ListBatchesParams, ListFilesParams, Order};
    use serde_json::json;

    #[test]
    fn every_list_shares_the_paging_setters_and_keeps_its_query() {
        // The same `after`/`limit` (and `order`, where the operation takes one) on every
        // list, and the wire query of each as it was: filters first, then paging.
        let chats = ListChatCompletionsParams::new()
            .model("m")
            .metadata("k", "v")
            .after("c_1")
            .limit(2)
            .order(Order::Desc);
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            chats.query_pairs(),
            pairs(&[
                ("model", "m"),
                ("metadata[k]", "v"),
                ("after", "c_1"),
                ("limit", "2"),
                ("order", "desc")
            ])
        );
        let files = ListFilesParams::new()
            .order(Order::Asc)
            .after("f_1")
            .purpose("batch");
        assert_eq!(
            files.query_pairs(),
            pairs(&[("purpose", "batch"), ("after", "f_1"), ("order", "asc")])
        );
        let batches = ListBatchesParams::new().limit(3).after("b_1");
        assert_eq!(
            batches.query_pairs(),
            pairs(&[("after", "b_1"), ("limit", "3")])
        );
    }

    #[test]
    fn message_params_pairs() {
        assert!(GetChatCompletionMessagesParams::new()
            .query_pairs()
            .is_empty());
        let p = GetChatCompletionMessagesParams::new()
            .after("m_1")
            .limit(5)
            .order(Order::Asc);
        assert_eq!(
            p.query_pairs(),
            vec![
                ("after".to_owned(), "m_1".to_owned()),
                ("limit".to_owned(), "5".to_owned()),
                ("order".to_owned(), "asc".to_owned()),
            ]
        );
    }

    #[test]
    fn list_params_metadata_sorted_and_unencoded() {
        let p = ListChatCompletionsParams::new()
            .metadata("b", "x y")
            .metadata("a", "1")
            .after("c&d");
        assert_eq!(
            p.query_pairs(),
            vec![
                ("metadata[a]".to_owned(), "1".to_owned()),
                ("metadata[b]".to_owned(), "x y".to_owned()),
                ("after".to_owned(), "c&d".to_owned()),
            ]
        );
    }

    #[test]
    fn update_body() {
        let body = UpdateChatCompletionRequest::new([("foo", "bar")]);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"metadata": {"foo": "bar"}})
        );
    }
}
