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

const readline = require("node:readline");

const DEBUG = process.env.CAPNEG_ADAPTER_DEBUG === "1";
const CLOCK = process.env.CAPNEG_ADAPTER_CLOCK || "step";
const CONTENT_LOADED = process.env.CAPNEG_ADAPTER_CONTENT_LOADED || "0";
const CLIENT_ORIGIN = "https://client.invalid";
const WIDGET_BASE_URL = "https://widget.invalid/";
const CLOCK_EPOCH = 1700000000000;
const PREFIX = "capneg widget adapter";

function fail(text) {
    process.stderr.write(`${PREFIX}: ${text}\n`);
    process.exit(2);
}
if (!["step", "fixed", "real"].includes(CLOCK)) fail(`CAPNEG_ADAPTER_CLOCK must be step, fixed or real, not ${CLOCK}`);
if (!["0", "1"].includes(CONTENT_LOADED)) fail(`CAPNEG_ADAPTER_CONTENT_LOADED must be 0 or 1, not ${CONTENT_LOADED}`);

// One line, whatever the text holds.
function oneLine(text) {
    return String(text).replace(/\s*\n\s*/g, " ");
}
function note(text) {
    process.stderr.write(`${PREFIX}: ${oneLine(text)}\n`);
}
function debug(text) {
    if (DEBUG) note(text);
}
function describe(err) {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    try {
        return JSON.stringify(err);
    } catch {
        return String(err);
    }
}
function fmtArg(a) {
    if (typeof a === "string") return a;
    if (a instanceof Error) return describe(a);
    try {
        return JSON.stringify(a);
    } catch {
        return String(a);
    }
}

// ---------------------------------------------------------------------------------------------
// Environment shims, installed when this module is loaded (before the library).

// 1. The libraries log every message they post (PostmessageTransport.sendInternal), and
//    matrix-js-sdk's logger writes to the console: stdout is the protocol channel.
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = DEBUG
        ? (...args) => process.stderr.write(`[library ${level}] ${oneLine(args.map(fmtArg).join(" "))}\n`)
        : () => {};
}

// 2. Inert timers. The transport arms a 10 s timeout per outbound request
//    (PostmessageTransport.sendComplete). Outputs may only come in reaction to a command, so it
//    never fires and an unanswered request simply stays open. The host uses setImmediate only.
const inertTimer = () => ({ ref() { return this; }, unref() { return this; }, hasRef: () => false, refresh() { return this; } });
globalThis.setTimeout = () => inertTimer();
globalThis.setInterval = () => inertTimer();
globalThis.clearTimeout = () => {};
globalThis.clearInterval = () => {};

// 3. A deterministic clock for requestIds (see CAPNEG_ADAPTER_CLOCK).
let clockNow = CLOCK_EPOCH;
if (CLOCK !== "real") Date.now = () => clockNow;

// 4. `globalThis` as the widget's own window, on which the transport listens for `message`.
//    Listeners run synchronously; an exception in one is reported, not rethrown (Node's
//    EventTarget would rethrow it on the next tick and end the process).
const windowListeners = new Map(); // type -> array of listeners
globalThis.addEventListener = (type, listener) => {
    const list = windowListeners.get(type) || [];
    if (!list.includes(listener)) list.push(listener);
    windowListeners.set(type, list);
};
globalThis.removeEventListener = (type, listener) => {
    const list = windowListeners.get(type) || [];
    windowListeners.set(type, list.filter((l) => l !== listener));
};
function dispatchToWindow(ev) {
    for (const listener of [...(windowListeners.get(ev.type) || [])]) {
        try {
            if (typeof listener === "function") listener.call(globalThis, ev);
            else listener.handleEvent(ev);
        } catch (e) {
            note(`the library threw while handling a client message: ${describe(e)}`);
        }
    }
}

// 5. Whatever escapes the library's promise chains is reported, never fatal.
process.on("unhandledRejection", (reason) => {
    if (current && current.active) note(`unhandled rejection in the library: ${describe(reason)}`);
    else debug(`unhandled rejection after teardown: ${describe(reason)}`);
});

// ---------------------------------------------------------------------------------------------
// Output. Lines of one reaction are collected and written together with the view and idle.

let outBuffer = [];
let outCount = 0;
function emit(obj) {
    outBuffer.push(JSON.stringify(obj));
    outCount++;
}
function flush(view) {
    outBuffer.push(JSON.stringify({ view: { approved: view } }));
    outBuffer.push(JSON.stringify({ idle: {} }));
    process.stdout.write(outBuffer.join("\n") + "\n");
    outBuffer = [];
}

