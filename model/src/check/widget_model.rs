//! The stateright model of one session judged on the widget's side (docs/spec.md §9,
//! `check --side widget`).
//!
//! A widget under test (the reference widget, or a widget mutant) talks with the reference
//! client of a profile, a nondeterministic user and a nondeterministic application:
//! - the application asks for any subset of a universe of capabilities when the widget starts,
//!   and for any subset again, up to a bound of rounds, at any time (MSC2974);
//! - the user answers the client's oldest open prompt with any subset of it;
//! - each side's messages reach the other through a FIFO queue, and everything interleaves
//!   freely.
//!
//! The events are recorded as the widget sees them, as a widget-side adapter records them: the
//! client's messages when the widget receives them, the widget's when it posts them, its view
//! after each of its steps, and the application's requests. The rules' [`Observer`] judges them
//! by the widget's rules (docs/spec.md §9.2); each is an `always` property, and a terminal state
//! also checks that nothing is left unanswered. Every action spends a bounded budget or drains a
//! queue, so the model is acyclic and every path ends.
//!
//! The checker keeps each state packed ([`WidgetState`], [`super::packed`]), as the client's
//! model does.

use super::packed::{Overflow, Packed, Scratch};
use super::symmetry::Twins;
use crate::rules::widget_mutants::{TestWidget, WidgetMutant};
use crate::rules::{Judge, Observer, Rule, RuleSet, Side, Violation};
use capneg_reference::client::{Client, Input, Output, Setup};
use capneg_reference::fifo::Fifo;
use capneg_reference::msg::Msg;
use capneg_reference::pack::{Pack, Packer, Unpacker};
use capneg_reference::widget::WidgetInput;
use capneg_reference::{CapSet, Event, Interner, Posted, Profile, Settings};
use stateright::{Model, Property};
use std::cell::RefCell;

thread_local! {
    /// The states this checker thread unpacked ([`Scratch`]).
    static SCRATCH: RefCell<Scratch<WidgetUnpacked>> = const { RefCell::new(Scratch::new()) };
}

pub use super::model::{Bounds, UNIVERSE};

/// What the model checks: which widget, with the reference client of which profile.
#[derive(Clone, Debug)]
pub struct WidgetModel {
    /// The widget under test (`None`: the reference widget).
    pub widget: Option<WidgetMutant>,
    /// The profile of the reference client the widget talks with.
    pub profile: Profile,
    /// The widget rules checked.
    pub rules: RuleSet,
    /// The bounds (`rounds`: the application's requests after it started; `gated` is not used).
    pub bounds: Bounds,
    /// Check only this rule (for the shortest counterexample of one rule).
    pub focus: Option<Rule>,
    /// The universe's strings.
    pub universe: Interner,
    /// Set once a state did not fit the packed form.
    pub(super) overflow: Overflow,
    /// Whether a state's actions are only the first of each orbit of its symmetries
    /// ([`Twins`]): for a checker that reduces by symmetry, the others lead to duplicates.
    pub(super) first_of_orbits: bool,
}

impl WidgetModel {
    /// The model of `widget` with the reference client of `profile`, judged by every widget
    /// rule.
    pub fn new(widget: Option<WidgetMutant>, profile: Profile, bounds: Bounds) -> Self {
        let caps = bounds.caps.min(UNIVERSE.len() as u8);
        WidgetModel {
            widget,
            profile,
            rules: RuleSet::of(&profile, Side::Widget),
            bounds: Bounds { caps, ..bounds },
            focus: None,
            universe: Interner::with_names(UNIVERSE[..caps as usize].iter().copied()),
            overflow: Overflow::default(),
            first_of_orbits: false,
        }
    }

    /// `state` packed, with the rules broken on the way to it; `None` (and the model
    /// [`overflowed`](super::Checked::overflowed)) if it does not fit.
    pub fn pack(&self, state: &WidgetUnpacked, violated: RuleSet) -> Option<WidgetState> {
        self.overflow.pack(self, &WIDGET_REACHABLE, state, violated)
    }

