//! Typed data and response objects of each action (SPEC §2).
//!
//! Each object of the widget API is a struct with the fields the protocol names typed, and every
//! other field kept in `extra` as raw JSON: parsing an object and printing it back gives the same
//! JSON value, whatever extensions a widget or a client adds. [`Request`] and [`Response`] pick
//! the struct by the envelope's `action`.
//!
//! The actions come from these proposals:
//! - MSC2764 (the widget API): `capabilities`, `supported_api_versions`, `content_loaded` and
//!   `set_always_on_screen` (gated by the `m.always_on_screen` capability);
//! - MSC2762 (widgets sending and receiving events): `send_event` and the capability strings
//!   that gate it (`org.matrix.msc2762.send.event:TYPE`, `...send.state_event:TYPE#KEY`);
//! - MSC2871: `notify_capabilities`, the report of approved capabilities;
//! - MSC2974: `request_capabilities` (unstable name `org.matrix.msc2974.request_capabilities`),
//!   the mid-session re-exchange;
//! - MSC4157 (delayed events for widgets) makes `event_id` of a `send_event` response optional.
//!
//! Conventions, the same for every struct here:
//! - A field that must be present is a plain field; a missing one, or one of another JSON type,
//!   is a parse error: such data does not fit the action's shape, and the caller keeps the raw
//!   object instead.
//! - An optional field is an `Option` that is absent from the output when `None`. It is never
//!   read from `null`: `null` is a parse error, since it could not be printed back, except for
//!   `state_key` of `send_event`, where `null` has a meaning of its own (see
//!   [`SendEventRequest::state_key`]).
//! - `extra` holds every other field. It must not repeat a typed field's name: parsing never
//!   puts one there, and on printing such a key would overwrite the typed field.

use crate::msg::{Action, ReexchangeName};
use crate::wire::Envelope;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A JSON object.
pub type Object = Map<String, Value>;

/// Reads an optional field that, when present, must have the field's type (`null` included only
/// if the type itself takes `null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The `data` of `capabilities` (toWidget, MSC2764): `{}`. The client asks the widget which
/// capabilities it wants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapabilitiesRequest {
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `response` to `capabilities` (MSC2764): the capabilities the widget wants, as MSC2762
/// capability strings (round 0 of the negotiation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapabilitiesResponse {
    /// The requested capabilities.
    pub capabilities: Vec<String>,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `data` of `notify_capabilities` (toWidget, MSC2871): which capabilities the client
