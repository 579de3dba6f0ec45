#!/usr/bin/env bash
# Code hygiene, each check a line: rustfmt, clippy with warnings denied (native with its tests,
# the reference OP, the wasm build with every feature and each entry's features), and rustdoc
# with warnings denied (native and wasm). Prints "lint: N passed, M failed"; exits non-zero if any
# check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
passed=0
failed=0
check() {
  local name=$1
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "lint: ok      $name"
  else
    failed=$((failed + 1))
    echo "lint: FAILED  $name"
    echo "$out" | grep -E "^(warning|error)|-->|^Diff in" | head -40
  fi
}
wasm=(--target wasm32-unknown-unknown)
check "cargo fmt --check" cargo fmt --all --check
check "clippy native (lib, tests, examples)" cargo clippy --features native --all-targets -- -D warnings
check "clippy reference OP" cargo clippy -p keybound-op --all-targets -- -D warnings
check "clippy axum example" cargo clippy -p keybound-axum-consumer --all-targets -- -D warnings
check "clippy wasm (every feature, with the wasm tests)" cargo clippy "${wasm[@]}" --all-targets --features native -- -D warnings
for f in client consumer client,passkey client,agent; do
  check "clippy wasm entry features $f" cargo clippy "${wasm[@]}" --lib --no-default-features --features "$f" -- -D warnings
done
# The shipped wasm is built with -Zfmt-debug=none (scripts/build.sh): a message made with Debug
# formatting would print nothing there. Library code (before a file's #[cfg(test)] module) uses
# Display only.
no_debug_formatting() {
  local hits
  hits=$(find src -name '*.rs' -exec awk '/^#\[cfg\(test\)\]/ { exit } /(\{[a-z_0-9]*:\?\}|\{:#?\?)/ { print "error: Debug formatting at " FILENAME ":" FNR ": " $0 }' {} \;)
  [ -z "$hits" ] || { echo "$hits"; return 1; }
}
check "no Debug formatting in library code" no_debug_formatting
# Library code reads JSON through src/protocol/json.rs only: one serde_json reader (from_str and
# from_slice would each bring a copy of the deserializer and of every struct's reader), and
# structs read as maps only (serde_json's deserialize_struct also reads the array form, refused
# anyway). Together about 12 KB gzip less per entry.
one_json_reader() {
  local hits
  hits=$(find src -name '*.rs' ! -path src/protocol/json.rs -exec awk '/^#\[cfg\(test\)\]/ { exit } /serde_json::(from_str|from_slice|from_reader|from_value|Deserializer::from)/ { print "error: JSON read outside protocol::json at " FILENAME ":" FNR ": " $0 }' {} \;)
  [ -z "$hits" ] || { echo "$hits"; return 1; }
}
check "JSON read through protocol::json only" one_json_reader
check "rustdoc native" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --features native
check "rustdoc wasm" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps "${wasm[@]}"
echo "lint: $passed passed, $failed failed"
[ "$failed" = 0 ]
