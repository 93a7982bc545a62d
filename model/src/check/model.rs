//! The stateright model of one session (docs/spec.md §4, §7 `check`).
//!
//! A client under test (the reference under a profile, or a mutant) talks with a
//! nondeterministic widget and a nondeterministic user:
//! - the widget answers `capabilities` with any subset of a universe of capabilities; sends
//!   `request_capabilities` with any subset, up to a bound of rounds, at any time (also before the
//!   session is established and while earlier rounds are open); performs gated actions; asks for
//!   the supported versions; sends `content_loaded` where the session waits for it; acks notifies;
//! - the user answers the oldest open prompt with any subset of it;
//! - the client's requests reach the widget through a FIFO queue; the widget's messages reach
//!   the client as the widget posts them, and everything interleaves freely.
//!
//! Two reductions keep the state space small without losing a behaviour the client can tell
//! apart. A widget message is received when it is posted: delaying a post until the moment the
//! client receives it is always possible, so a queue from the widget adds only orderings the
//! client cannot see. And the client's responses are not queued to the widget: the widget
//! ignores them, so when it receives them changes nothing.
//!
//! The rules' [`Observer`] runs inside the model: it sees the widget's messages as the client
//! receives them, and the client's as it sends them. Each checked rule is an `always` property;
//! a terminal state also checks that nothing is left open. Every action spends a bounded budget
//! or drains a queue, so the model is acyclic and every path ends.
//!
//! The checker keeps each state packed ([`State`], [`super::packed`]): a step unpacks the
//! machines ([`Unpacked`]), runs them, and packs the result.

use super::packed::{Overflow, Packed, Scratch};
use super::symmetry::Twins;
use crate::rules::mutants::{ClientKind, TestClient};
use crate::rules::{Judge, Observer, Rule, RuleSet, Violation};
use capneg_reference::client::{Input, Setup};
use capneg_reference::fifo::Fifo;
use capneg_reference::msg::{
    Action, Api, Body, ClientMsg, Data, Msg, ReexchangeName, Reply, ReqId,
};
use capneg_reference::profile::{Profile, RateLimit, Redecline};
use capneg_reference::{CapSet, DeclinedPolicy, Event, Interner, Settings};
use stateright::{Model, Property};
use std::cell::RefCell;

thread_local! {
    /// The states this checker thread unpacked ([`Scratch`]).
    static SCRATCH: RefCell<Scratch<Unpacked>> = const { RefCell::new(Scratch::new()) };
    /// A step's buffers: the client's outputs, the rules broken.
    static BUFFERS: RefCell<Buffers> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// A step's buffers: the client's outputs, the rules broken.
type Buffers = (Vec<Event>, Vec<Violation<()>>);

/// What every step of a session reads and none changes: the client's setup and the rules'
/// judge, of the session's settings (made once for all the actions of a state).
struct StepContext {
    setup: Setup,
    judge: Judge,
}

/// The capability strings of the model's universe, in order; each gates `send_event` of its own
/// event type, so a gated action needs exactly one of them.
pub const UNIVERSE: [&str; 8] = [
    "org.matrix.msc2762.send.event:m.room.message#m.text",
    "org.matrix.msc2762.send.event:m.reaction",
    "org.matrix.msc2762.send.event:m.room.redaction",
    "org.matrix.msc2762.send.event:m.sticker",
    "org.matrix.msc2762.send.event:org.example.poll",
    "org.matrix.msc2762.send.event:org.example.vote",
    "org.matrix.msc2762.send.event:org.example.game",
    "org.matrix.msc2762.send.event:org.example.score",
];

/// The bounds of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// The number of capabilities in the universe (at most 8).
    pub caps: u8,
    /// The most re-exchange requests the widget sends.
    pub rounds: u8,
    /// The most gated actions the widget performs.
    pub gated: u8,
}

/// The default bounds of `capneg check`: 3 capabilities, 2 re-exchange rounds, 1 gated action.
impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            caps: 3,
            rounds: 2,
            gated: 1,
        }
    }
}

