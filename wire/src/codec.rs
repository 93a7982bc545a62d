//! Reading wire messages into the compact form, and writing the compact form back.
//!
//! This is the one place that decides what a message on the wire *means*: whether it is
//! well-formed, which action it is, which capabilities its lists hold, which capabilities would
//! permit a gated action. The reference client, the validator and the differential driver all
//! read through a [`Codec`], so they cannot disagree on it.

use crate::envelope::{raw_is_object, Envelope, EnvelopeView};
use crate::read::{
    data_of_text, read_text, read_view, reply_of_text, PreAction, PreBody, PreData, PreMsg, Reading,
};
use crate::versions::{API_VERSIONS, MSC2974};
use capneg_reference::capability::Capability;
use capneg_reference::caps::{CapSet, Interner};
use capneg_reference::gate::Gated;
use capneg_reference::msg::{Action, ActionName, Api, Body, Data, Fault, Field, Msg, Reply, ReqId};
use capneg_reference::strtab::StrTable;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::fmt;

pub use crate::read::Poster;

/// Interned strings, numbered in order of first appearance.
#[derive(Clone, Debug, Default)]
struct Names {
    table: StrTable,
}

impl Names {
    fn intern(&mut self, s: &str) -> u32 {
        self.table.intern(s).0
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.table.get(s)
    }

    fn name(&self, n: u32) -> Option<&str> {
        self.table.name(n)
    }
}

/// The request ids of one side (who started the requests): those it used for its own
/// requests, and those the other side echoed without its ever using them.
#[derive(Clone, Debug, Default)]
pub struct RequestIds {
    used: Names,
    unused: Names,
}

impl RequestIds {
    /// The id of a request this side starts (interned if it is new).
    pub fn used(&mut self, s: &str) -> ReqId {
        ReqId::Used(self.used.intern(s))
    }

    /// The id a response echoes: one this side used, or else an unused one.
    pub fn echoed(&mut self, s: &str) -> ReqId {
        match self.used.get(s) {
            Some(n) => ReqId::Used(n),
            None => ReqId::Unused(self.unused.intern(s)),
        }
    }

    /// The string of `id`, if it was read here.
    pub fn name(&self, id: ReqId) -> Option<&str> {
        match id {
            ReqId::Used(n) => self.used.name(n),
            ReqId::Unused(n) => self.unused.name(n),
        }
    }

    /// The number of ids this side used.
    pub fn len(&self) -> usize {
        self.used.table.len()
    }

    /// Whether this side used no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tables that give a session's strings their compact form.
#[derive(Clone, Debug)]
pub struct Codec {
    /// The session's capability strings.
    pub caps: Interner,
    /// Request ids of requests the client started (`api: toWidget`).
    pub client_ids: RequestIds,
    /// Request ids of requests the widget started (`api: fromWidget`).
    pub widget_ids: RequestIds,
    /// Names of actions outside docs/spec.md §2.
    actions: Names,
    widget_id: String,
}

impl Codec {
    /// A codec for the session of `widget_id`.
    pub fn new(widget_id: impl Into<String>) -> Codec {
        Codec {
            caps: Interner::new(),
            client_ids: RequestIds::default(),
            widget_ids: RequestIds::default(),
            actions: Names::default(),
            widget_id: widget_id.into(),
        }
    }

    /// The session's widget id.
    pub fn widget_id(&self) -> &str {
        &self.widget_id
    }

    /// Sets the session's widget id (for a trace that names it only in its first message).
    pub fn set_widget_id(&mut self, widget_id: impl Into<String>) {
        self.widget_id = widget_id.into();
    }

    /// Reads a message `poster` posted. A request id in the poster's own namespace (a request
    /// it started) is used; an echoed one that was never used is [`ReqId::Unused`].
    pub fn read(&mut self, poster: Poster, view: &EnvelopeView<'_>) -> Result<Msg, Fault> {
        match read_view(view, poster, &mut self.caps) {
            Reading::Envelope { msg, .. } => msg.map(|m| self.resolve(poster, m)),
            Reading::NotAnEnvelope => unreachable!("a view is an envelope"),
        }
    }

