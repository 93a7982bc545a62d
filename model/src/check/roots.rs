//! The exhaustive run, one search per root (docs/model.md, "Threads").
//!
//! The initial states of a model (its session settings) are independent roots of the search:
//! the settings are part of every state and no two are images of each other under the symmetry
//! of capabilities, so no state is reachable from two of them ([`Checked::disjoint_roots`]). With
//! several threads, [`explore`] therefore gives each thread whole roots to search alone, one
//! after another, with capneg's own depth-first search ([`depth_first`]), instead of one checker
//! whose threads share a queue and a set of fingerprints. Nothing is then shared but the
//! [`Watch`], and a root's states are counted once, as in a single run. On one thread, the same
//! search takes every root in one run. A model whose roots share states (the widget model's:
//! the application's first requests, symmetric images of each other), or with a single root,
//! is checked on several threads by stateright's depth-first checker, its threads sharing one
//! queue and one table of fingerprints.

use super::breadth_first::Path;
use super::depth_first::{DepthFirst, Searched};
use super::{
    announce, run, wait, CheckConfig, Checked, Part, Phase, Progress, Stoppable, Watch, NEVER,
};
use stateright::{Checker, HasDiscoveries, Model};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What an exhaustive run found.
pub(super) struct Explored<M: Checked> {
    /// States generated.
    pub generated: usize,
    /// Unique states.
    pub unique: usize,
    /// The longest path.
    pub max_depth: usize,
    /// Whether every search ran to its end (it may still have been stopped: see `stopped`).
    pub done: bool,
    /// Whether the run was stopped before it ended.
    pub stopped: bool,
    /// A path to each rule found broken, where a search recorded one.
    pub discoveries: HashMap<&'static str, Path<M>>,
}

impl<M: Checked> Explored<M> {
    fn empty() -> Self {
        Explored {
            generated: 0,
            unique: 0,
            max_depth: 0,
            done: true,
            stopped: false,
            discoveries: HashMap::new(),
        }
    }

    /// Adds what stateright's `checker` found.
    fn add_checker(&mut self, checker: &impl Checker<Stoppable<M>>) {
        self.generated += checker.state_count();
        self.unique += checker.unique_state_count();
        self.max_depth = self.max_depth.max(checker.max_depth());
        self.done &= checker.is_done();
        for (name, path) in checker.discoveries() {
            let mut steps = path.into_vec().into_iter();
            let Some((init, first)) = steps.next() else {
                continue;
            };
            let actions = first
                .into_iter()
                .chain(steps.filter_map(|(_, a)| a))
                .collect();
            self.discoveries.entry(name).or_insert((init, actions));
        }
    }

    /// Adds what a [`DepthFirst`] search found.
    fn add_search(&mut self, searched: Searched<M>) {
        self.generated += searched.generated;
        self.unique += searched.unique;
        self.max_depth = self.max_depth.max(searched.max_depth);
        self.done &= !searched.halted;
        for (name, path) in searched.discoveries {
            self.discoveries.entry(name).or_insert(path);
        }
    }
}

/// The exhaustive run of `model` over the roots of `config`'s part (all if none), on its
/// threads, with or without the symmetry reduction, watched by `watch`; stopped once `stop` is
/// set.
pub(super) fn explore<M: Checked>(
    model: &M,
    config: &CheckConfig,
    symmetry: bool,
    watch: &Arc<Watch>,
    stop: &AtomicBool,
    phase: Phase,
    progress: &mut dyn FnMut(Progress),
) -> Explored<M> {
    let (part, threads) = (config.part, config.threads.max(1));
    let all_roots = model.init_states().len();
    let roots: Vec<usize> = (0..all_roots)
        .filter(|&i| part.is_none_or(|p| p.has(i)))
        .collect();
    let halt = Arc::new(AtomicBool::new(false));
    let model = if symmetry {
        model.first_of_orbits()
    } else {
        model.clone()
    };
    if threads > 1 && (roots.len() <= 1 || !model.disjoint_roots()) {
        let (checker, stopped) = run(
            || {
                let builder = Stoppable::new(model.clone(), &halt)
                    .part(part)
                    .watched(watch)
                    .checker()
                    .threads(threads)
                    .finish_when(HasDiscoveries::AnyOf(BTreeSet::from([NEVER])));
                if symmetry {
                    builder.symmetry().spawn_dfs()
                } else {
                    builder.spawn_dfs()
                }
            },
            &halt,
            stop,
            phase,
            progress,
        );
        let mut explored = Explored::empty();
        explored.add_checker(&checker);
        explored.stopped = stopped;
        return explored;
    }
    // The searches: on one thread, one of the whole part; else one of each root.
    let searches: Vec<Option<Part>> = if threads == 1 {
        vec![part]
    } else {
        roots
            .iter()
            .map(|&root| {
                // Exactly this root: its place in a part of as many as there are roots.
                Some(Part {
                    index: root + 1,
                    count: all_roots,
                })
            })
            .collect()
    };
    // No more workers than searches: a part of fewer roots than threads needs fewer.
    let workers = threads.min(searches.len()).max(1);
    let next = AtomicUsize::new(0);
    let working = AtomicUsize::new(workers);
    // The unique states of the search each thread is running (those of the searches ended are
    // in `explored`).
    let running: Vec<AtomicUsize> = (0..workers).map(|_| AtomicUsize::new(0)).collect();
    let explored = Mutex::new(Explored::empty());
    let start = announce(phase, &halt, stop, progress);
    std::thread::scope(|scope| {
        for slot in &running {
            let (next, working) = (&next, &working);
            let (explored, halt, searches) = (&explored, &halt, &searches);
            let model = &model;
            scope.spawn(move || {
                let mut search = DepthFirst::default();
                while let Some(&only) = searches.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if halt.load(Ordering::Relaxed) {
                        lock(explored).done = false;
                        break;
                    }
                    let searched = Stoppable::new(model.clone(), halt).part(only);
                    let searched = search.run(&searched, symmetry, watch, slot);
                    let mut explored = lock(explored);
                    explored.add_search(searched);
                    slot.store(0, Ordering::Relaxed);
                }
                working.fetch_sub(1, Ordering::Release);
            });
        }
        // This thread reports progress and passes a stop on, until every search has ended.
        wait(
            start,
            || working.load(Ordering::Acquire) == 0,
            || {
                lock(&explored).unique
                    + running
                        .iter()
                        .map(|r| r.load(Ordering::Relaxed))
                        .sum::<usize>()
            },
            &halt,
            stop,
            phase,
            progress,
        );
    });
    let mut explored = explored.into_inner().unwrap_or_else(|e| e.into_inner());
    explored.stopped = halt.load(Ordering::Relaxed);
    explored
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
