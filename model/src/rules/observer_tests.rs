//! Unit tests of the observer (docs/spec.md §4): one test per [`Reason`] a rule gives, and one
//! per arm where an optional position or a flag changes the reason (`ReusedId`,
//! `NotifyBeforeEstablished`, `ExtraNotify`, `Versions`, the three readings of `requested`); one
//! test per rule showing that a rule left out of [`Judge::rules`] reports nothing; and tests of
//! the end-of-trace obligations (§4.1, [`Observer::finish`]), of [`BadEvent`], of
//! [`Judging::path`] and of [`Reason::describe`].
//!
//! Sessions are written with [`Session`], a builder that reads like the protocol:
//!
//! - `c_request(id, action, data)`: the client starts a request (`api: "toWidget"`, id `c{id}`);
//! - `c_answer(id, action, reply)`: the client answers the widget's request `w{id}`
//!   (`api: "fromWidget"`); `ack` and `error` are its two usual answers;
//! - `w_request(id, action, data)` and `w_answer(id, action, reply)`: the same for the widget;
//! - `prompt(caps)` and `decision(caps)`: the client asks the user, the user answers;
//! - shorthands for the common steps: `established(list)` (the client's `capabilities` as `c0`
//!   and the widget's answer, where round 0 opens), `notify(id, requested, approved)` and
//!   `reexchange(id, list)` (the widget's `org.matrix.msc2974.request_capabilities`).
//!
//! Capability sets are masks over three capabilities [`A`], [`B`] and [`C`]. Each event is placed
//! on the line it would have in a trace after its `session` line, the first on line 2, and every
//! method returns the line of its event, so that a test names the lines its reasons cite.
//! [`Session::last_breaks`] judges the session with a fresh observer, checks that no event before
//! the last broke a rule and returns what the last one broke; [`Session::path`] judges it whole,
//! with the obligations left open at its end.

use super::{BadEvent, Judge, Judging, Line, Observer, Reason, Rule, Violation};
use capneg_reference::msg::{
    Action, ActionName, Api, Data, Fault, Field, Msg, ReexchangeName, Refusal, Reply, ReqId,
};
use capneg_reference::{CapSet, ClientMsg, Event, Interner, Profile};
use std::collections::BTreeSet;

/// No capability.
const NONE: u64 = 0;
/// The first capability of a session (`m.always_on_screen` in [`names`]).
const A: u64 = 1 << 0;
/// The second capability.
const B: u64 = 1 << 1;
/// The third capability.
const C: u64 = 1 << 2;

/// MSC2974's re-exchange under its unstable name: served by `msc` and `widget-api`.
const REEXCHANGE: Action = Action::RequestCapabilities(ReexchangeName::Unstable);
/// MSC2974's re-exchange under its stable name: served by `msc` only.
const STABLE_REEXCHANGE: Action = Action::RequestCapabilities(ReexchangeName::Stable);

/// The line of a session's first event: line 1 is the trace's `session` line.
const FIRST: u32 = 2;

/// No rule broken by an event.
const NOTHING: [Violation; 0] = [];
/// No rule broken on any line.
const CLEAN: [(Line, Violation); 0] = [];

fn caps(mask: u64) -> CapSet {
    CapSet::from_mask(mask)
}

fn line(n: u32) -> Line {
    Line::new(n).expect("lines count from 1")
}

fn broke(rule: Rule, reason: Reason) -> Violation {
    Violation { rule, reason }
}

/// A request the client starts (`api: "toWidget"`), with the id `c{id}`.
fn client_request(id: u32, action: Action, data: Data) -> Msg {
    Msg::request(Api::ToWidget, ReqId::Used(id), action, data)
}

/// The client's answer to the widget's request `w{id}` (`api: "fromWidget"`).
fn client_answer(id: u32, action: Action, reply: Reply) -> Msg {
    Msg::response(Api::FromWidget, ReqId::Used(id), action, reply)
}

/// The same message, addressed to another widget.
fn foreign(msg: Msg) -> Msg {
    Msg {
        foreign: true,
        ..msg
    }
}

/// The names of [`A`], [`B`] and [`C`], for [`Reason::describe`].
fn names() -> Interner {
    Interner::with_names([
        "m.always_on_screen",
        "org.matrix.msc2762.timeline:*",
        "org.matrix.msc2762.send.event:m.room.message",
    ])
}

/// A session being written, and the judge it is judged by.
struct Session {
    judge: Judge,
    events: Vec<Event>,
}

impl Session {
    fn new(profile: Profile) -> Session {
        Session {
            judge: Judge::new(profile),
            events: Vec::new(),
        }
    }

    fn msc() -> Session {
        Session::new(Profile::MSC)
    }

    fn widget_api() -> Session {
        Session::new(Profile::WIDGET_API)
    }

    fn legacy() -> Session {
        Session::new(Profile::LEGACY)
    }

    /// The session's `autoApprove`.
    fn auto_approve(mut self, mask: u64) -> Session {
        self.judge.settings.auto_approve = caps(mask);
        self
    }

    /// The session declares `rateLimit`.
    fn rate_limit(mut self) -> Session {
        self.judge.settings.rate_limit = true;
        self
    }

    /// The trace holds the wire only.
    fn prompts_hidden(mut self) -> Session {
        self.judge.prompts_recorded = false;
        self
    }

    /// Adds an event; its line.
    fn push(&mut self, event: Event) -> Line {
        self.events.push(event);
        line(FIRST - 1 + self.events.len() as u32)
    }

    /// The client posts `msg`, well-formed or not.
    fn client(&mut self, msg: ClientMsg) -> Line {
        self.push(Event::Client(msg))
    }

    fn c_request(&mut self, id: u32, action: Action, data: Data) -> Line {
        self.client(Ok(client_request(id, action, data)))
    }

    fn c_answer(&mut self, id: u32, action: Action, reply: Reply) -> Line {
        self.client(Ok(client_answer(id, action, reply)))
    }

    /// The widget starts a request (`api: "fromWidget"`), with the id `w{id}`.
    fn w_request(&mut self, id: u32, action: Action, data: Data) -> Line {
        let msg = Msg::request(Api::FromWidget, ReqId::Used(id), action, data);
        self.push(Event::Widget(Ok(msg)))
    }

    /// The widget answers the client's request `c{id}` (`api: "toWidget"`).
    fn w_answer(&mut self, id: u32, action: Action, reply: Reply) -> Line {
        let msg = Msg::response(Api::ToWidget, ReqId::Used(id), action, reply);
        self.push(Event::Widget(Ok(msg)))
    }

