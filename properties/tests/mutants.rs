//! Every deliberately wrong client is caught by the rule it breaks, on a generated session: by
//! the rules' observer over a run of the mutant alone, and by the differential driver against
//! the reference.
//!
//! The search uses the session strategy with `PROPTEST_CASES` cases (proptest's default
//! configuration) per mutant, from a fixed seed; seeds that found a mutant are kept in
//! `proptest-regressions/mutants.txt` and tried first. Each shrunk session is printed (run with
//! `--nocapture` to see them).

mod common;

use capneg_model::rules::mutants::{ClientKind, MutantKind};
use capneg_properties::drive::{drive, rng, Options, Outcome};
use capneg_properties::protocol::Handler;
use capneg_properties::runner::run_session;
use capneg_properties::strategy::sessions;
use capneg_properties::universe::UNIVERSE;
use capneg_reference::Interner;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::fmt::Write as _;

fn config() -> Config {
    common::config_keeping(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/mutants.txt"
    ))
}

#[test]
fn every_mutant_is_caught_by_its_rule() {
    let mut report = String::new();
    let mut missed = Vec::new();
    for (i, (profile, kind)) in MutantKind::checked().enumerate() {
        let target = kind.target();
        let mut runner = TestRunner::new_with_rng(config(), rng(i as u64));
        let result = runner.run(&sessions(), |session| {
            let mut client = Handler::new(profile, ClientKind::Mutant(kind));
            let run = run_session(profile, &session, &mut client);
            if run.violations.iter().any(|(_, v)| v.rule == target) {
                Err(TestCaseError::fail(format!("{kind} breaks {target}")))
            } else {
                Ok(())
            }
        });
        match result {
            Err(TestError::Fail(_, minimal)) => {
                let mut client = Handler::new(profile, ClientKind::Mutant(kind));
                let run = run_session(profile, &minimal, &mut client);
                let _ = writeln!(
                    report,
                    "== mutant {kind} under {profile}, caught by {target}:"
                );
                for line in &run.trace {
                    let _ = writeln!(report, "{line}");
                }
                for (at, v) in run.violations.iter().filter(|(_, v)| v.rule == target) {
                    let reason = v.reason.describe(&Interner::with_names(UNIVERSE));
                    let _ = writeln!(report, "line {at}: violates {}: {reason}", v.rule);
                }
            }
            Ok(()) => missed.push(format!("{kind} under {profile}: not caught by {target}")),
            Err(TestError::Abort(why)) => {
                missed.push(format!("{kind} under {profile}: search aborted: {why}"))
            }
        }
    }
    println!("{report}");
    assert!(missed.is_empty(), "{missed:#?}");
}

/// Mutants the driver catches only as an output that differs from the reference's, not by their
/// rule. None: the observer judges every command before the comparison, and each mutant's
/// defect breaks its rule at the command where it first shows.
const DIFFERS_ONLY: [MutantKind; 0] = [];

#[test]
fn the_driver_names_each_mutants_rule() {
    let cases = Config::default().cases;
    let mut wrong = Vec::new();
    for (profile, kind) in MutantKind::checked() {
        let mut adapter = Handler::new(profile, ClientKind::Mutant(kind));
        match drive(&Options::new(profile, cases), &mut adapter) {
            Outcome::Passed(_) => wrong.push(format!("{kind} under {profile}: not found")),
            Outcome::Diverged(report) => {
                let d = &report.divergence;
                let named = d.rules().contains(&kind.target());
                if named == DIFFERS_ONLY.contains(&kind) {
                    wrong.push(format!("{kind} under {profile}: {}", d.describe()));
                }
                println!(
                    "== mutant {kind} under {profile} ({} lines):\n{}",
                    d.trace.len(),
                    d.describe()
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every check of the observer (each kind of [`capneg_model::Reason`]) is reached by some mutant
/// under some profile: over generated sessions, the violations of all the mutants, under every
/// profile where each shows, name every kind of reason. A check no mutant reaches would be a
/// check no test shows able to fail.
#[test]
fn every_check_is_reached_by_some_mutant() {
    use capneg_model::Reason;
    use proptest::strategy::{Strategy, ValueTree};
    use std::collections::BTreeMap;
    let mut reached: BTreeMap<&str, String> = BTreeMap::new();
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(7));
    let sessions: Vec<_> = (0..300)
        .map(|_| sessions().new_tree(&mut runner).unwrap().current())
        .collect();
    for (profile, kind) in MutantKind::checked() {
        for session in &sessions {
            let mut client = Handler::new(profile, ClientKind::Mutant(kind));
            let run = run_session(profile, session, &mut client);
            for (_, v) in &run.violations {
                reached
                    .entry(v.reason.kind())
                    .or_insert_with(|| format!("{kind} under {profile}"));
            }
        }
    }
    for (check, by) in &reached {
        println!("{check:24} reached by {by}");
    }
    // The widget's own checks are reached by the widget's mutants (tests/widget_drive.rs).
    let missed: Vec<&str> = Reason::<capneg_model::Line>::KINDS
        .into_iter()
        .filter(|k| !Reason::<capneg_model::Line>::WIDGET_KINDS.contains(k))
        .filter(|k| !reached.contains_key(k))
        .collect();
    assert!(missed.is_empty(), "checks no mutant reaches: {missed:?}");
}
