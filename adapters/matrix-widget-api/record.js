#!/usr/bin/env node
// Records a docs/spec.md §5 trace of the REAL matrix-widget-api client (through adapter.js) on a docs/spec.md §6
// script: the inputs a script holds (`session`, `widget`, `decision` lines) are fed to the
// adapter one at a time, and what the library does in reaction (`client`, `prompt`) is written
// after each input, in order.
//
//   node record.js [--wire] [--trace FILE] [--wire-trace FILE] [--clock step|fixed|real] SCRIPT
//
//   (no option)        the trace with prompts recorded, on stdout
//   --wire             the wire-only trace on stdout instead: no prompt or decision lines, and
//                      `"prompts": "hidden"` in the session line
//   --trace FILE       write the trace with prompts recorded to FILE
//   --wire-trace FILE  write the wire-only trace to FILE (both from the same run)
//   --clock C          CAPNEG_ADAPTER_CLOCK for the adapter (default: the environment's, else step)
//   SCRIPT             a script file, or `-` for standard input
//
// Filling in a script, as `capneg run` does (reference/src/script.rs):
// - no `session` line: the widget id is the first widget line's `widgetId`, else `w1`;
// - a widget *response* (it has `response`) without `requestId` answers the client's oldest
//   open request with that `action`; with a `requestId`, the open request with that id. The
//   missing `api` (toWidget), `widgetId`, `requestId`, `action` and `data` are taken from the
//   client's actual request, so the response echoes it;
// - a widget *request* without `requestId` gets `w0`, `w1`, ... (skipping ids the script uses);
//   without `widgetId`, the session's.
// The completed envelope is what the adapter receives and what the trace holds (fields in the
// envelope's order). A decision with no open prompt, a response that answers nothing, or a line
// that is not a script line ends the run with `SCRIPT:LINE: message` and exit code 2.
//
// The adapter's notes (e.g. "the library threw ...") go to stderr unchanged.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const { spawn } = require("node:child_process");

const DEFAULT_WIDGET_ID = "w1";
const ENVELOPE_KEYS = ["api", "widgetId", "requestId", "action", "data", "response"];
const SESSION_KEYS = ["widgetId", "prompts", "autoApprove", "rateLimit", "waitForContentLoaded", "declined"];

class ScriptError extends Error {
    constructor(line, message) {
        super(message);
        this.line = line;
    }
}

function usage(message) {
    if (message) process.stderr.write(`record.js: ${message}\n`);
    process.stderr.write(
        "usage: node record.js [--wire] [--trace FILE] [--wire-trace FILE] [--clock step|fixed|real] SCRIPT\n",
    );
    process.exit(2);
}

function parseArgs(argv) {
    const opts = { wire: false, trace: null, wireTrace: null, clock: null, script: null };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${a} needs a value`);
            return argv[++i];
        };
        if (a === "--wire") opts.wire = true;
        else if (a === "--trace") opts.trace = value();
        else if (a === "--wire-trace") opts.wireTrace = value();
        else if (a === "--clock") opts.clock = value();
        else if (a === "-h" || a === "--help") usage();
        else if (a.startsWith("--")) usage(`unknown option ${a}`);
        else if (opts.script === null) opts.script = a;
        else usage("one script only");
    }
    if (opts.script === null) usage("no script");
    if (opts.clock !== null && !["step", "fixed", "real"].includes(opts.clock)) {
        usage(`--clock must be step, fixed or real, not ${opts.clock}`);
    }
    return opts;
}

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isStringArray = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");

// The script's lines: [{n, key, value}], blank lines skipped.
function readScript(text) {
    const lines = [];
    text.split("\n").forEach((raw, i) => {
        const n = i + 1;
        const t = raw.trim();
        if (t === "") return;
        let v;
        try {
            v = JSON.parse(t);
        } catch (e) {
            throw new ScriptError(n, `not JSON: ${e.message}`);
        }
        if (!isPlainObject(v) || Object.keys(v).length !== 1) {
            throw new ScriptError(n, "expected an object with exactly one key: session, widget or decision");
        }
        const [key] = Object.keys(v);
        if (key === "client" || key === "prompt") {
            throw new ScriptError(
                n,
                `\`${key}\` lines are the client's outputs: a script holds only session, widget and decision lines`,
            );
        }
        if (!["session", "widget", "decision"].includes(key)) {
            throw new ScriptError(n, `unknown key \`${key}\` (expected session, widget or decision)`);
        }
        if (key === "session" && lines.length > 0) {
            throw new ScriptError(n, "a `session` line may only be the first line");
        }
        lines.push({ n, key, value: v[key] });
    });
    return lines;
}

