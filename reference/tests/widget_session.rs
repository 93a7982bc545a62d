//! The widget side, [`WidgetSession`]: on its own (one message at a time), and against the
//! reference client of each profile.
//!
//! It answers `capabilities` with its list, acks every notify, takes the approved set of the
//! LATEST notify as its view, asks for more capabilities only once the client has advertised
//! `org.matrix.msc2974`, and keeps the requests it sent until they are answered.

use capneg_reference::client::{Client, Input, Output, Setup};
use capneg_reference::msg::{Action, Api, Data, Msg, ReexchangeName, Reply, ReqId};
use capneg_reference::profile::Profile;
use capneg_reference::widget::{WidgetInput, WidgetRefusal, WidgetSession};
use capneg_reference::CapSet;
use capneg_reference::Settings;
use std::collections::VecDeque;

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

/// The widget's messages in reaction to `input`.
fn step(widget: &mut WidgetSession, input: WidgetInput) -> Vec<Msg> {
    let mut out = Vec::new();
    widget
        .handle(&input, &mut out)
        .expect("the widget takes it");
    out
}

/// The widget's messages in reaction to a message from the client.
fn from_client(widget: &mut WidgetSession, msg: Msg) -> Vec<Msg> {
    step(widget, WidgetInput::Client(msg))
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

/// The widget answers the client's `capabilities` request with its list.
#[test]
fn answers_capabilities_with_its_list() {
    for list in [caps(&[]), caps(&[0]), caps(&[1, 3, 5])] {
        let mut widget = WidgetSession::new(list.clone());
        let out = from_client(
            &mut widget,
            Msg::request(
                Api::ToWidget,
                ReqId::Used(7),
                Action::Capabilities,
                Data::Empty,
            ),
        );
        assert_eq!(
            out,
            [Msg::response(
                Api::ToWidget,
                ReqId::Used(7),
                Action::Capabilities,
                Reply::Capabilities(list)
            )]
        );
        // Answering is not a request of its own.
        assert!(widget.open_requests().is_empty());
    }
}

/// The widget acks each notify, echoing its id, and counts it.
#[test]
fn acks_notifies() {
    let mut widget = WidgetSession::new(caps(&[0, 1]));
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
    let mut widget = WidgetSession::new(caps(&[0, 1, 2]));
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
    let mut widget = WidgetSession::new(caps(&[0]));
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

/// Messages about another widget get no answer and change nothing.
#[test]
fn messages_of_another_widget_are_ignored() {
    let mut widget = WidgetSession::new(caps(&[0]));
    let before = widget.clone();
    for mut msg in [
        Msg::request(
            Api::ToWidget,
            ReqId::Used(0),
            Action::Capabilities,
            Data::Empty,
        ),
        notify_msg(1, &[0], &[0]),
    ] {
        msg.foreign = true;
        assert_eq!(from_client(&mut widget, msg), []);
    }
    assert_eq!(widget, before);
}

/// The widget refuses to send `request_capabilities` until the client advertised
/// `org.matrix.msc2974`: not before asking, not while the question is open, not after a
/// client that does not advertise it; and only then does it send under the unstable name.
#[test]
fn refuses_reexchange_until_advertised() {
    let mut widget = WidgetSession::new(caps(&[0]));
    let ask = |widget: &mut WidgetSession| {
        let mut out = Vec::new();
        let result = widget.handle(&WidgetInput::RequestCapabilities(caps(&[1])), &mut out);
        (result, out)
    };
    assert_eq!(widget.client_supports_reexchange(), None);
    assert_eq!(
        ask(&mut widget),
        (Err(WidgetRefusal::ReexchangeNotAdvertised), vec![])
    );

    let out = step(&mut widget, WidgetInput::AskVersions);
    let [question] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(question.api, Api::FromWidget);
    assert_eq!(question.action, Action::SupportedApiVersions);
    assert_eq!(question.data(), Some(&Data::Empty));
    assert_eq!(
        ask(&mut widget),
        (Err(WidgetRefusal::ReexchangeNotAdvertised), vec![])
    );

    assert_eq!(
        from_client(&mut widget, versions_answer(question.id, false)),
        []
    );
    assert_eq!(widget.client_supports_reexchange(), Some(false));
    assert_eq!(
        ask(&mut widget),
        (Err(WidgetRefusal::ReexchangeNotAdvertised), vec![])
    );

    let out = step(&mut widget, WidgetInput::AskVersions);
    from_client(&mut widget, versions_answer(out[0].id, true));
    assert_eq!(widget.client_supports_reexchange(), Some(true));
    let (result, out) = ask(&mut widget);
    assert_eq!(result, Ok(()));
    let [request] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(request.api, Api::FromWidget);
    assert_eq!(
        request.action,
        Action::RequestCapabilities(ReexchangeName::Unstable)
    );
    assert_eq!(request.data(), Some(&Data::Capabilities(caps(&[1]))));
}

/// A versions answer that does not answer the widget's open question is not taken as the
/// client's advertisement.
#[test]
fn unsolicited_versions_answer_is_not_taken() {
    let mut widget = WidgetSession::new(caps(&[0]));
    from_client(&mut widget, versions_answer(ReqId::Used(0), true));
    assert_eq!(widget.client_supports_reexchange(), None);
    let out = step(&mut widget, WidgetInput::AskVersions);
    from_client(
        &mut widget,
        versions_answer(ReqId::Used(out[0].id.used().unwrap() + 1), true),
    );
    assert_eq!(widget.client_supports_reexchange(), None);
}

/// The widget records every request it sent, with fresh ids, until the matching response (same
/// id and action) arrives; other responses leave them open.
#[test]
fn records_open_requests() {
    let mut widget = WidgetSession::new(caps(&[0]));
    let mut sent = Vec::new();
    sent.extend(step(&mut widget, WidgetInput::AskVersions));
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
            Reply::Error(capneg_reference::msg::Refusal::NotApproved),
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
struct Pair {
    setup: Setup,
    client: Client,
    widget: WidgetSession,
    /// Prompts waiting for the user, oldest first.
    prompts: VecDeque<CapSet>,
    /// Every notify the widget received: (requested, approved).
    notifies: Vec<(CapSet, CapSet)>,
    /// Every response the client sent to the widget's requests.
    client_answers: Vec<Msg>,
}

impl Pair {
    fn new(profile: Profile, settings: Settings, initial: CapSet) -> Pair {
        let setup = Setup { profile, settings };
        let mut out = Vec::new();
        let client = Client::start(&setup, &mut out);
        let mut pair = Pair {
            setup,
            client,
            widget: WidgetSession::new(initial),
            prompts: VecDeque::new(),
            notifies: Vec::new(),
            client_answers: Vec::new(),
        };
        let mut queue = VecDeque::new();
        pair.absorb(out, &mut queue);
        pair.pump(queue);
        pair
    }

    fn absorb(&mut self, out: Vec<Output>, queue: &mut VecDeque<Hop>) {
        for o in out {
            match o {
                Output::Send(m) => queue.push_back(Hop::ToWidget(m)),
                Output::Prompt(asked) => self.prompts.push_back(asked),
            }
        }
    }

    /// Delivers messages until both sides are quiet.
    fn pump(&mut self, mut queue: VecDeque<Hop>) {
        while let Some(hop) = queue.pop_front() {
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
                    self.widget
                        .handle(&WidgetInput::Client(m), &mut out)
                        .unwrap();
                    queue.extend(out.into_iter().map(Hop::ToClient));
                }
                Hop::ToClient(m) => {
                    let mut out = Vec::new();
                    self.client
                        .handle(&self.setup, &Input::Widget(m), &mut out)
                        .unwrap();
                    self.absorb(out, &mut queue);
                }
            }
        }
    }

    /// The widget does `input`; everything is delivered.
    fn widget_does(&mut self, input: WidgetInput) -> Result<(), WidgetRefusal> {
        let mut out = Vec::new();
        self.widget.handle(&input, &mut out)?;
        self.pump(out.into_iter().map(Hop::ToClient).collect());
        Ok(())
    }

    /// The user answers the oldest prompt, approving `approved` of it.
    fn decide(&mut self, approved: CapSet) {
        assert!(self.prompts.pop_front().is_some(), "no prompt to decide");
        let mut out = Vec::new();
        self.client
            .handle(&self.setup, &Input::Decision(approved), &mut out)
            .unwrap();
        let mut queue = VecDeque::new();
        self.absorb(out, &mut queue);
        self.pump(queue);
    }

    /// The user approves everything asked, until no prompt is open.
    fn approve_all(&mut self) {
        while let Some(asked) = self.prompts.front().cloned() {
            self.decide(asked);
        }
    }

    /// The widget and the client agree on the approved set, and nothing is left unanswered.
    fn assert_in_sync(&self) {
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
}

fn policy() -> Settings {
    Settings::default()
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
        let mut pair = Pair::new(profile, policy(), caps(&[0, 1, 2]));
        assert!(pair.client.is_established(), "{profile}");
        assert_eq!(pair.prompts, [caps(&[0, 1, 2])], "{profile}");
        assert_eq!(pair.widget.notifies(), 0, "{profile}");
        pair.decide(caps(&[0, 2]));
        assert_eq!(pair.widget.approved(), &caps(&[0, 2]), "{profile}");
        assert_eq!(pair.widget.reported_requested(), &caps(&[0, 1, 2]));
        pair.widget_does(WidgetInput::AskVersions).unwrap();
        assert_eq!(
            pair.widget.client_supports_reexchange(),
            Some(advertised),
            "{profile}"
        );
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
    pair.widget_does(WidgetInput::AskVersions).unwrap();
    pair.widget_does(WidgetInput::RequestCapabilities(caps(&[1, 2])))
        .unwrap();
    assert_eq!(pair.last_answer(), &Reply::Ack);
    assert_eq!(pair.prompts, [caps(&[1, 2])]);
    // The ack came before the user's decision; the view has not changed yet.
    assert_eq!(pair.widget.approved(), &caps(&[0]));
    pair.decide(caps(&[1]));
    assert_eq!(pair.widget.approved(), &caps(&[0, 1]));
    assert_eq!(pair.widget.reported_requested(), &caps(&[0, 1, 2]));
    pair.widget_does(WidgetInput::RequestCapabilities(caps(&[3])))
        .unwrap();
    pair.approve_all();
    assert_eq!(pair.widget.approved(), &caps(&[0, 1, 3]));
    assert_eq!(pair.widget.reported_requested(), &caps(&[0, 1, 2, 3]));
    assert_eq!(pair.widget.notifies(), 3);
    pair.assert_in_sync();
}

/// widget-api: two rounds in parallel; the view follows the latest notify, whose `requested`
/// is the round's new capabilities.
#[test]
fn view_follows_the_latest_notify_widget_api() {
    let mut pair = Pair::new(Profile::WIDGET_API, policy(), caps(&[0]));
    pair.approve_all();
    pair.widget_does(WidgetInput::AskVersions).unwrap();
    pair.widget_does(WidgetInput::RequestCapabilities(caps(&[0, 1])))
        .unwrap();
    pair.widget_does(WidgetInput::RequestCapabilities(caps(&[1, 2])))
        .unwrap();
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

/// legacy: the client does not advertise MSC2974, so the widget never asks again; its view is
/// round 0's approvals.
#[test]
fn legacy_client_is_never_asked_again() {
    let mut pair = Pair::new(Profile::LEGACY, policy(), caps(&[0, 1]));
    pair.decide(caps(&[1]));
    pair.widget_does(WidgetInput::AskVersions).unwrap();
    assert_eq!(pair.widget.client_supports_reexchange(), Some(false));
    assert_eq!(
        pair.widget_does(WidgetInput::RequestCapabilities(caps(&[0]))),
        Err(WidgetRefusal::ReexchangeNotAdvertised)
    );
    assert!(pair.prompts.is_empty());
    assert_eq!(pair.widget.approved(), &caps(&[1]));
    assert_eq!(pair.widget.notifies(), 1);
    pair.assert_in_sync();
}

/// Every profile: the widget that does not ask for the versions never sends a re-exchange,
/// even to a client that would accept it.
#[test]
fn no_reexchange_without_asking_versions() {
    for profile in Profile::ALL {
        let mut pair = Pair::new(profile, policy(), caps(&[0]));
        pair.approve_all();
        assert_eq!(
            pair.widget_does(WidgetInput::RequestCapabilities(caps(&[1]))),
            Err(WidgetRefusal::ReexchangeNotAdvertised),
            "{profile}"
        );
        assert!(pair.prompts.is_empty(), "{profile}");
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
        pair.widget_does(WidgetInput::Gated(Action::SetAlwaysOnScreen, caps(&[0])))
            .unwrap();
        assert!(pair.last_answer().is_error(), "{profile}");
        pair.decide(caps(&[0]));
        for (permitting, allowed) in [(caps(&[0]), true), (caps(&[1]), false)] {
            for action in [Action::SetAlwaysOnScreen, Action::SendEvent] {
                pair.widget_does(WidgetInput::Gated(action, permitting.clone()))
                    .unwrap();
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
        let policy = Settings {
            wait_for_content_loaded: true,
            ..Settings::default()
        };
        let mut pair = Pair::new(profile, policy, caps(&[0]));
        assert!(!pair.client.is_established(), "{profile}");
        assert!(pair.prompts.is_empty());
        pair.widget_does(WidgetInput::ContentLoaded).unwrap();
        assert!(pair.client.is_established(), "{profile}");
        assert_eq!(pair.prompts, [caps(&[0])], "{profile}");
        pair.approve_all();
        assert_eq!(pair.widget.approved(), &caps(&[0]), "{profile}");
        pair.assert_in_sync();
    }
}
