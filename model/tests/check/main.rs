//! The model checker's verdicts: each profile against the `msc` rules and against its own, and
//! every mutant caught by the rule it targets. Counterexamples are traces that `capneg validate`
//! rejects by that rule and that `capneg run` accepts once the client's lines are stripped.

mod widget;

use capneg_model::check::model::{Bounds, SessionModel};
use capneg_model::check::{check, shortest, CheckConfig, Subject};
use capneg_model::rules::mutants::{ClientKind, MutantKind};
use capneg_model::rules::Rule;
use capneg_model::run::run_script;
use capneg_model::validate::{self, Options};
use capneg_reference::Profile;
use capneg_wire::trace::{parse_line, Key};

const SMALL: Bounds = Bounds {
    caps: 2,
    rounds: 2,
    gated: 1,
};

fn violated(
    client: ClientKind,
    client_profile: Profile,
    rules: Profile,
    bounds: Bounds,
) -> Vec<Rule> {
    let config = CheckConfig {
        subject: Subject::Client(client),
        client_profile,
        rules_profile: rules,
        bounds,
        threads: 2,
        symmetry: true,
        counterexamples: false,
        measure_symmetry: false,
        part: None,
    };
    let report = check(&config, &mut |_| {});
    assert!(report.exhaustive, "the run must be exhaustive");
    assert!(
        report.reachable.iter().all(|(_, yes)| *yes)
            || client != ClientKind::Reference
            || client_profile == Profile::LEGACY,
        "every interesting path is reachable: {:?}",
        report.reachable
    );
    report.violated()
}

#[test]
fn msc_holds_its_rules() {
    assert_eq!(
        violated(ClientKind::Reference, Profile::MSC, Profile::MSC, SMALL),
        []
    );
}

#[test]
fn every_profile_holds_its_own_rules() {
    for p in [Profile::WIDGET_API, Profile::LEGACY] {
        assert_eq!(violated(ClientKind::Reference, p, p, SMALL), [], "{p}");
    }
}

#[test]
fn widget_api_breaks_msc_rules() {
    let broken = violated(
        ClientKind::Reference,
        Profile::WIDGET_API,
        Profile::MSC,
        SMALL,
    );
    for rule in [
        Rule::NotifyReportsTotals,
        Rule::RoundsInOrder,
        Rule::NoRequestBeforeSession,
    ] {
        assert!(broken.contains(&rule), "{rule} not in {broken:?}");
    }
}

#[test]
fn legacy_breaks_acknowledge_request() {
    let broken = violated(ClientKind::Reference, Profile::LEGACY, Profile::MSC, SMALL);
    assert!(broken.contains(&Rule::AcknowledgeRequest), "{broken:?}");
}

#[test]
fn the_default_model_is_exhaustive_and_sound() {
    let config = CheckConfig::new(ClientKind::Reference, Profile::MSC);
    let report = check(&config, &mut |_| {});
    assert!(report.exhaustive);
    assert!(report.all_hold());
    assert!(
        report.reachable.iter().all(|(_, y)| *y),
        "{:?}",
        report.reachable
    );
    // The default bounds: 3 capabilities, 2 rounds, 1 gated action. A change in the model that
    // changes the state space shows here first.
    assert_eq!(report.unique, 239_196, "unique states of the default model");
}

#[test]
fn every_mutant_is_caught_by_its_rule() {
    for (profile, kind) in MutantKind::checked() {
        let broken = violated(ClientKind::Mutant(kind), profile, profile, SMALL);
        assert!(
            broken.contains(&kind.target()),
            "{kind} under {profile} should break {} but broke {broken:?}",
            kind.target()
        );
    }
}

/// The shortest counterexample of each mutant's rule is a trace whose events break that rule at
/// the line the checker names, that `capneg validate` rejects there or earlier (naming the rule
/// where it stops at that line), and that `capneg run` takes once stripped of the client's lines.
#[test]
fn counterexamples_validate_and_run() {
    for (profile, kind) in MutantKind::checked() {
        let rule = kind.target();
        let model = SessionModel::new(ClientKind::Mutant(kind), profile, profile, SMALL);
        let cx = shortest(&model, rule, &mut |_| {}).expect("the mutant breaks its rule");
        let trace = cx.lines.join("\n");
        let verdict = validate::validate(
            Options {
                profile,
                partial: false,
                side: capneg_model::rules::Side::Client,
            },
            trace.as_bytes(),
        )
        .unwrap();
        let validate::Verdict::Violates { line, findings, .. } = verdict else {
            panic!("{kind}: the counterexample validates: {verdict:?}\n{trace}")
        };
        assert!(
            line < cx.line || line == cx.line && findings.iter().any(|f| f.rule == rule),
            "{kind} under {profile}: validation stops at line {line} with {findings:?}, the rule breaks at {}\n{trace}",
            cx.line
        );
        let script: Vec<&str> = cx
            .lines
            .iter()
            .map(String::as_str)
            .filter(|l| !matches!(parse_line(l).map(|l| l.key), Ok(Key::Client | Key::Prompt)))
            .collect();
        let mut out = Vec::new();
        run_script(profile, script.join("\n").as_bytes(), &mut out).unwrap_or_else(|e| {
            panic!("{kind}: run refuses the script: {e}\n{}", script.join("\n"))
        });
    }
}

