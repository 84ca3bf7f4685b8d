#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release profile, wasm-opt -Oz), then the entry
# module `index.js` that adds `createAuthClient` (initialise once, then construct).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name authpulse -- --features bundle 1>&2
node scripts/package.mjs
