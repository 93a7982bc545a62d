//! The reference client under every profile, row by row of docs/spec.md §3, on the wire.
//!
//! Each test drives a [`ClientSession`] with JSON envelopes through [`Session`], a small helper
//! that plays the widget and the user, and compares what the client emitted with a list of
//! [`Out`]s, so that a test reads like the exchange it checks:
//!
//! ```text
//! s.answer_capabilities(&[AOS])        == [prompt(&[AOS])]
//! s.decide(&[AOS])                     == [notify(&[AOS], &[AOS])]
//! s.reexchange(&[TEXT])                == (r, [ack(r), prompt(&[TEXT])])
//! ```
//!
//! On every step the helper also checks what holds for every output of the reference client:
//! each message has the session's `widgetId`, each response echoes the request it answers (api,
//! requestId, action, data), and the client never reuses one of its own request ids.

use capneg_model::rules::mutants::ClientKind;
use capneg_model::session::{ClientSession, Emitted};
use capneg_reference::client::StepError;
use capneg_reference::Client;
use capneg_reference::{DeclinedPolicy, Profile, Settings};
use serde_json::value::to_raw_value;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashSet};

const MSC: Profile = Profile::MSC;
const WIDGET_API: Profile = Profile::WIDGET_API;
const LEGACY: Profile = Profile::LEGACY;

const W: &str = "w1";
const AOS: &str = "m.always_on_screen";
const TEXT: &str = "org.matrix.msc2762.send.event:m.room.message#m.text";
const TOPIC: &str = "org.matrix.msc2762.send.state_event:m.room.topic";
const SCREEN: &str = "m.capture_screen";

const UNSTABLE: &str = "org.matrix.msc2974.request_capabilities";
const STABLE: &str = "request_capabilities";
const MSC2974: &str = "org.matrix.msc2974";

type Set = BTreeSet<String>;

fn set(caps: &[&str]) -> Set {
    caps.iter().map(|c| c.to_string()).collect()
}

/// One thing the client emitted, in a form tests can compare.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Out {
    /// The client's `capabilities` request.
    AskCapabilities,
    /// A `notify_capabilities` request with these sets.
    Notify { requested: Set, approved: Set },
    /// `"response": {}` to the widget's request with this id.
    Ack(String),
    /// An error response to the widget's request with this id.
    Error(String),
    /// Any other response: the request id and the response object.
    Answer(String, Value),
    /// A prompt asking the user about these capabilities.
    Prompt(Set),
    /// A client request of another action (the reference sends none).
    Request(String, Value),
}

fn notify(requested: &[&str], approved: &[&str]) -> Out {
    Out::Notify {
        requested: set(requested),
        approved: set(approved),
    }
}

fn prompt(caps: &[&str]) -> Out {
    Out::Prompt(set(caps))
}

fn ack(id: &str) -> Out {
    Out::Ack(id.to_owned())
}

fn error(id: &str) -> Out {
    Out::Error(id.to_owned())
}

/// The error message of an error response.
fn error_message(response: &Map<String, Value>) -> Option<String> {
    Some(response.get("error")?.get("message")?.as_str()?.to_owned())
}

/// A session of the reference client, with the widget's and the user's side played by the test.
struct Session {
    session: ClientSession,
    widget_id: String,
    /// Every request id the client used, in order, with its action.
    client_requests: Vec<(String, String)>,
    /// Client requests not yet answered by the test.
    open: Vec<(String, String)>,
    /// The outputs of the start of the session.
    started: Vec<Out>,
    next_request: usize,
    /// The error messages of every error response, by the widget's request id.
    errors: Vec<(String, String)>,
}

impl Session {
    /// A session with the default settings.
    fn start(profile: Profile) -> Session {
        Session::with(profile, Settings::default())
    }

    /// A session with these settings.
    fn with(profile: Profile, config: Config) -> Session {
        let mut emitted = Vec::new();
        let session =
            ClientSession::start(ClientKind::Reference, profile, W, &config, &mut emitted);
        let mut s = Session {
            session,
            widget_id: W.to_owned(),
            client_requests: Vec::new(),
            open: Vec::new(),
            started: Vec::new(),
            next_request: 0,
            errors: Vec::new(),
        };
        s.started = s.read(None, emitted);
        s
    }

    /// A session whose round 0 asked for `caps`, all approved by the user (or without a prompt
    /// where nothing is to be asked).
    fn established(profile: Profile, config: Config, caps: &[&str]) -> Session {
        let mut s = Session::with(profile, config);
        assert_eq!(s.started, [Out::AskCapabilities]);
        let out = s.answer_capabilities(caps);
        if let Some(Out::Prompt(asked)) = out.first() {
            let asked: Vec<String> = asked.iter().cloned().collect();
            let out = s.decide_strings(&asked);
            assert!(matches!(out.as_slice(), [Out::Notify { .. }]), "{out:?}");
        } else {
            assert!(matches!(out.as_slice(), [Out::Notify { .. }]), "{out:?}");
        }
        assert!(!s.session.prompt_open());
        s
    }

    /// The reference client's state.
    fn client(&self) -> &Client {
        self.session.client().client()
    }

    /// Posts a widget message (any JSON); returns what the client emitted.
    fn post(&mut self, message: Value) -> Vec<Out> {
        let raw = to_raw_value(&message).unwrap();
        let mut emitted = Vec::new();
        self.session.widget(&raw, &mut emitted);
        self.read(Some(&message), emitted)
    }

    /// Posts a widget request of `action` with `data` and a fresh request id.
    fn request(&mut self, action: &str, data: Value) -> (String, Vec<Out>) {
        self.next_request += 1;
        let id = format!("r{}", self.next_request);
        let out = self.request_with_id(&id, action, data);
        (id, out)
    }

    /// Posts a widget request with this request id.
    fn request_with_id(&mut self, id: &str, action: &str, data: Value) -> Vec<Out> {
        let message = json!({
            "api": "fromWidget",
            "widgetId": self.widget_id,
            "requestId": id,
            "action": action,
            "data": data,
        });
        self.post(message)
    }

    /// An MSC2974 re-exchange request under the unstable name.
    fn reexchange(&mut self, caps: &[&str]) -> (String, Vec<Out>) {
        self.reexchange_named(UNSTABLE, caps)
    }

    /// A re-exchange request under `name`.
    fn reexchange_named(&mut self, name: &str, caps: &[&str]) -> (String, Vec<Out>) {
        self.request(name, json!({ "capabilities": caps }))
    }

    /// The widget's `content_loaded`.
    fn content_loaded(&mut self) -> (String, Vec<Out>) {
        self.request("content_loaded", json!({}))
    }

    /// `set_always_on_screen`: the client's answer.
    fn always_on_screen(&mut self) -> Out {
        let (_, out) = self.request("set_always_on_screen", json!({"value": true}));
        assert_eq!(out.len(), 1, "{out:?}");
        out.into_iter().next().unwrap()
    }

