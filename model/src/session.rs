//! A client under test on the wire: a [`TestClient`] (the reference client, or a deliberately
//! wrong one) with the [`Codec`] that reads the widget's messages and writes the client's.
//!
//! Still sans-IO: [`ClientSession`] takes JSON and gives back the envelopes and prompts the
//! client emits, in order. `capneg run`, `capneg adapter`, the conformance vectors and the
//! differential driver's reference side drive a client through it.

use crate::echo::{read_posted, Echo};
use crate::rules::mutants::{ClientKind, TestClient};
use crate::script_input::ScriptSession;
use capneg_reference::client::{Input, Setup, StepError};
use capneg_reference::msg::{Api, Body};
use capneg_reference::{Event, Profile, Settings};
use capneg_wire::codec::{counter_id, Codec, Poster};
use capneg_wire::envelope::Envelope;
use capneg_wire::trace::{print_line, Key, PromptLine};
use serde_json::value::RawValue;

/// Something the client emitted.
#[derive(Clone, Debug, PartialEq)]
pub enum Emitted {
    /// A message posted to the widget.
    Client(Box<Envelope>),
    /// A prompt: the capabilities the user is asked about.
    Prompt(Vec<String>),
    /// A message posted to the widget that is not a well-formed envelope (never from the
    /// reference client).
    Malformed(serde_json::Value),
}

impl Emitted {
    /// The trace line of this output (docs/spec.md §5).
    pub fn to_line(&self) -> String {
        match self {
            Emitted::Client(env) => print_line(Key::Client, &**env),
            Emitted::Malformed(value) => print_line(Key::Client, value),
            Emitted::Prompt(caps) => print_line(
                Key::Prompt,
                &PromptLine {
                    capabilities: caps.clone(),
                },
            ),
        }
    }
}

/// A client of one session, reading and writing JSON.
#[derive(Clone, Debug)]
pub struct ClientSession {
    setup: Setup,
    codec: Codec,
    client: TestClient,
    out: Vec<Event>,
}

impl ClientSession {
    /// Starts a session of the widget `widget_id` with a client of `kind` under `profile`; the
    /// client's first messages are appended to `emitted`.
    pub fn start(
        kind: ClientKind,
        profile: Profile,
        widget_id: &str,
        settings: &Settings<Vec<String>>,
        emitted: &mut Vec<Emitted>,
    ) -> Self {
        let mut codec = Codec::new(widget_id);
        let settings = settings
            .as_ref()
            .map_caps(|names| codec.cap_set(names.iter().map(String::as_str)));
        let setup = Setup { profile, settings };
        let mut out = Vec::new();
        let client = TestClient::start(kind, &setup, &mut out);
        let mut session = ClientSession {
            setup,
            codec,
            client,
            out,
        };
        session.flush(None, emitted);
        session
    }

    /// The client's state.
    pub fn client(&self) -> &TestClient {
        &self.client
    }

    /// The session's tables of strings.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The profile and policy.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// A message the widget posted, as any JSON. What is not a well-formed envelope is ignored,
    /// as the client ignores it.
    pub fn widget(&mut self, json: &RawValue, emitted: &mut Vec<Emitted>) {
        let Some(msg) = read_posted(&mut self.codec, Poster::Widget, json) else {
            return;
        };
        let echo = Echo::of(json, &msg);
        let handled = self
            .client
            .handle(&self.setup, &Input::Widget(msg), &mut self.out);
        debug_assert!(handled.is_ok(), "widget messages are always taken");
        self.flush(echo, emitted);
    }

    /// The user's answer to the oldest open prompt.
    pub fn decision<'s>(
        &mut self,
        approved: impl IntoIterator<Item = &'s str>,
        emitted: &mut Vec<Emitted>,
    ) -> Result<(), StepError> {
        let approved = self.codec.cap_set(approved);
        self.client
            .handle(&self.setup, &Input::Decision(approved), &mut self.out)?;
        self.flush(None, emitted);
        Ok(())
    }

    /// Whether a prompt is open.
    pub fn prompt_open(&self) -> bool {
        self.client.prompt_open()
    }

    /// Turns the client's outputs into wire messages. A response to the request just read
    /// (`echo`) echoes it exactly (data and extra fields included); any other message, and a
    /// response that answers something else (never from the reference), is written from its
    /// compact form.
    fn flush(&mut self, echo: Option<Echo>, emitted: &mut Vec<Emitted>) {
        for output in self.out.drain(..) {
            match output {
                Event::Prompt(caps) => emitted.push(Emitted::Prompt(self.codec.caps.to_vec(&caps))),
                Event::Client(Err(fault)) => emitted.push(Emitted::Malformed(
                    self.codec.faulty_json(Poster::Client, fault),
                )),
                Event::Widget(_) | Event::Decision(_) | Event::View(_) | Event::App(_) => {}
                Event::Client(Ok(msg)) => {
                    let answer = echo.as_ref().and_then(|e| e.answer(&self.codec, &msg));
                    let env = match answer {
                        Some(env) => env,
                        None if matches!(msg.body, Body::Request(_))
                            && msg.api == Api::ToWidget =>
                        {
                            self.codec.client_ids.used(&counter_id(msg.api, msg.id));
                            self.codec.envelope(&msg)
                        }
                        None => self.codec.envelope(&msg),
                    };
                    emitted.push(Emitted::Client(Box::new(env)));
                }
            }
        }
    }
}

/// A client's session runs a client's script (`capneg run`).
impl ScriptSession for ClientSession {
    type Emitted = Emitted;
    const SCRIPT_POSTER: Poster = Poster::Widget;

    fn take(&mut self, message: &RawValue, emitted: &mut Vec<Emitted>) {
        self.widget(message, emitted)
    }

    fn posted(emitted: &Emitted) -> Option<&Envelope> {
        match emitted {
            Emitted::Client(env) => Some(env),
            Emitted::Prompt(_) | Emitted::Malformed(_) => None,
        }
    }

    fn line(emitted: &Emitted) -> String {
        emitted.to_line()
    }

    fn after_outputs(&self) -> Option<String> {
        None
    }
}
