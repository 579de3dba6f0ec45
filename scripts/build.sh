#!/usr/bin/env bash
# Builds the npm package into pkg/web (plain ES modules, `--target web`) and pkg/bundler
# (`--target bundler`), optimizes the wasm with wasm-opt -Oz (npm binaryen), and prints the
# size of wasm + JS glue after gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_build_tools

step "cargo build --release (wasm32)"
cargo build --quiet --release --target wasm32-unknown-unknown --lib
wasm=target/wasm32-unknown-unknown/release/keybound.wasm

for target in web bundler; do
  out=pkg/$target
  rm -rf "$out"
  wasm-bindgen "$wasm" --out-dir "$out" --target "$target"
  node_modules/.bin/wasm-opt -Oz "$out/keybound_bg.wasm" -o "$out/keybound_bg.wasm"
done

# Sizes: what a browser downloads for the plain-ES-module build.
wasm_gz=$(gzip -9c pkg/web/keybound_bg.wasm | wc -c)
glue_gz=$(gzip -9c pkg/web/keybound.js | wc -c)
glue_min_gz=$(node_modules/.bin/esbuild --minify --format=esm --log-level=error pkg/web/keybound.js | gzip -9c | wc -c)
wasm_raw=$(wc -c < pkg/web/keybound_bg.wasm)
echo "size: keybound_bg.wasm ${wasm_raw} B raw, ${wasm_gz} B gzip -9"
echo "size: JS glue ${glue_gz} B gzip -9 (${glue_min_gz} B minified + gzip -9)"
echo "size: total wasm + glue = $((wasm_gz + glue_gz)) B gzip -9, $((wasm_gz + glue_min_gz)) B with minified glue (target 40960 B)"
