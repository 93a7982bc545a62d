//! The widget driver (`capneg drive --side widget`, docs/spec.md §9.3): an external widget
//! against the reference widget, on generated sessions.
//!
//! A generated session ([`WidgetSession`]) is what the world around the widget does: what its
//! application asks for when it starts and later (MSC2974), when each side's next message is
//! delivered, and what the user approves of the client's prompts. The harness plays the
//! reference client of the profile (default settings: it asks for capabilities as it starts)
//! twice: once with the widget under test (the adapter) and once with the reference widget, in
//! lockstep ([`WidgetLockstep`]). After every command the adapter's messages and view are judged
//! by the widget's rules (docs/spec.md §9.2), then compared with the reference widget's (as
//! compact messages, request ids numbered per side, and the view as a set). A rule broken is
//! the divergence at once; a difference is kept and the session goes on (an answer given later,
//! as matrix-widget-api's `WidgetApi` answers `capabilities` only once it knows the client's
//! versions, may still follow the rules), and is the divergence at the end if no rule broke.
//! After the last step every message in flight is delivered.
//!
//! The search ([`drive_widget`]) looks for every widget rule the adapter breaks: a session that
//! breaks a rule is looked for over all the cases and shrunk, then the search starts again for
//! the rules not found yet, until no other rule breaks; each rule broken is reported with its own
//! minimal session. Every rule is judged in each search, and a session counts only where the
//! first rule it breaks is one not found yet ([`WidgetLockstep::seeking`]): its trace then breaks
//! no other rule before, and `capneg validate` names the same rule first. A rule that never
//! breaks first is looked for once more with the rules found left unjudged; its session then
//! breaks one of those before it, which the report says ([`WidgetFound::behind`]). Only where no
//! rule breaks is the first difference from the reference widget shrunk and reported. Shrinking
//! keeps the kind of divergence, as the client's driver does ([`crate::drive`](mod@crate::drive)).

use crate::drive::{
    search_with, Class, Divergence, Finding, Harness, Options, Outcome, Progress, Report, Stats,
};
use crate::process::{Adapter, Failure};
use crate::strategy::caps;
use crate::universe::{Caps, UNIVERSE};
use crate::widget_protocol::{client_command, request_command, start_command, WidgetHandler};
use capneg_model::rules::mutants::ClientKind;
use capneg_model::session::{ClientSession, Emitted};
use capneg_model::{Judge, Judging, Line, Rule, RuleSet, Side, Violation};
use capneg_reference::{CapSet, Event, Posted, Profile, Settings};
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::envelope::EnvelopeView;
use capneg_wire::trace::{parse_line, print_line, AppLine, Key, Prompts, SessionLine};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::time::Instant;

/// The widget id of generated sessions.
pub const WIDGET_ID: &str = "w1";

/// The most moves of a generated session.
pub const MAX_MOVES: usize = 32;

/// The most messages delivered after a session's last move before it is said not to settle.
const MAX_SETTLING: usize = 1000;

/// What the world around the widget does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WidgetMove {
    /// The client's oldest message in flight reaches the widget.
    ToWidget,
    /// The widget's oldest message in flight reaches the client.
    ToClient,
    /// The user answers the client's oldest prompt, approving the capabilities of the prompt at
    /// the set bits (bit `i`: the prompt's `i`-th capability).
    Decide(u8),
    /// The application asks for more capabilities (MSC2974).
    App(Caps),
}

/// A generated session of the widget driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetSession {
    /// What the application asks for when the widget starts.
    pub initial: Caps,
    /// What happens, in order; a move that cannot happen (nothing in flight, no prompt) is
    /// skipped.
    pub moves: Vec<WidgetMove>,
}

/// One move.
pub fn widget_move() -> impl Strategy<Value = WidgetMove> {
    prop_oneof![
        4 => Just(WidgetMove::ToWidget),
        4 => Just(WidgetMove::ToClient),
        2 => any::<u8>().prop_map(WidgetMove::Decide),
        2 => caps().prop_map(WidgetMove::App),
    ]
}

/// Whole sessions; they shrink towards fewer moves, empty lists and declines.
pub fn widget_sessions() -> impl Strategy<Value = WidgetSession> {
    (caps(), prop::collection::vec(widget_move(), 0..=MAX_MOVES))
        .prop_map(|(initial, moves)| WidgetSession { initial, moves })
}

/// One side of a lockstep: the reference client and what is in flight to and from the widget,
/// with the widget's trace judged as it grows.
struct Party {
    client: ClientSession,
    to_widget: VecDeque<String>,
    to_client: VecDeque<String>,
    prompts: VecDeque<Vec<String>>,
    trace: Vec<String>,
    codec: Codec,
    judging: Judging,
}

