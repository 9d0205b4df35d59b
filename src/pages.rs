//! `Pages`: the items of a paginated list, one page fetched at a time.

use std::collections::{HashSet, VecDeque};
use std::iter::FusedIterator;

use crate::error::Error;

type FetchPage<T> =
    Box<dyn FnMut(Option<String>) -> Result<(Vec<T>, bool, Option<String>), Error> + Send>;

/// An iterator over the items of a paginated list, fetching a page when the previous one
/// is used up.
///
/// Made by the `iter_*` methods of the handles, such as
/// [`ChatApi::iter_chat_completions`](crate::ChatApi::iter_chat_completions). After an error, or when the server says
/// there is no more, it yields `None` for good. A server that answers `has_more: true`
/// with a cursor it already gave (the same page again, or a cycle of pages) ends the
/// iteration instead of looping.
pub struct Pages<T> {
    fetch: FetchPage<T>,
    id_of: fn(&T) -> Option<String>,
    buffer: VecDeque<T>,
    after: Option<String>,
    /// Every cursor followed so far.
    seen: HashSet<String>,
    more: bool,
}

impl<T> Pages<T> {
    pub(crate) fn new(
        after: Option<String>,
        fetch: FetchPage<T>,
        id_of: fn(&T) -> Option<String>,
    ) -> Self {
        Pages {
            fetch,
            id_of,
            buffer: VecDeque::new(),
            seen: after.iter().cloned().collect(),
            after,
            more: true,
        }
    }

    /// The pages of a list operation: `list(&params)` with `params`' cursor (the field
    /// `cursor` points at) set to where each page ends.
    pub(crate) fn with_cursor<P: Send + 'static>(
        mut params: P,
        cursor: fn(&mut P) -> &mut Option<String>,
        mut list: impl FnMut(&P) -> Result<(Vec<T>, bool, Option<String>), Error> + Send + 'static,
        id_of: fn(&T) -> Option<String>,
    ) -> Self {
        let first = cursor(&mut params).clone();
        let fetch = move |after| {
            *cursor(&mut params) = after;
            list(&params)
        };
        Pages::new(first, Box::new(fetch), id_of)
    }
}

impl<T> Iterator for Pages<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if !self.more {
                return None;
            }
            match (self.fetch)(self.after.clone()) {
                Err(e) => {
                    self.more = false;
                    return Some(Err(e));
                }
                Ok((items, has_more, last_id)) => {
                    let next = last_id
                        .filter(|id| !id.is_empty())
                        .or_else(|| items.last().and_then(self.id_of));
                    // Stop on an empty page, a missing cursor, or a cursor seen before.
                    self.more = has_more
                        && !items.is_empty()
                        && next.as_ref().is_some_and(|n| self.seen.insert(n.clone()));
                    self.after = next;
                    self.buffer.extend(items);
                }
            }
        }
    }
}

impl<T> FusedIterator for Pages<T> {}

impl<T> std::fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("buffered", &self.buffer.len())
            .field("after", &self.after)
            .field("more", &self.more)
            .finish_non_exhaustive()
    }
}
