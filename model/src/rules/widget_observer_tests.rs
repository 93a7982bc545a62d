//! Unit tests of the observer's widget checks (docs/spec.md §9.2, §9.4): every widget reason the
//! observer gives, each reading of §9.4, a clean reference-like session (written by hand and
//! recorded from the reference client and widget), and the separation of the sides: under
//! `Side::Client` no widget rule is reported and the client's verdicts are those of
//! `Judge::new`.
//!
//! Sessions are written with [`Session`], a builder in the style of `observer_tests`:
//!
//! - `c_request(id, action, data)` / `c_answer(id, action, reply)`: the client starts a request
//!   (`api: "toWidget"`, id `c{id}`) / answers the widget's request `w{id}`;
//! - `w_request(id, action, data)` / `w_answer(id, action, reply)`: the same for the widget;
//! - `view(caps)` and `app(caps)`: the widget's `view` and `app` lines (docs/spec.md §9.1);
//! - shorthands: `capabilities(id)`, `notify(id, requested, approved)`, `ack_notify(id)`,
//!   `ask_versions(id)`, `versions(id, msc2974)`, `versions_error(id)`,
//!   `reexchange(id, name, list)`.
//!
//! Capability sets are masks over [`A`], [`B`] and [`C`]. The first event is on line 2 (after a
//! `session` line); every method returns the line of its event. A [`Case`] is a session with the
//! exact `(line, rule, reason)` list it gives under `Side::Widget`; [`Case::check`] also checks
//! the sides against each other, and [`cases`] lists every case for the coverage tests.

use super::{Judge, Judging, Line, Reason, Rule, Side, Violation};
use capneg_reference::client::{Client, Input, Output, Setup};
use capneg_reference::msg::{
    Action, Api, Data, Fault, Field, Msg, Posted, ReexchangeName, Refusal, Reply, ReqId,
};
use capneg_reference::widget::{Widget, WidgetInput};
use capneg_reference::{CapSet, Event, Profile};
use std::collections::{BTreeSet, VecDeque};

/// No capability.
const NONE: u64 = 0;
/// The first capability of a session.
const A: u64 = 1 << 0;
/// The second capability.
const B: u64 = 1 << 1;
/// The third capability.
const C: u64 = 1 << 2;

/// The line of a session's first event: line 1 is the trace's `session` line.
const FIRST: u32 = 2;

/// No rule broken on any line.
const CLEAN: [(Line, Violation); 0] = [];

/// Both names of MSC2974's re-exchange.
const NAMES: [ReexchangeName; 2] = [ReexchangeName::Stable, ReexchangeName::Unstable];

/// The kinds of reason the widget's rules give (docs/spec.md §9.2), new and reused.
const WIDGET_KINDS: [&str; 12] = [
    "Malformed",
    "RequestToWidgetApi",
    "ForeignWidget",
    "WidgetAnswersOwnRequest",
    "AnswersNoClientRequest",
    "WrongAction",
    "NeverAnsweredByWidget",
    "ReusedId",
    "NotifyNotAcked",
    "WrongView",
    "ReexchangeBeforeSession",
    "ReexchangeNotAdvertised",
];

fn caps(mask: u64) -> CapSet {
    CapSet::from_mask(mask)
}

fn line(n: u32) -> Line {
    Line::new(n).expect("lines count from 1")
}

/// `rule` broken on line `at` because of `reason`.
fn on(at: Line, rule: Rule, reason: Reason) -> (Line, Violation) {
    (at, Violation { rule, reason })
}

/// The same message, addressed to another widget.
fn foreign(msg: Msg) -> Msg {
    Msg {
        foreign: true,
        ..msg
    }
}

/// The widget rules.
fn widget_rules() -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| r.side() == Side::Widget)
        .collect()
}

/// A session being written.
#[derive(Clone, Debug)]
struct Session {
    profile: Profile,
    events: Vec<Event>,
}

impl Session {
    fn new(profile: Profile) -> Session {
        Session {
            profile,
            events: Vec::new(),
        }
    }

    fn msc() -> Session {
        Session::new(Profile::MSC)
    }

    /// Adds an event; its line.
    fn push(&mut self, event: Event) -> Line {
        self.events.push(event);
        line(FIRST - 1 + self.events.len() as u32)
    }

    /// The widget posts `posted`, well-formed or not.
    fn widget(&mut self, posted: Posted) -> Line {
        self.push(Event::Widget(posted))
    }

    /// The client posts `msg`.
    fn client(&mut self, msg: Msg) -> Line {
        self.push(Event::Client(Ok(msg)))
    }

    /// The client starts a request (`api: "toWidget"`) with the id `c{id}`.
    fn c_request(&mut self, id: u32, action: Action, data: Data) -> Line {
        self.client(Msg::request(Api::ToWidget, ReqId::Used(id), action, data))
    }

    /// The client answers the widget's request `w{id}` (`api: "fromWidget"`).
    fn c_answer(&mut self, id: u32, action: Action, reply: Reply) -> Line {
        self.client(Msg::response(
            Api::FromWidget,
            ReqId::Used(id),
            action,
            reply,
        ))
    }

    /// The widget starts a request (`api: "fromWidget"`) with the id `w{id}`.
    fn w_request(&mut self, id: u32, action: Action, data: Data) -> Line {
        let msg = Msg::request(Api::FromWidget, ReqId::Used(id), action, data);
        self.widget(Ok(msg))
    }

    /// The widget answers the client's request `c{id}` (`api: "toWidget"`).
    fn w_answer(&mut self, id: u32, action: Action, reply: Reply) -> Line {
        let msg = Msg::response(Api::ToWidget, ReqId::Used(id), action, reply);
        self.widget(Ok(msg))
    }

