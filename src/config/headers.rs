//! Headers: the one code path that sets, replaces and merges the custom headers of a
//! [`Config`] and of [`RequestOptions`](crate::RequestOptions).

use crate::error::ConfigProblem;
use crate::http::{HeaderName, HeaderValue};

use super::Config;

impl Config {
    /// A header sent on every request; setting the same name again replaces it.
    ///
    /// An invalid name or value (a CR or LF, say) is not sent: every call then fails
    /// with [`Error::Config`](crate::Error::Config) naming the header. Defaults to no extra headers.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Config {
        if let Err(problem) = self.headers.set(name.as_ref(), value.as_ref()) {
            self.note_invalid(problem);
        }
        self
    }
}

/// Custom headers by name: the one code path of [`Config::header`] and
/// [`RequestOptions::header`](crate::RequestOptions::header), and of merging them.
#[derive(Clone, Default)]
pub(crate) struct Headers(Vec<(HeaderName, HeaderValue)>);

impl Headers {
    /// Sets a header from text, replacing one of the same name; an invalid name or value
    /// sets nothing and is returned.
    pub(crate) fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigProblem> {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConfigProblem::HeaderName(name.to_owned()))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| ConfigProblem::HeaderValue(name.to_owned()))?;
        self.insert(header, value);
        Ok(())
    }

    /// Adds a header, replacing one of the same name.
    pub(crate) fn insert(&mut self, name: HeaderName, value: HeaderValue) {
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value));
    }

    /// Adds every header of `other`, each replacing one of the same name.
    pub(crate) fn extend(&mut self, other: &Headers) {
        for (name, value) in other.iter() {
            self.insert(name.clone(), value.clone());
        }
    }

    /// The headers in the order they were first set.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.0.iter().map(|(n, v)| (n, v))
    }

    /// The names only, for `Debug` output that must not show values.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// How many headers there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}
