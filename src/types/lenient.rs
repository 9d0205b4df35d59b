//! One small decoder for every lenient response struct, instead of serde's derive.
//!
//! `#[derive(Deserialize)]` with `#[serde(flatten)] extra` writes, per struct, a field enum and
//! its visitor, a `visit_seq` nobody sends, a buffer of every unknown key as serde's private
//! `Content`, and a second pass that turns that buffer into `extra`. [`lenient_struct!`] writes
//! one `visit_map` that reads each key once: a known key goes to its field through the field's
//! decoder (a [`Decode`] type: the same lenient helpers as before), any other key straight into
//! `extra` as a [`Value`]. Same results, about a third of the code the compiler has to check and
//! the LLVM IR it has to optimise, which is what the crate's build time is made of.
//!
//! What it accepts is what the derive accepted for these structs (all their fields have
//! `#[serde(default)]`): a JSON object; a missing key is the field's default. Two things differ,
//! both on input no server sends: a key given twice keeps its last value (the derive refused
//! the object), and a struct without `extra` no longer also accepts a JSON array of its fields.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};
use serde::Deserialize;

use super::de as helpers;

/// How one field is decoded: a type naming one of the lenient helpers of `de.rs`.
pub(crate) trait Decode {
    /// The field's type.
    type Out;
    /// Decodes the field's value.
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self::Out, D::Error>;
}

/// The [`DeserializeSeed`] that runs the [`Decode`] `H`.
pub(crate) struct Seed<H>(PhantomData<H>);

impl<H> Seed<H> {
    pub(crate) fn new() -> Self {
        Seed(PhantomData)
    }
}

impl<'de, H: Decode> DeserializeSeed<'de> for Seed<H> {
    type Value = H::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<H::Out, D::Error> {
        H::decode(d)
    }
}

/// A field decoded as its type decodes itself.
pub(crate) struct Plain<T>(PhantomData<T>);

impl<T: DeserializeOwned> Decode for Plain<T> {
    type Out = T;
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// `null` as the default ([`helpers::null_default`]).
pub(crate) struct NullDefault<T>(PhantomData<T>);

impl<T: DeserializeOwned + Default> Decode for NullDefault<T> {
    type Out = T;
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        helpers::null_default(d)
    }
}

/// `choices`, at most [`MAX_CHOICES`](super::MAX_CHOICES) ([`helpers::capped_choices`]).
pub(crate) struct Choices<T>(PhantomData<T>);

impl<T: DeserializeOwned> Decode for Choices<T> {
    type Out = Vec<T>;
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        helpers::capped_choices(d)
    }
}

/// `tool_calls`, at most [`MAX_TOOL_CALLS`](super::MAX_TOOL_CALLS)
/// ([`helpers::capped_tool_calls`]).
pub(crate) struct ToolCalls<T>(PhantomData<T>);

impl<T: DeserializeOwned> Decode for ToolCalls<T> {
    type Out = Option<Vec<T>>;
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
        helpers::capped_tool_calls(d)
    }
}

/// Names a non-generic helper of `de.rs` as a [`Decode`].
macro_rules! decode_with {
    ($($(#[$doc:meta])* $name:ident: $out:ty = $helper:path;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $name;

        impl $crate::types::lenient::Decode for $name {
            type Out = $out;
            fn decode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<$out, D::Error> {
                $helper(d)
            }
        }
    )*};
}

decode_with! {
    /// [`helpers::lenient_string`].
    Str: String = helpers::lenient_string;
    /// [`helpers::lenient_opt_text`].
    OptText: Option<String> = helpers::lenient_opt_text;
    /// [`helpers::string_or_json`].
    StrOrJson: String = helpers::string_or_json;
    /// [`helpers::lenient_opt_string`].
    OptStrOrJson: Option<String> = helpers::lenient_opt_string;
    /// [`helpers::lenient_u64`].
    U64: u64 = helpers::lenient_u64;
    /// [`helpers::lenient_u32`].
    U32: u32 = helpers::lenient_u32;
    /// [`helpers::lenient_opt_u64`].
    OptU64: Option<u64> = helpers::lenient_opt_u64;
    /// [`helpers::lenient_f64`].
    F64: f64 = helpers::lenient_f64;
    /// [`helpers::lenient_metadata`].
    Metadata: Option<std::collections::BTreeMap<String, String>> = helpers::lenient_metadata;
    /// [`helpers::stream_choice_index`].
    ChoiceIndex: u32 = helpers::stream_choice_index;
    /// [`helpers::stream_tool_index`].
    ToolIndex: Option<u32> = helpers::stream_tool_index;
}

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }

        d.deserialize_str(KeyVisitor)
    }
}

