//! The reference client against generated sessions: it never breaks the rules of its own
//! profile, the widget's view is always the last notify, and the differential driver finds
//! nothing when the reference drives itself through the adapter protocol.
//!
//! Case counts follow `PROPTEST_CASES` (proptest's default configuration); failing seeds are
//! kept in `proptest-regressions/reference.txt`.

mod common;

use capneg_model::rules::mutants::ClientKind;
use capneg_properties::drive::{drive, Options, Outcome};
use capneg_properties::protocol::Handler;
use capneg_properties::runner::run_session;
use capneg_properties::strategy::sessions;
use capneg_properties::universe::Caps;
use capneg_reference::msg::{Action, Body, Data};
use capneg_reference::widget::{Widget, WidgetInput};
use capneg_reference::Event;
use capneg_reference::{CapSet, Profile};
use common::profiles;
use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    common::config_keeping(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/proptest-regressions/reference.txt"
    ))
}

proptest! {
    #![proptest_config(config())]

    /// The reference never breaks a rule of its own profile, end-of-trace obligations included.
    #[test]
    fn the_reference_keeps_its_own_rules(profile in profiles(), session in sessions()) {
        let mut client = Handler::new(profile, ClientKind::Reference);
        let run = run_session(profile, &session, &mut client);
        prop_assert!(run.failure.is_none(), "{:?}", run.failure);
        prop_assert!(run.protocol_error.is_none(), "{:?}", run.protocol_error);
        prop_assert!(
            run.violations.is_empty(),
            "{profile}: {:?}\n{}",
            run.violations,
            run.trace.join("\n")
        );
        prop_assert_eq!(run.events.len() + 1, run.trace.len());
    }

    /// A widget that takes the latest notify as its view always sees the client's approved set.
    #[test]
    fn the_widget_view_is_the_last_notify(profile in profiles(), session in sessions()) {
        let mut client = Handler::new(profile, ClientKind::Reference);
        let run = run_session(profile, &session, &mut client);
        let mut widget = Widget::new(CapSet::new());
        let mut last: Option<CapSet> = None;
        let mut notifies = 0;
        for event in &run.events {
            let Event::Client(Ok(msg)) = event else { continue };
            if let (Action::NotifyCapabilities, Body::Request(Data::Notify { approved, .. })) =
                (msg.action, &msg.body)
            {
                last = Some(approved.clone());
                notifies += 1;
            }
            widget.handle(&WidgetInput::Client(msg.clone()), &mut Vec::new());
        }
        prop_assert_eq!(widget.notifies(), notifies);
        prop_assert_eq!(widget.approved(), &last.unwrap_or_default());
        let mut view = Caps::of_set(widget.approved()).to_vec();
        let mut approved = client.approved();
        view.sort();
        approved.sort();
        prop_assert_eq!(view, approved, "{}", run.trace.join("\n"));
    }
}

/// `capneg drive` against `capneg adapter` (in-process: the same handler, the same protocol
/// lines) finds nothing, under every profile.
#[test]
fn driving_the_reference_finds_nothing() {
    let cases = Config::default().cases;
    for profile in Profile::ALL {
        let mut adapter = Handler::new(profile, ClientKind::Reference);
        match drive(&Options::new(profile, cases), &mut adapter) {
            Outcome::Passed(stats) => assert_eq!(stats.sessions, u64::from(cases)),
            Outcome::Diverged(report) => panic!(
                "{profile}:\n{}\n{}",
                report.divergence.trace.join("\n"),
                report.divergence.describe()
            ),
        }
    }
}
