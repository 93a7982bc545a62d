//! The differential driver (`capneg drive`, docs/spec.md §7.8): an external client against the
//! reference, in lockstep, on generated sessions (docs/spec.md §8.4).
//!
//! How the pieces fit:
//!
//! - `findings`: what diverged ([`Finding`], [`Class`], [`Divergence`]) and its description in
//!   words.
//! - `compare`: the comparison of the two sides' outputs in compact form, giving a
//!   [`Finding::Differs`].
//! - `lockstep`: [`Lockstep`], one session run on the adapter ([`crate::process`]) and the
//!   in-process reference at once; after every command the adapter's outputs are judged by the
//!   rules, then compared with the reference's. The first rule broken, or else the first
//!   difference, is the divergence.
//! - `search`: the proptest search over [`crate::strategy::sessions`] with a deterministic RNG
//!   ([`rng`]), and the shrinking of the first diverging session to a minimal one that shows the
//!   same kind of divergence.
//! - here: the entry points. [`drive`] runs the search and reports the minimal diverging session
//!   ([`Outcome`], [`Report`], [`Stats`]); [`replay`] runs one given session.
//!
//! Each module uses only the ones before it in this list.

mod compare;
mod findings;
mod lockstep;
mod search;

pub use findings::{Class, Divergence, Finding};
pub use lockstep::Lockstep;
pub use search::rng;

use crate::process::Adapter;
use crate::session::Session;
use crate::strategy::sessions;
use capneg_reference::Profile;
use proptest::test_runner::{Config, TestError, TestRunner};
use search::{simplest, unreachable_session, Search};
use std::cell::RefCell;
use std::time::{Duration, Instant};

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
    use crate::protocol::Handler;
    use capneg_model::rules::mutants::{ClientKind, MutantKind};
    use capneg_model::Rule;

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
