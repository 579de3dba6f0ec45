#!/usr/bin/env bash
# Builds the package and the reference OP, then serves the key-bound login demo on
# http://localhost:${KEYBOUND_PORT:-8080}/ (bound to 127.0.0.1 only): the OP serves www/ at /
# and the package at /pkg/, with a PAR endpoint for the demo's PAR step. Installs what is missing
# first (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_build_tools
bash scripts/build.sh
cargo build --release --quiet -p keybound-op
exec target/release/keybound-op --port "${KEYBOUND_PORT:-8080}" --www www --pkg pkg/web --par
