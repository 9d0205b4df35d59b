//! Lenient deserialize helpers for what servers send back.
//!
//! Used with `#[serde(default, deserialize_with = "…")]`: `default` covers a missing key, the
//! helper covers `null` and numbers in an unexpected shape.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The three `Visitor` methods of an `Option` visitor: `null` and a missing value are
/// `None`, `Some(x)` is visited as `x`.
macro_rules! null_is_none {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

/// `null` (or a missing key, with `#[serde(default)]`) becomes `T::default()`.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Visits any JSON number (or a numeric string) and turns it into a `u64`, or `None` for `null`.
///
/// Negative numbers become 0, floats are truncated toward zero and saturate at `u64::MAX`.
struct LenientU64;

impl<'de> Visitor<'de> for LenientU64 {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(u64::try_from(v).unwrap_or(0)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // `as` truncates toward zero and saturates: NaN and negatives become 0, huge values
        // u64::MAX. That is the documented intent.
        Ok(Some(v as u64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if let Ok(n) = t.parse::<u64>() {
            return Ok(Some(n));
        }
        match t.parse::<f64>() {
            Ok(f) => self.visit_f64(f),
            Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    null_is_none!();
}

/// Lenient `u64`: any number, truncated; `null` (or missing, with `default`) is 0.
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(d.deserialize_any(LenientU64)?.unwrap_or(0))
}

/// Lenient `u32`: like [`lenient_u64`], saturating at `u32::MAX`.
pub(crate) fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = d.deserialize_any(LenientU64)?.unwrap_or(0);
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

/// Lenient `Option<u64>`: `null` is `None`, any number is truncated.
pub(crate) fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(LenientU64)
}

/// The most choices a response or a stream chunk may hold: the API caps `n` at 128.
///
/// A longer `choices` array is a decode error, so a hostile body such as
/// `{"choices":[{},{},…]}` (32 MiB of it is 11 million empty choices, each a struct of
/// strings, vectors and maps) cannot make the decoded value hundreds of times larger than the
/// bytes it came from.
pub const MAX_CHOICES: usize = 128;

/// The most tool calls one message, or one choice of a stream, may hold.
///
/// A longer `tool_calls` array is a decode error, and a stream with more distinct tool-call
/// indices in one choice is a stream error, for the same reason as [`MAX_CHOICES`].
pub const MAX_TOOL_CALLS: usize = 1024;

/// A sequence of at most `max` elements; `null` is empty.
struct Capped<T> {
    max: usize,
    what: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Capped<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of at most {} {}", self.max, self.what)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            if out.len() == self.max {
                return Err(de::Error::custom(format_args!(
                    "more than {} {} in one array; the API sends at most {}",
                    self.max, self.what, self.max
                )));
            }
            out.push(item);
        }
        Ok(out)
    }
}

/// `choices`: at most [`MAX_CHOICES`] elements, `null` or missing is empty.
pub(crate) fn capped_choices<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(Capped {
        max: MAX_CHOICES,
        what: "choices",
        marker: std::marker::PhantomData,
    })
}

/// `tool_calls`: at most [`MAX_TOOL_CALLS`] elements; `null` is `None`.
pub(crate) fn capped_tool_calls<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Opt<T>(Capped<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Opt<T> {
        type Value = Option<Vec<T>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.expecting(f)
        }
        null_is_none!();
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            self.0.visit_seq(seq).map(Some)
        }
    }
    d.deserialize_any(Opt(Capped {
        max: MAX_TOOL_CALLS,
        what: "tool calls",
        marker: std::marker::PhantomData,
    }))
}

