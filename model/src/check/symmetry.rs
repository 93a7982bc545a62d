//! The symmetry of interchangeable capabilities: a model's states are reduced to a canonical
//! representative by renaming capabilities.
//!
//! A model of the protocol treats its capabilities as interchangeable: two states that differ
//! only by a renaming of capabilities behave alike. [`canonical_permutation`] finds the renaming
//! that takes a state to the representative of its class, from the capability sets the state
//! holds ([`CapSets`], visited in a fixed, structural order); [`relabel`] applies it.

use capneg_reference::CapSets;

/// Renames every capability `i` of `value` to `perm[i]` (those outside `perm` are kept).
pub fn relabel(value: &mut (impl CapSets + ?Sized), perm: &[u32]) {
    value.each_set_mut(&mut |s| *s = s.permute(perm));
}

/// A renaming of capabilities: capability `i` becomes `perm[i]`.
pub type Permutation = smallvec::SmallVec<[u32; 8]>;

/// The renaming that takes `value` to the canonical representative of its symmetry class:
/// capabilities are sorted by their signature (their membership in every set `value` holds, in
/// visiting order). Capabilities with equal signatures are indistinguishable, so the result
/// does not depend on how ties are broken. Only capabilities below 64 are renamed.
pub fn canonical_permutation(value: &(impl CapSets + ?Sized)) -> Permutation {
    let mut masks: smallvec::SmallVec<[u64; 64]> = smallvec::SmallVec::new();
    value.each_set(&mut |s| masks.push(s.mask()));
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
    use capneg_reference::CapSet;

    #[test]
    fn renamed_values_share_a_representative() {
        let a: Vec<CapSet> = [0b011, 0b001, 0b100]
            .into_iter()
            .map(CapSet::from_mask)
            .collect();
        // The same shape with capabilities 0 and 2 swapped.
        let b: Vec<CapSet> = [0b110, 0b100, 0b001]
            .into_iter()
            .map(CapSet::from_mask)
            .collect();
        let canon = |v: &Vec<CapSet>| {
            let mut v = v.clone();
            let perm = canonical_permutation(&v);
            relabel(&mut v, &perm);
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
