//! Inputs for capneg's benchmarks, generated in memory so the benchmarks need no files.
//!
//! - [`long_script`]: the long session of `benches/scripts/gen_script.py`, byte for byte, and
//!   [`TYPICAL_SCRIPT`], one ordinary session;
//! - [`run`]: the reference client on a script (`capneg run`), giving a trace with prompts
//!   recorded; [`hide_prompts`]: the same trace, wire only;
//! - [`Session::from_trace`]: a trace in the forms the benchmarks feed: the reference client's
//!   compact inputs, the JSON inputs of a [`ClientSession`], and the compact events the rules'
//!   observer takes;
//! - [`typical_and_long`]: the two sessions the step and observer benchmarks feed;
//! - [`trivial`]: a stateright model with nothing in it, to measure the checker itself.
//!
//! Criterion runs each benchmark once under `cargo test --benches` (test mode); [`benchmarking`]
//! tells the benchmarks which mode they are in, so they keep their inputs small when testing.

use capneg_model::rules::mutants::ClientKind;
use capneg_model::run::{run_script, DEFAULT_WIDGET_ID};
use capneg_model::session::{ClientSession, Emitted};
use capneg_model::{Judge, Line, Observer, Violation};
use capneg_reference::client::{Client, Input, Output, Setup};
use capneg_reference::{Event, Profile, Settings};
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::envelope::EnvelopeView;
use capneg_wire::trace::{parse_line, Key};
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt::Write as _;

pub mod trivial;

/// Whether the benchmarks run for measurement (`cargo bench`), not once as tests
/// (`cargo test --benches`, `cargo bench -- --test`): criterion's own rule.
pub fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

/// `big` when benchmarking, `small` when testing.
pub fn size(big: usize, small: usize) -> usize {
    if benchmarking() {
        big
    } else {
        small
    }
}

/// The event types of [`long_script`]'s capabilities.
const TYPES: [&str; 8] = [
    "m.room.message#m.text",
    "m.reaction",
    "m.room.redaction",
    "m.sticker",
    "org.example.poll",
    "org.example.vote",
    "m.room.message#m.notice",
    "m.call.invite",
];

/// The capabilities of [`long_script`]: 8 send, 8 receive, 2 others.
pub fn long_script_caps() -> Vec<String> {
    let mut caps: Vec<String> = TYPES
        .iter()
        .map(|t| format!("org.matrix.msc2762.send.event:{t}"))
        .collect();
    caps.extend(
        TYPES
            .iter()
            .map(|t| format!("org.matrix.msc2762.receive.event:{t}")),
    );
    caps.push("m.always_on_screen".into());
    caps.push("org.matrix.msc2762.timeline:*".into());
    caps
}

