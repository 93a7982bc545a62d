//! The hidden-prompt search: the explanations of a wire-only trace (docs/spec.md §5.3).
//!
//! Where prompts are hidden, a trace conforms if some placement of prompts and decisions
//! explains its wire: some sequence of hidden events that, interleaved with the trace's lines,
//! breaks no rule. The search keeps the set of observer states such explanations lead to
//! ([`Explanations`]), sharing the ledger of request ids that the wire alone fixes.
//!
//! # Where hidden events matter
//!
//! Hidden decisions approve nothing that is judged (`approval-needs-decision` is not checked
//! without prompts), so an explanation differs from another only in which rounds have a prompt
//! open (are *waiting* for the user) and which were notified. That matters in three places:
//! a notify under a parallel profile ends the oldest round *not waiting* (so waiting rounds are
//! skipped, and the notify's `requested` must be that round's); at the end of the trace a round
//! waiting for the user owes no notify; and a decision while a round is not acked breaks
//! `ack-before-notify`. Under sequential profiles a notify ends the front round wherever its
//! prompt is, so one state suffices and hidden prompts are placed only at the end.
//!
//! # Canonical explanations
//!
//! Prompts are shown oldest round first and decisions answer the oldest prompt. So at any time
//! the open rounds are a block of waiting rounds followed by rounds without a prompt. The search
//! places hidden events only where a notify or the end needs them, which loses no explanation:
//!
//! - a prompt is placed just before the notify that must skip its round, or at the end: placed
//!   earlier, the round would only wait longer, which no later event needs (acks only ever come,
//!   so a round that may prompt earlier may prompt later);
//! - a decision is placed just before the notify that ends its round (the oldest waiting one):
//!   decided earlier, the round would be ended by the first notify after it anyway. It needs a
//!   moment since the last notify when every open round was acked (`ack-before-notify`); where
//!   there was one, the decision is taken to be placed then, and `ack-before-notify` is not
//!   judged again when it is applied at the notify.
//!
//! At a notify reporting `requested` R, a state has these successors: the oldest waiting round
//! decided and ended (where a decision may be placed); or `j` more rounds prompted and the next
//! round ended, for each `j` where the `j` rounds may prompt and the round ended may be ended by
//! a notify reporting R. Of `j` and `j + 1` whose ended rounds both expect R, where the round
//! `j + 1` ends may prompt, `j` is kept: its state is the other's with that round left without a
//! prompt in place of the round `j + 1` prompts, and it can prompt that round later as needed,
//! in the same place and with the same report (a round that may prompt never stops being able
//! to). By induction `j` is kept over every `k > j` joined to it by such pairs. At the end,
//! every round that may prompt is prompted.
//!
//! # Complexity and completeness
//!
//! With `E` lines, `n` open rounds at most and `S` explanations alive, a line costs `O(S · n)`
//! (one pass over each state's rounds, and a copy of the state per successor kept), so a trace
//! costs `O(E · S · n)`. Under sequential profiles `S` is 1. Under parallel profiles the
//! successors of a notify are at most one per change of expected report among the rounds it may
//! skip, so rounds alike (the same new capabilities, as where a widget asks for the same
//! capability over and over) give one successor, and rounds all different give one too (only one
//! expects the report): `S` stays small on the traces clients write. For hostile traces
//! [`MAX_EXPLANATIONS`] bounds it, so the cost is `O(E · n)` with a constant of at most that
//! bound; beyond it the trace is refused as bad input, naming the line (record its prompts
//! instead). Within the bound the search is complete: every explanation maps to a canonical one
//! that breaks no rule the other does not (the two arguments above), and every canonical one is
//! kept or dominated by one kept. The tests check it against the exhaustive search it replaced,
//! which placed every hidden event that could come next before each line, on random paths of the
//! model of the reference and of every mutant.

use crate::rules::{Judge, Ledger, Line, Observer, Rule, Violation};
use capneg_reference::msg::{Action, Body, Data};
use capneg_reference::profile::Concurrency;
use capneg_reference::{CapSet, Event};
use std::collections::HashSet;

/// The most explanations a wire-only trace may keep alive at once.
pub const MAX_EXPLANATIONS: usize = 10_000;

