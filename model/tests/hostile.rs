//! A hostile widget: the reference client, on the wire ([`ClientSession`]), never panics and
//! stays well-behaved whatever it is sent.
//!
//! Each case is a session of a random profile with random settings (`autoApprove`, `rateLimit`,
//! `waitForContentLoaded`, the declined policy, the widget id), fed a sequence that mixes:
//! - arbitrary JSON values of any shape (bounded depth), and hand-written JSON texts with
//!   escapes that are hard to read (lone surrogates, escaped widget ids);
//! - envelope-like objects: envelopes with fields removed or replaced by any JSON value;
//! - valid envelopes of every action (both `api`s), with random capability lists and random
//!   request ids, including ids the client itself used and ids the widget used before;
//! - responses to the client's open requests, and to requests it never made;
//! - the user's decisions with random capability lists, whether or not a prompt is open.
//!
//! After every input it checks:
//! - a decision without an open prompt returns `Err(StepError::NoOpenPrompt)` and changes
//!   nothing; with an open prompt, `Ok`;
//! - every client output is a well-formed envelope (all fields, `data` and `response` objects)
//!   whose `widgetId` is the session's; the reference never emits a malformed message;
//! - client request ids are unique within the session;
//! - a well-formed widget request with the session's widget id gets exactly one response, in
//!   the step it is posted, echoing it; anything else (responses, other widgets, ill-formed
//!   messages, decisions) gets none; so each widget request gets at most one;
//! - a message with another widget id changes nothing;
//! - the approved set only grows and stays within the requested total, and every notify
//!   reports at least what the previous one approved.
//!
//! The number of cases follows `PROPTEST_CASES` (proptest's default configuration).

use capneg_model::rules::mutants::ClientKind;
use capneg_model::session::{ClientSession, Emitted};
use capneg_reference::client::StepError;
use capneg_reference::msg::KNOWN_ACTIONS;
use capneg_reference::{DeclinedPolicy, Profile, Settings};
use proptest::prelude::*;
use serde_json::value::{to_raw_value, RawValue};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};

/// Capability strings: gating ones, plain ones, and hard-to-print ones.
const CAPS: [&str; 8] = [
    "m.always_on_screen",
    "org.matrix.msc2762.send.event:m.room.message#m.text",
    "org.matrix.msc2762.send.event:m.room.message",
    "org.matrix.msc2762.send.state_event:m.room.topic",
    "org.matrix.msc2762.send.state_event:m.room.member#@a:b",
    "m.capture_screen",
    "",
    "x\"\\#\u{2028}😀",
];

/// How many actions [`action_name`] numbers: every action of docs/spec.md §2 under every name, and an
/// unknown one.
const ACTION_COUNT: usize = KNOWN_ACTIONS.len() + 1;

/// Action number `i` of every action: the known ones, then an unknown one.
fn action_name(i: usize) -> &'static str {
    KNOWN_ACTIONS
        .get(i)
        .copied()
        .unwrap_or("org.example.unknown")
}

const FIELDS: [&str; 6] = ["api", "widgetId", "requestId", "action", "data", "response"];

/// Widget ids a session may have (the other widget's messages use the others, or any string).
const WIDGET_IDS: [&str; 4] = ["w1", "widget", "", "w\"\u{0}1"];

/// Hand-written JSON texts: escapes that decode to the session's widget id, lone surrogates,
/// duplicate fields, deep nesting.
const TEXTS: [&str; 8] = [
    r#"{"api":"fromWidget","widgetId":"w\u0031","requestId":"e1","action":"content_loaded","data":{}}"#,
    r#"{"api":"fromWidget","widgetId":"w1","requestId":"\ud800","action":"content_loaded","data":{}}"#,
    r#"{"api":"fromWidget","widgetId":"\udfff","requestId":"e2","action":"supported_api_versions","data":{}}"#,
    r#"{"api":"fromWidget","widgetId":"w1","requestId":"e3","action":"org.matrix.msc2974.request_capabilities","data":{"capabilities":["\ud83d\ude00","\ud800"]}}"#,
    r#"{"api":"fromWidget","api":"toWidget","widgetId":"w1","requestId":"e4","action":"content_loaded","data":{}}"#,
    r#"{"api":"fromWidget","widgetId":"w1","requestId":"e5","action":"send_event","data":{"type":"m.room.message","content":{"msgtype":"m.text","msgtype":"x"}}}"#,
    r#"{"api":"fromWidget","widgetId":"w1","requestId":"e6","action":"set_always_on_screen","data":{"value":true},"response":null}"#,
    r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{"api":"fromWidget"}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
];

