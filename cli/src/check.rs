//! `capneg check`: the report of an exhaustive model check.

use crate::progress::{rate, ProgressLine};
use capneg_model::check::model::Bounds;
use capneg_model::check::{
    check_until, CheckConfig, CheckReport, Part, Phase, Progress, Subject, Verdict,
};
use capneg_model::rules::mutants::{ClientKind, MutantKind};
use capneg_model::rules::widget_mutants::WidgetMutant;
use capneg_model::rules::Side;
use capneg_reference::Profile;
use serde_json::json;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A client to check: a profile, or `mutant:NAME` (the reference with one defect, under the profile
/// [`Readings::resolve`] gives it: the rules').
#[derive(Clone, Copy, Debug)]
pub struct ClientArg {
    pub kind: ClientKind,
    pub profile: Profile,
}

impl std::str::FromStr for ClientArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(name) = s.strip_prefix("mutant:") {
            let kind = MutantKind::named(name).ok_or_else(|| {
                let names: Vec<&str> = MutantKind::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mutant `{name}` (one of: {})", names.join(", "))
            })?;
            return Ok(ClientArg {
                kind: ClientKind::Mutant(kind),
                profile: Profile::MSC,
            });
        }
        let profile: Profile = s
            .parse()
            .map_err(|e: capneg_reference::profile::UnknownProfile| e.to_string())?;
        Ok(ClientArg {
            kind: ClientKind::Reference,
            profile,
        })
    }
}

/// Which client is judged by which rules (`check` and `explore`): `--profile P` for both, or
/// `--client` with `--rules`.
#[derive(clap::Args, Debug)]
pub struct Readings {
    /// The profile of both the client and the rules.
    #[arg(long, conflicts_with_all = ["client", "rules"])]
    profile: Option<Profile>,
    /// The client: a profile, or `mutant:NAME` (a deliberately wrong client, run under the rules'
    /// profile).
    #[arg(long, requires = "rules")]
    client: Option<ClientArg>,
    /// The profile whose rules judge the client.
    #[arg(long, requires = "client")]
    rules: Option<Profile>,
}

impl Readings {
    /// Whether `--client` (and so `--rules`) was given: a client under test, which only the
    /// client's side has.
    pub fn names_a_client(&self) -> bool {
        self.client.is_some()
    }

    /// The client and the rules; `msc` for both by default. A mutant is the reference under the
    /// rules' profile with one defect.
    pub fn resolve(self) -> (ClientArg, Profile) {
        let profile = self.profile.unwrap_or_default();
        let rules = self.rules.unwrap_or(profile);
        let client = match self.client {
            None => ClientArg {
                kind: ClientKind::Reference,
                profile,
            },
            Some(ClientArg {
                kind: kind @ ClientKind::Mutant(_),
                ..
            }) => ClientArg {
                kind,
                profile: rules,
            },
            Some(client) => client,
        };
        (client, rules)
    }
}

/// A widget to check (`--widget mutant:NAME`): a widget mutant.
#[derive(Clone, Copy, Debug)]
pub struct WidgetArg(pub WidgetMutant);

impl std::str::FromStr for WidgetArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let name = s.strip_prefix("mutant:").unwrap_or(s);
        WidgetMutant::named(name).map(WidgetArg).ok_or_else(|| {
            let names: Vec<&str> = WidgetMutant::ALL.iter().map(|m| m.name()).collect();
            format!(
                "unknown widget mutant `{name}` (one of: {})",
                names.join(", ")
            )
        })
    }
}

pub struct CheckArgs {
    pub side: Side,
    pub widget: Option<WidgetMutant>,
    pub client: ClientArg,
    pub rules: Profile,
    pub bounds: Bounds,
    pub threads: usize,
    pub symmetry: bool,
    pub measure_symmetry: bool,
    pub part: Option<Part>,
    pub json: bool,
    pub diagram: bool,
}

fn client_name(c: &ClientArg) -> String {
    match c.kind {
        ClientKind::Reference => c.profile.name.to_owned(),
        ClientKind::Mutant(m) => format!("mutant:{m}"),
    }
}

fn widget_name(w: Option<WidgetMutant>) -> String {
    match w {
        None => "reference".to_owned(),
        Some(m) => format!("mutant:{m}"),
    }
}

/// Exit code of a check interrupted (Ctrl-C) before any violation was found: 128 + SIGINT, as a
/// shell reports a program ended by Ctrl-C (docs/check.md).
const INTERRUPTED: u8 = 130;

