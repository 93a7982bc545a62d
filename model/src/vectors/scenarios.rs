//! The hand-designed scenarios of the conformance vectors, as data: one per docs/spec.md §3 row
//! and per behaviour worth pinning, each a session's settings and the inputs of its script, with
//! the profiles it is for, the §3 rows it covers and, per profile, the rule of its negative.

use super::*;

/// `m.always_on_screen`.
const AOS: &str = "m.always_on_screen";
/// Sending `m.room.message` events of msgtype `m.text`.
const TEXT: &str = "org.matrix.msc2762.send.event:m.room.message#m.text";
/// Sending the room topic.
const TOPIC: &str = "org.matrix.msc2762.send.state_event:m.room.topic";
/// Sending reactions.
const REACTION: &str = "org.matrix.msc2762.send.event:m.reaction";

const ALL: &[&str] = &["msc", "widget-api", "legacy"];
const REEXCHANGE: &[&str] = &["msc", "widget-api"];

/// A scenario's session settings.
type Session = Settings<&'static [&'static str]>;

const PLAIN: Session = Settings {
    auto_approve: &[],
    rate_limit: false,
    wait_for_content_loaded: false,
    declined: DeclinedPolicy::Prompt,
};

const fn auto(caps: &'static [&'static str]) -> Session {
    Settings {
        auto_approve: caps,
        ..PLAIN
    }
}

/// One input of a scenario.
#[derive(Clone, Copy)]
enum In {
    /// The widget answers `capabilities` with this list.
    Answer(&'static [&'static str]),
    /// The widget answers `capabilities` with an error.
    AnswerError,
    /// The widget acks the client's oldest open notify.
    AckNotify,
    /// `org.matrix.msc2974.request_capabilities` for this list.
    Request(&'static [&'static str]),
    /// `request_capabilities` (the stable name) for this list.
    RequestStable(&'static [&'static str]),
    /// `org.matrix.msc2974.request_capabilities` whose `capabilities` is not a list.
    RequestInvalid,
    /// `supported_api_versions`.
    Versions,
    /// `content_loaded`.
    ContentLoaded,
    /// `set_always_on_screen` with `value: true`.
    AlwaysOnScreen,
    /// `set_always_on_screen` with a `value` that is not a boolean.
    AlwaysOnScreenInvalid,
    /// `send_event` of this type, state key and msgtype.
    Send(&'static str, Option<&'static str>, Option<&'static str>),
    /// An action outside docs/spec.md §2.
    Unknown(&'static str),
    /// A message of another widget (`w2`): this action with this data.
    Foreign(&'static str, &'static str),
    /// The user approves these on the oldest open prompt.
    Decide(&'static [&'static str]),
}

/// A hand-designed scenario: a script, and the profiles, docs/spec.md §3 rows and negative it is for.
pub(super) struct Scenario {
    pub(super) name: &'static str,
    pub(super) profiles: &'static [&'static str],
    pub(super) description: &'static str,
    /// The docs/spec.md §3 rows it covers (kept per profile where the row applies).
    pub(super) rows: &'static [&'static str],
    /// Per profile, the rule whose mutant's trace is the vector's negative.
    pub(super) negatives: &'static [(&'static str, Rule)],
    pub(super) session: Session,
    inputs: &'static [In],
}

fn widget_line(value: Value) -> String {
    print_line(Key::Widget, &value)
}

fn request(action: &str, data: Value) -> String {
    widget_line(json!({"api": "fromWidget", "action": action, "data": data}))
}

fn response(action: &str, response: Value) -> String {
    widget_line(json!({"api": "toWidget", "action": action, "response": response}))
}

const UNSTABLE: &str = "org.matrix.msc2974.request_capabilities";

