//! Reading a wire message, the first half of the codec: everything the protocol reads of an
//! envelope, in one pass over its text, before the session's tables give it its compact form
//! ([`crate::Codec::resolve`] is the second half).
//!
//! This is where a message's meaning is decided: whether it is well-formed, which action it is,
//! what its `data` and `response` say. It needs no state of the session besides the
//! [`Interner`] of capability names.
//!
//! The readers never fail on a value of the wrong shape: `data` that does not fit its action is
//! [`Data::Invalid`], a response without the expected list is an ack. Only JSON syntax errors
//! stop them.

use crate::envelope::{raw_is_object, raw_str, EnvelopeView};
use crate::versions::MSC2974;
use capneg_reference::caps::{CapSet, Interner};
use capneg_reference::msg::{Action, Api, Data, Fault, Field, Refusal, Reply};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Who posted a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Poster {
    /// The client posted it to the widget.
    Client,
    /// The widget posted it to the client.
    Widget,
}

impl Poster {
    /// Whether a message of `api` posted by this side starts a request of its own (rather than
    /// answering one of the other side's).
    pub const fn starts(self, api: Api) -> bool {
        matches!(
            (self, api),
            (Poster::Client, Api::ToWidget) | (Poster::Widget, Api::FromWidget)
        )
    }
}

/// An action's name as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreAction<S> {
    /// One of docs/spec.md §2.
    Known(Action),
    /// Any other name.
    Other(S),
}

/// What the protocol reads of a request's `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreData<S> {
    /// Everything but a gated action (never [`Data::Gated`]).
    Data(Data),
    /// A well-formed `set_always_on_screen`.
    AlwaysOnScreen,
    /// A well-formed `send_event`: what decides which capabilities permit it.
    SendEvent {
        /// `type`.
        event_type: S,
        /// `state_key` (absent or `null`: not a state event).
        state_key: Option<S>,
        /// `content.msgtype`, where it is a string.
        msgtype: Option<S>,
    },
}

/// A request's data or a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreBody<S> {
    /// A request.
    Request(PreData<S>),
    /// A response.
    Response(Reply),
}

/// A well-formed message as read, before the session's tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreMsg<S> {
    /// Who started the request.
    pub api: Api,
    /// `widgetId`.
    pub widget_id: S,
    /// `requestId`.
    pub request_id: S,
    /// `action`.
    pub action: PreAction<S>,
    /// Its data or response.
    pub body: PreBody<S>,
}

impl<S> PreMsg<S> {
    /// The same message with its strings turned into `T`s.
    pub fn map<T>(self, mut f: impl FnMut(S) -> T) -> PreMsg<T> {
        PreMsg {
            api: self.api,
            widget_id: f(self.widget_id),
            request_id: f(self.request_id),
            action: match self.action {
                PreAction::Known(a) => PreAction::Known(a),
                PreAction::Other(s) => PreAction::Other(f(s)),
            },
            body: match self.body {
                PreBody::Response(r) => PreBody::Response(r),
                PreBody::Request(PreData::Data(d)) => PreBody::Request(PreData::Data(d)),
                PreBody::Request(PreData::AlwaysOnScreen) => {
                    PreBody::Request(PreData::AlwaysOnScreen)
                }
                PreBody::Request(PreData::SendEvent {
                    event_type,
                    state_key,
                    msgtype,
                }) => PreBody::Request(PreData::SendEvent {
                    event_type: f(event_type),
                    state_key: state_key.map(&mut f),
                    msgtype: msgtype.map(&mut f),
                }),
            },
        }
    }
}

/// A message as read: not an envelope at all, or one with a fault, or a well-formed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading<S> {
    /// Not a JSON object, or an object that repeats an envelope field.
    NotAnEnvelope,
    /// An envelope, well-formed or not; `widget_id` is its `widgetId` where that is a string.
    Envelope {
        /// `widgetId`, where it is a string.
        widget_id: Option<S>,
        /// The message, or what is wrong with it.
        msg: Result<PreMsg<S>, Fault>,
    },
}

