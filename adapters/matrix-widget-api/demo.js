#!/usr/bin/env node
// Feeds a hand-written script to adapter.js, one command at a time, and records the exchange.
//
//   node demo.js SCRIPT.jsonl OUTDIR
//
// SCRIPT holds adapter input lines (start / widget / decision). As in `capneg run` scripts
// (docs/spec.md §6), a widget *response* without a requestId answers the client's oldest open request
// with the same action (the request is echoed exactly, with the script's `response` added); a
// widget *request* without one gets `widget-N`. `#` lines are comments.
//
// Writes OUTDIR/NAME.in.jsonl (exactly what the adapter read), OUTDIR/NAME.out.jsonl (exactly
// what it wrote) and OUTDIR/NAME.trace.jsonl (both interleaved in the trace format of docs/spec.md §5:
// a `session` line, then client / widget / prompt / decision lines; idle lines dropped; with
// several `start`s, one OUTDIR/NAME.sN.trace.jsonl per session).
// The adapter inherits the environment (e.g. CAPNEG_ADAPTER_CLOCK).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const { spawn } = require("node:child_process");
const { parseCommands } = require("./demo-commands.js");

const [scriptPath, outDir] = process.argv.slice(2);
if (!scriptPath || !outDir) {
    process.stderr.write("usage: node demo.js SCRIPT.jsonl OUTDIR\n");
    process.exit(2);
}
const name = path.basename(scriptPath).replace(/\.jsonl$/, "");
const commands = parseCommands(fs.readFileSync(scriptPath, "utf8"), scriptPath, (message) => {
    process.stderr.write(`${message}\n`);
    process.exit(2);
});

const child = spawn(process.execPath, [path.join(__dirname, "adapter.js")], {
    stdio: ["pipe", "pipe", "inherit"],
});
const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
const pending = [];
const waiters = [];
lines.on("line", (l) => (waiters.length ? waiters.shift()(l) : pending.push(l)));
lines.on("close", () => {
    while (waiters.length) waiters.shift()(null);
});
const nextLine = () => new Promise((resolve) => (pending.length ? resolve(pending.shift()) : waiters.push(resolve)));

async function main() {
    const inLines = [];
    const outLines = [];
    const trace = [];
    let open = []; // client requests not yet answered by the widget
    let widgetRequests = 0;

    for (const command of commands) {
        if (command.start) {
            open = [];
            trace.push({ session: { widgetId: command.start.widgetId, prompts: "recorded", autoApprove: command.start.autoApprove || [], rateLimit: false, waitForContentLoaded: !!command.start.waitForContentLoaded } });
        }
        if (command.widget && typeof command.widget === "object" && command.widget.requestId === undefined) {
            const env = command.widget;
            if (env.response !== undefined) {
                const i = open.findIndex((r) => r.action === env.action);
                if (i < 0) throw new Error(`${name}: no open client request ${env.action} to answer`);
                // Echo the client's request exactly, with the script's response added.
                command.widget = { ...open[i], response: env.response };
            } else {
                env.requestId = `widget-${++widgetRequests}`;
            }
        }
        if (command.widget && command.widget.response !== undefined) {
            const i = open.findIndex((r) => r.requestId === command.widget.requestId && r.action === command.widget.action);
            if (i >= 0) open.splice(i, 1);
        }
        const line = JSON.stringify(command);
        inLines.push(line);
        if (!command.start) trace.push(command);
        child.stdin.write(line + "\n");
        for (;;) {
            const out = await nextLine();
            if (out === null) throw new Error(`${name}: the adapter exited early`);
            outLines.push(out);
            const msg = JSON.parse(out);
            if (msg.idle) break;
            trace.push(msg);
            if (msg.client && msg.client.response === undefined) open.push(msg.client);
        }
    }
    child.stdin.end();
    await new Promise((resolve) => child.on("exit", resolve));

    fs.mkdirSync(outDir, { recursive: true });
    const write = (suffix, ls) => fs.writeFileSync(path.join(outDir, `${name}.${suffix}`), ls.map((l) => l + "\n").join(""));
    write("in.jsonl", inLines);
    write("out.jsonl", outLines);
    // One trace per session (a `session` line may only come first).
    const sessions = [];
    for (const t of trace) {
        if (t.session || sessions.length === 0) sessions.push([]);
        sessions[sessions.length - 1].push(JSON.stringify(t));
    }
    if (sessions.length === 1) write("trace.jsonl", sessions[0]);
    else sessions.forEach((ls, i) => write(`s${i + 1}.trace.jsonl`, ls));

    // Human-readable interleaving on stdout.
    process.stdout.write(`== ${name}\n`);
    let o = 0;
    for (const l of inLines) {
        process.stdout.write(`> ${l}\n`);
        for (;;) {
            const out = outLines[o++];
            process.stdout.write(`< ${out}\n`);
            if (out === '{"idle":{}}') break;
        }
    }
}

main().catch((e) => {
    process.stderr.write(`${e.message}\n`);
    child.kill();
    process.exit(1);
});
