//! proptest strategies for sessions, shared by the property suites and `capneg drive`.
//!
//! A generated session starts with a random `autoApprove` (usually empty) and, one time in four,
//! waits for `content_loaded`; then up to [`MAX_STEPS`] steps, each one of:
//! - the widget answering the client's `capabilities` request with a list;
//! - a re-exchange request (`request_capabilities`, mostly under its unstable name) with a list,
//!   at any time: also before the session is established, and several before the user decides;
//! - an ack of the client's oldest open notify;
//! - the user's decision on the oldest open prompt (a subset of the universe, of which the prompt's
//!   capabilities are approved);
//! - a gated action (`set_always_on_screen`, or `send_event` of a type some capability of the
//!   universe permits, or of one none does);
//! - `supported_api_versions`, or a message of another widget;
//! - and exactly once where the session waits for it, `content_loaded`, at a random place.
//!
//! Lists are often empty or a single capability, so rounds with nothing new and with exactly one
//! new capability are common. Everything shrinks towards fewer steps, empty lists and declines.

use crate::session::{Gated, Session, Start, Step};
use crate::universe::{Caps, UNIVERSE_LEN};
use proptest::prelude::*;
use proptest::sample::Index;

/// The most steps of a generated session (besides `content_loaded`).
pub const MAX_STEPS: usize = 24;

/// A subset of the universe: often empty or a single capability.
pub fn caps() -> impl Strategy<Value = Caps> {
    prop_oneof![
        1 => Just(Caps::NONE),
        3 => (0..UNIVERSE_LEN).prop_map(|i| Caps::new(1 << i)),
        3 => (0..=Caps::ALL.0).prop_map(Caps::new),
    ]
}

/// How a session starts: `autoApprove` mostly empty; waiting for `content_loaded` one time in
/// four.
pub fn start() -> impl Strategy<Value = Start> {
    (
        prop_oneof![3 => Just(Caps::NONE), 1 => caps()],
        prop::bool::weighted(0.25),
    )
        .prop_map(|(auto, wait)| Start::new(auto, wait))
}

/// A gated action.
pub fn gated() -> impl Strategy<Value = Gated> {
    prop_oneof![
        2 => any::<bool>().prop_map(Gated::AlwaysOnScreen),
        2 => Just(Gated::TextMessage),
        1 => Just(Gated::NoticeMessage),
        1 => Just(Gated::Reaction),
        1 => Just(Gated::Topic),
    ]
}

/// One step (never `content_loaded`: [`sessions`] places it).
pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => caps().prop_map(Step::AnswerCapabilities),
        4 => (prop::bool::weighted(0.2), caps())
            .prop_map(|(stable, caps)| Step::RequestCapabilities { stable, caps }),
        3 => Just(Step::AckNotify),
        5 => caps().prop_map(Step::Decide),
        2 => gated().prop_map(Step::Gated),
        1 => Just(Step::SupportedApiVersions),
        1 => Just(Step::Foreign),
    ]
}

/// Whole sessions.
pub fn sessions() -> impl Strategy<Value = Session> {
    (
        start(),
        prop::collection::vec(step(), 0..=MAX_STEPS),
        any::<Index>(),
    )
        .prop_map(|(start, mut steps, at)| {
            if start.settings.wait_for_content_loaded {
                let i = at.index(steps.len() + 1);
                steps.insert(i, Step::ContentLoaded);
            }
            Session { start, steps }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn content_loaded_comes_once_exactly_when_waited_for() {
        let mut runner = TestRunner::deterministic();
        let strategy = sessions();
        for _ in 0..200 {
            let s = strategy.new_tree(&mut runner).unwrap().current();
            let n = s
                .steps
                .iter()
                .filter(|st| **st == Step::ContentLoaded)
                .count();
            assert_eq!(n, usize::from(s.start.settings.wait_for_content_loaded));
            assert!(s.steps.len() <= MAX_STEPS + 1);
        }
    }
}
