//! The rules as one observer of events (docs/spec.md §4, §5).
//!
//! The [`Observer`] is fed the events of one session in order: the messages the client and the
//! widget posted, the client's prompts and the user's decisions, the widget's view and its
//! application's requests (docs/spec.md §9.1). It keeps the least state the rules need and names
//! every rule an event breaks, with a [`Reason`] that cites the earlier event involved.
//! End-of-trace obligations (`exactly-one-response`, `one-notify-per-round`,
//! `widget-exactly-one-response`) are checked by [`Observer::finish`].
//!
//! The client's rules (docs/spec.md §4) and the widget's (§9.2) are judged by the same observer
//! over the same events: which are reported is the [`Judge`]'s rule set.
//!
//! This is the only place a rule is written: the model checker, the validator, the vectors, the
//! property tests and the differential driver all judge through it.
//!
//! Rounds (docs/spec.md §2): round 0 opens when the widget answers `capabilities`; a re-exchange round
//! opens when the widget sends a `request_capabilities` the profile serves, and is accepted when
//! the client acks it. A round is *processed* when it is accepted (parallel profiles) or when it
//! reaches the front of the queue (sequential profiles): its new capabilities are computed then,
//! against the approved set of the latest notify. A prompt belongs to the oldest open round that
//! has not prompted; a notify to the front round (sequential) or to the oldest round not waiting
//! for the user (parallel).

use super::reason::{BadEvent, Line, Position, Reason, Violation};
use super::{Rule, RuleSet, Side};
use capneg_reference::client::round_zero_list;
use capneg_reference::fifo::Fifo;
use capneg_reference::msg::{Action, Api, Body, Data, Msg, Reply, ReqId};
use capneg_reference::pack::{Pack, Packer, Unpacker};
use capneg_reference::profile::{Concurrency, IdReuse, Profile, RateLimit, RequestedReport};
use capneg_reference::{CapSet, CapSets, Event, Settings};

/// What the rules are judged against: the profile's reading, the session's settings, and which
/// rules are checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Judge {
    /// The reading of the MSCs the rules follow.
    pub profile: Profile,
    /// The rules checked (by default those that apply to the profile).
    pub rules: RuleSet,
    /// The session's settings (`autoApprove` for `approval-needs-decision`, `rateLimit` for
    /// `acknowledge-request`).
    pub settings: Settings,
    /// Whether prompts and decisions are in the trace (`approval-needs-decision` is checked
    /// only then).
    pub prompts_recorded: bool,
}

impl Judge {
    /// The client's rules of `profile`, prompts recorded, default settings.
    pub fn new(profile: Profile) -> Self {
        Judge::for_side(profile, Side::Client)
    }

    /// The rules of `side` under `profile`, prompts recorded, default settings.
    pub fn for_side(profile: Profile, side: Side) -> Self {
        Judge {
            profile,
            rules: RuleSet::of(&profile, side),
            settings: Settings::default(),
            prompts_recorded: true,
        }
    }

    fn may_rate_limit(&self) -> bool {
        self.settings.rate_limit && self.profile.rate_limit == RateLimit::WhereDeclared
    }
}

/// Where a round comes from (docs/spec.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Origin {
    /// Round 0: the widget's answer to `capabilities`.
    Initial,
    /// A re-exchange: the widget's `request_capabilities` with this id (MSC2974).
    Request(ReqId),
}

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
struct Round<P> {
    /// Where it opened: the widget's request, or its answer to `capabilities`.
    at: P,
    /// Round 0, or the request of a re-exchange round.
    origin: Origin,
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
struct OpenRequest<P> {
    at: P,
    id: ReqId,
    action: Action,
    owed: Owed,
}

/// The observer's state for one session.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Observer<P = Line> {
    /// Where the client sent `capabilities`, and with which id.
    capabilities_sent: Option<(P, ReqId)>,
    established: bool,
    /// The approved set of the latest notify, and where it was.
    approved: CapSet,
    approved_at: Option<P>,
    /// The requested total: the lists of all rounds processed so far.
    requested: CapSet,
    /// Everything the user approved in a prompt.
    user_approved: CapSet,
    rounds: Fifo<Round<P>>,
    /// Prompts waiting for the user, oldest first: a decision answers the first.
    prompts: Fifo<OpenPrompt>,
    last_notified: Option<P>,
    widget_open: Fifo<OpenRequest<P>>,
    ledger: Ledger,
    client_open: Fifo<(P, ReqId, Action)>,
    /// The latest notify with lists the widget received, and its approved set: what its view
    /// must be (`widget-view-follows-notify`).
    view_expected: Option<(P, CapSet)>,
    /// The client's latest answer to the widget's `supported_api_versions`, and whether it lists
    /// `org.matrix.msc2974` (`widget-reexchange-advertised`).
    advertised: Option<(P, bool)>,
}