#[test]
fn counterexample_of_a_profile_names_the_line() {
    let model = SessionModel::new(ClientKind::Reference, Profile::LEGACY, Profile::MSC, SMALL);
    let cx = shortest(&model, Rule::AcknowledgeRequest, &mut |_| {}).expect("legacy breaks it");
    // session, capabilities, the widget's answer, notify, request, error: the error breaks it.
    assert!(cx.lines.len() <= 6, "{}", cx.lines.join("\n"));
    assert_eq!(cx.line.get() as usize, cx.lines.len());
    assert!(cx.reason.contains("with an error"), "{}", cx.reason);
    assert!(cx.diagram.starts_with("sequenceDiagram"));
    assert!(
        cx.diagram.contains("acknowledge-request"),
        "the diagram marks the violation: {}",
        cx.diagram
    );
}

/// `--part I/N`: the parts of a run explore every root between them, each exhaustively, so
/// together they find the rules the whole run finds broken and the paths it reaches, and at
/// least as many unique states (the parts do not share what they have seen).
#[test]
fn parts_together_give_the_whole_run() {
    use capneg_model::check::{CheckReport, Part};
    use std::collections::BTreeSet;
    let cases = [
        (
            Subject::Client(ClientKind::Reference),
            Profile::WIDGET_API,
            Profile::MSC,
        ),
        (
            Subject::Client(ClientKind::Mutant(MutantKind::DoubleNotify)),
            Profile::MSC,
            Profile::MSC,
        ),
        (Subject::Widget(None), Profile::MSC, Profile::MSC),
    ];
    for (subject, client_profile, rules_profile) in cases {
        let config = |part: Option<Part>| CheckConfig {
            subject,
            client_profile,
            rules_profile,
            bounds: SMALL,
            threads: 2,
            symmetry: true,
            counterexamples: false,
            measure_symmetry: false,
            part,
        };
        let reached = |r: &CheckReport| -> BTreeSet<&'static str> {
            r.reachable
                .iter()
                .filter(|(_, yes)| *yes)
                .map(|(n, _)| *n)
                .collect()
        };
        let whole = check(&config(None), &mut |_| {});
        assert!(whole.exhaustive);
        for count in [2, 3, 5] {
            let parts: Vec<CheckReport> = (1..=count)
                .map(|index| check(&config(Some(Part { index, count })), &mut |_| {}))
                .collect();
            assert!(parts.iter().all(|p| p.exhaustive), "{subject:?}");
            let roots: usize = parts.iter().map(|p| p.roots).sum();
            assert_eq!(roots, whole.roots, "{subject:?}: every root in one part");
            let unique: usize = parts.iter().map(|p| p.unique).sum();
            assert!(
                unique >= whole.unique,
                "{subject:?} in {count} parts: {unique} < {}",
                whole.unique
            );
            let violated: BTreeSet<Rule> = parts.iter().flat_map(|p| p.violated()).collect();
            assert_eq!(
                violated,
                whole.violated().into_iter().collect(),
                "{subject:?} in {count} parts"
            );
            let reachable: BTreeSet<&str> = parts.iter().flat_map(reached).collect();
            assert_eq!(reachable, reached(&whole), "{subject:?} in {count} parts");
        }
    }
}

/// What two runs of one model must share: the counts, the verdicts, the goals reached, the
/// symmetry's factor where measured, and whether the run was exhaustive.
fn summary(r: &capneg_model::check::CheckReport) -> impl PartialEq + std::fmt::Debug {
    (
        r.unique,
        r.generated,
        r.max_depth,
        r.violated(),
        r.reachable.clone(),
        r.unreduced,
        r.exhaustive,
    )
}

