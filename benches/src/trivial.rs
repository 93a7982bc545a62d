//! A stateright model with nothing in it: `counters` small counters, each step increments one,
//! until their sum reaches `total`. It has as many states as the number of ways to write a sum
//! of at most `total` as `counters` parts; the default (8 counters, total 13) has 203,490 states
//! and depth 13, like `capneg check` at its default bounds (239,196 states, depth 13). Checking it
//! measures what stateright itself costs per state (its job queue, the path kept with each job,
//! fingerprints and the shared set of them, properties), with states that cost almost nothing to
//! clone, hash and step.

use stateright::{Model, Property, Representative};

/// The counters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Counters(pub [u8; 8]);

/// Symmetry reduction the way `capneg check` asks for it, with a representative that changes
/// nothing: the checker does the same bookkeeping (a representative and its fingerprint for every
/// state) and the state count stays the model's.
impl Representative for Counters {
    fn representative(&self) -> Self {
        self.clone()
    }
}

/// The model.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    /// How many counters move (at most 8).
    pub counters: usize,
    /// The largest sum of the counters.
    pub total: u32,
}

impl Default for Grid {
    fn default() -> Self {
        Grid {
            counters: 8,
            total: 13,
        }
    }
}

impl Grid {
    /// The number of states: the compositions of a sum of at most `total` into `counters` parts,
    /// `C(total + counters, counters)`.
    pub fn states(&self) -> u64 {
        let (n, k) = (
            u64::from(self.total) + self.counters as u64,
            self.counters as u64,
        );
        (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
    }
}

fn sum(s: &Counters) -> u32 {
    s.0.iter().map(|&c| u32::from(c)).sum()
}

impl Model for Grid {
    type State = Counters;
    type Action = u8;

    fn init_states(&self) -> Vec<Counters> {
        vec![Counters([0; 8])]
    }

    fn actions(&self, state: &Counters, actions: &mut Vec<u8>) {
        if sum(state) < self.total {
            actions.extend(0..self.counters.min(8) as u8);
        }
    }

    fn next_state(&self, state: &Counters, action: u8) -> Option<Counters> {
        let mut next = state.clone();
        next.0[usize::from(action)] += 1;
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("sum within the total", |m: &Grid, s: &Counters| {
                sum(s) <= m.total
            }),
            Property::sometimes("total reached", |m: &Grid, s: &Counters| sum(s) == m.total),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Checker;

    #[test]
    fn counts_its_states() {
        let grid = Grid {
            counters: 4,
            total: 5,
        };
        assert_eq!(grid.states(), 126);
        let checker = grid.checker().threads(2).symmetry().spawn_dfs().join();
        assert_eq!(checker.unique_state_count() as u64, grid.states());
        assert_eq!(checker.max_depth(), 6);
        assert_eq!(Grid::default().states(), 203_490);
    }
}
