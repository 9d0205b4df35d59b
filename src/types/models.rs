//! Models: `GET /models` and `GET /models/{model}`, as every OpenAI-compatible server shapes them.
//!
//! Servers disagree on the shape of a model listing: OpenAI sends
//! `{"object": "list", "data": [...]}` with `id`, `object`, `created` and `owned_by` on each
//! model; llama.cpp adds a `models` array beside `data`; LM Studio and some proxies leave out
//! `created` or `owned_by`; a few send `created` as text, `data: null`, or a bare JSON array.
//! All of these decode; keys this crate does not model (context length, capabilities, pricing,
//! status, aliases) stay in `extra`, and a `created` or `shutdown_date` that cannot be read as
//! its type is kept there as received instead of failing the decode.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::de::{lenient_opt_text, lenient_string};

/// A model offered by the server, from `GET /models` or `GET /models/{model}`.
///
/// # Examples
///
/// ```
/// use sync_openai::types::{Date, Model};
///
/// let model: Model = serde_json::from_str(
///     r#"{"id": "gpt-4o-mini", "object": "model", "created": 1686935002,
///         "owned_by": "openai", "shutdown_date": "2026-10-23", "context_length": 128000}"#,
/// )?;
/// assert_eq!(model.id, "gpt-4o-mini");
/// assert_eq!(model.created, Some(1686935002));
/// assert_eq!(model.shutdown_date, Some(Date { year: 2026, month: 10, day: 23 }));
/// assert_eq!(model.extra["context_length"], 128000);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Model {
    /// The model identifier, which can be referenced in the API endpoints.
    ///
    /// A server that names its models `name` or `model` instead (Ollama's and llama.cpp's
    /// native listings) has that value here.
    pub id: String,
    /// The object type, `model` (empty when the server left it out).
    pub object: String,
    /// The Unix timestamp (in seconds) when the model was created; `None` when the server
    /// left it out or sent something that is not a number (then kept in `extra`). Signed,
    /// as the spec's integer is: a date before 1970 is negative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// The organization that owns the model; `None` when the server left it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// The date when the model will shut down, or `None` if none was announced (a value
    /// that is not a `YYYY-MM-DD` date is kept in `extra`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_date: Option<Date>,
    /// Fields this crate does not model, kept as received: `context_length`, `max_model_len`,
    /// `capabilities`, `pricing`, `status`, `aliases`, `meta`, …
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Model, D::Error> {
        Model::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Removes `key` from `map` and decodes it with `decode` (one of the lenient helpers); `None`
/// when the key is missing.
fn take<T>(
    map: &mut Map<String, Value>,
    key: &str,
    decode: fn(Value) -> Result<T, serde_json::Error>,
) -> Result<Option<T>, serde_json::Error> {
    map.remove(key).map(decode).transpose()
}

impl Model {
    /// A model from its JSON, with no serde visitor of its own: one `Value` decoder serves
    /// every model of a listing, whatever it was read from.
    fn from_value(value: Value) -> Result<Model, serde_json::Error> {
        let mut extra = match value {
            Value::Object(map) => map,
            other => {
                return Err(serde_json::Error::custom(format!(
                    "expected a model (an object), found {}",
                    kind(&other)
                )))
            }
        };
        let id = match take(&mut extra, "id", lenient_opt_text)?.flatten() {
            Some(id) => id,
            // Ollama's and llama.cpp's native listings name a model `name` or `model`.
            None => ["name", "model"]
                .iter()
                .find_map(|k| extra.get(*k).and_then(Value::as_str))
                .unwrap_or_default()
                .to_owned(),
        };
        let object = take(&mut extra, "object", lenient_string)?.unwrap_or_default();
        let owned_by = take(&mut extra, "owned_by", lenient_opt_text)?.flatten();
        let created = match extra.remove("created") {
            None | Some(Value::Null) => None,
            Some(value) => match timestamp(&value) {
                Some(t) => Some(t),
                None => {
                    extra.insert("created".to_owned(), value);
                    None
                }
            },
        };
        let shutdown_date = match extra.remove("shutdown_date") {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_str().and_then(|s| s.parse::<Date>().ok()) {
                Some(date) => Some(date),
                None => {
                    extra.insert("shutdown_date".to_owned(), value);
                    None
                }
            },
        };
        Ok(Model {
            id,
            object,
            created,
            owned_by,
            shutdown_date,
            extra,
        })
    }
}

/// A Unix timestamp from an integer, a float (truncated), or a numeric string; an integer
/// beyond `i64` is no timestamp.
fn timestamp(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            // `as` truncates toward zero and saturates; only finite floats get here.
            .filter(|f| f.is_finite())
            .map(|f| f as i64),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => timestamp(&serde_json::from_str::<Value>(s.trim()).ok()?),
        _ => None,
    }
}

