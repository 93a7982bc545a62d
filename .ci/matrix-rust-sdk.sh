#!/usr/bin/env bash
# CI for the matrix-rust-sdk adapter (docs/conformance/matrix-rust-sdk.md). Runs on a clean clone:
# installs the adapter's pinned toolchain if missing, builds the adapter (debug) and capneg
# (release), then drives the adapter under `legacy` and `msc` and checks that the divergences it
# finds are the documented ones, listed in .ci/matrix-rust-sdk.expected:
#   - first:  the kind of divergence `capneg drive` reports (default cases, seed 0; must exit 1);
#   - survey: the set of kinds the survey example finds in 2000 generated sessions (seed 0);
#   - replay: the kind each script of adapters/matrix-rust-sdk/findings/ shows (or `follows`).
# A kind that appears, disappears or changes fails the run, which prints what it found against
# what it expected.
#
# Environment: CARGO_TARGET_DIR (the workspace's target dir, default ./target);
# CAPNEG_RSDK_TARGET_DIR (the adapter's, default adapters/matrix-rust-sdk/target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

adapter_dir=adapters/matrix-rust-sdk
adapter_target=${CAPNEG_RSDK_TARGET_DIR:-$root/$adapter_dir/target}
workspace_target=${CARGO_TARGET_DIR:-$root/target}
expected_file=.ci/matrix-rust-sdk.expected
profiles=(legacy msc)
cases=2000
seed=0

# The adapter's toolchain (rust-toolchain.toml): installed only if missing.
toolchain=$(sed -n 's/^channel *= *"\([^"]*\)".*/\1/p' "$adapter_dir/rust-toolchain.toml")
if ! rustup toolchain list | grep -q "^$toolchain-"; then
  rustup toolchain install "$toolchain" --profile minimal
fi

echo "== building the adapter (matrix-sdk, debug; toolchain $toolchain)"
(cd "$adapter_dir" && CARGO_TARGET_DIR="$adapter_target" cargo build --locked)
adapter=$adapter_target/debug/capneg-adapter-matrix-rust-sdk

echo "== building capneg and the survey (release)"
cargo build --release --locked -p capneg
cargo build --release --locked -p capneg-properties --example survey
capneg=$workspace_target/release/capneg
survey=$workspace_target/release/examples/survey

# The kind of the divergence `capneg drive` describes on stderr (read from stdin): the first rule
# broken (`violates RULE`), `differs` (an output that differs, one missing or one too many), the
# first words of anything else; `follows` if none.
kind_of() {
  awk '
    /^capneg drive: .* follows the / { print "follows"; exit }
    found && /^(at the end|line [0-9]+): violates / {
      sub(/^(at the end|line [0-9]+): /, ""); sub(/:.*/, ""); print; exit
    }
    found && /^(at the end|line [0-9]+): differs/ { print "differs"; exit }
    found && /^after line [0-9]+: the adapter said idle/ { print "differs"; exit }
    found && /^line [0-9]+: the adapter said more/ { print "differs"; exit }
    found { print "other: " $0; exit }
    /^capneg drive: .* diverges from the / { found = 1 }
  '
}

found=$(mktemp)
trap 'rm -f "$found"' EXIT

for profile in "${profiles[@]}"; do
  echo "== $profile: capneg drive (seed $seed)"
  set +e
  "$capneg" drive --profile "$profile" --seed "$seed" -- "$adapter" >/dev/null 2>"$found.err"
  rc=$?
  set -e
  sed -n '/diverges from\|follows the\|sessions (/p' "$found.err" | cut -c1-200
  kind=$(kind_of <"$found.err")
  if [ "$rc" -ne 1 ]; then
    kind="exit $rc: $kind"
  fi
  echo "  first divergence: $kind"
  printf '%s\tfirst\t%s\n' "$profile" "$kind" >>"$found"

  echo "== $profile: survey ($cases sessions, seed $seed)"
  "$survey" --profile "$profile" --cases "$cases" --seed "$seed" -- "$adapter" >"$found.survey"
  head -n 1 "$found.survey"
  sed -n 's/^== \(.*\): \([0-9]*\) sessions; minimal:$/  \2\t\1/p' "$found.survey"
  sed -n 's/^== \(.*\): [0-9]* sessions; minimal:$/\1/p' "$found.survey" |
    while IFS= read -r kind; do printf '%s\tsurvey\t%s\n' "$profile" "$kind"; done >>"$found"

  for script in "$adapter_dir"/findings/*.script.jsonl; do
    name=$(basename "$script" .script.jsonl)
    set +e
    "$capneg" drive --profile "$profile" --replay "$script" -- "$adapter" >/dev/null 2>"$found.err"
    set -e
    printf '%s\treplay %s\t%s\n' "$profile" "$name" "$(kind_of <"$found.err")" >>"$found"
  done
done
rm -f "$found.err" "$found.survey"

expected=$(grep -v '^#' "$expected_file" | grep -v '^$' | LC_ALL=C sort -u)
actual=$(LC_ALL=C sort -u "$found")
if [ "$expected" = "$actual" ]; then
  echo "== matrix-rust-sdk: the divergences found are the documented ones ($(wc -l <<<"$actual") checks)"
  exit 0
fi
echo "== matrix-rust-sdk: the divergences found differ from $expected_file"
echo "-- found:"
printf '%s\n' "$actual"
echo "-- expected:"
printf '%s\n' "$expected"
echo "-- expected, not found (<) / found, not expected (>):"
diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | grep '^[<>]' || true
echo "If the change is intended, update $expected_file and docs/conformance/matrix-rust-sdk.md."
exit 1
