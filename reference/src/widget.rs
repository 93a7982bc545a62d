//! The reference widget: the widget's side of a session, deterministic and sans-IO
//! (docs/spec.md §9).
//!
//! It asks the client for its supported versions when it starts, answers the client's
//! `capabilities` request with what its application asked for, acks every notify and takes the
//! approved set of the **latest** notify as its view (MSC2871; MSC2974: a later notify supersedes
//! an earlier one; matrix-widget-api's `WidgetApi` keeps only the first, issue #52).
//!
//! What the application asks for later (MSC2974) goes into the `capabilities` answer if the
//! client has not asked yet; once the widget has answered it, into a `request_capabilities`,
//! sent as soon as the latest answer to `supported_api_versions` lists `org.matrix.msc2974`
//! (rules `widget-reexchange-after-session`, `widget-reexchange-advertised`) and held until
//! then.

use crate::caps::CapSet;
use crate::msg::{Action, Api, Body, Data, Msg, ReexchangeName, Reply, ReqId};

/// What the widget is asked to do, or a message from the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WidgetInput {
    /// A message the client posted.
    Client(Msg),
    /// The application asks for more capabilities (MSC2974).
    App(CapSet),
    /// Tell the client the content has loaded.
    ContentLoaded,
    /// Perform a gated action (`set_always_on_screen` or `send_event`) that these capabilities
    /// permit.
    Gated(Action, CapSet),
}

/// The reference widget's state for one session.
///
/// Its methods are grouped as in a connection: the constructor, getters, and one handler.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Widget {
    /// What the application asked for before the widget answered `capabilities`: its answer.
    asked: CapSet,
    /// What the application asked for since, not sent yet: the client has not advertised
    /// `org.matrix.msc2974`.
    held: CapSet,
    next_id: u32,
    view: CapSet,
    reported_requested: CapSet,
    notifies: u32,
    /// Whether the widget has answered the client's `capabilities` request.
    answered_capabilities: bool,
    /// What the latest answer to `supported_api_versions` says of `org.matrix.msc2974`
    /// (`None`: no answer yet).
    advertised: Option<bool>,
    open: Vec<(ReqId, Action)>,
}

impl Widget {
    /// A widget whose application asks for `initial`; it asks the client for its supported
    /// versions (its first message is appended to `out`).
    pub fn start(initial: CapSet, out: &mut Vec<Msg>) -> Self {
        let mut widget = Widget::new(initial);
        widget.send(Action::SupportedApiVersions, Data::Empty, out);
        widget
    }

    /// A widget whose application asks for `initial`, before it sent anything (it has not asked
    /// for the client's versions: it will not ask for more capabilities).
    pub fn new(initial: CapSet) -> Self {
        Widget {
            asked: initial,
            held: CapSet::new(),
            next_id: 0,
            view: CapSet::new(),
            reported_requested: CapSet::new(),
            notifies: 0,
            answered_capabilities: false,
            advertised: None,
            open: Vec::new(),
        }
    }

    // Getters.

    /// The capabilities the widget believes approved: those of the latest notify
    /// (`widget-view-follows-notify`).
    pub fn approved(&self) -> &CapSet {
        &self.view
    }

    /// The `requested` of the latest notify.
    pub fn reported_requested(&self) -> &CapSet {
        &self.reported_requested
    }

    /// How many notifies the widget has received.
    pub fn notifies(&self) -> u32 {
        self.notifies
    }

    /// What the latest answer to `supported_api_versions` says of `org.matrix.msc2974`
    /// (`None`: not asked or not answered yet).
    pub fn client_supports_reexchange(&self) -> Option<bool> {
        self.advertised
    }

    /// Whether the widget has answered the client's `capabilities` request.
    pub fn answered_capabilities(&self) -> bool {
        self.answered_capabilities
    }

    /// What the application asked for that the widget holds until the client advertises
    /// `org.matrix.msc2974`.
    pub fn held(&self) -> &CapSet {
        &self.held
    }

    /// Requests the widget sent that the client has not answered.
    pub fn open_requests(&self) -> &[(ReqId, Action)] {
        &self.open
    }