    fn prompt(&mut self, mask: u64) -> Line {
        self.push(Event::Prompt(caps(mask)))
    }

    fn decision(&mut self, mask: u64) -> Line {
        self.push(Event::Decision(caps(mask)))
    }

    /// The client sends `capabilities` as `c0` and the widget answers with `list`: the line of
    /// the answer, where round 0 opens.
    fn established(&mut self, list: u64) -> Line {
        self.c_request(0, Action::Capabilities, Data::Empty);
        self.w_answer(0, Action::Capabilities, Reply::Capabilities(caps(list)))
    }

    /// The client sends `notify_capabilities` as `c{id}`.
    fn notify(&mut self, id: u32, requested: u64, approved: u64) -> Line {
        let data = Data::Notify {
            requested: caps(requested),
            approved: caps(approved),
        };
        self.c_request(id, Action::NotifyCapabilities, data)
    }

    /// The widget asks for `list` as `w{id}` (MSC2974, unstable name).
    fn reexchange(&mut self, id: u32, list: u64) -> Line {
        self.w_request(id, REEXCHANGE, Data::Capabilities(caps(list)))
    }

    /// The client answers `w{id}` with `{}`.
    fn ack(&mut self, id: u32, action: Action) -> Line {
        self.c_answer(id, action, Reply::Ack)
    }

    /// The client answers `w{id}` with an error.
    fn error(&mut self, id: u32, action: Action) -> Line {
        self.c_answer(id, action, Reply::Error(Refusal::Other))
    }

    /// The line after the last event: where end-of-trace obligations are reported.
    fn end(&self) -> Line {
        line(FIRST + self.events.len() as u32)
    }

    /// Judges the events with a fresh observer: checks that none before the last broke a rule,
    /// and returns the rules the last one broke.
    fn last_breaks(&self) -> Vec<Violation> {
        let (last, before) = self.events.split_last().expect("a session with events");
        let mut judging = Judging::new(self.judge.clone());
        let mut at = line(FIRST);
        for event in before {
            judging
                .observe(at, event)
                .expect("an event the observer takes");
            at = at.next();
        }
        assert_eq!(
            judging.violations(),
            CLEAN,
            "the events before the last break no rule"
        );
        judging
            .observe(at, last)
            .expect("an event the observer takes");
        judging
            .violations()
            .iter()
            .map(|(on, v)| {
                assert_eq!(*on, at, "a violation is reported on the line of its event");
                v.clone()
            })
            .collect()
    }

    /// Judges the whole session: every violation with its line, and, unless `partial`, the
    /// obligations left open at its end.
    fn path(&self, partial: bool) -> Vec<(Line, Violation)> {
        Judging::path(&self.judge, line(FIRST), &self.events, partial)
            .expect("events the observer takes")
    }

    /// Judges the session: checks that no event broke a rule, and returns the obligations left
    /// open at its end.
    fn end_breaks(&self) -> Vec<Violation> {
        let end = self.end();
        self.path(false)
            .into_iter()
            .map(|(on, v)| {
                assert_eq!(on, end, "only end-of-trace obligations: {v:?}");
                v
            })
            .collect()
    }

    /// Judges the session with every rule of its profile, and again without `rule`: the first
    /// judgement must break `rule`, the second must report exactly what the first did for the
    /// other rules. Returns the second.
    fn without(self, rule: Rule) -> Vec<(Line, Violation)> {
        let all = self.path(false);
        assert!(
            all.iter().any(|(_, v)| v.rule == rule),
            "the session breaks {rule}: {all:?}"
        );
        let others: Vec<_> = all.into_iter().filter(|(_, v)| v.rule != rule).collect();
        let mut session = self;
        session.judge.rules = session.judge.rules.iter().filter(|&r| r != rule).collect();
        let judged = session.path(false);
        assert_eq!(judged, others, "only {rule} is left out");
        judged
    }
}

// well-formed-message

#[test]
fn malformed_client_message() {
    let mut s = Session::msc();
    s.client(Err(Fault::Missing(Field::Data)));
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::WellFormedMessage,
            Reason::Malformed(Fault::Missing(Field::Data))
        )]
    );
}

#[test]
fn client_request_with_from_widget_api() {
    let mut s = Session::msc();
    s.client(Ok(Msg {
        api: Api::FromWidget,
        ..client_request(0, Action::Capabilities, Data::Empty)
    }));
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::WellFormedMessage, Reason::RequestFromWidgetApi)]
    );
}

#[test]
fn client_request_to_another_widget() {
    let mut s = Session::msc();
    s.client(Ok(foreign(client_request(
        0,
        Action::Capabilities,
        Data::Empty,
    ))));
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::WellFormedMessage, Reason::ForeignWidget)]
    );
}

// response-matches-request

#[test]
fn client_response_to_another_widget() {
    let mut s = Session::msc();
    let request = s.w_request(0, Action::ContentLoaded, Data::Empty);
    let answer = s.client(Ok(foreign(client_answer(
        0,
        Action::ContentLoaded,
        Reply::Ack,
    ))));
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::ResponseMatchesRequest, Reason::ForeignWidget)]
    );
    // It answers nothing of this session: the request is still owed its answer.
    assert_eq!(
        s.path(false),
        [
            (
                answer,
                broke(Rule::ResponseMatchesRequest, Reason::ForeignWidget)
            ),
            (
                s.end(),
                broke(Rule::ExactlyOneResponse, Reason::NeverAnswered(request))
            ),
        ]
    );
}

#[test]
fn client_response_with_to_widget_api() {
    let mut s = Session::msc();
    s.client(Ok(Msg::response(
        Api::ToWidget,
        ReqId::Used(0),
        Action::Capabilities,
        Reply::Ack,
    )));
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::ResponseMatchesRequest,
            Reason::AnswersOwnRequest
        )]
    );
}

#[test]
fn client_response_to_no_request() {
    let mut s = Session::msc();
    s.ack(0, Action::ContentLoaded);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::ResponseMatchesRequest, Reason::AnswersNothing)]
    );
}

#[test]
fn client_response_with_another_action() {
    let mut s = Session::msc();
    let request = s.w_request(0, Action::ContentLoaded, Data::Empty);
    s.ack(0, Action::Other(ActionName(0)));
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::ResponseMatchesRequest,
            Reason::WrongAction(request)
        )]
    );
}

// exactly-one-response

