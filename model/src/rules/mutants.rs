//! Deliberately wrong clients: for each rule at least one, each breaking the rule it targets.
//!
//! Every check must be able to fail. A mutant is the reference client with one defect, and the
//! test suites show that the model checker, the validator and the differential driver each
//! catch every mutant by the rule it targets, under every profile where its defect shows
//! ([`MutantKind::checked`]). Where the observer checks a rule in several ways (its
//! [`super::Reason`]s), each way is reached by some mutant: the first mutant of each rule in
//! [`MutantKind::ALL`] is the rule's own (the conformance vectors use it), the others reach the
//! rule's other checks. They are never a client to follow.

use super::Rule;
use capneg_reference::client::{Client, Input, Output, Setup, StepError};
use capneg_reference::fifo::Fifo;
use capneg_reference::msg::{Action, Api, Body, Data, Fault, Field, Msg, Refusal, Reply, ReqId};
use capneg_reference::pack::{Pack, Packer, Unpacker};
use capneg_reference::profile::Concurrency;
use capneg_reference::{CapSet, Event, Profile};

/// A defect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MutantKind {
    /// Sends its `capabilities` request without `data`.
    NoData,
    /// Sends its `capabilities` request with `api: "fromWidget"`.
    RequestFromWidgetApi,
    /// Posts its notifies under another widget's id.
    ForeignNotify,
    /// Acks `request_capabilities` echoing the action `supported_api_versions`.
    WrongEcho,
    /// Answers the widget's requests with `api: "toWidget"`.
    AnswerToWidgetApi,
    /// Answers the widget's requests echoing a request id the widget never used.
    AnswerUnknownId,
    /// Answers every widget request twice.
    AnswerTwice,
    /// Never answers `supported_api_versions`.
    UnansweredVersions,
    /// Gives each request the id of its previous request.
    ReuseId,
    /// Sends `capabilities` again after acking a re-exchange request.
    Recapabilities,
    /// Sends an empty notify at start, before the capability exchange.
    EarlyNotify,
    /// Adds its `autoApprove` capabilities to every notify, requested or not.
    ApproveUnrequested,
    /// Reports as approved only what the round approved.
    ReportRoundOnly,
    /// Approves everything it asked about, whatever the user decided.
    ApproveAll,
    /// Prompts for the round's whole list, approved capabilities included.
    PromptWholeList,
    /// Shows an empty prompt for rounds it does not need to prompt for.
    PromptWhenNothingNew,
    /// Shows an empty prompt after a notify that leaves no round open.
    PromptWithoutRound,
    /// Acks `request_capabilities` before the session is established (and drops it).
    AckEarly,
    /// Answers a well-formed, in-session `request_capabilities` the other way from its profile
    /// (`acknowledge-request`): with an error where the profile acknowledges it (MSC2974), with
    /// `{}` where the profile has no re-exchange and refuses every one (`legacy`).
    WrongReexchangeAnswer,
    /// Sends the ack of `request_capabilities` after everything else the request caused.
    AckLast,
    /// Holds the ack of a `request_capabilities` that arrives while a prompt is open until after
    /// its next input: when that is the user's decision, the user decided before the ack.
    AckAfterDecision,
    /// Sends every notify twice.
    DoubleNotify,
    /// Sends no notify for a round it did not prompt for.
    SilentNothingNew,
    /// Reports the approved set as `requested`.
    ApprovedAsRequested,
    /// Sends notifies without their `requested` and `approved` lists.
    NotifyWithoutLists,
    /// Processes rounds in parallel, as they arrive.
    ParallelRounds,
    /// Answers `supported_api_versions` the other way from its profile (`advertises-versions`):
    /// leaves `org.matrix.msc2974` out where the profile advertises it, lists it where the profile
    /// has no re-exchange (`legacy`).
    WrongVersions,
    /// Answers `supported_api_versions` with `{}`, without its list.
    VersionsWithoutList,
    /// Allows gated actions without their capability.
    Ungated,
}