    /// Whether the widget may send `request_capabilities` now: it has answered `capabilities`
    /// and the latest answer to `supported_api_versions` lists `org.matrix.msc2974`.
    pub fn may_reexchange(&self) -> bool {
        self.answered_capabilities && self.advertised == Some(true)
    }

    // The handler.

    /// Takes one input; the widget's messages are appended to `out`.
    pub fn handle(&mut self, input: &WidgetInput, out: &mut Vec<Msg>) {
        match input {
            WidgetInput::Client(msg) => self.on_client(msg, out),
            WidgetInput::App(caps) => {
                if !self.answered_capabilities {
                    self.asked.union_with(caps);
                } else {
                    self.held.union_with(caps);
                    self.send_held(out);
                }
            }
            WidgetInput::ContentLoaded => self.send(Action::ContentLoaded, Data::Empty, out),
            WidgetInput::Gated(action, permitting) => {
                self.send(*action, Data::Gated(permitting.clone()), out)
            }
        }
    }

    /// A request id the widget has not used and will not use: for a wrapper that posts
    /// requests of its own beside the widget's (the deliberately wrong widgets of
    /// `capneg-model`).
    pub fn take_request_id(&mut self) -> ReqId {
        let id = ReqId::Used(self.next_id);
        self.next_id += 1;
        id
    }

    fn send(&mut self, action: Action, data: Data, out: &mut Vec<Msg>) {
        let id = self.take_request_id();
        self.open.push((id, action));
        out.push(Msg::request(Api::FromWidget, id, action, data));
    }

    /// Sends what the application asked for, if it may ask now.
    fn send_held(&mut self, out: &mut Vec<Msg>) {
        if self.may_reexchange() && !self.held.is_empty() {
            let caps = std::mem::take(&mut self.held);
            self.send(
                Action::RequestCapabilities(ReexchangeName::Unstable),
                Data::Capabilities(caps),
                out,
            );
        }
    }

    fn on_client(&mut self, msg: &Msg, out: &mut Vec<Msg>) {
        if msg.foreign {
            return; // docs/spec.md §9.4: the widget owes nothing to another widget's messages.
        }
        match (msg.api, &msg.body) {
            (Api::ToWidget, Body::Request(data)) => {
                let reply = match (msg.action, data) {
                    (Action::Capabilities, _) => {
                        self.answered_capabilities = true;
                        Reply::Capabilities(self.asked.clone())
                    }
                    (
                        Action::NotifyCapabilities,
                        Data::Notify {
                            requested,
                            approved,
                        },
                    ) => {
                        self.view = approved.clone();
                        self.reported_requested = requested.clone();
                        self.notifies += 1;
                        Reply::Ack
                    }
                    (Action::SupportedApiVersions, _) => Reply::Versions { msc2974: false },
                    _ => Reply::Ack,
                };
                out.push(Msg::response(Api::ToWidget, msg.id, msg.action, reply));
                self.send_held(out);
            }
            (Api::FromWidget, Body::Response(reply)) => {
                let Some(i) = self
                    .open
                    .iter()
                    .position(|&(id, action)| id == msg.id && action == msg.action)
                else {
                    return;
                };
                self.open.remove(i);
                if msg.action == Action::SupportedApiVersions {
                    // The latest answer decides; an error, or an answer without the list,
                    // advertises nothing (docs/spec.md §9.4).
                    self.advertised = Some(matches!(reply, Reply::Versions { msc2974: true }));
                    self.send_held(out);
                }
            }
            _ => {}
        }
    }
}

