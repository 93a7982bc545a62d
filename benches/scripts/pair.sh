#!/usr/bin/env bash
# Two builds of capneg, or two ways of running it, timed in alternation on one trace: the median
# wall time of each and the median of the pairs' ratios (docs/performance.md, "Validation").
# Differences of a few percent are below this machine's drift between runs; pairing cancels it.
#
#   benches/scripts/pair.sh OLD_BINARY NEW_BINARY TRACE [PAIRS] [COLD]
#
# PAIRS defaults to 21. With COLD=1, `jq empty TRACE` runs before each command (a run right
# after another program: see "Memory").
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY TRACE [PAIRS] [COLD]" >&2; exit 2; }
old=$1 new=$2 trace=$3 pairs=${4:-21} cold=${5:-0}
now() { date +%s%N; }
for _ in $(seq "$pairs"); do
    [ "$cold" = 1 ] && jq empty "$trace"
    t0=$(now); "$old" validate "$trace" > /dev/null 2>&1 || true; t1=$(now)
    [ "$cold" = 1 ] && jq empty "$trace"
    t2=$(now); "$new" validate "$trace" > /dev/null 2>&1 || true; t3=$(now)
    echo "$(( (t1 - t0) / 1000 )) $(( (t3 - t2) / 1000 ))"
done | awk '
    { a[NR] = $1; b[NR] = $2; r[NR] = $2 / $1 }
    function median(x, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
        return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
    }
    END { printf "old %.1f ms, new %.1f ms, median new/old %.3f (%d pairs)\n", median(a, NR) / 1000, median(b, NR) / 1000, median(r, NR), NR }'