/// What the widget said after one command, read.
#[derive(Debug, Default)]
struct Said {
    /// Its messages, with their lines.
    messages: Vec<(Posted, Line)>,
    /// Its view, with its line.
    view: Option<(CapSet, Line)>,
}

impl Party {
    /// The reference client of `profile` for the widget `widget_id`, judged by `rules`.
    fn new(profile: Profile, rules: RuleSet, widget_id: &str) -> Party {
        let mut emitted = Vec::new();
        let client = ClientSession::start(
            ClientKind::Reference,
            profile,
            widget_id,
            &Settings::default(),
            &mut emitted,
        );
        let mut codec = Codec::new(widget_id);
        // Every side interns the universe first: a capability has the same number on both.
        codec.cap_set(UNIVERSE);
        let session = SessionLine {
            widget_id: Some(widget_id.to_owned()),
            prompts: Some(Prompts::Hidden),
            ..SessionLine::default()
        };
        let mut party = Party {
            client,
            to_widget: VecDeque::new(),
            to_client: VecDeque::new(),
            prompts: VecDeque::new(),
            trace: vec![print_line(Key::Session, &session)],
            codec,
            judging: Judging::new(Judge {
                rules,
                ..Judge::for_side(profile, Side::Widget)
            }),
        };
        party.client_emitted(emitted);
        party
    }

    /// The line the next trace line will be.
    fn next_line(&self) -> Line {
        Line::new(self.trace.len() as u32 + 1).unwrap_or(Line::FIRST)
    }

    fn client_emitted(&mut self, emitted: Vec<Emitted>) {
        for e in emitted {
            match e {
                Emitted::Client(env) => {
                    if let Ok(text) = serde_json::to_string(&*env) {
                        self.to_widget.push_back(text);
                    }
                }
                Emitted::Prompt(caps) => self.prompts.push_back(caps),
                Emitted::Malformed(_) => {} // never from the reference client
            }
        }
    }

    /// Records an input line of the widget (a client message or an application's request) and
    /// judges it.
    fn input(&mut self, line: String, event: Event) -> Line {
        let at = self.next_line();
        self.trace.push(line);
        let _ = self.judging.observe(at, &event);
        at
    }

    /// Reads, records and judges what the widget said; a line that is not a widget protocol
    /// line is the finding.
    fn said(&mut self, lines: Vec<String>) -> Result<Said, Finding> {
        let mut said = Said::default();
        for text in lines {
            let at = self.next_line();
            let protocol = |message: String| Finding::Protocol { line: at, message };
            let line = parse_line(&text).map_err(|e| protocol(e.to_string()))?;
            if said.view.is_some() {
                return Err(protocol(format!(
                    "a `{}` line after the view: the view is the last line before `idle`",
                    line.key.as_str()
                )));
            }
            let event = match line.key {
                Key::Widget => {
                    let Some(view) = EnvelopeView::parse(line.value) else {
                        return Err(protocol("the widget message is not a JSON object".into()));
                    };
                    let posted = self.codec.read(Poster::Widget, &view);
                    if posted.is_ok() {
                        self.to_client.push_back(line.value.get().to_owned());
                    }
                    said.messages.push((posted.clone(), at));
                    Event::Widget(posted)
                }
                Key::View => {
                    let names = line.view().map_err(|e| protocol(e.to_string()))?.approved;
                    let set = self.codec.cap_set(names.iter().map(String::as_str));
                    said.view = Some((set.clone(), at));
                    Event::View(set)
                }
                key => {
                    return Err(protocol(format!(
                    "a `{}` line: a widget adapter writes only widget and view lines, then idle",
                    key.as_str()
                )))
                }
            };
            self.trace.push(text);
            let _ = self.judging.observe(at, &event);
        }
        if said.view.is_none() {
            let at = self.next_line();
            return Err(Finding::Protocol {
                line: at,
                message: "no view line before idle: after every command the adapter reports the widget's view".into(),
            });
        }
        Ok(said)
    }

    /// The rules broken so far, from `from` on, as a finding.
    fn broken(&self, from: usize) -> Option<Finding> {
        let violations = &self.judging.violations()[from..];
        let (line, _) = violations.first()?;
        let broken = violations
            .iter()
            .filter(|(at, _)| at == line)
            .map(|(_, v)| (v.rule, v.reason.describe(&self.codec.caps)))
            .collect();
        Some(Finding::Rules {
            line: *line,
            broken,
            difference: None,
        })
    }

    /// The client takes the widget's oldest message in flight.
    fn deliver_to_client(&mut self) {
        let Some(text) = self.to_client.pop_front() else {
            return;
        };
        let Ok(raw) = serde_json::value::RawValue::from_string(text) else {
            return;
        };
        let mut emitted = Vec::new();
        self.client.widget(&raw, &mut emitted);
        self.client_emitted(emitted);
    }