impl<P: Position> Default for Observer<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Position> Observer<P> {
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
            view_expected: None,
            advertised: None,
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
        at: P,
        event: &Event,
        out: &mut Vec<Violation<P>>,
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
        at: P,
        event: &Event,
        out: &mut Vec<Violation<P>>,
    ) -> Result<(), BadEvent> {
        let mut report = Report { judge, out };
        match event {
            Event::Widget(Ok(msg)) => self.on_widget(judge, at, msg, &mut report),
            Event::Widget(Err(fault)) => {
                report.add(Rule::WidgetWellFormedMessage, Reason::Malformed(*fault))
            }
            Event::Client(Err(fault)) => {
                report.add(Rule::WellFormedMessage, Reason::Malformed(*fault))
            }
            Event::Client(Ok(msg)) => self.on_client(ledger, judge, at, msg, &mut report),
            Event::Prompt(caps) => self.on_prompt(judge, caps, &mut report),
            Event::Decision(caps) => return self.on_decision(caps, &mut report),
            Event::View(seen) => self.on_view(seen, &mut report),
            // The application's requests oblige nothing by themselves: what the widget sends
            // for them is judged as it is sent.
            Event::App(_) => {}
        }
        Ok(())
    }

    /// The end of the trace: widget requests left unanswered, rounds left without a notify that
    /// are not waiting for the user, client requests the widget left unanswered.
    pub fn finish(&self, judge: &Judge, out: &mut Vec<Violation<P>>) {
        let mut report = Report { judge, out };
        for open in self.widget_open.iter() {
            report.add(Rule::ExactlyOneResponse, Reason::NeverAnswered(open.at));
        }
        for &(at, _, _) in self.client_open.iter() {
            report.add(
                Rule::WidgetExactlyOneResponse,
                Reason::NeverAnsweredByWidget(at),
            );
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
}

/// A session being judged: the observer, and every violation found so far with the line of
/// the event that broke the rule. Everything that judges a trace as it goes (the driver's sides,
/// the tests) or a whole path at once ([`Judging::path`]) feeds its events through it.
#[derive(Clone, Debug)]
pub struct Judging {
    judge: Judge,
    observer: Observer<Line>,
    found: Vec<Violation>,
    violations: Vec<(Line, Violation)>,
}

impl Judging {
    /// A session judged by `judge`, before its first event.
    pub fn new(judge: Judge) -> Judging {
        Judging {
            judge,
            observer: Observer::new(),
            found: Vec::new(),
            violations: Vec::new(),
        }
    }

    /// The judge.
    pub fn judge(&self) -> &Judge {
        &self.judge
    }

    /// The observer.
    pub fn observer(&self) -> &Observer<Line> {
        &self.observer
    }

    /// Every violation so far, with its line.
    pub fn violations(&self) -> &[(Line, Violation)] {
        &self.violations
    }

    /// Takes the event on line `at`.
    pub fn observe(&mut self, at: Line, event: &Event) -> Result<(), BadEvent> {
        let taken = self
            .observer
            .observe(&self.judge, at, event, &mut self.found);
        self.violations
            .extend(self.found.drain(..).map(|v| (at, v)));
        taken
    }

    /// The obligations left open if the session ended before line `end`, without ending it.
    pub fn open_at(&self, end: Line) -> Vec<(Line, Violation)> {
        let mut found = Vec::new();
        self.observer.finish(&self.judge, &mut found);
        found.into_iter().map(|v| (end, v)).collect()
    }

    /// Ends the session before line `end`: the obligations left open are violations there.
    pub fn finish(&mut self, end: Line) {
        self.observer.finish(&self.judge, &mut self.found);
        self.violations
            .extend(self.found.drain(..).map(|v| (end, v)));
    }

    /// Judges a path of events from the start of a session, the `i`-th event on line
    /// `first + i`: every violation with the line of the event that broke the rule, and, unless
    /// `partial`, those left open at the end with the line after the last event. An event the
    /// observer cannot take (a decision with no open prompt) ends the path with an error naming
    /// its line.
    pub fn path<'e>(
        judge: &Judge,
        first: Line,
        events: impl IntoIterator<Item = &'e Event>,
        partial: bool,
    ) -> Result<Vec<(Line, Violation)>, (Line, BadEvent)> {
        let mut judging = Judging::new(judge.clone());
        let mut at = first;
        for event in events {
            judging.observe(at, event).map_err(|bad| (at, bad))?;
            at = at.next();
        }
        if !partial {
            judging.finish(at);
        }
        Ok(judging.violations)
    }
}

