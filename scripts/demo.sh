#!/usr/bin/env bash
# Builds the package and serves the demo page on http://localhost:${KEYBOUND_PORT:-8080}/
# (bound to 127.0.0.1 only). Installs what is missing first (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ensure_build_tools
bash scripts/build.sh
exec node scripts/serve.mjs "${KEYBOUND_PORT:-8080}"
