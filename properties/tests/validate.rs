//! Validation against generated sessions: every trace `capneg run` makes conforms under its own
//! profile; erasing its prompts and decisions keeps it conforming (the search for hidden
//! prompts explains it); and changing one event in a way a rule forbids is caught by that rule.
//!
//! Case counts follow `PROPTEST_CASES` (proptest's default configuration); failing seeds are
//! kept in `proptest-regressions/validate.txt`.

mod common;

use capneg_model::rules::mutants::ClientKind;
use capneg_model::rules::Rule;
use capneg_model::run::run_script;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_model::{Judge, Observer};
use capneg_properties::protocol::Handler;
use capneg_properties::runner::run_session;
use capneg_properties::session::Session;
use capneg_properties::strategy::sessions;
use capneg_reference::Event;
use capneg_reference::Profile;
use capneg_wire::trace::{parse_line, Key};
use common::profiles;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

fn config() -> Config {
    common::config_keeping(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/validate.txt"
    ))
}

fn key(line: &str) -> Key {
    parse_line(line).expect("traces hold trace lines").key
}

/// The trace `capneg run` prints for the inputs of `session` (the widget's messages and the
/// user's decisions the reference's prompts call for), with the session's compact events.
fn run_trace(profile: Profile, session: &Session) -> (Vec<String>, Vec<Event>) {
    let mut client = Handler::new(profile, ClientKind::Reference);
    let run = run_session(profile, session, &mut client);
    let script: Vec<&String> = run
        .trace
        .iter()
        .filter(|l| matches!(key(l), Key::Session | Key::Widget | Key::Decision))
        .collect();
    let script = script
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    run_script(profile, script.as_bytes(), &mut out).expect("run takes the inputs of a session");
    let trace: Vec<String> = String::from_utf8(out)
        .expect("traces are UTF-8")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(trace, run.trace, "run reproduces the session's trace");
    (trace, run.events)
}

fn judge(profile: Profile, lines: &[String]) -> Verdict {
    let text = lines.join("\n");
    validate(
        Options {
            profile,
            partial: false,
            side: capneg_model::rules::Side::Client,
        },
        text.as_bytes(),
    )
    .expect("reading from memory does not fail")
}

/// The trace without its prompt and decision lines, its session line saying so.
fn wire_only(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !matches!(key(l), Key::Prompt | Key::Decision))
        .map(|l| l.replace("\"prompts\":\"recorded\"", "\"prompts\":\"hidden\""))
        .collect()
}

proptest! {
    #![proptest_config(config())]

    /// Every trace the reference makes conforms under its profile, prompts recorded or hidden.
    #[test]
    fn run_traces_conform(profile in profiles(), session in sessions()) {
        let (trace, _) = run_trace(profile, &session);
        let verdict = judge(profile, &trace);
        prop_assert!(matches!(verdict, Verdict::Conforms { .. }), "{verdict:?}\n{}", trace.join("\n"));
        let wire = wire_only(&trace);
        let verdict = judge(profile, &wire);
        prop_assert!(matches!(verdict, Verdict::Conforms { .. }), "{verdict:?}\n{}", wire.join("\n"));
    }

    /// One event changed the way a rule forbids is caught by that rule, at that event.
    #[test]
    fn a_forbidden_change_is_caught_by_its_rule(
        session in sessions(),
        first in 0..Edit::ALL.len(),
        which in any::<prop::sample::Index>(),
    ) {
        let profile = Profile::MSC;
        let (trace, events) = run_trace(profile, &session);
        let open = open_rounds(profile, &events);
        // The chosen edit, or the next one that has a line to change in this trace (a client
        // line, at least the `capabilities` request, is in almost every trace).
        let Some((edit, sites)) = (0..Edit::ALL.len())
            .map(|k| Edit::ALL[(first + k) % Edit::ALL.len()])
            .map(|e| (e, e.sites(&trace, &open)))
            .find(|(_, sites)| !sites.is_empty())
        else {
            return Ok(());
        };
        let at = sites[which.index(sites.len())];
        let changed = edit.apply(&trace, at);
        let verdict = judge(profile, &changed);
        // The changed line, or the line inserted after it.
        let line = at as u32 + if edit.inserts() { 2 } else { 1 };
        match &verdict {
            Verdict::Violates { line: l, findings, .. } => {
                prop_assert!(
                    l.get() == line && findings.iter().any(|f| f.rule == edit.rule()),
                    "{edit:?} at line {line}: {verdict:?}\n{}",
                    changed.join("\n")
                );
            }
            other => prop_assert!(false, "{edit:?} at line {line} not caught: {other:?}\n{}", changed.join("\n")),
        }
    }
}