/// What the model checks: which client, judged by which rules.
#[derive(Clone, Debug)]
pub struct SessionModel {
    /// The client under test.
    pub client: ClientKind,
    /// The profile the client follows.
    pub client_profile: Profile,
    /// The profile the rules follow.
    pub rules_profile: Profile,
    /// The rules checked.
    pub rules: RuleSet,
    /// The bounds.
    pub bounds: Bounds,
    /// The session settings explored (each an initial state).
    pub settings: Vec<Settings>,
    /// Check only this rule (for the shortest counterexample of one rule).
    pub focus: Option<Rule>,
    /// The universe's strings.
    pub universe: Interner,
    /// Set once a state did not fit the packed form ([`Packed`]): the run was then not
    /// exhaustive.
    pub(super) overflow: Overflow,
    /// Whether a state's actions are only the first of each orbit of its symmetries
    /// ([`Twins`]): for a checker that reduces by symmetry, the others lead to duplicates.
    pub(super) first_of_orbits: bool,
}

impl SessionModel {
    /// The model of `client` under `client_profile`, judged by the rules of `rules_profile`,
    /// exploring every session setting the client profile gives a meaning to.
    pub fn new(
        client: ClientKind,
        client_profile: Profile,
        rules_profile: Profile,
        bounds: Bounds,
    ) -> Self {
        let caps = bounds.caps.min(UNIVERSE.len() as u8);
        let bounds = Bounds { caps, ..bounds };
        SessionModel {
            client,
            client_profile,
            rules_profile,
            rules: RuleSet::of_profile(&rules_profile),
            bounds,
            settings: settings(&client_profile, caps),
            focus: None,
            universe: Interner::with_names(UNIVERSE[..caps as usize].iter().copied()),
            overflow: Overflow::default(),
            first_of_orbits: false,
        }
    }

    /// `state` packed, with the rules broken on the way to it; `None` (and the model
    /// [`overflowed`](super::Checked::overflowed)) if it does not fit.
    pub fn pack(&self, state: &Unpacked, violated: RuleSet) -> Option<State> {
        self.overflow.pack(self, &REACHABLE, state, violated)
    }

    /// The same model, checking only `rule`.
    pub fn focused(&self, rule: Rule) -> Self {
        SessionModel {
            focus: Some(rule),
            ..self.clone()
        }
    }

    /// The context of every step of a session with `settings`.
    fn context(&self, settings: &Settings) -> StepContext {
        StepContext {
            setup: self.setup(settings),
            judge: self.judge(settings),
        }
    }

    fn setup(&self, settings: &Settings) -> Setup {
        Setup {
            profile: self.client_profile,
            settings: settings.clone(),
        }
    }

    /// The judge of a state's session.
    pub fn judge(&self, settings: &Settings) -> Judge {
        Judge {
            profile: self.rules_profile,
            rules: self.rules,
            settings: settings.clone(),
            prompts_recorded: true,
        }
    }

    fn all_caps(&self) -> u64 {
        (1u64 << self.bounds.caps) - 1
    }

    /// Replays a path of actions from an initial state, calling `sink` with each event in order
    /// (for printing a counterexample as a trace).
    pub fn replay(&self, init: &State, actions: &[Step], sink: &mut dyn FnMut(&Event)) {
        let mut state = *init;
        for ev in &init.value().initial_events(self) {
            sink(ev);
        }
        for &action in actions {
            let mut events = Vec::new();
            match self.step(&state, action, Some(&mut events)) {
                Some(next) => state = next,
                None => break,
            }
            for ev in &events {
                sink(ev);
            }
        }
    }

    /// Applies `action`; with `events`, records what happened.
    fn step(&self, state: &State, action: Step, events: Option<&mut Vec<Event>>) -> Option<State> {
        SCRATCH.with_borrow_mut(|scratch| {
            let next = scratch.work(state);
            let mut violated = state.violated();
            self.apply(next, &mut violated, action, events)?;
            self.pack(next, violated)
        })
    }

