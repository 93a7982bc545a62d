//! The widget side, [`Widget`]: on its own (one message at a time), and against the
//! reference client of each profile.
//!
//! It asks for the client's supported versions as it starts, answers `capabilities` with its
//! list (and whatever its application asked for before), acks every notify, takes the approved
//! set of the LATEST notify as its view, holds what its application asks for later until the
//! latest versions answer lists `org.matrix.msc2974` and then sends it as one
//! `request_capabilities`, and keeps the requests it sent until they are answered.

use capneg_reference::client::{Client, Input, Output, Setup};
use capneg_reference::msg::{
    Action, ActionName, Api, Data, Msg, ReexchangeName, Refusal, Reply, ReqId,
};
use capneg_reference::profile::Profile;
use capneg_reference::widget::{Widget, WidgetInput};
use capneg_reference::CapSet;
use capneg_reference::Settings;
use std::collections::VecDeque;

/// MSC2974's re-exchange under the unstable name: the only name the reference widget sends.
const REEXCHANGE: Action = Action::RequestCapabilities(ReexchangeName::Unstable);

/// Capability 0, 1, 2, ... of the universe, as a set.
fn caps(members: &[u32]) -> CapSet {
    CapSet::from_mask(members.iter().fold(0, |mask, &c| mask | 1 << c))
}

/// A notify the client sends with request id `id`.
fn notify_msg(id: u32, requested: &[u32], approved: &[u32]) -> Msg {
    Msg::request(
        Api::ToWidget,
        ReqId::Used(id),
        Action::NotifyCapabilities,
        Data::Notify {
            requested: caps(requested),
            approved: caps(approved),
        },
    )
}

/// The client's `capabilities` request with id `id`.
fn capabilities_msg(id: u32) -> Msg {
    Msg::request(
        Api::ToWidget,
        ReqId::Used(id),
        Action::Capabilities,
        Data::Empty,
    )
}

/// The widget's messages in reaction to `input`.
fn step(widget: &mut Widget, input: WidgetInput) -> Vec<Msg> {
    let mut out = Vec::new();
    widget.handle(&input, &mut out);
    out
}

/// The widget's messages in reaction to a message from the client.
fn from_client(widget: &mut Widget, msg: Msg) -> Vec<Msg> {
    step(widget, WidgetInput::Client(msg))
}

/// The widget's messages when its application asks for `more`.
fn app(widget: &mut Widget, more: CapSet) -> Vec<Msg> {
    step(widget, WidgetInput::App(more))
}

/// The client's answer to the widget's `supported_api_versions` request `id`.
fn versions_answer(id: ReqId, msc2974: bool) -> Msg {
    Msg::response(
        Api::FromWidget,
        id,
        Action::SupportedApiVersions,
        Reply::Versions { msc2974 },
    )
}

/// The client's error answer to the widget's `supported_api_versions` request `id`.
fn versions_error(id: ReqId) -> Msg {
    Msg::response(
        Api::FromWidget,
        id,
        Action::SupportedApiVersions,
        Reply::Error(Refusal::Other),
    )
}

/// The re-exchange request the widget sends with id `id`, asking for `list`.
fn reexchange_msg(id: u32, list: CapSet) -> Msg {
    Msg::request(
        Api::FromWidget,
        ReqId::Used(id),
        REEXCHANGE,
        Data::Capabilities(list),
    )
}

/// A started widget (its versions question is `w0`) that has answered the client's
/// `capabilities` request: it may re-exchange as soon as the client advertises MSC2974.
fn started_and_answered(initial: CapSet) -> Widget {
    let mut question = Vec::new();
    let mut widget = Widget::start(initial, &mut question);
    assert_eq!(question.len(), 1);
    assert_eq!(from_client(&mut widget, capabilities_msg(0)).len(), 1);
    assert!(widget.answered_capabilities());
    widget
}

/// The widget asks for the versions again. The reference widget asks only as it starts and has
/// no input of its own to ask again; `Gated` sends any action it is given, so a test uses it to
/// put a second `supported_api_versions` question to the widget's latest-answer logic.
fn ask_versions_again(widget: &mut Widget) -> ReqId {
    let out = step(
        widget,
        WidgetInput::Gated(Action::SupportedApiVersions, CapSet::new()),
    );
    let [question] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(question.action, Action::SupportedApiVersions);
    question.id
}

/// `start` asks for the client's supported versions, as its first message, with id 0; `new`
/// sends nothing and has nothing open.
#[test]
fn start_asks_the_versions_first() {
    let mut out = Vec::new();
    let widget = Widget::start(caps(&[0, 1]), &mut out);
    assert_eq!(
        out,
        [Msg::request(
            Api::FromWidget,
            ReqId::Used(0),
            Action::SupportedApiVersions,
            Data::Empty
        )]
    );
    assert_eq!(
        widget.open_requests(),
        [(ReqId::Used(0), Action::SupportedApiVersions)]
    );
    assert_eq!(widget.client_supports_reexchange(), None);
    assert!(!widget.answered_capabilities());
    assert!(!widget.may_reexchange());

    // `start` appends to what is in the buffer already.
    let mut out = vec![capabilities_msg(9)];
    Widget::start(caps(&[0]), &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], capabilities_msg(9));

    let widget = Widget::new(caps(&[0, 1]));
    assert!(widget.open_requests().is_empty());
    assert_eq!(widget.client_supports_reexchange(), None);
}

