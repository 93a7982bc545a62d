//! The proptest search and its shrinking.
//!
//! Sessions come from [`crate::strategy::sessions`] with a deterministic RNG ([`rng`]); each is
//! run in [`Lockstep`] by [`Search::test`], and the first diverging session is shrunk to a minimal
//! one. Shrinking keeps the kind of the divergence first found (the same rule, or a difference,
//! or no answer, or a crash), so the minimal session shows that divergence and not another one met
//! on the way. Shrinking stops early after too many failing runs that each cost a timeout or a
//! restart, after the longest time allowed, or at once when the adapter fails on its very first
//! command (there is nothing to shrink).

use super::findings::{Class, Divergence, Finding};
use super::lockstep::Lockstep;
use crate::process::Adapter;
use crate::session::Session;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng};
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

/// The state of one search: the lockstep and the adapter it runs sessions on, the kind of the
/// first divergence (which shrinking keeps), the counts, and the last diverging session with its
/// divergence and the adapter's stderr.
pub(super) struct Search<'a> {
    pub(super) lockstep: Lockstep,
    pub(super) adapter: &'a mut dyn Adapter,
    pub(super) class: Option<Class>,
    pub(super) stop: bool,
    pub(super) sessions: u64,
    pub(super) found_after: u64,
    pub(super) shrink_started: Option<Instant>,
    pub(super) max_shrink_time: Duration,
    pub(super) slow: u32,
    pub(super) last: Option<(Session, Box<Divergence>, String)>,
}

/// The most failing runs that cost a timeout or a restart while shrinking.
const MAX_SLOW_SHRINKS: u32 = 12;

impl Search<'_> {
    /// Runs one session: a failure (for proptest) if it diverges the way the first divergence did
    /// (any way, before the first), with the session kept in `last`.
    pub(super) fn test(&mut self, session: &Session) -> Result<(), TestCaseError> {
        if self.stop {
            return Ok(());
        }
        self.sessions += 1;
        let mark = self.adapter.stderr_mark();
        let Err(divergence) = self.lockstep.run(session, self.adapter) else {
            return Ok(());
        };
        let class = divergence.class();
        match self.class {
            None => {
                self.class = Some(class);
                self.found_after = self.sessions;
                self.shrink_started = Some(Instant::now());
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
            if self.slow > MAX_SLOW_SHRINKS {
                self.stop = true;
            }
        }
        if self
            .shrink_started
            .is_some_and(|t| t.elapsed() > self.max_shrink_time)
        {
            self.stop = true;
        }
        let stderr = self.adapter.stderr_since(mark);
        self.last = Some((session.clone(), divergence, stderr));
        Err(TestCaseError::fail("diverged"))
    }
}

/// The simplest session: a `start` without `autoApprove` or waiting, and nothing else.
pub(super) fn simplest() -> Session {
    Session {
        start: crate::session::Start::new(crate::universe::Caps::NONE, false),
        steps: Vec::new(),
    }
}

/// A placeholder for a state the search cannot end in (a minimal session without a failing
/// run), reported instead of panicking.
pub(super) fn unreachable_session() -> (Session, Box<Divergence>, String) {
    (
        simplest(),
        Box::new(Divergence {
            finding: Finding::Internal("the minimal session no longer diverges".into()),
            trace: Vec::new(),
            reference: Vec::new(),
        }),
        String::new(),
    )
}