    /// The same model, checking only `rule`.
    pub fn focused(&self, rule: Rule) -> Self {
        WidgetModel {
            focus: Some(rule),
            ..self.clone()
        }
    }

    /// The client's settings: the defaults (the client asks for capabilities at once).
    pub fn settings(&self) -> Settings {
        Settings::default()
    }

    fn setup(&self) -> Setup {
        Setup {
            profile: self.profile,
            settings: self.settings(),
        }
    }

    /// The judge of the widget's side.
    pub fn judge(&self) -> Judge {
        Judge {
            profile: self.profile,
            rules: self.rules,
            settings: self.settings(),
            prompts_recorded: true,
        }
    }

    fn all_caps(&self) -> u64 {
        (1u64 << self.bounds.caps) - 1
    }

    /// Replays a path of actions from an initial state, calling `sink` with each event in order
    /// (for printing a counterexample as a trace).
    pub fn replay(&self, init: &WidgetState, actions: &[WidgetStep], sink: &mut dyn FnMut(&Event)) {
        for ev in &self.initial(init.value().initial).1 {
            sink(ev);
        }
        let mut state = *init;
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

    /// The initial state where the application first asks for `initial`, and its events.
    fn initial(&self, initial: CapSet) -> (WidgetUnpacked, Vec<Event>) {
        let setup = self.setup();
        let judge = self.judge();
        let mut client_out = Vec::new();
        let client = Client::start(&setup, &mut client_out);
        let mut widget_out = Vec::new();
        let widget = TestWidget::start(self.widget, initial.clone(), &mut widget_out);
        let mut state = WidgetUnpacked {
            initial,
            client,
            widget,
            observer: Observer::new(),
            violated: RuleSet::EMPTY,
            to_widget: Fifo::new(),
            to_client: Fifo::new(),
            prompts: Fifo::new(),
            app_rounds: 0,
        };
        let mut events = Vec::new();
        let mut found = Vec::new();
        state.widget_posts(&judge, widget_out, &mut found, &mut events);
        state.client_outputs(client_out);
        state.note(&found);
        (state, events)
    }

    /// Applies `action`; with `events`, records what the widget saw and did.
    fn step(
        &self,
        state: &WidgetState,
        action: WidgetStep,
        events: Option<&mut Vec<Event>>,
    ) -> Option<WidgetState> {
        SCRATCH.with_borrow_mut(|scratch| {
            let next = scratch.work(state);
            next.violated = state.violated();
            self.apply(next, action, events)?;
            self.pack(next, next.violated)
        })
    }

    /// Each action enabled in `state` and the state it leads to ([`Checked::expand`]): `state`
    /// is unpacked once for its actions, then again for each step but the last, which works
    /// on it, and each next state is packed over the last.
    ///
    /// [`Checked::expand`]: super::Checked::expand
    pub(super) fn expand(
        &self,
        state: &WidgetState,
        actions: &mut Vec<WidgetStep>,
        next: &mut dyn FnMut(WidgetStep, &WidgetState),
    ) {
        let mut to = WidgetState::empty();
        SCRATCH.with_borrow_mut(|scratch| {
            self.enabled(scratch.unpack_source(state), actions);
            if self.first_of_orbits {
                Twins::retain_first_of_orbits(state.sets(), actions, WidgetStep::caps);
            }
            scratch.steps(state, actions, |action, work| {
                work.violated = state.violated();
                if self.apply(work, action, None).is_some()
                    && self.overflow.pack_into(
                        self,
                        &WIDGET_REACHABLE,
                        work,
                        work.violated,
                        &mut to,
                    )
                {
                    next(action, &to);
                }
            });
        });
    }

    /// Applies `action` to the machines; the rules it breaks are added to `next.violated`.
    fn apply(
        &self,
        next: &mut WidgetUnpacked,
        action: WidgetStep,
        events: Option<&mut Vec<Event>>,
    ) -> Option<()> {
        let setup = self.setup();
        let judge = self.judge();
        let mut found = Vec::new();
        let mut recorded = Vec::new();
        match action {
            WidgetStep::ToWidget => {
                let msg = next.to_widget.pop_front()?;
                let event = Event::Client(Ok(msg));
                next.observer.observe(&judge, (), &event, &mut found).ok()?;
                recorded.push(event);
                let Some(Event::Client(Ok(msg))) = recorded.last() else {
                    unreachable!("the client's message")
                };
                let input = WidgetInput::Client(msg.clone());
                next.widget_step(&judge, &input, &mut found, &mut recorded);
            }
            WidgetStep::ToClient => {
                // What is not a message the client can read is dropped.
                if let Ok(msg) = next.to_client.pop_front()? {
                    let mut out = Vec::new();
                    next.client
                        .handle(&setup, &Input::Widget(msg), &mut out)
                        .ok()?;
                    next.client_outputs(out);
                }
            }
            WidgetStep::Decide(mask) => {
                next.prompts.pop_front()?;
                let mut out = Vec::new();
                next.client
                    .handle(&setup, &Input::Decision(CapSet::from_mask(mask)), &mut out)
                    .ok()?;
                next.client_outputs(out);
            }
            WidgetStep::App(mask) => {
                next.app_rounds += 1;
                let caps = CapSet::from_mask(mask);
                let event = Event::App(caps.clone());
                next.observer.observe(&judge, (), &event, &mut found).ok()?;
                recorded.push(event);
                next.widget_step(&judge, &WidgetInput::App(caps), &mut found, &mut recorded);
            }
        }
        if next.is_terminal(self) {
            next.observer.finish(&judge, &mut found);
        }
        next.note(&found);
        if let Some(events) = events {
            events.extend(recorded);
        }
        Some(())
    }

    /// A readable summary of a state.
    pub fn summary(&self, state: &WidgetState) -> String {
        let s = &state.value();
        let names = |set: &CapSet| format!("[{}]", self.universe.to_vec(set).join(", "));
        let w = s.widget.inner();
        let mut out = vec![
            format!("widget view: {}", names(s.widget.view())),
            format!(
                "widget: {} notifies, answered capabilities {}, msc2974 advertised {:?}, held {}",
                w.notifies(),
                w.answered_capabilities(),
                w.client_supports_reexchange(),
                names(w.held())
            ),
            format!(
                "client: {:?}, approved {}",
                s.client.phase(),
                names(s.client.approved())
            ),
            format!(
                "in flight: {} to the widget, {} to the client; prompts open: {}",
                s.to_widget.len(),
                s.to_client.len(),
                s.prompts.len()
            ),
            format!(
                "application: {} of {} requests",
                s.app_rounds, self.bounds.rounds
            ),
        ];
        if !state.violated().is_empty() {
            out.push(format!("rules broken: {:?}", state.violated()));
        }
        out.join("\n")
    }
}

/// A state of the widget model, packed: the machines ([`WidgetUnpacked`]), the rules broken on
/// the way and the reachability goals ([`WIDGET_REACHABLE`]) it meets.
pub type WidgetState = Packed<WidgetUnpacked>;

/// A state of the widget model, unpacked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WidgetUnpacked {
    /// What the application asked for when the widget started.
    pub initial: CapSet,
    /// The reference client.
    pub client: Client,
    /// The widget under test.
    pub widget: TestWidget,
    /// The rules' observer, fed what the widget sees and does.
    pub observer: Observer<()>,
    /// The rules broken on the way here (kept beside the packed bytes, not in them).
    pub violated: RuleSet,
    /// The client's messages, not yet received by the widget.
    pub to_widget: Fifo<Msg>,
    /// The widget's messages, not yet received by the client.
    pub to_client: Fifo<Posted>,
    /// The client's prompts waiting for the user, oldest first.
    pub prompts: Fifo<CapSet>,
    /// The application's requests so far (after the start).
    pub app_rounds: u8,
}