    /// The client asks for capabilities as `c{id}`.
    fn capabilities(&mut self, id: u32) -> Line {
        self.c_request(id, Action::Capabilities, Data::Empty)
    }

    /// The widget answers the client's `capabilities` request `c{id}` with `list`.
    fn answer_capabilities(&mut self, id: u32, list: u64) -> Line {
        self.w_answer(id, Action::Capabilities, Reply::Capabilities(caps(list)))
    }

    /// The client sends `notify_capabilities` as `c{id}`.
    fn notify(&mut self, id: u32, requested: u64, approved: u64) -> Line {
        let data = Data::Notify {
            requested: caps(requested),
            approved: caps(approved),
        };
        self.c_request(id, Action::NotifyCapabilities, data)
    }

    /// The widget acks the notify `c{id}`.
    fn ack_notify(&mut self, id: u32) -> Line {
        self.w_answer(id, Action::NotifyCapabilities, Reply::Ack)
    }

    /// The widget asks for the client's versions as `w{id}`.
    fn ask_versions(&mut self, id: u32) -> Line {
        self.w_request(id, Action::SupportedApiVersions, Data::Empty)
    }

    /// The client answers the versions question `w{id}`, listing `org.matrix.msc2974` or not.
    fn versions(&mut self, id: u32, msc2974: bool) -> Line {
        self.c_answer(
            id,
            Action::SupportedApiVersions,
            Reply::Versions { msc2974 },
        )
    }

    /// The client answers the versions question `w{id}` with an error.
    fn versions_error(&mut self, id: u32) -> Line {
        self.c_answer(
            id,
            Action::SupportedApiVersions,
            Reply::Error(Refusal::Other),
        )
    }

    /// The widget asks for `list` as `w{id}` under `name` (MSC2974).
    fn reexchange(&mut self, id: u32, name: ReexchangeName, list: u64) -> Line {
        self.w_request(
            id,
            Action::RequestCapabilities(name),
            Data::Capabilities(caps(list)),
        )
    }

    /// The client acks the widget's request `w{id}`.
    fn ack(&mut self, id: u32, action: Action) -> Line {
        self.c_answer(id, action, Reply::Ack)
    }

    fn prompt(&mut self, mask: u64) -> Line {
        self.push(Event::Prompt(caps(mask)))
    }

    fn decision(&mut self, mask: u64) -> Line {
        self.push(Event::Decision(caps(mask)))
    }

    fn view(&mut self, mask: u64) -> Line {
        self.push(Event::View(caps(mask)))
    }

    fn app(&mut self, mask: u64) -> Line {
        self.push(Event::App(caps(mask)))
    }

    /// The line after the last event: where end-of-trace obligations are reported.
    fn end(&self) -> Line {
        line(FIRST + self.events.len() as u32)
    }

    /// Judges the whole session by `judge`, with the obligations left open at its end unless
    /// `partial`.
    fn path_by(&self, judge: &Judge, partial: bool) -> Vec<(Line, Violation)> {
        Judging::path(judge, line(FIRST), &self.events, partial).expect("events the observer takes")
    }

    /// Judges the whole session on `side`.
    fn path(&self, side: Side, partial: bool) -> Vec<(Line, Violation)> {
        self.path_by(&Judge::for_side(self.profile, side), partial)
    }

    /// The widget's verdict: every widget rule broken, and those left open at the end.
    fn widget_side(&self) -> Vec<(Line, Violation)> {
        self.path(Side::Widget, false)
    }

    /// The client's verdict.
    fn client_side(&self) -> Vec<(Line, Violation)> {
        self.path(Side::Client, false)
    }
}

/// A session and the exact verdict it gets under `Side::Widget`.
struct Case {
    name: String,
    session: Session,
    widget: Vec<(Line, Violation)>,
}

impl Case {
    fn new(name: impl Into<String>, session: Session, widget: Vec<(Line, Violation)>) -> Case {
        Case {
            name: name.into(),
            session,
            widget,
        }
    }

    /// Checks the widget's verdict, that the client's holds no widget rule and is the verdict of
    /// `Judge::new` (today's), and that `Side::Both` reports exactly the two, each in order;
    /// and the same with the obligations left open (`partial`). Returns the client's verdict.
    fn check(&self) -> Vec<(Line, Violation)> {
        let s = &self.session;
        let name = &self.name;
        assert_eq!(s.widget_side(), self.widget, "{name}: the widget's verdict");
        for partial in [false, true] {
            let client = s.path(Side::Client, partial);
            let widget = s.path(Side::Widget, partial);
            let both = s.path(Side::Both, partial);
            assert!(
                client.iter().all(|(_, v)| v.rule.side() == Side::Client),
                "{name}: a widget rule under Side::Client: {client:?}"
            );
            assert_eq!(
                client,
                s.path_by(&Judge::new(s.profile), partial),
                "{name}: the client's verdict is today's"
            );
            assert!(
                widget.iter().all(|(_, v)| v.rule.side() == Side::Widget),
                "{name}: a client rule under Side::Widget: {widget:?}"
            );
            let of = |side: Side| -> Vec<(Line, Violation)> {
                both.iter()
                    .filter(|(_, v)| v.rule.side() == side)
                    .cloned()
                    .collect()
            };
            assert_eq!(of(Side::Client), client, "{name}: Both, client rules");
            assert_eq!(of(Side::Widget), widget, "{name}: Both, widget rules");
        }
        s.client_side()
    }
}

// Clean sessions.

