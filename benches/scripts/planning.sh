#!/usr/bin/env bash
# The planning table of docs/model.md, measured again: for each row, `capneg check` (each
# profile's client against its own rules, so no counterexample search; default --gated 1 and
# --threads 2) once, with its unique states, wall time and peak memory, as Markdown rows.
#
#   benches/scripts/planning.sh                 # every row (about 5 minutes here)
#   MAX_STATES=5000000 benches/scripts/planning.sh   # only the rows below 5 million states
#   CAPNEG=/path/to/capneg benches/scripts/planning.sh
#
# Single runs: this host drifts by 10-20% within an hour; pair two builds with farm-bench or
# benches/scripts/compare.sh for a difference of a few percent. Needs /usr/bin/time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
MAX_STATES=${MAX_STATES:-1000000000}
[ -x /usr/bin/time ] || { echo "planning.sh: needs /usr/bin/time" >&2; exit 2; }
if [ -z "${CAPNEG:-}" ]; then
    cargo build --release --quiet -p capneg
    CAPNEG=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release/capneg
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/capneg-planning.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# side profile caps rounds expected-unique-states (from the table; a row above MAX_STATES is
# skipped, and a count that differs is flagged)
ROWS="
client msc 2 2 45812
client msc 2 3 207952
client msc 3 2 239196
client msc 4 2 1003908
client msc 3 3 2093404
client msc 5 2 3549364
client msc 4 3 16620494
client msc 5 3 107703208
client widget-api 2 2 69561
client widget-api 3 2 599571
client widget-api 2 3 652329
client widget-api 4 2 3594170
client widget-api 3 3 13311194
client legacy 3 3 2208
client legacy 4 2 2616
client legacy 5 3 5056
client legacy 8 5 17232
widget msc 2 2 7892
widget msc 3 2 57353
widget msc 4 2 310196
widget msc 3 3 1961345
widget widget-api 3 2 80812
widget widget-api 4 2 455652
widget widget-api 3 3 3079141
widget legacy 3 3 2849
widget legacy 4 2 4554
widget legacy 5 3 20506
"

echo "| side | profile | caps, rounds | unique states | time | memory |"
echo "|---|---|---|---|---|---|"
while read -r side profile caps rounds expected; do
    [ -n "$side" ] || continue
    [ "$expected" -le "$MAX_STATES" ] || continue
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$CAPNEG" check --side "$side" --profile "$profile" \
        --caps "$caps" --rounds "$rounds" > "$TMP/out" 2>&1 || true
    unique=$(sed -n 's/.*unique \([0-9]*\) .*/\1/p' "$TMP/out" | tail -1)
    read -r seconds kb < <(tail -1 "$TMP/time")
    flag=""
    [ "$unique" = "$expected" ] || flag=" (expected $expected)"
    grep -q ', exhaustive$' "$TMP/out" || flag="$flag (not exhaustive)"
    printf '| %s | %s | %s, %s | %s%s | %s s | %s MB |\n' "$side" "$profile" "$caps" "$rounds" \
        "$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<< "$unique")" "$flag" "$seconds" "$(( (kb + 512) / 1024 ))"
done <<< "$ROWS"