    /// `send_event` of an `m.room.message` with `msgtype`: the client's answer.
    fn send_message(&mut self, msgtype: &str) -> Out {
        let data = json!({"type": "m.room.message", "content": {"msgtype": msgtype, "body": "hi"}});
        let (_, out) = self.request("send_event", data);
        assert_eq!(out.len(), 1, "{out:?}");
        out.into_iter().next().unwrap()
    }

    /// `send_event` of an `m.room.topic` state event: the client's answer.
    fn send_topic(&mut self) -> Out {
        let data = json!({"type": "m.room.topic", "state_key": "", "content": {"topic": "t"}});
        let (_, out) = self.request("send_event", data);
        assert_eq!(out.len(), 1, "{out:?}");
        out.into_iter().next().unwrap()
    }

    /// The versions the client answers `supported_api_versions` with.
    fn supported_versions(&mut self) -> Vec<String> {
        let (id, out) = self.request("supported_api_versions", json!({}));
        let [Out::Answer(answered, response)] = out.as_slice() else {
            panic!("supported_api_versions answered with {out:?}");
        };
        assert_eq!(answered, &id);
        response["supported_versions"]
            .as_array()
            .expect("supported_versions is a list")
            .iter()
            .map(|v| v.as_str().expect("versions are strings").to_owned())
            .collect()
    }

    /// The id of the oldest open client request of `action`.
    fn open_request(&self, action: &str) -> String {
        self.open
            .iter()
            .find(|(_, a)| a == action)
            .unwrap_or_else(|| panic!("no open `{action}` request: {:?}", self.open))
            .0
            .clone()
    }

    /// The widget answers the client's `capabilities` request with `caps`.
    fn answer_capabilities(&mut self, caps: &[&str]) -> Vec<Out> {
        let id = self.open_request("capabilities");
        self.answer(&id, json!({ "capabilities": caps }))
    }

    /// The widget answers the client's request `id` with `response`.
    fn answer(&mut self, id: &str, response: Value) -> Vec<Out> {
        let i = self.open.iter().position(|(o, _)| o == id).unwrap();
        let (id, action) = self.open.remove(i);
        let data = match action.as_str() {
            "notify_capabilities" => json!({"requested": [], "approved": []}),
            _ => json!({}),
        };
        self.post(json!({
            "api": "toWidget",
            "widgetId": self.widget_id,
            "requestId": id,
            "action": action,
            "data": data,
            "response": response,
        }))
    }

    /// The widget acks every open notify; the client must not react.
    fn ack_notifies(&mut self) {
        let notifies: Vec<String> = self
            .open
            .iter()
            .filter(|(_, a)| a == "notify_capabilities")
            .map(|(id, _)| id.clone())
            .collect();
        for id in notifies {
            assert_eq!(self.answer(&id, json!({})), []);
        }
    }

    /// The user approves `caps` in the oldest open prompt.
    fn decide(&mut self, caps: &[&str]) -> Vec<Out> {
        let caps: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
        self.decide_strings(&caps)
    }

    fn decide_strings(&mut self, caps: &[String]) -> Vec<Out> {
        let mut emitted = Vec::new();
        self.session
            .decision(caps.iter().map(String::as_str), &mut emitted)
            .expect("a prompt is open");
        self.read(None, emitted)
    }

    /// Reads what the client emitted in reaction to `request` (the widget's message, or
    /// `None` for a decision or the start), checking what holds for every output.
    fn read(&mut self, request: Option<&Value>, emitted: Vec<Emitted>) -> Vec<Out> {
        let mut outs = Vec::new();
        for e in emitted {
            let env = match e {
                Emitted::Prompt(caps) => {
                    outs.push(Out::Prompt(caps.into_iter().collect()));
                    continue;
                }
                Emitted::Malformed(v) => panic!("the reference sent a malformed message: {v}"),
                Emitted::Client(env) => env,
            };
            assert_eq!(env.widget_id, self.widget_id, "{env:?}");
            match &env.response {
                Some(response) => {
                    // A response echoes the widget request it answers.
                    let request = request.expect("responses only answer widget messages");
                    assert_eq!(request["api"], "fromWidget");
                    assert_eq!(env.api.as_str(), "fromWidget");
                    assert_eq!(request["requestId"], env.request_id.as_str());
                    assert_eq!(request["action"], env.action.as_str());
                    assert_eq!(request["data"], Value::Object(env.data.clone()));
                    let id = env.request_id.clone();
                    if response.is_empty() {
                        outs.push(Out::Ack(id));
                    } else if let Some(message) = error_message(response) {
                        assert_eq!(response.len(), 1, "{response:?}");
                        self.errors.push((id.clone(), message));
                        outs.push(Out::Error(id));
                    } else {
                        assert!(!response.contains_key("error"), "{response:?}");
                        outs.push(Out::Answer(id, Value::Object(response.clone())));
                    }
                }
                None => {
                    assert_eq!(env.api.as_str(), "toWidget");
                    // Rule `unique-request-ids`: never within the session, under every profile.
                    assert!(
                        self.client_requests
                            .iter()
                            .all(|(id, _)| *id != env.request_id),
                        "request id {} reused: {:?}",
                        env.request_id,
                        self.client_requests
                    );
                    self.client_requests
                        .push((env.request_id.clone(), env.action.clone()));
                    self.open.push((env.request_id.clone(), env.action.clone()));
                    outs.push(match env.action.as_str() {
                        "capabilities" => {
                            assert!(env.data.is_empty());
                            Out::AskCapabilities
                        }
                        "notify_capabilities" => {
                            assert_eq!(env.data.len(), 2, "{:?}", env.data);
                            Out::Notify {
                                requested: strings(&env.data["requested"]),
                                approved: strings(&env.data["approved"]),
                            }
                        }
                        _ => Out::Request(env.action.clone(), Value::Object(env.data.clone())),
                    });
                }
            }
        }
        outs
    }

    /// The error message sent to the widget's request `id`.
    fn error_message(&self, id: &str) -> &str {
        &self
            .errors
            .iter()
            .find(|(r, _)| r == id)
            .unwrap_or_else(|| panic!("no error response to {id}"))
            .1
    }
}

/// A JSON list of strings as a set; the list must not repeat a member.
fn strings(v: &Value) -> Set {
    let list = v.as_array().expect("a list");
    let set: Set = list
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect();
    assert_eq!(set.len(), list.len(), "a list with repeats: {v}");
    set
}

/// A session's settings as the formats write them.
type Config = Settings<Vec<String>>;

fn config() -> Config {
    Settings::default()
}

fn auto_approve(caps: &[&str]) -> Config {
    Settings {
        auto_approve: caps.iter().map(|c| c.to_string()).collect(),
        ..config()
    }
}

fn rate_limited() -> Config {
    Settings {
        rate_limit: true,
        ..config()
    }
}

fn declined(policy: DeclinedPolicy) -> Config {
    Settings {
        declined: policy,
        ..config()
    }
}

fn waiting() -> Config {
    Settings {
        wait_for_content_loaded: true,
        ..config()
    }
}

// ---------------------------------------------------------------------------------------------
// §3 row "re-exchange"
// ---------------------------------------------------------------------------------------------

