//! # capneg-reference
//!
//! The pure protocol of Matrix widget capability negotiation: the initial exchange (the widget
//! API, MSC2762 capability strings), the report of approved capabilities (MSC2871
//! `notify_capabilities`) and the mid-session re-exchange (MSC2974 `request_capabilities`).
//!
//! Nothing here reads or writes JSON, touches a clock or does I/O: the crate has no such
//! dependency, so the compiler keeps it pure. The JSON side is `capneg-wire`.
//!
//! - [`capability`]: capability strings, typed; [`gate`]: the actions they gate.
//! - [`caps`]: interned sets of capabilities ([`bitset`], [`strtab`] hold them).
//! - [`msg`]: the compact messages everything else works on.
//! - [`settings`]: a session's settings, one type for every place that holds them.
//! - [`profile`]: the readings of the MSCs' ambiguous points, as data (docs/spec.md §3).
//! - [`event`]: the events of a session, as a trace records them and the rules observe them.
//! - [`client`]: the reference client, a deterministic sans-IO state machine.
//! - [`widget`]: the reference widget, the other side.
//! - [`fifo`]: the small queues their states hold.
//! - [`pack`]: their states packed into a few bytes, for a model checker.
#![forbid(unsafe_code)]

pub mod bitset;
pub mod capability;
pub mod caps;
pub mod client;
pub mod event;
pub mod fifo;
pub mod gate;
pub mod msg;
pub mod pack;
pub mod profile;
pub mod settings;
pub mod strtab;
pub mod widget;

pub use caps::{Cap, CapSet, CapSets, Interner};
pub use client::{Client, Input, Output, Setup};
pub use event::Event;
pub use msg::{Action, Api, Body, ClientMsg, Data, Fault, Msg, Posted, Reply, ReqId};
pub use profile::Profile;
pub use settings::{DeclinedPolicy, Settings};
