//! # capneg-properties
//!
//! Property suites of the reference client and the rules, and the differential driver that
//! tests external implementations through the adapter protocol (docs/spec.md §8).
//!
//! - [`universe`]: the small, realistic set of capabilities generated sessions use.
//! - [`session`]: abstract sessions (what the widget and the user do, without request ids);
//!   [`strategy`]: their proptest strategies.
//! - [`protocol`]: the adapter protocol, and the reference (or a mutant) speaking it.
//! - [`process`]: clients under test ([`Adapter`]): in-process, or an external process on pipes.
//! - [`runner`]: an abstract session run against a client: the concrete trace and the compact
//!   events, judged by the rules.
//! - [`drive`](mod@drive): the differential driver (`capneg drive`).
//! - [`widget_protocol`]: the widget adapter protocol (docs/spec.md §9.3), and the reference
//!   widget (or a widget mutant) speaking it; [`widget_drive`]: the widget driver (`capneg drive
//!   --side widget`).
#![forbid(unsafe_code)]

mod command_line;
pub mod drive;
#[doc(hidden)]
pub mod fuzzing;
pub mod process;
pub mod protocol;
pub mod runner;
pub mod session;
pub mod strategy;
pub mod universe;
pub mod widget_drive;
pub mod widget_protocol;

pub use drive::{drive, replay, Divergence, Finding, Lockstep, Options, Outcome, Report, Stats};
pub use process::{Adapter, Failure, Process};
pub use protocol::Handler;
pub use runner::{run_session, SessionRun, Side};
pub use session::{Session, Start, Step};