/// §3 "re-exchange", msc: both action names are accepted, and `org.matrix.msc2974` is
/// advertised.
#[test]
fn reexchange_msc_accepts_both_names_and_advertises() {
    let mut s = Session::established(MSC, config(), &[]);
    assert!(s.supported_versions().iter().any(|v| v == MSC2974));
    let (r, out) = s.reexchange_named(UNSTABLE, &[AOS]);
    assert_eq!(out, [ack(&r), prompt(&[AOS])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
    let (r, out) = s.reexchange_named(STABLE, &[TEXT]);
    assert_eq!(out, [ack(&r), prompt(&[TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
}

/// §3 "re-exchange", widget-api: only the unstable name is served (the stable one is an
/// unknown action), and `org.matrix.msc2974` is advertised.
#[test]
fn reexchange_widget_api_serves_the_unstable_name_only() {
    let mut s = Session::established(WIDGET_API, config(), &[]);
    assert!(s.supported_versions().iter().any(|v| v == MSC2974));
    let (r, out) = s.reexchange_named(STABLE, &[TEXT]);
    assert_eq!(out, [error(&r)]);
    let (unknown, out) = s.request("org.example.no_such_action", json!({}));
    assert_eq!(out, [error(&unknown)]);
    assert_eq!(s.error_message(&r), s.error_message(&unknown));
    assert!(
        s.client().requested().is_empty(),
        "the refused round left a trace"
    );
    let (r, out) = s.reexchange_named(UNSTABLE, &[AOS]);
    assert_eq!(out, [ack(&r), prompt(&[AOS])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
}

/// §3 "re-exchange", legacy: `request_capabilities` under either name gets an error, and
/// `org.matrix.msc2974` is not advertised.
#[test]
fn reexchange_legacy_refuses_both_names_and_does_not_advertise() {
    let mut s = Session::established(LEGACY, config(), &[AOS]);
    assert!(!s.supported_versions().iter().any(|v| v == MSC2974));
    let before = s.client().clone();
    for name in [UNSTABLE, STABLE] {
        let (r, out) = s.reexchange_named(name, &[TEXT]);
        assert_eq!(out, [error(&r)]);
    }
    assert_eq!(s.client(), &before, "a refused request changed the client");
    assert_eq!(
        s.send_message("m.text"),
        error(&format!("r{}", s.next_request))
    );
}

// ---------------------------------------------------------------------------------------------
// §3 row "request before established"
// ---------------------------------------------------------------------------------------------

/// §3 "request before established", msc: an error response, nothing else; the refused list
/// plays no part in the session afterwards.
#[test]
fn early_request_msc_is_refused_and_changes_nothing() {
    let mut s = Session::start(MSC);
    let before = s.client().clone();
    for name in [UNSTABLE, STABLE] {
        let (r, out) = s.reexchange_named(name, &[AOS]);
        assert_eq!(out, [error(&r)]);
    }
    assert_eq!(s.client(), &before);
    assert_eq!(s.answer_capabilities(&[TEXT]), [prompt(&[TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[TEXT], &[TEXT])]);
    assert_eq!(s.always_on_screen(), error(&format!("r{}", s.next_request)));
}

/// §3 "request before established", msc, while the client waits for `content_loaded`: refused
/// too.
#[test]
fn early_request_msc_before_content_loaded_is_refused() {
    let mut s = Session::with(MSC, waiting());
    assert_eq!(s.started, []);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [error(&r)]);
    let (c, out) = s.content_loaded();
    assert_eq!(out, [ack(&c), Out::AskCapabilities]);
    assert_eq!(s.answer_capabilities(&[]), [notify(&[], &[])]);
}

/// §3 "request before established", widget-api: acked and processed at once (its own prompt
/// and notify before round 0); round 0 then asks only what is still new.
#[test]
fn early_request_widget_api_is_processed_at_once() {
    let mut s = Session::start(WIDGET_API);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [ack(&r), prompt(&[AOS])]);
    assert!(!s.client().is_established());
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
    assert_eq!(s.always_on_screen(), ack(&format!("r{}", s.next_request)));
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
}

/// §3 "request before established", widget-api: an early request whose prompt is still open
/// when round 0 arrives; both prompts are open at once (parallel).
#[test]
fn early_request_widget_api_prompt_open_when_round_zero_arrives() {
    let mut s = Session::start(WIDGET_API);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [ack(&r), prompt(&[AOS])]);
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
}

/// §3 "request before established", legacy: an error (re-exchange is not served at all).
#[test]
fn early_request_legacy_is_refused() {
    let mut s = Session::start(LEGACY);
    let before = s.client().clone();
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [error(&r)]);
    assert_eq!(s.client(), &before);
    assert_eq!(s.answer_capabilities(&[TEXT]), [prompt(&[TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[TEXT], &[TEXT])]);
}

// ---------------------------------------------------------------------------------------------
// §3 row "several rounds at once"
// ---------------------------------------------------------------------------------------------

/// §3 "several rounds at once", msc: each round acked at once; processed one at a time, in
/// arrival order: a round's prompt only after the previous round's notify.
#[test]
fn several_rounds_msc_are_queued_in_arrival_order() {
    let mut s = Session::established(MSC, config(), &[AOS]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r1), prompt(&[TEXT])]);
    let (r2, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out, [ack(&r2)]);
    let (r3, out) = s.reexchange(&[TEXT, SCREEN]);
    assert_eq!(out, [ack(&r3)]);
    assert_eq!(s.client().queued().len(), 2);
    // Round 1's notify, then round 2's prompt.
    assert_eq!(
        s.decide(&[TEXT]),
        [notify(&[AOS, TEXT], &[AOS, TEXT]), prompt(&[TOPIC])]
    );
    // Round 3 is processed after round 1's approval: only SCREEN is new.
    assert_eq!(
        s.decide(&[]),
        [notify(&[AOS, TEXT, TOPIC], &[AOS, TEXT]), prompt(&[SCREEN])]
    );
    assert_eq!(
        s.decide(&[SCREEN]),
        [notify(&[AOS, TEXT, TOPIC, SCREEN], &[AOS, TEXT, SCREEN])]
    );
    assert!(!s.client().round_open());
}

/// §3 "several rounds at once", msc: a re-exchange while round 0's prompt is open is acked at
/// once and waits for round 0's notify.
#[test]
fn several_rounds_msc_queue_behind_round_zero() {
    let mut s = Session::start(MSC);
    assert_eq!(s.answer_capabilities(&[AOS]), [prompt(&[AOS])]);
    let (r, out) = s.reexchange(&[AOS, TEXT]);
    assert_eq!(out, [ack(&r)]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS]), prompt(&[TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
}

/// §3 "several rounds at once", msc: queued rounds with nothing new are finished one after the
/// other when the open round ends, each with its own notify.
#[test]
fn several_rounds_msc_queued_rounds_without_new_each_notify() {
    let mut s = Session::established(MSC, config(), &[AOS]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r1), prompt(&[TEXT])]);
    let (r2, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [ack(&r2)]);
    let (r3, out) = s.reexchange(&[]);
    assert_eq!(out, [ack(&r3)]);
    assert_eq!(
        s.decide(&[TEXT]),
        [
            notify(&[AOS, TEXT], &[AOS, TEXT]),
            notify(&[AOS, TEXT], &[AOS, TEXT]),
            notify(&[AOS, TEXT], &[AOS, TEXT]),
        ]
    );
}

/// §3 "several rounds at once", widget-api: processed in parallel; a capability is prompted
/// twice; decisions answer the oldest prompt first.
#[test]
fn several_rounds_widget_api_are_parallel_and_prompt_twice() {
    let mut s = Session::established(WIDGET_API, config(), &[AOS]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r1), prompt(&[TEXT])]);
    let (r2, out) = s.reexchange(&[TEXT, TOPIC]);
    assert_eq!(out, [ack(&r2), prompt(&[TEXT, TOPIC])]);
    assert_eq!(s.client().prompting().len(), 2);
    assert_eq!(s.client().queued().len(), 0);
    // Round 1 first: requested is its new capabilities.
    assert_eq!(s.decide(&[TEXT]), [notify(&[TEXT], &[AOS, TEXT])]);
    // Round 2: its new capabilities when it was processed; declining TEXT again takes nothing
    // back.
    assert_eq!(
        s.decide(&[TOPIC]),
        [notify(&[TEXT, TOPIC], &[AOS, TEXT, TOPIC])]
    );
}

/// §3 "several rounds at once", widget-api: a later round's prompt may be decided while an
/// earlier round's is still open only in order: the first decision always answers round 1.
#[test]
fn several_rounds_widget_api_decisions_answer_the_oldest_prompt() {
    let mut s = Session::established(WIDGET_API, config(), &[]);
    let (_, out) = s.reexchange(&[AOS]);
    assert_eq!(out.last(), Some(&prompt(&[AOS])));
    let (_, out) = s.reexchange(&[TEXT]);
    assert_eq!(out.last(), Some(&prompt(&[TEXT])));
    // Approving TEXT in round 1's prompt approves nothing: TEXT was not asked there.
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS], &[])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[TEXT], &[TEXT])]);
}

