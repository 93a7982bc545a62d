//! What the two sessions on the wire share ([`crate::session`] for a client,
//! [`crate::widget_session`] for a widget): reading a message the other side posted, and
//! answering it with a response that echoes it exactly.

use capneg_reference::msg::{Action, Api, Body, Msg, ReqId};
use capneg_wire::codec::{Codec, Poster};
use capneg_wire::envelope::{Envelope, EnvelopeView};
use serde_json::value::RawValue;

/// Reads a message `poster` posted, as any JSON: `None` when it is not a well-formed envelope
/// (the session's party ignores it).
pub(crate) fn read_posted(codec: &mut Codec, poster: Poster, json: &RawValue) -> Option<Msg> {
    let view = EnvelopeView::parse(json)?;
    codec.read(poster, &view).ok()
}

/// A request just read, kept so that the response to it echoes it exactly (data and extra
/// fields included).
pub(crate) struct Echo {
    request: Envelope,
    key: (Api, ReqId, Action),
}

impl Echo {
    /// The echo of `msg`, read from `json`.
    pub(crate) fn of(json: &RawValue, msg: &Msg) -> Option<Echo> {
        let request = serde_json::from_str(json.get()).ok()?;
        Some(Echo {
            request,
            key: (msg.api, msg.id, msg.action),
        })
    }

    /// `msg` on the wire, if it is the response to this request: the request with its reply.
    pub(crate) fn answer(&self, codec: &Codec, msg: &Msg) -> Option<Envelope> {
        match &msg.body {
            Body::Response(reply) if self.key == (msg.api, msg.id, msg.action) => Some(
                self.request
                    .respond(codec.reply_json(reply, &self.request.request_id)),
            ),
            _ => None,
        }
    }
}