/// The number of rounds open before each line of the trace (the session line is line 0).
fn open_rounds(profile: Profile, events: &[Event]) -> Vec<usize> {
    let judge = Judge::new(profile);
    let mut observer = Observer::<()>::new();
    let mut open = vec![0];
    for event in events {
        open.push(observer.open_rounds());
        let _ = observer.observe(&judge, (), event, &mut Vec::new());
    }
    open
}

/// A change to one event that a rule forbids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit {
    /// A client message loses its `data`.
    DropData,
    /// A client response echoes another action.
    WrongAction,
    /// A client response is sent twice.
    AnswerTwice,
    /// A client request reuses the id of the client's first request.
    ReuseId,
    /// The `capabilities` request is sent twice.
    SecondCapabilities,
    /// A notify approves a capability nobody asked for.
    ApproveUnrequested,
    /// A notify leaves out what an earlier notify approved.
    Shrink,
    /// A notify reports one more capability as requested.
    WrongRequested,
    /// A notify is sent twice (with a fresh id).
    DoubleNotify,
    /// A prompt also asks for a capability that is not new.
    PromptNotNew,
    /// The ack of a re-exchange request becomes an error.
    RefuseReexchange,
    /// The answer to `supported_api_versions` leaves out `org.matrix.msc2974`.
    HideMsc2974,
    /// A refused gated action is allowed.
    Ungate,
}

impl Edit {
    const ALL: [Edit; 13] = [
        Edit::DropData,
        Edit::WrongAction,
        Edit::AnswerTwice,
        Edit::ReuseId,
        Edit::SecondCapabilities,
        Edit::ApproveUnrequested,
        Edit::Shrink,
        Edit::WrongRequested,
        Edit::DoubleNotify,
        Edit::PromptNotNew,
        Edit::RefuseReexchange,
        Edit::HideMsc2974,
        Edit::Ungate,
    ];

    fn rule(self) -> Rule {
        match self {
            Edit::DropData => Rule::WellFormedMessage,
            Edit::WrongAction => Rule::ResponseMatchesRequest,
            Edit::AnswerTwice => Rule::ExactlyOneResponse,
            Edit::ReuseId => Rule::UniqueRequestIds,
            Edit::SecondCapabilities => Rule::SingleCapabilitiesExchange,
            Edit::ApproveUnrequested => Rule::ApprovedSubsetOfRequested,
            Edit::Shrink => Rule::ApprovalsNeverShrink,
            Edit::WrongRequested => Rule::NotifyReportsTotals,
            Edit::DoubleNotify => Rule::OneNotifyPerRound,
            Edit::PromptNotNew => Rule::PromptOnlyNew,
            Edit::RefuseReexchange => Rule::AcknowledgeRequest,
            Edit::HideMsc2974 => Rule::AdvertisesVersions,
            Edit::Ungate => Rule::GatedActionNeedsCapability,
        }
    }

    /// Whether the edit inserts a line after the one it picks.
    fn inserts(self) -> bool {
        matches!(
            self,
            Edit::AnswerTwice | Edit::SecondCapabilities | Edit::DoubleNotify
        )
    }