impl MutantKind {
    /// Every mutant, in the order of the rules they target; the first of each rule is its own.
    pub const ALL: [MutantKind; 29] = [
        MutantKind::NoData,
        MutantKind::RequestFromWidgetApi,
        MutantKind::ForeignNotify,
        MutantKind::WrongEcho,
        MutantKind::AnswerToWidgetApi,
        MutantKind::AnswerUnknownId,
        MutantKind::AnswerTwice,
        MutantKind::UnansweredVersions,
        MutantKind::ReuseId,
        MutantKind::Recapabilities,
        MutantKind::EarlyNotify,
        MutantKind::ApproveUnrequested,
        MutantKind::ReportRoundOnly,
        MutantKind::ApproveAll,
        MutantKind::PromptWholeList,
        MutantKind::PromptWhenNothingNew,
        MutantKind::PromptWithoutRound,
        MutantKind::AckEarly,
        MutantKind::WrongReexchangeAnswer,
        MutantKind::AckLast,
        MutantKind::AckAfterDecision,
        MutantKind::DoubleNotify,
        MutantKind::SilentNothingNew,
        MutantKind::ApprovedAsRequested,
        MutantKind::NotifyWithoutLists,
        MutantKind::ParallelRounds,
        MutantKind::WrongVersions,
        MutantKind::VersionsWithoutList,
        MutantKind::Ungated,
    ];

    /// Whether the defect can show under `profile`: its rule applies there, and what the defect
    /// needs happens there (a later round needs re-exchange, which `legacy` does not serve).
    pub fn shows_under(self, profile: &Profile) -> bool {
        let needs_reexchange = matches!(
            self,
            MutantKind::Recapabilities
                | MutantKind::ReportRoundOnly
                | MutantKind::PromptWholeList
                | MutantKind::AckAfterDecision
        );
        self.target().applies_to(profile) && (!needs_reexchange || profile.reexchange.advertised())
    }

    /// The rule the defect breaks.
    pub const fn target(self) -> Rule {
        match self {
            MutantKind::NoData | MutantKind::RequestFromWidgetApi | MutantKind::ForeignNotify => {
                Rule::WellFormedMessage
            }
            MutantKind::WrongEcho | MutantKind::AnswerToWidgetApi | MutantKind::AnswerUnknownId => {
                Rule::ResponseMatchesRequest
            }
            MutantKind::AnswerTwice | MutantKind::UnansweredVersions => Rule::ExactlyOneResponse,
            MutantKind::ReuseId => Rule::UniqueRequestIds,
            MutantKind::Recapabilities => Rule::SingleCapabilitiesExchange,
            MutantKind::EarlyNotify => Rule::NotifyAfterCapabilities,
            MutantKind::ApproveUnrequested => Rule::ApprovedSubsetOfRequested,
            MutantKind::ReportRoundOnly => Rule::ApprovalsNeverShrink,
            MutantKind::ApproveAll => Rule::ApprovalNeedsDecision,
            MutantKind::PromptWholeList => Rule::PromptOnlyNew,
            MutantKind::PromptWhenNothingNew | MutantKind::PromptWithoutRound => {
                Rule::NoPromptWithoutNew
            }
            MutantKind::AckEarly => Rule::NoRequestBeforeSession,
            MutantKind::WrongReexchangeAnswer => Rule::AcknowledgeRequest,
            MutantKind::AckLast | MutantKind::AckAfterDecision => Rule::AckBeforeNotify,
            MutantKind::DoubleNotify | MutantKind::SilentNothingNew => Rule::OneNotifyPerRound,
            MutantKind::ApprovedAsRequested | MutantKind::NotifyWithoutLists => {
                Rule::NotifyReportsTotals
            }
            MutantKind::ParallelRounds => Rule::RoundsInOrder,
            MutantKind::WrongVersions | MutantKind::VersionsWithoutList => Rule::AdvertisesVersions,
            MutantKind::Ungated => Rule::GatedActionNeedsCapability,
        }
    }

    /// The rule's own mutant: the first in [`MutantKind::ALL`] that breaks `rule`.
    pub fn for_rule(rule: Rule) -> MutantKind {
        MutantKind::ALL
            .into_iter()
            .find(|m| m.target() == rule)
            .unwrap_or_else(|| unreachable!("every rule has a mutant"))
    }

