#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release profile, the no_std `bundle` feature,
# wasm-opt -Oz), short names for the module's imports from its glue (scripts/minify-imports.mjs),
# then the entries, their types, the licenses and package.json (scripts/package.mjs), then
# bundles the glue and the adapters into index.js and minifies it (esbuild, then terser): every
# byte is downloaded on every page load. index.cjs is the same bundle for Node's and Jest's `require`; react.js
# (`authpulse/react`) imports index.js and is not part of it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name authpulse -- --features bundle 1>&2
node scripts/minify-imports.mjs
node scripts/package.mjs
common=(--bundle --minify --target=es2022 --log-level=warning)
# CommonJS: `import.meta.url` (where the .wasm is) becomes the file's URL.
esbuild pkg/index.js "${common[@]}" --format=cjs --outfile=pkg/index.cjs \
  --define:import.meta.url=__authpulse_url \
  --banner:js='var __authpulse_url=require("url").pathToFileURL(__filename).href;'
# One JavaScript module for the browser: index.js with the wasm-bindgen glue bundled in (one
# request less, and the glue's exports that index.js does not use left out). log.js, the words
# of the logger's lines, stays a file of its own: the client imports it with its first line, so
# only apps that set a logger download it (index.cjs, for Node and Jest, has it bundled in).
# The glue's Engine class keeps its pointer in `__wbg_ptr`, named 23 times: a short name instead.
esbuild pkg/index.js "${common[@]}" --format=esm --external:./log.js \
  --mangle-props='^__(wbg_ptr|destroy_into_raw)$' --outfile=pkg/index.js --allow-overwrite
# Then terser's compressor over esbuild's output (its safe options only): about 160 bytes less
# gzipped than esbuild alone.
terser pkg/index.js --module --ecma 2022 --compress passes=2 --mangle --output pkg/index.js
esbuild pkg/log.js --minify --format=esm --target=es2022 --log-level=warning --outfile=pkg/log.js --allow-overwrite
esbuild pkg/react.js "${common[@]}" --format=esm --external:react --external:./index.js --outfile=pkg/react.js --allow-overwrite
esbuild pkg/react.js "${common[@]}" --format=cjs --external:react --external:./index.js --outfile=pkg/react.cjs
sed -i 's|require("./index.js")|require("./index.cjs")|' pkg/react.cjs
grep -q 'require("./index.cjs")' pkg/react.cjs || { echo "build: react.cjs does not require ./index.cjs" >&2; exit 1; }
# What the entries bundled: the glue, the adapters (js/*.js but the entries and log.js),
# wasm-bindgen's types (index.d.ts declares the API by hand) and wasm-pack's .gitignore.
rm pkg/authpulse.js pkg/authpulse.d.ts pkg/authpulse_bg.wasm.d.ts pkg/.gitignore
for f in js/*.js; do case "$f" in js/index.js | js/react.js | js/log.js) ;; *) rm "pkg/${f#js/}" ;; esac; done