/// With several threads the client model is checked one root at a time, each by a checker of
/// its own (the session settings share no state): the counts, verdicts and goals are those of
/// one checker on one thread, and the parts of a split run add up to the whole exactly.
#[test]
fn one_checker_per_root_counts_as_one_checker() {
    use capneg_model::check::Part;
    let cases = [
        (ClientKind::Reference, Profile::MSC, Profile::MSC),
        (ClientKind::Reference, Profile::WIDGET_API, Profile::MSC),
        (ClientKind::Reference, Profile::LEGACY, Profile::LEGACY),
        (
            ClientKind::Mutant(MutantKind::DoubleNotify),
            Profile::MSC,
            Profile::MSC,
        ),
        (
            ClientKind::Mutant(MutantKind::ALL[0]),
            Profile::WIDGET_API,
            Profile::WIDGET_API,
        ),
    ];
    for (client, client_profile, rules_profile) in cases {
        let config = |threads: usize, part: Option<Part>| CheckConfig {
            subject: Subject::Client(client),
            client_profile,
            rules_profile,
            bounds: SMALL,
            threads,
            symmetry: true,
            counterexamples: false,
            measure_symmetry: part.is_none(),
            part,
        };
        let one = check(&config(1, None), &mut |_| {});
        let each_root = check(&config(2, None), &mut |_| {});
        assert!(one.roots > 1, "{client:?}: several roots");
        assert_eq!(summary(&each_root), summary(&one), "{client:?}");
        let parts: usize = (1..=3)
            .map(|index| check(&config(2, Some(Part { index, count: 3 })), &mut |_| {}).unique)
            .sum();
        assert_eq!(
            parts, one.unique,
            "{client:?}: the parts add up to the whole"
        );
    }
}

/// The widget model's roots share states, so on several threads it is checked by stateright's
/// checker, its threads sharing one table; on one thread, by capneg's own search. Both give the
/// same counts, verdicts and goals, for the reference widget and a mutant, with and without the
/// symmetry reduction.
#[test]
fn the_widget_model_counts_alike_on_one_thread_and_on_two() {
    use capneg_model::rules::widget_mutants::WidgetMutant;
    for widget in [None, Some(WidgetMutant::ALL[0])] {
        for symmetry in [true, false] {
            let config = |threads: usize| CheckConfig {
                threads,
                symmetry,
                counterexamples: false,
                bounds: SMALL,
                ..CheckConfig::of(Subject::Widget(widget), Profile::MSC)
            };
            let one = check(&config(1), &mut |_| {});
            let two = check(&config(2), &mut |_| {});
            assert!(one.roots > 1 && one.exhaustive, "{widget:?}");
            assert_eq!(
                summary(&two),
                summary(&one),
                "{widget:?} symmetry {symmetry}"
            );
        }
    }
}

/// A run that gives only the first action of each orbit of a state's symmetries
/// ([`Checked::first_of_orbits`], what `capneg check` runs with the symmetry reduction) is the
/// same run less duplicates: for every client, profile and widget, the same unique states,
/// depth, rules broken and goals reached, from fewer states generated.
#[test]
fn the_first_action_of_each_orbit_is_enough() {
    use capneg_model::check::widget_model::WidgetModel;
    use capneg_model::check::{Checked, Stoppable};
    use capneg_model::rules::widget_mutants::WidgetMutant;
    use stateright::{Checker, Model};
    use std::collections::BTreeSet;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn run<M: Checked>(model: M) -> (usize, usize, usize, BTreeSet<&'static str>)
    where
        M::State: std::hash::Hash,
    {
        let halt = Arc::new(AtomicBool::new(false));
        let checker = Stoppable::new(model, &halt)
            .checker()
            .symmetry()
            .spawn_dfs()
            .join();
        let found = checker.discoveries().into_keys().collect();
        (
            checker.unique_state_count(),
            checker.max_depth(),
            checker.state_count(),
            found,
        )
    }
    fn same<M: Checked>(model: M, what: &str) -> usize
    where
        M::State: std::hash::Hash,
    {
        let all = run(model.clone());
        let firsts = run(model.first_of_orbits());
        assert_eq!(
            (firsts.0, firsts.1, &firsts.3),
            (all.0, all.1, &all.3),
            "{what}"
        );
        assert!(firsts.2 <= all.2, "{what}: {} > {}", firsts.2, all.2);
        all.2 - firsts.2
    }
    let bounds = Bounds {
        caps: 2,
        rounds: 1,
        gated: 1,
    };
    let mut spared = 0;
    for profile in Profile::ALL {
        for client in ClientKind::all() {
            let model = SessionModel::new(client, profile, Profile::MSC, bounds);
            spared += same(model, &format!("{client:?} {profile}"));
        }
        for widget in std::iter::once(None).chain(WidgetMutant::ALL.map(Some)) {
            let model = WidgetModel::new(widget, profile, bounds);
            spared += same(model, &format!("{widget:?} {profile}"));
        }
    }
    assert!(spared > 0, "some duplicates are not generated");
}