impl<S> Reading<S> {
    /// The same reading with its strings turned into `T`s.
    pub fn map<T>(self, mut f: impl FnMut(S) -> T) -> Reading<T> {
        match self {
            Reading::NotAnEnvelope => Reading::NotAnEnvelope,
            Reading::Envelope { widget_id, msg } => Reading::Envelope {
                widget_id: widget_id.map(&mut f),
                msg: msg.map(|m| m.map(f)),
            },
        }
    }
}

/// Reads the message `poster` posted, given as JSON text, in one pass.
///
/// The one pass fails only where serde_json will not give a reader a number (out of range:
/// `1e400`) in valid JSON; the message is then read field by field ([`read_raw`]), which
/// reads such values as of the wrong shape. Text that is not JSON is not an envelope.
pub fn read_text<'a>(text: &'a str, poster: Poster, caps: &mut Interner) -> Reading<Cow<'a, str>> {
    let mut de = serde_json::Deserializer::from_str(text);
    match (MessageSeed {
        poster,
        caps: &mut *caps,
    })
    .deserialize(&mut de)
    {
        Ok(reading) => *reading,
        Err(_) => match serde_json::from_str::<&RawValue>(text) {
            Ok(raw) => read_raw(raw, poster, caps),
            Err(_) => Reading::NotAnEnvelope,
        },
    }
}

/// Reads the message of a raw JSON value field by field: its envelope view first, then
/// [`read_view`]. Never fails on valid JSON.
pub fn read_raw<'a>(
    raw: &'a RawValue,
    poster: Poster,
    caps: &mut Interner,
) -> Reading<Cow<'a, str>> {
    match EnvelopeView::parse(raw) {
        Some(view) => read_view(&view, poster, caps),
        None => Reading::NotAnEnvelope,
    }
}

/// Reads the message of an envelope view (its fields already apart).
pub fn read_view<'a>(
    view: &EnvelopeView<'a>,
    poster: Poster,
    caps: &mut Interner,
) -> Reading<Cow<'a, str>> {
    let _ = poster;
    let text = |raw: Option<&'a str>| raw.map(|r| raw_str(r).map_or(Scalar::Other, Scalar::Str));
    let mut fields = Fields {
        api: text(view.api),
        widget_id: text(view.widget_id),
        request_id: text(view.request_id),
        action: text(view.action),
        data: view.data.map(PartOf::Raw),
        response: view.response.map(PartOf::Raw),
    };
    fields.finish(caps)
}

/// The envelope's fields as met: the four that are strings in a well-formed message as read
/// (any other value is [`Scalar::Null`], [`Scalar::Bool`] or [`Scalar::Other`]), the other two
/// as parts.
struct Fields<'a> {
    api: Option<Scalar<'a>>,
    widget_id: Option<Scalar<'a>>,
    request_id: Option<Scalar<'a>>,
    action: Option<Scalar<'a>>,
    data: Option<PartOf<'a, PreData<Cow<'a, str>>>>,
    response: Option<PartOf<'a, Reply>>,
}

/// A part of a message read from text of lifetime `'a`: read already (`None`: not an object),
/// or its text.
enum PartOf<'a, T> {
    Raw(&'a str),
    Read(Option<T>),
}

