//! `run`: `capneg run` ([`capneg_model::run::run_script`]) on any bytes as a script, under every
//! profile.
//!
//! - A bad script is one line naming a line of the script; reading from memory never fails.
//! - The trace of a script that runs is a trace that conforms under the profile it ran with
//!   (docs/spec.md §6.3: the reference conforms to its own profile), validated in full (not
//!   `--partial`).
//! - Removing its `client` and `prompt` lines gives back a script that runs to the same trace
//!   (docs/spec.md §6.3).
//! - The same bytes as a widget's script (`capneg run --side widget`,
//!   [`capneg_model::widget_run::run_widget_script`]): a bad script is one line naming a line;
//!   a trace that runs holds the widget rules under every profile (docs/spec.md §9.2: the
//!   reference widget conforms, whatever the client posted).

use super::{one_line, physical_lines};
use capneg_model::rules::Side;
use capneg_model::run::{run_script, RunError};
use capneg_model::validate::{validate, Options, Verdict};
use capneg_model::widget_run::run_widget_script;
use capneg_reference::Profile;
use capneg_wire::trace::{parse_line, Key};

/// Checks every property of one input (module docs).
pub fn check(data: &[u8]) -> Result<(), String> {
    let lines = physical_lines(data);
    for profile in Profile::ALL {
        let mut out = Vec::new();
        let result = run_script(profile, data, &mut out);
        if ran(
            &profile.to_string(),
            "the bad-script message",
            result,
            lines,
        )? {
            trace_conforms(profile, &out)?;
        }
    }
    widget_script(data, lines)
}

/// Whether `who`'s run of a script of `lines` lines in memory ran: a bad script (`Ok(false)`)
/// names one of its lines, in one line (`message`: what the check calls the message); an I/O
/// error cannot happen.
fn ran(
    who: &str,
    message: &str,
    result: Result<(), RunError>,
    lines: usize,
) -> Result<bool, String> {
    match result {
        Ok(()) => Ok(true),
        Err(RunError::Io(e)) => Err(format!(
            "{who}: an I/O error running a script in memory: {e}"
        )),
        Err(RunError::Script {
            line,
            message: text,
        }) => {
            one_line(message, &text)?;
            if line == 0 || line > lines {
                return Err(format!(
                    "{who}: a bad script at line {line} of {lines}: {text}"
                ));
            }
            Ok(false)
        }
    }
}

/// The bytes as a widget's script: a bad script names one of its lines, and the trace of one
/// that runs holds every widget rule under every profile.
fn widget_script(data: &[u8], lines: usize) -> Result<(), String> {
    let mut out = Vec::new();
    let result = run_widget_script(None, data, &mut out);
    if !ran("widget", "the bad widget-script message", result, lines)? {
        return Ok(());
    }
    for profile in Profile::ALL {
        let options = Options {
            profile,
            partial: false,
            side: Side::Widget,
        };
        let verdict = validate(options, &out[..]).map_err(|e| format!("widget, {profile}: {e}"))?;
        if !matches!(verdict, Verdict::Conforms { .. }) {
            return Err(format!(
                "widget, {profile}: the reference widget's trace breaks a widget rule: \
                     {verdict:?}\n{}",
                String::from_utf8_lossy(&out)
            ));
        }
    }
    Ok(())
}

/// The trace `run` printed conforms, and gives itself back from its inputs.
fn trace_conforms(profile: Profile, trace: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(trace);
    let options = Options {
        profile,
        partial: false,
        side: Side::Client,
    };
    let verdict = validate(options, trace).map_err(|e| format!("{profile}: {e}"))?;
    if !matches!(verdict, Verdict::Conforms { .. }) {
        return Err(format!(
            "{profile}: the trace `run` printed does not conform to its own profile: \
             {verdict:?}\n{text}"
        ));
    }
    let mut script = String::new();
    for line in text.lines() {
        let key = parse_line(line)
            .map_err(|e| format!("{profile}: `run` printed a line that is not a line: {e}"))?
            .key;
        if !matches!(key, Key::Client | Key::Prompt) {
            script.push_str(line);
            script.push('\n');
        }
    }
    let mut again = Vec::new();
    if let Err(e) = run_script(profile, script.as_bytes(), &mut again) {
        return Err(format!(
            "{profile}: the inputs of the trace `run` printed are not a script: {e}\n{script}"
        ));
    }
    if again != trace {
        return Err(format!(
            "{profile}: the inputs of a trace run to another trace:\n{text}\n---\n{}",
            String::from_utf8_lossy(&again)
        ));
    }
    Ok(())
}
