//! A fast JSON deserializer for the validator's hot path, exact by giving up.
//!
//! [`Scanner`] drives the same serde visitors as `serde_json` does (the readers of
//! [`crate::read`] and the line visitor of [`crate::trace`]), with the same calls, on the JSON it
//! knows: strings without escapes where a visitor reads them, `null`, booleans, lists, objects,
//! and any value at all where a visitor skips it (`IgnoredAny`) or keeps it raw (`RawValue`). It
//! finds string ends with `memchr` rather than byte by byte.
//!
//! On anything else (a number or an escaped string where a visitor reads a value, nesting deeper
//! than [`MAX_DEPTH`], any syntax error, any call it does not serve) it gives up ([`GiveUp`]),
//! and the caller reads the text with `serde_json` instead. So whatever it reads, `serde_json`
//! reads the same way; it only decides how fast. `tests/scan_equivalence.rs` checks this.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The scanner does not read this text: read it with `serde_json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not read by the fast scanner")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

/// Nesting deeper than this is left to `serde_json` (whose own limit is 128).
pub const MAX_DEPTH: u32 = 100;

/// `serde_json`'s name for the raw value it hands to `RawValue`'s visitor.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// A JSON text being read.
pub struct Scanner<'de> {
    text: &'de str,
    pos: usize,
    depth: u32,
    /// Whether the text holds a control character anywhere (a tab between tokens, say): only
    /// then are strings checked for them one by one.
    controls: bool,
}

/// Reads `text`, a whole JSON text, with `visitor`; gives up unless all of it is read.
pub fn read_str<'de, V: Visitor<'de>>(text: &'de str, visitor: V) -> Result<V::Value, GiveUp> {
    let mut scanner = Scanner::new(text);
    let value = de::Deserializer::deserialize_any(&mut scanner, visitor)?;
    match scanner.peek() {
        None => Ok(value),
        Some(_) => Err(GiveUp),
    }
}

/// Reads `text`, a whole JSON text, with `seed`; gives up unless all of it is read.
pub fn read_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
) -> Result<S::Value, GiveUp> {
    let mut scanner = Scanner::new(text);
    let value = seed.deserialize(&mut scanner)?;
    match scanner.peek() {
        None => Ok(value),
        Some(_) => Err(GiveUp),
    }
}

/// Whether `bytes` holds a control character (which JSON forbids in strings): eight bytes at a
/// time (a byte below 0x20 is one whose subtraction of 0x20 borrows into its top bit while its
/// own top bit is clear), without an early exit.
fn has_control(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    let mut words = bytes.chunks_exact(8);
    let mut flags = 0u64;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        flags |= w.wrapping_sub(ONES * 0x20) & !w;
    }
    flags & (ONES << 7) != 0 || words.remainder().iter().any(|&b| b < 0x20)
}

impl Scanner<'_> {
    /// The index in `bytes` (a string's content onwards) of the first `"` or `\\`, with no
    /// control character before it: found with `memchr`, then checked for control characters
    /// unless the whole text has none.
    fn string_end(&self, bytes: &[u8]) -> Result<usize, GiveUp> {
        let len = memchr::memchr2(b'"', b'\\', bytes).ok_or(GiveUp)?;
        if self.controls && has_control(&bytes[..len]) {
            return Err(GiveUp);
        }
        Ok(len)
    }
}

