#!/usr/bin/env bash
# capneg side by side with common yardsticks, on the same inputs, in one go (docs/performance.md).
#
#   benches/scripts/compare.sh            # RUNS=7 timed runs of each command, medians reported
#   RUNS=10 CASES=4000 benches/scripts/compare.sh
#   EVENTS=40000 RSS_BYTES=12500000 RUNS=1 CASES=200 benches/scripts/compare.sh   # a quick try
#   PARTS=c benches/scripts/compare.sh    # only (c); PARTS names the parts to run (default abc)
#
# (a) `capneg validate` against `jq empty` on a 400k-event trace with prompts recorded and on a
#     400k-event trace with prompts hidden (gen_script.py + `capneg run`), and the peak RSS of
#     validate on a ~125 MB trace;
# (b) `capneg drive -- capneg adapter` against the matrix-widget-api Node adapter: sessions/s on
#     the same generated sessions (the survey example, which does not stop at a divergence);
# (c) `capneg check` against stateright on a trivial model with about as many states (unique
#     states/s), at the default bounds and at `--caps 3 --rounds 3` (NO_LARGE=1 skips the latter).
#
# Needs: cargo, python3, jq, node (for b; skipped without it or without the adapter's
# node_modules), /usr/bin/time (for the RSS; skipped without it). validate and jq are timed in
# alternation (see `versus`); the whole `capneg check` is timed with hyperfine when installed,
# otherwise (or with NO_HYPERFINE=1) by RUNS runs and the median.
set -euo pipefail

RUNS=${RUNS:-7}
PARTS=${PARTS:-abc}
part() { [[ $PARTS == *"$1"* ]]; }
CASES=${CASES:-2000}
EVENTS=${EVENTS:-400000}
RSS_BYTES=${RSS_BYTES:-125000000}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/capneg-compare.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
need() { command -v "$1" > /dev/null || { say "compare.sh: needs $1" >&2; exit 2; }; }
need cargo
need python3
need jq

# Floating-point helpers (awk: no bc needed).
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# median_seconds NAME CMD...: the median wall time of RUNS runs (after one warm-up run), in
# seconds; the command's output is discarded, and a failing command stops the script.
median_seconds() {
    local name=$1
    shift
    if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine > /dev/null; then
        # Its warnings (outliers on a busy machine) would break the table: shown only on failure.
        if ! hyperfine -N --style none --warmup 1 --runs "$RUNS" --export-json "$TMP/$name.json" \
            -- "$(printf '%q ' "$@")" > /dev/null 2> "$TMP/$name.err"; then
            cat "$TMP/$name.err" >&2
            exit 1
        fi
        jq -r '.results[0].median' "$TMP/$name.json"
    else
        "$@" > /dev/null
        local times=()
        for _ in $(seq "$RUNS"); do
            local t0 t1
            t0=$(date +%s.%N)
            "$@" > /dev/null
            t1=$(date +%s.%N)
            times+=("$(calc "$t1 - $t0" 6)")
        done
        printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
    fi
}

