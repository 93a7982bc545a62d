//! The rules as one observer of events (SPEC §4, §5).
//!
//! The [`Observer`] is fed the events of one session in order: the messages the client and the
//! widget posted, the client's prompts and the user's decisions. It keeps the least state the
//! rules need and names every rule an event breaks, with a [`Reason`] that cites the earlier
//! event involved. End-of-trace obligations (`exactly-one-response`, `one-notify-per-round`) are
//! checked by [`Observer::finish`].
//!
//! This is the only place a rule is written: the model checker, the validator, the vectors, the
//! property tests and the differential driver all judge through it.
//!
//! Rounds (SPEC §2): round 0 opens when the widget answers `capabilities`; a re-exchange round
//! opens when the widget sends a `request_capabilities` the profile serves, and is accepted when
//! the client acks it. A round is *processed* when it is accepted (parallel profiles) or when it
//! reaches the front of the queue (sequential profiles): its new capabilities are computed then,
//! against the approved set of the latest notify. A prompt belongs to the oldest open round that
//! has not prompted; a notify to the front round (sequential) or to the oldest round not waiting
//! for the user (parallel).

use crate::rules::{Rule, RuleSet};
use capneg_reference::client::round_zero_list;
use capneg_reference::fifo::Fifo;
use capneg_reference::msg::{Action, Api, Body, ClientMsg, Data, Fault, Id, Msg, Reply};
use capneg_reference::profile::{Concurrency, IdReuse, Profile, RateLimit, RequestedReport};
use capneg_reference::{CapSet, CapSets, Interner};
use std::fmt::Write as _;

/// A position in a trace: its line number (or, in the model, the step number).
pub type Pos = u32;