/// The widget answers the client's `capabilities` request with its list.
#[test]
fn answers_capabilities_with_its_list() {
    for list in [caps(&[]), caps(&[0]), caps(&[1, 3, 5])] {
        let mut widget = Widget::new(list.clone());
        assert!(!widget.answered_capabilities());
        let out = from_client(&mut widget, capabilities_msg(7));
        assert_eq!(
            out,
            [Msg::response(
                Api::ToWidget,
                ReqId::Used(7),
                Action::Capabilities,
                Reply::Capabilities(list)
            )]
        );
        assert!(widget.answered_capabilities());
        // Answering is not a request of its own.
        assert!(widget.open_requests().is_empty());
    }
}

/// The widget answers the client's other requests: `supported_api_versions` without
/// `org.matrix.msc2974` (a widget serves no re-exchange), anything else with `{}`.
#[test]
fn answers_other_client_requests() {
    let mut widget = Widget::new(caps(&[0]));
    for (action, reply) in [
        (
            Action::SupportedApiVersions,
            Reply::Versions { msc2974: false },
        ),
        (Action::Other(ActionName(0)), Reply::Ack),
    ] {
        let out = from_client(
            &mut widget,
            Msg::request(Api::ToWidget, ReqId::Used(4), action, Data::Empty),
        );
        assert_eq!(
            out,
            [Msg::response(Api::ToWidget, ReqId::Used(4), action, reply)]
        );
    }
    assert!(!widget.answered_capabilities());
    assert!(widget.open_requests().is_empty());
}

/// The widget acks each notify, echoing its id, and counts it.
#[test]
fn acks_notifies() {
    let mut widget = Widget::new(caps(&[0, 1]));
    assert_eq!(widget.notifies(), 0);
    for (n, id) in [3, 9, 4].into_iter().enumerate() {
        let out = from_client(&mut widget, notify_msg(id, &[0, 1], &[0]));
        assert_eq!(
            out,
            [Msg::response(
                Api::ToWidget,
                ReqId::Used(id),
                Action::NotifyCapabilities,
                Reply::Ack
            )]
        );
        assert_eq!(widget.notifies(), n as u32 + 1);
    }
}

/// The widget's view is the approved set of the latest notify, not the first (MSC2974: a later
/// notify supersedes), even when a later notify reports less.
#[test]
fn approved_view_follows_the_latest_notify() {
    let mut widget = Widget::new(caps(&[0, 1, 2]));
    assert!(widget.approved().is_empty());
    from_client(&mut widget, notify_msg(1, &[0, 1], &[0]));
    assert_eq!(widget.approved(), &caps(&[0]));
    assert_eq!(widget.reported_requested(), &caps(&[0, 1]));
    from_client(&mut widget, notify_msg(2, &[0, 1, 2], &[0, 2]));
    assert_eq!(widget.approved(), &caps(&[0, 2]));
    assert_eq!(widget.reported_requested(), &caps(&[0, 1, 2]));
    from_client(&mut widget, notify_msg(3, &[1], &[1]));
    assert_eq!(widget.approved(), &caps(&[1]));
    assert_eq!(widget.reported_requested(), &caps(&[1]));
    assert_eq!(widget.notifies(), 3);
}

/// A notify whose data is not of its shape is acked but does not change the view.
#[test]
fn invalid_notify_is_acked_but_not_read() {
    let mut widget = Widget::new(caps(&[0]));
    from_client(&mut widget, notify_msg(1, &[0], &[0]));
    let out = from_client(
        &mut widget,
        Msg::request(
            Api::ToWidget,
            ReqId::Used(2),
            Action::NotifyCapabilities,
            Data::Invalid,
        ),
    );
    assert_eq!(
        out,
        [Msg::response(
            Api::ToWidget,
            ReqId::Used(2),
            Action::NotifyCapabilities,
            Reply::Ack
        )]
    );
    assert_eq!(widget.approved(), &caps(&[0]));
    assert_eq!(widget.notifies(), 1);
}

/// Messages about another widget get no answer and change nothing, also an answer that would
/// otherwise advertise MSC2974.
#[test]
fn messages_of_another_widget_are_ignored() {
    let mut out = Vec::new();
    let mut widget = Widget::start(caps(&[0]), &mut out);
    let before = widget.clone();
    for mut msg in [
        capabilities_msg(0),
        notify_msg(1, &[0], &[0]),
        versions_answer(ReqId::Used(0), true),
    ] {
        msg.foreign = true;
        assert_eq!(from_client(&mut widget, msg), []);
    }
    assert_eq!(widget, before);
}

