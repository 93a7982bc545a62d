//! The reference client on the wire: a [`Client`] with the [`Codec`] that reads the widget's
//! messages and writes the client's.
//!
//! Still sans-IO: [`ClientSession`] takes JSON and gives back the envelopes and prompts the
//! client emits, in order. `capneg run`, `capneg adapter` and the conformance vectors drive the
//! reference through it.

use capneg_reference::client::{Client, Input, Machine, Output, Policy, Setup, StepError};
use capneg_reference::msg::{Api, Body};
use capneg_reference::profile::{DeclinedPolicy, Profile};
use capneg_wire::codec::{counter_id, Codec, Poster};
use capneg_wire::envelope::{Envelope, EnvelopeView};
use capneg_wire::trace::{print_line, Key, PromptLine, SessionLine};
use serde_json::value::RawValue;

/// The settings of one session (a trace's `session` line, an adapter's `start`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// The widget's id.
    pub widget_id: String,
    /// Capabilities approved without asking.
    pub auto_approve: Vec<String>,
    /// Whether the session declares a rate limit.
    pub rate_limit: bool,
    /// Whether the client waits for `content_loaded`.
    pub wait_for_content_loaded: bool,
    /// The client's policy for a capability declined before.
    pub declined: DeclinedPolicy,
}

impl SessionConfig {
    /// The default settings for `widget_id`.
    pub fn new(widget_id: impl Into<String>) -> Self {
        SessionConfig {
            widget_id: widget_id.into(),
            auto_approve: Vec::new(),
            rate_limit: false,
            wait_for_content_loaded: false,
            declined: DeclinedPolicy::Prompt,
        }
    }

    /// The settings of a `session` line, with `default_widget` where it names no widget.
    pub fn from_line(line: &SessionLine, default_widget: &str) -> Self {
        SessionConfig {
            widget_id: line
                .widget_id
                .clone()
                .unwrap_or_else(|| default_widget.to_owned()),
            auto_approve: line.auto_approve.clone(),
            rate_limit: line.rate_limit,
            wait_for_content_loaded: line.wait_for_content_loaded,
            declined: line.declined.unwrap_or_default(),
        }
    }

    /// These settings as a `session` line with prompts recorded.
    pub fn to_line(&self) -> SessionLine {
        SessionLine {
            widget_id: Some(self.widget_id.clone()),
            prompts: Some(capneg_wire::trace::Prompts::Recorded),
            auto_approve: self.auto_approve.clone(),
            rate_limit: self.rate_limit,
            wait_for_content_loaded: self.wait_for_content_loaded,
            declined: (self.declined != DeclinedPolicy::default()).then_some(self.declined),
        }
    }
}

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
    /// The trace line of this output (SPEC §5).
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

/// A client of one session, reading and writing JSON: the reference [`Client`] by default, or
/// any [`Machine`].
#[derive(Clone, Debug)]
pub struct ClientSession<M: Machine = Client> {
    setup: Setup,
    codec: Codec,
    client: M,
    out: Vec<Output>,
}

impl<M: Machine> ClientSession<M> {
    /// Starts a session; the client's first messages are appended to `emitted`.
    pub fn start(profile: Profile, config: &SessionConfig, emitted: &mut Vec<Emitted>) -> Self {
        Self::start_with(profile, config, M::start, emitted)
    }

    /// Starts a session with a machine made by `start` (for machines that need more than the
    /// setup to start, such as a particular mutant).
    pub fn start_with(
        profile: Profile,
        config: &SessionConfig,
        start: impl FnOnce(&Setup, &mut Vec<Output>) -> M,
        emitted: &mut Vec<Emitted>,
    ) -> Self {
        let mut codec = Codec::new(config.widget_id.clone());
        let auto_approve = codec.cap_set(config.auto_approve.iter().map(String::as_str));
        let setup = Setup {
            profile,
            policy: Policy {
                auto_approve,
                rate_limit: config.rate_limit,
                wait_for_content_loaded: config.wait_for_content_loaded,
                declined: config.declined,
            },
        };
        let mut out = Vec::new();
        let client = start(&setup, &mut out);
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
    pub fn client(&self) -> &M {
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
        let Some(view) = EnvelopeView::parse(json) else {
            return;
        };
        let Ok(msg) = self.codec.read(Poster::Widget, &view) else {
            return;
        };
        let request = (msg.api, msg.id, msg.action);
        let handled = self
            .client
            .handle(&self.setup, &Input::Widget(msg), &mut self.out);
        debug_assert!(handled.is_ok(), "widget messages are always taken");
        self.flush(Some((json, request)), emitted);
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
    /// echoes it exactly (data and extra fields included); any other message, and a response
    /// that answers something else (never from the reference), is written from its compact form.
    #[allow(clippy::type_complexity)]
    fn flush(
        &mut self,
        request: Option<(
            &RawValue,
            (
                Api,
                capneg_reference::msg::Id,
                capneg_reference::msg::Action,
            ),
        )>,
        emitted: &mut Vec<Emitted>,
    ) {
        let echo: Option<(Envelope, _)> =
            request.and_then(|(raw, key)| serde_json::from_str(raw.get()).ok().map(|e| (e, key)));
        for output in self.out.drain(..) {
            match output {
                Output::Prompt(caps) => {
                    emitted.push(Emitted::Prompt(self.codec.caps.to_vec(&caps)))
                }
                Output::Malformed(fault) => {
                    emitted.push(Emitted::Malformed(self.codec.faulty_json(fault)))
                }
                Output::Send(msg) => {
                    let env = match (&msg.body, &echo) {
                        (Body::Response(reply), Some((request, key)))
                            if *key == (msg.api, msg.id, msg.action) =>
                        {
                            request.respond(self.codec.reply_json(reply, &request.request_id))
                        }
                        (Body::Request(_), _) if msg.api == Api::ToWidget => {
                            self.codec.client_ids.intern(&counter_id(msg.api, msg.id));
                            self.codec.envelope(&msg)
                        }
                        _ => self.codec.envelope(&msg),
                    };
                    emitted.push(Emitted::Client(Box::new(env)));
                }
            }
        }
    }
}
