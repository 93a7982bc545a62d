//! The two ways of reading a message agree: in one pass over its text
//! ([`capneg_wire::read::read_text`], what validation uses) and field by field from an
//! envelope view ([`capneg_wire::read::read_view`]), whatever the order of the fields, the
//! shapes of their values, and who posted it.

use capneg_reference::msg::KNOWN_ACTIONS;
use capneg_reference::Interner;
use capneg_wire::envelope::EnvelopeView;
use capneg_wire::read::{read_text, read_view, Poster, Reading};
use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// The known actions, an unknown one and an empty name.
fn actions() -> Vec<&'static str> {
    let mut all = KNOWN_ACTIONS.to_vec();
    all.extend(["org.example.other", ""]);
    all
}

const CAPS: [&str; 4] = [
    "m.always_on_screen",
    "org.matrix.msc2762.send.event:m.room.message#m.text",
    "org.matrix.msc2762.send.state_event:m.room.topic",
    "esc\\\"aped\u{e9}",
];

/// A number out of range for an `f64`, written into the text in place of this string.
const OUT_OF_RANGE: &str = "<1e400>";

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        // Valid JSON that serde_json will not give a reader as a number.
        Just(Value::String(OUT_OF_RANGE.into())),
        prop::sample::select(CAPS.to_vec()).prop_map(|s| json!(s)),
        prop::sample::select(actions()).prop_map(|s| json!(s)),
        Just(json!("org.matrix.msc2974")),
        Just(json!("m.text")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(prop::sample::select(CAPS.to_vec()), 0..4).prop_map(|v| json!(v)),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Keys the readers look at, and others.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "requested",
        "approved",
        "capabilities",
        "value",
        "type",
        "state_key",
        "content",
        "msgtype",
        "error",
        "supported_versions",
        "other",
    ])
    .prop_map(str::to_owned)
}

/// An object's members as text, in order, possibly repeating a key.
fn object_text(members: &[(String, Value)]) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{}", json!(k), v))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn data() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => prop::collection::vec((key(), value()), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        1 => value(),
    ]
}

/// An envelope-like object: every field present, absent, or of another shape, in any order,
/// sometimes with a member given twice.
fn envelope() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(json!("toWidget")), Just(json!("fromWidget")), scalar()],
        prop::sample::select(actions()),
        data(),
        prop::option::of(data()),
        any::<[bool; 6]>(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(api, action, data, response, keep, rot, dup, repeat)| {
            let mut members: Vec<(String, Value)> = vec![
                ("api".into(), api),
                ("widgetId".into(), json!("w")),
                ("requestId".into(), json!("r\"1")),
                ("action".into(), json!(action)),
                ("data".into(), data),
            ];
            if let Some(r) = response {
                members.push(("response".into(), r));
            }
            let mut members: Vec<_> = members
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep[*i % 6] || *i >= 3)
                .map(|(_, m)| m)
                .collect();
            members.push(("extra".into(), json!({"a": [1, 2]})));
            let n = members.len();
            members.rotate_left(rot.index(n));
            if repeat {
                let m = members[dup.index(n)].clone();
                members.push(m);
            }
            object_text(&members).replace(&format!("\"{OUT_OF_RANGE}\""), "1e400")
        })
}

proptest! {
    #[test]
    fn one_pass_and_field_by_field_agree(text in envelope(), by_widget in any::<bool>()) {
        let poster = if by_widget { Poster::Widget } else { Poster::Client };
        let raw: Box<RawValue> = serde_json::from_str(&text).expect("generated JSON");
        let mut one = Interner::new();
        let pass = read_text(raw.get(), poster, &mut one);
        let mut two = Interner::new();
        let fields = match EnvelopeView::parse(&raw) {
            None => Reading::NotAnEnvelope,
            Some(view) => read_view(&view, poster, &mut two),
        };
        // Capability sets are compared by name: the two readers may intern in another order.
        prop_assert_eq!(
            normalise(&pass, &one),
            normalise(&fields, &two),
            "{}", text
        );
    }
}

/// A reading with its capability sets emptied, and the sets' sorted names in order.
fn normalise(
    r: &Reading<std::borrow::Cow<'_, str>>,
    interner: &Interner,
) -> (Reading<String>, Vec<Vec<String>>) {
    use capneg_reference::msg::{Data, Reply};
    use capneg_reference::CapSet;
    use capneg_wire::read::{PreBody, PreData};
    let mut sets = Vec::new();
    let mut take = |set: &mut CapSet| {
        let mut names = interner.to_vec(set);
        names.sort();
        sets.push(names);
        *set = CapSet::new();
    };
    let mut r = r.clone().map(|s| s.into_owned());
    if let Reading::Envelope { msg: Ok(m), .. } = &mut r {
        match &mut m.body {
            PreBody::Response(Reply::Capabilities(set)) => take(set),
            PreBody::Request(PreData::Data(Data::Capabilities(set))) => take(set),
            PreBody::Request(PreData::Data(Data::Notify {
                requested,
                approved,
            })) => {
                take(requested);
                take(approved);
            }
            _ => {}
        }
    }
    (r, sets)
}

/// serde_json gives no reader a number out of range (`1e400`), though it is valid JSON: where
/// the one pass meets one in a value it reads, the message is read field by field, and it is a
/// value of the wrong shape there, as anywhere.
#[test]
fn a_number_out_of_range_is_a_value_of_the_wrong_shape() {
    let cases = [
        (r#""data":{"type":1e400}"#, "send_event", "Invalid"),
        (
            r#""data":{"capabilities":["a",1e400]}"#,
            "org.matrix.msc2974.request_capabilities",
            "Invalid",
        ),
        (
            r#""data":{"value":1e400}"#,
            "set_always_on_screen",
            "Invalid",
        ),
    ];
    for (data, action, want) in cases {
        let text = format!(
            r#"{{"api":"fromWidget","widgetId":"w","requestId":"r","action":"{action}",{data}}}"#
        );
        let mut caps = Interner::new();
        let read = read_text(&text, Poster::Widget, &mut caps);
        assert!(format!("{read:?}").contains(want), "{text}: {read:?}");
    }
    let reply = r#"{"api":"toWidget","widgetId":"w","requestId":"c","action":"capabilities","data":{},"response":{"capabilities":[1e400]}}"#;
    let read = read_text(reply, Poster::Widget, &mut Interner::new());
    assert!(format!("{read:?}").contains("Response(Ack)"), "{read:?}");
}