/// A string: plain, tricky or arbitrary.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9_.]{0,8}",
        1 => prop::sample::select(vec!["\"", "\\", "\u{0}", "\u{2028}", "😀", "#", "w1", "c0"])
            .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any JSON value of bounded depth; object keys are often envelope field names.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(Value::from),
        string().prop_map(Value::String),
        prop::sample::select(CAPS.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            FIELDS
                .iter()
                .chain(&["capabilities", "requested", "approved", "value", "type"])
                .copied()
                .collect::<Vec<_>>()
        )
        .prop_map(str::to_owned),
        string(),
    ]
}

/// A capability list: mostly from [`CAPS`], with repeats; sometimes any strings.
fn cap_list() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(CAPS.to_vec()).prop_map(str::to_owned), 0..5),
        1 => prop::collection::vec(string(), 0..3),
    ]
}

/// The request id of a widget request.
#[derive(Clone, Debug)]
enum IdChoice {
    /// Any string.
    Fresh(String),
    /// One the client used for its own requests (`c0`, `c1`, ...).
    ClientUsed(usize),
    /// One the widget used before in this session.
    Repeat(usize),
}

/// The widget id of a message.
#[derive(Clone, Debug)]
enum WidgetChoice {
    /// The session's.
    Session,
    /// Another one.
    Other(String),
}

/// One input to the client.
#[derive(Clone, Debug)]
enum Op {
    /// Any JSON value.
    Json(Value),
    /// One of [`TEXTS`].
    Text(usize),
    /// An envelope with fields removed or replaced by any JSON.
    Mangled {
        base: Box<Op>,
        edits: Vec<(usize, Option<Value>)>,
    },
    /// A request of the widget.
    Request {
        to_widget: bool,
        widget: WidgetChoice,
        id: IdChoice,
        action: usize,
        data: Value,
    },
    /// A response to the client's open request (by index), or to one never made.
    Response {
        open: Option<usize>,
        id: String,
        action: usize,
        widget: WidgetChoice,
        own_api: bool,
        response: Value,
    },
    /// The user's decision.
    Decision(Vec<String>),
}

fn widget_choice() -> impl Strategy<Value = WidgetChoice> {
    prop_oneof![
        5 => Just(WidgetChoice::Session),
        1 => prop_oneof![
            prop::sample::select(WIDGET_IDS.to_vec()).prop_map(str::to_owned),
            string(),
        ]
        .prop_map(WidgetChoice::Other),
    ]
}

fn id_choice() -> impl Strategy<Value = IdChoice> {
    prop_oneof![
        3 => string().prop_map(IdChoice::Fresh),
        1 => (0usize..8).prop_map(IdChoice::ClientUsed),
        1 => any::<usize>().prop_map(IdChoice::Repeat),
    ]
}

/// `send_event` data: room events with and without `msgtype`, state events.
fn event_data() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            "m.room.message",
            "m.room.topic",
            "m.room.member",
            "org.example",
        ]),
        prop::option::of(prop::sample::select(vec!["m.text", "m.notice", ""])),
        prop::option::of(prop::sample::select(vec!["", "@a:b", "x"])),
    )
        .prop_map(|(t, msgtype, state_key)| {
            let mut data = json!({"type": t, "content": {"body": "hi"}});
            if let Some(m) = msgtype {
                data["content"]["msgtype"] = json!(m);
            }
            if let Some(k) = state_key {
                data["state_key"] = json!(k);
            }
            data
        })
}

