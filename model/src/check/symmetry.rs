//! The symmetry of interchangeable capabilities: a model's states are reduced to a canonical
//! representative by renaming capabilities.
//!
//! A model of the protocol treats its capabilities as interchangeable: two states that differ
//! only by a renaming of capabilities behave alike. The representative of a state's class
//! sorts the capabilities by their signature: their membership in every set the state holds, in
//! a fixed, structural order. Capabilities with equal signatures are indistinguishable (renaming
//! one to the other changes no set), so ties do not matter and the representative is the same
//! for every state of a class: it is a complete canonical form, and the checker counts classes.
//!
//! The checker works on packed states, whose sets are a byte each in visiting order
//! ([`super::packed`]): [`canonicalize`] renames them there, with one pass over the bytes to
//! build the signatures and one to rename, and nothing to do when the capabilities are in order
//! already. [`canonical_permutation`] and [`relabel`] do the same on any value that holds sets
//! ([`CapSets`]); the tests check that both give the same representative.

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

/// Each capability's signature in `masks` (the sets of a packed state, one byte each, at most
/// 64): bit `63 - j` says whether it is in set `j`, so that comparing signatures compares the
/// memberships in visiting order. Also the capabilities in some set.
fn signatures(masks: &[u8]) -> ([u64; 8], u8) {
    debug_assert!(masks.len() <= 64, "one signature bit a set");
    let used = masks.iter().fold(0u8, |u, &m| u | m);
    // Capabilities from the highest in some set on are in none: their signatures stay zero.
    let n = 8 - used.leading_zeros() as usize;
    // Eight sets a word, set `j` of chunk `k` in byte `7 - j` (the first in the top byte).
    let mut words = [0u64; 8];
    let chunks = masks.chunks_exact(8);
    let rest = chunks.remainder();
    let mut count = 0;
    for chunk in chunks.take(8) {
        let mut rows = [0u8; 8];
        rows.copy_from_slice(chunk);
        words[count] = u64::from_be_bytes(rows);
        count += 1;
    }
    if !rest.is_empty() && count < 8 {
        // Byte by byte into a word (a copy into an array read back as a word would stall).
        words[count] = rest
            .iter()
            .enumerate()
            .fold(0u64, |word, (i, &m)| word | u64::from(m) << (56 - 8 * i));
        count += 1;
    }
    // Chunk `k` is byte `7 - k` of a signature: capability `c`'s bits of its word, gathered.
    let mut signatures = [0u64; 8];
    for (c, signature) in signatures.iter_mut().enumerate().take(n) {
        *signature = words[..count]
            .iter()
            .enumerate()
            .fold(0, |s, (k, &word)| s | gather(word >> c) << (56 - 8 * k));
    }
    (signatures, used)
}

/// The lowest bit of each byte of `x` gathered into one byte: byte `7 - j`'s at bit `7 - j`.
/// Bit `8m` times the constant's bit `56 - 7m` lands on bit `56 + m`; no two of the
/// products share a bit (`8m - 7m'` are all different), so nothing carries into the top byte.
fn gather(x: u64) -> u64 {
    (x & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// The capabilities a state cannot tell apart: those with equal signatures
/// ([`canonicalize`]). Swapping two of them changes no set of the state, so two actions that
/// differ only by such a swap lead to states of one symmetry class (the model's steps commute
/// with renamings: that is what makes the reduction sound). A checker that reduces by symmetry
/// needs only the first action of each such orbit: the others' states are duplicates of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Twins {
    /// Bit `d` of `lower[c]`: capability `d < c` has `c`'s signature.
    lower: [u8; 8],
}

impl Twins {
    /// The twins of the state whose packed sets are `masks`.
    pub fn of(masks: &[u8]) -> Self {
        let (signatures, _) = signatures(masks);
        let mut lower = [0u8; 8];
        for c in 1..8 {
            for d in 0..c {
                if signatures[d] == signatures[c] {
                    lower[c] |= 1 << d;
                }
            }
        }
        Twins { lower }
    }

    /// Keeps of `actions`, the actions of the state whose packed sets are `masks`, only the first
    /// of each orbit: those whose capabilities (`caps`; `None` for an action that names none)
    /// are [`first_of_orbit`](Twins::first_of_orbit).
    pub fn retain_first_of_orbits<A: Copy>(
        masks: &[u8],
        actions: &mut Vec<A>,
        caps: impl Fn(A) -> Option<u64>,
    ) {
        let twins = Twins::of(masks);
        actions.retain(|&a| caps(a).is_none_or(|c| twins.first_of_orbit(c)));
    }

    /// Whether `caps` is the first of its orbit, in increasing order of masks: within each class
    /// of twins it holds the lowest capabilities. Every subset of capabilities (a request, an
    /// answer, a decision) is one of an orbit whose first member is the smallest mask; for a
    /// single capability (a gated action), the lowest of its twins.
    pub fn first_of_orbit(&self, caps: u64) -> bool {
        let mut bits = caps & 0xff;
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if u64::from(self.lower[c]) & !caps != 0 {
                return false;
            }
        }
        true
    }
}

