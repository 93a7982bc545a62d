//! One session run on the adapter and on the in-process reference at once (docs/spec.md §8.4).
//!
//! [`Lockstep`] sends each command of a session to both clients. After every command the
//! adapter's outputs are judged by the rules of the profile (the
//! [`Observer`](capneg_model::Observer) is fed the widget line, then the adapter's client and
//! prompt lines), then compared with the reference's ([`compare`]); at the end of the
//! session the end-of-trace obligations are judged. The first rule broken, or else the first
//! difference, is the divergence. One difference does not end the session at once: a response
//! the adapter has not sent yet where the reference has. It may come later (an ack held back
//! past the user's decision breaks `ack-before-notify` then), so the session goes on: the first
//! rule broken before the session ends is the divergence, or else that difference, with the
//! obligations the adapter's whole session leaves open: none if the response came later, when
//! only its timing differs (and `capneg validate` says the trace conforms). An adapter that
//! fails (no answer, a crash) or writes a line that is not a protocol line diverges too (with
//! the reason [`diagnose`] gives); what a failed adapter wrote is kept in its trace as far as
//! it is a trace (docs/spec.md §5). While shrinking, a session is cut short at a deadline
//! ([`Lockstep::set_deadline`]).
//!
//! Outside negotiation (docs/spec.md §4.3, decision 35): an `update_state` request the adapter
//! sends (MSC2762's room state push, which the reference never sends) is judged by the rules like
//! any client request, left out of the comparison ([`outside_negotiation`]), and answered at once
//! by the widget with an empty response, as MSC2762's widget does ("The widget acknowledges
//! receipt of this request with an empty `response` object"), sent to the adapter alone. What the
//! adapter says to that answer counts as output of the same command.

use super::compare::{compare, outside_negotiation, UPDATE_STATE};
use super::findings::{Divergence, Finding};
use super::lines::{bounded, diagnose};
use crate::process::{Adapter, Failure};
use crate::protocol::Handler;
use crate::runner::{OutKind, Side};
use crate::session::{Session, Step};
use capneg_model::rules::mutants::ClientKind;
use capneg_model::{Line, Rule};
use capneg_reference::Profile;
use std::time::Instant;

/// The most `update_state` requests the widget answers within one command: past it, an adapter
/// that answers every answer with a new request is left with them open (the widget's fault, not
/// judged on the client side).
const MAX_ACKS: usize = 64;

/// Runs sessions on the reference and an adapter in lockstep.
pub struct Lockstep {
    profile: Profile,
    reference: Handler,
    ref_side: Side,
    side: Side,
    ref_lines: Vec<String>,
    lines: Vec<String>,
    commands: u64,
    /// A response the adapter has not sent yet where the reference has (the difference alone):
    /// the divergence unless a rule breaks before the session ends, judged with the obligations
    /// the adapter leaves open where it is reported ([`Lockstep::late_divergence`]).
    late: Option<Finding>,
    /// When a session is cut short ([`Lockstep::set_deadline`]).
    deadline: Option<Instant>,
    /// Whether the last session was cut short.
    cut_short: bool,
}

impl std::fmt::Debug for Lockstep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockstep")
            .field("profile", &self.profile.name)
            .finish()
    }
}

impl Lockstep {
    /// A lockstep against `profile`'s reference, judging by `profile`'s rules.
    pub fn new(profile: Profile) -> Lockstep {
        Lockstep {
            profile,
            reference: Handler::new(profile, ClientKind::Reference),
            ref_side: Side::new(None, false),
            side: Side::new(Some(profile), false),
            ref_lines: Vec::new(),
            lines: Vec::new(),
            commands: 0,
            late: None,
            deadline: None,
            cut_short: false,
        }
    }

    /// Cuts every session short that is still running at `deadline` (`None`: never): it stops
    /// before its next command, and [`Lockstep::run`] gives `Ok` as if what ran did not diverge,
    /// with [`Lockstep::cut_short`] set. Shrinking sets it, so that its time limit holds even
    /// against an adapter that is slow on every command.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Whether the last session was cut short by the deadline, before it could diverge.
    pub fn cut_short(&self) -> bool {
        self.cut_short
    }

