//! Trace validation (`capneg validate`): judging a recorded trace by the rules (docs/spec.md §5, §7).
//!
//! A trace is streamed one line at a time through the rules' [`Observer`]; memory does not grow
//! with its length beyond the observer's own tables. Where prompts are recorded, the observer
//! judges every event as it comes. Where they are hidden (wire-only captures), the validator
//! searches for prompts and decisions that would explain the wire: it keeps the set of observer
//! states some explanation leads to (deduplicated), closes it under the hidden events that could
//! come next before each wire event, and drops the states the event condemns. The trace conforms
//! if some explanation survives to the end.
//!
//! Where the session line does not say whether prompts are recorded, the trace is recorded
//! exactly when it has a prompt or decision line. Both readings are followed until the first such
//! line settles it, so one pass suffices.
//!
//! A trace is judged on one side or both (docs/spec.md §9.1): by the client's rules (the
//! default), the widget's, or both. The widget's rules do not depend on where hidden prompts
//! were, so a trace judged on the widget's side only is read as one session, prompts recorded
//! or not. `view` lines are judged only where the widget is; `app` lines oblige nothing.

use crate::rules::{BadEvent, Judge, Line, Observer, Rule, Side, Violation};
use capneg_reference::{CapSet, Event, Interner, Profile};
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::pipeline::{self, CapMap, Item};
use capneg_wire::read::Reading;
use capneg_wire::trace::{message_problem_judged, Key, Prompts, SessionLine};
use std::collections::HashSet;

mod hidden;
use hidden::{Explanations, Unexplained, MAX_EXPLANATIONS};

/// Why a wire-only trace is refused where its explanations are too many to follow.
fn too_many() -> String {
    format!(
        "more than {MAX_EXPLANATIONS} placements of the hidden prompts explain the wire so far: \
         too ambiguous to judge without its prompts (record prompts and decisions, docs/spec.md §5.3)"
    )
}
use std::io::{self, Read};

/// How to validate.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The profile whose rules judge the trace.
    pub profile: Profile,
    /// Whether the trace may end mid-session (end-of-trace obligations are skipped).
    pub partial: bool,
    /// Whose rules judge the trace (docs/spec.md §9.1).
    pub side: Side,
}

/// A broken rule, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Why, citing the earlier line involved.
    pub reason: String,
}

/// The verdict on a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The trace conforms.
    Conforms {
        /// The number of events (lines other than the session line).
        events: usize,
        /// Whether prompts were recorded.
        prompts: Prompts,
    },
    /// The event at `line` (one past the last line for obligations left open at the end) breaks
    /// these rules.
    Violates {
        /// The line.
        line: Line,
        /// The rules it breaks.
        findings: Vec<Finding>,
        /// Whether prompts were recorded.
        prompts: Prompts,
    },
    /// The trace is not a trace.
    BadInput {
        /// The line (none where the file could not be read at all).
        line: Option<Line>,
        /// What is wrong.
        message: String,
    },
}

/// Validates the trace read from `input`. I/O errors other than bad input are returned.
///
/// The input is read on worker threads (one per core) while this one judges (see
/// [`capneg_wire::pipeline`]).
pub fn validate<R: Read + Send>(options: Options, input: R) -> io::Result<Verdict> {
    std::thread::scope(|scope| {
        let mut blocks = pipeline::spawn(scope, input);
        let mut v = Validator::new(options);
        while let Some(mut block) = blocks.next_block() {
            v.caps.clear();
            for item in block.items() {
                // Only bad input ends the reading early: a verdict waits for the whole trace to
                // be read, since it is never given on input that is not a trace.
                if let Some(verdict) = v.item(item, block.caps()) {
                    return Ok(verdict);
                }
            }
            if let Some(e) = block.take_error() {
                return Err(e);
            }
            blocks.recycle(block);
        }
        Ok(v.finish())
    })
}