    /// Reads a message from JSON text, in one pass.
    pub fn read_json(&mut self, poster: Poster, json: &RawValue) -> Result<Msg, ReadError> {
        match read_text(json.get(), poster, &mut self.caps) {
            Reading::NotAnEnvelope => Err(ReadError::NotAnObject),
            Reading::Envelope { msg, .. } => msg
                .map(|m| self.resolve(poster, m))
                .map_err(ReadError::Fault),
        }
    }

    /// The second half of reading ([`crate::read`] is the first): gives a message read its
    /// compact form with the session's tables.
    pub fn resolve<S: AsRef<str>>(&mut self, poster: Poster, msg: PreMsg<S>) -> Msg {
        let action = match &msg.action {
            PreAction::Known(a) => *a,
            PreAction::Other(name) => Action::Other(ActionName(self.actions.intern(name.as_ref()))),
        };
        let ids = match msg.api {
            Api::ToWidget => &mut self.client_ids,
            Api::FromWidget => &mut self.widget_ids,
        };
        let id = if poster.starts(msg.api) {
            ids.used(msg.request_id.as_ref())
        } else {
            ids.echoed(msg.request_id.as_ref())
        };
        let body = match msg.body {
            PreBody::Response(reply) => Body::Response(reply),
            PreBody::Request(data) => Body::Request(self.resolve_data(data)),
        };
        Msg {
            api: msg.api,
            foreign: msg.widget_id.as_ref() != self.widget_id,
            id,
            action,
            body,
        }
    }

    /// A request's data read, in compact form: the capabilities that permit a gated action are
    /// those of this session's strings.
    fn resolve_data<S: AsRef<str>>(&mut self, data: PreData<S>) -> Data {
        match data {
            PreData::Data(data) => data,
            PreData::AlwaysOnScreen => Data::Gated(self.caps.permitting(&Gated::AlwaysOnScreen)),
            PreData::SendEvent {
                event_type,
                state_key,
                msgtype,
            } => Data::Gated(self.caps.permitting(&Gated::SendEvent {
                event_type: event_type.as_ref(),
                state_key: state_key.as_ref().map(AsRef::as_ref),
                msgtype: msgtype.as_ref().map(AsRef::as_ref),
            })),
        }
    }

    /// What the protocol reads of `data` (JSON text) for `action`.
    pub fn read_data(&mut self, action: Action, data: &str) -> Data {
        if !raw_is_object(data) {
            return Data::Invalid;
        }
        let known = Some(action).filter(|a| !matches!(a, Action::Other(_)));
        let pre = data_of_text(known, data, &mut self.caps);
        self.resolve_data(pre)
    }

    /// What the protocol reads of a `response` object (JSON text) to `action`.
    pub fn read_reply(&mut self, action: Action, response: &str) -> Reply {
        if !raw_is_object(response) {
            return Reply::Ack;
        }
        let known = Some(action).filter(|a| !matches!(a, Action::Other(_)));
        reply_of_text(known, response, &mut self.caps)
    }

    /// Interns capability names given as strings.
    pub fn cap_set<'s>(&mut self, names: impl IntoIterator<Item = &'s str>) -> CapSet {
        self.caps.set(names)
    }

    /// The wire string of a request id.
    pub fn id_string(&self, api: Api, id: ReqId) -> String {
        let names = match api {
            Api::ToWidget => &self.client_ids,
            Api::FromWidget => &self.widget_ids,
        };
        match names.name(id) {
            Some(s) => s.to_owned(),
            None => counter_id(api, id),
        }
    }

    /// The wire name of an action.
    pub fn action_name(&self, action: Action) -> String {
        match action.known_name() {
            Some(name) => name.to_owned(),
            None => match action {
                Action::Other(ActionName(n)) => {
                    self.actions.name(n).unwrap_or("unknown").to_owned()
                }
                _ => unreachable!("known actions have names"),
            },
        }
    }