    /// The user answers the oldest prompt.
    fn decide(&mut self, mask: u8) {
        let Some(prompt) = self.prompts.pop_front() else {
            return;
        };
        let approved: Vec<&str> = prompt
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 8 && mask & (1 << i) != 0)
            .map(|(_, c)| c.as_str())
            .collect();
        let mut emitted = Vec::new();
        if self.client.decision(approved, &mut emitted).is_ok() {
            self.client_emitted(emitted);
        }
    }
}

/// Runs widget sessions on a widget adapter and the reference widget at once.
pub struct WidgetLockstep {
    profile: Profile,
    /// The widget rules judged.
    rules: RuleSet,
    /// The rules a divergence must break first to count (a session whose first rules broken
    /// are all others passes).
    wanted: RuleSet,
    reference: WidgetHandler,
    commands: u64,
    deadline: Option<Instant>,
    cut_short: bool,
    /// The violations of the widget under test in the last session, with their lines.
    violations: Vec<(Line, Violation)>,
}

impl std::fmt::Debug for WidgetLockstep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetLockstep")
            .field("profile", &self.profile.name)
            .finish()
    }
}

/// Which side a command goes to.
enum Who<'a> {
    Adapter(&'a mut dyn Adapter),
    Reference,
}

impl WidgetLockstep {
    /// A lockstep with the reference client of `profile`, judging every widget rule.
    pub fn new(profile: Profile) -> WidgetLockstep {
        WidgetLockstep::judging(profile, RuleSet::of(&profile, Side::Widget))
    }

    /// A lockstep with the reference client of `profile`, judging `rules` only.
    pub fn judging(profile: Profile, rules: RuleSet) -> WidgetLockstep {
        WidgetLockstep {
            profile,
            rules,
            wanted: rules,
            reference: WidgetHandler::new(None),
            commands: 0,
            deadline: None,
            cut_short: false,
            violations: Vec::new(),
        }
    }

    /// A lockstep with the reference client of `profile`, judging every widget rule, where a
    /// session diverges by the rules only if one of `wanted` is among the first rules it breaks
    /// (listed first); a session whose first rules broken are all others passes. The trace of a
    /// divergence by a wanted rule breaks no rule before it.
    pub fn seeking(profile: Profile, wanted: RuleSet) -> WidgetLockstep {
        WidgetLockstep {
            wanted,
            ..WidgetLockstep::new(profile)
        }
    }

    /// The violations of the widget under test in the last session run, with their lines (the
    /// divergence names those of its line only).
    pub fn violations(&self) -> &[(Line, Violation)] {
        &self.violations
    }

