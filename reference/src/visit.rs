//! Serde visitors that read any JSON value, for the readers of `read.rs` and `wire.rs`.
//!
//! A reader of the protocol never fails on a value of the wrong shape (SPEC §2: a malformed
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