/// §3 "several rounds at once", legacy: not applicable: every re-exchange is refused, so no
/// round ever opens besides round 0.
#[test]
fn several_rounds_legacy_every_request_refused() {
    let mut s = Session::start(LEGACY);
    assert_eq!(s.answer_capabilities(&[AOS]), [prompt(&[AOS])]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [error(&r1)]);
    let (r2, out) = s.reexchange_named(STABLE, &[TOPIC]);
    assert_eq!(out, [error(&r2)]);
    assert_eq!(s.client().queued().len(), 0);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
    assert!(!s.session.prompt_open());
}

// ---------------------------------------------------------------------------------------------
// §3 row "previously declined capability asked again"
// ---------------------------------------------------------------------------------------------

/// §3 "previously declined capability asked again", msc with `DeclinedPolicy::Prompt`: the
/// user is asked again.
#[test]
fn redeclined_msc_prompt_policy_prompts_again() {
    let mut s = Session::with(MSC, declined(DeclinedPolicy::Prompt));
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[TEXT])]);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [ack(&r), prompt(&[AOS])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
    assert!(s.client().declined().is_empty());
}

/// §3 "previously declined capability asked again", msc with `DeclinedPolicy::Deny`: denied
/// without a prompt; the round still gets its ack and one notify.
#[test]
fn redeclined_msc_deny_policy_denies_without_prompt() {
    let mut s = Session::with(MSC, declined(DeclinedPolicy::Deny));
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[TEXT])]);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [ack(&r), notify(&[AOS, TEXT], &[TEXT])]);
    // With something new besides: only the new, never-declined capability is asked, and the
    // user's approval of the declined one (not asked) approves nothing.
    let (r, out) = s.reexchange(&[AOS, TOPIC]);
    assert_eq!(out, [ack(&r), prompt(&[TOPIC])]);
    assert_eq!(
        s.decide(&[AOS, TOPIC]),
        [notify(&[AOS, TEXT, TOPIC], &[TEXT, TOPIC])]
    );
    assert_eq!(s.always_on_screen(), error(&format!("r{}", s.next_request)));
}

/// §3 "previously declined capability asked again", msc with `DeclinedPolicy::Deny`: a
/// capability declined in a re-exchange round (not only round 0) is denied later too.
#[test]
fn redeclined_msc_deny_policy_remembers_declines_of_later_rounds() {
    let mut s = Session::established(MSC, declined(DeclinedPolicy::Deny), &[]);
    let (_, out) = s.reexchange(&[SCREEN]);
    assert_eq!(out.last(), Some(&prompt(&[SCREEN])));
    assert_eq!(s.decide(&[]), [notify(&[SCREEN], &[])]);
    let (r, out) = s.reexchange(&[SCREEN]);
    assert_eq!(out, [ack(&r), notify(&[SCREEN], &[])]);
}

/// §3 "previously declined capability asked again", widget-api: the user is asked again, even
/// where the session's own policy would deny.
#[test]
fn redeclined_widget_api_prompts_again_whatever_the_policy() {
    for policy in [DeclinedPolicy::Prompt, DeclinedPolicy::Deny] {
        let mut s = Session::with(WIDGET_API, declined(policy));
        assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
        assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[TEXT])]);
        let (r, out) = s.reexchange(&[AOS]);
        assert_eq!(out, [ack(&r), prompt(&[AOS])], "{policy:?}");
        assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS, TEXT])]);
    }
}

/// §3 "previously declined capability asked again", legacy: not applicable: a declined
/// capability can only be asked again by a re-exchange, which is refused; it stays declined.
#[test]
fn redeclined_legacy_cannot_be_asked_again() {
    let mut s = Session::with(LEGACY, declined(DeclinedPolicy::Deny));
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[TEXT])]);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [error(&r)]);
    assert_eq!(s.always_on_screen(), error(&format!("r{}", s.next_request)));
}

// ---------------------------------------------------------------------------------------------
// §3 row "nothing new"
// ---------------------------------------------------------------------------------------------

/// §3 "nothing new", msc: no prompt; exactly one notify (for a list of approved capabilities,
/// and for an empty list).
#[test]
fn nothing_new_msc_one_notify_no_prompt() {
    let mut s = Session::established(MSC, config(), &[AOS, TEXT]);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [ack(&r), notify(&[AOS, TEXT], &[AOS, TEXT])]);
    let (r, out) = s.reexchange(&[]);
    assert_eq!(out, [ack(&r), notify(&[AOS, TEXT], &[AOS, TEXT])]);
    assert!(!s.session.prompt_open());
}

/// §3 "nothing new", msc: round 0 with an empty list: no prompt, one notify.
#[test]
fn nothing_new_msc_round_zero_empty() {
    let mut s = Session::start(MSC);
    assert_eq!(s.answer_capabilities(&[]), [notify(&[], &[])]);
    // An error answer or an answer without a list is read as an empty round 0.
    let mut s = Session::start(MSC);
    let id = s.open_request("capabilities");
    assert_eq!(
        s.answer(&id, json!({"error": {"message": "no"}})),
        [notify(&[], &[])]
    );
}

