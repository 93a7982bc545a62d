//! The differential driver (`capneg drive`): an external client against the reference, in
//! lockstep, on generated sessions.
//!
//! Each session is run on both clients at once ([`Lockstep`]). After every command the adapter's
//! outputs are judged by the rules of the profile (the [`Observer`](capneg_model::Observer) is fed
//! the widget line, then the adapter's client and prompt lines) and compared with the reference's
//! outputs in compact form. Both sides' messages are read through a codec of their own: actions,
//! `api`, data and responses are compared (capability lists as sets, error responses as errors),
//! the requestIds of requests the client starts are not (each client picks its own), the
//! requestIds it echoes in its responses are. Messages are compared in order, and prompts in
//! order; a missing or extra output is a difference. The first rule broken, or else the first
//! difference, is the divergence.
//!
//! [`drive`] searches with proptest: sessions come from [`crate::strategy::sessions`] with a
//! deterministic RNG, and the first diverging session is shrunk to a minimal one. Shrinking keeps
//! the kind of the divergence first found (the same rule, or a difference, or no answer, or a
//! crash), so the minimal session shows that divergence and not another one met on the way.

use crate::adapter::{Adapter, Failure};
use crate::protocol::Handler;
use crate::runner::{Out, OutKind, Side};
use crate::session::{Session, Step};
use crate::strategy::sessions;
use crate::universe::UNIVERSE_LEN;
use capneg_model::rules::mutants::ClientKind;
use capneg_model::{Line, Rule};
use capneg_reference::msg::{Action, Api, Body, ClientMsg, Data, Msg, Reply};
use capneg_reference::{CapSet, Profile};
use capneg_wire::codec::Codec;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// What diverged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The adapter broke these rules at this line (one past the last line: at the end).
    Rules {
        /// The line.
        line: Line,
        /// Each rule with the reason, citing lines.
        broken: Vec<(Rule, String)>,
        /// Where the rules are end-of-trace obligations the adapter left open when its outputs
        /// stopped following the reference's: that difference.
        difference: Option<Box<Finding>>,
    },
    /// The adapter's output differs from the reference's.
    Differs {
        /// The adapter's line (for a missing output: the last line of the command).
        line: Line,
        /// The reference's output (`None`: the reference was idle).
        expected: Option<String>,
        /// The adapter's output (`None`: the adapter was idle).
        got: Option<String>,
    },
    /// The adapter failed on the command at this line (the session line: the `start`).
    Failed {
        /// The line of the command.
        line: Line,
        /// How.
        failure: Failure,
    },
    /// The adapter wrote a line that is not a protocol line.
    Protocol {
        /// The line.
        line: Line,
        /// Why.
        message: String,
    },
    /// The driver could not go on (a bug of the driver, or a replay it cannot follow).
    Internal(String),
}

/// The kind of a divergence, which shrinking keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A rule broken (the first one reported).
    Rule(Rule),
    /// An output that differs from the reference's.
    Differs,
    /// No `idle` within the timeout.
    NoAnswer,
    /// The adapter ended.
    Crashed,
    /// The adapter could not be started again.
    CannotStart,
    /// Not a protocol line.
    Protocol,
    /// The driver could not go on.
    Internal,
}

/// A divergence with the adapter's trace up to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// What diverged.
    pub finding: Finding,
    /// The adapter's side of the session (SPEC §5), with the widget lines as sent to it.
    pub trace: Vec<String>,
    /// The reference's side of the same session.
    pub reference: Vec<String>,
}

impl Divergence {
    /// Its kind.
    pub fn class(&self) -> Class {
        match &self.finding {
            Finding::Rules { broken, .. } => broken
                .first()
                .map_or(Class::Internal, |(rule, _)| Class::Rule(*rule)),
            Finding::Differs { .. } => Class::Differs,
            Finding::Failed { failure, .. } => match failure {
                Failure::NoAnswer(_) => Class::NoAnswer,
                Failure::Crashed { .. } => Class::Crashed,
                Failure::CannotStart(_) => Class::CannotStart,
            },
            Finding::Protocol { .. } => Class::Protocol,
            Finding::Internal(_) => Class::Internal,
        }
    }

