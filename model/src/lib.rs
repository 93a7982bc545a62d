//! # capneg-model
//!
//! The rules of Matrix widget capability negotiation (docs/spec.md §4) as one observer of
//! events, and what is built on it.
//!
//! - [`rules`]: the rules, the observer that judges them, and the deliberately wrong clients
//!   (mutants) that show each check can fail.
//! - [`session`]: a client under test (the reference, or a mutant) on the wire; [`run`]: it on a
//!   script (`capneg run`).
//! - [`check`]: the stateright model of a session, its symmetry reduction and its printer
//!   (`capneg check`, `capneg explore`).
//! - [`validate`]: judging a recorded trace (`capneg validate`).
//! - [`vectors`]: conformance vectors (`capneg vectors`).
#![forbid(unsafe_code)]

pub mod check;
pub mod rules;
pub mod run;
pub mod session;
pub mod validate;
pub mod vectors;

pub use rules::{
    BadEvent, Judge, Judging, Ledger, Line, Observer, Position, Reason, Rule, RuleSet, Violation,
};