/// The models a server offers, from `GET /models`.
///
/// Decodes `{"object": "list", "data": [...]}` as the spec has it, and also `data: null` or
/// a missing `data` (no models), a bare JSON array of models, and a listing that has only
/// a `models` array.
///
/// # Examples
///
/// ```
/// use sync_openai::types::ModelList;
///
/// let list: ModelList = serde_json::from_str(r#"[{"id": "llama3.2:latest"}]"#)?;
/// assert_eq!(list.ids().collect::<Vec<_>>(), ["llama3.2:latest"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelList {
    /// The object type, `list` (empty when the server left it out).
    pub object: String,
    /// The models, in the server's order.
    pub data: Vec<Model>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelList {
    /// The ids of the models, in the server's order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.data.iter().map(|m| m.id.as_str())
    }
}

impl<'de> Deserialize<'de> for ModelList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ModelList, D::Error> {
        ModelList::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The models of a JSON array.
fn models(items: Vec<Value>) -> Result<Vec<Model>, serde_json::Error> {
    items.into_iter().map(Model::from_value).collect()
}

impl ModelList {
    fn from_value(value: Value) -> Result<ModelList, serde_json::Error> {
        match value {
            Value::Array(items) => Ok(ModelList {
                object: String::new(),
                data: models(items)?,
                extra: Map::new(),
            }),
            Value::Object(mut extra) => {
                let object = take(&mut extra, "object", lenient_string)?.unwrap_or_default();
                let data = match extra.remove("data") {
                    Some(Value::Array(items)) => models(items)?,
                    Some(Value::Null) | None => match extra.remove("models") {
                        // Only a `models` array (a native listing): read it, keep nothing twice.
                        Some(Value::Array(items)) => models(items)?,
                        Some(other) => {
                            extra.insert("models".to_owned(), other);
                            Vec::new()
                        }
                        None => Vec::new(),
                    },
                    Some(other) => {
                        return Err(serde_json::Error::custom(format!(
                            "invalid type: {}, expected a sequence of models in `data`",
                            kind(&other)
                        )))
                    }
                };
                Ok(ModelList {
                    object,
                    data,
                    extra,
                })
            }
            Value::Null => Ok(ModelList::default()),
            other => Err(serde_json::Error::custom(format!(
                "expected a model list (an object with `data`, or an array), found {}",
                kind(&other)
            ))),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A calendar date, `YYYY-MM-DD` on the wire (a model's `shutdown_date`).
///
/// ```
/// use sync_openai::types::Date;
///
/// let date: Date = "2026-10-23".parse()?;
/// assert_eq!((date.year, date.month, date.day), (2026, 10, 23));
/// assert_eq!(date.to_string(), "2026-10-23");
/// assert!("2026-02-30".parse::<Date>().is_err());
/// # Ok::<(), sync_openai::types::ParseDateError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// The year, such as 2026.
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
}

/// The error of parsing a [`Date`]: the text is not a valid `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDateError {
    text: String,
}

impl fmt::Display for ParseDateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a valid YYYY-MM-DD date", self.text)
    }
}

impl std::error::Error for ParseDateError {}

impl FromStr for Date {
    type Err = ParseDateError;