impl<P: Position> Observer<P> {
    fn on_widget(&mut self, judge: &Judge, at: P, msg: &Msg, report: &mut Report<'_, '_, P>) {
        if msg.foreign {
            // The client ignores it; the widget's rules do not.
            return report.foreign(
                &msg.body,
                Rule::WidgetResponseMatchesRequest,
                Rule::WidgetWellFormedMessage,
            );
        }
        match (msg.api, &msg.body) {
            (Api::FromWidget, Body::Request(data)) => {
                self.judge_widget_request(msg, report);
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
                    // Answers nothing: the client ignores it.
                    let reason = match self.client_open.iter().find(|o| o.1 == msg.id) {
                        Some(&(request, _, _)) => Reason::WrongAction(request),
                        None => Reason::AnswersNoClientRequest,
                    };
                    return report.add(Rule::WidgetResponseMatchesRequest, reason);
                };
                let Some((request, _, _)) = self.client_open.remove(i) else {
                    return;
                };
                if msg.action == Action::NotifyCapabilities && *reply != Reply::Ack {
                    report.add(Rule::WidgetAcksNotify, Reason::NotifyNotAcked(request));
                }
                if msg.action == Action::Capabilities
                    && !self.established
                    && self.capabilities_sent.map(|(_, id)| id) == Some(msg.id)
                {
                    self.established = true;
                    self.rounds.push_back(Round {
                        at,
                        origin: Origin::Initial,
                        list: round_zero_list(reply),
                        acked: true,
                        new: None,
                        prompt: PromptState::None,
                    });
                    self.start_rounds(judge);
                }
            }
            (Api::ToWidget, Body::Request(_)) => {
                report.add(Rule::WidgetWellFormedMessage, Reason::RequestToWidgetApi)
            }
            (Api::FromWidget, Body::Response(_)) => report.add(
                Rule::WidgetResponseMatchesRequest,
                Reason::WidgetAnswersOwnRequest,
            ),
        }
    }

    /// The widget's rules on a request it starts: its id (`widget-unique-request-ids`), and
    /// for a re-exchange, whether it may ask yet (`widget-reexchange-after-session`,
    /// `widget-reexchange-advertised`, docs/spec.md §9.4).
    fn judge_widget_request(&self, msg: &Msg, report: &mut Report<'_, '_, P>) {
        if let Some(open) = self.widget_open.iter().find(|o| o.id == msg.id) {
            report.add(
                Rule::WidgetUniqueRequestIds,
                Reason::ReusedId(Some(open.at)),
            );
        }
        if let Action::RequestCapabilities(_) = msg.action {
            if !self.established {
                report.add(
                    Rule::WidgetReexchangeAfterSession,
                    Reason::ReexchangeBeforeSession(self.capabilities_sent.map(|(p, _)| p)),
                );
            }
            match self.advertised {
                Some((_, true)) => {}
                Some((answer, false)) => report.add(
                    Rule::WidgetReexchangeAdvertised,
                    Reason::ReexchangeNotAdvertised(Some(answer)),
                ),
                None => report.add(
                    Rule::WidgetReexchangeAdvertised,
                    Reason::ReexchangeNotAdvertised(None),
                ),
            }
        }
    }

    /// The widget's view: once it received a notify, the approved set of the latest one.
    fn on_view(&mut self, seen: &CapSet, report: &mut Report<'_, '_, P>) {
        if let Some((notify, expected)) = &self.view_expected {
            if seen != expected {
                report.add(
                    Rule::WidgetViewFollowsNotify,
                    Reason::WrongView {
                        seen: seen.clone(),
                        expected: expected.clone(),
                        notify: *notify,
                    },
                );
            }
        }
    }

    /// What the client owes a new widget request; opens its round if it is a re-exchange.
    fn owed(&mut self, judge: &Judge, at: P, msg: &Msg, data: &Data) -> Owed {
        let profile = &judge.profile;
        match (msg.action, data) {
            (Action::RequestCapabilities(name), Data::Capabilities(list))
                if profile.reexchange.accepts(name) =>
            {
                if self.established || profile.processes_early_requests() {
                    self.rounds.push_back(Round {
                        at,
                        origin: Origin::Request(msg.id),
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
        at: P,
        msg: &Msg,
        report: &mut Report<'_, '_, P>,
    ) {
        if msg.foreign {
            return report.foreign(
                &msg.body,
                Rule::ResponseMatchesRequest,
                Rule::WellFormedMessage,
            );
        }
        match (msg.api, &msg.body) {
            (Api::ToWidget, Body::Request(data)) => {
                self.on_client_request(ledger, judge, at, msg, data, report)
            }
            (Api::FromWidget, Body::Response(reply)) => {
                self.on_client_response(ledger, judge, at, msg, reply, report)
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
        at: P,
        msg: &Msg,
        data: &Data,
        report: &mut Report<'_, '_, P>,
    ) {
        let open = self.client_open.iter().find(|o| o.1 == msg.id).map(|o| o.0);
        let reused = match judge.profile.id_reuse {
            IdReuse::NeverInSession => msg
                .id
                .used()
                .is_some_and(|n| ledger.client_used.contains(n)),
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
            Action::NotifyCapabilities => {
                if let Data::Notify { approved, .. } = data {
                    // docs/spec.md §9.4: a notify binds the widget's view whether or not the
                    // client advertised MSC2871, and also when it approves less.
                    self.view_expected = Some((at, approved.clone()));
                }
                self.on_notify(judge, at, data, report)
            }
            _ => {}
        }
    }

    fn on_notify(&mut self, judge: &Judge, at: P, data: &Data, report: &mut Report<'_, '_, P>) {
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
            match data {
                Data::Notify { approved, .. } => self.check_approved(judge, at, approved, report),
                _ => report.add(Rule::NotifyReportsTotals, Reason::NotifyWithoutLists),
            }
            return;
        };
        if !self.rounds[i].acked {
            report.add(Rule::AckBeforeNotify, Reason::BeforeAck(self.rounds[i].at));
            self.rounds[i].acked = true;
        }
        self.process(i);
        let round = self.close_round(i);
        self.last_notified = Some(round.at);
        match data {
            Data::Notify {
                requested,
                approved,
            } => {
                let expected = match judge.profile.requested {
                    RequestedReport::SessionTotal => self.requested.clone(),
                    RequestedReport::RoundNew if round.origin == Origin::Initial => {
                        round.list.clone()
                    }
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

    /// Removes the open round at `i`. Where its prompt is still waiting for the user, the prompt
    /// stays open without a round (the user still answers it): rounds whose prompt is open and
    /// prompts that have a round correspond one to one, in order.
    fn close_round(&mut self, i: usize) -> Round<P> {
        if self.rounds[i].prompt == PromptState::Open {
            let nth = self
                .rounds
                .iter()
                .take(i)
                .filter(|r| r.prompt == PromptState::Open)
                .count();
            if let Some(prompt) = self.prompts.iter_mut().filter(|p| p.has_round).nth(nth) {
                prompt.has_round = false;
            }
        }
        self.rounds
            .remove(i)
            .unwrap_or_else(|| unreachable!("an open round"))
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
        at: P,
        approved: &CapSet,
        report: &mut Report<'_, '_, P>,
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
                .union(&judge.settings.auto_approve)
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
        at: P,
        msg: &Msg,
        reply: &Reply,
        report: &mut Report<'_, '_, P>,
    ) {
        let Some(i) = self.widget_open.iter().position(|o| o.id == msg.id) else {
            return if msg
                .id
                .used()
                .is_some_and(|n| ledger.widget_answered.contains(n))
            {
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
        } else if open.action == Action::SupportedApiVersions {
            // docs/spec.md §9.4: the latest answer decides; an error advertises nothing.
            let msc2974 = matches!(reply, Reply::Versions { msc2974: true });
            self.advertised = Some((at, msc2974));
        }
        match open.owed {
            Owed::Any => {}
            Owed::Ack => {
                let round = self
                    .rounds
                    .iter()
                    .position(|r| r.origin == Origin::Request(open.id) && !r.acked);
                if reply.is_error() {
                    if !judge.may_rate_limit() {
                        report.add(Rule::AcknowledgeRequest, Reason::Refused(open.at));
                    }
                    if let Some(r) = round {
                        self.close_round(r);
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

    fn on_prompt(&mut self, judge: &Judge, caps: &CapSet, report: &mut Report<'_, '_, P>) {
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

    fn on_decision(
        &mut self,
        caps: &CapSet,
        report: &mut Report<'_, '_, P>,
    ) -> Result<(), BadEvent> {
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

    /// The open rounds, oldest first, as the hidden-prompt search sees them: which is waiting
    /// for the user, which may prompt, and what a notify ending it must report as `requested`
    /// under `judge`'s profile.
    pub fn rounds_seen<'a>(&'a self, judge: &Judge) -> impl Iterator<Item = RoundSeen<'a>> + 'a {
        let requested = judge.profile.requested;
        self.rounds.iter().map(move |r| {
            // A round is processed once acked (parallel profiles): only acked rounds are ended
            // or prompted, so an unprocessed one's report is never asked for.
            let new = r.new.as_ref().unwrap_or(&r.list);
            RoundSeen {
                waiting: r.prompt == PromptState::Open,
                acked: r.acked,
                may_prompt: r.acked && r.prompt == PromptState::None && !new.is_empty(),
                expected: match requested {
                    RequestedReport::SessionTotal => None,
                    RequestedReport::RoundNew if r.origin == Origin::Initial => Some(&r.list),
                    RequestedReport::RoundNew => Some(new),
                },
            }
        })
    }

    /// Whether some open round is not acked yet (a decision now would break
    /// `ack-before-notify`).
    pub fn unacked(&self) -> bool {
        self.rounds.iter().any(|r| !r.acked)
    }
}

/// An open round as the hidden-prompt search sees it ([`Observer::rounds_seen`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundSeen<'a> {
    /// Its prompt waits for the user.
    pub waiting: bool,
    /// Its request is acked (round 0 always is).
    pub acked: bool,
    /// It has not prompted, and a prompt for it may be shown now (acked, something new).
    pub may_prompt: bool,
    /// What a notify ending it must report as `requested`, where that depends on the round
    /// (`None`: the session's requested total, whichever round it ends).
    pub expected: Option<&'a CapSet>,
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
    ClientId(ReqId),
    Answered(ReqId),
}

impl Ledger {
    fn note(&mut self, noted: Noted) {
        self.noted = Some(noted);
    }

    /// Records what the last event noted.
    pub fn commit(&mut self) {
        match self.noted.take() {
            Some(Noted::ClientId(ReqId::Used(n))) => {
                self.client_used.insert(n);
            }
            Some(Noted::Answered(ReqId::Used(n))) => {
                self.widget_answered.insert(n);
            }
            Some(Noted::ClientId(ReqId::Unused(_)) | Noted::Answered(ReqId::Unused(_))) => {}
            None => {}
        }
    }
}

/// Collects the violations of the checked rules.
struct Report<'j, 'o, P> {
    judge: &'j Judge,
    out: &'o mut Vec<Violation<P>>,
}

impl<P> Report<'_, '_, P> {
    fn add(&mut self, rule: Rule, reason: Reason<P>) {
        if self.judge.rules.contains(rule) {
            self.out.push(Violation { rule, reason });
        }
    }

    /// A message that carries another widget's id: it breaks `response` if it is a response,
    /// `request` if it is a request.
    fn foreign(&mut self, body: &Body, response: Rule, request: Rule) {
        let rule = match body {
            Body::Response(_) => response,
            Body::Request(_) => request,
        };
        self.add(rule, Reason::ForeignWidget)
    }
}

impl<P> CapSets for Observer<P> {
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
        if let Some((_, s)) = &self.view_expected {
            f(s);
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
        if let Some((_, s)) = &mut self.view_expected {
            f(s);
        }
    }
}

// The observer packed for the model checker (`capneg_reference::pack`): its positions are `()`
// there, so a packed observer holds no trace position.

impl Pack for Origin {
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            Origin::Initial => p.byte(0),
            Origin::Request(id) => {
                p.byte(1);
                id.pack(p)
            }
        }
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(2)? {
            0 => Origin::Initial,
            _ => Origin::Request(ReqId::unpack(u)?),
        })
    }
}

impl Pack for PromptState {
    fn pack(&self, p: &mut Packer<'_>) {
        p.byte(match self {
            PromptState::None => 0,
            PromptState::Open => 1,
            PromptState::Decided => 2,
        })
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(3)? {
            0 => PromptState::None,
            1 => PromptState::Open,
            _ => PromptState::Decided,
        })
    }
}

impl Pack for Owed {
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            Owed::Any => p.byte(0),
            Owed::Ack => p.byte(1),
            Owed::ErrorEarly => p.byte(2),
            Owed::ErrorUnsupported => p.byte(3),
            Owed::Versions => p.byte(4),
            Owed::Gated(permitting) => {
                p.byte(5);
                permitting.pack(p)
            }
        }
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(6)? {
            0 => Owed::Any,
            1 => Owed::Ack,
            2 => Owed::ErrorEarly,
            3 => Owed::ErrorUnsupported,
            4 => Owed::Versions,
            _ => Owed::Gated(CapSet::unpack(u)?),
        })
    }
}

impl Pack for Noted {
    fn pack(&self, p: &mut Packer<'_>) {
        let (tag, id) = match self {
            Noted::ClientId(id) => (0, id),
            Noted::Answered(id) => (1, id),
        };
        p.byte(tag);
        id.pack(p)
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(2)? {
            0 => Noted::ClientId(ReqId::unpack(u)?),
            _ => Noted::Answered(ReqId::unpack(u)?),
        })
    }
}

capneg_reference::pack_fields!(OpenPrompt { caps, has_round });
capneg_reference::pack_fields!(Round<()> {
    at,
    origin,
    list,
    acked,
    new,
    prompt
});
capneg_reference::pack_fields!(OpenRequest<()> {
    at,
    id,
    action,
    owed
});
capneg_reference::pack_fields!(Ledger {
    client_used,
    widget_answered,
    noted
});
/// Packed without `approved_at` and `last_notified`: with positions `()` they say only whether
/// a notify was seen, which only a [`Reason`] reads (the model keeps the rules broken, not the
/// reasons), so two states that differ in them alone behave alike. Unpacked, they are `None`.
impl Pack for Observer<()> {
    fn pack(&self, p: &mut Packer<'_>) {
        self.capabilities_sent.pack(p);
        self.established.pack(p);
        self.approved.pack(p);
        self.requested.pack(p);
        self.user_approved.pack(p);
        self.rounds.pack(p);
        self.prompts.pack(p);
        self.widget_open.pack(p);
        self.ledger.pack(p);
        self.client_open.pack(p);
        self.view_expected.pack(p);
        self.advertised.pack(p);
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        let mut observer = Observer::new();
        observer.unpack_into(u)?;
        Some(observer)
    }
    fn unpack_into(&mut self, u: &mut Unpacker<'_>) -> Option<()> {
        self.capabilities_sent.unpack_into(u)?;
        self.established.unpack_into(u)?;
        self.approved.unpack_into(u)?;
        self.approved_at = None;
        self.requested.unpack_into(u)?;
        self.user_approved.unpack_into(u)?;
        self.rounds.unpack_into(u)?;
        self.prompts.unpack_into(u)?;
        self.last_notified = None;
        self.widget_open.unpack_into(u)?;
        self.ledger.unpack_into(u)?;
        self.client_open.unpack_into(u)?;
        self.view_expected.unpack_into(u)?;
        self.advertised.unpack_into(u)
    }
}