    fn out_of_time(&mut self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.cut_short = true;
        }
        self.cut_short
    }

    /// Sends `command` to one side; the lines it wrote.
    fn send(&mut self, who: &mut Who<'_>, command: &str) -> Result<Vec<String>, Failure> {
        let mut out = Vec::new();
        match who {
            Who::Adapter(adapter) => {
                self.commands += 1;
                adapter.command(command, &mut out)?;
            }
            Who::Reference => {
                if let Err(e) = self.reference.handle(command, &mut out) {
                    out.push(format!("(the reference refused the command: {e})"));
                }
            }
        }
        Ok(out)
    }

    /// Runs `session`: the divergence, if any, with both traces.
    pub fn run_session(
        &mut self,
        session: &WidgetSession,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        self.cut_short = false;
        let mut run = Run {
            tested: Party::new(self.profile, self.rules, WIDGET_ID),
            reference: Party::new(self.profile, self.rules, WIDGET_ID),
            difference: None,
        };
        let result = self.play(&mut run, session, adapter);
        self.violations = run.tested.judging.violations().to_vec();
        let mut divergence = match result {
            Ok(()) => return Ok(()),
            Err(d) => d,
        };
        if let Finding::Rules { broken, .. } = &mut divergence.finding {
            if !broken.iter().any(|(r, _)| self.wanted.contains(*r)) {
                return Ok(());
            }
            broken.sort_by_key(|(r, _)| !self.wanted.contains(*r));
        }
        Err(divergence)
    }

    fn play(
        &mut self,
        run: &mut Run,
        session: &WidgetSession,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        let initial = session.initial.to_vec();
        let start = start_command(WIDGET_ID, &initial);
        if !initial.is_empty() {
            let caps = run.tested.codec.cap_set(initial.iter().map(String::as_str));
            let line = print_line(
                Key::App,
                &AppLine {
                    request: initial.clone(),
                },
            );
            run.tested.input(line.clone(), Event::App(caps.clone()));
            run.reference.input(line, Event::App(caps));
        }
        let mut adapter = Who::Adapter(adapter);
        self.step(run, &mut adapter, Input::Start(start))?;
        for m in &session.moves {
            if self.out_of_time() {
                return Ok(());
            }
            match *m {
                WidgetMove::ToWidget => self.step(run, &mut adapter, Input::Client)?,
                WidgetMove::ToClient => {
                    run.tested.deliver_to_client();
                    run.reference.deliver_to_client();
                }
                WidgetMove::Decide(mask) => {
                    run.tested.decide(mask);
                    run.reference.decide(mask);
                }
                WidgetMove::App(caps) => self.step(run, &mut adapter, Input::App(caps))?,
            }
        }
        // Every message in flight is delivered.
        let mut delivered = 0;
        while !(run.tested.to_widget.is_empty()
            && run.tested.to_client.is_empty()
            && run.reference.to_widget.is_empty()
            && run.reference.to_client.is_empty())
        {
            if self.out_of_time() {
                return Ok(());
            }
            delivered += 1;
            if delivered > MAX_SETTLING {
                let line = run.tested.next_line();
                return Err(run.diverge(Finding::Protocol {
                    line,
                    message: format!(
                        "the session does not settle: more than {MAX_SETTLING} messages after its last step"
                    ),
                }));
            }
            if !run.tested.to_widget.is_empty() || !run.reference.to_widget.is_empty() {
                self.step(run, &mut adapter, Input::Client)?;
            } else {
                run.tested.deliver_to_client();
                run.reference.deliver_to_client();
            }
        }
        // The end: what the widget left unanswered.
        let before = run.tested.judging.violations().len();
        let end = run.tested.next_line();
        run.tested.judging.finish(end);
        if let Some(mut finding) = run.tested.broken(before) {
            if let (Finding::Rules { difference, .. }, Some(d)) =
                (&mut finding, run.difference.take())
            {
                *difference = Some(Box::new(d));
            }
            return Err(run.diverge(finding));
        }
        match run.difference.take() {
            Some(d) => Err(run.diverge(d)),
            None => Ok(()),
        }
    }

    /// One command to both widgets: judged, then compared.
    fn step(
        &mut self,
        run: &mut Run,
        adapter: &mut Who<'_>,
        input: Input,
    ) -> Result<(), Box<Divergence>> {
        let (tested_command, reference_command) = match &input {
            Input::Start(command) => (Some(command.clone()), Some(command.clone())),
            Input::Client => (run.tested.deliver_client(), run.reference.deliver_client()),
            Input::App(caps) => {
                let names = caps.to_vec();
                let line = print_line(
                    Key::App,
                    &AppLine {
                        request: names.clone(),
                    },
                );
                for party in [&mut run.tested, &mut run.reference] {
                    let set = party.codec.cap_set(names.iter().map(String::as_str));
                    party.input(line.clone(), Event::App(set));
                }
                let command = request_command(&names);
                (Some(command.clone()), Some(command))
            }
        };
        let before = run.tested.judging.violations().len();
        let tested = match tested_command {
            None => None,
            Some(command) => {
                let at = run.tested.next_line();
                let failed_at = if matches!(input, Input::Start(_)) {
                    Line::FIRST
                } else {
                    Line::new(at.get().saturating_sub(1)).unwrap_or(Line::FIRST)
                };
                let lines = self.send(adapter, &command).map_err(|failure| {
                    run.diverge(Finding::Failed {
                        line: failed_at,
                        failure,
                    })
                })?;
                Some(run.tested.said(lines).map_err(|f| run.diverge(f))?)
            }
        };
        if let Some(finding) = run.tested.broken(before) {
            return Err(run.diverge(finding));
        }
        let reference = match reference_command {
            None => None,
            Some(command) => {
                let lines = self.send(&mut Who::Reference, &command).unwrap_or_default();
                run.reference.said(lines).ok()
            }
        };
        if run.difference.is_none() {
            run.difference = run.compare(tested.as_ref(), reference.as_ref());
        }
        Ok(())
    }
}

/// What one command is.
enum Input {
    /// The widget starts (the `start` command).
    Start(String),
    /// The client's oldest message in flight reaches the widget.
    Client,
    /// The application asks for these.
    App(Caps),
}

/// One session being run on both sides.
struct Run {
    tested: Party,
    reference: Party,
    /// The first difference, kept while no rule breaks.
    difference: Option<Finding>,
}

impl Party {
    /// The `client` command of the client's oldest message in flight, recorded and judged as
    /// the widget receives it.
    fn deliver_client(&mut self) -> Option<String> {
        let text = self.to_widget.pop_front()?;
        let raw = serde_json::value::RawValue::from_string(text.clone()).ok()?;
        let posted = match EnvelopeView::parse(&raw) {
            Some(view) => self.codec.read(Poster::Client, &view),
            None => return None,
        };
        let line = format!("{{\"client\":{text}}}");
        self.input(line, Event::Client(posted));
        Some(client_command(&text))
    }
}

