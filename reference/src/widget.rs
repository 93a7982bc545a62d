//! The widget's side of a session: a well-behaved widget, deterministic and sans-IO.
//!
//! It answers the client's `capabilities` request with its list, acks every notify and takes
//! the approved set of the **latest** notify as its view (matrix-widget-api's widget side keeps
//! only the first: this one follows MSC2974, where a later notify supersedes). It asks for more
//! capabilities (MSC2974) only once the client has advertised `org.matrix.msc2974` in its answer
//! to `supported_api_versions`.

use crate::caps::{CapSet, CapSets};
use crate::msg::{Action, Api, Body, Data, Msg, ReexchangeName, Reply, ReqId};

/// What the widget is asked to do, or a message from the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WidgetInput {
    /// A message the client posted.
    Client(Msg),
    /// Ask the client which API versions it supports.
    AskVersions,
    /// Tell the client the content has loaded.
    ContentLoaded,
    /// Ask for more capabilities (MSC2974).
    RequestCapabilities(CapSet),
    /// Perform a gated action (`set_always_on_screen` or `send_event`) that these capabilities
    /// permit.
    Gated(Action, CapSet),
}

/// Why the widget did not do what it was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WidgetRefusal {
    /// The client has not advertised `org.matrix.msc2974` (or not been asked yet).
    ReexchangeNotAdvertised,
}

impl std::fmt::Display for WidgetRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WidgetRefusal::ReexchangeNotAdvertised => {
                f.write_str("the client has not advertised org.matrix.msc2974")
            }
        }
    }
}

impl std::error::Error for WidgetRefusal {}

/// The widget's state for one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WidgetSession {
    initial: CapSet,
    next_id: u32,
    view: CapSet,
    reported_requested: CapSet,
    notifies: u32,
    client_msc2974: Option<bool>,
    open: Vec<(ReqId, Action)>,
}

impl WidgetSession {
    /// A widget that will answer `capabilities` with `initial`.
    pub fn new(initial: CapSet) -> Self {
        WidgetSession {
            initial,
            next_id: 0,
            view: CapSet::new(),
            reported_requested: CapSet::new(),
            notifies: 0,
            client_msc2974: None,
            open: Vec::new(),
        }
    }

    /// The capabilities the widget believes approved: those of the latest notify.
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

    /// Whether the client advertised MSC2974 (`None`: not asked or not answered yet).
    pub fn client_supports_reexchange(&self) -> Option<bool> {
        self.client_msc2974
    }

    /// Requests the widget sent that the client has not answered.
    pub fn open_requests(&self) -> &[(ReqId, Action)] {
        &self.open
    }

    /// Takes one input; the widget's messages are appended to `out`.
    pub fn handle(&mut self, input: &WidgetInput, out: &mut Vec<Msg>) -> Result<(), WidgetRefusal> {
        match input {
            WidgetInput::Client(msg) => self.on_client(msg, out),
            WidgetInput::AskVersions => {
                self.send(Action::SupportedApiVersions, Data::Empty, out);
            }
            WidgetInput::ContentLoaded => self.send(Action::ContentLoaded, Data::Empty, out),
            WidgetInput::RequestCapabilities(caps) => {
                if self.client_msc2974 != Some(true) {
                    return Err(WidgetRefusal::ReexchangeNotAdvertised);
                }
                self.send(
                    Action::RequestCapabilities(ReexchangeName::Unstable),
                    Data::Capabilities(caps.clone()),
                    out,
                );
            }
            WidgetInput::Gated(action, permitting) => {
                self.send(*action, Data::Gated(permitting.clone()), out)
            }
        }
        Ok(())
    }

    fn send(&mut self, action: Action, data: Data, out: &mut Vec<Msg>) {
        let id = ReqId::Used(self.next_id);
        self.next_id += 1;
        self.open.push((id, action));
        out.push(Msg::request(Api::FromWidget, id, action, data));
    }