/// The data of a request of `action_name(action)` in the action's shape.
fn fitting_data(action: usize) -> BoxedStrategy<Value> {
    match action_name(action) {
        "notify_capabilities" => (cap_list(), cap_list())
            .prop_map(|(r, a)| json!({"requested": r, "approved": a}))
            .boxed(),
        "org.matrix.msc2974.request_capabilities" | "request_capabilities" => cap_list()
            .prop_map(|c| json!({ "capabilities": c }))
            .boxed(),
        "set_always_on_screen" => any::<bool>().prop_map(|v| json!({ "value": v })).boxed(),
        "send_event" => event_data().boxed(),
        _ => Just(json!({})).boxed(),
    }
}

/// Request data of any action's shape, or any object.
fn data() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0..ACTION_COUNT).prop_flat_map(fitting_data),
        prop::collection::vec((key(), json()), 0..4)
            .prop_map(|f| Value::Object(f.into_iter().collect())),
    ]
}

/// A `response` object of any kind.
fn response() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        cap_list().prop_map(|c| json!({ "capabilities": c })),
        Just(json!({"error": {"message": "no"}})),
        prop::collection::vec(string(), 0..4).prop_map(|v| json!({ "supported_versions": v })),
        prop::collection::vec((key(), json()), 0..4)
            .prop_map(|f| Value::Object(f.into_iter().collect())),
    ]
}

fn request_op() -> impl Strategy<Value = Op> {
    let action_and_data = (0..ACTION_COUNT).prop_flat_map(|action| {
        let data = prop_oneof![2 => fitting_data(action), 1 => data().boxed()];
        (Just(action), data)
    });
    (
        prop::bool::weighted(0.1),
        widget_choice(),
        id_choice(),
        action_and_data,
    )
        .prop_map(|(to_widget, widget, id, (action, data))| Op::Request {
            to_widget,
            widget,
            id,
            action,
            data,
        })
}

fn response_op() -> impl Strategy<Value = Op> {
    (
        prop::option::weighted(0.8, any::<usize>()),
        prop_oneof![string(), (0u32..12).prop_map(|n| format!("c{n}"))],
        0..ACTION_COUNT,
        widget_choice(),
        prop::bool::weighted(0.1),
        response(),
    )
        .prop_map(
            |(open, id, action, widget, own_api, response)| Op::Response {
                open,
                id,
                action,
                widget,
                own_api,
                response,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => json().prop_map(Op::Json),
        1 => (0..TEXTS.len()).prop_map(Op::Text),
        2 => (
            prop_oneof![request_op(), response_op()],
            prop::collection::vec((0..FIELDS.len(), prop::option::of(json())), 1..3),
        )
            .prop_map(|(base, edits)| Op::Mangled {
                base: Box::new(base),
                edits,
            }),
        6 => request_op(),
        4 => response_op(),
        4 => cap_list().prop_map(Op::Decision),
    ]
}

/// A session: its widget and its settings.
#[derive(Clone, Debug)]
struct Config {
    widget_id: String,
    settings: Settings<Vec<String>>,
}

fn config() -> impl Strategy<Value = (Profile, Config)> {
    (
        prop::sample::select(Profile::ALL.to_vec()),
        prop::sample::select(WIDGET_IDS.to_vec()),
        prop::sample::subsequence(CAPS.to_vec(), 0..3),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(DeclinedPolicy::Prompt), Just(DeclinedPolicy::Deny)],
    )
        .prop_map(|(profile, widget_id, auto, rate_limit, wait, declined)| {
            (
                profile,
                Config {
                    widget_id: widget_id.to_owned(),
                    settings: Settings {
                        auto_approve: auto.into_iter().map(str::to_owned).collect(),
                        rate_limit,
                        wait_for_content_loaded: wait,
                        declined,
                    },
                },
            )
        })
}

/// The top-level fields of a JSON object, in order and with repeats, each as raw JSON; `None`
/// if the text is not an object.
fn top_level_fields(text: &str) -> Option<Vec<(String, Box<RawValue>)>> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = Vec<(String, Box<RawValue>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::new();
            while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                fields.push(entry);
            }
            Ok(fields)
        }
    }
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Fields).ok()
}

