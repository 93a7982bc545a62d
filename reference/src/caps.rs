//! Interned capability sets.
//!
//! A session sees few distinct capability strings, so each one is interned once into a small
//! index ([`Cap`]) and sets of them are bit sets ([`CapSet`]). Interning happens in order of first
//! appearance, so iterating a set yields its members in that order: the order they are printed in.
//! Sets are compared as sets (docs/spec.md §5: "Capability lists are compared as sets").

use crate::bitset::BitSet;
use crate::capability::Capability;
use crate::gate::Gated;
use crate::strtab::StrTable;
use std::fmt;
use std::sync::OnceLock;

/// One interned capability string: an index into an [`Interner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cap(pub u32);

/// A set of interned capabilities.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CapSet(BitSet);

impl CapSet {
    /// The empty set.
    pub const EMPTY: CapSet = CapSet(BitSet::EMPTY);

    /// The empty set.
    #[inline]
    pub const fn new() -> Self {
        Self::EMPTY
    }

    /// The set of capabilities `0..64` whose bits are set in `mask` (for models with a fixed
    /// universe).
    #[inline]
    pub const fn from_mask(mask: u64) -> Self {
        CapSet(BitSet::from_mask(mask))
    }

    /// The members below 64 as a mask.
    #[inline]
    pub const fn mask(&self) -> u64 {
        self.0.low_mask()
    }

    /// Whether every member is below 64, so that [`CapSet::mask`] is the whole set.
    #[inline]
    pub const fn is_mask(&self) -> bool {
        self.0.is_inline()
    }

    /// Whether `cap` is a member.
    #[inline]
    pub fn contains(&self, cap: Cap) -> bool {
        self.0.contains(cap.0)
    }

    /// Adds `cap`; returns whether it was new.
    #[inline]
    pub fn insert(&mut self, cap: Cap) -> bool {
        self.0.insert(cap.0)
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of members.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `self ∪ other`.
    #[inline]
    pub fn union(&self, other: &Self) -> Self {
        CapSet(self.0.union(&other.0))
    }

    /// `self ∩ other`.
    #[inline]
    pub fn intersection(&self, other: &Self) -> Self {
        CapSet(self.0.intersection(&other.0))
    }

    /// `self − other`.
    #[inline]
    pub fn difference(&self, other: &Self) -> Self {
        CapSet(self.0.difference(&other.0))
    }

    /// Adds every member of `other`.
    #[inline]
    pub fn union_with(&mut self, other: &Self) {
        self.0.union_with(&other.0)
    }

    /// Whether every member of `self` is in `other`.
    #[inline]
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether the sets share a member.
    #[inline]
    pub fn intersects(&self, other: &Self) -> bool {
        self.0.intersects(&other.0)
    }

    /// The members, in order of first appearance in the session.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = Cap> + '_ {
        self.0.iter().map(Cap)
    }

    /// The set with every member `i` renamed to `perm[i]` (members outside `perm` are kept).
    /// Used to reduce model states by the symmetry of interchangeable capabilities.
    #[inline]
    pub fn permute(&self, perm: &[u32]) -> Self {
        if self.0.is_inline() && perm.len() <= 64 && perm.iter().all(|&p| p < 64) {
            // The common case in a model: a mask in, a mask out.
            let mut mask = self.mask();
            let mut out = 0u64;
            while mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                out |= 1 << perm.get(i).copied().unwrap_or(i as u32);
            }
            return CapSet::from_mask(out);
        }
        self.iter()
            .map(|c| Cap(perm.get(c.0 as usize).copied().unwrap_or(c.0)))
            .collect()
    }
}

impl FromIterator<Cap> for CapSet {
    fn from_iter<T: IntoIterator<Item = Cap>>(iter: T) -> Self {
        CapSet(iter.into_iter().map(|c| c.0).collect())
    }
}

impl fmt::Debug for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|c| c.0)).finish()
    }
}

/// A value that holds capability sets: a message, a machine's state. Each set can be visited,
/// in an order fixed by the value's shape. Whatever renumbers capabilities goes through it: a
/// trace read in blocks numbers them per block, and a model reduces its states by renaming
/// interchangeable capabilities.
pub trait CapSets {
    /// Calls `f` on every set held.
    fn each_set(&self, f: &mut dyn FnMut(&CapSet));
    /// Calls `f` on every set held, mutably, in the same order as [`CapSets::each_set`].
    fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut CapSet));
}

impl CapSets for CapSet {
    fn each_set(&self, f: &mut dyn FnMut(&CapSet)) {
        f(self)
    }
    fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut CapSet)) {
        f(self)
    }
}