    /// Whether the deadline has passed; if so, the session is cut short.
    fn out_of_time(&mut self) -> bool {
        self.cut_short = self.deadline.is_some_and(|d| Instant::now() >= d);
        self.cut_short
    }

    /// The number of commands sent to adapters so far.
    pub fn commands(&self) -> u64 {
        self.commands
    }

    /// The adapter's side of the last session.
    pub fn trace(&self) -> &[String] {
        self.side.trace()
    }

    /// Runs one session; the first divergence, if any.
    pub fn run(
        &mut self,
        session: &Session,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        self.ref_side.begin(&session.start);
        self.side.begin(&session.start);
        self.late = None;
        self.cut_short = false;
        let start = session.start.command();
        self.exchange(&start, &start, adapter)?;
        for step in &session.steps {
            if self.out_of_time() {
                return Ok(());
            }
            match step {
                Step::Decide(_) | Step::Decision(_) => {
                    let Some(approved) = self.ref_side.decision(step) else {
                        continue;
                    };
                    let line = self.ref_side.decision_input(&approved);
                    self.side.decision_input(&approved);
                    self.exchange(&line, &line, adapter)?;
                }
                _ => {
                    let Some(ref_line) = self.ref_side.widget_line(step) else {
                        continue;
                    };
                    let Some(line) = self.side.widget_line(step) else {
                        if let Some(late) = self.late.take() {
                            return Err(self.late_divergence(late));
                        }
                        return Err(self.diverge(Finding::Internal(format!(
                            "the adapter has no open request for the widget's answer {ref_line}"
                        ))));
                    };
                    self.ref_side.widget_input(ref_line.clone());
                    self.side.widget_input(line.clone());
                    self.exchange(&ref_line, &line, adapter)?;
                }
            }
        }
        // A response late against the reference's: the difference, with the obligations the
        // adapter's whole session leaves open (none if the response came after all).
        if let Some(late) = self.late.take() {
            return Err(self.late_divergence(late));
        }
        self.side.finish();
        self.check_rules()
    }

    /// The divergence of a response the adapter sent later than the reference, or not at all
    /// (`difference`), judged on the session so far: the obligations it leaves open if the
    /// session ended here, with the difference; the difference alone if it leaves none (the
    /// response came later: only its timing differs, and `capneg validate` says the trace
    /// conforms).
    fn late_divergence(&self, difference: Finding) -> Box<Divergence> {
        self.diverge(self.with_end_obligations(difference))
    }

    /// `difference`, with the rule it breaks if the session ended here: the first end-of-trace
    /// obligation the adapter leaves open (a request unanswered, a round without its notify;
    /// the reference never leaves one), if any.
    fn with_end_obligations(&self, difference: Finding) -> Finding {
        let end = self.side.end_violations();
        match end.first() {
            Some((line, _)) => Finding::Rules {
                line: *line,
                broken: self.broken(&end, *line),
                difference: Some(Box::new(difference)),
            },
            None => difference,
        }
    }

    fn diverge(&self, finding: Finding) -> Box<Divergence> {
        Box::new(Divergence {
            finding,
            trace: self.side.trace().to_vec(),
            reference: self.ref_side.trace().to_vec(),
        })
    }

    fn exchange(
        &mut self,
        ref_line: &str,
        line: &str,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        let command_line = self.side.last();
        self.commands += 1;
        if let Err(e) = self.reference.handle(ref_line, &mut self.ref_lines) {
            return Err(self.diverge(Finding::Internal(format!(
                "the reference refused the command {ref_line}: {e}"
            ))));
        }
        self.ref_side.outputs(&mut self.ref_lines);
        self.send(line, command_line, adapter)?;
        self.check_rules()?;
        self.answer_update_states(adapter)?;
        if self.late.is_some() {
            return Ok(());
        }
        if let Some(difference) = compare(&self.ref_side, &self.side) {
            if is_late_response(&difference) {
                self.late = Some(difference);
                return Ok(());
            }
            return Err(self.diverge(self.with_end_obligations(difference)));
        }
        Ok(())
    }