pub fn run(args: CheckArgs) -> ExitCode {
    let subject = match args.side {
        Side::Widget => Subject::Widget(args.widget),
        Side::Client | Side::Both => Subject::Client(args.client.kind),
    };
    let config = CheckConfig {
        subject,
        client_profile: args.client.profile,
        rules_profile: args.rules,
        bounds: args.bounds,
        threads: args.threads,
        symmetry: args.symmetry,
        counterexamples: true,
        measure_symmetry: args.measure_symmetry,
        part: args.part,
    };
    let stop = stop_on_ctrl_c();
    let mut line = ProgressLine::new();
    let mut progress = |p: Progress| {
        line.update(|| {
            let what = match p.phase {
                Phase::Exhaustive => "exhaustive run".to_owned(),
                Phase::Counterexample(rule) => format!("shortest counterexample of {rule}"),
                Phase::Unreduced => "run without symmetry".to_owned(),
            };
            format!(
                "{what}: {} unique states, {:.0}/s, {:.1} s",
                p.unique,
                rate(p.unique as f64, p.elapsed),
                p.elapsed.as_secs_f64()
            )
        });
    };
    let report = check_until(&config, &mut progress, &stop);
    line.clear();
    let name = match subject {
        Subject::Client(_) => client_name(&args.client),
        Subject::Widget(w) => widget_name(w),
    };
    if args.json {
        print_json(&report, &name, args.diagram);
    } else {
        print_text(&report, &name, args.diagram);
    }
    exit_code(&report)
}

/// 1 a rule is violated (interrupted or not: a violation found is one); else 0 if every rule
/// holds (an interruption after the exhaustive run loses only the symmetry measure); else
/// [`INTERRUPTED`]: the exhaustive run was interrupted, and the rules not violated so far are
/// unsettled.
fn exit_code(report: &CheckReport) -> ExitCode {
    if !report.violated().is_empty() {
        ExitCode::from(1)
    } else if report.all_hold() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INTERRUPTED)
    }
}

/// A flag set by the first Ctrl-C (SIGINT); a second one ends the process at once. If the
/// handler cannot be installed, Ctrl-C ends the process as usual and the flag is never set.
fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let installed = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(INTERRUPTED));
        }
    });
    if let Err(e) = installed {
        eprintln!("capneg check: Ctrl-C will end the check without a report: {e}");
    }
    stop
}

/// Whether the report covers every reachable state, in words (of its part, if it is one).
fn completeness(r: &CheckReport) -> String {
    let what = match (r.exhaustive, r.interrupted) {
        (true, false) => "exhaustive",
        (true, true) => "exhaustive, then interrupted",
        (false, true) => "not exhaustive (interrupted)",
        (false, false) if r.overflowed => {
            "NOT exhaustive (a state did not fit the packed form: bounds too large)"
        }
        (false, false) => "NOT exhaustive",
    };
    match r.config.part {
        Some(part) => format!("{what} for part {part}"),
        None => what.to_owned(),
    }
}

