//! `capneg drive`: differential test of an external client through the adapter protocol
//! (docs/spec.md §7, §8; docs/driver.md).
//!
//! stdout: on a divergence, the minimal diverging session as a docs/spec.md §5 trace (the adapter's
//! side), ready for `capneg validate`; on success, the summary line. stderr: what diverged (the
//! rule broken, or the expected and the actual output), the adapter's stderr, and the counts with
//! the rate.

use crate::progress::ProgressLine;
use capneg_model::rules::{Rule, Side};
use capneg_properties::drive::{
    drive_with, printed, replay, Divergence, Options, Outcome, Progress, Report, ShrinkLimit,
    Stats, PRINTED_BYTES, PRINTED_LINES,
};
use capneg_properties::session::Session;
use capneg_properties::widget_drive::{drive_widget, replay_widget, WidgetFound};
use capneg_properties::Process;
use capneg_reference::Profile;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit code for a divergence (docs/spec.md §7).
const DIVERGENCE: u8 = 1;
/// Exit code for bad input, or an adapter that cannot be started (docs/spec.md §7).
const BAD_INPUT: u8 = 2;

/// What to drive, from the command line.
#[derive(clap::Args)]
pub struct DriveArgs {
    /// The profile whose rules judge the client and whose reference it is compared with
    /// (with `--side widget`: the profile of the reference client the widget talks with).
    #[arg(long, default_value = "msc")]
    profile: Profile,
    /// Which side the adapter is: `client` (docs/spec.md §8) or `widget` (§9.3).
    #[arg(long, default_value = "client", value_parser = crate::parse_side_of_check)]
    side: Side,
    /// The number of generated sessions.
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// The seed of the generator (default: 0).
    #[arg(long)]
    seed: Option<u64>,
    /// How long the adapter may take to say `idle` after a command, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// The longest time spent shrinking a divergence, in seconds (decimals allowed; 0: do
    /// not shrink). A divergence shrunk for that long is printed as it then is, not minimal.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    shrink_time: Duration,
    /// The adapter command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
    /// Runs only the session of this file instead of generated ones: a script (docs/spec.md
    /// §6) or a trace (§5); with `--side widget`, a widget's script (§9.3).
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
}