/// The number of elements of a `choices` value is over [`MAX_CHOICES`] (`true`), counted
/// without building them; any other value is `false`.
struct Count(bool);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Count;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
        let mut n = 0usize;
        while seq.next_element::<de::IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Count(n > MAX_CHOICES))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Count, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Count(false))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Count, E> {
        Ok(Count(false))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Count, E> {
        Ok(Count(false))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Count, E> {
        Ok(Count(false))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Count, E> {
        Ok(Count(false))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Count, E> {
        Ok(Count(false))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Count, E> {
        Ok(Count(false))
    }
}

/// Whether the top-level `choices` of a JSON body has more than [`MAX_CHOICES`] elements,
/// found without building them (a second, allocation-free pass over the body). `false` for
/// anything that is not such an object.
pub(crate) fn too_many_choices(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Shape {
        choices: Option<Count>,
    }

    matches!(
        serde_json::from_slice::<Shape>(body),
        Ok(Shape {
            choices: Some(Count(true))
        })
    )
}

/// Visits an index of a stream chunk: a non-negative integer (or a numeric string, or an
/// integral float) that fits in a `u32`. Anything else is an error rather than a coercion
/// into another index, so two different choices or tool calls never merge. `minus_one` is
/// what `-1` means (`None` for errors).
struct StreamIndex {
    minus_one: Option<Option<u32>>,
}

impl StreamIndex {
    fn check<E: de::Error>(self, v: i128) -> Result<Option<u32>, E> {
        if v == -1 {
            if let Some(meaning) = self.minus_one {
                return Ok(meaning);
            }
        }
        u32::try_from(v).map(Some).map_err(|_| {
            E::custom(format_args!(
                "index {v} is out of range: an index is an integer from 0 to {}",
                u32::MAX
            ))
        })
    }
}

impl<'de> Visitor<'de> for StreamIndex {
    type Value = Option<u32>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an index from 0 to 4294967295")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.check(i128::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.check(i128::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Only an integral float within range is an index; `as` is exact for those.
        if v.fract() == 0.0 && (-1.0..=f64::from(u32::MAX)).contains(&v) {
            return self.check(v as i128);
        }
        Err(E::custom(format_args!(
            "index {v} is out of range: an index is an integer from 0 to {}",
            u32::MAX
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim().parse::<i128>() {
            Ok(n) => self.check(n),
            Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    null_is_none!();
}

/// A choice index of a stream chunk: 0 when missing or `null`, an error when negative, too
/// large or fractional (never coerced into another choice's index).
pub(crate) fn stream_choice_index<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(d.deserialize_any(StreamIndex { minus_one: None })?
        .unwrap_or(0))
}

/// A tool-call index of a stream chunk: `None` when missing, `null` or `-1` (AWS Bedrock's
/// "the only call"), an error for any other negative, too large or fractional value.
pub(crate) fn stream_tool_index<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    d.deserialize_any(StreamIndex {
        minus_one: Some(None),
    })
}

/// Metadata map that tolerates non-string values: strings are kept, `null` values are dropped,
/// anything else is stored as its JSON text. A `null` map is `None`.
pub(crate) fn lenient_metadata<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    struct MetaVisitor;

    impl<'de> Visitor<'de> for MetaVisitor {
        type Value = Option<BTreeMap<String, String>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of strings or null")
        }

        null_is_none!();

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                if let Some(text) = metadata_text(value) {
                    out.insert(key, text);
                }
            }
            Ok(Some(out))
        }
    }

    d.deserialize_any(MetaVisitor)
}

/// One metadata value as [`lenient_metadata`] keeps it: a string as is, `null` dropped,
/// anything else as its JSON text.
fn metadata_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// [`lenient_metadata`] of a value already decoded (a stream's `metadata` vendor key):
/// `null` is `None`, an object its map; anything else is handed back. Not generic, and it
/// decodes no type from a `Value`.
pub(crate) fn metadata_from_value(value: Value) -> Result<Option<BTreeMap<String, String>>, Value> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => {
            let mut out = BTreeMap::new();
            for (key, value) in map {
                if let Some(text) = metadata_text(value) {
                    out.insert(key, text);
                }
            }
            Ok(Some(out))
        }
        other => Err(other),
    }
}

/// Visits a string, or a number or bool as its text; `null` is `None`. With `json_text`, an
/// object or array is kept as its JSON text too; without, it is an error.
struct LenientString {
    json_text: bool,
}