/// What the application asks for before the widget answered `capabilities` joins the answer:
/// nothing is sent for it and nothing is held.
#[test]
fn an_early_app_request_joins_the_answer() {
    let mut question = Vec::new();
    let mut widget = Widget::start(caps(&[0]), &mut question);
    assert_eq!(app(&mut widget, caps(&[1])), []);
    assert_eq!(app(&mut widget, caps(&[2, 0])), []);
    assert!(widget.held().is_empty());
    // Even once the client advertised MSC2974: the answer is still to come.
    assert_eq!(
        from_client(&mut widget, versions_answer(question[0].id, true)),
        []
    );
    assert_eq!(app(&mut widget, caps(&[3])), []);
    assert!(widget.held().is_empty());
    assert!(!widget.may_reexchange());
    assert_eq!(
        from_client(&mut widget, capabilities_msg(0)),
        [Msg::response(
            Api::ToWidget,
            ReqId::Used(0),
            Action::Capabilities,
            Reply::Capabilities(caps(&[0, 1, 2, 3]))
        )]
    );
    assert!(widget.may_reexchange());
    assert!(widget.held().is_empty());
    assert!(widget.open_requests().is_empty());
}

/// What the application asks for once the widget answered `capabilities` is held while the
/// client has not advertised MSC2974, and sent as one `request_capabilities` (unstable name),
/// with everything held, as soon as the versions answer advertises it.
#[test]
fn a_later_app_request_is_held_until_advertised() {
    let mut question = Vec::new();
    let mut widget = Widget::start(caps(&[0]), &mut question);
    from_client(&mut widget, capabilities_msg(0));
    assert!(widget.answered_capabilities());
    // The versions question is still open.
    assert!(!widget.may_reexchange());
    assert_eq!(app(&mut widget, caps(&[1])), []);
    assert_eq!(app(&mut widget, caps(&[2])), []);
    assert_eq!(widget.held(), &caps(&[1, 2]));
    // Other traffic does not send it either.
    assert_eq!(from_client(&mut widget, notify_msg(1, &[0], &[0])).len(), 1);
    assert_eq!(widget.held(), &caps(&[1, 2]));

    let out = from_client(&mut widget, versions_answer(question[0].id, true));
    assert_eq!(out, [reexchange_msg(1, caps(&[1, 2]))]);
    assert!(widget.held().is_empty());
    assert!(widget.may_reexchange());
    assert_eq!(widget.client_supports_reexchange(), Some(true));
    assert_eq!(widget.open_requests(), [(ReqId::Used(1), REEXCHANGE)]);

    // Once advertised, a request is sent at once; an empty one sends nothing.
    assert_eq!(
        app(&mut widget, caps(&[3])),
        [reexchange_msg(2, caps(&[3]))]
    );
    assert_eq!(app(&mut widget, CapSet::new()), []);
    assert!(widget.held().is_empty());
}

/// A versions answer that does not list MSC2974 keeps the request held; so does an error.
#[test]
fn an_unadvertising_first_answer_keeps_requests_held() {
    for answer in [
        versions_answer(ReqId::Used(0), false),
        versions_error(ReqId::Used(0)),
    ] {
        let mut widget = started_and_answered(caps(&[0]));
        assert_eq!(app(&mut widget, caps(&[1])), []);
        assert_eq!(from_client(&mut widget, answer.clone()), [], "{answer:?}");
        assert_eq!(widget.client_supports_reexchange(), Some(false));
        assert!(!widget.may_reexchange());
        assert_eq!(widget.held(), &caps(&[1]));
        assert_eq!(app(&mut widget, caps(&[2])), []);
        assert_eq!(widget.held(), &caps(&[1, 2]));
        assert!(widget.open_requests().is_empty());
    }
}

/// The latest versions answer decides: a later answer without MSC2974, or an error, stops
/// further sends (requests are held again), and a later advertising answer sends them.
#[test]
fn a_later_unadvertising_answer_holds_requests_again() {
    for later in [
        (|id| versions_answer(id, false)) as fn(ReqId) -> Msg,
        versions_error,
    ] {
        let mut widget = started_and_answered(caps(&[0]));
        assert_eq!(
            from_client(&mut widget, versions_answer(ReqId::Used(0), true)),
            []
        );
        assert_eq!(
            app(&mut widget, caps(&[1])),
            [reexchange_msg(1, caps(&[1]))]
        );

        let again = ask_versions_again(&mut widget);
        assert_eq!(again, ReqId::Used(2));
        // While the question is open, the earlier answer still holds.
        assert_eq!(
            app(&mut widget, caps(&[2])),
            [reexchange_msg(3, caps(&[2]))]
        );
        assert_eq!(from_client(&mut widget, later(again)), []);
        assert_eq!(widget.client_supports_reexchange(), Some(false));
        assert!(!widget.may_reexchange());
        assert_eq!(app(&mut widget, caps(&[3])), []);
        assert_eq!(app(&mut widget, caps(&[4])), []);
        assert_eq!(widget.held(), &caps(&[3, 4]));

        let third = ask_versions_again(&mut widget);
        assert_eq!(
            from_client(&mut widget, versions_answer(third, true)),
            [reexchange_msg(5, caps(&[3, 4]))]
        );
        assert!(widget.held().is_empty());
    }
}