crate::cap_sets!(Widget {
    asked,
    held,
    view,
    reported_requested
});
crate::pack_fields!(Widget {
    asked,
    held,
    next_id,
    view,
    reported_requested,
    notifies,
    answered_capabilities,
    advertised,
    open
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Client, Input, Output, Setup};
    use crate::profile::Profile;

    /// The reference client and widget, connected; every prompt is approved in full.
    struct Pair {
        setup: Setup,
        client: Client,
        widget: Widget,
        to_widget: Vec<Msg>,
        to_client: Vec<Msg>,
    }

    impl Pair {
        fn start(profile: Profile, initial: CapSet) -> Pair {
            let setup = Setup::new(profile);
            let mut out = Vec::new();
            let client = Client::start(&setup, &mut out);
            let mut to_client = Vec::new();
            let widget = Widget::start(initial, &mut to_client);
            let mut pair = Pair {
                setup,
                client,
                widget,
                to_widget: Vec::new(),
                to_client,
            };
            pair.client_outputs(out);
            pair
        }

        fn client_outputs(&mut self, mut out: Vec<Output>) {
            while let Some(output) = (!out.is_empty()).then(|| out.remove(0)) {
                match output {
                    Output::Send(m) => self.to_widget.push(m),
                    Output::Prompt(asked) => {
                        let mut more = Vec::new();
                        self.client
                            .handle(&self.setup, &Input::Decision(asked), &mut more)
                            .unwrap();
                        out.extend(more);
                    }
                }
            }
        }

        /// Delivers every message until both sides are quiet.
        fn settle(&mut self) {
            while !self.to_widget.is_empty() || !self.to_client.is_empty() {
                for m in std::mem::take(&mut self.to_widget) {
                    self.widget
                        .handle(&WidgetInput::Client(m), &mut self.to_client);
                }
                for m in std::mem::take(&mut self.to_client) {
                    let mut out = Vec::new();
                    self.client
                        .handle(&self.setup, &Input::Widget(m), &mut out)
                        .unwrap();
                    self.client_outputs(out);
                }
            }
        }

        fn app(&mut self, caps: CapSet) {
            self.widget
                .handle(&WidgetInput::App(caps), &mut self.to_client);
        }
    }

    #[test]
    fn view_follows_the_latest_notify() {
        let mut pair = Pair::start(Profile::MSC, CapSet::from_mask(0b01));
        pair.settle();
        assert_eq!(pair.widget.approved(), &CapSet::from_mask(0b01));
        assert_eq!(pair.widget.client_supports_reexchange(), Some(true));
        pair.app(CapSet::from_mask(0b10));
        pair.settle();
        assert_eq!(pair.widget.approved(), &CapSet::from_mask(0b11));
        assert_eq!(pair.widget.notifies(), 2);
        assert!(pair.widget.open_requests().is_empty());
    }

    #[test]
    fn an_early_request_joins_the_answer() {
        let mut pair = Pair::start(Profile::MSC, CapSet::from_mask(0b01));
        pair.app(CapSet::from_mask(0b10));
        pair.settle();
        assert_eq!(pair.widget.approved(), &CapSet::from_mask(0b11));
        assert_eq!(pair.widget.notifies(), 1);
    }

    #[test]
    fn a_request_waits_for_the_versions() {
        let setup = Setup::new(Profile::MSC);
        let mut asked = Vec::new();
        let mut widget = Widget::start(CapSet::from_mask(0b01), &mut asked);
        let mut out = Vec::new();
        let capabilities = Msg::request(
            Api::ToWidget,
            ReqId::Used(0),
            Action::Capabilities,
            Data::Empty,
        );
        widget.handle(&WidgetInput::Client(capabilities), &mut out);
        widget.handle(&WidgetInput::App(CapSet::from_mask(0b10)), &mut out);
        assert_eq!(out.len(), 1, "only the answer: not advertised yet");
        assert_eq!(widget.held(), &CapSet::from_mask(0b10));
        let mut client_out = Vec::new();
        let mut client = Client::start(&setup, &mut client_out);
        client_out.clear();
        client
            .handle(&setup, &Input::Widget(asked.remove(0)), &mut client_out)
            .unwrap();
        let Some(Output::Send(answer)) = client_out.pop() else {
            panic!("the client answers the versions")
        };
        out.clear();
        widget.handle(&WidgetInput::Client(answer), &mut out);
        assert!(matches!(
            out[..],
            [Msg {
                action: Action::RequestCapabilities(ReexchangeName::Unstable),
                ..
            }]
        ));
        assert!(widget.held().is_empty());
    }

    #[test]
    fn legacy_clients_are_not_asked_again() {
        let mut pair = Pair::start(Profile::LEGACY, CapSet::from_mask(0b01));
        pair.settle();
        assert_eq!(pair.widget.client_supports_reexchange(), Some(false));
        pair.app(CapSet::from_mask(0b10));
        assert!(pair.to_client.is_empty());
        assert_eq!(pair.widget.held(), &CapSet::from_mask(0b10));
        assert_eq!(pair.widget.approved(), &CapSet::from_mask(0b01));
    }
}