impl<'a> Fields<'a> {
    fn finish(&mut self, caps: &mut Interner) -> Reading<Cow<'a, str>> {
        let widget_id = self.widget_id.as_ref().and_then(Scalar::text).cloned();
        let msg = self.message(caps);
        Reading::Envelope { widget_id, msg }
    }

    /// The message, its faults checked in the order of the envelope's fields.
    fn message(&mut self, caps: &mut Interner) -> Result<PreMsg<Cow<'a, str>>, Fault> {
        let api = string(self.api.take(), Field::Api)?;
        let api = Api::parse(&api).ok_or(Fault::WrongType(Field::Api))?;
        let widget_id = string(self.widget_id.take(), Field::WidgetId)?;
        let request_id = string(self.request_id.take(), Field::RequestId)?;
        let action_name = string(self.action.take(), Field::Action)?;
        let action = match Action::known(&action_name) {
            Some(a) => PreAction::Known(a),
            None => PreAction::Other(action_name),
        };
        let known = match &action {
            PreAction::Known(a) => Some(*a),
            PreAction::Other(_) => None,
        };
        let data = match self.data.take() {
            None => return Err(Fault::Missing(Field::Data)),
            Some(PartOf::Read(None)) => return Err(Fault::WrongType(Field::Data)),
            Some(PartOf::Raw(text)) if !raw_is_object(text) => {
                return Err(Fault::WrongType(Field::Data))
            }
            Some(part) => part,
        };
        let body = match self.response.take() {
            Some(PartOf::Read(None)) => return Err(Fault::WrongType(Field::Response)),
            Some(PartOf::Raw(text)) if !raw_is_object(text) => {
                return Err(Fault::WrongType(Field::Response))
            }
            Some(PartOf::Read(Some(reply))) => PreBody::Response(reply),
            Some(PartOf::Raw(text)) => PreBody::Response(reply_of_text(known, text, caps)),
            None => PreBody::Request(match data {
                PartOf::Read(Some(d)) => d,
                PartOf::Read(None) => unreachable!("checked above"),
                PartOf::Raw(text) => data_of_text(known, text, caps),
            }),
        };
        Ok(PreMsg {
            api,
            widget_id,
            request_id,
            action,
            body,
        })
    }
}

fn string<'a>(value: Option<Scalar<'a>>, field: Field) -> Result<Cow<'a, str>, Fault> {
    match value.ok_or(Fault::Missing(field))? {
        Scalar::Str(s) => Ok(s),
        _ => Err(Fault::WrongType(field)),
    }
}

/// What the protocol reads of `data` (JSON text of an object) for `action`.
pub fn data_of_text<'a>(
    action: Option<Action>,
    text: &'a str,
    caps: &mut Interner,
) -> PreData<Cow<'a, str>> {
    let mut de = serde_json::Deserializer::from_str(text);
    match (DataSeed { action, caps }).deserialize(&mut de) {
        Ok(Some(data)) => data,
        _ => PreData::Data(Data::Invalid),
    }
}

/// What the protocol reads of a `response` (JSON text of an object) to `action`.
pub fn reply_of_text(action: Option<Action>, text: &str, caps: &mut Interner) -> Reply {
    let mut de = serde_json::Deserializer::from_str(text);
    match (ReplySeed { action, caps }).deserialize(&mut de) {
        Ok(Some(reply)) => reply,
        _ => Reply::Ack,
    }
}

/// Reads a whole message in one pass. `data` is read as it comes where the action and the api
/// are known by then and say the message starts a request of the poster's (a response's `data`
/// is only an echo, and is not read); a `response` is read as it comes where the action is
/// known. Otherwise they are kept as text and read at the end.
pub struct MessageSeed<'c> {
    poster: Poster,
    caps: &'c mut Interner,
}

impl<'c> MessageSeed<'c> {
    /// A reader of a message `poster` posted, interning capability names in `caps`.
    pub fn new(poster: Poster, caps: &'c mut Interner) -> Self {
        MessageSeed { poster, caps }
    }
}

