//! Conformance vectors (`capneg vectors`, docs/spec.md §7).
//!
//! A vector is a script (docs/spec.md §6) with the trace the reference client gives for it under one
//! profile (docs/spec.md §5), and, for a negative vector, the trace of a deliberately wrong client on
//! the same script, which the rules reject naming one rule. Everything here is built from the
//! one semantics of the project, never restated:
//! - the expected trace is [`run_script`]'s output, exactly what `capneg run` prints;
//! - a violating trace is a mutant ([`crate::rules::mutants`]) driven on the script's inputs
//!   through [`ClientSession`](crate::session::ClientSession);
//! - verdicts are [`validate`]'s, that is the rules' observer;
//! - the rules a vector *exercises* are the rules whose mutant the script exposes: the mutant's
//!   trace on the script is rejected naming that rule;
//! - the scripts come from the model (the shortest counterexample of each mutant, found by the
//!   checker and printed by the printer, with the client's lines taken out) and from
//!   hand-designed scenarios per docs/spec.md §3 row, written as data below.
//!
//! Widget vectors ([`widget`], docs/spec.md §9) are the same for the widget's side: a widget's
//! script, the reference widget's trace, and a widget mutant's trace rejected by `validate
//! --side widget`.
//!
//! Generation is deterministic: the same build writes the same bytes every run.

use crate::check::model::{Bounds, SessionModel};
use crate::check::shortest;
use crate::rules::mutants::{ClientKind, MutantKind};
use crate::rules::widget_mutants::WidgetMutant;
use crate::rules::{Line, Rule, RuleSet, Side};
use crate::run::{run_script, run_script_with, Inputs, DEFAULT_WIDGET_ID};
use crate::validate::{validate, Options, Verdict};
use capneg_reference::{DeclinedPolicy, Profile, Settings};
use capneg_wire::trace::{parse_line, print_line, DecisionLine, Key, SessionLine};
use serde_json::{json, Map, Value};
use std::fmt;

mod scenarios;
pub mod widget;
use scenarios::{Scenario, SCENARIOS};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A row of the table of docs/spec.md §3: one ambiguous point and its readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecRow {
    /// The row's ID in `index.json`.
    pub id: &'static str,
    /// The question of the row, as docs/spec.md §3 words it.
    pub question: &'static str,
    /// Whether the row is only meaningful with re-exchange (its `legacy` cell is "—").
    needs_reexchange: bool,
}

impl SpecRow {
    /// Whether the row applies under `profile`.
    pub const fn applies_to(&self, profile: &Profile) -> bool {
        !self.needs_reexchange || profile.reexchange.advertised()
    }

    /// The row with this ID.
    pub fn named(id: &str) -> Option<SpecRow> {
        SPEC_ROWS.into_iter().find(|r| r.id == id)
    }
}

const fn row(id: &'static str, question: &'static str, needs_reexchange: bool) -> SpecRow {
    SpecRow {
        id,
        question,
        needs_reexchange,
    }
}

/// The rows of docs/spec.md §3, in order.
pub const SPEC_ROWS: [SpecRow; 10] = [
    row("re-exchange", "re-exchange", false),
    row(
        "request-before-established",
        "request before established",
        false,
    ),
    row("several-rounds-at-once", "several rounds at once", true),
    row(
        "declined-asked-again",
        "previously declined capability asked again",
        true,
    ),
    row("nothing-new", "nothing new", true),
    row("notify-requested", "notify `requested`", false),
    row("notify-approved", "notify `approved`", false),
    row("ack-vs-notify", "ack vs notify", true),
    row("rate-limit", "rate limit", false),
    row("request-id-reuse", "requestId reuse by the client", false),
];

/// Where a vector's script comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A hand-designed scenario (the data in this module).
    Scenario,
    /// The model checker's shortest counterexample of a mutant.
    Model,
}

impl Source {
    /// The name in `index.json`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Scenario => "scenario",
            Source::Model => "model",
        }
    }
}

/// The deliberately wrong client or widget of a negative vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorMutant {
    /// A client mutant.
    Client(MutantKind),
    /// A widget mutant.
    Widget(WidgetMutant),
}

impl VectorMutant {
    /// Its name.
    pub const fn name(self) -> &'static str {
        match self {
            VectorMutant::Client(m) => m.name(),
            VectorMutant::Widget(m) => m.name(),
        }
    }
}

