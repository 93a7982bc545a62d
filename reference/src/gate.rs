//! Actions a widget may only perform with a capability (MSC2762; rule
//! `gated-action-needs-capability`).

/// A gated widget request, as far as its capability check needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gated<'a> {
    /// `set_always_on_screen`, gated by `m.always_on_screen`.
    AlwaysOnScreen,
    /// `send_event`, gated by `...send.event:TYPE` (with `#MSGTYPE` for `m.room.message`) or,
    /// with a `state_key`, by `...send.state_event:TYPE#KEY`.
    SendEvent {
        /// The event type.
        event_type: &'a str,
        /// The state key, present for state events.
        state_key: Option<&'a str>,
        /// `content.msgtype`, for `m.room.message`.
        msgtype: Option<&'a str>,
    },
}