    /// Whether it is of kind `class` (for a rule: whether it breaks that rule).
    pub fn is(&self, class: Class) -> bool {
        match (class, &self.finding) {
            (Class::Rule(rule), Finding::Rules { broken, .. }) => {
                broken.iter().any(|(r, _)| *r == rule)
            }
            _ => self.class() == class,
        }
    }

    /// The rules it names (empty unless rules were broken).
    pub fn rules(&self) -> Vec<Rule> {
        match &self.finding {
            Finding::Rules { broken, .. } => broken.iter().map(|(r, _)| *r).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether it happened on the `start` command.
    pub fn at_start(&self) -> bool {
        matches!(self.finding, Finding::Failed { line, .. } if line == Line::FIRST)
    }

    /// What diverged, in words: one line per rule broken, or the differing output (expected vs
    /// got), or how the adapter failed with its stderr.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match &self.finding {
            Finding::Rules {
                line,
                broken,
                difference,
            } => {
                let place = if line.get() as usize > self.trace.len() {
                    "at the end".to_owned()
                } else {
                    format!("line {line}")
                };
                for (rule, reason) in broken {
                    let _ = writeln!(s, "{place}: violates {rule}: {reason}");
                }
                if let Some(d) = difference {
                    let _ = write!(
                        s,
                        "the trace ends where the adapter's outputs stopped following the reference's:\n{}",
                        Divergence {
                            finding: (**d).clone(),
                            trace: Vec::new(),
                            reference: Vec::new(),
                        }
                        .describe()
                    );
                }
            }
            Finding::Differs {
                line,
                expected,
                got,
            } => {
                let _ = match (expected, got) {
                    (Some(e), Some(g)) => writeln!(
                        s,
                        "line {line}: differs from the reference (requestIds of the client's own requests are not compared)\n  expected {e}\n  got      {g}"
                    ),
                    (Some(e), None) => writeln!(
                        s,
                        "after line {line}: the adapter said idle, the reference had more to say\n  expected {e}\n  got      nothing"
                    ),
                    (None, Some(g)) => writeln!(
                        s,
                        "line {line}: the adapter said more than the reference\n  expected nothing (the reference was idle)\n  got      {g}"
                    ),
                    (None, None) => writeln!(s, "line {line}: differs from the reference"),
                };
            }
            Finding::Failed { line, failure } => {
                let after = if *line == Line::FIRST {
                    "the start command".to_owned()
                } else {
                    format!("the command of line {line}")
                };
                match failure {
                    Failure::NoAnswer(t) => {
                        let _ = writeln!(
                            s,
                            "line {line}: no answer: the adapter did not say idle within {} ms after {after}",
                            t.as_millis()
                        );
                    }
                    Failure::Crashed {
                        status,
                        stderr,
                        detail,
                        ..
                    } => {
                        match status {
                            Some(st) => {
                                let _ = write!(
                                    s,
                                    "line {line}: the adapter crashed after {after} ({st})"
                                );
                                if let Some(d) = detail {
                                    let _ = write!(s, ": {d}");
                                }
                            }
                            None => {
                                let _ = write!(
                                    s,
                                    "line {line}: the adapter's output broke off after {after}"
                                );
                                if let Some(d) = detail {
                                    let _ = write!(s, ": {d}");
                                }
                                s.push_str("; it was stopped");
                            }
                        }
                        s.push('\n');
                        if stderr.trim().is_empty() {
                            s.push_str("  its stderr was empty\n");
                        } else {
                            s.push_str("  its stderr:\n");
                            for l in stderr.lines() {
                                let _ = writeln!(s, "  | {l}");
                            }
                        }
                    }
                    Failure::CannotStart(e) => {
                        let _ = writeln!(s, "line {line}: cannot start the adapter again: {e}");
                    }
                }
            }
            Finding::Protocol { line, message } => {
                let _ = writeln!(s, "line {line}: not a protocol line: {message}");
            }
            Finding::Internal(message) => {
                let _ = writeln!(s, "the driver could not go on: {message}");
            }
        }
        s
    }
}

