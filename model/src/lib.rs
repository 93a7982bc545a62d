//! # capneg-model
//!
//! The rules of Matrix widget capability negotiation (SPEC §4) as one observer of events, and
//! what is built on it: the stateright model of a session, trace validation and conformance
//! vectors.
#![forbid(unsafe_code)]

pub mod check;
pub mod model;
pub mod mutants;
pub mod observer;
pub mod printer;
pub mod rules;
pub mod run;
pub mod session;
pub mod symmetry;
pub mod validate;
pub mod vectors;

pub use observer::{BadEvent, Event, Judge, Ledger, Observer, Pos, Reason, Violation};
pub use rules::{Rule, RuleSet};