function sessionOf(lines) {
    const first = lines[0];
    if (first && first.key === "session") {
        const s = first.value;
        if (!isPlainObject(s)) throw new ScriptError(first.n, "bad `session` line: expected an object");
        for (const k of Object.keys(s)) {
            if (!SESSION_KEYS.includes(k)) throw new ScriptError(first.n, `bad \`session\` line: unknown field \`${k}\``);
        }
        if (s.widgetId !== undefined && typeof s.widgetId !== "string") {
            throw new ScriptError(first.n, "bad `session` line: widgetId must be a string");
        }
        if (s.autoApprove !== undefined && !isStringArray(s.autoApprove)) {
            throw new ScriptError(first.n, "bad `session` line: autoApprove must be an array of strings");
        }
        for (const k of ["rateLimit", "waitForContentLoaded"]) {
            if (s[k] !== undefined && typeof s[k] !== "boolean") {
                throw new ScriptError(first.n, `bad \`session\` line: ${k} must be a boolean`);
            }
        }
        if (s.declined === "deny") {
            process.stderr.write(
                'record.js: the session says `"declined": "deny"`; matrix-widget-api has no such policy (it always prompts again): left out of the trace\n',
            );
        }
        return {
            widgetId: s.widgetId || DEFAULT_WIDGET_ID,
            autoApprove: s.autoApprove || [],
            rateLimit: s.rateLimit === true,
            waitForContentLoaded: s.waitForContentLoaded === true,
        };
    }
    let widgetId = DEFAULT_WIDGET_ID;
    if (first && first.key === "widget" && isPlainObject(first.value) && typeof first.value.widgetId === "string") {
        widgetId = first.value.widgetId;
    }
    return { widgetId, autoApprove: [], rateLimit: false, waitForContentLoaded: false };
}

// The envelope's fields first, in docs/spec.md §2 order, then any others as given.
function ordered(env) {
    const out = {};
    for (const k of ENVELOPE_KEYS) if (k in env) out[k] = env[k];
    for (const k of Object.keys(env)) if (!(k in out)) out[k] = env[k];
    return out;
}

// ---------------------------------------------------------------------------------------------
// The adapter, one command at a time.

class Adapter {
    constructor(clock) {
        const env = { ...process.env };
        if (clock) env.CAPNEG_ADAPTER_CLOCK = clock;
        else if (!env.CAPNEG_ADAPTER_CLOCK) env.CAPNEG_ADAPTER_CLOCK = "step";
        this.child = spawn(process.execPath, [path.join(__dirname, "adapter.js")], {
            stdio: ["pipe", "pipe", "inherit"],
            env,
        });
        this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
        this.pending = [];
        this.waiters = [];
        const rl = readline.createInterface({ input: this.child.stdout, crlfDelay: Infinity });
        rl.on("line", (l) => (this.waiters.length ? this.waiters.shift()(l) : this.pending.push(l)));
        rl.on("close", () => {
            while (this.waiters.length) this.waiters.shift()(null);
            this.closed = true;
        });
    }

    nextLine() {
        if (this.pending.length) return Promise.resolve(this.pending.shift());
        if (this.closed) return Promise.resolve(null);
        return new Promise((resolve) => this.waiters.push(resolve));
    }

    // Sends one command; resolves with the adapter's outputs up to (not including) `idle`.
    async command(obj) {
        this.child.stdin.write(JSON.stringify(obj) + "\n");
        const outs = [];
        for (;;) {
            const line = await this.nextLine();
            if (line === null) throw new Error("the adapter exited early (see its message above)");
            const msg = JSON.parse(line);
            if (msg.idle) return outs;
            outs.push(msg);
        }
    }

    async close() {
        this.child.stdin.end();
        return this.exited;
    }
}

// ---------------------------------------------------------------------------------------------
// Recording