/// Why the search gave up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unexplained {
    /// Every explanation breaks a rule: the violations of the one that breaks the fewest.
    Violates(Vec<Violation>),
    /// More than [`MAX_EXPLANATIONS`] explanations at once.
    TooMany,
}

/// The observer states some explanation of a wire-only trace leads to.
#[derive(Clone, Debug)]
pub struct Explanations {
    ledger: Ledger,
    states: Vec<Observer>,
    /// Since the last notify there was a moment when every open round was acked: a hidden
    /// decision could be placed then. The same in every state: which rounds are acked is fixed
    /// by the wire.
    may_decide: bool,
    /// The line where more than [`MAX_EXPLANATIONS`] explanations were alive: the search stopped
    /// there.
    overflow: Option<Line>,
}

impl Explanations {
    /// The state before the first line.
    pub fn new() -> Self {
        Explanations {
            ledger: Ledger::default(),
            states: vec![Observer::new()],
            may_decide: true,
            overflow: None,
        }
    }

    /// Advances the set by one wire event.
    pub fn explain(&mut self, judge: &Judge, at: Line, event: &Event) -> Result<(), Unexplained> {
        if self.overflow.is_some() {
            return Err(Unexplained::TooMany);
        }
        let notify = match event {
            Event::Client(Ok(msg)) => match (&msg.body, msg.action) {
                (Body::Request(data), Action::NotifyCapabilities) if !msg.foreign => Some(data),
                _ => None,
            },
            _ => None,
        };
        let parallel = judge.profile.concurrency == Concurrency::Parallel;
        let mut best: Option<Vec<Violation>> = None;
        let mut survivors = Vec::with_capacity(self.states.len());
        let states = std::mem::take(&mut self.states);
        for state in states {
            let successors = match notify {
                Some(data) if parallel => self.before_notify(judge, &state, data),
                _ => vec![state],
            };
            for mut s in successors {
                let mut found = Vec::new();
                if s.observe_with(&mut self.ledger, judge, at, event, &mut found)
                    .is_err()
                {
                    continue;
                }
                if found.is_empty() {
                    survivors.push(s);
                } else if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                    best = Some(found);
                }
            }
            if survivors.len() > 4 * MAX_EXPLANATIONS {
                // Before duplicates are dropped: bounds the memory of one line's successors.
                self.overflow = Some(at);
                return Err(Unexplained::TooMany);
            }
        }
        self.ledger.commit();
        if survivors.is_empty() {
            return Err(Unexplained::Violates(best.unwrap_or_default()));
        }
        if survivors.len() > 1 {
            let mut seen = HashSet::with_capacity(survivors.len());
            survivors.retain(|s| seen.insert(s.clone()));
        }
        if survivors.len() > MAX_EXPLANATIONS {
            self.overflow = Some(at);
            return Err(Unexplained::TooMany);
        }
        if notify.is_some() {
            self.may_decide = false;
        }
        self.may_decide |= !survivors[0].unacked();
        self.states = survivors;
        Ok(())
    }

    /// The canonical ways a notify reporting `data` can find `state` (module docs): each
    /// successor has its hidden prompts and decision placed, ready for the notify.
    fn before_notify(&self, judge: &Judge, state: &Observer, data: &Data) -> Vec<Observer> {
        let reported = match data {
            Data::Notify { requested, .. } => Some(requested),
            _ => None,
        };
        let rounds: Vec<_> = state.rounds_seen(judge).collect();
        let waiting = rounds.iter().take_while(|r| r.waiting).count();
        let ends = |i: usize| {
            let r = &rounds[i];
            r.acked && r.expected.is_none_or(|e| Some(e) == reported)
        };
        let mut out = Vec::new();
        // The oldest waiting round decided, and ended by the notify. The decision is placed at
        // a moment since the last notify when every round was acked (`may_decide`); it is
        // applied here, so `ack-before-notify` is not judged again for it.
        if waiting > 0 && self.may_decide && ends(0) {
            let mut s = state.clone();
            let mut earlier = judge.clone();
            earlier.rules = earlier
                .rules
                .iter()
                .filter(|&r| r != Rule::AckBeforeNotify)
                .collect();
            if hidden(&mut s, &earlier, &Event::Decision(CapSet::new())) {
                out.push(s);
            }
        }
        // `j` more rounds prompted, and the next one ended: first which `j`, from the rounds
        // alone, then the states, prompting one round more at a time up to the last `j`.
        let mut wanted = Vec::new();
        for (j, i) in (waiting..rounds.len()).enumerate() {
            // The round before would do as well: it is ended by the same report, and this one
            // can be prompted later in its place.
            let alike = j > 0
                && rounds[i - 1].expected == rounds[i].expected
                && ends(i - 1)
                && rounds[i].may_prompt;
            if ends(i) && !alike {
                wanted.push(j);
            }
            if !rounds[i].may_prompt {
                break;
            }
        }
        let mut prompted = state.clone();
        let mut done = 0;
        for j in wanted {
            while done < j {
                let (Some(caps), _) = prompted.hidden_moves(judge) else {
                    break;
                };
                if !hidden(&mut prompted, judge, &Event::Prompt(caps)) {
                    break;
                }
                done += 1;
            }
            if done < j {
                break;
            }
            out.push(prompted.clone());
        }
        if out.is_empty() {
            // No way to explain the notify: judge it as it stands, for the violations to report.
            out.push(state.clone());
        }
        out
    }

    /// The end of the trace: `Ok` if some explanation leaves nothing open once every round that
    /// may prompt has prompted.
    pub fn finish(&mut self, judge: &Judge) -> Result<(), Vec<Violation>> {
        let mut best: Option<Vec<Violation>> = None;
        for state in &self.states {
            let mut s = state.clone();
            while let (Some(caps), _) = s.hidden_moves(judge) {
                if !hidden(&mut s, judge, &Event::Prompt(caps)) {
                    break;
                }
            }
            let mut found = Vec::new();
            s.finish(judge, &mut found);
            if found.is_empty() {
                return Ok(());
            }
            if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        Err(best.unwrap_or_default())
    }

    /// Where the search stopped, with more than [`MAX_EXPLANATIONS`] explanations alive.
    pub fn overflow(&self) -> Option<Line> {
        self.overflow
    }
}