    /// Sends `line` (at `command_line` of the trace) to the adapter and records its outputs; a
    /// failure, or an output that is not a protocol line, is the divergence.
    fn send(
        &mut self,
        line: &str,
        command_line: Line,
        adapter: &mut dyn Adapter,
    ) -> Result<(), Box<Divergence>> {
        self.lines.clear();
        if let Err(mut failure) = adapter.command(line, &mut self.lines) {
            if let Failure::Crashed { lines, detail, .. } = &mut failure {
                keep_protocol_lines(lines, detail);
                self.lines.clone_from(lines);
                self.side.outputs(&mut self.lines);
            }
            return Err(self.diverge(Finding::Failed {
                line: command_line,
                failure,
            }));
        }
        self.side.outputs(&mut self.lines);
        if let Some((line, message)) = self.side.protocol_error() {
            let precise = self.side.line(*line).and_then(diagnose);
            let finding = Finding::Protocol {
                line: *line,
                message: bounded(precise.as_deref().unwrap_or(message)),
            };
            return Err(self.diverge(finding));
        }
        Ok(())
    }

    /// The widget answers every `update_state` request among the adapter's outputs of the last
    /// command with an empty response, sent to the adapter alone (the reference has no such
    /// request open); the adapter's outputs to it are judged by the rules and join the command's.
    fn answer_update_states(&mut self, adapter: &mut dyn Adapter) -> Result<(), Box<Divergence>> {
        let (mut seen, mut answered) = (0, 0);
        loop {
            let outs = &self.side.outs()[seen..];
            let codec = self.side.codec();
            let asked = outs
                .iter()
                .filter(|o| matches!(&o.kind, OutKind::Msg(m) if outside_negotiation(codec, m)))
                .count();
            seen = self.side.outs().len();
            if asked == 0 {
                return Ok(());
            }
            for _ in 0..asked {
                if answered == MAX_ACKS {
                    return Ok(());
                }
                let Some(line) = self.side.answer(UPDATE_STATE, "{}") else {
                    continue;
                };
                answered += 1;
                self.side.widget_input_more(line.clone());
                self.commands += 1;
                self.send(&line, self.side.last(), adapter)?;
                self.check_rules()?;
            }
        }
    }

    fn broken(
        &self,
        violations: &[(Line, capneg_model::Violation)],
        at: Line,
    ) -> Vec<(Rule, String)> {
        let mut broken: Vec<(Rule, String)> = Vec::new();
        for (_, v) in violations.iter().filter(|(p, _)| *p == at) {
            if !broken.iter().any(|(r, _)| *r == v.rule) {
                broken.push((v.rule, v.reason.describe(&self.side.codec().caps)));
            }
        }
        broken
    }

    fn check_rules(&self) -> Result<(), Box<Divergence>> {
        let violations = self.side.violations();
        let Some((first, _)) = violations.first() else {
            return Ok(());
        };
        Err(self.diverge(Finding::Rules {
            line: *first,
            broken: self.broken(violations, *first),
            difference: None,
        }))
    }
}

/// Whether a difference is a response the reference sent and the adapter has not (yet).
fn is_late_response(difference: &Finding) -> bool {
    let Finding::Differs {
        expected: Some(expected),
        got: None,
        ..
    } = difference
    else {
        return false;
    };
    let Ok(line) = capneg_wire::trace::parse_line(expected) else {
        return false;
    };
    line.key == capneg_wire::trace::Key::Client
        && capneg_wire::envelope::EnvelopeView::parse(line.value)
            .is_some_and(|v| v.response.is_some())
}

