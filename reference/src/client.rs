//! The reference client: a deterministic, sans-IO state machine (docs/spec.md §2–§3).
//!
//! [`Client::start`] opens a session; [`Client::handle`] takes one [`Input`] (a message from the
//! widget, or the user's decision on the oldest open prompt) and appends the client's reaction
//! to an output buffer: messages to the widget and prompts for the user. There are no clocks, no
//! randomness and no I/O; request ids are a counter. The same inputs always give the same
//! outputs, so the model checker, the validator's search, the vectors and the differential
//! driver can all replay it.
//!
//! Everything the client decides is decided here, by the [`Profile`]'s choices and the session's
//! [`Settings`]:
//! - the capability exchange (MSC2762) and its report (MSC2871 `notify_capabilities`);
//! - re-exchange rounds (MSC2974): acked at once, prompting only for new capabilities, never
//!   taking back an approval, one notify per round;
//! - gated actions, answered from the approved set at that moment.
//!
//! Approvals take effect when the round's notify is sent, so the approved set the widget was
//! last told about is always the set gated actions are judged by.

use crate::caps::CapSet;
use crate::fifo::Fifo;
use crate::msg::{Action, Api, Body, Data, Msg, Refusal, Reply, ReqId};
use crate::profile::{Concurrency, Profile, RateLimit, RequestedReport};
use crate::settings::Settings;

/// Everything a step reads besides the state: the profile and the session's settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Setup {
    /// The reading of the MSCs the client follows.
    pub profile: Profile,
    /// The session's settings.
    pub settings: Settings,
}

impl Setup {
    /// A setup with the default settings.
    pub fn new(profile: Profile) -> Self {
        Setup {
            profile,
            settings: Settings::default(),
        }
    }
}

/// An input to the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// A message the widget posted.
    Widget(Msg),
    /// The user's answer to the oldest open prompt: the capabilities they approved.
    Decision(CapSet),
}

/// What the client does in reaction to an input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// Posts a message to the widget.
    Send(Msg),
    /// Asks the user about these capabilities.
    Prompt(CapSet),
}

/// An input the client cannot take in its current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError {
    /// A decision arrived while no prompt was open.
    NoOpenPrompt,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::NoOpenPrompt => f.write_str("a decision with no open prompt"),
        }
    }
}

impl std::error::Error for StepError {}

/// Where the session stands with the initial capability exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Waiting for the widget's `content_loaded` before sending `capabilities`.
    AwaitingContentLoaded,
    /// `capabilities` sent with this id; no answer yet.
    AwaitingCapabilities(ReqId),
    /// The widget answered `capabilities`: the session is established.
    Established,
}

/// A round accepted but not yet processed (sequential profiles only).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pending {
    /// The round's list.
    pub list: CapSet,
    /// Whether this is round 0 (the widget's `capabilities` answer).
    pub initial: bool,
}

/// A round being processed, waiting for the user's decision on its prompt.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prompting {
    /// The round's list.
    pub list: CapSet,
    /// Whether this is round 0.
    pub initial: bool,
    /// The new capabilities: the list minus what was approved when the round was processed.
    pub new: CapSet,
    /// The new capabilities the session approves without asking.
    pub auto: CapSet,
    /// The capabilities the prompt asks about.
    pub asked: CapSet,
}

/// The reference client's state for one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Client {
    phase: Phase,
    next_id: u32,
    approved: CapSet,
    requested: CapSet,
    declined: CapSet,
    /// Rounds waiting for the user, oldest first: a decision answers the first.
    prompting: Fifo<Prompting>,
    /// Accepted rounds waiting for the one being processed (sequential profiles).
    queued: Fifo<Pending>,
}

impl Client {
    /// Opens a session: sends `capabilities` at once, unless the session waits for
    /// `content_loaded`.
    pub fn start(setup: &Setup, out: &mut Vec<Output>) -> Client {
        let mut client = Client {
            phase: Phase::AwaitingContentLoaded,
            next_id: 0,
            approved: CapSet::new(),
            requested: CapSet::new(),
            declined: CapSet::new(),
            prompting: Fifo::new(),
            queued: Fifo::new(),
        };
        if !setup.settings.wait_for_content_loaded {
            client.request_capabilities(out);
        }
        client
    }

    /// The phase of the initial exchange.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the widget has answered `capabilities`.
    pub fn is_established(&self) -> bool {
        self.phase == Phase::Established
    }

    /// The approved set: everything approved so far (only ever grows).
    pub fn approved(&self) -> &CapSet {
        &self.approved
    }

    /// The requested total: the union of the lists of all rounds processed so far.
    pub fn requested(&self) -> &CapSet {
        &self.requested
    }

