#!/usr/bin/env bash
# Rebuilds the seed corpora fuzz/seeds/<target>/ from the repository's own inputs
# (docs/reliability.md): the fixtures' traces and scripts, docs/examples/, the adapters'
# transcripts, and the conformance vectors (`capneg vectors`). Files over 8 KiB are left out and
# identical files kept once, so that the seeds stay small.
#
#   fuzz/make-seeds.sh            # from the repository's root or anywhere
#
# Workspace builds go to $CARGO_TARGET_DIR (default /tmp/fuzz-tgt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/fuzz-tgt}
seeds=fuzz/seeds
max=8192

vectors=$(mktemp -d)
trap 'rm -rf "$vectors"' EXIT
cargo run --release -q -p capneg -- vectors --out "$vectors" >/dev/null

rm -rf "$seeds"
mkdir -p "$seeds"/{validate,run,adapter,drive_lines,capability}

# put TARGET FILE NAME: copies FILE as seeds/TARGET/NAME unless it is too big.
put() {
  [ -f "$2" ] || return 0
  [ "$(wc -c <"$2")" -le "$max" ] || return 0
  cp "$2" "$seeds/$1/$3"
}

for f in fixtures/*/*.jsonl; do
  name=fixture-$(basename "$f")
  case $f in
    *.script.jsonl) put run "$f" "$name" ;;
    *) put validate "$f" "$name" ;;
  esac
done
for f in docs/examples/*.jsonl; do
  name=example-$(basename "$f")
  case $f in
    *.script.jsonl) put run "$f" "$name" ;;
    *) put validate "$f" "$name" ;;
  esac
done
for f in adapters/*/transcripts*/*.jsonl; do
  adapter=$(basename "$(dirname "$(dirname "$f")")")
  name=transcript-$adapter-$(basename "$f")
  case $f in
    *.in.jsonl) put adapter "$f" "$name" ;;
    *.out.jsonl) put drive_lines "$f" "$name" ;;
    *) put validate "$f" "$name" ;;
  esac
done
# The vectors of one profile (the others' are alike), with their violating traces.
for f in "$vectors"/msc_*.jsonl; do
  name=vector-$(basename "$f")
  case $f in
    *.script.jsonl) put run "$f" "$name" ;;
    *) put validate "$f" "$name" ;;
  esac
done

# Capability strings: every string of a capability list in the inputs above, one per file, and
# a few send_events to match them against (event type, state key, msgtype after NULs).
n=0
grep -ohE '"(m|org|io|com|town)\.[^"\\]*"' fixtures/*/*.jsonl docs/examples/*.jsonl \
  adapters/*/transcripts*/*.jsonl "$vectors"/*.jsonl |
  sort -u | sed 's/^"//; s/"$//' |
  while IFS= read -r cap; do
    n=$((n + 1))
    printf '%s' "$cap" >"$seeds/capability/string-$(printf '%03d' "$n")"
  done
printf 'm.send.event:m.room.message#m.text\0m.room.message\0\0m.text' >"$seeds/capability/send-text"
printf 'm.send.state_event:m.room.topic#\0m.room.topic\0' >"$seeds/capability/send-topic"
printf 'org.matrix.msc2762.send.state_event:a\\#b#c\0a#b\0c' >"$seeds/capability/escaped-hash"
printf 'm.send.event:m.reaction#x\0m.reaction#x' >"$seeds/capability/hash-in-type"

# Identical files once.
for target in "$seeds"/*/; do
  (cd "$target" && md5sum -- * | sort | awk 'seen[$1]++ { print $2 }' | xargs -r rm --)
done
for target in "$seeds"/*/; do
  printf '%-12s %4d files %6s\n' "$(basename "$target")" "$(ls "$target" | wc -l)" \
    "$(du -sh "$target" | cut -f1)"
done
