//! Exhaustive model checking of the rules (`capneg check`, docs/spec.md §7.3).
//!
//! Two models: [`model`] judges a client under test by the client's rules, with a
//! nondeterministic widget; [`widget_model`] judges a widget under test by the widget's rules
//! (docs/spec.md §9.2), with the reference client. Both are run the same way ([`Checked`]).
//!
//! One exhaustive run (depth-first, a root per thread, reduced by the symmetry of
//! interchangeable capabilities: capneg's own search, `depth_first`, which explores what
//! stateright's depth-first checker explores) settles which rules hold. For each rule that does
//! not, a breadth-first search for that rule alone, reduced by symmetry too ([`breadth_first`]),
//! finds a shortest counterexample, which is replayed into a trace (docs/spec.md §5) and judged
//! again by the observer to name the line that breaks the rule.
//!
//! The exhaustive run judges every rule and goal through one [`Watch`], which notes which rules
//! break and which goals are reached; a path is recorded only for a rule found broken, once.
//! Where stateright's checker runs (the widget model on several threads), the watch is a
//! property of its own ([`Stoppable::watched`]): stateright looks each property up in its table
//! of discoveries at every state, so a property per rule and per goal would cost more than the
//! model's own step.
//!
//! A run can be split ([`Part`]): the initial states are independent roots of the search, and
//! part `I` of `N` explores every `N`-th of them.
//!
//! A check can be stopped early ([`check_until`], a flag `capneg check` sets on Ctrl-C): the runs
//! are of [`Stoppable`], the model whose boundary closes once the flag is seen: the exhaustive search
//! ends at its next state, the other searches (and stateright's threads) run out of new states
//! and end, and the report says what was found so far.

use crate::rules::mutants::ClientKind;
use crate::rules::widget_mutants::WidgetMutant;
use crate::rules::{Judge, Line, Rule, RuleSet};
use capneg_reference::{Event, Interner, Profile};
use model::{Bounds, SessionModel, State, Step, REACHABLE};
use printer::{diagram, judge_events, TracePrinter};
use widget_model::{WidgetModel, WidgetState, WidgetStep, WIDGET_REACHABLE};

pub mod breadth_first;
mod depth_first;
pub mod fingerprint;
pub mod model;
pub mod packed;
pub mod printer;
mod roots;
pub mod symmetry;
pub mod widget_model;
use stateright::{Checker, Expectation, Model, Property};

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What is under test: a client, judged by the client's rules, or a widget, judged by the
/// widget's (docs/spec.md §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A client: the reference, or a mutant.
    Client(ClientKind),
    /// A widget: the reference (`None`), or a widget mutant; it talks with the reference client
    /// of the client profile.
    Widget(Option<WidgetMutant>),
}

/// What to check.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// What is under test.
    pub subject: Subject,
    /// The profile the client follows (for a widget under test: the reference client's).
    pub client_profile: Profile,
    /// The profile the rules follow.
    pub rules_profile: Profile,
    /// The bounds.
    pub bounds: Bounds,
    /// Checker threads.
    pub threads: usize,
    /// Whether to reduce by symmetry.
    pub symmetry: bool,
    /// Whether to search a shortest counterexample for each violated rule.
    pub counterexamples: bool,
    /// Whether to also run without the symmetry reduction, to measure its factor.
    pub measure_symmetry: bool,
    /// Only this part of the initial states (`None`: all of them).
    pub part: Option<Part>,
}

/// A share of a run (`capneg check --part I/N`): part `index` of `count` explores the initial
/// states (the roots of the search: the session settings, or the widget model's first
/// requests) whose place in the model's order, from 0, is `index - 1` modulo `count`. The parts
/// of a run together explore every root; each is exhaustive for its own roots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// Which part, from 1.
    pub index: usize,
    /// Of how many.
    pub count: usize,
}

impl Part {
    /// Whether the root at `place` (from 0) is in this part.
    pub fn has(self, place: usize) -> bool {
        place % self.count == self.index - 1
    }
}