/// Runs sessions on the reference and an adapter in lockstep.
pub struct Lockstep {
    profile: Profile,
    reference: Handler,
    ref_side: Side,
    side: Side,
    ref_lines: Vec<String>,
    lines: Vec<String>,
    commands: u64,
}

impl std::fmt::Debug for Lockstep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockstep")
            .field("profile", &self.profile.name)
            .finish()
    }
}

impl Lockstep {
    /// A lockstep against `profile`'s reference, judging by `profile`'s rules.
    pub fn new(profile: Profile) -> Lockstep {
        Lockstep {
            profile,
            reference: Handler::new(profile, ClientKind::Reference),
            ref_side: Side::new(None, false),
            side: Side::new(Some(profile), false),
            ref_lines: Vec::new(),
            lines: Vec::new(),
            commands: 0,
        }
    }

    /// The number of commands sent to adapters so far.
    pub fn commands(&self) -> u64 {
        self.commands
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The adapter's side of the last session.
    pub fn trace(&self) -> &[String] {
        self.side.trace()
    }

    /// The reference's side of the last session.
    pub fn reference_trace(&self) -> &[String] {
        self.ref_side.trace()
    }

    /// Runs one session; the first divergence, if any.
    pub fn run(
        &mut self,
        session: &Session,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        self.ref_side.begin(&session.start);
        self.side.begin(&session.start);
        let start = session.start.command();
        self.exchange(&start, &start, adapter)?;
        for step in &session.steps {
            match step {
                Step::Decide(_) | Step::Decision(_) => {
                    let Some(approved) = self.ref_side.decision(step) else {
                        continue;
                    };
                    let line = self.ref_side.decision_input(&approved);
                    self.side.decision_input(&approved);
                    self.exchange(&line, &line, adapter)?;
                }
                _ => {
                    let Some(ref_line) = self.ref_side.widget_line(step) else {
                        continue;
                    };
                    let Some(line) = self.side.widget_line(step) else {
                        return Err(self.diverge(Finding::Internal(format!(
                            "the adapter has no open request for the widget's answer {ref_line}"
                        ))));
                    };
                    self.ref_side.widget_input(ref_line.clone());
                    self.side.widget_input(line.clone());
                    self.exchange(&ref_line, &line, adapter)?;
                }
            }
        }
        self.side.finish();
        self.check_rules()
    }

    fn diverge(&self, finding: Finding) -> Box<Divergence> {
        Box::new(Divergence {
            finding,
            trace: self.side.trace().to_vec(),
            reference: self.ref_side.trace().to_vec(),
        })
    }

    fn exchange(
        &mut self,
        ref_line: &str,
        line: &str,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        let command_line = self.side.last();
        self.commands += 1;
        if let Err(e) = self.reference.handle(ref_line, &mut self.ref_lines) {
            return Err(self.diverge(Finding::Internal(format!(
                "the reference refused the command {ref_line}: {e}"
            ))));
        }
        self.ref_side.outputs(&mut self.ref_lines);
        self.lines.clear();
        if let Err(mut failure) = adapter.command(line, &mut self.lines) {
            if let Failure::Crashed { lines, detail, .. } = &mut failure {
                keep_protocol_lines(lines, detail);
                self.lines.clone_from(lines);
                self.side.outputs(&mut self.lines);
            }
            return Err(self.diverge(Finding::Failed {
                line: command_line,
                failure,
            }));
        }
        self.side.outputs(&mut self.lines);
        if let Some((line, message)) = self.side.protocol_error() {
            let finding = Finding::Protocol {
                line: *line,
                message: message.clone(),
            };
            return Err(self.diverge(finding));
        }
        self.check_rules()?;
        if let Some(difference) = compare(&self.ref_side, &self.side) {
            // If the session ended here, would the adapter leave obligations open (a request
            // unanswered, a round without its notify)? The reference never does: that is the
            // rule its difference breaks.
            let end = self.side.end_violations();
            if let Some((line, _)) = end.first() {
                let finding = Finding::Rules {
                    line: *line,
                    broken: self.broken(&end, *line),
                    difference: Some(Box::new(difference)),
                };
                return Err(self.diverge(finding));
            }
            return Err(self.diverge(difference));
        }
        Ok(())
    }

    fn broken(
        &self,
        violations: &[(Line, capneg_model::Violation)],
        at: Line,
    ) -> Vec<(Rule, String)> {
        let mut broken: Vec<(Rule, String)> = Vec::new();
        for (_, v) in violations.iter().filter(|(p, _)| *p == at) {
            if !broken.iter().any(|(r, _)| *r == v.rule) {
                broken.push((v.rule, v.reason.describe(&self.side.codec().caps)));
            }
        }
        broken
    }

    fn check_rules(&self) -> Result<(), Box<Divergence>> {
        let violations = self.side.violations();
        let Some((first, _)) = violations.first() else {
            return Ok(());
        };
        Err(self.diverge(Finding::Rules {
            line: *first,
            broken: self.broken(violations, *first),
            difference: None,
        }))
    }
}

/// The first output of the last command where `side` differs from `reference`.
fn compare(reference: &Side, side: &Side) -> Option<Finding> {
    let (rc, ac) = (reference.codec(), side.codec());
    let is_msg = |o: &&Out| matches!(o.kind, OutKind::Msg(_));
    let is_prompt = |o: &&Out| matches!(o.kind, OutKind::Prompt(_));
    let msgs = first_difference(
        reference.outs().iter().filter(is_msg),
        side.outs().iter().filter(is_msg),
        |a, b| match (&a.kind, &b.kind) {
            (OutKind::Msg(a), OutKind::Msg(b)) => same_msg(rc, a, ac, b),
            _ => false,
        },
    );
    let prompts = first_difference(
        reference.outs().iter().filter(is_prompt),
        side.outs().iter().filter(is_prompt),
        |a, b| match (&a.kind, &b.kind) {
            (OutKind::Prompt(a), OutKind::Prompt(b)) => same_caps(rc, a, ac, b),
            _ => false,
        },
    );
    let position = |d: &(Option<&Out>, Option<&Out>)| d.1.map_or(u32::MAX, |o| o.line.get());
    let first = match (msgs, prompts) {
        (Some(m), Some(p)) => Some(if position(&p) < position(&m) { p } else { m }),
        (m, p) => m.or(p),
    }?;
    let text = |s: &Side, o: Option<&Out>| o.and_then(|o| s.line(o.line)).map(str::to_owned);
    Some(Finding::Differs {
        line: first.1.map_or(side.last(), |o| o.line),
        expected: text(reference, first.0),
        got: text(side, first.1),
    })
}

/// The first pair that differs (one side missing counts), as (reference, adapter).
fn first_difference<'a>(
    mut reference: impl Iterator<Item = &'a Out>,
    mut adapter: impl Iterator<Item = &'a Out>,
    same: impl Fn(&Out, &Out) -> bool,
) -> Option<(Option<&'a Out>, Option<&'a Out>)> {
    loop {
        match (reference.next(), adapter.next()) {
            (None, None) => return None,
            (Some(r), Some(a)) if same(r, a) => {}
            (r, a) => return Some((r, a)),
        }
    }
}