/// A reference-like session under `msc`: the widget asks for the versions, answers
/// `capabilities`, acks every notify, reports views equal to the latest notify, and asks for
/// `B` under `name` once the session is established and MSC2974 advertised; its last view is
/// `last_view`. Returns the session, the line of its last notify and that of its last view.
fn reference_like(name: ReexchangeName, last_view: u64) -> (Session, Line, Line) {
    let mut s = Session::msc();
    s.ask_versions(0);
    s.capabilities(0);
    s.versions(0, true);
    s.answer_capabilities(0, A);
    s.prompt(A);
    s.decision(A);
    s.notify(1, A, A);
    s.ack_notify(1);
    s.view(A);
    s.app(B);
    let request = Action::RequestCapabilities(name);
    s.reexchange(1, name, B);
    s.ack(1, request);
    s.prompt(B);
    s.decision(B);
    let notify = s.notify(2, A | B, A | B);
    s.ack_notify(2);
    let view = s.view(last_view);
    (s, notify, view)
}

fn clean_reference_like_cases() -> Vec<Case> {
    NAMES
        .into_iter()
        .map(|name| {
            let (s, _, _) = reference_like(name, A | B);
            Case::new(format!("reference-like {name:?}"), s, vec![])
        })
        .collect()
}

#[test]
fn clean_reference_like_session() {
    for case in clean_reference_like_cases() {
        assert_eq!(case.check(), CLEAN, "{}", case.name);
        assert_eq!(case.session.path(Side::Both, false), CLEAN, "{}", case.name);
    }
}

/// Records a session of the reference client and the reference widget of `profile`, delivering
/// messages in the order they are posted; a `view` line whenever both sides are quiet; the user
/// approves every prompt in full; the application asks for each of `apps` in turn (the first
/// before anything is delivered).
fn recorded_reference_session(profile: Profile, initial: u64, apps: &[u64]) -> Session {
    enum Hop {
        ToWidget(Msg),
        ToClient(Msg),
    }
    let setup = Setup::new(profile);
    let mut s = Session::new(profile);
    let mut queue = VecDeque::new();
    let mut prompts = VecDeque::new();
    let record_client = |s: &mut Session,
                         queue: &mut VecDeque<Hop>,
                         prompts: &mut VecDeque<CapSet>,
                         out: Vec<Output>| {
        for o in out {
            s.push(Event::from(o.clone()));
            match o {
                Output::Send(m) => queue.push_back(Hop::ToWidget(m)),
                Output::Prompt(asked) => prompts.push_back(asked),
            }
        }
    };
    let record_widget = |s: &mut Session, queue: &mut VecDeque<Hop>, out: Vec<Msg>| {
        for m in out {
            s.widget(Ok(m.clone()));
            queue.push_back(Hop::ToClient(m));
        }
    };
    let mut out = Vec::new();
    let mut client = Client::start(&setup, &mut out);
    record_client(&mut s, &mut queue, &mut prompts, out);
    let mut first = Vec::new();
    let mut widget = Widget::start(caps(initial), &mut first);
    record_widget(&mut s, &mut queue, first);
    let mut apps = apps.iter();
    if let Some(&more) = apps.next() {
        s.app(more);
        let mut out = Vec::new();
        widget.handle(&WidgetInput::App(caps(more)), &mut out);
        record_widget(&mut s, &mut queue, out);
    }
    loop {
        while let Some(hop) = queue.pop_front() {
            match hop {
                Hop::ToWidget(m) => {
                    let mut out = Vec::new();
                    widget.handle(&WidgetInput::Client(m), &mut out);
                    record_widget(&mut s, &mut queue, out);
                }
                Hop::ToClient(m) => {
                    let mut out = Vec::new();
                    client
                        .handle(&setup, &Input::Widget(m), &mut out)
                        .expect("a message is always taken");
                    record_client(&mut s, &mut queue, &mut prompts, out);
                }
            }
        }
        s.push(Event::View(widget.approved().clone()));
        if let Some(asked) = prompts.pop_front() {
            s.decision(asked.mask());
            let mut out = Vec::new();
            client
                .handle(&setup, &Input::Decision(asked), &mut out)
                .expect("a prompt is open");
            record_client(&mut s, &mut queue, &mut prompts, out);
        } else if let Some(&more) = apps.next() {
            s.app(more);
            let mut out = Vec::new();
            widget.handle(&WidgetInput::App(caps(more)), &mut out);
            record_widget(&mut s, &mut queue, out);
        } else {
            return s;
        }
    }
}

#[test]
fn reference_sessions_break_no_rule_on_either_side() {
    for profile in Profile::ALL {
        let s = recorded_reference_session(profile, A, &[B, C, A | C]);
        assert_eq!(s.path(Side::Both, false), CLEAN, "{}", profile.name);
        let notifies = s
            .events
            .iter()
            .filter(|e| matches!(e, Event::Client(Ok(m)) if m.action == Action::NotifyCapabilities))
            .count();
        let reexchanges = s
            .events
            .iter()
            .filter(|e| {
                matches!(e, Event::Widget(Ok(m)) if matches!(m.action, Action::RequestCapabilities(_)))
            })
            .count();
        // B joins round 0; C is a round of its own where MSC2974 is advertised; A | C adds
        // nothing new but is a round too.
        if profile.reexchange.advertised() {
            assert_eq!((notifies, reexchanges), (3, 2), "{}", profile.name);
        } else {
            assert_eq!((notifies, reexchanges), (1, 0), "{}", profile.name);
        }
        Case::new(profile.name, s, vec![]).check();
    }
}

// widget-well-formed-message

fn malformed_case() -> Case {
    let mut s = Session::msc();
    let at = s.widget(Err(Fault::Missing(Field::Data)));
    let w = vec![on(
        at,
        Rule::WidgetWellFormedMessage,
        Reason::Malformed(Fault::Missing(Field::Data)),
    )];
    Case::new("malformed widget envelope", s, w)
}

#[test]
fn malformed_widget_envelope() {
    let case = malformed_case();
    // Under Side::Client the observer reports nothing (the validator calls it bad input).
    assert_eq!(case.check(), CLEAN);
}