impl Run {
    fn diverge(&self, finding: Finding) -> Box<Divergence> {
        Box::new(Divergence {
            finding,
            trace: self.tested.trace.clone(),
            reference: self.reference.trace.clone(),
        })
    }

    /// The first difference between what the two widgets said: a message (compact, request
    /// ids numbered per side), or else the view (as a set).
    fn compare(&self, tested: Option<&Said>, reference: Option<&Said>) -> Option<Finding> {
        let empty = Said::default();
        let (tested, reference) = (tested.unwrap_or(&empty), reference.unwrap_or(&empty));
        let line_of = |party: &Party, at: Line| party.trace.get(at.get() as usize - 1).cloned();
        let last = self.tested.next_line();
        let last = Line::new(last.get().saturating_sub(1)).unwrap_or(Line::FIRST);
        let n = tested.messages.len().max(reference.messages.len());
        for i in 0..n {
            match (tested.messages.get(i), reference.messages.get(i)) {
                (Some((got, at)), Some((expected, ref_at))) if got != expected => {
                    return Some(Finding::Differs {
                        line: *at,
                        expected: line_of(&self.reference, *ref_at),
                        got: line_of(&self.tested, *at),
                    })
                }
                (Some((_, at)), None) => {
                    return Some(Finding::Differs {
                        line: *at,
                        expected: None,
                        got: line_of(&self.tested, *at),
                    })
                }
                (None, Some((_, ref_at))) => {
                    return Some(Finding::Differs {
                        line: last,
                        expected: line_of(&self.reference, *ref_at),
                        got: None,
                    })
                }
                _ => {}
            }
        }
        match (&tested.view, &reference.view) {
            (Some((got, at)), Some((expected, ref_at))) if got != expected => {
                Some(Finding::Differs {
                    line: *at,
                    expected: line_of(&self.reference, *ref_at),
                    got: line_of(&self.tested, *at),
                })
            }
            _ => None,
        }
    }
}

impl Harness for WidgetLockstep {
    type Session = WidgetSession;
    fn run(
        &mut self,
        session: &WidgetSession,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        self.run_session(session, adapter)
    }
    fn commands(&self) -> u64 {
        self.commands
    }
    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }
    fn cut_short(&self) -> bool {
        self.cut_short
    }
    fn simplest() -> WidgetSession {
        WidgetSession {
            initial: Caps::NONE,
            moves: Vec::new(),
        }
    }
}

/// How a widget drive ended: every divergence found, each shrunk (none: the adapter follows
/// the reference widget), and the counts of the whole drive.
#[derive(Clone, Debug)]
pub struct WidgetDrive {
    /// The divergences: one per rule broken (with the rules broken on the same line), those
    /// whose trace breaks their rule first ahead of those [`behind`](WidgetFound::behind)
    /// others, each group in the order of docs/spec.md §9.2; or else at most one difference from
    /// the reference widget.
    pub divergences: Vec<WidgetFound>,
    /// Counts of the whole drive (every search).
    pub stats: Stats,
}

/// A divergence of a widget drive.
#[derive(Clone, Debug)]
pub struct WidgetFound {
    /// The divergence, shrunk.
    pub report: Report<WidgetSession>,
    /// Where its rule never broke first in the search: the line and the rules its trace breaks
    /// before (rules found earlier, left unjudged in its search). `capneg validate` on the trace
    /// names those first.
    pub behind: Option<(Line, Vec<Rule>)>,
}

impl WidgetFound {
    /// The rule it is reported for: the first rule broken (`None`: a difference only).
    pub fn rule(&self) -> Option<Rule> {
        self.report.divergence.rules().first().copied()
    }
}

