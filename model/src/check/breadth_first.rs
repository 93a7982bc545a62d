//! The search for a shortest counterexample: breadth first, one level of depth at a time,
//! reduced by the symmetry of interchangeable capabilities (docs/model.md, "Reductions").
//!
//! stateright's breadth-first checker does not reduce by symmetry (it ignores
//! `CheckerBuilder::symmetry`), so it holds every renaming of every state up to the depth of
//! the counterexample: at 3 capabilities about three times the states of the reduced run, at 4
//! about ten. This search keeps one state of each class, as the exhaustive run does. A renaming
//! of capabilities keeps the length of a path and the rules it breaks, so the shallowest class
//! where a rule is broken holds the ends of the shortest paths that break it, and the path found
//! is one of them.
//!
//! What it keeps: the fingerprint of each class seen, how each state was reached (its parent and
//! the action, to rebuild the path), and the states of two levels, the one being expanded and the
//! next. It runs on one thread in a fixed order (initial states, then actions as the model lists
//! them), so the same model always gives the same path.

use super::fingerprint::{fingerprint, Classed, Fingerprints};
use stateright::Model;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a state was reached.
enum Link<A> {
    /// It is initial state number `.0`.
    Root(usize),
    /// It follows the state of node `parent` by `action`.
    Step { parent: usize, action: A },
}

/// A path: an initial state and the actions taken from it.
pub type Path<M> = (<M as Model>::State, Vec<<M as Model>::Action>);

/// A shortest path of `model` to a state where `broken` holds, from the first initial state on
/// which one starts; `None` if there is none (within the model's boundary). With `symmetry`,
/// states are told apart up to a renaming of capabilities (their class:
/// [`Classed`]). `unique` counts the states kept, for progress reports.
pub fn shortest_path<M>(
    model: &M,
    broken: impl Fn(&M::State) -> bool,
    symmetry: bool,
    unique: &AtomicUsize,
) -> Option<Path<M>>
where
    M: Model,
    M::State: Classed + Clone,
    M::Action: Clone,
{
    let fingerprint = |state: &M::State| fingerprint(state, symmetry);
    let roots = model.init_states();
    let mut seen = Fingerprints::default();
    let mut links: Vec<Link<M::Action>> = Vec::new();
    let mut level: Vec<(M::State, usize)> = Vec::new();
    for (i, root) in roots.iter().enumerate() {
        if !model.within_boundary(root) || !seen.insert(fingerprint(root)) {
            continue;
        }
        links.push(Link::Root(i));
        if broken(root) {
            return Some(path(&roots, &links, links.len() - 1));
        }
        level.push((root.clone(), links.len() - 1));
    }
    unique.store(seen.len(), Ordering::Relaxed);
    let mut actions = Vec::new();
    let mut next = Vec::new();
    while !level.is_empty() {
        for (state, node) in level.drain(..) {
            actions.clear();
            model.actions(&state, &mut actions);
            for action in actions.drain(..) {
                let Some(after) = model.next_state(&state, action.clone()) else {
                    continue;
                };
                if !model.within_boundary(&after) || !seen.insert(fingerprint(&after)) {
                    continue;
                }
                links.push(Link::Step {
                    parent: node,
                    action,
                });
                if broken(&after) {
                    unique.store(seen.len(), Ordering::Relaxed);
                    return Some(path(&roots, &links, links.len() - 1));
                }
                next.push((after, links.len() - 1));
            }
            unique.store(seen.len(), Ordering::Relaxed);
        }
        std::mem::swap(&mut level, &mut next);
    }
    None
}

/// The path to node `end`: its initial state and its actions in order.
fn path<S: Clone, A: Clone>(roots: &[S], links: &[Link<A>], end: usize) -> (S, Vec<A>) {
    let mut actions = Vec::new();
    let mut node = end;
    loop {
        match &links[node] {
            Link::Root(i) => {
                actions.reverse();
                return (roots[*i].clone(), actions);
            }
            Link::Step { parent, action } => {
                actions.push(action.clone());
                node = *parent;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two counters, each stepped by one up to 3; a state is broken where both reach `at`.
    /// Swapping the counters is the symmetry.
    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    struct Pair(u8, u8);

    impl stateright::Representative for Pair {
        fn representative(&self) -> Self {
            Pair(self.0.max(self.1), self.0.min(self.1))
        }
    }

    impl Classed for Pair {}

    struct Counters;

    impl Model for Counters {
        type State = Pair;
        type Action = bool;
        fn init_states(&self) -> Vec<Pair> {
            vec![Pair(0, 0)]
        }
        fn actions(&self, s: &Pair, actions: &mut Vec<bool>) {
            if s.0 < 3 {
                actions.push(false);
            }
            if s.1 < 3 {
                actions.push(true);
            }
        }
        fn next_state(&self, s: &Pair, second: bool) -> Option<Pair> {
            Some(if second {
                Pair(s.0, s.1 + 1)
            } else {
                Pair(s.0 + 1, s.1)
            })
        }
    }

    #[test]
    fn the_path_found_is_a_shortest_one_and_the_same_with_or_without_symmetry() {
        for symmetry in [false, true] {
            let unique = AtomicUsize::new(0);
            let (init, actions) =
                shortest_path(&Counters, |s| s.0 == 2 && s.1 == 2, symmetry, &unique).unwrap();
            assert_eq!(init, Pair(0, 0));
            assert_eq!(actions.len(), 4, "{actions:?}");
            let end = actions
                .iter()
                .fold(init, |s, &a| Counters.next_state(&s, a).unwrap());
            assert_eq!(end, Pair(2, 2));
            // Unreduced, every pair up to (2, 2) but that one is kept before it is reached;
            // reduced, one of each unordered pair.
            let kept = unique.load(Ordering::Relaxed);
            assert!(if symmetry { kept <= 10 } else { kept > 10 }, "{kept}");
        }
    }

    #[test]
    fn no_path_is_none() {
        let unique = AtomicUsize::new(0);
        assert!(shortest_path(&Counters, |s| s.0 == 4, true, &unique).is_none());
        assert_eq!(
            unique.load(Ordering::Relaxed),
            10,
            "the classes of pairs up to (3, 3)"
        );
    }
}
