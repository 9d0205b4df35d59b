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

/// Lenient `Option<u32>`: `null` is `None`, any number is truncated and saturates.
pub(crate) fn lenient_opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(d.deserialize_any(LenientU64)?
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX)))
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
                match value {
                    Value::Null => {}
                    Value::String(s) => {
                        out.insert(key, s);
                    }
                    other => {
                        out.insert(key, other.to_string());
                    }
                }
            }
            Ok(Some(out))
        }
    }

    d.deserialize_any(MetaVisitor)
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
        #[serde(default, deserialize_with = "lenient_opt_u32")]
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
        let v = t(r#"{"a":12.0,"b":-3,"c":7.9,"d":5000000000,"s":"x"}"#);
        assert_eq!(v.a, 12);
        assert_eq!(v.b, 0);
        assert_eq!(v.c, Some(7));
        assert_eq!(v.d, Some(u32::MAX));
        assert_eq!(v.s, "x");
        assert_eq!(t(r#"{"a":"42"}"#).a, 42);
        assert_eq!(t(r#"{"a":18446744073709551615}"#).a, u64::MAX);
        assert!(serde_json::from_str::<T>(r#"{"a":"many"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a":[]}"#).is_err());
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