#[test]
fn second_answer_to_a_widget_request() {
    let mut s = Session::msc();
    s.w_request(0, Action::ContentLoaded, Data::Empty);
    s.ack(0, Action::ContentLoaded);
    s.ack(0, Action::ContentLoaded);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::ExactlyOneResponse, Reason::AnsweredAgain)]
    );
}

#[test]
fn widget_request_never_answered() {
    let mut s = Session::msc();
    let request = s.w_request(0, Action::ContentLoaded, Data::Empty);
    assert_eq!(
        s.end_breaks(),
        [broke(
            Rule::ExactlyOneResponse,
            Reason::NeverAnswered(request)
        )]
    );
}

// unique-request-ids

#[test]
fn reused_id_of_an_open_request() {
    let mut s = Session::msc();
    let first = s.c_request(0, Action::Capabilities, Data::Empty);
    s.c_request(0, Action::SupportedApiVersions, Data::Empty);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::UniqueRequestIds, Reason::ReusedId(Some(first)))]
    );
}

#[test]
fn reused_id_of_an_answered_request() {
    let mut s = Session::msc();
    s.established(A);
    s.c_request(0, Action::SupportedApiVersions, Data::Empty);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::UniqueRequestIds, Reason::ReusedId(None))]
    );
}

#[test]
fn widget_api_allows_reuse_once_answered_only() {
    let mut s = Session::widget_api();
    s.established(A);
    s.c_request(0, Action::SupportedApiVersions, Data::Empty);
    assert_eq!(s.last_breaks(), NOTHING);

    let mut s = Session::widget_api();
    let first = s.c_request(0, Action::Capabilities, Data::Empty);
    s.c_request(0, Action::SupportedApiVersions, Data::Empty);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::UniqueRequestIds, Reason::ReusedId(Some(first)))]
    );
}

// single-capabilities-exchange

#[test]
fn second_capabilities_request() {
    let mut s = Session::msc();
    let first = s.c_request(0, Action::Capabilities, Data::Empty);
    s.c_request(1, Action::Capabilities, Data::Empty);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::SingleCapabilitiesExchange,
            Reason::SecondCapabilities(first)
        )]
    );
}

// notify-after-capabilities

#[test]
fn notify_before_the_widget_answered_capabilities() {
    let mut s = Session::msc();
    let capabilities = s.c_request(0, Action::Capabilities, Data::Empty);
    s.notify(1, NONE, NONE);
    assert_eq!(
        s.last_breaks(),
        [
            broke(
                Rule::NotifyAfterCapabilities,
                Reason::NotifyBeforeEstablished(Some(capabilities))
            ),
            broke(Rule::OneNotifyPerRound, Reason::ExtraNotify(None)),
        ]
    );
}

#[test]
fn notify_before_capabilities_was_sent() {
    let mut s = Session::legacy();
    s.notify(0, NONE, NONE);
    assert_eq!(
        s.last_breaks(),
        [
            broke(
                Rule::NotifyAfterCapabilities,
                Reason::NotifyBeforeEstablished(None)
            ),
            broke(Rule::OneNotifyPerRound, Reason::ExtraNotify(None)),
        ]
    );
}

// approved-subset-of-requested

#[test]
fn notify_approves_what_was_never_requested() {
    let mut s = Session::msc().auto_approve(A);
    s.established(NONE);
    s.notify(1, NONE, A);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::ApprovedSubsetOfRequested,
            Reason::NotRequested(caps(A))
        )]
    );
}

// approvals-never-shrink

#[test]
fn notify_leaves_out_an_earlier_approval() {
    let mut s = Session::msc().auto_approve(A);
    s.established(A);
    let first = s.notify(1, A, A);
    s.reexchange(0, A);
    s.ack(0, REEXCHANGE);
    s.notify(2, A, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::ApprovalsNeverShrink,
            Reason::Shrinks(caps(A), first)
        )]
    );
}

// approval-needs-decision

#[test]
fn notify_approves_without_a_decision() {
    let mut s = Session::msc();
    s.established(A);
    s.notify(1, A, A);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::ApprovalNeedsDecision,
            Reason::Undecided(caps(A))
        )]
    );
}

#[test]
fn a_decision_approves_only_what_its_prompt_asked() {
    let mut s = Session::msc();
    s.established(A | B);
    s.prompt(A);
    s.decision(A | B);
    s.notify(1, A | B, A | B);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::ApprovalNeedsDecision,
            Reason::Undecided(caps(B))
        )]
    );
}

#[test]
fn approvals_are_not_judged_where_prompts_are_hidden() {
    let mut s = Session::msc().prompts_hidden();
    s.established(A);
    s.notify(1, A, A);
    assert_eq!(s.path(false), CLEAN);
}

// prompt-only-new

#[test]
fn prompt_for_a_capability_outside_the_round() {
    let mut s = Session::msc();
    let round = s.established(A);
    s.prompt(A | B);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::PromptOnlyNew, Reason::NotNew(caps(B), round))]
    );
}

#[test]
fn prompt_for_a_capability_approved_already() {
    let mut s = Session::msc().auto_approve(A);
    s.established(A);
    s.notify(1, A, A);
    let round = s.reexchange(0, A | B);
    s.ack(0, REEXCHANGE);
    s.prompt(A | B);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::PromptOnlyNew, Reason::NotNew(caps(A), round))]
    );
}

// no-prompt-without-new

#[test]
fn prompt_for_a_round_with_nothing_new() {
    let mut s = Session::msc();
    let round = s.established(NONE);
    s.prompt(NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::NoPromptWithoutNew, Reason::NothingNew(round))]
    );
}

#[test]
fn prompt_outside_any_round() {
    let mut s = Session::msc();
    s.prompt(A);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::NoPromptWithoutNew, Reason::PromptWithoutRound)]
    );
}

// no-request-before-session

#[test]
fn early_request_not_refused() {
    let mut s = Session::msc();
    let request = s.reexchange(0, A);
    s.ack(0, REEXCHANGE);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::NoRequestBeforeSession,
            Reason::EarlyNotRefused(request)
        )]
    );
}

#[test]
fn refused_early_request_changes_nothing() {
    let mut s = Session::msc();
    s.reexchange(0, A);
    s.c_answer(0, REEXCHANGE, Reply::Error(Refusal::NotEstablished));
    s.established(NONE);
    // Neither its list in the requested total, nor a round of its own left without a notify.
    s.notify(1, NONE, NONE);
    assert_eq!(s.path(false), CLEAN);
}

