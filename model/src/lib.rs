//! # capneg-model
//!
//! The rules of Matrix widget capability negotiation (docs/spec.md §4 for the client, §9.2 for
//! the widget) as one observer of events, and what is built on it.
//!
//! - [`rules`]: the rules, the observer that judges them, and the deliberately wrong clients and
//!   widgets (mutants) that show each check can fail.
//! - [`session`]: a client under test (the reference, or a mutant) on the wire;
//!   [`widget_session`]: a widget under test on the wire; [`run`]: either on a script
//!   (`capneg run`).
//! - [`check`]: the stateright models of a session, judged on the client's side or the
//!   widget's, their symmetry reduction and their printer (`capneg check`, `capneg explore`).
//! - [`validate`]: judging a recorded trace (`capneg validate`).
//! - [`vectors`]: conformance vectors (`capneg vectors`).
#![forbid(unsafe_code)]

pub mod check;
mod echo;
pub mod rules;
pub mod run;
mod script_input;
pub mod session;
pub mod validate;
pub mod vectors;
pub mod widget_run;
pub mod widget_session;

pub use rules::{
    BadEvent, Judge, Judging, Ledger, Line, Observer, Position, Reason, Rule, RuleSet, Side,
    Violation,
};
