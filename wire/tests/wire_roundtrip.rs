//! Round trips of the wire types, and robustness of the readers, on generated messages.
//!
//! - [`Envelope`]: parse, print and parse again gives the same JSON value, for any envelope with
//!   any data, response and extra top-level fields.
//! - [`EnvelopeView::parse`] and [`Codec::read_json`] never panic, whatever the JSON.

use capneg_reference::msg::KNOWN_ACTIONS;
use capneg_reference::Api;
use capneg_wire::envelope::{raw_str, Envelope, EnvelopeView};
use capneg_wire::{Codec, Poster};
use proptest::prelude::*;
use serde::Deserialize as _;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

/// The fields of an envelope.
/// A JSON object.
type Object = Map<String, Value>;

const ENVELOPE_FIELDS: [&str; 6] = ["api", "widgetId", "requestId", "action", "data", "response"];

/// Strings with the characters that are hard to print: quotes, backslashes, control characters,
/// line separators, non-BMP characters; plus plain short ones and arbitrary ones.
fn string() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        '"',
        '\\',
        '/',
        '\n',
        '\r',
        '\t',
        '\u{0}',
        '\u{8}',
        '\u{c}',
        '\u{1f}',
        '\u{7f}',
        '\u{a0}',
        '\u{2028}',
        '\u{2029}',
        '\u{fffd}',
        '\u{feff}',
        'é',
        '中',
        '😀',
        '\u{10ffff}',
        'a',
        '#',
        ':',
        '.',
        '_',
    ]);
    prop_oneof![
        "[a-z._]{0,6}",
        any::<String>(),
        prop::collection::vec(prop_oneof![tricky, any::<char>()], 0..10)
            .prop_map(|chars| chars.into_iter().collect()),
    ]
}

/// A number of each kind a JSON parser produces: unsigned, negative, and floats that print and
/// parse back exactly (serde_json's default float parsing is not exact for every `f64`).
fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<u64>().prop_map(Number::from),
        any::<i64>().prop_map(Number::from),
        (any::<i32>(), 0u32..8).prop_map(|(m, e)| {
            let f = f64::from(m) / f64::from(1u32 << e);
            Number::from_f64(f).unwrap_or_else(|| Number::from(0))
        }),
    ]
}

/// Any JSON value of bounded depth and size.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((string(), inner), 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Any JSON object of bounded depth, with none of the keys in `reserved`.
fn object_without(reserved: &'static [&'static str]) -> impl Strategy<Value = Object> {
    prop::collection::vec((string(), json()), 0..4).prop_map(move |fields| {
        fields
            .into_iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
            .collect()
    })
}

/// Any JSON object of bounded depth.
fn object() -> impl Strategy<Value = Object> {
    object_without(&[])
}

/// A known action name, or any other string.
fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KNOWN_ACTIONS.to_vec()).prop_map(str::to_owned),
        string(),
    ]
}

fn api() -> impl Strategy<Value = Api> {
    prop_oneof![Just(Api::ToWidget), Just(Api::FromWidget)]
}

/// Any well-formed envelope: request or response, any action, data and extra top-level fields.
fn envelope() -> impl Strategy<Value = Envelope> {
    (
        api(),
        string(),
        string(),
        action(),
        object(),
        prop::option::of(object()),
        object_without(&ENVELOPE_FIELDS),
    )
        .prop_map(
            |(api, widget_id, request_id, action, data, response, extra)| Envelope {
                api,
                widget_id,
                request_id,
                action,
                data,
                response,
                extra,
            },
        )
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(string(), 0..4)
}

/// Typed request data of every action, with random extra fields.
fn field(right: BoxedStrategy<Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        4 => right.prop_map(Some),
        2 => json().prop_map(Some),
    ]
}

/// A capability string: a realistic one, one of MSC2762's patterns, or anything.
fn cap() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "m.always_on_screen",
            "org.matrix.msc2762.send.event:m.room.message#m.text",
            "org.matrix.msc2762.send.event:m.room.message",
            "org.matrix.msc2762.send.event:m.sticker",
            "org.matrix.msc2762.send.state_event:m.room.topic",
            "org.matrix.msc2762.send.state_event:org.example#",
            "org.matrix.msc2762.receive.event:m.room.message",
            "org.matrix.msc2762.timeline:*",
        ])
        .prop_map(str::to_owned),
        "org\\.matrix\\.msc2762\\.(send|receive)\\.(event|state_event):[a-z.#\\\\]{0,8}",
        string(),
    ]
}

