//! Renaming capabilities throughout a state: the symmetry of interchangeable capabilities.
//!
//! A model of the protocol treats its capabilities as interchangeable: two states that differ
//! only by a renaming of capabilities behave alike. [`Relabel`] lets a model reduce every state
//! to a canonical representative ([`canonical_permutation`]), visiting every capability set a
//! state holds in a fixed, structural order.

use crate::caps::CapSet;
use crate::client::{Client, Pending, Policy, Prompting};
use crate::msg::{Body, Data, Msg, Reply};
use crate::widget::WidgetSession;

/// A value holding capability sets.
pub trait Relabel {
    /// Calls `f` on every capability set held, in a fixed order that depends only on the
    /// value's shape.
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet));
    /// Renames every capability `i` to `perm[i]`.
    fn relabel(&mut self, perm: &[u32]);
}

impl Relabel for CapSet {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        f(self)
    }
    fn relabel(&mut self, perm: &[u32]) {
        *self = self.permute(perm);
    }
}

impl<T: Relabel> Relabel for Option<T> {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        if let Some(t) = self {
            t.visit_sets(f)
        }
    }
    fn relabel(&mut self, perm: &[u32]) {
        if let Some(t) = self {
            t.relabel(perm)
        }
    }
}

impl<T: Relabel> Relabel for std::collections::VecDeque<T> {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        self.iter().for_each(|t| t.visit_sets(f))
    }
    fn relabel(&mut self, perm: &[u32]) {
        self.iter_mut().for_each(|t| t.relabel(perm))
    }
}

impl<T: Relabel> Relabel for crate::fifo::Fifo<T> {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        self.iter().for_each(|t| t.visit_sets(f))
    }
    fn relabel(&mut self, perm: &[u32]) {
        self.iter_mut().for_each(|t| t.relabel(perm))
    }
}

impl<T: Relabel> Relabel for Vec<T> {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        self.iter().for_each(|t| t.visit_sets(f))
    }
    fn relabel(&mut self, perm: &[u32]) {
        self.iter_mut().for_each(|t| t.relabel(perm))
    }
}

impl<T: Relabel, E> Relabel for Result<T, E> {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        if let Ok(t) = self {
            t.visit_sets(f)
        }
    }
    fn relabel(&mut self, perm: &[u32]) {
        if let Ok(t) = self {
            t.relabel(perm)
        }
    }
}

impl Relabel for Data {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        match self {
            Data::Notify {
                requested,
                approved,
            } => {
                f(requested);
                f(approved)
            }
            Data::Capabilities(s) | Data::Gated(s) => f(s),
            Data::Empty | Data::Invalid => {}
        }
    }
    fn relabel(&mut self, perm: &[u32]) {
        match self {
            Data::Notify {
                requested,
                approved,
            } => {
                requested.relabel(perm);
                approved.relabel(perm)
            }
            Data::Capabilities(s) | Data::Gated(s) => s.relabel(perm),
            Data::Empty | Data::Invalid => {}
        }
    }
}

impl Relabel for Reply {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        if let Reply::Capabilities(s) = self {
            f(s)
        }
    }
    fn relabel(&mut self, perm: &[u32]) {
        if let Reply::Capabilities(s) = self {
            s.relabel(perm)
        }
    }
}

impl Relabel for Msg {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        match &self.body {
            Body::Request(d) => d.visit_sets(f),
            Body::Response(r) => r.visit_sets(f),
        }
    }
    fn relabel(&mut self, perm: &[u32]) {
        match &mut self.body {
            Body::Request(d) => d.relabel(perm),
            Body::Response(r) => r.relabel(perm),
        }
    }
}

impl Relabel for Policy {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        f(&self.auto_approve)
    }
    fn relabel(&mut self, perm: &[u32]) {
        self.auto_approve.relabel(perm)
    }
}

impl Relabel for Pending {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        f(&self.list)
    }
    fn relabel(&mut self, perm: &[u32]) {
        self.list.relabel(perm)
    }
}