/// One event of a session (SPEC §5), in compact form.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A message the client posted.
    Client(&'a ClientMsg),
    /// A message the widget posted.
    Widget(&'a Msg),
    /// The client asked the user about these capabilities.
    Prompt(&'a CapSet),
    /// The user answered the oldest open prompt, approving these.
    Decision(&'a CapSet),
}

/// What the rules are judged against: the profile's reading, the session's settings, and which
/// rules are checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Judge {
    /// The reading of the MSCs the rules follow.
    pub profile: Profile,
    /// The rules checked (by default those that apply to the profile).
    pub rules: RuleSet,
    /// The session's `autoApprove`.
    pub auto_approve: CapSet,
    /// Whether the session declares `rateLimit`.
    pub rate_limit: bool,
    /// Whether prompts and decisions are in the trace (`approval-needs-decision` is checked
    /// only then).
    pub prompts_recorded: bool,
}

impl Judge {
    /// The rules of `profile`, prompts recorded, no `autoApprove`, no rate limit.
    pub fn new(profile: Profile) -> Self {
        Judge {
            profile,
            rules: RuleSet::of_profile(&profile),
            auto_approve: CapSet::new(),
            rate_limit: false,
            prompts_recorded: true,
        }
    }

    fn may_rate_limit(&self) -> bool {
        self.rate_limit && self.profile.rate_limit == RateLimit::WhereDeclared
    }
}

/// Why an event breaks a rule: what happened, with the earlier event involved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The message is not a well-formed envelope.
    Malformed(Fault),
    /// A request the client started carries `api: "fromWidget"`.
    RequestFromWidgetApi,
    /// A message carries another widget's id.
    ForeignWidget,
    /// A response with `api: "toWidget"`: the client answers only widget requests.
    AnswersOwnRequest,
    /// A response to no open widget request.
    AnswersNothing,
    /// A response to a widget request the client answered already.
    AnsweredAgain,
    /// The response echoes another action than the request at this position.
    WrongAction(Pos),
    /// The widget request at this position was never answered.
    NeverAnswered(Pos),
    /// A request id the client used before (at this position, if still open).
    ReusedId(Option<Pos>),
    /// A second `capabilities` request; the first is at this position.
    SecondCapabilities(Pos),
    /// A notify before the widget answered `capabilities` (sent at this position, if sent).
    NotifyBeforeEstablished(Option<Pos>),
    /// A notify approves capabilities never requested.
    NotRequested(CapSet),
    /// A notify leaves out capabilities approved in the notify at this position.
    Shrinks(CapSet, Pos),
    /// A notify approves capabilities no decision, `autoApprove` or earlier approval covers.
    Undecided(CapSet),
    /// A prompt lists capabilities that are not new in the round opened at this position.
    NotNew(CapSet, Pos),
    /// A prompt for the round opened at this position, which has nothing new.
    NothingNew(Pos),
    /// A prompt while no round is waiting for one.
    PromptWithoutRound,
    /// The early `request_capabilities` at this position was not refused.
    EarlyNotRefused(Pos),
    /// The `request_capabilities` at this position was answered with an error.
    Refused(Pos),
    /// The `request_capabilities` at this position was answered, but not with an error
    /// (re-exchange is not supported in this profile).
    NotRefused(Pos),
    /// The round of the request at this position was prompted for or notified before its ack.
    BeforeAck(Pos),
    /// The user's decision came while the request at this position was not acked.
    DecisionBeforeAck(Pos),
    /// A notify while no round is open (the last round, opened at this position, was notified
    /// already).
    ExtraNotify(Option<Pos>),
    /// A notify while every open round waits for the user's decision (parallel profiles).
    NotifyWhileWaiting,
    /// The round opened at this position ended without a notify.
    NoNotify(Pos),
    /// A notify without `requested` and `approved` lists.
    NotifyWithoutLists,
    /// A notify reports `requested` other than expected for the round opened at this position.
    WrongRequested {
        /// What it reported.
        reported: CapSet,
        /// What the profile says it should report.
        expected: CapSet,
        /// Where the round opened.
        round: Pos,
    },
    /// A prompt for the round opened at the first position while the round opened at the second
    /// is not notified yet.
    OutOfOrder(Pos, Pos),
    /// The answer to `supported_api_versions` at this position does not advertise
    /// `org.matrix.msc2974` as the profile says (`expected`).
    Versions {
        /// Whether the profile advertises it.
        expected: bool,
        /// The request.
        request: Pos,
    },
    /// The answer to `supported_api_versions` at this position lists no versions.
    NoVersions(Pos),
    /// The gated action at this position was allowed without an approved capability.
    Ungated(Pos),
}

impl Reason {
    /// The reason in words; capability names come from `caps`.
    pub fn describe(&self, caps: &Interner) -> String {
        let names = |set: &CapSet| -> String {
            let mut s = String::from("[");
            for (i, n) in caps.names(set).enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "{n:?}");
            }
            s.push(']');
            s
        };
        match self {
            Reason::Malformed(fault) => format!("{fault}"),
            Reason::RequestFromWidgetApi => {
                "a request with api \"fromWidget\": the client starts only toWidget requests".into()
            }
            Reason::ForeignWidget => "the message carries another widget's widgetId".into(),
            Reason::AnswersOwnRequest => {
                "a response with api \"toWidget\": the client answers only the widget's requests".into()
            }
            Reason::AnswersNothing => "answers no open widget request".into(),
            Reason::AnsweredAgain => "answers a widget request it answered already".into(),
            Reason::WrongAction(at) => format!("echoes another action than the request of line {at}"),
            Reason::NeverAnswered(at) => format!("the widget request of line {at} was never answered"),
            Reason::ReusedId(Some(at)) => {
                format!("reuses the requestId of its request of line {at}, still open")
            }
            Reason::ReusedId(None) => "reuses a requestId it used before in this session".into(),
            Reason::SecondCapabilities(at) => {
                format!("a second capabilities request (the first at line {at})")
            }
            Reason::NotifyBeforeEstablished(Some(at)) => format!(
                "notify_capabilities before the widget answered the capabilities request of line {at}"
            ),
            Reason::NotifyBeforeEstablished(None) => {
                "notify_capabilities before the capability exchange".into()
            }
            Reason::NotRequested(set) => {
                format!("approves {} which the widget never requested", names(set))
            }
            Reason::Shrinks(set, at) => format!(
                "leaves out {} approved in the notify of line {at}",
                names(set)
            ),
            Reason::Undecided(set) => format!(
                "approves {} without the user's approval, autoApprove or an earlier approval",
                names(set)
            ),
            Reason::NotNew(set, at) => format!(
                "prompts for {} which are not new in the round of line {at}",
                names(set)
            ),
            Reason::NothingNew(at) => {
                format!("prompts for the round of line {at}, which has nothing new")
            }
            Reason::PromptWithoutRound => "a prompt while no round is being processed".into(),
            Reason::EarlyNotRefused(at) => format!(
                "does not refuse the request_capabilities of line {at}, received before the session was established"
            ),
            Reason::Refused(at) => {
                format!("answers the request_capabilities of line {at} with an error")
            }
            Reason::NotRefused(at) => format!(
                "answers the request_capabilities of line {at} without an error, but the profile serves no re-exchange"
            ),
            Reason::BeforeAck(at) => format!(
                "acts on the round of line {at} before acking its request_capabilities"
            ),
            Reason::DecisionBeforeAck(at) => format!(
                "the user decided while the request_capabilities of line {at} was still not acked"
            ),
            Reason::ExtraNotify(Some(at)) => format!(
                "a notify while no round is open (the round of line {at} was notified already)"
            ),
            Reason::ExtraNotify(None) => "a notify while no round is open".into(),
            Reason::NotifyWhileWaiting => {
                "a notify while every open round waits for the user's decision".into()
            }
            Reason::NoNotify(at) => format!("the round of line {at} ended without a notify"),
            Reason::NotifyWithoutLists => {
                "a notify without requested and approved lists of strings".into()
            }
            Reason::WrongRequested {
                reported,
                expected,
                round,
            } => format!(
                "reports requested {} for the round of line {round}, expected {}",
                names(reported),
                names(expected)
            ),
            Reason::OutOfOrder(this, earlier) => format!(
                "prompts for the round of line {this} before the notify of the round of line {earlier}"
            ),
            Reason::Versions {
                expected: true,
                request,
            } => format!(
                "the answer to supported_api_versions of line {request} leaves out org.matrix.msc2974"
            ),
            Reason::Versions {
                expected: false,
                request,
            } => format!(
                "the answer to supported_api_versions of line {request} advertises org.matrix.msc2974, which this profile does not serve"
            ),
            Reason::NoVersions(at) => format!(
                "the answer to supported_api_versions of line {at} lists no supported_versions"
            ),
            Reason::Ungated(at) => format!(
                "allows the gated action of line {at} though none of its capabilities is approved"
            ),
        }
    }
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Why.
    pub reason: Reason,
}