impl LenientString {
    /// An object or array (read through `d`) as its JSON text, if allowed.
    fn structured<'de, D: Deserializer<'de>>(
        self,
        d: D,
        unexpected: de::Unexpected<'_>,
    ) -> Result<Option<String>, D::Error> {
        if !self.json_text {
            return Err(de::Error::invalid_type(unexpected, &self));
        }
        Ok(Some(Value::deserialize(d)?.to_string()))
    }
}

impl<'de> Visitor<'de> for LenientString {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // As JSON writes it (`1.0`, not `1`).
        Ok(Some(Value::from(v).to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    null_is_none!();

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.structured(
            de::value::MapAccessDeserializer::new(map),
            de::Unexpected::Map,
        )
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.structured(
            de::value::SeqAccessDeserializer::new(seq),
            de::Unexpected::Seq,
        )
    }
}

/// A string; a number or bool (an `id` of `123`) as its text; `null` or missing as `""`.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_opt_text(d)?.unwrap_or_default())
}

/// Like [`lenient_string`], with `null` as `None`.
pub(crate) fn lenient_opt_text<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    d.deserialize_any(LenientString { json_text: false })
}

/// A string as is; any other JSON (an object of arguments, as some servers send) as its JSON
/// text; `null` (or missing, with `default`) as `""`.
pub(crate) fn string_or_json<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_opt_string(d)?.unwrap_or_default())
}

/// Like [`string_or_json`], with `null` as `None`.
pub(crate) fn lenient_opt_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    d.deserialize_any(LenientString { json_text: true })
}

/// Visits a number, or a numeric string (`"-inf"`, `"NaN"`, `"-1.5"`), as `f64`.
struct LenientF64;

impl<'de> Visitor<'de> for LenientF64 {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    null_is_none!();
}

