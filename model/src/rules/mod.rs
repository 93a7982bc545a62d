//! The rules of docs/spec.md §4 (what the client must do) and §9.2 (what the widget must do),
//! each with a stable ID; the one observer that judges them ([`observer`]), why an event breaks
//! one ([`reason`]), and the deliberately wrong clients ([`mutants`]) and widgets
//! ([`widget_mutants`]) that show each can fail.
//!
//! A rule's applicability follows from the profile's choices (docs/spec.md §3), not from its name: for
//! example `rounds-in-order` applies where rounds are processed sequentially, and
//! `notify-after-capabilities` where early re-exchange requests are refused.

use capneg_reference::profile::{Concurrency, EarlyRequest, Profile};

mod mutant_kind;
pub mod mutants;
pub mod observer;
#[cfg(test)]
mod observer_tests;
pub mod reason;
pub mod widget_mutants;
#[cfg(test)]
mod widget_observer_tests;

pub use observer::{Judge, Judging, Ledger, Observer, RoundSeen};
pub use reason::{BadEvent, Line, Position, Reason, Violation};
use std::fmt;

/// The side of a session a rule judges, or a trace is judged on (docs/spec.md §9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The client: the rules of docs/spec.md §4.
    Client,
    /// The widget: the rules of docs/spec.md §9.2.
    Widget,
    /// Both.
    Both,
}

impl Side {
    /// Every side, in the order of `--side`'s values.
    pub const ALL: [Side; 3] = [Side::Client, Side::Widget, Side::Both];