/// Whether two capability sets, each interned by its own side, hold the same strings.
fn same_caps(ca: &Codec, a: &CapSet, cb: &Codec, b: &CapSet) -> bool {
    // Both sides intern the universe first, in the same order.
    if a == b && a.iter().all(|c| (c.0 as usize) < UNIVERSE_LEN) {
        return true;
    }
    a.len() == b.len()
        && a.iter()
            .all(|c| cb.caps.get(ca.caps.name(c)).is_some_and(|d| b.contains(d)))
}

fn same_action(ca: &Codec, a: Action, cb: &Codec, b: Action) -> bool {
    match (a, b) {
        (Action::Other(_), Action::Other(_)) => ca.action_name(a) == cb.action_name(b),
        _ => a == b,
    }
}

fn same_data(ca: &Codec, a: &Data, cb: &Codec, b: &Data) -> bool {
    match (a, b) {
        (
            Data::Notify {
                requested: r1,
                approved: a1,
            },
            Data::Notify {
                requested: r2,
                approved: a2,
            },
        ) => same_caps(ca, r1, cb, r2) && same_caps(ca, a1, cb, a2),
        (Data::Capabilities(x), Data::Capabilities(y)) | (Data::Gated(x), Data::Gated(y)) => {
            same_caps(ca, x, cb, y)
        }
        _ => a == b,
    }
}