fn print_text(r: &CheckReport, name: &str, with_diagram: bool) {
    let b = r.config.bounds;
    match r.config.subject {
        Subject::Client(_) => println!(
            "capneg check: client {name}, rules {}, {} capabilities, {} re-exchange rounds, {} gated actions, {} session settings",
            r.config.rules_profile, b.caps, b.rounds, b.gated, r.settings
        ),
        Subject::Widget(_) => println!(
            "capneg check: widget {name}, the widget's rules, with the reference client of {}, {} capabilities, {} application requests",
            r.config.client_profile, b.caps, b.rounds
        ),
    }
    if let Some(part) = r.config.part {
        let places: Vec<String> = (0..r.all_roots)
            .filter(|&i| part.has(i))
            .map(|i| (i + 1).to_string())
            .collect();
        let shown = if places.len() > 12 {
            format!("{}, ...", places[..12].join(", "))
        } else {
            places.join(", ")
        };
        println!(
            "part {part}: initial states {shown} ({} of {}); the verdicts and state counts below are this part's",
            r.roots, r.all_roots
        );
    }
    for (rule, verdict) in &r.rules {
        match verdict {
            Verdict::Holds => println!("{:<30} holds", rule.id()),
            Verdict::Unsettled => {
                println!("{:<30} not violated so far (interrupted)", rule.id())
            }
            Verdict::Violated(None) => println!("{:<30} violated", rule.id()),
            Verdict::Violated(Some(cx)) => {
                let (what, note) = if cx.shortest {
                    ("shortest counterexample", "")
                } else {
                    ("a counterexample", "; not the shortest: interrupted")
                };
                println!(
                    "{:<30} violated: {what} ({} lines{note}), line {}: {}",
                    rule.id(),
                    cx.lines.len(),
                    cx.line,
                    cx.reason
                );
                for line in &cx.lines {
                    println!("    {line}");
                }
                if with_diagram {
                    println!("    ```mermaid");
                    for line in cx.diagram.lines() {
                        println!("    {line}");
                    }
                    println!("    ```");
                }
            }
        }
    }
    let reached: Vec<String> = r
        .reachable
        .iter()
        .map(|(name, yes)| {
            let no = if r.exhaustive { "NO" } else { "not yet" };
            format!("{name}: {}", if *yes { "yes" } else { no })
        })
        .collect();
    println!("reachable: {}", reached.join("; "));
    println!(
        "states generated {}, unique {}{}, max depth {}, {:.2} s, {:.0} unique states/s, {}",
        r.generated,
        r.unique,
        if r.config.symmetry {
            " (up to symmetry)"
        } else {
            ""
        },
        r.max_depth,
        r.elapsed.as_secs_f64(),
        r.rate(),
        completeness(r)
    );
    if let (Some(unreduced), Some(factor)) = (r.unreduced, r.symmetry_factor()) {
        let secs = r.unreduced_elapsed.unwrap_or_default().as_secs_f64();
        println!(
            "symmetry: {unreduced} unique states without the reduction ({secs:.2} s, {:.0} unique states/s), factor {factor:.2} (at most {}), {:.2}x the time",
            unreduced as f64 / secs.max(1e-9),
            (1..=u64::from(b.caps)).product::<u64>(),
            secs / r.elapsed.as_secs_f64().max(1e-9)
        );
    }
}

fn print_json(r: &CheckReport, name: &str, with_diagram: bool) {
    let rules: Vec<_> = r
        .rules
        .iter()
        .map(|(rule, verdict)| match verdict {
            Verdict::Holds => json!({"rule": rule.id(), "verdict": "holds"}),
            Verdict::Unsettled => json!({"rule": rule.id(), "verdict": "unsettled"}),
            Verdict::Violated(None) => json!({"rule": rule.id(), "verdict": "violated"}),
            Verdict::Violated(Some(cx)) => {
                let mut v = json!({
                    "rule": rule.id(),
                    "verdict": "violated",
                    "line": cx.line,
                    "reason": cx.reason,
                    "shortest": cx.shortest,
                    "trace": cx.lines.iter().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_default()).collect::<Vec<_>>(),
                });
                if with_diagram {
                    v["diagram"] = json!(cx.diagram);
                }
                v
            }
        })
        .collect();
    let reachable: serde_json::Map<String, serde_json::Value> = r
        .reachable
        .iter()
        .map(|(n, y)| ((*n).to_owned(), json!(y)))
        .collect();
    let (side, client, widget) = match r.config.subject {
        Subject::Client(_) => ("client", json!(name), json!(null)),
        Subject::Widget(_) => ("widget", json!(r.config.client_profile.name), json!(name)),
    };
    let out = json!({
        "side": side,
        "client": client,
        "widget": widget,
        "rules_profile": r.config.rules_profile.name,
        "bounds": {"caps": r.config.bounds.caps, "rounds": r.config.bounds.rounds, "gated": r.config.bounds.gated},
        "settings": r.settings,
        "rules": rules,
        "reachable": reachable,
        "states_generated": r.generated,
        "unique_states": r.unique,
        "symmetry": r.config.symmetry,
        "max_depth": r.max_depth,
        "seconds": r.elapsed.as_secs_f64(),
        "unique_states_per_second": r.rate(),
        "exhaustive": r.exhaustive,
        "interrupted": r.interrupted,
        "overflowed": r.overflowed,
        "part": r.config.part.map(|p| json!({"index": p.index, "count": p.count})),
        "roots": r.roots,
        "all_roots": r.all_roots,
        "unique_states_without_symmetry": r.unreduced,
        "seconds_without_symmetry": r.unreduced_elapsed.map(|d| d.as_secs_f64()),
        "symmetry_factor": r.symmetry_factor(),
        "all_hold": r.all_hold(),
    });
    println!("{out}");
}