    /// The mutant's name (`mutant:` followed by it selects it on the command line).
    pub const fn name(self) -> &'static str {
        match self {
            MutantKind::NoData => "no-data",
            MutantKind::RequestFromWidgetApi => "request-from-widget-api",
            MutantKind::ForeignNotify => "foreign-notify",
            MutantKind::AnswerToWidgetApi => "answer-to-widget-api",
            MutantKind::AnswerUnknownId => "answer-unknown-id",
            MutantKind::UnansweredVersions => "unanswered-versions",
            MutantKind::PromptWithoutRound => "prompt-without-round",
            MutantKind::AckAfterDecision => "ack-after-decision",
            MutantKind::SilentNothingNew => "silent-nothing-new",
            MutantKind::NotifyWithoutLists => "notify-without-lists",
            MutantKind::VersionsWithoutList => "versions-without-list",
            MutantKind::WrongEcho => "wrong-echo",
            MutantKind::AnswerTwice => "answer-twice",
            MutantKind::ReuseId => "reuse-id",
            MutantKind::Recapabilities => "recapabilities",
            MutantKind::EarlyNotify => "early-notify",
            MutantKind::ApproveUnrequested => "approve-unrequested",
            MutantKind::ReportRoundOnly => "report-round-only",
            MutantKind::ApproveAll => "approve-all",
            MutantKind::PromptWholeList => "prompt-whole-list",
            MutantKind::PromptWhenNothingNew => "prompt-when-nothing-new",
            MutantKind::AckEarly => "ack-early",
            MutantKind::WrongReexchangeAnswer => "wrong-reexchange-answer",
            MutantKind::AckLast => "ack-last",
            MutantKind::DoubleNotify => "double-notify",
            MutantKind::ApprovedAsRequested => "approved-as-requested",
            MutantKind::ParallelRounds => "parallel-rounds",
            MutantKind::WrongVersions => "wrong-versions",
            MutantKind::Ungated => "ungated",
        }
    }
}

super::mutant_kind::mutant_kind!(MutantKind);

/// The reference client with one defect.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mutant {
    kind: MutantKind,
    inner: Client,
    /// The approved set of the last notify (for `ReportRoundOnly`).
    reported: CapSet,
    /// The id of the previous request (for `ReuseId`).
    previous_id: Option<ReqId>,
    /// For each open prompt, oldest first, whether the mutant made it up.
    made_up: Fifo<bool>,
    /// Acks held until the user's next decision (for `AckAfterDecision`).
    held_acks: Vec<Msg>,
}

impl Mutant {
    /// The defect.
    pub fn kind(&self) -> MutantKind {
        self.kind
    }

    /// The reference client inside.
    pub fn inner(&self) -> &Client {
        &self.inner
    }

    /// Starts a session of `kind`.
    pub fn start(kind: MutantKind, setup: &Setup, out: &mut Vec<Event>) -> Mutant {
        let mut outputs = Vec::new();
        let inner = Client::start(&inner_setup(kind, setup), &mut outputs);
        let mut m = Mutant {
            kind,
            inner,
            reported: CapSet::new(),
            previous_id: None,
            made_up: Fifo::new(),
            held_acks: Vec::new(),
        };
        let from = out.len();
        out.extend(outputs.into_iter().map(Event::from));
        if kind == MutantKind::EarlyNotify {
            let id = m.inner.take_request_id();
            out.push(notify(id, CapSet::new(), CapSet::new()));
        }
        m.transform(setup, from, false, out);
        m
    }

