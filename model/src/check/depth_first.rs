//! The exhaustive run's search on one thread: depth first, reduced by the symmetry of
//! interchangeable capabilities or not (docs/model.md, "The search").
//!
//! It explores what stateright's depth-first checker explores, state for state: the same
//! initial states (every one within the boundary, twins of each other included), the same
//! actions in the model's order, a state kept where its fingerprint (of its representative,
//! with symmetry) is new and the state itself, not its representative, explored on, so the
//! same counts of states generated and unique and the same longest path
//! (`the_own_search_explores_what_stateright_explores` holds it to stateright's, profile by
//! profile, client by client, widget by widget). What it leaves out is what a run on one thread
//! does not need: a queue shared between threads, the path of fingerprints each pending state
//! carries, a table of fingerprints made for concurrent writers, a second hash of each state,
//! and the properties' table looked up at each state. The rules and goals are judged by the run's
//! [`Watch`] alone.
//!
//! The path to the state being explored is the chain of states above it on the stack; it is
//! kept (`trail`: how each was reached) so that a rule found broken has a path at once, as
//! stateright records one, for a check stopped before its search for a shortest one ends.

use super::breadth_first::Path;
use super::fingerprint::{fingerprint, Classed, Fingerprints};
use super::{Checked, Stoppable, Watch};
use stateright::{Expectation, Model};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a search found.
pub(super) struct Searched<M: Model> {
    /// States generated: the initial states within the boundary and every state an action led
    /// to within it, seen before or not.
    pub generated: usize,
    /// Unique states (classes, with symmetry).
    pub unique: usize,
    /// The longest path, counted in states (an initial state alone: 1).
    pub max_depth: usize,
    /// Whether the search was stopped before its end.
    pub halted: bool,
    /// A path to the first state found breaking a rule, for each rule the watch had no path of
    /// yet, by the rule's name.
    pub discoveries: Vec<(&'static str, Path<M>)>,
}

/// How a state was reached.
#[derive(Clone)]
enum Via<A> {
    /// It is initial state number `.0`.
    Root(usize),
    /// By this action from the state above it.
    Step(A),
}

/// A state waiting to be explored.
#[derive(Clone)]
struct Pending<S, A> {
    state: S,
    /// The length of its path, in states.
    depth: usize,
    via: Via<A>,
}

/// How often (in states explored) the search publishes its count of unique states.
const PUBLISH_EVERY: usize = 4096;

/// capneg's depth-first search, with the memory it keeps from one run to the next (the stack and
/// the buffers keep their room, so that a thread searching one root after another grows them
/// once; the table of fingerprints is new for each run).
pub(super) struct DepthFirst<S, A> {
    seen: Fingerprints,
    stack: Vec<Pending<S, A>>,
    /// How each state on the path to the state being explored was reached, from its root.
    trail: Vec<Via<A>>,
    actions: Vec<A>,
    /// The fingerprints of the children of the state being explored.
    prints: Vec<u64>,
}

impl<S, A> Default for DepthFirst<S, A> {
    fn default() -> Self {
        DepthFirst {
            seen: Fingerprints::default(),
            stack: Vec::new(),
            trail: Vec::new(),
            actions: Vec::new(),
            prints: Vec::new(),
        }
    }
}

impl<S: Classed + Clone, A: Clone> DepthFirst<S, A> {
    /// Explores every state of `m` (within its part and boundary) on this thread, judging each
    /// by `watch`, until the end or until `m` is halted. `unique` follows the count of unique
    /// states, for progress reports.
    ///
    /// # Panics
    /// If `m` has an `eventually` property: this search judges states one by one (the models
    /// of `capneg check` have none).
    pub fn run<M: Checked<State = S, Action = A>>(
        &mut self,
        m: &Stoppable<M>,
        symmetry: bool,
        watch: &Watch,
        unique: &AtomicUsize,
    ) -> Searched<M> {
        assert!(
            m.properties
                .iter()
                .all(|(e, _, _)| *e != Expectation::Eventually),
            "the search judges states one by one: no `eventually` property"
        );
        let DepthFirst {
            seen,
            stack,
            trail,
            actions,
            prints,
        } = self;
        // A new table: one kept from a larger root would stay allocated beside the other
        // threads' (at the larger bounds the tables are most of the memory).
        *seen = Fingerprints::default();
        stack.clear();
        trail.clear();
        let roots: Vec<S> = m
            .init_states()
            .into_iter()
            .filter(|s| m.model.within_boundary(s))
            .collect();
        for (i, root) in roots.iter().enumerate() {
            seen.insert(fingerprint(root, symmetry));
            stack.push(Pending {
                state: root.clone(),
                depth: 1,
                via: Via::Root(i),
            });
        }
        let mut found = Searched {
            generated: roots.len(),
            unique: 0,
            max_depth: 0,
            halted: false,
            discoveries: Vec::new(),
        };
        let mut explored = 0usize;
        while let Some(Pending { state, depth, via }) = stack.pop() {
            if m.halted() {
                found.halted = true;
                break;
            }
            found.max_depth = found.max_depth.max(depth);
            trail.truncate(depth - 1);
            trail.push(via);
            let new = watch.note(m, &state);
            if new != 0 {
                record(m, watch, new, &roots, trail, &mut found.discoveries);
            }
            // The children go on the stack at once, and the table is looked up for all of them
            // together: at the larger bounds it is larger than the caches, and lookups one after
            // another would wait for memory in turn. Those seen before are taken off again.
            let first = stack.len();
            m.model.expand(&state, actions, &mut |action, next| {
                if !m.model.within_boundary(next) {
                    return;
                }
                prints.push(fingerprint(next, symmetry));
                stack.push(Pending {
                    state: next.clone(),
                    depth: depth + 1,
                    via: Via::Step(action),
                });
            });
            found.generated += prints.len();
            let mut kept = first;
            for (i, print) in prints.drain(..).enumerate() {
                if seen.insert(print) {
                    if kept != first + i {
                        stack[kept] = stack[first + i].clone();
                    }
                    kept += 1;
                }
            }
            stack.truncate(kept);
            explored += 1;
            if explored % PUBLISH_EVERY == 0 {
                unique.store(seen.len(), Ordering::Relaxed);
            }
        }
        found.unique = seen.len();
        unique.store(found.unique, Ordering::Relaxed);
        found
    }
}

/// Records the path of `trail` for each rule among the properties `new` (bits by index) that
/// has none yet.
fn record<M>(
    m: &Stoppable<M>,
    watch: &Watch,
    new: u32,
    roots: &[M::State],
    trail: &[Via<M::Action>],
    discoveries: &mut Vec<(&'static str, Path<M>)>,
) where
    M: Model,
    M::State: Clone,
    M::Action: Clone,
{
    for (i, (expectation, name, _)) in m.properties.iter().enumerate() {
        if new & 1 << i == 0 || *expectation != Expectation::Always || !watch.claim(i) {
            continue;
        }
        let mut steps = trail.iter();
        let Some(Via::Root(root)) = steps.next() else {
            unreachable!("a trail starts at an initial state")
        };
        let actions = steps
            .map(|via| match via {
                Via::Step(action) => action.clone(),
                Via::Root(_) => unreachable!("only the first of a trail is an initial state"),
            })
            .collect();
        discoveries.push((name, (roots[*root].clone(), actions)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{Bounds, SessionModel};
    use crate::check::widget_model::WidgetModel;
    use crate::check::Checked;
    use crate::rules::mutants::ClientKind;
    use crate::rules::widget_mutants::WidgetMutant;
    use capneg_reference::Profile;
    use stateright::{Checker, HasDiscoveries};
    use std::collections::BTreeSet;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// Runs `model` through stateright's depth-first checker and through [`DepthFirst`], with
    /// or without symmetry, and requires the same counts and discoveries; each path recorded
    /// must end in a state that breaks its rule. The number of paths recorded.
    fn alike<M: Checked>(model: M, symmetry: bool, what: &str) -> usize {
        let model = if symmetry {
            model.first_of_orbits()
        } else {
            model
        };
        let halt = Arc::new(AtomicBool::new(false));
        let builder = Stoppable::new(model.clone(), &halt)
            .checker()
            .finish_when(HasDiscoveries::AnyOf(BTreeSet::from(["(never)"])));
        let theirs = if symmetry {
            builder.symmetry().spawn_dfs()
        } else {
            builder.spawn_dfs()
        }
        .join();
        let searched = Stoppable::new(model, &halt);
        let watch = Watch::default();
        let unique = AtomicUsize::new(0);
        let ours = DepthFirst::default().run(&searched, symmetry, &watch, &unique);
        assert_eq!(
            (ours.generated, ours.unique, ours.max_depth, ours.halted),
            (
                theirs.state_count(),
                theirs.unique_state_count(),
                theirs.max_depth(),
                false
            ),
            "{what}, symmetry {symmetry}: generated, unique, depth"
        );
        assert_eq!(unique.load(Ordering::Relaxed), ours.unique, "{what}");
        let seen = watch.seen.load(Ordering::Relaxed);
        let found: BTreeSet<&str> = searched
            .properties
            .iter()
            .enumerate()
            .filter(|(i, _)| seen & 1 << i != 0)
            .map(|(_, (_, name, _))| *name)
            .collect();
        let expected: BTreeSet<&str> = theirs.discoveries().into_keys().collect();
        assert_eq!(found, expected, "{what}, symmetry {symmetry}: discoveries");
        let broken: BTreeSet<&str> = searched
            .properties
            .iter()
            .filter(|(e, name, _)| *e == Expectation::Always && found.contains(name))
            .map(|(_, name, _)| *name)
            .collect();
        let recorded: BTreeSet<&str> = ours.discoveries.iter().map(|(name, _)| *name).collect();
        assert_eq!(recorded, broken, "{what}: a path for each rule broken");
        for (name, (init, actions)) in &ours.discoveries {
            let end = actions.iter().fold(init.clone(), |s, a| {
                searched
                    .model
                    .next_state(&s, a.clone())
                    .expect("a recorded step")
            });
            let (_, _, holds) = searched
                .properties
                .iter()
                .find(|(_, n, _)| n == name)
                .expect("a property");
            assert!(
                !holds(&searched.model, &end),
                "{what}: the path breaks {name}"
            );
        }
        ours.discoveries.len()
    }

    /// Expands the first `n` states `model` reaches (depth first), each also by asking for its
    /// actions and then for each next state, and requires the same actions and states, in the
    /// same order. The number of steps compared.
    fn expands_alike<M: Checked>(model: M, n: usize) -> usize {
        let mut stack = model.init_states();
        let (mut actions, mut asked, mut compared) = (Vec::new(), Vec::new(), 0);
        for _ in 0..n {
            let Some(state) = stack.pop() else { break };
            let mut expanded = Vec::new();
            model.expand(&state, &mut actions, &mut |a, s| {
                expanded.push((a, s.clone()))
            });
            model.actions(&state, &mut asked);
            let stepped: Vec<_> = asked
                .drain(..)
                .filter_map(|a| Some((a.clone(), model.next_state(&state, a)?)))
                .collect();
            assert_eq!(expanded, stepped, "{state:?}");
            compared += expanded.len();
            stack.extend(expanded.into_iter().map(|(_, s)| s));
        }
        compared
    }

    #[test]
    fn expanding_a_state_is_asking_for_its_actions_and_steps() {
        let bounds = Bounds::default();
        let mut compared = 0;
        for client in ClientKind::all() {
            let model = SessionModel::new(client, Profile::MSC, Profile::MSC, bounds);
            compared += expands_alike(model.first_of_orbits(), 2000);
            compared += expands_alike(model, 500);
        }
        for widget in std::iter::once(None).chain(WidgetMutant::ALL.map(Some)) {
            let model = WidgetModel::new(widget, Profile::MSC, bounds);
            compared += expands_alike(model.first_of_orbits(), 2000);
        }
        assert!(compared > 10_000, "{compared} steps compared");
    }

    #[test]
    fn the_own_search_explores_what_stateright_explores() {
        let bounds = Bounds {
            caps: 2,
            rounds: 1,
            gated: 1,
        };
        let mut paths = 0;
        for profile in Profile::ALL {
            for client in ClientKind::all() {
                let model = SessionModel::new(client, profile, Profile::MSC, bounds);
                for symmetry in [true, false] {
                    paths += alike(model.clone(), symmetry, &format!("{client:?} {profile}"));
                }
            }
            for widget in std::iter::once(None).chain(WidgetMutant::ALL.map(Some)) {
                let model = WidgetModel::new(widget, profile, bounds);
                for symmetry in [true, false] {
                    paths += alike(model.clone(), symmetry, &format!("{widget:?} {profile}"));
                }
            }
        }
        // The mutants and the profiles other than msc break rules: their paths were replayed.
        assert!(paths > 100, "{paths} paths recorded");
    }
}