impl<'de> DeserializeSeed<'de> for MessageSeed<'_> {
    type Value = Box<Reading<Cow<'de, str>>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MessageSeed<'_> {
    type Value = Box<Reading<Cow<'de, str>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Fields<'de> = Fields {
            api: None,
            widget_id: None,
            request_id: None,
            action: None,
            data: None,
            response: None,
        };
        let mut repeated = false;
        // The action and whether the message starts a request of the poster's, as far as the
        // fields met so far say.
        let learn = |fields: &Fields<'de>| -> (Option<Option<Action>>, bool) {
            let action = fields
                .action
                .as_ref()
                .and_then(Scalar::text)
                .map(|a| Action::known(a));
            let starts = fields
                .api
                .as_ref()
                .and_then(Scalar::text)
                .and_then(|a| Api::parse(a))
                .is_some_and(|api| self.poster.starts(api));
            (action, starts)
        };
        while let Some(key) = map.next_key_seed(crate::visit::KeySeed)? {
            let slot = match key.as_ref() {
                "api" => &mut fields.api,
                "widgetId" => &mut fields.widget_id,
                "requestId" => &mut fields.request_id,
                "action" => &mut fields.action,
                "data" => {
                    let (action, starts) = learn(&fields);
                    let request = fields.response.is_none() && starts;
                    let part = match action {
                        Some(action) if request => PartOf::Read(map.next_value_seed(DataSeed {
                            action,
                            caps: &mut *self.caps,
                        })?),
                        _ => PartOf::Raw(map.next_value::<&'de RawValue>()?.get()),
                    };
                    repeated |= fields.data.replace(part).is_some();
                    continue;
                }
                "response" => {
                    let (action, _) = learn(&fields);
                    let part = match action {
                        Some(action) => PartOf::Read(map.next_value_seed(ReplySeed {
                            action,
                            caps: &mut *self.caps,
                        })?),
                        None => PartOf::Raw(map.next_value::<&'de RawValue>()?.get()),
                    };
                    repeated |= fields.response.replace(part).is_some();
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let value = map.next_value_seed(ScalarSeed)?;
            repeated |= slot.replace(value).is_some();
        }
        if repeated {
            return Ok(Box::new(Reading::NotAnEnvelope));
        }
        // `data` read before the message turned out to be a response is dropped: only its
        // shape (an object) matters then.
        if fields.response.is_some() {
            if let Some(PartOf::Read(Some(_))) = fields.data {
                fields.data = Some(PartOf::Read(Some(PreData::Data(Data::Empty))));
            }
        }
        Ok(Box::new(fields.finish(self.caps)))
    }

    crate::visit::other_shapes_are!(seq, Box::new(Reading::NotAnEnvelope));
}

/// A scalar as a reader needs it: a string, `null`, a boolean, or anything else (consumed).
enum Scalar<'de> {
    Str(Cow<'de, str>),
    Null,
    Bool,
    Other,
}

impl<'de> Scalar<'de> {
    /// The string, if it is one.
    fn text(&self) -> Option<&Cow<'de, str>> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// A list of capability strings as an interned set; `None` for any other value (consumed).
struct CapListSeed<'c> {
    caps: &'c mut Interner,
}

impl<'de> DeserializeSeed<'de> for CapListSeed<'_> {
    type Value = Option<CapSet>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CapListSeed<'_> {
    type Value = Option<CapSet>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut set = CapSet::new();
        let mut strings = true;
        while let Some(s) = seq.next_element_seed(ScalarSeed)? {
            match s {
                Scalar::Str(name) if strings => {
                    set.insert(self.caps.intern(&name));
                }
                _ => strings = false,
            }
        }
        Ok(strings.then_some(set))
    }
    crate::visit::other_shapes_are!(map, None);
}

/// An object whose only key is `field`, holding a list of capability strings (a `prompt` or
/// `decision` line's value): the interned set; `None` for anything else (consumed), which the
/// caller reads again for the reason.
pub(crate) struct OnlyCapsSeed<'c> {
    pub(crate) field: &'static str,
    pub(crate) caps: &'c mut Interner,
}