/// §3 "nothing new", widget-api: no prompt; exactly one notify, whose `requested` (the round's
/// new capabilities) is empty.
#[test]
fn nothing_new_widget_api_one_notify_no_prompt() {
    let mut s = Session::established(WIDGET_API, config(), &[AOS, TEXT]);
    let (r, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r), notify(&[], &[AOS, TEXT])]);
    let (r, out) = s.reexchange(&[]);
    assert_eq!(out, [ack(&r), notify(&[], &[AOS, TEXT])]);
    assert!(!s.session.prompt_open());
}

/// §3 "nothing new", legacy: only round 0 exists; with nothing to ask it gets no prompt and
/// exactly one notify.
#[test]
fn nothing_new_legacy_round_zero() {
    let mut s = Session::start(LEGACY);
    assert_eq!(s.answer_capabilities(&[]), [notify(&[], &[])]);
    let mut s = Session::with(LEGACY, auto_approve(&[AOS, TEXT]));
    assert_eq!(
        s.answer_capabilities(&[AOS, TEXT]),
        [notify(&[AOS, TEXT], &[AOS, TEXT])]
    );
}

// ---------------------------------------------------------------------------------------------
// §3 row "notify requested"
// ---------------------------------------------------------------------------------------------

/// §3 "notify `requested`", msc: the requested total, declined capabilities included.
#[test]
fn notify_requested_msc_is_the_session_total() {
    let mut s = Session::start(MSC);
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS, TEXT], &[AOS])]);
    let (_, out) = s.reexchange(&[TEXT, TOPIC]);
    assert_eq!(out.last(), Some(&prompt(&[TEXT, TOPIC])));
    assert_eq!(s.decide(&[]), [notify(&[AOS, TEXT, TOPIC], &[AOS])]);
    let (_, out) = s.reexchange(&[SCREEN]);
    assert_eq!(out.last(), Some(&prompt(&[SCREEN])));
    assert_eq!(
        s.decide(&[SCREEN]),
        [notify(&[AOS, TEXT, TOPIC, SCREEN], &[AOS, SCREEN])]
    );
}

/// §3 "notify `requested`", widget-api: round 0 its list; later rounds their new
/// capabilities.
#[test]
fn notify_requested_widget_api_is_the_rounds_new() {
    let mut s = Session::start(WIDGET_API);
    assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[AOS, TEXT])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS, TEXT], &[AOS])]);
    let (_, out) = s.reexchange(&[AOS, TOPIC]);
    assert_eq!(out.last(), Some(&prompt(&[TOPIC])));
    assert_eq!(s.decide(&[TOPIC]), [notify(&[TOPIC], &[AOS, TOPIC])]);
    // A declined capability is new again.
    let (_, out) = s.reexchange(&[AOS, TEXT, SCREEN]);
    assert_eq!(out.last(), Some(&prompt(&[TEXT, SCREEN])));
    assert_eq!(s.decide(&[]), [notify(&[TEXT, SCREEN], &[AOS, TOPIC])]);
}

/// §3 "notify `requested`", widget-api: round 0's notify reports its whole list, even the
/// capabilities already approved by an earlier (early) round.
#[test]
fn notify_requested_widget_api_round_zero_reports_its_whole_list() {
    let mut s = Session::start(WIDGET_API);
    let (_, out) = s.reexchange(&[AOS]);
    assert_eq!(out.last(), Some(&prompt(&[AOS])));
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
    assert_eq!(s.answer_capabilities(&[AOS]), [notify(&[AOS], &[AOS])]);
}

/// §3 "notify `requested`", legacy: round 0's list, whatever was approved.
#[test]
fn notify_requested_legacy_is_round_zero_list() {
    let mut s = Session::with(LEGACY, auto_approve(&[TOPIC]));
    assert_eq!(
        s.answer_capabilities(&[AOS, TEXT, TOPIC]),
        [prompt(&[AOS, TEXT])]
    );
    assert_eq!(s.decide(&[]), [notify(&[AOS, TEXT, TOPIC], &[TOPIC])]);
}

// ---------------------------------------------------------------------------------------------
// §3 row "notify approved"
// ---------------------------------------------------------------------------------------------

/// §3 "notify `approved`", msc: the approved set: everything approved in the session (by the
/// user or by `autoApprove`), never less than before, even when a round is fully declined.
#[test]
fn notify_approved_msc_is_the_approved_set() {
    let mut s = Session::with(MSC, auto_approve(&[SCREEN]));
    assert_eq!(s.answer_capabilities(&[AOS, SCREEN]), [prompt(&[AOS])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS, SCREEN], &[AOS, SCREEN])]);
    let (_, out) = s.reexchange(&[TEXT]);
    assert_eq!(out.last(), Some(&prompt(&[TEXT])));
    assert_eq!(
        s.decide(&[]),
        [notify(&[AOS, SCREEN, TEXT], &[AOS, SCREEN])]
    );
    let (_, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out.last(), Some(&prompt(&[TOPIC])));
    assert_eq!(
        s.decide(&[TOPIC]),
        [notify(&[AOS, SCREEN, TEXT, TOPIC], &[AOS, SCREEN, TOPIC])]
    );
}

/// §3 "notify `approved`", widget-api: the approved set, not only the round's approvals.
#[test]
fn notify_approved_widget_api_is_the_approved_set() {
    let mut s = Session::with(WIDGET_API, auto_approve(&[SCREEN]));
    assert_eq!(s.answer_capabilities(&[AOS, SCREEN]), [prompt(&[AOS])]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS, SCREEN], &[AOS, SCREEN])]);
    let (_, out) = s.reexchange(&[TEXT]);
    assert_eq!(out.last(), Some(&prompt(&[TEXT])));
    assert_eq!(s.decide(&[TEXT]), [notify(&[TEXT], &[AOS, SCREEN, TEXT])]);
    let (_, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out.last(), Some(&prompt(&[TOPIC])));
    assert_eq!(s.decide(&[]), [notify(&[TOPIC], &[AOS, SCREEN, TEXT])]);
}

/// §3 "notify `approved`", legacy: the approved set of round 0 (the user's and `autoApprove`).
#[test]
fn notify_approved_legacy_is_the_approved_set() {
    let mut s = Session::with(LEGACY, auto_approve(&[SCREEN]));
    assert_eq!(
        s.answer_capabilities(&[AOS, TEXT, SCREEN]),
        [prompt(&[AOS, TEXT])]
    );
    assert_eq!(
        s.decide(&[TEXT]),
        [notify(&[AOS, TEXT, SCREEN], &[TEXT, SCREEN])]
    );
}

// ---------------------------------------------------------------------------------------------
// §3 row "ack vs notify"
// ---------------------------------------------------------------------------------------------

