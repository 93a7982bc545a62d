// The host shared by the capneg widget adapters (docs/spec.md §9.3): everything that is not the library.
//
//   const host = require("../widget-host.js");   // installs the environment shims: load it first
//   const { WidgetApi } = require("matrix-widget-api");
//   host.main({ name, load?, createWidget(ctx) });
//
// stdin  (JSON Lines): {"start": {"widgetId", "capabilities": [..]}} | {"client": ENVELOPE}
//                      | {"request": {"capabilities": [..]}}
// stdout (JSON Lines): {"widget": ENVELOPE} ..., then {"view": {"approved": [..]}}, then {"idle": {}}
//
// A widget lives in an iframe: its library posts to `window.parent` and listens for `message`
// events on its own window. Under plain Node this module provides exactly that: a fresh
// `globalThis.parent` per widget (its `postMessage` writes `{"widget": ..}` lines) and
// `globalThis.addEventListener`/`removeEventListener` (a `{"client": ..}` line becomes a
// `message` event dispatched to the listeners). Timers are inert, the clock is deterministic and
// the console goes to stderr only when asked: see each adapter's README.
//
// The binding (one per library) gets a context for each `start`:
//   ctx.widgetId, ctx.capabilities   from the start command
//   ctx.clientOrigin                 "https://client.invalid" (the parent window's origin)
//   ctx.widgetUrl                    the URL the client would have loaded the widget from
//   ctx.contentLoaded                CAPNEG_ADAPTER_CONTENT_LOADED=1: the application announces
//                                    content_loaded right after starting its library
//   ctx.watch(promise, what)         reports a rejection of an application-level promise
//   ctx.note(text)                   one line on stderr (dropped once the widget is torn down)
//   ctx.isActive()                   false once a later start tore this widget down
// and returns { has(capability) -> bool, request(capabilities), stop() }: `has` is the widget's
// own belief (the view is every capability of the session for which it is true), `request` is
// what the application does to ask its library for more (it may throw: the refusal is noted on
// stderr), `stop` tears the widget down.
//
// Environment (all optional):
//   CAPNEG_ADAPTER_DEBUG=1            the library's console output and adapter notes go to stderr
//   CAPNEG_ADAPTER_CLOCK=step         Date.now seen by the library (requestIds are
//                                     `widgetapi-${Date.now()}`): `step` (default) is
//                                     1700000000000 at every `start` and advances 1 ms per command
//                                     (non-blank stdin line); `fixed` never advances; `real` is
//                                     the real clock
//   CAPNEG_ADAPTER_CONTENT_LOADED=1   see ctx.contentLoaded
"use strict";

const core = require("./adapter-core.js");
const { describe, fmtArg, isPlainObject } = core;

const PREFIX = "capneg widget adapter";
// The environment shims (see adapter-core.js), installed when this module is loaded (before the
// library).
const host = core.install({ prefix: PREFIX, library: "library", foldNotes: true, peer: "client" });
const { note, debug, emit } = host;

const CONTENT_LOADED = host.flag("CAPNEG_ADAPTER_CONTENT_LOADED", "0");
const CLIENT_ORIGIN = "https://client.invalid";
const WIDGET_BASE_URL = "https://widget.invalid/";

// Whatever escapes the library's promise chains is reported, never fatal.
process.on("unhandledRejection", (reason) => {
    const current = host.session();
    if (current && current.active) note(`unhandled rejection in the library: ${describe(reason)}`);
    else debug(`unhandled rejection after teardown: ${describe(reason)}`);
});

// ---------------------------------------------------------------------------------------------
// The widget

const REEXCHANGE_ACTIONS = ["org.matrix.msc2974.request_capabilities", "request_capabilities"];