impl<'de> Scanner<'de> {
    fn new(text: &'de str) -> Self {
        Scanner {
            text,
            pos: 0,
            depth: 0,
            controls: has_control(text.as_bytes()),
        }
    }

    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    /// The next byte after whitespace (consumed), without consuming it.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                _ => return Some(b),
            }
        }
        None
    }

    /// Consumes `byte` after whitespace.
    fn expect(&mut self, byte: u8) -> Result<(), GiveUp> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// Consumes `word` at the current position.
    fn literal(&mut self, word: &[u8]) -> Result<(), GiveUp> {
        if self.bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// A string without escapes at the current position (its opening quote), consumed.
    fn borrowed_str(&mut self) -> Result<&'de str, GiveUp> {
        let start = self.pos + 1;
        let rest = self.bytes().get(start..).ok_or(GiveUp)?;
        let len = self.string_end(rest)?;
        if rest[len] != b'"' {
            return Err(GiveUp);
        }
        self.pos = start + len + 1;
        // Both ends are ASCII quotes in a `str`: a character boundary each.
        self.text.get(start..start + len).ok_or(GiveUp)
    }

    /// Skips a string at the current position (its opening quote), escapes checked as
    /// `serde_json` checks them when it skips one, and surrogates paired as a Rust string needs
    /// them (it gives up on a lone one).
    fn skip_str(&mut self) -> Result<(), GiveUp> {
        let bytes = self.bytes();
        let mut at = self.pos + 1;
        loop {
            at += self.string_end(bytes.get(at..).ok_or(GiveUp)?)?;
            if bytes[at] == b'"' {
                self.pos = at + 1;
                return Ok(());
            }
            // A backslash: one escape.
            match bytes.get(at + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 2,
                Some(b'u') => {
                    let hex = bytes.get(at + 2..at + 6).ok_or(GiveUp)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(GiveUp);
                    }
                    // A surrogate must be the first half of a pair: a lone one is given up on, and
                    // the line's own check names it ([`crate::lines::check_json`]).
                    let unit = |h: &[u8]| {
                        std::str::from_utf8(h)
                            .ok()
                            .and_then(|h| u16::from_str_radix(h, 16).ok())
                    };
                    match unit(hex) {
                        Some(0xD800..=0xDBFF) => {
                            let low = match bytes.get(at + 6..at + 12) {
                                Some([b'\\', b'u', rest @ ..]) => unit(rest),
                                _ => None,
                            };
                            if !matches!(low, Some(0xDC00..=0xDFFF)) {
                                return Err(GiveUp);
                            }
                            at += 12;
                        }
                        Some(0xDC00..=0xDFFF) => return Err(GiveUp),
                        _ => at += 6,
                    }
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// Skips a number at the current position, by JSON's grammar.
    fn skip_number(&mut self) -> Result<(), GiveUp> {
        let bytes = self.bytes();
        let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
        let digits = |mut i: usize| {
            while at(i).is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = self.pos;
        if at(i) == b'-' {
            i += 1;
        }
        match at(i) {
            b'0' => {
                i += 1;
                if at(i).is_ascii_digit() {
                    return Err(GiveUp);
                }
            }
            b'1'..=b'9' => i = digits(i + 1),
            _ => return Err(GiveUp),
        }
        if at(i) == b'.' {
            let end = digits(i + 1);
            if end == i + 1 {
                return Err(GiveUp);
            }
            i = end;
        }
        if matches!(at(i), b'e' | b'E') {
            i += 1;
            if matches!(at(i), b'+' | b'-') {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                return Err(GiveUp);
            }
            i = end;
        }
        self.pos = i;
        Ok(())
    }

    /// Skips any value after whitespace.
    fn skip_value(&mut self) -> Result<(), GiveUp> {
        match self.peek().ok_or(GiveUp)? {
            b'"' => self.skip_str(),
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            b'[' => self.nested(b']', |s| {
                let mut first = true;
                while s.next_item(b']', &mut first)?.is_some() {
                    s.skip_value()?;
                }
                Ok(())
            }),
            b'{' => self.nested(b'}', |s| {
                let mut first = true;
                while let Some(start) = s.next_item(b'}', &mut first)? {
                    // A key skipped, escapes and all.
                    if start != b'"' {
                        return Err(GiveUp);
                    }
                    s.skip_str()?;
                    s.expect(b':')?;
                    s.skip_value()?;
                }
                Ok(())
            }),
            _ => Err(GiveUp),
        }
    }

    /// A list or an object opening at the current position, its items read by `items`, then its
    /// `close`.
    #[inline]
    fn nested<T>(
        &mut self,
        close: u8,
        items: impl FnOnce(&mut Self) -> Result<T, GiveUp>,
    ) -> Result<T, GiveUp> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        self.pos += 1;
        let value = items(self)?;
        self.depth -= 1;
        self.expect(close)?;
        Ok(value)
    }

    /// Inside a list or an object ending with `close`: the first byte of the next item, the
    /// comma before it consumed (`first`: no item yet), or `None` at the `close`, which is left
    /// to [`Scanner::nested`]. Everything `serde_json` refuses between items is given up here or
    /// by the item's reading: a comma before the first item or before the `close`, none between
    /// two items, the end of the text.
    #[inline]
    fn next_item(&mut self, close: u8, first: &mut bool) -> Result<Option<u8>, GiveUp> {
        let mut next = self.peek();
        if next == Some(close) {
            return Ok(None);
        }
        if !*first {
            if next != Some(b',') {
                return Err(GiveUp);
            }
            self.pos += 1;
            // A `close` here (a trailing comma) is refused by the item's own reading.
            next = self.peek();
        }
        *first = false;
        next.map(Some).ok_or(GiveUp)
    }
}

/// Every `deserialize_*` the readers do not call, with the types of its arguments besides the
/// visitor: given up.
macro_rules! give_up {
    ($($name:ident($($arg:ty),*))*) => {
        $(fn $name<V: Visitor<'de>>(self, $(_: $arg,)* _: V) -> Result<V::Value, GiveUp> {
            Err(GiveUp)
        })*
    };
}

impl<'de> de::Deserializer<'de> for &mut Scanner<'de> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.peek().ok_or(GiveUp)? {
            b'"' => visitor.visit_borrowed_str(self.borrowed_str()?),
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'[' => self.nested(b']', |scanner| {
                visitor.visit_seq(Elements {
                    scanner,
                    first: true,
                })
            }),
            b'{' => self.nested(b'}', |scanner| {
                visitor.visit_map(Entries {
                    scanner,
                    first: true,
                })
            }),
            // Numbers: how `serde_json` converts them (and where it will not) is its own.
            _ => Err(GiveUp),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        match self.peek() {
            Some(b'"') => visitor.visit_borrowed_str(self.borrowed_str()?),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GiveUp> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, GiveUp> {
        if name != RAW_TOKEN {
            return Err(GiveUp);
        }
        // `RawValue`: its text, from the value's first byte to its last.
        self.peek();
        let start = self.pos;
        self.skip_value()?;
        let raw = self.text.get(start..self.pos).ok_or(GiveUp)?;
        visitor.visit_map(RawEntry { raw: Some(raw) })
    }

    give_up! {
        deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32()
        deserialize_i64() deserialize_u8() deserialize_u16() deserialize_u32()
        deserialize_u64() deserialize_f32() deserialize_f64() deserialize_char()
        deserialize_bytes() deserialize_byte_buf() deserialize_option() deserialize_unit()
        deserialize_seq() deserialize_map() deserialize_identifier()
        deserialize_unit_struct(&'static str)
        deserialize_tuple(usize)
        deserialize_tuple_struct(&'static str, usize)
        deserialize_struct(&'static str, &'static [&'static str])
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

/// The elements of a list, as `serde_json` hands them out.
struct Elements<'s, 'de> {
    scanner: &'s mut Scanner<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = GiveUp;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, GiveUp> {
        if self.scanner.next_item(b']', &mut self.first)?.is_none() {
            return Ok(None);
        }
        seed.deserialize(&mut *self.scanner).map(Some)
    }
}

/// The entries of an object, as `serde_json` hands them out.
struct Entries<'s, 'de> {
    scanner: &'s mut Scanner<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = GiveUp;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, GiveUp> {
        match self.scanner.next_item(b'}', &mut self.first)? {
            None => return Ok(None),
            // A key read: a string without escapes, like any string read.
            Some(b'"') => {}
            Some(_) => return Err(GiveUp),
        }
        let key = self.scanner.borrowed_str()?;
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, GiveUp> {
        self.scanner.expect(b':')?;
        seed.deserialize(&mut *self.scanner)
    }
}

/// What `serde_json` hands `RawValue`'s visitor: one entry, its token and the raw text.
struct RawEntry<'de> {
    raw: Option<&'de str>,
}

impl<'de> MapAccess<'de> for RawEntry<'de> {
    type Error = GiveUp;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, GiveUp> {
        if self.raw.is_none() {
            return Ok(None);
        }
        seed.deserialize(BorrowedStrDeserializer::new(RAW_TOKEN))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, GiveUp> {
        let raw = self.raw.take().ok_or(GiveUp)?;
        seed.deserialize(BorrowedStrDeserializer::new(raw))
    }
}