fn same_reply(ca: &Codec, a: &Reply, cb: &Codec, b: &Reply) -> bool {
    match (a, b) {
        (Reply::Error(_), Reply::Error(_)) => true,
        (Reply::Capabilities(x), Reply::Capabilities(y)) => same_caps(ca, x, cb, y),
        _ => a == b,
    }
}

/// Whether two client messages, each read by its own side, mean the same (SPEC §8).
fn same_msg(ca: &Codec, a: &ClientMsg, cb: &Codec, b: &ClientMsg) -> bool {
    match (a, b) {
        (Err(x), Err(y)) => x == y,
        (Ok(x), Ok(y)) => same_ok(ca, x, cb, y),
        _ => false,
    }
}

fn same_ok(ca: &Codec, a: &Msg, cb: &Codec, b: &Msg) -> bool {
    if a.api != b.api || a.foreign != b.foreign || !same_action(ca, a.action, cb, b.action) {
        return false;
    }
    match (&a.body, &b.body) {
        (Body::Request(x), Body::Request(y)) => same_data(ca, x, cb, y),
        (Body::Response(x), Body::Response(y)) => {
            // Responses to the widget echo its requestId; both sides intern the widget's ids in
            // the same order.
            (a.api == Api::ToWidget || a.id == b.id) && same_reply(ca, x, cb, y)
        }
        _ => false,
    }
}

/// How to drive.
#[derive(Clone, Debug)]
pub struct Options {
    /// The profile of the reference and of the rules.
    pub profile: Profile,
    /// The number of generated sessions.
    pub cases: u32,
    /// The seed of the generator.
    pub seed: u64,
    /// The most shrinking steps.
    pub max_shrink_iters: u32,
    /// The longest time spent shrinking.
    pub max_shrink_time: Duration,
}

impl Options {
    /// `cases` sessions under `profile` with the default seed.
    pub fn new(profile: Profile, cases: u32) -> Options {
        Options {
            profile,
            cases,
            seed: 0,
            max_shrink_iters: 4096,
            max_shrink_time: Duration::from_secs(120),
        }
    }
}

/// Counts of a drive.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Sessions run (shrinking included).
    pub sessions: u64,
    /// Commands sent to the adapter.
    pub commands: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Stats {
    /// Sessions per second.
    pub fn rate(&self) -> f64 {
        self.sessions as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A divergence found by [`drive`], shrunk.
#[derive(Clone, Debug)]
pub struct Report {
    /// The divergence of the minimal session.
    pub divergence: Divergence,
    /// The minimal session.
    pub session: Session,
    /// What the adapter wrote on stderr during the minimal session.
    pub stderr: String,
    /// The number of the generated session that first diverged.
    pub found_after: u64,
    /// Counts of the whole drive.
    pub stats: Stats,
}

/// How a drive ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// No divergence.
    Passed(Stats),
    /// A divergence, shrunk.
    Diverged(Box<Report>),
}

/// The RNG of seed `seed` (deterministic).
pub fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    let mut x = seed;
    for chunk in bytes.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

struct Search<'a> {
    lockstep: Lockstep,
    adapter: &'a mut dyn Adapter,
    class: Option<Class>,
    stop: bool,
    sessions: u64,
    found_after: u64,
    shrink_started: Option<Instant>,
    max_shrink_time: Duration,
    slow: u32,
    last: Option<(Session, Box<Divergence>, String)>,
}

/// The most failing runs that cost a timeout or a restart while shrinking.
const MAX_SLOW_SHRINKS: u32 = 12;

