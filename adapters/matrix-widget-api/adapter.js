#!/usr/bin/env node
// capneg adapter (docs/spec.md §8) around the real `matrix-widget-api` ClientWidgetApi.
//
// stdin  (JSON Lines): {"start": {...}} | {"widget": ENVELOPE} | {"decision": {"approved": [..]}}
// stdout (JSON Lines): {"client": ENVELOPE} | {"prompt": {"capabilities": [..]}} ..., then {"idle": {}}
//
// The library is meant for a browser. Under plain Node, ../adapter-core.js provides most of what
// it touches: `globalThis.addEventListener`/`removeEventListener` (the transport listens for
// `message` events on `globalThis`), inert timers, a deterministic clock; this file adds a fake
// iframe (`contentWindow.postMessage`, `addEventListener("load")`). See README.md for every
// mapping decision.
//
// Environment (all optional):
//   CAPNEG_ADAPTER_DEBUG=1        the library's console output and adapter notes go to stderr
//   CAPNEG_ADAPTER_CLOCK=step     Date.now seen by the library (requestIds are
//                                 `widgetapi-${Date.now()}`): `step` (default) advances 1 ms per
//                                 stdin line and restarts at every `start`; `fixed` never
//                                 advances; `real` is the real clock
//   CAPNEG_ADAPTER_EMBEDDER=none  do not answer `set_always_on_screen` like an embedding client
//                                 would; the bare library then rejects it as an unknown action
"use strict";

const core = require("../adapter-core.js");
const { describe, fmtArg, BadInput } = core;

// Installs the environment shims the library needs (see ../adapter-core.js): before the library
// is loaded.
const host = core.install({ prefix: "capneg adapter", library: "matrix-widget-api", foldNotes: false, peer: "widget" });
const { note, debug, emit } = host;

const EMBEDDER = host.choice("CAPNEG_ADAPTER_EMBEDDER", "element", ["element", "none"]);
const WIDGET_URL = "https://widget.invalid/";

// Whatever escapes the library's promise chains is reported, never fatal.
process.on("unhandledRejection", (reason) => note(`unhandled rejection in the library: ${describe(reason)}`));

const { ClientWidgetApi, Widget, WidgetDriver, MatrixWidgetType, MatrixCapabilities } = require("matrix-widget-api");

// ---------------------------------------------------------------------------------------------
// Session

class AdapterDriver extends WidgetDriver {
    constructor(session) {
        super();
        this.session = session;
        this.eventCounter = 0;
    }

    // autoApprove ∩ requested without asking; the rest, if any, is prompted and answered by the
    // next decision (oldest open prompt first). Result: auto ∪ (decision ∩ rest).
    validateCapabilities(requested) {
        const session = this.session;
        const auto = new Set();
        const rest = [];
        for (const cap of requested) {
            if (session.autoApprove.has(cap)) auto.add(cap);
            else rest.push(cap);
        }
        if (rest.length === 0) return Promise.resolve(auto);
        if (session.active) emit({ prompt: { capabilities: rest } });
        return new Promise((resolve) => {
            session.openPrompts.push({
                rest,
                answer(approved) {
                    const result = new Set(auto);
                    const ok = new Set(approved);
                    for (const cap of rest) if (ok.has(cap)) result.add(cap);
                    resolve(result);
                },
            });
        });
    }

    // send_event passed the library's capability check: pretend the homeserver accepted it.
    sendEvent(eventType, content, stateKey = null, roomId = null) {
        this.eventCounter++;
        return Promise.resolve({
            roomId: roomId || "!room:widget.invalid",
            eventId: `$capneg-${this.eventCounter}:widget.invalid`,
        });
    }

    // The adapter's client knows no rooms (the default throws, e.g. when a
    // `org.matrix.msc2762.timeline:*` capability is approved).
    getKnownRooms() {
        return [];
    }
}

class Session {
    constructor(start) {
        this.widgetId = start.widgetId;
        this.autoApprove = new Set(start.autoApprove || []);
        this.waitForContentLoaded = start.waitForContentLoaded === true;
        this.openPrompts = []; // FIFO
        this.active = true;

        const session = this;
        const loadListeners = [];
        this.contentWindow = {
            postMessage(message, targetOrigin) {
                if (!session.active) {
                    debug(`dropped a message posted to a stopped session's iframe: ${fmtArg(message)}`);
                    return;
                }
                if (targetOrigin !== session.widget.origin && targetOrigin !== "*") {
                    debug(`message posted with targetOrigin ${targetOrigin}`);
                }
                host.withClone(message, "a client message", (clone) => emit({ client: clone }));
            },
        };
        this.iframe = {
            contentWindow: this.contentWindow,
            addEventListener(type, listener) {
                if (type === "load") loadListeners.push(listener);
            },
            removeEventListener(type, listener) {
                const i = loadListeners.indexOf(listener);
                if (i >= 0) loadListeners.splice(i, 1);
            },
        };

        this.widget = new Widget({
            id: this.widgetId,
            creatorUserId: "@capneg:widget.invalid",
            type: MatrixWidgetType.Custom,
            url: WIDGET_URL,
            // waitForIframeLoad=true (the library's default): capabilities right after the iframe
            // `load`; false: after the widget's content_loaded.
            waitForIframeLoad: !this.waitForContentLoaded,
        });
        this.driver = new AdapterDriver(this);
        this.api = new ClientWidgetApi(this.widget, this.iframe, this.driver);

        if (EMBEDDER === "element") {
            // The library leaves set_always_on_screen to the embedding client (it is not in
            // ClientWidgetApi.handleMessage's switch); answer it like one: ack iff approved.
            this.api.on("action:set_always_on_screen", (ev) => {
                ev.preventDefault();
                const request = ev.detail;
                let response;
                if (!this.api.hasCapability(MatrixCapabilities.AlwaysOnScreen)) {
                    response = { error: { message: "Missing capability: m.always_on_screen" } };
                } else if (typeof request.data?.value !== "boolean") {
                    response = { error: { message: "Invalid request - value must be a boolean" } };
                } else {
                    response = {};
                }
                this.api.transport.reply(request, response);
            });
        }

        // The iframe has loaded.
        for (const listener of [...loadListeners]) listener.call(this.iframe, { type: "load", target: this.iframe });
    }

    stop() {
        this.active = false;
        this.openPrompts = [];
        try {
            this.api.stop();
        } catch (e) {
            note(`stopping the previous session: ${describe(e)}`);
        }
        this.api.removeAllListeners();
    }

    fromWidget(envelope) {
        host.withClone(envelope, "the widget message", (data) => {
            host.dispatchToWindow({ type: "message", data, origin: this.widget.origin, source: this.contentWindow });
        });
    }

    decide(approved) {
        const prompt = this.openPrompts.shift();
        if (!prompt) {
            note("decision without an open prompt: ignored");
            return;
        }
        prompt.answer(approved);
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

const commands = {
    start: {
        check(body) {
            core.checkStart(body, ["autoApprove"]);
            if (body.waitForContentLoaded !== undefined && typeof body.waitForContentLoaded !== "boolean") {
                throw new BadInput("start: waitForContentLoaded must be a boolean");
            }
            return body;
        },
        begin: (body) => new Session(body),
    },
    widget: core.anyValue("widget message", (session, envelope) => session.fromWidget(envelope)),
    decision: core.listOf("decision", "approved", (session, approved) => session.decide(approved)),
};

host.serve({ commands });