/// An event the observer cannot take: not a violation of the client, but bad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadEvent {
    /// A decision while no prompt is open.
    DecisionWithoutPrompt,
}

impl std::fmt::Display for BadEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadEvent::DecisionWithoutPrompt => f.write_str("a decision with no open prompt"),
        }
    }
}

impl std::error::Error for BadEvent {}

/// The state of a round's prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum PromptState {
    /// No prompt shown.
    None,
    /// Its prompt is waiting for the user.
    Open,
    /// The user answered the prompt.
    Decided,
}

/// A prompt waiting for the user's decision.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct OpenPrompt {
    /// What it asks.
    caps: CapSet,
    /// Whether its round is still open (a round notified while its prompt is open leaves the
    /// prompt without a round; the user still answers it).
    has_round: bool,
}

/// An open round.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Round {
    /// Where it opened: the widget's request, or its answer to `capabilities`.
    at: Pos,
    /// The request id of a re-exchange round.
    request: Option<Id>,
    /// Whether this is round 0.
    initial: bool,
    list: CapSet,
    /// Whether the client acked the request (always true for round 0).
    acked: bool,
    /// The new capabilities, once processed.
    new: Option<CapSet>,
    prompt: PromptState,
}

/// What the client owes a widget request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owed {
    /// Nothing particular: any single answer.
    Any,
    /// `{}` (a re-exchange request in session).
    Ack,
    /// An error (`no-request-before-session`).
    ErrorEarly,
    /// An error (re-exchange not served: `acknowledge-request`).
    ErrorUnsupported,
    /// The supported versions.
    Versions,
    /// An error unless one of these is approved.
    Gated(CapSet),
}

/// A widget request the client has not answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct OpenRequest {
    at: Pos,
    id: Id,
    action: Action,
    owed: Owed,
}