/// Drives a widget `adapter` with `options.cases` generated sessions against the reference
/// widget, with the reference client of `options.profile`: every widget rule it breaks, each
/// with a minimal session; or, where it breaks none, its first difference from the reference
/// widget.
pub fn drive_widget(
    options: &Options,
    adapter: &mut dyn Adapter,
    progress: &mut dyn FnMut(&Progress),
) -> WidgetDrive {
    let all = RuleSet::of(&options.profile, Side::Widget);
    let mut judged = all;
    let mut divergences = Vec::new();
    let mut stats = Stats::default();
    let mut passed_over_any = false;
    let add = |stats: &mut Stats, s: &Stats| {
        stats.sessions += s.sessions;
        stats.commands += s.commands;
        stats.elapsed += s.elapsed;
    };
    // One search of generated sessions with `lockstep`; `rules_only`: a difference from the
    // reference widget that breaks no rule is passed over.
    let mut search = |lockstep: WidgetLockstep, rules_only: bool, adapter: &mut dyn Adapter| {
        search_with(
            options,
            lockstep,
            widget_sessions(),
            rules_only,
            adapter,
            progress,
        )
    };
    // First every rule is judged and a rule not found yet must break first; once no such rule
    // breaks first, the rules not found are judged alone (they may break behind others).
    let mut alone = false;
    while !judged.is_empty() {
        let lockstep = if alone {
            WidgetLockstep::judging(options.profile, judged)
        } else {
            WidgetLockstep::seeking(options.profile, judged)
        };
        let (outcome, passed_over) = search(lockstep, true, adapter);
        passed_over_any |= passed_over;
        match outcome {
            Outcome::Passed(s) => {
                add(&mut stats, &s);
                if alone || judged == all {
                    break;
                }
                alone = true;
            }
            Outcome::Diverged(report) => {
                add(&mut stats, &report.stats);
                let found: RuleSet = report.divergence.rules().into_iter().collect();
                if found.intersection(judged).is_empty() {
                    break; // cannot happen: a divergence breaks a judged rule
                }
                judged = judged.iter().filter(|r| !found.contains(*r)).collect();
                let behind = if alone {
                    behind(options.profile, &report, adapter)
                } else {
                    None
                };
                divergences.push(WidgetFound {
                    report: *report,
                    behind,
                });
            }
        }
    }
    if divergences.is_empty() && passed_over_any {
        let (outcome, _) = search(WidgetLockstep::new(options.profile), false, adapter);
        match outcome {
            Outcome::Passed(s) => add(&mut stats, &s),
            Outcome::Diverged(report) => {
                add(&mut stats, &report.stats);
                divergences.push(WidgetFound {
                    report: *report,
                    behind: None,
                });
            }
        }
    }
    divergences.sort_by_key(|f| (f.behind.is_some(), f.rule()));
    WidgetDrive { divergences, stats }
}

/// The first rules that `report`'s minimal session breaks with every rule of `profile` judged,
/// with their line, if its own rule is not among them: the session is run once more on
/// `adapter`.
fn behind(
    profile: Profile,
    report: &Report<WidgetSession>,
    adapter: &mut dyn Adapter,
) -> Option<(Line, Vec<Rule>)> {
    let own = report.divergence.rules();
    let d = WidgetLockstep::new(profile)
        .run_session(&report.session, adapter)
        .err()?;
    let Finding::Rules { line, broken, .. } = &d.finding else {
        return None;
    };
    if broken.iter().any(|(r, _)| own.contains(r)) {
        return None;
    }
    Some((*line, broken.iter().map(|(r, _)| *r).collect()))
}

/// An input of a widget's script.
enum ScriptInput {
    /// The application asks for these.
    App(Vec<String>),
    /// The client posted this message (to be completed against the widget's requests).
    Client(serde_json::Map<String, serde_json::Value>),
}

/// Reads a widget's script: its inputs with their line numbers.
fn read_widget_script(script: &str) -> Result<Vec<(usize, ScriptInput)>, String> {
    let mut inputs = Vec::new();
    let mut lines = capneg_wire::trace::LineReader::new(script.as_bytes());
    while let Some(next) = lines.next_line() {
        let (n, text) = next.map_err(|e| format!("{}: {}", e.line, e.error))?;
        let line = parse_line(text).map_err(|e| format!("{n}: {e}"))?;
        let input = match line.key {
            Key::Session if inputs.is_empty() => continue,
            Key::App => ScriptInput::App(line.app().map_err(|e| format!("{n}: {e}"))?.request),
            Key::Client => ScriptInput::Client(
                serde_json::from_str(line.value.get())
                    .map_err(|_| format!("{n}: a client message must be a JSON object"))?,
            ),
            key => {
                return Err(format!(
                    "{n}: `{}` lines are not a widget's inputs: a widget's script holds only session, client and app lines",
                    key.as_str()
                ))
            }
        };
        inputs.push((n, input));
    }
    Ok(inputs)
}

impl Party {
    /// The command of a script's input for this widget, recorded and judged as the widget
    /// receives it; `None` for a client response that answers nothing this widget asked.
    fn script_command(
        &mut self,
        completer: &mut capneg_wire::script::Completer,
        input: &ScriptInput,
    ) -> Option<String> {
        match input {
            ScriptInput::App(names) => {
                let set = self.codec.cap_set(names.iter().map(String::as_str));
                let line = print_line(
                    Key::App,
                    &AppLine {
                        request: names.clone(),
                    },
                );
                self.input(line, Event::App(set));
                Some(request_command(names))
            }
            ScriptInput::Client(map) => {
                let map = completer
                    .complete(map.clone(), capneg_wire::script::Echo::Retarget)
                    .ok()?;
                let message = capneg_wire::script::print_message(map);
                let raw = serde_json::value::RawValue::from_string(message.clone()).ok()?;
                let posted = self.codec.read(Poster::Client, &EnvelopeView::parse(&raw)?);
                self.input(format!("{{\"client\":{message}}}"), Event::Client(posted));
                Some(client_command(&message))
            }
        }
    }
}