// acknowledge-request

#[test]
fn in_session_request_refused() {
    let mut s = Session::msc();
    s.established(NONE);
    let request = s.reexchange(0, A);
    s.error(0, REEXCHANGE);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::AcknowledgeRequest, Reason::Refused(request))]
    );
}

#[test]
fn declared_rate_limit_allows_a_refusal_that_opens_no_round() {
    let refused = |mut s: Session| {
        s.established(NONE);
        s.notify(1, NONE, NONE);
        let request = s.reexchange(0, A);
        let answer = s.c_answer(0, REEXCHANGE, Reply::Error(Refusal::RateLimited));
        (s, request, answer)
    };
    // No round is left owed a notify at the end.
    let (s, _, _) = refused(Session::msc().rate_limit());
    assert_eq!(s.path(false), CLEAN);

    // Without the declaration the same refusal breaks the rule.
    let (s, request, answer) = refused(Session::msc());
    assert_eq!(
        s.path(false),
        [(
            answer,
            broke(Rule::AcknowledgeRequest, Reason::Refused(request))
        )]
    );

    // Under a profile that never rate-limits, the declaration allows nothing.
    let (s, request, _) = refused(Session::widget_api().rate_limit());
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::AcknowledgeRequest, Reason::Refused(request))]
    );
}

#[test]
fn legacy_request_not_refused_under_either_name() {
    for name in [REEXCHANGE, STABLE_REEXCHANGE] {
        let mut s = Session::legacy();
        let request = s.w_request(0, name, Data::Capabilities(caps(A)));
        s.ack(0, name);
        assert_eq!(
            s.last_breaks(),
            [broke(Rule::AcknowledgeRequest, Reason::NotRefused(request))],
            "{name:?}"
        );
    }
}

#[test]
fn widget_api_does_not_judge_the_stable_name() {
    for answer in [Reply::Ack, Reply::Error(Refusal::UnknownAction)] {
        let mut s = Session::widget_api();
        s.established(NONE);
        s.notify(1, NONE, NONE);
        s.w_request(0, STABLE_REEXCHANGE, Data::Capabilities(caps(A)));
        s.c_answer(0, STABLE_REEXCHANGE, answer);
        // Nor does it open a round that would be owed a notify.
        assert_eq!(s.path(false), CLEAN);
    }
}

// ack-before-notify

#[test]
fn prompt_before_the_ack() {
    let mut s = Session::msc();
    s.established(NONE);
    s.notify(1, NONE, NONE);
    let request = s.reexchange(0, A);
    s.prompt(A);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::AckBeforeNotify, Reason::BeforeAck(request))]
    );
}

#[test]
fn notify_before_the_ack() {
    let mut s = Session::msc();
    s.established(NONE);
    s.notify(1, NONE, NONE);
    let request = s.reexchange(0, A);
    s.notify(2, A, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::AckBeforeNotify, Reason::BeforeAck(request))]
    );
}

#[test]
fn decision_while_a_request_is_not_acked() {
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A);
    let request = s.reexchange(0, B);
    s.decision(A);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::AckBeforeNotify,
            Reason::DecisionBeforeAck(request)
        )]
    );
}

// one-notify-per-round

#[test]
fn second_notify_for_one_round() {
    let mut s = Session::msc();
    let round = s.established(NONE);
    s.notify(1, NONE, NONE);
    s.notify(2, NONE, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::OneNotifyPerRound,
            Reason::ExtraNotify(Some(round))
        )]
    );
}

#[test]
fn notify_before_any_round() {
    // Under widget-api a notify before the exchange breaks only this rule.
    let mut s = Session::widget_api();
    s.notify(0, NONE, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::OneNotifyPerRound, Reason::ExtraNotify(None))]
    );
}

#[test]
fn parallel_notify_while_every_round_waits_for_the_user() {
    let mut s = Session::widget_api();
    s.established(A);
    s.prompt(A);
    s.notify(1, A, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::OneNotifyPerRound, Reason::NotifyWhileWaiting)]
    );
}

#[test]
fn round_never_notified() {
    let mut s = Session::msc();
    let round = s.established(NONE);
    assert_eq!(
        s.end_breaks(),
        [broke(Rule::OneNotifyPerRound, Reason::NoNotify(round))]
    );
}

// notify-reports-totals

#[test]
fn notify_without_lists() {
    let mut s = Session::msc();
    s.established(NONE);
    s.c_request(1, Action::NotifyCapabilities, Data::Invalid);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::NotifyReportsTotals, Reason::NotifyWithoutLists)]
    );
}

#[test]
fn msc_notify_reports_the_round_instead_of_the_total() {
    let mut s = Session::msc();
    s.established(A);
    s.notify(1, A, NONE);
    let round = s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.notify(2, B, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::NotifyReportsTotals,
            Reason::WrongRequested {
                reported: caps(B),
                expected: caps(A | B),
                round,
            }
        )]
    );
}

#[test]
fn widget_api_notify_of_round_zero_reports_the_total_instead_of_its_list() {
    let mut s = Session::widget_api();
    // An early request, processed at once: its list enters the total before round 0's.
    s.c_request(0, Action::Capabilities, Data::Empty);
    s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    let round = s.w_answer(0, Action::Capabilities, Reply::Capabilities(caps(A)));
    s.notify(1, B, NONE);
    s.notify(2, A | B, NONE);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::NotifyReportsTotals,
            Reason::WrongRequested {
                reported: caps(A | B),
                expected: caps(A),
                round,
            }
        )]
    );
}

#[test]
fn widget_api_notify_of_a_later_round_reports_its_list_instead_of_its_new() {
    let mut s = Session::widget_api().auto_approve(A);
    s.established(A);
    s.notify(1, A, A);
    let round = s.reexchange(0, A | B);
    s.ack(0, REEXCHANGE);
    s.notify(2, A | B, A);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::NotifyReportsTotals,
            Reason::WrongRequested {
                reported: caps(A | B),
                expected: caps(B),
                round,
            }
        )]
    );
}

#[test]
fn extra_notify_without_lists() {
    let mut s = Session::msc();
    let round = s.established(NONE);
    s.notify(1, NONE, NONE);
    s.c_request(2, Action::NotifyCapabilities, Data::Invalid);
    assert_eq!(
        s.last_breaks(),
        [
            broke(Rule::OneNotifyPerRound, Reason::ExtraNotify(Some(round))),
            broke(Rule::NotifyReportsTotals, Reason::NotifyWithoutLists),
        ]
    );
}