    /// The JSON list of a capability set, in order of first appearance.
    pub fn cap_json(&self, set: &CapSet) -> Value {
        Value::Array(
            self.caps
                .names(set)
                .map(|n| Value::String(n.to_owned()))
                .collect(),
        )
    }

    /// The `data` object of a request in compact form (canonical: what the reference sends,
    /// or the simplest object with the same meaning).
    pub fn data_json(&self, action: Action, data: &Data) -> Map<String, Value> {
        let value = match data {
            Data::Empty => json!({}),
            Data::Notify {
                requested,
                approved,
            } => {
                json!({"requested": self.cap_json(requested), "approved": self.cap_json(approved)})
            }
            Data::Capabilities(list) => json!({"capabilities": self.cap_json(list)}),
            Data::Gated(permitting) => self.gated_json(action, permitting),
            Data::Invalid => json!({"capabilities": "not a list"}),
        };
        match value {
            Value::Object(map) => map,
            _ => unreachable!("all data above are objects"),
        }
    }

    fn gated_json(&self, action: Action, permitting: &CapSet) -> Value {
        let first = permitting.iter().next().map(|c| self.caps.capability(c));
        match (action, first) {
            (Action::SendEvent, Some(cap)) => match cap.example_send() {
                Some((event_type, state_key, msgtype)) => {
                    let mut content = Map::new();
                    if let Some(m) = msgtype {
                        content.insert("msgtype".into(), Value::String(m));
                        content.insert("body".into(), Value::String("hello".into()));
                    }
                    let mut data = json!({"type": event_type, "content": content});
                    if let Some(k) = state_key {
                        data["state_key"] = Value::String(k);
                    }
                    data
                }
                None => json!({"type": "org.example.ungated", "content": {}}),
            },
            (Action::SendEvent, None) => json!({"type": "org.example.ungated", "content": {}}),
            _ => json!({"value": true}),
        }
    }

    /// The `response` object of a reply in compact form.
    pub fn reply_json(&self, reply: &Reply, request_id: &str) -> Map<String, Value> {
        let value = match reply {
            Reply::Ack => json!({}),
            Reply::Error(refusal) => json!({"error": {"message": refusal.message()}}),
            Reply::Capabilities(list) => json!({"capabilities": self.cap_json(list)}),
            Reply::Versions { msc2974 } => {
                let mut versions: Vec<&str> = API_VERSIONS.to_vec();
                if *msc2974 {
                    versions.push(MSC2974);
                }
                json!({ "supported_versions": versions })
            }
            Reply::EventSent => json!({
                "room_id": "!room:capneg.invalid",
                "event_id": format!("$capneg-{request_id}"),
            }),
        };
        match value {
            Value::Object(map) => map,
            _ => unreachable!("all replies above are objects"),
        }
    }

    /// A compact message as a wire envelope. Responses are built as the echo of the request with
    /// the same id and action; use [`Envelope::respond`] instead where the original request is
    /// at hand, to keep its exact data and extra fields.
    pub fn envelope(&self, msg: &Msg) -> Envelope {
        let request_id = self.id_string(msg.api, msg.id);
        let widget_id = if msg.foreign {
            format!("{}-other", self.widget_id)
        } else {
            self.widget_id.clone()
        };
        let (data, response) = match &msg.body {
            Body::Request(data) => (self.data_json(msg.action, data), None),
            Body::Response(reply) => (Map::new(), Some(self.reply_json(reply, &request_id))),
        };
        Envelope {
            api: msg.api,
            widget_id,
            request_id,
            action: self.action_name(msg.action),
            data,
            response,
            extra: Map::new(),
        }
    }