fn request_to_widget_api_case() -> Case {
    let mut s = Session::msc();
    let at = s.widget(Ok(Msg::request(
        Api::ToWidget,
        ReqId::Used(0),
        Action::ContentLoaded,
        Data::Empty,
    )));
    let w = vec![on(
        at,
        Rule::WidgetWellFormedMessage,
        Reason::RequestToWidgetApi,
    )];
    Case::new("widget request with api toWidget", s, w)
}

#[test]
fn widget_request_with_to_widget_api() {
    assert_eq!(request_to_widget_api_case().check(), CLEAN);
}

fn foreign_request_case() -> Case {
    let mut s = Session::msc();
    let at = s.widget(Ok(foreign(Msg::request(
        Api::FromWidget,
        ReqId::Used(0),
        Action::ContentLoaded,
        Data::Empty,
    ))));
    let w = vec![on(at, Rule::WidgetWellFormedMessage, Reason::ForeignWidget)];
    Case::new("foreign widget request", s, w)
}

#[test]
fn widget_request_to_another_widget() {
    // The client owes it nothing: no `exactly-one-response` at the end.
    assert_eq!(foreign_request_case().check(), CLEAN);
}

// widget-response-matches-request

fn foreign_response_case() -> Case {
    let mut s = Session::msc();
    let request = s.capabilities(0);
    let at = s.widget(Ok(foreign(Msg::response(
        Api::ToWidget,
        ReqId::Used(0),
        Action::Capabilities,
        Reply::Capabilities(caps(A)),
    ))));
    let end = s.end();
    let w = vec![
        on(
            at,
            Rule::WidgetResponseMatchesRequest,
            Reason::ForeignWidget,
        ),
        // It answers nothing of this session: the request is still open.
        on(
            end,
            Rule::WidgetExactlyOneResponse,
            Reason::NeverAnsweredByWidget(request),
        ),
    ];
    Case::new("foreign widget response", s, w)
}

#[test]
fn widget_response_to_another_widget() {
    // Nor is the session established by it.
    assert_eq!(foreign_response_case().check(), CLEAN);
}

fn answers_own_request_case() -> Case {
    let mut s = Session::msc();
    let request = s.capabilities(0);
    let at = s.widget(Ok(Msg::response(
        Api::FromWidget,
        ReqId::Used(0),
        Action::Capabilities,
        Reply::Capabilities(caps(A)),
    )));
    let end = s.end();
    let w = vec![
        on(
            at,
            Rule::WidgetResponseMatchesRequest,
            Reason::WidgetAnswersOwnRequest,
        ),
        on(
            end,
            Rule::WidgetExactlyOneResponse,
            Reason::NeverAnsweredByWidget(request),
        ),
    ];
    Case::new("widget response with api fromWidget", s, w)
}

#[test]
fn widget_response_with_from_widget_api() {
    assert_eq!(answers_own_request_case().check(), CLEAN);
}

fn answers_nothing_case() -> Case {
    let mut s = Session::msc();
    let at = s.answer_capabilities(5, A);
    let w = vec![on(
        at,
        Rule::WidgetResponseMatchesRequest,
        Reason::AnswersNoClientRequest,
    )];
    Case::new("widget response to no client request", s, w)
}

#[test]
fn widget_response_to_no_client_request() {
    assert_eq!(answers_nothing_case().check(), CLEAN);
}

/// A second answer to the same client request (§9.4): `capabilities` or a notify.
fn second_answer_cases() -> Vec<Case> {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, A);
    let again = s.answer_capabilities(0, A);
    let capabilities = Case::new(
        "capabilities answered twice",
        s,
        vec![on(
            again,
            Rule::WidgetResponseMatchesRequest,
            Reason::AnswersNoClientRequest,
        )],
    );

    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    s.notify(1, NONE, NONE);
    s.ack_notify(1);
    let again = s.ack_notify(1);
    let notify = Case::new(
        "notify acked twice",
        s,
        vec![on(
            again,
            Rule::WidgetResponseMatchesRequest,
            Reason::AnswersNoClientRequest,
        )],
    );
    vec![capabilities, notify]
}

#[test]
fn second_answer_to_a_client_request() {
    let cases = second_answer_cases();
    // The client left round 0 without a notify: its own fault, judged on its side only.
    assert_eq!(
        cases[0].check(),
        [on(
            line(5),
            Rule::OneNotifyPerRound,
            Reason::NoNotify(line(3))
        )]
    );
    assert_eq!(cases[1].check(), CLEAN);
}

/// A response echoing a known client id with another action: `WrongAction`, and the request
/// stays open (`then_answered`: the widget answers it properly afterwards).
fn wrong_action_case(then_answered: bool) -> Case {
    let mut s = Session::msc();
    let request = s.capabilities(0);
    let at = s.w_answer(0, Action::NotifyCapabilities, Reply::Ack);
    let mut w = vec![on(
        at,
        Rule::WidgetResponseMatchesRequest,
        Reason::WrongAction(request),
    )];
    if then_answered {
        s.answer_capabilities(0, NONE);
        s.notify(1, NONE, NONE);
        s.ack_notify(1);
    } else {
        w.push(on(
            s.end(),
            Rule::WidgetExactlyOneResponse,
            Reason::NeverAnsweredByWidget(request),
        ));
    }
    Case::new(
        format!("wrong action, then answered: {then_answered}"),
        s,
        w,
    )
}

#[test]
fn widget_response_with_another_action_leaves_the_request_open() {
    for then_answered in [false, true] {
        assert_eq!(wrong_action_case(then_answered).check(), CLEAN);
    }
}

// widget-exactly-one-response

fn unanswered_notify_case() -> Case {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    let notify = s.notify(1, NONE, NONE);
    let end = s.end();
    let w = vec![on(
        end,
        Rule::WidgetExactlyOneResponse,
        Reason::NeverAnsweredByWidget(notify),
    )];
    Case::new("notify never answered", s, w)
}

