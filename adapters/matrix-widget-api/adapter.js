#!/usr/bin/env node
// capneg adapter (docs/spec.md §8) around the real `matrix-widget-api` ClientWidgetApi.
//
// stdin  (JSON Lines): {"start": {...}} | {"widget": ENVELOPE} | {"decision": {"approved": [..]}}
// stdout (JSON Lines): {"client": ENVELOPE} | {"prompt": {"capabilities": [..]}} ..., then {"idle": {}}
//
// The library is meant for a browser. Under plain Node this file provides the few things it
// touches: `globalThis.addEventListener`/`removeEventListener` (the transport listens for
// `message` events on `globalThis`), a fake iframe (`contentWindow.postMessage`,
// `addEventListener("load")`), and inert timers. See README.md for every mapping decision.
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

const readline = require("node:readline");

const DEBUG = process.env.CAPNEG_ADAPTER_DEBUG === "1";
const CLOCK = process.env.CAPNEG_ADAPTER_CLOCK || "step";
const EMBEDDER = process.env.CAPNEG_ADAPTER_EMBEDDER || "element";
const WIDGET_URL = "https://widget.invalid/";
const CLOCK_EPOCH = 1700000000000;

if (!["step", "fixed", "real"].includes(CLOCK)) {
    process.stderr.write(`capneg adapter: CAPNEG_ADAPTER_CLOCK must be step, fixed or real, not ${CLOCK}\n`);
    process.exit(2);
}
if (!["element", "none"].includes(EMBEDDER)) {
    process.stderr.write(`capneg adapter: CAPNEG_ADAPTER_EMBEDDER must be element or none, not ${EMBEDDER}\n`);
    process.exit(2);
}

function note(text) {
    process.stderr.write(`capneg adapter: ${text}\n`);
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

// ---------------------------------------------------------------------------------------------
// Environment shims, installed before the library is loaded.

// 1. The library logs every message it posts with console.log: stdout is the protocol channel.
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = DEBUG
        ? (...args) => process.stderr.write(`[matrix-widget-api ${level}] ${args.map(fmtArg).join(" ")}\n`)
        : () => {};
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

// 2. Inert timers. The library arms a request timeout per outbound request
//    (PostmessageTransport.sendComplete) and a 10 s content_loaded watchdog
//    (ClientWidgetApi.onIframeLoad). Outputs may only come in reaction to a command, so these
//    never fire; the adapter itself uses setImmediate only.
const inertTimer = () => ({ ref() { return this; }, unref() { return this; }, hasRef: () => false, refresh() { return this; } });
globalThis.setTimeout = () => inertTimer();
globalThis.setInterval = () => inertTimer();
globalThis.clearTimeout = () => {};
globalThis.clearInterval = () => {};

// 3. A deterministic clock for requestIds (see CAPNEG_ADAPTER_CLOCK).
let clockNow = CLOCK_EPOCH;
if (CLOCK !== "real") Date.now = () => clockNow;

// 4. `globalThis` as the client window the transport listens on. Listeners run synchronously
//    and an exception in one is reported, not rethrown (Node's EventTarget would rethrow it on
//    the next tick and kill the process).
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
            note(`the library threw while handling a widget message: ${describe(e)}`);
        }
    }
}

// 5. Whatever escapes the library's promise chains is reported, never fatal.
process.on("unhandledRejection", (reason) => note(`unhandled rejection in the library: ${describe(reason)}`));

const { ClientWidgetApi, Widget, WidgetDriver, MatrixWidgetType, MatrixCapabilities } = require("matrix-widget-api");

// ---------------------------------------------------------------------------------------------
// Output. Lines of one reaction are collected and written together with the closing idle.

let outBuffer = [];
let outCount = 0;
function emit(obj) {
    outBuffer.push(JSON.stringify(obj));
    outCount++;
}
function flushWithIdle() {
    outBuffer.push(JSON.stringify({ idle: {} }));
    process.stdout.write(outBuffer.join("\n") + "\n");
    outBuffer = [];
}

// Lets every promise chain the library started settle: a setImmediate callback only runs once
// the microtask and nextTick queues are empty, and with inert timers nothing else can schedule
// work. Loop until a whole turn produced no output (one turn is enough in practice).
async function settle() {
    for (;;) {
        const before = outCount;
        await new Promise((resolve) => setImmediate(resolve));
        if (outCount === before) return;
    }
}

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
                let clone;
                try {
                    clone = structuredClone(message);
                } catch (e) {
                    note(`cannot clone a client message: ${describe(e)}`);
                    return;
                }
                emit({ client: clone });
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
        let data;
        try {
            data = structuredClone(envelope);
        } catch (e) {
            note(`cannot clone the widget message: ${describe(e)}`);
            return;
        }
        dispatchToWindow({ type: "message", data, origin: this.widget.origin, source: this.contentWindow });
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

class BadInput extends Error {}

function isStringArray(v) {
    return Array.isArray(v) && v.every((s) => typeof s === "string");
}
function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

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
            if (body.autoApprove !== undefined && !isStringArray(body.autoApprove)) {
                throw new BadInput("start: autoApprove must be an array of strings");
            }
            if (body.waitForContentLoaded !== undefined && typeof body.waitForContentLoaded !== "boolean") {
                throw new BadInput("start: waitForContentLoaded must be a boolean");
            }
            return { kind, body };
        case "widget":
            // Any JSON value: odd envelopes are the library's business, not a protocol error.
            return { kind, body };
        case "decision":
            if (!isPlainObject(body) || !isStringArray(body.approved)) {
                throw new BadInput("decision: expected {\"approved\": [strings]}");
            }
            return { kind, body };
        default:
            throw new BadInput(`unknown command ${JSON.stringify(kind)} (expected start, widget or decision)`);
    }
}

let session = null;

function run(command) {
    switch (command.kind) {
        case "start":
            if (session) session.stop();
            session = null;
            clockNow = CLOCK_EPOCH;
            session = new Session(command.body);
            break;
        case "widget":
            if (!session) note("widget message before any start: ignored");
            else session.fromWidget(command.body);
            break;
        case "decision":
            if (!session) note("decision before any start: ignored");
            else session.decide(command.body.approved);
            break;
    }
}

async function main() {
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
            process.stderr.write(`capneg adapter: stdin line ${lineNo}: ${e.message}\n`);
            process.exit(2);
        }
        if (CLOCK === "step") clockNow++;
        try {
            run(command);
        } catch (e) {
            note(`stdin line ${lineNo}: the library threw: ${describe(e)}`);
        }
        await settle();
        flushWithIdle();
    }
    process.exit(0);
}

main().catch((e) => {
    process.stderr.write(`capneg adapter: internal error: ${e && e.stack ? e.stack : e}\n`);
    process.exit(3);
});