    /// Each action enabled in `state` and the state it leads to ([`Checked::expand`]): `state`
    /// is unpacked once for its actions, then again for each step but the last, which works
    /// on it; the client's setup and the judge are made once for all, and each next state is
    /// packed over the last.
    ///
    /// [`Checked::expand`]: super::Checked::expand
    pub(super) fn expand(
        &self,
        state: &State,
        actions: &mut Vec<Step>,
        next: &mut dyn FnMut(Step, &State),
    ) {
        let mut to = State::empty();
        SCRATCH.with_borrow_mut(|scratch| {
            let source = scratch.unpack_source(state);
            let context = self.context(&source.settings);
            self.enabled(source, actions);
            if self.first_of_orbits {
                Twins::retain_first_of_orbits(state.sets(), actions, Step::caps);
            }
            BUFFERS.with_borrow_mut(|buffers| {
                scratch.steps(state, actions, |action, work| {
                    let mut violated = state.violated();
                    if self
                        .apply_with(work, &mut violated, action, None, &context, buffers)
                        .is_some()
                        && self
                            .overflow
                            .pack_into(self, &REACHABLE, work, violated, &mut to)
                    {
                        next(action, &to);
                    }
                });
            });
        });
    }

    /// Applies `action` to the machines; the rules it breaks are added to `violated`.
    fn apply(
        &self,
        next: &mut Unpacked,
        violated: &mut RuleSet,
        action: Step,
        events: Option<&mut Vec<Event>>,
    ) -> Option<()> {
        let context = self.context(&next.settings);
        BUFFERS.with_borrow_mut(|buffers| {
            self.apply_with(next, violated, action, events, &context, buffers)
        })
    }

    /// [`SessionModel::apply`] with the context of `next`'s session and buffers (emptied first).
    fn apply_with(
        &self,
        next: &mut Unpacked,
        violated: &mut RuleSet,
        action: Step,
        mut events: Option<&mut Vec<Event>>,
        StepContext { setup, judge }: &StepContext,
        (out, found): &mut Buffers,
    ) -> Option<()> {
        out.clear();
        found.clear();
        let mut record = |e: &Event| {
            if let Some(ev) = events.as_deref_mut() {
                ev.push(e.clone())
            }
        };
        let widget_msg = match action {
            Step::ToWidget => {
                let msg = next.to_widget.pop_front()?;
                match msg {
                    Ok(msg) => next.widget.react(&msg),
                    Err(_) => None,
                }
            }
            Step::AnswerCapabilities(mask) => {
                let Some(Ok(msg)) = next.to_widget.pop_front() else {
                    return None;
                };
                let list = CapSet::from_mask(mask);
                next.widget.round0 = Some(list.clone());
                Some(Msg::response(
                    Api::ToWidget,
                    msg.id,
                    Action::Capabilities,
                    Reply::Capabilities(list),
                ))
            }
            Step::Request(mask) => {
                next.widget.rounds += 1;
                Some(next.widget.request(
                    Action::RequestCapabilities(ReexchangeName::Unstable),
                    Data::Capabilities(CapSet::from_mask(mask)),
                ))
            }
            Step::Gated(cap) => {
                next.widget.gated += 1;
                Some(
                    next.widget
                        .request(Action::SendEvent, Data::Gated(CapSet::from_mask(1 << cap))),
                )
            }
            Step::AskVersions => {
                next.widget.asked_versions = true;
                Some(
                    next.widget
                        .request(Action::SupportedApiVersions, Data::Empty),
                )
            }
            Step::ContentLoaded => {
                next.widget.loaded = true;
                Some(next.widget.request(Action::ContentLoaded, Data::Empty))
            }
            Step::Decide(_) => None,
        };
        if let Some(msg) = widget_msg {
            let event = Event::Widget(Ok(msg));
            next.observer.observe(judge, (), &event, found).ok()?;
            record(&event);
            let Event::Widget(Ok(msg)) = event else {
                unreachable!("a widget event")
            };
            next.client.handle(setup, &Input::Widget(msg), out).ok()?;
            next.emit(judge, out, found, &mut record);
        }
        if let Step::Decide(mask) = action {
            next.prompts.pop_front()?;
            let event = Event::Decision(CapSet::from_mask(mask));
            next.observer.observe(judge, (), &event, found).ok()?;
            record(&event);
            let Event::Decision(decision) = event else {
                unreachable!("a decision")
            };
            next.client
                .handle(setup, &Input::Decision(decision), out)
                .ok()?;
            next.emit(judge, out, found, &mut record);
        }
        if next.is_terminal(self) {
            next.observer.finish(judge, found);
        }
        for v in found.iter() {
            violated.insert(v.rule);
        }
        Some(())
    }

