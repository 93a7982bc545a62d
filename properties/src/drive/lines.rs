//! Why a line the adapter wrote is not a protocol line, in one precise line (docs/spec.md §8.2:
//! an adapter writes `{"client": ENVELOPE}`, `{"prompt": {"capabilities": [..]}}` and
//! `{"idle": {}}`, each a JSON object with exactly one key).
//!
//! The adapter's side of a session ([`crate::runner::Side`]) decides which lines are not protocol
//! lines, reading each as a trace line; [`diagnose`] says what is wrong with such a line from the
//! adapter's point of view: not JSON, not an object, no key, a key repeated, more than one key,
//! an unknown key, a trace key no adapter writes, or a value of the wrong shape. Where it has
//! nothing more precise to say (a `prompt` value of the wrong shape, whose reason the side gives
//! already), it says nothing.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// The longest excerpt of a key or a value quoted in a reason, in characters.
const EXCERPT: usize = 40;

/// The most keys of an object looked at (the others are counted): a repeated key is looked for
/// among these, in quadratic time.
const KEYS_READ: usize = 64;

/// The longest reason, in characters: a reason quotes parts of the line, and a line may be long.
pub(super) const MAX_REASON: usize = 300;

/// What the adapter may write.
const WRITES: &str = "an adapter writes client, prompt and idle lines";

/// Why `text`, an adapter's output line, is not a protocol line; `None` if nothing more precise
/// than the trace reader's reason can be said.
pub(super) fn diagnose(text: &str) -> Option<String> {
    let (entries, count) = match top_level(text) {
        Ok(Top::Object { entries, count }) => (entries, count),
        Ok(Top::Other(kind)) => {
            return Some(format!("{kind}, not an object with one key: {WRITES}"))
        }
        Err(e) => return Some(not_json(&e)),
    };
    let Some((key, value)) = entries.first() else {
        return Some(format!("an empty object, with no key: {WRITES}"));
    };
    for (i, (k, _)) in entries.iter().enumerate() {
        if entries[..i].iter().any(|(earlier, _)| earlier == k) {
            return Some(format!(
                "the key `{}` twice: a line holds exactly one key",
                cut(k)
            ));
        }
    }
    if let Some((second, _)) = entries.get(1) {
        let more = match count {
            2 => String::new(),
            n => format!(" and {} more", n - 2),
        };
        return Some(format!(
            "{count} keys (`{}`, `{}`{more}): a line holds exactly one",
            cut(key),
            cut(second)
        ));
    }
    let value = value.get();
    match key.as_str() {
        "idle" if !is_empty_object(value) => Some(format!(
            "bad `idle` line: its value is {}, not {{}}",
            quote(value)
        )),
        "client" => client(value),
        "session" | "widget" | "decision" => Some(format!("a `{key}` line: {WRITES}")),
        "idle" | "prompt" => None,
        _ => Some(format!("unknown key `{}`: {WRITES}", cut(key))),
    }
}

/// Why a `client` line's message is not one: not an object, or a field repeated.
fn client(value: &str) -> Option<String> {
    match top_level(value) {
        Ok(Top::Object {
            entries: fields, ..
        }) => {
            let repeated = fields
                .iter()
                .enumerate()
                .find(|(i, (k, _))| fields[..*i].iter().any(|(earlier, _)| earlier == k))?;
            Some(format!(
                "the `client` message has the field `{}` twice",
                cut(&repeated.1 .0)
            ))
        }
        Ok(Top::Other(kind)) => Some(format!("the `client` message is {kind}, not an object")),
        Err(_) => None,
    }
}

/// Whether `value` (JSON) is `{}`, whitespace aside.
fn is_empty_object(value: &str) -> bool {
    value
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .eq("{}".chars())
}