/// Implements [`CapSets`] from one list of where a value's sets are, so that
/// [`CapSets::each_set`] and [`CapSets::each_set_mut`] visit the same sets in the same order.
///
/// - `cap_sets!(Type { field, field.inner, .. })`: the sets of these fields, in this order (a
///   field is a [`CapSet`] or any other [`CapSets`]).
/// - `cap_sets!(Type: match { PATTERN => [binding, ..], .. })`: the sets of the bindings of
///   the arm `self` matches, in this order (the patterns bind by reference: `&` in
///   `each_set`, `&mut` in `each_set_mut`).
#[macro_export]
macro_rules! cap_sets {
    ($ty:ty { $($($field:ident).+),+ $(,)? }) => {
        impl $crate::caps::CapSets for $ty {
            fn each_set(&self, f: &mut dyn FnMut(&$crate::caps::CapSet)) {
                $($crate::caps::CapSets::each_set(&self.$($field).+, f);)+
            }
            fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut $crate::caps::CapSet)) {
                $($crate::caps::CapSets::each_set_mut(&mut self.$($field).+, f);)+
            }
        }
    };
    ($ty:ty: match { $($pat:pat => [$($set:ident),*]),+ $(,)? }) => {
        impl $crate::caps::CapSets for $ty {
            fn each_set(&self, f: &mut dyn FnMut(&$crate::caps::CapSet)) {
                match self {
                    $($pat => {
                        $($crate::caps::CapSets::each_set($set, f);)*
                    })+
                }
            }
            fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut $crate::caps::CapSet)) {
                match self {
                    $($pat => {
                        $($crate::caps::CapSets::each_set_mut($set, f);)*
                    })+
                }
            }
        }
    };
}

/// The sets of a collection: those of its items, in order.
macro_rules! cap_sets_of_items {
    ($([$($generics:tt)*] $ty:ty),+ $(,)?) => {
        $(impl<$($generics)*> CapSets for $ty {
            fn each_set(&self, f: &mut dyn FnMut(&CapSet)) {
                self.iter().for_each(|t| t.each_set(f))
            }
            fn each_set_mut(&mut self, f: &mut dyn FnMut(&mut CapSet)) {
                self.iter_mut().for_each(|t| t.each_set_mut(f))
            }
        })+
    };
}

cap_sets_of_items! {
    [T: CapSets] Option<T>,
    [T: CapSets, E] Result<T, E>,
    [T: CapSets] [T],
    [T: CapSets] Vec<T>,
    [T: CapSets] crate::fifo::Fifo<T>,
}

/// The capability strings of one session, each with its index and its parsed form (parsed when
/// first asked for: the validator's per-block tables never are).
#[derive(Clone, Default)]
pub struct Interner {
    names: StrTable,
    parsed: Vec<OnceLock<Capability>>,
    /// Recently interned names by a cheap key (length, first and last eight bytes), checked
    /// before hashing the whole name: a session repeats the same few names in every list.
    recent: [Option<u32>; RECENT],
}

/// Slots of [`Interner`]'s recent names.
const RECENT: usize = 32;

/// The slot of a name among recent ones.
fn recent_slot(name: &str) -> usize {
    let b = name.as_bytes();
    // Eight bytes as a word (shorter names byte by byte: no call to copy a slice).
    let word = |part: &[u8]| match <[u8; 8]>::try_from(part) {
        Ok(w) => u64::from_le_bytes(w),
        Err(_) => part.iter().fold(0, |w, &c| w << 8 | u64::from(c)),
    };
    let (head, tail) = (&b[..b.len().min(8)], &b[b.len().saturating_sub(8)..]);
    let key = word(head) ^ word(tail).rotate_left(29) ^ b.len() as u64;
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 59) as usize
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Interner").field(&self.names).finish()
    }
}

impl Interner {
    /// An interner with no strings.
    pub fn new() -> Self {
        Self::default()
    }

