#!/usr/bin/env bash
# Runs every keybound test: native protocol tests, wasm tests in headless Chromium (Window and
# dedicated Worker), the package build (prints its size), a Node test of the built package's
# exports and .d.ts, a Playwright smoke test of the built package on the demo page, and the DPoP proof benchmark (prints figures, never fails on them).
# Installs what is missing first (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_build_tools
ensure_browser

log=$(mktemp -d)/test.log
run() { step "$*"; "$@" 2>&1 | tee -a "$log"; }

run cargo test --features native
run cargo test -p keybound-op

# wasm-bindgen-test: run in Chromium (not Node). GECKODRIVER would win over CHROMEDRIVER.
unset GECKODRIVER
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT=60
run cargo test --target wasm32-unknown-unknown --features native

run bash scripts/build.sh
run node e2e/package.mjs
run node e2e/smoke.mjs
run cargo build --quiet -p keybound-op
run node e2e/flow.mjs
run node e2e/interop.mjs
run node e2e/node-consumer.mjs
run node e2e/agent.mjs
run node e2e/coordination.mjs
run node e2e/passkey.mjs
step "benchmarks (figures only)"
node e2e/bench.mjs
node e2e/bench-consumer.mjs 300
cargo run --quiet --profile native --features native --example consumer_bench 3000

passed=$(grep -E '^test result: ok\. [0-9]+ passed|^e2e: [0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result: .* [0-9]+ failed|^e2e: [0-9]+ passed, [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
grep -E '^size: total' "$log" || true
echo "keybound: $passed passed, $failed failed"
[ "$failed" = 0 ]
