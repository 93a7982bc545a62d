//! Machine states packed into a few bytes, for a model checker.
//!
//! A model checker keeps, copies and hashes millions of states. [`Pack`] writes a value into two
//! fixed buffers and reads it back: its capability sets into one, a byte each (a model's
//! universe has at most 8 capabilities), everything else into the other. Copying and hashing a
//! packed state then cost bytes, not allocations, and renaming capabilities (the symmetry
//! reduction) touches only the first buffer.
//!
//! The encoding is self-delimiting and the same value always packs the same way, so two values
//! are equal exactly when their packed bytes are (unused space is left zero). The sets are
//! written in the order [`CapSets::each_set`](crate::CapSets::each_set) visits them.

use crate::caps::CapSet;
use crate::client::{Pending, Phase, Prompting};
use crate::fifo::Fifo;
use crate::msg::{Action, ActionName, Api, Body, Data, Fault, Field, Msg, ReexchangeName};
use crate::msg::{Refusal, Reply, ReqId};
use crate::settings::{DeclinedPolicy, Settings};

/// A value that can be packed.
pub trait Pack: Sized {
    /// Writes the value.
    fn pack(&self, p: &mut Packer<'_>);
    /// Reads a value written by [`Pack::pack`] (`None`: the bytes are not one).
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self>;
    /// Reads a value written by [`Pack::pack`] into `self`, replacing all of it (`None`: the
    /// bytes are not one, and `self` is left partly read). A large value read in place is
    /// not moved field by field, and its queues keep their memory.
    #[inline]
    fn unpack_into(&mut self, u: &mut Unpacker<'_>) -> Option<()> {
        *self = Self::unpack(u)?;
        Some(())
    }
}

/// Writes packed values into two buffers: one for capability sets, one for the rest.
#[derive(Debug)]
pub struct Packer<'a> {
    sets: &'a mut [u8],
    bytes: &'a mut [u8],
    n_sets: usize,
    n_bytes: usize,
    overflow: bool,
}

impl<'a> Packer<'a> {
    /// A packer writing from the start of `sets` and `bytes`, over what they hold: the bytes past
    /// those written are left as they are (zero, for the packed form to be the value's alone:
    /// `Packed::repack` clears what an earlier value left beyond).
    #[inline]
    pub fn new(sets: &'a mut [u8], bytes: &'a mut [u8]) -> Self {
        Packer {
            sets,
            bytes,
            n_sets: 0,
            n_bytes: 0,
            overflow: false,
        }
    }

    /// Writes a capability set: one byte, its mask. A set with a capability from 8 on does not
    /// fit (the packer overflows).
    #[inline]
    pub fn set(&mut self, set: &CapSet) {
        let mask = set.mask();
        match (self.sets.get_mut(self.n_sets), u8::try_from(mask)) {
            (Some(slot), Ok(m)) if set.is_mask() => {
                *slot = m;
                self.n_sets += 1;
            }
            _ => self.overflow = true,
        }
    }

    /// Writes a byte.
    #[inline]
    pub fn byte(&mut self, b: u8) {
        match self.bytes.get_mut(self.n_bytes) {
            Some(slot) => {
                *slot = b;
                self.n_bytes += 1;
            }
            None => self.overflow = true,
        }
    }

    /// Writes a number, seven bits a byte (small numbers take one byte).
    #[inline]
    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// The sets and bytes written.
    #[inline]
    pub fn written(&self) -> (usize, usize) {
        (self.n_sets, self.n_bytes)
    }

    /// Whether something did not fit: a buffer was full, or a set had a capability from 8 on.
    #[inline]
    pub fn overflowed(&self) -> bool {
        self.overflow
    }
}

/// Reads packed values from the two buffers of a [`Packer`].
#[derive(Clone, Debug)]
pub struct Unpacker<'a> {
    sets: &'a [u8],
    bytes: &'a [u8],
    /// The next set and the next byte to read.
    at_set: usize,
    at_byte: usize,
}

impl<'a> Unpacker<'a> {
    /// A reader of what a [`Packer`] wrote into `sets` and `bytes`.
    #[inline]
    pub fn new(sets: &'a [u8], bytes: &'a [u8]) -> Self {
        Unpacker {
            sets,
            bytes,
            at_set: 0,
            at_byte: 0,
        }
    }

    /// Reads a capability set.
    #[inline]
    pub fn set(&mut self) -> Option<CapSet> {
        let m = *self.sets.get(self.at_set)?;
        self.at_set += 1;
        Some(CapSet::from_mask(u64::from(m)))
    }

