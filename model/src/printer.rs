//! Printing a path of the model as a trace (SPEC §5) and as a Mermaid sequence diagram.

use crate::model::Traced;
use crate::observer::{Event, Judge, Observer, Pos, Violation};
use crate::session::SessionConfig;
use capneg_reference::msg::{Api, Body, ClientMsg, Msg};
use capneg_reference::{CapSet, Interner};
use capneg_wire::codec::Codec;
use capneg_wire::envelope::Envelope;
use capneg_wire::trace::{print_line, DecisionLine, Key, PromptLine};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The widget id of model traces.
pub const MODEL_WIDGET_ID: &str = "widget";

/// Turns compact events into trace lines, echoing each request in full in its response.
pub struct TracePrinter {
    codec: Codec,
    client_requests: HashMap<u32, Envelope>,
    widget_requests: HashMap<u32, Envelope>,
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

    /// The `session` line of a session with `config`.
    pub fn session_line(&self, config: &SessionConfig) -> String {
        print_line(Key::Session, &config.to_line())
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
                requests.insert(msg.id.0, env.clone());
                env
            }
            Body::Response(reply) => match requests.get(&msg.id.0) {
                Some(req) if req.action == self.codec.action_name(msg.action) => {
                    req.respond(self.codec.reply_json(reply, &req.request_id))
                }
                _ => self.codec.envelope(msg),
            },
        }
    }

    /// The trace line of an event.
    pub fn line(&mut self, event: &Traced) -> String {
        match event {
            Traced::Client(Ok(msg)) => {
                let env = self.envelope(msg);
                print_line(Key::Client, &env)
            }
            Traced::Widget(msg) => {
                let env = self.envelope(msg);
                print_line(Key::Widget, &env)
            }
            Traced::Client(Err(fault)) => print_line(Key::Client, &self.codec.faulty_json(*fault)),
            Traced::Prompt(caps) => print_line(
                Key::Prompt,
                &PromptLine {
                    capabilities: self.names(caps),
                },
            ),
            Traced::Decision(caps) => print_line(
                Key::Decision,
                &DecisionLine {
                    approved: self.names(caps),
                },
            ),
        }
    }
}

/// Judges a path's events with the observer, positions being trace lines (the session line is
/// line 1): every violation with the line of the event that broke the rule (the line after the
/// last for end-of-trace obligations).
pub fn judge_events(judge: &Judge, events: &[Traced]) -> Vec<(Pos, Violation)> {
    let mut observer = Observer::new();
    let mut found = Vec::new();
    let mut all = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let at = i as Pos + 2;
        let event = match ev {
            Traced::Client(m) => Event::Client(m),
            Traced::Widget(m) => Event::Widget(m),
            Traced::Prompt(c) => Event::Prompt(c),
            Traced::Decision(c) => Event::Decision(c),
        };
        let _ = observer.observe(judge, at, event, &mut found);
        all.extend(found.drain(..).map(|v| (at, v)));
    }
    observer.finish(judge, &mut found);
    let end = events.len() as Pos + 2;
    all.extend(found.drain(..).map(|v| (end, v)));
    all
}

/// A Mermaid sequence diagram of a path; `mark` notes a violation after the event at that line.
pub fn diagram(printer: &TracePrinter, events: &[Traced], mark: Option<(Pos, &str)>) -> String {
    let names = |s: &CapSet| printer.names(s).join(", ");
    let mut out = String::from("sequenceDiagram\n    participant W as Widget\n    participant C as Client\n    participant U as User\n");
    let summary = |m: &ClientMsg| -> String {
        match m {
            Err(fault) => format!("malformed: {fault}"),
            Ok(m) => describe(printer, m, &names),
        }
    };
    for (i, ev) in events.iter().enumerate() {
        let line = i as Pos + 2;
        let _ = match ev {
            Traced::Client(m) => writeln!(out, "    C->>W: {}", escape(&summary(m))),
            Traced::Widget(m) => {
                writeln!(out, "    W->>C: {}", escape(&describe(printer, m, &names)))
            }
            Traced::Prompt(c) => writeln!(out, "    C->>U: prompt [{}]", escape(&names(c))),
            Traced::Decision(c) => writeln!(out, "    U->>C: approves [{}]", escape(&names(c))),
        };
        if let Some((at, text)) = mark {
            if at == line {
                let _ = writeln!(out, "    Note over W,U: line {at}: {}", escape(text));
            }
        }
    }
    if let Some((at, text)) = mark {
        if at as usize >= events.len() + 2 {
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
