//! The packed states of the models (docs/model.md, "The packed state"): every reachable state
//! unpacks to machines that pack to the same bytes, its capability sets are packed in the order
//! the symmetry reduction visits them, and it fits the fixed buffers at the bounds of the tests
//! and the planning table.

use capneg_model::check::model::{Bounds, SessionModel, State};
use capneg_model::check::packed::{Packed, BYTES, SETS};
use capneg_model::check::widget_model::{WidgetModel, WidgetState};
use capneg_model::check::Checked;
use capneg_model::rules::mutants::ClientKind;
use capneg_model::rules::widget_mutants::WidgetMutant;
use capneg_model::rules::RuleSet;
use capneg_reference::pack::Pack;
use capneg_reference::{CapSets, Profile};
use stateright::{Model, Representative};
use std::collections::HashSet;

/// The largest numbers of sets and bytes of the states reachable in `model`, each state checked
/// by `check` on the way (states are explored up to symmetry).
fn explore<M: Model>(model: &M, check: impl Fn(&M::State)) -> (usize, usize, usize)
where
    M::State: Representative + std::hash::Hash + Eq + Clone + Sized,
    M::State: Packing,
{
    let mut seen = HashSet::new();
    let mut stack = model.init_states();
    let (mut sets, mut bytes) = (0, 0);
    let mut actions = Vec::new();
    while let Some(s) = stack.pop() {
        if !seen.insert(s.representative()) {
            continue;
        }
        check(&s);
        sets = sets.max(s.sizes().0);
        bytes = bytes.max(s.sizes().1);
        actions.clear();
        model.actions(&s, &mut actions);
        for a in actions.drain(..) {
            if let Some(next) = model.next_state(&s, a) {
                stack.push(next);
            }
        }
    }
    (seen.len(), sets, bytes)
}

trait Packing {
    fn sizes(&self) -> (usize, usize);
}

impl<T> Packing for capneg_model::check::packed::Packed<T> {
    fn sizes(&self) -> (usize, usize) {
        (self.sets().len(), self.bytes().len())
    }
}

/// Asserts that `s` packs again to itself with `pack`, its sets in visiting order; `prepare`
/// readies the unpacked value first.
fn round_trips<T: Pack + CapSets + std::fmt::Debug>(
    s: &Packed<T>,
    prepare: impl Fn(&mut T),
    pack: impl Fn(&T, RuleSet) -> Option<Packed<T>>,
) where
    Packed<T>: PartialEq + std::fmt::Debug,
{
    let mut value = s.value();
    prepare(&mut value);
    let again = pack(&value, s.violated()).expect("fits");
    assert_eq!(&again, s, "{value:?}");
    let mut visited = Vec::new();
    value.each_set(&mut |set| visited.push(set.mask() as u8));
    assert_eq!(s.sets(), &visited[..], "sets in visiting order");
}

fn check_session(model: &SessionModel, s: &State) {
    round_trips(s, |_| {}, |v, r| model.pack(v, r));
}

fn check_widget(model: &WidgetModel, s: &WidgetState) {
    round_trips(s, |v| v.violated = s.violated(), |v, r| model.pack(v, r));
}

/// Asserts that every state of `model` round-trips (`check`) and fits the buffers.
fn assert_fits<M: Model + Checked>(model: &M, what: &str, check: impl Fn(&M::State))
where
    M::State: Representative + std::hash::Hash + Eq + Clone + Sized + Packing,
{
    let (states, sets, bytes) = explore(model, check);
    assert!(states > 0, "{what}");
    assert!(sets <= SETS && bytes <= BYTES, "{what}");
    assert!(!model.overflowed(), "{what}");
}

#[test]
fn session_states_round_trip_and_fit() {
    let bounds = Bounds {
        caps: 2,
        rounds: 1,
        gated: 1,
    };
    for profile in Profile::ALL {
        for client in ClientKind::all() {
            let model = SessionModel::new(client, profile, profile, bounds);
            let what = format!("{client:?} {profile}");
            assert_fits(&model, &what, |s| check_session(&model, s));
        }
    }
}

#[test]
fn widget_states_round_trip_and_fit() {
    let bounds = Bounds {
        caps: 2,
        rounds: 2,
        gated: 0,
    };
    let widgets = std::iter::once(None).chain(WidgetMutant::ALL.map(Some));
    for profile in Profile::ALL {
        for widget in widgets.clone() {
            let model = WidgetModel::new(widget, profile, bounds);
            let what = format!("{widget:?} {profile}");
            assert_fits(&model, &what, |s| check_widget(&model, s));
        }
    }
}

/// The most sets and bytes grow with the rounds, by as much from one round to the next (one
/// capability keeps the runs short: the number of capabilities changes the sets' bits, not how
/// many there are): from 2 and 3 rounds, every client fits at 5 rounds and 2 gated actions.
#[test]
fn the_largest_states_fit_the_buffers() {
    let clients: Vec<ClientKind> = ClientKind::all().collect();
    let largest = |rounds: u8| {
        let mut largest = (0, 0);
        for &client in &clients {
            let bounds = Bounds {
                caps: 1,
                rounds,
                gated: 2,
            };
            let model = SessionModel::new(client, Profile::MSC, Profile::MSC, bounds);
            let (_, sets, bytes) = explore(&model, |_| {});
            assert!(!model.overflowed(), "{client:?}");
            largest = (largest.0.max(sets), largest.1.max(bytes));
        }
        largest
    };
    let (two, three) = (largest(2), largest(3));
    let five = (
        three.0 + 2 * (three.0 - two.0),
        three.1 + 2 * (three.1 - two.1),
    );
    eprintln!("largest packed states (sets, bytes): 2 rounds {two:?}, 3 rounds {three:?}, 5 rounds {five:?} (projected)");
    assert!(five.0 <= SETS && five.1 <= BYTES, "{five:?}");
}
