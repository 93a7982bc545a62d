#!/usr/bin/env node
// Feeds hand-written command files to a widget adapter (docs/spec.md §9.3), one command at a time, and
// records the exchange. Shared by the three widget adapters.
//
//   node widget-demo.js [--check] ADAPTER.js OUTDIR DEMO.jsonl...
//
// A DEMO holds adapter input lines (start / client / request), written out in full: the
// requestIds of responses to the widget's own requests are the ids the adapter's step clock
// gives (`widgetapi-<1700000000000 + n>` for the request the widget sent in reaction to the
// n-th command after `start`, counting `start` as 0). Blank lines and `#` lines are skipped.
//
// For each DEMO writes OUTDIR/NAME.in.jsonl (exactly what the adapter read), NAME.out.jsonl
// (exactly what it wrote), NAME.err.txt (what it wrote on stderr; removed when empty) and
// NAME.trace.jsonl: the exchange as a trace (docs/spec.md §5 and §9.1): a `session` line per `start`,
// `client` lines for the client's messages, `app` lines for the application's requests, and the
// adapter's `widget` and `view` lines (idle dropped); with several `start`s, one
// NAME.sN.trace.jsonl per session. Prints a readable interleaving to stdout.
// With --check nothing is written: every file is compared with the one in OUTDIR, each
// difference is named on stderr and the exit code is 1 (0 when all match).
// The adapter inherits the environment (e.g. CAPNEG_ADAPTER_CLOCK).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const { spawn } = require("node:child_process");
const { parseCommands } = require("./demo-commands.js");

const args = process.argv.slice(2);
const check = args[0] === "--check";
if (check) args.shift();
const [adapterPath, outDir, ...demos] = args;
if (!adapterPath || !outDir || demos.length === 0) {
    process.stderr.write("usage: node widget-demo.js [--check] ADAPTER.js OUTDIR DEMO.jsonl...\n");
    process.exit(2);
}
let mismatches = 0;

// Writes OUTDIR/NAME (content null: removes it), or with --check compares.
function put(file, content) {
    const target = path.join(outDir, file);
    if (check) {
        const old = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : null;
        if (old !== content) {
            mismatches++;
            process.stderr.write(`widget-demo.js: ${target} ${content === null ? "should not exist" : old === null ? "is missing" : "differs"}\n`);
        }
    } else if (content === null) {
        fs.rmSync(target, { force: true });
    } else {
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(target, content);
    }
}

function readDemo(file) {
    return parseCommands(fs.readFileSync(file, "utf8"), file, (message) => {
        throw new Error(message);
    });
}

async function runDemo(file) {
    const name = path.basename(file).replace(/\.jsonl$/, "");
    const commands = readDemo(file);
    const child = spawn(process.execPath, [path.resolve(adapterPath)], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    const pending = [];
    const waiters = [];
    let closed = false;
    rl.on("line", (l) => (waiters.length ? waiters.shift()(l) : pending.push(l)));
    rl.on("close", () => {
        closed = true;
        while (waiters.length) waiters.shift()(null);
    });
    const nextLine = () =>
        new Promise((resolve) => (pending.length ? resolve(pending.shift()) : closed ? resolve(null) : waiters.push(resolve)));

    const inLines = [];
    const outLines = [];
    const sessions = []; // arrays of trace lines
    const readable = [`== ${name}`];
    for (const command of commands) {
        const line = JSON.stringify(command);
        inLines.push(line);
        readable.push(`> ${line}`);
        if (command.start) sessions.push([JSON.stringify({ session: { widgetId: command.start.widgetId } })]);
        const trace = sessions[sessions.length - 1];
        if (trace && command.client !== undefined) trace.push(JSON.stringify({ client: command.client }));
        if (trace && command.request) trace.push(JSON.stringify({ app: { request: command.request.capabilities } }));
        child.stdin.write(line + "\n");
        for (;;) {
            const out = await nextLine();
            if (out === null) throw new Error(`${name}: the adapter exited early: ${stderr.trim()}`);
            outLines.push(out);
            readable.push(`< ${out}`);
            if (out === '{"idle":{}}') break;
            if (trace) trace.push(out);
        }
    }
    child.stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`${name}: the adapter exited with ${code}: ${stderr.trim()}`);

    const write = (suffix, ls) => put(`${name}.${suffix}`, ls.map((l) => l + "\n").join(""));
    write("in.jsonl", inLines);
    write("out.jsonl", outLines);
    put(`${name}.err.txt`, stderr !== "" ? stderr : null);
    if (sessions.length === 1) write("trace.jsonl", sessions[0]);
    else sessions.forEach((ls, i) => write(`s${i + 1}.trace.jsonl`, ls));
    for (const l of stderr.split("\n").filter((l) => l !== "")) readable.push(`! ${l}`);
    if (!check) process.stdout.write(readable.join("\n") + "\n\n");
}

(async () => {
    for (const demo of demos) await runDemo(demo);
    if (check) {
        process.stderr.write(`widget-demo.js: ${demos.length} demos, ${mismatches === 0 ? "transcripts up to date" : `${mismatches} files differ`}\n`);
        process.exit(mismatches === 0 ? 0 : 1);
    }
})().catch((e) => {
    process.stderr.write(`widget-demo.js: ${e.message}\n`);
    process.exit(1);
});