/// The observer's state for one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Observer {
    /// Where the client sent `capabilities`, and with which id.
    capabilities_sent: Option<(Pos, Id)>,
    established: bool,
    /// The approved set of the latest notify, and where it was.
    approved: CapSet,
    approved_at: Option<Pos>,
    /// The requested total: the lists of all rounds processed so far.
    requested: CapSet,
    /// Everything the user approved in a prompt.
    user_approved: CapSet,
    rounds: Fifo<Round>,
    /// Prompts waiting for the user, oldest first: a decision answers the first.
    prompts: Fifo<OpenPrompt>,
    last_notified: Option<Pos>,
    widget_open: Fifo<OpenRequest>,
    ledger: Ledger,
    client_open: Fifo<(Pos, Id, Action)>,
}

impl Default for Observer {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer {
    /// The state before the first event.
    pub fn new() -> Self {
        Observer {
            capabilities_sent: None,
            established: false,
            approved: CapSet::new(),
            approved_at: None,
            requested: CapSet::new(),
            user_approved: CapSet::new(),
            rounds: Fifo::new(),
            prompts: Fifo::new(),
            last_notified: None,
            widget_open: Fifo::new(),
            ledger: Ledger::default(),
            client_open: Fifo::new(),
        }
    }

    /// Whether the widget has answered `capabilities`.
    pub fn is_established(&self) -> bool {
        self.established
    }

    /// The approved set of the latest notify.
    pub fn approved(&self) -> &CapSet {
        &self.approved
    }

    /// The requested total.
    pub fn requested(&self) -> &CapSet {
        &self.requested
    }

    /// The number of open rounds.
    pub fn open_rounds(&self) -> usize {
        self.rounds.len()
    }

    /// Whether a prompt is waiting for the user.
    pub fn prompt_open(&self) -> bool {
        !self.prompts.is_empty()
    }

    /// The number of widget requests the client has not answered.
    pub fn unanswered(&self) -> usize {
        self.widget_open.len()
    }

    /// Takes one event at position `at`; the rules it breaks are appended to `out`.
    pub fn observe(
        &mut self,
        judge: &Judge,
        at: Pos,
        event: Event<'_>,
        out: &mut Vec<Violation>,
    ) -> Result<(), BadEvent> {
        let mut ledger = std::mem::take(&mut self.ledger);
        let result = self.observe_with(&mut ledger, judge, at, event, out);
        ledger.commit();
        self.ledger = ledger;
        result
    }

    /// Takes one event, with the request ids of the session kept in `ledger` rather than in this
    /// state: several states that explain the same wire (the validator's search where prompts
    /// are hidden) share one ledger, and each applies the event against it before
    /// [`Ledger::commit`] records the event's ids once.
    pub fn observe_with(
        &mut self,
        ledger: &mut Ledger,
        judge: &Judge,
        at: Pos,
        event: Event<'_>,
        out: &mut Vec<Violation>,
    ) -> Result<(), BadEvent> {
        let mut report = Report { judge, out };
        match event {
            Event::Widget(msg) => self.on_widget(judge, at, msg),
            Event::Client(Err(fault)) => {
                report.add(Rule::WellFormedMessage, Reason::Malformed(*fault))
            }
            Event::Client(Ok(msg)) => self.on_client(ledger, judge, at, msg, &mut report),
            Event::Prompt(caps) => self.on_prompt(judge, caps, &mut report),
            Event::Decision(caps) => return self.on_decision(caps, &mut report),
        }
        Ok(())
    }

    /// The end of the trace: widget requests left unanswered, rounds left without a notify that
    /// are not waiting for the user.
    pub fn finish(&self, judge: &Judge, out: &mut Vec<Violation>) {
        let mut report = Report { judge, out };
        for open in self.widget_open.iter() {
            report.add(Rule::ExactlyOneResponse, Reason::NeverAnswered(open.at));
        }
        let sequential = judge.profile.concurrency == Concurrency::Sequential;
        let mut blocked = false;
        for round in self.rounds.iter() {
            let waiting = round.prompt == PromptState::Open;
            blocked = if sequential {
                blocked || waiting
            } else {
                waiting
            };
            if round.acked && !blocked {
                report.add(Rule::OneNotifyPerRound, Reason::NoNotify(round.at));
            }
        }
    }

