#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release profile, the no_std `bundle` feature,
# wasm-opt -Oz), short names for the module's imports from its glue (scripts/minify-imports.mjs),
# then the entry module `index.js` (js/) and package.json (scripts/package.mjs), then bundles
# the glue into index.js and minifies it: every byte is downloaded on every page load.
# authpulse.d.ts stays: index.d.ts takes the type of `init` from it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name authpulse -- --features bundle 1>&2
node scripts/minify-imports.mjs
node scripts/package.mjs
# One JavaScript module for the browser: index.js with the wasm-bindgen glue bundled in (one
# request less, and the glue's exports that index.js does not use, such as initSync, left out).
# log.js, the words of the logger's lines, stays a file of its own: the client imports it with
# its first line, so only apps that set a logger download it.
esbuild pkg/index.js --bundle --minify --format=esm --target=es2022 --log-level=warning --external:./log.js --outfile=pkg/index.js --allow-overwrite
esbuild pkg/log.js --minify --format=esm --target=es2022 --log-level=warning --outfile=pkg/log.js --allow-overwrite
# What index.js bundled: the glue and the adapters (js/*.js other than index.js and log.js).
rm pkg/authpulse.js
for f in js/*.js; do case "$f" in js/index.js | js/log.js) ;; *) rm "pkg/${f#js/}" ;; esac; done
