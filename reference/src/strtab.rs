//! A table of interned strings: each string stored once, in one arena, numbered in order of
//! first appearance. Sessions intern every request id they meet, so this is on the validator's
//! hot path: no allocation per string, one hash per lookup.

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// The tables' hasher: fast and fixed (no process-wide randomness; the tables' contents never
/// depend on it).
pub(crate) type FixedHash = foldhash::fast::FixedState;

/// Interned strings.
#[derive(Clone, Default)]
pub struct StrTable {
    /// Every string, one after the other.
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<usize>,
    /// The numbers of the strings, by hash.
    index: HashTable<u32>,
    hasher: FixedHash,
}

impl StrTable {
    /// The string numbered `i`.
    pub fn name(&self, i: u32) -> Option<&str> {
        slice(&self.text, &self.ends, i)
    }

    fn hash(&self, s: &str) -> u64 {
        self.hasher.hash_one(s)
    }

    /// The number of `s`, if interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let hash = self.hash(s);
        self.index.find(hash, |&i| self.name(i) == Some(s)).copied()
    }

    /// The number of `s`, interning it if it is new; and whether it is.
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        let hash = self.hash(s);
        let (text, ends) = (&self.text, &self.ends);
        if let Some(&i) = self.index.find(hash, |&i| slice(text, ends, i) == Some(s)) {
            return (i, false);
        }
        let i = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len());
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            hasher.hash_one(slice(text, ends, j).unwrap_or(""))
        });
        (i, true)
    }

    /// Forgets every string, keeping the memory for the next ones.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.index.clear();
    }

    /// The number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The string numbered `i` of an arena.
fn slice<'t>(text: &'t str, ends: &[usize], i: u32) -> Option<&'t str> {
    let i = i as usize;
    let end = *ends.get(i)?;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    text.get(start..end)
}

impl std::fmt::Debug for StrTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries((0..self.len() as u32).filter_map(|i| self.name(i)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        #[test]
        fn numbers_strings_in_order_of_first_appearance(words in proptest::collection::vec("[a-c\u{e9}]{0,3}", 0..60)) {
            let mut t = StrTable::default();
            let mut model: HashMap<String, u32> = HashMap::new();
            for w in &words {
                let next = model.len() as u32;
                let want = *model.entry(w.clone()).or_insert(next);
                let (got, new) = t.intern(w);
                prop_assert_eq!(got, want);
                prop_assert_eq!(new, want == next && t.len() as u32 == next + 1);
                prop_assert_eq!(t.name(got), Some(w.as_str()));
                prop_assert_eq!(t.get(w), Some(got));
            }
            prop_assert_eq!(t.len(), model.len());
            prop_assert_eq!(t.get("zzz"), None);
            t.clear();
            prop_assert_eq!(t.len(), 0);
            if let Some(w) = words.first() {
                prop_assert_eq!(t.get(w), None);
                prop_assert_eq!(t.intern(w), (0, true));
            }
        }
    }
}