/// A JSON value at the top: an object (its first [`KEYS_READ`] entries in order, repeated keys
/// kept, and the number of its keys), or what it is instead.
enum Top<'a> {
    Object {
        entries: Vec<(String, &'a RawValue)>,
        count: usize,
    },
    Other(&'static str),
}

fn top_level(text: &str) -> Result<Top<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let top = (&mut de).deserialize_any(TopVisitor)?;
    de.end()?;
    Ok(top)
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        let mut count = 0;
        while count < KEYS_READ {
            let Some(key) = map.next_key::<String>()? else {
                return Ok(Top::Object { entries, count });
            };
            entries.push((key, map.next_value::<&'de RawValue>()?));
            count += 1;
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(Top::Object { entries, count })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::Other("a list"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Top::Other("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Top::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Top::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Top::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Top::Other("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Top::Other("null"))
    }
}

/// `not JSON: REASON (column N)`.
fn not_json(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let reason = text.rfind(" at line ").map_or(&text[..], |i| &text[..i]);
    format!("not JSON: {} (column {})", cut(reason), e.column())
}

/// `text`, at most [`EXCERPT`] characters of it.
fn cut(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT).collect();
    if out.len() < text.len() {
        out.push_str("...");
    }
    out
}

/// A value quoted: `` `5` ``, cut.
fn quote(value: &str) -> String {
    format!("`{}`", cut(value))
}

/// `reason` on one line (control characters escaped: a key or a string it quotes may hold a
/// newline), at most [`MAX_REASON`] characters of it.
pub(super) fn bounded(reason: &str) -> String {
    let mut out = String::new();
    let escaped = capneg_wire::lines::one_line(reason);
    let mut chars = escaped.chars();
    for c in chars.by_ref().take(MAX_REASON) {
        out.push(c);
    }
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_bad_line_is_named() {
        let cases = [
            ("not json", "not JSON: expected ident (column 2)"),
            (
                r#"{"client":{}"#,
                "not JSON: EOF while parsing an object (column 12)",
            ),
            (
                r#"{"client":{}} x"#,
                "not JSON: trailing characters (column 15)",
            ),
            ("[1]", "a list, not an object with one key"),
            (r#""idle""#, "a string, not an object with one key"),
            ("5", "a number, not an object with one key"),
            ("true", "a boolean, not an object with one key"),
            ("null", "null, not an object with one key"),
            ("{}", "an empty object, with no key"),
            (
                r#"{"idle":{},"idle":{}}"#,
                "the key `idle` twice: a line holds exactly one key",
            ),
            (r#"{"client":{},"client":{}}"#, "the key `client` twice"),
            (
                r#"{"idle":{},"x":1}"#,
                "2 keys (`idle`, `x`): a line holds exactly one",
            ),
            (
                r#"{"x":1,"y":2,"z":3}"#,
                "3 keys (`x`, `y` and 1 more): a line holds exactly one",
            ),
            (
                r#"{"x":1}"#,
                "unknown key `x`: an adapter writes client, prompt and idle lines",
            ),
            (r#"{"idle":5}"#, "bad `idle` line: its value is `5`, not {}"),
            (
                r#"{"idle":{"a":1}}"#,
                "bad `idle` line: its value is `{\"a\":1}`, not {}",
            ),
            (r#"{"widget":{}}"#, "a `widget` line: an adapter writes"),
            (r#"{"session":{}}"#, "a `session` line"),
            (r#"{"decision":{"approved":[]}}"#, "a `decision` line"),
            (
                r#"{"client":5}"#,
                "the `client` message is a number, not an object",
            ),
            (
                r#"{"client":{"action":"a","action":"b"}}"#,
                "the `client` message has the field `action` twice",
            ),
        ];
        for (line, want) in cases {
            let got = diagnose(line).unwrap_or_else(|| panic!("{line}: nothing said"));
            assert!(got.starts_with(want), "{line}: {got}");
        }
    }

    #[test]
    fn prompt_values_are_left_to_the_trace_reader() {
        assert_eq!(diagnose(r#"{"prompt":{"capabilities":[1]}}"#), None);
        assert_eq!(diagnose(r#"{"prompt":5}"#), None);
    }

    #[test]
    fn many_keys_are_counted_not_compared() {
        let keys: Vec<String> = (0..100_000).map(|i| format!(r#""k{i}":1"#)).collect();
        let line = format!("{{{}}}", keys.join(","));
        let got = diagnose(&line).unwrap();
        assert!(
            got.starts_with("100000 keys (`k0`, `k1` and 99998 more)"),
            "{got}"
        );
    }

    #[test]
    fn quotes_are_bounded() {
        let key = "k".repeat(10_000);
        let got = diagnose(&format!(r#"{{"{key}":1}}"#)).unwrap();
        assert!(got.len() < 200, "{got}");
        assert!(got.contains("kkk..."), "{got}");
        let long = "x".repeat(10_000);
        assert_eq!(bounded(&long).chars().count(), MAX_REASON + 3);
        assert_eq!(bounded(&"x".repeat(MAX_REASON)), "x".repeat(MAX_REASON));
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn reasons_stay_on_one_line() {
        let got = bounded(&diagnose("{\"a\\nb\":1}").unwrap());
        assert_eq!(got.lines().count(), 1, "{got}");
        assert!(got.contains(r"unknown key `a\nb`"), "{got}");
        assert_eq!(bounded("x\ty\u{b}"), r"x\ty\u{b}");
    }
}