    /// Capabilities the user declined and has not approved since.
    pub fn declined(&self) -> &CapSet {
        &self.declined
    }

    /// Rounds waiting for a decision, oldest first.
    pub fn prompting(&self) -> impl ExactSizeIterator<Item = &Prompting> {
        self.prompting.iter()
    }

    /// Accepted rounds not yet processed.
    pub fn queued(&self) -> impl ExactSizeIterator<Item = &Pending> {
        self.queued.iter()
    }

    /// Whether a round is open: accepted (or round 0 answered) and not yet notified.
    pub fn round_open(&self) -> bool {
        !self.prompting.is_empty() || !self.queued.is_empty()
    }

    /// The number of request ids the client has used.
    pub fn ids_used(&self) -> u32 {
        self.next_id
    }

    /// Whether a prompt is waiting for the user's decision.
    pub fn prompt_open(&self) -> bool {
        !self.prompting.is_empty()
    }

    /// A request id the client has not used and will not use: for a wrapper that posts requests
    /// of its own beside the client's (the deliberately wrong clients of `capneg-model`).
    pub fn take_request_id(&mut self) -> ReqId {
        self.fresh_id()
    }

    /// Takes one input. Outputs are appended to `out` in the order the client sends them.
    pub fn handle(
        &mut self,
        setup: &Setup,
        input: &Input,
        out: &mut Vec<Output>,
    ) -> Result<(), StepError> {
        match input {
            Input::Widget(msg) => {
                self.on_widget(setup, msg, out);
                Ok(())
            }
            Input::Decision(approved) => self.on_decision(setup, approved, out),
        }
    }

    fn fresh_id(&mut self) -> ReqId {
        let id = ReqId::Used(self.next_id);
        self.next_id += 1;
        id
    }

    fn request_capabilities(&mut self, out: &mut Vec<Output>) {
        let id = self.fresh_id();
        self.phase = Phase::AwaitingCapabilities(id);
        out.push(Output::Send(Msg::request(
            Api::ToWidget,
            id,
            Action::Capabilities,
            Data::Empty,
        )));
    }

    fn on_widget(&mut self, setup: &Setup, msg: &Msg, out: &mut Vec<Output>) {
        if msg.foreign {
            return; // docs/spec.md §2: another widget's messages get no answer and change nothing.
        }
        match (msg.api, &msg.body) {
            (Api::FromWidget, Body::Request(data)) => {
                self.on_request(setup, msg.id, msg.action, data, out)
            }
            (Api::ToWidget, Body::Response(reply)) => {
                self.on_response(setup, msg.id, msg.action, reply, out)
            }
            // A widget neither starts toWidget requests nor answers its own: ignored.
            _ => {}
        }
    }

    fn on_request(
        &mut self,
        setup: &Setup,
        id: ReqId,
        action: Action,
        data: &Data,
        out: &mut Vec<Output>,
    ) {
        let profile = &setup.profile;
        let reply = match (action, data) {
            (Action::SupportedApiVersions, _) => Reply::Versions {
                msc2974: profile.reexchange.advertised(),
            },
            (Action::ContentLoaded, _) => {
                respond(out, id, action, Reply::Ack);
                if self.phase == Phase::AwaitingContentLoaded {
                    self.request_capabilities(out);
                }
                return;
            }
            (Action::RequestCapabilities(name), _) if profile.reexchange.accepts(name) => {
                return self.on_reexchange(setup, id, action, data, out);
            }
            (Action::SetAlwaysOnScreen | Action::SendEvent, Data::Gated(permitting)) => {
                if self.approved.intersects(permitting) {
                    if action == Action::SendEvent {
                        Reply::EventSent
                    } else {
                        Reply::Ack
                    }
                } else {
                    Reply::Error(Refusal::NotApproved)
                }
            }
            (Action::SetAlwaysOnScreen | Action::SendEvent, _) => {
                Reply::Error(Refusal::InvalidData)
            }
            _ => Reply::Error(Refusal::UnknownAction),
        };
        respond(out, id, action, reply);
    }

    /// MSC2974 `request_capabilities` under a name the profile accepts.
    fn on_reexchange(
        &mut self,
        setup: &Setup,
        id: ReqId,
        action: Action,
        data: &Data,
        out: &mut Vec<Output>,
    ) {
        let Data::Capabilities(list) = data else {
            return respond(out, id, action, Reply::Error(Refusal::InvalidData));
        };
        if !self.is_established() && !setup.profile.processes_early_requests() {
            return respond(out, id, action, Reply::Error(Refusal::NotEstablished));
        }
        if setup.settings.rate_limit
            && setup.profile.rate_limit == RateLimit::WhereDeclared
            && self.round_open()
        {
            return respond(out, id, action, Reply::Error(Refusal::RateLimited));
        }
        respond(out, id, action, Reply::Ack);
        self.accept(
            setup,
            Pending {
                list: list.clone(),
                initial: false,
            },
            out,
        );
    }