/// A capability list, or sometimes anything.
fn caps_like() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => prop::collection::vec(cap(), 0..4)
            .prop_map(|l| Value::Array(l.into_iter().map(Value::String).collect())),
        1 => json(),
    ]
    .boxed()
}

/// `send_event` data with fields of the right or wrong types.
fn send_event_like() -> BoxedStrategy<Value> {
    let event_type = prop_oneof![
        3 => prop::sample::select(vec![
            "m.room.message",
            "m.room.topic",
            "m.sticker",
            "org.example",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        1 => string().prop_map(Value::String),
        1 => json(),
    ];
    let content = prop_oneof![
        prop::sample::select(vec!["m.text", "m.image", "m.emote"])
            .prop_map(|m| serde_json::json!({"msgtype": m, "body": "x"})),
        json().prop_map(|m| serde_json::json!({ "msgtype": m })),
        json(),
    ];
    let state_key = prop_oneof![
        Just(Value::String(String::new())),
        Just(Value::Null),
        string().prop_map(Value::String),
    ];
    (
        field(event_type.boxed()),
        field(content.boxed()),
        field(state_key.boxed()),
        object_without(&["type", "content", "state_key"]),
    )
        .prop_map(|(event_type, content, state_key, mut o)| {
            for (name, value) in [
                ("type", event_type),
                ("content", content),
                ("state_key", state_key),
            ] {
                if let Some(v) = value {
                    o.insert(name.into(), v);
                }
            }
            Value::Object(o)
        })
        .boxed()
}

/// An action name and data of (or near) its shape; sometimes data of another action's shape.
fn action_and_data() -> impl Strategy<Value = (String, Value)> {
    let named = |names: &'static [&'static str]| {
        prop::sample::select(names.to_vec()).prop_map(str::to_owned)
    };
    let data_like = || {
        prop_oneof![
            object().prop_map(Value::Object),
            (caps_like(), caps_like()).prop_map(|(requested, approved)| {
                serde_json::json!({"requested": requested, "approved": approved})
            }),
            caps_like().prop_map(|c| serde_json::json!({ "capabilities": c })),
            prop_oneof![any::<bool>().prop_map(Value::Bool), json()]
                .prop_map(|v| serde_json::json!({ "value": v })),
            send_event_like(),
        ]
    };
    prop_oneof![
        (
            named(&["capabilities", "supported_api_versions", "content_loaded"]),
            object().prop_map(Value::Object),
        ),
        (
            named(&["notify_capabilities"]),
            (field(caps_like()), field(caps_like()), object()).prop_map(
                |(requested, approved, mut o)| {
                    for (name, value) in [("requested", requested), ("approved", approved)] {
                        if let Some(v) = value {
                            o.insert(name.into(), v);
                        }
                    }
                    Value::Object(o)
                }
            ),
        ),
        (
            named(&[
                "request_capabilities",
                "org.matrix.msc2974.request_capabilities"
            ]),
            (field(caps_like()), object()).prop_map(|(caps, mut o)| {
                if let Some(c) = caps {
                    o.insert("capabilities".into(), c);
                }
                Value::Object(o)
            }),
        ),
        (
            named(&["set_always_on_screen"]),
            field(prop_oneof![any::<bool>().prop_map(Value::Bool), json()].boxed()).prop_map(|v| {
                Value::Object(v.map(|v| ("value".to_owned(), v)).into_iter().collect())
            }),
        ),
        (named(&["send_event"]), send_event_like()),
        (action(), data_like()),
    ]
}

/// A response-like object, or anything.
fn response_like() -> BoxedStrategy<Value> {
    prop_oneof![
        object().prop_map(Value::Object),
        json().prop_map(|e| serde_json::json!({ "error": e })),
        string().prop_map(|m| serde_json::json!({ "error": {"message": m} })),
        caps_like().prop_map(|c| serde_json::json!({ "capabilities": c })),
        strings().prop_map(|mut v| {
            v.push("org.matrix.msc2974".into());
            serde_json::json!({ "supported_versions": v })
        }),
        json().prop_map(|v| serde_json::json!({ "supported_versions": v })),
        (string(), string()).prop_map(|(r, e)| serde_json::json!({ "room_id": r, "event_id": e })),
    ]
    .boxed()
}

/// An object shaped like an envelope: each field of the right type, then up to three of them
/// removed or replaced by any value; plus unnamed fields.
fn envelope_like() -> impl Strategy<Value = Value> {
    let api = prop_oneof![
        Just(Value::String("toWidget".into())),
        Just(Value::String("fromWidget".into())),
    ];
    let widget_id = prop_oneof![
        3 => Just(Value::String("w".into())),
        1 => string().prop_map(Value::String),
    ];
    let request_id = prop_oneof![
        prop::sample::select(vec!["r0", "r1", "c0", "w0"])
            .prop_map(|s| Value::String(s.to_owned())),
        string().prop_map(Value::String),
    ];
    let breaks = prop::collection::vec((0..ENVELOPE_FIELDS.len(), prop::option::of(json())), 0..4);
    let breaks = prop_oneof![2 => Just(Vec::new()), 3 => breaks];
    (
        api,
        widget_id,
        request_id,
        action_and_data(),
        prop::option::of(response_like()),
        breaks,
        object_without(&ENVELOPE_FIELDS),
    )
        .prop_map(
            |(api, widget_id, request_id, (action, data), response, breaks, extra)| {
                let mut fields = [
                    Some(api),
                    Some(widget_id),
                    Some(request_id),
                    Some(Value::String(action)),
                    Some(data),
                    response,
                ];
                for (i, value) in breaks {
                    fields[i] = value;
                }
                let mut o = Map::new();
                for (name, value) in ENVELOPE_FIELDS.iter().zip(fields) {
                    if let Some(v) = value {
                        o.insert((*name).to_owned(), v);
                    }
                }
                o.extend(extra);
                Value::Object(o)
            },
        )
}

/// JSON text of any kind: envelope-like objects, any values, and objects that repeat a key.
fn json_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => envelope_like().prop_map(|v| v.to_string()),
        2 => json().prop_map(|v| v.to_string()),
        1 => prop::collection::vec(
            (prop::sample::select(ENVELOPE_FIELDS.to_vec()), json()),
            0..8,
        )
        .prop_map(|fields| {
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.to_owned()), v))
                .collect();
            format!("{{{}}}", fields.join(","))
        }),
    ]
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).expect("generated text is JSON")
}

