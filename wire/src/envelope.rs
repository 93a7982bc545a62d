//! Wire types: the postMessage envelope of the widget API (docs/spec.md §2).
//!
//! [`Envelope`] is the owned, lossless form of a well-formed message: every field the protocol
//! names is typed, and any other field is kept as raw JSON, so parsing and printing gives back
//! the same JSON value. [`EnvelopeView`] is the borrowed form the hot paths read (validation,
//! the client's input): it holds each field as raw JSON text, so that a message with a missing
//! or ill-typed field can still be judged (rule `well-formed-message`) instead of being refused
//! as a whole. The typed data and response objects of each action are in `capneg-reference`'s [`Data`](capneg_reference::msg::Data) and [`Reply`](capneg_reference::msg::Reply).

use capneg_reference::msg::Api;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// `api` as written: `"toWidget"` or `"fromWidget"`.
mod api {
    use capneg_reference::msg::Api;
    use serde::de::{self, Deserialize, Deserializer};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(api: &Api, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(api.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Api, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Api::parse(&s).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&s), &"\"toWidget\" or \"fromWidget\"")
        })
    }
}

/// A well-formed widget API message: a request, or a request echoed back with a `response`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Who started the request.
    #[serde(with = "api")]
    pub api: Api,
    /// The widget the message is about.
    #[serde(rename = "widgetId")]
    pub widget_id: String,
    /// The request id, chosen by whoever started the request.
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// The action name.
    pub action: String,
    /// The request data.
    pub data: Map<String, Value>,
    /// The response, present when this message answers a request.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub response: Option<Map<String, Value>>,
    /// Every other field, kept as it was.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response` is either absent or an object: `null` is not well-formed.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Map<String, Value>>, D::Error> {
    Map::deserialize(d).map(Some)
}

impl Envelope {
    /// A request.
    pub fn request(
        api: Api,
        widget_id: impl Into<String>,
        request_id: impl Into<String>,
        action: impl Into<String>,
        data: Map<String, Value>,
    ) -> Envelope {
        Envelope {
            api,
            widget_id: widget_id.into(),
            request_id: request_id.into(),
            action: action.into(),
            data,
            response: None,
            extra: Map::new(),
        }
    }

    /// This request echoed back with `response` added.
    pub fn respond(&self, response: Map<String, Value>) -> Envelope {
        Envelope {
            response: Some(response),
            ..self.clone()
        }
    }

    /// Whether this message is a response.
    pub fn is_response(&self) -> bool {
        self.response.is_some()
    }
}

/// A borrowed view of a message, each field as the text of its raw JSON value (absent fields are
/// `None`; a field present with `null` is `Some("null")`). Unknown fields are skipped. The text
/// is always one whole, valid JSON value (it was read as one).
#[derive(Clone, Copy, Debug, Default)]
pub struct EnvelopeView<'a> {
    /// `api`.
    pub api: Option<&'a str>,
    /// `widgetId`.
    pub widget_id: Option<&'a str>,
    /// `requestId`.
    pub request_id: Option<&'a str>,
    /// `action`.
    pub action: Option<&'a str>,
    /// `data`.
    pub data: Option<&'a str>,
    /// `response`.
    pub response: Option<&'a str>,
}

impl<'a> EnvelopeView<'a> {
    /// Reads the view of a JSON object; `None` if `json` is not an object, or repeats one of the
    /// envelope's fields.
    pub fn parse(json: &'a RawValue) -> Option<EnvelopeView<'a>> {
        let mut de = serde_json::Deserializer::from_str(json.get());
        ViewSeed.deserialize(&mut de).ok().flatten()
    }
}

/// Reads an [`EnvelopeView`] from any JSON value in one pass: `None` for a value that is not an
/// object, or an object that repeats one of the envelope's fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewSeed;

impl<'de> DeserializeSeed<'de> for ViewSeed {
    type Value = Option<EnvelopeView<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ViewSeed {
    type Value = Option<EnvelopeView<'de>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut view = EnvelopeView::default();
        let mut repeated = false;
        while let Some(key) = map.next_key_seed(crate::visit::KeySeed)? {
            let slot = match key.as_ref() {
                "api" => &mut view.api,
                "widgetId" => &mut view.widget_id,
                "requestId" => &mut view.request_id,
                "action" => &mut view.action,
                "data" => &mut view.data,
                "response" => &mut view.response,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let value: &'de RawValue = map.next_value()?;
            repeated |= slot.replace(value.get()).is_some();
        }
        Ok((!repeated).then_some(view))
    }

    crate::visit::other_shapes_are!(seq, None);
}

/// The text of a raw JSON string, unescaped; `None` if it is not a string.
pub fn raw_str(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !text.starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(text) {
        Ok(s) => Some(s.into()),
        Err(_) => serde_json::from_str::<String>(text).ok().map(Into::into),
    }
}

/// Whether raw JSON text is an object.
pub fn raw_is_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_with_unknown_fields() {
        let text = r#"{"api":"fromWidget","widgetId":"w","requestId":"r","action":"x","data":{"a":[1,{"b":null}]},"response":{},"extra":{"k":true}}"#;
        let env: Envelope = serde_json::from_str(text).unwrap();
        assert_eq!(env.extra["extra"]["k"], Value::Bool(true));
        let back: Value = serde_json::to_value(&env).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn null_response_is_not_well_formed() {
        let text = r#"{"api":"fromWidget","widgetId":"w","requestId":"r","action":"x","data":{},"response":null}"#;
        assert!(serde_json::from_str::<Envelope>(text).is_err());
    }

    #[test]
    fn view_keeps_ill_typed_fields() {
        let raw: Box<RawValue> =
            serde_json::from_str(r#"{"api":5,"requestId":"a\"b","data":null,"z":1}"#).unwrap();
        let v = EnvelopeView::parse(&raw).unwrap();
        assert_eq!(v.api.unwrap(), "5");
        assert!(raw_str(v.api.unwrap()).is_none());
        assert_eq!(raw_str(v.request_id.unwrap()).unwrap(), "a\"b");
        assert_eq!(v.data.unwrap(), "null");
        assert!(v.widget_id.is_none());
        let not_object: Box<RawValue> = serde_json::from_str("[1]").unwrap();
        assert!(EnvelopeView::parse(&not_object).is_none());
    }
}
