//! The capabilities generated sessions ask for: a small, realistic universe.
//!
//! Each capability of the universe is one bit of a [`Caps`] mask. Every side of a run interns the
//! universe first, in this order, so a capability's bit is also its index in that side's
//! [`capneg_reference::Interner`]: a mask and the interned set of the same capabilities are the
//! same bits.

use capneg_reference::CapSet;
use std::fmt;

/// The capability strings of the universe, in bit order.
///
/// Four gate actions the widget performs (`set_always_on_screen` and three kinds of
/// `send_event`); two gate nothing the sessions do. None of them makes matrix-widget-api push
/// room state or ask the widget for its versions (timeline capabilities would), so every message
/// the client sends belongs to the negotiation.
pub const UNIVERSE: [&str; 6] = [
    "m.always_on_screen",
    "org.matrix.msc2762.send.event:m.room.message#m.text",
    "org.matrix.msc2762.send.event:m.reaction",
    "org.matrix.msc2762.send.state_event:m.room.topic",
    "org.matrix.msc2762.receive.event:m.room.message#m.text",
    "org.matrix.msc2762.receive.state_event:m.room.member",
];

/// The number of capabilities in the universe.
pub const UNIVERSE_LEN: usize = UNIVERSE.len();

/// A subset of the universe, one bit per capability.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Caps(pub u8);

impl Caps {
    /// No capability.
    pub const NONE: Caps = Caps(0);
    /// The whole universe.
    pub const ALL: Caps = Caps(((1u16 << UNIVERSE_LEN) - 1) as u8);

    /// The subset given by the low bits of `bits` (bits outside the universe are dropped).
    pub const fn new(bits: u8) -> Caps {
        Caps(bits & Caps::ALL.0)
    }

    /// The same capabilities as an interned set (of a side that interned the universe first).
    pub const fn set(self) -> CapSet {
        CapSet::from_mask(self.0 as u64)
    }

    /// The members of `set` that belong to the universe.
    pub fn of_set(set: &CapSet) -> Caps {
        Caps::new((set.mask() & Caps::ALL.0 as u64) as u8)
    }

    /// `self ∩ other`.
    pub const fn and(self, other: Caps) -> Caps {
        Caps(self.0 & other.0)
    }

    /// Whether the subset is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The capability strings, in universe order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        UNIVERSE
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    /// The capability strings as owned strings.
    pub fn to_vec(self) -> Vec<String> {
        self.names().map(str::to_owned).collect()
    }

    /// The JSON list of the capability strings (`["a","b"]`), precomputed.
    pub fn json(self) -> &'static str {
        JSON_LISTS[self.0 as usize]
    }
}

impl fmt::Debug for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// The JSON list of every subset, indexed by mask.
static JSON_LISTS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    (0..=Caps::ALL.0 as usize)
        .map(|mask| {
            let names: Vec<&str> = Caps(mask as u8).names().collect();
            let text = serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned());
            &*Box::leak(text.into_boxed_str())
        })
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_interned_sets() {
        let mut interner = capneg_reference::Interner::with_names(UNIVERSE);
        let caps = Caps(0b10_0101);
        let set = interner.set(caps.names());
        assert_eq!(set, caps.set());
        assert_eq!(Caps::of_set(&set), caps);
        assert_eq!(
            caps.json(),
            r#"["m.always_on_screen","org.matrix.msc2762.send.event:m.reaction","org.matrix.msc2762.receive.state_event:m.room.member"]"#
        );
        assert_eq!(Caps::NONE.json(), "[]");
    }
}
