//! The room the widget lives in: a logged-in client of a mock homeserver (the SDK's own
//! `MatrixMockServer`, wiremock on 127.0.0.1), synced once into one joined room.

use matrix_sdk::Room;
use matrix_sdk::ruma::events::AnySyncStateEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{event_id, room_id};
use matrix_sdk::test_utils::mocks::MatrixMockServer;
use matrix_sdk_test::JoinedRoomBuilder;
use serde_json::json;

/// The user the mock client is logged in as (`MockClientBuilder`'s default session).
pub const OWN_USER: &str = "@example:localhost";

/// A running mock homeserver and the joined room.
pub struct Homeserver {
    /// Kept alive for the whole process: dropping it stops the server.
    _server: MatrixMockServer,
    /// The room every widget session runs in.
    pub room: Room,
}

impl Homeserver {
    /// Starts the server, mounts the endpoints a widget session can reach, logs a client in and
    /// syncs the room.
    pub async fn start() -> Homeserver {
        // Request recording is off: a long survey would otherwise keep every request in memory.
        let server = MatrixMockServer::from_server(
            wiremock::MockServer::builder()
                .disable_request_recording()
                .start()
                .await,
        );

        // `send_event`: the room is not encrypted, so the SDK asks once and then sends in clear.
        server.mock_room_state_encryption().plain().mount().await;
        server
            .mock_room_send()
            .ok(event_id!("$capneg-event:localhost"))
            .mount()
            .await;
        server
            .mock_room_send_state()
            .ok(event_id!("$capneg-state:localhost"))
            .mount()
            .await;

        let client = server.client_builder().build().await;

        // A joined room holds at least its user's own membership.
        let own_member: Raw<AnySyncStateEvent> = serde_json::from_value(json!({
            "type": "m.room.member",
            "state_key": OWN_USER,
            "sender": OWN_USER,
            "event_id": "$capneg-member:localhost",
            "origin_server_ts": 0,
            "content": {"membership": "join"},
        }))
        .expect("a literal state event");
        let room = server
            .sync_room(
                &client,
                JoinedRoomBuilder::new(room_id!("!capneg:localhost")).add_state_event(own_member),
            )
            .await;

        Homeserver {
            _server: server,
            room,
        }
    }
}