// rounds-in-order

#[test]
fn prompt_for_a_round_behind_an_open_one() {
    let mut s = Session::msc();
    let front = s.established(A);
    s.prompt(A);
    let round = s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.prompt(B);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::RoundsInOrder, Reason::OutOfOrder(round, front))]
    );
}

#[test]
fn rules_that_do_not_apply_are_not_judged() {
    // The same session under widget-api, whose rounds are parallel: no rounds-in-order.
    let mut s = Session::widget_api();
    s.established(A);
    s.prompt(A);
    s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.prompt(B);
    assert_eq!(s.last_breaks(), NOTHING);
}

// advertises-versions

#[test]
fn versions_leave_out_msc2974_where_served() {
    let mut s = Session::msc();
    let request = s.w_request(0, Action::SupportedApiVersions, Data::Empty);
    s.c_answer(
        0,
        Action::SupportedApiVersions,
        Reply::Versions { msc2974: false },
    );
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::AdvertisesVersions,
            Reason::Versions {
                expected: true,
                request
            }
        )]
    );
}

#[test]
fn versions_advertise_msc2974_where_not_served() {
    let mut s = Session::legacy();
    let request = s.w_request(0, Action::SupportedApiVersions, Data::Empty);
    s.c_answer(
        0,
        Action::SupportedApiVersions,
        Reply::Versions { msc2974: true },
    );
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::AdvertisesVersions,
            Reason::Versions {
                expected: false,
                request
            }
        )]
    );
}

#[test]
fn versions_answered_with_an_error() {
    let mut s = Session::msc();
    let request = s.w_request(0, Action::SupportedApiVersions, Data::Empty);
    s.error(0, Action::SupportedApiVersions);
    assert_eq!(
        s.last_breaks(),
        [broke(Rule::AdvertisesVersions, Reason::NoVersions(request))]
    );
}

// gated-action-needs-capability

#[test]
fn gated_action_allowed_without_its_capability() {
    let mut s = Session::msc();
    let request = s.w_request(0, Action::SetAlwaysOnScreen, Data::Gated(caps(A)));
    s.ack(0, Action::SetAlwaysOnScreen);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::GatedActionNeedsCapability,
            Reason::Ungated(request)
        )]
    );
}

#[test]
fn gated_action_not_yet_allowed_by_a_decision_before_its_notify() {
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A);
    s.decision(A);
    let request = s.w_request(0, Action::SendEvent, Data::Gated(caps(A)));
    s.c_answer(0, Action::SendEvent, Reply::EventSent);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::GatedActionNeedsCapability,
            Reason::Ungated(request)
        )]
    );
}

#[test]
fn gated_action_allowed_by_one_notified_capability_that_permits_it() {
    let gated = |permitting: u64| {
        let mut s = Session::msc();
        s.established(A);
        s.prompt(A);
        s.decision(A);
        s.notify(1, A, A);
        let request = s.w_request(0, Action::SendEvent, Data::Gated(caps(permitting)));
        s.c_answer(0, Action::SendEvent, Reply::EventSent);
        (s, request)
    };
    let (s, _) = gated(A | C);
    assert_eq!(s.last_breaks(), NOTHING);
    let (s, request) = gated(B | C);
    assert_eq!(
        s.last_breaks(),
        [broke(
            Rule::GatedActionNeedsCapability,
            Reason::Ungated(request)
        )]
    );
}

// A rule left out of `Judge::rules` reports nothing.

#[test]
fn without_well_formed_message() {
    let mut s = Session::msc();
    s.client(Err(Fault::WrongType(Field::Api)));
    assert_eq!(s.without(Rule::WellFormedMessage), CLEAN);
}

#[test]
fn without_response_matches_request() {
    let mut s = Session::msc();
    s.ack(0, Action::ContentLoaded);
    assert_eq!(s.without(Rule::ResponseMatchesRequest), CLEAN);
}

#[test]
fn without_exactly_one_response() {
    // Both of its checks: an answer given twice, and a request left open at the end.
    let mut s = Session::msc();
    s.w_request(0, Action::ContentLoaded, Data::Empty);
    s.ack(0, Action::ContentLoaded);
    s.ack(0, Action::ContentLoaded);
    s.w_request(1, Action::ContentLoaded, Data::Empty);
    assert_eq!(s.without(Rule::ExactlyOneResponse), CLEAN);
}

#[test]
fn without_unique_request_ids() {
    let mut s = Session::msc();
    s.c_request(0, Action::Capabilities, Data::Empty);
    s.c_request(0, Action::SupportedApiVersions, Data::Empty);
    assert_eq!(s.without(Rule::UniqueRequestIds), CLEAN);
}

#[test]
fn without_single_capabilities_exchange() {
    let mut s = Session::msc();
    s.c_request(0, Action::Capabilities, Data::Empty);
    s.c_request(1, Action::Capabilities, Data::Empty);
    assert_eq!(s.without(Rule::SingleCapabilitiesExchange), CLEAN);
}

#[test]
fn without_notify_after_capabilities() {
    // Such a notify is also one for no round: only that is left.
    let mut s = Session::msc();
    s.c_request(0, Action::Capabilities, Data::Empty);
    let notify = s.notify(1, NONE, NONE);
    assert_eq!(
        s.without(Rule::NotifyAfterCapabilities),
        [(
            notify,
            broke(Rule::OneNotifyPerRound, Reason::ExtraNotify(None))
        )]
    );
}

#[test]
fn without_approved_subset_of_requested() {
    let mut s = Session::msc().auto_approve(A);
    s.established(NONE);
    s.notify(1, NONE, A);
    assert_eq!(s.without(Rule::ApprovedSubsetOfRequested), CLEAN);
}

#[test]
fn without_approvals_never_shrink() {
    let mut s = Session::msc().auto_approve(A);
    s.established(A);
    s.notify(1, A, A);
    s.reexchange(0, A);
    s.ack(0, REEXCHANGE);
    s.notify(2, A, NONE);
    assert_eq!(s.without(Rule::ApprovalsNeverShrink), CLEAN);
}

#[test]
fn without_approval_needs_decision() {
    let mut s = Session::msc();
    s.established(A);
    s.notify(1, A, A);
    assert_eq!(s.without(Rule::ApprovalNeedsDecision), CLEAN);
}

#[test]
fn without_prompt_only_new() {
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A | B);
    assert_eq!(s.without(Rule::PromptOnlyNew), CLEAN);
}