#[test]
fn notify_left_unanswered_at_the_end() {
    let case = unanswered_notify_case();
    assert_eq!(case.check(), CLEAN);
    // Not with `partial`: the trace may go on.
    assert_eq!(case.session.path(Side::Widget, true), CLEAN);
    assert_eq!(case.session.path(Side::Both, true), CLEAN);
}

#[test]
fn every_unanswered_client_request_is_reported_in_order() {
    let mut s = Session::msc();
    let capabilities = s.capabilities(0);
    let versions = s.c_request(1, Action::SupportedApiVersions, Data::Empty);
    let end = s.end();
    let case = Case::new(
        "two unanswered",
        s,
        vec![
            on(
                end,
                Rule::WidgetExactlyOneResponse,
                Reason::NeverAnsweredByWidget(capabilities),
            ),
            on(
                end,
                Rule::WidgetExactlyOneResponse,
                Reason::NeverAnsweredByWidget(versions),
            ),
        ],
    );
    assert_eq!(case.check(), CLEAN);
    assert_eq!(case.session.path(Side::Widget, true), CLEAN);
}

// widget-unique-request-ids

/// The widget's ids may equal the client's (§9.4: ids are per side).
fn ids_per_side_case() -> Case {
    let mut s = Session::msc();
    s.capabilities(0);
    s.ask_versions(0);
    s.answer_capabilities(0, NONE);
    s.versions(0, true);
    s.notify(1, NONE, NONE);
    s.w_request(1, Action::ContentLoaded, Data::Empty);
    s.ack_notify(1);
    s.ack(1, Action::ContentLoaded);
    Case::new("widget ids equal the client's", s, vec![])
}

#[test]
fn widget_ids_may_equal_client_ids() {
    let case = ids_per_side_case();
    assert_eq!(case.check(), CLEAN);
    assert_eq!(case.session.path(Side::Both, false), CLEAN);
}

/// A widget id used again: once the earlier request was answered (allowed), or while it is open.
fn reused_id_cases() -> Vec<Case> {
    let mut s = Session::msc();
    s.w_request(0, Action::ContentLoaded, Data::Empty);
    s.ack(0, Action::ContentLoaded);
    s.w_request(0, Action::ContentLoaded, Data::Empty);
    s.ack(0, Action::ContentLoaded);
    let answered = Case::new("id reused once answered", s, vec![]);

    let mut s = Session::msc();
    let first = s.w_request(0, Action::ContentLoaded, Data::Empty);
    let again = s.ask_versions(0);
    let open = Case::new(
        "id reused while open",
        s,
        vec![on(
            again,
            Rule::WidgetUniqueRequestIds,
            Reason::ReusedId(Some(first)),
        )],
    );
    vec![answered, open]
}

#[test]
fn widget_id_reused_once_answered_but_not_while_open() {
    let cases = reused_id_cases();
    assert_eq!(cases[0].check(), CLEAN);
    assert_eq!(cases[0].session.path(Side::Both, false), CLEAN);
    // The client answered neither request of the reused id.
    assert_eq!(
        cases[1].check(),
        [
            on(
                line(4),
                Rule::ExactlyOneResponse,
                Reason::NeverAnswered(line(2))
            ),
            on(
                line(4),
                Rule::ExactlyOneResponse,
                Reason::NeverAnswered(line(3))
            ),
        ]
    );
}

// widget-acks-notify

fn notify_not_acked_case() -> Case {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    let notify = s.notify(1, NONE, NONE);
    let at = s.w_answer(1, Action::NotifyCapabilities, Reply::Error(Refusal::Other));
    let w = vec![on(
        at,
        Rule::WidgetAcksNotify,
        Reason::NotifyNotAcked(notify),
    )];
    Case::new("notify answered with an error", s, w)
}

#[test]
fn notify_answered_with_an_error() {
    let case = notify_not_acked_case();
    assert_eq!(case.check(), CLEAN);
    // Answered all the same: nothing is left open.
    assert_eq!(
        case.session.path(Side::Widget, true),
        case.session.path(Side::Widget, false)
    );
}

// widget-view-follows-notify

/// A view other than the latest notify's approved set: the view of nothing after a notify of
/// `A`, one taken before the notify was acked, and the first notify's view kept after a later one
/// (matrix-widget-api issue #52).
fn wrong_view_cases() -> Vec<Case> {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, A);
    s.prompt(A);
    s.decision(A);
    let notify = s.notify(1, A, A);
    let early = s.view(NONE);
    s.ack_notify(1);
    let late = s.view(NONE);
    let wrong = Reason::WrongView {
        seen: caps(NONE),
        expected: caps(A),
        notify,
    };
    let empty = Case::new(
        "view of nothing after a notify",
        s,
        vec![
            // The notify binds as it is received, before the widget acks it.
            on(early, Rule::WidgetViewFollowsNotify, wrong.clone()),
            on(late, Rule::WidgetViewFollowsNotify, wrong),
        ],
    );

    let (s, notify, view) = reference_like(ReexchangeName::Unstable, A);
    let first_only = Case::new(
        "first notify only (#52)",
        s,
        vec![on(
            view,
            Rule::WidgetViewFollowsNotify,
            Reason::WrongView {
                seen: caps(A),
                expected: caps(A | B),
                notify,
            },
        )],
    );
    vec![empty, first_only]
}

#[test]
fn view_other_than_the_latest_notify() {
    for case in wrong_view_cases() {
        assert_eq!(case.check(), CLEAN, "{}", case.name);
    }
}

/// §9.4: a view before the widget's first notify is not judged, whatever it is.
fn view_before_notify_case() -> Case {
    let mut s = Session::msc();
    s.view(A | B | C);
    s.capabilities(0);
    s.view(B);
    s.answer_capabilities(0, A);
    s.view(C);
    s.prompt(A);
    s.decision(A);
    s.view(A | C);
    s.notify(1, A, A);
    s.ack_notify(1);
    s.view(A);
    Case::new("views before the first notify", s, vec![])
}