    /// A message `poster` posted that breaks the envelope's shape as `fault` says, for printing
    /// a counterexample: the simplest message with that fault (a client's notify, a widget's
    /// `supported_api_versions` request).
    pub fn faulty_json(&self, poster: Poster, fault: Fault) -> Value {
        let mut v = match poster {
            Poster::Client => json!({
                "api": "toWidget",
                "widgetId": self.widget_id,
                "requestId": "faulty",
                "action": "notify_capabilities",
                "data": {"requested": [], "approved": []},
            }),
            Poster::Widget => json!({
                "api": "fromWidget",
                "widgetId": self.widget_id,
                "requestId": "faulty",
                "action": "supported_api_versions",
                "data": {},
            }),
        };
        match fault {
            Fault::Missing(field) => {
                v.as_object_mut().map(|o| o.remove(field.name()));
            }
            Fault::WrongType(Field::Api) => v["api"] = json!("sideways"),
            Fault::WrongType(field @ (Field::Data | Field::Response)) => {
                v[field.name()] = json!([])
            }
            Fault::WrongType(field) => v[field.name()] = json!(7),
        }
        v
    }
}

/// The request id the reference uses for its `n`-th request (`c0`, `c1`, ...), and that the
/// model uses for the widget's (`w0`, ...); an unused id is printed `c?0`, `w?0`, ...
pub fn counter_id(api: Api, id: ReqId) -> String {
    let side = match api {
        Api::ToWidget => 'c',
        Api::FromWidget => 'w',
    };
    match id {
        ReqId::Used(n) => format!("{side}{n}"),
        ReqId::Unused(n) => format!("{side}?{n}"),
    }
}

/// Why a JSON message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Not a JSON object (or an object that repeats a field).
    NotAnObject,
    /// An object that is not a well-formed envelope.
    Fault(Fault),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotAnObject => f.write_str("the message is not a JSON object"),
            ReadError::Fault(fault) => fault.fmt(f),
        }
    }
}

/// An example of the capability's gated action, for printing model traces.
pub(crate) trait ExampleSend {
    fn example_send(&self) -> Option<(String, Option<String>, Option<String>)>;
}

