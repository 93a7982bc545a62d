//! # capneg-wire
//!
//! The JSON side of Matrix widget capability negotiation: everything that reads or writes the
//! widget API's postMessage envelopes and capneg's line formats, around the pure protocol of
//! `capneg-reference`.
//!
//! - [`envelope`]: the envelope (docs/spec.md §2), owned and lossless, or borrowed as raw fields.
//! - [`read`] and [`codec`]: what a message *means*, read in one pass ([`read`]) and given its
//!   compact form with the session's tables ([`codec`]), and the compact form written back.
//! - [`trace`]: the trace and script line formats (docs/spec.md §5, §6).
//! - The validator's hot path: [`scan`], a fast JSON reader exact by giving up, and
//!   [`pipeline`], which reads a trace's lines on every core.
#![forbid(unsafe_code)]

pub mod codec;
pub mod envelope;
pub mod lines;
pub mod pipeline;
pub mod read;
pub mod scan;
pub mod script;
pub mod trace;
pub mod versions;
mod visit;

pub use codec::{Codec, Poster};