// Lets every promise chain the library started settle: a setImmediate callback only runs once
// the microtask and nextTick queues are empty, and with inert timers nothing else can schedule
// work. Loops until a whole turn produced no output (one turn is enough in practice).
async function settle() {
    for (;;) {
        const before = outCount;
        await new Promise((resolve) => setImmediate(resolve));
        if (outCount === before) return;
    }
}

// ---------------------------------------------------------------------------------------------
// The widget

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isStringArray = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");
const REEXCHANGE_ACTIONS = ["org.matrix.msc2974.request_capabilities", "request_capabilities"];

let current = null; // the live Widget, if any

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
                let clone;
                try {
                    clone = structuredClone(message);
                } catch (e) {
                    note(`cannot clone a widget message: ${describe(e)}`);
                    return;
                }
                widget.sawWidgetMessage(clone);
                emit({ widget: clone });
            },
        };
        globalThis.parent = this.parent;

        const query = `?widgetId=${encodeURIComponent(this.widgetId)}&parentUrl=${encodeURIComponent(`${CLIENT_ORIGIN}/`)}`;
        const ctx = {
            widgetId: this.widgetId,
            capabilities: [...start.capabilities],
            clientOrigin: CLIENT_ORIGIN,
            widgetUrl: `${WIDGET_BASE_URL}${query}`,
            contentLoaded: CONTENT_LOADED === "1",
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
        let data;
        try {
            data = structuredClone(envelope);
        } catch (e) {
            note(`cannot clone the client message: ${describe(e)}`);
            return;
        }
        this.sawClientMessage(data);
        dispatchToWindow({ type: "message", data, origin: CLIENT_ORIGIN, source: this.parent });
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

class BadInput extends Error {}

function parseCommand(line) {
    let value;
    try {
        value = JSON.parse(line);
    } catch (e) {
        throw new BadInput(`not JSON: ${e.message}`);
    }
    if (!isPlainObject(value)) throw new BadInput("expected a JSON object");
    const keys = Object.keys(value);
    if (keys.length !== 1) throw new BadInput(`expected exactly one key, got ${keys.length}`);
    const [kind] = keys;
    const body = value[kind];
    switch (kind) {
        case "start":
            if (!isPlainObject(body)) throw new BadInput("start: expected an object");
            if (typeof body.widgetId !== "string" || body.widgetId === "") {
                throw new BadInput("start: widgetId must be a non-empty string");
            }
            if (body.capabilities !== undefined && !isStringArray(body.capabilities)) {
                throw new BadInput("start: capabilities must be an array of strings");
            }
            return { kind, body: { widgetId: body.widgetId, capabilities: body.capabilities || [] } };
        case "client":
            // Any JSON value: odd envelopes are the library's business, not a protocol error.
            return { kind, body };
        case "request":
            if (!isPlainObject(body) || !isStringArray(body.capabilities)) {
                throw new BadInput('request: expected {"capabilities": [strings]}');
            }
            return { kind, body };
        default:
            throw new BadInput(`unknown command ${JSON.stringify(kind)} (expected start, client or request)`);
    }
}

function run(binding, command) {
    switch (command.kind) {
        case "start":
            if (current) current.stop();
            current = null;
            clockNow = CLOCK_EPOCH;
            current = new Widget(binding, command.body);
            break;
        case "client":
            if (!current) note("client message before any start: ignored");
            else current.fromClient(command.body);
            break;
        case "request":
            if (!current) note("request before any start: ignored");
            else current.request(command.body.capabilities);
            break;
    }
}

async function main(binding) {
    try {
        if (binding.load) await binding.load();
    } catch (e) {
        process.stderr.write(`${PREFIX}: cannot load ${binding.name}: ${e && e.stack ? e.stack : e}\n`);
        process.exit(3);
    }
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    let lineNo = 0;
    for await (const line of rl) {
        lineNo++;
        if (line.trim() === "") continue;
        let command;
        try {
            command = parseCommand(line);
        } catch (e) {
            if (!(e instanceof BadInput)) throw e;
            fail(`stdin line ${lineNo}: ${e.message}`);
        }
        if (CLOCK === "step") clockNow++;
        try {
            run(binding, command);
        } catch (e) {
            note(`stdin line ${lineNo}: the library threw: ${describe(e)}`);
        }
        await settle();
        flush(current ? current.view() : []);
    }
    process.exit(0);
}

module.exports = {
    main(binding) {
        main(binding).catch((e) => {
            process.stderr.write(`${PREFIX}: internal error: ${e && e.stack ? e.stack : e}\n`);
            process.exit(3);
        });
    },
    describe,
    CLIENT_ORIGIN,
};
