//! The proptest search and its shrinking.
//!
//! Sessions come from [`crate::strategy::sessions`] with a deterministic RNG ([`rng`]); each is
//! run in [`Lockstep`] by [`Search::test`], and the first diverging session is shrunk to a minimal
//! one. Shrinking keeps the kind of the divergence first found (the same rule, or a difference,
//! or no answer, or a crash), so the minimal session shows that divergence and not another one met
//! on the way. Shrinking stops at once when the adapter fails on its very first command (there is
//! nothing to shrink), and early ([`ShrinkLimit`]: the session kept is then not minimal) after
//! too many failing runs that each cost a timeout or a restart, or at its time limit: checked
//! before every session and, through the lockstep's deadline, before every command, so that a
//! slow adapter overruns it by one command at most.

use super::findings::{Class, Divergence, Finding};
use super::Harness;
use crate::process::Adapter;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng};
use std::fmt;
use std::time::{Duration, Instant};

/// The RNG of seed `seed` (deterministic).
pub fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    let mut x = seed;
    for chunk in bytes.chunks_mut(8) {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Why shrinking stopped before it ended: the session it kept is then not minimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShrinkLimit {
    /// Its time limit (`capneg drive --shrink-time`).
    Time(Duration),
    /// Too many runs that hung or crashed (each costs a timeout or a restart).
    Failures(u32),
    /// The most shrinking steps.
    Steps(u32),
}

impl fmt::Display for ShrinkLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkLimit::Time(t) if t.is_zero() => {
                f.write_str("not shrunk (a shrinking time of 0)")
            }
            ShrinkLimit::Time(t) => write!(
                f,
                "shrinking stopped at its time limit of {} s",
                t.as_secs_f64()
            ),
            ShrinkLimit::Failures(n) => {
                write!(f, "shrinking stopped after {n} runs that hung or crashed")
            }
            ShrinkLimit::Steps(n) => write!(f, "shrinking stopped after {n} steps"),
        }
    }
}

/// Progress of a drive, reported after every session.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Sessions run so far (shrinking included).
    pub sessions: u64,
    /// Commands sent to the adapter so far.
    pub commands: u64,
    /// Time so far.
    pub elapsed: Duration,
    /// Whether a divergence was found and is being shrunk.
    pub shrinking: bool,
}

/// The state of one search: the lockstep and the adapter it runs sessions on, the kind of the
/// first divergence (which shrinking keeps), the counts, and the last diverging session with its
/// divergence and the adapter's stderr.
pub(super) struct Search<'a, H: Harness> {
    pub(super) lockstep: H,
    /// Only divergences that break a rule count (the rest are passed over).
    pub(super) only_rules: bool,
    /// A divergence passed over because it broke no rule.
    pub(super) passed_over: bool,
    pub(super) adapter: &'a mut dyn Adapter,
    pub(super) class: Option<Class>,
    /// No more sessions are run: nothing to shrink, or shrinking stopped early.
    pub(super) stop: bool,
    /// Why shrinking stopped early, if it did.
    pub(super) limit: Option<ShrinkLimit>,
    pub(super) sessions: u64,
    /// Sessions asked for while shrinking (run or not).
    pub(super) shrink_steps: u32,
    pub(super) found_after: u64,
    pub(super) max_shrink_time: Duration,
    /// When shrinking must end (set when the first divergence is found).
    pub(super) deadline: Option<Instant>,
    pub(super) slow: u32,
    pub(super) last: Option<(H::Session, Box<Divergence>, String)>,
    pub(super) started: Instant,
    pub(super) progress: &'a mut dyn FnMut(&Progress),
}

/// The most failing runs that cost a timeout or a restart while shrinking.
const MAX_SLOW_SHRINKS: u32 = 12;

impl<H: Harness> Search<'_, H> {
    /// Runs one session: a failure (for proptest) if it diverges the way the first divergence did
    /// (any way, before the first), with the session kept in `last`.
    pub(super) fn test(&mut self, session: &H::Session) -> Result<(), TestCaseError> {
        if self.class.is_some() {
            self.shrink_steps = self.shrink_steps.saturating_add(1);
        }
        if self.stop {
            return Ok(());
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return self.stop_early(ShrinkLimit::Time(self.max_shrink_time));
        }
        self.sessions += 1;
        let mark = self.adapter.stderr_mark();
        let result = self.lockstep.run(session, self.adapter);
        (self.progress)(&Progress {
            sessions: self.sessions,
            commands: self.lockstep.commands(),
            elapsed: self.started.elapsed(),
            shrinking: self.class.is_some(),
        });
        let divergence = match result {
            Ok(()) if self.lockstep.cut_short() => {
                return self.stop_early(ShrinkLimit::Time(self.max_shrink_time))
            }
            Ok(()) => return Ok(()),
            Err(divergence) => divergence,
        };
        if self.only_rules && !matches!(divergence.class(), Class::Rule(_)) {
            self.passed_over = true;
            return Ok(());
        }
        let class = divergence.class();
        match self.class {
            None => {
                self.class = Some(class);
                self.found_after = self.sessions;
                // Shrinking ends by this deadline, checked before each session and each command.
                self.deadline = Instant::now().checked_add(self.max_shrink_time);
                self.lockstep.set_deadline(self.deadline);
                // Nothing to shrink when the adapter fails on its very first command.
                let fatal = matches!(class, Class::NoAnswer | Class::Crashed | Class::CannotStart);
                if class == Class::CannotStart || (fatal && divergence.at_start()) {
                    self.stop = true;
                }
            }
            Some(first) if !divergence.is(first) => return Ok(()),
            Some(_) => {}
        }
        if matches!(class, Class::NoAnswer | Class::Crashed) {
            self.slow += 1;
            if self.slow > MAX_SLOW_SHRINKS && !self.stop {
                self.stop = true;
                self.limit = Some(ShrinkLimit::Failures(self.slow));
            }
        }
        let stderr = self.adapter.stderr_since(mark);
        self.last = Some((session.clone(), divergence, stderr));
        Err(TestCaseError::fail("diverged"))
    }

    /// Stops shrinking before it ended, for `limit`.
    fn stop_early(&mut self, limit: ShrinkLimit) -> Result<(), TestCaseError> {
        self.stop = true;
        self.limit = Some(limit);
        Ok(())
    }

    /// Whether proptest stopped shrinking at its most steps, `max`, rather than at a minimal
    /// session.
    pub(super) fn steps_ran_out(&self, max: u32) -> bool {
        !self.stop && self.class.is_some() && self.shrink_steps >= max
    }
}

/// A placeholder for a state the search cannot end in (a minimal session without a failing
/// run), reported instead of panicking.
pub(super) fn unreachable_session<H: Harness>() -> (H::Session, Box<Divergence>, String) {
    (
        H::simplest(),
        Box::new(Divergence {
            finding: Finding::Internal("the minimal session no longer diverges".into()),
            trace: Vec::new(),
            reference: Vec::new(),
        }),
        String::new(),
    )
}
