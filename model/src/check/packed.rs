//! The model's states as small fixed-size values (docs/model.md, "The packed state").
//!
//! A model's state is the reference machines, the rules' observer and the queues between them
//! ([`super::model::Unpacked`], [`super::widget_model::WidgetUnpacked`]). The checker keeps it
//! packed ([`Packed`]): the capability sets a byte each, in the order
//! [`CapSets::each_set`](capneg_reference::CapSets::each_set) visits them, and everything else
//! in a second buffer ([`capneg_reference::pack`]), beside the rules broken on the way and the
//! reachability goals the state meets. Copying a state is a copy of its bytes and its
//! fingerprint hashes the bytes in use; a step unpacks the machines, runs them and packs the
//! result. The symmetry reduction renames capabilities in the sets' buffer alone
//! ([`super::symmetry::canonicalize`]).

use super::fingerprint::Classed;
use super::symmetry::{canonicalize, class_signatures};
use crate::rules::RuleSet;
use capneg_reference::pack::{Pack, Packer, Unpacker};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The most capability sets a packed state holds (a signature of the symmetry reduction is one
/// bit a set, in a 64-bit word).
pub const SETS: usize = 64;

/// The most other bytes a packed state holds.
///
/// A state of every client (the reference and each mutant) fits at up to 5 re-exchange rounds
/// and 2 gated actions (model/tests/packed.rs); a larger state is skipped, and the check says
/// it was not exhaustive.
pub const BYTES: usize = 160;

/// A reachability goal of a model `M` over its unpacked state `T`: whether a state meets it.
pub type Goal<M, T> = fn(&M, &T) -> bool;

/// Whether some state of a model did not fit the packed form, so that the checker skipped it
/// (the bounds are too large for [`SETS`] or [`BYTES`]); shared by the model's clones, as the
/// checker's threads each hold one.
#[derive(Clone, Debug, Default)]
pub struct Overflow(Arc<AtomicBool>);

impl Overflow {
    /// Whether some state did not fit: the run was then not exhaustive.
    pub fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `state` of `model` packed, with the rules broken on the way to it and the goals of
    /// `goals` it meets; `None`, noted here, if it does not fit.
    pub fn pack<M, T: Pack>(
        &self,
        model: &M,
        goals: &[(&str, Goal<M, T>)],
        state: &T,
        violated: RuleSet,
    ) -> Option<Packed<T>> {
        let mut packed = Packed::empty();
        self.pack_into(model, goals, state, violated, &mut packed)
            .then_some(packed)
    }

    /// [`Overflow::pack`] into `into`, over what it held: whether it fits.
    pub fn pack_into<M, T: Pack>(
        &self,
        model: &M,
        goals: &[(&str, Goal<M, T>)],
        state: &T,
        violated: RuleSet,
        into: &mut Packed<T>,
    ) -> bool {
        let reached = goals
            .iter()
            .enumerate()
            .filter(|(_, (_, goal))| goal(model, state))
            .fold(0u8, |bits, (i, _)| bits | 1 << i);
        let fits = into.repack(state, violated, reached);
        if !fits {
            self.0.store(true, Ordering::Relaxed);
        }
        fits
    }
}

/// A state of type `T`, packed.
pub struct Packed<T> {
    violated: RuleSet,
    reached: u8,
    n_sets: u8,
    n_bytes: u8,
    sets: [u8; SETS],
    bytes: [u8; BYTES],
    unpacked: PhantomData<fn() -> T>,
}

impl<T: Pack> Packed<T> {
    /// `value` packed, with the rules broken on the way to it and the reachability goals it
    /// meets (bit `i`: goal `i`); `None` if it does not fit.
    pub fn new(value: &T, violated: RuleSet, reached: u8) -> Option<Self> {
        let mut packed = Packed::empty();
        packed.repack(value, violated, reached).then_some(packed)
    }

    /// `value` packed over what `self` held (nothing is cleared but what the new value leaves
    /// unused), with the rules broken on the way to it and the goals it meets; whether it fits
    /// (if not, `self` is left [`Packed::empty`]).
    pub fn repack(&mut self, value: &T, violated: RuleSet, reached: u8) -> bool {
        let (old_sets, old_bytes) = (usize::from(self.n_sets), usize::from(self.n_bytes));
        let mut p = Packer::new(&mut self.sets, &mut self.bytes);
        value.pack(&mut p);
        let overflowed = p.overflowed();
        let (n_sets, n_bytes) = p.written();
        if overflowed {
            *self = Packed::empty();
            return false;
        }
        // What the old value used beyond the new one goes back to zero.
        self.sets[n_sets..old_sets.max(n_sets)].fill(0);
        self.bytes[n_bytes..old_bytes.max(n_bytes)].fill(0);
        self.violated = violated;
        self.reached = reached;
        self.n_sets = n_sets as u8;
        self.n_bytes = n_bytes as u8;
        true
    }

    /// The state unpacked.
    ///
    /// # Panics
    /// If the bytes are not a `T`: they always are, since only [`Packed::new`] writes them.
    pub fn value(&self) -> T {
        match T::unpack(&mut Unpacker::new(self.sets(), self.bytes())) {
            Some(value) => value,
            None => unreachable!("a packed state unpacks"),
        }
    }

    /// The state unpacked into `into` (in place: see [`Pack::unpack_into`]).
    ///
    /// # Panics
    /// As [`Packed::value`].
    pub fn value_into(&self, into: &mut T) {
        if into
            .unpack_into(&mut Unpacker::new(self.sets(), self.bytes()))
            .is_none()
        {
            unreachable!("a packed state unpacks")
        }
    }
}

impl<T> Packed<T> {
    /// The packed form of nothing: no rule broken, no goal met, no set and no byte (a buffer
    /// to [`Packed::repack`] into).
    pub const fn empty() -> Self {
        Packed {
            violated: RuleSet::EMPTY,
            reached: 0,
            n_sets: 0,
            n_bytes: 0,
            sets: [0; SETS],
            bytes: [0; BYTES],
            unpacked: PhantomData,
        }
    }

    /// The rules broken on the way here.
    pub fn violated(&self) -> RuleSet {
        self.violated
    }

    /// Whether the state meets reachability goal `goal`.
    pub fn reached(&self, goal: usize) -> bool {
        self.reached & (1 << goal) != 0
    }

    /// The capability sets, a mask each, in visiting order.
    pub fn sets(&self) -> &[u8] {
        &self.sets[..usize::from(self.n_sets)]
    }

    /// The other bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.n_bytes)]
    }

    /// The representative of the state's symmetry class: capabilities renamed as
    /// [`canonicalize`] says.
    pub fn canonical(&self) -> Self {
        let mut rep = *self;
        canonicalize(&mut rep.sets[..usize::from(self.n_sets)]);
        rep
    }
}