/// Notes the widget's requests just said, for completing the script's responses to them.
fn note_requests(completer: &mut capneg_wire::script::Completer, party: &Party, said: &Said) {
    for (_, at) in &said.messages {
        let Some(text) = party.trace.get(at.get() as usize - 1) else {
            continue;
        };
        let Ok(line) = parse_line(text) else { continue };
        if let Ok(env) = serde_json::from_str::<capneg_wire::envelope::Envelope>(line.value.get()) {
            completer.counterpart_posted(&env);
        }
    }
}

/// Replays a widget's script (docs/spec.md §9: client and app lines, as `capneg run --side
/// widget` reads them) on a widget `adapter` and on the reference widget: the adapter's trace,
/// and the divergence if any (the first rule broken, or else the first difference). The
/// script's client messages are completed against each widget's own requests, so a response
/// written for the reference's ids (`w0`, ...) answers the adapter's open request of the same
/// action; one that answers nothing a widget asked is left out on that side. A script that
/// cannot be read is the error.
pub fn replay_widget(
    profile: Profile,
    script: &str,
    adapter: &mut dyn Adapter,
) -> Result<(Vec<String>, Option<Box<Divergence>>), String> {
    let inputs = read_widget_script(script)?;
    // The widget id `capneg run --side widget` gives the script: its session line's, its first
    // client message's, or the default.
    let widget_id =
        capneg_model::widget_run::widget_id_of(script.as_bytes()).map_err(|e| e.to_string())?;
    let rules = RuleSet::of(&profile, Side::Widget);
    let mut run = Run {
        tested: Party::new(profile, rules, &widget_id),
        reference: Party::new(profile, rules, &widget_id),
        difference: None,
    };
    let mut completers = [
        capneg_wire::script::Completer::for_poster(Poster::Client, &widget_id),
        capneg_wire::script::Completer::for_poster(Poster::Client, &widget_id),
    ];
    let mut reference = WidgetHandler::new(None);
    let start = start_command(&widget_id, &[]);
    let mut steps: Vec<Option<&ScriptInput>> = vec![None];
    steps.extend(inputs.iter().map(|(_, input)| Some(input)));
    for step in steps {
        let [tested_completer, reference_completer] = &mut completers;
        let commands = match step {
            None => (Some(start.clone()), Some(start.clone())),
            Some(input) => (
                run.tested.script_command(tested_completer, input),
                run.reference.script_command(reference_completer, input),
            ),
        };
        let before = run.tested.judging.violations().len();
        let tested = match commands.0 {
            None => None,
            Some(command) => {
                let mut out = Vec::new();
                if let Err(failure) = adapter.command(&command, &mut out) {
                    let line = Line::new(run.tested.trace.len() as u32).unwrap_or(Line::FIRST);
                    let d = run.diverge(Finding::Failed { line, failure });
                    return Ok((d.trace.clone(), Some(d)));
                }
                match run.tested.said(out) {
                    Ok(said) => Some(said),
                    Err(finding) => {
                        let d = run.diverge(finding);
                        return Ok((d.trace.clone(), Some(d)));
                    }
                }
            }
        };
        if let Some(finding) = run.tested.broken(before) {
            let d = run.diverge(finding);
            return Ok((d.trace.clone(), Some(d)));
        }
        let reference_said = commands.1.and_then(|command| {
            let mut out = Vec::new();
            reference.command(&command, &mut out).ok()?;
            run.reference.said(out).ok()
        });
        if let Some(said) = &tested {
            note_requests(tested_completer, &run.tested, said);
        }
        if let Some(said) = &reference_said {
            note_requests(reference_completer, &run.reference, said);
        }
        if run.difference.is_none() {
            run.difference = run.compare(tested.as_ref(), reference_said.as_ref());
        }
    }
    let before = run.tested.judging.violations().len();
    let end = run.tested.next_line();
    run.tested.judging.finish(end);
    let finding = run.tested.broken(before).or(run.difference.take());
    let trace = run.tested.trace.clone();
    Ok((trace, finding.map(|f| run.diverge(f))))
}

