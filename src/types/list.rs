//! The query parameters every list operation shares: cursor paging (`after`, `limit`,
//! `order`) around the operation's own filters.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::de::null_default;
use super::enums::Order;

/// The query parameters of a list operation: the operation's filters `F` (model, metadata,
/// purpose, or none) and the cursor paging every OpenAI listing shares.
///
/// Each operation names its own: [`ListChatCompletionsParams`](super::ListChatCompletionsParams),
/// [`GetChatCompletionMessagesParams`](super::GetChatCompletionMessagesParams),
/// [`ListFilesParams`](super::ListFilesParams) and
/// [`ListBatchesParams`](super::ListBatchesParams). `after` and `limit` are set the same way
/// on each, `order` on those whose operation takes one (not the Batch API). Not JSON:
/// [`query_pairs`](Self::query_pairs) gives the unencoded pairs for the URL.
///
/// ```
/// use sync_openai::types::{GetChatCompletionMessagesParams, Order};
///
/// let p = GetChatCompletionMessagesParams::new().after("msg_1").limit(5).order(Order::Asc);
/// assert_eq!(p.query_pairs(), vec![
///     ("after".to_string(), "msg_1".to_string()),
///     ("limit".to_string(), "5".to_string()),
///     ("order".to_string(), "asc".to_string()),
/// ]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams<F> {
    /// The operation's own filters, sent before the paging parameters.
    pub filter: F,
    /// The cursor: the id of the last item of the previous page.
    pub after: Option<String>,
    /// How many items per page (the server has a default and a maximum per operation).
    pub limit: Option<u32>,
    /// Sort order by creation time (the server's default depends on the operation).
    pub order: Option<Order>,
}

/// The filters of one list operation, the `F` of a [`ListParams`]: what it adds to the
/// query before the paging parameters. Implemented by the crate's filter types only.
pub trait ListFilter: sealed::Sealed {
    /// Appends the set filters as unencoded `(name, value)` pairs.
    fn push_pairs(&self, pairs: &mut Vec<(String, String)>);
}

/// A list operation that takes `order`: [`ListParams::order`] exists for its parameters.
pub trait Ordered: ListFilter {}

/// Only the crate's filter types are [`ListFilter`]s: a new one is a new operation.
pub(super) mod sealed {
    pub trait Sealed {}
}

impl<F: ListFilter + Default> ListParams<F> {
    /// No filters, no paging: the server's defaults.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<F: ListFilter> ListParams<F> {
    /// Sets [`after`](#structfield.after). Defaults to unset.
    pub fn after(mut self, after: impl Into<String>) -> Self {
        self.after = Some(after.into());
        self
    }

    /// Sets [`limit`](#structfield.limit). Defaults to unset.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The set parameters as unencoded `(name, value)` pairs: the filters, then `after`,
    /// `limit`, `order`. The caller URL-encodes them.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        self.filter.push_pairs(&mut pairs);
        if let Some(after) = &self.after {
            pairs.push(("after".to_owned(), after.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit".to_owned(), limit.to_string()));
        }
        if let Some(order) = &self.order {
            pairs.push(("order".to_owned(), order.as_str().to_owned()));
        }
        pairs
    }
}

impl<F: Ordered> ListParams<F> {
    /// Sets [`order`](#structfield.order). Defaults to unset.
    pub fn order(mut self, order: impl Into<Order>) -> Self {
        self.order = Some(order.into());
        self
    }
}

/// One page of a paginated list: `{"object": "list", "data": [...], "first_id", "last_id",
/// "has_more"}`, the shape every OpenAI listing shares.
///
/// Follow `has_more` and `last_id` for the next page, or let an `iter_*` method do it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct List<T> {
    /// The type of this object. It is always set to `list`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// The items of this page.
    #[serde(default, deserialize_with = "null_default")]
    pub data: Vec<T>,
    /// The identifier of the first item in `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_id: Option<String>,
    /// The identifier of the last item in `data`: the cursor for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
    /// Whether there are more items after this page.
    #[serde(default, deserialize_with = "null_default")]
    pub has_more: bool,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
