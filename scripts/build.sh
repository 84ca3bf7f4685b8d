#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release profile, the no_std `bundle` feature,
# wasm-opt -Oz), short names for the module's imports from its glue (scripts/minify-imports.mjs),
# then the entry module `index.js` (js/) and package.json (scripts/package.mjs), then minifies
# both JavaScript modules: every byte is downloaded on every page load.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name authpulse -- --features bundle 1>&2
node scripts/minify-imports.mjs
node scripts/package.mjs
for module in pkg/index.js pkg/authpulse.js; do
  esbuild "$module" --minify --format=esm --target=es2022 --log-level=warning --outfile="$module" --allow-overwrite
done
