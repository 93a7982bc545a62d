//! Why an event breaks a rule ([`Reason`]), and where events are ([`Position`]).

use super::Rule;
use capneg_reference::msg::Fault;
use capneg_reference::{CapSet, Interner};
pub use capneg_wire::trace::Line;
use std::fmt::{self, Write as _};
use std::hash::Hash;

/// Where the observer is told an event is, for its reasons to cite: a trace's [`Line`], or
/// nothing (`()`) where, as in the model, positions would only explain a violation and are
/// recovered when the counterexample is printed (they would split states that behave alike).
pub trait Position: Copy + Eq + Ord + Hash + fmt::Debug {}

impl Position for Line {}

impl Position for () {}

/// Why an event breaks a rule: what happened, with the earlier event involved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reason<P = Line> {
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
    WrongAction(P),
    /// The widget request at this position was never answered.
    NeverAnswered(P),
    /// A request id the client used before (at this position, if still open).
    ReusedId(Option<P>),
    /// A second `capabilities` request; the first is at this position.
    SecondCapabilities(P),
    /// A notify before the widget answered `capabilities` (sent at this position, if sent).
    NotifyBeforeEstablished(Option<P>),
    /// A notify approves capabilities never requested.
    NotRequested(CapSet),
    /// A notify leaves out capabilities approved in the notify at this position.
    Shrinks(CapSet, P),
    /// A notify approves capabilities no decision, `autoApprove` or earlier approval covers.
    Undecided(CapSet),
    /// A prompt lists capabilities that are not new in the round opened at this position.
    NotNew(CapSet, P),
    /// A prompt for the round opened at this position, which has nothing new.
    NothingNew(P),
    /// A prompt while no round is waiting for one.
    PromptWithoutRound,
    /// The early `request_capabilities` at this position was not refused.
    EarlyNotRefused(P),
    /// The `request_capabilities` at this position was answered with an error.
    Refused(P),
    /// The `request_capabilities` at this position was answered, but not with an error
    /// (re-exchange is not supported in this profile).
    NotRefused(P),
    /// The round of the request at this position was prompted for or notified before its ack.
    BeforeAck(P),
    /// The user's decision came while the request at this position was not acked.
    DecisionBeforeAck(P),
    /// A notify while no round is open (the last round, opened at this position, was notified
    /// already).
    ExtraNotify(Option<P>),
    /// A notify while every open round waits for the user's decision (parallel profiles).
    NotifyWhileWaiting,
    /// The round opened at this position ended without a notify.
    NoNotify(P),
    /// A notify without `requested` and `approved` lists.
    NotifyWithoutLists,
    /// A notify reports `requested` other than expected for the round opened at this position.
    WrongRequested {
        /// What it reported.
        reported: CapSet,
        /// What the profile says it should report.
        expected: CapSet,
        /// Where the round opened.
        round: P,
    },
    /// A prompt for the round opened at the first position while the round opened at the second
    /// is not notified yet.
    OutOfOrder(P, P),
    /// The answer to `supported_api_versions` at this position does not advertise
    /// `org.matrix.msc2974` as the profile says (`expected`).
    Versions {
        /// Whether the profile advertises it.
        expected: bool,
        /// The request.
        request: P,
    },
    /// The answer to `supported_api_versions` at this position lists no versions.
    NoVersions(P),
    /// The gated action at this position was allowed without an approved capability.
    Ungated(P),
    /// A request the widget started carries `api: "toWidget"`.
    RequestToWidgetApi,
    /// A response from the widget with `api: "fromWidget"`: the widget answers only the client's
    /// requests.
    WidgetAnswersOwnRequest,
    /// A response from the widget to no open client request.
    AnswersNoClientRequest,
    /// The client request at this position was never answered by the widget.
    NeverAnsweredByWidget(P),
    /// The widget answered the notify at this position with something other than `{}`.
    NotifyNotAcked(P),
    /// The widget's view is not the approved set of the latest notify it received.
    WrongView {
        /// The view it reported.
        seen: CapSet,
        /// The approved set of the latest notify.
        expected: CapSet,
        /// Where that notify is.
        notify: P,
    },
    /// A `request_capabilities` from the widget before it answered the client's `capabilities`
    /// request (sent at this position, if sent).
    ReexchangeBeforeSession(Option<P>),
    /// A `request_capabilities` from the widget where the latest answer to its
    /// `supported_api_versions` (at this position, if any) does not list `org.matrix.msc2974`.
    ReexchangeNotAdvertised(Option<P>),
}

impl<P> Reason<P> {
    /// The name of every kind of reason, one per check of the observer, in declaration order.
    pub const KINDS: [&'static str; 39] = [
        "Malformed",
        "RequestFromWidgetApi",
        "ForeignWidget",
        "AnswersOwnRequest",
        "AnswersNothing",
        "AnsweredAgain",
        "WrongAction",
        "NeverAnswered",
        "ReusedId",
        "SecondCapabilities",
        "NotifyBeforeEstablished",
        "NotRequested",
        "Shrinks",
        "Undecided",
        "NotNew",
        "NothingNew",
        "PromptWithoutRound",
        "EarlyNotRefused",
        "Refused",
        "NotRefused",
        "BeforeAck",
        "DecisionBeforeAck",
        "ExtraNotify",
        "NotifyWhileWaiting",
        "NoNotify",
        "NotifyWithoutLists",
        "WrongRequested",
        "OutOfOrder",
        "Versions",
        "NoVersions",
        "Ungated",
        "RequestToWidgetApi",
        "WidgetAnswersOwnRequest",
        "AnswersNoClientRequest",
        "NeverAnsweredByWidget",
        "NotifyNotAcked",
        "WrongView",
        "ReexchangeBeforeSession",
        "ReexchangeNotAdvertised",
    ];