impl Relabel for Prompting {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        f(&self.list);
        f(&self.new);
        f(&self.auto);
        f(&self.asked)
    }
    fn relabel(&mut self, perm: &[u32]) {
        self.list.relabel(perm);
        self.new.relabel(perm);
        self.auto.relabel(perm);
        self.asked.relabel(perm)
    }
}

impl Relabel for Client {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        let (approved, requested, declined, prompting, queued) = self.parts();
        f(approved);
        f(requested);
        f(declined);
        prompting.visit_sets(f);
        queued.visit_sets(f);
    }
    fn relabel(&mut self, perm: &[u32]) {
        let (approved, requested, declined, prompting, queued) = self.parts_mut();
        approved.relabel(perm);
        requested.relabel(perm);
        declined.relabel(perm);
        prompting.relabel(perm);
        queued.relabel(perm);
    }
}

impl Relabel for WidgetSession {
    fn visit_sets(&self, f: &mut dyn FnMut(&CapSet)) {
        let (initial, view, requested) = self.parts();
        f(initial);
        f(view);
        f(requested)
    }
    fn relabel(&mut self, perm: &[u32]) {
        let (initial, view, requested) = self.parts_mut();
        initial.relabel(perm);
        view.relabel(perm);
        requested.relabel(perm)
    }
}

/// A renaming of capabilities: capability `i` becomes `perm[i]`.
pub type Permutation = smallvec::SmallVec<[u32; 8]>;

/// The renaming that takes `value` to the canonical representative of its symmetry class:
/// capabilities are sorted by their signature (their membership in every set `value` holds, in
/// visiting order). Capabilities with equal signatures are indistinguishable, so the result
/// does not depend on how ties are broken. Only capabilities below 64 are renamed.
pub fn canonical_permutation(value: &impl Relabel) -> Permutation {
    let mut masks: smallvec::SmallVec<[u64; 64]> = smallvec::SmallVec::new();
    value.visit_sets(&mut |s| masks.push(s.mask()));
    let used = masks.iter().fold(0u64, |a, m| a | m);
    let n = 64 - used.leading_zeros() as usize;
    // Each capability's signature, packed 64 sets to a word, first set in the highest bit, so
    // that comparing the words compares the signatures in visiting order.
    let words = masks.len().div_ceil(64).max(1);
    let mut signatures: smallvec::SmallVec<[u64; 16]> = smallvec::smallvec![0; n * words];
    for (j, m) in masks.iter().enumerate() {
        let (word, bit) = (j / 64, 63 - j % 64);
        let mut bits = *m;
        while bits != 0 {
            let cap = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            signatures[cap * words + word] |= 1 << bit;
        }
    }
    let signature = |cap: usize| &signatures[cap * words..(cap + 1) * words];
    let mut order: smallvec::SmallVec<[usize; 8]> = (0..n).collect();
    order.sort_by(|&a, &b| signature(b).cmp(signature(a)).then(a.cmp(&b)));
    let mut perm: Permutation = smallvec::smallvec![0; n];
    for (rank, &cap) in order.iter().enumerate() {
        perm[cap] = rank as u32;
    }
    perm
}

/// Whether a renaming changes nothing.
pub fn is_identity(perm: &[u32]) -> bool {
    perm.iter().enumerate().all(|(i, &p)| p as usize == i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn renamed_values_share_a_representative() {
        let a: VecDeque<CapSet> = [0b011, 0b001, 0b100]
            .into_iter()
            .map(CapSet::from_mask)
            .collect();
        // The same shape with capabilities 0 and 2 swapped.
        let b: VecDeque<CapSet> = [0b110, 0b100, 0b001]
            .into_iter()
            .map(CapSet::from_mask)
            .collect();
        let canon = |v: &VecDeque<CapSet>| {
            let mut v = v.clone();
            let perm = canonical_permutation(&v);
            v.relabel(&perm);
            v
        };
        assert_eq!(canon(&a), canon(&b));
        assert_ne!(
            canon(&a),
            canon(
                &[0b011, 0b100, 0b100]
                    .into_iter()
                    .map(CapSet::from_mask)
                    .collect()
            )
        );
    }
}
