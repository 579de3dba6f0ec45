#!/usr/bin/env bash
# Runs every keybound test and prints one line per suite, then the total. Every suite runs even
# when an earlier one fails (a failure must not hide the others); the script fails at the end if
# any did. Suites:
#   lint        rustfmt, clippy -D warnings (native, OP, wasm and each entry), rustdoc -D warnings
#   native      cargo test --features native (protocol core, consumer, passkeys, vectors, layering)
#   op          cargo test -p keybound-op (the reference OP)
#   wasm        wasm-bindgen-test in headless Chromium, a Window and a dedicated Worker
#   wasm-firefox  the same in headless Firefox ESR (geckodriver)
#   build       the package's entries (scripts/build.sh), with the size budget check
#   package     Node test of the shipped entries, typings and tarball
#   readme      every js/ts block of README.md type-checked (tsc --strict) and run where it can
#   smoke flow interop node-consumer agent coordination passkey peer-flows popup    Playwright / Node e2e
#   redis       consumer instances sharing a real redis-server (replays, races, Redis stopped)
#   flow-firefox  the login flow in Firefox ESR over WebDriver (geckodriver)
#   flow-webkit   the same in WebKitGTK's MiniBrowser (WebKitWebDriver, under Xvfb)
#   examples    examples/vite-spa and examples/plain-esm from the packed tarball, in Chromium
#   fuzz        every cargo-fuzz target for a few seconds (FUZZ_SECONDS, default 5; 0 skips)
# Then the benchmarks, which print figures and never fail on them.
# Installs what is missing first (see scripts/setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_build_tools
ensure_browser

logdir=$(mktemp -d)
log=$logdir/all.log
results=()
failed_suites=()

# suite NAME CMD...: runs CMD, keeps its output, records whether it passed.
suite() {
  local name=$1 started=$SECONDS rc
  shift
  step "suite $name: $*"
  "$@" 2>&1 | tee "$logdir/$name.log" | tee -a "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" = 0 ]; then
    results+=("ok      $name ($((SECONDS - started)) s)")
  else
    results+=("FAILED  $name ($((SECONDS - started)) s, exit $rc)")
    failed_suites+=("$name")
  fi
}

suite lint bash scripts/lint.sh
suite native cargo test --features native
suite op cargo test -p keybound-op

# wasm-bindgen-test: run in Chromium (not Node). GECKODRIVER would win over CHROMEDRIVER.
unset GECKODRIVER
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT=60
suite wasm cargo test --target wasm32-unknown-unknown --features native
# The same wasm tests (Window and dedicated Worker) in Firefox ESR, through geckodriver.
firefox_ok=0
if ensure_firefox; then
  firefox_ok=1
  suite wasm-firefox env -u CHROMEDRIVER GECKODRIVER="$(command -v geckodriver)" cargo test --target wasm32-unknown-unknown --features native
else
  results+=("FAILED  wasm-firefox (Firefox or geckodriver could not be installed)")
  failed_suites+=("wasm-firefox")
fi

suite build bash scripts/build.sh
if [ -f pkg/web/keybound.js ]; then
  suite package node e2e/package.mjs
  suite readme node e2e/readme.mjs
  cargo build --quiet -p keybound-op -p keybound-axum-consumer
  for e2e in smoke flow interop node-consumer agent coordination passkey examples peer-flows popup; do
    suite "$e2e" node "e2e/$e2e.mjs"
  done
  if ensure_redis; then
    suite redis node e2e/redis.mjs
  else
    results+=("FAILED  redis (redis-server could not be installed)")
    failed_suites+=("redis")
  fi
  if [ "$firefox_ok" = 1 ]; then
    suite flow-firefox node e2e/flow-firefox.mjs
  else
    results+=("FAILED  flow-firefox (Firefox or geckodriver could not be installed)")
    failed_suites+=("flow-firefox")
  fi
  if ensure_webkit; then
    suite flow-webkit node e2e/flow-webkit.mjs
  else
    results+=("FAILED  flow-webkit (WebKitWebDriver or Xvfb could not be installed)")
    failed_suites+=("flow-webkit")
  fi
else
  results+=("FAILED  e2e suites (not run: the build made no package)")
  failed_suites+=("e2e")
fi

if [ "${FUZZ_SECONDS:-5}" != 0 ]; then
  suite fuzz bash scripts/fuzz.sh "${FUZZ_SECONDS:-5}"
fi

step "benchmarks (figures only)"
if [ -f pkg/main/web.js ]; then
  node e2e/bench.mjs || echo "[keybound] the benchmark page broke (figures only, not a test failure)"
  node e2e/bench-consumer.mjs 300 || echo "[keybound] the consumer benchmark broke (figures only)"
  node e2e/bench-client.mjs || echo "[keybound] the client hot-path benchmark broke (figures only)"
  # Scaled down for CI time (2,000 per instance, a 20,000 long run); the README's figures are a
  # run of `node e2e/bench-redis.mjs 5000 200000`.
  if ensure_redis; then
    node e2e/bench-redis.mjs 2000 20000 || echo "[keybound] the Redis load benchmark broke (figures only)"
  fi
fi
cargo run --quiet --profile native --features native --example consumer_bench 3000 || echo "[keybound] the native consumer benchmark broke (figures only)"

echo
echo "[keybound] suites:"
printf '  %s\n' "${results[@]}"
passed=$(grep -E '^test result: ok\. [0-9]+ passed|^test result: FAILED\. [0-9]+ passed|^e2e: [0-9]+ passed|^fuzz: [0-9]+ passed|^lint: [0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result: .* [0-9]+ failed|^e2e: [0-9]+ passed, [0-9]+ failed|^fuzz: [0-9]+ passed, [0-9]+ failed|^lint: [0-9]+ passed, [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
grep -E '^size: [a-z]+ ' "$log" || true
# A suite that failed without a failing test (a build error, a crash) still counts as failed.
if [ ${#failed_suites[@]} -gt 0 ] && [ "$failed" = 0 ]; then failed=${#failed_suites[@]}; fi
echo "keybound: $passed passed, $failed failed"
[ ${#failed_suites[@]} = 0 ]