async function record(lines, session, clock) {
    const adapter = new Adapter(clock);
    const events = []; // [{key, value}] in trace order, session line excluded
    const open = []; // the client's open requests, oldest first: the envelopes it sent
    const usedWidgetIds = new Set();
    let nextWidgetId = 0;
    let openPrompts = 0;

    for (const { key, value } of lines) {
        if (key === "widget" && isPlainObject(value) && typeof value.requestId === "string" && value.response === undefined) {
            usedWidgetIds.add(value.requestId);
        }
    }

    const take = (outs) => {
        for (const out of outs) {
            if (out.client !== undefined) {
                events.push({ key: "client", value: out.client });
                if (isPlainObject(out.client) && out.client.response === undefined) open.push(out.client);
            } else if (out.prompt !== undefined) {
                events.push({ key: "prompt", value: out.prompt });
                openPrompts++;
            } else {
                throw new Error(`unexpected adapter output ${JSON.stringify(out)}`);
            }
        }
    };

    try {
        take(
            await adapter.command({
                start: {
                    widgetId: session.widgetId,
                    autoApprove: session.autoApprove,
                    waitForContentLoaded: session.waitForContentLoaded,
                },
            }),
        );

        for (const { n, key, value } of lines) {
            if (key === "session") continue;
            if (key === "decision") {
                if (!isPlainObject(value) || !isStringArray(value.approved) || Object.keys(value).length !== 1) {
                    throw new ScriptError(n, 'bad `decision` line: expected {"approved": [strings]}');
                }
                if (openPrompts === 0) throw new ScriptError(n, "a decision with no open prompt");
                openPrompts--;
                const decision = { approved: value.approved };
                events.push({ key: "decision", value: decision });
                take(await adapter.command({ decision }));
                continue;
            }
            // A widget line.
            if (!isPlainObject(value)) throw new ScriptError(n, "a widget message must be a JSON object");
            const env = { ...value };
            if ("response" in env) {
                if (env.api !== undefined && env.api !== "toWidget") {
                    throw new ScriptError(n, 'a widget response must answer a client request (`api` "toWidget")');
                }
                if (env.action !== undefined && typeof env.action !== "string") {
                    throw new ScriptError(n, "`action` is not a string");
                }
                let i;
                if (env.requestId !== undefined) {
                    if (typeof env.requestId !== "string") throw new ScriptError(n, "`requestId` is not a string");
                    i = open.findIndex((r) => r.requestId === env.requestId && (env.action === undefined || env.action === r.action));
                    if (i < 0) {
                        const what = env.action === undefined ? "" : ` with action \`${env.action}\``;
                        throw new ScriptError(n, `a response that answers nothing: no open client request \`${env.requestId}\`${what}`);
                    }
                } else {
                    if (env.action === undefined) {
                        throw new ScriptError(n, "a response without `requestId` needs an `action` to find its request");
                    }
                    i = open.findIndex((r) => r.action === env.action);
                    if (i < 0) {
                        throw new ScriptError(n, `a response that answers nothing: no open client request with action \`${env.action}\``);
                    }
                }
                const [request] = open.splice(i, 1);
                for (const k of ["api", "widgetId", "requestId", "action", "data"]) {
                    if (env[k] === undefined && request[k] !== undefined) env[k] = structuredClone(request[k]);
                }
            } else {
                if (env.widgetId === undefined) env.widgetId = session.widgetId;
                if (env.requestId === undefined) {
                    let id;
                    do id = `w${nextWidgetId++}`;
                    while (usedWidgetIds.has(id));
                    usedWidgetIds.add(id);
                    env.requestId = id;
                }
            }
            const sent = ordered(env);
            events.push({ key: "widget", value: sent });
            take(await adapter.command({ widget: sent }));
        }
    } finally {
        await adapter.close();
    }
    return events;
}

function traceText(session, events, prompts) {
    const head = {
        session: {
            widgetId: session.widgetId,
            prompts,
            autoApprove: session.autoApprove,
            rateLimit: session.rateLimit,
            waitForContentLoaded: session.waitForContentLoaded,
        },
    };
    const out = [JSON.stringify(head)];
    for (const { key, value } of events) {
        if (prompts === "hidden" && (key === "prompt" || key === "decision")) continue;
        out.push(JSON.stringify({ [key]: value }));
    }
    return out.join("\n") + "\n";
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));
    const name = opts.script;
    let text;
    try {
        text = name === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(name, "utf8");
    } catch (e) {
        process.stderr.write(`${name}: cannot read: ${e.message}\n`);
        process.exit(2);
    }
    let events;
    let session;
    try {
        const lines = readScript(text);
        session = sessionOf(lines);
        events = await record(lines, session, opts.clock);
    } catch (e) {
        if (e instanceof ScriptError) {
            process.stderr.write(`${name}:${e.line}: ${e.message}\n`);
            process.exit(2);
        }
        throw e;
    }
    const recorded = traceText(session, events, "recorded");
    const wire = traceText(session, events, "hidden");
    if (opts.trace) fs.writeFileSync(opts.trace, recorded);
    if (opts.wireTrace) fs.writeFileSync(opts.wireTrace, wire);
    if (!opts.trace && !opts.wireTrace) process.stdout.write(opts.wire ? wire : recorded);
    else if (opts.wire) process.stdout.write(wire);
}

main().catch((e) => {
    process.stderr.write(`record.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(3);
});