/// The wire name of a field: its own name, or the literal given with `as`.
macro_rules! lenient_key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $key:literal) => {
        $key
    };
}

/// Writes `Deserialize` for a struct that derives `Default`: a JSON object, each listed field
/// read by its [`Decode`] (`field: Decode` or `field as "wire": Decode`), every other key kept in
/// the struct's `extra` map, or skipped when the list ends with `; skip_unknown`; with
/// `; drop "key"`, that one key is skipped and the others kept.
macro_rules! lenient_struct {
    ($ty:ident { $($field:ident $(as $key:literal)?: $decode:ty),* $(,)? }) => {
        $crate::types::lenient::lenient_struct!(@impl $ty { $($field $(as $key)?: $decode),* }
            |out, key, map| {
                let value = serde::de::MapAccess::next_value::<serde_json::Value>(&mut map)?;
                out.extra.insert(key.0.into_owned(), value);
            });
    };
    ($ty:ident { $($field:ident $(as $key:literal)?: $decode:ty),* $(,)? }; drop $drop:literal) => {
        $crate::types::lenient::lenient_struct!(@impl $ty { $($field $(as $key)?: $decode),* }
            |out, key, map| {
                if key.0 == $drop {
                    serde::de::MapAccess::next_value::<serde::de::IgnoredAny>(&mut map)?;
                } else {
                    let value = serde::de::MapAccess::next_value::<serde_json::Value>(&mut map)?;
                    out.extra.insert(key.0.into_owned(), value);
                }
            });
    };
    ($ty:ident { $($field:ident $(as $key:literal)?: $decode:ty),* $(,)? }; skip_unknown) => {
        $crate::types::lenient::lenient_struct!(@impl $ty { $($field $(as $key)?: $decode),* }
            |_out, _key, map| {
                serde::de::MapAccess::next_value::<serde::de::IgnoredAny>(&mut map)?;
            });
    };
    (@impl $ty:ident { $($field:ident $(as $key:literal)?: $decode:ty),* }
        |$out:ident, $k:ident, $map:ident| $other:block) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;

                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("struct ", stringify!($ty)))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut $map: A,
                    ) -> Result<$ty, A::Error> {
                        use $crate::types::lenient::{Key, Seed};
                        #[allow(unused_mut)]
                        let mut $out = <$ty as Default>::default();
                        while let Some($k) = $map.next_key::<Key<'de>>()? {
                            $(
                                if $k.0 == $crate::types::lenient::lenient_key!($field $($key)?) {
                                    $out.$field = $map.next_value_seed(Seed::<$decode>::new())?;
                                    continue;
                                }
                            )*
                            $other
                        }
                        Ok($out)
                    }
                }

                d.deserialize_map(V)
            }
        }
    };
}

pub(crate) use {decode_with, lenient_key, lenient_struct};

#[cfg(test)]
// Tests may unwrap: a panic is the failure report.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use crate::types::{CompletionUsage, CreateChatCompletionResponse, TopLogprob};

    #[test]
    fn known_keys_go_to_fields_and_the_rest_to_extra() {
        // `\u0069d` is `id` with an escape: the key is not borrowed, and still matches.
        let r: CreateChatCompletionResponse = serde_json::from_str(
            r#"{"\u0069d":"c1","x_groq":{"id":"q"},"created":"17","choices":[],"citations":[1]}"#,
        )
        .unwrap();
        assert_eq!(r.id, "c1");
        assert_eq!(r.created, 17);
        assert_eq!(r.extra.keys().collect::<Vec<_>>(), ["citations", "x_groq"]);
        assert_eq!(r.extra["x_groq"]["id"], "q");
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value() {
        let u: CompletionUsage =
            serde_json::from_str(r#"{"total_tokens":1,"total_tokens":2,"odd":1,"odd":2}"#).unwrap();
        assert_eq!(u.total_tokens, 2);
        assert_eq!(u.extra["odd"], 2);
    }

    #[test]
    fn a_struct_without_extra_skips_unknown_keys() {
        let t: TopLogprob =
            serde_json::from_str(r#"{"token":"a","logprob":"-1.5","new":{"x":[1]}}"#).unwrap();
        assert_eq!((t.token.as_str(), t.logprob), ("a", -1.5));
    }

    #[test]
    fn anything_but_an_object_is_an_error_naming_the_struct() {
        let e = serde_json::from_str::<CreateChatCompletionResponse>("[1]").unwrap_err();
        assert!(
            e.to_string()
                .contains("expected struct CreateChatCompletionResponse"),
            "{e}"
        );
        let e = serde_json::from_str::<CompletionUsage>(r#"{"total_tokens":[]}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type: sequence"), "{e}");
    }
}