/// The negative part of a vector: a mutant's trace on the script, rejected naming `rule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negative {
    /// The rule the trace breaks.
    pub rule: Rule,
    /// The deliberately wrong client or widget that produced it.
    pub mutant: VectorMutant,
    /// The trace (JSON Lines).
    pub trace: String,
    /// The line `capneg validate` names.
    pub line: Line,
    /// Its reason, in words.
    pub reason: String,
}

/// A conformance vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vector {
    /// The name: `PROFILE_SCENARIO`; the files are `NAME.script.jsonl` and so on.
    pub name: String,
    /// The profile the expected traces follow (for a widget vector: the profile of the reference
    /// client the widget talked with in the model).
    pub profile: Profile,
    /// Whose script and traces: the client's (docs/spec.md §6) or the widget's (§9).
    pub side: Side,
    /// Where the script comes from.
    pub source: Source,
    /// What the vector shows.
    pub description: String,
    /// The rules the vector exercises: those whose mutant its script exposes.
    pub rules: RuleSet,
    /// The docs/spec.md §3 rows it covers.
    pub spec_rows: Vec<&'static str>,
    /// The script (docs/spec.md §6).
    pub script: String,
    /// The reference client's trace of the script (docs/spec.md §5).
    pub trace: String,
    /// The violating trace, for a negative vector.
    pub negative: Option<Negative>,
}

impl Vector {
    /// The file name of the script.
    pub fn script_file(&self) -> String {
        format!("{}.script.jsonl", self.name)
    }

    /// The file name of the expected trace.
    pub fn trace_file(&self) -> String {
        format!("{}.trace.jsonl", self.name)
    }

    /// The file name of the violating trace.
    pub fn violating_file(&self) -> String {
        format!("{}.violating.jsonl", self.name)
    }

    /// The vector's entry in `index.json`.
    pub fn index_entry(&self) -> Value {
        let rules: Vec<&str> = self.rules.iter().map(Rule::id).collect();
        let mut files = Map::new();
        files.insert("script".into(), json!(self.script_file()));
        files.insert("trace".into(), json!(self.trace_file()));
        let mut expected = Map::new();
        expected.insert("trace".into(), json!("conforms"));
        let mut entry = Map::new();
        entry.insert("name".into(), json!(self.name));
        entry.insert("profile".into(), json!(self.profile.name));
        entry.insert("side".into(), json!(self.side.name()));
        entry.insert("source".into(), json!(self.source.as_str()));
        entry.insert("description".into(), json!(self.description));
        entry.insert("rules".into(), json!(rules));
        entry.insert("spec_rows".into(), json!(self.spec_rows));
        if let Some(neg) = &self.negative {
            files.insert("violating".into(), json!(self.violating_file()));
            expected.insert(
                "violating".into(),
                json!({"violates": neg.rule.id(), "line": neg.line, "reason": neg.reason}),
            );
            entry.insert("mutant".into(), json!(neg.mutant.name()));
        }
        entry.insert("files".into(), Value::Object(files));
        entry.insert("expected".into(), Value::Object(expected));
        Value::Object(entry)
    }
}

/// A generation that went wrong: a vector whose expectations do not hold. Never the user's
/// fault; a bug in the reference, the observer, a mutant or the data here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorError(pub String);

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VectorError {}

fn fail<T>(message: impl Into<String>) -> Result<T, VectorError> {
    Err(VectorError(message.into()))
}

/// Writing a file failed.
#[derive(Debug)]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for WriteError {}

// ---------------------------------------------------------------------------------------------
// Generation.

/// The vectors of `profiles`, in order: per profile, the scenarios, then the model's
/// counterexamples in rule order. Every expectation is checked on the way: the reference's
/// trace conforms, every negative trace is rejected naming its rule.
pub fn generate(profiles: &[Profile]) -> Result<Vec<Vector>, VectorError> {
    check_scenarios()?;
    let mut out = Vec::new();
    for profile in profiles {
        for scenario in &SCENARIOS {
            if scenario.profiles.contains(&profile.name) {
                out.push(scenario_vector(scenario, *profile)?);
            }
        }
        for rule in RuleSet::of_profile(profile).iter() {
            if let Some(v) = model_vector(*profile, rule)? {
                out.push(v);
            }
        }
        out.extend(widget::widget_vectors(*profile)?);
    }
    let mut names: Vec<&str> = out.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return fail(format!("two vectors are called {}", w[0]));
    }
    Ok(out)
}