impl<T> Clone for Packed<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Packed<T> {}

impl<T> PartialEq for Packed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.violated == other.violated
            && self.reached == other.reached
            && self.sets() == other.sets()
            && self.bytes() == other.bytes()
    }
}

impl<T> Eq for Packed<T> {}

/// The bytes in use (the rest is zero): four writes to the hasher.
impl<T> Hash for Packed<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.hash_with(state, 0, |state| state.write(self.sets()));
    }
}

/// The class hashed without its representative: in place of the renamed sets, the sorted
/// signatures of the capabilities ([`class_signatures`]), which determine them (with the number
/// of sets, hashed too).
impl<T> Classed for Packed<T> {
    fn hash_class<H: Hasher>(&self, state: &mut H) {
        let (signatures, k) = class_signatures(self.sets());
        self.hash_with(state, k as u8, |state| {
            for signature in &signatures[..k] {
                state.write_u64(*signature);
            }
        });
    }
}

impl<T> Packed<T> {
    /// Hashes the header (with `shape`, what says how much `sets` writes), then what `sets`
    /// writes for the sets, then the other bytes: the one layout of a state's hash and of its
    /// class's.
    fn hash_with<H: Hasher>(&self, state: &mut H, shape: u8, sets: impl FnOnce(&mut H)) {
        self.violated.hash(state);
        state.write_u32(
            u32::from(self.reached)
                | u32::from(self.n_sets) << 8
                | u32::from(self.n_bytes) << 16
                | u32::from(shape) << 24,
        );
        sets(state);
        state.write(self.bytes());
    }
}

impl<T> stateright::Representative for Packed<T> {
    fn representative(&self) -> Self {
        self.canonical()
    }
}

/// The unpacked state, the rules broken and the goals met.
impl<T: Pack + fmt::Debug> fmt::Debug for Packed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packed")
            .field("state", &self.value())
            .field("violated", &self.violated)
            .field("reached", &format_args!("{:#b}", self.reached))
            .finish()
    }
}

