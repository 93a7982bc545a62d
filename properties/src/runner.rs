//! Running an abstract session against a client: the concrete trace and the compact events.
//!
//! A [`Side`] is one client's view of a run: it turns each abstract [`Step`] into the concrete
//! widget message or decision for that client (filling in the requestIds that client chose),
//! records the trace (docs/spec.md §5), reads every message through the side's own
//! [`Codec`], keeps the client's open requests and prompts, and, where
//! asked, judges the client with the rules' [`Observer`](capneg_model::rules::observer::Observer)
//! as the run goes.
//!
//! [`run_session`] drives one client through a session; the differential driver
//! ([`mod@crate::drive`]) drives two sides in lockstep.

use crate::process::{Adapter, Failure};
use crate::session::{Session, Start, Step};
use crate::universe::{Caps, UNIVERSE};
use capneg_model::{Judge, Judging, Line, Violation};
use capneg_reference::msg::{Action, Api, Body, ClientMsg};
use capneg_reference::{CapSet, Event, Profile};
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::envelope::EnvelopeView;
use capneg_wire::script::{print_message, Completer, Echo};
use capneg_wire::trace::{parse_line, print_line, DecisionLine, Key, SessionLine};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::VecDeque;

/// One output of the client for the last command.
#[derive(Clone, Debug)]
pub struct Out {
    /// Its line in the trace.
    pub line: Line,
    /// What it is.
    pub kind: OutKind,
}

/// An output in compact form.
#[derive(Clone, Debug)]
pub enum OutKind {
    /// A message to the widget.
    Msg(ClientMsg),
    /// A prompt.
    Prompt(CapSet),
}

/// One client's view of a run.
#[derive(Clone, Debug)]
pub struct Side {
    codec: Codec,
    widget_json: String,
    foreign_json: String,
    /// The client's open requests and the widget's request ids.
    completer: Completer,
    prompts: VecDeque<CapSet>,
    trace: Vec<String>,
    judged: Option<Judging>,
    outs: Vec<Out>,
    events: Option<Vec<Event>>,
    protocol_error: Option<(Line, String)>,
}

impl Side {
    /// A side; `judge`: the profile whose rules judge the client as the run goes;
    /// `record_events`: whether the compact events are kept.
    pub fn new(judge: Option<Profile>, record_events: bool) -> Side {
        Side {
            codec: Codec::new(""),
            widget_json: String::new(),
            foreign_json: String::new(),
            completer: Completer::new(""),
            prompts: VecDeque::new(),
            trace: Vec::new(),
            judged: judge.map(|profile| Judging::new(Judge::new(profile))),
            outs: Vec::new(),
            events: record_events.then(Vec::new),
            protocol_error: None,
        }
    }

    /// Starts a new session: everything is forgotten, the universe is interned first, and the
    /// trace begins with the `session` line.
    pub fn begin(&mut self, start: &Start) {
        let mut codec = Codec::new(start.widget_id.clone());
        for name in UNIVERSE {
            codec.caps.intern(name);
        }
        self.widget_json = json_string(&start.widget_id);
        self.foreign_json = json_string(&format!("{}-other", start.widget_id));
        self.completer = Completer::new(&start.widget_id);
        self.prompts.clear();
        self.trace.clear();
        self.trace.push(print_line(
            Key::Session,
            &SessionLine::recorded(&start.widget_id, &start.settings),
        ));
        if let Some(j) = &mut self.judged {
            let mut judge = j.judge().clone();
            judge.settings = start
                .settings
                .as_ref()
                .map_caps(|names| codec.cap_set(names.iter().map(String::as_str)));
            *j = Judging::new(judge);
        }
        self.codec = codec;
        self.outs.clear();
        if let Some(e) = &mut self.events {
            e.clear();
        }
        self.protocol_error = None;
    }

    /// The side's codec (its tables of strings).
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The trace so far: the `session` line, then every input and output line.
    pub fn trace(&self) -> &[String] {
        &self.trace
    }

    /// Takes the trace.
    pub fn take_trace(&mut self) -> Vec<String> {
        std::mem::take(&mut self.trace)
    }

    /// The compact events so far (empty unless recorded).
    pub fn events(&self) -> &[Event] {
        self.events.as_deref().unwrap_or_default()
    }

    /// The outputs of the last command.
    pub fn outs(&self) -> &[Out] {
        &self.outs
    }

    /// The line `at` of the trace.
    pub fn line(&self, at: Line) -> Option<&str> {
        self.trace.get(at.get() as usize - 1).map(String::as_str)
    }

    /// The last line so far (the `session` line before any other).
    pub fn last(&self) -> Line {
        Line::new(self.trace.len() as u32).unwrap_or(Line::FIRST)
    }