impl<'de> DeserializeSeed<'de> for OnlyCapsSeed<'_> {
    type Value = Option<CapSet>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OnlyCapsSeed<'_> {
    type Value = Option<CapSet>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut list: Option<Option<CapSet>> = None;
        let mut other = false;
        while let Some(key) = map.next_key_seed(crate::visit::KeySeed)? {
            if key == self.field && list.is_none() {
                list = Some(map.next_value_seed(CapListSeed {
                    caps: &mut *self.caps,
                })?);
            } else {
                other = true;
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(if other { None } else { list.flatten() })
    }
    crate::visit::other_shapes_are!(seq, None);
}

/// Whether a list of strings holds `org.matrix.msc2974`; `None` for any other value.
struct VersionsSeed;

impl<'de> DeserializeSeed<'de> for VersionsSeed {
    type Value = Option<bool>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for VersionsSeed {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut strings, mut found) = (true, false);
        while let Some(s) = seq.next_element_seed(ScalarSeed)? {
            match s {
                Scalar::Str(v) => found |= v == MSC2974,
                _ => strings = false,
            }
        }
        Ok(strings.then_some(found))
    }
    crate::visit::other_shapes_are!(map, None);
}

/// `content.msgtype` of a `send_event`: `Err` if `content` is not an object or repeats
/// `msgtype`; `Ok(None)` where `msgtype` is absent or not a string.
struct ContentSeed;