fn list(caps: &[&String]) -> String {
    let quoted: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// The script `benches/scripts/gen_script.py ROUNDS` writes (the same bytes): an initial
/// exchange, then `rounds` rounds of a re-exchange request for three capabilities (one never
/// approved, so every round prompts), a decision approving one, the notify's ack and a gated
/// `send_event`. `capneg run` makes 8 events of each round.
pub fn long_script(rounds: usize) -> String {
    let caps = long_script_caps();
    let mut s = String::with_capacity(200 + rounds * 560);
    let _ = writeln!(
        s,
        r#"{{"session":{{"widgetId":"bench-widget","autoApprove":{}}}}}"#,
        list(&[&caps[0]])
    );
    let _ = writeln!(
        s,
        r#"{{"widget":{{"api":"toWidget","action":"capabilities","response":{{"capabilities":{}}}}}}}"#,
        list(&caps[..4].iter().collect::<Vec<_>>())
    );
    let _ = writeln!(
        s,
        r#"{{"decision":{{"approved":{}}}}}"#,
        list(&caps[1..3].iter().collect::<Vec<_>>())
    );
    let ack = r#"{"widget":{"api":"toWidget","action":"notify_capabilities","response":{}}}"#;
    let _ = writeln!(s, "{ack}");
    let (send, receive) = (&caps[..8], &caps[8..16]);
    for i in 0..rounds {
        let asked = [&send[i % 8], &send[(i * 5 + 3) % 8], &receive[i % 8]];
        let _ = writeln!(
            s,
            r#"{{"widget":{{"api":"fromWidget","requestId":"r{i}","action":"org.matrix.msc2974.request_capabilities","data":{{"capabilities":{}}}}}}}"#,
            list(&asked)
        );
        let _ = writeln!(s, r#"{{"decision":{{"approved":{}}}}}"#, list(&asked[..1]));
        let _ = writeln!(s, "{ack}");
        // Python's json.dumps escapes non-ASCII characters: the same bytes as gen_script.py.
        let _ = writeln!(
            s,
            r#"{{"widget":{{"api":"fromWidget","requestId":"g{i}","action":"send_event","data":{{"type":"m.reaction","content":{{"m.relates_to":{{"rel_type":"m.annotation","key":"\ud83d\udc4d"}}}}}}}}}}"#
        );
    }
    s
}

/// One ordinary session: the capabilities answer, a decision, the notify's ack, a re-exchange
/// for one old and one new capability, a decision, the notify's ack, and a gated action. Seven
/// inputs.
pub const TYPICAL_SCRIPT: &str = r#"{"session":{"widgetId":"w1","autoApprove":["org.matrix.msc2762.send.event:m.room.message#m.text"]}}
{"widget":{"api":"toWidget","action":"capabilities","response":{"capabilities":["m.always_on_screen","org.matrix.msc2762.send.event:m.room.message#m.text","org.matrix.msc2762.send.event:m.reaction"]}}}
{"decision":{"approved":["m.always_on_screen","org.matrix.msc2762.send.event:m.reaction"]}}
{"widget":{"api":"toWidget","action":"notify_capabilities","response":{}}}
{"widget":{"api":"fromWidget","action":"org.matrix.msc2974.request_capabilities","data":{"capabilities":["m.always_on_screen","org.matrix.msc2762.send.state_event:m.room.topic"]}}}
{"decision":{"approved":["org.matrix.msc2762.send.state_event:m.room.topic"]}}
{"widget":{"api":"toWidget","action":"notify_capabilities","response":{}}}
{"widget":{"api":"fromWidget","action":"send_event","data":{"type":"m.reaction","content":{"m.relates_to":{"rel_type":"m.annotation","key":"+1"}}}}}
"#;

/// The trace of the `msc` reference client on `script` (`capneg run`): prompts recorded.
///
/// # Panics
/// If the script is not a valid script.
pub fn run(script: &str) -> String {
    let mut out = Vec::with_capacity(script.len() * 8);
    run_script(Profile::MSC, script.as_bytes(), &mut out).expect("a valid script");
    String::from_utf8(out).expect("traces are UTF-8")
}

/// The sessions the step and observer benchmarks feed, by name: the typical one, and the long one
/// of 5000 rounds (20 when testing).
pub fn typical_and_long() -> [(&'static str, Session); 2] {
    let rounds = size(5000, 20);
    [
        ("typical", Session::from_trace(&run(TYPICAL_SCRIPT))),
        ("long", Session::from_trace(&run(&long_script(rounds)))),
    ]
}

/// The wire-only version of a trace: prompt and decision lines removed, and the session line
/// saying `"prompts": "hidden"`.
///
/// # Panics
/// If a line is not a JSON object.
pub fn hide_prompts(trace: &str) -> String {
    let mut out = String::with_capacity(trace.len());
    for line in trace.lines() {
        if line.starts_with("{\"prompt\"") || line.starts_with("{\"decision\"") {
            continue;
        }
        if line.starts_with("{\"session\"") {
            let mut value: Value = serde_json::from_str(line).expect("a session line");
            value["session"]["prompts"] = Value::from("hidden");
            out.push_str(&value.to_string());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// An input of a [`ClientSession`]: JSON.
#[derive(Clone, Debug)]
pub enum JsonInput {
    /// A message the widget posted.
    Widget(Box<RawValue>),
    /// The user's decision.
    Decision(Vec<String>),
}

/// A recorded trace of the `msc` reference client, in every form the benchmarks feed.
#[derive(Clone, Debug)]
pub struct Session {
    /// The widget's id.
    pub widget_id: String,
    /// The session's settings.
    pub settings: Settings<Vec<String>>,
    /// The client's profile and policy, in compact form.
    pub setup: Setup,
    /// The client's inputs in compact form: widget messages and decisions.
    pub inputs: Vec<Input>,
    /// The same inputs as JSON, for a [`ClientSession`].
    pub json_inputs: Vec<JsonInput>,
    /// Every event of the trace (after the session line) with its line number.
    pub events: Vec<(Line, Event)>,
    /// The rules of the session: `msc`, prompts recorded.
    pub judge: Judge,
}

impl Session {
    /// Reads a trace with prompts recorded, written by [`run`], through one [`Codec`] (as the
    /// validator reads it).
    ///
    /// # Panics
    /// If the trace is not a well-formed trace with a session line and prompts recorded.
    pub fn from_trace(trace: &str) -> Session {
        let mut lines = trace
            .lines()
            .enumerate()
            .map(|(i, l)| (Line::new(i as u32 + 1).expect("lines count from 1"), l));
        let (_, first) = lines.next().expect("a session line");
        let session = parse_line(first)
            .ok()
            .filter(|l| l.key == Key::Session)
            .and_then(|l| l.session().ok())
            .expect("a session line");
        let widget_id = session
            .widget_id
            .unwrap_or_else(|| DEFAULT_WIDGET_ID.to_owned());
        let settings = session.settings;
        let mut codec = Codec::new(widget_id.clone());
        let setup = Setup {
            profile: Profile::MSC,
            settings: settings
                .as_ref()
                .map_caps(|names| codec.cap_set(names.iter().map(String::as_str))),
        };
        let mut judge = Judge::new(Profile::MSC);
        judge.settings = setup.settings.clone();
        let (mut inputs, mut json_inputs, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for (n, text) in lines {
            let line = parse_line(text).expect("a trace line");
            match line.key {
                Key::Client | Key::Widget => {
                    let view = EnvelopeView::parse(line.value).expect("an envelope");
                    if line.key == Key::Widget {
                        let msg = codec.read(Poster::Widget, &view).expect("well-formed");
                        inputs.push(Input::Widget(msg.clone()));
                        json_inputs.push(JsonInput::Widget(line.value.to_owned()));
                        events.push((n, Event::Widget(Ok(msg))));
                    } else {
                        events.push((n, Event::Client(codec.read(Poster::Client, &view))));
                    }
                }
                Key::Prompt => {
                    let caps = line.prompt().expect("a prompt line").capabilities;
                    let set = codec.cap_set(caps.iter().map(String::as_str));
                    events.push((n, Event::Prompt(set)));
                }
                Key::Decision => {
                    let approved = line.decision().expect("a decision line").approved;
                    let set = codec.cap_set(approved.iter().map(String::as_str));
                    inputs.push(Input::Decision(set.clone()));
                    json_inputs.push(JsonInput::Decision(approved));
                    events.push((n, Event::Decision(set)));
                }
                Key::Session => panic!("a second session line"),
                Key::View | Key::App => panic!("the benchmark session is the client's"),
            }
        }
        Session {
            widget_id,
            settings,
            setup,
            inputs,
            json_inputs,
            events,
            judge,
        }
    }

    /// Runs the compact reference client over the inputs, reusing one output buffer (what the
    /// step benchmark measures); returns the number of outputs.
    pub fn step_all(&self, out: &mut Vec<Output>) -> usize {
        out.clear();
        let mut client = Client::start(&self.setup, out);
        let mut outputs = out.len();
        for input in &self.inputs {
            out.clear();
            client
                .handle(&self.setup, input, out)
                .expect("the reference takes every input");
            outputs += out.len();
        }
        outputs
    }

    /// Runs a [`ClientSession`] over the JSON inputs, reusing one buffer; returns the number of
    /// messages and prompts emitted.
    pub fn session_all(&self, emitted: &mut Vec<Emitted>) -> usize {
        emitted.clear();
        let mut session = ClientSession::start(
            ClientKind::Reference,
            Profile::MSC,
            &self.widget_id,
            &self.settings,
            emitted,
        );
        let mut outputs = emitted.len();
        for input in &self.json_inputs {
            emitted.clear();
            match input {
                JsonInput::Widget(raw) => session.widget(raw, emitted),
                JsonInput::Decision(approved) => session
                    .decision(approved.iter().map(String::as_str), emitted)
                    .expect("a prompt is open"),
            }
            outputs += emitted.len();
        }
        outputs
    }

    /// Feeds every event to a fresh observer and closes it; returns the violations (none for a
    /// trace of the reference).
    pub fn observe_all(&self, found: &mut Vec<Violation>) -> usize {
        found.clear();
        let mut observer = Observer::new();
        for (at, event) in &self.events {
            observer
                .observe(&self.judge, *at, event, found)
                .expect("a decision has a prompt");
        }
        observer.finish(&self.judge, found);
        found.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capneg_model::validate::{validate, Options, Verdict};
    use capneg_wire::trace::Prompts;

    /// The compact client, fed the trace's inputs, emits exactly the trace's client lines and
    /// prompts: the step benchmark replays the same session the validation benchmark reads.
    fn replays(session: &Session) {
        let mut out = Vec::new();
        let mut client = Client::start(&session.setup, &mut out);
        let mut emitted: Vec<Event> = out.drain(..).map(Event::from).collect();
        let mut inputs = session.inputs.iter();
        let mut expected = Vec::new();
        for (_, event) in &session.events {
            match event {
                Event::Widget(_) | Event::Decision(_) => {
                    assert_eq!(
                        format!("{emitted:?}"),
                        format!("{expected:?}"),
                        "outputs before an input"
                    );
                    emitted.clear();
                    expected.clear();
                    let input = inputs.next().expect("an input per widget or decision line");
                    client.handle(&session.setup, input, &mut out).unwrap();
                    emitted.extend(out.drain(..).map(Event::from));
                }
                other => expected.push(other.clone()),
            }
        }
        assert_eq!(format!("{emitted:?}"), format!("{expected:?}"));
    }

    #[test]
    fn the_long_session_replays_and_conforms() {
        let trace = run(&long_script(20));
        assert_eq!(trace.lines().count(), 1 + 6 + 8 * 20);
        let session = Session::from_trace(&trace);
        assert_eq!(session.inputs.len(), 3 + 4 * 20);
        replays(&session);
        assert_eq!(session.observe_all(&mut Vec::new()), 0);
        let mut out = Vec::new();
        assert_eq!(
            session.step_all(&mut out),
            session.events.len() - 3 - 4 * 20
        );
        assert_eq!(
            session.session_all(&mut Vec::new()),
            session.events.len() - 3 - 4 * 20
        );
    }

    #[test]
    fn the_typical_session_replays_and_conforms() {
        let session = Session::from_trace(&run(TYPICAL_SCRIPT));
        assert_eq!(session.inputs.len(), 7);
        replays(&session);
        assert_eq!(session.observe_all(&mut Vec::new()), 0);
    }

    #[test]
    fn both_traces_conform() {
        let recorded = run(&long_script(20));
        let hidden = hide_prompts(&recorded);
        assert!(!hidden.contains("\"prompt\"") && hidden.contains("\"prompts\":\"hidden\""));
        let options = Options {
            profile: Profile::MSC,
            partial: false,
            side: capneg_model::rules::Side::Client,
        };
        for (trace, prompts, events) in [
            (&recorded, Prompts::Recorded, 6 + 8 * 20),
            (&hidden, Prompts::Hidden, 4 + 6 * 20),
        ] {
            assert_eq!(
                validate(options, trace.as_bytes()).unwrap(),
                Verdict::Conforms { events, prompts }
            );
        }
    }

    #[test]
    fn the_script_is_gen_script_py_s() {
        let script = long_script(2);
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines.len(), 4 + 4 * 2);
        assert_eq!(
            lines[4],
            r#"{"widget":{"api":"fromWidget","requestId":"r0","action":"org.matrix.msc2974.request_capabilities","data":{"capabilities":["org.matrix.msc2762.send.event:m.room.message#m.text","org.matrix.msc2762.send.event:m.sticker","org.matrix.msc2762.receive.event:m.room.message#m.text"]}}}"#
        );
        for line in lines {
            let _: Value = serde_json::from_str(line).expect("JSON");
        }
    }
}