    /// The actions enabled in `s`.
    fn enabled(&self, s: &Unpacked, actions: &mut Vec<Step>) {
        let all = self.all_caps();
        match s.to_widget.front() {
            Some(Ok(m))
                if s.widget.round0.is_none()
                    && !m.foreign
                    && m.api == Api::ToWidget
                    && m.action == Action::Capabilities
                    && matches!(m.body, Body::Request(_)) =>
            {
                actions.extend((0..=all).map(Step::AnswerCapabilities))
            }
            Some(_) => actions.push(Step::ToWidget),
            None => {}
        }
        if s.widget.rounds < self.bounds.rounds {
            actions.extend((0..=all).map(Step::Request));
        }
        if s.widget.gated < self.bounds.gated {
            actions.extend((0..self.bounds.caps).map(Step::Gated));
        }
        if !s.widget.asked_versions {
            actions.push(Step::AskVersions);
        }
        if s.settings.wait_for_content_loaded && !s.widget.loaded {
            actions.push(Step::ContentLoaded);
        }
        if let Some(prompt) = s.prompts.front() {
            let p = prompt.mask();
            // Every subset of the prompt, in increasing order.
            let mut sub = 0u64;
            loop {
                actions.push(Step::Decide(sub));
                if sub == p {
                    break;
                }
                sub = (sub.wrapping_sub(p)) & p;
            }
        }
    }

    /// Serves the stateright Explorer over this model on 127.0.0.1 (blocks).
    pub fn explore(self, port: u16) {
        self.checker().serve(("127.0.0.1", port));
    }

    /// A readable summary of a state: the approved set, the open rounds, what is in flight.
    pub fn summary(&self, state: &State) -> String {
        let s = &state.value();
        let names = |set: &CapSet| format!("[{}]", self.universe.to_vec(set).join(", "));
        let client = s.client.client();
        let mut out = vec![
            format!("approved (last notify): {}", names(s.observer.approved())),
            format!("requested total: {}", names(s.observer.requested())),
            format!("open rounds: {}", s.observer.open_rounds()),
            format!(
                "client: {:?}, approved {}, declined {}",
                client.phase(),
                names(client.approved()),
                names(client.declined())
            ),
            format!(
                "prompts open: {}",
                s.prompts.iter().map(names).collect::<Vec<_>>().join(" ")
            ),
            format!("in flight to the widget: {}", s.to_widget.len()),
            format!(
                "widget: answered capabilities {}, {} of {} rounds, {} of {} gated",
                s.widget.round0.as_ref().map_or("not yet".to_owned(), names),
                s.widget.rounds,
                self.bounds.rounds,
                s.widget.gated,
                self.bounds.gated
            ),
        ];
        if !state.violated().is_empty() {
            out.push(format!("rules broken: {:?}", state.violated()));
        }
        out.join("\n")
    }

    /// The initial states: one per session setting.
    fn initial_states(&self) -> Vec<State> {
        self.settings
            .iter()
            .filter_map(|settings| {
                let setup = self.setup(settings);
                let judge = self.judge(settings);
                let mut out = Vec::new();
                let client = TestClient::start(self.client, &setup, &mut out);
                let mut state = Unpacked {
                    settings: settings.clone(),
                    client,
                    observer: Observer::new(),
                    to_widget: Fifo::new(),
                    prompts: Fifo::new(),
                    widget: WidgetSide::default(),
                };
                let mut found = Vec::new();
                state.emit(&judge, &mut out, &mut found, &mut |_| {});
                let violated = found.iter().map(|v| v.rule).collect();
                self.pack(&state, violated)
            })
            .collect()
    }
}