#[test]
fn without_no_prompt_without_new() {
    // Both of its checks: a prompt for a round with nothing new, and one outside any round.
    let mut s = Session::msc();
    s.established(NONE);
    s.prompt(NONE);
    s.prompt(A);
    assert_eq!(s.without(Rule::NoPromptWithoutNew), CLEAN);
}

#[test]
fn without_no_request_before_session() {
    let mut s = Session::msc();
    s.reexchange(0, A);
    s.ack(0, REEXCHANGE);
    assert_eq!(s.without(Rule::NoRequestBeforeSession), CLEAN);
}

#[test]
fn without_acknowledge_request() {
    // Both of its checks: a served request refused, an unserved one (legacy) acked.
    let mut s = Session::msc();
    s.established(NONE);
    s.notify(1, NONE, NONE);
    s.reexchange(0, A);
    s.error(0, REEXCHANGE);
    assert_eq!(s.without(Rule::AcknowledgeRequest), CLEAN);

    let mut s = Session::legacy();
    s.reexchange(0, A);
    s.ack(0, REEXCHANGE);
    assert_eq!(s.without(Rule::AcknowledgeRequest), CLEAN);
}

#[test]
fn without_ack_before_notify() {
    // All three of its checks: a prompt, a notify and a decision before the ack.
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A);
    s.reexchange(0, B);
    s.decision(NONE);
    s.notify(1, A, NONE);
    s.prompt(B);
    s.decision(NONE);
    s.ack(0, REEXCHANGE);
    s.notify(2, A | B, NONE);
    s.reexchange(1, C);
    s.notify(3, A | B | C, NONE);
    s.ack(1, REEXCHANGE);
    let judged = s.path(false);
    assert_eq!(
        judged
            .iter()
            .filter(|(_, v)| v.rule == Rule::AckBeforeNotify)
            .count(),
        4
    );
    assert_eq!(s.without(Rule::AckBeforeNotify), CLEAN);
}

#[test]
fn without_one_notify_per_round() {
    // Both of its checks: a notify for no round, and a round left without one at the end.
    let mut s = Session::msc();
    s.established(NONE);
    s.notify(1, NONE, NONE);
    s.notify(2, NONE, NONE);
    s.reexchange(0, NONE);
    s.ack(0, REEXCHANGE);
    assert_eq!(s.without(Rule::OneNotifyPerRound), CLEAN);
}

#[test]
fn without_notify_reports_totals() {
    let mut s = Session::msc();
    s.established(A);
    s.c_request(1, Action::NotifyCapabilities, Data::Invalid);
    s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.notify(2, B, NONE);
    assert_eq!(s.without(Rule::NotifyReportsTotals), CLEAN);
}

#[test]
fn without_rounds_in_order() {
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A);
    s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.prompt(B);
    assert_eq!(s.without(Rule::RoundsInOrder), CLEAN);
}

#[test]
fn without_advertises_versions() {
    let mut s = Session::msc();
    s.w_request(0, Action::SupportedApiVersions, Data::Empty);
    s.c_answer(
        0,
        Action::SupportedApiVersions,
        Reply::Versions { msc2974: false },
    );
    s.w_request(1, Action::SupportedApiVersions, Data::Empty);
    s.ack(1, Action::SupportedApiVersions);
    assert_eq!(s.without(Rule::AdvertisesVersions), CLEAN);
}

#[test]
fn without_gated_action_needs_capability() {
    let mut s = Session::msc();
    s.w_request(0, Action::SetAlwaysOnScreen, Data::Gated(caps(A)));
    s.ack(0, Action::SetAlwaysOnScreen);
    assert_eq!(s.without(Rule::GatedActionNeedsCapability), CLEAN);
}

// End of trace: `Observer::finish`.

#[test]
fn finish_reports_every_unanswered_request_in_order() {
    let mut s = Session::msc();
    let first = s.w_request(0, Action::ContentLoaded, Data::Empty);
    let second = s.w_request(1, Action::SupportedApiVersions, Data::Empty);
    assert_eq!(
        s.end_breaks(),
        [
            broke(Rule::ExactlyOneResponse, Reason::NeverAnswered(first)),
            broke(Rule::ExactlyOneResponse, Reason::NeverAnswered(second)),
        ]
    );
}

#[test]
fn finish_excuses_a_round_waiting_for_the_user() {
    let mut s = Session::msc();
    let round = s.established(A);
    s.prompt(A);
    assert_eq!(s.end_breaks(), NOTHING);
    // Once the user answered, the notify is owed.
    s.decision(A);
    assert_eq!(
        s.end_breaks(),
        [broke(Rule::OneNotifyPerRound, Reason::NoNotify(round))]
    );
}

#[test]
fn finish_excuses_a_sequential_round_queued_behind_a_waiting_one() {
    let session = |mut s: Session| {
        s.established(A);
        s.prompt(A);
        let round = s.reexchange(0, B);
        s.ack(0, REEXCHANGE);
        (s, round)
    };
    let (s, _) = session(Session::msc());
    assert_eq!(s.end_breaks(), NOTHING);
    // In parallel, the later round waits for no one.
    let (s, round) = session(Session::widget_api());
    assert_eq!(
        s.end_breaks(),
        [broke(Rule::OneNotifyPerRound, Reason::NoNotify(round))]
    );
}

#[test]
fn finish_reports_an_unacked_round_as_its_unanswered_request() {
    let mut s = Session::msc();
    s.established(NONE);
    s.notify(1, NONE, NONE);
    let request = s.reexchange(0, A);
    assert_eq!(
        s.end_breaks(),
        [broke(
            Rule::ExactlyOneResponse,
            Reason::NeverAnswered(request)
        )]
    );
}

#[test]
fn finish_excuses_a_round_whose_prompt_is_open_after_an_earlier_prompt_outlived_its_round() {
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A);
    // Ends round 0 with its prompt still open (docs/spec.md, Decision 20).
    s.notify(1, A, NONE);
    s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.prompt(B);
    // Answers the prompt of round 0; the prompt of the round of `reexchange` is still open.
    s.decision(A);
    assert_eq!(s.path(false), CLEAN);
}