/// Everything but `violated`, which the packed state keeps beside its bytes.
impl Pack for WidgetUnpacked {
    fn pack(&self, p: &mut Packer<'_>) {
        self.initial.pack(p);
        self.client.pack(p);
        self.widget.pack(p);
        self.observer.pack(p);
        self.to_widget.pack(p);
        self.to_client.pack(p);
        self.prompts.pack(p);
        self.app_rounds.pack(p);
    }
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(WidgetUnpacked {
            initial: Pack::unpack(u)?,
            client: Pack::unpack(u)?,
            widget: Pack::unpack(u)?,
            observer: Pack::unpack(u)?,
            violated: RuleSet::EMPTY,
            to_widget: Pack::unpack(u)?,
            to_client: Pack::unpack(u)?,
            prompts: Pack::unpack(u)?,
            app_rounds: Pack::unpack(u)?,
        })
    }
    fn unpack_into(&mut self, u: &mut Unpacker<'_>) -> Option<()> {
        self.initial.unpack_into(u)?;
        self.client.unpack_into(u)?;
        self.widget.unpack_into(u)?;
        self.observer.unpack_into(u)?;
        self.violated = RuleSet::EMPTY;
        self.to_widget.unpack_into(u)?;
        self.to_client.unpack_into(u)?;
        self.prompts.unpack_into(u)?;
        self.app_rounds.unpack_into(u)
    }
}