    fn on_response(
        &mut self,
        setup: &Setup,
        id: ReqId,
        action: Action,
        reply: &Reply,
        out: &mut Vec<Output>,
    ) {
        if action == Action::Capabilities && self.phase == Phase::AwaitingCapabilities(id) {
            self.phase = Phase::Established;
            self.accept(
                setup,
                Pending {
                    list: round_zero_list(reply),
                    initial: true,
                },
                out,
            );
        }
        // Acks of notifies, and responses that answer nothing open, need no reaction.
    }

    /// A round enters: processed at once, or queued behind the open one (sequential).
    fn accept(&mut self, setup: &Setup, round: Pending, out: &mut Vec<Output>) {
        match setup.profile.concurrency {
            Concurrency::Sequential if self.round_open() => self.queued.push_back(round),
            _ => {
                self.process(setup, round, out);
                self.advance(setup, out);
            }
        }
    }

    /// Processes queued rounds while no prompt is open (sequential profiles).
    fn advance(&mut self, setup: &Setup, out: &mut Vec<Output>) {
        while self.prompting.is_empty() {
            let Some(next) = self.queued.pop_front() else {
                break;
            };
            self.process(setup, next, out);
        }
    }

    /// Processes a round: prompts for its new capabilities, or finishes it at once when there is
    /// nothing to ask (rules `prompt-only-new`, `no-prompt-without-new`).
    fn process(&mut self, setup: &Setup, round: Pending, out: &mut Vec<Output>) {
        self.requested.union_with(&round.list);
        let new = round.list.difference(&self.approved);
        let auto = new.intersection(&setup.settings.auto_approve);
        let mut asked = new.difference(&auto);
        if setup.profile.denies_redeclined(setup.settings.declined) {
            asked = asked.difference(&self.declined);
        }
        let round = Prompting {
            list: round.list,
            initial: round.initial,
            new,
            auto,
            asked,
        };
        if round.asked.is_empty() {
            let granted = round.auto.clone();
            self.finish(setup, &round, &granted, out);
        } else {
            out.push(Output::Prompt(round.asked.clone()));
            self.prompting.push_back(round);
        }
    }

    fn on_decision(
        &mut self,
        setup: &Setup,
        decision: &CapSet,
        out: &mut Vec<Output>,
    ) -> Result<(), StepError> {
        let round = self.prompting.pop_front().ok_or(StepError::NoOpenPrompt)?;
        let chosen = decision.intersection(&round.asked);
        self.declined.union_with(&round.asked.difference(&chosen));
        let granted = round.auto.union(&chosen);
        self.finish(setup, &round, &granted, out);
        self.advance(setup, out);
        Ok(())
    }

    /// Ends a round: its approvals take effect and its one notify is sent (MSC2871; rules
    /// `one-notify-per-round`, `notify-reports-totals`, `approvals-never-shrink`).
    fn finish(
        &mut self,
        setup: &Setup,
        round: &Prompting,
        granted: &CapSet,
        out: &mut Vec<Output>,
    ) {
        self.approved.union_with(granted);
        self.declined = self.declined.difference(&self.approved);
        let requested = match setup.profile.requested {
            RequestedReport::SessionTotal => self.requested.clone(),
            RequestedReport::RoundNew if round.initial => round.list.clone(),
            RequestedReport::RoundNew => round.new.clone(),
        };
        let id = self.fresh_id();
        out.push(Output::Send(Msg::request(
            Api::ToWidget,
            id,
            Action::NotifyCapabilities,
            Data::Notify {
                requested,
                approved: self.approved.clone(),
            },
        )));
    }
}

crate::cap_sets!(Pending { list });
crate::cap_sets!(Prompting {
    list,
    new,
    auto,
    asked
});
crate::cap_sets!(Client {
    approved,
    requested,
    declined,
    prompting,
    queued
});
crate::pack_fields!(Client {
    phase,
    next_id,
    approved,
    requested,
    declined,
    prompting,
    queued
});

fn respond(out: &mut Vec<Output>, id: ReqId, action: Action, reply: Reply) {
    out.push(Output::Send(Msg::response(
        Api::FromWidget,
        id,
        action,
        reply,
    )));
}

/// Round 0's list, read from the widget's answer to `capabilities`: its list, or nothing when the
/// answer is an error or carries no list. The rules read it the same way.
pub fn round_zero_list(reply: &Reply) -> CapSet {
    match reply {
        Reply::Capabilities(list) => list.clone(),
        _ => CapSet::new(),
    }
}