impl Default for Explanations {
    fn default() -> Self {
        Explanations::new()
    }
}

/// Places a hidden event in `state`; false where it breaks a rule (it explains nothing then).
fn hidden(state: &mut Observer, judge: &Judge, event: &Event) -> bool {
    // Prompts and decisions add no request id: a scratch ledger takes them.
    let mut found = Vec::new();
    state
        .observe_with(
            &mut Ledger::default(),
            judge,
            Line::FIRST,
            event,
            &mut found,
        )
        .is_ok()
        && found.is_empty()
}

#[cfg(test)]
mod tests {
    //! The canonical search against the search it replaced, which placed every hidden event
    //! that could come next before each line (complete, but exponential in the rounds open at
    //! once): on wire-only traces of random paths of the model, of the reference and of every
    //! mutant, under the parallel profile, both explain the same lines and fail at the same one.

    use super::*;
    use crate::check::model::{Bounds, SessionModel, Step};
    use crate::rules::mutants::ClientKind;
    use capneg_reference::Profile;
    use stateright::Model;

    /// The old search: the set closed under every hidden prompt and decision that could come
    /// next, before each line and at the end.
    #[derive(Clone)]
    struct Eager {
        ledger: Ledger,
        states: Vec<Observer>,
    }

    impl Eager {
        fn close(&mut self, judge: &Judge) {
            let mut i = 0;
            let mut seen: HashSet<Observer> = self.states.iter().cloned().collect();
            while i < self.states.len() {
                let (prompt, decision) = self.states[i].hidden_moves(judge);
                let mut next = Vec::new();
                if let Some(caps) = prompt {
                    let mut s = self.states[i].clone();
                    if hidden(&mut s, judge, &Event::Prompt(caps)) {
                        next.push(s);
                    }
                }
                if decision {
                    let mut s = self.states[i].clone();
                    if hidden(&mut s, judge, &Event::Decision(CapSet::new())) {
                        next.push(s);
                    }
                }
                for s in next {
                    if seen.insert(s.clone()) {
                        self.states.push(s);
                    }
                }
                i += 1;
            }
        }

