#!/usr/bin/env bash
# Installs what building, the demo and the tests need, only where it is missing, so it is safe to
# run on every `make`. Everything comes from the package registries: crates.io, npm and Debian.
#   scripts/setup.sh          Rust target, wasm-bindgen-cli, wasm-pack, node packages
#   scripts/setup.sh browser  the same, plus the browsers (Debian packages): Chromium and
#                             ChromeDriver, Firefox ESR, WebKitGTK's WebDriver (WebKitWebDriver
#                             and MiniBrowser), and Xvfb for WebKitGTK, which has no headless mode
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

WASM_PACK_VERSION=0.15.1
say() { printf 'setup: %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
[ -f Cargo.lock ] || cargo generate-lockfile
wbg=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -z "$wbg" ]; then
  say "could not read the wasm-bindgen version from Cargo.lock"; exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg" ]; then
  say "installing wasm-bindgen-cli $wbg"
  # Not --locked: the registry lacks one of its locked dependency versions.
  cargo install wasm-bindgen-cli --version "$wbg" --force
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  say "installing wasm-pack $WASM_PACK_VERSION"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --force
fi

# Vite 7 and jsdom, which the examples and the package tests install, need Node 20.19 or later.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  say "Node.js $(node --version) is too old: the examples and package tests need 20.19 or later"; exit 1
fi

# Node packages: binaryen (a current wasm-opt; Debian's is too old), Playwright, esbuild, terser.
# A node_modules that is a symbolic link (a worktree sharing another checkout's) is left alone:
# npm ci would empty the directory it points to.
if [ -L node_modules ]; then
  say "node_modules is a link to $(readlink node_modules): not installing there"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${1:-}" = browser ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
  [ -x /usr/bin/WebKitWebDriver ] || missing+=(webkit2gtk-driver)
  [ -x /usr/bin/xvfb-run ] || missing+=(xvfb)
  [ -x /usr/bin/xauth ] || missing+=(xauth)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian's packages"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