/// Which reading of the trace is followed.
#[derive(Clone, Debug)]
enum Mode {
    /// Prompts recorded: one observer.
    Recorded(Observer),
    /// Prompts hidden: the observer states some explanation leads to.
    Hidden(Explanations),
    /// Not settled yet: both readings; the recorded one's first failure is kept for when a
    /// prompt line settles it.
    Unsettled {
        recorded: Observer,
        failed: Option<(Line, Vec<Violation>)>,
        hidden: Explanations,
    },
}

struct Validator {
    options: Options,
    codec: Codec,
    widget_known: bool,
    session: Option<SessionLine>,
    judge: Judge,
    mode: Mode,
    events: usize,
    /// The session numbers of the capability names of the block being judged.
    caps: CapMap,
    scratch: Vec<Violation>,
    /// The hidden reading failed while the trace was not settled: the verdict, unless a prompt
    /// or decision line later shows prompts are recorded.
    hidden_failure: Option<Verdict>,
    /// The verdict, once a line broke a rule: the rest of the trace is only read, to make sure
    /// it is a trace.
    settled: Option<Verdict>,
    /// The last line read.
    last: Option<Line>,
    /// What the session line says of prompts, if it says.
    declared: Option<Prompts>,
    /// Whether a prompt or decision line was read.
    saw_prompts: bool,
}

const HIDDEN_BUT_PROMPT: &str =
    "a prompt or decision line in a trace whose session says prompts are hidden";

/// Whether a line records a prompt or a decision (and so says the trace records prompts).
fn is_prompt_line(key: Key) -> bool {
    matches!(key, Key::Prompt | Key::Decision)
}

fn bad(line: Line, message: impl Into<String>) -> Option<Verdict> {
    let message = message.into();
    Some(Verdict::BadInput {
        line: Some(line),
        message: capneg_wire::lines::one_line(&message).into_owned(),
    })
}

impl Validator {
    fn new(options: Options) -> Self {
        Validator {
            options,
            codec: Codec::new(""),
            widget_known: false,
            session: None,
            judge: Judge::for_side(options.profile, options.side),
            // Only the client's rules depend on where hidden prompts were.
            mode: if options.side.judges_client() {
                Mode::Unsettled {
                    recorded: Observer::new(),
                    failed: None,
                    hidden: Explanations::new(),
                }
            } else {
                Mode::Recorded(Observer::new())
            },
            events: 0,
            caps: CapMap::default(),
            scratch: Vec::new(),
            hidden_failure: None,
            settled: None,
            last: None,
            declared: None,
            saw_prompts: false,
        }
    }

    fn prompts(&self) -> Prompts {
        if !self.options.side.judges_client() {
            return match (self.declared, self.saw_prompts) {
                (Some(declared), _) => declared,
                (None, true) => Prompts::Recorded,
                (None, false) => Prompts::Hidden,
            };
        }
        match self.mode {
            Mode::Recorded(_) => Prompts::Recorded,
            Mode::Hidden(_) | Mode::Unsettled { .. } => Prompts::Hidden,
        }
    }

    /// Takes one line (its capability sets numbered in its block, whose names are `names`);
    /// returns a verdict when the trace is settled before its end. Each of the methods it calls
    /// takes one kind of line.
    /// Returns only bad input: a rule broken is kept as the verdict ([`Validator::settled`]),
    /// and the rest of the trace is then only read ([`Validator::read_only`]).
    fn item(&mut self, item: Item<'_>, names: &Interner) -> Option<Verdict> {
        if let Item::Bad(line, message) = item {
            return bad(line, message);
        }
        self.last = Some(item.line());
        if self.settled.is_some() || self.hidden_failure.is_some() {
            return self.read_only(item, names);
        }
        match self.judge_item(item, names) {
            Some(verdict @ Verdict::Violates { .. }) => {
                self.settled = Some(verdict);
                None
            }
            other => other,
        }
    }

