#!/bin/sh
# Runs the hand-written sessions in demos/ through adapter.js and saves the raw exchanges under
# transcripts/ (NAME.in.jsonl = adapter stdin, NAME.out.jsonl = adapter stdout, NAME.trace.jsonl =
# both interleaved in the docs/spec.md §5 trace format). Prints a readable interleaving to stdout.
# Needs `npm ci` first. Usage: sh demo.sh [DEMO.jsonl...]
set -eu
cd "$(dirname "$0")"
[ $# -gt 0 ] || set -- demos/*.jsonl
for script in "$@"; do
    case "$(basename "$script")" in
        # every message in the same millisecond, as under a fast harness
        07-requestid-reuse.jsonl) clock=fixed ;;
        *) clock=step ;;
    esac
    CAPNEG_ADAPTER_CLOCK=$clock node demo.js "$script" transcripts
    echo
done