impl<'de> DeserializeSeed<'de> for ContentSeed {
    type Value = Result<Option<Cow<'de, str>>, ()>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ContentSeed {
    type Value = Result<Option<Cow<'de, str>>, ()>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut msgtype: Option<Option<Cow<'de, str>>> = None;
        let mut repeated = false;
        while let Some(key) = map.next_key_seed(crate::visit::KeySeed)? {
            if key == "msgtype" {
                let v = match map.next_value_seed(ScalarSeed)? {
                    Scalar::Str(s) => Some(s),
                    _ => None,
                };
                repeated |= msgtype.replace(v).is_some();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(if repeated {
            Err(())
        } else {
            Ok(msgtype.flatten())
        })
    }
    crate::visit::other_shapes_are!(seq, Err(()));
}

/// A request's `data` for an action (`None`: an action outside docs/spec.md §2): `Some` for an object,
/// `None` for any other value (consumed).
///
/// What each action reads (a key it reads given twice makes the data invalid):
/// - `notify_capabilities`: `requested` and `approved`, both lists of strings;
/// - `request_capabilities`: `capabilities`, a list of strings;
/// - `set_always_on_screen`: `value`, a boolean;
/// - `send_event`: `type`, a string; `state_key`, absent, `null` or a string; `content`, absent
///   or an object, whose `msgtype` counts where it is a string.
///
/// Other actions read nothing.
struct DataSeed<'c> {
    action: Option<Action>,
    caps: &'c mut Interner,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Option<PreData<Cow<'de, str>>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Option<PreData<Cow<'de, str>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut lists: [Option<Option<CapSet>>; 2] = [None, None];
        let mut scalars: [Option<Scalar<'de>>; 3] = [None, None, None];
        let mut content: Option<Result<Option<Cow<'de, str>>, ()>> = None;
        let mut repeated = false;
        // The keys this action reads: lists, then scalars.
        let (list_keys, scalar_keys): (&[&str], &[&str]) = match self.action {
            Some(Action::NotifyCapabilities) => (&["requested", "approved"], &[]),
            Some(Action::RequestCapabilities(_)) => (&["capabilities"], &[]),
            Some(Action::SetAlwaysOnScreen) => (&[], &["value"]),
            Some(Action::SendEvent) => (&[], &["type", "state_key"]),
            _ => (&[], &[]),
        };
        let reads_content = self.action == Some(Action::SendEvent);
        while let Some(key) = map.next_key_seed(crate::visit::KeySeed)? {
            if let Some(i) = list_keys.iter().position(|k| *k == key) {
                let v = map.next_value_seed(CapListSeed {
                    caps: &mut *self.caps,
                })?;
                repeated |= lists[i].replace(v).is_some();
            } else if let Some(i) = scalar_keys.iter().position(|k| *k == key) {
                let v = map.next_value_seed(ScalarSeed)?;
                repeated |= scalars[i].replace(v).is_some();
            } else if reads_content && key == "content" {
                let v = map.next_value_seed(ContentSeed)?;
                repeated |= content.replace(v).is_some();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        let invalid = PreData::Data(Data::Invalid);
        if repeated {
            return Ok(Some(invalid));
        }
        let [a, b] = lists;
        let [s0, s1, _] = scalars;
        Ok(Some(match self.action {
            Some(Action::NotifyCapabilities) => match (a.flatten(), b.flatten()) {
                (Some(requested), Some(approved)) => PreData::Data(Data::Notify {
                    requested,
                    approved,
                }),
                _ => invalid,
            },
            Some(Action::RequestCapabilities(_)) => a
                .flatten()
                .map_or(invalid, |list| PreData::Data(Data::Capabilities(list))),
            Some(Action::SetAlwaysOnScreen) => match s0 {
                Some(Scalar::Bool) => PreData::AlwaysOnScreen,
                _ => invalid,
            },
            Some(Action::SendEvent) => {
                let state_key = match s1 {
                    None | Some(Scalar::Null) => Ok(None),
                    Some(Scalar::Str(k)) => Ok(Some(k)),
                    Some(_) => Err(()),
                };
                match (s0, state_key, content.unwrap_or(Ok(None))) {
                    (Some(Scalar::Str(event_type)), Ok(state_key), Ok(msgtype)) => {
                        PreData::SendEvent {
                            event_type,
                            state_key,
                            msgtype,
                        }
                    }
                    _ => invalid,
                }
            }
            _ => PreData::Data(Data::Empty),
        }))
    }

    crate::visit::other_shapes_are!(seq, None);
}

/// A `response` to an action: `Some` for an object, `None` for any other value (consumed).
///
/// An `error` key makes it an error, whatever else it holds. Otherwise: `capabilities` answers
/// with its list of strings (an ack without one); `supported_api_versions` with its list of
/// `supported_versions` (an ack without one); `send_event` says the event was sent; anything
/// else is an ack. A list key given twice counts as no list.
struct ReplySeed<'c> {
    action: Option<Action>,
    caps: &'c mut Interner,
}

impl<'de> DeserializeSeed<'de> for ReplySeed<'_> {
    type Value = Option<Reply>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReplySeed<'_> {
    type Value = Option<Reply>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut error = false;
        let mut list: Option<Option<CapSet>> = None;
        let mut versions: Option<Option<bool>> = None;
        let mut repeated = false;
        while let Some(key) = map.next_key_seed(crate::visit::KeySeed)? {
            match (key.as_ref(), self.action) {
                ("error", _) => {
                    error = true;
                    map.next_value::<IgnoredAny>()?;
                }
                ("capabilities", Some(Action::Capabilities)) => {
                    let v = map.next_value_seed(CapListSeed {
                        caps: &mut *self.caps,
                    })?;
                    repeated |= list.replace(v).is_some();
                }
                ("supported_versions", Some(Action::SupportedApiVersions)) => {
                    let v = map.next_value_seed(VersionsSeed)?;
                    repeated |= versions.replace(v).is_some();
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(if error {
            Reply::Error(Refusal::Other)
        } else {
            match self.action {
                Some(Action::Capabilities) => match list.flatten() {
                    Some(list) if !repeated => Reply::Capabilities(list),
                    _ => Reply::Ack,
                },
                Some(Action::SupportedApiVersions) => match versions.flatten() {
                    Some(msc2974) if !repeated => Reply::Versions { msc2974 },
                    _ => Reply::Ack,
                },
                Some(Action::SendEvent) => Reply::EventSent,
                _ => Reply::Ack,
            }
        }))
    }

    crate::visit::other_shapes_are!(seq, None);
}