    /// Reads a byte.
    #[inline]
    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at_byte)?;
        self.at_byte += 1;
        Some(b)
    }

    /// Reads a number written by [`Packer::varint`].
    #[inline]
    pub fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// Reads a tag below `n`.
    #[inline]
    pub fn tag(&mut self, n: u8) -> Option<u8> {
        self.byte().filter(|&t| t < n)
    }
}

/// Implements [`Pack`] for a struct from the list of its fields, packed in this order (each
/// field's type is [`Pack`]); the macro must be used where the fields are visible.
#[macro_export]
macro_rules! pack_fields {
    ($ty:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::pack::Pack for $ty {
            #[inline]
            fn pack(&self, p: &mut $crate::pack::Packer<'_>) {
                $($crate::pack::Pack::pack(&self.$field, p);)+
            }
            #[inline]
            fn unpack(u: &mut $crate::pack::Unpacker<'_>) -> Option<Self> {
                Some(Self {
                    $($field: $crate::pack::Pack::unpack(u)?,)+
                })
            }
            #[inline]
            fn unpack_into(&mut self, u: &mut $crate::pack::Unpacker<'_>) -> Option<()> {
                $($crate::pack::Pack::unpack_into(&mut self.$field, u)?;)+
                Some(())
            }
        }
    };
}

impl Pack for () {
    #[inline]
    fn pack(&self, _: &mut Packer<'_>) {}
    #[inline]
    fn unpack(_: &mut Unpacker<'_>) -> Option<Self> {
        Some(())
    }
}

impl Pack for bool {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        p.byte(u8::from(*self))
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(u.tag(2)? == 1)
    }
}

impl Pack for u8 {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        p.byte(*self)
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        u.byte()
    }
}

impl Pack for u32 {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        p.varint(u64::from(*self))
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        u32::try_from(u.varint()?).ok()
    }
}

impl Pack for CapSet {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        p.set(self)
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        u.set()
    }
}

impl<T: Pack> Pack for Option<T> {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            None => p.byte(0),
            Some(t) => {
                p.byte(1);
                t.pack(p)
            }
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(2)? {
            0 => None,
            _ => Some(T::unpack(u)?),
        })
    }
    #[inline]
    fn unpack_into(&mut self, u: &mut Unpacker<'_>) -> Option<()> {
        match (u.tag(2)?, self.as_mut()) {
            (0, _) => *self = None,
            (_, Some(t)) => t.unpack_into(u)?,
            (_, None) => *self = Some(T::unpack(u)?),
        }
        Some(())
    }
}

impl<T: Pack, E: Pack> Pack for Result<T, E> {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            Ok(t) => {
                p.byte(0);
                t.pack(p)
            }
            Err(e) => {
                p.byte(1);
                e.pack(p)
            }
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(2)? {
            0 => Ok(T::unpack(u)?),
            _ => Err(E::unpack(u)?),
        })
    }
}

impl<A: Pack, B: Pack> Pack for (A, B) {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        self.0.pack(p);
        self.1.pack(p);
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some((A::unpack(u)?, B::unpack(u)?))
    }
}

impl<A: Pack, B: Pack, C: Pack> Pack for (A, B, C) {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        self.0.pack(p);
        self.1.pack(p);
        self.2.pack(p);
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some((A::unpack(u)?, B::unpack(u)?, C::unpack(u)?))
    }
}

/// A collection: its length, then its items in order. Read in place, it is emptied first (its
/// memory kept) and its items read one by one.
macro_rules! pack_items {
    ($($coll:ident: $clear:expr, $push:expr),+) => {
        $(impl<T: Pack> Pack for $coll<T> {
            #[inline]
            fn pack(&self, p: &mut Packer<'_>) {
                p.varint(self.len() as u64);
                self.iter().for_each(|t| t.pack(p));
            }
            #[inline]
            fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
                let n = u.varint()?;
                (0..n).map(|_| T::unpack(u)).collect()
            }
            #[inline]
            fn unpack_into(&mut self, u: &mut Unpacker<'_>) -> Option<()> {
                let n = u.varint()?;
                $clear(self);
                for _ in 0..n {
                    $push(self, T::unpack(u)?);
                }
                Some(())
            }
        })+
    };
}

pack_items!(Vec: Vec::clear, Vec::push, Fifo: Fifo::clear, Fifo::push_back);

impl Pack for ReqId {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        let (n, unused) = match *self {
            ReqId::Used(n) => (n, 0),
            ReqId::Unused(n) => (n, 1),
        };
        p.varint(u64::from(n) << 1 | unused)
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        let v = u.varint()?;
        let n = u32::try_from(v >> 1).ok()?;
        Some(if v & 1 == 0 {
            ReqId::Used(n)
        } else {
            ReqId::Unused(n)
        })
    }
}

