//! What diverged, in words: a [`Finding`] (rules broken, an output that differs from the
//! reference's, an adapter that failed or wrote a line that is not a protocol line), its
//! [`Class`] (the kind of divergence that shrinking keeps), and the [`Divergence`] (a finding with
//! both sides' traces), which [`Divergence::describe`] puts in the words `capneg drive` prints on
//! stderr (docs/spec.md §7.8, §8.4).

use crate::process::Failure;
use capneg_model::{Line, Rule};
use std::fmt::Write as _;

/// What diverged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The adapter broke these rules at this line (one past the last line: at the end).
    Rules {
        /// The line.
        line: Line,
        /// Each rule with the reason, citing lines.
        broken: Vec<(Rule, String)>,
        /// Where the rules are end-of-trace obligations the adapter left open when its outputs
        /// stopped following the reference's: that difference.
        difference: Option<Box<Finding>>,
    },
    /// The adapter's output differs from the reference's.
    Differs {
        /// The adapter's line (for a missing output: the last line of the command).
        line: Line,
        /// The reference's output (`None`: the reference was idle).
        expected: Option<String>,
        /// The adapter's output (`None`: the adapter was idle).
        got: Option<String>,
    },
    /// The adapter failed on the command at this line (the session line: the `start`).
    Failed {
        /// The line of the command.
        line: Line,
        /// How.
        failure: Failure,
    },
    /// The adapter wrote a line that is not a protocol line.
    Protocol {
        /// The line.
        line: Line,
        /// Why.
        message: String,
    },
    /// The driver could not go on (a bug of the driver, or a replay it cannot follow).
    Internal(String),
}

/// The kind of a divergence, which shrinking keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A rule broken (the first one reported).
    Rule(Rule),
    /// An output that differs from the reference's.
    Differs,
    /// No `idle` within the timeout.
    NoAnswer,
    /// The adapter ended.
    Crashed,
    /// The adapter could not be started again.
    CannotStart,
    /// Not a protocol line.
    Protocol,
    /// The driver could not go on.
    Internal,
}

/// A divergence with the adapter's trace up to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// What diverged.
    pub finding: Finding,
    /// The adapter's side of the session (docs/spec.md §5), with the widget lines as sent to it.
    pub trace: Vec<String>,
    /// The reference's side of the same session.
    pub reference: Vec<String>,
}

impl Divergence {
    /// Its kind.
    pub fn class(&self) -> Class {
        match &self.finding {
            Finding::Rules { broken, .. } => broken
                .first()
                .map_or(Class::Internal, |(rule, _)| Class::Rule(*rule)),
            Finding::Differs { .. } => Class::Differs,
            Finding::Failed { failure, .. } => match failure {
                Failure::NoAnswer(_) => Class::NoAnswer,
                Failure::Crashed { .. } => Class::Crashed,
                Failure::CannotStart(_) => Class::CannotStart,
            },
            Finding::Protocol { .. } => Class::Protocol,
            Finding::Internal(_) => Class::Internal,
        }
    }

    /// Whether it is of kind `class` (for a rule: whether it breaks that rule).
    pub fn is(&self, class: Class) -> bool {
        match (class, &self.finding) {
            (Class::Rule(rule), Finding::Rules { broken, .. }) => {
                broken.iter().any(|(r, _)| *r == rule)
            }
            _ => self.class() == class,
        }
    }

    /// The rules it names (empty unless rules were broken).
    pub fn rules(&self) -> Vec<Rule> {
        match &self.finding {
            Finding::Rules { broken, .. } => broken.iter().map(|(r, _)| *r).collect(),
            _ => Vec::new(),
        }
    }

    /// The line of the trace it names: where a rule broke (one past the last line: at the end),
    /// the first output that differs (for a missing one: the last line of the command), the
    /// command the adapter failed on, the line that is not a protocol line; `None` for the
    /// driver's own failure.
    pub fn line(&self) -> Option<Line> {
        match &self.finding {
            Finding::Rules { line, .. }
            | Finding::Differs { line, .. }
            | Finding::Failed { line, .. }
            | Finding::Protocol { line, .. } => Some(*line),
            Finding::Internal(_) => None,
        }
    }

    /// Whether it happened on the `start` command.
    pub fn at_start(&self) -> bool {
        matches!(self.finding, Finding::Failed { line, .. } if line == Line::FIRST)
    }

