//! Serde visitors that read any JSON value, for the readers of `read.rs` and `wire.rs`.
//!
//! A reader of the protocol never fails on a value of the wrong shape (docs/spec.md §2: a malformed
//! message is still a message): it consumes the value and answers with what that shape means,
//! usually "none". [`other_shapes_are!`] writes the visits of the shapes a reader does not read.

/// Writes, inside an `impl Visitor`, the visits of every JSON value a reader does not read,
/// each consuming the value and answering `$value`: the scalars (strings, booleans, numbers,
/// `null`), and also lists (`seq`) or objects (`map`) when named first.
macro_rules! other_shapes_are {
    (seq, $value:expr) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok($value)
        }
        $crate::visit::other_shapes_are!($value);
    };
    (map, $value:expr) => {
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok($value)
        }
        $crate::visit::other_shapes_are!($value);
    };
    ($value:expr) => {
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

pub(crate) use other_shapes_are;

/// A map key as text, borrowed from the input where it has no escapes. (`Cow<str>`'s own
/// `Deserialize` always copies into a `String`: one allocation per key read.)
pub(crate) struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::KeySeed;
    use serde::de::{MapAccess, Visitor};
    use std::borrow::Cow;

    /// The keys of a JSON object, read with [`KeySeed`], and whether each was borrowed.
    fn keys(text: &str) -> Vec<(String, bool)> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Vec<(String, bool)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key_seed(KeySeed)? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    out.push((k.to_string(), matches!(k, Cow::Borrowed(_))));
                }
                Ok(out)
            }
        }
        let mut de = serde_json::Deserializer::from_str(text);
        serde::Deserializer::deserialize_map(&mut de, Keys).unwrap()
    }

    #[test]
    fn keys_are_borrowed_unless_escaped() {
        assert_eq!(
            keys(r#"{"api":1,"d\u0061ta":{},"x\"y":null}"#),
            vec![
                ("api".to_string(), true),
                ("data".to_string(), false),
                ("x\"y".to_string(), false)
            ]
        );
    }
}
