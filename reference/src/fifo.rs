//! A first-in, first-out queue that keeps its first items inline.
//!
//! Sessions hold a few short queues (rounds waiting, prompts open, messages in flight) that are
//! almost always empty or nearly so; a model checker clones them for every state. Keeping the
//! first two items inline avoids an allocation per clone, and a moving head keeps `pop_front`
//! constant-time however long hostile input makes a queue.

use smallvec::SmallVec;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A FIFO queue; the first two items live inline.
pub struct Fifo<T> {
    /// Items; those before `head` were taken (`None`), those from `head` on are `Some`.
    slots: SmallVec<[Option<T>; 2]>,
    head: usize,
}

impl<T> Fifo<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Fifo {
            slots: SmallVec::new(),
            head: 0,
        }
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.slots.len() - self.head
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends an item.
    pub fn push_back(&mut self, item: T) {
        self.slots.push(Some(item));
    }

    /// Takes the oldest item.
    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.slots.get_mut(self.head)?.take();
        self.head += 1;
        if self.head == self.slots.len() {
            self.slots.clear();
            self.head = 0;
        } else if self.head >= 16 && self.head * 2 >= self.slots.len() {
            self.slots.drain(..self.head);
            self.head = 0;
        }
        item
    }

    /// The oldest item.
    pub fn front(&self) -> Option<&T> {
        self.slots.get(self.head).and_then(Option::as_ref)
    }

    /// The newest item.
    pub fn back(&self) -> Option<&T> {
        self.iter().next_back()
    }

    /// The item at `index` from the front.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.slots.get(self.head + index).and_then(Option::as_ref)
    }

    /// The item at `index` from the front, mutably.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.slots
            .get_mut(self.head + index)
            .and_then(Option::as_mut)
    }

    /// Removes the item at `index` from the front.
    pub fn remove(&mut self, index: usize) -> Option<T> {
        if index == 0 {
            return self.pop_front();
        }
        if index >= self.len() {
            return None;
        }
        self.slots.remove(self.head + index)
    }

    /// The items, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.slots[self.head..].iter().map(|s| match s {
            Some(t) => t,
            None => unreachable!("slots from the head on are filled"),
        })
    }

    /// The items, oldest first, mutably.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> + ExactSizeIterator {
        self.slots[self.head..].iter_mut().map(|s| match s {
            Some(t) => t,
            None => unreachable!("slots from the head on are filled"),
        })
    }

    /// Removes every item, keeping the memory.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.head = 0;
    }

    /// Keeps only the items `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let head = self.head;
        let mut i = 0;
        self.slots.retain(|s| {
            i += 1;
            i <= head || s.as_ref().is_some_and(&mut keep)
        });
    }
}

impl<T> std::ops::Index<usize> for Fifo<T> {
    type Output = T;
    /// # Panics
    /// If `index` is not below [`Fifo::len`], like a slice.
    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(t) => t,
            None => panic!("index {index} out of a queue of {}", self.len()),
        }
    }
}

impl<T> std::ops::IndexMut<usize> for Fifo<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        let len = self.len();
        match self.get_mut(index) {
            Some(t) => t,
            None => panic!("index {index} out of a queue of {len}"),
        }
    }
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Clone for Fifo<T> {
    fn clone(&self) -> Self {
        let mut slots = SmallVec::new();
        if !self.is_empty() {
            slots.reserve_exact(self.len());
            for item in self.iter() {
                slots.push(Some(item.clone()));
            }
        }
        Fifo { slots, head: 0 }
    }
}

impl<T: PartialEq> PartialEq for Fifo<T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for Fifo<T> {}

impl<T: PartialOrd> PartialOrd for Fifo<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.iter().partial_cmp(other.iter())
    }
}

impl<T: Ord> Ord for Fifo<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl<T: Hash> Hash for Fifo<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for t in self.iter() {
            t.hash(state);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Fifo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> FromIterator<T> for Fifo<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Fifo {
            slots: iter.into_iter().map(Some).collect(),
            head: 0,
        }
    }
}

impl<T> Extend<T> for Fifo<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.slots.extend(iter.into_iter().map(Some));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Clone, Debug)]
    enum Op {
        Push(u8),
        Pop,
        Remove(usize),
        Retain(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u8>().prop_map(Op::Push),
            Just(Op::Pop),
            (0usize..6).prop_map(Op::Remove),
            any::<u8>().prop_map(Op::Retain),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vecdeque(ops in proptest::collection::vec(op(), 0..200)) {
            let mut f = Fifo::new();
            let mut d = VecDeque::new();
            for o in ops {
                match o {
                    Op::Push(x) => { f.push_back(x); d.push_back(x); }
                    Op::Pop => prop_assert_eq!(f.pop_front(), d.pop_front()),
                    Op::Remove(i) => prop_assert_eq!(f.remove(i), d.remove(i)),
                    Op::Retain(m) => { f.retain(|x| x % 3 != m % 3); d.retain(|x| x % 3 != m % 3); }
                }
                prop_assert_eq!(f.len(), d.len());
                prop_assert!(f.iter().eq(d.iter()));
                prop_assert_eq!(f.front(), d.front());
                let c = f.clone();
                prop_assert_eq!(&c, &f);
            }
        }
    }
}