    fn on_widget(&mut self, judge: &Judge, at: Pos, msg: &Msg) {
        if msg.foreign {
            return;
        }
        match (msg.api, &msg.body) {
            (Api::FromWidget, Body::Request(data)) => {
                let owed = self.owed(judge, at, msg, data);
                self.widget_open.push_back(OpenRequest {
                    at,
                    id: msg.id,
                    action: msg.action,
                    owed,
                });
            }
            (Api::ToWidget, Body::Response(reply)) => {
                let Some(i) = self
                    .client_open
                    .iter()
                    .position(|&(_, id, action)| id == msg.id && action == msg.action)
                else {
                    return; // answers nothing: the client ignores it
                };
                self.client_open.remove(i);
                if msg.action == Action::Capabilities
                    && !self.established
                    && self.capabilities_sent.map(|(_, id)| id) == Some(msg.id)
                {
                    self.established = true;
                    self.rounds.push_back(Round {
                        at,
                        request: None,
                        initial: true,
                        list: round_zero_list(reply),
                        acked: true,
                        new: None,
                        prompt: PromptState::None,
                    });
                    self.start_rounds(judge);
                }
            }
            _ => {}
        }
    }

    /// What the client owes a new widget request; opens its round if it is a re-exchange.
    fn owed(&mut self, judge: &Judge, at: Pos, msg: &Msg, data: &Data) -> Owed {
        let profile = &judge.profile;
        match (msg.action, data) {
            (Action::RequestCapabilities(name), Data::Capabilities(list))
                if profile.reexchange.accepts(name) =>
            {
                if self.established || profile.processes_early_requests() {
                    self.rounds.push_back(Round {
                        at,
                        request: Some(msg.id),
                        initial: false,
                        list: list.clone(),
                        acked: false,
                        new: None,
                        prompt: PromptState::None,
                    });
                    Owed::Ack
                } else {
                    Owed::ErrorEarly
                }
            }
            (Action::RequestCapabilities(_), Data::Capabilities(_))
                if !profile.reexchange.advertised() =>
            {
                Owed::ErrorUnsupported
            }
            (Action::SupportedApiVersions, _) => Owed::Versions,
            (Action::SetAlwaysOnScreen | Action::SendEvent, Data::Gated(permitting)) => {
                Owed::Gated(permitting.clone())
            }
            _ => Owed::Any,
        }
    }

    /// Processes rounds that can be: every accepted round (parallel), or the front one
    /// (sequential).
    fn start_rounds(&mut self, judge: &Judge) {
        let sequential = judge.profile.concurrency == Concurrency::Sequential;
        for i in 0..self.rounds.len() {
            let round = &self.rounds[i];
            if round.acked && round.new.is_none() {
                self.process(i);
            }
            if sequential {
                break;
            }
        }
    }

    fn process(&mut self, i: usize) {
        let round = &mut self.rounds[i];
        if round.new.is_none() {
            self.requested.union_with(&round.list);
            round.new = Some(round.list.difference(&self.approved));
        }
    }

    fn on_client(
        &mut self,
        ledger: &mut Ledger,
        judge: &Judge,
        at: Pos,
        msg: &Msg,
        report: &mut Report<'_, '_>,
    ) {
        if msg.foreign {
            let rule = match msg.body {
                Body::Response(_) => Rule::ResponseMatchesRequest,
                Body::Request(_) => Rule::WellFormedMessage,
            };
            return report.add(rule, Reason::ForeignWidget);
        }
        match (msg.api, &msg.body) {
            (Api::ToWidget, Body::Request(data)) => {
                self.on_client_request(ledger, judge, at, msg, data, report)
            }
            (Api::FromWidget, Body::Response(reply)) => {
                self.on_client_response(ledger, judge, msg, reply, report)
            }
            (Api::ToWidget, Body::Response(_)) => {
                report.add(Rule::ResponseMatchesRequest, Reason::AnswersOwnRequest)
            }
            (Api::FromWidget, Body::Request(_)) => {
                report.add(Rule::WellFormedMessage, Reason::RequestFromWidgetApi)
            }
        }
    }