/// received and which it approved. The widget acknowledges it with `{}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NotifyCapabilitiesRequest {
    /// The capabilities the client received from the widget (what exactly depends on the
    /// profile, SPEC §3).
    pub requested: Vec<String>,
    /// The capabilities the client approved.
    pub approved: Vec<String>,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `data` of `request_capabilities` (fromWidget, MSC2974; also under its unstable name
/// `org.matrix.msc2974.request_capabilities`): the capabilities the widget asks for mid-session.
/// Answered with `{}` or an error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCapabilitiesRequest {
    /// The capabilities asked for.
    pub capabilities: Vec<String>,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `data` of `supported_api_versions` (either direction, MSC2764): `{}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SupportedApiVersionsRequest {
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `response` to `supported_api_versions` (MSC2764): the API versions the answering side
/// speaks; a client serving MSC2974 lists `org.matrix.msc2974`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SupportedApiVersionsResponse {
    /// The versions, for example `"0.0.2"` or `"org.matrix.msc2871"`.
    pub supported_versions: Vec<String>,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `data` of `content_loaded` (fromWidget, MSC2764): `{}`. The widget has loaded; a client
/// that waits for it starts the capability exchange once it has acknowledged it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentLoadedRequest {
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `data` of `set_always_on_screen` (fromWidget, MSC2764), gated by the `m.always_on_screen`
/// capability. Answered with `{}` or an error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetAlwaysOnScreenRequest {
    /// Whether the widget wants to stay on screen.
    pub value: bool,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `data` of `send_event` (fromWidget, MSC2762), gated by
/// `org.matrix.msc2762.send.event:TYPE` (with `#MSGTYPE` for `m.room.message`) or, for a state
/// event, `org.matrix.msc2762.send.state_event:TYPE#KEY`.
///
/// Other fields extensions define (`room_id` of MSC2762's cross-room sending, `delay` of MSC4157)
/// are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendEventRequest {
    /// The event type (`type`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event content. The widget API requires it, but a message without it is still read
    /// (as content without `msgtype`), so it is optional here; when present it must be an object.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub content: Option<Object>,
    /// The state key: `None` when absent, `Some(None)` when `null`, `Some(Some(key))` for a state
    /// event. Absent and `null` both mean a room event (as the codec reads them); they are told
    /// apart only so that the message prints back as it was.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub state_key: Option<Option<String>>,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

impl SendEventRequest {
    /// The state key of a state event; `None` for a room event.
    pub fn state_key(&self) -> Option<&str> {
        self.state_key.as_ref().and_then(Option::as_deref)
    }

    /// `content.msgtype`, if it is a string.
    pub fn msgtype(&self) -> Option<&str> {
        self.content.as_ref()?.get("msgtype")?.as_str()
    }
}

/// The `response` to a successful `send_event` (MSC2762): where the event went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendEventResponse {
    /// The room the event was sent to.
    pub room_id: String,
    /// The event's id. MSC2762 always gives it; under MSC4157 a delayed event has none yet (the
    /// response then carries `delay_id`, kept in `extra`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub event_id: Option<String>,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The empty `response` `{}` that acknowledges a request (MSC2764); `extra` keeps whatever else
/// the answering side put in it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// An error `response` (MSC2764): `{"error": {"message": "..."}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorBody,
    /// Fields the protocol does not name.
    #[serde(flatten)]
    pub extra: Object,
}

/// The `error` object of an [`ErrorResponse`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A human-readable message.
    pub message: String,
    /// Fields the protocol does not name (for example matrix-widget-api's `matrix_api_error`).
    #[serde(flatten)]
    pub extra: Object,
}

/// A request's `data`, typed by its action.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `capabilities`.
    Capabilities(CapabilitiesRequest),
    /// `notify_capabilities`.
    NotifyCapabilities(NotifyCapabilitiesRequest),
    /// `request_capabilities` or `org.matrix.msc2974.request_capabilities`.
    RequestCapabilities {
        /// The name the request was sent under.
        name: ReexchangeName,
        /// The data.
        data: RequestCapabilitiesRequest,
    },
    /// `supported_api_versions`.
    SupportedApiVersions(SupportedApiVersionsRequest),
    /// `content_loaded`.
    ContentLoaded(ContentLoadedRequest),
    /// `set_always_on_screen`.
    SetAlwaysOnScreen(SetAlwaysOnScreenRequest),
    /// `send_event`.
    SendEvent(SendEventRequest),
    /// An action outside SPEC §2, with its data as it was.
    Unknown {
        /// The action name.
        action: String,
        /// The data.
        data: Object,
    },
}

impl Request {
    /// The typed `data` of `action`. An error if the data does not have the action's shape.
    pub fn parse(action: &str, data: &Object) -> Result<Request, serde_json::Error> {
        let Some(known) = Action::known(action) else {
            return Ok(Request::Unknown {
                action: action.to_owned(),
                data: data.clone(),
            });
        };
        Ok(match known {
            Action::Capabilities => Request::Capabilities(Deserialize::deserialize(data)?),
            Action::NotifyCapabilities => {
                Request::NotifyCapabilities(Deserialize::deserialize(data)?)
            }
            Action::RequestCapabilities(name) => Request::RequestCapabilities {
                name,
                data: Deserialize::deserialize(data)?,
            },
            Action::SupportedApiVersions => {
                Request::SupportedApiVersions(Deserialize::deserialize(data)?)
            }
            Action::ContentLoaded => Request::ContentLoaded(Deserialize::deserialize(data)?),
            Action::SetAlwaysOnScreen => {
                Request::SetAlwaysOnScreen(Deserialize::deserialize(data)?)
            }
            Action::SendEvent => Request::SendEvent(Deserialize::deserialize(data)?),
            Action::Other(_) => unreachable!("`Action::known` gives only known actions"),
        })
    }