# median [DECIMALS]: the median of the numbers on stdin, one per line (rounded to DECIMALS, 0 by
# default).
median() {
    sort -g | awk -v d="${1:-0}" '{ a[NR] = $1 }
        END { printf "%.*f\n", d, (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# range [DECIMALS]: "min-max" of the numbers on stdin.
range() { sort -g | awk -v d="${1:-0}" 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.*f-%.*f\n", d, lo, d, hi }'; }

# seconds CMD...: the wall time of one run of CMD, in seconds; its output is discarded, and a
# failing command stops the script.
seconds() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" > /dev/null
    t1=$(date +%s%N)
    calc "($t1 - $t0) / 1000000000" 6
}

# versus FILE: `capneg validate FILE` against `jq empty FILE`: one warm-up run of each, then RUNS
# rounds of validate twice and jq once, back to back, so that a slow spell of the machine weighs
# on both. The first validate of a round follows jq's run ("cold"); the second follows a validate
# run ("warm"): on this VM a short run right after another program, or after idling, is slower,
# while jq's long run warms itself up. Sets TC, TW and TJ (median times), RATIO_W and RATIO_C
# (medians of the rounds' jq/validate ratios) and RANGE_W, RANGE_C (their ranges).
versus() {
    "$CAPNEG" validate "$1" > /dev/null
    jq empty "$1" > /dev/null
    local tcs=() tws=() tjs=() rws=() rcs=() tc tw tj
    for _ in $(seq "$RUNS"); do
        tc=$(seconds "$CAPNEG" validate "$1")
        tw=$(seconds "$CAPNEG" validate "$1")
        tj=$(seconds jq empty "$1")
        tcs+=("$tc")
        tws+=("$tw")
        tjs+=("$tj")
        rcs+=("$(calc "$tj / $tc" 4)")
        rws+=("$(calc "$tj / $tw" 4)")
    done
    TC=$(printf '%s\n' "${tcs[@]}" | median 6)
    TW=$(printf '%s\n' "${tws[@]}" | median 6)
    TJ=$(printf '%s\n' "${tjs[@]}" | median 6)
    RATIO_W=$(printf '%s\n' "${rws[@]}" | median 1)
    RATIO_C=$(printf '%s\n' "${rcs[@]}" | median 1)
    RANGE_W=$(printf '%s\n' "${rws[@]}" | range 1)
    RANGE_C=$(printf '%s\n' "${rcs[@]}" | range 1)
}

say "== machine"
say "$(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(free -g | awk '/^Mem:/ { print $2 " GiB" }') memory; load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine > /dev/null; then
    say "timing: $RUNS runs of each command (medians); the whole capneg check with hyperfine"
else
    say "timing: $RUNS runs of each command (medians; no hyperfine)"
fi

say ""
say "== building release binaries"
cargo build --release --quiet -p capneg
cargo build --release --quiet -p capneg-benches --example trivial_model
cargo build --release --quiet -p capneg-properties --example survey
TARGET=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
CAPNEG=$TARGET/release/capneg
TRIVIAL=$TARGET/release/examples/trivial_model
SURVEY=$TARGET/release/examples/survey

# Traces: gen_script.py makes 4 inputs a round; `capneg run` turns a round into 8 events (6 once
# prompts are hidden), after 6 events (4) of the initial exchange.
GEN=benches/scripts/gen_script.py
trace() { # trace ROUNDS OUT: the recorded trace of ROUNDS rounds
    python3 "$GEN" "$1" > "$TMP/script.jsonl"
    "$CAPNEG" run "$TMP/script.jsonl" > "$2"
    rm -f "$TMP/script.jsonl"
}
hide() { # hide IN OUT: prompts and decisions removed, the session line says so
    sed -e '1s/"prompts":"recorded"/"prompts":"hidden"/' -e '/^{"prompt":/d' -e '/^{"decision":/d' "$1" > "$2"
}
events_of() { "$CAPNEG" validate --json "$1" | jq -r '"\(.events) events, prompts \(.prompts)"'; }
mb() { calc "$(stat -c %s "$1") / 1000000" 1; }

if part a; then
say ""
say "== (a) validation: capneg validate vs jq empty"
trace $(((EVENTS - 6 + 7) / 8)) "$TMP/recorded.jsonl"
trace $(((EVENTS - 4 + 5) / 6)) "$TMP/hidden-source.jsonl"
hide "$TMP/hidden-source.jsonl" "$TMP/hidden.jsonl"
rm -f "$TMP/hidden-source.jsonl"
say "$RUNS rounds of validate (cold: after jq), validate (warm: after validate) and jq; medians, and the range of the rounds' ratios:"
printf '%-9s %-31s %6s %8s %8s %8s %8s %8s %14s %14s\n' trace events MB "validate" "validate" "jq" "validate" "jq" "warm ratio" "cold ratio"
printf '%-9s %-31s %6s %8s %8s %8s %8s %8s %14s %14s\n' "" "" "" "warm (s)" "cold (s)" "(s)" "(MB/s)" "(MB/s)" "(range)" "(range)"
for kind in recorded hidden; do
    f=$TMP/$kind.jsonl
    verdict=$(events_of "$f")
    versus "$f"
    size=$(mb "$f")
    printf '%-9s %-31s %6s %8s %8s %8s %8s %8s %14s %14s\n' "$kind" "$verdict" "$size" \
        "$(calc "$TW" 3)" "$(calc "$TC" 3)" "$(calc "$TJ" 3)" "$(calc "$size / $TW" 0)" \
        "$(calc "$size / $TJ" 0)" "${RATIO_W}x ($RANGE_W)" "${RATIO_C}x ($RANGE_C)"
done
say "targets: validate >= 10x faster than jq empty with prompts recorded, >= 3x with prompts hidden"

if [ -x /usr/bin/time ]; then
    # Rounds for a ~125 MB trace, from the bytes per round of the 400k-event one.
    bytes=$(stat -c %s "$TMP/recorded.jsonl")
    rounds=$(((RSS_BYTES * ((EVENTS - 6 + 7) / 8)) / bytes))
    rm -f "$TMP/hidden.jsonl"
    trace "$rounds" "$TMP/rss.jsonl"
    hide "$TMP/rss.jsonl" "$TMP/rss-hidden.jsonl"
    for kind in recorded hidden; do
        f=$TMP/rss.jsonl
        [ "$kind" = hidden ] && f=$TMP/rss-hidden.jsonl
        kb=$(/usr/bin/time -f %M "$CAPNEG" validate "$f" 2>&1 > /dev/null | tail -1)
        jkb=$(/usr/bin/time -f %M jq empty "$f" 2>&1 > /dev/null | tail -1)
        say "peak RSS, $(mb "$f") MB trace ($(events_of "$f")): validate $(calc "$kb / 1024" 1) MiB, jq empty $(calc "$jkb / 1024" 1) MiB"
    done
    say "target: validate under 64 MB of RSS on a 125 MB trace"
else
    say "peak RSS: skipped (no /usr/bin/time)"
fi
rm -f "$TMP"/*.jsonl

fi
if part b; then
say ""
say "== (b) differential driving: capneg adapter vs the matrix-widget-api Node adapter"
"$CAPNEG" drive --cases "$CASES" -- "$CAPNEG" adapter 2>&1 | tail -1 || true
ADAPTER=adapters/matrix-widget-api/adapter.js
if command -v node > /dev/null && [ -d adapters/matrix-widget-api/node_modules ]; then
    # `capneg drive` stops at the first divergence and shrinks it; the Node adapter diverges
    # within a few sessions, so its rate is measured by the survey, which runs every session
    # (stopping each at its divergence) before it shrinks. Same seed, same sessions.
    if "$CAPNEG" drive --profile widget-api --cases "$CASES" -- node "$ADAPTER" > /dev/null 2> "$TMP/drive.err"; then
        say "capneg drive --profile widget-api -- node $ADAPTER: no divergence"
    else
        say "capneg drive --profile widget-api -- node $ADAPTER: diverges: $(grep -m1 'diverges from' "$TMP/drive.err" | sed 's/.*(\(generated session [0-9]*\).*/\1/'); $(tail -1 "$TMP/drive.err" | sed 's/^capneg drive: //')"
    fi
    # survey LABEL CMD...: RUNS surveys of CASES widget-api sessions; prints a row and sets
    # SESSIONS and COMMANDS to the median rates.
    survey() {
        local label=$1
        shift
        local lines=()
        for _ in $(seq "$RUNS"); do
            lines+=("$("$SURVEY" --profile widget-api --cases "$CASES" -- "$@" | head -1)")
        done
        SESSIONS=$(printf '%s\n' "${lines[@]}" | sed -n 's/.*: \([0-9]*\) sessions\/s.*/\1/p' | median)
        COMMANDS=$(printf '%s\n' "${lines[@]}" | sed -n 's/.* \([0-9]*\) commands\/s.*/\1/p' | median)
        printf '%-44s %11s %11s   %s\n' "$label" "$SESSIONS" "$COMMANDS" "$(sed 's/.*; //' <<< "${lines[0]}")"
    }
    say "survey of $CASES widget-api sessions (seed 0, the same sessions for both), median of $RUNS runs:"
    printf '%-44s %11s %11s\n' adapter sessions/s commands/s
    survey "capneg adapter --profile widget-api" "$CAPNEG" adapter --profile widget-api
    ref_s=$SESSIONS ref_c=$COMMANDS
    survey "node $ADAPTER" node "$ADAPTER"
    say "capneg adapter / Node adapter: $(calc "$ref_s / $SESSIONS" 1)x the sessions/s, $(calc "$ref_c / $COMMANDS" 1)x the commands/s (a diverging session stops at its divergence, so the Node adapter runs fewer commands: commands/s is the fairer rate)"
else
    say "the Node adapter: skipped (needs node and adapters/matrix-widget-api/node_modules: npm ci there)"
fi

fi
if part c; then
say ""
say "== (c) model checking: capneg check vs stateright on a trivial model, DFS, symmetry, 2 threads"
# timed CMD...: CMD's standard output, then a line `cpu USER SYSTEM` (its processor seconds);
# its standard error is discarded.
timed() {
    local TIMEFORMAT='cpu %3U %3S'
    { time "$@" 2> /dev/null; } 2>&1
}
# cpu_ns OUTPUT: processor nanoseconds a unique state, from the output of `timed` on a command
# whose last line says `unique N`.
cpu_ns() {
    awk '/^cpu / { cpu = $2 + $3; next } { line = $0 }
        END { match(line, /unique [0-9]+/); n = substr(line, RSTART + 7, RLENGTH - 7); printf "%.0f\n", cpu * 1e9 / n }' <<< "$1"
}
# rate_of LINE: the unique states a second a run's last line reports.
rate_of() { sed -n 's/.* \([0-9]*\) unique states\/s.*/\1/p' <<< "$1"; }
# rates LABEL CAPNEG_ARGS TRIVIAL_ARGS: RUNS alternating runs of `capneg check` (2 threads) and of
# the trivial model on 2 threads and on 1, at bounds with about as many unique states, so that
# all fill hash tables of one size (stateright's own rate falls as its table grows: 2.0M states/s
# at 126k states, 0.9-1.3M at 2.2M on this machine). Prints the last lines, the median rates,
# ranges and ratios, and the same for the processor time a state (user + system, all threads).
# The trivial model's two threads contend for one fingerprint table: on this host they are often
# slower than its one thread, while capneg's two threads search roots of their own (docs/model.md,
# "Threads"). So the ratio is given against the trivial model on the same two threads and
# against its faster thread count; the processor time against its one thread (its least).
rates() {
    local label=$1 cargs=$2 targs=$3 check_rates=() trivial_rates=() single_rates=()
    local check_cpu=() trivial_cpu=() single_cpu=()
    local out line tline sline c t t1 best cc tc tc1
    for _ in $(seq "$RUNS"); do
        # shellcheck disable=SC2086 # the bounds are words
        out=$(timed "$CAPNEG" check --threads 2 $cargs)
        line=$(grep -v '^cpu ' <<< "$out" | tail -1)
        check_rates+=("$(rate_of "$line")")
        check_cpu+=("$(cpu_ns "$out")")
        # shellcheck disable=SC2086
        out=$(timed "$TRIVIAL" --threads 2 $targs)
        tline=$(grep -v '^cpu ' <<< "$out" | tail -1)
        trivial_rates+=("$(rate_of "$tline")")
        trivial_cpu+=("$(cpu_ns "$out")")
        # shellcheck disable=SC2086
        out=$(timed "$TRIVIAL" --threads 1 $targs)
        sline=$(grep -v '^cpu ' <<< "$out" | tail -1)
        single_rates+=("$(rate_of "$sline")")
        single_cpu+=("$(cpu_ns "$out")")
    done
    say "$label"
    say "  capneg check${cargs:+ $cargs}:  $line"
    say "  trivial model, 2 threads: $tline"
    say "  trivial model, 1 thread:  $sline"
    c=$(printf '%s\n' "${check_rates[@]}" | median)
    t=$(printf '%s\n' "${trivial_rates[@]}" | median)
    t1=$(printf '%s\n' "${single_rates[@]}" | median)
    say "  median of $RUNS runs: capneg check $c unique states/s ($(printf '%s\n' "${check_rates[@]}" | range)), trivial model $t on 2 threads ($(printf '%s\n' "${trivial_rates[@]}" | range)), $t1 on 1 ($(printf '%s\n' "${single_rates[@]}" | range))"
    best=$(awk -v a="$t" -v b="$t1" 'BEGIN { print (a > b) ? a : b }')
    say "  per state, wall: stateright alone is $(calc "$t / $c" 1)x faster on the same 2 threads ($(calc "1000000000 / $c" 0) ns vs $(calc "1000000000 / $t" 0) ns a state), $(calc "$best / $c" 1)x on its faster thread count ($(calc "1000000000 / $best" 0) ns)"
    cc=$(printf '%s\n' "${check_cpu[@]}" | median)
    tc=$(printf '%s\n' "${trivial_cpu[@]}" | median)
    tc1=$(printf '%s\n' "${single_cpu[@]}" | median)
    say "  processor time a unique state, median of $RUNS runs: capneg check $cc ns ($(printf '%s\n' "${check_cpu[@]}" | range)), trivial model $tc ns on 2 threads ($(printf '%s\n' "${trivial_cpu[@]}" | range)), $tc1 ns on 1 ($(printf '%s\n' "${single_cpu[@]}" | range)): $(calc "$cc / $tc" 1)x and $(calc "$cc / $tc1" 1)x"
}
rates "default bounds (239,196 unique states) against the trivial model's 203,490:" "" ""
if [ -z "${NO_LARGE:-}" ]; then
    rates "--caps 3 --rounds 3 (2,093,404 unique states) against the trivial model at total 19 (2,220,075):" \
        "--caps 3 --rounds 3" "--total 19"
else
    say "--caps 3 --rounds 3 against the trivial model at total 19: skipped (NO_LARGE)"
fi
wall=$(median_seconds check "$CAPNEG" check --threads 2)
say "capneg check (default bounds, 2 threads), the whole command: $(calc "$wall" 2) s wall, median of $RUNS runs"
say "targets: default capneg check exhaustive within 10 s; capneg's cost per state at most 3x the trivial model's"
fi
