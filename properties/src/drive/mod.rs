//! The differential driver (`capneg drive`, docs/spec.md §7.8): an external client against the
//! reference, in lockstep, on generated sessions (docs/spec.md §8.4).
//!
//! How the pieces fit:
//!
//! - `findings`: what diverged ([`Finding`], [`Class`], [`Divergence`]) and its description in
//!   words.
//! - `compare`: the comparison of the two sides' outputs in compact form, giving a
//!   [`Finding::Differs`].
//! - `lines`: why a line the adapter wrote is not a protocol line, precisely.
//! - `lockstep`: [`Lockstep`], one session run on the adapter ([`crate::process`]) and the
//!   in-process reference at once; after every command the adapter's outputs are judged by the
//!   rules, then compared with the reference's. The first rule broken, or else the first
//!   difference, is the divergence.
//! - `search`: the proptest search over [`crate::strategy::sessions`] with a deterministic RNG
//!   ([`rng`]), and the shrinking of the first diverging session to a minimal one that shows the
//!   same kind of divergence, within a time limit ([`ShrinkLimit`]).
//! - here: the entry points. [`drive`] runs the search and reports the minimal diverging session
//!   ([`Outcome`], [`Report`], [`Stats`]), [`drive_with`] also reports its [`Progress`];
//!   [`replay`] runs one given session; [`printed`] bounds the trace printed.
//!
//! Each module uses only the ones before it in this list.

mod compare;
mod findings;
mod lines;
mod lockstep;
mod search;

pub use findings::{Class, Divergence, Finding};
pub use lockstep::Lockstep;
pub use search::{rng, Progress, ShrinkLimit};