/// The session settings a client profile gives a meaning to: `autoApprove` empty or one
/// capability; `rateLimit` where the profile may limit; `waitForContentLoaded` off or on; the
/// declined policy where the profile leaves it to the client.
fn settings(profile: &Profile, caps: u8) -> Vec<Settings> {
    let autos: Vec<CapSet> = if caps > 0 {
        vec![CapSet::new(), CapSet::from_mask(1)]
    } else {
        vec![CapSet::new()]
    };
    let limits: &[bool] = match profile.rate_limit {
        RateLimit::WhereDeclared => &[false, true],
        RateLimit::Never => &[false],
    };
    let declined: &[DeclinedPolicy] = match profile.redecline {
        Redecline::ClientPolicy => &[DeclinedPolicy::Prompt, DeclinedPolicy::Deny],
        Redecline::PromptAgain => &[DeclinedPolicy::Prompt],
    };
    let mut out = Vec::new();
    for auto in &autos {
        for &rate_limit in limits {
            for wait in [false, true] {
                for &d in declined {
                    out.push(Settings {
                        auto_approve: auto.clone(),
                        rate_limit,
                        wait_for_content_loaded: wait,
                        declined: d,
                    });
                }
            }
        }
    }
    out
}

/// What the widget has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WidgetSide {
    next_id: u32,
    rounds: u8,
    gated: u8,
    asked_versions: bool,
    loaded: bool,
    /// Its answer to `capabilities`, once given.
    round0: Option<CapSet>,
    /// Whether its gated action was allowed, once answered.
    gated_allowed: Option<bool>,
}

capneg_reference::pack_fields!(WidgetSide {
    next_id,
    rounds,
    gated,
    asked_versions,
    loaded,
    round0,
    gated_allowed
});

impl WidgetSide {
    fn request(&mut self, action: Action, data: Data) -> Msg {
        let id = ReqId::Used(self.next_id);
        self.next_id += 1;
        Msg::request(Api::FromWidget, id, action, data)
    }

    /// The widget's answer to a client message other than the first `capabilities` request.
    fn react(&mut self, msg: &Msg) -> Option<Msg> {
        if msg.foreign || msg.api != Api::ToWidget {
            return None;
        }
        let Body::Request(_) = msg.body else {
            return None;
        };
        let reply = match msg.action {
            Action::Capabilities => Reply::Capabilities(self.round0.clone().unwrap_or_default()),
            Action::SupportedApiVersions => Reply::Versions { msc2974: false },
            _ => Reply::Ack,
        };
        Some(Msg::response(Api::ToWidget, msg.id, msg.action, reply))
    }
}

/// A state of the model, packed: the machines ([`Unpacked`]), the rules broken on the way
/// and the reachability goals ([`REACHABLE`]) it meets.
pub type State = Packed<Unpacked>;

/// A state of the model, unpacked: the machines and the queues between them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Unpacked {
    /// The session's settings.
    pub settings: Settings,
    /// The client under test.
    pub client: TestClient,
    /// The rules' observer (positions are recovered when a path is printed).
    pub observer: Observer<()>,
    /// Requests from the client, not yet received by the widget (responses are not queued:
    /// the widget ignores them).
    pub to_widget: Fifo<ClientMsg>,
    /// Prompts waiting for the user, oldest first.
    pub prompts: Fifo<CapSet>,
    /// The widget's side.
    pub widget: WidgetSide,
}

capneg_reference::pack_fields!(Unpacked {
    settings,
    client,
    observer,
    to_widget,
    prompts,
    widget
});

impl Unpacked {
    /// Feeds the client's outputs to the observer and the queues.
    fn emit(
        &mut self,
        judge: &Judge,
        out: &mut Vec<Event>,
        found: &mut Vec<Violation<()>>,
        record: &mut dyn FnMut(&Event),
    ) {
        for event in out.drain(..) {
            let _ = self.observer.observe(judge, (), &event, found);
            record(&event);
            match event {
                Event::Client(msg) => self.client_sends(msg),
                Event::Prompt(caps) => self.prompts.push_back(caps),
                Event::Widget(_) | Event::Decision(_) | Event::View(_) | Event::App(_) => {}
            }
        }
    }