/// The session under attack, with what the checks need to remember.
struct Harness {
    session: ClientSession,
    widget_id: String,
    /// Every request id the client used.
    client_ids: HashSet<String>,
    /// The client's requests not yet answered by an [`Op::Response`]: (id, action).
    open: Vec<(String, String)>,
    /// Request ids the widget used.
    widget_ids: Vec<String>,
    /// The approved set of the latest notify.
    notified: BTreeSet<String>,
    /// How many notifies the client sent.
    notifies: usize,
}

impl Harness {
    fn new(profile: Profile, config: &Config) -> Result<Harness, TestCaseError> {
        let mut emitted = Vec::new();
        let session = ClientSession::start(
            ClientKind::Reference,
            profile,
            &config.widget_id,
            &config.settings,
            &mut emitted,
        );
        let mut h = Harness {
            session,
            widget_id: config.widget_id.clone(),
            client_ids: HashSet::new(),
            open: Vec::new(),
            widget_ids: Vec::new(),
            notified: BTreeSet::new(),
            notifies: 0,
        };
        let responses = h.check_outputs(&emitted)?;
        prop_assert_eq!(responses.len(), 0);
        Ok(h)
    }

    fn widget_id(&self, choice: &WidgetChoice) -> String {
        match choice {
            WidgetChoice::Session => self.widget_id.clone(),
            WidgetChoice::Other(w) => w.clone(),
        }
    }

    /// The message of a request or response op (not yet posted).
    fn message(&mut self, op: &Op) -> Value {
        match op {
            Op::Json(v) => v.clone(),
            Op::Text(_) | Op::Decision(_) => unreachable!("not a message"),
            Op::Mangled { base, edits } => {
                let mut v = self.message(base);
                let map = v.as_object_mut().expect("envelopes are objects");
                for (field, edit) in edits {
                    let field = FIELDS[*field].to_owned();
                    match edit {
                        None => {
                            map.remove(&field);
                        }
                        Some(value) => {
                            map.insert(field, value.clone());
                        }
                    }
                }
                v
            }
            Op::Request {
                to_widget,
                widget,
                id,
                action,
                data,
            } => {
                let request_id = match id {
                    IdChoice::Fresh(s) => s.clone(),
                    IdChoice::ClientUsed(n) => format!("c{n}"),
                    IdChoice::Repeat(n) if !self.widget_ids.is_empty() => {
                        self.widget_ids[n % self.widget_ids.len()].clone()
                    }
                    IdChoice::Repeat(n) => format!("r{n}"),
                };
                self.widget_ids.push(request_id.clone());
                json!({
                    "api": if *to_widget { "toWidget" } else { "fromWidget" },
                    "widgetId": self.widget_id(widget),
                    "requestId": request_id,
                    "action": action_name(*action),
                    "data": data,
                })
            }
            Op::Response {
                open,
                id,
                action,
                widget,
                own_api,
                response,
            } => {
                let (request_id, action) = match open {
                    Some(n) if !self.open.is_empty() => {
                        let i = n % self.open.len();
                        self.open.remove(i)
                    }
                    _ => (id.clone(), action_name(*action).to_owned()),
                };
                json!({
                    "api": if *own_api { "fromWidget" } else { "toWidget" },
                    "widgetId": self.widget_id(widget),
                    "requestId": request_id,
                    "action": action,
                    "data": {},
                    "response": response,
                })
            }
        }
    }