/// A checker thread's unpacked states. The checker asks for a state's actions, then for the
/// state after each of them: the state is unpacked once ([`Scratch::source`]) and each step
/// works on a copy ([`Scratch::work`]), but the last, which works on the source itself (it is
/// not needed after it), so that a state with `n` actions is unpacked `n` times, not `n + 1`.
///
/// The two unpacked values stay where they are (an unpacked state is about a kilobyte): giving
/// the source away to the last step swaps which of them is the source.
pub struct Scratch<T> {
    key: Option<Packed<T>>,
    /// Steps still to come from the state of `key` ([`Scratch::expect`]).
    pending: usize,
    slots: [Option<T>; 2],
    /// Which slot holds the source (the other is the work).
    source: usize,
}

impl<T> Scratch<T> {
    /// Nothing unpacked yet.
    pub const fn new() -> Self {
        Scratch {
            key: None,
            pending: 0,
            slots: [None, None],
            source: 0,
        }
    }
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch::new()
    }
}

/// `state` unpacked into `slot` (in place where it holds a value already).
fn unpack_into<'a, T: Pack>(slot: &'a mut Option<T>, state: &Packed<T>) -> &'a mut T {
    match slot {
        Some(value) => {
            state.value_into(value);
            value
        }
        None => slot.insert(state.value()),
    }
}

impl<T: Pack + Clone> Scratch<T> {
    /// `state` unpacked: the state held, if it is `state`; else `state` unpacked in its place.
    pub fn source(&mut self, state: &Packed<T>) -> &T {
        let slot = &mut self.slots[self.source];
        if self.key.as_ref() != Some(state) || slot.is_none() {
            self.key = Some(*state);
            self.pending = 0;
            return unpack_into(slot, state);
        }
        match slot {
            Some(source) => source,
            None => unreachable!("checked above"),
        }
    }

    /// Says that `n` steps from the state of the last [`Scratch::source`] follow (its actions):
    /// the last of them may take the source.
    pub fn expect(&mut self, n: usize) {
        self.pending = n;
    }

    /// `state` unpacked as the source, for a search that expands a state at once
    /// (`Checked::expand`): unlike [`Scratch::source`], it neither compares `state` with the
    /// state held nor keeps a copy of it, since it is unpacked anyway. [`Scratch::steps`] then
    /// runs the state's actions.
    pub fn unpack_source(&mut self, state: &Packed<T>) -> &T {
        self.key = None;
        self.pending = 0;
        unpack_into(&mut self.slots[self.source], state)
    }

    /// Calls `step` with each of `actions` (drained) and `state` unpacked, to change: for each
    /// action but the last a copy unpacked again, for the last the source itself, which is not
    /// needed after it. `state` must be the one [`Scratch::unpack_source`] unpacked last.
    ///
    /// # Panics
    /// If nothing was unpacked with [`Scratch::unpack_source`].
    pub fn steps<A>(
        &mut self,
        state: &Packed<T>,
        actions: &mut Vec<A>,
        mut step: impl FnMut(A, &mut T),
    ) {
        let last = actions.len().saturating_sub(1);
        for (i, action) in actions.drain(..).enumerate() {
            let work = if i == last {
                self.take_source()
            } else {
                self.copy(state)
            };
            step(action, work);
        }
    }

    /// `state` unpacked into the work slot, to change; the source stays as it is.
    fn copy(&mut self, state: &Packed<T>) -> &mut T {
        unpack_into(&mut self.slots[1 - self.source], state)
    }

    /// The source itself, to change: the last step from it (it is not needed after it).
    fn take_source(&mut self) -> &mut T {
        self.key = None;
        self.pending = 0;
        self.source = 1 - self.source;
        match &mut self.slots[1 - self.source] {
            Some(work) => work,
            None => panic!("no source unpacked"),
        }
    }

