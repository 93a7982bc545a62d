//! Messages in the compact form the client, the widget and the rules work on.
//!
//! A wire envelope (docs/spec.md §2) is read once into a [`Msg`]: request ids become
//! [`ReqId`]s and unknown action names [`ActionName`]s, capability lists become [`CapSet`]s, and
//! the data and response objects are reduced to what the protocol reads of them. The reference
//! client, the reference widget, the rules' observer and the model all speak this form;
//! `capneg-wire`'s codec converts to and from the wire.

use crate::caps::CapSet;

/// Who started a request: the envelope's `api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    /// `"toWidget"`: started by the client.
    ToWidget,
    /// `"fromWidget"`: started by the widget.
    FromWidget,
}

impl Api {
    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Api::ToWidget => "toWidget",
            Api::FromWidget => "fromWidget",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Api> {
        match s {
            "toWidget" => Some(Api::ToWidget),
            "fromWidget" => Some(Api::FromWidget),
            _ => None,
        }
    }
}

/// A request id, numbered per session and per side: the ids of the requests the client started
/// (`api: "toWidget"`) and those the widget started (`api: "fromWidget"`) are two namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReqId {
    /// The `n`-th id (from 0) its side used for a request of its own.
    Used(u32),
    /// The `n`-th id (from 0) that a response echoes but its side never used for a request: such
    /// a response answers nothing.
    Unused(u32),
}

impl ReqId {
    /// The number of an id its side used.
    pub const fn used(self) -> Option<u32> {
        match self {
            ReqId::Used(n) => Some(n),
            ReqId::Unused(_) => None,
        }
    }
}

/// The name of an action outside docs/spec.md §2, numbered per session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionName(pub u32);

/// The two names of MSC2974's re-exchange action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReexchangeName {
    /// `org.matrix.msc2974.request_capabilities`.
    Unstable,
    /// `request_capabilities`.
    Stable,
}

/// An action name (docs/spec.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// `capabilities` (toWidget).
    Capabilities,
    /// `notify_capabilities` (toWidget, MSC2871).
    NotifyCapabilities,
    /// `request_capabilities` under one of its names (fromWidget, MSC2974).
    RequestCapabilities(ReexchangeName),
    /// `supported_api_versions` (both directions).
    SupportedApiVersions,
    /// `content_loaded` (fromWidget).
    ContentLoaded,
    /// `set_always_on_screen` (fromWidget, gated).
    SetAlwaysOnScreen,
    /// `send_event` (fromWidget, gated).
    SendEvent,
    /// Any other action, by its name.
    Other(ActionName),
}

/// The wire names of the known actions (docs/spec.md §2), both names of `request_capabilities`
/// (MSC2974) among them, in the order of [`Action`]'s variants.
pub const KNOWN_ACTIONS: [&str; 8] = [
    "capabilities",
    "notify_capabilities",
    "org.matrix.msc2974.request_capabilities",
    "request_capabilities",
    "supported_api_versions",
    "content_loaded",
    "set_always_on_screen",
    "send_event",
];

impl Action {
    /// The wire name of a known action (`None` for [`Action::Other`]).
    pub const fn known_name(self) -> Option<&'static str> {
        Some(match self {
            Action::Capabilities => "capabilities",
            Action::NotifyCapabilities => "notify_capabilities",
            Action::RequestCapabilities(ReexchangeName::Unstable) => {
                "org.matrix.msc2974.request_capabilities"
            }
            Action::RequestCapabilities(ReexchangeName::Stable) => "request_capabilities",
            Action::SupportedApiVersions => "supported_api_versions",
            Action::ContentLoaded => "content_loaded",
            Action::SetAlwaysOnScreen => "set_always_on_screen",
            Action::SendEvent => "send_event",
            Action::Other(_) => return None,
        })
    }

    /// The known action named `s`, if any.
    pub fn known(s: &str) -> Option<Action> {
        Some(match s {
            "capabilities" => Action::Capabilities,
            "notify_capabilities" => Action::NotifyCapabilities,
            "org.matrix.msc2974.request_capabilities" => {
                Action::RequestCapabilities(ReexchangeName::Unstable)
            }
            "request_capabilities" => Action::RequestCapabilities(ReexchangeName::Stable),
            "supported_api_versions" => Action::SupportedApiVersions,
            "content_loaded" => Action::ContentLoaded,
            "set_always_on_screen" => Action::SetAlwaysOnScreen,
            "send_event" => Action::SendEvent,
            _ => return None,
        })
    }
}

/// What the protocol reads of a request's `data`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Data {
    /// Nothing is read (`capabilities`, `supported_api_versions`, `content_loaded`, unknown
    /// actions).
    Empty,
    /// `notify_capabilities`: the reported sets.
    Notify {
        /// `data.requested`.
        requested: CapSet,
        /// `data.approved`.
        approved: CapSet,
    },
    /// `request_capabilities`: `data.capabilities`.
    Capabilities(CapSet),
    /// A gated action: the capabilities any one of which permits it (see
    /// [`crate::Interner::permitting`]).
    Gated(CapSet),
    /// The data does not have the shape the action needs (for example `capabilities` not a list
    /// of strings); such a request is answered with an error.
    Invalid,
}

