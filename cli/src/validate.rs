//! `capneg validate`: judging recorded traces.

use capneg_model::rules::Side;
use capneg_model::validate::{validate, Options, Verdict};
use capneg_reference::Profile;
use capneg_wire::trace::Prompts;
use serde_json::json;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(
    profile: Profile,
    side: Side,
    partial: bool,
    as_json: bool,
    traces: &[PathBuf],
) -> ExitCode {
    let options = Options {
        profile,
        partial,
        side,
    };
    let (mut conform, mut violate, mut bad) = (0usize, 0usize, 0usize);
    for path in traces {
        let name = path.display().to_string();
        let verdict = if name == "-" {
            validate(options, io::stdin())
        } else {
            match File::open(path) {
                Ok(f) => validate(options, f),
                Err(e) => Ok(Verdict::BadInput {
                    line: None,
                    message: format!("cannot read: {e}"),
                }),
            }
        };
        let verdict = verdict.unwrap_or_else(|e| Verdict::BadInput {
            line: None,
            message: format!("cannot read: {e}"),
        });
        match &verdict {
            Verdict::Conforms { .. } => conform += 1,
            Verdict::Violates { .. } => violate += 1,
            Verdict::BadInput { .. } => bad += 1,
        }
        if as_json {
            println!("{}", to_json(&name, profile, side, &verdict));
        } else {
            print_text(&name, profile, side, &verdict);
        }
    }
    if traces.len() > 1 {
        let summary = format!(
            "{} traces: {conform} conform, {violate} violate, {bad} bad input",
            traces.len()
        );
        if as_json {
            println!(
                "{}",
                json!({"summary": {"traces": traces.len(), "conform": conform, "violate": violate, "bad_input": bad}})
            );
        } else {
            println!("{summary}");
        }
    }
    if bad > 0 {
        ExitCode::from(2)
    } else if violate > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn prompts_word(p: Prompts) -> &'static str {
    match p {
        Prompts::Recorded => "prompts recorded",
        Prompts::Hidden => "prompts hidden",
    }
}

fn print_text(name: &str, profile: Profile, side: Side, verdict: &Verdict) {
    // Today's output where the client is judged; the side is named where it is not.
    let judged = match side {
        Side::Client => String::new(),
        side => format!(", side {side}"),
    };
    match verdict {
        Verdict::Conforms { events, prompts } => println!(
            "conforms: {name} ({events} events, profile {profile}{judged}, {})",
            prompts_word(*prompts)
        ),
        Verdict::Violates { line, findings, .. } => {
            for f in findings {
                println!("{name}:{line}: violates {}: {}", f.rule, f.reason);
            }
        }
        Verdict::BadInput {
            line: None,
            message,
        } => eprintln!("{name}: {message}"),
        Verdict::BadInput {
            line: Some(line),
            message,
        } => eprintln!("{name}:{line}: {message}"),
    }
}

fn to_json(name: &str, profile: Profile, side: Side, verdict: &Verdict) -> serde_json::Value {
    let mut value = verdict_json(name, profile, verdict);
    value["side"] = json!(side.name());
    value
}

fn verdict_json(name: &str, profile: Profile, verdict: &Verdict) -> serde_json::Value {
    match verdict {
        Verdict::Conforms { events, prompts } => json!({
            "file": name, "profile": profile.name, "verdict": "conforms", "events": events,
            "prompts": prompts_word(*prompts).trim_start_matches("prompts "),
        }),
        Verdict::Violates {
            line,
            findings,
            prompts,
        } => json!({
            "file": name, "profile": profile.name, "verdict": "violates", "line": line,
            "prompts": prompts_word(*prompts).trim_start_matches("prompts "),
            "violations": findings.iter().map(|f| json!({"rule": f.rule.id(), "reason": f.reason})).collect::<Vec<_>>(),
        }),
        // `line` 0: the file could not be read at all.
        Verdict::BadInput { line, message } => json!({
            "file": name, "profile": profile.name, "verdict": "bad-input",
            "line": line.map_or(0, |l| l.get()), "error": message,
        }),
    }
}
