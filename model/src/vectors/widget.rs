//! Widget vectors (docs/spec.md §9): a widget's script (the client's messages and the
//! application's requests), the reference widget's trace of it, and the trace of the widget
//! mutant of one widget rule on the same script, rejected by `validate --side widget` naming that
//! rule.
//!
//! The scripts come from the widget model: the shortest counterexample of each widget rule's own
//! mutant ([`WidgetMutant::for_rule`]), with the widget's lines taken out and each client line
//! kept only where the reference widget can take it (the path is the mutant's: the client may
//! answer requests only the mutant sent).

use super::{fail, Negative, Source, Vector, VectorError, VectorMutant};
use crate::check::model::Bounds;
use crate::check::printer::MODEL_WIDGET_ID;
use crate::check::shortest;
use crate::check::widget_model::WidgetModel;
use crate::rules::widget_mutants::WidgetMutant;
use crate::rules::{Rule, RuleSet, Side};
use crate::run::{Inputs, DEFAULT_WIDGET_ID};
use crate::validate::{validate, Options, Verdict};
use crate::widget_run::run_widget_script_with;
use capneg_reference::Profile;
use capneg_wire::trace::{parse_line, print_line, Key, SessionLine};
use serde_json::{Map, Value};

/// The widget model's bounds for the counterexamples, pinned (as the client's, [`super`]).
const fn bounds() -> Bounds {
    Bounds {
        caps: 2,
        rounds: 2,
        gated: 0,
    }
}

/// The widget vectors of `profile`, in the order of the widget rules.
pub(super) fn widget_vectors(profile: Profile) -> Result<Vec<Vector>, VectorError> {
    let mut out = Vec::new();
    for rule in RuleSet::of(&profile, Side::Widget).iter() {
        if let Some(v) = model_vector(profile, rule)? {
            out.push(v);
        }
    }
    Ok(out)
}

/// The trace of the reference widget (`None`) or a widget mutant on a widget's script, as
/// `capneg run --side widget` prints it.
pub fn widget_trace(
    mutant: Option<WidgetMutant>,
    inputs: Inputs,
    script: &str,
) -> Result<String, VectorError> {
    let mut out = Vec::new();
    run_widget_script_with(mutant, inputs, script.as_bytes(), &mut out)
        .map_err(|e| VectorError(e.to_string()))?;
    String::from_utf8(out).map_err(|e| VectorError(e.to_string()))
}

/// The verdict of `capneg validate --side widget --profile P` on a trace.
fn judge(profile: Profile, trace: &str) -> Verdict {
    let options = Options {
        profile,
        partial: false,
        side: Side::Widget,
    };
    validate(options, trace.as_bytes()).unwrap_or_else(|e| Verdict::BadInput {
        line: None,
        message: e.to_string(),
    })
}

/// The vector of the shortest path on which the widget mutant of `rule` breaks it with the
/// reference client of `profile`, if the mutant's defect shows there.
fn model_vector(profile: Profile, rule: Rule) -> Result<Option<Vector>, VectorError> {
    let Some(mutant) = WidgetMutant::for_rule(rule) else {
        return fail(format!("no widget mutant breaks {rule}"));
    };
    if !mutant.shows_under(&profile) {
        return Ok(None);
    }
    let name = format!("{}_widget-model-{}", profile.name, rule.id());
    let model = WidgetModel::new(Some(mutant), profile, bounds());
    let Some(cx) = shortest(&model, rule, &mut |_| {}) else {
        return fail(format!(
            "{name}: the widget model finds no path on which {mutant} breaks {rule}"
        ));
    };
    let script = script_from_trace(&cx.lines)?;
    let trace = widget_trace(None, Inputs::Strict, &script)
        .map_err(|e| VectorError(format!("{name}: the reference widget cannot run it: {e}")))?;
    if !matches!(judge(profile, &trace), Verdict::Conforms { .. }) {
        return fail(format!(
            "{name}: the reference widget's trace does not conform: {:?}\n{trace}",
            judge(profile, &trace)
        ));
    }
    let bad = widget_trace(Some(mutant), Inputs::Lenient, &script)?;
    let (line, reason) = match judge(profile, &bad) {
        Verdict::Violates { line, findings, .. } => {
            match findings.into_iter().find(|f| f.rule == rule) {
                Some(f) => (line, f.reason),
                None => {
                    return fail(format!(
                        "{name}: {mutant}'s trace does not break {rule}\n{bad}"
                    ))
                }
            }
        }
        other => {
            return fail(format!(
                "{name}: {mutant}'s trace is not rejected: {other:?}\n{bad}"
            ))
        }
    };
    let description = format!(
        "From the widget model: the shortest session (at most {} capabilities, {} requests of the application) in which the widget mutant `{mutant}` breaks `{rule}` with the {profile} reference client. The script holds the client's messages and the application's requests of that session that the reference widget can take. The violating trace breaks the rule at line {line}: {reason}.",
        bounds().caps,
        bounds().rounds,
    );
    Ok(Some(Vector {
        name,
        profile,
        side: Side::Widget,
        source: Source::Model,
        description,
        rules: RuleSet::only(rule),
        spec_rows: Vec::new(),
        script,
        trace,
        negative: Some(Negative {
            rule,
            mutant: VectorMutant::Widget(mutant),
            trace: bad,
            line,
            reason,
        }),
    }))
}

/// A widget's script from a printed widget-model path: its session line (widget `w1`), then its
/// client and app lines, each kept only if the reference widget can take it at that point.
/// Client messages lose the model's widget id, which the runner fills in.
fn script_from_trace(lines: &[String]) -> Result<String, VectorError> {
    let session = SessionLine {
        widget_id: Some(DEFAULT_WIDGET_ID.into()),
        ..SessionLine::default()
    };
    let mut script = format!("{}\n", print_line(Key::Session, &session));
    for text in lines.iter().skip(1) {
        let line = parse_line(text).map_err(|e| VectorError(format!("model trace: {e}")))?;
        let candidate = match line.key {
            Key::Client => {
                let mut map: Map<String, Value> = serde_json::from_str(line.value.get())
                    .map_err(|e| VectorError(format!("model trace: {e}")))?;
                if map.get("widgetId").and_then(Value::as_str) == Some(MODEL_WIDGET_ID) {
                    map.remove("widgetId");
                }
                print_line(Key::Client, &map)
            }
            Key::App => text.clone(),
            _ => continue,
        };
        let tried = format!("{script}{candidate}\n");
        if widget_trace(None, Inputs::Strict, &tried).is_ok() {
            script = tried;
        }
    }
    Ok(script)
}