    /// Reads a line once the verdict is known (or known unless prompts turn out recorded): it
    /// must still be a line of a trace. A prompt or decision line settles a pending hidden
    /// reading; in a trace of recorded prompts, decisions must still answer prompts.
    fn read_only(&mut self, item: Item<'_>, names: &Interner) -> Option<Verdict> {
        match item {
            Item::Bad(line, message) => bad(line, message),
            Item::Session(line, _) => bad(line, "a `session` line may only be the first line"),
            Item::Caps {
                line,
                key,
                set,
                caps,
            } => {
                self.events += 1;
                let set = match set {
                    Ok(set) => set,
                    Err(e) => return bad(line, e),
                };
                if !is_prompt_line(key) {
                    return None;
                }
                self.saw_prompts = true;
                if self.hidden_failure.is_some() {
                    self.settled = self.await_settlement(key);
                }
                if self.declared == Some(Prompts::Hidden) {
                    return bad(line, HIDDEN_BUT_PROMPT);
                }
                match &mut self.mode {
                    Mode::Hidden(_) => bad(line, HIDDEN_BUT_PROMPT),
                    Mode::Recorded(observer) => {
                        self.caps.sync(names, caps, &mut self.codec.caps);
                        let event = match key {
                            Key::Prompt => Event::Prompt(self.caps.set(set)),
                            _ => Event::Decision(self.caps.set(set)),
                        };
                        let mut ignored = Vec::new();
                        match observer.observe(&self.judge, line, &event, &mut ignored) {
                            Err(BadEvent::DecisionWithoutPrompt) => {
                                bad(line, "a decision with no open prompt")
                            }
                            Ok(()) => None,
                        }
                    }
                    Mode::Unsettled { .. } => None,
                }
            }
            Item::Message {
                line, key, reading, ..
            } => {
                self.events += 1;
                message_problem_judged(key, &reading, self.options.side.judges_widget())
                    .and_then(|problem| bad(line, problem))
            }
        }
    }

    /// Judges one line.
    fn judge_item(&mut self, item: Item<'_>, names: &Interner) -> Option<Verdict> {
        match item {
            Item::Bad(line, message) => bad(line, message),
            Item::Session(line, raw) => self.session_line(line, raw),
            Item::Caps {
                line,
                key,
                set,
                caps,
            } => self.caps_line(line, key, set.map(|s| (names, caps, s))),
            Item::Message {
                line,
                key,
                reading,
                caps,
            } => self.message(line, key, reading, names, caps),
        }
    }

    /// A `session` line.
    fn session_line(&mut self, n: Line, raw: &str) -> Option<Verdict> {
        if self.events > 0 || self.session.is_some() {
            return bad(n, "a `session` line may only be the first line");
        }
        let s = match SessionLine::from_raw(raw) {
            Ok(s) => s,
            Err(e) => return bad(n, e.to_string()),
        };
        if let Some(w) = &s.widget_id {
            self.codec.set_widget_id(w.clone());
            self.widget_known = true;
        }
        let codec = &mut self.codec;
        self.judge.settings = s
            .settings
            .as_ref()
            .map_caps(|names| codec.cap_set(names.iter().map(String::as_str)));
        self.declared = s.prompts;
        match s.prompts {
            _ if !self.options.side.judges_client() => {}
            Some(Prompts::Recorded) => self.mode = Mode::Recorded(Observer::new()),
            Some(Prompts::Hidden) => self.mode = Mode::Hidden(Explanations::new()),
            None => {}
        }
        self.session = Some(s);
        None
    }