use crate::process::Adapter;
use crate::session::Session;
use crate::strategy::sessions;
use capneg_reference::Profile;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestError, TestRunner};
use search::{unreachable_session, Search};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// What runs one generated session against an adapter and the in-process reference: the
/// client's [`Lockstep`], or the widget's ([`crate::widget_drive::WidgetLockstep`]).
pub trait Harness {
    /// A session it runs.
    type Session: Clone + std::fmt::Debug + PartialEq;
    /// Runs `session` on `adapter` and the reference: the divergence, if any.
    fn run(
        &mut self,
        session: &Self::Session,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>>;
    /// Commands sent to the adapter so far.
    fn commands(&self) -> u64;
    /// Sessions are cut short at `deadline` (while shrinking).
    fn set_deadline(&mut self, deadline: Option<Instant>);
    /// Whether the last session was cut short.
    fn cut_short(&self) -> bool;
    /// The simplest session: the start and nothing else.
    fn simplest() -> Self::Session;
}

impl Harness for Lockstep {
    type Session = Session;
    fn run(&mut self, session: &Session, adapter: &mut dyn Adapter) -> Result<(), Box<Divergence>> {
        Lockstep::run(self, session, adapter)
    }
    fn commands(&self) -> u64 {
        Lockstep::commands(self)
    }
    fn set_deadline(&mut self, deadline: Option<Instant>) {
        Lockstep::set_deadline(self, deadline)
    }
    fn cut_short(&self) -> bool {
        Lockstep::cut_short(self)
    }
    fn simplest() -> Session {
        Session {
            start: crate::session::Start::new(crate::universe::Caps::NONE, false),
            steps: Vec::new(),
        }
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
    /// The longest time spent shrinking ([`DEFAULT_SHRINK_TIME`] by default; zero: no
    /// shrinking). Past it, the session reached so far is reported, marked not minimal.
    pub max_shrink_time: Duration,
}

/// The longest time spent shrinking by default: shrinking against a quick adapter takes well
/// under a second, and against a slow one every session may take seconds.
pub const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(30);

impl Options {
    /// `cases` sessions under `profile` with the default seed.
    pub fn new(profile: Profile, cases: u32) -> Options {
        Options {
            profile,
            cases,
            seed: 0,
            max_shrink_iters: 4096,
            max_shrink_time: DEFAULT_SHRINK_TIME,
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
pub struct Report<S = Session> {
    /// The divergence of the minimal session.
    pub divergence: Divergence,
    /// The minimal session.
    pub session: S,
    /// What the adapter wrote on stderr during the minimal session.
    pub stderr: String,
    /// The number of the generated session that first diverged.
    pub found_after: u64,
    /// Why shrinking stopped before it ended, if it did: the session is then not minimal.
    pub shrink_limit: Option<ShrinkLimit>,
    /// Counts of the whole drive.
    pub stats: Stats,
}

/// How a drive ended.
#[derive(Clone, Debug)]
pub enum Outcome<S = Session> {
    /// No divergence.
    Passed(Stats),
    /// A divergence, shrunk.
    Diverged(Box<Report<S>>),
}

/// Drives `adapter` with `options.cases` generated sessions against the reference of
/// `options.profile`; shrinks the first divergence.
pub fn drive(options: &Options, adapter: &mut dyn Adapter) -> Outcome {
    drive_with(options, adapter, &mut |_| {})
}

/// [`drive`], reporting its progress after every session.
pub fn drive_with(
    options: &Options,
    adapter: &mut dyn Adapter,
    progress: &mut dyn FnMut(&Progress),
) -> Outcome {
    search_with(
        options,
        Lockstep::new(options.profile),
        sessions(),
        false,
        adapter,
        progress,
    )
    .0
}

/// Runs `options.cases` sessions of `strategy` through `harness` on `adapter`, and shrinks the
/// first divergence; with `only_rules`, only a divergence that breaks a rule counts, and the
/// second value says whether some other divergence was passed over.
pub fn search_with<H: Harness, S: Strategy<Value = H::Session>>(
    options: &Options,
    harness: H,
    strategy: S,
    only_rules: bool,
    adapter: &mut dyn Adapter,
    progress: &mut dyn FnMut(&Progress),
) -> (Outcome<H::Session>, bool) {
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
        lockstep: harness,
        only_rules,
        passed_over: false,
        adapter,
        class: None,
        stop: false,
        limit: None,
        sessions: 0,
        shrink_steps: 0,
        found_after: 0,
        max_shrink_time: options.max_shrink_time,
        deadline: None,
        slow: 0,
        last: None,
        started,
        progress,
    });
    let result = runner.run(&strategy, |session| search.borrow_mut().test(&session));
    let mut search = search.into_inner();
    let passed_over = search.passed_over;
    // The sessions run from here on show the result: no deadline.
    search.lockstep.set_deadline(None);
    if search.steps_ran_out(options.max_shrink_iters) {
        search.limit = Some(ShrinkLimit::Steps(options.max_shrink_iters));
    }
    let minimal = match result {
        Ok(()) => None,
        Err(TestError::Fail(_, minimal)) => Some(minimal),
        Err(TestError::Abort(reason)) => {
            let divergence = Divergence {
                finding: Finding::Internal(format!("the search was aborted: {reason}")),
                trace: Vec::new(),
                reference: Vec::new(),
            };
            search.last = Some((H::simplest(), Box::new(divergence), String::new()));
            None
        }
    };
    let (session, divergence, stderr) = match (minimal, search.last.take()) {
        (None, None) => {
            let stats = Stats {
                sessions: search.sessions,
                commands: search.lockstep.commands(),
                elapsed: started.elapsed(),
            };
            return (Outcome::Passed(stats), passed_over);
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
                _ => last.unwrap_or_else(unreachable_session::<H>),
            }
        }
    };
    // A failure on the very first command was not shrunk: show it on the simplest session if it
    // fails there the same way.
    let (session, divergence, stderr) = match divergence.class() {
        class @ (Class::NoAnswer | Class::Crashed)
            if divergence.at_start() && session != H::simplest() =>
        {
            let mark = search.adapter.stderr_mark();
            search.sessions += 1;
            match search.lockstep.run(&H::simplest(), search.adapter) {
                Err(d) if d.is(class) && d.at_start() => {
                    let stderr = search.adapter.stderr_since(mark);
                    (H::simplest(), d, stderr)
                }
                _ => (session, divergence, stderr),
            }
        }
        _ => (session, divergence, stderr),
    };
    let report = Report {
        divergence: *divergence,
        session,
        stderr,
        found_after: search.found_after,
        shrink_limit: search.limit,
        stats: Stats {
            sessions: search.sessions,
            commands: search.lockstep.commands(),
            elapsed: started.elapsed(),
        },
    };
    (Outcome::Diverged(Box::new(report)), passed_over)
}

/// The most lines of a trace printed ([`printed`]).
pub const PRINTED_LINES: usize = 1000;

/// The most bytes of a trace printed ([`printed`]), at least its first line.
pub const PRINTED_BYTES: usize = 1 << 20;

/// The lines of `trace` that `capneg drive` prints, and how many are left out: at most
/// [`PRINTED_LINES`] lines and [`PRINTED_BYTES`] bytes from the start (at least the first line).
/// A divergence's trace keeps whatever the adapter wrote before it failed (up to 100,000 lines for
/// one command), and the printed trace stays a trace, cut at a line.
pub fn printed(trace: &[String]) -> (&[String], usize) {
    let mut bytes = 0;
    let kept = trace
        .iter()
        .take(PRINTED_LINES)
        .enumerate()
        .take_while(|(i, line)| {
            bytes += line.len() + 1;
            *i == 0 || bytes <= PRINTED_BYTES
        })
        .count();
    (&trace[..kept], trace.len() - kept)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Failure;
    use crate::protocol::Handler;
    use capneg_model::rules::mutants::{ClientKind, MutantKind};
    use capneg_model::Rule;

    /// An in-process client that takes `delay` over every command, and writes a line that is not
    /// a protocol line once: at the third command of the first session that has one, if
    /// `wrong_once`.
    struct Slow {
        client: Handler,
        delay: Duration,
        wrong_once: bool,
        in_session: u32,
    }

    impl Slow {
        fn new(kind: ClientKind, delay: Duration, wrong_once: bool) -> Slow {
            Slow {
                client: Handler::new(Profile::MSC, kind),
                delay,
                wrong_once,
                in_session: 0,
            }
        }
    }

    impl Adapter for Slow {
        fn command(&mut self, line: &str, out: &mut Vec<String>) -> Result<(), Failure> {
            std::thread::sleep(self.delay);
            if line.starts_with(r#"{"start""#) {
                self.in_session = 0;
            }
            self.in_session += 1;
            if self.wrong_once && self.in_session == 3 {
                self.wrong_once = false;
                out.push("garbage".into());
            }
            self.client.command(line, out)
        }
    }

    /// Drives `adapter` with a shrinking time of `limit`: the report, and how long shrinking took
    /// (from the end of the first diverging session).
    fn drive_for(adapter: &mut Slow, limit: Duration) -> (Report, Duration) {
        let options = Options {
            max_shrink_time: limit,
            ..Options::new(Profile::MSC, 256)
        };
        let mut found = None;
        let outcome = drive_with(&options, adapter, &mut |p| {
            if !p.shrinking {
                found = Some(p.elapsed);
            }
        });
        let Outcome::Diverged(report) = outcome else {
            panic!("not found")
        };
        let shrinking = report.stats.elapsed - found.expect("progress was reported");
        (*report, shrinking)
    }

    #[test]
    fn shrinking_a_slow_adapter_stops_at_its_time_limit() {
        // Shrinking this divergence takes about 240 commands: 2.4 s at 10 ms each.
        let kind = ClientKind::Mutant(MutantKind::DoubleNotify);
        let mut adapter = Slow::new(kind, Duration::from_millis(10), false);
        let limit = Duration::from_millis(200);
        let (report, shrinking) = drive_for(&mut adapter, limit);
        assert_eq!(report.shrink_limit, Some(ShrinkLimit::Time(limit)));
        assert!(
            shrinking < limit + Duration::from_millis(600),
            "{shrinking:?}"
        );
        // Still the divergence first found, on the smallest session reached.
        assert_eq!(report.divergence.rules(), [Rule::OneNotifyPerRound]);
        // Without a slow adapter, shrinking ends by itself: the session is minimal.
        let mut adapter = Slow::new(kind, Duration::ZERO, false);
        let (report, _) = drive_for(&mut adapter, Duration::from_secs(60));
        assert_eq!(report.shrink_limit, None);
        assert_eq!(report.divergence.trace.len(), 5);
    }

    #[test]
    fn shrinking_a_divergence_that_does_not_come_back_stops_in_time() {
        // Every session run while shrinking passes: the time limit is checked on those too.
        let mut adapter = Slow::new(ClientKind::Reference, Duration::from_millis(10), true);
        let limit = Duration::from_millis(200);
        let (report, shrinking) = drive_for(&mut adapter, limit);
        assert!(
            matches!(report.divergence.finding, Finding::Protocol { .. }),
            "{}",
            report.divergence.describe()
        );
        assert_eq!(report.shrink_limit, Some(ShrinkLimit::Time(limit)));
        assert!(
            shrinking < limit + Duration::from_millis(600),
            "{shrinking:?}"
        );
    }

    #[test]
    fn no_shrinking_time_reports_the_first_divergence_as_found() {
        let kind = ClientKind::Mutant(MutantKind::DoubleNotify);
        let mut adapter = Slow::new(kind, Duration::ZERO, false);
        let (report, _) = drive_for(&mut adapter, Duration::ZERO);
        assert_eq!(report.shrink_limit, Some(ShrinkLimit::Time(Duration::ZERO)));
        assert_eq!(report.stats.sessions, report.found_after);
        assert_eq!(
            ShrinkLimit::Time(Duration::ZERO).to_string(),
            "not shrunk (a shrinking time of 0)"
        );
    }

    #[test]
    fn printed_traces_are_bounded_in_lines_and_bytes() {
        let short: Vec<String> = (0..10).map(|i| format!("line {i}")).collect();
        assert_eq!(printed(&short), (&short[..], 0));
        let flood: Vec<String> = (0..100_001).map(|i| format!("line {i}")).collect();
        let (lines, left_out) = printed(&flood);
        assert_eq!(lines, &flood[..PRINTED_LINES]);
        assert_eq!(left_out, 100_001 - PRINTED_LINES);
        // Long lines: cut at the line that would go past the bytes, but never before the first.
        let long = vec!["x".repeat(PRINTED_BYTES / 3); 10];
        assert_eq!(printed(&long).0.len(), 2);
        let huge = vec!["x".repeat(2 * PRINTED_BYTES), "y".into()];
        assert_eq!(printed(&huge), (&huge[..1], 1));
        assert_eq!(printed(&[]), (&[][..], 0));
    }

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