    fn on_client_request(
        &mut self,
        ledger: &mut Ledger,
        judge: &Judge,
        at: Pos,
        msg: &Msg,
        data: &Data,
        report: &mut Report<'_, '_>,
    ) {
        let open = self.client_open.iter().find(|o| o.1 == msg.id).map(|o| o.0);
        let reused = match judge.profile.id_reuse {
            IdReuse::NeverInSession => ledger.client_used.contains(msg.id.0),
            IdReuse::NotWhileOpen => open.is_some(),
        };
        if reused {
            report.add(Rule::UniqueRequestIds, Reason::ReusedId(open));
        }
        ledger.note(Noted::ClientId(msg.id));
        self.client_open.push_back((at, msg.id, msg.action));
        match msg.action {
            Action::Capabilities => match self.capabilities_sent {
                Some((first, _)) => report.add(
                    Rule::SingleCapabilitiesExchange,
                    Reason::SecondCapabilities(first),
                ),
                None => self.capabilities_sent = Some((at, msg.id)),
            },
            Action::NotifyCapabilities => self.on_notify(judge, at, data, report),
            _ => {}
        }
    }

    fn on_notify(&mut self, judge: &Judge, at: Pos, data: &Data, report: &mut Report<'_, '_>) {
        if !self.established {
            report.add(
                Rule::NotifyAfterCapabilities,
                Reason::NotifyBeforeEstablished(self.capabilities_sent.map(|(p, _)| p)),
            );
        }
        let Some(i) = self.notified_round(judge) else {
            let reason = if self.rounds.is_empty() {
                Reason::ExtraNotify(self.last_notified)
            } else {
                Reason::NotifyWhileWaiting
            };
            report.add(Rule::OneNotifyPerRound, reason);
            if let Data::Notify { approved, .. } = data {
                self.check_approved(judge, at, approved, report);
            }
            return;
        };
        if !self.rounds[i].acked {
            report.add(Rule::AckBeforeNotify, Reason::BeforeAck(self.rounds[i].at));
            self.rounds[i].acked = true;
        }
        self.process(i);
        let round = self
            .rounds
            .remove(i)
            .unwrap_or_else(|| unreachable!("index from notified_round"));
        self.last_notified = Some(round.at);
        match data {
            Data::Notify {
                requested,
                approved,
            } => {
                let expected = match judge.profile.requested {
                    RequestedReport::SessionTotal => self.requested.clone(),
                    RequestedReport::RoundNew if round.initial => round.list.clone(),
                    RequestedReport::RoundNew => round.new.clone().unwrap_or_default(),
                };
                if *requested != expected {
                    report.add(
                        Rule::NotifyReportsTotals,
                        Reason::WrongRequested {
                            reported: requested.clone(),
                            expected,
                            round: round.at,
                        },
                    );
                }
                self.check_approved(judge, at, approved, report);
            }
            _ => report.add(Rule::NotifyReportsTotals, Reason::NotifyWithoutLists),
        }
        self.start_rounds(judge);
    }

    /// The round a notify ends: the front one (sequential), or the oldest one not waiting for
    /// the user (parallel: a round waiting for the user ends with the decision, so a notify while
    /// every open round waits is one too many).
    fn notified_round(&self, judge: &Judge) -> Option<usize> {
        if self.rounds.is_empty() {
            return None;
        }
        match judge.profile.concurrency {
            Concurrency::Sequential => Some(0),
            Concurrency::Parallel => self
                .rounds
                .iter()
                .position(|r| r.prompt != PromptState::Open),
        }
    }

    fn check_approved(
        &mut self,
        judge: &Judge,
        at: Pos,
        approved: &CapSet,
        report: &mut Report<'_, '_>,
    ) {
        let lost = self.approved.difference(approved);
        if !lost.is_empty() {
            report.add(
                Rule::ApprovalsNeverShrink,
                Reason::Shrinks(lost, self.approved_at.unwrap_or(at)),
            );
        }
        let unrequested = approved.difference(&self.requested);
        if !unrequested.is_empty() {
            report.add(
                Rule::ApprovedSubsetOfRequested,
                Reason::NotRequested(unrequested),
            );
        }
        if judge.prompts_recorded {
            let covered = self
                .approved
                .union(&judge.auto_approve)
                .union(&self.user_approved);
            let undecided = approved.difference(&covered);
            if !undecided.is_empty() {
                report.add(Rule::ApprovalNeedsDecision, Reason::Undecided(undecided));
            }
        }
        self.approved = approved.clone();
        self.approved_at = Some(at);
    }

