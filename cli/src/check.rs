//! `capneg check`: the report of an exhaustive model check.

use capneg_model::check::model::Bounds;
use capneg_model::check::{check, CheckConfig, CheckReport, Phase, Progress, Verdict};
use capneg_model::rules::mutants::{ClientKind, MutantKind};
use capneg_reference::Profile;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

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

pub struct CheckArgs {
    pub client: ClientArg,
    pub rules: Profile,
    pub bounds: Bounds,
    pub threads: usize,
    pub symmetry: bool,
    pub measure_symmetry: bool,
    pub json: bool,
    pub diagram: bool,
}

fn client_name(c: &ClientArg) -> String {
    match c.kind {
        ClientKind::Reference => c.profile.name.to_owned(),
        ClientKind::Mutant(m) => format!("mutant:{m}"),
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    let config = CheckConfig {
        client: args.client.kind,
        client_profile: args.client.profile,
        rules_profile: args.rules,
        bounds: args.bounds,
        threads: args.threads,
        symmetry: args.symmetry,
        counterexamples: true,
        measure_symmetry: args.measure_symmetry,
    };
    let tty = std::io::stderr().is_terminal();
    let mut progress = |p: Progress| {
        if tty {
            let what = match p.phase {
                Phase::Exhaustive => "exhaustive run".to_owned(),
                Phase::Counterexample(rule) => format!("shortest counterexample of {rule}"),
                Phase::Unreduced => "run without symmetry".to_owned(),
            };
            eprint!(
                "\r\x1b[2K{what}: {} unique states, {:.1} s",
                p.unique,
                p.elapsed.as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
    };
    let report = check(&config, &mut progress);
    if tty {
        eprint!("\r\x1b[2K");
    }
    let name = client_name(&args.client);
    if args.json {
        print_json(&report, &name, args.diagram);
    } else {
        print_text(&report, &name, args.diagram);
    }
    if report.all_hold() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_text(r: &CheckReport, client: &str, with_diagram: bool) {
    let b = r.config.bounds;
    println!(
        "capneg check: client {client}, rules {}, {} capabilities, {} re-exchange rounds, {} gated actions, {} session settings",
        r.config.rules_profile, b.caps, b.rounds, b.gated, r.settings
    );
    for (rule, verdict) in &r.rules {
        match verdict {
            Verdict::Holds => println!("{:<30} holds", rule.id()),
            Verdict::Violated(None) => println!("{:<30} violated", rule.id()),
            Verdict::Violated(Some(cx)) => {
                println!(
                    "{:<30} violated: shortest counterexample ({} lines), line {}: {}",
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
        .map(|(name, yes)| format!("{name}: {}", if *yes { "yes" } else { "NO" }))
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
        if r.exhaustive {
            "exhaustive"
        } else {
            "NOT exhaustive"
        }
    );
    if let (Some(unreduced), Some(factor)) = (r.unreduced, r.symmetry_factor()) {
        println!(
            "symmetry: {unreduced} unique states without the reduction, factor {factor:.2} (at most {})",
            (1..=u64::from(b.caps)).product::<u64>()
        );
    }
}

fn print_json(r: &CheckReport, client: &str, with_diagram: bool) {
    let rules: Vec<_> = r
        .rules
        .iter()
        .map(|(rule, verdict)| match verdict {
            Verdict::Holds => json!({"rule": rule.id(), "verdict": "holds"}),
            Verdict::Violated(None) => json!({"rule": rule.id(), "verdict": "violated"}),
            Verdict::Violated(Some(cx)) => {
                let mut v = json!({
                    "rule": rule.id(),
                    "verdict": "violated",
                    "line": cx.line,
                    "reason": cx.reason,
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
    let out = json!({
        "client": client,
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
        "unique_states_without_symmetry": r.unreduced,
        "symmetry_factor": r.symmetry_factor(),
        "all_hold": r.all_hold(),
    });
    println!("{out}");
}