        fn explain(&mut self, judge: &Judge, at: Line, event: &Event) -> bool {
            self.close(judge);
            let mut survivors = Vec::new();
            for mut s in self.states.drain(..) {
                let mut found = Vec::new();
                if s.observe_with(&mut self.ledger, judge, at, event, &mut found)
                    .is_ok()
                    && found.is_empty()
                {
                    survivors.push(s);
                }
            }
            self.ledger.commit();
            self.states = survivors;
            !self.states.is_empty()
        }

        fn finish(&mut self, judge: &Judge) -> bool {
            self.close(judge);
            self.states.iter().any(|s| {
                let mut found = Vec::new();
                s.finish(judge, &mut found);
                found.is_empty()
            })
        }
    }

    /// A random path of the model from one of its initial states: its events.
    fn random_path(model: &SessionModel, seed: &mut u64) -> Vec<Event> {
        let mut next = |bound: usize| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (*seed >> 33) as usize % bound.max(1)
        };
        let inits = model.init_states();
        let init = inits[next(inits.len())];
        let mut state = init;
        let mut steps: Vec<Step> = Vec::new();
        let mut actions = Vec::new();
        loop {
            actions.clear();
            model.actions(&state, &mut actions);
            if actions.is_empty() {
                break;
            }
            let step = actions[next(actions.len())];
            match model.next_state(&state, step) {
                Some(s) => {
                    state = s;
                    steps.push(step);
                }
                None => break,
            }
        }
        let mut events = Vec::new();
        model.replay(&init, &steps, &mut |e| events.push(e.clone()));
        events
    }

    #[test]
    fn the_canonical_search_judges_as_the_exhaustive_one() {
        let profile = Profile::WIDGET_API;
        let bounds = Bounds {
            caps: 2,
            rounds: 3,
            gated: 1,
        };
        let kinds: Vec<ClientKind> = ClientKind::all().collect();
        let mut seed = 0x5eed;
        let mut compared = 0;
        let mut failing = 0;
        for kind in kinds {
            let model = SessionModel::new(kind, profile, profile, bounds);
            for _ in 0..150 {
                let events = random_path(&model, &mut seed);
                let mut judge = Judge::new(profile);
                judge.prompts_recorded = false;
                let (mut lazy, mut eager) = (
                    Explanations::new(),
                    Eager {
                        ledger: Ledger::default(),
                        states: vec![Observer::new()],
                    },
                );
                let mut at = Line::FIRST;
                let mut verdicts = (None, None);
                for event in events
                    .iter()
                    .filter(|e| matches!(e, Event::Client(_) | Event::Widget(_)))
                {
                    at = at.next();
                    if verdicts.0.is_none() && lazy.explain(&judge, at, event).is_err() {
                        verdicts.0 = Some(at);
                    }
                    if verdicts.1.is_none() && !eager.explain(&judge, at, event) {
                        verdicts.1 = Some(at);
                    }
                }
                let end = at.next();
                if verdicts.0.is_none() && lazy.finish(&judge).is_err() {
                    verdicts.0 = Some(end);
                }
                if verdicts.1.is_none() && !eager.finish(&judge) {
                    verdicts.1 = Some(end);
                }
                if verdicts.0 != verdicts.1 {
                    let wire: Vec<String> = events
                        .iter()
                        .filter(|e| matches!(e, Event::Client(_) | Event::Widget(_)))
                        .enumerate()
                        .map(|(i, e)| format!("{}: {e:?}", i + 2))
                        .collect();
                    panic!(
                        "{kind:?}: canonical {:?}, exhaustive {:?}\n{}",
                        verdicts.0,
                        verdicts.1,
                        wire.join("\n")
                    );
                }
                compared += 1;
                failing += usize::from(verdicts.0.is_some());
            }
        }
        // Both kinds of verdict were compared.
        assert!(
            failing > 100 && failing < compared - 100,
            "{failing} of {compared}"
        );
    }
}
