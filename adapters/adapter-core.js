// What every capneg adapter on plain Node shares: the client adapter
// (matrix-widget-api/adapter.js, docs/spec.md §8) and the host of the widget adapters
// (widget-host.js, §9.3).
//
//   const core = require("../adapter-core.js");
//   const host = core.install({ prefix, library, foldNotes, peer }); // before the library loads
//   host.serve({ commands, flush?, load?, name? });
//
// `install` gives a browser library under Node what it touches (the console, timers, the clock,
// the window's `message` events) and returns the host: notes on stderr, the output of one
// reaction, and the loop that reads stdin's commands. Options:
//   prefix      what every stderr line of the adapter starts with ("capneg adapter")
//   library     the tag of the library's console lines on stderr (CAPNEG_ADAPTER_DEBUG=1)
//   foldNotes   notes and console lines are folded onto one line
//   peer        who posts the messages dispatched to the window ("widget", "client")
//
// Environment (all optional):
//   CAPNEG_ADAPTER_DEBUG=1   the library's console output and adapter notes go to stderr
//   CAPNEG_ADAPTER_CLOCK     Date.now seen by the library (requestIds are
//                            `widgetapi-${Date.now()}`): `step` (default) is 1700000000000 at
//                            every `start` and advances 1 ms per command (non-blank stdin
//                            line); `fixed` never advances; `real` is the real clock
"use strict";

const readline = require("node:readline");

const CLOCK_EPOCH = 1700000000000;

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
// One line, whatever the text holds.
function oneLine(text) {
    return String(text).replace(/\s*\n\s*/g, " ");
}
const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isStringArray = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");

// A command line that is not a command: the adapter's protocol error.
class BadInput extends Error {}

// The checks of a `start` command's value common to both protocols: an object with a non-empty
// widgetId, and where present, each of the fields `lists` an array of strings.
function checkStart(body, lists) {
    if (!isPlainObject(body)) throw new BadInput("start: expected an object");
    if (typeof body.widgetId !== "string" || body.widgetId === "") {
        throw new BadInput("start: widgetId must be a non-empty string");
    }
    for (const field of lists) {
        if (body[field] !== undefined && !isStringArray(body[field])) {
            throw new BadInput(`start: ${field} must be an array of strings`);
        }
    }
}