#[test]
fn view_before_the_first_notify_is_not_judged() {
    let case = view_before_notify_case();
    assert_eq!(case.check(), CLEAN);
    assert_eq!(case.session.path(Side::Both, false), CLEAN);
}

/// §9.4: a notify binds even with a smaller `approved` (the shrink is the client's fault).
/// `last_view` is the widget's view after it.
fn shrinking_notify_case(last_view: u64) -> Case {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, A | B);
    s.prompt(A | B);
    s.decision(A | B);
    s.notify(1, A | B, A | B);
    s.ack_notify(1);
    s.view(A | B);
    let shrinking = s.notify(2, A | B, A);
    s.ack_notify(2);
    let view = s.view(last_view);
    let w = if last_view == A {
        vec![]
    } else {
        vec![on(
            view,
            Rule::WidgetViewFollowsNotify,
            Reason::WrongView {
                seen: caps(last_view),
                expected: caps(A),
                notify: shrinking,
            },
        )]
    };
    Case::new(format!("shrinking notify, view {last_view:#b}"), s, w)
}

#[test]
fn a_notify_binds_even_when_it_approves_less() {
    for last_view in [A, A | B] {
        let case = shrinking_notify_case(last_view);
        // The client is judged for the shrink, on its side only.
        assert_eq!(
            case.check(),
            [
                on(
                    line(9),
                    Rule::OneNotifyPerRound,
                    Reason::ExtraNotify(Some(line(3)))
                ),
                on(
                    line(9),
                    Rule::ApprovalsNeverShrink,
                    Reason::Shrinks(caps(B), line(6))
                ),
            ],
            "{}",
            case.name
        );
    }
}

/// §9.4: a notify binds the view whether or not the client advertised anything: here no
/// versions answer at all (`msc`), or one without MSC2974 from a `legacy` client.
fn notify_binds_unadvertised_cases() -> Vec<Case> {
    [(Profile::MSC, None), (Profile::LEGACY, Some(false))]
        .into_iter()
        .map(|(profile, versions)| {
            let mut s = Session::new(profile);
            if let Some(msc2974) = versions {
                s.ask_versions(0);
                s.versions(0, msc2974);
            }
            s.capabilities(0);
            s.answer_capabilities(0, A);
            s.prompt(A);
            s.decision(A);
            let notify = s.notify(1, A, A);
            s.ack_notify(1);
            let view = s.view(NONE);
            let w = vec![on(
                view,
                Rule::WidgetViewFollowsNotify,
                Reason::WrongView {
                    seen: caps(NONE),
                    expected: caps(A),
                    notify,
                },
            )];
            Case::new(format!("notify binds, versions {versions:?}"), s, w)
        })
        .collect()
}

#[test]
fn a_notify_binds_whatever_was_advertised() {
    for case in notify_binds_unadvertised_cases() {
        assert_eq!(case.check(), CLEAN, "{}", case.name);
    }
}

/// §9.4 (and `Data::Invalid`): a notify without lists does not change what the view must be:
/// the latest notify with lists still binds it, and where there is none, the view is free.
fn notify_without_lists_cases() -> Vec<Case> {
    let invalid = |s: &mut Session, id: u32| {
        s.c_request(id, Action::NotifyCapabilities, Data::Invalid);
        s.ack_notify(id)
    };
    let mut out = Vec::new();
    for last_view in [A, NONE] {
        let mut s = Session::msc();
        s.capabilities(0);
        s.answer_capabilities(0, A);
        s.prompt(A);
        s.decision(A);
        let notify = s.notify(1, A, A);
        s.ack_notify(1);
        invalid(&mut s, 2);
        let view = s.view(last_view);
        let w = if last_view == A {
            vec![]
        } else {
            vec![on(
                view,
                Rule::WidgetViewFollowsNotify,
                Reason::WrongView {
                    seen: caps(NONE),
                    expected: caps(A),
                    notify,
                },
            )]
        };
        out.push(Case::new(
            format!("notify without lists after one of A, view {last_view:#b}"),
            s,
            w,
        ));
    }
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, A);
    invalid(&mut s, 1);
    s.view(B);
    out.push(Case::new("only a notify without lists", s, vec![]));
    out
}

#[test]
fn a_notify_without_lists_does_not_change_the_view() {
    let cases = notify_without_lists_cases();
    for case in &cases[..2] {
        // The client's fault: a second notify, and without lists.
        assert_eq!(
            case.check(),
            [
                on(
                    line(8),
                    Rule::OneNotifyPerRound,
                    Reason::ExtraNotify(Some(line(3)))
                ),
                on(
                    line(8),
                    Rule::NotifyReportsTotals,
                    Reason::NotifyWithoutLists
                ),
            ],
            "{}",
            case.name
        );
    }
    assert_eq!(
        cases[2].check(),
        [on(
            line(4),
            Rule::NotifyReportsTotals,
            Reason::NotifyWithoutLists
        )]
    );
}

// widget-reexchange-after-session

