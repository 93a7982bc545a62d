//! The fingerprints of states that capneg's own searches (the exhaustive run's depth-first one,
//! [`super::breadth_first`]) keep of the states they have seen: 64 bits of a fixed hash of a
//! state, or of its representative where the search reduces by symmetry (docs/model.md,
//! "Reductions").
//!
//! Two different states share a fingerprint with a probability of about `n² / 2⁶⁵` over a run of
//! `n` states (3 in 10,000 at 100 million), as with stateright's own fingerprints.

use stateright::Representative;
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// A state with a symmetry class: what a search reduced by symmetry fingerprints.
pub trait Classed: Representative + Hash + Sized {
    /// Hashes the state's class: states of one class alike, states of two classes as two
    /// different values. This default hashes the representative; a type may hash another
    /// complete invariant of the class instead, without building the representative.
    fn hash_class<H: Hasher>(&self, state: &mut H) {
        self.representative().hash(state);
    }
}

/// The fingerprint of `state`, of its class with `symmetry`. Fixed: the same state gets the same
/// fingerprint in every run.
pub fn fingerprint<S: Classed>(state: &S, symmetry: bool) -> u64 {
    let mut hasher = foldhash::quality::FixedState::with_seed(0).build_hasher();
    if symmetry {
        state.hash_class(&mut hasher);
    } else {
        state.hash(&mut hasher);
    }
    hasher.finish()
}

/// A set of fingerprints. They are hashes already: the table takes them as they are.
pub type Fingerprints = HashSet<u64, BuildHasherDefault<Same>>;

/// A hasher that returns the `u64` it is given (a fingerprint).
#[derive(Default)]
pub struct Same(u64);

impl Hasher for Same {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only fingerprints are hashed here; anything else is folded in, never lost.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Hash)]
    struct Twice(u8);

    impl Representative for Twice {
        fn representative(&self) -> Self {
            Twice(self.0 / 2 * 2)
        }
    }

    impl Classed for Twice {}

    #[test]
    fn a_state_and_its_twin_share_a_fingerprint_only_up_to_symmetry() {
        assert_eq!(fingerprint(&Twice(3), true), fingerprint(&Twice(2), true));
        assert_ne!(fingerprint(&Twice(3), false), fingerprint(&Twice(2), false));
        assert_eq!(fingerprint(&Twice(3), false), fingerprint(&Twice(3), false));
        let mut seen = Fingerprints::default();
        assert!(seen.insert(fingerprint(&Twice(4), true)));
        assert!(!seen.insert(fingerprint(&Twice(5), true)));
        assert_eq!(Same(0).finish(), 0);
        let mut h = Same::default();
        h.write_u64(42);
        assert_eq!(h.finish(), 42);
    }
}