function install({ prefix, library, foldNotes, peer }) {
    const DEBUG = process.env.CAPNEG_ADAPTER_DEBUG === "1";
    const CLOCK = process.env.CAPNEG_ADAPTER_CLOCK || "step";
    const fold = foldNotes ? oneLine : (text) => text;

    function fail(text) {
        process.stderr.write(`${prefix}: ${text}\n`);
        process.exit(2);
    }
    function note(text) {
        process.stderr.write(`${prefix}: ${fold(text)}\n`);
    }
    function debug(text) {
        if (DEBUG) note(text);
    }
    // A value that is not one of `allowed` ends the adapter before anything else.
    function choice(variable, fallback, allowed) {
        const value = process.env[variable] || fallback;
        if (!allowed.includes(value)) {
            const listed = allowed.length === 2 ? allowed.join(" or ") : `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
            fail(`${variable} must be ${listed}, not ${value}`);
        }
        return value;
    }
    // A 0/1 switch of the environment: whether it is 1.
    const flag = (variable, fallback) => choice(variable, fallback, ["0", "1"]) === "1";

    choice("CAPNEG_ADAPTER_CLOCK", "step", ["step", "fixed", "real"]);

    // 1. The libraries log every message they post (PostmessageTransport.sendInternal), and
    //    matrix-js-sdk's logger writes to the console: stdout is the protocol channel.
    for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
        console[level] = DEBUG
            ? (...args) => process.stderr.write(`[${library} ${level}] ${fold(args.map(fmtArg).join(" "))}\n`)
            : () => {};
    }

    // 2. Inert timers. The transport arms a request timeout per outbound request
    //    (PostmessageTransport.sendComplete), ClientWidgetApi a 10 s content_loaded watchdog
    //    (onIframeLoad). Outputs may only come in reaction to a command, so these never fire and
    //    an unanswered request simply stays open. The host uses setImmediate only.
    const inertTimer = () => ({ ref() { return this; }, unref() { return this; }, hasRef: () => false, refresh() { return this; } });
    globalThis.setTimeout = () => inertTimer();
    globalThis.setInterval = () => inertTimer();
    globalThis.clearTimeout = () => {};
    globalThis.clearInterval = () => {};

    // 3. A deterministic clock for requestIds (see CAPNEG_ADAPTER_CLOCK).
    let clockNow = CLOCK_EPOCH;
    if (CLOCK !== "real") Date.now = () => clockNow;

    // 4. `globalThis` as the window the transport listens on for `message`. Listeners run
    //    synchronously; an exception in one is reported, not rethrown (Node's EventTarget would
    //    rethrow it on the next tick and end the process).
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
                note(`the library threw while handling a ${peer} message: ${describe(e)}`);
            }
        }
    }

    // Calls `use` with a structured clone of `value`, as postMessage hands it over; a value that
    // cannot be cloned is noted (`cannot clone ${what}`) and dropped.
    function withClone(value, what, use) {
        let clone;
        try {
            clone = structuredClone(value);
        } catch (e) {
            note(`cannot clone ${what}: ${describe(e)}`);
            return;
        }
        use(clone);
    }

    // Output. Lines of one reaction are collected and written together, closed by `idle`.
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

    // Lets every promise chain the library started settle: a setImmediate callback only runs
    // once the microtask and nextTick queues are empty, and with inert timers nothing else can
    // schedule work. Loops until a whole turn produced no output (one turn is enough in
    // practice).
    async function settle() {
        for (;;) {
            const before = outCount;
            await new Promise((resolve) => setImmediate(resolve));
            if (outCount === before) return;
        }
    }

    // One command line: a JSON object with exactly one key of `commands`, whose `check` checks
    // its value (throwing BadInput) and gives the command's body.
    function parseCommand(line, commands) {
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
        if (!Object.hasOwn(commands, kind)) {
            const known = Object.keys(commands);
            const expected = `${known.slice(0, -1).join(", ")} or ${known.at(-1)}`;
            throw new BadInput(`unknown command ${JSON.stringify(kind)} (expected ${expected})`);
        }
        return { kind, body: commands[kind].check(value[kind]) };
    }

    // The session of the latest `start`, if any.
    let session = null;

    // Runs one command: `start` stops the session and begins another (`begin`); any other
    // command is taken by the session (`take`), or noted and ignored before any start.
    function run(commands, { kind, body }) {
        const command = commands[kind];
        if (kind === "start") {
            if (session) session.stop();
            session = null;
            clockNow = CLOCK_EPOCH;
            session = command.begin(body);
        } else if (!session) {
            note(`${command.noun} before any start: ignored`);
        } else {
            command.take(session, body);
        }
    }

    // Reads stdin's commands one by one (`commands`: by kind, how to check one and run it),
    // runs each, lets the library settle and writes its reaction (`flush`, before the closing
    // idle). `load`, if any, first loads the library (`name`).
    async function main({ commands, flush, load, name }) {
        try {
            if (load) await load();
        } catch (e) {
            process.stderr.write(`${prefix}: cannot load ${name}: ${e && e.stack ? e.stack : e}\n`);
            process.exit(3);
        }
        const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
        let lineNo = 0;
        for await (const line of rl) {
            lineNo++;
            if (line.trim() === "") continue;
            let command;
            try {
                command = parseCommand(line, commands);
            } catch (e) {
                if (!(e instanceof BadInput)) throw e;
                fail(`stdin line ${lineNo}: ${e.message}`);
            }
            if (CLOCK === "step") clockNow++;
            try {
                run(commands, command);
            } catch (e) {
                note(`stdin line ${lineNo}: the library threw: ${describe(e)}`);
            }
            await settle();
            if (flush) flush();
            flushWithIdle();
        }
        process.exit(0);
    }

    return {
        note,
        debug,
        fail,
        choice,
        flag,
        emit,
        withClone,
        dispatchToWindow,
        // The session of the latest `start`, if any.
        session: () => session,
        serve(options) {
            main(options).catch((e) => {
                process.stderr.write(`${prefix}: internal error: ${e && e.stack ? e.stack : e}\n`);
                process.exit(3);
            });
        },
    };
}

// A command whose value is any JSON (odd envelopes are the library's business, not a protocol
// error), taken by the session with `take(session, value)`; `noun` names it before any start.
function anyValue(noun, take) {
    return { check: (body) => body, noun, take };
}

// The command `kind`, whose value is `{FIELD: [strings]}`, taken by the session with
// `take(session, list)`.
function listOf(kind, field, take) {
    return {
        check(body) {
            if (!isPlainObject(body) || !isStringArray(body[field])) {
                throw new BadInput(`${kind}: expected {"${field}": [strings]}`);
            }
            return body;
        },
        noun: kind,
        take: (session, body) => take(session, body[field]),
    };
}

module.exports = { install, describe, fmtArg, isPlainObject, isStringArray, BadInput, checkStart, anyValue, listOf };
