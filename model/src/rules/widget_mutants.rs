//! Deliberately wrong widgets: for each widget rule (docs/spec.md §9.2) at least one, each
//! breaking the rule it targets.
//!
//! Like the client's [`super::mutants`]: a widget mutant is the reference widget with one defect,
//! and the test suites show that the model checker (`check --side widget`), the validator
//! (`validate --side widget`) and the differential driver (`drive --side widget`) each catch
//! every one by the rule it targets, under every profile where its defect shows
//! ([`WidgetMutant::checked`]). The first mutant of each rule in [`WidgetMutant::ALL`] is the
//! rule's own; the others reach the rule's other checks. [`WidgetMutant::FirstNotifyOnly`] is
//! matrix-widget-api's `WidgetApi` (issue #52).

use super::Rule;
use capneg_reference::msg::{
    Action, Api, Body, Data, Fault, Field, Msg, ReexchangeName, Refusal, Reply, ReqId,
};
use capneg_reference::widget::{Widget, WidgetInput};
use capneg_reference::{CapSet, Posted, Profile};

/// A defect of a widget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WidgetMutant {
    /// Sends its `supported_api_versions` request without `data`.
    NoData,
    /// Sends its `supported_api_versions` request with `api: "toWidget"`.
    RequestToWidgetApi,
    /// Sends its `supported_api_versions` request under another widget's id.
    ForeignRequest,
    /// Acks notifies echoing the action `capabilities`.
    WrongEcho,
    /// Answers the client's requests with `api: "fromWidget"`.
    AnswerFromWidgetApi,
    /// Acks notifies echoing a request id the client never used.
    AnswerUnknownId,
    /// Answers notifies under another widget's id.
    ForeignAnswer,
    /// Never answers a notify.
    SilentNotify,
    /// Answers every client request twice.
    AnswerTwice,
    /// Gives every request the id of its first.
    ReuseId,
    /// Answers notifies with an error.
    RefusesNotify,
    /// Keeps the approved set of the first notify as its view (matrix-widget-api's `WidgetApi`,
    /// issue #52).
    FirstNotifyOnly,
    /// Sends what the application asks for before it answered `capabilities` as a
    /// `request_capabilities` at once, rather than in its answer. (Where the client asks for
    /// capabilities as it starts, its answer to `supported_api_versions` never comes before: the
    /// request breaks `widget-reexchange-advertised` too, on the same line.)
    EarlyRequest,
    /// Sends `request_capabilities` once it answered `capabilities`, whether or not the client
    /// advertised MSC2974.
    UnadvertisedRequest,
}

impl WidgetMutant {
    /// Every widget mutant, in the order of the rules they target; the first of each rule is its
    /// own.
    pub const ALL: [WidgetMutant; 14] = [
        WidgetMutant::NoData,
        WidgetMutant::RequestToWidgetApi,
        WidgetMutant::ForeignRequest,
        WidgetMutant::WrongEcho,
        WidgetMutant::AnswerFromWidgetApi,
        WidgetMutant::AnswerUnknownId,
        WidgetMutant::ForeignAnswer,
        WidgetMutant::SilentNotify,
        WidgetMutant::AnswerTwice,
        WidgetMutant::ReuseId,
        WidgetMutant::RefusesNotify,
        WidgetMutant::FirstNotifyOnly,
        WidgetMutant::EarlyRequest,
        WidgetMutant::UnadvertisedRequest,
    ];

    /// The rule the defect breaks.
    pub const fn target(self) -> Rule {
        match self {
            WidgetMutant::NoData
            | WidgetMutant::RequestToWidgetApi
            | WidgetMutant::ForeignRequest => Rule::WidgetWellFormedMessage,
            WidgetMutant::WrongEcho
            | WidgetMutant::AnswerFromWidgetApi
            | WidgetMutant::AnswerUnknownId
            | WidgetMutant::ForeignAnswer
            | WidgetMutant::AnswerTwice => Rule::WidgetResponseMatchesRequest,
            WidgetMutant::SilentNotify => Rule::WidgetExactlyOneResponse,
            WidgetMutant::ReuseId => Rule::WidgetUniqueRequestIds,
            WidgetMutant::RefusesNotify => Rule::WidgetAcksNotify,
            WidgetMutant::FirstNotifyOnly => Rule::WidgetViewFollowsNotify,
            WidgetMutant::EarlyRequest => Rule::WidgetReexchangeAfterSession,
            WidgetMutant::UnadvertisedRequest => Rule::WidgetReexchangeAdvertised,
        }
    }