    /// Takes one input.
    pub fn handle(
        &mut self,
        setup: &Setup,
        input: &Input,
        out: &mut Vec<Event>,
    ) -> Result<(), StepError> {
        let inner_setup = inner_setup(self.kind, setup);
        let request = match input {
            Input::Widget(msg) => capabilities_request(setup, msg),
            Input::Decision(_) => None,
        };
        let reexchange = matches!(request, Some((_, Taken::Reexchange)));
        let hold_ack =
            self.kind == MutantKind::AckAfterDecision && reexchange && self.inner.prompt_open();
        // The mutants that answer a re-exchange request themselves, without the client.
        let established = self.inner.is_established();
        let answer = match (self.kind, request) {
            (MutantKind::AckEarly, Some((msg, Taken::Reexchange))) if !established => {
                Some((msg, Reply::Ack))
            }
            (MutantKind::WrongReexchangeAnswer, Some((msg, taken))) if established => match taken {
                Taken::Reexchange => Some((msg, Reply::Error(Refusal::Other))),
                Taken::RefusedAlways => Some((msg, Reply::Ack)),
                Taken::Other => None,
            },
            _ => None,
        };
        if let Some((msg, reply)) = answer {
            let answer = Msg::response(Api::FromWidget, msg.id, msg.action, reply);
            out.push(Event::Client(Ok(answer)));
            return Ok(());
        }
        let from = out.len();
        let input = match input {
            Input::Decision(decision) => {
                if self.made_up.pop_front() == Some(true) {
                    return Ok(()); // the answer to a made-up prompt
                }
                let asked = self.inner.prompting().next().map(|p| p.asked.clone());
                match (self.kind, asked) {
                    (MutantKind::ApproveAll, Some(asked)) => Input::Decision(asked),
                    _ => Input::Decision(decision.clone()),
                }
            }
            other => other.clone(),
        };
        let mut outputs = Vec::new();
        self.inner.handle(&inner_setup, &input, &mut outputs)?;
        out.extend(outputs.into_iter().map(Event::from));
        let decided = matches!(input, Input::Decision(_));
        if self.kind == MutantKind::Recapabilities && reexchange && self.inner.is_established() {
            let id = self.inner.take_request_id();
            out.push(Event::Client(Ok(Msg::request(
                Api::ToWidget,
                id,
                Action::Capabilities,
                Data::Empty,
            ))));
        }
        self.transform(setup, from, decided, out);
        if hold_ack {
            // The ack is the last response of the step: hold it until the next decision.
            if let Some(i) = out.iter().rposition(|e| {
                matches!(e, Event::Client(Ok(m)) if matches!(m.action, Action::RequestCapabilities(_)) && m.reply().is_some())
            }) {
                if let Event::Client(Ok(ack)) = out.remove(i) {
                    self.held_acks.push(ack);
                }
            }
        }
        if !hold_ack {
            // The next input releases the held acks: after a decision, they come too late.
            out.extend(self.held_acks.drain(..).map(|ack| Event::Client(Ok(ack))));
        }
        Ok(())
    }

    /// Applies the defect to the outputs from `from` on.
    fn transform(&mut self, setup: &Setup, from: usize, decided: bool, out: &mut Vec<Event>) {
        let produced: Vec<Event> = out.drain(from..).collect();
        let mut held = Vec::new();
        let mut notified = false;
        for output in produced {
            match output {
                Event::Prompt(asked) => {
                    let shown = match self.kind {
                        MutantKind::PromptWholeList => self
                            .inner
                            .prompting()
                            .last()
                            .map_or(asked, |p| p.list.clone()),
                        _ => asked,
                    };
                    self.made_up.push_back(false);
                    out.push(Event::Prompt(shown));
                }
                Event::Client(Ok(msg)) => {
                    notified |= matches!(msg.body, Body::Request(Data::Notify { .. }));
                    self.send(setup, msg, decided, out, &mut held)
                }
                other => out.push(other),
            }
        }
        out.extend(held);
        if self.kind == MutantKind::PromptWithoutRound && notified && !self.inner.round_open() {
            self.made_up.push_back(true);
            out.push(Event::Prompt(CapSet::new()));
        }
    }