/// Whether a divergence breaks a rule (what [`drive_widget`] looks for first).
pub fn breaks_a_rule(d: &Divergence) -> bool {
    matches!(d.class(), Class::Rule(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use capneg_model::rules::widget_mutants::WidgetMutant;

    fn options(profile: Profile) -> Options {
        Options::new(profile, 64)
    }

    #[test]
    fn the_reference_widget_follows_itself() {
        for profile in Profile::ALL {
            let mut adapter = WidgetHandler::new(None);
            let drive = drive_widget(&options(profile), &mut adapter, &mut |_| {});
            assert!(drive.stats.sessions >= 64);
            if let Some(f) = drive.divergences.first() {
                panic!(
                    "{profile}: {}\n{}",
                    f.report.divergence.describe(),
                    f.report.divergence.trace.join("\n")
                );
            }
        }
    }

    #[test]
    fn first_notify_only_is_caught_by_its_rule() {
        let mut adapter = WidgetHandler::new(Some(WidgetMutant::FirstNotifyOnly));
        let drive = drive_widget(&options(Profile::MSC), &mut adapter, &mut |_| {});
        let rules: Vec<Vec<Rule>> = drive
            .divergences
            .iter()
            .map(|f| f.report.divergence.rules())
            .collect();
        assert_eq!(rules, [vec![Rule::WidgetViewFollowsNotify]]);
    }

    /// Two widgets as one: the first one's messages, the second one's view.
    struct Both(WidgetHandler, WidgetHandler);

    impl Adapter for Both {
        fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            self.0.command(line, &mut a)?;
            self.1.command(line, &mut b)?;
            out.extend(a.into_iter().filter(|l| !l.starts_with("{\"view\"")));
            out.extend(b.into_iter().filter(|l| l.starts_with("{\"view\"")));
            Ok(())
        }
    }

    /// A widget that breaks two rules is reported for both, each with its own session. Its view
    /// goes wrong only after a second notify, so always after it refused the first: the view's
    /// rule never breaks first, and its report says which rule its trace breaks before.
    #[test]
    fn every_rule_broken_is_reported() {
        let mut adapter = Both(
            WidgetHandler::new(Some(WidgetMutant::RefusesNotify)),
            WidgetHandler::new(Some(WidgetMutant::FirstNotifyOnly)),
        );
        let drive = drive_widget(&options(Profile::MSC), &mut adapter, &mut |_| {});
        let first: Vec<Rule> = drive
            .divergences
            .iter()
            .filter_map(WidgetFound::rule)
            .collect();
        assert_eq!(
            first,
            [Rule::WidgetAcksNotify, Rule::WidgetViewFollowsNotify]
        );
        assert_eq!(drive.divergences[0].behind, None);
        let Some((line, rules)) = &drive.divergences[1].behind else {
            panic!("the view's rule is reported behind the ack's")
        };
        assert_eq!(rules, &[Rule::WidgetAcksNotify]);
        let refused = &drive.divergences[1].report.divergence.trace[line.get() as usize - 1];
        assert!(refused.contains("notify_capabilities"), "{refused}");
        assert!(refused.contains("\"error\""), "{refused}");
    }

    /// Where each rule can break first, each is reported with a session that breaks it first,
    /// and the validator names that rule on that line of its trace: a widget that sends the
    /// application's request before the session when asked early (`widget-reexchange-after-session`)
    /// and whose view keeps the first notify's approved set (`widget-view-follows-notify`, after
    /// a re-exchange asked late), as matrix-widget-api's `WidgetApi` does.
    #[test]
    fn each_rule_is_reported_with_a_trace_that_breaks_it_first() {
        let mut adapter = Both(
            WidgetHandler::new(Some(WidgetMutant::EarlyRequest)),
            WidgetHandler::new(Some(WidgetMutant::FirstNotifyOnly)),
        );
        let profile = Profile::WIDGET_API;
        let drive = drive_widget(&options(profile), &mut adapter, &mut |_| {});
        let rules: Vec<Rule> = drive
            .divergences
            .iter()
            .filter_map(WidgetFound::rule)
            .collect();
        assert_eq!(
            rules,
            [
                Rule::WidgetViewFollowsNotify,
                Rule::WidgetReexchangeAfterSession
            ]
        );
        for found in &drive.divergences {
            assert_eq!(found.behind, None);
            let d = &found.report.divergence;
            let verdict = capneg_model::validate::validate(
                capneg_model::validate::Options {
                    profile,
                    partial: false,
                    side: Side::Widget,
                },
                d.trace.join("\n").as_bytes(),
            )
            .unwrap();
            let capneg_model::validate::Verdict::Violates { line, findings, .. } = verdict else {
                panic!("{verdict:?}")
            };
            assert_eq!(Some(line), d.line(), "{}", d.trace.join("\n"));
            assert!(
                findings.iter().any(|f| f.rule == d.rules()[0]),
                "{findings:?}"
            );
        }
    }
}