/// Renames the capabilities of `masks` (the sets of a packed state, one byte each, at most 64)
/// to those of the representative of its symmetry class: capability `c` becomes its rank when
/// capabilities are sorted by signature, largest first (the first set weighs most), ties in
/// index order. Whether anything changed.
pub fn canonicalize(masks: &mut [u8]) -> bool {
    let (signatures, used) = signatures(masks);
    // Capabilities in no set are last whatever their index, and renaming them changes nothing.
    let n = 8 - used.leading_zeros() as usize;
    let mut order = [0u8, 1, 2, 3, 4, 5, 6, 7];
    // Insertion sort: stable, so equal signatures stay in index order.
    for i in 1..n {
        let cap = order[i];
        let mut k = i;
        while k > 0 && signatures[usize::from(order[k - 1])] < signatures[usize::from(cap)] {
            order[k] = order[k - 1];
            k -= 1;
        }
        order[k] = cap;
    }
    if order[..n]
        .iter()
        .enumerate()
        .all(|(i, &c)| usize::from(c) == i)
    {
        return false;
    }
    let mut rank = [0u8; 8];
    for (r, &c) in order[..n].iter().enumerate() {
        rank[usize::from(c)] = r as u8;
    }
    for m in masks.iter_mut() {
        let mut bits = *m;
        let mut renamed = 0u8;
        while bits != 0 {
            renamed |= 1 << rank[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        *m = renamed;
    }
    true
}

/// The signatures of the capabilities of `masks` (the sets of a packed state, one byte each, at
/// most 64), largest first, and how many are not zero (the capabilities in some set). They are
/// the columns of the representative's sets ([`canonicalize`] sorts the capabilities by them),
/// so, with the number of sets, a complete invariant of the symmetry class: two lists of sets
/// of one length are renamings of each other exactly when their sorted signatures are equal.
/// Hashing them hashes the class without renaming the sets (`Packed`'s
/// [`Classed`](super::fingerprint::Classed)).
pub fn class_signatures(masks: &[u8]) -> ([u64; 8], usize) {
    let (mut signatures, used) = signatures(masks);
    let n = 8 - used.leading_zeros() as usize;
    // Insertion sort of the first `n` (those from `n` on are zero): largest first.
    for i in 1..n {
        let signature = signatures[i];
        let mut k = i;
        while k > 0 && signatures[k - 1] < signature {
            signatures[k] = signatures[k - 1];
            k -= 1;
        }
        signatures[k] = signature;
    }
    (signatures, used.count_ones() as usize)
}

/// Whether a renaming changes nothing.
pub fn is_identity(perm: &[u32]) -> bool {
    perm.iter().enumerate().all(|(i, &p)| p as usize == i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use capneg_reference::CapSet;
    use proptest::prelude::Just;
    use proptest::strategy::Strategy;

    /// The signatures by their definition: bit `63 - j` for membership in set `j`.
    fn naive_signatures(masks: &[u8]) -> ([u64; 8], u8) {
        let mut signatures = [0u64; 8];
        for (j, &m) in masks.iter().enumerate() {
            for (c, signature) in signatures.iter_mut().enumerate() {
                if m & 1 << c != 0 {
                    *signature |= 1 << (63 - j);
                }
            }
        }
        (signatures, masks.iter().fold(0, |u, &m| u | m))
    }

    proptest::proptest! {
        #[test]
        fn signatures_follow_their_definition(masks in proptest::collection::vec(0u8.., 0..=64)) {
            proptest::prop_assert_eq!(signatures(&masks), naive_signatures(&masks));
        }
    }

    proptest::proptest! {
        /// The sorted signatures are the representative's: equal exactly when the
        /// representatives are.
        #[test]
        fn sorted_signatures_are_the_representatives(
            a in proptest::collection::vec(0u8..16, 0..12),
            b in proptest::collection::vec(0u8..16, 0..12),
            perm in Just([0u32, 1, 2, 3, 4, 5, 6, 7]).prop_shuffle(),
        ) {
            let renamed: Vec<u8> = a
                .iter()
                .map(|&m| CapSet::from_mask(u64::from(m)).permute(&perm).mask() as u8)
                .collect();
            proptest::prop_assert_eq!(class_signatures(&a), class_signatures(&renamed));
            let canonical = |masks: &[u8]| {
                let mut masks = masks.to_vec();
                canonicalize(&mut masks);
                masks
            };
            let (sorted, k) = class_signatures(&a);
            proptest::prop_assert_eq!(sorted, signatures(&canonical(&a)).0);
            proptest::prop_assert!(sorted[k..].iter().all(|&s| s == 0));
            proptest::prop_assert!(sorted[..k].iter().all(|&s| s != 0));
            if a.len() == b.len() {
                proptest::prop_assert_eq!(
                    class_signatures(&a) == class_signatures(&b),
                    canonical(&a) == canonical(&b)
                );
            }
        }
    }

    #[test]
    fn twins_have_one_class_signature() {
        // Capabilities 0 and 2 swapped; and a different class of the same shape.
        let (a, _) = class_signatures(&[0b011, 0b001, 0b100]);
        let (b, _) = class_signatures(&[0b110, 0b100, 0b001]);
        let (c, k) = class_signatures(&[0b011, 0b100, 0b100]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(k, 3);
        assert_eq!(class_signatures(&[]), ([0; 8], 0));
    }

    #[test]
    fn gathers_the_lowest_bit_of_each_byte() {
        assert_eq!(gather(1), 1);
        assert_eq!(gather(1 << 56), 0x80);
        assert_eq!(gather(0x0101_0101_0101_0101), 0xff);
        assert_eq!(gather(0xfefe_fefe_fefe_fefe), 0);
        assert_eq!(gather(0x0100_0001_0000_0100), 0b1001_0010);
    }

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

    #[test]
    fn twins_keep_the_first_action_of_each_orbit() {
        // Capabilities 0 and 1 are in the first set, 2 in the second, 3 to 7 in none.
        let twins = Twins::of(&[0b011, 0b100]);
        assert!(twins.first_of_orbit(0b001));
        assert!(!twins.first_of_orbit(0b010), "1 without its lower twin 0");
        assert!(twins.first_of_orbit(0b011));
        assert!(twins.first_of_orbit(0b100), "2 has no twin");
        assert!(
            twins.first_of_orbit(0b1000),
            "3 is the lowest of those in no set"
        );
        assert!(!twins.first_of_orbit(0b1_0000), "4 is a twin of 3");
        assert!(twins.first_of_orbit(0b1_1101));
        assert!(!twins.first_of_orbit(0b1_0110));
        // No set: every capability is a twin of every other.
        let all = Twins::of(&[]);
        assert!(all.first_of_orbit(0b111) && !all.first_of_orbit(0b101));
    }

    proptest::proptest! {
        /// The packed renaming gives the representative the general one gives, and renamed
        /// masks share it.
        #[test]
        fn packed_masks_canonicalize_as_sets_do(
            masks in proptest::collection::vec(0u8..=255, 0..64),
            perm in Just([0u32, 1, 2, 3, 4, 5, 6, 7]).prop_shuffle(),
        ) {
            let sets: Vec<CapSet> = masks.iter().map(|&m| CapSet::from_mask(u64::from(m))).collect();
            let mut general = sets.clone();
            relabel(&mut general, &canonical_permutation(&sets));
            let mut packed = masks.clone();
            canonicalize(&mut packed);
            let expected: Vec<u8> = general.iter().map(|s| s.mask() as u8).collect();
            proptest::prop_assert_eq!(&packed, &expected);
            let mut renamed: Vec<u8> = sets
                .iter()
                .map(|s| s.permute(&perm).mask() as u8)
                .collect();
            canonicalize(&mut renamed);
            proptest::prop_assert_eq!(renamed, packed);
        }
    }
}