/// The scenario data names only known profiles, rows and rules that apply, and a negative only
/// for a profile the scenario is for.
fn check_scenarios() -> Result<(), VectorError> {
    for sc in &SCENARIOS {
        for p in sc.profiles {
            if Profile::named(p).is_none() {
                return fail(format!("scenario {}: unknown profile {p}", sc.name));
            }
        }
        for (p, rule) in sc.negatives {
            match Profile::named(p) {
                Some(profile) if sc.profiles.contains(p) && rule.applies_to(&profile) => {}
                _ => {
                    return fail(format!(
                        "scenario {}: negative {rule} under {p}, which it is not for",
                        sc.name
                    ))
                }
            }
        }
        for r in sc.rows {
            if SpecRow::named(r).is_none() {
                return fail(format!(
                    "scenario {}: unknown docs/spec.md §3 row {r}",
                    sc.name
                ));
            }
        }
    }
    Ok(())
}

/// `index.json`: the list of the vectors' entries, pretty-printed, with a final newline.
pub fn index_json(vectors: &[Vector]) -> String {
    let list: Vec<Value> = vectors.iter().map(Vector::index_entry).collect();
    let mut text = serde_json::to_string_pretty(&list).expect("JSON values print");
    text.push('\n');
    text
}

/// Every file of `vectors` with its contents, `index.json` last.
pub fn files(vectors: &[Vector]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in vectors {
        out.push((v.script_file(), v.script.clone()));
        out.push((v.trace_file(), v.trace.clone()));
        if let Some(neg) = &v.negative {
            out.push((v.violating_file(), neg.trace.clone()));
        }
    }
    out.push(("index.json".into(), index_json(vectors)));
    out
}

/// Writes the files of `vectors` into `dir` (created if missing; other files are left alone).
pub fn write(dir: &Path, vectors: &[Vector]) -> Result<(), WriteError> {
    fs::create_dir_all(dir).map_err(|error| WriteError {
        path: dir.to_owned(),
        error,
    })?;
    for (name, contents) in files(vectors) {
        let path = dir.join(name);
        fs::write(&path, contents).map_err(|error| WriteError { path, error })?;
    }
    Ok(())
}

/// Builds a vector from its script: runs the reference, checks its trace conforms, runs the
/// mutant of every rule of the profile to find the rules the script exercises, and keeps the
/// negative trace of `negative`, which must be rejected naming it.
fn build(
    profile: Profile,
    name: String,
    source: Source,
    description: String,
    spec_rows: Vec<&'static str>,
    script: String,
    negative: Option<Rule>,
) -> Result<Vector, VectorError> {
    let trace = reference_trace(profile, &script)
        .map_err(|e| VectorError(format!("{name}: the reference cannot run the script: {e}")))?;
    match judge(profile, &trace) {
        Verdict::Conforms { .. } => {}
        other => {
            return fail(format!(
                "{name}: the reference's trace does not conform under {profile}: {other:?}\n{trace}"
            ))
        }
    }
    let mut rules = RuleSet::EMPTY;
    let mut kept = None;
    for rule in RuleSet::of_profile(&profile).iter() {
        let mutant = MutantKind::for_rule(rule);
        let bad = mutant_trace(mutant, profile, &script)
            .map_err(|e| VectorError(format!("{name}: mutant {mutant}: {e}")))?;
        let Verdict::Violates { line, findings, .. } = judge(profile, &bad) else {
            continue;
        };
        let Some(finding) = findings.iter().find(|f| f.rule == rule) else {
            continue;
        };
        rules.insert(rule);
        if negative == Some(rule) {
            kept = Some(Negative {
                rule,
                mutant: VectorMutant::Client(mutant),
                trace: bad.clone(),
                line,
                reason: finding.reason.clone(),
            });
        }
    }
    if let Some(rule) = negative {
        if kept.is_none() {
            let mutant = MutantKind::for_rule(rule);
            let bad = mutant_trace(mutant, profile, &script).unwrap_or_default();
            return fail(format!(
                "{name}: the trace of mutant {mutant} is not rejected naming {rule} under {profile}: {:?}\n{bad}",
                judge(profile, &bad)
            ));
        }
    }
    let spec_rows = spec_rows
        .into_iter()
        .filter(|id| SpecRow::named(id).is_some_and(|r| r.applies_to(&profile)))
        .collect();
    Ok(Vector {
        name,
        profile,
        side: Side::Client,
        source,
        description,
        rules,
        spec_rows,
        script,
        trace,
        negative: kept,
    })
}