impl Search<'_> {
    fn test(&mut self, session: &Session) -> Result<(), TestCaseError> {
        if self.stop {
            return Ok(());
        }
        self.sessions += 1;
        let mark = self.adapter.stderr_mark();
        let Err(divergence) = self.lockstep.run(session, self.adapter) else {
            return Ok(());
        };
        let class = divergence.class();
        match self.class {
            None => {
                self.class = Some(class);
                self.found_after = self.sessions;
                self.shrink_started = Some(Instant::now());
                // Nothing to shrink when the adapter fails on its very first command.
                let fatal = matches!(class, Class::NoAnswer | Class::Crashed | Class::CannotStart);
                if class == Class::CannotStart || (fatal && divergence.at_start()) {
                    self.stop = true;
                }
            }
            Some(first) if !divergence.is(first) => return Ok(()),
            Some(_) => {}
        }
        if matches!(class, Class::NoAnswer | Class::Crashed) {
            self.slow += 1;
            if self.slow > MAX_SLOW_SHRINKS {
                self.stop = true;
            }
        }
        if self
            .shrink_started
            .is_some_and(|t| t.elapsed() > self.max_shrink_time)
        {
            self.stop = true;
        }
        let stderr = self.adapter.stderr_since(mark);
        self.last = Some((session.clone(), divergence, stderr));
        Err(TestCaseError::fail("diverged"))
    }
}

/// Drives `adapter` with `options.cases` generated sessions against the reference of
/// `options.profile`; shrinks the first divergence.
pub fn drive(options: &Options, adapter: &mut dyn Adapter) -> Outcome {
    let started = Instant::now();
    let config = Config {
        cases: options.cases,
        failure_persistence: None,
        source_file: None,
        max_shrink_iters: options.max_shrink_iters,
        max_shrink_time: 0,
        fork: false,
        timeout: 0,
        verbose: 0,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng(options.seed));
    let search = RefCell::new(Search {
        lockstep: Lockstep::new(options.profile),
        adapter,
        class: None,
        stop: false,
        sessions: 0,
        found_after: 0,
        shrink_started: None,
        max_shrink_time: options.max_shrink_time,
        slow: 0,
        last: None,
    });
    let result = runner.run(&sessions(), |session| search.borrow_mut().test(&session));
    let mut search = search.into_inner();
    let minimal = match result {
        Ok(()) => None,
        Err(TestError::Fail(_, minimal)) => Some(minimal),
        Err(TestError::Abort(reason)) => {
            let divergence = Divergence {
                finding: Finding::Internal(format!("the search was aborted: {reason}")),
                trace: Vec::new(),
                reference: Vec::new(),
            };
            search.last = Some((simplest(), Box::new(divergence), String::new()));
            None
        }
    };
    let (session, divergence, stderr) = match (minimal, search.last.take()) {
        (None, None) => {
            return Outcome::Passed(Stats {
                sessions: search.sessions,
                commands: search.lockstep.commands(),
                elapsed: started.elapsed(),
            })
        }
        (None, Some(last)) => last,
        (Some(minimal), Some(last)) if last.0 == minimal || search.stop => last,
        (Some(minimal), last) => {
            // Run the minimal session again for its trace (it should diverge the same way).
            let mark = search.adapter.stderr_mark();
            search.sessions += 1;
            match search.lockstep.run(&minimal, search.adapter) {
                Err(d) if search.class.is_none_or(|c| d.is(c)) => {
                    let stderr = search.adapter.stderr_since(mark);
                    (minimal, d, stderr)
                }
                _ => last.unwrap_or_else(unreachable_session),
            }
        }
    };
    // A failure on the very first command was not shrunk: show it on the simplest session if it
    // fails there the same way.
    let (session, divergence, stderr) = match divergence.class() {
        class @ (Class::NoAnswer | Class::Crashed)
            if divergence.at_start() && session != simplest() =>
        {
            let mark = search.adapter.stderr_mark();
            search.sessions += 1;
            match search.lockstep.run(&simplest(), search.adapter) {
                Err(d) if d.is(class) && d.at_start() => {
                    let stderr = search.adapter.stderr_since(mark);
                    (simplest(), d, stderr)
                }
                _ => (session, divergence, stderr),
            }
        }
        _ => (session, divergence, stderr),
    };
    Outcome::Diverged(Box::new(Report {
        divergence: *divergence,
        session,
        stderr,
        found_after: search.found_after,
        stats: Stats {
            sessions: search.sessions,
            commands: search.lockstep.commands(),
            elapsed: started.elapsed(),
        },
    }))
}