    /// Checks every output; returns the responses among them (as JSON).
    fn check_outputs(&mut self, emitted: &[Emitted]) -> Result<Vec<Value>, TestCaseError> {
        let mut responses = Vec::new();
        for e in emitted {
            let env = match e {
                Emitted::Prompt(caps) => {
                    prop_assert!(!caps.is_empty(), "an empty prompt");
                    continue;
                }
                Emitted::Malformed(v) => {
                    return Err(TestCaseError::fail(format!("a malformed message: {v}")))
                }
                Emitted::Client(env) => serde_json::to_value(&**env).unwrap(),
            };
            let map = env
                .as_object()
                .ok_or_else(|| TestCaseError::fail(format!("not an object: {env}")))?;
            let text = |field: &str| map.get(field).and_then(Value::as_str);
            prop_assert!(
                matches!(text("api"), Some("toWidget" | "fromWidget")),
                "api: {}",
                env
            );
            prop_assert_eq!(text("widgetId"), Some(self.widget_id.as_str()), "{}", env);
            prop_assert!(text("requestId").is_some(), "requestId: {}", env);
            prop_assert!(text("action").is_some(), "action: {}", env);
            prop_assert!(
                map.get("data").is_some_and(Value::is_object),
                "data: {}",
                env
            );
            match map.get("response") {
                Some(response) => {
                    prop_assert!(response.is_object(), "response: {}", env);
                    prop_assert_eq!(text("api"), Some("fromWidget"), "{}", env);
                    responses.push(env.clone());
                }
                None => {
                    prop_assert_eq!(text("api"), Some("toWidget"), "{}", env);
                    let id = text("requestId").unwrap().to_owned();
                    prop_assert!(
                        self.client_ids.insert(id.clone()),
                        "the client reused its request id {}",
                        id
                    );
                    let action = text("action").unwrap().to_owned();
                    if action == "notify_capabilities" {
                        let approved: BTreeSet<String> = map["data"]["approved"]
                            .as_array()
                            .expect("approved is a list")
                            .iter()
                            .map(|c| c.as_str().expect("a string").to_owned())
                            .collect();
                        prop_assert!(
                            self.notified.is_subset(&approved),
                            "a notify took back approvals: {:?} then {:?}",
                            self.notified,
                            approved
                        );
                        self.notified = approved;
                        self.notifies += 1;
                    }
                    self.open.push((id, action));
                }
            }
        }
        Ok(responses)
    }

    /// Runs one op and checks the client's reaction.
    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let approved_before = self.session.client().client().approved().clone();
        if let Op::Decision(caps) = op {
            let prompt_open = self.session.prompt_open();
            let before = self.session.client().clone();
            let mut emitted = Vec::new();
            let result = self
                .session
                .decision(caps.iter().map(String::as_str), &mut emitted);
            if prompt_open {
                prop_assert_eq!(result, Ok(()));
            } else {
                prop_assert_eq!(result, Err(StepError::NoOpenPrompt));
                prop_assert!(emitted.is_empty(), "{:?}", emitted);
                prop_assert_eq!(self.session.client(), &before);
            }
            let responses = self.check_outputs(&emitted)?;
            prop_assert!(responses.is_empty(), "a decision answered {:?}", responses);
        } else {
            let raw: Box<RawValue> = match op {
                Op::Text(i) => match RawValue::from_string(TEXTS[*i].to_owned()) {
                    Ok(raw) => raw,
                    // Not JSON the client can be given at all.
                    Err(_) => return Ok(()),
                },
                _ => to_raw_value(&self.message(op)).unwrap(),
            };
            let fields = top_level_fields(raw.get());
            let before = self.session.client().clone();
            let mut emitted = Vec::new();
            self.session.widget(&raw, &mut emitted);
            let responses = self.check_outputs(&emitted)?;
            let field = |name: &str| {
                fields
                    .as_ref()
                    .and_then(|f| f.iter().find(|(k, _)| k == name))
                    .map(|(_, v)| v.get())
            };
            let string =
                |name: &str| field(name).and_then(|v| serde_json::from_str::<String>(v).ok());
            let widget_id = string("widgetId");
            if widget_id.as_ref().is_some_and(|w| *w != self.widget_id) {
                prop_assert!(emitted.is_empty(), "answered another widget: {:?}", emitted);
                prop_assert_eq!(self.session.client(), &before);
            }
            let a_request = widget_id.as_deref() == Some(self.widget_id.as_str())
                && string("api").as_deref() == Some("fromWidget")
                && string("requestId").is_some()
                && string("action").is_some()
                && field("data").is_some_and(|d| d.starts_with('{'))
                && field("response").is_none();
            let repeats = fields.as_ref().is_some_and(|f| {
                let keys: HashSet<&String> = f.iter().map(|(k, _)| k).collect();
                keys.len() < f.len()
            });
            if a_request && !repeats {
                // Rule `exactly-one-response`, answered at once, echoing the request.
                prop_assert_eq!(responses.len(), 1, "{} got {:?}", raw.get(), responses);
                let response = &responses[0];
                for echoed in ["api", "widgetId", "requestId", "action"] {
                    let sent = string(echoed);
                    prop_assert_eq!(
                        response[echoed].as_str(),
                        sent.as_deref(),
                        "{} does not echo {}",
                        response,
                        echoed
                    );
                }
                if let Some(data) =
                    field("data").and_then(|d| serde_json::from_str::<Value>(d).ok())
                {
                    prop_assert_eq!(
                        &response["data"],
                        &data,
                        "{} does not echo its data",
                        raw.get()
                    );
                }
            } else if a_request {
                // A field given twice: the client may take it as a request, or ignore it.
                prop_assert!(responses.len() <= 1, "{} got {:?}", raw.get(), responses);
            } else {
                prop_assert!(
                    responses.is_empty(),
                    "{} is not a request of this session but got {:?}",
                    raw.get(),
                    responses
                );
            }
        }
        let client = self.session.client().client();
        prop_assert!(
            approved_before.is_subset(client.approved()),
            "approvals shrank"
        );
        prop_assert!(
            client.approved().is_subset(client.requested()),
            "approved {:?} beyond requested {:?}",
            client.approved(),
            client.requested()
        );
        Ok(())
    }
}