/// A versions answer that does not answer the widget's open question is not taken as the
/// client's advertisement, and sends nothing held.
#[test]
fn unsolicited_versions_answer_is_not_taken() {
    let mut widget = Widget::new(caps(&[0]));
    from_client(&mut widget, capabilities_msg(0));
    app(&mut widget, caps(&[1]));
    assert_eq!(
        from_client(&mut widget, versions_answer(ReqId::Used(0), true)),
        []
    );
    assert_eq!(widget.client_supports_reexchange(), None);

    let mut question = Vec::new();
    let mut widget = Widget::start(caps(&[0]), &mut question);
    from_client(&mut widget, capabilities_msg(0));
    app(&mut widget, caps(&[1]));
    let asked = question[0].id.used().unwrap();
    for stray in [
        versions_answer(ReqId::Used(asked + 1), true),
        versions_answer(ReqId::Unused(asked), true),
        // The right id, another action.
        Msg::response(
            Api::FromWidget,
            ReqId::Used(asked),
            Action::ContentLoaded,
            Reply::Versions { msc2974: true },
        ),
    ] {
        assert_eq!(from_client(&mut widget, stray), []);
        assert_eq!(widget.client_supports_reexchange(), None);
        assert_eq!(widget.held(), &caps(&[1]));
    }
    // Answered twice: only the first is taken.
    from_client(&mut widget, versions_answer(ReqId::Used(asked), false));
    assert_eq!(
        from_client(&mut widget, versions_answer(ReqId::Used(asked), true)),
        []
    );
    assert_eq!(widget.client_supports_reexchange(), Some(false));
}

/// Every request the widget starts has a fresh id, also once earlier ones were answered.
#[test]
fn requests_use_fresh_ids() {
    let mut sent = Vec::new();
    let mut widget = Widget::start(caps(&[0]), &mut sent);
    from_client(&mut widget, capabilities_msg(0));
    sent.extend(from_client(
        &mut widget,
        versions_answer(ReqId::Used(0), true),
    ));
    sent.extend(app(&mut widget, caps(&[1])));
    // Answered: its id is not used again.
    from_client(
        &mut widget,
        Msg::response(Api::FromWidget, sent[1].id, REEXCHANGE, Reply::Ack),
    );
    sent.extend(app(&mut widget, caps(&[2])));
    sent.extend(step(&mut widget, WidgetInput::ContentLoaded));
    sent.extend(step(
        &mut widget,
        WidgetInput::Gated(Action::SendEvent, caps(&[0])),
    ));
    let ids: Vec<ReqId> = sent.iter().map(|m| m.id).collect();
    assert_eq!(ids, (0..5).map(ReqId::Used).collect::<Vec<_>>());
    assert!(sent.iter().all(|m| m.api == Api::FromWidget));
    assert_eq!(widget.take_request_id(), ReqId::Used(5));
    assert_eq!(
        step(&mut widget, WidgetInput::ContentLoaded)[0].id,
        ReqId::Used(6),
        "an id taken is not used by the widget"
    );
}

