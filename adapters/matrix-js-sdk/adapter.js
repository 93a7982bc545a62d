#!/usr/bin/env node
// capneg widget adapter (docs/spec.md §9.3) around the real `matrix-js-sdk` RoomWidgetClient (the widget
// side Element Call uses), on top of matrix-widget-api's WidgetApi.
//
// stdin  (JSON Lines): {"start": {"widgetId", "capabilities": [..]}} | {"client": ENVELOPE}
//                      | {"request": {"capabilities": [..]}}
// stdout (JSON Lines): {"widget": ENVELOPE} ..., then {"view": {"approved": [..]}}, then {"idle": {}}
//
// The environment (a parent window, the widget's own window, inert timers, a deterministic
// clock, the console) is ../widget-host.js. This file adds one shim, `Promise.withResolvers`,
// which matrix-js-sdk needs and Node 20 lacks. See README.md for every mapping decision.
//
// Environment (besides the host's):
//   CAPNEG_ADAPTER_WITH_RESOLVERS=0  do not install Promise.withResolvers (see below)
//   CAPNEG_ADAPTER_START_CLIENT=1  also call client.startClient(), as Element Call does (it waits
//                                  for the WidgetApi's `ready`, then backfills room state with
//                                  read_events requests unless the client advertised
//                                  org.matrix.msc2762_update_state)
"use strict";

const host = require("../widget-host.js"); // first: installs the shims the libraries need

// matrix-js-sdk 43 declares `engines: node >= 22`: RoomWidgetClient has a class field
// `syncApiResolver = Promise.withResolvers()` (src/embedded.ts:336), an ES2024 function that
// Node 20 does not have ("TypeError: Promise.withResolvers is not a function" from the
// constructor). Installed only where missing, with the standard semantics;
// CAPNEG_ADAPTER_WITH_RESOLVERS=0 leaves it out, to see the library fail.
const WITH_RESOLVERS = host.flag("CAPNEG_ADAPTER_WITH_RESOLVERS", "1");
if (WITH_RESOLVERS && typeof Promise.withResolvers !== "function") {
    Object.defineProperty(Promise, "withResolvers", {
        configurable: true,
        writable: true,
        value: function withResolvers() {
            let resolve;
            let reject;
            const promise = new this((res, rej) => {
                resolve = res;
                reject = rej;
            });
            return { promise, resolve, reject };
        },
    });
}

const START_CLIENT = host.flag("CAPNEG_ADAPTER_START_CLIENT", "0");

// The same (CommonJS) module instance matrix-js-sdk imports.
const { WidgetApi, WidgetEventCapability, EventDirection, EventKind, MatrixCapabilities } = require("matrix-widget-api");

const ROOM_ID = "!room:widget.invalid";
const CLIENT_OPTS = { baseUrl: "https://hs.invalid", userId: "@widget:widget.invalid", deviceId: "CAPNEG" };

// RoomWidgetClient takes an ICapabilities object (src/embedded.ts:79-173), not capability
// strings. A string goes through ICapabilities when RoomWidgetClient would request exactly that
// string for some field (src/embedded.ts:264-330); every other one is requested by the
// application on the WidgetApi before the client is constructed, as Element Call does for
// m.always_on_screen.
function toICapabilities(list) {
    const caps = {};
    const direct = [];
    const push = (field, value) => (caps[field] = caps[field] || []).push(value);
    let events = false;
    for (const raw of list) {
        if (raw === MatrixCapabilities.MSC3846TurnServers) {
            caps.turnServers = true;
            continue;
        }
        const parsed = WidgetEventCapability.findEventCapabilities([raw])[0];
        let mapped = null; // [field, value, the string RoomWidgetClient would request]
        if (parsed && parsed.kind === EventKind.Event) {
            const send = parsed.direction === EventDirection.Send;
            if (parsed.eventType === "m.room.message" && parsed.keyStr !== null) {
                mapped = [send ? "sendMessage" : "receiveMessage", parsed.keyStr,
                    WidgetEventCapability.forRoomMessageEvent(parsed.direction, parsed.keyStr)];
            } else {
                mapped = [send ? "sendEvent" : "receiveEvent", parsed.eventType,
                    WidgetEventCapability.forRoomEvent(parsed.direction, parsed.eventType)];
            }
        } else if (parsed && parsed.kind === EventKind.State) {
            const stateKey = parsed.keyStr === null ? undefined : parsed.keyStr;
            mapped = [parsed.direction === EventDirection.Send ? "sendState" : "receiveState",
                { eventType: parsed.eventType, stateKey },
                WidgetEventCapability.forStateEvent(parsed.direction, parsed.eventType, stateKey)];
        } else if (parsed && parsed.kind === EventKind.ToDevice) {
            mapped = [parsed.direction === EventDirection.Send ? "sendToDevice" : "receiveToDevice", parsed.eventType,
                WidgetEventCapability.forToDeviceEvent(parsed.direction, parsed.eventType)];
        }
        if (mapped && mapped[2] && mapped[2].raw === raw) {
            push(mapped[0], mapped[1]);
            if (!["sendToDevice", "receiveToDevice"].includes(mapped[0])) events = true;
        } else {
            direct.push(raw);
        }
    }
    // RoomWidgetClient adds the timeline capability for its room itself when it asks for any
    // room event or state (src/embedded.ts:266-277): the application does not ask for it twice.
    const timeline = `org.matrix.msc2762.timeline:${ROOM_ID}`;
    return { caps, direct: events ? direct.filter((c) => c !== timeline) : direct };
}

let sdk = null;

host.main({
    name: "matrix-js-sdk",
    async load() {
        sdk = await import("matrix-js-sdk"); // an ES module
    },
    createWidget(ctx) {
        const widgetApi = new WidgetApi(ctx.widgetId, ctx.clientOrigin);
        const { caps, direct } = toICapabilities(ctx.capabilities);
        for (const c of direct) widgetApi.requestCapability(c);
        // createRoomWidgetClient -> new RoomWidgetClient: requests the capabilities, subscribes,
        // calls widgetApi.start() and, with sendContentLoaded, sendContentLoaded().
        const client = sdk.createRoomWidgetClient(widgetApi, caps, ROOM_ID, CLIENT_OPTS, ctx.contentLoaded);
        if (START_CLIENT) ctx.watch(client.startClient(), "startClient");
        return {
            // RoomWidgetClient keeps no capability state of its own: the one check it makes
            // before acting asks its WidgetApi (src/embedded.ts:568).
            has: (capability) => widgetApi.hasCapability(capability),
            // The application cannot ask: RoomWidgetClient requests capabilities once, in its
            // constructor, and has no method to ask for more.
            request() {
                ctx.note(
                    "request not made: RoomWidgetClient offers no way to ask for more capabilities (it requests them once, in its constructor: src/embedded.ts:248)",
                );
            },
            stop() {
                widgetApi.transport.stop();
                widgetApi.removeAllListeners();
            },
        };
    },
});