#[test]
fn open_at_leaves_the_session_going() {
    let mut judging = Judging::new(Judge::new(Profile::MSC));
    let event = Event::Widget(Ok(Msg::request(
        Api::FromWidget,
        ReqId::Used(0),
        Action::ContentLoaded,
        Data::Empty,
    )));
    judging.observe(line(2), &event).expect("taken");
    let open = broke(Rule::ExactlyOneResponse, Reason::NeverAnswered(line(2)));
    assert_eq!(judging.open_at(line(3)), [(line(3), open.clone())]);
    assert_eq!(judging.violations(), CLEAN);
    let answer = Event::Client(Ok(client_answer(0, Action::ContentLoaded, Reply::Ack)));
    judging.observe(line(3), &answer).expect("taken");
    assert_eq!(judging.open_at(line(4)), CLEAN);
    judging.finish(line(4));
    assert_eq!(judging.violations(), CLEAN);

    let mut judging = Judging::new(Judge::new(Profile::MSC));
    judging.observe(line(2), &event).expect("taken");
    judging.finish(line(3));
    assert_eq!(judging.violations(), [(line(3), open)]);
}

// Bad events.

#[test]
fn decision_without_prompt_is_bad_input() {
    let mut judging = Judging::new(Judge::new(Profile::MSC));
    assert_eq!(
        judging.observe(line(2), &Event::Decision(caps(A))),
        Err(BadEvent::DecisionWithoutPrompt)
    );
    assert_eq!(judging.violations(), CLEAN);
    assert_eq!(
        BadEvent::DecisionWithoutPrompt.to_string(),
        "a decision with no open prompt"
    );
}

#[test]
fn a_decision_answers_one_prompt() {
    let mut judging = Judging::new(Judge::new(Profile::MSC));
    let mut s = Session::msc();
    s.established(A);
    s.prompt(A);
    s.decision(A);
    let mut at = line(FIRST);
    for event in &s.events {
        judging.observe(at, event).expect("taken");
        at = at.next();
    }
    assert_eq!(
        judging.observe(at, &Event::Decision(caps(A))),
        Err(BadEvent::DecisionWithoutPrompt)
    );
}

#[test]
fn a_prompt_outside_any_round_still_takes_a_decision() {
    let mut s = Session::msc();
    s.prompt(A);
    s.decision(A);
    assert_eq!(
        s.path(false),
        [(
            line(2),
            broke(Rule::NoPromptWithoutNew, Reason::PromptWithoutRound)
        )]
    );
}

#[test]
fn observer_without_positions() {
    // As in the model: positions are `()`, the rules and reasons the same.
    let judge = Judge::new(Profile::MSC);
    let mut observer = Observer::<()>::new();
    let mut out = Vec::new();
    let capabilities = Event::Client(Ok(client_request(0, Action::Capabilities, Data::Empty)));
    observer
        .observe(&judge, (), &capabilities, &mut out)
        .expect("taken");
    assert!(out.is_empty());
    let again = Event::Client(Ok(client_request(1, Action::Capabilities, Data::Empty)));
    observer
        .observe(&judge, (), &again, &mut out)
        .expect("taken");
    assert_eq!(
        out,
        [Violation {
            rule: Rule::SingleCapabilitiesExchange,
            reason: Reason::SecondCapabilities(()),
        }]
    );
    assert_eq!(
        observer.observe(&judge, (), &Event::Decision(caps(A)), &mut out),
        Err(BadEvent::DecisionWithoutPrompt)
    );
}

// `Judging::path`.

/// A session breaking a rule on its second event and leaving a request open.
fn second_capabilities_then_open_request() -> Session {
    let mut s = Session::msc();
    s.c_request(0, Action::Capabilities, Data::Empty);
    s.c_request(1, Action::Capabilities, Data::Empty);
    s.w_request(0, Action::ContentLoaded, Data::Empty);
    s
}

#[test]
fn path_numbers_events_from_its_first_line() {
    let s = second_capabilities_then_open_request();
    for first in [1, 2, 10] {
        let judged = Judging::path(&s.judge, line(first), &s.events, false);
        assert_eq!(
            judged,
            Ok(vec![
                (
                    line(first + 1),
                    broke(
                        Rule::SingleCapabilitiesExchange,
                        Reason::SecondCapabilities(line(first))
                    )
                ),
                (
                    line(first + 3),
                    broke(
                        Rule::ExactlyOneResponse,
                        Reason::NeverAnswered(line(first + 2))
                    )
                ),
            ]),
            "first line {first}"
        );
    }
}

#[test]
fn partial_path_leaves_obligations_open() {
    let s = second_capabilities_then_open_request();
    assert_eq!(
        s.path(true),
        [(
            line(3),
            broke(
                Rule::SingleCapabilitiesExchange,
                Reason::SecondCapabilities(line(2))
            )
        )]
    );
}

#[test]
fn path_stops_at_a_bad_event() {
    let mut s = second_capabilities_then_open_request();
    let decision = s.decision(A);
    s.c_request(0, Action::Capabilities, Data::Empty);
    assert_eq!(
        Judging::path(&s.judge, line(FIRST), &s.events, false),
        Err((decision, BadEvent::DecisionWithoutPrompt))
    );
}

// `Reason::describe`.

/// The arm of `describe` a reason takes: its kind ([`Reason::kind`], exhaustive: a new
/// variant has one), told apart where `describe` says more with a position than without. A new
/// arm must be added to the table of [`describe_cites_each_reason_s_lines`].
fn arm(reason: &Reason) -> &'static str {
    match reason {
        Reason::ReusedId(Some(_)) => "ReusedId(Some)",
        Reason::NotifyBeforeEstablished(Some(_)) => "NotifyBeforeEstablished(Some)",
        Reason::ExtraNotify(Some(_)) => "ExtraNotify(Some)",
        Reason::Versions { expected: true, .. } => "Versions(true)",
        Reason::ReexchangeBeforeSession(Some(_)) => "ReexchangeBeforeSession(Some)",
        Reason::ReexchangeNotAdvertised(Some(_)) => "ReexchangeNotAdvertised(Some)",
        other => other.kind(),
    }
}