    /// The name `--side` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Widget => "widget",
            Side::Both => "both",
        }
    }

    /// The side named `name`.
    pub fn named(name: &str) -> Option<Side> {
        Side::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the widget's rules are judged on this side.
    pub const fn judges_widget(self) -> bool {
        matches!(self, Side::Widget | Side::Both)
    }

    /// Whether the client's rules are judged on this side.
    pub const fn judges_client(self) -> bool {
        matches!(self, Side::Client | Side::Both)
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rule of docs/spec.md §4 (the client's) or §9.2 (the widget's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Send only messages with all envelope fields, `data` an object, `response` an object.
    WellFormedMessage,
    /// Answer only open widget requests, echoing their api, requestId, action and widgetId.
    ResponseMatchesRequest,
    /// Answer every widget request exactly once.
    ExactlyOneResponse,
    /// Do not reuse one of the client's own request ids (scope per profile).
    UniqueRequestIds,
    /// Send `capabilities` at most once per session.
    SingleCapabilitiesExchange,
    /// Send no `notify_capabilities` before the widget answered `capabilities`.
    NotifyAfterCapabilities,
    /// Approve only capabilities the widget requested in this session.
    ApprovedSubsetOfRequested,
    /// Include in every notify everything approved before.
    ApprovalsNeverShrink,
    /// Approve only what the user approved, `autoApprove`, or what was already approved.
    ApprovalNeedsDecision,
    /// List in a prompt only new capabilities of the round being processed.
    PromptOnlyNew,
    /// Show no prompt for a round without new capabilities.
    NoPromptWithoutNew,
    /// Answer a `request_capabilities` received before established with an error, change nothing.
    NoRequestBeforeSession,
    /// Answer a well-formed, in-session `request_capabilities` with `{}`.
    AcknowledgeRequest,
    /// Send a round's ack before its notify, not waiting for the user's decision.
    AckBeforeNotify,
    /// Send exactly one notify per round, also when nothing is new.
    OneNotifyPerRound,
    /// Report `requested` and `approved` as the profile says.
    NotifyReportsTotals,
    /// Do not show a round's prompt before the previous round's notify.
    RoundsInOrder,
    /// Answer `supported_api_versions` with `org.matrix.msc2974` in or out per the profile.
    AdvertisesVersions,
    /// Answer a gated action with an error unless its capability is approved at that moment.
    GatedActionNeedsCapability,
    /// The widget posts only messages with all envelope fields, `data` an object, `response` an
    /// object (docs/spec.md §9.2).
    WidgetWellFormedMessage,
    /// The widget answers only open client requests, echoing their api, requestId, action and
    /// widgetId.
    WidgetResponseMatchesRequest,
    /// The widget answers every client request exactly once.
    WidgetExactlyOneResponse,
    /// The widget does not reuse one of its own request ids while the earlier one is open.
    WidgetUniqueRequestIds,
    /// The widget answers `notify_capabilities` with `{}` (MSC2871).
    WidgetAcksNotify,
    /// Once it has received a notify, the widget's view is the `approved` set of the latest
    /// notify it received (MSC2871; MSC2974: a later notify supersedes an earlier one).
    WidgetViewFollowsNotify,
    /// The widget sends `request_capabilities` only after it answered the client's
    /// `capabilities` request (MSC2974).
    WidgetReexchangeAfterSession,
    /// The widget sends `request_capabilities` only where the client advertised
    /// `org.matrix.msc2974` (MSC2974).
    WidgetReexchangeAdvertised,
}

impl Rule {
    /// Every rule, in the order of docs/spec.md §4 then §9.2.
    pub const ALL: [Rule; 27] = [
        Rule::WellFormedMessage,
        Rule::ResponseMatchesRequest,
        Rule::ExactlyOneResponse,
        Rule::UniqueRequestIds,
        Rule::SingleCapabilitiesExchange,
        Rule::NotifyAfterCapabilities,
        Rule::ApprovedSubsetOfRequested,
        Rule::ApprovalsNeverShrink,
        Rule::ApprovalNeedsDecision,
        Rule::PromptOnlyNew,
        Rule::NoPromptWithoutNew,
        Rule::NoRequestBeforeSession,
        Rule::AcknowledgeRequest,
        Rule::AckBeforeNotify,
        Rule::OneNotifyPerRound,
        Rule::NotifyReportsTotals,
        Rule::RoundsInOrder,
        Rule::AdvertisesVersions,
        Rule::GatedActionNeedsCapability,
        Rule::WidgetWellFormedMessage,
        Rule::WidgetResponseMatchesRequest,
        Rule::WidgetExactlyOneResponse,
        Rule::WidgetUniqueRequestIds,
        Rule::WidgetAcksNotify,
        Rule::WidgetViewFollowsNotify,
        Rule::WidgetReexchangeAfterSession,
        Rule::WidgetReexchangeAdvertised,
    ];

    /// The stable ID.
    pub const fn id(self) -> &'static str {
        match self {
            Rule::WellFormedMessage => "well-formed-message",
            Rule::ResponseMatchesRequest => "response-matches-request",
            Rule::ExactlyOneResponse => "exactly-one-response",
            Rule::UniqueRequestIds => "unique-request-ids",
            Rule::SingleCapabilitiesExchange => "single-capabilities-exchange",
            Rule::NotifyAfterCapabilities => "notify-after-capabilities",
            Rule::ApprovedSubsetOfRequested => "approved-subset-of-requested",
            Rule::ApprovalsNeverShrink => "approvals-never-shrink",
            Rule::ApprovalNeedsDecision => "approval-needs-decision",
            Rule::PromptOnlyNew => "prompt-only-new",
            Rule::NoPromptWithoutNew => "no-prompt-without-new",
            Rule::NoRequestBeforeSession => "no-request-before-session",
            Rule::AcknowledgeRequest => "acknowledge-request",
            Rule::AckBeforeNotify => "ack-before-notify",
            Rule::OneNotifyPerRound => "one-notify-per-round",
            Rule::NotifyReportsTotals => "notify-reports-totals",
            Rule::RoundsInOrder => "rounds-in-order",
            Rule::AdvertisesVersions => "advertises-versions",
            Rule::GatedActionNeedsCapability => "gated-action-needs-capability",
            Rule::WidgetWellFormedMessage => "widget-well-formed-message",
            Rule::WidgetResponseMatchesRequest => "widget-response-matches-request",
            Rule::WidgetExactlyOneResponse => "widget-exactly-one-response",
            Rule::WidgetUniqueRequestIds => "widget-unique-request-ids",
            Rule::WidgetAcksNotify => "widget-acks-notify",
            Rule::WidgetViewFollowsNotify => "widget-view-follows-notify",
            Rule::WidgetReexchangeAfterSession => "widget-reexchange-after-session",
            Rule::WidgetReexchangeAdvertised => "widget-reexchange-advertised",
        }
    }

    /// The rule with this ID.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// The side the rule judges.
    pub const fn side(self) -> Side {
        if (self as u32) < Rule::WidgetWellFormedMessage as u32 {
            Side::Client
        } else {
            Side::Widget
        }
    }

    /// What the client (docs/spec.md §4) or the widget (§9.2) must do.
    pub const fn summary(self) -> &'static str {
        match self {
            Rule::WellFormedMessage => "send only messages with all envelope fields, data an object, response an object",
            Rule::ResponseMatchesRequest => "answer only open widget requests, echoing their api, requestId, action and widgetId",
            Rule::ExactlyOneResponse => "answer every widget request exactly once",
            Rule::UniqueRequestIds => "not reuse one of its own requestIds",
            Rule::SingleCapabilitiesExchange => "send capabilities at most once per session",
            Rule::NotifyAfterCapabilities => "send no notify_capabilities before the widget answered capabilities",
            Rule::ApprovedSubsetOfRequested => "approve only capabilities the widget requested in this session",
            Rule::ApprovalsNeverShrink => "include in every notify everything approved before",
            Rule::ApprovalNeedsDecision => "approve only what the user approved, autoApprove, or what was already approved",
            Rule::PromptOnlyNew => "list in a prompt only new capabilities of the round being processed",
            Rule::NoPromptWithoutNew => "show no prompt for a round without new capabilities",
            Rule::NoRequestBeforeSession => "answer a request_capabilities received before established with an error, and change nothing",
            Rule::AcknowledgeRequest => "answer a well-formed, in-session request_capabilities with {}",
            Rule::AckBeforeNotify => "send a round's ack before its notify, not waiting for the user's decision",
            Rule::OneNotifyPerRound => "send exactly one notify per round, also when nothing is new",
            Rule::NotifyReportsTotals => "report requested and approved as the profile says",
            Rule::RoundsInOrder => "not show a round's prompt before the previous round's notify",
            Rule::AdvertisesVersions => "answer supported_api_versions with org.matrix.msc2974 in or out per the profile",
            Rule::GatedActionNeedsCapability => "answer a gated action with an error unless its capability is approved at that moment",
            Rule::WidgetWellFormedMessage => "post only messages with all envelope fields, data an object, response an object",
            Rule::WidgetResponseMatchesRequest => "answer only open client requests, echoing their api, requestId, action and widgetId",
            Rule::WidgetExactlyOneResponse => "answer every client request exactly once",
            Rule::WidgetUniqueRequestIds => "not reuse one of its own requestIds while the earlier one is open",
            Rule::WidgetAcksNotify => "answer notify_capabilities with {}",
            Rule::WidgetViewFollowsNotify => "after it has received a notify, report as its view exactly the approved set of the latest notify it received",
            Rule::WidgetReexchangeAfterSession => "send request_capabilities only after it has answered the client's capabilities request",
            Rule::WidgetReexchangeAdvertised => "send request_capabilities only where the client advertised org.matrix.msc2974",
        }
    }

    /// Whether the rule applies under `profile` (docs/spec.md §4 "applies to"), derived from its
    /// choices. The widget's rules apply under every profile.
    pub const fn applies_to(self, profile: &Profile) -> bool {
        let reexchange = profile.reexchange.advertised();
        match self {
            Rule::NotifyAfterCapabilities => !profile.processes_early_requests(),
            Rule::NoRequestBeforeSession => {
                reexchange && matches!(profile.early_request, EarlyRequest::Refuse)
            }
            Rule::AckBeforeNotify => reexchange,
            Rule::RoundsInOrder => {
                reexchange && matches!(profile.concurrency, Concurrency::Sequential)
            }
            _ => true,
        }
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A set of rules.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleSet(u32);

impl RuleSet {
    /// No rule.
    pub const EMPTY: RuleSet = RuleSet(0);

    /// The client's rules that apply under `profile`.
    pub fn of_profile(profile: &Profile) -> RuleSet {
        RuleSet::of(profile, Side::Client)
    }

    /// The rules of `side` that apply under `profile`.
    pub fn of(profile: &Profile, side: Side) -> RuleSet {
        Rule::ALL
            .into_iter()
            .filter(|r| r.applies_to(profile))
            .filter(|r| match r.side() {
                Side::Client => side.judges_client(),
                _ => side.judges_widget(),
            })
            .collect()
    }

    /// Only `rule`.
    pub fn only(rule: Rule) -> RuleSet {
        RuleSet(rule.bit())
    }

    /// Whether `rule` is in the set.
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & rule.bit() != 0
    }

    /// Adds `rule`.
    pub fn insert(&mut self, rule: Rule) {
        self.0 |= rule.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rules in the order of docs/spec.md §4.
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// `self ∩ other`.
    pub fn intersection(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 & other.0)
    }

    /// `self ∪ other`.
    pub fn union(self, other: RuleSet) -> RuleSet {
        RuleSet(self.0 | other.0)
    }
}

impl FromIterator<Rule> for RuleSet {
    fn from_iter<T: IntoIterator<Item = Rule>>(iter: T) -> Self {
        let mut s = RuleSet::EMPTY;
        for r in iter {
            s.insert(r);
        }
        s
    }
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Rule::id)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applicability_matches_spec_table() {
        let applies = |r: Rule| -> Vec<&str> {
            Profile::ALL
                .iter()
                .filter(|p| r.applies_to(p))
                .map(|p| p.name)
                .collect()
        };
        assert_eq!(applies(Rule::NotifyAfterCapabilities), ["msc", "legacy"]);
        assert_eq!(applies(Rule::NoRequestBeforeSession), ["msc"]);
        assert_eq!(applies(Rule::AckBeforeNotify), ["msc", "widget-api"]);
        assert_eq!(applies(Rule::RoundsInOrder), ["msc"]);
        assert_eq!(
            applies(Rule::OneNotifyPerRound),
            ["msc", "widget-api", "legacy"]
        );
        for r in Rule::ALL {
            assert_eq!(Rule::from_id(r.id()), Some(r));
            assert_eq!(r.id().starts_with("widget-"), r.side() == Side::Widget);
        }
    }

    #[test]
    fn sides_split_the_rules() {
        for p in Profile::ALL {
            let client = RuleSet::of(&p, Side::Client);
            let widget = RuleSet::of(&p, Side::Widget);
            assert!(client.intersection(widget).is_empty());
            assert_eq!(client.union(widget), RuleSet::of(&p, Side::Both));
            assert_eq!(
                widget.iter().count(),
                8,
                "every widget rule applies under {}",
                p.name
            );
            assert_eq!(client, RuleSet::of_profile(&p));
        }
        for s in Side::ALL {
            assert_eq!(Side::named(s.name()), Some(s));
        }
    }
}