    fn on_client_response(
        &mut self,
        ledger: &mut Ledger,
        judge: &Judge,
        msg: &Msg,
        reply: &Reply,
        report: &mut Report<'_, '_>,
    ) {
        let Some(i) = self.widget_open.iter().position(|o| o.id == msg.id) else {
            return if ledger.widget_answered.contains(msg.id.0) {
                report.add(Rule::ExactlyOneResponse, Reason::AnsweredAgain)
            } else {
                report.add(Rule::ResponseMatchesRequest, Reason::AnswersNothing)
            };
        };
        let Some(open) = self.widget_open.remove(i) else {
            return;
        };
        ledger.note(Noted::Answered(open.id));
        if open.action != msg.action {
            report.add(Rule::ResponseMatchesRequest, Reason::WrongAction(open.at));
        }
        match open.owed {
            Owed::Any => {}
            Owed::Ack => {
                let round = self
                    .rounds
                    .iter()
                    .position(|r| r.request == Some(open.id) && !r.acked);
                if reply.is_error() {
                    if !judge.may_rate_limit() {
                        report.add(Rule::AcknowledgeRequest, Reason::Refused(open.at));
                    }
                    if let Some(r) = round {
                        self.rounds.remove(r);
                    }
                } else if let Some(r) = round {
                    self.rounds[r].acked = true;
                    self.start_rounds(judge);
                }
            }
            Owed::ErrorEarly if !reply.is_error() => report.add(
                Rule::NoRequestBeforeSession,
                Reason::EarlyNotRefused(open.at),
            ),
            Owed::ErrorUnsupported if !reply.is_error() => {
                report.add(Rule::AcknowledgeRequest, Reason::NotRefused(open.at))
            }
            Owed::ErrorEarly | Owed::ErrorUnsupported => {}
            Owed::Versions => match reply {
                Reply::Versions { msc2974 } => {
                    let expected = judge.profile.reexchange.advertised();
                    if *msc2974 != expected {
                        report.add(
                            Rule::AdvertisesVersions,
                            Reason::Versions {
                                expected,
                                request: open.at,
                            },
                        );
                    }
                }
                _ => report.add(Rule::AdvertisesVersions, Reason::NoVersions(open.at)),
            },
            Owed::Gated(permitting) => {
                if !reply.is_error() && !self.approved.intersects(&permitting) {
                    report.add(Rule::GatedActionNeedsCapability, Reason::Ungated(open.at));
                }
            }
        }
    }

    fn on_prompt(&mut self, judge: &Judge, caps: &CapSet, report: &mut Report<'_, '_>) {
        let Some(i) = self
            .rounds
            .iter()
            .position(|r| r.prompt == PromptState::None)
        else {
            self.prompts.push_back(OpenPrompt {
                caps: caps.clone(),
                has_round: false,
            });
            return report.add(Rule::NoPromptWithoutNew, Reason::PromptWithoutRound);
        };
        let at = self.rounds[i].at;
        if !self.rounds[i].acked {
            report.add(Rule::AckBeforeNotify, Reason::BeforeAck(at));
        }
        if judge.profile.concurrency == Concurrency::Sequential && i > 0 {
            report.add(
                Rule::RoundsInOrder,
                Reason::OutOfOrder(at, self.rounds[0].at),
            );
        }
        self.process(i);
        let round = &mut self.rounds[i];
        let new = round
            .new
            .as_ref()
            .unwrap_or_else(|| unreachable!("processed above"));
        if new.is_empty() {
            report.add(Rule::NoPromptWithoutNew, Reason::NothingNew(at));
        } else {
            let not_new = caps.difference(new);
            if !not_new.is_empty() {
                report.add(Rule::PromptOnlyNew, Reason::NotNew(not_new, at));
            }
        }
        round.prompt = PromptState::Open;
        self.prompts.push_back(OpenPrompt {
            caps: caps.clone(),
            has_round: true,
        });
    }