/// The widget records every request it sent, with fresh ids, until the matching response (same
/// id and action) arrives; other responses leave them open.
#[test]
fn records_open_requests() {
    let mut sent = Vec::new();
    let mut widget = Widget::start(caps(&[0]), &mut sent);
    sent.extend(step(&mut widget, WidgetInput::ContentLoaded));
    sent.extend(step(
        &mut widget,
        WidgetInput::Gated(Action::SetAlwaysOnScreen, caps(&[0])),
    ));
    sent.extend(step(
        &mut widget,
        WidgetInput::Gated(Action::SendEvent, caps(&[1])),
    ));
    assert_eq!(sent.len(), 4);
    let recorded: Vec<(ReqId, Action)> = sent.iter().map(|m| (m.id, m.action)).collect();
    assert_eq!(widget.open_requests(), recorded.as_slice());
    let mut ids: Vec<ReqId> = recorded.iter().map(|r| r.0).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "the widget reused a request id");
    assert_eq!(
        sent[2].data(),
        Some(&Data::Gated(caps(&[0]))),
        "the gated request carries its permitting set"
    );

    // Wrong action, unknown id, a client request: nothing is closed.
    let content = sent[1].id;
    for msg in [
        Msg::response(Api::FromWidget, content, Action::SendEvent, Reply::Ack),
        Msg::response(
            Api::FromWidget,
            ReqId::Used(99),
            Action::ContentLoaded,
            Reply::Ack,
        ),
        Msg::request(Api::FromWidget, content, Action::ContentLoaded, Data::Empty),
    ] {
        assert_eq!(from_client(&mut widget, msg), []);
        assert_eq!(widget.open_requests(), recorded.as_slice());
    }

    // The matching responses close them, in any order; errors close them too.
    from_client(
        &mut widget,
        Msg::response(Api::FromWidget, content, Action::ContentLoaded, Reply::Ack),
    );
    assert_eq!(
        widget.open_requests(),
        [recorded[0], recorded[2], recorded[3]]
    );
    from_client(
        &mut widget,
        Msg::response(
            Api::FromWidget,
            sent[3].id,
            Action::SendEvent,
            Reply::Error(Refusal::NotApproved),
        ),
    );
    assert_eq!(widget.open_requests(), [recorded[0], recorded[2]]);
    // Answered twice: the second answer finds nothing.
    from_client(
        &mut widget,
        Msg::response(Api::FromWidget, content, Action::ContentLoaded, Reply::Ack),
    );
    assert_eq!(widget.open_requests(), [recorded[0], recorded[2]]);
}

// ---------------------------------------------------------------------------------------------
// Against the reference client
// ---------------------------------------------------------------------------------------------

/// A message on its way.
enum Hop {
    ToWidget(Msg),
    ToClient(Msg),
}

/// The reference client and the widget, connected; the test plays the user.
///
/// After every message the widget takes, the pair checks `widget-view-follows-notify`: once a
/// notify was delivered, the widget's view is the approved set of the latest one.
struct Pair {
    setup: Setup,
    client: Client,
    widget: Widget,
    /// Messages on their way, in the order they were posted.
    queue: VecDeque<Hop>,
    /// Prompts waiting for the user, oldest first.
    prompts: VecDeque<CapSet>,
    /// Every notify the widget received: (requested, approved).
    notifies: Vec<(CapSet, CapSet)>,
    /// Every response the client sent to the widget's requests.
    client_answers: Vec<Msg>,
    /// Every message the widget posted.
    widget_sent: Vec<Msg>,
}

impl Pair {
    /// A pair under `profile` whose session waits for the widget's `content_loaded`.
    fn waiting_for_content_loaded(profile: Profile, initial: CapSet) -> Pair {
        let settings = Settings {
            wait_for_content_loaded: true,
            ..Settings::default()
        };
        Pair::new(profile, settings, initial)
    }

    /// A session of the reference client and a started widget (`Widget::start`); everything is
    /// delivered.
    fn new(profile: Profile, settings: Settings, initial: CapSet) -> Pair {
        let mut pair = Pair::unsettled(profile, settings, initial);
        pair.settle();
        pair
    }

    /// As [`Pair::new`], nothing delivered yet: the client's first messages are queued before
    /// the widget's versions question.
    fn unsettled(profile: Profile, settings: Settings, initial: CapSet) -> Pair {
        let mut first = Vec::new();
        let widget = Widget::start(initial, &mut first);
        let mut pair = Pair::with_widget(profile, settings, widget);
        pair.widget_posts(first);
        pair
    }

    /// A session of the reference client and a widget that never asks for the versions
    /// (`Widget::new`); everything is delivered.
    fn never_asking(profile: Profile, settings: Settings, initial: CapSet) -> Pair {
        let mut pair = Pair::with_widget(profile, settings, Widget::new(initial));
        pair.settle();
        pair
    }

    fn with_widget(profile: Profile, settings: Settings, widget: Widget) -> Pair {
        let setup = Setup { profile, settings };
        let mut out = Vec::new();
        let client = Client::start(&setup, &mut out);
        let mut pair = Pair {
            setup,
            client,
            widget,
            queue: VecDeque::new(),
            prompts: VecDeque::new(),
            notifies: Vec::new(),
            client_answers: Vec::new(),
            widget_sent: Vec::new(),
        };
        pair.absorb(out);
        pair
    }

