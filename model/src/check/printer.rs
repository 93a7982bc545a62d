//! Printing a path of the model as a trace (docs/spec.md §5) and as a Mermaid sequence diagram.

use crate::rules::{Judge, Judging, Line, Violation};
use capneg_reference::msg::{Api, Body, Msg, ReqId};
use capneg_reference::{CapSet, Event, Interner, Posted, Settings};
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::envelope::Envelope;
use capneg_wire::trace::{
    print_line, AppLine, DecisionLine, Key, PromptLine, SessionLine, ViewLine,
};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The widget id of model traces.
pub const MODEL_WIDGET_ID: &str = "widget";

/// Turns compact events into trace lines, echoing each request in full in its response.
pub struct TracePrinter {
    codec: Codec,
    client_requests: HashMap<ReqId, Envelope>,
    widget_requests: HashMap<ReqId, Envelope>,
}

impl TracePrinter {
    /// A printer for capabilities named by `universe`.
    pub fn new(universe: &Interner) -> Self {
        let mut codec = Codec::new(MODEL_WIDGET_ID);
        codec.caps = universe.clone();
        TracePrinter {
            codec,
            client_requests: HashMap::new(),
            widget_requests: HashMap::new(),
        }
    }

    /// The codec (for the capability names).
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The `session` line of the model's session with `settings`.
    pub fn session_line(&self, settings: &Settings) -> String {
        let settings = settings.clone().map_caps(|c| self.names(&c));
        print_line(
            Key::Session,
            &SessionLine::recorded(MODEL_WIDGET_ID, &settings),
        )
    }

    /// The `session` line of a trace recorded on the widget's side (docs/spec.md §9): the
    /// widget sees no prompts.
    pub fn widget_session_line(&self) -> String {
        let line = SessionLine {
            widget_id: Some(MODEL_WIDGET_ID.to_owned()),
            prompts: Some(capneg_wire::trace::Prompts::Hidden),
            ..SessionLine::default()
        };
        print_line(Key::Session, &line)
    }

    /// The names of a set.
    pub fn names(&self, set: &CapSet) -> Vec<String> {
        self.codec.caps.to_vec(set)
    }

    fn envelope(&mut self, msg: &Msg) -> Envelope {
        // Requests and their responses share the api of whoever started the request.
        let requests = match msg.api {
            Api::ToWidget => &mut self.client_requests,
            Api::FromWidget => &mut self.widget_requests,
        };
        match &msg.body {
            Body::Request(_) => {
                let env = self.codec.envelope(msg);
                requests.insert(msg.id, env.clone());
                env
            }
            Body::Response(reply) => match requests.get(&msg.id) {
                Some(req) if req.action == self.codec.action_name(msg.action) && !msg.foreign => {
                    req.respond(self.codec.reply_json(reply, &req.request_id))
                }
                _ => self.codec.envelope(msg),
            },
        }
    }

    /// The trace line of an event.
    pub fn line(&mut self, event: &Event) -> String {
        match event {
            Event::Client(Ok(msg)) => {
                let env = self.envelope(msg);
                print_line(Key::Client, &env)
            }
            Event::Widget(Ok(msg)) => {
                let env = self.envelope(msg);
                print_line(Key::Widget, &env)
            }
            Event::Client(Err(fault)) => {
                print_line(Key::Client, &self.codec.faulty_json(Poster::Client, *fault))
            }
            Event::Widget(Err(fault)) => {
                print_line(Key::Widget, &self.codec.faulty_json(Poster::Widget, *fault))
            }
            Event::Prompt(caps) => print_line(
                Key::Prompt,
                &PromptLine {
                    capabilities: self.names(caps),
                },
            ),
            Event::Decision(caps) => print_line(
                Key::Decision,
                &DecisionLine {
                    approved: self.names(caps),
                },
            ),
            Event::View(caps) => print_line(
                Key::View,
                &ViewLine {
                    approved: self.names(caps),
                },
            ),
            Event::App(caps) => print_line(
                Key::App,
                &AppLine {
                    request: self.names(caps),
                },
            ),
        }
    }
}

/// Judges a path's events with the observer, positions being trace lines (the session line is
/// line 1): every violation with the line of the event that broke the rule (the line after the
/// last for end-of-trace obligations).
pub fn judge_events(judge: &Judge, events: &[Event]) -> Vec<(Line, Violation)> {
    let second = Line::FIRST.next();
    Judging::path(judge, second, events, false)
        .unwrap_or_else(|(at, bad)| unreachable!("a model path is a session: line {at}: {bad}"))
}

/// A Mermaid sequence diagram of a path; `mark` notes a violation after the event at that line.
pub fn diagram(printer: &TracePrinter, events: &[Event], mark: Option<(Line, &str)>) -> String {
    let names = |s: &CapSet| printer.names(s).join(", ");
    let mut out = String::from("sequenceDiagram\n    participant W as Widget\n    participant C as Client\n    participant U as User\n");
    let summary = |m: &Posted| -> String {
        match m {
            Err(fault) => format!("malformed: {fault}"),
            Ok(m) => describe(printer, m, &names),
        }
    };
    // The session line is line 1: the events start on line 2.
    let mut line = Line::FIRST;
    for ev in events {
        line = line.next();
        let _ = match ev {
            Event::Client(m) => writeln!(out, "    C->>W: {}", escape(&summary(m))),
            Event::Widget(m) => writeln!(out, "    W->>C: {}", escape(&summary(m))),
            Event::Prompt(c) => writeln!(out, "    C->>U: prompt [{}]", escape(&names(c))),
            Event::Decision(c) => writeln!(out, "    U->>C: approves [{}]", escape(&names(c))),
            Event::View(c) => writeln!(
                out,
                "    Note over W: believes approved [{}]",
                escape(&names(c))
            ),
            Event::App(c) => writeln!(
                out,
                "    Note over W: the application asks for [{}]",
                escape(&names(c))
            ),
        };
        if let Some((at, text)) = mark {
            if at == line {
                let _ = writeln!(out, "    Note over W,U: line {at}: {}", escape(text));
            }
        }
    }
    if let Some((at, text)) = mark {
        if at > line {
            let _ = writeln!(out, "    Note over W,U: at the end: {}", escape(text));
        }
    }
    out
}

fn describe(printer: &TracePrinter, m: &Msg, names: &dyn Fn(&CapSet) -> String) -> String {
    use capneg_reference::msg::{Data, Reply};
    let action = printer.codec.action_name(m.action);
    let id = printer.codec.id_string(m.api, m.id);
    match &m.body {
        Body::Request(Data::Capabilities(c)) => format!("{action} {id} [{}]", names(c)),
        Body::Request(Data::Notify {
            requested,
            approved,
        }) => format!(
            "{action} {id} requested [{}] approved [{}]",
            names(requested),
            names(approved)
        ),
        Body::Request(_) => format!("{action} {id}"),
        Body::Response(Reply::Capabilities(c)) => format!("{action} {id} ← [{}]", names(c)),
        Body::Response(Reply::Error(_)) => format!("{action} {id} ← error"),
        Body::Response(Reply::Versions { msc2974 }) => {
            format!(
                "{action} {id} ← msc2974 {}",
                if *msc2974 { "in" } else { "out" }
            )
        }
        Body::Response(_) => format!("{action} {id} ← ok"),
    }
}

fn escape(s: &str) -> String {
    s.replace(';', ",").replace('#', "#35;")
}
