#!/bin/sh
# Runs the hand-written widget-side sessions in widget-demos/ through widget-adapter.js and saves
# the raw exchanges under widget-transcripts/ (NAME.in.jsonl = adapter stdin, NAME.out.jsonl =
# adapter stdout, NAME.err.txt = its stderr if any, NAME.trace.jsonl = a docs/spec.md §5/§9.1 trace).
# Prints a readable interleaving to stdout. With --check, writes nothing and exits 1 unless the
# transcripts are exactly what the adapter produces now. Needs `npm ci` first.
# Usage: sh widget-demo.sh [--check] [DEMO.jsonl...]
set -eu
cd "$(dirname "$0")"
check=
if [ "${1:-}" = "--check" ]; then check=--check; shift; fi
[ $# -gt 0 ] || set -- widget-demos/*.jsonl
CAPNEG_ADAPTER_CLOCK=step node widget-demo.js $check widget-adapter.js widget-transcripts "$@"