    fn absorb(&mut self, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Send(m) => self.queue.push_back(Hop::ToWidget(m)),
                Output::Prompt(asked) => self.prompts.push_back(asked),
            }
        }
    }

    fn widget_posts(&mut self, out: Vec<Msg>) {
        self.widget_sent.extend(out.iter().cloned());
        self.queue.extend(out.into_iter().map(Hop::ToClient));
    }

    /// Delivers the oldest message on its way; whether there was one.
    fn deliver_one(&mut self) -> bool {
        let Some(hop) = self.queue.pop_front() else {
            return false;
        };
        match hop {
            Hop::ToWidget(m) => {
                if let Some(Data::Notify {
                    requested,
                    approved,
                }) = m.data()
                {
                    if m.action == Action::NotifyCapabilities {
                        self.notifies.push((requested.clone(), approved.clone()));
                    }
                }
                if m.reply().is_some() {
                    self.client_answers.push(m.clone());
                }
                let mut out = Vec::new();
                self.widget.handle(&WidgetInput::Client(m), &mut out);
                self.widget_posts(out);
                self.assert_view_follows_notify();
            }
            Hop::ToClient(m) => {
                let mut out = Vec::new();
                self.client
                    .handle(&self.setup, &Input::Widget(m), &mut out)
                    .unwrap();
                self.absorb(out);
            }
        }
        true
    }

    /// Delivers messages until both sides are quiet.
    fn settle(&mut self) {
        while self.deliver_one() {}
    }

    /// The widget does `input`; everything is delivered.
    fn widget_does(&mut self, input: WidgetInput) {
        let mut out = Vec::new();
        self.widget.handle(&input, &mut out);
        self.widget_posts(out);
        self.settle();
    }

    /// The application asks for `more`; everything is delivered.
    fn app(&mut self, more: CapSet) {
        self.widget_does(WidgetInput::App(more));
    }

    /// The user answers the oldest prompt, approving `approved` of it.
    fn decide(&mut self, approved: CapSet) {
        assert!(self.prompts.pop_front().is_some(), "no prompt to decide");
        let mut out = Vec::new();
        self.client
            .handle(&self.setup, &Input::Decision(approved), &mut out)
            .unwrap();
        self.absorb(out);
        self.settle();
    }

    /// The user approves everything asked, until no prompt is open.
    fn approve_all(&mut self) {
        while let Some(asked) = self.prompts.front().cloned() {
            self.decide(asked);
        }
    }

    /// `widget-view-follows-notify`: once it received a notify, the widget's view is the
    /// approved set of the latest one.
    fn assert_view_follows_notify(&self) {
        if let Some((_, approved)) = self.notifies.last() {
            assert_eq!(
                self.widget.approved(),
                approved,
                "{}: the view is not the latest notify's",
                self.setup.profile
            );
        }
    }

    /// The widget and the client agree on the approved set, the view is the latest notify's,
    /// and nothing is left unanswered.
    fn assert_in_sync(&self) {
        self.assert_view_follows_notify();
        assert_eq!(self.widget.approved(), self.client.approved());
        assert!(
            self.widget.open_requests().is_empty(),
            "{:?}",
            self.widget.open_requests()
        );
        assert_eq!(self.widget.notifies() as usize, self.notifies.len());
    }

    /// The client's last answer to the widget.
    fn last_answer(&self) -> &Reply {
        self.client_answers.last().unwrap().reply().unwrap()
    }

    /// The re-exchange requests the widget sent, with their lists.
    fn reexchanges(&self) -> Vec<CapSet> {
        self.widget_sent
            .iter()
            .filter(|m| matches!(m.action, Action::RequestCapabilities(_)))
            .map(|m| {
                assert_eq!(m.action, REEXCHANGE, "only the unstable name");
                match m.data() {
                    Some(Data::Capabilities(list)) => list.clone(),
                    other => panic!("a re-exchange request carries its list: {other:?}"),
                }
            })
            .collect()
    }
}

fn policy() -> Settings {
    Settings::default()
}

/// Whether the reference client of `profile` advertises `org.matrix.msc2974`.
fn advertises(profile: Profile) -> bool {
    profile != Profile::LEGACY
}

/// Against the reference client of every profile: round 0 with the widget's list; the view is
/// the approved set; the client's versions answer is recorded as it advertises.
#[test]
fn initial_exchange_against_every_profile() {
    for (profile, advertised) in [
        (Profile::MSC, true),
        (Profile::WIDGET_API, true),
        (Profile::LEGACY, false),
    ] {
        assert_eq!(advertises(profile), advertised);
        let mut pair = Pair::new(profile, policy(), caps(&[0, 1, 2]));
        assert!(pair.client.is_established(), "{profile}");
        assert_eq!(pair.prompts, [caps(&[0, 1, 2])], "{profile}");
        assert_eq!(pair.widget.notifies(), 0, "{profile}");
        assert_eq!(
            pair.widget.client_supports_reexchange(),
            Some(advertised),
            "{profile}"
        );
        assert_eq!(pair.widget_sent[0].action, Action::SupportedApiVersions);
        pair.decide(caps(&[0, 2]));
        assert_eq!(pair.widget.approved(), &caps(&[0, 2]), "{profile}");
        assert_eq!(pair.widget.reported_requested(), &caps(&[0, 1, 2]));
        assert!(pair.reexchanges().is_empty());
        pair.assert_in_sync();
    }
}