impl WidgetUnpacked {
    /// The widget takes `input`: its messages are observed and queued, then its view.
    fn widget_step(
        &mut self,
        judge: &Judge,
        input: &WidgetInput,
        found: &mut Vec<Violation<()>>,
        events: &mut Vec<Event>,
    ) {
        let mut out = Vec::new();
        self.widget.handle(input, &mut out);
        self.widget_posts(judge, out, found, events);
        let view = Event::View(self.widget.view().clone());
        let _ = self.observer.observe(judge, (), &view, found);
        events.push(view);
    }

    fn widget_posts(
        &mut self,
        judge: &Judge,
        out: Vec<Posted>,
        found: &mut Vec<Violation<()>>,
        events: &mut Vec<Event>,
    ) {
        for posted in out {
            let event = Event::Widget(posted);
            let _ = self.observer.observe(judge, (), &event, found);
            let Event::Widget(posted) = &event else {
                unreachable!("the widget's message")
            };
            self.to_client.push_back(posted.clone());
            events.push(event);
        }
    }

    fn client_outputs(&mut self, out: Vec<Output>) {
        for output in out {
            match output {
                Output::Send(msg) => self.to_widget.push_back(msg),
                Output::Prompt(caps) => self.prompts.push_back(caps),
            }
        }
    }

    fn note(&mut self, found: &[Violation<()>]) {
        for v in found {
            self.violated.insert(v.rule);
        }
    }

    /// Whether no action is enabled: queues drained, no prompt open, the application's budget
    /// spent.
    pub fn is_terminal(&self, model: &WidgetModel) -> bool {
        self.to_widget.is_empty()
            && self.to_client.is_empty()
            && self.prompts.is_empty()
            && self.app_rounds >= model.bounds.rounds
    }
}

capneg_reference::cap_sets!(WidgetUnpacked {
    initial,
    client,
    widget,
    observer,
    to_widget,
    to_client,
    prompts
});

/// An action of the widget model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WidgetStep {
    /// The widget receives the client's oldest message in flight.
    ToWidget,
    /// The client receives the widget's oldest message in flight.
    ToClient,
    /// The user answers the oldest prompt approving this subset of it.
    Decide(u64),
    /// The application asks for this subset (MSC2974).
    App(u64),
}

impl WidgetStep {
    /// The capabilities the action names, as a mask (`None`: it names none).
    pub fn caps(self) -> Option<u64> {
        match self {
            WidgetStep::Decide(m) | WidgetStep::App(m) => Some(m),
            WidgetStep::ToWidget | WidgetStep::ToClient => None,
        }
    }
}

