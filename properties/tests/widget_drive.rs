//! The widget driver catches every widget mutant by the rule it targets, under every profile where
//! its defect shows, with a shrunk trace that `capneg validate --side widget` rejects by that
//! rule; and every check of the widget's rules is reached by some widget mutant.

use capneg_model::rules::widget_mutants::WidgetMutant;
use capneg_model::rules::Side;
use capneg_model::validate::{validate, Options as ValidateOptions, Verdict};
use capneg_model::Reason;
use capneg_properties::drive::Options;
use capneg_properties::widget_drive::{drive_widget, widget_sessions, WidgetLockstep};
use capneg_properties::widget_protocol::WidgetHandler;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;

#[test]
fn every_widget_mutant_is_caught_by_its_rule() {
    let mut wrong = Vec::new();
    for (profile, mutant) in WidgetMutant::checked() {
        let mut adapter = WidgetHandler::new(Some(mutant));
        let drive = drive_widget(&Options::new(profile, 256), &mut adapter, &mut |_| {});
        let Some(report) = drive.divergences.first().map(|f| &f.report) else {
            wrong.push(format!("{mutant} under {profile}: not caught"));
            continue;
        };
        let d = &report.divergence;
        if d.rules().first() != Some(&mutant.target()) {
            wrong.push(format!(
                "{mutant} under {profile}: caught by {:?}, not {}:\n{}",
                d.rules(),
                mutant.target(),
                d.describe()
            ));
            continue;
        }
        // The shrunk trace is a widget's trace that the validator rejects by the same rule.
        let trace = d.trace.join("\n");
        let verdict = validate(
            ValidateOptions {
                profile,
                partial: false,
                side: Side::Widget,
            },
            trace.as_bytes(),
        )
        .unwrap();
        match verdict {
            Verdict::Violates { findings, .. }
                if findings.iter().any(|f| f.rule == mutant.target()) => {}
            other => wrong.push(format!(
                "{mutant} under {profile}: the trace validates as {other:?}\n{trace}"
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// Every check of the widget's rules (each widget kind of [`Reason`], and the shared kinds the
/// widget's rules give) is reached by some widget mutant over generated sessions.
#[test]
fn every_widget_check_is_reached_by_some_mutant() {
    let mut runner = TestRunner::new_with_rng(Config::default(), capneg_properties::drive::rng(11));
    let sessions: Vec<_> = (0..300)
        .map(|_| widget_sessions().new_tree(&mut runner).unwrap().current())
        .collect();
    let mut reached: BTreeMap<&str, String> = BTreeMap::new();
    for (profile, mutant) in WidgetMutant::checked() {
        let mut lockstep = WidgetLockstep::new(profile);
        for session in &sessions {
            let mut adapter = WidgetHandler::new(Some(mutant));
            let _ = lockstep.run_session(session, &mut adapter);
            for (_, v) in lockstep.violations() {
                reached
                    .entry(v.reason.kind())
                    .or_insert_with(|| format!("{mutant} under {profile}"));
            }
        }
    }
    for (check, by) in &reached {
        println!("{check:24} reached by {by}");
    }
    let shared = ["Malformed", "ForeignWidget", "WrongAction", "ReusedId"];
    let missed: Vec<&str> = Reason::<capneg_model::Line>::WIDGET_KINDS
        .into_iter()
        .chain(shared)
        .filter(|k| !reached.contains_key(k))
        .collect();
    assert!(
        missed.is_empty(),
        "widget checks no mutant reaches: {missed:?}"
    );
}