    /// The typed `data` of an envelope, by its `action` (for a response, the data of the
    /// request it answers).
    pub fn from_envelope(env: &Envelope) -> Result<Request, serde_json::Error> {
        Request::parse(&env.action, &env.data)
    }

    /// The action's wire name.
    pub fn action_name(&self) -> &str {
        let action = match self {
            Request::Capabilities(_) => Action::Capabilities,
            Request::NotifyCapabilities(_) => Action::NotifyCapabilities,
            Request::RequestCapabilities { name, .. } => Action::RequestCapabilities(*name),
            Request::SupportedApiVersions(_) => Action::SupportedApiVersions,
            Request::ContentLoaded(_) => Action::ContentLoaded,
            Request::SetAlwaysOnScreen(_) => Action::SetAlwaysOnScreen,
            Request::SendEvent(_) => Action::SendEvent,
            Request::Unknown { action, .. } => return action,
        };
        action.known_name().unwrap_or_default()
    }

    /// The action name and the `data` object, for printing back.
    pub fn into_data(self) -> (String, Object) {
        let action = self.action_name().to_owned();
        let data = match self {
            Request::Capabilities(d) => object(&d),
            Request::NotifyCapabilities(d) => object(&d),
            Request::RequestCapabilities { data, .. } => object(&data),
            Request::SupportedApiVersions(d) => object(&d),
            Request::ContentLoaded(d) => object(&d),
            Request::SetAlwaysOnScreen(d) => object(&d),
            Request::SendEvent(d) => object(&d),
            Request::Unknown { data, .. } => data,
        };
        (action, data)
    }
}

/// A `response` object, typed by the action it answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// `{}` (plus unnamed fields), the answer to a known action whose success carries nothing:
    /// `notify_capabilities`, `request_capabilities`, `content_loaded`, `set_always_on_screen`.
    Ack(Ack),
    /// `{"error": ...}`, to any action.
    Error(ErrorResponse),
    /// The widget's answer to `capabilities`.
    Capabilities(CapabilitiesResponse),
    /// The answer to `supported_api_versions`.
    SupportedApiVersions(SupportedApiVersionsResponse),
    /// A successful `send_event`.
    SendEvent(SendEventResponse),
    /// A non-error answer to an action outside SPEC §2, as it was.
    Other(Object),
}

impl Response {
    /// The typed `response` to `action`: an object with an `error` key is an error response,
    /// anything else is read by the action. An error if it does not have that shape.
    pub fn parse(action: &str, response: &Object) -> Result<Response, serde_json::Error> {
        if response.contains_key("error") {
            return Deserialize::deserialize(response).map(Response::Error);
        }
        let Some(known) = Action::known(action) else {
            return Ok(Response::Other(response.clone()));
        };
        Ok(match known {
            Action::Capabilities => Response::Capabilities(Deserialize::deserialize(response)?),
            Action::SupportedApiVersions => {
                Response::SupportedApiVersions(Deserialize::deserialize(response)?)
            }
            Action::SendEvent => Response::SendEvent(Deserialize::deserialize(response)?),
            Action::NotifyCapabilities
            | Action::RequestCapabilities(_)
            | Action::ContentLoaded
            | Action::SetAlwaysOnScreen => Response::Ack(Deserialize::deserialize(response)?),
            Action::Other(_) => unreachable!("`Action::known` gives only known actions"),
        })
    }