/// The known actions, by their tag.
const ACTIONS: [Action; 8] = [
    Action::Capabilities,
    Action::NotifyCapabilities,
    Action::RequestCapabilities(ReexchangeName::Unstable),
    Action::RequestCapabilities(ReexchangeName::Stable),
    Action::SupportedApiVersions,
    Action::ContentLoaded,
    Action::SetAlwaysOnScreen,
    Action::SendEvent,
];

impl Pack for Action {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        match *self {
            Action::Other(ActionName(n)) => p.varint(ACTIONS.len() as u64 + u64::from(n)),
            known => {
                let tag = ACTIONS.iter().position(|&a| a == known).unwrap_or_default();
                p.byte(tag as u8)
            }
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        let v = u.varint()?;
        Some(match ACTIONS.get(v as usize) {
            Some(&known) => known,
            None => Action::Other(ActionName(u32::try_from(v - ACTIONS.len() as u64).ok()?)),
        })
    }
}

impl Pack for Data {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            Data::Empty => p.byte(0),
            Data::Notify {
                requested,
                approved,
            } => {
                p.byte(1);
                p.set(requested);
                p.set(approved);
            }
            Data::Capabilities(s) => {
                p.byte(2);
                p.set(s)
            }
            Data::Gated(s) => {
                p.byte(3);
                p.set(s)
            }
            Data::Invalid => p.byte(4),
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(5)? {
            0 => Data::Empty,
            1 => Data::Notify {
                requested: u.set()?,
                approved: u.set()?,
            },
            2 => Data::Capabilities(u.set()?),
            3 => Data::Gated(u.set()?),
            _ => Data::Invalid,
        })
    }
}

/// The refusals, by their tag.
const REFUSALS: [Refusal; 6] = [
    Refusal::UnknownAction,
    Refusal::InvalidData,
    Refusal::NotEstablished,
    Refusal::RateLimited,
    Refusal::NotApproved,
    Refusal::Other,
];

impl Pack for Reply {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            Reply::Ack => p.byte(0),
            Reply::Capabilities(s) => {
                p.byte(1);
                p.set(s)
            }
            Reply::Versions { msc2974 } => p.byte(2 + u8::from(*msc2974)),
            Reply::EventSent => p.byte(4),
            Reply::Error(r) => {
                let tag = REFUSALS.iter().position(|x| x == r).unwrap_or_default();
                p.byte(5 + tag as u8)
            }
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.byte()? {
            0 => Reply::Ack,
            1 => Reply::Capabilities(u.set()?),
            2 => Reply::Versions { msc2974: false },
            3 => Reply::Versions { msc2974: true },
            4 => Reply::EventSent,
            t => Reply::Error(*REFUSALS.get(usize::from(t) - 5)?),
        })
    }
}

/// A message: its api, whether it is foreign and whether it is a response in one byte, then its
/// id, its action and its data or reply.
impl Pack for Msg {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        let response = matches!(self.body, Body::Response(_));
        p.byte(
            u8::from(self.api == Api::FromWidget)
                | u8::from(self.foreign) << 1
                | u8::from(response) << 2,
        );
        self.id.pack(p);
        self.action.pack(p);
        match &self.body {
            Body::Request(data) => data.pack(p),
            Body::Response(reply) => reply.pack(p),
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        let head = u.tag(8)?;
        let api = if head & 1 == 0 {
            Api::ToWidget
        } else {
            Api::FromWidget
        };
        let id = ReqId::unpack(u)?;
        let action = Action::unpack(u)?;
        let body = if head & 4 == 0 {
            Body::Request(Data::unpack(u)?)
        } else {
            Body::Response(Reply::unpack(u)?)
        };
        Some(Msg {
            api,
            foreign: head & 2 != 0,
            id,
            action,
            body,
        })
    }
}

impl Pack for Fault {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        let (field, wrong_type) = match *self {
            Fault::Missing(f) => (f, 0),
            Fault::WrongType(f) => (f, Field::ALL.len()),
        };
        let tag = Field::ALL
            .iter()
            .position(|&f| f == field)
            .unwrap_or_default();
        p.byte((tag + wrong_type) as u8)
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        let t = usize::from(u.tag(2 * Field::ALL.len() as u8)?);
        let n = Field::ALL.len();
        Some(if t < n {
            Fault::Missing(Field::ALL[t])
        } else {
            Fault::WrongType(Field::ALL[t - n])
        })
    }
}