/// §3 "ack vs notify", msc and widget-api: the ack comes first, before the prompt, and the
/// notify only after the user's decision; with nothing new the ack still precedes the notify.
#[test]
fn ack_first_msc_and_widget_api() {
    for profile in [MSC, WIDGET_API] {
        let mut s = Session::established(profile, config(), &[AOS]);
        let (r, out) = s.reexchange(&[TEXT]);
        assert_eq!(out, [ack(&r), prompt(&[TEXT])], "{profile}");
        let out = s.decide(&[TEXT]);
        assert_eq!(out.len(), 1, "{profile}");
        assert!(matches!(out[0], Out::Notify { .. }), "{profile}");
        let (r, out) = s.reexchange(&[AOS]);
        assert_eq!(out.len(), 2, "{profile}");
        assert_eq!(out[0], ack(&r), "{profile}");
        assert!(matches!(out[1], Out::Notify { .. }), "{profile}");
    }
}

/// §3 "ack vs notify", msc: a round queued behind an open prompt is acked at once, never
/// waiting for the user.
#[test]
fn ack_first_msc_does_not_wait_for_the_user() {
    let mut s = Session::established(MSC, config(), &[]);
    let (_, out) = s.reexchange(&[AOS]);
    assert_eq!(out.last(), Some(&prompt(&[AOS])));
    for _ in 0..3 {
        let (r, out) = s.reexchange(&[TEXT]);
        assert_eq!(out, [ack(&r)]);
    }
}

/// §3 "ack vs notify", legacy: not applicable: no round is acked; the refusal comes alone.
#[test]
fn ack_vs_notify_legacy_no_ack_no_notify() {
    let mut s = Session::established(LEGACY, config(), &[AOS]);
    let (r, out) = s.reexchange(&[AOS]);
    assert_eq!(out, [error(&r)]);
}

// ---------------------------------------------------------------------------------------------
// §3 row "rate limit"
// ---------------------------------------------------------------------------------------------

/// §3 "rate limit", msc with `rateLimit` declared: a request while a round is open gets an
/// error instead of the ack, and the round is dropped; once no round is open, requests are
/// acked again.
#[test]
fn rate_limit_msc_declared_refuses_while_a_round_is_open() {
    let mut s = Session::established(MSC, rate_limited(), &[AOS]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r1), prompt(&[TEXT])]);
    let (r2, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out, [error(&r2)]);
    let (r3, out) = s.reexchange_named(STABLE, &[TOPIC]);
    assert_eq!(out, [error(&r3)]);
    // The dropped rounds are not processed: no prompt for TOPIC, not in `requested`.
    assert_eq!(s.decide(&[TEXT]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
    assert!(!s.session.prompt_open());
    let (r4, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out, [ack(&r4), prompt(&[TOPIC])]);
}

/// §3 "rate limit", msc with `rateLimit` declared: round 0's open prompt is an open round too.
#[test]
fn rate_limit_msc_declared_round_zero_is_a_round() {
    let mut s = Session::with(MSC, rate_limited());
    assert_eq!(s.answer_capabilities(&[AOS]), [prompt(&[AOS])]);
    let (r, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [error(&r)]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
}

/// §3 "rate limit", msc with `rateLimit` declared: rounds without a prompt close at once, so
/// back-to-back requests are all acked.
#[test]
fn rate_limit_msc_declared_closed_rounds_do_not_limit() {
    let mut s = Session::established(MSC, rate_limited(), &[AOS]);
    for _ in 0..3 {
        let (r, out) = s.reexchange(&[AOS]);
        assert_eq!(out, [ack(&r), notify(&[AOS], &[AOS])]);
    }
}

/// §3 "rate limit", msc without `rateLimit`: never refused (queued instead).
#[test]
fn rate_limit_msc_undeclared_never_refuses() {
    let mut s = Session::established(MSC, config(), &[AOS]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r1), prompt(&[TEXT])]);
    let (r2, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out, [ack(&r2)]);
}

/// §3 "rate limit", widget-api: none, even where the session declares `rateLimit`.
#[test]
fn rate_limit_widget_api_never() {
    let mut s = Session::established(WIDGET_API, rate_limited(), &[AOS]);
    let (r1, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [ack(&r1), prompt(&[TEXT])]);
    let (r2, out) = s.reexchange(&[TOPIC]);
    assert_eq!(out, [ack(&r2), prompt(&[TOPIC])]);
}

/// §3 "rate limit", legacy: none: its refusals are the unsupported-action error, the same as
/// when no round is open, not a rate limit.
#[test]
fn rate_limit_legacy_never() {
    let mut s = Session::with(LEGACY, rate_limited());
    assert_eq!(s.answer_capabilities(&[AOS]), [prompt(&[AOS])]);
    let (open, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [error(&open)]);
    assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])]);
    let (closed, out) = s.reexchange(&[TEXT]);
    assert_eq!(out, [error(&closed)]);
    let (unknown, out) = s.request("org.example.no_such_action", json!({}));
    assert_eq!(out, [error(&unknown)]);
    assert_eq!(s.error_message(&open), s.error_message(&unknown));
    assert_eq!(s.error_message(&closed), s.error_message(&unknown));
}

// ---------------------------------------------------------------------------------------------
// §3 row "requestId reuse by the client"
// ---------------------------------------------------------------------------------------------

/// A long session: round 0, several re-exchanges (some queued or parallel), notifies acked
/// along the way. The helper fails on any reuse of a client request id.
fn long_session(profile: Profile) -> Session {
    let mut s = Session::start(profile);
    s.answer_capabilities(&[AOS]);
    s.decide(&[AOS]);
    s.ack_notifies();
    for round in 0..6 {
        let caps: &[&str] = match round % 3 {
            0 => &[TEXT],
            1 => &[AOS],
            _ => &[TOPIC, SCREEN],
        };
        s.reexchange(caps);
        if round % 2 == 1 {
            while s.session.prompt_open() {
                s.decide(&[]);
            }
            s.ack_notifies();
        }
    }
    while s.session.prompt_open() {
        s.decide(&[]);
    }
    s
}

/// §3 "requestId reuse by the client", msc: never within the session, also after the earlier
/// requests were answered.
#[test]
fn request_ids_msc_never_reused() {
    let s = long_session(MSC);
    assert_eq!(s.client_requests.len(), 8);
    let ids: HashSet<&String> = s.client_requests.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), s.client_requests.len());
    assert_eq!(s.client().ids_used() as usize, s.client_requests.len());
}

/// §3 "requestId reuse by the client", widget-api: not while the earlier one is open (the
/// reference is stricter: never).
#[test]
fn request_ids_widget_api_not_reused_while_open() {
    let s = long_session(WIDGET_API);
    assert_eq!(s.client_requests.len(), 8);
    let ids: HashSet<&String> = s.client_requests.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), s.client_requests.len());
}

/// §3 "requestId reuse by the client", legacy: never.
#[test]
fn request_ids_legacy_never_reused() {
    let s = long_session(LEGACY);
    // Round 0 only: `capabilities` and one notify.
    assert_eq!(s.client_requests.len(), 2);
    let ids: HashSet<&String> = s.client_requests.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 2);
}