#[test]
fn describe_cites_each_reason_s_lines() {
    let names = names();
    let cases = [
        (
            Reason::Malformed(Fault::Missing(Field::Data)),
            "the envelope has no `data`",
        ),
        (
            Reason::RequestFromWidgetApi,
            "a request with api \"fromWidget\": the client starts only toWidget requests",
        ),
        (
            Reason::ForeignWidget,
            "the message carries another widget's widgetId",
        ),
        (
            Reason::AnswersOwnRequest,
            "a response with api \"toWidget\": the client answers only the widget's requests",
        ),
        (Reason::AnswersNothing, "answers no open widget request"),
        (
            Reason::AnsweredAgain,
            "answers a widget request it answered already",
        ),
        (
            Reason::WrongAction(line(4)),
            "echoes another action than the request of line 4",
        ),
        (
            Reason::NeverAnswered(line(5)),
            "the widget request of line 5 was never answered",
        ),
        (
            Reason::ReusedId(Some(line(6))),
            "reuses the requestId of its request of line 6, still open",
        ),
        (
            Reason::ReusedId(None),
            "reuses a requestId it used before in this session",
        ),
        (
            Reason::SecondCapabilities(line(2)),
            "a second capabilities request (the first at line 2)",
        ),
        (
            Reason::NotifyBeforeEstablished(Some(line(7))),
            "notify_capabilities before the widget answered the capabilities request of line 7",
        ),
        (
            Reason::NotifyBeforeEstablished(None),
            "notify_capabilities before the capability exchange",
        ),
        (
            Reason::NotRequested(caps(A | C)),
            "approves [\"m.always_on_screen\", \"org.matrix.msc2762.send.event:m.room.message\"] \
             which the widget never requested",
        ),
        (
            Reason::Shrinks(caps(B), line(8)),
            "leaves out [\"org.matrix.msc2762.timeline:*\"] approved in the notify of line 8",
        ),
        (
            Reason::Undecided(caps(A)),
            "approves [\"m.always_on_screen\"] without the user's approval, autoApprove or an \
             earlier approval",
        ),
        (
            Reason::NotNew(caps(B), line(9)),
            "prompts for [\"org.matrix.msc2762.timeline:*\"] which are not new in the round of \
             line 9",
        ),
        (
            Reason::NothingNew(line(10)),
            "prompts for the round of line 10, which has nothing new",
        ),
        (
            Reason::PromptWithoutRound,
            "a prompt while no round is being processed",
        ),
        (
            Reason::EarlyNotRefused(line(11)),
            "does not refuse the request_capabilities of line 11, received before the session \
             was established",
        ),
        (
            Reason::Refused(line(12)),
            "answers the request_capabilities of line 12 with an error",
        ),
        (
            Reason::NotRefused(line(13)),
            "answers the request_capabilities of line 13 without an error, but the profile \
             serves no re-exchange",
        ),
        (
            Reason::BeforeAck(line(14)),
            "acts on the round of line 14 before acking its request_capabilities",
        ),
        (
            Reason::DecisionBeforeAck(line(15)),
            "the user decided while the request_capabilities of line 15 was still not acked",
        ),
        (
            Reason::ExtraNotify(Some(line(16))),
            "a notify while no round is open (the round of line 16 was notified already)",
        ),
        (Reason::ExtraNotify(None), "a notify while no round is open"),
        (
            Reason::NotifyWhileWaiting,
            "a notify while every open round waits for the user's decision",
        ),
        (
            Reason::NoNotify(line(17)),
            "the round of line 17 ended without a notify",
        ),
        (
            Reason::NotifyWithoutLists,
            "a notify without requested and approved lists of strings",
        ),
        (
            Reason::WrongRequested {
                reported: caps(NONE),
                expected: caps(A | B),
                round: line(18),
            },
            "reports requested [] for the round of line 18, expected [\"m.always_on_screen\", \
             \"org.matrix.msc2762.timeline:*\"]",
        ),
        (
            Reason::OutOfOrder(line(19), line(3)),
            "prompts for the round of line 19 before the notify of the round of line 3",
        ),
        (
            Reason::Versions {
                expected: true,
                request: line(20),
            },
            "the answer to supported_api_versions of line 20 leaves out org.matrix.msc2974",
        ),
        (
            Reason::Versions {
                expected: false,
                request: line(21),
            },
            "the answer to supported_api_versions of line 21 advertises org.matrix.msc2974, \
             which this profile does not serve",
        ),
        (
            Reason::NoVersions(line(22)),
            "the answer to supported_api_versions of line 22 lists no supported_versions",
        ),
        (
            Reason::Ungated(line(23)),
            "allows the gated action of line 23 though none of its capabilities is approved",
        ),
        (
            Reason::RequestToWidgetApi,
            "a request with api \"toWidget\": the widget starts only fromWidget requests",
        ),
        (
            Reason::WidgetAnswersOwnRequest,
            "a response with api \"fromWidget\": the widget answers only the client's requests",
        ),
        (
            Reason::AnswersNoClientRequest,
            "answers no open client request",
        ),
        (
            Reason::NeverAnsweredByWidget(line(24)),
            "the client request of line 24 was never answered",
        ),
        (
            Reason::NotifyNotAcked(line(25)),
            "answers the notify_capabilities of line 25 with something other than {}",
        ),
        (
            Reason::WrongView {
                seen: caps(A),
                expected: caps(A | B),
                notify: line(26),
            },
            "the widget's view is [\"m.always_on_screen\"], but the latest notify it received \
             (line 26) approved [\"m.always_on_screen\", \"org.matrix.msc2762.timeline:*\"]",
        ),
        (
            Reason::ReexchangeBeforeSession(Some(line(27))),
            "request_capabilities before the widget answered the capabilities request of line 27",
        ),
        (
            Reason::ReexchangeBeforeSession(None),
            "request_capabilities before the client asked for capabilities",
        ),
        (
            Reason::ReexchangeNotAdvertised(Some(line(28))),
            "request_capabilities, but the latest answer to supported_api_versions (line 28) \
             does not list org.matrix.msc2974",
        ),
        (
            Reason::ReexchangeNotAdvertised(None),
            "request_capabilities, but the client never advertised org.matrix.msc2974",
        ),
    ];
    let arms: BTreeSet<_> = cases.iter().map(|(reason, _)| arm(reason)).collect();
    assert_eq!(arms.len(), cases.len(), "one case per arm");
    assert_eq!(arms.len(), 45, "every arm of describe");
    for (reason, text) in &cases {
        assert_eq!(reason.describe(&names), *text, "{reason:?}");
    }
}

#[test]
fn describe_of_an_observed_reason_cites_the_earlier_line() {
    let mut s = Session::msc();
    let front = s.established(A);
    s.prompt(A);
    let round = s.reexchange(0, B);
    s.ack(0, REEXCHANGE);
    s.prompt(B);
    let [broken] = &s.last_breaks()[..] else {
        panic!("one rule broken")
    };
    assert_eq!((front.get(), round.get()), (3, 5));
    assert_eq!(
        broken.reason.describe(&names()),
        "prompts for the round of line 5 before the notify of the round of line 3"
    );
}
