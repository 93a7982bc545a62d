//! A widget under test on the wire: a [`TestWidget`] (the reference widget, or a deliberately
//! wrong one) with the [`Codec`] that reads the client's messages and writes the widget's
//! (docs/spec.md §9).
//!
//! Still sans-IO: [`WidgetSession`] takes JSON and gives back the envelopes the widget posts, in
//! order, and its view. `capneg run --side widget`, `capneg adapter --side widget`, the widget
//! vectors and the widget driver's reference side drive a widget through it.

use crate::echo::{read_posted, Echo};
use crate::rules::widget_mutants::{TestWidget, WidgetMutant};
use crate::script_input::ScriptSession;
use capneg_reference::msg::{Api, Body};
use capneg_reference::widget::WidgetInput;
use capneg_reference::Posted;
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::envelope::Envelope;
use capneg_wire::trace::{print_line, Key, ViewLine};
use serde_json::value::RawValue;

/// Something the widget posted.
#[derive(Clone, Debug, PartialEq)]
pub enum WidgetEmitted {
    /// A message posted to the client.
    Widget(Box<Envelope>),
    /// A message posted to the client that is not a well-formed envelope (never from the
    /// reference widget).
    Malformed(serde_json::Value),
}

impl WidgetEmitted {
    /// The trace line of this output (docs/spec.md §5).
    pub fn to_line(&self) -> String {
        match self {
            WidgetEmitted::Widget(env) => print_line(Key::Widget, &**env),
            WidgetEmitted::Malformed(value) => print_line(Key::Widget, value),
        }
    }
}

/// A widget of one session, reading and writing JSON.
#[derive(Clone, Debug)]
pub struct WidgetSession {
    codec: Codec,
    widget: TestWidget,
    out: Vec<Posted>,
}

impl WidgetSession {
    /// Starts the widget (`None`: the reference) of the session `widget_id`, whose application
    /// asks for `initial`; its first messages are appended to `emitted`.
    pub fn start(
        mutant: Option<WidgetMutant>,
        widget_id: &str,
        initial: &[String],
        emitted: &mut Vec<WidgetEmitted>,
    ) -> Self {
        let mut codec = Codec::new(widget_id);
        let initial = codec.cap_set(initial.iter().map(String::as_str));
        let mut out = Vec::new();
        let widget = TestWidget::start(mutant, initial, &mut out);
        let mut session = WidgetSession { codec, widget, out };
        session.flush(None, emitted);
        session
    }

    /// The widget's state.
    pub fn widget(&self) -> &TestWidget {
        &self.widget
    }

    /// The session's tables of strings.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The widget's view: the capabilities it believes approved, in order of first appearance.
    pub fn view(&self) -> Vec<String> {
        self.codec.caps.to_vec(self.widget.view())
    }

    /// The trace line of the widget's view (docs/spec.md §9.1).
    pub fn view_line(&self) -> String {
        print_line(
            Key::View,
            &ViewLine {
                approved: self.view(),
            },
        )
    }

    /// A message the client posted, as any JSON. What is not a well-formed envelope is ignored,
    /// as the widget ignores it.
    pub fn client(&mut self, json: &RawValue, emitted: &mut Vec<WidgetEmitted>) {
        let Some(msg) = read_posted(&mut self.codec, Poster::Client, json) else {
            return;
        };
        let echo = Echo::of(json, &msg);
        self.widget.handle(&WidgetInput::Client(msg), &mut self.out);
        self.flush(echo, emitted);
    }

    /// The application asks for more capabilities (MSC2974).
    pub fn app<'s>(
        &mut self,
        capabilities: impl IntoIterator<Item = &'s str>,
        emitted: &mut Vec<WidgetEmitted>,
    ) {
        let caps = self.codec.cap_set(capabilities);
        self.widget.handle(&WidgetInput::App(caps), &mut self.out);
        self.flush(None, emitted);
    }

    /// Turns the widget's outputs into wire messages. A response to the request just read
    /// (`echo`) echoes it exactly (data and extra fields included), unless it carries another
    /// widget's id; any other message is written from its compact form.
    fn flush(&mut self, echo: Option<Echo>, emitted: &mut Vec<WidgetEmitted>) {
        for posted in self.out.drain(..) {
            let msg = match posted {
                Ok(msg) => msg,
                Err(fault) => {
                    emitted.push(WidgetEmitted::Malformed(
                        self.codec.faulty_json(Poster::Widget, fault),
                    ));
                    continue;
                }
            };
            let answer = echo
                .as_ref()
                .filter(|_| !msg.foreign)
                .and_then(|e| e.answer(&self.codec, &msg));
            let env = match answer {
                Some(env) => env,
                None if matches!(msg.body, Body::Request(_)) && msg.api == Api::FromWidget => {
                    let env = self.codec.envelope(&msg);
                    self.codec.widget_ids.used(&env.request_id);
                    env
                }
                None => self.codec.envelope(&msg),
            };
            emitted.push(WidgetEmitted::Widget(Box::new(env)));
        }
    }
}

/// A widget's session runs a widget's script (`capneg run --side widget`).
impl ScriptSession for WidgetSession {
    type Emitted = WidgetEmitted;
    const SCRIPT_POSTER: Poster = Poster::Client;

    fn take(&mut self, message: &RawValue, emitted: &mut Vec<WidgetEmitted>) {
        self.client(message, emitted)
    }

    fn posted(emitted: &WidgetEmitted) -> Option<&Envelope> {
        match emitted {
            WidgetEmitted::Widget(env) => Some(env),
            WidgetEmitted::Malformed(_) => None,
        }
    }

    fn line(emitted: &WidgetEmitted) -> String {
        emitted.to_line()
    }

    /// The widget's view.
    fn after_outputs(&self) -> Option<String> {
        Some(self.view_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn the_reference_widget_on_the_wire() {
        let mut out = Vec::new();
        let mut w = WidgetSession::start(None, "w1", &["a".to_owned()], &mut out);
        assert_eq!(
            out.iter().map(WidgetEmitted::to_line).collect::<Vec<_>>(),
            [
                r#"{"widget":{"api":"fromWidget","widgetId":"w1","requestId":"w0","action":"supported_api_versions","data":{}}}"#
            ]
        );
        out.clear();
        w.client(
            &raw(r#"{"api":"toWidget","widgetId":"w1","requestId":"x","action":"capabilities","data":{},"extra":1}"#),
            &mut out,
        );
        assert_eq!(
            out.iter().map(WidgetEmitted::to_line).collect::<Vec<_>>(),
            [
                r#"{"widget":{"api":"toWidget","widgetId":"w1","requestId":"x","action":"capabilities","data":{},"response":{"capabilities":["a"]},"extra":1}}"#
            ]
        );
        out.clear();
        w.client(
            &raw(r#"{"api":"toWidget","widgetId":"w1","requestId":"y","action":"notify_capabilities","data":{"requested":["a"],"approved":["a"]}}"#),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(w.view(), ["a"]);
        assert_eq!(w.view_line(), r#"{"view":{"approved":["a"]}}"#);
    }
}