/// The simplest session: a `start` without `autoApprove` or waiting, and nothing else.
fn simplest() -> Session {
    Session {
        start: crate::session::Start::new(crate::universe::Caps::NONE, false),
        steps: Vec::new(),
    }
}

/// A placeholder for a state the search cannot end in (a minimal session without a failing
/// run), reported instead of panicking.
fn unreachable_session() -> (Session, Box<Divergence>, String) {
    (
        simplest(),
        Box::new(Divergence {
            finding: Finding::Internal("the minimal session no longer diverges".into()),
            trace: Vec::new(),
            reference: Vec::new(),
        }),
        String::new(),
    )
}

/// Runs one given session (a replayed script) in lockstep: the adapter's trace, and the
/// divergence if any.
pub fn replay(
    profile: Profile,
    session: &Session,
    adapter: &mut dyn Adapter,
) -> (Vec<String>, Option<Box<Divergence>>) {
    let mut lockstep = Lockstep::new(profile);
    match lockstep.run(session, adapter) {
        Ok(_) => (lockstep.trace().to_vec(), None),
        Err(d) => (d.trace.clone(), Some(d)),
    }
}

/// Keeps, of what a failed adapter wrote, the client and prompt lines before anything else, so
/// that the divergence's trace stays a trace (SPEC §5) whatever the adapter wrote (an adapter
/// that floods its output is stopped after 100,000 lines). What is left out is counted in
/// `detail`, with the first line left out.
fn keep_protocol_lines(lines: &mut Vec<String>, detail: &mut Option<String>) {
    let kept = lines
        .iter()
        .take_while(|l| {
            matches!(
                capneg_wire::trace::parse_line(l).map(|l| l.key),
                Ok(capneg_wire::trace::Key::Client | capneg_wire::trace::Key::Prompt)
            )
        })
        .count();
    let Some(first) = lines.get(kept) else {
        return;
    };
    let mut excerpt: String = first.chars().take(120).collect();
    if excerpt.len() < first.len() {
        excerpt.push_str("...");
    }
    let left_out = lines.len() - kept;
    let note = format!(
        "{left_out} line{} of its output left out of the trace, from the first that is not a \
         client or prompt line: `{excerpt}`",
        if left_out == 1 { "" } else { "s" }
    );
    *detail = Some(match detail.take() {
        Some(d) => format!("{d}; {note}"),
        None => note,
    });
    lines.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use capneg_model::rules::mutants::MutantKind;

    #[test]
    fn the_reference_does_not_diverge_from_itself() {
        for profile in Profile::ALL {
            let mut adapter = Handler::new(profile, ClientKind::Reference);
            match drive(&Options::new(profile, 64), &mut adapter) {
                Outcome::Passed(stats) => assert_eq!(stats.sessions, 64),
                Outcome::Diverged(r) => panic!("{profile}: {}", r.divergence.describe()),
            }
        }
    }

    #[test]
    fn a_mutant_is_found_and_shrunk() {
        let mut adapter = Handler::new(Profile::MSC, ClientKind::Mutant(MutantKind::DoubleNotify));
        let Outcome::Diverged(report) = drive(&Options::new(Profile::MSC, 256), &mut adapter)
        else {
            panic!("not found")
        };
        assert_eq!(report.divergence.rules(), [Rule::OneNotifyPerRound]);
        // start, capabilities, the answer, its notify and the second notify.
        assert_eq!(
            report.divergence.trace.len(),
            5,
            "{:#?}",
            report.divergence.trace
        );
    }
}