/// §3 "requestId reuse by the client", every profile: the widget using the client's ids for
/// its own requests (another namespace) does not make the client reuse them.
#[test]
fn request_ids_widget_requests_with_client_ids_do_not_interfere() {
    for profile in Profile::ALL {
        let mut s = Session::start(profile);
        let used = s.open_request("capabilities");
        let out = s.request_with_id(&used, "content_loaded", json!({}));
        assert_eq!(out, [ack(&used)], "{profile}");
        let out = s.request_with_id("c1", "content_loaded", json!({}));
        assert_eq!(out, [ack("c1")], "{profile}");
        assert_eq!(s.answer_capabilities(&[]), [notify(&[], &[])], "{profile}");
        let ids: HashSet<&String> = s.client_requests.iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), 2, "{profile}");
    }
}

// ---------------------------------------------------------------------------------------------
// Besides §3: autoApprove, waitForContentLoaded, other widgets, unknown actions, gated
// actions, supported_api_versions.
// ---------------------------------------------------------------------------------------------

/// docs/spec.md §5 `autoApprove` (rule `approval-needs-decision`), every profile: auto-approved
/// capabilities are approved without a prompt; only the others are asked.
#[test]
fn auto_approve_without_prompt() {
    for profile in Profile::ALL {
        let mut s = Session::with(profile, auto_approve(&[TEXT, TOPIC]));
        assert_eq!(
            s.answer_capabilities(&[AOS, TEXT]),
            [prompt(&[AOS])],
            "{profile}"
        );
        assert_eq!(s.decide(&[]), [notify(&[AOS, TEXT], &[TEXT])], "{profile}");
        let mut s = Session::with(profile, auto_approve(&[TEXT, TOPIC]));
        assert_eq!(
            s.answer_capabilities(&[TEXT, TOPIC]),
            [notify(&[TEXT, TOPIC], &[TEXT, TOPIC])],
            "{profile}"
        );
    }
}

/// docs/spec.md §5 `autoApprove` in a re-exchange round (msc, widget-api): approved without a prompt.
#[test]
fn auto_approve_in_reexchange() {
    for (profile, requested) in [(MSC, &[AOS, TOPIC][..]), (WIDGET_API, &[TOPIC][..])] {
        let mut s = Session::established(profile, auto_approve(&[TOPIC]), &[AOS]);
        let (r, out) = s.reexchange(&[TOPIC]);
        assert_eq!(
            out,
            [ack(&r), notify(requested, &[AOS, TOPIC])],
            "{profile}"
        );
        assert_eq!(s.send_topic(), s.send_topic_expected_success(), "{profile}");
    }
}

impl Session {
    /// What a successful `send_event` of the topic would be: an answer to the last request.
    fn send_topic_expected_success(&self) -> Out {
        let id = format!("r{}", self.next_request);
        Out::Answer(
            id.clone(),
            json!({"room_id": "!room:capneg.invalid", "event_id": format!("$capneg-{id}")}),
        )
    }
}

/// A decision approving capabilities the prompt did not ask about approves only what was
/// asked (rule `approval-needs-decision`), every profile.
#[test]
fn decision_approves_only_what_was_asked() {
    for profile in Profile::ALL {
        let mut s = Session::start(profile);
        assert_eq!(s.answer_capabilities(&[AOS]), [prompt(&[AOS])], "{profile}");
        assert_eq!(
            s.decide(&[AOS, TEXT, "never.requested"]),
            [notify(&[AOS], &[AOS])],
            "{profile}"
        );
    }
}

/// A decision with no open prompt is an error and emits nothing, every profile.
#[test]
fn decision_without_prompt_is_an_error() {
    for profile in Profile::ALL {
        let mut s = Session::start(profile);
        let mut emitted = Vec::new();
        assert_eq!(
            s.session.decision([AOS], &mut emitted),
            Err(StepError::NoOpenPrompt)
        );
        assert!(emitted.is_empty());
        s.answer_capabilities(&[]);
        assert_eq!(
            s.session.decision([AOS], &mut emitted),
            Err(StepError::NoOpenPrompt)
        );
        assert!(emitted.is_empty());
    }
}

/// docs/spec.md §2 `waitForContentLoaded`, every profile: nothing is sent before the widget's
/// `content_loaded`; then its ack, then `capabilities`; a second `content_loaded` is only acked.
#[test]
fn wait_for_content_loaded_sends_capabilities_after_the_ack() {
    for profile in Profile::ALL {
        let mut s = Session::with(profile, waiting());
        assert_eq!(s.started, [], "{profile}");
        let (c, out) = s.content_loaded();
        assert_eq!(out, [ack(&c), Out::AskCapabilities], "{profile}");
        let (c, out) = s.content_loaded();
        assert_eq!(out, [ack(&c)], "{profile}");
        assert_eq!(s.answer_capabilities(&[AOS]), [prompt(&[AOS])], "{profile}");
        assert_eq!(s.decide(&[AOS]), [notify(&[AOS], &[AOS])], "{profile}");
    }
}

/// docs/spec.md §2, without `waitForContentLoaded`, every profile: `capabilities` at once; a later
/// `content_loaded` is only acked.
#[test]
fn without_waiting_capabilities_are_sent_at_once() {
    for profile in Profile::ALL {
        let mut s = Session::start(profile);
        assert_eq!(s.started, [Out::AskCapabilities], "{profile}");
        let (c, out) = s.content_loaded();
        assert_eq!(out, [ack(&c)], "{profile}");
    }
}

/// docs/spec.md §2, every profile: messages with another `widgetId` get no answer and change nothing,
/// whatever they are (requests, re-exchanges, the answer to `capabilities`, gated actions).
#[test]
fn another_widget_is_ignored() {
    for profile in Profile::ALL {
        for config in [config(), waiting()] {
            let mut s = Session::with(profile, config.clone());
            let caps_id = s.client_requests.first().map(|(id, _)| id.clone());
            let before = s.client().clone();
            let others = [
                json!({"api": "fromWidget", "widgetId": "w2", "requestId": "x1",
                       "action": "content_loaded", "data": {}}),
                json!({"api": "fromWidget", "widgetId": "w2", "requestId": "x2",
                       "action": UNSTABLE, "data": {"capabilities": [AOS]}}),
                json!({"api": "fromWidget", "widgetId": "w2", "requestId": "x3",
                       "action": "supported_api_versions", "data": {}}),
                json!({"api": "fromWidget", "widgetId": "w2", "requestId": "x4",
                       "action": "set_always_on_screen", "data": {"value": true}}),
                json!({"api": "fromWidget", "widgetId": "w2", "requestId": "x5",
                       "action": "org.example.unknown", "data": {}}),
                json!({"api": "toWidget", "widgetId": "w2",
                       "requestId": caps_id.clone().unwrap_or_else(|| "c0".into()),
                       "action": "capabilities", "data": {},
                       "response": {"capabilities": [AOS]}}),
                json!({"api": "fromWidget", "widgetId": W.to_uppercase(), "requestId": "x6",
                       "action": "content_loaded", "data": {}}),
            ];
            for message in others {
                assert_eq!(s.post(message.clone()), [], "{profile}: {message}");
                assert_eq!(s.client(), &before, "{profile}: {message}");
            }
            assert!(!s.client().is_established());
        }
    }
}

