#!/usr/bin/env bash
# Builds the npm package's entries, each a wasm module of its own (cargo features), so a page
# loads only what it uses:
#
#   pkg/main/      "keybound"           KeyBoundClient, DPoP keys and proofs, the low-level API
#   pkg/consumer/  "keybound/consumer"  KeyBoundConsumer (presentations, passkey presentations)
#   pkg/passkey/   "keybound/passkey"   the client with passkeys (registerPasskey, signWithPasskey)
#   pkg/agent/     "keybound/agent"     the client with the device flow (agents in Workers)
#
# Each entry directory holds ONE keybound_bg.wasm, shared by its plain-ES-module glue (web.js,
# web.d.ts; `--target web`) and its bundler glue (keybound.js, keybound_bg.js, keybound.d.ts;
# `--target bundler`): wasm-bindgen emits the same wasm for both targets, and the build checks
# that it does. pkg/web/ is the whole library in one web module, for the demo and the tests;
# it is not shipped. Every wasm goes through wasm-opt -Oz (npm binaryen). scripts/glue.mjs then
# patches the glue (ERR_NOT_INITIALIZED before init(), typings for a default strict tsc) and
# writes each entry's node.js, which Node gets through the `node` export condition.
#
# Prints one size row per entry (scripts/size.mjs) and fails when an entry is over its budget
# (scripts/size-budget.json).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_build_tools

ensure_ship_toolchain

# The shipped wasm is built by the pinned nightly (scripts/setup.sh says why) in its own target
# directory, so that it never invalidates the stable builds of the tests: the standard library
# rebuilt with immediate-abort panics, no panic locations, and its size-optimized code paths.
ship_target=target/ship
wasm=$ship_target/wasm32-unknown-unknown/release/keybound.wasm
# -Zfmt-debug=none: Debug formatting prints nothing (3 KB gzip less per entry); no message keybound
# shows uses it (messages are Display only: scripts/lint.sh checks).
ship_build() {
  CARGO_TARGET_DIR=$ship_target RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
    cargo "+$KEYBOUND_SHIP_TOOLCHAIN" build --quiet --release --target wasm32-unknown-unknown --lib \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size "$@"
}

# build_entry NAME FEATURES: cargo build with only FEATURES, then both glues around one wasm.
build_entry() {
  local name=$1 features=$2 out=pkg/$1 tmp=target/entries/$1
  step "entry $name (features: ${features:-none})"
  ship_build --no-default-features --features "$features"
  rm -rf "$out" "$tmp"
  mkdir -p "$out" "$tmp"
  wasm-bindgen "$wasm" --out-dir "$tmp/web" --target web
  wasm-bindgen "$wasm" --out-dir "$tmp/bundler" --target bundler
  cmp -s "$tmp/web/keybound_bg.wasm" "$tmp/bundler/keybound_bg.wasm" \
    || die "wasm-bindgen made different wasm for the web and bundler targets of $name: they cannot share one file"
  cp "$tmp/web/keybound_bg.wasm" "$tmp/keybound_bg.named.wasm"
  node_modules/.bin/wasm-opt -Oz "$tmp/web/keybound_bg.wasm" -o "$out/keybound_bg.wasm"
  sed 's|@ts-self-types="./keybound.d.ts"|@ts-self-types="./web.d.ts"|' "$tmp/web/keybound.js" > "$out/web.js"
  cp "$tmp/web/keybound.d.ts" "$out/web.d.ts"
  cp "$tmp/bundler/keybound.js" "$tmp/bundler/keybound_bg.js" "$tmp/bundler/keybound.d.ts" "$tmp/bundler/keybound_bg.wasm.d.ts" "$out/"
  # Inline JS (object construction, the key generation chain) that both glues import from the
  # same relative path; glue.mjs inlines it into web.js, the bundler glue keeps importing it.
  if [ -d "$tmp/web/snippets" ]; then
    diff -r "$tmp/web/snippets" "$tmp/bundler/snippets" >/dev/null || die "the web and bundler snippets of $name differ"
    cp -r "$tmp/web/snippets" "$out/"
  fi
  # Snippets inlined, ERR_NOT_INITIALIZED before init(), typings for a strict tsc, node.js for Node.
  node scripts/glue.mjs entry "$out"
}

build_entry main client
build_entry consumer consumer
# The consumer's plain-JS parts (js/consumer/: the Redis replay store, the server integrations),
# re-exported by both glues so that `keybound/consumer` and `keybound/consumer/web` offer them.
cp js/consumer/redis.js js/consumer/redis.d.ts js/consumer/server.js js/consumer/server.d.ts pkg/consumer/
for glue in web keybound; do
  printf "export * from './redis.js';\nexport * from './server.js';\n" >> "pkg/consumer/$glue.js"
  printf "export * from './redis.js';\nexport * from './server.js';\n" >> "pkg/consumer/$glue.d.ts"
done
build_entry passkey client,passkey
build_entry agent client,agent

# The whole library in one web module, for the demo and the tests (not shipped).
step "pkg/web: every feature, for the demo and the tests"
ship_build
rm -rf pkg/web target/entries/web
mkdir -p target/entries/web
wasm-bindgen "$wasm" --out-dir pkg/web --target web
cp pkg/web/keybound_bg.wasm target/entries/web/keybound_bg.named.wasm
node_modules/.bin/wasm-opt -Oz pkg/web/keybound_bg.wasm -o pkg/web/keybound_bg.wasm
node scripts/glue.mjs web pkg/web
rm -rf pkg/bundler   # the single bundler build of earlier versions

node scripts/size.mjs pkg
