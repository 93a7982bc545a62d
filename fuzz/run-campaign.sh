#!/usr/bin/env bash
# A fuzzing campaign over every target, one after the other (docs/reliability.md, "Campaign").
#
#   fuzz/run-campaign.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 1800 (30 minutes); the targets to all five. Each target is
# fuzzed by one libFuzzer process (-fork=1: a crash, a timeout or an out-of-memory is saved
# under fuzz/artifacts/<target>/ and the campaign goes on), from its grown corpus
# fuzz/corpus/<target>/ and its seeds fuzz/seeds/<target>/, with the dictionary fuzz/json.dict.
# At the end it prints, per target: executions, executions per second, coverage (cov and ft of
# libFuzzer's last status line), corpus size, and findings (the crash, timeout and out-of-memory
# counts, and the files saved). The full logs are kept under fuzz/campaign/<date>/.
#
# Environment: SANITIZER (default `none`: capneg's crates forbid unsafe code, and the checks
# catch what matters; `address` is about three times slower on `validate`), TIMEOUT (seconds
# one input may take, default 10), RSS_MB (memory limit, default 2048), NO_BUILD=1 (fuzz the
# binaries built last, as they are).
set -uo pipefail
fuzz=$(cd "$(dirname "$0")" && pwd)
cd "$fuzz"

seconds=${1:-1800}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(validate run adapter drive_lines capability)
fi
sanitizer=${SANITIZER:-none}
timeout=${TIMEOUT:-10}
rss=${RSS_MB:-2048}

# The longest input tried: traces, scripts and command streams of a few dozen lines; capability
# strings are short.
max_len() {
  case $1 in
    validate) echo 16384 ;;
    capability) echo 1024 ;;
    *) echo 8192 ;;
  esac
}

logs=campaign/$(date +%Y%m%d-%H%M%S)
mkdir -p "$logs"
if [ "${NO_BUILD:-0}" = 1 ]; then
  echo "not building: fuzzing the binaries built last" >&2
else
  echo "building the targets (sanitizer: $sanitizer)" >&2
fi
if [ "${NO_BUILD:-0}" != 1 ] && ! cargo +nightly fuzz build -O -s "$sanitizer" >"$logs/build.log" 2>&1; then
  echo "the build failed: see fuzz/$logs/build.log" >&2
  tail -20 "$logs/build.log" >&2
  exit 2
fi
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release

summary=$logs/summary.txt
printf '%-12s %12s %8s %7s %8s %8s  %s\n' target executions execs/s cov ft corpus findings \
  >"$summary"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  before=$(find "artifacts/$target" -type f | wc -l)
  log=$logs/$target.log
  echo "fuzzing $target for ${seconds}s (log: fuzz/$log)" >&2
  # The binary built above, run directly: `cargo fuzz run` would build again, from whatever the
  # workspace holds by then.
  "$bin/$target" -artifact_prefix="artifacts/$target/" -dict=json.dict \
    -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout="$timeout" \
    -rss_limit_mb="$rss" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    "corpus/$target" "seeds/$target" >"$log" 2>&1
  # The last status line: `#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: O/T/X time: Ss`.
  status=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1)
  execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$status")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status")
  otc=$(sed -nE 's/.* oom\/timeout\/crash: ([0-9]+\/[0-9]+\/[0-9]+).*/\1/p' <<<"$status")
  time=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$status")
  rate=$(( ${execs:-0} / (${time:-0} > 0 ? ${time:-1} : 1) ))
  corpus=$(find "corpus/$target" -type f | wc -l)
  saved=$(( $(find "artifacts/$target" -type f | wc -l) - before ))
  printf '%-12s %12s %8s %7s %8s %8s  oom/timeout/crash %s, %s new file(s) in fuzz/artifacts/%s/\n' \
    "$target" "${execs:-?}" "$rate" "${cov:-?}" "${ft:-?}" "$corpus" "${otc:-?}" "$saved" \
    "$target" >>"$summary"
done
cat "$summary"
