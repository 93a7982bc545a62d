//! The fast scanner ([`capneg_wire::scan`]) reads what it reads exactly as `serde_json`
//! does: on any text, JSON or nearly, where it does not give up, `serde_json` gives the same
//! visitor calls, the same raw values, the same skipped values, and the same messages.

use capneg_reference::Interner;
use capneg_wire::read::{MessageSeed, Poster};
use capneg_wire::scan::{self, GiveUp};
use proptest::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// Every visitor call, written down: the shape of what a deserializer hands out.
#[derive(Clone, Copy)]
struct Record;

impl<'de> DeserializeSeed<'de> for Record {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<String, E> {
        Ok(format!("b{v:?}"))
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(format!("s{v:?}"))
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(format!("{v}"))
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(format!("i{v}"))
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(format!("u{v}"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(format!("f{v}"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        let mut out = String::from("[");
        while let Some(v) = seq.next_element_seed(Record)? {
            out.push_str(&v);
            out.push(',');
        }
        Ok(out + "]")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        let mut out = String::from("{");
        while let Some(k) = map.next_key_seed(Record)? {
            // Skip every other value, keep the rest raw or recorded.
            let v = match k.len() % 3 {
                0 => map.next_value::<IgnoredAny>().map(|_| "_".to_string())?,
                1 => map
                    .next_value::<&RawValue>()
                    .map(|r| format!("r{:?}", r.get()))?,
                _ => map.next_value_seed(Record)?,
            };
            out.push_str(&format!("{k}:{v},"));
        }
        Ok(out + "}")
    }
}

fn with_serde<'de, S: DeserializeSeed<'de>>(text: &'de str, seed: S) -> Option<S::Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

/// A JSON value as text, with the near misses a reader must reject among the valid forms.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("nul".to_string()),
        prop::sample::select(vec![
            "0", "-0", "12", "-3.25", "1e5", "2E-3", "6.02e+23", "1e400", "01", "1.", "-", "1e",
            ".5", "+1", "0x1",
        ])
        .prop_map(str::to_owned),
        prop::sample::select(vec![
            r#""""#,
            r#""api""#,
            r#""org.matrix.msc2762.send.event:m.room.message#m.text""#,
            r#""\ud83d\udc4d""#,
            r#""\ud83d""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9t\u00C9""#,
            r#""\x""#,
            r#""\u12g4""#,
            "\"tab\there\"",
            "\"nl\nhere\"",
            "\"\u{e9}t\u{e9} \u{1f44d}\"",
            r#""unterminated"#,
            r#""a very long string that goes on past thirty-two bytes, with \"escapes\" late""#,
        ])
        .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        let key = prop::sample::select(vec![
            r#""a""#,
            r#""bb""#,
            r#""ccc""#,
            r#""data""#,
            r#""k\"q""#,
            r#""""#,
            "1",
            r#""x"#,
        ]);
        let ws = prop::sample::select(vec!["", " ", "\n", "\t", "\r\n ", "  "]);
        prop_oneof![
            (
                prop::collection::vec((inner.clone(), ws.clone()), 0..5),
                any::<bool>()
            )
                .prop_map(|(items, trailing)| {
                    let parts: Vec<String> = items
                        .into_iter()
                        .map(|(v, w)| format!("{w}{v}{w}"))
                        .collect();
                    format!("[{}{}]", parts.join(","), if trailing { "," } else { "" })
                }),
            (prop::collection::vec((key, inner, ws), 0..5), any::<bool>()).prop_map(
                |(members, colon)| {
                    let parts: Vec<String> = members
                        .into_iter()
                        .map(|(k, v, w)| {
                            format!("{w}{k}{w}{}{w}{v}", if colon { ":" } else { "=" })
                        })
                        .collect();
                    format!("{{{}}}", parts.join(","))
                }
            ),
        ]
    })
}

/// A text: a value, perhaps with one byte changed, padded with whitespace or followed by junk.
fn text() -> impl Strategy<Value = String> {
    (
        value(),
        any::<prop::sample::Index>(),
        prop::sample::select(vec![
            "", "", "", "x", "]", "}", ",", ":", "\"", "\\", "0", " ", "\u{1}",
        ]),
        prop::sample::select(vec!["", "", " ", "\n", " x", "{}", "\t"]),
    )
        .prop_map(|(v, at, change, tail)| {
            let mut v = v;
            if !change.is_empty() && !v.is_empty() {
                let mut i = at.index(v.len());
                while !v.is_char_boundary(i) {
                    i -= 1;
                }
                v.insert_str(i, change);
            }
            format!("{v}{tail}")
        })
}

fn deep(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn what_the_scanner_reads_serde_json_reads_alike(text in text()) {
        if let Ok(v) = scan::read_seed(&text, Record) {
            prop_assert_eq!(Some(v), with_serde(&text, Record), "{}", text);
        }
        if let Ok(()) = scan::read_seed(&text, std::marker::PhantomData::<IgnoredAny>).map(|_| ()) {
            prop_assert!(with_serde(&text, std::marker::PhantomData::<IgnoredAny>).is_some(), "{}", text);
        }
        if let Ok(raw) = scan::read_seed(&text, std::marker::PhantomData::<&RawValue>) {
            let serde = with_serde(&text, std::marker::PhantomData::<&RawValue>).map(RawValue::get);
            prop_assert_eq!(Some(raw.get()), serde, "{}", text);
        }
    }

    #[test]
    fn messages_read_by_the_scanner_read_alike(
        members in prop::collection::vec((prop::sample::select(vec![
            "api", "widgetId", "requestId", "action", "data", "response", "other",
        ]), value()), 0..7),
        by_widget in any::<bool>(),
    ) {
        let text = format!("{{{}}}", members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","));
        let poster = if by_widget { Poster::Widget } else { Poster::Client };
        let (mut one, mut two) = (Interner::new(), Interner::new());
        if let Ok(fast) = scan::read_seed(&text, MessageSeed::new(poster, &mut one)) {
            let slow = with_serde(&text, MessageSeed::new(poster, &mut two));
            prop_assert_eq!(Some(fast), slow, "{}", text);
            prop_assert_eq!(format!("{one:?}"), format!("{two:?}"));
        }
    }
}

#[test]
fn the_scanner_reads_the_common_shapes_and_gives_up_on_the_rest() {
    let read = |t: &str| scan::read_seed(t, Record);
    assert_eq!(
        read(r#" {"a" : [true, null, "x"], "bb": {"c": false}} "#).as_deref(),
        Ok(r#"{b"a":r"[true, null, \"x\"]",b"bb":{b"c":r"false",},}"#)
    );
    // Numbers where a value is read, escapes in a string read, and syntax errors: given up.
    for t in [
        "1",
        r#""a\n""#,
        "[1,]",
        "{\"a\":1,}",
        "[] x",
        "\"\u{1}\"",
        "nul",
    ] {
        assert_eq!(read(t), Err(GiveUp), "{t}");
    }
    // Skipped: numbers and escapes are checked, not given up on.
    let skip = |t: &str| scan::read_seed(t, std::marker::PhantomData::<IgnoredAny>).is_ok();
    assert!(skip(r#"{"a":[1,-2.5e3,"\ud83d\udc4d\""]}"#));
    assert!(!skip("01") && !skip(r#""\x""#) && !skip("1.") && !skip("[\"\t\"]"));
    // Nesting: given up past the scanner's limit (serde_json stops at 128).
    assert!(skip(&deep(scan::MAX_DEPTH as usize)));
    assert!(!skip(&deep(scan::MAX_DEPTH as usize + 1)));
}