    /// A client message, once observed: noted where it answers the widget's gated action, and
    /// queued for the widget unless it is a response (the widget ignores those).
    fn client_sends(&mut self, msg: ClientMsg) {
        if let Ok(m) = &msg {
            if let Some(Reply::EventSent) = m.reply() {
                self.widget.gated_allowed = Some(true);
            } else if m.action == Action::SendEvent && m.reply().is_some_and(Reply::is_error) {
                self.widget.gated_allowed = Some(false);
            }
            if m.reply().is_some() {
                return; // the widget ignores responses: they need no delivery
            }
        }
        self.to_widget.push_back(msg);
    }

    /// The events of the initial state (the client's first messages).
    fn initial_events(&self, model: &SessionModel) -> Vec<Event> {
        let setup = model.setup(&self.settings);
        let mut out = Vec::new();
        TestClient::start(model.client, &setup, &mut out);
        out
    }

    /// Whether no action is enabled: queues drained, no prompt open, the widget's budget spent.
    pub fn is_terminal(&self, model: &SessionModel) -> bool {
        self.to_widget.is_empty()
            && self.prompts.is_empty()
            && self.widget.rounds >= model.bounds.rounds
            && self.widget.gated >= model.bounds.gated
            && self.widget.asked_versions
            && (self.widget.loaded || !self.settings.wait_for_content_loaded)
    }
}

capneg_reference::cap_sets!(Unpacked { settings, client, observer, to_widget, prompts, widget.round0 });

/// An action of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The widget receives the client's oldest message and reacts (acks a notify, ...).
    ToWidget,
    /// The widget receives the `capabilities` request and answers with this subset.
    AnswerCapabilities(u64),
    /// The widget asks for this subset (MSC2974).
    Request(u64),
    /// The widget performs the gated action of this capability.
    Gated(u8),
    /// The widget asks for the supported versions.
    AskVersions,
    /// The widget says its content has loaded.
    ContentLoaded,
    /// The user answers the oldest prompt approving this subset of it.
    Decide(u64),
}

impl Step {
    /// The capabilities the action names, as a mask (`None`: it names none).
    pub fn caps(self) -> Option<u64> {
        match self {
            Step::AnswerCapabilities(m) | Step::Request(m) | Step::Decide(m) => Some(m),
            Step::Gated(c) => Some(1 << c),
            Step::ToWidget | Step::AskVersions | Step::ContentLoaded => None,
        }
    }
}

/// A condition on a state of the model.
pub type Condition = fn(&SessionModel, &State) -> bool;

/// A condition on an unpacked state of the model.
pub type Goal = super::packed::Goal<SessionModel, Unpacked>;

/// The `sometimes` properties: interesting paths that must be reachable, so that no rule holds
/// vacuously. Each is checked when a state is packed, and kept in it ([`Packed::reached`]).
pub const REACHABLE: [(&str, Goal); 5] = [
    ("a re-request approved", |_, s| {
        s.widget
            .round0
            .as_ref()
            .is_some_and(|r0| !s.observer.approved().is_subset(r0))
    }),
    ("a declined capability asked again", |_, s| {
        s.prompts
            .iter()
            .any(|p| p.intersects(s.client.client().declined()))
    }),
    ("two rounds open at once", |_, s| {
        s.observer.open_rounds() >= 2
    }),
    ("a gated action allowed", |_, s| {
        s.widget.gated_allowed == Some(true)
    }),
    ("a gated action denied", |_, s| {
        s.widget.gated_allowed == Some(false)
    }),
];

fn holds<const I: usize>(_: &SessionModel, s: &State) -> bool {
    !s.violated().contains(Rule::ALL[I])
}

fn reached<const I: usize>(_: &SessionModel, s: &State) -> bool {
    s.reached(I)
}