    fn send(
        &mut self,
        setup: &Setup,
        mut msg: Msg,
        decided: bool,
        out: &mut Vec<Event>,
        held: &mut Vec<Event>,
    ) {
        let is_request = matches!(msg.body, Body::Request(_));
        if self.kind == MutantKind::ReuseId && is_request && msg.api == Api::ToWidget {
            let own = msg.id;
            msg.id = self.previous_id.unwrap_or(own);
            self.previous_id = Some(msg.id);
        }
        let from_client = msg.api == Api::FromWidget;
        match (self.kind, &mut msg.body) {
            (MutantKind::NoData, Body::Request(_)) if msg.action == Action::Capabilities => {
                return out.push(Event::Client(Err(Fault::Missing(Field::Data))));
            }
            (MutantKind::RequestFromWidgetApi, Body::Request(_))
                if msg.action == Action::Capabilities =>
            {
                msg.api = Api::FromWidget;
            }
            (MutantKind::ForeignNotify, Body::Request(Data::Notify { .. })) => msg.foreign = true,
            (MutantKind::AnswerToWidgetApi, Body::Response(_)) if from_client => {
                msg.api = Api::ToWidget;
            }
            (MutantKind::AnswerUnknownId, Body::Response(_)) if from_client => {
                msg.id = ReqId::Unused(0);
            }
            (MutantKind::UnansweredVersions, Body::Response(_))
                if msg.action == Action::SupportedApiVersions =>
            {
                return;
            }
            (MutantKind::SilentNothingNew, Body::Request(Data::Notify { .. })) if !decided => {
                return;
            }
            (MutantKind::NotifyWithoutLists, Body::Request(data @ Data::Notify { .. })) => {
                *data = Data::Invalid;
            }
            (MutantKind::VersionsWithoutList, Body::Response(reply @ Reply::Versions { .. })) => {
                *reply = Reply::Ack;
            }
            (MutantKind::WrongEcho, Body::Response(_))
                if matches!(msg.action, Action::RequestCapabilities(_)) =>
            {
                msg.action = Action::SupportedApiVersions;
            }
            (MutantKind::ApproveUnrequested, Body::Request(Data::Notify { approved, .. })) => {
                approved.union_with(&setup.settings.auto_approve);
            }
            (MutantKind::ReportRoundOnly, Body::Request(Data::Notify { approved, .. })) => {
                let total = approved.clone();
                *approved = total.difference(&self.reported);
                self.reported = total;
            }
            (
                MutantKind::ApprovedAsRequested,
                Body::Request(Data::Notify {
                    requested,
                    approved,
                }),
            ) => {
                *requested = approved.clone();
            }
            (MutantKind::PromptWhenNothingNew, Body::Request(Data::Notify { .. })) if !decided => {
                self.made_up.push_back(true);
                out.push(Event::Prompt(CapSet::new()));
            }
            (MutantKind::WrongVersions, Body::Response(Reply::Versions { msc2974 })) => {
                *msc2974 = !*msc2974
            }
            (MutantKind::Ungated, Body::Response(reply @ Reply::Error(Refusal::NotApproved))) => {
                *reply = if msg.action == Action::SendEvent {
                    Reply::EventSent
                } else {
                    Reply::Ack
                };
            }
            (MutantKind::AckLast, Body::Response(_))
                if matches!(msg.action, Action::RequestCapabilities(_)) =>
            {
                return held.push(Event::Client(Ok(msg)));
            }
            _ => {}
        }
        let twice = match (self.kind, &msg.body) {
            (MutantKind::AnswerTwice, Body::Response(_)) => Some(msg.clone()),
            (MutantKind::DoubleNotify, Body::Request(Data::Notify { .. })) => {
                let mut again = msg.clone();
                again.id = self.inner.take_request_id();
                Some(again)
            }
            _ => None,
        };
        out.push(Event::Client(Ok(msg)));
        if let Some(again) = twice {
            out.push(Event::Client(Ok(again)));
        }
    }
}

fn notify(id: ReqId, requested: CapSet, approved: CapSet) -> Event {
    Event::Client(Ok(Msg::request(
        Api::ToWidget,
        id,
        Action::NotifyCapabilities,
        Data::Notify {
            requested,
            approved,
        },
    )))
}

/// The setup the inner client of mutant `kind` runs under.
fn inner_setup(kind: MutantKind, setup: &Setup) -> Setup {
    let mut setup = setup.clone();
    if kind == MutantKind::ParallelRounds {
        setup.profile.concurrency = Concurrency::Parallel;
    }
    setup
}

/// How the profile takes a well-formed `request_capabilities` of the session's widget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Taken {
    /// As a re-exchange request: under a name the profile serves (MSC2974).
    Reexchange,
    /// Refused, as every one is where the profile has no re-exchange (`legacy`: docs/spec.md §3,
    /// `acknowledge-request`).
    RefusedAlways,
    /// As anything else (a name the profile does not serve, as `widget-api` the stable one).
    Other,
}