    /// The lines (0-based) this edit can change; `open[i]` is the number of rounds open before
    /// line `i`.
    fn sites(self, trace: &[String], open: &[usize]) -> Vec<usize> {
        let parsed: Vec<(Key, Value)> = trace
            .iter()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("trace lines are JSON");
                let k = key(l);
                let inner = v[k.as_str()].clone();
                (k, inner)
            })
            .collect();
        let client = |i: usize| parsed[i].0 == Key::Client;
        let action = |i: usize| parsed[i].1["action"].as_str().unwrap_or("").to_owned();
        let response = |i: usize| parsed[i].1.get("response").is_some();
        let notify = |i: usize| client(i) && action(i) == "notify_capabilities" && !response(i);
        let approved_before = |i: usize| {
            (0..i).any(|j| {
                notify(j)
                    && parsed[j].1["data"]["approved"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty())
            })
        };
        (0..trace.len())
            .filter(|&i| match self {
                Edit::DropData => client(i),
                Edit::WrongAction => client(i) && response(i) && action(i) != "capabilities",
                Edit::AnswerTwice => client(i) && response(i),
                Edit::ReuseId => {
                    client(i) && !response(i) && (0..i).any(|j| client(j) && !response(j))
                }
                Edit::SecondCapabilities => {
                    client(i) && !response(i) && action(i) == "capabilities"
                }
                Edit::ApproveUnrequested => notify(i),
                Edit::Shrink => notify(i) && approved_before(i),
                Edit::WrongRequested => notify(i),
                // A second notify is one too many where it ends the only open round (where
                // another round is open, a sequential reading takes it as that round's).
                Edit::DoubleNotify => notify(i) && open[i] == 1,
                Edit::PromptNotNew => {
                    // A prompt of a round with a capability already approved in an earlier
                    // notify, so that adding it makes the prompt ask for something not new.
                    parsed[i].0 == Key::Prompt && approved_before(i)
                }
                Edit::RefuseReexchange => {
                    client(i)
                        && response(i)
                        && action(i).ends_with("request_capabilities")
                        && parsed[i].1["response"].get("error").is_none()
                }
                Edit::HideMsc2974 => {
                    client(i) && response(i) && action(i) == "supported_api_versions"
                }
                Edit::Ungate => {
                    client(i)
                        && response(i)
                        && matches!(action(i).as_str(), "send_event" | "set_always_on_screen")
                        && parsed[i].1["response"].get("error").is_some()
                }
            })
            .collect()
    }

    /// The trace with line `at` changed.
    fn apply(self, trace: &[String], at: usize) -> Vec<String> {
        let mut lines = trace.to_vec();
        let k = key(&trace[at]);
        let mut line: Value = serde_json::from_str(&trace[at]).expect("trace lines are JSON");
        let msg = &mut line[k.as_str()];
        let last_approved = || -> Vec<Value> {
            trace[..at]
                .iter()
                .rev()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| {
                    v["client"]["action"] == "notify_capabilities"
                        && v["client"].get("response").is_none()
                        && v["client"]["data"]["approved"]
                            .as_array()
                            .is_some_and(|a| !a.is_empty())
                })
                .and_then(|v| v["client"]["data"]["approved"].as_array().cloned())
                .unwrap_or_default()
        };
        match self {
            Edit::DropData => {
                msg.as_object_mut().map(|o| o.remove("data"));
            }
            Edit::WrongAction => msg["action"] = json!("capabilities"),
            Edit::AnswerTwice | Edit::SecondCapabilities => {
                lines.insert(at + 1, trace[at].clone());
                return lines;
            }
            Edit::ReuseId => {
                let first = trace[..at]
                    .iter()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .find(|v| v["client"].is_object() && v["client"].get("response").is_none())
                    .map(|v| v["client"]["requestId"].clone())
                    .unwrap_or_default();
                msg["requestId"] = first;
            }
            Edit::ApproveUnrequested => {
                if let Some(a) = msg["data"]["approved"].as_array_mut() {
                    a.push(json!("org.example.never.requested"));
                }
            }
            Edit::Shrink => {
                let lost = last_approved();
                if let Some(a) = msg["data"]["approved"].as_array_mut() {
                    a.retain(|c| !lost.contains(c));
                }
            }
            Edit::WrongRequested => {
                if let Some(a) = msg["data"]["requested"].as_array_mut() {
                    a.push(json!("org.example.never.requested"));
                }
            }
            Edit::DoubleNotify => {
                let mut again = line.clone();
                again["client"]["requestId"] = json!("c-again");
                lines.insert(at + 1, again.to_string());
                return lines;
            }
            Edit::PromptNotNew => {
                let approved = last_approved();
                if let Some(a) = msg["capabilities"].as_array_mut() {
                    if let Some(c) = approved.first() {
                        if !a.contains(c) {
                            a.push(c.clone());
                        }
                    }
                }
            }
            Edit::RefuseReexchange => msg["response"] = json!({"error": {"message": "no"}}),
            Edit::HideMsc2974 => msg["response"] = json!({"supported_versions": ["0.0.2"]}),
            Edit::Ungate => msg["response"] = json!({}),
        }
        lines[at] = line.to_string();
        lines
    }
}

/// Every edit finds lines to change in generated sessions, so none of the checks above is
/// vacuous.
#[test]
fn every_edit_has_sites() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = sessions();
    let mut found = [0usize; Edit::ALL.len()];
    for _ in 0..400 {
        let session = strategy.new_tree(&mut runner).expect("a session").current();
        let (trace, events) = run_trace(Profile::MSC, &session);
        let open = open_rounds(Profile::MSC, &events);
        for (i, edit) in Edit::ALL.iter().enumerate() {
            found[i] += edit.sites(&trace, &open).len();
        }
    }
    for (edit, n) in Edit::ALL.iter().zip(found) {
        assert!(n > 0, "{edit:?} never applies");
    }
}