class Widget {
    constructor(binding, start) {
        this.widgetId = start.widgetId;
        this.active = true;
        // Every capability of the session, in order of first appearance: the application's
        // lists, what the widget itself asked for on the wire (it may add some), and what the
        // client's notifies to this widget named.
        this.candidates = new Set();
        this.addAll(start.capabilities);

        const widget = this;
        // The client's window, as seen from the iframe.
        this.parent = {
            postMessage(message, targetOrigin) {
                if (!widget.active) {
                    debug(`dropped a message posted by a torn-down widget: ${fmtArg(message)}`);
                    return;
                }
                if (targetOrigin !== CLIENT_ORIGIN && targetOrigin !== "*") {
                    debug(`message posted with targetOrigin ${fmtArg(targetOrigin)}`);
                }
                host.withClone(message, "a widget message", (clone) => {
                    widget.sawWidgetMessage(clone);
                    emit({ widget: clone });
                });
            },
        };
        globalThis.parent = this.parent;

        const query = `?widgetId=${encodeURIComponent(this.widgetId)}&parentUrl=${encodeURIComponent(`${CLIENT_ORIGIN}/`)}`;
        const ctx = {
            widgetId: this.widgetId,
            capabilities: [...start.capabilities],
            clientOrigin: CLIENT_ORIGIN,
            widgetUrl: `${WIDGET_BASE_URL}${query}`,
            contentLoaded: CONTENT_LOADED,
            note: (text) => {
                if (widget.active) note(text);
                else debug(`after teardown: ${text}`);
            },
            watch: (promise, what) => {
                Promise.resolve(promise).catch((e) => ctx.note(`${what} failed: ${describe(e)}`));
                return promise;
            },
            isActive: () => widget.active,
        };
        try {
            this.impl = binding.createWidget(ctx);
        } catch (e) {
            this.active = false; // whatever the library set up before it threw stays silent
            throw e;
        }
    }

    addAll(list) {
        if (!Array.isArray(list)) return;
        for (const c of list) if (typeof c === "string") this.candidates.add(c);
    }

    // The widget's own capabilities answer and MSC2974 requests.
    sawWidgetMessage(env) {
        if (!isPlainObject(env) || env.widgetId !== this.widgetId) return;
        if (env.action === "capabilities" && isPlainObject(env.response)) this.addAll(env.response.capabilities);
        if (REEXCHANGE_ACTIONS.includes(env.action) && env.response === undefined && isPlainObject(env.data)) {
            this.addAll(env.data.capabilities);
        }
    }

    // The client's notifies to this widget.
    sawClientMessage(env) {
        if (!isPlainObject(env) || env.widgetId !== this.widgetId) return;
        if (env.action === "notify_capabilities" && env.response === undefined && isPlainObject(env.data)) {
            this.addAll(env.data.requested);
            this.addAll(env.data.approved);
        }
    }

    fromClient(envelope) {
        host.withClone(envelope, "the client message", (data) => {
            this.sawClientMessage(data);
            host.dispatchToWindow({ type: "message", data, origin: CLIENT_ORIGIN, source: this.parent });
        });
    }

    request(capabilities) {
        this.addAll(capabilities);
        try {
            this.impl.request([...capabilities]);
        } catch (e) {
            note(`the library refused the application's request: ${describe(e)}`);
        }
    }

    view() {
        const approved = [];
        for (const c of this.candidates) {
            let has = false;
            try {
                has = this.impl.has(c) === true;
            } catch (e) {
                note(`the library threw while asked about ${c}: ${describe(e)}`);
            }
            if (has) approved.push(c);
        }
        return approved;
    }

    stop() {
        this.active = false;
        try {
            this.impl.stop();
        } catch (e) {
            debug(`tearing down the previous widget: ${describe(e)}`);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

// The commands of one binding.
function commandsOf(binding) {
    return {
        start: {
            check(body) {
                core.checkStart(body, ["capabilities"]);
                return { widgetId: body.widgetId, capabilities: body.capabilities || [] };
            },
            begin: (body) => new Widget(binding, body),
        },
        client: core.anyValue("client message", (widget, envelope) => widget.fromClient(envelope)),
        request: core.listOf("request", "capabilities", (widget, capabilities) => widget.request(capabilities)),
    };
}

module.exports = {
    main(binding) {
        host.serve({
            name: binding.name,
            load: binding.load && (() => binding.load()),
            commands: commandsOf(binding),
            // The widget's view closes every reaction.
            flush: () => {
                const current = host.session();
                emit({ view: { approved: current ? current.view() : [] } });
            },
        });
    },
    describe,
    flag: host.flag,
    CLIENT_ORIGIN,
};