/// Keeps, of what a failed adapter wrote, the client and prompt lines before anything else, so
/// that the divergence's trace stays a trace (docs/spec.md §5) whatever the adapter wrote (an
/// adapter that floods its output is stopped after 100,000 lines). What is left out is counted in
/// `detail`, with the first line left out.
fn keep_protocol_lines(lines: &mut Vec<String>, detail: &mut Option<String>) {
    let kept = lines
        .iter()
        .take_while(|l| {
            matches!(
                capneg_wire::trace::parse_line(l).map(|l| l.key),
                Ok(capneg_wire::trace::Key::Client | capneg_wire::trace::Key::Prompt)
            )
        })
        .count();
    let Some(first) = lines.get(kept) else {
        return;
    };
    let mut excerpt: String = first.chars().take(120).collect();
    if excerpt.len() < first.len() {
        excerpt.push_str("...");
    }
    let left_out = lines.len() - kept;
    let note = format!(
        "{left_out} line{} of its output left out of the trace, from the first that is not a \
         client or prompt line: `{excerpt}`",
        if left_out == 1 { "" } else { "s" }
    );
    *detail = Some(match detail.take() {
        Some(d) => format!("{d}; {note}"),
        None => note,
    });
    lines.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Session, Start, Step};
    use crate::universe::Caps;

    /// A `start` and nothing else.
    fn simplest() -> Session {
        Session {
            start: Start::new(Caps::NONE, false),
            steps: Vec::new(),
        }
    }

    /// Writes `line` for every command (then `idle`).
    struct Writes(&'static str);

    impl Adapter for Writes {
        fn command(&mut self, _: &str, out: &mut Vec<String>) -> Result<(), Failure> {
            out.push(self.0.to_owned());
            Ok(())
        }
    }

    #[test]
    fn a_bad_adapter_line_is_named_precisely() {
        for (line, want) in [
            (r#"{"idle":{},"idle":{}}"#, "the key `idle` twice"),
            (r#"{"x":1,"y":2}"#, "2 keys (`x`, `y`)"),
            (r#"{"idle":5}"#, "bad `idle` line: its value is `5`, not {}"),
            (
                r#"{"client":{"action":"a","action":"b"}}"#,
                "the `client` message has the field `action` twice",
            ),
            // Nothing more precise than the trace reader's reason.
            (r#"{"prompt":{"capabilities":[1]}}"#, "bad `prompt` line: "),
        ] {
            let mut lockstep = Lockstep::new(Profile::MSC);
            let d = lockstep.run(&simplest(), &mut Writes(line)).unwrap_err();
            let Finding::Protocol { line: at, message } = &d.finding else {
                panic!("{line}: {}", d.describe())
            };
            assert_eq!(at.get(), 2, "{line}");
            assert!(message.starts_with(want), "{line}: {message}");
        }
    }

    #[test]
    fn a_long_reason_is_cut() {
        let line: &'static str = Box::leak(
            format!(
                r#"{{"prompt":{{"capabilities":[1],"{}":1}}}}"#,
                "k".repeat(5000)
            )
            .into_boxed_str(),
        );
        let mut lockstep = Lockstep::new(Profile::MSC);
        let d = lockstep.run(&simplest(), &mut Writes(line)).unwrap_err();
        let Finding::Protocol { message, .. } = &d.finding else {
            panic!("{}", d.describe())
        };
        assert!(
            message.len() <= super::super::lines::MAX_REASON + 3,
            "{message}"
        );
    }

    #[test]
    fn a_session_past_its_deadline_is_cut_short() {
        let session = Session {
            start: Start::new(Caps::NONE, false),
            steps: vec![Step::SupportedApiVersions, Step::SupportedApiVersions],
        };
        let mut reference = Handler::new(Profile::MSC, ClientKind::Reference);
        let mut lockstep = Lockstep::new(Profile::MSC);
        lockstep.set_deadline(Some(Instant::now()));
        assert!(lockstep.run(&session, &mut reference).is_ok());
        assert!(lockstep.cut_short());
        assert_eq!(lockstep.commands(), 1, "only the start was sent");
        lockstep.set_deadline(None);
        assert!(lockstep.run(&session, &mut reference).is_ok());
        assert!(!lockstep.cut_short());
        assert_eq!(lockstep.commands(), 4);
    }
}
