#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release profile, the no_std `bundle` feature,
# wasm-opt -Oz), short names for the module's imports from its glue (scripts/minify-imports.mjs),
# then the entry module `index.js` (js/) and package.json (scripts/package.mjs), then bundles
# the glue into index.js and minifies it (esbuild, then terser): every byte is downloaded on
# every page load.
# authpulse.d.ts stays: index.d.ts takes the type of `init` from it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name authpulse -- --features bundle 1>&2
node scripts/minify-imports.mjs
node scripts/package.mjs
# One JavaScript module for the browser: index.js with the wasm-bindgen glue bundled in (one
# request less, and the glue's exports that index.js does not use, such as initSync, left out).
# The glue's Engine class keeps its pointer in `__wbg_ptr`, named 23 times: a short name instead.
esbuild pkg/index.js --bundle --minify --format=esm --target=es2022 --log-level=warning \
  --mangle-props='^__(wbg_ptr|destroy_into_raw)$' --outfile=pkg/index.js --allow-overwrite
# Then terser's compressor over esbuild's output (its safe options only): about 160 bytes less
# gzipped than esbuild alone.
terser pkg/index.js --module --ecma 2022 --compress passes=2 --mangle --output pkg/index.js
# What index.js bundled: the glue and the adapters (js/*.js other than index.js).
rm pkg/authpulse.js
for f in js/*.js; do [ "$f" = js/index.js ] || rm "pkg/${f#js/}"; done
