//! Surveys an adapter: runs generated sessions against it in lockstep with the reference,
//! without stopping at the first divergence, and tallies the divergences by kind, each with a
//! minimal session (the first one found, shrunk while it diverges the same way). `capneg drive`
//! shows one divergence; this shows how many kinds there are, how often each comes, and the
//! adapter's rate.
//!
//! ```sh
//! cargo run --release -p capneg-properties --example survey -- \
//!     [--profile P] [--cases N] [--seed S] [--timeout-ms T] -- CMD...
//! ```

use capneg_properties::drive::{rng, Divergence, Finding, Lockstep};
use capneg_properties::strategy::sessions;
use capneg_properties::Process;
use capneg_reference::Profile;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Printing that stops quietly when stdout is closed (`| head`).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($t)*).is_err() {
            return ExitCode::SUCCESS;
        }
    }};
}

macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout().lock(), $($t)*).is_err() {
            return ExitCode::SUCCESS;
        }
    }};
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(split) = args.iter().position(|a| a == "--") else {
        eprintln!("usage: survey [--profile P] [--cases N] [--seed S] [--timeout-ms T] -- CMD...");
        return ExitCode::from(2);
    };
    let (flags, command) = (&args[..split], &args[split + 1..]);
    let mut profile = Profile::MSC;
    let mut cases = 2000u32;
    let mut seed = 0u64;
    let mut timeout = 5000u64;
    for pair in flags.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        let ok = match pair[0].as_str() {
            "--profile" => value.parse().map(|p| profile = p).is_ok(),
            "--cases" => value.parse().map(|c| cases = c).is_ok(),
            "--seed" => value.parse().map(|s| seed = s).is_ok(),
            "--timeout-ms" => value.parse().map(|t| timeout = t).is_ok(),
            _ => false,
        };
        if !ok {
            eprintln!("survey: bad flag {pair:?}");
            return ExitCode::from(2);
        }
    }
    let mut adapter = match Process::spawn(command, Duration::from_millis(timeout)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("survey: {e}");
            return ExitCode::from(2);
        }
    };
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(seed));
    let strategy = sessions();
    let mut lockstep = Lockstep::new(profile);
    let mut kinds = BTreeMap::new();
    let started = Instant::now();
    for _ in 0..cases {
        let tree = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree,
            Err(e) => {
                eprintln!("survey: {e}");
                return ExitCode::from(2);
            }
        };
        if let Err(d) = lockstep.run(&tree.current(), &mut adapter) {
            kinds.entry(key(&d)).or_insert((0, d, tree)).0 += 1;
        }
    }
    let elapsed = started.elapsed();
    let commands = lockstep.commands();
    outln!(
        "{cases} sessions ({} commands) in {:.2} s: {:.0} sessions/s, {:.0} commands/s; {} diverged",
        commands,
        elapsed.as_secs_f64(),
        f64::from(cases) / elapsed.as_secs_f64(),
        commands as f64 / elapsed.as_secs_f64(),
        kinds.values().map(|(n, _, _)| n).sum::<u32>()
    );
    for (key, (n, first, mut tree)) in kinds {
        let d = shrink(&key, first, &mut tree, &mut lockstep, &mut adapter);
        outln!("\n== {key}: {n} sessions; minimal:");
        for line in &d.trace {
            outln!("{line}");
        }
        out!("{}", d.describe());
    }
    ExitCode::SUCCESS
}

/// Shrinks a diverging session while it diverges the same way (proptest's shrinking loop).
fn shrink(
    kind: &str,
    first: Box<Divergence>,
    tree: &mut impl ValueTree<Value = capneg_properties::Session>,
    lockstep: &mut Lockstep,
    adapter: &mut Process,
) -> Box<Divergence> {
    let mut best = first;
    if !tree.simplify() {
        return best;
    }
    for _ in 0..4096 {
        match lockstep.run(&tree.current(), adapter) {
            Err(d) if key(&d) == kind => {
                best = d;
                if !tree.simplify() {
                    break;
                }
            }
            _ => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    best
}

/// The kind of a divergence: the rules broken, or what differs (the action of the expected and
/// the actual message).
fn key(d: &Divergence) -> String {
    let action = |line: &Option<String>| -> String {
        let Some(line) = line else {
            return "nothing".into();
        };
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        match (v.get("client"), v.get("prompt")) {
            (Some(c), _) => {
                let kind = if c.get("response").is_some() {
                    if c["response"].get("error").is_some() {
                        "error"
                    } else {
                        "response"
                    }
                } else {
                    "request"
                };
                format!("{} {kind}", c["action"].as_str().unwrap_or("?"))
            }
            (_, Some(_)) => "prompt".into(),
            _ => "?".into(),
        }
    };
    match &d.finding {
        Finding::Rules { .. } => {
            let rules: Vec<&str> = d.rules().iter().map(|r| r.id()).collect();
            format!("violates {}", rules.join(" + "))
        }
        Finding::Differs { expected, got, .. } => {
            format!(
                "differs: expected {}, got {}",
                action(expected),
                action(got)
            )
        }
        Finding::Failed { failure, .. } => format!("failed: {failure}"),
        Finding::Protocol { message, .. } => format!("protocol: {message}"),
        Finding::Internal(m) => format!("internal: {m}"),
    }
}
