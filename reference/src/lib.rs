//! # capneg-reference
//!
//! The reference client of Matrix widget capability negotiation: the initial exchange (the
//! widget API, MSC2762 capability strings), the report of approved capabilities (MSC2871
//! `notify_capabilities`) and the mid-session re-exchange (MSC2974 `request_capabilities`).
//!
//! - [`wire`] and [`actions`]: the postMessage envelope and each action's data, lossless.
//! - [`capability`]: capability strings, typed; [`caps`]: interned sets of them.
//! - [`msg`] and [`codec`]: the compact form of messages everything else works on.
//! - [`profile`]: the readings of the MSCs' ambiguous points, as data (SPEC §3).
//! - [`client`]: the pure, deterministic client state machine; [`session`] puts it on the wire.
//! - [`widget`]: the other side, a well-behaved widget.
//! - [`trace`] and [`script`]: the trace and script formats, and `capneg run`.
#![forbid(unsafe_code)]

pub mod actions;
pub mod bitset;
pub mod capability;
pub mod caps;
pub mod client;
pub mod codec;
pub mod fifo;
pub mod gate;
pub mod msg;
pub mod profile;
pub mod read;
pub mod relabel;
pub mod scan;
pub mod script;
pub mod session;
pub mod strtab;
pub mod trace;
mod visit;
pub mod widget;
pub mod wire;

pub use caps::{Cap, CapSet, Interner};
pub use client::{Client, Input, Output, Policy, Setup};
pub use codec::{Codec, Poster};
pub use msg::{Action, Api, Body, ClientMsg, Data, Fault, Id, Msg, Reply};
pub use profile::Profile;
pub use session::{ClientSession, Emitted, SessionConfig};
