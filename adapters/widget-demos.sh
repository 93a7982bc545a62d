#!/bin/sh
# Runs the hand-written sessions of a widget adapter through it, with the runner shared by the
# widget adapters (matrix-widget-api/widget-demo.js, plain Node), and saves the raw exchanges:
# what each adapter's demo script calls. From the adapter's directory DIR: ADAPTER is the
# adapter, TRANSCRIPTS where the exchanges go, DEMOS where the sessions are (all of them unless
# some are named). With --check, writes nothing and exits 1 unless the transcripts are exactly
# what the adapter produces now.
# Usage: sh widget-demos.sh DIR ADAPTER TRANSCRIPTS DEMOS [--check] [DEMO.jsonl...]
set -eu
dir=$1 adapter=$2 transcripts=$3 demos=$4
shift 4
cd "$dir"
check=
if [ "${1:-}" = "--check" ]; then check=--check; shift; fi
[ $# -gt 0 ] || set -- "$demos"/*.jsonl
CAPNEG_ADAPTER_CLOCK=step node ../matrix-widget-api/widget-demo.js $check "$adapter" "$transcripts" "$@"