    fn on_decision(&mut self, caps: &CapSet, report: &mut Report<'_, '_>) -> Result<(), BadEvent> {
        let prompt = self
            .prompts
            .pop_front()
            .ok_or(BadEvent::DecisionWithoutPrompt)?;
        self.user_approved
            .union_with(&caps.intersection(&prompt.caps));
        if prompt.has_round {
            if let Some(round) = self
                .rounds
                .iter_mut()
                .find(|r| r.prompt == PromptState::Open)
            {
                round.prompt = PromptState::Decided;
            }
        }
        if let Some(waiting) = self.rounds.iter().find(|r| !r.acked) {
            report.add(Rule::AckBeforeNotify, Reason::DecisionBeforeAck(waiting.at));
        }
        Ok(())
    }

    /// The hidden events that could come next where prompts are not recorded: a prompt for the
    /// next round that may prompt (for its new capabilities), and a decision on the oldest open
    /// prompt (approving nothing: hidden decisions are not judged). Used by the validator's
    /// search for an explanation of a wire-only trace.
    pub fn hidden_moves(&self, judge: &Judge) -> (Option<CapSet>, bool) {
        let sequential = judge.profile.concurrency == Concurrency::Sequential;
        let prompt = self
            .rounds
            .iter()
            .position(|r| r.prompt == PromptState::None)
            .filter(|&i| !sequential || i == 0)
            .and_then(|i| {
                let r = &self.rounds[i];
                if !r.acked {
                    return None;
                }
                let new = r
                    .new
                    .clone()
                    .unwrap_or_else(|| r.list.difference(&self.approved));
                (!new.is_empty()).then_some(new)
            });
        (prompt, self.prompt_open())
    }
}

/// The request ids of a session that the rules must remember for as long as it lasts: the
/// client's own (`unique-request-ids`, where reuse is never allowed) and the widget's that were
/// answered (`exactly-one-response`). They are fixed by the wire alone, so states that explain
/// the same wire differently can share one ledger (see [`Observer::observe_with`]). What an
/// event adds is noted and recorded by [`Ledger::commit`], so that every state judges the event
/// against the ledger as it was before it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ledger {
    client_used: capneg_reference::bitset::BitSet,
    widget_answered: capneg_reference::bitset::BitSet,
    noted: Option<Noted>,
}

/// An id an event adds to the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Noted {
    ClientId(Id),
    Answered(Id),
}

impl Ledger {
    fn note(&mut self, noted: Noted) {
        self.noted = Some(noted);
    }

    /// Records what the last event noted.
    pub fn commit(&mut self) {
        match self.noted.take() {
            Some(Noted::ClientId(id)) => {
                self.client_used.insert(id.0);
            }
            Some(Noted::Answered(id)) => {
                self.widget_answered.insert(id.0);
            }
            None => {}
        }
    }
}

/// Collects the violations of the checked rules.
struct Report<'j, 'o> {
    judge: &'j Judge,
    out: &'o mut Vec<Violation>,
}

impl Report<'_, '_> {
    fn add(&mut self, rule: Rule, reason: Reason) {
        if self.judge.rules.contains(rule) {
            self.out.push(Violation { rule, reason });
        }
    }
}

impl CapSets for Observer {
    fn each_set(&self, f: &mut dyn FnMut(&CapSet)) {
        f(&self.approved);
        f(&self.requested);
        f(&self.user_approved);
        for r in self.rounds.iter() {
            f(&r.list);
            r.new.each_set(f);
        }
        for p in self.prompts.iter() {
            f(&p.caps);
        }
        for o in self.widget_open.iter() {
            if let Owed::Gated(s) = &o.owed {
                f(s);
            }
        }
    }
    fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut CapSet)) {
        self.approved.each_set_mut(f);
        self.requested.each_set_mut(f);
        self.user_approved.each_set_mut(f);
        for r in self.rounds.iter_mut() {
            r.list.each_set_mut(f);
            r.new.each_set_mut(f);
        }
        for p in self.prompts.iter_mut() {
            p.caps.each_set_mut(f);
        }
        for o in self.widget_open.iter_mut() {
            if let Owed::Gated(s) = &mut o.owed {
                f(s);
            }
        }
    }
}