impl Scenario {
    pub(super) fn script(&self) -> String {
        let session = SessionLine {
            widget_id: Some(DEFAULT_WIDGET_ID.into()),
            prompts: None,
            settings: self
                .session
                .map_caps(|caps| caps.iter().map(|c| c.to_string()).collect()),
        };
        let mut lines = vec![print_line(Key::Session, &session)];
        for input in self.inputs {
            lines.push(match *input {
                In::Answer(caps) => response("capabilities", json!({"capabilities": caps})),
                In::AnswerError => response(
                    "capabilities",
                    json!({"error": {"message": "no capabilities today"}}),
                ),
                In::AckNotify => response("notify_capabilities", json!({})),
                In::Request(caps) => request(UNSTABLE, json!({"capabilities": caps})),
                In::RequestStable(caps) => {
                    request("request_capabilities", json!({"capabilities": caps}))
                }
                In::RequestInvalid => request(UNSTABLE, json!({"capabilities": AOS})),
                In::Versions => request("supported_api_versions", json!({})),
                In::ContentLoaded => request("content_loaded", json!({})),
                In::AlwaysOnScreen => request("set_always_on_screen", json!({"value": true})),
                In::AlwaysOnScreenInvalid => {
                    request("set_always_on_screen", json!({"value": "yes"}))
                }
                In::Send(event_type, state_key, msgtype) => {
                    let content = match msgtype {
                        Some(m) => json!({"msgtype": m, "body": "hello"}),
                        None => json!({}),
                    };
                    let mut data = json!({"type": event_type, "content": content});
                    if let Some(k) = state_key {
                        data["state_key"] = json!(k);
                    }
                    request("send_event", data)
                }
                In::Unknown(action) => request(action, json!({})),
                In::Foreign(action, data) => {
                    let data: Value =
                        serde_json::from_str(data).unwrap_or_else(|_| json!({"invalid": data}));
                    widget_line(
                        json!({"api": "fromWidget", "widgetId": "w2", "action": action, "data": data}),
                    )
                }
                In::Decide(caps) => print_line(
                    Key::Decision,
                    &DecisionLine {
                        approved: caps.iter().map(|c| c.to_string()).collect(),
                    },
                ),
            });
        }
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

const SEND_TEXT: In = In::Send("m.room.message", None, Some("m.text"));
const SEND_NOTICE: In = In::Send("m.room.message", None, Some("m.notice"));
const SEND_TOPIC: In = In::Send("m.room.topic", Some(""), None);
const SEND_REACTION: In = In::Send("m.reaction", None, None);

/// The scenarios, written as data.
pub(super) const SCENARIOS: [Scenario; 19] = [
    Scenario {
        name: "initial-exchange",
        profiles: ALL,
        description: "The initial exchange: the widget asks for two capabilities, the user approves one; one notify reports the round's list as requested and the approved set; a gated action of the approved capability is allowed, one of the other is refused.",
        rows: &["notify-requested", "notify-approved"],
        negatives: &[
            ("msc", Rule::ApprovalNeedsDecision),
            ("widget-api", Rule::ApprovalNeedsDecision),
            ("legacy", Rule::ApprovalNeedsDecision),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS, TEXT]),
            In::Decide(&[AOS]),
            In::AckNotify,
            In::AlwaysOnScreen,
            SEND_TEXT,
        ],
    },
    Scenario {
        name: "auto-approve",
        profiles: ALL,
        description: "A session with autoApprove: the client prompts only for the capabilities not approved automatically; the notify's approved set holds the automatic approval and the user's.",
        rows: &["notify-approved"],
        negatives: &[
            ("msc", Rule::NotifyReportsTotals),
            ("widget-api", Rule::NotifyReportsTotals),
            ("legacy", Rule::NotifyReportsTotals),
        ],
        session: auto(&[TEXT]),
        inputs: &[
            In::Answer(&[AOS, TEXT, REACTION]),
            In::Decide(&[AOS]),
            In::AckNotify,
            SEND_TEXT,
            SEND_REACTION,
            In::AlwaysOnScreen,
        ],
    },
    Scenario {
        name: "auto-approve-unrequested",
        profiles: ALL,
        description: "autoApprove covers capabilities the widget never asks for: the client approves only what was requested, without a prompt (nothing is left to ask), and gated actions of the unrequested ones are refused.",
        rows: &["notify-approved", "notify-requested"],
        negatives: &[
            ("msc", Rule::ApprovedSubsetOfRequested),
            ("widget-api", Rule::ApprovedSubsetOfRequested),
            ("legacy", Rule::ApprovedSubsetOfRequested),
        ],
        session: auto(&[TEXT, AOS]),
        inputs: &[In::Answer(&[AOS]), In::AckNotify, SEND_TEXT, In::AlwaysOnScreen],
    },
    Scenario {
        name: "content-loaded",
        profiles: ALL,
        description: "A session declaring waitForContentLoaded: the client sends capabilities only after acking the widget's content_loaded; versions asked before that are answered at once.",
        rows: &[],
        negatives: &[
            ("msc", Rule::WellFormedMessage),
            ("widget-api", Rule::WellFormedMessage),
            ("legacy", Rule::WellFormedMessage),
        ],
        session: Settings {
            wait_for_content_loaded: true,
            ..PLAIN
        },
        inputs: &[
            In::Versions,
            In::ContentLoaded,
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::AlwaysOnScreen,
        ],
    },
    Scenario {
        name: "capabilities-error",
        profiles: ALL,
        description: "The widget answers capabilities with an error: round 0 has an empty list, so nothing is new: no prompt, exactly one notify with empty lists, and gated actions are refused.",
        rows: &["nothing-new", "notify-requested"],
        negatives: &[
            ("msc", Rule::NoPromptWithoutNew),
            ("widget-api", Rule::NoPromptWithoutNew),
            ("legacy", Rule::NoPromptWithoutNew),
        ],
        session: PLAIN,
        inputs: &[In::AnswerError, In::AckNotify, In::AlwaysOnScreen],
    },
    Scenario {
        name: "versions",
        profiles: ALL,
        description: "supported_api_versions, before and after the session is established: org.matrix.msc2974 is advertised under msc and widget-api, not under legacy.",
        rows: &["re-exchange"],
        negatives: &[
            ("msc", Rule::AdvertisesVersions),
            ("widget-api", Rule::AdvertisesVersions),
            ("legacy", Rule::OneNotifyPerRound),
        ],
        session: PLAIN,
        inputs: &[In::Versions, In::Answer(&[]), In::Versions],
    },
    Scenario {
        name: "reexchange",
        profiles: REEXCHANGE,
        description: "A re-exchange (MSC2974): the widget asks again for an approved capability and a new one; the client acks at once, prompts for the new one only, and after the user declines, notifies (requested: msc the session total, widget-api the round's new capabilities); the declined capability asked again is prompted again; gated actions follow the approved set.",
        rows: &[
            "re-exchange",
            "notify-requested",
            "notify-approved",
            "ack-vs-notify",
            "declined-asked-again",
        ],
        negatives: &[
            ("msc", Rule::NotifyReportsTotals),
            ("widget-api", Rule::NotifyReportsTotals),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::AckNotify,
            In::Request(&[AOS, TOPIC]),
            In::Decide(&[]),
            In::AckNotify,
            SEND_TOPIC,
            In::Request(&[TOPIC]),
            In::Decide(&[TOPIC]),
            SEND_TOPIC,
        ],
    },
    Scenario {
        name: "reexchange-unsupported",
        profiles: &["legacy"],
        description: "No MSC2974: request_capabilities under either name gets an error and changes nothing (no prompt, no notify), also in a session declaring rateLimit; versions do not advertise org.matrix.msc2974.",
        rows: &["re-exchange", "rate-limit"],
        negatives: &[("legacy", Rule::ExactlyOneResponse)],
        session: Settings {
            rate_limit: true,
            ..PLAIN
        },
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::Request(&[TOPIC]),
            In::RequestStable(&[TOPIC]),
            In::Versions,
            SEND_TOPIC,
        ],
    },
    Scenario {
        name: "stable-name",
        profiles: ALL,
        description: "request_capabilities under its stable name, for an approved capability: msc acks it and sends one notify without a prompt; widget-api (unstable name only) and legacy answer with an error.",
        rows: &["re-exchange"],
        negatives: &[
            ("msc", Rule::AcknowledgeRequest),
            ("widget-api", Rule::ResponseMatchesRequest),
            ("legacy", Rule::ResponseMatchesRequest),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::RequestStable(&[AOS]),
        ],
    },
    Scenario {
        name: "early-request",
        profiles: ALL,
        description: "request_capabilities before the widget answered capabilities (autoApprove covers it): msc and legacy answer with an error and change nothing; widget-api acks it and processes it at once (a notify before round 0).",
        rows: &["request-before-established"],
        negatives: &[
            ("msc", Rule::NoRequestBeforeSession),
            ("widget-api", Rule::ApprovalsNeverShrink),
            ("legacy", Rule::NotifyAfterCapabilities),
        ],
        session: auto(&[AOS]),
        inputs: &[In::Request(&[AOS]), In::Answer(&[TEXT]), In::Decide(&[TEXT])],
    },
    Scenario {
        name: "several-rounds",
        profiles: REEXCHANGE,
        description: "Two re-exchange requests while a prompt is open: both acked at once; msc processes them one at a time (the second round's prompt waits for the first round's notify and asks only what is still new), widget-api in parallel (a capability is prompted twice).",
        rows: &["several-rounds-at-once", "ack-vs-notify"],
        negatives: &[
            ("msc", Rule::RoundsInOrder),
            ("widget-api", Rule::AckBeforeNotify),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::Request(&[TOPIC]),
            In::Request(&[TOPIC, TEXT]),
            In::Decide(&[TOPIC]),
            In::Decide(&[TEXT]),
        ],
    },
    Scenario {
        name: "declined-asked-again",
        profiles: REEXCHANGE,
        description: "A capability the user declined is asked for again with an approved one: the client (msc with the default policy, widget-api) prompts again for the declined one only.",
        rows: &["declined-asked-again"],
        negatives: &[
            ("msc", Rule::PromptOnlyNew),
            ("widget-api", Rule::PromptOnlyNew),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS, TEXT]),
            In::Decide(&[TEXT]),
            In::AckNotify,
            In::Request(&[AOS, TEXT]),
            In::Decide(&[AOS]),
            In::AlwaysOnScreen,
        ],
    },
    Scenario {
        name: "declined-denied",
        profiles: &["msc"],
        description: "msc leaves a declined capability asked again to the client's policy; with the session extension `declined: deny` the client denies it without a prompt and prompts only for the capability never asked before.",
        rows: &["declined-asked-again"],
        negatives: &[("msc", Rule::ApprovalNeedsDecision)],
        session: Settings {
            declined: DeclinedPolicy::Deny,
            ..PLAIN
        },
        inputs: &[
            In::Answer(&[AOS, TEXT]),
            In::Decide(&[TEXT]),
            In::Request(&[AOS, TOPIC]),
            In::Decide(&[TOPIC]),
            In::AlwaysOnScreen,
        ],
    },
    Scenario {
        name: "nothing-new",
        profiles: REEXCHANGE,
        description: "Re-exchange rounds with nothing new (an approved capability; an empty list): each is acked, gets no prompt and exactly one notify.",
        rows: &["nothing-new", "notify-requested", "ack-vs-notify"],
        negatives: &[
            ("msc", Rule::NoPromptWithoutNew),
            ("widget-api", Rule::NoPromptWithoutNew),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::AckNotify,
            In::Request(&[AOS]),
            In::AckNotify,
            In::Request(&[]),
        ],
    },
    Scenario {
        name: "rate-limited",
        profiles: &["msc"],
        description: "A session declaring rateLimit: a re-exchange request while a round is open gets an error instead of the ack and its round is dropped; once the round is notified, the next request is acked.",
        rows: &["rate-limit"],
        negatives: &[("msc", Rule::OneNotifyPerRound)],
        session: Settings {
            rate_limit: true,
            ..PLAIN
        },
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::Request(&[TOPIC]),
            In::Request(&[TEXT]),
            In::Decide(&[TOPIC]),
            In::Request(&[TEXT]),
            In::Decide(&[TEXT]),
        ],
    },
    Scenario {
        name: "rate-limit-ignored",
        profiles: &["widget-api"],
        description: "widget-api has no rate limit: in a session declaring rateLimit, a second request while a round is open is acked and processed in parallel like any other.",
        rows: &["rate-limit", "several-rounds-at-once"],
        negatives: &[("widget-api", Rule::AcknowledgeRequest)],
        session: Settings {
            rate_limit: true,
            ..PLAIN
        },
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::Request(&[TOPIC]),
            In::Request(&[TEXT]),
            In::Decide(&[TOPIC]),
            In::Decide(&[TEXT]),
        ],
    },
    Scenario {
        name: "request-ids",
        profiles: ALL,
        description: "The client's own requestIds, with notifies never acked: every request the client starts has a fresh id (re-exchange rounds approved automatically, so without prompts; legacy refuses them).",
        rows: &["request-id-reuse", "nothing-new"],
        negatives: &[
            ("msc", Rule::UniqueRequestIds),
            ("widget-api", Rule::UniqueRequestIds),
            ("legacy", Rule::UniqueRequestIds),
        ],
        session: auto(&[AOS, TOPIC]),
        inputs: &[
            In::Answer(&[AOS]),
            In::Request(&[TOPIC]),
            In::Request(&[AOS, TOPIC]),
        ],
    },
    Scenario {
        name: "gated-actions",
        profiles: ALL,
        description: "Gated actions are judged by the approved set at that moment: refused before the exchange, allowed for an auto-approved capability and a user-approved state event, refused for another msgtype and for a declined capability.",
        rows: &[],
        negatives: &[
            ("msc", Rule::GatedActionNeedsCapability),
            ("widget-api", Rule::GatedActionNeedsCapability),
            ("legacy", Rule::GatedActionNeedsCapability),
        ],
        session: auto(&[TEXT]),
        inputs: &[
            SEND_TEXT,
            In::Answer(&[TEXT, TOPIC, AOS]),
            In::Decide(&[TOPIC]),
            SEND_TEXT,
            SEND_NOTICE,
            SEND_TOPIC,
            In::AlwaysOnScreen,
        ],
    },
    Scenario {
        name: "foreign-and-invalid",
        profiles: ALL,
        description: "Messages of another widget get no answer and change nothing; an unknown action, a set_always_on_screen without a boolean and a request_capabilities whose list is not a list each get an error response.",
        rows: &[],
        negatives: &[
            ("msc", Rule::ExactlyOneResponse),
            ("widget-api", Rule::ExactlyOneResponse),
            ("legacy", Rule::ExactlyOneResponse),
        ],
        session: PLAIN,
        inputs: &[
            In::Answer(&[AOS]),
            In::Decide(&[AOS]),
            In::Foreign(UNSTABLE, r#"{"capabilities": ["m.always_on_screen", "org.matrix.msc2762.send.state_event:m.room.topic"]}"#),
            In::Foreign("set_always_on_screen", r#"{"value": true}"#),
            In::Unknown("org.example.unknown_action"),
            In::AlwaysOnScreenInvalid,
            In::RequestInvalid,
        ],
    },
];
