//! `capneg drive`: differential test of an external client through the adapter protocol
//! (docs/spec.md §7, §8; docs/driver.md).
//!
//! stdout: on a divergence, the minimal diverging session as a docs/spec.md §5 trace (the adapter's
//! side), ready for `capneg validate`; on success, the summary line. stderr: what diverged (the
//! rule broken, or the expected and the actual output), the adapter's stderr, and the counts with
//! the rate.

use capneg_properties::drive::{drive, replay, Options, Outcome, Report};
use capneg_properties::session::Session;
use capneg_properties::Process;
use capneg_reference::Profile;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code for a divergence (docs/spec.md §7).
const DIVERGENCE: u8 = 1;
/// Exit code for bad input, or an adapter that cannot be started (docs/spec.md §7).
const BAD_INPUT: u8 = 2;

pub fn run(
    profile: Profile,
    cases: u32,
    seed: Option<u64>,
    timeout_ms: u64,
    command: &[String],
    replay_script: Option<&Path>,
) -> ExitCode {
    let script = match replay_script.map(read_script).transpose() {
        Ok(s) => s,
        Err(message) => {
            eprintln!("capneg drive: {message}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let timeout = Duration::from_millis(timeout_ms.max(1));
    let mut adapter = match Process::spawn(command, timeout) {
        Ok(p) => p,
        Err(failure) => {
            eprintln!("capneg drive: {failure}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let shown = command.join(" ");
    if let Some(session) = script {
        return run_replay(profile, &session, &mut adapter, &shown);
    }
    let options = Options {
        seed: seed.unwrap_or(0),
        ..Options::new(profile, cases)
    };
    match drive(&options, &mut adapter) {
        Outcome::Passed(stats) => {
            let _ = writeln!(
                io::stdout().lock(),
                "capneg drive: `{shown}` follows the {profile} reference: {} sessions ({} commands) without a divergence in {:.2} s, {:.0} sessions/s",
                stats.sessions,
                stats.commands,
                stats.elapsed.as_secs_f64(),
                stats.rate()
            );
            ExitCode::SUCCESS
        }
        Outcome::Diverged(report) => {
            print_report(&report, profile, &shown);
            ExitCode::from(DIVERGENCE)
        }
    }
}

fn read_script(path: &Path) -> Result<Session, String> {
    let name = path.display();
    let file = File::open(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    Session::from_script(BufReader::new(file)).map_err(|e| format!("{name}:{e}"))
}

fn print_trace(trace: &[String]) {
    let mut out = io::stdout().lock();
    for line in trace {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

fn print_report(report: &Report, profile: Profile, shown: &str) {
    let d = &report.divergence;
    print_trace(&d.trace);
    let mut err = io::stderr().lock();
    let commands = d
        .trace
        .iter()
        .filter(|l| l.starts_with("{\"widget\"") || l.starts_with("{\"decision\""))
        .count()
        + 1;
    let _ = writeln!(
        err,
        "capneg drive: `{shown}` diverges from the {profile} reference (generated session {}, shrunk to {commands} command{}):",
        report.found_after,
        if commands == 1 { "" } else { "s" }
    );
    let _ = write!(err, "{}", d.describe());
    if !report.stderr.trim().is_empty() && !d.describe().contains("its stderr") {
        let _ = writeln!(err, "the adapter's stderr during this session:");
        for line in report.stderr.trim_end().lines() {
            let _ = writeln!(err, "  | {line}");
        }
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

fn run_replay(profile: Profile, session: &Session, adapter: &mut Process, shown: &str) -> ExitCode {
    let mark = capneg_properties::Adapter::stderr_mark(adapter);
    let (trace, divergence) = replay(profile, session, adapter);
    print_trace(&trace);
    let stderr = capneg_properties::Adapter::stderr_since(adapter, mark);
    let mut err = io::stderr().lock();
    let code = match divergence {
        None => {
            let _ = writeln!(
                err,
                "capneg drive: `{shown}` follows the {profile} reference on this session"
            );
            ExitCode::SUCCESS
        }
        Some(d) => {
            let _ = writeln!(
                err,
                "capneg drive: `{shown}` diverges from the {profile} reference on this session:"
            );
            let _ = write!(err, "{}", d.describe());
            ExitCode::from(DIVERGENCE)
        }
    };
    if !stderr.trim().is_empty() {
        let _ = writeln!(err, "the adapter's stderr during this session:");
        for line in stderr.trim_end().lines() {
            let _ = writeln!(err, "  | {line}");
        }
    }
    code
}