/// msc: the widget's view follows each notify of a session of re-exchanges (the latest, which
/// grows), and its `requested` is the session total.
#[test]
fn view_follows_the_latest_notify_msc() {
    let mut pair = Pair::new(Profile::MSC, policy(), caps(&[0]));
    pair.approve_all();
    assert_eq!(pair.widget.approved(), &caps(&[0]));
    pair.app(caps(&[1, 2]));
    assert_eq!(pair.last_answer(), &Reply::Ack);
    assert_eq!(pair.prompts, [caps(&[1, 2])]);
    // The ack came before the user's decision; the view has not changed yet.
    assert_eq!(pair.widget.approved(), &caps(&[0]));
    pair.decide(caps(&[1]));
    assert_eq!(pair.widget.approved(), &caps(&[0, 1]));
    assert_eq!(pair.widget.reported_requested(), &caps(&[0, 1, 2]));
    pair.app(caps(&[3]));
    pair.approve_all();
    assert_eq!(pair.widget.approved(), &caps(&[0, 1, 3]));
    assert_eq!(pair.widget.reported_requested(), &caps(&[0, 1, 2, 3]));
    assert_eq!(pair.widget.notifies(), 3);
    assert_eq!(pair.reexchanges(), [caps(&[1, 2]), caps(&[3])]);
    pair.assert_in_sync();
}

/// widget-api: two rounds in parallel; the view follows the latest notify, whose `requested`
/// is the round's new capabilities.
#[test]
fn view_follows_the_latest_notify_widget_api() {
    let mut pair = Pair::new(Profile::WIDGET_API, policy(), caps(&[0]));
    pair.approve_all();
    pair.app(caps(&[0, 1]));
    pair.app(caps(&[1, 2]));
    assert_eq!(pair.prompts, [caps(&[1]), caps(&[1, 2])]);
    pair.decide(caps(&[1]));
    assert_eq!(pair.widget.approved(), &caps(&[0, 1]));
    assert_eq!(pair.widget.reported_requested(), &caps(&[1]));
    pair.decide(caps(&[2]));
    assert_eq!(pair.widget.approved(), &caps(&[0, 1, 2]));
    assert_eq!(pair.widget.reported_requested(), &caps(&[1, 2]));
    assert_eq!(pair.widget.notifies(), 3);
    pair.assert_in_sync();
}

/// legacy: the client does not advertise MSC2974, so the widget never asks again (it holds the
/// application's request); its view is round 0's approvals.
#[test]
fn legacy_client_is_never_asked_again() {
    let mut pair = Pair::new(Profile::LEGACY, policy(), caps(&[0, 1]));
    pair.decide(caps(&[1]));
    assert_eq!(pair.widget.client_supports_reexchange(), Some(false));
    let sent = pair.widget_sent.len();
    pair.app(caps(&[0]));
    assert_eq!(pair.widget_sent.len(), sent, "nothing sent");
    assert_eq!(pair.widget.held(), &caps(&[0]));
    assert!(pair.prompts.is_empty());
    assert_eq!(pair.widget.approved(), &caps(&[1]));
    assert_eq!(pair.widget.notifies(), 1);
    pair.assert_in_sync();
}

/// Every profile: the widget that does not ask for the versions never sends a re-exchange,
/// even to a client that would accept it; it holds the application's request.
#[test]
fn no_reexchange_without_asking_versions() {
    for profile in Profile::ALL {
        let mut pair = Pair::never_asking(profile, policy(), caps(&[0]));
        pair.approve_all();
        pair.app(caps(&[1]));
        assert_eq!(pair.widget.client_supports_reexchange(), None, "{profile}");
        assert_eq!(pair.widget.held(), &caps(&[1]), "{profile}");
        assert!(pair.reexchanges().is_empty(), "{profile}");
        assert!(pair.prompts.is_empty(), "{profile}");
        assert_eq!(pair.widget.approved(), &caps(&[0]), "{profile}");
        pair.assert_in_sync();
    }
}

/// Every profile: what the application asks for before the widget answered `capabilities` is
/// part of round 0; no re-exchange is sent for it.
#[test]
fn early_app_request_joins_round_zero_against_every_profile() {
    for profile in Profile::ALL {
        let mut pair = Pair::waiting_for_content_loaded(profile, caps(&[0]));
        assert!(!pair.client.is_established(), "{profile}");
        pair.app(caps(&[1]));
        assert!(pair.widget.held().is_empty(), "{profile}");
        pair.widget_does(WidgetInput::ContentLoaded);
        assert_eq!(pair.prompts, [caps(&[0, 1])], "{profile}");
        pair.approve_all();
        assert_eq!(pair.widget.approved(), &caps(&[0, 1]), "{profile}");
        assert_eq!(pair.widget.notifies(), 1, "{profile}");
        assert!(pair.reexchanges().is_empty(), "{profile}");
        pair.assert_in_sync();
    }
}