    /// The kinds only the widget's rules give (docs/spec.md §9.2): the last eight of
    /// [`Reason::KINDS`]; the widget's rules also give `Malformed`, `ForeignWidget`,
    /// `WrongAction` and `ReusedId`.
    pub const WIDGET_KINDS: [&'static str; 8] = {
        let mut kinds = [""; 8];
        let first = Self::KINDS.len() - kinds.len();
        let mut i = 0;
        while i < kinds.len() {
            kinds[i] = Self::KINDS[first + i];
            i += 1;
        }
        kinds
    };

    /// The kind of this reason: which check of the observer found it (one of
    /// [`Reason::KINDS`]).
    pub const fn kind(&self) -> &'static str {
        match self {
            Reason::Malformed(_) => "Malformed",
            Reason::RequestFromWidgetApi => "RequestFromWidgetApi",
            Reason::ForeignWidget => "ForeignWidget",
            Reason::AnswersOwnRequest => "AnswersOwnRequest",
            Reason::AnswersNothing => "AnswersNothing",
            Reason::AnsweredAgain => "AnsweredAgain",
            Reason::WrongAction(_) => "WrongAction",
            Reason::NeverAnswered(_) => "NeverAnswered",
            Reason::ReusedId(_) => "ReusedId",
            Reason::SecondCapabilities(_) => "SecondCapabilities",
            Reason::NotifyBeforeEstablished(_) => "NotifyBeforeEstablished",
            Reason::NotRequested(_) => "NotRequested",
            Reason::Shrinks(..) => "Shrinks",
            Reason::Undecided(_) => "Undecided",
            Reason::NotNew(..) => "NotNew",
            Reason::NothingNew(_) => "NothingNew",
            Reason::PromptWithoutRound => "PromptWithoutRound",
            Reason::EarlyNotRefused(_) => "EarlyNotRefused",
            Reason::Refused(_) => "Refused",
            Reason::NotRefused(_) => "NotRefused",
            Reason::BeforeAck(_) => "BeforeAck",
            Reason::DecisionBeforeAck(_) => "DecisionBeforeAck",
            Reason::ExtraNotify(_) => "ExtraNotify",
            Reason::NotifyWhileWaiting => "NotifyWhileWaiting",
            Reason::NoNotify(_) => "NoNotify",
            Reason::NotifyWithoutLists => "NotifyWithoutLists",
            Reason::WrongRequested { .. } => "WrongRequested",
            Reason::OutOfOrder(..) => "OutOfOrder",
            Reason::Versions { .. } => "Versions",
            Reason::NoVersions(_) => "NoVersions",
            Reason::Ungated(_) => "Ungated",
            Reason::RequestToWidgetApi => "RequestToWidgetApi",
            Reason::WidgetAnswersOwnRequest => "WidgetAnswersOwnRequest",
            Reason::AnswersNoClientRequest => "AnswersNoClientRequest",
            Reason::NeverAnsweredByWidget(_) => "NeverAnsweredByWidget",
            Reason::NotifyNotAcked(_) => "NotifyNotAcked",
            Reason::WrongView { .. } => "WrongView",
            Reason::ReexchangeBeforeSession(_) => "ReexchangeBeforeSession",
            Reason::ReexchangeNotAdvertised(_) => "ReexchangeNotAdvertised",
        }
    }
}

impl Reason<Line> {
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
            Reason::RequestToWidgetApi => {
                "a request with api \"toWidget\": the widget starts only fromWidget requests".into()
            }
            Reason::WidgetAnswersOwnRequest => {
                "a response with api \"fromWidget\": the widget answers only the client's requests".into()
            }
            Reason::AnswersNoClientRequest => "answers no open client request".into(),
            Reason::NeverAnsweredByWidget(at) => {
                format!("the client request of line {at} was never answered")
            }
            Reason::NotifyNotAcked(at) => format!(
                "answers the notify_capabilities of line {at} with something other than {{}}"
            ),
            Reason::WrongView {
                seen,
                expected,
                notify,
            } => format!(
                "the widget's view is {}, but the latest notify it received (line {notify}) approved {}",
                names(seen),
                names(expected)
            ),
            Reason::ReexchangeBeforeSession(Some(at)) => format!(
                "request_capabilities before the widget answered the capabilities request of line {at}"
            ),
            Reason::ReexchangeBeforeSession(None) => {
                "request_capabilities before the client asked for capabilities".into()
            }
            Reason::ReexchangeNotAdvertised(Some(at)) => format!(
                "request_capabilities, but the latest answer to supported_api_versions (line {at}) does not list org.matrix.msc2974"
            ),
            Reason::ReexchangeNotAdvertised(None) => {
                "request_capabilities, but the client never advertised org.matrix.msc2974".into()
            }
        }
    }
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Violation<P = Line> {
    /// The rule.
    pub rule: Rule,
    /// Why.
    pub reason: Reason<P>,
}

/// An event the observer cannot take: not a violation of the client, but bad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadEvent {
    /// A decision while no prompt is open.
    DecisionWithoutPrompt,
}

impl fmt::Display for BadEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadEvent::DecisionWithoutPrompt => f.write_str("a decision with no open prompt"),
        }
    }
}

impl std::error::Error for BadEvent {}
