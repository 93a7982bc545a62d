#!/usr/bin/env node
// capneg widget adapter (docs/spec.md §9.3) around the real `matrix-widget-api` WidgetApi (the widget side).
//
// stdin  (JSON Lines): {"start": {"widgetId", "capabilities": [..]}} | {"client": ENVELOPE}
//                      | {"request": {"capabilities": [..]}}
// stdout (JSON Lines): {"widget": ENVELOPE} ..., then {"view": {"approved": [..]}}, then {"idle": {}}
//
// The environment (a parent window, the widget's own window, inert timers, a deterministic
// clock, the console) is ../widget-host.js. See WIDGET-README.md for every mapping decision.
"use strict";

const host = require("../widget-host.js"); // first: installs the shims the library needs
const { WidgetApi } = require("matrix-widget-api");

host.main({
    name: "matrix-widget-api",
    createWidget(ctx) {
        // What a widget does (the library's README): create the API for its widgetId and the
        // client's origin (both from its URL), request its capabilities, start the messaging.
        const api = new WidgetApi(ctx.widgetId, ctx.clientOrigin);
        api.requestCapabilities(ctx.capabilities);
        api.start();
        if (ctx.contentLoaded) ctx.watch(api.sendContentLoaded(), "sendContentLoaded");
        return {
            // The library's own answer to "may I?" (WidgetApi.hasCapability).
            has: (capability) => api.hasCapability(capability),
            // MSC2974 as the library documents it: queue the capabilities, then ask. A throw of
            // requestCapabilities (the client did not advertise org.matrix.msc2974) ends the
            // application's attempt before anything is sent.
            request(capabilities) {
                api.requestCapabilities(capabilities);
                ctx.watch(api.updateRequestedCapabilities(), "updateRequestedCapabilities");
            },
            stop() {
                api.transport.stop();
                api.removeAllListeners();
            },
        };
    },
});