impl std::str::FromStr for Part {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a part I/N with 1 <= I <= N");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Part { index, count })
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl CheckConfig {
    /// `client` under its profile, judged by the rules of the same profile, default bounds.
    pub fn new(client: ClientKind, profile: Profile) -> Self {
        CheckConfig::of(Subject::Client(client), profile)
    }

    /// `subject` with the reference client of `profile` or under it, judged by the rules of
    /// the same profile, default bounds.
    pub fn of(subject: Subject, profile: Profile) -> Self {
        CheckConfig {
            subject,
            client_profile: profile,
            rules_profile: profile,
            bounds: Bounds::default(),
            threads: 1,
            symmetry: true,
            counterexamples: true,
            measure_symmetry: false,
            part: None,
        }
    }

    /// The client model of this configuration (for a widget under test: the reference
    /// client's model).
    pub fn model(&self) -> SessionModel {
        let client = match self.subject {
            Subject::Client(client) => client,
            Subject::Widget(_) => ClientKind::Reference,
        };
        SessionModel::new(client, self.client_profile, self.rules_profile, self.bounds)
    }

    /// The widget model of this configuration (for a client under test: the reference
    /// widget's).
    pub fn widget_model(&self) -> WidgetModel {
        let widget = match self.subject {
            Subject::Widget(widget) => widget,
            Subject::Client(_) => None,
        };
        WidgetModel::new(widget, self.client_profile, self.bounds)
    }
}

/// A model the checker runs: the client's ([`SessionModel`]) or the widget's
/// ([`WidgetModel`]).
pub trait Checked:
    Model<
        State: fingerprint::Classed + Eq + Clone + std::fmt::Debug + Send + Sync + 'static,
        Action: Clone + std::fmt::Debug + std::hash::Hash + Eq + Send + Sync + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
    /// The rules it checks, in the order of docs/spec.md §4 and §9.2.
    fn rules(&self) -> RuleSet;
    /// The same model, checking only `rule`.
    fn focused(&self, rule: Rule) -> Self;
    /// The number of initial states that are session settings (1 for the widget model).
    fn settings_count(&self) -> usize;
    /// The names of the `sometimes` properties.
    fn reachable(&self) -> Vec<&'static str>;
    /// Whether some state did not fit the packed form (the run then skipped it).
    fn overflowed(&self) -> bool;
    /// Whether no state is reachable from two initial states, up to symmetry, so that each
    /// root can be checked alone and the unique states of the roots add up to the whole run's.
    fn disjoint_roots(&self) -> bool;
    /// Replays a path from `init` and prints it as a trace, naming the line that breaks `rule`.
    fn counterexample(
        &self,
        rule: Rule,
        init: &Self::State,
        actions: &[Self::Action],
    ) -> Counterexample;
    /// The same model, giving only the first action of each orbit of a state's symmetries
    /// ([`symmetry::Twins`]), for a checker that reduces by symmetry: the other actions lead
    /// to states of the same classes, duplicates it would generate and drop. The run is the
    /// same, state for state, less those duplicates.
    fn first_of_orbits(&self) -> Self;
    /// Calls `next` with each action enabled in `state` and the state it leads to, in the
    /// order of [`Model::actions`] (an action that leads nowhere is left out); `actions` is a
    /// buffer. It is asking for the actions and then for each next state, which is what this
    /// default does; a model may do it at a lower cost, preparing once what every step from
    /// `state` needs, and lending each next state where it was made, for the caller to copy
    /// only those it keeps (capneg's search, `check::depth_first`, expands states with it).
    fn expand(
        &self,
        state: &Self::State,
        actions: &mut Vec<Self::Action>,
        next: &mut dyn FnMut(Self::Action, &Self::State),
    ) {
        self.actions(state, actions);
        for action in actions.drain(..) {
            if let Some(to) = self.next_state(state, action.clone()) {
                next(action, &to);
            }
        }
    }
}

impl Checked for SessionModel {
    fn rules(&self) -> RuleSet {
        self.rules
    }
    fn focused(&self, rule: Rule) -> Self {
        SessionModel::focused(self, rule)
    }
    fn settings_count(&self) -> usize {
        self.settings.len()
    }
    fn reachable(&self) -> Vec<&'static str> {
        REACHABLE.iter().map(|(name, _)| *name).collect()
    }
    fn overflowed(&self) -> bool {
        self.overflow.happened()
    }
    /// The roots are the session settings: every state holds its own, unchanged, and no two
    /// settings are images of each other under a renaming of capabilities (they differ in a
    /// flag, or one auto-approves a capability and the other none).
    fn disjoint_roots(&self) -> bool {
        true
    }
    fn first_of_orbits(&self) -> Self {
        SessionModel {
            first_of_orbits: true,
            ..self.clone()
        }
    }
    fn counterexample(&self, rule: Rule, init: &State, actions: &[Step]) -> Counterexample {
        counterexample(self, rule, init, actions)
    }
    fn expand(&self, state: &State, actions: &mut Vec<Step>, next: &mut dyn FnMut(Step, &State)) {
        SessionModel::expand(self, state, actions, next)
    }
}

