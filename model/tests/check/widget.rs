//! The model checker on the widget's side (docs/spec.md §9): the reference widget keeps every
//! widget rule with the reference client of each profile, and every widget mutant is caught by
//! the rule it targets, with a counterexample that `capneg validate --side widget` rejects at
//! the line the checker names, by that rule.

use capneg_model::check::model::Bounds;
use capneg_model::check::widget_model::WidgetModel;
use capneg_model::check::{check, shortest, CheckConfig, Subject};
use capneg_model::rules::widget_mutants::WidgetMutant;
use capneg_model::rules::{Rule, Side};
use capneg_model::validate::{self, Options, Verdict};
use capneg_reference::Profile;

const SMALL: Bounds = Bounds {
    caps: 2,
    rounds: 2,
    gated: 0,
};

fn config(widget: Option<WidgetMutant>, profile: Profile) -> CheckConfig {
    CheckConfig {
        bounds: SMALL,
        threads: 2,
        counterexamples: false,
        ..CheckConfig::of(Subject::Widget(widget), profile)
    }
}

#[test]
fn the_reference_widget_keeps_every_widget_rule() {
    for profile in Profile::ALL {
        let report = check(&config(None, profile), &mut |_| {});
        assert!(report.exhaustive, "{profile}");
        let checked: Vec<Rule> = report.rules.iter().map(|(r, _)| *r).collect();
        let widget_rules: Vec<Rule> = Rule::ALL
            .into_iter()
            .filter(|r| r.side() == Side::Widget)
            .collect();
        assert_eq!(
            checked, widget_rules,
            "{profile}: every widget rule is checked"
        );
        assert!(report.all_hold(), "{profile}: {:?}", report.violated());
        for (name, reached) in &report.reachable {
            let needs_reexchange = *name == "a second notify received";
            assert_eq!(
                *reached,
                !needs_reexchange || profile.reexchange.advertised(),
                "{profile}: {name}"
            );
        }
    }
}

#[test]
fn every_widget_mutant_is_caught_by_its_rule() {
    for (profile, mutant) in WidgetMutant::checked() {
        let report = check(&config(Some(mutant), profile), &mut |_| {});
        assert!(
            report.violated().contains(&mutant.target()),
            "{mutant} under {profile} should break {} but broke {:?}",
            mutant.target(),
            report.violated()
        );
    }
}

/// The shortest counterexample of each widget mutant's rule is a widget's trace that `capneg
/// validate --side widget` rejects at the line the checker names, by that rule; the same trace
/// judged on the client's side as a partial trace conforms (the client in it is the reference,
/// cut short where the rule breaks), unless the widget
/// posted a malformed envelope, which is bad input there.
#[test]
fn widget_counterexamples_validate() {
    for (profile, mutant) in WidgetMutant::checked() {
        let rule = mutant.target();
        let model = WidgetModel::new(Some(mutant), profile, SMALL);
        let cx = shortest(&model, rule, &mut |_| {}).expect("the mutant breaks its rule");
        let trace = cx.lines.join("\n");
        // A counterexample ends where the rule breaks: the client may still owe answers there.
        let judge = |side| {
            validate::validate(
                Options {
                    profile,
                    partial: side == Side::Client,
                    side,
                },
                trace.as_bytes(),
            )
            .unwrap()
        };
        let Verdict::Violates { line, findings, .. } = judge(Side::Widget) else {
            panic!("{mutant} under {profile}: the counterexample validates\n{trace}")
        };
        assert_eq!(line, cx.line, "{mutant} under {profile}\n{trace}");
        assert!(
            findings.iter().any(|f| f.rule == rule),
            "{mutant} under {profile}: {findings:?}\n{trace}"
        );
        // A malformed widget envelope is bad input on the client's side (docs/spec.md §9.4).
        let client_side = judge(Side::Client);
        let expected = match mutant {
            WidgetMutant::NoData => matches!(client_side, Verdict::BadInput { .. }),
            _ => matches!(client_side, Verdict::Conforms { .. }),
        };
        assert!(
            expected,
            "{mutant} under {profile}: on the client's side {client_side:?}\n{trace}"
        );
    }
}
