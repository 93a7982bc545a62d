#!/bin/sh
# Runs the hand-written widget-side sessions in widget-demos/ through widget-adapter.js and saves
# the raw exchanges under widget-transcripts/ (NAME.in.jsonl = adapter stdin, NAME.out.jsonl =
# adapter stdout, NAME.err.txt = its stderr if any, NAME.trace.jsonl = a docs/spec.md §5/§9.1 trace).
# Prints a readable interleaving to stdout. With --check, writes nothing and exits 1 unless the
# transcripts are exactly what the adapter produces now. Needs `npm ci` first.
# Usage: sh widget-demo.sh [--check] [DEMO.jsonl...]
here=$(dirname "$0")
exec sh "$here/../widget-demos.sh" "$here" widget-adapter.js widget-transcripts widget-demos "$@"