    /// The rule's own mutant: the first in [`WidgetMutant::ALL`] that breaks `rule`.
    pub fn for_rule(rule: Rule) -> Option<WidgetMutant> {
        WidgetMutant::ALL.into_iter().find(|m| m.target() == rule)
    }

    /// Whether the defect can show under `profile`: two requests open at once, or a second
    /// notify, need a client that serves re-exchange.
    pub fn shows_under(self, profile: &Profile) -> bool {
        let needs_reexchange =
            matches!(self, WidgetMutant::ReuseId | WidgetMutant::FirstNotifyOnly);
        !needs_reexchange || profile.reexchange.advertised()
    }

    /// The mutant's name (`--mutant` takes it with `--side widget`).
    pub const fn name(self) -> &'static str {
        match self {
            WidgetMutant::NoData => "widget-no-data",
            WidgetMutant::RequestToWidgetApi => "widget-request-to-widget-api",
            WidgetMutant::ForeignRequest => "widget-foreign-request",
            WidgetMutant::WrongEcho => "widget-wrong-echo",
            WidgetMutant::AnswerFromWidgetApi => "widget-answer-from-widget-api",
            WidgetMutant::AnswerUnknownId => "widget-answer-unknown-id",
            WidgetMutant::ForeignAnswer => "widget-foreign-answer",
            WidgetMutant::SilentNotify => "widget-silent-notify",
            WidgetMutant::AnswerTwice => "widget-answer-twice",
            WidgetMutant::ReuseId => "widget-reuse-id",
            WidgetMutant::RefusesNotify => "widget-refuses-notify",
            WidgetMutant::FirstNotifyOnly => "first-notify-only",
            WidgetMutant::EarlyRequest => "widget-early-request",
            WidgetMutant::UnadvertisedRequest => "widget-unadvertised-request",
        }
    }
}

super::mutant_kind::mutant_kind!(WidgetMutant);

/// A widget under test: the reference widget, or the reference widget with one defect.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TestWidget {
    mutant: Option<WidgetMutant>,
    inner: Widget,
    /// The approved set of the first notify (for [`WidgetMutant::FirstNotifyOnly`]).
    first_view: Option<CapSet>,
    /// The id of its first request (for [`WidgetMutant::ReuseId`]).
    first_id: Option<ReqId>,
}

impl TestWidget {
    /// Starts the widget (`None`: the reference) whose application asks for `initial`; its
    /// first messages are appended to `out`.
    pub fn start(mutant: Option<WidgetMutant>, initial: CapSet, out: &mut Vec<Posted>) -> Self {
        let mut msgs = Vec::new();
        let inner = Widget::start(initial, &mut msgs);
        let mut widget = TestWidget {
            mutant,
            inner,
            first_view: None,
            first_id: None,
        };
        widget.transform(msgs, out);
        widget
    }

    /// The defect, if any.
    pub fn mutant(&self) -> Option<WidgetMutant> {
        self.mutant
    }

    /// The reference widget inside.
    pub fn inner(&self) -> &Widget {
        &self.inner
    }

    /// What the widget believes approved (its `view`, docs/spec.md §9.1).
    pub fn view(&self) -> &CapSet {
        match (self.mutant, &self.first_view) {
            (Some(WidgetMutant::FirstNotifyOnly), Some(first)) => first,
            _ => self.inner.approved(),
        }
    }