    /// What diverged, in words: one line per rule broken, or the differing output (expected vs
    /// got), or how the adapter failed with its stderr.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match &self.finding {
            Finding::Rules {
                line,
                broken,
                difference,
            } => {
                let place = if line.get() as usize > self.trace.len() {
                    "at the end".to_owned()
                } else {
                    format!("line {line}")
                };
                for (rule, reason) in broken {
                    let _ = writeln!(s, "{place}: violates {rule}: {reason}");
                }
                if let Some(d) = difference {
                    let _ = write!(
                        s,
                        "the trace ends where the adapter's outputs stopped following the reference's:\n{}",
                        Divergence {
                            finding: (**d).clone(),
                            trace: Vec::new(),
                            reference: Vec::new(),
                        }
                        .describe()
                    );
                }
            }
            Finding::Differs {
                line,
                expected,
                got,
            } => {
                let (expected, got) = (expected.as_deref().map(shown), got.as_deref().map(shown));
                let _ = match (expected, got) {
                    (Some(e), Some(g)) => writeln!(
                        s,
                        "line {line}: differs from the reference (requestIds of the client's own requests are not compared)\n  expected {e}\n  got      {g}"
                    ),
                    (Some(e), None) => writeln!(
                        s,
                        "after line {line}: the adapter said idle, the reference had more to say\n  expected {e}\n  got      nothing"
                    ),
                    (None, Some(g)) => writeln!(
                        s,
                        "line {line}: the adapter said more than the reference\n  expected nothing (the reference was idle)\n  got      {g}"
                    ),
                    (None, None) => writeln!(s, "line {line}: differs from the reference"),
                };
            }
            Finding::Failed { line, failure } => {
                let after = if *line == Line::FIRST {
                    "the start command".to_owned()
                } else {
                    format!("the command of line {line}")
                };
                match failure {
                    Failure::NoAnswer(t) => {
                        let _ = writeln!(
                            s,
                            "line {line}: no answer: the adapter did not say idle within {} ms after {after}",
                            t.as_millis()
                        );
                    }
                    Failure::Crashed {
                        status,
                        stderr,
                        detail,
                        ..
                    } => {
                        match status {
                            Some(st) => {
                                let _ = write!(
                                    s,
                                    "line {line}: the adapter crashed after {after} ({st})"
                                );
                                if let Some(d) = detail {
                                    let _ = write!(s, ": {d}");
                                }
                            }
                            None => {
                                let _ = write!(
                                    s,
                                    "line {line}: the adapter's output broke off after {after}"
                                );
                                if let Some(d) = detail {
                                    let _ = write!(s, ": {d}");
                                }
                                s.push_str("; it was stopped");
                            }
                        }
                        s.push('\n');
                        if stderr.trim().is_empty() {
                            s.push_str("  its stderr was empty\n");
                        } else {
                            s.push_str("  its stderr:\n");
                            for l in stderr.lines() {
                                let _ = writeln!(s, "  | {l}");
                            }
                        }
                    }
                    Failure::CannotStart(e) => {
                        let _ = writeln!(s, "line {line}: cannot start the adapter again: {e}");
                    }
                }
            }
            Finding::Protocol { line, message } => {
                let _ = writeln!(s, "line {line}: not a protocol line: {message}");
            }
            Finding::Internal(message) => {
                let _ = writeln!(s, "the driver could not go on: {message}");
            }
        }
        s
    }
}

/// The most characters of an output line quoted in a description: the adapter's lines may be
/// long (the whole line is in the printed trace).
const QUOTED: usize = 2000;

/// `line` as quoted in a description: at most [`QUOTED`] characters, saying how long it is when
/// cut.
fn shown(line: &str) -> String {
    match line.char_indices().nth(QUOTED) {
        None => line.to_owned(),
        Some((end, _)) => format!("{}... ({} bytes in all)", &line[..end], line.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_differing_line_is_quoted_in_part() {
        let long = format!(r#"{{"client":{{"data":"{}"}}}}"#, "é".repeat(100_000));
        let d = Divergence {
            finding: Finding::Differs {
                line: Line::FIRST,
                expected: None,
                got: Some(long.clone()),
            },
            trace: Vec::new(),
            reference: Vec::new(),
        };
        let said = d.describe();
        assert!(said.len() < 2 * QUOTED + 200, "{} bytes", said.len());
        assert!(
            said.contains(&format!("... ({} bytes in all)", long.len())),
            "{said}"
        );
        assert_eq!(shown("short"), "short");
    }
}