/// The verdict of `capneg validate --profile P` on a trace.
fn judge(profile: Profile, trace: &str) -> Verdict {
    let options = Options {
        profile,
        partial: false,
        side: crate::rules::Side::Client,
    };
    validate(options, trace.as_bytes()).unwrap_or_else(|e| Verdict::BadInput {
        line: None,
        message: e.to_string(),
    })
}

/// The reference client's trace of `script` under `profile`: what `capneg run` prints.
pub fn reference_trace(profile: Profile, script: &str) -> Result<String, VectorError> {
    let mut out = Vec::new();
    run_script(profile, script.as_bytes(), &mut out).map_err(|e| VectorError(e.to_string()))?;
    String::from_utf8(out).map_err(|e| VectorError(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Scripts from the model.

/// The model's bounds for the counterexamples. Pinned here, not the checker's defaults, so that
/// the published vectors do not change when `capneg check`'s defaults do; two capabilities and
/// two rounds are enough for every mutant to show its defect.
const fn bounds() -> Bounds {
    Bounds {
        caps: 2,
        rounds: 2,
        gated: 1,
    }
}

/// The vector of the shortest path on which the mutant of `rule` breaks it under `profile`, if
/// the model has one. Under `msc`, the profile every mutant is built for, it must.
fn model_vector(profile: Profile, rule: Rule) -> Result<Option<Vector>, VectorError> {
    let mutant = MutantKind::for_rule(rule);
    let model = SessionModel::new(ClientKind::Mutant(mutant), profile, profile, bounds());
    let Some(cx) = shortest(&model, rule, &mut |_| {}) else {
        if profile == Profile::MSC {
            return fail(format!(
                "the model finds no path on which mutant {mutant} breaks {rule} under msc"
            ));
        }
        return Ok(None);
    };
    let script = script_from_trace(profile, &cx.lines)?;
    let script = simplify_session(profile, rule, script)?;
    let name = format!("{}_model-{}", profile.name, rule.id());
    let mut vector = build(
        profile,
        name,
        Source::Model,
        String::new(),
        rows_of_rule(rule).to_vec(),
        script,
        Some(rule),
    )?;
    let Some(negative) = &vector.negative else {
        unreachable!("build keeps the negative it is asked for, or fails")
    };
    vector.description = format!(
        "From the model checker: the shortest session (at most {} capabilities, {} re-exchange rounds, {} gated action) in which mutant `{mutant}` breaks `{rule}`, with the session settings it does not need reset. The script holds the widget's messages and the user's decisions of that session that the reference client can take. The violating trace breaks the rule at line {}: {}.",
        bounds().caps,
        bounds().rounds,
        bounds().gated,
        negative.line,
        negative.reason,
    );
    Ok(Some(vector))
}

/// Resets the session settings of a script (autoApprove, rateLimit, waitForContentLoaded, the
/// declined policy) one at a time where the script still exposes the mutant of `rule` without
/// it, so that a model-derived script carries only the settings its counterexample needs.
fn simplify_session(profile: Profile, rule: Rule, script: String) -> Result<String, VectorError> {
    let (first, rest) = script.split_once('\n').unwrap_or((script.as_str(), ""));
    let mut session = parse_line(first)
        .and_then(|l| l.session())
        .map_err(|e| VectorError(format!("model script: {e}")))?;
    let rest = rest.to_owned();
    let resets: [fn(&mut SessionLine); 4] = [
        |s| s.settings.auto_approve.clear(),
        |s| s.settings.rate_limit = false,
        |s| s.settings.wait_for_content_loaded = false,
        |s| s.settings.declined = DeclinedPolicy::default(),
    ];
    let mut current = script;
    for reset in resets {
        let mut candidate = session.clone();
        reset(&mut candidate);
        if candidate == session {
            continue;
        }
        let text = format!("{}\n{rest}", print_line(Key::Session, &candidate));
        if exposes(profile, rule, &text) {
            session = candidate;
            current = text;
        }
    }
    Ok(current)
}

/// Whether the reference's trace of `script` conforms and the trace of the mutant of `rule` is
/// rejected naming `rule`.
fn exposes(profile: Profile, rule: Rule, script: &str) -> bool {
    let Ok(trace) = reference_trace(profile, script) else {
        return false;
    };
    if !matches!(judge(profile, &trace), Verdict::Conforms { .. }) {
        return false;
    }
    let Ok(bad) = mutant_trace(MutantKind::for_rule(rule), profile, script) else {
        return false;
    };
    matches!(
        judge(profile, &bad),
        Verdict::Violates { findings, .. } if findings.iter().any(|f| f.rule == rule)
    )
}

/// The docs/spec.md §3 rows a rule judges by.
fn rows_of_rule(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::UniqueRequestIds => &["request-id-reuse"],
        Rule::NoRequestBeforeSession => &["request-before-established"],
        Rule::AckBeforeNotify => &["ack-vs-notify"],
        Rule::NoPromptWithoutNew => &["nothing-new"],
        Rule::NotifyReportsTotals => &["notify-requested"],
        Rule::ApprovalsNeverShrink => &["notify-approved"],
        Rule::RoundsInOrder => &["several-rounds-at-once"],
        Rule::AdvertisesVersions | Rule::AcknowledgeRequest => &["re-exchange"],
        _ => &[],
    }
}

/// A script from a printed model path: its session line (widget `w1`), then its widget
/// messages and decisions, each kept only if the reference client can take it at that point
/// (the path is the mutant's: the widget may answer requests only the mutant sent, the user
/// prompts only the mutant showed). Widget messages lose their ids and echoes, which the runner
/// fills in.
fn script_from_trace(profile: Profile, lines: &[String]) -> Result<String, VectorError> {
    let mut script = String::new();
    for (i, text) in lines.iter().enumerate() {
        let line = parse_line(text).map_err(|e| VectorError(format!("model trace: {e}")))?;
        let candidate = match line.key {
            Key::Session if i == 0 => {
                let mut session = line
                    .session()
                    .map_err(|e| VectorError(format!("model trace: {e}")))?;
                session.widget_id = Some(DEFAULT_WIDGET_ID.into());
                session.prompts = None;
                print_line(Key::Session, &session)
            }
            Key::Widget => {
                let full: Map<String, Value> = serde_json::from_str(line.value.get())
                    .map_err(|e| VectorError(format!("model trace: {e}")))?;
                // The runner fills in the session's widget id, the request ids and a response's
                // echo of its request.
                let mut map = Map::new();
                for key in ["api", "widgetId", "action", "data", "response"] {
                    let Some(value) = full.get(key) else { continue };
                    let filled = match key {
                        "widgetId" => {
                            value.as_str() == Some(crate::check::printer::MODEL_WIDGET_ID)
                        }
                        "data" => full.contains_key("response"),
                        _ => false,
                    };
                    if !filled {
                        map.insert(key.to_owned(), value.clone());
                    }
                }
                print_line(Key::Widget, &map)
            }
            Key::Decision => text.clone(),
            _ => continue,
        };
        let tried = format!("{script}{candidate}\n");
        if reference_trace(profile, &tried).is_ok() {
            script = tried;
        }
    }
    Ok(script)
}

// ---------------------------------------------------------------------------------------------
// Driving a mutant on a script.

/// The trace of mutant `kind` on `script` under `profile`, printed as `capneg run` prints the
/// reference's: the same runner, with the mutant in place of the reference. Inputs the mutant
/// cannot take where the reference could (a decision with no prompt open, a response to a
/// request it did not send) are left out.
pub fn mutant_trace(
    kind: MutantKind,
    profile: Profile,
    script: &str,
) -> Result<String, VectorError> {
    let mut out = Vec::new();
    run_script_with(
        ClientKind::Mutant(kind),
        profile,
        Inputs::Lenient,
        script.as_bytes(),
        &mut out,
    )
    .map_err(|e| VectorError(e.to_string()))?;
    String::from_utf8(out).map_err(|e| VectorError(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Hand-designed scenarios (their data: [`scenarios`]).

fn scenario_vector(scenario: &Scenario, profile: Profile) -> Result<Vector, VectorError> {
    let negative = scenario
        .negatives
        .iter()
        .find(|(p, _)| *p == profile.name)
        .map(|(_, r)| *r);
    build(
        profile,
        format!("{}_{}", profile.name, scenario.name),
        Source::Scenario,
        scenario.description.to_owned(),
        scenario.rows.to_vec(),
        scenario.script(),
        negative,
    )
}
