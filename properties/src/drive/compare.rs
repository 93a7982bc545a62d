//! Comparing the two sides' outputs in compact form (docs/spec.md §8.4, step 2).
//!
//! Each side's messages are read through its own codec, so the comparison is by meaning: actions,
//! `api`, data and responses are compared (capability lists as sets, error responses as errors),
//! the requestIds of requests the client starts are not (each client picks its own), the
//! requestIds it echoes in its responses are. Messages are compared in order, and prompts in
//! order; a missing or extra output is a difference. [`compare`] gives the first difference of
//! the last command as a [`Finding::Differs`].
//!
//! A client's `update_state` requests (MSC2762) are left out of the comparison
//! ([`outside_negotiation`]): they are outside capability negotiation, and what room state a
//! client pushes depends on the room (docs/spec.md §4.3, decision 35). The rules still judge them
//! as any client request (`well-formed-message`, `unique-request-ids`).

use super::findings::Finding;
use crate::runner::{Out, OutKind, Side};
use crate::universe::UNIVERSE_LEN;
use capneg_reference::msg::{Action, Api, Body, ClientMsg, Data, Msg, Reply};
use capneg_reference::CapSet;
use capneg_wire::codec::Codec;

/// The first output of the last command where `side` differs from `reference`.
pub(super) fn compare(reference: &Side, side: &Side) -> Option<Finding> {
    let (rc, ac) = (reference.codec(), side.codec());
    let is_prompt = |o: &&Out| matches!(o.kind, OutKind::Prompt(_));
    let msgs = first_difference(
        reference.outs().iter().filter(compared(rc)),
        side.outs().iter().filter(compared(ac)),
        |a, b| match (&a.kind, &b.kind) {
            (OutKind::Msg(a), OutKind::Msg(b)) => same_msg(rc, a, ac, b),
            _ => false,
        },
    );
    let prompts = first_difference(
        reference.outs().iter().filter(is_prompt),
        side.outs().iter().filter(is_prompt),
        |a, b| match (&a.kind, &b.kind) {
            (OutKind::Prompt(a), OutKind::Prompt(b)) => same_caps(rc, a, ac, b),
            _ => false,
        },
    );
    let position = |d: &(Option<&Out>, Option<&Out>)| d.1.map_or(u32::MAX, |o| o.line.get());
    let first = match (msgs, prompts) {
        (Some(m), Some(p)) => Some(if position(&p) < position(&m) { p } else { m }),
        (m, p) => m.or(p),
    }?;
    let text = |s: &Side, o: Option<&Out>| o.and_then(|o| s.line(o.line)).map(str::to_owned);
    Some(Finding::Differs {
        line: first.1.map_or(side.last(), |o| o.line),
        expected: text(reference, first.0),
        got: text(side, first.1),
    })
}

/// Whether an output is a message the comparison compares.
fn compared(codec: &Codec) -> impl Fn(&&Out) -> bool + '_ {
    move |o| matches!(&o.kind, OutKind::Msg(m) if !outside_negotiation(codec, m))
}

/// The name of the one client request the comparison leaves out: MSC2762's room state push.
pub(super) const UPDATE_STATE: &str = "update_state";

/// Whether `msg`, read by `codec`, is a client request outside capability negotiation that the
/// comparison leaves out: a well-formed `update_state` request to the session's widget (the
/// reference never sends one). A malformed one is not: the rules break on it first.
pub(super) fn outside_negotiation(codec: &Codec, msg: &ClientMsg) -> bool {
    matches!(msg, Ok(m) if m.api == Api::ToWidget
        && !m.foreign
        && matches!(m.body, Body::Request(_))
        && matches!(m.action, Action::Other(_))
        && codec.action_name(m.action) == UPDATE_STATE)
}

/// The first pair that differs (one side missing counts), as (reference, adapter).
fn first_difference<'a>(
    mut reference: impl Iterator<Item = &'a Out>,
    mut adapter: impl Iterator<Item = &'a Out>,
    same: impl Fn(&Out, &Out) -> bool,
) -> Option<(Option<&'a Out>, Option<&'a Out>)> {
    loop {
        match (reference.next(), adapter.next()) {
            (None, None) => return None,
            (Some(r), Some(a)) if same(r, a) => {}
            (r, a) => return Some((r, a)),
        }
    }
}

/// Whether two capability sets, each interned by its own side, hold the same strings.
fn same_caps(ca: &Codec, a: &CapSet, cb: &Codec, b: &CapSet) -> bool {
    // Both sides intern the universe first, in the same order.
    if a == b && a.iter().all(|c| (c.0 as usize) < UNIVERSE_LEN) {
        return true;
    }
    a.len() == b.len()
        && a.iter()
            .all(|c| cb.caps.get(ca.caps.name(c)).is_some_and(|d| b.contains(d)))
}

fn same_action(ca: &Codec, a: Action, cb: &Codec, b: Action) -> bool {
    match (a, b) {
        (Action::Other(_), Action::Other(_)) => ca.action_name(a) == cb.action_name(b),
        _ => a == b,
    }
}

fn same_data(ca: &Codec, a: &Data, cb: &Codec, b: &Data) -> bool {
    match (a, b) {
        (
            Data::Notify {
                requested: r1,
                approved: a1,
            },
            Data::Notify {
                requested: r2,
                approved: a2,
            },
        ) => same_caps(ca, r1, cb, r2) && same_caps(ca, a1, cb, a2),
        (Data::Capabilities(x), Data::Capabilities(y)) | (Data::Gated(x), Data::Gated(y)) => {
            same_caps(ca, x, cb, y)
        }
        _ => a == b,
    }
}

fn same_reply(ca: &Codec, a: &Reply, cb: &Codec, b: &Reply) -> bool {
    match (a, b) {
        (Reply::Error(_), Reply::Error(_)) => true,
        (Reply::Capabilities(x), Reply::Capabilities(y)) => same_caps(ca, x, cb, y),
        _ => a == b,
    }
}

/// Whether two client messages, each read by its own side, mean the same (docs/spec.md §8).
fn same_msg(ca: &Codec, a: &ClientMsg, cb: &Codec, b: &ClientMsg) -> bool {
    match (a, b) {
        (Err(x), Err(y)) => x == y,
        (Ok(x), Ok(y)) => same_ok(ca, x, cb, y),
        _ => false,
    }
}

fn same_ok(ca: &Codec, a: &Msg, cb: &Codec, b: &Msg) -> bool {
    if a.api != b.api || a.foreign != b.foreign || !same_action(ca, a.action, cb, b.action) {
        return false;
    }
    match (&a.body, &b.body) {
        (Body::Request(x), Body::Request(y)) => same_data(ca, x, cb, y),
        (Body::Response(x), Body::Response(y)) => {
            // Responses to the widget echo its requestId; both sides intern the widget's ids in
            // the same order.
            (a.api == Api::ToWidget || a.id == b.id) && same_reply(ca, x, cb, y)
        }
        _ => false,
    }
}