    /// Whether the trace is empty (before [`Side::begin`]).
    pub fn is_empty(&self) -> bool {
        self.trace.is_empty()
    }

    /// Every rule broken so far, with the line that broke it.
    pub fn violations(&self) -> &[(Line, Violation)] {
        self.judged
            .as_ref()
            .map(Judging::violations)
            .unwrap_or_default()
    }

    /// The first output line that is not a `client` or `prompt` line, and why.
    pub fn protocol_error(&self) -> Option<&(Line, String)> {
        self.protocol_error.as_ref()
    }

    /// Whether the client has a prompt open (as far as its outputs say).
    pub fn prompt_open(&self) -> bool {
        !self.prompts.is_empty()
    }

    /// The approved names of a decision on the oldest open prompt, for `step` (a `Decide` or
    /// `Decision`); `None` when no prompt is open (the step is skipped).
    pub fn decision(&self, step: &Step) -> Option<Vec<String>> {
        let front = self.prompts.front()?;
        match step {
            Step::Decide(caps) => Some(Caps::of_set(&front.intersection(&caps.set())).to_vec()),
            Step::Decision(names) => Some(names.clone()),
            _ => None,
        }
    }

    /// The widget line of `step` for this client, or `None` when it has nothing to act on (a
    /// response while no request of its action is open). The open request it answers is
    /// closed.
    pub fn widget_line(&mut self, step: &Step) -> Option<String> {
        match step {
            Step::AnswerCapabilities(caps) => self.answer(
                Action::Capabilities.known_name()?,
                &format!(r#"{{"capabilities":{}}}"#, caps.json()),
            ),
            Step::AckNotify => self.answer(Action::NotifyCapabilities.known_name()?, "{}"),
            Step::RequestCapabilities { stable, caps } => {
                let action = if *stable {
                    "request_capabilities"
                } else {
                    "org.matrix.msc2974.request_capabilities"
                };
                let data = format!(r#"{{"capabilities":{}}}"#, caps.json());
                Some(self.request(action, &data, false))
            }
            Step::Gated(g) => Some(self.request(g.action(), g.data(), false)),
            Step::SupportedApiVersions => Some(self.request("supported_api_versions", "{}", false)),
            Step::ContentLoaded => Some(self.request("content_loaded", "{}", false)),
            Step::Foreign => Some(self.request("supported_api_versions", "{}", true)),
            Step::Widget(map) => self.raw(map),
            Step::Decide(_) | Step::Decision(_) => None,
        }
    }

    /// The widget's `response` to the client's oldest open request of `action`, which it closes;
    /// `None` when none is open.
    pub fn answer(&mut self, action: &str, response: &str) -> Option<String> {
        let o = self.completer.answer_oldest(action)?;
        Some(format!(
            r#"{{"widget":{{"api":"toWidget","widgetId":{},"requestId":{},"action":{},"data":{},"response":{}}}}}"#,
            self.widget_json,
            json_string(&o.request_id),
            json_string(&o.action),
            o.data.get(),
            response
        ))
    }

    fn request(&mut self, action: &str, data: &str, foreign: bool) -> String {
        let id = self.completer.fresh_id();
        let widget = if foreign {
            &self.foreign_json
        } else {
            &self.widget_json
        };
        format!(
            r#"{{"widget":{{"api":"fromWidget","widgetId":{widget},"requestId":"{id}","action":"{action}","data":{data}}}}}"#
        )
    }

    /// A script's widget message, completed for this client ([`Completer::complete`], as
    /// `capneg run` completes it, with a response's `requestId` retargeted to this client's own
    /// request of its action); `None` where it answers nothing the client asked (it is left out).
    fn raw(&mut self, map: &Map<String, Value>) -> Option<String> {
        let map = self.completer.complete(map.clone(), Echo::Retarget).ok()?;
        Some(format!(r#"{{"widget":{}}}"#, print_message(map)))
    }

    /// Records a widget line (from [`Side::widget_line`]) sent to the client.
    pub fn widget_input(&mut self, line: String) {
        self.outs.clear();
        self.widget_input_more(line);
    }

    /// Records a widget line sent to the client within the last command (the widget's answer
    /// to a request outside the negotiation, from [`Side::answer`]): the outputs of the command
    /// so far are kept, and the client's outputs to it are added to them.
    pub fn widget_input_more(&mut self, line: String) {
        self.trace.push(line);
        let at = self.last();
        let text = &self.trace[self.trace.len() - 1];
        let Ok(parsed) = parse_line(text) else { return };
        let Some(view) = EnvelopeView::parse(parsed.value) else {
            return;
        };
        let Ok(msg) = self.codec.read(Poster::Widget, &view) else {
            return; // a malformed widget message (replay only): the rules do not see it
        };
        let event = Event::Widget(Ok(msg));
        if let Some(j) = &mut self.judged {
            let _ = j.observe(at, &event);
        }
        if let Some(e) = &mut self.events {
            e.push(event);
        }
    }

    /// Records a decision approving `approved` on the oldest open prompt; returns its line.
    pub fn decision_input(&mut self, approved: &[String]) -> String {
        self.outs.clear();
        let line = print_line(
            Key::Decision,
            &DecisionLine {
                approved: approved.to_vec(),
            },
        );
        self.trace.push(line.clone());
        let at = self.last();
        self.prompts.pop_front();
        let event = Event::Decision(self.codec.cap_set(approved.iter().map(String::as_str)));
        if let Some(j) = &mut self.judged {
            if j.observer().prompt_open() {
                let _ = j.observe(at, &event);
            }
        }
        if let Some(e) = &mut self.events {
            e.push(event);
        }
        line
    }

    /// Records the client's outputs for the last command (the `start` command too).
    pub fn outputs(&mut self, lines: &mut Vec<String>) {
        for text in lines.drain(..) {
            self.output(text);
        }
    }

    fn output(&mut self, text: String) {
        self.trace.push(text);
        let at = self.last();
        let text = &self.trace[self.trace.len() - 1];
        let kind = match parse_line(text) {
            Ok(line) if line.key == Key::Client => match EnvelopeView::parse(line.value) {
                Some(view) => {
                    let msg = self.codec.read(Poster::Client, &view);
                    if let Ok(m) = &msg {
                        if let (Api::ToWidget, Body::Request(_), false) =
                            (m.api, &m.body, m.foreign)
                        {
                            let data = view
                                .data
                                .and_then(|d| RawValue::from_string(d.to_owned()).ok());
                            if let (Some(request_id), Some(data)) =
                                (self.codec.client_ids.name(m.id), data)
                            {
                                self.completer.counterpart_requested(
                                    request_id.to_owned(),
                                    self.codec.action_name(m.action),
                                    data,
                                );
                            }
                        }
                    }
                    OutKind::Msg(msg)
                }
                None => {
                    return self.protocol(at, "the `client` message is not a JSON object".into())
                }
            },
            Ok(line) if line.key == Key::Prompt => match line.prompt() {
                Ok(p) => {
                    let set = self
                        .codec
                        .cap_set(p.capabilities.iter().map(String::as_str));
                    self.prompts.push_back(set.clone());
                    OutKind::Prompt(set)
                }
                Err(e) => return self.protocol(at, e.to_string()),
            },
            Ok(line) => {
                return self.protocol(
                    at,
                    format!(
                        "a `{}` line: an adapter writes only client, prompt and idle lines",
                        line.key.as_str()
                    ),
                )
            }
            Err(e) => return self.protocol(at, e.to_string()),
        };
        if self.judged.is_some() || self.events.is_some() {
            let event = match &kind {
                OutKind::Msg(m) => Event::Client(m.clone()),
                OutKind::Prompt(s) => Event::Prompt(s.clone()),
            };
            if let Some(j) = &mut self.judged {
                let _ = j.observe(at, &event);
            }
            if let Some(e) = &mut self.events {
                e.push(event);
            }
        }
        self.outs.push(Out { line: at, kind });
    }

    fn protocol(&mut self, at: Line, message: String) {
        if self.protocol_error.is_none() {
            self.protocol_error = Some((at, message));
        }
    }

    /// The end-of-trace obligations left open if the session ended now (at the line after the
    /// last), without ending it.
    pub fn end_violations(&self) -> Vec<(Line, Violation)> {
        let end = self.last().next();
        self.judged
            .as_ref()
            .map(|j| j.open_at(end))
            .unwrap_or_default()
    }

    /// The end of the session: the rules' end-of-trace obligations, at the line after the last.
    pub fn finish(&mut self) {
        let end = self.last().next();
        if let Some(j) = &mut self.judged {
            j.finish(end);
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// What running one session against one client gave.
#[derive(Clone, Debug)]
pub struct SessionRun {
    /// The trace (docs/spec.md §5), with prompts recorded.
    pub trace: Vec<String>,
    /// The compact events, in trace order (the session line has none).
    pub events: Vec<Event>,
    /// The rules the client broke, each with its line (end-of-trace obligations at the line
    /// after the last).
    pub violations: Vec<(Line, Violation)>,
    /// The first output line that was not a protocol line.
    pub protocol_error: Option<(Line, String)>,
    /// Why the run stopped early, if it did.
    pub failure: Option<Failure>,
}

/// Runs `session` against `client`, judged by the rules of `profile`. Decisions follow the
/// client's own prompts; the run stops at the first failure of the client.
pub fn run_session(profile: Profile, session: &Session, client: &mut dyn Adapter) -> SessionRun {
    let mut side = Side::new(Some(profile), true);
    side.begin(&session.start);
    let mut lines = Vec::new();
    let failure = (|| {
        client.command(&session.start.command(), &mut lines)?;
        side.outputs(&mut lines);
        for step in &session.steps {
            let line = match step {
                Step::Decide(_) | Step::Decision(_) => match side.decision(step) {
                    Some(approved) => side.decision_input(&approved),
                    None => continue,
                },
                _ => match side.widget_line(step) {
                    Some(line) => {
                        side.widget_input(line.clone());
                        line
                    }
                    None => continue,
                },
            };
            client.command(&line, &mut lines)?;
            side.outputs(&mut lines);
        }
        side.finish();
        Ok(())
    })()
    .err();
    SessionRun {
        violations: side.violations().to_vec(),
        protocol_error: side.protocol_error.clone(),
        events: side.events.take().unwrap_or_default(),
        trace: side.take_trace(),
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Handler;
    use crate::session::Gated;
    use capneg_model::rules::mutants::ClientKind;

    /// `capneg run` and `capneg drive --replay` complete a script's widget messages in the one
    /// place ([`Completer`]): the reference replayed on a script gives the trace `run` prints,
    /// also where another widget's response comes before the real answer (which `drive
    /// --replay` once took as the answer, leaving the real one answering nothing).
    #[test]
    fn replaying_a_script_gives_the_trace_run_prints() {
        let script = concat!(
            r#"{"session":{"widgetId":"w1"}}"#,
            "\n",
            r#"{"widget":{"api":"toWidget","widgetId":"w2","requestId":"c0","action":"capabilities","data":{},"response":{"capabilities":["m.always_on_screen"]}}}"#,
            "\n",
            r#"{"widget":{"action":"capabilities","response":{"capabilities":["m.always_on_screen"]}}}"#,
            "\n",
            r#"{"decision":{"approved":["m.always_on_screen"]}}"#,
            "\n",
            r#"{"widget":{"action":"notify_capabilities","response":{}}}"#,
            "\n",
        );
        for profile in Profile::ALL {
            let mut printed = Vec::new();
            capneg_model::run::run_script(profile, script.as_bytes(), &mut printed).unwrap();
            let printed = String::from_utf8(printed).unwrap();
            let session = Session::from_script(script.as_bytes()).unwrap();
            let mut client = Handler::new(profile, ClientKind::Reference);
            let run = run_session(profile, &session, &mut client);
            assert!(run.failure.is_none(), "{:?}", run.failure);
            assert_eq!(run.trace.join("\n") + "\n", printed, "{profile}");
            assert!(run.violations.is_empty(), "{:?}", run.violations);
            // The real answer was taken: a prompt, a decision, a notify and its ack follow.
            assert_eq!(run.trace.len(), 8, "{printed}");
        }
    }

    #[test]
    fn a_session_runs_with_ids_filled_in() {
        let session = Session {
            start: Start::new(Caps::NONE, false),
            steps: vec![
                Step::RequestCapabilities {
                    stable: false,
                    caps: Caps(1),
                },
                Step::AnswerCapabilities(Caps(0b11)),
                Step::Decide(Caps(0b01)),
                Step::AckNotify,
                Step::AckNotify,
                Step::Gated(Gated::AlwaysOnScreen(true)),
                Step::Gated(Gated::TextMessage),
                Step::Decide(Caps::ALL),
            ],
        };
        let mut client = Handler::new(Profile::MSC, ClientKind::Reference);
        let run = run_session(Profile::MSC, &session, &mut client);
        assert!(run.failure.is_none());
        assert!(run.violations.is_empty(), "{:?}", run.violations);
        let text = run.trace.join("\n");
        assert!(text.contains(r#""requestId":"c0","action":"capabilities","data":{},"response":{"capabilities":["m.always_on_screen","org.matrix.msc2762.send.event:m.room.message#m.text"]}"#), "{text}");
        assert!(
            text.contains(r#"{"decision":{"approved":["m.always_on_screen"]}}"#),
            "{text}"
        );
        // The early request is refused; one ack for the notify; the second AckNotify and the last
        // decision have nothing to act on.
        assert_eq!(run.trace.len(), 1 + 1 + 2 + 2 + 2 + 1 + 2 + 2, "{text}");
        assert_eq!(run.events.len(), run.trace.len() - 1);
    }
}
