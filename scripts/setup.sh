# Sourced by the build, demo and test scripts: installs what is missing, idempotently.
# What it may install: the wasm32 Rust target and the pinned nightly that builds the shipped
# wasm (rustup), wasm-bindgen-cli pinned to the exact
# wasm-bindgen version in Cargo.lock (cargo install), Chromium and ChromeDriver (apt-get, only as
# root), redis-server for the multi-instance consumer test (apt-get, only as root), and the npm
# devDependencies (npm ci); for npm test also Firefox ESR and geckodriver, WebKitGTK's driver
# and Xvfb.

step() { echo "[keybound] $(date +%T) $*"; }
die() { echo "[keybound] error: $*" >&2; exit 1; }

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"

ensure_build_tools() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
  command -v node >/dev/null || die "node is missing: install Node.js 20 or newer"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    step "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
  [ -n "$want" ] || die "could not read the wasm-bindgen version from Cargo.lock"
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $want" ]; then
    step "cargo install wasm-bindgen-cli $want (takes 2-3 minutes once)"
    # --locked fails for 0.2.130 today (a pinned dependency is not served); fall back to unlocked.
    cargo install --quiet wasm-bindgen-cli --version "$want" --locked --force 2>/dev/null \
      || cargo install --quiet wasm-bindgen-cli --version "$want" --force
  fi
  # Every pinned dev dependency must be there (a node_modules made before one was added lacks it).
  local missing=""
  for dep in playwright-core esbuild binaryen oidc-provider oauth4webapi jose dpop redis ioredis express fastify typescript vite; do
    [ -d "node_modules/$dep" ] || missing="$missing $dep"
  done
  if [ -n "$missing" ] || [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/esbuild ]; then
    step "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# The toolchain that builds the shipped wasm: a pinned nightly, because rebuilding the standard
# library with panics that abort at once (no message formatting, no file/line strings) and
# size-optimized internals makes every entry about 10% smaller than stable can. Tests and
# development builds stay on stable. Exported for scripts/build.sh.
export KEYBOUND_SHIP_TOOLCHAIN=nightly-2026-05-20
ensure_ship_toolchain() {
  if ! rustup run "$KEYBOUND_SHIP_TOOLCHAIN" rustc --version >/dev/null 2>&1 \
    || ! rustup component list --toolchain "$KEYBOUND_SHIP_TOOLCHAIN" --installed 2>/dev/null | grep -q '^rust-src' \
    || ! rustup target list --toolchain "$KEYBOUND_SHIP_TOOLCHAIN" --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    step "rustup toolchain install $KEYBOUND_SHIP_TOOLCHAIN (rust-src, wasm32; about 15 s once)"
    rustup toolchain install "$KEYBOUND_SHIP_TOOLCHAIN" --profile minimal --component rust-src --target wasm32-unknown-unknown \
      || die "could not install $KEYBOUND_SHIP_TOOLCHAIN, which builds the shipped wasm"
  fi
}

# Firefox ESR and geckodriver, for the wasm tests in a second engine (Debian's firefox-esr;
# geckodriver from crates.io, pinned).
# Returns non-zero (does not exit) when it cannot, so that the caller records a failed suite.
ensure_firefox() {
  if ! command -v firefox-esr >/dev/null && ! command -v firefox >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      step "apt-get install firefox-esr"
      apt-get update -qq || return 1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends firefox-esr >/dev/null || return 1
    else
      echo "[keybound] error: Firefox is missing: install it (Debian: apt-get install firefox-esr) or run as root" >&2
      return 1
    fi
  fi
  if ! command -v geckodriver >/dev/null; then
    step "cargo install geckodriver 0.37.1 (takes 1-3 minutes once)"
    cargo install --quiet geckodriver --version 0.37.1 --locked || return 1
  fi
}

# Debian's redis-server, for e2e/redis.mjs and e2e/bench-redis.mjs (each test starts its own on a
# free 127.0.0.1 port, in memory; the package's own service is not started here).
# Returns non-zero (does not exit) when it cannot, so that the caller records a failed suite.
ensure_redis() {
  command -v redis-server >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "apt-get install redis-server"
    apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null || return 1
  else
    echo "[keybound] error: redis-server is missing: install it (Debian: apt-get install redis-server) or run as root" >&2
    return 1
  fi
}

# WebKitGTK (Debian's webkit2gtk-driver: WebKitWebDriver, and MiniBrowser with the library) and
# Xvfb, for the login flow in a third engine. Returns non-zero (does not exit) when it cannot.
ensure_webkit() {
  if command -v WebKitWebDriver >/dev/null && command -v xvfb-run >/dev/null && command -v xauth >/dev/null; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "apt-get install webkit2gtk-driver xvfb xauth"
    apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends webkit2gtk-driver xvfb xauth >/dev/null || return 1
  else
    echo "[keybound] error: WebKitWebDriver or Xvfb is missing: install them (Debian: apt-get install webkit2gtk-driver xvfb xauth) or run as root" >&2
    return 1
  fi
}

ensure_browser() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "apt-get install chromium chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    die "Chromium and ChromeDriver are missing: install them (Debian: apt-get install chromium chromium-driver) or run as root"
  fi
}