/// Lenient `f64`: any number or numeric string; `null` (or missing) is 0.
pub(crate) fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(d.deserialize_any(LenientF64)?.unwrap_or_default())
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(default, deserialize_with = "lenient_u64")]
        a: u64,
        #[serde(default, deserialize_with = "lenient_u32")]
        b: u32,
        #[serde(default, deserialize_with = "lenient_opt_u64")]
        c: Option<u64>,
        #[serde(default, deserialize_with = "stream_tool_index")]
        d: Option<u32>,
        #[serde(default, deserialize_with = "null_default")]
        s: String,
        #[serde(default, deserialize_with = "lenient_metadata")]
        m: Option<BTreeMap<String, String>>,
    }

    fn t(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn missing_and_null_default() {
        let all_missing = t("{}");
        assert_eq!(
            all_missing,
            T {
                a: 0,
                b: 0,
                c: None,
                d: None,
                s: String::new(),
                m: None
            }
        );
        assert_eq!(
            t(r#"{"a":null,"b":null,"c":null,"d":null,"s":null,"m":null}"#),
            all_missing
        );
    }

    #[test]
    fn numbers_in_any_shape() {
        let v = t(r#"{"a":12.0,"b":-3,"c":7.9,"d":"5","s":"x"}"#);
        assert_eq!(v.a, 12);
        assert_eq!(v.b, 0);
        assert_eq!(v.c, Some(7));
        assert_eq!(v.d, Some(5));
        assert_eq!(v.s, "x");
        assert_eq!(t(r#"{"a":"42"}"#).a, 42);
        assert_eq!(t(r#"{"a":18446744073709551615}"#).a, u64::MAX);
        assert!(serde_json::from_str::<T>(r#"{"a":"many"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":[]}"#).is_err());
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Indices {
        #[serde(default, deserialize_with = "stream_choice_index")]
        choice: u32,
        #[serde(default, deserialize_with = "stream_tool_index")]
        tool: Option<u32>,
    }

    #[test]
    fn stream_indices_are_never_coerced() {
        let ok = |json: &str| serde_json::from_str::<Indices>(json).unwrap();
        assert_eq!(
            ok("{}"),
            Indices {
                choice: 0,
                tool: None
            }
        );
        assert_eq!(
            ok(r#"{"choice":4294967295,"tool":2.0}"#),
            Indices {
                choice: u32::MAX,
                tool: Some(2)
            }
        );
        // Bedrock's -1 for its only tool call reads as "no index".
        assert_eq!(ok(r#"{"tool":-1}"#).tool, None);
        for bad in [
            r#"{"choice":-1}"#,
            r#"{"choice":4294967296}"#,
            r#"{"choice":9223372036854775807}"#,
            r#"{"choice":1.5}"#,
            r#"{"tool":-2}"#,
            r#"{"tool":4294967296}"#,
            r#"{"tool":"x"}"#,
        ] {
            let err = serde_json::from_str::<Indices>(bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("out of range") || err.contains("expected an index"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn choices_and_tool_calls_are_capped() {
        #[derive(Deserialize)]
        struct C {
            #[serde(default, deserialize_with = "capped_choices")]
            choices: Vec<Value>,
            #[serde(default, deserialize_with = "capped_tool_calls")]
            tool_calls: Option<Vec<Value>>,
        }
        let list = |n: usize| format!("[{}]", vec!["{}"; n].join(","));
        let c: C =
            serde_json::from_str(&format!(r#"{{"choices":{}}}"#, list(MAX_CHOICES))).unwrap();
        assert_eq!(c.choices.len(), MAX_CHOICES);
        assert_eq!(c.tool_calls, None);
        let err = serde_json::from_str::<C>(&format!(r#"{{"choices":{}}}"#, list(MAX_CHOICES + 1)))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("more than 128 choices"), "{err}");
        let c: C = serde_json::from_str(r#"{"choices":null,"tool_calls":[]}"#).unwrap();
        assert_eq!((c.choices.len(), c.tool_calls), (0, Some(Vec::new())));
        let body = format!(r#"{{"tool_calls":{}}}"#, list(MAX_TOOL_CALLS + 1));
        let err = serde_json::from_str::<C>(&body).err().unwrap().to_string();
        assert!(err.contains("more than 1024 tool calls"), "{err}");
    }

    #[test]
    fn metadata_is_stringified() {
        let v = t(r#"{"m":{"a":"x","b":1,"c":true,"d":null,"e":{"k":[1]}}}"#);
        let m = v.m.unwrap();
        assert_eq!(m.get("a").map(String::as_str), Some("x"));
        assert_eq!(m.get("b").map(String::as_str), Some("1"));
        assert_eq!(m.get("c").map(String::as_str), Some("true"));
        assert_eq!(m.get("d"), None);
        assert_eq!(m.get("e").map(String::as_str), Some(r#"{"k":[1]}"#));
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Flat {
        #[serde(default, deserialize_with = "lenient_u64")]
        a: u64,
        #[serde(flatten)]
        extra: serde_json::Map<String, Value>,
    }

    #[test]
    fn works_behind_flatten() {
        let v: Flat = serde_json::from_str(r#"{"a":3.0,"z":1}"#).unwrap();
        assert_eq!(v.a, 3);
        assert_eq!(v.extra.get("z"), Some(&Value::from(1)));
        let v: Flat = serde_json::from_str(r#"{"a":null}"#).unwrap();
        assert_eq!(v.a, 0);
    }

    #[test]
    fn lenient_text_modes() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "lenient_string")]
            id: String,
            #[serde(default, deserialize_with = "string_or_json")]
            args: String,
        }
        let t: T = serde_json::from_str(r#"{"id":1.5,"args":{"a":[1,true]}}"#).unwrap();
        assert_eq!(
            (t.id.as_str(), t.args.as_str()),
            ("1.5", r#"{"a":[1,true]}"#)
        );
        let t: T = serde_json::from_str(r#"{"id":null,"args":[2.0]}"#).unwrap();
        assert_eq!((t.id.as_str(), t.args.as_str()), ("", "[2.0]"));
        assert!(serde_json::from_str::<T>(r#"{"id":{"x":1}}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"id":[1]}"#).is_err());
    }
}