    /// The typed `response` of an envelope; `None` if it is a request.
    pub fn from_envelope(env: &Envelope) -> Option<Result<Response, serde_json::Error>> {
        env.response
            .as_ref()
            .map(|response| Response::parse(&env.action, response))
    }

    /// Whether this is an error response.
    pub fn is_error(&self) -> bool {
        matches!(self, Response::Error(_))
    }

    /// The `response` object, for printing back.
    pub fn into_map(self) -> Object {
        match self {
            Response::Ack(r) => object(&r),
            Response::Error(r) => object(&r),
            Response::Capabilities(r) => object(&r),
            Response::SupportedApiVersions(r) => object(&r),
            Response::SendEvent(r) => object(&r),
            Response::Other(r) => r,
        }
    }
}

/// One of the structs above as a JSON object. They serialize as maps with string keys, which
/// cannot fail.
fn object<T: Serialize>(value: &T) -> Object {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        other => unreachable!("a struct of this module printed as {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(map) => map,
            _ => panic!("not an object: {v}"),
        }
    }

    /// Parses `data` as the data of `action`, checks it prints back the same, and returns it.
    fn request(action: &str, data: Value) -> Request {
        let parsed = Request::parse(action, &obj(data.clone()))
            .unwrap_or_else(|e| panic!("{action} {data}: {e}"));
        let (name, back) = parsed.clone().into_data();
        assert_eq!(name, action);
        assert_eq!(Value::Object(back), data);
        parsed
    }

    /// Parses `response` as the response to `action`, checks it prints back the same, and
    /// returns it.
    fn response(action: &str, response: Value) -> Response {
        let parsed = Response::parse(action, &obj(response.clone()))
            .unwrap_or_else(|e| panic!("{action} {response}: {e}"));
        assert_eq!(Value::Object(parsed.clone().into_map()), response);
        parsed
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn capabilities() {
        assert_eq!(
            request("capabilities", json!({})),
            Request::Capabilities(CapabilitiesRequest::default())
        );
        let r = response(
            "capabilities",
            json!({"capabilities": [
                "m.always_on_screen",
                "org.matrix.msc2762.send.event:m.room.message#m.text",
                "org.matrix.msc2762.receive.state_event:m.room.member",
            ]}),
        );
        let Response::Capabilities(caps) = r else {
            panic!("{r:?}")
        };
        assert_eq!(caps.capabilities.len(), 3);
        assert!(caps.extra.is_empty());
        assert!(Response::parse("capabilities", &obj(json!({}))).is_err());
        assert!(Response::parse("capabilities", &obj(json!({"capabilities": [1]}))).is_err());
    }

    #[test]
    fn notify_capabilities() {
        let r = request(
            "notify_capabilities",
            json!({
                "requested": ["m.always_on_screen", "com.example.cap"],
                "approved": ["m.always_on_screen"],
            }),
        );
        assert_eq!(
            r,
            Request::NotifyCapabilities(NotifyCapabilitiesRequest {
                requested: strings(&["m.always_on_screen", "com.example.cap"]),
                approved: strings(&["m.always_on_screen"]),
                extra: Object::new(),
            })
        );
        assert_eq!(
            response("notify_capabilities", json!({})),
            Response::Ack(Ack::default())
        );
        let missing = obj(json!({"requested": []}));
        assert!(Request::parse("notify_capabilities", &missing).is_err());
    }

    #[test]
    fn request_capabilities_keeps_its_name() {
        let data = json!({"capabilities": ["org.matrix.msc2762.send.event:org.example.poll"]});
        for (action, want) in [
            (
                "org.matrix.msc2974.request_capabilities",
                ReexchangeName::Unstable,
            ),
            ("request_capabilities", ReexchangeName::Stable),
        ] {
            let Request::RequestCapabilities { name, data } = request(action, data.clone()) else {
                panic!("{action}")
            };
            assert_eq!(name, want);
            assert_eq!(data.capabilities.len(), 1);
            assert!(!response(action, json!({})).is_error());
            let refused = response(
                action,
                json!({"error": {"message": "Capabilities have not been negotiated yet"}}),
            );
            assert!(refused.is_error());
        }
        let not_a_list = obj(json!({"capabilities": "m.always_on_screen"}));
        assert!(Request::parse("request_capabilities", &not_a_list).is_err());
    }

    #[test]
    fn supported_api_versions() {
        assert_eq!(
            request("supported_api_versions", json!({})),
            Request::SupportedApiVersions(SupportedApiVersionsRequest::default())
        );
        let r = response(
            "supported_api_versions",
            json!({"supported_versions": ["0.0.1", "0.0.2", "org.matrix.msc2762", "org.matrix.msc2871", "org.matrix.msc2974"]}),
        );
        let Response::SupportedApiVersions(v) = r else {
            panic!("{r:?}")
        };
        assert!(v
            .supported_versions
            .iter()
            .any(|s| s == "org.matrix.msc2974"));
    }

    #[test]
    fn content_loaded() {
        assert_eq!(
            request("content_loaded", json!({})),
            Request::ContentLoaded(ContentLoadedRequest::default())
        );
        assert_eq!(
            response("content_loaded", json!({})),
            Response::Ack(Ack::default())
        );
    }

    #[test]
    fn set_always_on_screen() {
        assert_eq!(
            request("set_always_on_screen", json!({"value": true})),
            Request::SetAlwaysOnScreen(SetAlwaysOnScreenRequest {
                value: true,
                extra: Object::new(),
            })
        );
        for bad in [json!({}), json!({"value": "true"}), json!({"value": null})] {
            assert!(Request::parse("set_always_on_screen", &obj(bad)).is_err());
        }
        let refused = response(
            "set_always_on_screen",
            json!({"error": {"message": "Missing capability"}}),
        );
        assert!(refused.is_error());
    }

    #[test]
    fn send_event_room_event() {
        let r = request(
            "send_event",
            json!({
                "type": "m.room.message",
                "content": {"msgtype": "m.text", "body": "Hello \"world\" \u{1F600}"},
            }),
        );
        let Request::SendEvent(ev) = r else {
            panic!("{r:?}")
        };
        assert_eq!(ev.event_type, "m.room.message");
        assert_eq!(ev.msgtype(), Some("m.text"));
        assert_eq!(ev.state_key(), None);
        assert_eq!(ev.state_key, None);
        let sent = response(
            "send_event",
            json!({"room_id": "!room:example.org", "event_id": "$event:example.org"}),
        );
        assert_eq!(
            sent,
            Response::SendEvent(SendEventResponse {
                room_id: "!room:example.org".into(),
                event_id: Some("$event:example.org".into()),
                extra: Object::new(),
            })
        );
    }

    #[test]
    fn send_event_state_event_and_null_state_key() {
        let r = request(
            "send_event",
            json!({"type": "org.example.poll", "state_key": "", "content": {"q": 1}}),
        );
        let Request::SendEvent(ev) = r else {
            panic!("{r:?}")
        };
        assert_eq!(ev.state_key(), Some(""));

        let r = request(
            "send_event",
            json!({"type": "m.room.message", "state_key": null, "content": {}}),
        );
        let Request::SendEvent(ev) = r else {
            panic!("{r:?}")
        };
        assert_eq!(ev.state_key, Some(None));
        assert_eq!(ev.state_key(), None);
    }

    #[test]
    fn send_event_shapes() {
        // Content absent is read (and printed back without it); content of another type is not.
        let r = request("send_event", json!({"type": "m.reaction"}));
        let Request::SendEvent(ev) = r else {
            panic!("{r:?}")
        };
        assert_eq!(ev.content, None);
        for bad in [
            json!({"content": {}}),
            json!({"type": 7, "content": {}}),
            json!({"type": "m.reaction", "content": null}),
            json!({"type": "m.reaction", "content": []}),
            json!({"type": "m.reaction", "content": {}, "state_key": 3}),
        ] {
            assert!(
                Request::parse("send_event", &obj(bad.clone())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn send_event_extensions_are_kept() {
        // MSC4157: a delayed event, to another room.
        let r = request(
            "send_event",
            json!({
                "type": "org.matrix.msc3401.call.member",
                "state_key": "_@alice:example.org_DEVICE",
                "content": {},
                "room_id": "!other:example.org",
                "delay": 5000,
            }),
        );
        let Request::SendEvent(ev) = r else {
            panic!("{r:?}")
        };
        assert_eq!(ev.extra["delay"], json!(5000));
        let sent = response(
            "send_event",
            json!({"room_id": "!other:example.org", "delay_id": "syd_abc"}),
        );
        let Response::SendEvent(sent) = sent else {
            panic!("{sent:?}")
        };
        assert_eq!(sent.event_id, None);
        assert_eq!(sent.extra["delay_id"], json!("syd_abc"));
        let null_id = obj(json!({"room_id": "!r:example.org", "event_id": null}));
        assert!(Response::parse("send_event", &null_id).is_err());
        assert!(Response::parse("send_event", &Object::new()).is_err());
    }

    #[test]
    fn errors_keep_their_details() {
        let r = response(
            "send_event",
            json!({"error": {
                "message": "M_FORBIDDEN",
                "matrix_api_error": {"http_status": 403, "response": {"errcode": "M_FORBIDDEN"}},
            }, "trace": [1, 2.5, null]}),
        );
        let Response::Error(e) = r else {
            panic!("{r:?}")
        };
        assert_eq!(e.error.message, "M_FORBIDDEN");
        assert!(e.error.extra.contains_key("matrix_api_error"));
        assert!(e.extra.contains_key("trace"));
        // An error to an unknown action is still an error.
        assert!(response("org.example.x", json!({"error": {"message": "no"}})).is_error());
        for bad in [
            json!({"error": "no"}),
            json!({"error": {}}),
            json!({"error": null}),
        ] {
            assert!(Response::parse("content_loaded", &obj(bad)).is_err());
        }
    }

    #[test]
    fn unknown_actions_and_extra_fields_are_kept() {
        let data = json!({"anything": [1, {"deep": "\u{0}\\\""}], "": null});
        assert_eq!(
            request("org.example.action", data.clone()),
            Request::Unknown {
                action: "org.example.action".into(),
                data: obj(data.clone()),
            }
        );
        assert_eq!(
            response("org.example.action", data.clone()),
            Response::Other(obj(data.clone()))
        );
        let Response::Ack(ack) = response("notify_capabilities", data.clone()) else {
            panic!()
        };
        assert_eq!(Value::Object(ack.extra), data);
        let with_extra = json!({"requested": [], "approved": ["a"], "org.example": {"x": -1}});
        let Request::NotifyCapabilities(n) = request("notify_capabilities", with_extra) else {
            panic!()
        };
        assert_eq!(n.extra.len(), 1);
    }

    #[test]
    fn envelopes() {
        let text = r#"{"api":"fromWidget","widgetId":"w","requestId":"r1",
            "action":"set_always_on_screen","data":{"value":false},"response":{}}"#;
        let env: Envelope = serde_json::from_str(text).unwrap();
        assert_eq!(
            Request::from_envelope(&env).unwrap(),
            Request::SetAlwaysOnScreen(SetAlwaysOnScreenRequest::default())
        );
        assert_eq!(
            Response::from_envelope(&env).unwrap().unwrap(),
            Response::Ack(Ack::default())
        );
        let request_only = Envelope {
            response: None,
            ..env
        };
        assert!(Response::from_envelope(&request_only).is_none());
    }
}