/// A condition on a state of the widget model.
pub type WidgetCondition = fn(&WidgetModel, &WidgetState) -> bool;

/// A condition on an unpacked state of the widget model.
pub type WidgetGoal = super::packed::Goal<WidgetModel, WidgetUnpacked>;

/// The `sometimes` properties: interesting paths that must be reachable, so that no rule holds
/// vacuously. Each is checked when a state is packed, and kept in it ([`Packed::reached`]).
pub const WIDGET_REACHABLE: [(&str, WidgetGoal); 4] = [
    ("a second notify received", |_, s| {
        s.widget.inner().notifies() >= 2
    }),
    ("a request held for the client's advertisement", |_, s| {
        !s.widget.inner().held().is_empty()
    }),
    ("an approval beyond the first list", |_, s| {
        !s.widget.inner().approved().is_subset(&s.initial)
    }),
    ("a capability declined", |_, s| {
        s.widget.inner().notifies() > 0
            && !s
                .widget
                .inner()
                .reported_requested()
                .is_subset(s.widget.inner().approved())
    }),
];

fn holds<const I: usize>(_: &WidgetModel, s: &WidgetState) -> bool {
    !s.violated().contains(WIDGET_RULES[I])
}

fn reached<const I: usize>(_: &WidgetModel, s: &WidgetState) -> bool {
    s.reached(I)
}

/// The `sometimes` property of each goal of [`WIDGET_REACHABLE`].
const WIDGET_REACHED: [WidgetCondition; WIDGET_REACHABLE.len()] =
    [reached::<0>, reached::<1>, reached::<2>, reached::<3>];

/// The widget's rules, in the order of docs/spec.md §9.2: the last of [`Rule::ALL`].
pub const WIDGET_RULES: &[Rule] = Rule::ALL
    .as_slice()
    .split_at(Rule::WidgetWellFormedMessage as usize)
    .1;

/// The `always` property of each widget rule, in the order of [`WIDGET_RULES`].
pub const WIDGET_RULE_PROPERTIES: [WidgetCondition; WIDGET_RULES.len()] = [
    holds::<0>, holds::<1>, holds::<2>, holds::<3>, holds::<4>, holds::<5>, holds::<6>, holds::<7>,
];

impl WidgetModel {
    /// The actions enabled in `s`.
    fn enabled(&self, s: &WidgetUnpacked, actions: &mut Vec<WidgetStep>) {
        if !s.to_widget.is_empty() {
            actions.push(WidgetStep::ToWidget);
        }
        if !s.to_client.is_empty() {
            actions.push(WidgetStep::ToClient);
        }
        if s.app_rounds < self.bounds.rounds {
            actions.extend((1..=self.all_caps()).map(WidgetStep::App));
        }
        if let Some(prompt) = s.prompts.front() {
            let p = prompt.mask();
            // Every subset of the prompt, in increasing order.
            let mut sub = 0u64;
            loop {
                actions.push(WidgetStep::Decide(sub));
                if sub == p {
                    break;
                }
                sub = (sub.wrapping_sub(p)) & p;
            }
        }
    }
}

impl Model for WidgetModel {
    type State = WidgetState;
    type Action = WidgetStep;

    fn init_states(&self) -> Vec<WidgetState> {
        (0..=self.all_caps())
            .filter_map(|mask| {
                let state = self.initial(CapSet::from_mask(mask)).0;
                self.pack(&state, state.violated)
            })
            .collect()
    }

    fn actions(&self, state: &WidgetState, actions: &mut Vec<WidgetStep>) {
        SCRATCH.with_borrow_mut(|scratch| {
            self.enabled(scratch.source(state), actions);
            if self.first_of_orbits {
                Twins::retain_first_of_orbits(state.sets(), actions, WidgetStep::caps);
            }
            scratch.expect(actions.len());
        });
    }

