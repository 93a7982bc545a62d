//! A small growable bit set: the storage behind [`CapSet`](crate::CapSet), and the rules'
//! ledger of request ids.
//!
//! The first 64 members live inline, so the sets of a typical session (a handful of capabilities)
//! never allocate; larger sets spill into a boxed slice. The representation is normalised (no
//! trailing zero words), so derived equality, hashing and ordering are those of the set.

use std::fmt;

/// A set of small non-negative integers.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct BitSet {
    low: u64,
    /// Words for members 64 and up; `None` when all of them are zero. Boxed twice so that a set
    /// takes two words: models hold many sets and copy them often.
    #[allow(clippy::box_collection)]
    high: Option<Box<Vec<u64>>>,
}

impl BitSet {
    /// The empty set.
    pub const EMPTY: BitSet = BitSet { low: 0, high: None };

    /// The empty set.
    #[inline]
    pub const fn new() -> Self {
        Self::EMPTY
    }

    /// A set of members below 64 given as a mask.
    #[inline]
    pub const fn from_mask(mask: u64) -> Self {
        BitSet {
            low: mask,
            high: None,
        }
    }

    /// The members below 64 as a mask.
    #[inline]
    pub const fn low_mask(&self) -> u64 {
        self.low
    }

    /// Whether the set has no member of 64 or more.
    #[inline]
    pub const fn is_inline(&self) -> bool {
        self.high.is_none()
    }

    #[inline]
    fn word(&self, i: usize) -> u64 {
        if i == 0 {
            self.low
        } else {
            self.high
                .as_deref()
                .and_then(|h| h.get(i - 1))
                .copied()
                .unwrap_or(0)
        }
    }

    #[inline]
    fn words(&self) -> usize {
        1 + self.high.as_deref().map_or(0, Vec::len)
    }

    #[inline]
    fn from_words(low: u64, mut high: Vec<u64>) -> Self {
        while high.last() == Some(&0) {
            high.pop();
        }
        BitSet {
            low,
            high: if high.is_empty() {
                None
            } else {
                Some(Box::new(high))
            },
        }
    }

    /// Whether `i` is a member.
    #[inline]
    pub fn contains(&self, i: u32) -> bool {
        let i = i as usize;
        self.word(i / 64) & (1 << (i % 64)) != 0
    }

    /// Adds `i`; returns whether it was new.
    #[inline]
    pub fn insert(&mut self, i: u32) -> bool {
        let i = i as usize;
        let bit = 1u64 << (i % 64);
        let w = i / 64;
        if w == 0 {
            let new = self.low & bit == 0;
            self.low |= bit;
            return new;
        }
        let high = self.high.get_or_insert_with(Default::default);
        if high.len() < w {
            high.resize(w, 0);
        }
        let new = high[w - 1] & bit == 0;
        high[w - 1] |= bit;
        new
    }

    /// Removes `i`; returns whether it was a member.
    #[inline]
    pub fn remove(&mut self, i: u32) -> bool {
        if !self.contains(i) {
            return false;
        }
        let i = i as usize;
        let bit = 1u64 << (i % 64);
        if i < 64 {
            self.low &= !bit;
        } else {
            let mut high = self.high.take().map(|h| *h).unwrap_or_default();
            high[i / 64 - 1] &= !bit;
            *self = Self::from_words(self.low, high);
        }
        true
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.low == 0 && self.high.is_none()
    }

    /// The number of members.
    #[inline]
    pub fn len(&self) -> usize {
        let high: u32 = self
            .high
            .iter()
            .flat_map(|h| h.iter())
            .map(|w| w.count_ones())
            .sum();
        (self.low.count_ones() + high) as usize
    }

    #[inline]
    fn zip(&self, other: &Self, f: impl Fn(u64, u64) -> u64) -> Self {
        if self.high.is_none() && other.high.is_none() {
            return BitSet::from_mask(f(self.low, other.low));
        }
        let n = self.words().max(other.words());
        let high = (1..n).map(|i| f(self.word(i), other.word(i))).collect();
        Self::from_words(f(self.low, other.low), high)
    }

    /// `self ∪ other`.
    #[inline]
    pub fn union(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a | b)
    }

    /// `self ∩ other`.
    #[inline]
    pub fn intersection(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a & b)
    }

    /// `self − other`.
    #[inline]
    pub fn difference(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a & !b)
    }

    /// Adds every member of `other`.
    #[inline]
    pub fn union_with(&mut self, other: &Self) {
        if self.high.is_none() && other.high.is_none() {
            self.low |= other.low;
        } else {
            *self = self.union(other);
        }
    }

    /// Whether every member of `self` is in `other`.
    #[inline]
    pub fn is_subset(&self, other: &Self) -> bool {
        (0..self.words()).all(|i| self.word(i) & !other.word(i) == 0)
    }

    /// Whether the sets share a member.
    #[inline]
    pub fn intersects(&self, other: &Self) -> bool {
        (0..self.words().min(other.words())).any(|i| self.word(i) & other.word(i) != 0)
    }

    /// The members in increasing order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.words()).flat_map(move |w| {
            let mut word = self.word(w);
            std::iter::from_fn(move || {
                if word == 0 {
                    return None;
                }
                let bit = word.trailing_zeros();
                word &= word - 1;
                Some((w * 64) as u32 + bit)
            })
        })
    }
}

impl std::hash::Hash for BitSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One write for the common inline set; the high words only where there are some (the
        // representation is normalised, so equal sets hash alike).
        state.write_u64(self.low);
        if let Some(high) = &self.high {
            for w in high.iter() {
                state.write_u64(*w);
            }
        }
    }
}

impl FromIterator<u32> for BitSet {
    fn from_iter<T: IntoIterator<Item = u32>>(iter: T) -> Self {
        let mut set = BitSet::new();
        for i in iter {
            set.insert(i);
        }
        set
    }
}

impl fmt::Debug for BitSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn model(s: &BitSet) -> BTreeSet<u32> {
        s.iter().collect()
    }

    proptest! {
        #[test]
        fn behaves_like_a_set(a in proptest::collection::btree_set(0u32..300, 0..20),
                              b in proptest::collection::btree_set(0u32..300, 0..20)) {
            let sa: BitSet = a.iter().copied().collect();
            let sb: BitSet = b.iter().copied().collect();
            prop_assert_eq!(model(&sa), a.clone());
            prop_assert_eq!(sa.len(), a.len());
            prop_assert_eq!(model(&sa.union(&sb)), a.union(&b).copied().collect());
            prop_assert_eq!(model(&sa.intersection(&sb)), a.intersection(&b).copied().collect());
            prop_assert_eq!(model(&sa.difference(&sb)), a.difference(&b).copied().collect());
            prop_assert_eq!(sa.is_subset(&sb), a.is_subset(&b));
            prop_assert_eq!(sa.intersects(&sb), !a.is_disjoint(&b));
            // Normalised: equal sets compare equal whatever way they were built.
            let rebuilt = sa.union(&sb).difference(&sb.difference(&sa));
            prop_assert_eq!(rebuilt.clone(), sa.clone());
            let mut removed = sa.union(&sb);
            for x in &b { if !a.contains(x) { removed.remove(*x); } }
            prop_assert_eq!(removed, sa);
        }
    }

    #[test]
    fn small_sets_stay_inline() {
        let mut s = BitSet::new();
        s.insert(3);
        s.insert(63);
        assert!(s.is_inline());
        s.insert(64);
        assert!(!s.is_inline());
        s.remove(64);
        assert!(s.is_inline());
        assert_eq!(s, BitSet::from_mask((1 << 3) | (1 << 63)));
    }
}