/// A re-exchange before the session: before the client asked for capabilities, and while its
/// request is open; with MSC2974 advertised, so that only this rule is broken.
fn reexchange_before_session_cases() -> Vec<Case> {
    let mut s = Session::msc();
    s.ask_versions(0);
    s.versions(0, true);
    let at = s.reexchange(1, ReexchangeName::Unstable, B);
    let not_asked = Case::new(
        "re-exchange before capabilities was sent",
        s,
        vec![on(
            at,
            Rule::WidgetReexchangeAfterSession,
            Reason::ReexchangeBeforeSession(None),
        )],
    );

    let mut s = Session::msc();
    let request = s.capabilities(0);
    s.ask_versions(0);
    s.versions(0, true);
    let at = s.reexchange(1, ReexchangeName::Stable, B);
    let end = s.end();
    let open = Case::new(
        "re-exchange while capabilities is open",
        s,
        vec![
            on(
                at,
                Rule::WidgetReexchangeAfterSession,
                Reason::ReexchangeBeforeSession(Some(request)),
            ),
            on(
                end,
                Rule::WidgetExactlyOneResponse,
                Reason::NeverAnsweredByWidget(request),
            ),
        ],
    );

    // Neither established nor advertised: both rules, on one line, in the order of §9.2.
    let mut s = Session::msc();
    let at = s.reexchange(0, ReexchangeName::Unstable, A);
    let both = Case::new(
        "re-exchange first of all",
        s,
        vec![
            on(
                at,
                Rule::WidgetReexchangeAfterSession,
                Reason::ReexchangeBeforeSession(None),
            ),
            on(
                at,
                Rule::WidgetReexchangeAdvertised,
                Reason::ReexchangeNotAdvertised(None),
            ),
        ],
    );
    vec![not_asked, open, both]
}

#[test]
fn reexchange_before_the_session() {
    let cases = reexchange_before_session_cases();
    for case in &cases {
        case.check();
    }
    // msc refuses an early request: the client owes it an error, never sent.
    assert_eq!(
        cases[0].check(),
        [on(
            line(5),
            Rule::ExactlyOneResponse,
            Reason::NeverAnswered(line(4))
        )]
    );
}

/// §9.4: any response to `capabilities`, an error included, answers it.
fn error_answers_capabilities_case() -> Case {
    let mut s = Session::msc();
    s.ask_versions(0);
    s.capabilities(0);
    s.versions(0, true);
    s.w_answer(0, Action::Capabilities, Reply::Error(Refusal::Other));
    // Round 0, of an empty list.
    s.notify(1, NONE, NONE);
    s.ack_notify(1);
    s.reexchange(1, ReexchangeName::Unstable, B);
    s.ack(1, Action::RequestCapabilities(ReexchangeName::Unstable));
    s.prompt(B);
    s.decision(B);
    s.notify(2, B, B);
    s.ack_notify(2);
    s.view(B);
    Case::new("an error answers capabilities", s, vec![])
}

#[test]
fn an_error_answer_to_capabilities_answers_it() {
    let case = error_answers_capabilities_case();
    assert_eq!(case.check(), CLEAN);
    assert_eq!(case.session.path(Side::Both, false), CLEAN);
}

// widget-reexchange-advertised

/// The latest answer to the widget's `supported_api_versions` decides (§9.4), for both names:
/// the session is established, then the widget asks for the versions once per answer in
/// `answers` (`Some(msc2974)`: a list; `None`: an error), then re-exchanges under `name`.
fn advertised_case(name: ReexchangeName, answers: &[Option<bool>]) -> Case {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    s.notify(1, NONE, NONE);
    s.ack_notify(1);
    let mut last = None;
    for (id, answer) in (0..).zip(answers) {
        s.ask_versions(id);
        last = Some(match *answer {
            Some(msc2974) => s.versions(id, msc2974),
            None => s.versions_error(id),
        });
    }
    let at = s.reexchange(answers.len() as u32, name, A);
    let w = match answers.last() {
        Some(Some(true)) => vec![],
        _ => vec![on(
            at,
            Rule::WidgetReexchangeAdvertised,
            Reason::ReexchangeNotAdvertised(last),
        )],
    };
    Case::new(format!("{name:?} after {answers:?}"), s, w)
}

fn advertised_cases() -> Vec<Case> {
    const HISTORIES: [&[Option<bool>]; 9] = [
        &[],
        &[Some(true)],
        &[Some(false)],
        &[None],
        &[Some(true), Some(false)],
        &[Some(true), None],
        &[Some(false), Some(true)],
        &[None, Some(true)],
        &[Some(true), Some(true), None],
    ];
    NAMES
        .into_iter()
        .flat_map(|name| HISTORIES.map(|h| advertised_case(name, h)))
        .collect()
}

#[test]
fn advertised_is_the_latest_versions_answer_for_both_names() {
    for case in advertised_cases() {
        case.check();
    }
    // The reasons cite the latest answer, or none.
    let case = advertised_case(ReexchangeName::Stable, &[Some(true), None]);
    assert_eq!(
        case.widget,
        [on(
            line(10),
            Rule::WidgetReexchangeAdvertised,
            Reason::ReexchangeNotAdvertised(Some(line(9)))
        )]
    );
    let case = advertised_case(ReexchangeName::Unstable, &[]);
    assert_eq!(
        case.widget,
        [on(
            line(6),
            Rule::WidgetReexchangeAdvertised,
            Reason::ReexchangeNotAdvertised(None)
        )]
    );
}

/// A question still open does not advertise; an earlier advertising answer still holds while a
/// later question is open; another widget's answer does not count.
fn advertised_open_question_cases() -> Vec<Case> {
    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    s.ask_versions(0);
    let at = s.reexchange(1, ReexchangeName::Unstable, A);
    let open = Case::new(
        "versions question open",
        s,
        vec![on(
            at,
            Rule::WidgetReexchangeAdvertised,
            Reason::ReexchangeNotAdvertised(None),
        )],
    );

    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    s.ask_versions(0);
    s.versions(0, true);
    s.ask_versions(1);
    s.reexchange(2, ReexchangeName::Stable, A);
    let still = Case::new("advertised, asked again", s, vec![]);

    let mut s = Session::msc();
    s.capabilities(0);
    s.answer_capabilities(0, NONE);
    s.ask_versions(0);
    s.client(foreign(Msg::response(
        Api::FromWidget,
        ReqId::Used(0),
        Action::SupportedApiVersions,
        Reply::Versions { msc2974: true },
    )));
    let at = s.reexchange(1, ReexchangeName::Unstable, A);
    let foreign_answer = Case::new(
        "advertised to another widget",
        s,
        vec![on(
            at,
            Rule::WidgetReexchangeAdvertised,
            Reason::ReexchangeNotAdvertised(None),
        )],
    );
    vec![open, still, foreign_answer]
}

