#!/bin/sh
# Runs the hand-written sessions in demos/ through adapter.js and saves the raw exchanges under
# transcripts/ (NAME.in.jsonl = adapter stdin, NAME.out.jsonl = adapter stdout, NAME.err.txt =
# its stderr if any, NAME.trace.jsonl = a docs/spec.md §5/§9.1 trace), with the runner shared by the
# widget adapters (../matrix-widget-api/widget-demo.js, plain Node: no install needed there).
# Prints a readable interleaving to stdout. With --check, writes nothing and exits 1 unless the
# transcripts are exactly what the adapter produces now. Needs `npm ci` first.
# Usage: sh demo.sh [--check] [DEMO.jsonl...]
here=$(dirname "$0")
exec sh "$here/../widget-demos.sh" "$here" adapter.js transcripts demos "$@"