/// A number of seconds (`--shrink-time`): not negative, decimals allowed.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| !s.is_nan())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))?;
    if seconds < 0.0 {
        return Err(format!("`{text}`: a time cannot be negative"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}`: too long a time"))
}

pub fn run(args: DriveArgs) -> ExitCode {
    let DriveArgs {
        profile,
        side,
        cases,
        seed,
        timeout_ms,
        shrink_time,
        command,
        replay,
    } = args;
    let replay = replay.as_deref();
    let widget_script = match (side, replay) {
        (Side::Widget, Some(path)) => match std::fs::read_to_string(path) {
            Ok(text) => Some((path.display().to_string(), text)),
            Err(e) => {
                eprintln!("capneg drive: {}: cannot read: {e}", path.display());
                return ExitCode::from(BAD_INPUT);
            }
        },
        _ => None,
    };
    let replay = replay.filter(|_| side != Side::Widget);
    let script = match replay.map(read_script).transpose() {
        Ok(s) => s,
        Err(message) => {
            eprintln!("capneg drive: {message}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let timeout = Duration::from_millis(timeout_ms.max(1));
    let mut adapter = match Process::spawn(&command, timeout) {
        Ok(p) => p,
        Err(failure) => {
            eprintln!("capneg drive: {failure}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let shown = command.join(" ");
    if let Some((name, text)) = widget_script {
        return run_widget_replay(profile, &name, &text, &mut adapter, &shown);
    }
    if let Some(session) = script {
        return run_replay(profile, &session, &mut adapter, &shown);
    }
    let options = Options {
        seed: seed.unwrap_or(0),
        max_shrink_time: shrink_time,
        ..Options::new(profile, cases)
    };
    let mut line = ProgressLine::new();
    if side == Side::Widget {
        let drive = drive_widget(&options, &mut adapter, &mut |p: &Progress| {
            line.update(|| progress_text(p, cases));
        });
        line.clear();
        let reference = format!("reference widget (with the {profile} reference client)");
        let stats = drive.stats;
        let Some((first, others)) = drive.divergences.split_first() else {
            print_passed(&shown, &reference, &stats);
            return ExitCode::SUCCESS;
        };
        if !others.is_empty() {
            let rules: Vec<String> = drive
                .divergences
                .iter()
                .filter_map(|f| f.rule().map(|r| r.to_string()))
                .collect();
            eprintln!(
                "capneg drive: `{shown}` breaks {} widget rules: {}; the first is printed on stdout, each with its own minimal session below",
                rules.len(),
                rules.join(", ")
            );
        }
        print_report(&first.report, side, &reference, &shown);
        print_behind(first);
        for found in others {
            print_other(&found.report, &reference, &shown);
            print_behind(found);
        }
        if !others.is_empty() {
            eprintln!(
                "capneg drive: in all, {} sessions ({} commands) in {:.2} s, {:.0} sessions/s",
                stats.sessions,
                stats.commands,
                stats.elapsed.as_secs_f64(),
                stats.rate()
            );
        }
        return ExitCode::from(DIVERGENCE);
    }
    let outcome = drive_with(&options, &mut adapter, &mut |p: &Progress| {
        line.update(|| progress_text(p, cases));
    });
    line.clear();
    match outcome {
        Outcome::Passed(stats) => {
            print_passed(&shown, &format!("{profile} reference"), &stats);
            ExitCode::SUCCESS
        }
        Outcome::Diverged(report) => {
            print_report(&report, side, &format!("{profile} reference"), &shown);
            ExitCode::from(DIVERGENCE)
        }
    }
}

/// The summary of a drive that found no divergence, on stdout.
fn print_passed(shown: &str, reference: &str, stats: &Stats) {
    let _ = writeln!(
        io::stdout().lock(),
        "capneg drive: `{shown}` follows the {reference}: {} sessions ({} commands) without a divergence in {:.2} s, {:.0} sessions/s",
        stats.sessions,
        stats.commands,
        stats.elapsed.as_secs_f64(),
        stats.rate()
    );
}

/// The progress line: sessions run of those asked for, or shrinking, and the rate.
fn progress_text(p: &Progress, cases: u32) -> String {
    let rate = p.sessions as f64 / p.elapsed.as_secs_f64().max(1e-9);
    let what = if p.shrinking {
        format!("shrinking a divergence: {} sessions run", p.sessions)
    } else {
        format!("{} of {cases} sessions", p.sessions)
    };
    format!(
        "{what}, {rate:.0} sessions/s, {:.1} s",
        p.elapsed.as_secs_f64()
    )
}

fn read_script(path: &Path) -> Result<Session, String> {
    let name = path.display();
    let file = File::open(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    Session::from_script(BufReader::new(file)).map_err(|e| format!("{name}:{e}"))
}

/// Prints the trace on stdout, bounded ([`printed`]); what was left out, in words, for stderr.
fn print_trace(trace: &[String], divergence: Option<&Divergence>) -> Option<String> {
    let (lines, left_out) = printed(trace);
    let mut out = io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    if left_out == 0 {
        return None;
    }
    let mut note = format!(
        "the trace printed stops after line {} of {}: {left_out} line{} left out (at most {PRINTED_LINES} lines or {} MiB are printed)",
        lines.len(),
        trace.len(),
        if left_out == 1 { "" } else { "s" },
        PRINTED_BYTES >> 20
    );
    if let Some(at) = divergence
        .and_then(Divergence::line)
        .filter(|l| l.get() as usize > lines.len() && l.get() as usize <= trace.len())
    {
        note.push_str(&format!("; line {at}, where it diverges, is among them"));
    }
    Some(note)
}

fn print_report<S>(report: &Report<S>, side: Side, reference: &str, shown: &str) {
    let d = &report.divergence;
    let cut = print_trace(&d.trace, Some(d));
    let mut err = io::stderr().lock();
    // The commands: the inputs of the side under test, and its start.
    let inputs: [&str; 2] = match side {
        Side::Widget => ["{\"client\"", "{\"app\""],
        Side::Client | Side::Both => ["{\"widget\"", "{\"decision\""],
    };
    let commands = d
        .trace
        .iter()
        .filter(|l| inputs.iter().any(|p| l.starts_with(p)))
        .count()
        + 1;
    let plural = if commands == 1 { "" } else { "s" };
    let shrunk = match report.shrink_limit {
        None => format!("shrunk to {commands} command{plural}"),
        Some(limit @ ShrinkLimit::Time(_)) => {
            format!("{commands} command{plural}, NOT minimal: {limit} (--shrink-time)")
        }
        Some(limit) => format!("{commands} command{plural}, NOT minimal: {limit}"),
    };
    let _ = writeln!(
        err,
        "capneg drive: `{shown}` diverges from the {reference} (generated session {}, {shrunk}):",
        report.found_after,
    );
    let _ = write!(err, "{}", d.describe());
    if let Some(cut) = cut {
        let _ = writeln!(err, "{cut}");
    }
    if !d.describe().contains("its stderr") {
        print_adapter_stderr(&mut err, &report.stderr);
    }
    let s = &report.stats;
    let _ = writeln!(
        err,
        "capneg drive: {} sessions ({} commands) in {:.2} s, {:.0} sessions/s",
        s.sessions,
        s.commands,
        s.elapsed.as_secs_f64(),
        s.rate()
    );
}

/// Where a widget divergence's rule never broke first: which rules its trace breaks before it,
/// on stderr.
fn print_behind(found: &WidgetFound) {
    let Some((line, rules)) = &found.behind else {
        return;
    };
    let rules: Vec<String> = rules.iter().map(Rule::to_string).collect();
    let _ = writeln!(
        io::stderr().lock(),
        "(in no generated session was this the first rule broken: this trace breaks {} first, at line {line}, and `capneg validate` names that)",
        rules.join(", ")
    );
}

/// A further divergence of a widget drive: described on stderr with its own minimal trace.
fn print_other<S>(report: &Report<S>, reference: &str, shown: &str) {
    let d = &report.divergence;
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "capneg drive: `{shown}` also diverges from the {reference} (generated session {}):",
        report.found_after
    );
    let _ = write!(err, "{}", d.describe());
    let (lines, left_out) = printed(&d.trace);
    let _ = writeln!(err, "its minimal trace:");
    for line in lines {
        let _ = writeln!(err, "  {line}");
    }
    if left_out > 0 {
        let _ = writeln!(err, "  ({left_out} more lines left out)");
    }
}

/// `--side widget --replay SCRIPT`: a widget's script on the adapter and the reference widget.
fn run_widget_replay(
    profile: Profile,
    name: &str,
    script: &str,
    adapter: &mut Process,
    shown: &str,
) -> ExitCode {
    let mark = capneg_properties::Adapter::stderr_mark(adapter);
    let (trace, divergence) = match replay_widget(profile, script, adapter) {
        Ok(result) => result,
        Err(message) => {
            eprintln!("capneg drive: {name}:{message}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let against = "reference widget on this script";
    replayed(&trace, divergence.as_deref(), adapter, mark, shown, against)
}

fn run_replay(profile: Profile, session: &Session, adapter: &mut Process, shown: &str) -> ExitCode {
    let mark = capneg_properties::Adapter::stderr_mark(adapter);
    let (trace, divergence) = replay(profile, session, adapter);
    let against = format!("{profile} reference on this session");
    replayed(
        &trace,
        divergence.as_deref(),
        adapter,
        mark,
        shown,
        &against,
    )
}

/// The end of a replay: its trace printed, then whether the adapter `shown` follows what it was
/// compared `against` (the reference and the script or session replayed), and what the adapter
/// wrote on stderr since `mark`.
fn replayed(
    trace: &[String],
    divergence: Option<&Divergence>,
    adapter: &mut Process,
    mark: u64,
    shown: &str,
    against: &str,
) -> ExitCode {
    let cut = print_trace(trace, divergence);
    // The session is over: the adapter ends, and its stderr is read to the end.
    adapter.close();
    let stderr = capneg_properties::Adapter::stderr_since(adapter, mark);
    let mut err = io::stderr().lock();
    let code = match divergence {
        None => {
            let _ = writeln!(err, "capneg drive: `{shown}` follows the {against}");
            ExitCode::SUCCESS
        }
        Some(d) => {
            let _ = writeln!(err, "capneg drive: `{shown}` diverges from the {against}:");
            let _ = write!(err, "{}", d.describe());
            ExitCode::from(DIVERGENCE)
        }
    };
    if let Some(cut) = cut {
        let _ = writeln!(err, "{cut}");
    }
    print_adapter_stderr(&mut err, &stderr);
    code
}

/// What the adapter wrote on stderr during the session, if anything.
fn print_adapter_stderr(err: &mut impl Write, stderr: &str) {
    if !stderr.trim().is_empty() {
        let _ = writeln!(err, "the adapter's stderr during this session:");
        for line in stderr.trim_end().lines() {
            let _ = writeln!(err, "  | {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_or_say_why_not() {
        assert_eq!(parse_seconds("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        for (bad, why) in [
            ("abc", "not a number of seconds"),
            ("NaN", "not a number of seconds"),
            ("", "not a number of seconds"),
            ("-1", "cannot be negative"),
            ("inf", "too long"),
            ("1e300", "too long"),
        ] {
            let e = parse_seconds(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