#[test]
fn only_an_answer_received_advertises() {
    for case in advertised_open_question_cases() {
        case.check();
    }
}

// Other widgets (§9.4).

/// The client's messages to another widget: owed nothing, and a notify to another widget does
/// not bind the view; the widget answering such a request answers nothing of its own session.
fn foreign_client_cases() -> Vec<Case> {
    let mut s = Session::msc();
    s.client(foreign(Msg::request(
        Api::ToWidget,
        ReqId::Used(0),
        Action::Capabilities,
        Data::Empty,
    )));
    s.client(foreign(Msg::request(
        Api::ToWidget,
        ReqId::Used(1),
        Action::NotifyCapabilities,
        Data::Notify {
            requested: caps(A),
            approved: caps(A),
        },
    )));
    s.view(B);
    let owed_nothing = Case::new("client messages to another widget", s, vec![]);

    let mut s = Session::msc();
    s.client(foreign(Msg::request(
        Api::ToWidget,
        ReqId::Used(0),
        Action::Capabilities,
        Data::Empty,
    )));
    let at = s.answer_capabilities(0, A);
    let answered = Case::new(
        "answers another widget's request",
        s,
        vec![on(
            at,
            Rule::WidgetResponseMatchesRequest,
            Reason::AnswersNoClientRequest,
        )],
    );
    vec![owed_nothing, answered]
}

#[test]
fn client_messages_to_another_widget_are_owed_nothing() {
    let cases = foreign_client_cases();
    assert_eq!(
        cases[0].check(),
        [
            on(line(2), Rule::WellFormedMessage, Reason::ForeignWidget),
            on(line(3), Rule::WellFormedMessage, Reason::ForeignWidget),
        ]
    );
    assert_eq!(
        cases[1].check(),
        [on(line(2), Rule::WellFormedMessage, Reason::ForeignWidget)]
    );
}

// The sides, and coverage.

/// Every case of this file.
fn cases() -> Vec<Case> {
    let mut all = clean_reference_like_cases();
    all.extend([
        malformed_case(),
        request_to_widget_api_case(),
        foreign_request_case(),
        foreign_response_case(),
        answers_own_request_case(),
        answers_nothing_case(),
        wrong_action_case(false),
        wrong_action_case(true),
        unanswered_notify_case(),
        ids_per_side_case(),
        notify_not_acked_case(),
        view_before_notify_case(),
        shrinking_notify_case(A),
        shrinking_notify_case(A | B),
        error_answers_capabilities_case(),
    ]);
    all.extend(second_answer_cases());
    all.extend(reused_id_cases());
    all.extend(wrong_view_cases());
    all.extend(notify_binds_unadvertised_cases());
    all.extend(notify_without_lists_cases());
    all.extend(reexchange_before_session_cases());
    all.extend(advertised_cases());
    all.extend(advertised_open_question_cases());
    all.extend(foreign_client_cases());
    all
}

#[test]
fn no_widget_rule_is_judged_on_the_client_side() {
    assert_eq!(
        Judge::new(Profile::MSC),
        Judge::for_side(Profile::MSC, Side::Client)
    );
    for case in cases() {
        let client = case.check();
        assert!(
            client.iter().all(|(_, v)| v.rule.side() == Side::Client),
            "{}",
            case.name
        );
        // A widget rule left out of the judge's set reports nothing; the others are unchanged.
        for rule in widget_rules() {
            let mut judge = Judge::for_side(case.session.profile, Side::Widget);
            judge.rules = judge.rules.iter().filter(|&r| r != rule).collect();
            let others: Vec<_> = case
                .widget
                .iter()
                .filter(|(_, v)| v.rule != rule)
                .cloned()
                .collect();
            assert_eq!(
                case.session.path_by(&judge, false),
                others,
                "{} without {rule}",
                case.name
            );
        }
    }
}

#[test]
fn every_widget_rule_and_reason_is_reached() {
    let judged: Vec<(Line, Violation)> = cases().into_iter().flat_map(|c| c.widget).collect();
    let rules: BTreeSet<Rule> = judged.iter().map(|(_, v)| v.rule).collect();
    assert_eq!(
        rules,
        widget_rules().into_iter().collect::<BTreeSet<_>>(),
        "every widget rule is broken by some case"
    );
    let kinds: BTreeSet<&str> = judged.iter().map(|(_, v)| v.reason.kind()).collect();
    assert_eq!(kinds, WIDGET_KINDS.into_iter().collect::<BTreeSet<_>>());
    // Both arms of the optional positions.
    for wanted in [
        Reason::ReexchangeBeforeSession(None),
        Reason::ReexchangeBeforeSession(Some(line(2))),
        Reason::ReexchangeNotAdvertised(None),
    ] {
        assert!(judged.iter().any(|(_, v)| v.reason == wanted), "{wanted:?}");
    }
    assert!(judged
        .iter()
        .any(|(_, v)| matches!(v.reason, Reason::ReexchangeNotAdvertised(Some(_)))));
}

#[test]
fn widget_rules_apply_under_every_profile() {
    // The same session gives the same widget verdict under each profile's judge.
    for case in cases() {
        for profile in Profile::ALL {
            let mut s = case.session.clone();
            s.profile = profile;
            assert_eq!(
                s.widget_side(),
                case.widget,
                "{} under {}",
                case.name,
                profile.name
            );
        }
    }
}
