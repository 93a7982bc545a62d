//! The events of a session: what a trace records (docs/spec.md §5) and the rules observe.
//!
//! One vocabulary for every place that looks at a session from outside: the rules' observer
//! judges [`Event`]s, the model records them to print a counterexample, the validator reads them
//! from a trace, and the clients and widgets under test (the references, or deliberately wrong
//! ones) emit them.

use crate::caps::CapSet;
use crate::client::Output;
use crate::msg::{ClientMsg, Posted};

/// One event of a session, in compact form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A message the client posted: a well-formed envelope, or how it is not one.
    Client(ClientMsg),
    /// A message the widget posted: a well-formed envelope, or how it is not one.
    Widget(Posted),
    /// The client asked the user about these capabilities.
    Prompt(CapSet),
    /// The user answered the oldest open prompt, approving these.
    Decision(CapSet),
    /// The widget's own belief, at this point, of the capabilities it holds (docs/spec.md §9.1).
    View(CapSet),
    /// The widget's application asked its library for more capabilities (MSC2974,
    /// docs/spec.md §9.1).
    App(CapSet),
}

impl From<Output> for Event {
    fn from(output: Output) -> Event {
        match output {
            Output::Send(msg) => Event::Client(Ok(msg)),
            Output::Prompt(caps) => Event::Prompt(caps),
        }
    }
}

crate::cap_sets!(Event: match {
    Event::Client(m) => [m],
    Event::Widget(m) => [m],
    Event::Prompt(c) | Event::Decision(c) | Event::View(c) | Event::App(c) => [c],
});