    /// A `prompt`, `decision`, `view` or `app` line: its capabilities, numbered in their block
    /// (with the block's names and how many of them are known once the line is read), or why it
    /// is not of its shape.
    fn caps_line(
        &mut self,
        n: Line,
        key: Key,
        set: Result<(&Interner, u32, &CapSet), &str>,
    ) -> Option<Verdict> {
        self.events += 1;
        let caps = match set {
            Ok((names, known, set)) => {
                self.caps.sync(names, known, &mut self.codec.caps);
                self.caps.set(set)
            }
            Err(e) => return bad(n, e),
        };
        let event = match key {
            Key::View if self.options.side.judges_widget() => Event::View(caps),
            // Ignored by the client's rules; an application's request obliges nothing.
            Key::View | Key::App => return None,
            Key::Prompt => Event::Prompt(caps),
            _ => Event::Decision(caps),
        };
        if let Event::View(_) = event {
            return self.wire_event(n, event);
        }
        self.saw_prompts = true;
        if let Some(verdict) = self.settle_recorded(n) {
            return Some(verdict);
        }
        self.recorded_event(n, event)
    }

    /// A `client` or `widget` line, read (its capability sets numbered in its block, whose
    /// names are `names`, `known` of them once the line is read).
    fn message(
        &mut self,
        n: Line,
        key: Key,
        reading: Reading<&str>,
        names: &Interner,
        known: u32,
    ) -> Option<Verdict> {
        self.events += 1;
        let judge_widget = self.options.side.judges_widget();
        if let Some(problem) = message_problem_judged(key, &reading, judge_widget) {
            return bad(n, problem);
        }
        let Reading::Envelope { widget_id, msg } = reading else {
            unreachable!("an envelope: no problem above")
        };
        if !self.widget_known {
            if let Some(w) = widget_id {
                self.codec.set_widget_id(w);
            }
            self.widget_known = true;
        }
        self.caps.sync(names, known, &mut self.codec.caps);
        // The pipeline gives only `client` and `widget` lines as messages.
        let poster = key.poster().unwrap_or(Poster::Client);
        let msg = msg.map(|mut m| {
            self.caps.body(&mut m.body);
            self.codec.resolve(poster, m)
        });
        match key {
            Key::Widget => self.wire_event(n, Event::Widget(msg)),
            _ => self.wire_event(n, Event::Client(msg)),
        }
    }

    /// After the hidden reading failed in an unsettled trace: a prompt or decision line makes the
    /// trace recorded, and the recorded reading failed no later (it is one of the hidden
    /// explanations, judged by more rules).
    fn await_settlement(&mut self, key: Key) -> Option<Verdict> {
        if !is_prompt_line(key) {
            return None;
        }
        match std::mem::replace(&mut self.mode, Mode::Recorded(Observer::new())) {
            Mode::Unsettled {
                failed: Some((at, found)),
                ..
            } => Some(self.violates_recorded(at, found)),
            _ => self.hidden_failure.take(),
        }
    }

    /// A prompt or decision line: the trace records prompts.
    fn settle_recorded(&mut self, n: Line) -> Option<Verdict> {
        if self.declared == Some(Prompts::Hidden) {
            return bad(n, HIDDEN_BUT_PROMPT);
        }
        match &mut self.mode {
            Mode::Recorded(_) => None,
            Mode::Hidden(_) => bad(n, HIDDEN_BUT_PROMPT),
            Mode::Unsettled {
                recorded, failed, ..
            } => {
                if let Some((line, found)) = failed.take() {
                    return Some(self.violates_recorded(line, found));
                }
                self.mode = Mode::Recorded(recorded.clone());
                None
            }
        }
    }

    /// The verdict of a violation found by the reading of recorded prompts: the client's rules
    /// judged the trace as one that records its prompts; the widget's alone judge it whatever
    /// it says of them (a widget sees no prompt), and the verdict says what the trace does.
    fn violates_recorded(&self, line: Line, found: Vec<Violation>) -> Verdict {
        Verdict::Violates {
            line,
            findings: self.findings(found),
            prompts: if self.options.side.judges_client() {
                Prompts::Recorded
            } else {
                self.prompts()
            },
        }
    }