    /// An interner holding `names` in this order (a model's fixed universe).
    pub fn with_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut interner = Self::new();
        for n in names {
            interner.intern(n);
        }
        interner
    }

    /// The index of `name`, interning it if it is new.
    pub fn intern(&mut self, name: &str) -> Cap {
        let slot = recent_slot(name);
        if let Some(i) = self.recent[slot] {
            if self.names.name(i) == Some(name) {
                return Cap(i);
            }
        }
        let (i, new) = self.names.intern(name);
        if new {
            self.parsed.push(OnceLock::new());
        }
        self.recent[slot] = Some(i);
        Cap(i)
    }

    /// The index of `name`, if it was interned.
    pub fn get(&self, name: &str) -> Option<Cap> {
        self.names.get(name).map(Cap)
    }

    /// The string of `cap`.
    ///
    /// # Panics
    /// If `cap` was not interned here.
    pub fn name(&self, cap: Cap) -> &str {
        match self.names.name(cap.0) {
            Some(name) => name,
            None => panic!("capability {} was not interned here", cap.0),
        }
    }

    /// The parsed form of `cap`.
    pub fn capability(&self, cap: Cap) -> &Capability {
        self.parsed[cap.0 as usize].get_or_init(|| Capability::parse(self.name(cap)))
    }

    /// Forgets every name, keeping the memory for the next ones.
    pub fn clear(&mut self) {
        self.names.clear();
        self.parsed.clear();
        self.recent = [None; RECENT];
    }

    /// The number of interned strings.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Interns every string of `names` and returns their set.
    pub fn set<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> CapSet {
        names.into_iter().map(|n| self.intern(n)).collect()
    }

    /// The strings of `set`, in order of first appearance.
    pub fn names<'a>(&'a self, set: &'a CapSet) -> impl Iterator<Item = &'a str> + 'a {
        set.iter().map(|c| self.name(c))
    }

    /// The strings of `set` as owned strings.
    pub fn to_vec(&self, set: &CapSet) -> Vec<String> {
        self.names(set).map(str::to_owned).collect()
    }

    /// The interned capabilities any one of which permits `gated` (MSC2762 gating): the action
    /// is allowed exactly when the approved set meets this set (rule
    /// `gated-action-needs-capability`).
    pub fn permitting(&self, gated: &Gated<'_>) -> CapSet {
        (0..self.len() as u32)
            .map(Cap)
            .filter(|&c| self.capability(c).permits(gated))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Names alike at both ends and in length share slots among the recent names: the
        /// numbers are still those of first appearance, whatever the slots hold.
        #[test]
        fn recent_names_never_change_a_number(
            words in proptest::collection::vec("(org\\.a[bc]{0,3}x|org\\.a[bc]{0,3}y|[a-c]{0,2})", 0..80),
        ) {
            let mut interner = Interner::new();
            let mut first: Vec<&str> = Vec::new();
            for w in &words {
                let want = match first.iter().position(|f| f == w) {
                    Some(i) => i,
                    None => {
                        first.push(w);
                        first.len() - 1
                    }
                };
                proptest::prop_assert_eq!(interner.intern(w), Cap(want as u32));
                proptest::prop_assert_eq!(interner.name(Cap(want as u32)), w.as_str());
            }
            proptest::prop_assert_eq!(interner.len(), first.len());
            interner.clear();
            proptest::prop_assert_eq!(interner.len(), 0);
            if let Some(w) = words.first() {
                proptest::prop_assert_eq!(interner.intern(w), Cap(0));
            }
        }
    }

    #[test]
    fn interning_keeps_first_appearance_order() {
        let mut i = Interner::new();
        let set = i.set(["b", "a", "b", "c"]);
        assert_eq!(i.names(&set).collect::<Vec<_>>(), ["b", "a", "c"]);
        let other = i.set(["c", "b"]);
        assert_eq!(i.names(&other).collect::<Vec<_>>(), ["b", "c"]);
        assert!(other.is_subset(&set));
    }

    #[test]
    fn permitting_finds_the_gating_capabilities() {
        let mut i = Interner::new();
        i.set([
            "m.always_on_screen",
            "org.matrix.msc2762.send.event:m.room.message#m.text",
            "org.matrix.msc2762.send.event:m.room.message",
            "org.matrix.msc2762.send.state_event:m.room.topic",
        ]);
        let aos = i.permitting(&Gated::AlwaysOnScreen);
        assert_eq!(i.to_vec(&aos), ["m.always_on_screen"]);
        let text = i.permitting(&Gated::SendEvent {
            event_type: "m.room.message",
            state_key: None,
            msgtype: Some("m.text"),
        });
        assert_eq!(
            i.to_vec(&text),
            [
                "org.matrix.msc2762.send.event:m.room.message#m.text",
                "org.matrix.msc2762.send.event:m.room.message"
            ]
        );
        let topic = i.permitting(&Gated::SendEvent {
            event_type: "m.room.topic",
            state_key: Some(""),
            msgtype: None,
        });
        assert_eq!(
            i.to_vec(&topic),
            ["org.matrix.msc2762.send.state_event:m.room.topic"]
        );
    }
}