impl Pack for DeclinedPolicy {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        p.byte(u8::from(*self == DeclinedPolicy::Deny))
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(2)? {
            0 => DeclinedPolicy::Prompt,
            _ => DeclinedPolicy::Deny,
        })
    }
}

pack_fields!(Settings {
    auto_approve,
    rate_limit,
    wait_for_content_loaded,
    declined
});

impl Pack for Phase {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        match self {
            Phase::AwaitingContentLoaded => p.byte(0),
            Phase::AwaitingCapabilities(id) => {
                p.byte(1);
                id.pack(p)
            }
            Phase::Established => p.byte(2),
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        Some(match u.tag(3)? {
            0 => Phase::AwaitingContentLoaded,
            1 => Phase::AwaitingCapabilities(ReqId::unpack(u)?),
            _ => Phase::Established,
        })
    }
}

pack_fields!(Pending { list, initial });
pack_fields!(Prompting {
    list,
    initial,
    new,
    auto,
    asked
});

/// The members of a bit set (ids, not capabilities: written as numbers): those below 64 as a
/// mask, then how many others there are and each of them.
impl Pack for crate::bitset::BitSet {
    #[inline]
    fn pack(&self, p: &mut Packer<'_>) {
        p.varint(self.low_mask());
        if self.is_inline() {
            p.byte(0);
        } else {
            p.varint(self.iter().filter(|&i| i >= 64).count() as u64);
            self.iter()
                .filter(|&i| i >= 64)
                .for_each(|i| p.varint(u64::from(i)));
        }
    }
    #[inline]
    fn unpack(u: &mut Unpacker<'_>) -> Option<Self> {
        let mut set = crate::bitset::BitSet::from_mask(u.varint()?);
        for _ in 0..u.varint()? {
            let i = u32::try_from(u.varint()?).ok().filter(|&i| i >= 64)?;
            set.insert(i);
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::CapSets;

    fn round_trip<T: Pack + PartialEq + std::fmt::Debug + CapSets>(value: &T) {
        let (mut sets, mut bytes) = ([0u8; 64], [0u8; 256]);
        let mut p = Packer::new(&mut sets, &mut bytes);
        value.pack(&mut p);
        assert!(!p.overflowed(), "{value:?}");
        let (n_sets, _) = p.written();
        let mut visited = Vec::new();
        value.each_set(&mut |s| visited.push(s.mask() as u8));
        assert_eq!(&sets[..n_sets], &visited[..], "sets in visiting order");
        let back = T::unpack(&mut Unpacker::new(&sets, &bytes));
        assert_eq!(back.as_ref(), Some(value));
    }

    #[test]
    fn messages_round_trip() {
        let msgs = [
            Msg::request(
                Api::ToWidget,
                ReqId::Used(300),
                Action::NotifyCapabilities,
                Data::Notify {
                    requested: CapSet::from_mask(0b1011),
                    approved: CapSet::from_mask(0b0001),
                },
            ),
            Msg::response(
                Api::FromWidget,
                ReqId::Unused(2),
                Action::Other(ActionName(70_000)),
                Reply::Error(Refusal::RateLimited),
            ),
            Msg {
                foreign: true,
                ..Msg::response(
                    Api::ToWidget,
                    ReqId::Used(0),
                    Action::Capabilities,
                    Reply::Capabilities(CapSet::from_mask(0xff)),
                )
            },
        ];
        for m in msgs {
            round_trip(&m);
            round_trip(&Ok::<Msg, Fault>(m));
        }
        round_trip(&Err::<Msg, Fault>(Fault::WrongType(Field::Response)));
        let queue: Fifo<Option<CapSet>> = [None, Some(CapSet::from_mask(3)), Some(CapSet::new())]
            .into_iter()
            .collect();
        round_trip(&queue);
    }

    #[test]
    fn sets_beyond_the_universe_overflow() {
        let (mut sets, mut bytes) = ([0u8; 2], [0u8; 2]);
        let mut p = Packer::new(&mut sets, &mut bytes);
        CapSet::from_mask(1 << 8).pack(&mut p);
        assert!(p.overflowed());
        // A member from 64 on, beside members that fit a byte: the mask alone would lose it.
        let mut p = Packer::new(&mut sets, &mut bytes);
        let wide: CapSet = [crate::caps::Cap(1), crate::caps::Cap(70)]
            .into_iter()
            .collect();
        assert_eq!(wide.mask(), 0b10);
        wide.pack(&mut p);
        assert!(p.overflowed(), "{wide:?}");
        let mut p = Packer::new(&mut sets, &mut bytes);
        p.varint(1 << 20);
        assert!(p.overflowed(), "three bytes in two");
    }
}