proptest! {
    /// The client never panics, and stays well-behaved, on any sequence of inputs.
    #[test]
    fn client_survives_hostile_widgets(
        (profile, config) in config(),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut h = Harness::new(profile, &config)?;
        for op in &ops {
            h.step(op)?;
        }
    }

    /// The same, with a widget that first does what a widget should (answers `capabilities`,
    /// sends `content_loaded`), so that the hostile part reaches established sessions more
    /// often.
    #[test]
    fn established_client_survives_hostile_widgets(
        (profile, config) in config(),
        round_zero in cap_list(),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut h = Harness::new(profile, &config)?;
        for op in opening(&round_zero).iter().chain(&ops) {
            h.step(op)?;
        }
    }
}

/// What a well-behaved widget does first: sends `content_loaded`, then answers the client's
/// `capabilities` request (the oldest open one) with `round_zero`.
fn opening(round_zero: &[String]) -> [Op; 2] {
    [
        Op::Request {
            to_widget: false,
            widget: WidgetChoice::Session,
            id: IdChoice::Fresh("loaded".into()),
            action: 5,
            data: json!({}),
        },
        Op::Response {
            open: Some(0),
            id: String::new(),
            action: 0,
            widget: WidgetChoice::Session,
            own_api: false,
            response: json!({ "capabilities": round_zero }),
        },
    ]
}

/// The generators reach what they are meant to: open prompts, established sessions, notifies,
/// decisions without a prompt (so the checks above are not vacuous).
#[test]
fn hostile_inputs_reach_the_interesting_states() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut prompts, mut established, mut notifies, mut no_prompt) = (0, 0, 0, 0);
    let mut later_rounds = 0;
    for _ in 0..200 {
        let (profile, config) = config().new_tree(&mut runner).unwrap().current();
        let round_zero = cap_list().new_tree(&mut runner).unwrap().current();
        let ops = prop::collection::vec(op(), 0..40)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut h = Harness::new(profile, &config).unwrap();
        for op in opening(&round_zero).iter().chain(&ops) {
            if matches!(op, Op::Decision(_)) && !h.session.prompt_open() {
                no_prompt += 1;
            }
            h.step(op).unwrap();
            prompts += usize::from(h.session.prompt_open());
            established += usize::from(h.session.client().client().is_established());
        }
        notifies += h.notifies;
        later_rounds += usize::from(h.notifies >= 2);
    }
    assert!(prompts > 100, "prompts open in {prompts} steps");
    assert!(established > 1000, "established in {established} steps");
    assert!(notifies > 50, "{notifies} notifies");
    assert!(no_prompt > 50, "{no_prompt} decisions without a prompt");
    assert!(
        later_rounds > 20,
        "{later_rounds} sessions with a notify after round 0"
    );
    println!("{prompts} {established} {notifies} {no_prompt} {later_rounds}");
}
