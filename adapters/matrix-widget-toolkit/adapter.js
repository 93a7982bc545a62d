#!/usr/bin/env node
// capneg widget adapter (docs/spec.md §9.3) around the real `@matrix-widget-toolkit/api` WidgetApiImpl,
// which wraps matrix-widget-api's WidgetApi.
//
// stdin  (JSON Lines): {"start": {"widgetId", "capabilities": [..]}} | {"client": ENVELOPE}
//                      | {"request": {"capabilities": [..]}}
// stdout (JSON Lines): {"widget": ENVELOPE} ..., then {"view": {"approved": [..]}}, then {"idle": {}}
//
// The environment (a parent window, the widget's own window, inert timers, a deterministic
// clock, the console) is ../widget-host.js; this file adds `window.location`, the only other
// thing the toolkit touches. See README.md for every mapping decision.
//
// Environment (besides the host's):
//   CAPNEG_ADAPTER_REQUIRES_CLIENT=1  the toolkit's default `supportStandalone: false`, which
//                                     adds `io.element.requires_client` to the initial list
"use strict";

const host = require("../widget-host.js"); // first: installs the shims the libraries need
const { WidgetApi } = require("matrix-widget-api"); // the copy the toolkit itself loads
const { WidgetApiImpl, extractWidgetApiParameters, extractWidgetParameters } = require("@matrix-widget-toolkit/api");

const REQUIRES_CLIENT = host.flag("CAPNEG_ADAPTER_REQUIRES_CLIENT", "0");

host.main({
    name: "@matrix-widget-toolkit/api",
    createWidget(ctx) {
        // The toolkit reads its widgetId and the client's origin from the URL the client loaded
        // the widget from (`window.location`: ?widgetId=..&parentUrl=..).
        globalThis.window = { location: new URL(ctx.widgetUrl) };

        // WidgetApiImpl.create(), step by step, so that the adapter holds the instance while
        // initialize() is pending (create() returns it only once initialize() resolved).
        const { widgetId, clientOrigin } = extractWidgetApiParameters();
        const matrixWidgetApi = new WidgetApi(widgetId, clientOrigin);
        const api = new WidgetApiImpl(matrixWidgetApi, widgetId, extractWidgetParameters(), {
            capabilities: ctx.capabilities,
            supportStandalone: !REQUIRES_CLIENT,
        });
        let initialized = false;
        // Resolves to whether initialize() succeeded (its failure is noted once, by watch).
        const initialization = ctx.watch(api.initialize(), "initialize").then(
            () => (initialized = true),
            () => false,
        );
        if (ctx.contentLoaded) ctx.watch(matrixWidgetApi.sendContentLoaded(), "sendContentLoaded");

        return {
            // The toolkit's own answer to "may I?".
            has: (capability) => api.hasCapabilities([capability]),
            // The application only holds the API once create() (here: initialize()) resolved: a
            // request before that waits for it, as `await WidgetApiImpl.create(..)` would.
            request(capabilities) {
                const ask = () => {
                    if (!ctx.isActive()) return;
                    ctx.watch(api.requestCapabilities(capabilities), "requestCapabilities");
                };
                if (initialized) ask();
                else {
                    initialization.then((ok) => {
                        if (ok) ask();
                        else ctx.note("request not made: initialize() failed, so the application holds no API");
                    });
                }
            },
            stop() {
                matrixWidgetApi.transport.stop();
                matrixWidgetApi.removeAllListeners();
            },
        };
    },
});