/// Every profile: requests the application makes after the widget answered `capabilities` but
/// before the versions answer are held, and sent once, together, where the client advertises
/// MSC2974; the view follows every notify.
#[test]
fn held_requests_are_sent_once_advertised_against_every_profile() {
    for profile in Profile::ALL {
        let mut pair = Pair::unsettled(profile, policy(), caps(&[0]));
        // The client's `capabilities` reaches the widget first: it answers; the versions
        // question has not reached the client yet.
        assert!(pair.deliver_one());
        assert!(pair.widget.answered_capabilities(), "{profile}");
        assert_eq!(pair.widget.client_supports_reexchange(), None, "{profile}");
        for more in [caps(&[1]), caps(&[2])] {
            let mut out = Vec::new();
            pair.widget.handle(&WidgetInput::App(more), &mut out);
            assert_eq!(out, [], "{profile}: held while not advertised");
        }
        assert_eq!(pair.widget.held(), &caps(&[1, 2]), "{profile}");
        pair.settle();
        assert_eq!(
            pair.widget.client_supports_reexchange(),
            Some(advertises(profile)),
            "{profile}"
        );
        pair.approve_all();
        if advertises(profile) {
            assert_eq!(pair.reexchanges(), [caps(&[1, 2])], "{profile}");
            assert!(pair.widget.held().is_empty(), "{profile}");
            assert_eq!(pair.widget.approved(), &caps(&[0, 1, 2]), "{profile}");
            assert_eq!(pair.widget.notifies(), 2, "{profile}");
        } else {
            assert!(pair.reexchanges().is_empty(), "{profile}");
            assert_eq!(pair.widget.held(), &caps(&[1, 2]), "{profile}");
            assert_eq!(pair.widget.approved(), &caps(&[0]), "{profile}");
            assert_eq!(pair.widget.notifies(), 1, "{profile}");
        }
        pair.assert_in_sync();
    }
}

/// Every profile: gated actions the widget performs are answered by the approved set the
/// widget was last told about, and each closes its open request.
#[test]
fn gated_actions_agree_with_the_view() {
    for profile in Profile::ALL {
        let mut pair = Pair::new(profile, policy(), caps(&[0, 1]));
        // Prompt open: nothing is approved yet.
        pair.widget_does(WidgetInput::Gated(Action::SetAlwaysOnScreen, caps(&[0])));
        assert!(pair.last_answer().is_error(), "{profile}");
        pair.decide(caps(&[0]));
        for (permitting, allowed) in [(caps(&[0]), true), (caps(&[1]), false)] {
            for action in [Action::SetAlwaysOnScreen, Action::SendEvent] {
                pair.widget_does(WidgetInput::Gated(action, permitting.clone()));
                assert_eq!(
                    !pair.last_answer().is_error(),
                    allowed,
                    "{profile} {action:?}"
                );
                assert_eq!(
                    pair.widget.approved().intersects(&permitting),
                    allowed,
                    "{profile}"
                );
            }
        }
        pair.assert_in_sync();
    }
}

/// Every profile, with `waitForContentLoaded`: the exchange starts only once the widget says
/// its content has loaded.
#[test]
fn content_loaded_starts_the_exchange() {
    for profile in Profile::ALL {
        let mut pair = Pair::waiting_for_content_loaded(profile, caps(&[0]));
        assert!(!pair.client.is_established(), "{profile}");
        assert!(pair.prompts.is_empty());
        // The versions were answered before the session started.
        assert_eq!(
            pair.widget.client_supports_reexchange(),
            Some(advertises(profile)),
            "{profile}"
        );
        pair.widget_does(WidgetInput::ContentLoaded);
        assert!(pair.client.is_established(), "{profile}");
        assert_eq!(pair.prompts, [caps(&[0])], "{profile}");
        pair.approve_all();
        assert_eq!(pair.widget.approved(), &caps(&[0]), "{profile}");
        pair.assert_in_sync();
    }
}

/// Every profile: a session of several application requests and partial approvals keeps the
/// widget's view equal to the latest notify after every message (checked by the pair), and
/// equal to the client's approved set at the end.
#[test]
fn view_equals_the_latest_notify_against_every_profile() {
    for profile in Profile::ALL {
        let mut pair = Pair::new(profile, policy(), caps(&[0, 1]));
        pair.decide(caps(&[1]));
        for (more, approve) in [
            (caps(&[2]), caps(&[2])),
            (caps(&[0, 3]), caps(&[0])),
            (caps(&[4]), CapSet::new()),
        ] {
            pair.app(more);
            if let Some(asked) = pair.prompts.front().cloned() {
                pair.decide(asked.intersection(&approve));
            }
            pair.approve_all();
            pair.assert_in_sync();
        }
        let expected = if advertises(profile) {
            caps(&[0, 1, 2])
        } else {
            caps(&[1])
        };
        assert_eq!(pair.widget.approved(), &expected, "{profile}");
        assert_eq!(pair.client.approved(), &expected, "{profile}");
        assert_eq!(
            pair.widget.notifies(),
            if advertises(profile) { 4 } else { 1 },
            "{profile}"
        );
    }
}