/// The message and how the profile takes it, if it is a well-formed `request_capabilities` of
/// the session's widget.
fn capabilities_request<'m>(setup: &Setup, msg: &'m Msg) -> Option<(&'m Msg, Taken)> {
    let reexchange = setup.profile.reexchange;
    match (msg.foreign, msg.api, msg.action, &msg.body) {
        (
            false,
            Api::FromWidget,
            Action::RequestCapabilities(name),
            Body::Request(Data::Capabilities(_)),
        ) => Some((
            msg,
            if reexchange.accepts(name) {
                Taken::Reexchange
            } else if !reexchange.advertised() {
                Taken::RefusedAlways
            } else {
                Taken::Other
            },
        )),
        _ => None,
    }
}

capneg_reference::cap_sets!(Mutant {
    inner,
    reported,
    held_acks
});

capneg_reference::pack_fields!(Mutant {
    kind,
    inner,
    reported,
    previous_id,
    made_up,
    held_acks
});

impl Pack for TestClient {
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            TestClient::Reference(c) => {
                p.byte(0);
                c.pack(p)
            }
            TestClient::Mutant(m) => {
                p.byte(1);
                m.pack(p)
            }
        }
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(2)? {
            0 => TestClient::Reference(Client::unpack(u)?),
            _ => TestClient::Mutant(Mutant::unpack(u)?),
        })
    }
    fn unpack_into(&mut self, u: &mut Unpacker<'_>) -> Option<()> {
        match (u.tag(2)?, self) {
            (0, TestClient::Reference(c)) => c.unpack_into(u),
            (1, TestClient::Mutant(m)) => m.unpack_into(u),
            (0, this) => {
                *this = TestClient::Reference(Client::unpack(u)?);
                Some(())
            }
            (_, this) => {
                *this = TestClient::Mutant(Mutant::unpack(u)?);
                Some(())
            }
        }
    }
}

thread_local! {
    /// The reference client's outputs of a step (a model checker takes millions of steps).
    static OUTPUTS: std::cell::RefCell<Vec<Output>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A client under test: the reference, or a mutant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TestClient {
    /// The reference client.
    Reference(Client),
    /// A deliberately wrong client.
    Mutant(Mutant),
}

/// Which client to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// The reference client.
    Reference,
    /// A mutant.
    Mutant(MutantKind),
}

impl ClientKind {
    /// The reference client, then every mutant in the order of [`MutantKind::ALL`].
    pub fn all() -> impl Iterator<Item = ClientKind> {
        std::iter::once(ClientKind::Reference).chain(MutantKind::ALL.map(ClientKind::Mutant))
    }
}

impl TestClient {
    /// Starts a session of `kind`; its first messages and prompts are appended to `out`.
    pub fn start(kind: ClientKind, setup: &Setup, out: &mut Vec<Event>) -> TestClient {
        match kind {
            ClientKind::Reference => {
                let mut outputs = Vec::new();
                let client = Client::start(setup, &mut outputs);
                out.extend(outputs.into_iter().map(Event::from));
                TestClient::Reference(client)
            }
            ClientKind::Mutant(k) => TestClient::Mutant(Mutant::start(k, setup, out)),
        }
    }

    /// Takes one input; the messages and prompts it causes are appended to `out`.
    pub fn handle(
        &mut self,
        setup: &Setup,
        input: &Input,
        out: &mut Vec<Event>,
    ) -> Result<(), StepError> {
        match self {
            TestClient::Reference(c) => OUTPUTS.with_borrow_mut(|outputs| {
                outputs.clear();
                c.handle(setup, input, outputs)?;
                out.extend(outputs.drain(..).map(Event::from));
                Ok(())
            }),
            TestClient::Mutant(m) => m.handle(setup, input, out),
        }
    }

    /// Whether a prompt is waiting for the user's decision.
    pub fn prompt_open(&self) -> bool {
        match self {
            TestClient::Reference(c) => c.prompt_open(),
            TestClient::Mutant(m) => !m.made_up.is_empty(),
        }
    }

    /// The reference client inside.
    pub fn client(&self) -> &Client {
        match self {
            TestClient::Reference(c) => c,
            TestClient::Mutant(m) => &m.inner,
        }
    }
}

capneg_reference::cap_sets!(TestClient: match {
    TestClient::Reference(c) => [c],
    TestClient::Mutant(m) => [m],
});