impl Checked for WidgetModel {
    fn rules(&self) -> RuleSet {
        self.rules
    }
    fn focused(&self, rule: Rule) -> Self {
        WidgetModel::focused(self, rule)
    }
    fn settings_count(&self) -> usize {
        1
    }
    fn reachable(&self) -> Vec<&'static str> {
        WIDGET_REACHABLE.iter().map(|(name, _)| *name).collect()
    }
    fn overflowed(&self) -> bool {
        self.overflow.happened()
    }
    /// The roots are the application's first requests, images of each other under a renaming
    /// of capabilities: the symmetry reduction merges their states.
    fn disjoint_roots(&self) -> bool {
        false
    }
    fn first_of_orbits(&self) -> Self {
        WidgetModel {
            first_of_orbits: true,
            ..self.clone()
        }
    }
    fn expand(
        &self,
        state: &WidgetState,
        actions: &mut Vec<WidgetStep>,
        next: &mut dyn FnMut(WidgetStep, &WidgetState),
    ) {
        WidgetModel::expand(self, state, actions, next)
    }
    fn counterexample(
        &self,
        rule: Rule,
        init: &WidgetState,
        actions: &[WidgetStep],
    ) -> Counterexample {
        let mut events = Vec::new();
        self.replay(init, actions, &mut |e: &Event| events.push(e.clone()));
        let printer = TracePrinter::new(&self.universe);
        let session = printer.widget_session_line();
        printed(
            &self.judge(),
            &self.universe,
            printer,
            session,
            &events,
            rule,
        )
    }
}

/// Progress of a run, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Which run: the exhaustive one, or the search for a counterexample of a rule.
    pub phase: Phase,
    /// Unique states so far.
    pub unique: usize,
    /// Time so far.
    pub elapsed: Duration,
}

/// A run of the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The exhaustive run over all rules.
    Exhaustive,
    /// The shortest counterexample of one rule.
    Counterexample(Rule),
    /// The run without the symmetry reduction, measuring its factor.
    Unreduced,
}

/// A shortest counterexample.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The trace, line by line (docs/spec.md §5).
    pub lines: Vec<String>,
    /// The line of the event that breaks the rule (one past the last line for an obligation left
    /// open at the end).
    pub line: Line,
    /// Why, in words.
    pub reason: String,
    /// The trace as a Mermaid sequence diagram.
    pub diagram: String,
    /// Whether it is a shortest one: not when the check was stopped before the search for a
    /// shortest one ended (then it is the path the exhaustive run found).
    pub shortest: bool,
}

/// The verdict on a rule.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// No reachable state breaks it.
    Holds,
    /// Some path breaks it (with a counterexample, where one was searched).
    Violated(Option<Box<Counterexample>>),
    /// The check was stopped before it ended, and no state explored so far breaks it: it may hold
    /// or not.
    Unsettled,
}

/// The report of a check.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The configuration checked.
    pub config: CheckConfig,
    /// The number of session settings of the model.
    pub settings: usize,
    /// The initial states explored (those of the part, if the run is one).
    pub roots: usize,
    /// The initial states of the whole model.
    pub all_roots: usize,
    /// Each checked rule, in the order of docs/spec.md §4.
    pub rules: Vec<(Rule, Verdict)>,
    /// Each reachability goal, and whether a path reaches it.
    pub reachable: Vec<(&'static str, bool)>,
    /// States generated by the exhaustive run.
    pub generated: usize,
    /// Unique states (symmetry classes where reduced).
    pub unique: usize,
    /// The longest path.
    pub max_depth: usize,
    /// Time of the exhaustive run.
    pub elapsed: Duration,
    /// Whether the exhaustive run explored every state reachable from its roots (from all of
    /// them, or from those of its part).
    pub exhaustive: bool,
    /// Whether some state did not fit the packed form and was skipped (then not exhaustive).
    pub overflowed: bool,
    /// Whether the check was stopped before it ended ([`check_until`]): the exhaustive run
    /// (then not [`exhaustive`](CheckReport::exhaustive)), or a search for a counterexample, or
    /// the run without the symmetry reduction (then not measured).
    pub interrupted: bool,
    /// Unique states of a run without the symmetry reduction, where measured.
    pub unreduced: Option<usize>,
    /// Time of the run without the symmetry reduction, where measured.
    pub unreduced_elapsed: Option<Duration>,
}

impl CheckReport {
    /// Whether every checked rule holds.
    pub fn all_hold(&self) -> bool {
        self.rules.iter().all(|(_, v)| matches!(v, Verdict::Holds))
    }

    /// The rules some path breaks.
    pub fn violated(&self) -> Vec<Rule> {
        self.rules
            .iter()
            .filter(|(_, v)| matches!(v, Verdict::Violated(_)))
            .map(|(r, _)| *r)
            .collect()
    }

    /// The symmetry reduction factor: unique states without the reduction over unique states
    /// with it, where measured.
    pub fn symmetry_factor(&self) -> Option<f64> {
        self.unreduced.map(|u| u as f64 / self.unique.max(1) as f64)
    }