impl ExampleSend for Capability {
    fn example_send(&self) -> Option<(String, Option<String>, Option<String>)> {
        use capneg_reference::capability::{Direction, EventKind};
        match self {
            Capability::Event {
                direction: Direction::Send,
                kind: EventKind::Event,
                event_type,
                filter,
                ..
            } => Some((event_type.clone(), None, filter.clone())),
            Capability::Event {
                direction: Direction::Send,
                kind: EventKind::StateEvent,
                event_type,
                filter,
                ..
            } => Some((
                event_type.clone(),
                Some(filter.clone().unwrap_or_default()),
                None,
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        serde_json::from_str(s).unwrap()
    }

    /// Reads `json`, posted by the widget, as a well-formed message.
    fn read_widget_json(codec: &mut Codec, json: &str) -> Msg {
        codec.read_json(Poster::Widget, &raw(json)).unwrap()
    }

    #[test]
    fn reads_a_reexchange_request() {
        let mut codec = Codec::new("w1");
        let msg = read_widget_json(
            &mut codec,
            r#"{"api":"fromWidget","widgetId":"w1","requestId":"r1","action":"org.matrix.msc2974.request_capabilities","data":{"capabilities":["a","b\u0021"]}}"#,
        );
        let Some(Data::Capabilities(set)) = msg.data() else {
            panic!("{msg:?}")
        };
        assert_eq!(codec.caps.to_vec(set), ["a", "b!"]);
        assert!(!msg.foreign);
    }

    #[test]
    fn faults_name_the_field() {
        let mut codec = Codec::new("w1");
        let cases = [
            (
                r#"{"widgetId":"w1","requestId":"r","action":"x","data":{}}"#,
                Fault::Missing(Field::Api),
            ),
            (
                r#"{"api":"up","widgetId":"w1","requestId":"r","action":"x","data":{}}"#,
                Fault::WrongType(Field::Api),
            ),
            (
                r#"{"api":"toWidget","widgetId":"w1","requestId":1,"action":"x","data":{}}"#,
                Fault::WrongType(Field::RequestId),
            ),
            (
                r#"{"api":"toWidget","widgetId":"w1","requestId":"r","action":"x"}"#,
                Fault::Missing(Field::Data),
            ),
            (
                r#"{"api":"toWidget","widgetId":"w1","requestId":"r","action":"x","data":null}"#,
                Fault::WrongType(Field::Data),
            ),
            (
                r#"{"api":"toWidget","widgetId":"w1","requestId":"r","action":"x","data":{},"response":[]}"#,
                Fault::WrongType(Field::Response),
            ),
        ];
        for (text, fault) in cases {
            assert_eq!(
                codec.read_json(Poster::Client, &raw(text)),
                Err(ReadError::Fault(fault)),
                "{text}"
            );
        }
    }

    #[test]
    fn echoed_ids_are_looked_up_not_interned() {
        let mut codec = Codec::new("w1");
        let answer = read_widget_json(
            &mut codec,
            r#"{"api":"toWidget","widgetId":"w1","requestId":"never","action":"capabilities","data":{},"response":{"capabilities":[]}}"#,
        );
        assert_eq!(answer.id, ReqId::Unused(0));
        assert!(codec.client_ids.is_empty());
        assert_eq!(codec.client_ids.name(answer.id), Some("never"));
    }

    #[test]
    fn faulty_messages_print_with_their_fault() {
        let mut codec = Codec::new("w1");
        for fault in [
            Fault::Missing(Field::Api),
            Fault::Missing(Field::Data),
            Fault::WrongType(Field::Api),
            Fault::WrongType(Field::RequestId),
            Fault::WrongType(Field::Response),
        ] {
            for poster in [Poster::Client, Poster::Widget] {
                let json = serde_json::to_string(&codec.faulty_json(poster, fault)).unwrap();
                assert_eq!(
                    codec.read_json(poster, &raw(&json)),
                    Err(ReadError::Fault(fault))
                );
            }
        }
    }

    #[test]
    fn compact_messages_print_back_to_the_same_meaning() {
        let mut codec = Codec::new("w1");
        let caps = codec.cap_set([
            "m.always_on_screen",
            "org.matrix.msc2762.send.event:m.room.message#m.text",
        ]);
        let aos = codec.caps.permitting(&Gated::AlwaysOnScreen);
        let text = codec.caps.permitting(&Gated::SendEvent {
            event_type: "m.room.message",
            state_key: None,
            msgtype: Some("m.text"),
        });
        let msgs = [
            Msg::request(
                Api::ToWidget,
                ReqId::Used(0),
                Action::Capabilities,
                Data::Empty,
            ),
            Msg::request(
                Api::ToWidget,
                ReqId::Used(1),
                Action::NotifyCapabilities,
                Data::Notify {
                    requested: caps.clone(),
                    approved: aos.clone(),
                },
            ),
            Msg::request(
                Api::FromWidget,
                ReqId::Used(0),
                Action::SetAlwaysOnScreen,
                Data::Gated(aos),
            ),
            Msg::request(
                Api::FromWidget,
                ReqId::Used(1),
                Action::SendEvent,
                Data::Gated(text),
            ),
            Msg::response(
                Api::FromWidget,
                ReqId::Used(0),
                Action::SupportedApiVersions,
                Reply::Versions { msc2974: true },
            ),
        ];
        for msg in msgs {
            let env = codec.envelope(&msg);
            let json = serde_json::to_string(&env).unwrap();
            let poster = match (msg.api, msg.reply().is_some()) {
                (Api::ToWidget, false) | (Api::FromWidget, true) => Poster::Client,
                _ => Poster::Widget,
            };
            let back = codec.read_json(poster, &raw(&json)).unwrap();
            assert_eq!(back.action, msg.action);
            assert_eq!(back.body, msg.body, "{json}");
        }
    }
}
