#!/usr/bin/env bash
# Runs the e2e suites again and again, to find the tests that fail one run in N: a test that fails
# one run in ten is a failing test.
#
#   bash scripts/e2e-repeat.sh [runs] [suite...]     (default: 10 runs of every e2e suite)
#
# Uses the package and the reference OP as built (run `npm run build` and
# `cargo build -p keybound-op -p keybound-axum-consumer` first, or `npm test` once). Prints one line per run of a suite
# and, per suite, how many runs passed; keeps the output of failed runs in e2e/out/repeat/.
# Exits non-zero if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(smoke flow interop node-consumer agent coordination passkey redis flow-firefox flow-webkit readme examples peer-flows popup)
out=e2e/out/repeat
mkdir -p "$out"
declare -A passed
failed_runs=0
for ((i = 1; i <= runs; i++)); do
  for s in "${suites[@]}"; do
    started=$SECONDS
    if node "e2e/$s.mjs" > "$out/$s.$i.log" 2>&1; then
      passed[$s]=$((${passed[$s]:-0} + 1))
      echo "run $i $s ok ($((SECONDS - started)) s)"
      rm -f "$out/$s.$i.log"
    else
      failed_runs=$((failed_runs + 1))
      echo "run $i $s FAILED ($((SECONDS - started)) s): $(grep -E '^not ok' "$out/$s.$i.log" | head -3 | tr '\n' ' ') (log: $out/$s.$i.log)"
    fi
  done
done
echo
for s in "${suites[@]}"; do echo "repeat: $s ${passed[$s]:-0}/$runs runs passed"; done
echo "repeat: $((runs * ${#suites[@]} - failed_runs)) passed, $failed_runs failed"
[ "$failed_runs" = 0 ]
