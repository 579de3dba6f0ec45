#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets in fuzz/: every parser fed by the network or the page.
#
#   scripts/fuzz.sh [seconds-per-target] [targets...]      (default: 10 s, every target)
#
# Installs what is missing (the nightly toolchain, cargo-fuzz), builds every target once, then
# runs each one for the given time, starting from the committed seeds (fuzz/seeds/<target>,
# copied into the working corpus fuzz/corpus/<target>) and re-running the committed crash
# reproducers (fuzz/regressions/<target>). Prints one line per target and a summary; exits
# non-zero if any target crashed, hung or ran out of memory. Crashing inputs are written to
# fuzz/artifacts/<target>/, full logs to fuzz/target/fuzz-logs/<target>.log.
#
# Environment: FUZZ_SANITIZER (default "none": the crate forbids unsafe code, and without ASan the
# build is faster and runs ~2x more inputs; "address" for the deps' unsafe code),
# FUZZ_ARGS (extra libFuzzer flags), KEYBOUND_FUZZ_SKIP_KNOWN=1 (stop at inputs that show a known,
# reported issue instead of failing: fuzz/README.md), FUZZ_TRACE=1 (print each outcome; for
# checking seeds, not for runs).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
shift || true
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target] [targets...]" >&2
  exit 2
fi

# ---- tools ---------------------------------------------------------------------------------
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: installing the nightly toolchain" >&2
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

# ---- build (one cargo invocation for every target) -----------------------------------------
all=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^keybound-fuzz$')
targets=${*:-$all}
for t in $targets; do
  grep -qx "$t" <<<"$all" || { echo "fuzz: unknown target \"$t\" (have: $(echo $all))" >&2; exit 2; }
done
sanitizer=${FUZZ_SANITIZER:-none}
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
# --debug-assertions: overflow checks and debug_assert! are part of what the fuzzer checks.
(cd fuzz && cargo +nightly fuzz build --sanitizer "$sanitizer" --debug-assertions --target "$triple")
bin_dir=fuzz/target/$triple/release
logs=fuzz/target/fuzz-logs
mkdir -p "$logs"

# ---- run -----------------------------------------------------------------------------------
passed=0
failed=0
for t in $targets; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  if [ -d "fuzz/seeds/$t" ]; then
    cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  fi
  dirs=("$corpus")
  if [ -d "fuzz/regressions/$t" ]; then
    dirs+=("fuzz/regressions/$t")
  fi
  log=$logs/$t.log
  start=$(date +%s)
  rc=0
  # shellcheck disable=SC2086
  "$bin_dir/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  if [ -z "$runs" ]; then
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  fi
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2) || true   # none when it crashed at start
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t ${runs:-0} runs, $elapsed s, ok"
  else
    failed=$((failed + 1))
    echo "fuzz: $t ${runs:-0} runs, $elapsed s, CRASH"
    # What and where: the panic or libFuzzer's reason, and the saved input.
    { grep -m 1 -A 1 "panicked at" "$log" || true
      grep -m 2 -E "ERROR: libFuzzer|ALARM: working on the last Unit|out-of-memory|Test unit written to" "$log" || true
    } | sed 's/^/fuzz:   /'
    echo "fuzz:   log: $log"
  fi
  echo "fuzz:   $t cov ${cov:-?}, exit $rc" >&2
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