    /// Unique states per second.
    pub fn rate(&self) -> f64 {
        self.unique as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A name no property has: finishing when it is discovered means never finishing early.
const NEVER: &str = "(exhaustive)";

/// How often a run reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The longest pause between two looks at whether a run has ended: its end is seen within it, so
/// that the time a check reports is the run's and not the watcher's sleep (a run of the default
/// bounds takes a few tenths of a second; a look costs a few microseconds).
const POLL_AT_MOST: Duration = Duration::from_millis(2);

/// Starts a run (`spawn`) and waits for it to finish ([`announce`], [`wait`]). The checker,
/// and whether it was stopped.
fn run<M: Model, C: Checker<Stoppable<M>>>(
    spawn: impl FnOnce() -> C,
    halt: &AtomicBool,
    stop: &AtomicBool,
    phase: Phase,
    progress: &mut dyn FnMut(Progress),
) -> (C, bool) {
    let start = announce(phase, halt, stop, progress);
    let checker = spawn();
    wait(
        start,
        || checker.is_done(),
        || checker.unique_state_count(),
        halt,
        stop,
        phase,
        progress,
    );
    (checker.join(), halt.load(Ordering::Relaxed))
}

/// Reports that a run of `phase` starts, and closes its boundary (`halt`) at once if `stop` is
/// already set. When it started.
fn announce(
    phase: Phase,
    halt: &AtomicBool,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Instant {
    progress(Progress {
        phase,
        unique: 0,
        elapsed: Duration::ZERO,
    });
    if stop.load(Ordering::Relaxed) {
        halt.store(true, Ordering::Relaxed);
    }
    Instant::now()
}

/// Waits until a run started at `start` is `done`, reporting its `unique` states about every
/// [`PROGRESS_EVERY`]; once `stop` is set, closes the boundary of its model (`halt`) so that it
/// ends early.
///
/// The polls come quickly (1 ms, then every [`POLL_AT_MOST`]): the searches for
/// counterexamples often end within milliseconds, `capneg vectors` runs dozens of them, and the
/// time of a run is measured once it is seen to have ended.
fn wait(
    start: Instant,
    done: impl Fn() -> bool,
    unique: impl Fn() -> usize,
    halt: &AtomicBool,
    stop: &AtomicBool,
    phase: Phase,
    progress: &mut dyn FnMut(Progress),
) {
    let mut pause = Duration::from_millis(1);
    let mut reported = Duration::ZERO;
    while !done() {
        if stop.load(Ordering::Relaxed) {
            halt.store(true, Ordering::Relaxed);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL_AT_MOST);
        let elapsed = start.elapsed();
        if elapsed >= reported + PROGRESS_EVERY {
            reported = elapsed;
            progress(Progress {
                phase,
                unique: unique(),
                elapsed,
            });
        }
    }
}

/// Runs the check to the end.
pub fn check(config: &CheckConfig, progress: &mut dyn FnMut(Progress)) -> CheckReport {
    check_until(config, progress, &AtomicBool::new(false))
}

/// Runs the check until it ends or `stop` is set (`capneg check` sets it on Ctrl-C), whichever
/// comes first. Once `stop` is set (seen within 2 ms), the run under way ends early and none
/// after it starts: the report has what was found so far, with
/// [`interrupted`](CheckReport::interrupted) set. A rule broken in the exhaustive run is
/// violated whatever comes after; its counterexample is then the path that run found (not
/// always the shortest, [`Counterexample::shortest`]) when the search for a shortest one was
/// stopped. A rule not broken is [`Verdict::Unsettled`] when the exhaustive run was stopped.
pub fn check_until(
    config: &CheckConfig,
    progress: &mut dyn FnMut(Progress),
    stop: &AtomicBool,
) -> CheckReport {
    match config.subject {
        Subject::Client(_) => check_model(config, config.model(), progress, stop),
        Subject::Widget(_) => check_model(config, config.widget_model(), progress, stop),
    }
}

/// [`check_until`] on `model`.
fn check_model<M: Checked>(
    config: &CheckConfig,
    model: M,
    progress: &mut dyn FnMut(Progress),
    stop: &AtomicBool,
) -> CheckReport {
    let settings = model.settings_count();
    let all_roots = model.init_states().len();
    let roots = (0..all_roots)
        .filter(|&i| config.part.is_none_or(|p| p.has(i)))
        .count();
    let rules: Vec<Rule> = model.rules().iter().collect();
    let watch = Arc::new(Watch::default());
    let start = Instant::now();
    let explored = roots::explore(
        &model,
        config,
        config.symmetry,
        &watch,
        stop,
        Phase::Exhaustive,
        progress,
    );
    let stopped = explored.stopped;
    let elapsed = start.elapsed();
    let discoveries = &explored.discoveries;
    let names: Vec<&'static str> = model.properties().iter().map(|p| p.name).collect();
    let seen = watch.seen.load(Ordering::Relaxed);
    let discovered = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| seen & 1 << i != 0)
    };
    let verdicts = rules
        .iter()
        .map(|&rule| {
            let verdict = if !discovered(rule.id()) {
                if stopped {
                    Verdict::Unsettled
                } else {
                    Verdict::Holds
                }
            } else if !config.counterexamples {
                Verdict::Violated(None)
            } else {
                let shortest = if stop.load(Ordering::Relaxed) {
                    None
                } else {
                    shortest_path(&model, config.part, rule, config.symmetry, progress, stop)
                        .map(|(init, actions)| model.counterexample(rule, &init, &actions))
                };
                // Stopped before the search ended: the exhaustive run's path instead, where it
                // recorded one.
                let cx = shortest.or_else(|| {
                    let (init, actions) = discoveries.get(rule.id())?;
                    let mut cx = model.counterexample(rule, init, actions);
                    cx.shortest = false;
                    Some(cx)
                });
                Verdict::Violated(cx.map(Box::new))
            };
            (rule, verdict)
        })
        .collect();
    let mut unreduced_elapsed = None;
    let unreduced = (config.symmetry && config.measure_symmetry && !stop.load(Ordering::Relaxed))
        .then(|| {
            let start = Instant::now();
            let unreduced = roots::explore(
                &model,
                config,
                false,
                &Arc::new(Watch::default()),
                stop,
                Phase::Unreduced,
                progress,
            );
            unreduced_elapsed = Some(start.elapsed());
            (!unreduced.stopped).then_some(unreduced.unique)
        })
        .flatten();
    let overflowed = model.overflowed();
    CheckReport {
        unreduced,
        unreduced_elapsed: unreduced.and(unreduced_elapsed),
        config: config.clone(),
        settings,
        roots,
        all_roots,
        rules: verdicts,
        reachable: model
            .reachable()
            .into_iter()
            .map(|name| (name, discovered(name)))
            .collect(),
        generated: explored.generated,
        unique: explored.unique,
        max_depth: explored.max_depth,
        elapsed,
        exhaustive: explored.done && !stopped && !overflowed,
        overflowed,
        interrupted: stop.load(Ordering::Relaxed),
    }
}

/// A shortest path that breaks `rule`, as a trace; `None` if no path breaks it. The search
/// ([`breadth_first`]) reduces by symmetry and runs on one thread, so that the counterexample
/// printed is always the same one.
pub fn shortest<M: Checked>(
    model: &M,
    rule: Rule,
    progress: &mut dyn FnMut(Progress),
) -> Option<Counterexample> {
    let (init, actions) =
        shortest_path(model, None, rule, true, progress, &AtomicBool::new(false))?;
    Some(model.counterexample(rule, &init, &actions))
}

/// A shortest path from the roots of `part` that breaks `rule`, reduced by symmetry or not;
/// `None` if there is none, or once `stop` is set.
fn shortest_path<M: Checked>(
    model: &M,
    part: Option<Part>,
    rule: Rule,
    symmetry: bool,
    progress: &mut dyn FnMut(Progress),
    stop: &AtomicBool,
) -> Option<breadth_first::Path<M>> {
    let halt = Arc::new(AtomicBool::new(false));
    let focused = model.focused(rule);
    let focused = if symmetry {
        focused.first_of_orbits()
    } else {
        focused
    };
    let searched = Stoppable::new(focused, &halt).part(part);
    let (_, _, holds) = *searched
        .properties
        .iter()
        .find(|(_, name, _)| *name == rule.id())?;
    let broken = |s: &M::State| !holds(&searched.model, s);
    let unique = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let phase = Phase::Counterexample(rule);
    let start = announce(phase, &halt, stop, progress);
    let found = std::thread::scope(|scope| {
        let search = scope.spawn(|| {
            let found = breadth_first::shortest_path(&searched, broken, symmetry, &unique);
            done.store(true, Ordering::Relaxed);
            found
        });
        wait(
            start,
            || done.load(Ordering::Relaxed),
            || unique.load(Ordering::Relaxed),
            &halt,
            stop,
            phase,
            progress,
        );
        search
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    if halt.load(Ordering::Relaxed) {
        return None;
    }
    found
}

/// Replays a path and prints it as a trace, naming the line that breaks `rule`.
pub fn counterexample(
    model: &SessionModel,
    rule: Rule,
    init: &State,
    actions: &[Step],
) -> Counterexample {
    let mut events = Vec::new();
    model.replay(init, actions, &mut |e: &Event| events.push(e.clone()));
    let printer = TracePrinter::new(&model.universe);
    let settings = init.value().settings;
    let session = printer.session_line(&settings);
    printed(
        &model.judge(&settings),
        &model.universe,
        printer,
        session,
        &events,
        rule,
    )
}

/// A path's events printed as a trace after its `session` line, judged by `judge` to name the
/// line that breaks `rule`.
fn printed(
    judge: &Judge,
    universe: &Interner,
    mut printer: TracePrinter,
    session: String,
    events: &[Event],
    rule: Rule,
) -> Counterexample {
    let mut lines = vec![session];
    lines.extend(events.iter().map(|e| printer.line(e)));
    let found = judge_events(judge, events);
    let end = Line::new(lines.len() as u32 + 1).unwrap_or(Line::FIRST);
    let (line, reason) = found
        .iter()
        .find(|(_, v)| v.rule == rule)
        .map(|(at, v)| (*at, v.reason.describe(universe)))
        .unwrap_or((end, String::from("(the replay did not break the rule)")));
    let diagram = diagram(&printer, events, Some((line, &format!("{rule}: {reason}"))));
    Counterexample {
        lines,
        line,
        reason,
        diagram,
        shortest: true,
    }
}

/// A model whose boundary closes once `halt` is set: no new state is then within it, so the
/// checker's threads run out of work (what they hold is at most one block of states each) and
/// end, with everything found so far. stateright 0.31 has no other way to stop a run from
/// outside: `finish_when`, `target_state_count` and `timeout` are fixed when the run starts, and
/// a visitor only watches.
#[derive(Clone)]
pub struct Stoppable<M: Model = SessionModel> {
    model: M,
    properties: Vec<(Expectation, &'static str, Condition<M>)>,
    halt: Arc<AtomicBool>,
    part: Option<Part>,
    watch: Option<Arc<Watch>>,
}

/// What the watch of a run ([`Stoppable::watched`]) has seen, by the index of the wrapped
/// model's properties.
#[derive(Debug, Default)]
pub struct Watch {
    /// Bit `i`: property `i` was discovered (its rule broken, its goal reached).
    seen: AtomicU32,
    /// Bit `i`: a path breaking the rule of property `i` was recorded (by stateright, or by
    /// [`depth_first`]).
    recorded: AtomicU32,
}

impl Watch {
    /// Notes a state: the properties it discovers that were not seen yet, which it returns (bit
    /// `i`: property `i`; seen first here, not by another thread).
    fn note<M: Model>(&self, m: &Stoppable<M>, s: &M::State) -> u32 {
        let seen = self.seen.load(Ordering::Relaxed);
        let mut new = 0;
        for (i, (expectation, _, condition)) in m.properties.iter().enumerate() {
            if seen & 1 << i != 0 {
                continue;
            }
            let found = match expectation {
                Expectation::Always => !condition(&m.model, s),
                Expectation::Sometimes => condition(&m.model, s),
                Expectation::Eventually => false,
            };
            if found {
                new |= 1 << i;
            }
        }
        if new == 0 {
            return 0;
        }
        new & !self.seen.fetch_or(new, Ordering::Relaxed)
    }

    /// Claims the recording of a path breaking the rule of property `i`: whether none was
    /// claimed before.
    fn claim(&self, i: usize) -> bool {
        self.recorded.fetch_or(1 << i, Ordering::Relaxed) & 1 << i == 0
    }
}

/// The name of the watch's own property (never discovered).
const WATCH: &str = "(watch)";

impl<M: Model> Stoppable<M> {
    /// `model`, stopped by `halt`.
    pub fn new(model: M, halt: &Arc<AtomicBool>) -> Stoppable<M> {
        let properties = model
            .properties()
            .into_iter()
            .map(|p| (p.expectation, p.name, p.condition))
            .collect();
        Stoppable {
            model,
            properties,
            halt: Arc::clone(halt),
            part: None,
            watch: None,
        }
    }

    /// Whether its boundary has closed (`halt` was set).
    fn halted(&self) -> bool {
        self.halt.load(Ordering::Relaxed)
    }

    /// Only the initial states of `part` (`None`: all).
    pub fn part(self, part: Option<Part>) -> Stoppable<M> {
        Stoppable { part, ..self }
    }

    /// Checks the wrapped model's properties through `watch`, with one property of its own
    /// that notes in `watch` what each state discovers; a rule found broken gets its own
    /// property until it records a path (so that an interrupted check has a counterexample).
    /// Not for a model with `eventually` properties (left as they are).
    pub fn watched(self, watch: &Arc<Watch>) -> Stoppable<M> {
        if self.properties.len() > MAX_PROPERTIES
            || self
                .properties
                .iter()
                .any(|(e, _, _)| *e == Expectation::Eventually)
        {
            return self;
        }
        Stoppable {
            watch: Some(Arc::clone(watch)),
            ..self
        }
    }
}

/// The watch's property: notes the state, holds.
fn watching<M: Model>(m: &Stoppable<M>, s: &M::State) -> bool {
    if let Some(watch) = &m.watch {
        watch.note(m, s);
    }
    true
}

/// Property `I` of the wrapped model, broken at most once (where watched): the path of the
/// first state that breaks it is recorded, and later ones cost nothing.
fn lifted_once<M: Model, const I: usize>(m: &Stoppable<M>, s: &M::State) -> bool {
    let holds = lifted::<M, I>(m, s);
    match &m.watch {
        Some(watch) if !holds => !watch.claim(I),
        _ => holds,
    }
}

/// Property `I` of the wrapped model (a property's condition is a plain function of the model
/// and the state: one instance per index).
fn lifted<M: Model, const I: usize>(m: &Stoppable<M>, s: &M::State) -> bool {
    m.properties
        .get(I)
        .is_none_or(|(_, _, condition)| condition(&m.model, s))
}

/// The most properties a model has: the client model's rules (or the widget model's) and its
/// `sometimes` properties.
const MAX_PROPERTIES: usize = 24;

const _: () = assert!(model::RULE_PROPERTIES.len() + REACHABLE.len() <= MAX_PROPERTIES);
const _: () =
    assert!(widget_model::WIDGET_RULE_PROPERTIES.len() + WIDGET_REACHABLE.len() <= MAX_PROPERTIES);

/// A property's condition on a state of model `M`.
type Condition<M> = fn(&M, &<M as Model>::State) -> bool;

/// The conditions of [`Stoppable`]'s properties, by index: `lifted` for every property, or
/// `lifted_once` for those of a watched run.
macro_rules! by_index {
    ($name:ident: $f:ident) => {
        fn $name<M: Model>() -> [Condition<Stoppable<M>>; MAX_PROPERTIES] {
            [
                $f::<M, 0>,
                $f::<M, 1>,
                $f::<M, 2>,
                $f::<M, 3>,
                $f::<M, 4>,
                $f::<M, 5>,
                $f::<M, 6>,
                $f::<M, 7>,
                $f::<M, 8>,
                $f::<M, 9>,
                $f::<M, 10>,
                $f::<M, 11>,
                $f::<M, 12>,
                $f::<M, 13>,
                $f::<M, 14>,
                $f::<M, 15>,
                $f::<M, 16>,
                $f::<M, 17>,
                $f::<M, 18>,
                $f::<M, 19>,
                $f::<M, 20>,
                $f::<M, 21>,
                $f::<M, 22>,
                $f::<M, 23>,
            ]
        }
    };
}

by_index!(lifted_all: lifted);
by_index!(lifted_once_all: lifted_once);

impl<M: Model> Model for Stoppable<M> {
    type State = M::State;
    type Action = M::Action;

    fn init_states(&self) -> Vec<M::State> {
        let mut states = self.model.init_states();
        if let Some(part) = self.part {
            let mut place = 0;
            states.retain(|_| {
                place += 1;
                part.has(place - 1)
            });
        }
        states
    }

    fn actions(&self, s: &M::State, actions: &mut Vec<M::Action>) {
        self.model.actions(s, actions);
    }

    fn next_state(&self, s: &M::State, action: M::Action) -> Option<M::State> {
        self.model.next_state(s, action)
    }

    fn format_action(&self, action: &M::Action) -> String
    where
        M::Action: std::fmt::Debug,
    {
        self.model.format_action(action)
    }

    fn format_step(&self, last: &M::State, action: M::Action) -> Option<String>
    where
        M::State: std::fmt::Debug,
    {
        self.model.format_step(last, action)
    }

    /// Those of the wrapped model; where watched, the watch's, and each rule found broken
    /// until it records a path (stateright asks for them again every block of states).
    fn properties(&self) -> Vec<Property<Self>> {
        let Some(watch) = &self.watch else {
            return self
                .properties
                .iter()
                .zip(lifted_all::<M>())
                .map(|((expectation, name, _), condition)| Property {
                    expectation: expectation.clone(),
                    name,
                    condition,
                })
                .collect();
        };
        let seen = watch.seen.load(Ordering::Relaxed);
        let recorded = watch.recorded.load(Ordering::Relaxed);
        let mut props = vec![Property::always(WATCH, watching::<M>)];
        for (i, ((expectation, name, _), condition)) in self
            .properties
            .iter()
            .zip(lifted_once_all::<M>())
            .enumerate()
        {
            if *expectation == Expectation::Always && seen & !recorded & 1 << i != 0 {
                props.push(Property::always(name, condition));
            }
        }
        props
    }

    fn within_boundary(&self, s: &M::State) -> bool {
        !self.halted() && self.model.within_boundary(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::mutants::MutantKind;

    fn config(client: ClientKind) -> CheckConfig {
        let mut config = CheckConfig::new(client, Profile::MSC);
        config.bounds = Bounds {
            caps: 2,
            rounds: 1,
            gated: 1,
        };
        config
    }

    #[test]
    fn an_uninterrupted_check_is_exhaustive() {
        let report = check_until(
            &config(ClientKind::Reference),
            &mut |_| {},
            &AtomicBool::new(false),
        );
        assert!(report.exhaustive && !report.interrupted);
        assert!(report.all_hold());
        assert!(report
            .rules
            .iter()
            .all(|(_, v)| matches!(v, Verdict::Holds)));
    }

    #[test]
    fn a_stopped_check_reports_what_it_found_so_far() {
        let full = check(&config(ClientKind::Reference), &mut |_| {});
        let stop = AtomicBool::new(true);
        let report = check_until(&config(ClientKind::Reference), &mut |_| {}, &stop);
        assert!(report.interrupted);
        assert!(!report.exhaustive);
        assert!(
            report.unique < full.unique,
            "{} of {}",
            report.unique,
            full.unique
        );
        // Nothing is said to hold: the run did not see every state.
        assert!(!report.all_hold());
        assert!(report
            .rules
            .iter()
            .all(|(_, v)| matches!(v, Verdict::Unsettled)));
    }

    #[test]
    fn a_check_stopped_midway_reports_the_states_seen() {
        // The default bounds: seconds of work, stopped at the first report after the start.
        let mut config = CheckConfig::new(ClientKind::Reference, Profile::MSC);
        config.threads = 2;
        let full_unique = 239_196; // model/tests/check/main.rs
        let stop = AtomicBool::new(false);
        let report = check_until(
            &config,
            &mut |p| {
                if p.unique > 0 {
                    stop.store(true, Ordering::Relaxed);
                }
            },
            &stop,
        );
        assert!(report.interrupted && !report.exhaustive);
        assert!(
            report.unique > 0 && report.unique < full_unique,
            "{}",
            report.unique
        );
    }

    #[test]
    fn a_violation_found_before_the_stop_keeps_a_counterexample() {
        let client = ClientKind::Mutant(MutantKind::DoubleNotify);
        let rule = MutantKind::DoubleNotify.target();
        let stop = AtomicBool::new(false);
        // Stopped once the exhaustive run is over, as the first search for a shortest
        // counterexample starts.
        let report = check_until(
            &config(client),
            &mut |p| {
                if p.phase != Phase::Exhaustive {
                    stop.store(true, Ordering::Relaxed);
                }
            },
            &stop,
        );
        assert!(report.interrupted);
        assert!(report.exhaustive, "the exhaustive run had ended");
        let verdict = report
            .rules
            .iter()
            .find(|(r, _)| *r == rule)
            .map(|(_, v)| v.clone());
        let Some(Verdict::Violated(Some(cx))) = verdict else {
            panic!("{rule}: {verdict:?}")
        };
        assert!(!cx.shortest, "the search for a shortest one was stopped");
        assert!(cx.lines.len() > 1, "{:?}", cx.lines);
        assert!(
            cx.reason != "(the replay did not break the rule)",
            "{}",
            cx.reason
        );
        // Uninterrupted, the same rule gets a shortest counterexample.
        let report = check(&config(client), &mut |_| {});
        let Some((_, Verdict::Violated(Some(cx)))) = report.rules.iter().find(|(r, _)| *r == rule)
        else {
            panic!("{rule} not violated")
        };
        assert!(cx.shortest);
    }

    /// The length of a shortest path of `model` that breaks `rule`, by stateright's own
    /// breadth-first checker (which does not reduce by symmetry).
    fn stateright_shortest<M: Checked>(model: &M, rule: Rule) -> Option<usize> {
        let halt = Arc::new(AtomicBool::new(false));
        let checker = Stoppable::new(model.focused(rule), &halt)
            .checker()
            .threads(1)
            .finish_when(stateright::HasDiscoveries::AnyFailures)
            .spawn_bfs()
            .join();
        Some(checker.discovery(rule.id())?.into_actions().len())
    }

    #[test]
    fn the_reduced_search_finds_paths_as_short_as_stateright_s_unreduced_one() {
        let bounds = Bounds {
            caps: 3,
            rounds: 1,
            gated: 1,
        };
        let mut compared = 0;
        for kind in MutantKind::ALL {
            if !kind.shows_under(&Profile::MSC) {
                continue;
            }
            let client = ClientKind::Mutant(kind);
            let model = SessionModel::new(client, Profile::MSC, Profile::MSC, bounds);
            let rule = kind.target();
            let expected = stateright_shortest(&model, rule);
            for symmetry in [true, false] {
                let stop = AtomicBool::new(false);
                let path = shortest_path(&model, None, rule, symmetry, &mut |_| {}, &stop);
                let found = path.as_ref().map(|(_, actions)| actions.len());
                assert_eq!(found, expected, "{kind} (symmetry {symmetry})");
                if let Some((init, actions)) = path {
                    let cx = model.counterexample(rule, &init, &actions);
                    assert_ne!(cx.reason, "(the replay did not break the rule)", "{kind}");
                    compared += 1;
                }
            }
        }
        assert!(compared >= 40, "{compared} paths compared");
        // The widget's model, whose roots are images of each other under renamings.
        let bounds = Bounds {
            caps: 3,
            rounds: 2,
            gated: 0,
        };
        for (profile, mutant) in WidgetMutant::checked() {
            let model = WidgetModel::new(Some(mutant), profile, bounds);
            let rule = mutant.target();
            let expected = stateright_shortest(&model, rule);
            assert!(expected.is_some(), "{mutant}");
            for symmetry in [true, false] {
                let stop = AtomicBool::new(false);
                let path = shortest_path(&model, None, rule, symmetry, &mut |_| {}, &stop);
                let found = path.as_ref().map(|(_, actions)| actions.len());
                assert_eq!(found, expected, "{mutant} (symmetry {symmetry})");
            }
        }
    }
}