    /// Parses `YYYY-MM-DD`; a time after it (`2026-10-23T00:00:00Z`) is accepted and ignored.
    fn from_str(s: &str) -> Result<Date, ParseDateError> {
        let error = || ParseDateError { text: s.to_owned() };
        let t = s.trim();
        let date = t.get(..10).ok_or_else(error)?;
        if !(t.len() == 10 || t.get(10..11) == Some("T") || t.get(10..11) == Some(" ")) {
            return Err(error());
        }
        let mut parts = date.split('-');
        let mut field = |len: usize| {
            parts
                .next()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u16>().ok())
        };
        let (Some(year), Some(month), Some(day)) = (field(4), field(2), field(2)) else {
            return Err(error());
        };
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(error()),
        };
        if day == 0 || day > days {
            return Err(error());
        }
        // Both fit: month <= 12, day <= 31.
        Ok(Date {
            year,
            month: month as u8,
            day: day as u8,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)] // tests fail by panicking
mod tests {
    use super::*;
    use serde_json::json;

    fn list(body: Value) -> ModelList {
        serde_json::from_value(body).unwrap_or_else(|e| panic!("decode failed: {e}"))
    }

    #[test]
    fn spec_example_decodes_and_round_trips() {
        let body = json!({"object": "list", "data": [
            {"id": "model-id-0", "object": "model", "created": 1686935002,
             "owned_by": "organization-owner", "shutdown_date": null},
            {"id": "model-id-2", "object": "model", "created": 1686935002,
             "owned_by": "openai", "shutdown_date": "2026-10-23"}
        ]});
        let l = list(body);
        assert_eq!(l.object, "list");
        assert_eq!(l.ids().collect::<Vec<_>>(), ["model-id-0", "model-id-2"]);
        assert_eq!(l.data[0].owned_by.as_deref(), Some("organization-owner"));
        assert_eq!(l.data[0].shutdown_date, None);
        assert_eq!(
            l.data[1].shutdown_date,
            Some(Date {
                year: 2026,
                month: 10,
                day: 23
            })
        );
        let again: ModelList = serde_json::from_value(serde_json::to_value(&l).unwrap()).unwrap();
        assert_eq!(again, l);
    }

    #[test]
    fn unreadable_created_and_shutdown_date_stay_in_extra() {
        let m: Model = serde_json::from_value(json!({
            "id": "m", "created": "2024-05-13T10:00:00Z", "shutdown_date": "soon"
        }))
        .unwrap();
        assert_eq!(m.created, None);
        assert_eq!(m.shutdown_date, None);
        assert_eq!(m.extra["created"], "2024-05-13T10:00:00Z");
        assert_eq!(m.extra["shutdown_date"], "soon");
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"id": "m", "object": "", "created": "2024-05-13T10:00:00Z", "shutdown_date": "soon"})
        );
    }

    #[test]
    fn created_as_numeric_text_or_float() {
        let m: Model =
            serde_json::from_value(json!({"id": "m", "created": " 1700000000 "})).unwrap();
        assert_eq!(m.created, Some(1_700_000_000));
        let m: Model = serde_json::from_value(json!({"id": "m", "created": 1.7e9})).unwrap();
        assert_eq!(m.created, Some(1_700_000_000));
        let m: Model = serde_json::from_value(json!({"id": "m", "created": -5})).unwrap();
        assert_eq!(m.created, Some(-5));
        let m: Model = serde_json::from_value(json!({"id": "m", "created": u64::MAX})).unwrap();
        assert_eq!((m.created, &m.extra["created"]), (None, &json!(u64::MAX)));
    }

    #[test]
    fn dates() {
        assert_eq!("2024-02-29".parse::<Date>().map(|d| d.day), Ok(29));
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2026-13-01".parse::<Date>().is_err());
        assert!("2026-1-01".parse::<Date>().is_err());
        assert!("2026-10-23x".parse::<Date>().is_err());
        assert!("+026-10-23".parse::<Date>().is_err());
        assert_eq!(
            "2026-10-23T00:00:00Z"
                .parse::<Date>()
                .map(|d| d.to_string()),
            Ok("2026-10-23".to_owned())
        );
        assert!("".parse::<Date>().is_err());
        assert!("é".parse::<Date>().is_err());
    }

    #[test]
    fn not_a_list_is_an_error_that_says_so() {
        let e = serde_json::from_value::<ModelList>(json!("models")).unwrap_err();
        assert!(e.to_string().contains("found a string"), "{e}");
        let e = serde_json::from_value::<ModelList>(json!({"data": 3})).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
    }
}