/// The `sometimes` property of each goal of [`REACHABLE`].
const REACHED: [Condition; REACHABLE.len()] = [
    reached::<0>,
    reached::<1>,
    reached::<2>,
    reached::<3>,
    reached::<4>,
];

/// The `always` property of each rule, in the order of docs/spec.md §4.
pub const RULE_PROPERTIES: [Condition; 19] = [
    holds::<0>,
    holds::<1>,
    holds::<2>,
    holds::<3>,
    holds::<4>,
    holds::<5>,
    holds::<6>,
    holds::<7>,
    holds::<8>,
    holds::<9>,
    holds::<10>,
    holds::<11>,
    holds::<12>,
    holds::<13>,
    holds::<14>,
    holds::<15>,
    holds::<16>,
    holds::<17>,
    holds::<18>,
];

impl Model for SessionModel {
    type State = State;
    type Action = Step;

    fn init_states(&self) -> Vec<State> {
        self.initial_states()
    }

    fn actions(&self, state: &State, actions: &mut Vec<Step>) {
        SCRATCH.with_borrow_mut(|scratch| {
            self.enabled(scratch.source(state), actions);
            if self.first_of_orbits {
                Twins::retain_first_of_orbits(state.sets(), actions, Step::caps);
            }
            scratch.expect(actions.len());
        });
    }

    fn next_state(&self, s: &State, action: Step) -> Option<State> {
        self.step(s, action, None)
    }

    fn format_action(&self, action: &Step) -> String {
        let names = |mask: u64| self.universe.to_vec(&CapSet::from_mask(mask)).join(", ");
        match *action {
            Step::ToWidget => "the widget receives the client's next message".into(),
            Step::AnswerCapabilities(m) => {
                format!("the widget answers capabilities with [{}]", names(m))
            }
            Step::Request(m) => {
                format!("the widget asks for [{}] (request_capabilities)", names(m))
            }
            Step::Gated(c) => format!("the widget sends an event gated by {}", names(1 << c)),
            Step::AskVersions => "the widget asks for the supported versions".into(),
            Step::ContentLoaded => "the widget says its content loaded".into(),
            Step::Decide(m) => format!("the user approves [{}]", names(m)),
        }
    }

    fn format_step(&self, last: &State, action: Step) -> Option<String> {
        let mut events = Vec::new();
        let next = self.step(last, action, Some(&mut events))?;
        let mut printer = super::printer::TracePrinter::new(&self.universe);
        let mut out: Vec<String> = events.iter().map(|e| printer.line(e)).collect();
        out.push(String::new());
        out.push(self.summary(&next));
        Some(out.join("\n"))
    }

    fn as_svg(&self, path: stateright::Path<State, Step>) -> Option<String> {
        let states = path.clone().into_states();
        let actions = path.into_actions();
        let mut lines = Vec::new();
        let mut printer = super::printer::TracePrinter::new(&self.universe);
        self.replay(&states[0], &actions, &mut |e| lines.push(printer.line(e)));
        lines.push(String::new());
        lines.extend(self.summary(states.last()?).lines().map(str::to_owned));
        let height = 20 * lines.len() + 20;
        let mut svg = format!(
            "<svg version='1.1' baseProfile='full' width='1600' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
        );
        for (i, line) in lines.iter().enumerate() {
            let text = line
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            svg.push_str(&format!(
                "<text x='4' y='{}' font-family='monospace' font-size='12'>{text}</text>",
                20 * i + 16
            ));
        }
        svg.push_str("</svg>");
        Some(svg)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props = Vec::new();
        for (i, rule) in Rule::ALL.into_iter().enumerate() {
            let checked = match self.focus {
                Some(f) => f == rule,
                None => self.rules.contains(rule),
            };
            if checked {
                props.push(Property::always(rule.id(), RULE_PROPERTIES[i]));
            }
        }
        if self.focus.is_none() {
            for ((name, _), cond) in REACHABLE.into_iter().zip(REACHED) {
                props.push(Property::sometimes(name, cond));
            }
        }
        props
    }
}