/// Why the reference client answered with an error; printed as the error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// The action is not supported (or not under this name, in this profile).
    UnknownAction,
    /// The request's data is not of the action's shape.
    InvalidData,
    /// `request_capabilities` before the capability exchange finished (docs/spec.md §3).
    NotEstablished,
    /// The session declared `rateLimit` and a round is still open.
    RateLimited,
    /// The gated action's capability is not approved.
    NotApproved,
    /// An error read from the wire.
    Other,
}

impl Refusal {
    /// The error message the reference client sends.
    pub const fn message(self) -> &'static str {
        match self {
            Refusal::UnknownAction => "Unknown or unsupported action",
            Refusal::InvalidData => "Invalid request data",
            Refusal::NotEstablished => "Capabilities have not been negotiated yet",
            Refusal::RateLimited => "Too many capability requests: a round is still open",
            Refusal::NotApproved => "Missing capability",
            Refusal::Other => "Error",
        }
    }
}

/// What the protocol reads of a `response` object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reply {
    /// `{}` (and any object the action gives no meaning to).
    Ack,
    /// `{"error": ...}`.
    Error(Refusal),
    /// `{"capabilities": [..]}`, the widget's answer to `capabilities`.
    Capabilities(CapSet),
    /// `{"supported_versions": [..]}`: whether `org.matrix.msc2974` is among them.
    Versions {
        /// Whether MSC2974 is advertised.
        msc2974: bool,
    },
    /// A successful `send_event`: `{"room_id", "event_id"}`.
    EventSent,
}

impl Reply {
    /// Whether this is an error response.
    pub const fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

/// A request, or a response to one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Body {
    /// A request with its data.
    Request(Data),
    /// A response.
    Response(Reply),
}

/// One well-formed message in compact form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msg {
    /// Who started the request.
    pub api: Api,
    /// Whether its `widgetId` is not the session's (the client ignores such messages).
    pub foreign: bool,
    /// The request id.
    pub id: ReqId,
    /// The action.
    pub action: Action,
    /// Request data or response.
    pub body: Body,
}

impl Msg {
    /// A request of this session.
    pub const fn request(api: Api, id: ReqId, action: Action, data: Data) -> Msg {
        Msg {
            api,
            foreign: false,
            id,
            action,
            body: Body::Request(data),
        }
    }

    /// A response of this session.
    pub const fn response(api: Api, id: ReqId, action: Action, reply: Reply) -> Msg {
        Msg {
            api,
            foreign: false,
            id,
            action,
            body: Body::Response(reply),
        }
    }

    /// The request data, if this is a request.
    pub fn data(&self) -> Option<&Data> {
        match &self.body {
            Body::Request(d) => Some(d),
            Body::Response(_) => None,
        }
    }

    /// The reply, if this is a response.
    pub fn reply(&self) -> Option<&Reply> {
        match &self.body {
            Body::Request(_) => None,
            Body::Response(r) => Some(r),
        }
    }
}

crate::cap_sets!(Data: match {
    Data::Notify {
        requested,
        approved,
    } => [requested, approved],
    Data::Capabilities(s) | Data::Gated(s) => [s],
    Data::Empty | Data::Invalid => [],
});

crate::cap_sets!(Reply: match {
    Reply::Capabilities(s) => [s],
    _ => [],
});

crate::cap_sets!(Body: match {
    Body::Request(d) => [d],
    Body::Response(r) => [r],
});

crate::cap_sets!(Msg { body });

/// A field of the envelope (docs/spec.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `api`.
    Api,
    /// `widgetId`.
    WidgetId,
    /// `requestId`.
    RequestId,
    /// `action`.
    Action,
    /// `data`.
    Data,
    /// `response`.
    Response,
}

impl Field {
    /// Every field, in the order of the envelope.
    pub const ALL: [Field; 6] = [
        Field::Api,
        Field::WidgetId,
        Field::RequestId,
        Field::Action,
        Field::Data,
        Field::Response,
    ];

    /// The field's name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Api => "api",
            Field::WidgetId => "widgetId",
            Field::RequestId => "requestId",
            Field::Action => "action",
            Field::Data => "data",
            Field::Response => "response",
        }
    }
}

/// How a message breaks the envelope's shape (rule `well-formed-message`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// A required field is missing.
    Missing(Field),
    /// A field has the wrong JSON type (or `api` an unknown value).
    WrongType(Field),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Fault::Missing(field) => write!(f, "the envelope has no `{}`", field.name()),
            Fault::WrongType(Field::Api) => {
                f.write_str("`api` is not \"toWidget\" or \"fromWidget\"")
            }
            Fault::WrongType(field @ (Field::Data | Field::Response)) => {
                write!(f, "`{}` is not an object", field.name())
            }
            Fault::WrongType(field) => write!(f, "`{}` is not a string", field.name()),
        }
    }
}

/// A message as posted: a well-formed envelope in compact form, or how it is not one.
pub type Posted = Result<Msg, Fault>;

/// A message the client posted: well-formed, or not.
pub type ClientMsg = Posted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_are_every_known_name() {
        for name in KNOWN_ACTIONS {
            let action = Action::known(name).expect("a known action");
            assert_eq!(action.known_name(), Some(name));
        }
        // Every name `known` accepts is listed: the ones it rejects include near misses.
        for name in [
            "Capabilities",
            "request_capabilities ",
            "org.matrix.msc2974",
            "",
        ] {
            assert_eq!(Action::known(name), None);
        }
        let distinct: std::collections::BTreeSet<_> = KNOWN_ACTIONS.iter().collect();
        assert_eq!(distinct.len(), KNOWN_ACTIONS.len());
    }
}