proptest! {
    #[test]
    fn envelope_parse_print_parse_is_lossless(env in envelope()) {
        let text = serde_json::to_string(&env).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        let parsed: Envelope = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&parsed, &env);
        let printed = serde_json::to_string(&parsed).unwrap();
        let reparsed: Value = serde_json::from_str(&printed).unwrap();
        prop_assert_eq!(&reparsed, &original);
        // The same without text: from the JSON value and back.
        let from_value = Envelope::deserialize(&original).unwrap();
        prop_assert_eq!(serde_json::to_value(&from_value).unwrap(), original);
    }

    #[test]
    fn envelope_view_never_panics(text in json_text()) {
        let raw = raw(&text);
        if let Some(view) = EnvelopeView::parse(&raw) {
            let fields = [view.api, view.widget_id, view.request_id, view.action, view.data, view.response];
            for f in fields.into_iter().flatten() {
                let _ = raw_str(f);
            }
        }
    }

    #[test]
    fn codec_never_panics(texts in prop::collection::vec(json_text(), 1..6)) {
        let mut codec = Codec::new("w");
        for (i, text) in texts.iter().enumerate() {
            let poster = if i % 2 == 0 { Poster::Widget } else { Poster::Client };
            let _ = codec.read_json(poster, &raw(text));
            let other = if i % 2 == 0 { Poster::Client } else { Poster::Widget };
            let _ = codec.read_json(other, &raw(text));
        }
    }
}