    /// Takes one input; the widget's messages are appended to `out`.
    pub fn handle(&mut self, input: &WidgetInput, out: &mut Vec<Posted>) {
        let mut msgs = Vec::new();
        match (self.mutant, input) {
            (Some(WidgetMutant::SilentNotify), WidgetInput::Client(msg))
                if is_notify(msg) && !msg.foreign =>
            {
                // Takes the notify, says nothing.
                self.inner.handle(input, &mut msgs);
                msgs.retain(|m| !(m.id == msg.id && m.action == Action::NotifyCapabilities));
            }
            (Some(WidgetMutant::EarlyRequest), WidgetInput::App(caps))
                if !self.inner.answered_capabilities() =>
            {
                msgs.push(self.own_request(caps));
            }
            (Some(WidgetMutant::UnadvertisedRequest), WidgetInput::App(caps))
                if self.inner.answered_capabilities() && !self.inner.may_reexchange() =>
            {
                msgs.push(self.own_request(caps));
            }
            _ => self.inner.handle(input, &mut msgs),
        }
        if self.first_view.is_none() && self.inner.notifies() > 0 {
            self.first_view = Some(self.inner.approved().clone());
        }
        self.transform(msgs, out);
    }

    /// A `request_capabilities` of the widget's own, beside the reference's.
    fn own_request(&mut self, caps: &CapSet) -> Msg {
        Msg::request(
            Api::FromWidget,
            self.inner.take_request_id(),
            Action::RequestCapabilities(ReexchangeName::Unstable),
            Data::Capabilities(caps.clone()),
        )
    }

    /// The reference's messages, with the defect applied.
    fn transform(&mut self, msgs: Vec<Msg>, out: &mut Vec<Posted>) {
        for mut msg in msgs {
            let request = matches!(msg.body, Body::Request(_));
            let versions = request && msg.action == Action::SupportedApiVersions;
            let notify_ack = !request && msg.action == Action::NotifyCapabilities;
            match self.mutant {
                Some(WidgetMutant::NoData) if versions => {
                    out.push(Err(Fault::Missing(Field::Data)));
                    continue;
                }
                Some(WidgetMutant::RequestToWidgetApi) if versions => msg.api = Api::ToWidget,
                Some(WidgetMutant::ForeignRequest) if versions => msg.foreign = true,
                Some(WidgetMutant::WrongEcho) if notify_ack => msg.action = Action::Capabilities,
                Some(WidgetMutant::AnswerFromWidgetApi) if !request => msg.api = Api::FromWidget,
                Some(WidgetMutant::AnswerUnknownId) if notify_ack => msg.id = ReqId::Unused(0),
                Some(WidgetMutant::ForeignAnswer) if notify_ack => msg.foreign = true,
                Some(WidgetMutant::AnswerTwice) if !request => out.push(Ok(msg.clone())),
                Some(WidgetMutant::ReuseId) if request => {
                    msg.id = *self.first_id.get_or_insert(msg.id);
                }
                Some(WidgetMutant::RefusesNotify) if notify_ack => {
                    msg.body = Body::Response(Reply::Error(Refusal::Other));
                }
                _ => {}
            }
            out.push(Ok(msg));
        }
    }
}

capneg_reference::pack_fields!(TestWidget {
    mutant,
    inner,
    first_view,
    first_id
});

fn is_notify(msg: &Msg) -> bool {
    msg.api == Api::ToWidget
        && msg.action == Action::NotifyCapabilities
        && matches!(msg.body, Body::Request(_))
}

capneg_reference::cap_sets!(TestWidget { inner, first_view });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_widget_rule_has_its_own_mutant() {
        for rule in Rule::ALL
            .into_iter()
            .filter(|r| r.side() == super::super::Side::Widget)
        {
            let own = WidgetMutant::for_rule(rule).expect("a mutant");
            assert_eq!(own.target(), rule);
        }
        for m in WidgetMutant::ALL {
            assert_eq!(WidgetMutant::named(m.name()), Some(m));
            assert_eq!(m.target().side(), super::super::Side::Widget);
        }
    }
}