    fn on_client(&mut self, msg: &Msg, out: &mut Vec<Msg>) {
        if msg.foreign {
            return;
        }
        match (msg.api, &msg.body) {
            (Api::ToWidget, Body::Request(data)) => {
                let reply = match (msg.action, data) {
                    (Action::Capabilities, _) => Reply::Capabilities(self.initial.clone()),
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
                if let (Action::SupportedApiVersions, Reply::Versions { msc2974 }) =
                    (msg.action, reply)
                {
                    self.client_msc2974 = Some(*msc2974);
                }
            }
            _ => {}
        }
    }
}

impl CapSets for WidgetSession {
    fn each_set(&self, f: &mut dyn FnMut(&CapSet)) {
        f(&self.initial);
        f(&self.view);
        f(&self.reported_requested)
    }
    fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut CapSet)) {
        f(&mut self.initial);
        f(&mut self.view);
        f(&mut self.reported_requested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Client, Input, Output, Setup};
    use crate::profile::Profile;

    /// Runs a reference client against the widget until both are quiet; decisions approve all.
    fn exchange(
        client: &mut Client,
        setup: &Setup,
        widget: &mut WidgetSession,
        mut to_widget: Vec<Msg>,
    ) {
        let mut to_client = Vec::new();
        loop {
            for m in to_widget.drain(..) {
                widget
                    .handle(&WidgetInput::Client(m), &mut to_client)
                    .unwrap();
            }
            if to_client.is_empty() {
                break;
            }
            let mut out = Vec::new();
            for m in to_client.drain(..) {
                client.handle(setup, &Input::Widget(m), &mut out).unwrap();
            }
            while let Some(i) = out.iter().position(|o| matches!(o, Output::Prompt(_))) {
                let Output::Prompt(asked) = out.remove(i) else {
                    unreachable!()
                };
                client
                    .handle(setup, &Input::Decision(asked), &mut out)
                    .unwrap();
            }
            to_widget = out
                .into_iter()
                .filter_map(|o| match o {
                    Output::Send(m) => Some(m),
                    Output::Prompt(_) => None,
                })
                .collect();
        }
    }

    fn run(profile: Profile) -> (Client, WidgetSession, Setup) {
        let setup = Setup::new(profile);
        let mut out = Vec::new();
        let mut client = Client::start(&setup, &mut out);
        let mut widget = WidgetSession::new(CapSet::from_mask(0b01));
        let first = out
            .into_iter()
            .filter_map(|o| match o {
                Output::Send(m) => Some(m),
                _ => None,
            })
            .collect();
        exchange(&mut client, &setup, &mut widget, first);
        (client, widget, setup)
    }

    #[test]
    fn view_follows_the_latest_notify() {
        let (mut client, mut widget, setup) = run(Profile::MSC);
        assert_eq!(widget.approved(), &CapSet::from_mask(0b01));
        // Not advertised yet: the widget does not ask.
        assert_eq!(
            widget.handle(
                &WidgetInput::RequestCapabilities(CapSet::from_mask(0b10)),
                &mut Vec::new()
            ),
            Err(WidgetRefusal::ReexchangeNotAdvertised)
        );
        let mut out = Vec::new();
        widget.handle(&WidgetInput::AskVersions, &mut out).unwrap();
        exchange_from_widget(&mut client, &setup, &mut widget, out);
        assert_eq!(widget.client_supports_reexchange(), Some(true));
        let mut out = Vec::new();
        widget
            .handle(
                &WidgetInput::RequestCapabilities(CapSet::from_mask(0b10)),
                &mut out,
            )
            .unwrap();
        exchange_from_widget(&mut client, &setup, &mut widget, out);
        assert_eq!(widget.approved(), &CapSet::from_mask(0b11));
        assert_eq!(widget.notifies(), 2);
        assert!(widget.open_requests().is_empty());
    }

    #[test]
    fn legacy_clients_are_not_asked_again() {
        let (mut client, mut widget, setup) = run(Profile::LEGACY);
        let mut out = Vec::new();
        widget.handle(&WidgetInput::AskVersions, &mut out).unwrap();
        exchange_from_widget(&mut client, &setup, &mut widget, out);
        assert_eq!(widget.client_supports_reexchange(), Some(false));
        assert!(widget
            .handle(
                &WidgetInput::RequestCapabilities(CapSet::from_mask(0b10)),
                &mut Vec::new()
            )
            .is_err());
    }

    fn exchange_from_widget(
        client: &mut Client,
        setup: &Setup,
        widget: &mut WidgetSession,
        from_widget: Vec<Msg>,
    ) {
        let mut out = Vec::new();
        for m in from_widget {
            client.handle(setup, &Input::Widget(m), &mut out).unwrap();
        }
        while let Some(i) = out.iter().position(|o| matches!(o, Output::Prompt(_))) {
            let Output::Prompt(asked) = out.remove(i) else {
                unreachable!()
            };
            client
                .handle(setup, &Input::Decision(asked), &mut out)
                .unwrap();
        }
        let to_widget = out
            .into_iter()
            .filter_map(|o| match o {
                Output::Send(m) => Some(m),
                _ => None,
            })
            .collect();
        exchange(client, setup, widget, to_widget);
    }
}