/// docs/spec.md §2, every profile: unknown actions get an error response; so do toWidget actions the
/// widget sends as its own requests.
#[test]
fn unknown_actions_get_an_error() {
    for profile in Profile::ALL {
        let mut s = Session::established(profile, config(), &[AOS]);
        let before = s.client().clone();
        for action in [
            "org.example.unknown",
            "",
            "capabilities",
            "notify_capabilities",
            "Request_Capabilities",
        ] {
            let (r, out) = s.request(action, json!({"capabilities": [TEXT]}));
            assert_eq!(out, [error(&r)], "{profile}: {action}");
        }
        assert_eq!(s.client(), &before, "{profile}");
    }
}

/// Rule `gated-action-needs-capability`, every profile: `set_always_on_screen` and
/// `send_event` are refused until their capability is approved, including between the prompt
/// that asks for it and its decision; allowed after.
#[test]
fn gated_actions_need_the_capability_at_that_moment() {
    for profile in Profile::ALL {
        let mut s = Session::start(profile);
        let id = |s: &Session| format!("r{}", s.next_request);
        assert_eq!(s.always_on_screen(), error(&id(&s)), "{profile}");
        assert_eq!(s.send_message("m.text"), error(&id(&s)), "{profile}");
        assert_eq!(
            s.answer_capabilities(&[AOS, TEXT]),
            [prompt(&[AOS, TEXT])],
            "{profile}"
        );
        // Prompt open, no decision yet.
        assert_eq!(s.always_on_screen(), error(&id(&s)), "{profile}");
        assert_eq!(s.send_message("m.text"), error(&id(&s)), "{profile}");
        assert_eq!(s.decide(&[AOS, TEXT]), [notify(&[AOS, TEXT], &[AOS, TEXT])]);
        assert_eq!(s.always_on_screen(), ack(&id(&s)), "{profile}");
        let text = s.send_message("m.text");
        assert!(
            matches!(&text, Out::Answer(r, response) if *r == id(&s) && response.get("event_id").is_some()),
            "{profile}: {text:?}"
        );
        // Another msgtype, and a state event: not approved.
        assert_eq!(s.send_message("m.notice"), error(&id(&s)), "{profile}");
        assert_eq!(s.send_topic(), error(&id(&s)), "{profile}");
    }
}

/// Rule `gated-action-needs-capability` in a re-exchange (msc, widget-api): refused between
/// the round's prompt and its decision, and after a decision that declines it.
#[test]
fn gated_actions_during_a_reexchange_prompt() {
    for profile in [MSC, WIDGET_API] {
        let mut s = Session::established(profile, config(), &[TEXT]);
        let id = |s: &Session| format!("r{}", s.next_request);
        let (_, out) = s.reexchange(&[AOS, TOPIC]);
        assert_eq!(out.last(), Some(&prompt(&[AOS, TOPIC])), "{profile}");
        assert_eq!(s.always_on_screen(), error(&id(&s)), "{profile}");
        assert_eq!(s.send_topic(), error(&id(&s)), "{profile}");
        // Approved before: still allowed while the prompt is open.
        assert!(
            matches!(s.send_message("m.text"), Out::Answer(..)),
            "{profile}"
        );
        let out = s.decide(&[AOS]);
        assert_eq!(out.len(), 1, "{profile}");
        assert_eq!(s.always_on_screen(), ack(&id(&s)), "{profile}");
        assert_eq!(s.send_topic(), error(&id(&s)), "{profile}");
    }
}

/// Rule `gated-action-needs-capability` with `autoApprove` (every profile): an auto-approved
/// capability of a round whose prompt is still open takes effect with the round's notify, like
/// the user's approvals: the gated action is refused until then.
#[test]
fn gated_actions_auto_approved_take_effect_with_the_notify() {
    for profile in Profile::ALL {
        let mut s = Session::with(profile, auto_approve(&[AOS]));
        assert_eq!(s.answer_capabilities(&[AOS, TEXT]), [prompt(&[TEXT])]);
        assert_eq!(
            s.always_on_screen(),
            error(&format!("r{}", s.next_request)),
            "{profile}"
        );
        assert_eq!(s.decide(&[]), [notify(&[AOS, TEXT], &[AOS])]);
        assert_eq!(
            s.always_on_screen(),
            ack(&format!("r{}", s.next_request)),
            "{profile}"
        );
    }
}

/// Gated actions with data not of their shape get an error, every profile, even when
/// approved.
#[test]
fn gated_actions_with_bad_data_get_an_error() {
    for profile in Profile::ALL {
        let mut s = Session::established(profile, config(), &[AOS, TEXT]);
        for (action, data) in [
            ("set_always_on_screen", json!({})),
            ("set_always_on_screen", json!({"value": "yes"})),
            ("send_event", json!({})),
            ("send_event", json!({"type": 5, "content": {}})),
        ] {
            let (r, out) = s.request(action, data.clone());
            assert_eq!(out, [error(&r)], "{profile}: {action} {data}");
        }
    }
}

/// Rule `advertises-versions`, every profile: `supported_api_versions` is answered (also
/// before the session is established) with `org.matrix.msc2974` in for msc and widget-api, out
/// for legacy; the base versions are always there.
#[test]
fn supported_api_versions_per_profile() {
    for (profile, advertised) in [(MSC, true), (WIDGET_API, true), (LEGACY, false)] {
        for config in [config(), waiting()] {
            let mut s = Session::with(profile, config);
            let early = s.supported_versions();
            assert_eq!(
                early.iter().any(|v| v == MSC2974),
                advertised,
                "{profile}: {early:?}"
            );
            assert!(early.iter().any(|v| v == "0.0.2"), "{profile}: {early:?}");
            assert!(
                early.iter().any(|v| v == "org.matrix.msc2871"),
                "{profile}: {early:?}"
            );
            let unique: HashSet<&String> = early.iter().collect();
            assert_eq!(unique.len(), early.len(), "{profile}: {early:?}");
            if s.client_requests.is_empty() {
                s.content_loaded();
            }
            s.answer_capabilities(&[]);
            assert_eq!(s.supported_versions(), early, "{profile}");
        }
    }
}

/// Responses to requests the client never made, or already answered, change nothing, every
/// profile.
#[test]
fn responses_to_nothing_change_nothing() {
    for profile in Profile::ALL {
        let mut s = Session::start(profile);
        let before = s.client().clone();
        for (id, action) in [("c7", "capabilities"), ("nope", "notify_capabilities")] {
            let out = s.post(json!({"api": "toWidget", "widgetId": W, "requestId": id,
                                    "action": action, "data": {},
                                    "response": {"capabilities": [AOS]}}));
            assert_eq!(out, [], "{profile}");
        }
        assert_eq!(s.client(), &before, "{profile}");
        let caps = s.open_request("capabilities");
        assert_eq!(s.answer_capabilities(&[TEXT]), [prompt(&[TEXT])]);
        // The same answer again: no second round 0.
        let again = s.post(json!({"api": "toWidget", "widgetId": W, "requestId": caps,
                                  "action": "capabilities", "data": {},
                                  "response": {"capabilities": [AOS]}}));
        assert_eq!(again, [], "{profile}");
        assert_eq!(s.decide(&[TEXT]), [notify(&[TEXT], &[TEXT])], "{profile}");
    }
}