    /// A copy of `state` unpacked, to change.
    pub fn work(&mut self, state: &Packed<T>) -> &mut T {
        let mut take_source = false;
        if self.pending > 0 && self.key.as_ref() == Some(state) {
            self.pending -= 1;
            // The last step from this state: the source is not needed again.
            take_source = self.pending == 0 && self.slots[self.source].is_some();
        }
        if take_source {
            self.key = None;
            self.source = 1 - self.source;
            match &mut self.slots[1 - self.source] {
                Some(work) => work,
                None => unreachable!("checked above"),
            }
        } else {
            unpack_into(&mut self.slots[1 - self.source], state)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_hash_as_one_class_exactly_when_their_representatives_are_equal() {
        use capneg_reference::CapSet;
        use std::hash::BuildHasher;
        let hasher = std::hash::RandomState::new();
        let class = |p: &Packed<Vec<CapSet>>| {
            let mut h = hasher.build_hasher();
            p.hash_class(&mut h);
            h.finish()
        };
        let sets = |masks: &[u64]| masks.iter().map(|&m| CapSet::from_mask(m)).collect();
        let states: Vec<Packed<Vec<CapSet>>> = [
            sets(&[0b1, 0b11, 0b100]),
            sets(&[0b100, 0b110, 0b1]),
            sets(&[]),
            sets(&[0b101, 0b1000, 0b1111]),
            sets(&[0b1, 0b11, 0b100, 0]),
            sets(&[0b10, 0b11, 0b1]),
            sets(&[0b1100, 0b1, 0b1111]),
        ]
        .iter()
        .map(|value| Packed::new(value, RuleSet::EMPTY, 1).unwrap())
        .collect();
        let mut renamed = 0;
        let mut twins = 0;
        for a in &states {
            let canonical = a.canonical();
            renamed += usize::from(canonical.sets() != a.sets());
            assert_eq!(class(a), class(&canonical), "{:?}", a.sets());
            for b in &states {
                let same = canonical == b.canonical();
                twins += usize::from(same);
                assert_eq!(class(a) == class(b), same, "{:?} {:?}", a.sets(), b.sets());
            }
        }
        // The first two are twins, as are the fourth and the last (beside each with itself);
        // four of the seven are renamed.
        assert_eq!((twins, renamed), (states.len() + 4, 4));
    }

    #[test]
    fn a_value_packed_over_another_is_the_value_packed_anew() {
        use capneg_reference::CapSet;
        let sets = |masks: &[u64]| -> Vec<CapSet> {
            masks.iter().map(|&m| CapSet::from_mask(m)).collect()
        };
        let large = (sets(&[0b1, 0b11, 0b100, 0b111]), vec![7u8, 8, 9]);
        let small = (sets(&[0b10]), vec![1u8]);
        let mut buffer = Packed::new(&large, RuleSet::EMPTY, 3).unwrap();
        assert!(buffer.repack(&small, RuleSet::EMPTY, 1));
        let fresh = Packed::new(&small, RuleSet::EMPTY, 1).unwrap();
        assert!(buffer == fresh);
        // Not only the bytes in use: what the larger value used is zero again.
        assert_eq!((buffer.sets, buffer.bytes), (fresh.sets, fresh.bytes));
        // A value that does not fit leaves nothing behind.
        let wide = (sets(&[1 << 9]), vec![]);
        assert!(!buffer.repack(&wide, RuleSet::EMPTY, 1));
        assert!(buffer == Packed::empty() && buffer.sets == [0; SETS]);
    }

    #[test]
    fn each_expanded_step_starts_from_the_state_and_the_last_takes_the_source() {
        let seven = Packed::new(&7u8, RuleSet::EMPTY, 0).unwrap();
        let mut scratch = Scratch::new();
        assert_eq!(*scratch.unpack_source(&seven), 7);
        let mut seen = Vec::new();
        scratch.steps(&seven, &mut vec![1u8, 2, 3], |action, work| {
            seen.push(*work);
            *work += action;
        });
        // Each step found the state as it was, though the one before changed its copy.
        assert_eq!(seen, [7, 7, 7]);
        // The last step took the source: what it left is now the work slot's; the source slot
        // holds the last copy (7 + 2).
        assert_eq!(scratch.slots[1 - scratch.source], Some(10));
        assert_eq!(scratch.slots[scratch.source], Some(9));
        assert_eq!(scratch.key, None);
    }

    #[test]
    fn each_step_starts_from_the_state_and_the_last_takes_the_source() {
        let seven = Packed::new(&7u8, RuleSet::EMPTY, 0).unwrap();
        let mut scratch = Scratch::new();
        assert_eq!(*scratch.source(&seven), 7);
        scratch.expect(2);
        let first = scratch.work(&seven);
        assert_eq!(*first, 7);
        *first = 9;
        // The last expected step works on the source itself.
        let last = scratch.work(&seven);
        assert_eq!(*last, 7);
        *last = 11;
        // The source was given away: asked again, the state is unpacked afresh.
        assert_eq!(*scratch.source(&seven), 7);
        // More steps than expected still start from the state.
        assert_eq!(*scratch.work(&seven), 7);
        // Another state replaces the source; the steps expected of the first are forgotten.
        let eight = Packed::new(&8u8, RuleSet::EMPTY, 0).unwrap();
        scratch.expect(5);
        assert_eq!(*scratch.source(&eight), 8);
        assert_eq!(*scratch.work(&seven), 7);
        assert_eq!(*scratch.source(&eight), 8);
    }
}