    fn next_state(&self, s: &WidgetState, action: WidgetStep) -> Option<WidgetState> {
        self.step(s, action, None)
    }

    fn format_action(&self, action: &WidgetStep) -> String {
        let names = |mask: u64| self.universe.to_vec(&CapSet::from_mask(mask)).join(", ");
        match *action {
            WidgetStep::ToWidget => "the widget receives the client's next message".into(),
            WidgetStep::ToClient => "the client receives the widget's next message".into(),
            WidgetStep::Decide(m) => format!("the user approves [{}]", names(m)),
            WidgetStep::App(m) => format!("the application asks for [{}]", names(m)),
        }
    }

    fn format_step(&self, last: &WidgetState, action: WidgetStep) -> Option<String> {
        let mut events = Vec::new();
        let next = self.step(last, action, Some(&mut events))?;
        let mut printer = super::printer::TracePrinter::new(&self.universe);
        let mut out: Vec<String> = events.iter().map(|e| printer.line(e)).collect();
        out.push(String::new());
        out.push(self.summary(&next));
        Some(out.join("\n"))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props = Vec::new();
        for (i, &rule) in WIDGET_RULES.iter().enumerate() {
            let checked = match self.focus {
                Some(f) => f == rule,
                None => self.rules.contains(rule),
            };
            if checked {
                props.push(Property::always(rule.id(), WIDGET_RULE_PROPERTIES[i]));
            }
        }
        if self.focus.is_none() {
            for ((name, _), cond) in WIDGET_REACHABLE.into_iter().zip(WIDGET_REACHED) {
                props.push(Property::sometimes(name, cond));
            }
        }
        props
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;

    fn small() -> Bounds {
        Bounds {
            caps: 2,
            rounds: 2,
            gated: 0,
        }
    }

    #[test]
    fn the_widget_rules_are_every_rule_of_the_widget_side() {
        let widget: Vec<Rule> = Rule::ALL
            .into_iter()
            .filter(|r| r.side() == Side::Widget)
            .collect();
        assert_eq!(widget, WIDGET_RULES);
    }

    #[test]
    fn the_reference_widget_keeps_every_widget_rule() {
        for profile in Profile::ALL {
            let model = WidgetModel::new(None, profile, small());
            let checker = model.checker().spawn_dfs().join();
            for rule in WIDGET_RULES {
                assert!(
                    checker.discovery(rule.id()).is_none(),
                    "{}: {rule} broken",
                    profile.name
                );
            }
            assert!(checker.is_done());
        }
    }

    /// The state counts of the default bounds (3 capabilities, 2 requests of the application),
    /// reduced by symmetry: a change to the model or the machines shows here first.
    #[test]
    fn state_counts_are_pinned() {
        let bounds = Bounds {
            caps: 3,
            rounds: 2,
            gated: 0,
        };
        for (profile, unique, second_notify) in [
            (Profile::MSC, 57_353, true),
            (Profile::WIDGET_API, 80_812, true),
            (Profile::LEGACY, 1_686, false),
        ] {
            let model = WidgetModel::new(None, profile, bounds);
            let checker = model.checker().symmetry().spawn_dfs().join();
            assert!(checker.is_done());
            assert_eq!(checker.unique_state_count(), unique, "{}", profile.name);
            for (name, _) in WIDGET_REACHABLE {
                let expected = second_notify || name != "a second notify received";
                assert_eq!(
                    checker.discovery(name).is_some(),
                    expected,
                    "{}: {name}",
                    profile.name
                );
            }
        }
    }

    #[test]
    fn every_widget_mutant_is_caught_by_its_rule() {
        for (profile, mutant) in WidgetMutant::checked() {
            let model = WidgetModel::new(Some(mutant), profile, small()).focused(mutant.target());
            let checker = model.checker().spawn_bfs().join();
            assert!(
                checker.discovery(mutant.target().id()).is_some(),
                "{}: {mutant} not caught by {}",
                profile.name,
                mutant.target()
            );
        }
    }
}