    fn findings(&self, found: Vec<Violation>) -> Vec<Finding> {
        let mut seen = HashSet::new();
        found
            .into_iter()
            .filter(|v| seen.insert(v.rule))
            .map(|v| Finding {
                rule: v.rule,
                reason: v.reason.describe(&self.codec.caps),
            })
            .collect()
    }

    fn recorded_event(&mut self, n: Line, event: Event) -> Option<Verdict> {
        let Mode::Recorded(observer) = &mut self.mode else {
            unreachable!("settled above")
        };
        self.judge.prompts_recorded = true;
        self.scratch.clear();
        match observer.observe(&self.judge, n, &event, &mut self.scratch) {
            Err(BadEvent::DecisionWithoutPrompt) => bad(n, "a decision with no open prompt"),
            Ok(()) if self.scratch.is_empty() => None,
            Ok(()) => {
                let found = std::mem::take(&mut self.scratch);
                Some(self.violates_recorded(n, found))
            }
        }
    }

    /// A client or widget line.
    fn wire_event(&mut self, n: Line, event: Event) -> Option<Verdict> {
        let mut judge = self.judge.clone();
        match &mut self.mode {
            Mode::Recorded(_) => self.recorded_event(n, event),
            Mode::Hidden(states) => {
                judge.prompts_recorded = false;
                match states.explain(&judge, n, &event) {
                    Ok(()) => None,
                    Err(Unexplained::Violates(found)) => Some(Verdict::Violates {
                        line: n,
                        findings: self.findings(found),
                        prompts: Prompts::Hidden,
                    }),
                    Err(Unexplained::TooMany) => bad(n, too_many()),
                }
            }
            Mode::Unsettled {
                recorded,
                failed,
                hidden,
            } => {
                if failed.is_none() {
                    judge.prompts_recorded = true;
                    let mut found = Vec::new();
                    let _ = recorded.observe(&judge, n, &event, &mut found);
                    if !found.is_empty() {
                        *failed = Some((n, found));
                    }
                }
                judge.prompts_recorded = false;
                // Too many explanations: judged only if a prompt line settles the trace as
                // recorded ([`Validator::finish`]).
                if let Err(Unexplained::Violates(found)) = hidden.explain(&judge, n, &event) {
                    self.hidden_failure = Some(Verdict::Violates {
                        line: n,
                        findings: self.findings(found),
                        prompts: Prompts::Hidden,
                    });
                }
                None
            }
        }
    }

    fn finish(mut self) -> Verdict {
        if let Some(verdict) = self.settled.take().or_else(|| self.hidden_failure.take()) {
            return verdict;
        }
        let Some(last) = self.last else {
            return Verdict::BadInput {
                line: None,
                message: "no events: the trace is empty (a trace has a session line or an event)"
                    .into(),
            };
        };
        let end = last.next();
        let prompts = self.prompts();
        let conforms = Verdict::Conforms {
            events: self.events,
            prompts,
        };
        // Too ambiguous to judge is bad input, whatever the verdict would be: also with
        // `--partial`.
        if let Mode::Hidden(states) | Mode::Unsettled { hidden: states, .. } = &self.mode {
            if let Some(at) = states.overflow() {
                return Verdict::BadInput {
                    line: Some(at),
                    message: too_many(),
                };
            }
        }
        if self.options.partial {
            return conforms;
        }
        let mut judge = self.judge.clone();
        let found = match &mut self.mode {
            Mode::Recorded(observer) => {
                judge.prompts_recorded = true;
                let mut found = Vec::new();
                observer.finish(&judge, &mut found);
                found
            }
            Mode::Hidden(states) | Mode::Unsettled { hidden: states, .. } => {
                judge.prompts_recorded = false;
                match states.finish(&judge) {
                    Ok(()) => return conforms,
                    Err(found) => found,
                }
            }
        };
        if found.is_empty() {
            conforms
        } else {
            Verdict::Violates {
                line: end,
                findings: self.findings(found),
                prompts,
            }
        }
    }
}
